"""HMC and NUTS on models with discrete latents: the discrete sites summed out exactly.

HMC moves on continuous coordinates only, so a discrete latent site with finite support
(``Bernoulli``, ``Categorical``, ...) is not sampled but summed out of the log joint, as
Pyro does: under ``enum`` the site takes all its values at once, in a dim of its own left
of the plates, and :func:`pplkit.infer.enum.contract`, the contraction ``TraceEnum_ELBO``
uses, takes the logsumexp over those dims plate by plate. The potential energy is then

    U(z) = -(log sum_d p(continuous latents(z), d, data) + log|det J(z)|)

over every joint value ``d`` of the discrete sites, computed without listing them.

Pyro's MCMC enumerates every discrete site it can (it applies ``config_enumerate`` to
the model itself); pplkit does the same, and warns once per run set-up about the sites
the model did not mark, since they will be missing from ``get_samples()``. Their
posterior, given each sample, comes from ``infer_discrete`` under ``Predictive``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import torch

from ...distributions.util import scale_and_mask
from ...handlers import enum
from ...runtime import Message, SiteKind
from ...trace import Trace
from ..enum import EnumFactors, config_enumerate, contract

__all__ = ["EnumeratedLogJoint", "Enumeration", "plan_enumeration"]


@dataclass(frozen=True)
class Enumeration:
    """Which discrete sites the potential sums out, and where their dims start."""

    site_names: tuple[str, ...]
    first_available_dim: int  # -1 - max_plate_nesting
    configure: bool  # some sites were not marked: apply config_enumerate, as Pyro's MCMC does

    def wrap(self, model: Callable[..., Any]) -> Callable[..., Any]:
        """The model as the potential runs it: every marked site given all its values."""
        marked = config_enumerate(model) if self.configure else model
        return enum(marked, first_available_dim=self.first_available_dim)


class EnumeratedLogJoint:
    """The log joint of one run under ``enum``; its enumerated dims are summed out in :meth:`sum`.

    It stands in for ``scoring.LogDensitySum`` in the potential's scoring handler:
    ``terms`` takes the transforms' log-Jacobians, :meth:`add_site` each scored site.

    Example::

        log_joint = EnumeratedLogJoint()
        for msg in trace(plan.wrap(model)).get_trace(data).nodes.values():
            if msg.kind is SiteKind.SAMPLE:
                log_joint.add_site(msg)
        log_joint.sum()   # log p(locs, data), the assignments summed out
    """

    def __init__(self) -> None:
        self.terms: list[torch.Tensor] = []
        self.trace = Trace()

    def add_site(self, msg: Message) -> None:
        # The distribution's own error (a value outside its support) must reach the potential
        # unchanged: it tells an infinite energy from a faulty model by torch's wording.
        msg.log_prob = scale_and_mask(msg.fn.log_prob(msg.value), msg.scale, msg.mask)
        self.trace.add_site(msg)

    def sum(self) -> torch.Tensor:
        """The log joint with every enumerated dim summed out, plus the log-Jacobians."""
        pieces = [tensor.sum() for _, tensor in contract(EnumFactors.of(self.trace))]
        total = torch.stack(pieces + [t.reshape(()) for t in self.terms]).sum()
        return total


def plan_enumeration(prototype: Trace, max_plate_nesting: int | None) -> Enumeration | None:
    """How to sum the discrete latent sites of ``prototype`` (a run of the model) out; None if it has none.

    Raises:
        ValueError: naming the site, for a discrete site that cannot be enumerated (infinite
            support, or enumeration turned off or sequential), or a ``max_plate_nesting``
            smaller than the model's plates.

    Example::

        prototype = trace(model).get_trace(data)       # a mixture: "which" in plate "data"
        plan = plan_enumeration(prototype, max_plate_nesting=None)
        plan.site_names, plan.first_available_dim      # ("which",), -2
        trace(plan.wrap(model)).get_trace(data).nodes["which"].value.shape   # (2, 1)
    """
    discrete = [
        msg
        for msg in prototype.nodes.values()
        if msg.kind is SiteKind.SAMPLE and not msg.is_observed and msg.fn.support.is_discrete
    ]
    if not discrete:
        return None
    unmarked = []
    for msg in discrete:
        _check_enumerable(msg)
        if "enumerate" not in msg.infer:
            unmarked.append(msg.name)
    nesting = _plate_nesting(prototype)
    if max_plate_nesting is None:
        max_plate_nesting = nesting
    elif isinstance(max_plate_nesting, bool) or not isinstance(max_plate_nesting, int) or max_plate_nesting < nesting:
        deepest = next(m for m in prototype.nodes.values() if _plate_nesting_of(m) == nesting)
        raise ValueError(
            f"max_plate_nesting={max_plate_nesting!r}, but site '{deepest.name}' sits in {nesting} nested plate "
            f"{'dim' if nesting == 1 else 'dims'}; the "
            f"discrete sites' enumeration dims must sit left of every plate. Pass max_plate_nesting={nesting} "
            "(or leave it out: pplkit then counts the plates)"
        )
    for msg in discrete:
        _check_batch_dims_are_plates(msg, max_plate_nesting)
    if unmarked:
        names = ", ".join(f"'{name}'" for name in unmarked)
        warnings.warn(
            f"the discrete latent sites {names} are summed out by enumeration, as Pyro's MCMC does, so they are "
            "not in get_samples(); draw them with infer_discrete (under Predictive). Mark them yourself to say "
            "so: @config_enumerate on the model, or infer={'enumerate': 'parallel'} on the site",
            UserWarning,
            stacklevel=6,  # the user's mcmc.run(...) line
        )
    return Enumeration(tuple(m.name for m in discrete), -1 - max_plate_nesting, configure=bool(unmarked))


def _check_enumerable(msg: Message) -> None:
    kind = type(msg.fn).__name__
    if not msg.fn.has_enumerate_support:
        raise ValueError(
            f"latent site '{msg.name}' has a discrete distribution ({kind}) with no finite support to enumerate; "
            "HMC and NUTS move on continuous latents, and sum discrete ones out only when their values can be "
            "listed (Bernoulli, Categorical, ...). Sum it out of the model by hand (e.g. over a truncated range), "
            "or observe it with condition()"
        )
    strategy = msg.infer.get("enumerate", "parallel")
    if strategy != "parallel":
        raise ValueError(
            f"latent site '{msg.name}' ({kind}) has infer={{'enumerate': {strategy!r}}}; HMC and NUTS need "
            "continuous latents, and sum a discrete one out only in parallel: use "
            "infer={'enumerate': 'parallel'} (or config_enumerate), or observe it with condition()"
        )


def _plate_nesting_of(msg: Message) -> int:
    return max((-f.dim for f in msg.cond_indep_stack if f.dim is not None), default=0)


def _plate_nesting(tr: Trace) -> int:
    """How many plate dims the model uses (Pyro's guess of ``max_plate_nesting``)."""
    return max((_plate_nesting_of(m) for m in tr.nodes.values() if m.kind is SiteKind.SAMPLE), default=0)


def _check_batch_dims_are_plates(msg: Message, max_plate_nesting: int) -> None:
    """A discrete site's batch dims must be plates: enumeration gives one value per plate element.

    A batch dim that is no plate's would have all its elements take the same enumerated
    value, which is a different model, so it is refused, as Pyro's shape check does.
    """
    batch_shape = tuple(msg.fn.batch_shape)
    plate_dims = {f.dim: f.size for f in msg.cond_indep_stack if f.dim is not None}
    for dim in range(-len(batch_shape), 0):
        size = batch_shape[dim]
        if size == 1 or plate_dims.get(dim) == size:
            continue
        where = "" if -dim <= max_plate_nesting else f" (left of max_plate_nesting={max_plate_nesting})"
        raise ValueError(
            f"latent site '{msg.name}': its {type(msg.fn).__name__} has batch shape {batch_shape}, and dim {dim} "
            f"(size {size}){where} is no plate's; a discrete site is summed out one value per plate element, so "
            f"put it inside a plate of size {size} at dim {dim}, e.g. `with pyro.plate('{msg.name}_plate', {size}, "
            f"dim={dim}):`"
        )
