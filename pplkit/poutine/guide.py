"""Pyro's ``poutine.guide``: ``GuideMessenger``, a guide that runs the model itself.

An ordinary guide is a second program: the ELBO traces it, then replays the model on
its values. A ``GuideMessenger`` is a handler around the model instead: called as the
guide, it runs the model and, at each latent site, swaps the prior for a posterior
(:meth:`GuideMessenger.get_posterior`) built from the prior itself, which already
depends on the posterior draws upstream. One run yields both traces
(:meth:`GuideMessenger.get_traces`), so the ELBOs and ``Importance`` call it once
instead of running guide and model in turn.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.distributions import Distribution

from ..distributions import Delta
from ..handlers import trace
from ..runtime import Message, SiteKind
from ..trace import Trace

__all__ = ["GuideMessenger"]


class GuideMessenger(trace):
    """Base class of effect-based guides; subclasses implement :meth:`get_posterior`.

    Args:
        model: the model the guide runs (not registered as a submodule).

    Example::

        class Shifted(GuideMessenger):
            def get_posterior(self, name, prior):
                shift = pyro.param(f"{name}_shift", lambda: torch.zeros(prior.batch_shape))
                return dist.Normal(prior.loc + shift, prior.scale)

        guide = Shifted(model)
        svi = SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())
    """

    def __init__(self, model: Callable[..., Any]) -> None:
        trace.__init__(self, None)
        self._model = (model,)  # a tuple, so that a model that is a torch module is not a submodule
        self._model_return: Any = None

    @property
    def model(self) -> Callable[..., Any]:
        return self._model[0]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # The last run's trace (tensors of a graph) and the param store it ran with are not saved.
        for key in ("trace", "_store", "_params_before"):
            state.pop(key, None)
        state["_model_return"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["trace"] = Trace(state.get("graph_type", "flat"))
        self.__dict__.update(state)

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Run the model with posterior draws at its latent sites; return every sample and deterministic value."""
        self.args_kwargs = args, kwargs
        try:
            with self:
                self._model_return = self.model(*args, **kwargs)
        finally:
            del self.args_kwargs
        return {
            name: site.value
            for name, site in self.trace.nodes.items()
            if site.kind is SiteKind.SAMPLE or site.kind is SiteKind.DETERMINISTIC
        }

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or msg.is_observed or msg.infer.get("is_auxiliary"):
            return
        prior = msg.fn
        msg.infer["prior"] = prior
        posterior = self.get_posterior(msg.name, prior)
        if isinstance(posterior, torch.Tensor):
            posterior = Delta(posterior, event_dim=prior.event_dim)
        if posterior.batch_shape != prior.batch_shape:
            posterior = posterior.expand(prior.batch_shape)
        msg.fn = posterior

    def postprocess(self, msg: Message) -> None:
        # Plates outside this handler (a particle plate) broadcast the posterior after
        # process saw it; the prior gets the same batch shape, for the model's trace.
        prior = msg.infer.get("prior")
        if prior is not None and msg.kind is SiteKind.SAMPLE and prior.batch_shape != msg.fn.batch_shape:
            msg.infer["prior"] = prior.expand(msg.fn.batch_shape)
        super().postprocess(msg)

    def get_posterior(self, name: str, prior: Distribution) -> Distribution | torch.Tensor:
        """The posterior at site ``name`` given its ``prior`` (conditioned on upstream posterior draws).

        Return a distribution or a value (taken as a point mass). It may create params with
        ``pyro.param`` and draw helper variables with ``pyro.sample(...,
        infer={"is_auxiliary": True})``; :meth:`upstream_value`, ``self.trace`` and
        ``self.args_kwargs`` (the model's inputs) tell it what came before.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement get_posterior(name, prior)")

    def upstream_value(self, name: str) -> torch.Tensor:
        """The value of an upstream sample or deterministic site, for :meth:`get_posterior`."""
        return self.trace.nodes[name].value

    def get_traces(self) -> tuple[Trace, Trace]:
        """``(model_trace, guide_trace)`` of the last call, as replaying the model on a guide would give.

        The guide's trace keeps the latent sites (with their posteriors), the auxiliary ones
        and the plates' subsample sites; the model's keeps every site but the auxiliary ones,
        each latent one with its prior.
        """
        guide_trace = self.trace.copy()
        model_trace = self.trace.copy()
        for name, site in self.trace.nodes.items():
            latent = site.kind is SiteKind.SAMPLE and not site.is_observed
            if site.infer.get("is_auxiliary"):
                del model_trace.nodes[name]
            elif latent:
                model_site = site.copy()
                model_site.fn = site.infer["prior"]
                model_trace.nodes[name] = model_site
            elif site.kind is not SiteKind.PLATE:
                del guide_trace.nodes[name]
        return model_trace, guide_trace
