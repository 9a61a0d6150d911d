"""Learning-rate schedules for SVI, as Pyro's ``PyroLRScheduler``.

The wrapped torch scheduler is created together with the torch optimizer, when the
first params appear; ``scheduler.step()`` then moves the learning rate of every param.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from .optim import OptimArgs, PyroOptim

__all__ = ["PyroLRScheduler"]


class PyroLRScheduler(PyroOptim):
    """An optimizer whose learning rate follows a torch scheduler.

    Args:
        scheduler_constructor: a torch scheduler class, e.g.
            ``torch.optim.lr_scheduler.ExponentialLR``.
        optim_args: ``{"optimizer": torch.optim.Adam, "optim_args": {"lr": 0.01}, **scheduler_kwargs}``.
        clip_args: as for :class:`~pplkit.optim.PyroOptim`.

    Call ``.step()`` to advance the schedule (once per epoch, or per SVI step).

    Example::

        scheduler = pplkit.optim.ExponentialLR(
            {"optimizer": torch.optim.Adam, "optim_args": {"lr": 0.1}, "gamma": 0.99})
        svi = SVI(model, guide, scheduler, Trace_ELBO())
        for step in range(1000):
            svi.step(data)
            scheduler.step()
    """

    def __init__(
        self,
        scheduler_constructor: Callable[..., Any],
        optim_args: dict[str, Any],
        clip_args: OptimArgs | None = None,
    ) -> None:
        if not isinstance(optim_args, dict) or "optimizer" not in optim_args or "optim_args" not in optim_args:
            name = getattr(scheduler_constructor, "__name__", "Scheduler")
            raise ValueError(
                f"{name} needs a dict with the torch optimizer and its arguments, e.g. "
                f"{name}({{'optimizer': torch.optim.Adam, 'optim_args': {{'lr': 0.01}}, ...scheduler args}})"
            )
        scheduler_args = dict(optim_args)  # copied: Pyro pops from the caller's dict
        optimizer = scheduler_args.pop("optimizer")
        optimizer_args = scheduler_args.pop("optim_args")
        super().__init__(optimizer, optimizer_args, clip_args)
        self.pt_scheduler_constructor = scheduler_constructor
        self.scheduler_args = scheduler_args
        self.scheduler: Any = None
        self._pending_scheduler_state: dict[str, Any] | None = None

    def _on_optimizer_created(self, optimizer: torch.optim.Optimizer) -> None:
        self.scheduler = self.pt_scheduler_constructor(optimizer, **self.scheduler_args)
        if self._pending_scheduler_state is not None:
            self.scheduler.load_state_dict(self._pending_scheduler_state)
            self._pending_scheduler_state = None

    def _on_group_added(self, group: dict[str, Any]) -> None:
        # torch schedulers keep one entry per param group, taken when they were built;
        # a group added later gets the entries its learning rate implies.
        scheduler = self.scheduler
        groups = self.optimizer.param_groups if self.optimizer is not None else []
        first = groups[0]
        group.setdefault("initial_lr", group["lr"])
        base_lrs = getattr(scheduler, "base_lrs", None)
        if isinstance(base_lrs, list) and len(base_lrs) == len(groups) - 1:
            if base_lrs[0]:
                group["lr"] = group["initial_lr"] * first["lr"] / base_lrs[0]
            base_lrs.append(group["initial_lr"])
        for key, value in vars(scheduler).items():
            if key != "base_lrs" and isinstance(value, list) and len(value) == len(groups) - 1:
                value.append(group["lr"] if key == "_last_lr" else value[0])

    def step(self, *args: Any, **kwargs: Any) -> None:
        """Advance the schedule; arguments go to the torch scheduler (e.g. the loss for ``ReduceLROnPlateau``)."""
        if self.scheduler is not None:
            self.scheduler.step(*args, **kwargs)

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self.scheduler is not None:
            state["_scheduler"] = {"state": {}, "group": {}, "scheduler": _plain(self.scheduler.state_dict())}
        return state

    def set_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        state = dict(state)
        record = state.pop("_scheduler", None)
        super().set_state(state)
        if record is None:
            return
        if self.scheduler is not None:
            self.scheduler.load_state_dict(record["scheduler"])
        else:
            self._pending_scheduler_state = record["scheduler"]


def _plain(state: dict[str, Any]) -> dict[str, Any]:
    # Lambdas (LambdaLR) cannot be saved; torch leaves them out of state_dict already.
    return {k: v for k, v in state.items() if not callable(v)}
