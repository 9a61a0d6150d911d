"""Optimizers for SVI, with Pyro's names: ``Adam({"lr": 0.01})``, ``ClippedAdam``, ``SGD``, schedulers.

Each wraps a torch optimizer in :class:`PyroOptim`, which adds params as the model
creates them. Schedulers wrap a torch scheduler and its optimizer in
:class:`PyroLRScheduler`::

    optim = pplkit.optim.Adam({"lr": 0.02})
    scheduler = pplkit.optim.ExponentialLR(
        {"optimizer": torch.optim.Adam, "optim_args": {"lr": 0.1}, "gamma": 0.995})
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.optim import lr_scheduler as _lr

from .clipped_adam import ClippedAdamOptimizer
from .lr_scheduler import PyroLRScheduler
from .optim import OptimArgs, PyroOptim

__all__ = [
    "ASGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "ClippedAdam", "ClippedAdamOptimizer",
    "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ExponentialLR",
    "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR", "NAdam", "OneCycleLR", "PolynomialLR",
    "PyroLRScheduler", "PyroOptim", "RAdam", "RMSprop", "ReduceLROnPlateau", "Rprop", "SGD", "StepLR",
]


class Adam(PyroOptim):
    """``torch.optim.Adam`` for SVI. Example: ``Adam({"lr": 0.02})``."""

    def __init__(self, optim_args: OptimArgs, clip_args: OptimArgs | None = None) -> None:
        super().__init__(torch.optim.Adam, optim_args, clip_args)


class SGD(PyroOptim):
    """``torch.optim.SGD`` for SVI. Example: ``SGD({"lr": 0.001, "momentum": 0.9})``."""

    def __init__(self, optim_args: OptimArgs, clip_args: OptimArgs | None = None) -> None:
        super().__init__(torch.optim.SGD, optim_args, clip_args)


class ClippedAdam(PyroOptim):
    """Pyro's ClippedAdam for SVI: Adam with element-wise gradient clipping and learning-rate decay.

    Arguments as :class:`ClippedAdamOptimizer`: ``lr``, ``betas``, ``eps``,
    ``weight_decay``, ``clip_norm`` (default 10), ``lrd`` (default 1, no decay).

    Example::

        ClippedAdam({"lr": 0.01, "clip_norm": 5.0, "lrd": 0.999})
    """

    def __init__(self, optim_args: OptimArgs) -> None:
        super().__init__(ClippedAdamOptimizer, optim_args)


def _optimizer(torch_class: type[torch.optim.Optimizer]) -> type[PyroOptim]:
    """A :class:`PyroOptim` subclass for another torch optimizer, named as it."""

    def __init__(self: PyroOptim, optim_args: OptimArgs, clip_args: OptimArgs | None = None) -> None:
        PyroOptim.__init__(self, torch_class, optim_args, clip_args)

    doc = f"``torch.optim.{torch_class.__name__}`` for SVI, as Pyro's ``pyro.optim.{torch_class.__name__}``."
    return type(torch_class.__name__, (PyroOptim,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


def _scheduler(torch_class: Callable[..., Any]) -> type[PyroLRScheduler]:
    """A :class:`PyroLRScheduler` subclass for a torch scheduler, named as it."""
    name = torch_class.__name__  # type: ignore[attr-defined]

    def __init__(self: PyroLRScheduler, optim_args: dict[str, Any], clip_args: OptimArgs | None = None) -> None:
        PyroLRScheduler.__init__(self, torch_class, optim_args, clip_args)

    doc = (
        f"``torch.optim.lr_scheduler.{name}`` for SVI. Example: "
        f"``{name}({{'optimizer': torch.optim.Adam, 'optim_args': {{'lr': 0.01}}, ...}})`` "
        f"with the scheduler's own arguments in place of ``...``; call ``.step()`` to advance it."
    )
    return type(name, (PyroLRScheduler,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


AdamW = _optimizer(torch.optim.AdamW)
Adamax = _optimizer(torch.optim.Adamax)
Adadelta = _optimizer(torch.optim.Adadelta)
Adagrad = _optimizer(torch.optim.Adagrad)
ASGD = _optimizer(torch.optim.ASGD)
NAdam = _optimizer(torch.optim.NAdam)
RAdam = _optimizer(torch.optim.RAdam)
RMSprop = _optimizer(torch.optim.RMSprop)
Rprop = _optimizer(torch.optim.Rprop)

ConstantLR = _scheduler(_lr.ConstantLR)
CosineAnnealingLR = _scheduler(_lr.CosineAnnealingLR)
CosineAnnealingWarmRestarts = _scheduler(_lr.CosineAnnealingWarmRestarts)
CyclicLR = _scheduler(_lr.CyclicLR)
ExponentialLR = _scheduler(_lr.ExponentialLR)
LambdaLR = _scheduler(_lr.LambdaLR)
LinearLR = _scheduler(_lr.LinearLR)
MultiStepLR = _scheduler(_lr.MultiStepLR)
MultiplicativeLR = _scheduler(_lr.MultiplicativeLR)
OneCycleLR = _scheduler(_lr.OneCycleLR)
PolynomialLR = _scheduler(_lr.PolynomialLR)
ReduceLROnPlateau = _scheduler(_lr.ReduceLROnPlateau)
StepLR = _scheduler(_lr.StepLR)
