"""A model as the views see it at one moment: its graph, its prior, and any posterior samples."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

import torch

from pplkit.inspect import ModelGraph, NodeRole, get_model_relations, summarize_posterior
from pplkit.params import ParamStore, use_param_store
from pplkit.runtime import SiteKind
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
        trace: one run, for each site's distribution (its prior), the values ``do``
            fixed (``site.intervened``) and the sites set free (``infer["was_observed"]``).
        draws: data, prior samples and, once known, posterior and reference samples.
    """

    graph: ModelGraph
    trace: Trace
    draws: Draws
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
        latent = {s: posterior[s] for s in self.latent_sites if s in posterior}
        return self.graph.with_posterior(summarize_posterior(latent)) if latent else self.graph

    def marginal_entry(self, site: str) -> dict[str, Any]:
        """The arguments of :func:`~widgets.views.posterior_plots.draw_marginal` for ``site``."""
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
        fixed = float(msg.value.reshape(-1)[0]) if msg is not None and msg.intervened else None
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
    data: Mapping[str, torch.Tensor] | None = None,
    num_samples: int = 500,
    store: ParamStore | None = None,
    vectorize: bool = True,
) -> ModelSnapshot:
    """Trace ``model``, read its graph and draw prior samples.

    Args:
        model: the model to show (e.g. wrapped by the explorer's toggles).
        data: observed site -> its data in the model as written, which a wrapped model
            may have set free (default: the data of the sites ``model`` observes).
        store: the param store for params the model declares (default: a fresh one,
            so the user's store is never touched).
    """
    with use_param_store(store if store is not None else ParamStore()):
        graph = get_model_relations(model, args, kwargs)
        model_trace = trace_once(model, args, kwargs)
        prior, vectorized = sample_predictive(model, args, kwargs, num_samples, vectorize=vectorize)
    free = frozenset(name for name, msg in model_trace.nodes.items()
                     if msg.kind is SiteKind.SAMPLE and msg.infer.get("was_observed"))
    observed = dict(data) if data is not None else observed_data(model_trace)
    draws = Draws(args, kwargs, observed, prior, free=free)
    return ModelSnapshot(graph, model_trace, draws, vectorized)
