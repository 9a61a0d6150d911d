"""From a model to its :class:`~pplkit.inspect.graph.ModelGraph`.

The model runs once under ``trace`` with provenance tracking (see
:mod:`~pplkit.inspect.provenance`): every site hands the model a value tagged with
its name, and the tags that reach a distribution's parameters are that site's
parents. Plates come from the plate records each site carries
(``msg.cond_indep_stack``), never from shapes.

How the model is run (prior draws, and a fallback for models that only run for some
values) is in :mod:`~pplkit.inspect.tracing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch.distributions import Distribution
from torch.distributions import constraints as torch_constraints
from torch.distributions.constraints import Constraint

from ..distributions import Independent, MaskedDistribution
from ..handlers import seed
from ..handlers import trace as trace_handler
from ..runtime import Message, PlateFrame, SiteKind
from ..trace import Trace
from .graph import ModelGraph, Node, NodeRole, Plate
from .provenance import provenance_of
from .tracing import trace_for_drawing

__all__ = ["constraint_name", "distribution_name", "format_shapes", "get_model_relations"]

Args = tuple[Any, ...]
Kwargs = dict[str, Any]


def get_model_relations(
    model: Callable[..., Any],
    model_args: Args | list[Args] | None = (),
    model_kwargs: Kwargs | list[Kwargs] | None = None,
    *,
    seed: int = 0,
) -> ModelGraph:
    """Run ``model`` once and return its sites, their parents and its plates as plain data.

    Args:
        model: a model or a guide.
        model_args: a tuple of the model's positional arguments, or a list of such
            tuples for a model called with several argument sets (semi-supervised: a
            site observed in some sets and latent in others becomes
            ``NodeRole.SOMETIMES_OBSERVED``).
        model_kwargs: a dict of keyword arguments, or a list of dicts.
        seed: the seed for the prior draw of the latent sites.

    Like Pyro's, this runs the model: params it declares are created in the param store.

    Example::

        graph = get_model_relations(model, (is_cont_africa, ruggedness, log_gdp))
        graph.nodes["obs"].parents     # ('a', 'bA', 'bR', 'bAR', 'sigma')
    """
    return relations_for(model, model_args, model_kwargs, seed=seed, caller="get_model_relations")


def relations_for(
    model: Callable[..., Any],
    model_args: Args | list[Args] | None,
    model_kwargs: Kwargs | list[Kwargs] | None,
    *,
    seed: int,
    caller: str,
) -> ModelGraph:
    """:func:`get_model_relations`, naming ``caller`` in the notes added to errors."""
    if not callable(model):
        raise TypeError(f"{caller}: model must be a function (a model or a guide), got {type(model).__name__}")
    runs = [
        _sites_of(trace_for_drawing(model, args, kwargs, seed, caller))
        for args, kwargs in argument_sets(model_args, model_kwargs, caller)
    ]
    return _merge(runs)


# -- checking the arguments ------------------------------------------------------------------


def argument_sets(model_args: Any, model_kwargs: Any, caller: str) -> list[tuple[Args, Kwargs]]:
    """The (args, kwargs) pairs to run the model with; clear errors for the common mistakes."""
    args_list = _as_list(model_args, tuple, "model_args", caller)
    kwargs_list = _as_list(model_kwargs, dict, "model_kwargs", caller)
    if len(args_list) != len(kwargs_list) and 1 not in (len(args_list), len(kwargs_list)):
        raise ValueError(
            f"{caller}: got {len(args_list)} argument tuples but {len(kwargs_list)} keyword dicts; "
            "give lists of the same length, or one of them once"
        )
    n = max(len(args_list), len(kwargs_list))
    if len(args_list) == 1:
        args_list = args_list * n
    if len(kwargs_list) == 1:
        kwargs_list = kwargs_list * n
    return list(zip(args_list, kwargs_list))


def _as_list(value: Any, kind: type, what: str, caller: str) -> list[Any]:
    if value is None:
        return [kind()]
    if isinstance(value, kind):
        return [value]
    example = "model_args=(data,)" if kind is tuple else "model_kwargs={'data': data}"
    if isinstance(value, list) and value and all(isinstance(v, kind) for v in value):
        return value
    if isinstance(value, list):
        raise TypeError(
            f"{caller}: {what} is a list of {', '.join(sorted({type(v).__name__ for v in value})) or 'nothing'}. "
            f"Pass one {kind.__name__} of the model's arguments, e.g. {example}, or a non-empty list of "
            f"{kind.__name__}s for a model called with several argument sets"
        )
    hint = " (note the comma: (data,) is a tuple, (data) is not)" if kind is tuple else ""
    raise TypeError(f"{caller}: {what} must be a {kind.__name__}, e.g. {example}{hint}; got {type(value).__name__}")


# -- reading the trace ----------------------------------------------------------------------


@dataclass
class _Site:
    """One node as seen in one run, before runs are merged."""

    name: str
    kind: SiteKind
    role: NodeRole
    parents: set[str]
    frames: list[PlateFrame]
    distribution: str | None = None
    support: str | None = None
    constraint: str | None = None
    constraint_repr: str | None = None
    shape: tuple[int, ...] = ()
    fixed_value: str | None = None
    plates: list[str] = field(default_factory=list)


_ROLE_OF_KIND = {
    SiteKind.PARAM: NodeRole.PARAM,
    SiteKind.DETERMINISTIC: NodeRole.DETERMINISTIC,
    SiteKind.FACTOR: NodeRole.FACTOR,
}


def _sites_of(trace: Trace) -> list[_Site]:
    names = {name for name, msg in trace.nodes.items() if msg.kind is not SiteKind.PLATE}
    sites = []
    for name, msg in trace.nodes.items():
        if msg.kind is SiteKind.PLATE:
            continue
        value = msg.value
        site = _Site(
            name=name,
            kind=msg.kind,
            role=_role(msg),
            parents=set(provenance_of(msg.fn) & names) - {name} if msg.fn is not None else set(),
            frames=list(msg.cond_indep_stack) if msg.kind is not SiteKind.PARAM else _param_frames(msg),
            shape=tuple(value.shape) if isinstance(value, torch.Tensor) else (),
        )
        if msg.kind is SiteKind.FACTOR:  # its value is an empty placeholder; its term has a shape
            site.shape = tuple(msg.fn.batch_shape)
        if msg.kind is SiteKind.PARAM:
            declared = msg.kwargs.get("constraint", torch_constraints.real)
            site.constraint = constraint_name(declared)
            site.constraint_repr = repr(declared)
        elif site.role is NodeRole.INTERVENED:
            site.fixed_value = _describe_value(value)
        elif msg.kind is SiteKind.SAMPLE:
            site.distribution = distribution_name(msg.fn)
            site.support = _support_name(msg.fn)
        elif msg.kind is SiteKind.DETERMINISTIC:
            site.distribution = "Deterministic"
        sites.append(site)
    return sites


def _role(msg: Message) -> NodeRole:
    if msg.kind is not SiteKind.SAMPLE:
        return _ROLE_OF_KIND[msg.kind]
    if msg.intervened:
        return NodeRole.INTERVENED
    return NodeRole.OBSERVED if msg.is_observed else NodeRole.LATENT


def _param_frames(msg: Message) -> list[PlateFrame]:
    """The plates a param is local to: declared with ``event_dim`` and one entry per element.

    Any other param read inside a plate (a shared scale, say) is drawn outside it.
    """
    event_dim = msg.args[2] if len(msg.args) > 2 else None
    value = msg.value
    if event_dim is None or not isinstance(value, torch.Tensor):
        return []
    local = []
    for frame in msg.cond_indep_stack:
        if frame.dim is not None:
            dim = frame.dim - event_dim
            if value.dim() >= -dim and value.shape[dim] == frame.size:
                local.append(frame)
    return local


def _describe_value(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        flat = value.detach().reshape(-1)
        if flat.numel() and bool((flat == flat[0]).all()):
            return f"{flat[0].item():.4g}"
        return f"tensor of shape {tuple(value.shape)}"
    return repr(value)


def distribution_name(fn: Distribution) -> str:
    """The family of ``fn`` without shape wrappers: ``Normal(...).to_event(1)`` gives ``"Normal"``."""
    while isinstance(fn, (Independent, torch.distributions.Independent, MaskedDistribution)):
        fn = fn.base_dist
    return type(fn).__name__


_CONSTRAINT_NAMES = {id(c): name for name, c in vars(torch_constraints).items() if isinstance(c, Constraint)}


def constraint_name(constraint: Constraint) -> str:
    """A short name for a constraint: ``"positive"``, ``"interval(0.0, 10.0)"``."""
    name = _CONSTRAINT_NAMES.get(id(constraint))
    if name is not None:
        return name
    if isinstance(constraint, torch_constraints.independent):
        inner = constraint_name(constraint.base_constraint)
        return f"independent({inner}, {constraint.reinterpreted_batch_ndims})"
    words = type(constraint).__name__.lstrip("_")
    snake = "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(words))
    fields = ", ".join(_describe_field(v) for k, v in vars(constraint).items() if not k.startswith("_"))
    return f"{snake}({fields})" if fields else snake


def _describe_field(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return repr(value.item()) if value.numel() == 1 else f"tensor of shape {tuple(value.shape)}"
    if isinstance(value, Constraint):
        return constraint_name(value)
    return repr(value)


def _support_name(fn: Distribution) -> str | None:
    try:
        support = fn.support
    except NotImplementedError:
        return None
    if support is None:
        return None
    while isinstance(support, torch_constraints.independent):
        support = support.base_constraint
    return constraint_name(support)


# -- merging runs into one graph --------------------------------------------------------------


def _merge(runs: Sequence[list[_Site]]) -> ModelGraph:
    merged: dict[str, _Site] = {}
    plates: dict[str, Plate] = {}
    first_seen: dict[str, tuple[int, int]] = {}  # plate -> (node index, place in that node's stack)
    position: dict[str, int] = {}
    for sites in runs:
        for site in sites:
            known = merged.get(site.name)
            if known is None:
                merged[site.name] = known = site
                position[site.name] = len(position)
            else:
                known.parents |= site.parents
                if {known.role, site.role} == {NodeRole.LATENT, NodeRole.OBSERVED} or (
                    NodeRole.SOMETIMES_OBSERVED in (known.role, site.role) and site.role.is_random
                ):
                    known.role = NodeRole.SOMETIMES_OBSERVED
            for depth, frame in enumerate(site.frames):
                plates.setdefault(frame.name, Plate(frame.name, frame.full_size, frame.size, frame.dim))
                first_seen.setdefault(frame.name, (position[site.name], depth))
                if frame.name not in known.plates:
                    known.plates.append(frame.name)
    members: dict[str, int] = {name: 0 for name in plates}
    for site in merged.values():
        for name in site.plates:
            members[name] += 1
    # A plate holding every node of another comes first (it is drawn around it); ties
    # go to the plate the model entered first.
    plate_order = sorted(plates, key=lambda p: (-members[p], first_seen[p]))
    rank = {name: i for i, name in enumerate(plate_order)}
    order = position
    nodes = {
        name: Node(
            name=name,
            kind=site.kind,
            role=site.role,
            parents=tuple(sorted(site.parents, key=order.__getitem__)),
            plates=tuple(sorted(site.plates, key=rank.__getitem__)),
            distribution=site.distribution,
            support=site.support,
            constraint=site.constraint,
            constraint_repr=site.constraint_repr,
            shape=site.shape,
            fixed_value=site.fixed_value,
        )
        for name, site in merged.items()
    }
    return ModelGraph(nodes, {name: plates[name] for name in plate_order})


# -- the shapes view ------------------------------------------------------------------------------


def format_shapes(model: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run ``model(*args, **kwargs)`` once (seed 0) and return the table of its sites' shapes.

    Each sample site shows its distribution's batch and event shape, its value's shape
    and its log-prob shape, as in Pyro's tensor-shapes tutorial; this is
    ``Trace.format_shapes`` after ``compute_log_prob``, for a shapes view.

    Example::

        print(format_shapes(model, is_cont_africa, ruggedness, log_gdp))
    """
    with seed(rng_seed=0), torch.no_grad():
        with trace_handler() as tracer:
            model(*args, **kwargs)
    tracer.trace.compute_log_prob()
    return tracer.trace.format_shapes()
