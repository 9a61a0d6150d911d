"""Stochastic variational inference: fit a guide to a model by stepping on the ELBO.

One step: estimate the loss and its gradient (the ELBO does this), hand the params
that took part to the optimizer, and clear their gradients. The params are found as
the run goes, from the param sites the model and guide touch, so a guide can create
its params lazily as Pyro's do.

``run`` repeats ``step`` and reports each one as a plain :class:`StepRecord` to a
callback; widgets subscribe to that, and the core never imports them.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .._compat import add_note
from ..params import ParamStore, current_param_store, use_param_store
from ..runtime import Handler, Message, SiteKind
from .elbo import ELBO, NonFiniteLossError
from .explain import value_outside_support

__all__ = ["SVI", "StepRecord"]


@dataclass(frozen=True)
class StepRecord:
    """One finished step of :meth:`SVI.run`, as passed to its callback.

    Attributes:
        step: how many steps this run has done, counting from 1.
        loss: the loss (-ELBO estimate) of this step.
        elapsed: seconds since ``run`` started.
        terms: ``{"log_likelihood": ..., "kl": ...}`` (loss = kl - log_likelihood) when
            ``run(..., terms=True)``; otherwise None.
    """

    step: int
    loss: float
    elapsed: float
    terms: dict[str, float] | None = None


class _ParamNames(Handler):
    """Collects the names of the params a step touches (a dict keeps their order)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, None] = {}

    def postprocess(self, msg: Message) -> None:
        if msg.kind is SiteKind.PARAM:
            self.names[msg.name] = None


LossFn = Callable[..., Any]


def _check_optim(optim: Any) -> None:
    """Refuse, when SVI is built, the optimizers that would only fail one step later."""
    if isinstance(optim, type):
        name = optim.__name__
        hint = (
            f"pplkit.optim.{name}({{'lr': 0.01}}), which builds a torch.optim.{name} for the params as they appear"
            if issubclass(optim, torch.optim.Optimizer)
            else f"an instance, e.g. {name}({{'lr': 0.01}})"
        )
        raise TypeError(f"SVI(model, guide, optim, loss): optim is the class {name}, not an optimizer; pass {hint}")
    if isinstance(optim, torch.optim.Optimizer):
        name = type(optim).__name__
        raise TypeError(
            f"SVI(model, guide, optim, loss): optim is a torch.optim.{name} built for fixed params; pass "
            f"pplkit.optim.{name}({{'lr': ...}}) instead, which optimizes the params the model and guide create"
        )
    if not callable(optim):
        raise TypeError(
            f"SVI(model, guide, optim, loss): optim must be a pplkit.optim optimizer such as Adam({{'lr': 0.01}}), "
            f"got {type(optim).__name__}"
        )


def _check_loss(loss: Any) -> None:
    if isinstance(loss, type):
        name = loss.__name__
        raise TypeError(
            f"SVI(model, guide, optim, loss): loss is the class {name}; pass an instance, loss={name}() "
            "(with parentheses)"
        )
    if not (isinstance(loss, ELBO) or callable(loss)):
        raise TypeError(
            f"SVI(model, guide, optim, loss): loss must be an ELBO such as Trace_ELBO(), got {type(loss).__name__}"
        )


class SVI:
    """Stochastic variational inference.

    Args:
        model: the model, a function of the data.
        guide: the guide (variational family), called with the same arguments.
        optim: an optimizer from :mod:`pplkit.optim`, e.g. ``Adam({"lr": 0.01})``.
        loss: an ELBO such as ``Trace_ELBO()``, or a function ``loss(model, guide, *args,
            **kwargs)`` returning a differentiable loss tensor.
        loss_and_grads: optionally, a function that computes the loss, runs backward
            itself and returns the loss (as Pyro's).
        param_store: a :class:`~pplkit.ParamStore` to use instead of the default one
            (say, for training in a background thread).

    Example::

        svi = SVI(model, guide, Adam({"lr": 0.02}), Trace_ELBO())
        losses = svi.run(2000, is_cont_africa, ruggedness, log_gdp)
    """

    def __init__(
        self,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        optim: Any,
        loss: ELBO | LossFn,
        loss_and_grads: Callable[..., float] | None = None,
        *,
        param_store: ParamStore | None = None,
    ) -> None:
        if not callable(model) or not callable(guide):
            raise TypeError("SVI(model, guide, optim, loss): model and guide must be callables")
        _check_optim(optim)
        _check_loss(loss)
        self.model = model
        self.guide = guide
        self.optim = optim
        self.loss = loss
        self.loss_and_grads = loss_and_grads
        self.param_store = param_store
        self._steps_done = 0  # successful steps, for the advice when a loss turns non-finite

    # -- steps -------------------------------------------------------------------------------

    def step(self, *args: Any, **kwargs: Any) -> float:
        """Take one gradient step on the loss; returns the loss before the step."""
        return self._step(args, kwargs, want_terms=False)[0]

    def evaluate_loss(self, *args: Any, **kwargs: Any) -> float:
        """Estimate the loss without changing any param."""
        with self._store_context(), torch.no_grad():
            if isinstance(self.loss, ELBO):
                return self.loss.loss(self.model, self.guide, *args, **kwargs)
            return float(self.loss(self.model, self.guide, *args, **kwargs))

    def run(
        self,
        num_steps: int,
        *args: Any,
        callback: Callable[[StepRecord], Any] | None = None,
        progress_bar: bool = False,
        terms: bool = False,
        **kwargs: Any,
    ) -> list[float]:
        """Take up to ``num_steps`` steps; returns the losses.

        Args:
            num_steps: how many steps to take.
            *args, **kwargs: passed to the model and the guide.
            callback: called with a :class:`StepRecord` after every step; returning
                ``False`` stops the run after that step.
            progress_bar: show a tqdm bar with the running loss.
            terms: also compute the ELBO's two terms for each record (costs a little).

        Example::

            def report(record):
                if record.step % 100 == 0:
                    print(record.step, record.loss)
            svi.run(1000, data, callback=report)
        """
        if not isinstance(num_steps, int) or num_steps < 0:
            raise ValueError(f"run: num_steps must be a non-negative int, got {num_steps!r}")
        losses: list[float] = []
        bar = _progress_bar(num_steps) if progress_bar else None
        running = math.nan
        start = time.perf_counter()
        try:
            for i in range(num_steps):
                loss, step_terms = self._step(args, kwargs, want_terms=terms)
                losses.append(loss)
                if bar is not None:
                    running = loss if math.isnan(running) else 0.95 * running + 0.05 * loss
                    bar.set_postfix_str(f"loss={running:.4g}", refresh=False)
                    bar.update()
                if callback is not None:
                    record = StepRecord(i + 1, loss, time.perf_counter() - start, step_terms)
                    if callback(record) is False:
                        break
        finally:
            if bar is not None:
                bar.close()
        return losses

    # -- one step ----------------------------------------------------------------------------

    def _step(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], want_terms: bool
    ) -> tuple[float, dict[str, float] | None]:
        capture = _ParamNames()
        with self._store_context():
            store = current_param_store()
            known = len(store)
            try:
                with capture:
                    loss, terms = self._loss_and_grads(args, kwargs, want_terms)
            except Exception as error:
                _undo_failed_step(store, known, capture.names)
                if isinstance(error, NonFiniteLossError) and self._steps_done:
                    add_note(error, _learning_rate_note(self.optim, self._steps_done))
                clearer = value_outside_support(error)
                if clearer is not None:
                    raise clearer from error
                raise
            self._steps_done += 1
            # The leaf tensors are looked up afresh each step: ParamStore.load replaces them.
            params = {n: store.unconstrained(n) for n in capture.names if n in store}
            if params:
                self.optim(params)
            for p in params.values():
                p.grad = None
        return loss, terms

    def _loss_and_grads(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], want_terms: bool
    ) -> tuple[float, dict[str, float] | None]:
        if self.loss_and_grads is not None:
            return float(self.loss_and_grads(self.model, self.guide, *args, **kwargs)), None
        if isinstance(self.loss, ELBO):
            result = self.loss.compute(self.model, self.guide, args, kwargs, grads=True, terms=want_terms)
            return result.loss, result.terms
        loss = self.loss(self.model, self.guide, *args, **kwargs)
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not math.isfinite(value):
            raise NonFiniteLossError(f"the loss is {value}; the parameters keep their last finite values")
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
        return value, None

    def _store_context(self) -> Any:
        return use_param_store(self.param_store) if self.param_store is not None else nullcontext()


def _undo_failed_step(store: ParamStore, known: int, touched: dict[str, None]) -> None:
    """Leave the store as the failed step found it: drop the params it created, clear its gradients.

    The store keeps creation order, so the params created during the step are the ones
    after the first ``known``.
    """
    for name in store.keys()[known:]:
        store.pop(name)
    for name in touched:
        if name in store:
            store.unconstrained(name).grad = None


def _learning_rate_note(optim: Any, steps_done: int) -> str:
    optim_args = getattr(optim, "pt_optim_args", None)
    lr = optim_args.get("lr") if isinstance(optim_args, dict) else None
    setting = f"lr={lr}" if lr is not None else "this learning rate"
    smaller = f"e.g. {type(optim).__name__}({{'lr': {lr / 10:g}}})" if isinstance(lr, (int, float)) else "a smaller one"
    return (
        f"pplkit: the loss turned non-finite after {steps_done} successful steps with {setting}. Training that "
        "starts fine and then fails usually means the learning rate is too large: the params have moved far "
        "off (they hold the values of the last finite step, which are likely unusable). Start again with "
        f"clear_param_store() and a smaller learning rate, {smaller}."
    )


def _progress_bar(total: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError as e:  # pragma: no cover - tqdm is a dependency
        raise ImportError("progress_bar=True needs tqdm: pip install tqdm") from e
    return tqdm(total=total, desc="SVI", unit="step", mininterval=0.25)
