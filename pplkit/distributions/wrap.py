"""Accepting a plain ``torch.distributions`` object where a pplkit distribution is expected.

A model written with ``torch.distributions.Normal`` samples fine, but autoguides, plates
and ``.to_event`` need the helpers of :class:`TorchDistributionMixin` (``shape()``,
``expand_by``, ...). Rather than refuse such a model, ``sample`` hands the distribution
on as the matching pplkit class: a shallow copy whose class has the mixin added. The
user's object is left unchanged, and densities and samplers stay torch's own.
"""

from __future__ import annotations

import copy
import threading

from torch.distributions import Distribution

from . import torch as _families
from .mixin import TorchDistributionMixin

__all__ = ["as_pplkit_distribution"]

_LOCK = threading.Lock()
# torch class -> the pplkit class that is that class plus the mixin.
_WITH_MIXIN: dict[type, type] = {}
for _name in _families.__all__:
    _cls = getattr(_families, _name)
    _WITH_MIXIN[_cls.__mro__[2]] = _cls


def _class_with_mixin(cls: type) -> type:
    with _LOCK:
        found = _WITH_MIXIN.get(cls)
        if found is None:
            # A family pplkit does not list (a user's own torch subclass, say): make the pair once.
            found = type(cls.__name__, (TorchDistributionMixin, cls), {"__module__": cls.__module__})
            _WITH_MIXIN[cls] = found
        return found


def as_pplkit_distribution(fn: Distribution) -> Distribution:
    """``fn`` itself when it has pplkit's helpers, else a copy of it that has them.

    Example::

        >>> import torch
        >>> d = as_pplkit_distribution(torch.distributions.Normal(0.0, 1.0))
        >>> type(d).__module__, d.shape((2,))
        ('pplkit.distributions.torch', torch.Size([2]))
    """
    if isinstance(fn, TorchDistributionMixin):
        return fn
    wrapped = copy.copy(fn)
    wrapped.__class__ = _class_with_mixin(type(fn))
    explicit = fn.__dict__.get("_validate_args")
    wrapped.__dict__.pop("_validate_args", None)
    if explicit is not None:
        wrapped._validate_args = explicit
    return wrapped
