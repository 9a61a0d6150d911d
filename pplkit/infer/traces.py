"""Running a guide and then the model against it, with the checks that pair them.

Every ELBO, and Importance with a guide, starts the same way: trace the guide,
replay the model on the guide's values, and make sure the two describe the same
latent variables. The checks run at every step (they are a few set lookups) so that
a guide edited between steps is caught too. A guide that runs the model itself (a
``GuideMessenger``) is called once and hands over both traces.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable

from ..handlers import replay, trace
from ..poutine.guide import GuideMessenger
from ..runtime import Handler, SiteKind
from ..trace import Trace
from .util import call_user_fn

__all__ = ["run_guide_and_model"]

Wrapper = Callable[[], AbstractContextManager[Any]]


def run_guide_and_model(
    model: Callable[..., Any],
    guide: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    within: Wrapper = nullcontext,
) -> tuple[Trace, Trace, Any]:
    """Trace ``guide``, then ``model`` replayed on the guide's samples; check they match.

    Args:
        within: a context (a fresh plate over particles, say) entered around each call.

    Returns:
        ``(model_trace, guide_trace, model_return)``: the model's return value is for
        Importance, which reports it as the ``_RETURN`` site.
    """
    messenger = _guide_messenger(guide)
    if messenger is not None:
        with within():
            call_user_fn(guide, "guide", args, kwargs)
        model_trace, guide_trace = messenger.get_traces()
        _check_pairing(model_trace, guide_trace)
        return model_trace, guide_trace, messenger._model_return
    with trace() as guide_tracer, within():
        call_user_fn(guide, "guide", args, kwargs)
    guide_trace = guide_tracer.trace
    _check_guide(guide_trace)
    with trace() as model_tracer, replay(trace=guide_trace), within():
        returned = call_user_fn(model, "model", args, kwargs)
    model_trace = model_tracer.trace
    _check_pairing(model_trace, guide_trace)
    return model_trace, guide_trace, returned


def _guide_messenger(guide: Callable[..., Any]) -> GuideMessenger | None:
    """The GuideMessenger that ``guide`` is, or wraps in handlers (``scale(guide, 0.1)``); else None."""
    while not isinstance(guide, GuideMessenger):
        if not isinstance(guide, Handler) or guide.fn is None:
            return None
        guide = guide.fn
    return guide


def _check_guide(guide_trace: Trace) -> None:
    if any("prior" in m.infer for m in guide_trace.nodes.values()):
        # Only a GuideMessenger sets it; here its trace came from tracing it as a plain guide.
        raise NotImplementedError(
            "this inference traces the guide and then replays the model, but the guide is a GuideMessenger "
            "(AutoNormalMessenger, ...), which runs the model itself; TraceEnum_ELBO does not take one (nor does "
            "Pyro's): use Trace_ELBO, TraceMeanField_ELBO or TraceGraph_ELBO, or an AutoNormal guide"
        )
    observed = [m.name for m in guide_trace.nodes.values() if m.kind is SiteKind.SAMPLE and m.is_observed]
    if observed:
        raise ValueError(
            f"the guide observes site(s) {_names(observed)}. A guide describes only the latent variables; "
            "observe data in the model (sample(..., obs=data)) and remove obs= from the guide"
        )
    for msg in guide_trace.nodes.values():
        if msg.kind is SiteKind.FACTOR and "has_rsample" not in vars(msg.fn):
            # Pyro's words first ("missing specification of has_rsample"), then the fix.
            raise ValueError(
                f"At guide site factor('{msg.name}', ...), missing specification of has_rsample: say whether "
                f"the log factor comes from reparameterised sampling, e.g. factor('{msg.name}', log_factor, "
                "has_rsample=True), or has_rsample=False for a discrete or other non-reparameterised draw"
            )


def _check_pairing(model_trace: Trace, guide_trace: Trace) -> None:
    guide_sites = guide_trace.nodes
    model_sites = model_trace.nodes
    missing = [
        m.name
        for m in model_sites.values()
        if m.kind is SiteKind.SAMPLE and not m.is_observed and m.name not in guide_sites
    ]
    if missing:
        raise ValueError(
            f"the guide has no sample site for the model's latent site(s) {_names(missing)}, so they would be "
            "drawn from the prior at every step. Add e.g. "
            f"sample('{missing[0]}', dist.Normal(loc, scale)) to the guide, or use an autoguide "
            "(AutoNormal(model)); if the site is data, observe it in the model with obs="
        )
    extra = [
        g.name
        for g in guide_sites.values()
        if g.kind is SiteKind.SAMPLE and g.name not in model_sites and not g.infer.get("is_auxiliary")
    ]
    if extra:
        latent = [n for n, m in model_sites.items() if m.kind is SiteKind.SAMPLE and not m.is_observed]
        raise ValueError(
            f"the guide samples site(s) {_names(extra)} that the model does not have (the model's latent "
            f"sites are {_names(latent) or 'none'}). Check the spelling, or mark a helper variable with "
            "infer={'is_auxiliary': True}"
        )
    for name, g in guide_sites.items():
        if g.kind is not SiteKind.SAMPLE:
            continue
        m = model_sites.get(name)
        if m is not None and m.kind is SiteKind.SAMPLE and m.is_observed and not g.infer.get("is_auxiliary"):
            raise ValueError(
                f"site '{name}' is observed in the model but sampled by the guide; the guide must sample "
                "only latent sites, so remove it from the guide"
            )


def _names(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)

