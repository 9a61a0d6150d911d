"""Pyro's module path ``pyro.infer.autoguide.effect``: the messenger guides, defined beside it."""

from .messenger import AutoMessenger
from .normal_messenger import AutoHierarchicalNormalMessenger, AutoNormalMessenger
from .regressive_messenger import AutoRegressiveMessenger

__all__ = ["AutoHierarchicalNormalMessenger", "AutoMessenger", "AutoNormalMessenger", "AutoRegressiveMessenger"]
