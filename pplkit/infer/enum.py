"""Enumeration of discrete latents: marking sites, and summing their dims out exactly.

``config_enumerate`` marks every discrete latent site of a model or guide for
parallel enumeration; the ``enum`` handler then gives each marked site all its values
in a dim of its own. What is left is to sum those dims out of the log joint,
respecting plates: an enumerated site inside a plate takes one value *per element*,
so its dim must be summed (logsumexp) before the plate's elements are multiplied
(their log densities summed). :func:`contract` does this on the tree of plates,
deepest plates first, which is exact and, for the small models of teaching, cheap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, overload

import torch

from ..handlers.enum import ENUM_DIM
from ..runtime import Handler, Message, SiteKind
from ..trace import Trace

__all__ = ["config_enumerate", "contract", "EnumFactors"]

Ordinal = frozenset[str]  # the names of the vectorised plates a site is in


class _ConfigEnumerate(Handler):
    """Marks each discrete latent sample site for enumeration, unless it says otherwise.

    With ``num_samples`` it marks every latent site, discrete or not, for ``num_samples``
    draws along an enumeration dim (Tensor Monte Carlo); a site's own ``infer`` keys win.
    """

    def __init__(
        self, fn: Callable[..., Any] | None, default: str | None, expand: bool, num_samples: int | None, tmc: str
    ) -> None:
        super().__init__(fn)
        self.default = default
        self.expand = expand
        self.num_samples = num_samples
        self.tmc = tmc

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or msg.is_observed:
            return
        if self.num_samples is not None:
            config = {"enumerate": self.default, "num_samples": self.num_samples, "expand": self.expand}
            msg.infer = {**config, "tmc": self.tmc, **msg.infer}
            return
        if "enumerate" in msg.infer:
            return
        if getattr(msg.fn, "has_enumerate_support", False):
            msg.infer = {**msg.infer, "enumerate": self.default, "expand": self.expand}


@overload
def config_enumerate(
    guide: Callable[..., Any],
    default: str | None = ...,
    expand: bool = ...,
    num_samples: int | None = ...,
    tmc: str = ...,
) -> Handler: ...
@overload
def config_enumerate(
    guide: None = ...,
    default: str | None = ...,
    expand: bool = ...,
    num_samples: int | None = ...,
    tmc: str = ...,
) -> Callable[[Callable[..., Any]], Handler]: ...
def config_enumerate(
    guide: Callable[..., Any] | None = None,
    default: str | None = "parallel",
    expand: bool = False,
    num_samples: int | None = None,
    tmc: str = "diagonal",
) -> Handler | Callable[[Callable[..., Any]], Handler]:
    """Mark every discrete latent site of ``guide`` (a model or a guide) for enumeration.

    Usable as ``@config_enumerate``, ``@config_enumerate(default="parallel")`` or
    ``config_enumerate(model)``. Sites that already set ``infer["enumerate"]`` keep it;
    ``default=None`` marks them ``infer["enumerate"] = None`` (not enumerated), as in Pyro.
    With ``num_samples=K`` every latent site (continuous ones too) instead draws ``K``
    samples along an enumeration dim, for ``TraceTMC_ELBO``; ``tmc`` says how a site
    picks its parents' samples: ``"diagonal"`` (sample k uses the parents' sample k) or
    ``"mixture"`` (a parent sample drawn uniformly).

    Example::

        @config_enumerate
        def model(data):
            with pyro.plate("data", len(data)):
                z = pyro.sample("z", dist.Categorical(weights))
                pyro.sample("x", dist.Normal(locs[z], 1.0), obs=data)
    """
    if default not in ("parallel", "sequential", None):
        raise ValueError(f"config_enumerate: default must be 'parallel' (or 'sequential', or None), got {default!r}")
    if num_samples is not None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"config_enumerate: num_samples must be None or a positive int, got {num_samples!r}")
        if default == "sequential":
            raise ValueError("config_enumerate: num_samples (local sampling) needs default='parallel'")
    if guide is None:
        return lambda fn: _ConfigEnumerate(fn, default, expand, num_samples, tmc)
    return _ConfigEnumerate(guide, default, expand, num_samples, tmc)


@dataclass(frozen=True)
class EnumFactors:
    """The log-density tensors of a trace, with what a contraction needs to know about their dims."""

    factors: list[tuple[Ordinal, torch.Tensor]]  # (ordinal, scaled log density)
    enum_dims: dict[int, Ordinal]  # dim -> the ordinal of the site enumerated there
    enum_sites: dict[int, str]  # dim -> the site's name
    plates: dict[str, tuple[int, int]]  # plate name -> (dim, size)

    @staticmethod
    def of(trace: Trace, sites: Callable[[Message], bool] = lambda msg: True) -> EnumFactors:
        """Collect the scored sites of ``trace`` (log densities computed) that ``sites`` accepts."""
        factors: list[tuple[Ordinal, torch.Tensor]] = []
        enum_dims: dict[int, Ordinal] = {}
        enum_sites: dict[int, str] = {}
        plates: dict[str, tuple[int, int]] = {}
        for msg in trace.nodes.values():
            if msg.kind not in (SiteKind.SAMPLE, SiteKind.FACTOR) or not sites(msg):
                continue
            ordinal = ordinal_of(msg)
            for frame in msg.cond_indep_stack:
                if frame.dim is not None:
                    plates[frame.name] = (frame.dim, frame.size)
            assert msg.log_prob is not None
            factors.append((ordinal, msg.log_prob))
            dim = msg.infer.get(ENUM_DIM)
            if dim is not None and not msg.is_observed:
                if dim in enum_sites:
                    raise NotImplementedError(
                        f"sites '{enum_sites[dim]}' and '{msg.name}' share enumeration dim {dim} (a markov chain); "
                        "pplkit's enumeration (TraceEnum_ELBO, MCMC, infer_discrete) sums out one variable per "
                        "dim. Use markov(keep=True) or plain loops"
                    )
                enum_dims[dim] = ordinal
                enum_sites[dim] = msg.name
        return EnumFactors(factors, enum_dims, enum_sites, plates)


def ordinal_of(msg: Message) -> Ordinal:
    return frozenset(f.name for f in msg.cond_indep_stack if f.dim is not None)


def contract(
    enum: EnumFactors, keep: int | None = None, guarded: dict[int, Ordinal] | None = None
) -> list[tuple[Ordinal, torch.Tensor]]:
    """Sum the enumerated dims out of the log joint, plate by plate, deepest plates first.

    Args:
        enum: the factors and their dims.
        keep: an enumerated dim to keep (for its posterior); its site's plates are not summed.
        guarded: dims enumerated elsewhere (in the guide), which must not be summed over
            a plate they vary along (that expectation is not a plain sum).

    Returns:
        ``(ordinal, tensor)`` pieces whose sum over all elements is the log joint with the
        dims summed out; the tensors still vary along their own plates' dims (and ``keep``).
    """
    pending: dict[Ordinal, list[torch.Tensor]] = defaultdict(list)
    for ordinal, tensor in enum.factors:
        pending[ordinal].append(tensor)
    guarded = guarded or {}
    done: list[tuple[Ordinal, torch.Tensor]] = []
    while pending:
        here = max(pending, key=len)
        total = _sum(pending.pop(here))
        local = [d for d, o in enum.enum_dims.items() if o == here and d != keep and _varies(total, d)]
        if local:
            total = total.logsumexp(local, keepdim=True)
        live = [d for d in enum.enum_dims if d != keep and _varies(total, d)]
        if keep is not None and _varies(total, keep) and enum.enum_dims[keep] != here:
            live.append(keep)
        if not live:
            done.append((here, total))
            continue
        parent: Ordinal = frozenset().union(*(enum.enum_dims[d] for d in live))
        if not parent < here:
            names = ", ".join(f"'{enum.enum_sites[d]}'" for d in live)
            raise NotImplementedError(
                f"enumerated sites {names} sit in plates that cross (neither inside the other); pplkit sums "
                "enumerated dims out on a tree of nested plates only"
            )
        for name in here - parent:
            dim, size = enum.plates[name]
            for g, ordinal in guarded.items():
                if name in ordinal and _varies(total, g):
                    raise NotImplementedError(
                        f"a model-enumerated site and a guide-enumerated site inside plate '{name}' depend on each "
                        "other; enumerate both in the model, or neither"
                    )
            total = _sum_plate(total, dim, size)
        pending[parent].append(total)
    return done


def _varies(tensor: torch.Tensor, dim: int) -> bool:
    return tensor.dim() >= -dim and tensor.shape[dim] > 1


def _sum_plate(tensor: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    """Multiply a plate's elements: sum their log densities (a dim broadcast along the plate counts size times)."""
    if tensor.dim() >= -dim and tensor.shape[dim] == size:
        return tensor.sum(dim, keepdim=True)
    return tensor * size


def _sum(tensors: list[torch.Tensor]) -> torch.Tensor:
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t
    return total
