"""A model as the views see it at one moment: its graph, its prior, and any posterior samples."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from pplkit.inspect import ModelGraph, NodeRole, get_model_relations, summarize_posterior
from pplkit.params import ParamStore, use_param_store
from pplkit.trace import Trace

from .draws import Draws, Samples, observed_data, sample_predictive, trace_once
from .posterior_plots import first_element
from .priors import prior_choice_of

__all__ = ["ModelSnapshot", "take_snapshot"]


@dataclass
class ModelSnapshot:
    """The graph of a (possibly wrapped) model, one traced run of it, and samples.

    Attributes:
        graph: its relations, as ``get_model_relations`` returns them.
        trace: one run, for each site's distribution (its prior).
        draws: data, prior samples and, once known, posterior and reference samples.
        interventions: site -> value fixed by ``do``.
    """

    graph: ModelGraph
    trace: Trace
    draws: Draws
    interventions: Mapping[str, float] = field(default_factory=dict)
    vectorized: bool = True

    @property
    def latent_sites(self) -> list[str]:
        """Sites the views plot a marginal for: latent ones and ``do``-fixed ones, in model order."""
        return [n.name for n in self.graph if n.role in (NodeRole.LATENT, NodeRole.INTERVENED)
                and n.name not in self.draws.free]

    def with_posterior(self, posterior: Samples | None, reference: Samples | None = None) -> ModelSnapshot:
        return replace(self, draws=replace(self.draws, posterior=posterior, reference=reference))

    def annotated_graph(self) -> ModelGraph:
        """The graph with each latent site labelled by its posterior mean ± sd, once there is a posterior."""
        posterior = self.draws.posterior
        if not posterior:
            return self.graph
        latent = {s: posterior[s] for s in self.latent_sites if s in posterior and s not in self.interventions}
        return self.graph.with_posterior(summarize_posterior(latent)) if latent else self.graph

    def marginal_entry(self, site: str) -> dict[str, Any]:
        """The arguments of :func:`~widgets.posterior_plots.draw_marginal` for ``site``."""
        node = self.graph.nodes[site]
        msg = self.trace.nodes.get(site)
        fn = msg.fn if msg is not None else None
        graph_nodes = self.graph.nodes
        exact = not any(graph_nodes[p].role.is_random for p in node.parents if p in graph_nodes)

        def draws_of(samples: Samples | None) -> Any:
            return first_element(samples[site]) if samples is not None and site in samples else None

        choice = prior_choice_of(fn) if fn is not None else None
        described = choice.short() if choice is not None else (node.distribution or "")
        element = " [0]" if node.shape and math.prod(node.shape) > 1 else ""
        fixed = self.interventions.get(site)
        return {
            "site": site,
            "label": f"{site}{element} ~ {described}" if fixed is None else f"{site}{element} (intervened)",
            "prior_fn": fn,
            "prior": draws_of(self.draws.prior),
            "posterior": draws_of(self.draws.posterior),
            "reference": draws_of(self.draws.reference),
            "exact_prior": exact,
            "fixed": fixed,
        }


def take_snapshot(
    model: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    data_model: Callable[..., Any] | None = None,
    num_samples: int = 500,
    interventions: Mapping[str, float] | None = None,
    free: frozenset[str] = frozenset(),
    store: ParamStore | None = None,
    vectorize: bool = True,
) -> ModelSnapshot:
    """Trace ``model``, read its graph and draw prior samples.

    Args:
        model: the model to show (e.g. wrapped by the explorer's toggles).
        data_model: the model as written, to read the observed data from (default: ``model``).
        store: the param store for params the model declares (default: a fresh one,
            so the user's store is never touched).
    """
    with use_param_store(store if store is not None else ParamStore()):
        graph = get_model_relations(model, args, kwargs)
        model_trace = trace_once(model, args, kwargs)
        data_trace = model_trace if data_model is None else trace_once(data_model, args, kwargs)
        prior, vectorized = sample_predictive(model, args, kwargs, num_samples, vectorize=vectorize)
    draws = Draws(args, kwargs, observed_data(data_trace), prior, free=frozenset(free))
    return ModelSnapshot(graph, model_trace, draws, dict(interventions or {}), vectorized)
