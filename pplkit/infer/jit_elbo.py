"""``JitTrace_ELBO`` and ``JitTraceMeanField_ELBO``: the loss and its gradient as one compiled graph.

Eager, each SVI step runs the guide and the model under pplkit's handlers, builds
their distributions, scores them and runs backward: hundreds of Python operations
around a few dozen small torch ops, and none of that Python changes from one step to
the next. So, as ``NUTS(jit_compile=True)`` does (:mod:`.mcmc.compiled`), the step is
run once symbolically: ``make_fx`` records the torch ops of ``grad_and_value`` of the
ELBO (guide sampling, model log density, the ELBO and its backward pass, fused) as a
flat graph, and Inductor compiles it. Its inputs are the params' unconstrained
tensors, the step's random draws (:mod:`.random_draws`: fresh noise at every step,
the very noise an eager step would draw) and the tensors among the model's
arguments, so new data of the same shape needs no new graph.

The first step with a new structure (argument shapes and non-tensor values, model,
guide, param store) runs eagerly: it creates the params and runs the checks once.
The graph is then traced, compared with the eager loss and gradient on the same
noise, and used from the next step on. A model that cannot be traced (control flow
on latent values, a draw whose noise depends on tensor values) stays eager, with one
:class:`~pplkit.infer.compile_util.JitWarning` naming the reason. A non-finite loss
is recomputed eagerly on the same noise, so its error names the site as eager's does.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

import torch

from ..params import current_param_store
from .compile_util import JitWarning, checks_off_while_tracing, compile_graph, outside_pplkit, why_not_traceable
from .elbo import ELBO, ELBOResult, Trace_ELBO
from .jit_inputs import (
    SupplyParams,
    ValueChecksPass,
    announce_params,
    cuda_devices,
    flatten_arguments,
    structure_key,
    unflatten_arguments,
)
from .random_draws import Draw, RecordDraws, SupplyDraws
from .svi import _ParamNames
from .trace_mean_field_elbo import TraceMeanField_ELBO
from .traceenum_elbo import TraceEnum_ELBO
from .tracegraph_elbo import TraceGraph_ELBO

__all__ = ["CompiledLoss", "JitTraceEnum_ELBO", "JitTraceGraph_ELBO", "JitTraceMeanField_ELBO", "JitTrace_ELBO"]


@dataclass
class CompiledLoss:
    """The loss, its two terms and the params' gradients for one structure, as one graph.

    ``graph(*params, *noise, *data)`` returns ``(loss, log_likelihood, kl, *grads)``.
    ``trace_seconds`` and ``compile_seconds`` say what it cost (wall time); ``compiled``
    whether Inductor's code runs (else the traced graph does).
    """

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    draws: list[Draw]
    data_positions: tuple[int, ...]  # where the tensors sit among the flattened (args, kwargs)
    graph: Callable[..., tuple[torch.Tensor, ...]]
    compiled: bool = False
    trace_seconds: float = 0.0
    compile_seconds: float = 0.0
    steps: int = field(default=0)


class _JitELBO(ELBO):
    """The compiling ``compute`` shared by the Jit ELBOs; the estimator comes from the second base."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._graphs: dict[Hashable, CompiledLoss | str] = {}
        self._warned: set[str] = set()

    @property
    def compiled_losses(self) -> list[CompiledLoss]:
        """The graphs made so far (one per structure), for their costs and the benchmark."""
        return [entry for entry in self._graphs.values() if isinstance(entry, CompiledLoss)]

    def compute(
        self,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        grads: bool = False,
        terms: bool = False,
    ) -> ELBOResult:
        leaves, layout = flatten_arguments(args, kwargs)
        key = structure_key(model, guide, leaves, layout)
        if isinstance(key, str):
            self._fall_back(key)
            return super().compute(model, guide, args, kwargs, grads=grads, terms=terms)
        entry = self._graphs.get(key)
        if isinstance(entry, CompiledLoss):
            params = _current_leaves(entry)
            if params is not None:
                data = [leaves[i] for i in entry.data_positions]
                return self._compiled_step(entry, params, data, model, guide, args, kwargs, grads, terms)
            entry = None  # a param was replaced by one of another shape (a load): trace again
        if isinstance(entry, str):
            return super().compute(model, guide, args, kwargs, grads=grads, terms=terms)
        # A new structure: this step runs eagerly (creating the params), and the graph is made after it.
        result = super().compute(model, guide, args, kwargs, grads=grads, terms=terms)
        made = self._make(model, guide, args, kwargs)
        self._graphs[key] = made
        if isinstance(made, str):
            self._fall_back(made)
        return result

    def _fall_back(self, reason: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(
                f"{type(self).__name__}: running the loss eagerly: {reason}", JitWarning, stacklevel=outside_pplkit()
            )

    # -- a compiled step ---------------------------------------------------------------------

    def _compiled_step(
        self,
        entry: CompiledLoss,
        leaves: list[torch.Tensor],
        data: list[torch.Tensor],
        model: Callable[..., Any],
        guide: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        grads: bool,
        terms: bool,
    ) -> ELBOResult:
        announce_params(entry.names)
        noise = [draw.draw() for draw in entry.draws]
        with torch.no_grad():
            outputs = entry.graph(*leaves, *noise, *data)
        loss = outputs[0].item()
        if not math.isfinite(loss):
            # The same noise, eagerly: its error names the site that was not finite.
            with SupplyDraws(noise):
                return super().compute(model, guide, args, kwargs, grads=grads, terms=terms)
        entry.steps += 1
        if grads:
            for leaf, grad in zip(leaves, outputs[3:]):
                if leaf.requires_grad:
                    leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        if not terms:
            return ELBOResult(loss)
        return ELBOResult(loss, {"log_likelihood": outputs[1].item(), "kl": outputs[2].item()})

    # -- making the graph --------------------------------------------------------------------

    def _make(
        self, model: Callable[..., Any], guide: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> CompiledLoss | str:
        """Trace and compile the loss of this structure, or say why it cannot be."""
        from torch.fx.experimental.proxy_tensor import make_fx

        store = current_param_store()
        devices = cuda_devices(store, args, kwargs)
        # A probe run finds the params and the draws of a step whose params exist already.
        seen, recorder = _ParamNames(), RecordDraws()
        try:
            with torch.random.fork_rng(devices), torch.no_grad(), checks_off_while_tracing(), seen, recorder:
                self._surrogate(model, guide, args, kwargs, want_terms=True)
        except Exception as error:  # noqa: BLE001 -- the eager step passed; any failure here means: stay eager
            return f"a second eager run failed ({type(error).__name__}: {error})"
        if recorder.unsupported:
            return f"the guide or model draws {recorder.unsupported}, whose noise cannot be drawn ahead of a graph"
        names = tuple(seen.names)
        leaves = [store.unconstrained(name) for name in names]
        flat, layout = flatten_arguments(args, kwargs)
        positions = tuple(i for i, leaf in enumerate(flat) if isinstance(leaf, torch.Tensor))
        function = self._loss_function(model, guide, names, len(recorder.draws), flat, layout, positions)
        with torch.random.fork_rng(devices):
            noise = [draw.draw() for draw in recorder.draws]
        inputs = [*(leaf.detach() for leaf in leaves), *noise, *(flat[i] for i in positions)]
        start = time.perf_counter()
        try:
            with checks_off_while_tracing():
                graph = make_fx(function, tracing_mode="fake", _allow_non_fake_inputs=True)(*inputs)
        except Exception as error:  # noqa: BLE001 -- any failure to trace means: run eagerly
            return why_not_traceable(error)
        entry = CompiledLoss(names, tuple(leaf.shape for leaf in leaves), recorder.draws, positions, graph)
        entry.trace_seconds = time.perf_counter() - start
        mismatch = self._disagreement(entry, model, guide, args, kwargs, devices)
        if mismatch:
            return mismatch
        if not (self.jit_options or {}).get("inductor", True):
            return entry
        start = time.perf_counter()
        with torch.no_grad():
            entry.graph, entry.compiled = compile_graph(graph, inputs, guarded=False)
        entry.compile_seconds = time.perf_counter() - start
        return entry

    def _loss_function(
        self,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        names: tuple[str, ...],
        num_draws: int,
        flat: list[Any],
        layout: Any,
        positions: tuple[int, ...],
    ) -> Callable[..., tuple[torch.Tensor, ...]]:
        """The step as a pure function of tensors: ``(*params, *noise, *data) -> (loss, ll, kl, *grads)``."""
        num_params = len(names)

        def loss(
            params: tuple[torch.Tensor, ...], noise: tuple[torch.Tensor, ...], data: tuple[torch.Tensor, ...]
        ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
            values = list(flat)
            for position, tensor in zip(positions, data):
                values[position] = tensor
            args, kwargs = unflatten_arguments(values, layout)
            supply = SupplyDraws(noise)
            with SupplyParams(dict(zip(names, params))), supply, ValueChecksPass():
                surrogate, parts, _ = self._surrogate(model, guide, args, kwargs, want_terms=True)
            if supply.used != len(noise):
                raise RuntimeError(f"the step drew {supply.used} random tensors, its probe run {len(noise)}")
            assert parts is not None
            return surrogate, (surrogate.detach(), *parts)

        grad_and_loss = torch.func.grad_and_value(loss, has_aux=True)

        def step(*inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
            params = inputs[:num_params]
            noise = inputs[num_params : num_params + num_draws]
            data = inputs[num_params + num_draws :]
            grads, (_, (value, log_likelihood, kl)) = grad_and_loss(params, noise, data)
            return (value, log_likelihood, kl, *grads)

        return step

    def _disagreement(
        self,
        entry: CompiledLoss,
        model: Callable[..., Any],
        guide: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        devices: list[int],
    ) -> str:
        """Why the traced loss disagrees with the eager one on the same noise ("" when it agrees)."""
        store = current_param_store()
        with torch.random.fork_rng(devices):
            noise = [draw.draw() for draw in entry.draws]
        params = [store.unconstrained(name).detach().requires_grad_() for name in entry.names]
        with torch.enable_grad(), checks_off_while_tracing():
            with SupplyParams(dict(zip(entry.names, params))), SupplyDraws(noise):
                surrogate, _, _ = self._surrogate(model, guide, args, kwargs, want_terms=False)
            eager_grads = torch.autograd.grad(surrogate, params, allow_unused=True)
        flat, _ = flatten_arguments(args, kwargs)
        with torch.no_grad():
            outputs = entry.graph(*(p.detach() for p in params), *noise, *(flat[i] for i in entry.data_positions))
        value = float(surrogate.detach())
        if not math.isfinite(value):
            return ""
        agree = math.isclose(float(outputs[0]), value, rel_tol=1e-4, abs_tol=1e-4)
        for grad, traced in zip(eager_grads, outputs[3:]):
            eager = torch.zeros_like(traced) if grad is None else grad
            agree = agree and bool((traced - eager).norm() <= 1e-3 * eager.norm() + 1e-5)
        if agree:
            return ""
        return (
            "the traced loss disagrees with the eager one (the model or guide may branch on random draws, or "
            "read a param or global state outside pplkit.param)"
        )


def _current_leaves(entry: CompiledLoss) -> list[torch.Tensor] | None:
    """The store's leaves for the graph's params, or None when one is missing or changed shape."""
    store = current_param_store()
    leaves = []
    for name, shape in zip(entry.names, entry.shapes):
        if name not in store:
            return None
        leaf = store.unconstrained(name)
        if leaf.shape != shape:
            return None
        leaves.append(leaf)
    return leaves


class JitTrace_ELBO(_JitELBO, Trace_ELBO):
    """:class:`~pplkit.infer.Trace_ELBO` with the loss and its gradient compiled once per structure.

    Same estimator, same numbers for the same noise; the first step of each structure
    runs eagerly and is followed by tracing and compiling (seconds). Use it for long
    runs of a fixed model; a model that cannot be compiled runs eagerly, with a
    :class:`~pplkit.infer.compile_util.JitWarning`. Takes Trace_ELBO's arguments; of
    ``jit_options`` pplkit reads one key, ``"inductor"`` (default True): False runs the
    traced graph without compiling it (seconds less to start, no C compiler needed).

    Example::

        svi = SVI(model, AutoNormal(model), Adam({"lr": 0.01}), JitTrace_ELBO())
    """


class JitTraceMeanField_ELBO(_JitELBO, TraceMeanField_ELBO):
    """:class:`~pplkit.infer.TraceMeanField_ELBO` (analytic KL terms) compiled as JitTrace_ELBO is.

    Example::

        svi = SVI(model, AutoNormal(model), Adam({"lr": 0.01}), JitTraceMeanField_ELBO())
    """


class JitTraceEnum_ELBO(_JitELBO, TraceEnum_ELBO):
    """:class:`~pplkit.infer.TraceEnum_ELBO` (enumerated discrete sites summed out) compiled as JitTrace_ELBO is.

    Example::

        svi = SVI(config_enumerate(model), guide, Adam({"lr": 0.1}), JitTraceEnum_ELBO(max_plate_nesting=1))
    """


class JitTraceGraph_ELBO(_JitELBO, TraceGraph_ELBO):
    """:class:`~pplkit.infer.TraceGraph_ELBO` compiled as JitTrace_ELBO is.

    A guide site that cannot be reparameterised draws with noise that depends on its
    parameters (``torch.bernoulli(probs)``, ``torch.normal(loc, scale)``), which no graph
    can draw ahead: such a guide keeps the eager loss, with a JitWarning. So the graph
    never holds a site with a baseline.

    Example::

        svi = SVI(model, guide, Adam({"lr": 0.01}), JitTraceGraph_ELBO())
    """
