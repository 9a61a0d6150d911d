"""``AutoStructured``: each site its own kind of noise, and sites shifted by the noise of others.

For each latent site the guide keeps a location ``loc`` (unconstrained, the site flattened
with its plates) and draws a zero-mean perturbation from the site's *conditional*:

- ``"delta"``: none (a point estimate, as AutoDelta);
- ``"normal"``: independent Normals, one learned scale per element;
- ``"mvn"``: one correlated Normal over all elements of the site;
- a callable: its return value (it may call ``param`` and ``sample`` itself).

A *dependency* of a downstream site on an upstream one adds a function of the
upstream's perturbation to the downstream's: ``"linear"`` is a learned matrix (starting
at zero), or give any callable (an ``nn.Module`` is trained with the guide). The site's
value is then ``biject_to(support)(loc + perturbation)``. Sites are drawn upstream
first; the shifts leave the guide's density that of the perturbations (the map from
perturbations to values is unit triangular), plus the log-Jacobian of the bijections.

With ``dependencies="linear"`` (the default) the structure is inferred: two latent sites
depend on each other in the posterior when one is a parent of the other, or they are
parents of one site; the later site in the model is the downstream one.

Params, named as Pyro's: ``AutoStructured.locs.<site>``, ``.scales.<site>``,
``.scale_trils.<site>`` and ``.deps.<downstream>.<upstream>.weight``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch
from torch.distributions import constraints

from ... import distributions as dist
from ...distributions.util import sum_rightmost
from ...handlers import infer_config
from ...nn.module import PyroModule, module
from ...primitives import param, sample
from ..util import tracing_for_structure
from .base import AutoGuide, LatentSite, ParamGroup, check_init_scale
from .initialization import InitFn, init_to_feasible

__all__ = ["AutoStructured"]

Conditional = str | Callable[[], torch.Tensor]
Dependency = str | Callable[[torch.Tensor], torch.Tensor]
_CONDITIONALS = ("delta", "normal", "mvn")


@dataclass(eq=False)
class _StructuredSite:
    """What the guide keeps per site, in the order the sites are drawn."""

    site: LatentSite
    conditional: Conditional
    upstreams: dict[str, Dependency] = field(default_factory=dict)
    numel: int = 0


class AutoStructured(AutoGuide):
    """A guide with a chosen conditional per site and chosen dependencies between sites.

    Args:
        model: the model.
        conditionals: ``"delta"``, ``"normal"``, ``"mvn"`` or a callable returning zero-mean
            noise; one for all sites, or a dict giving one per site.
        dependencies: ``"linear"`` to infer the structure, or a dict
            ``{downstream: {upstream: "linear" or callable}}``; no cycles.
        init_loc_fn: where the locations start (default ``init_to_feasible``, as Pyro).
        init_scale: the starting scale of the ``"normal"`` and ``"mvn"`` conditionals.
        create_plates: see :class:`~pplkit.infer.autoguide.AutoGuide`.

    Example::

        guide = AutoStructured(
            model,
            conditionals={"sigma": "normal", "z": "mvn"},
            dependencies={"z": {"sigma": "linear"}},
        )
    """

    def __init__(
        self,
        model: Any,
        *,
        conditionals: Conditional | Mapping[str, Conditional] = "mvn",
        dependencies: str | Mapping[str, Mapping[str, Dependency]] = "linear",
        init_loc_fn: InitFn = init_to_feasible,
        init_scale: float = 0.1,
        create_plates: Any = None,
    ) -> None:
        super().__init__(model, init_loc_fn=init_loc_fn, create_plates=create_plates)
        for name, conditional in conditionals.items() if isinstance(conditionals, Mapping) else [("*", conditionals)]:
            _check_conditional(name, conditional)
        if isinstance(dependencies, str):
            if dependencies != "linear":
                raise ValueError(f"AutoStructured: dependencies must be 'linear' or a dict, got {dependencies!r}")
        elif isinstance(dependencies, Mapping):
            for downstream, upstreams in dependencies.items():
                if not isinstance(upstreams, Mapping):
                    raise TypeError(
                        f"AutoStructured: dependencies['{downstream}'] must be a dict {{upstream: 'linear'}}, "
                        f"got {type(upstreams).__name__}"
                    )
                for upstream, dep in upstreams.items():
                    if upstream == downstream:
                        raise ValueError(f"AutoStructured: site '{downstream}' cannot depend on itself")
                    if not (dep == "linear" or callable(dep)):
                        raise ValueError(
                            f"AutoStructured: dependency of '{downstream}' on '{upstream}' must be 'linear' or a "
                            f"callable, got {dep!r}"
                        )
        else:
            raise TypeError(
                f"AutoStructured: dependencies must be 'linear' or a dict, got {type(dependencies).__name__}"
            )
        self.conditionals = conditionals
        self.dependencies = dependencies
        self.init_scale = check_init_scale(self, init_scale)
        self._plan: list[_StructuredSite] = []
        self._model_call: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        # User modules (conditionals, dependencies), held so that guide.parameters() reaches them.
        self.conds = ParamGroup()
        self.deps = ParamGroup()

    # -- setup ----------------------------------------------------------------------------------

    def _setup(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._model_call = (args, kwargs)  # to infer the dependencies from the model's relations
        try:
            super()._setup(args, kwargs)
        finally:
            self._model_call = None

    def _setup_sites(self) -> None:
        conditionals = self._conditionals()
        dependencies = self._dependencies()
        plan = {
            name: _StructuredSite(
                site, conditionals[name], dict(dependencies.get(name, {})), site.init_unconstrained.numel()
            )
            for name, site in self.sites.items()
        }
        for name, entry in plan.items():
            if isinstance(entry.conditional, torch.nn.Module):
                _attach(self.conds, name, entry.conditional)
            for upstream, dep in entry.upstreams.items():
                if isinstance(dep, torch.nn.Module):
                    _attach(self.deps, f"{name}.{upstream}", dep)
        self._plan = [plan[name] for name in _upstream_first(list(plan), dependencies)]

    def _conditionals(self) -> dict[str, Conditional]:
        if not isinstance(self.conditionals, Mapping):
            return {name: self.conditionals for name in self.sites}
        unknown = sorted(set(self.conditionals) - set(self.sites))
        missing = [name for name in self.sites if name not in self.conditionals]
        if unknown or missing:
            raise ValueError(
                f"AutoStructured: conditionals must name each latent site of the model, {list(self.sites)}; "
                + (f"unknown: {unknown}" if unknown else f"missing: {missing}")
            )
        return dict(self.conditionals)

    def _dependencies(self) -> dict[str, dict[str, Dependency]]:
        if isinstance(self.dependencies, str):
            return self._inferred_dependencies(self.dependencies)
        for downstream, upstreams in self.dependencies.items():
            unknown = sorted({downstream, *upstreams} - set(self.sites))
            if unknown:
                raise ValueError(
                    f"AutoStructured: dependencies name {unknown}, which are not latent sites of the model "
                    f"({list(self.sites)})"
                )
        return {downstream: dict(upstreams) for downstream, upstreams in self.dependencies.items()}

    def _inferred_dependencies(self, kind: str) -> dict[str, dict[str, Dependency]]:
        """Pairs of latent sites linked in the posterior: parent and child, or co-parents of a site."""
        from ...inspect.relations import get_model_relations  # the model's parents, by provenance

        assert self._model_call is not None
        args, kwargs = self._model_call
        rng = torch.get_rng_state()
        try:
            with tracing_for_structure():  # no outer handler (SVI's trace) sees this extra run
                graph = get_model_relations(self.model, args, kwargs)
        finally:
            torch.set_rng_state(rng)
        order = {name: i for i, name in enumerate(self.sites)}
        linked: dict[str, dict[str, Dependency]] = {}
        for node in graph.nodes.values():
            family = [name for name in (*node.parents, node.name) if name in order]
            for a in family:
                for b in family:
                    if order[a] < order[b]:
                        linked.setdefault(b, {})[a] = kind
        return linked

    # -- drawing ----------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        plates = self._create_plates(args, kwargs)
        perturbations: dict[str, torch.Tensor] = {}
        result = {}
        for entry in self._plan:
            name, site = entry.site.name, entry.site
            loc = param(f"{self.prefix}.locs.{name}", site.init_unconstrained.reshape(-1), constraints.real)
            noise = self._noise(entry, loc)
            for upstream, dep in entry.upstreams.items():
                noise = noise + self._shift(entry, upstream, dep, perturbations[upstream])
            perturbations[name] = noise
            unconstrained = self._reshape(loc + noise, site)
            if site.is_real:
                value, log_density = unconstrained, torch.zeros(())
            else:
                value = site.transform(unconstrained)
                log_jacobian = site.transform.log_abs_det_jacobian(unconstrained, value)
                log_density = -sum_rightmost(log_jacobian, log_jacobian.dim() - value.dim() + site.event_dim)
            with self._enter(plates, site.frames):
                result[name] = sample(name, dist.Delta(value, log_density=log_density, event_dim=site.event_dim))
        return result

    def _noise(self, entry: _StructuredSite, loc: torch.Tensor) -> torch.Tensor:
        name, conditional = entry.site.name, entry.conditional
        if conditional == "delta":
            return torch.zeros_like(loc)
        if callable(conditional):
            if isinstance(conditional, torch.nn.Module) and not isinstance(conditional, PyroModule):
                module(f"{self.prefix}.conds.{name}", conditional)  # its weights become params SVI trains
            with infer_config(config_fn=_auxiliary):  # the user's sample sites are the guide's own
                noise = conditional()
            # The callable returns the flat perturbation; for a one-element site, a bare batch of draws.
            if noise.dim() == 0 or (entry.numel == 1 and noise.shape[-1] != 1):
                noise = noise.unsqueeze(-1)
            return noise
        scale = param(f"{self.prefix}.scales.{name}", torch.full_like(loc, self.init_scale), constraints.positive)
        zeros = torch.zeros_like(loc)
        fn: Any
        if conditional == "normal":
            fn = dist.Normal(zeros, scale, validate_args=False).to_event(1)
        else:
            eye = torch.eye(entry.numel, dtype=loc.dtype, device=loc.device)
            tril = param(f"{self.prefix}.scale_trils.{name}", eye, constraints.lower_cholesky)
            fn = dist.MultivariateNormal(zeros, scale_tril=scale[:, None] * tril, validate_args=False)
        return sample(f"{name}_aux", fn, infer={"is_auxiliary": True})

    def _shift(
        self, entry: _StructuredSite, upstream: str, dep: Dependency, perturbation: torch.Tensor
    ) -> torch.Tensor:
        name = entry.site.name
        if dep == "linear":
            upstream_numel = perturbation.shape[-1]
            init = torch.zeros(entry.numel, upstream_numel, dtype=perturbation.dtype)
            weight = param(f"{self.prefix}.deps.{name}.{upstream}.weight", init, constraints.real)
            return perturbation @ weight.T
        assert callable(dep)
        if isinstance(dep, torch.nn.Module) and not isinstance(dep, PyroModule):
            module(f"{self.prefix}.deps.{name}.{upstream}", dep)
        with infer_config(config_fn=_auxiliary):
            return dep(perturbation)

    @staticmethod
    def _reshape(flat: torch.Tensor, site: LatentSite) -> torch.Tensor:
        """The flat unconstrained vector as the site's shape; dims left of it from outer plates (particles)."""
        site_batch = site.fn.batch_shape
        event = site.init_unconstrained.shape[len(site_batch) :]
        batch = torch.broadcast_shapes(flat.shape[:-1], site_batch)
        return flat.reshape(batch + event)

    @torch.no_grad()
    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Each site's location mapped onto its support (the perturbations are centred on zero)."""
        self._require_setup(args, kwargs, "median")
        result = {}
        for entry in self._plan:
            site = entry.site
            loc = self._stored(f"{self.prefix}.locs.{site.name}", site.init_unconstrained.reshape(-1), constraints.real)
            result[site.name] = site.transform(loc.reshape(site.init_unconstrained.shape)).detach().clone()
        return result


def _auxiliary(msg: Any) -> dict[str, Any]:
    return {"is_auxiliary": True}


def _check_conditional(name: str, conditional: Any) -> None:
    if isinstance(conditional, str):
        if conditional not in _CONDITIONALS:
            raise ValueError(
                f"AutoStructured: conditional of '{name}' must be one of {list(_CONDITIONALS)} or a callable, "
                f"got {conditional!r}"
            )
    elif not callable(conditional):
        raise TypeError(f"AutoStructured: conditional of '{name}' must be a string or a callable, got {conditional!r}")


def _attach(root: torch.nn.Module, path: str, child: torch.nn.Module) -> None:
    """Hold ``child`` at ``root.<path>``, one group per dotted part (site names may hold dots)."""
    *parents, key = path.split(".")
    owner = root
    for part in parents:
        owner = owner._modules.setdefault(part, ParamGroup())  # type: ignore[assignment]
    owner._modules[key] = child


def _upstream_first(names: list[str], dependencies: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The sites ordered so that each comes after its upstreams (model order among equals)."""
    pending = {name: set(dependencies.get(name, {})) for name in names}
    ordered: list[str] = []
    while pending:
        ready = [name for name in names if name in pending and not pending[name]]
        if not ready:
            raise ValueError(f"AutoStructured: the dependencies form a cycle among {sorted(pending)}")
        ordered.append(ready[0])
        del pending[ready[0]]
        for upstreams in pending.values():
            upstreams.discard(ready[0])
    return ordered
