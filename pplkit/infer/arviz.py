"""``to_arviz``: hand pplkit's draws to ArviZ, where PyMC and NumPyro users look at posteriors.

ArviZ is optional (``pip install pplkit[arviz]``) and imported only inside :func:`to_arviz`,
so ``import pplkit`` still needs nothing but torch. The result is ArviZ's
``InferenceData`` (ArviZ 0.x, the current release line), with the groups ArviZ's own
``from_pyro`` fills:

* ``posterior``: MCMC samples with their chains, or draws from a fitted guide;
* ``sample_stats``: per MCMC draw, ``diverging`` and ``n_steps`` (leapfrog steps);
* ``log_likelihood``: each observed site's log density of each observation, per draw,
  which ``az.loo`` and ``az.waic`` need;
* ``observed_data``: the observed sites' values;
* ``posterior_predictive``, ``prior`` and ``prior_predictive``: from :class:`Predictive` draws.

A site's dims after ``(chain, draw)`` are named after the plates it sits in (``"data"`` for
the observations of ``with pplkit.plate("data", 170)``), so ArviZ lines the groups up.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

import torch

from ..handlers import condition, trace
from ..runtime import SiteKind
from ..trace import Trace

if TYPE_CHECKING:
    from .mcmc import MCMC

__all__ = ["to_arviz"]

Samples = Mapping[str, torch.Tensor]

INSTALL_HINT = "to_arviz needs ArviZ: pip install 'pplkit[arviz]' (or pip install arviz)"


def _import_arviz() -> Any:
    try:
        import arviz
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return arviz


def to_arviz(
    posterior: MCMC | Samples | None = None,
    *,
    model: Callable[..., Any] | None = None,
    model_args: tuple[Any, ...] | None = None,
    model_kwargs: dict[str, Any] | None = None,
    guide: Callable[..., Any] | None = None,
    num_samples: int = 1000,
    num_chains: int = 1,
    posterior_predictive: Samples | None = None,
    prior: Samples | None = None,
    log_likelihood: bool = True,
) -> Any:
    """An ``arviz.InferenceData`` of MCMC samples, a guide's draws or any posterior draws.

    Args:
        posterior: an :class:`MCMC` that has run (its model, data and chains are used), or
            draws ``{site: tensor with the draws along dim 0}`` (e.g. ``Predictive`` output).
        model: the model; needed for the observed data and the log-likelihood, unless
            ``posterior`` is an MCMC.
        model_args, model_kwargs: the model's data, as passed to ``mcmc.run`` or ``svi.step``
            (taken from the MCMC when not given).
        guide: a fitted guide to draw ``num_samples`` posterior draws from (instead of ``posterior``).
        num_samples: draws from the guide.
        num_chains: how many chains the draws of a dict ``posterior`` hold, one after the other
            (as ``mcmc.get_samples()`` returns them).
        posterior_predictive, prior: ``Predictive`` draws; latent sites of ``prior`` go to the
            ``prior`` group, its observed sites to ``prior_predictive``.
        log_likelihood: add the ``log_likelihood`` group (one model run per draw).

    Example::

        import arviz as az
        idata = to_arviz(mcmc)                       # or mcmc.to_arviz()
        az.summary(idata)                            # mean, sd, hdi, ess, r_hat per site
        idata = to_arviz(guide=auto_guide, model=model, model_args=(is_cont_africa, ruggedness, log_gdp))
    """
    az = _import_arviz()
    sample_stats = None
    if posterior is not None and guide is not None:
        raise ValueError("to_arviz: give posterior= (draws or an MCMC) or guide=, not both")
    if posterior is not None and not isinstance(posterior, Mapping):
        mcmc: MCMC = posterior
        model = model if model is not None else mcmc.kernel.model
        if model_args is None and model_kwargs is None:
            model_args, model_kwargs = getattr(mcmc, "_args", ()), getattr(mcmc, "_kwargs", {})
        grouped = mcmc.get_samples(group_by_chain=True)
        sample_stats = {
            "diverging": torch.tensor([[t.diverging for t in chain] for chain in mcmc.transitions]),
            "n_steps": torch.tensor([[t.num_steps for t in chain] for chain in mcmc.transitions]),
        }
    elif guide is not None:
        if model_args is None and model_kwargs is None:
            raise ValueError("to_arviz(guide=...): pass model_args= (the data the guide was fitted with)")
        grouped = _by_chain(_draw_from_guide(guide, num_samples, model_args or (), model_kwargs or {}), 1, "guide")
    elif posterior is not None:
        grouped = _by_chain(posterior, num_chains, "posterior")
    else:
        grouped = None
    model_args, model_kwargs = tuple(model_args or ()), dict(model_kwargs or {})

    structure = _model_trace(model, model_args, model_kwargs) if model is not None else None
    observed = set() if structure is None else {m.name for m in structure.sites(SiteKind.SAMPLE) if m.is_observed}
    groups: dict[str, Any] = {}
    if grouped is not None:
        groups["posterior"] = {k: v for k, v in grouped.items() if k not in observed}
    if sample_stats is not None:
        groups["sample_stats"] = sample_stats
    if model is not None and structure is not None and observed:
        groups["observed_data"] = {name: structure[name].value for name in observed}
        summed_out = [
            m.name
            for m in structure.sites(SiteKind.SAMPLE)
            if not m.is_observed and m.fn.support.is_discrete and grouped is not None and m.name not in grouped
        ]
        if log_likelihood and grouped is not None and summed_out:
            # Conditioned on the continuous draws alone, each run would score the data given a
            # prior draw of these sites: a pointwise log-likelihood, but of another quantity.
            warnings.warn(
                f"to_arviz: no log_likelihood group, because the discrete sites {summed_out} were summed out "
                "(NUTS enumerates them) and are not in the draws; pass log_likelihood=False to say so",
                UserWarning,
                stacklevel=2,
            )
        elif log_likelihood and grouped is not None:
            groups["log_likelihood"] = _log_likelihood(model, model_args, model_kwargs, groups["posterior"], observed)
    if posterior_predictive is not None:
        groups["posterior_predictive"] = _by_chain(
            {k: v for k, v in posterior_predictive.items() if structure is None or k in observed}, 1,
            "posterior_predictive")
    if prior is not None:
        prior_grouped = _by_chain(prior, 1, "prior")
        groups["prior"] = {k: v for k, v in prior_grouped.items() if k not in observed}
        predicted = {k: v for k, v in prior_grouped.items() if k in observed}
        if predicted:
            groups["prior_predictive"] = predicted
    dims = _plate_dims(structure) if structure is not None else {}
    return az.from_dict(
        **{group: _to_numpy(values) for group, values in groups.items()},
        dims=dims,
        attrs={"inference_library": "pplkit"},
    )


def _by_chain(draws: Samples, num_chains: int, what: str) -> dict[str, torch.Tensor]:
    """``{site: (num_chains * n, ...)}`` -> ``{site: (num_chains, n, ...)}``; errors name the site."""
    grouped = {}
    for name, value in draws.items():
        if not isinstance(value, torch.Tensor) or value.dim() == 0:
            raise ValueError(f"to_arviz: {what}['{name}'] must be a tensor with the draws along dim 0")
        if value.shape[0] % num_chains:
            raise ValueError(
                f"to_arviz: {what}['{name}'] has {value.shape[0]} draws, not a multiple of num_chains={num_chains}"
            )
        grouped[name] = value.detach().reshape(num_chains, -1, *value.shape[1:])
    return grouped


def _draw_from_guide(guide: Callable[..., Any], num_samples: int, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> dict[str, torch.Tensor]:
    from .predictive import Predictive

    # The guide's own sites, drawn as the guide draws them; its params are only read.
    return Predictive(guide, num_samples=num_samples, return_sites=None)(*args, **kwargs)


def _model_trace(model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Trace:
    with torch.no_grad():
        return trace(model).get_trace(*args, **kwargs)


def _log_likelihood(model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                    posterior: Samples, observed: set[str]) -> dict[str, torch.Tensor]:
    """Each observed site's pointwise log density, shaped ``(chain, draw, *site batch shape)``.

    One run of the model per draw, with the latent sites fixed by ``condition``: a Python
    loop rather than a vectorized run, so any model works, including one whose batch dims
    are not all in plates.
    """
    chains, draws = next(iter(posterior.values())).shape[:2]
    rows: dict[str, list[torch.Tensor]] = {name: [] for name in observed}
    with torch.no_grad():
        for chain in range(chains):
            for draw in range(draws):
                values = {k: v[chain, draw] for k, v in posterior.items()}
                tr = trace(condition(model, data=values)).get_trace(*args, **kwargs)
                for name in observed:
                    site = tr[name]
                    rows[name].append(site.fn.log_prob(site.value))
    return {name: torch.stack(values).reshape(chains, draws, *values[0].shape) for name, values in rows.items()}


def _plate_dims(structure: Trace) -> dict[str, list[str]]:
    """Site -> names of its dims after (chain, draw): its plates' names, ``SITE_dim_I`` elsewhere."""
    dims: dict[str, list[str]] = {}
    for msg in structure.sites(SiteKind.SAMPLE):
        if msg.value is None or not isinstance(msg.value, torch.Tensor):
            continue
        shape = msg.value.shape
        names: list[str | None] = [None] * len(shape)
        event_dims = len(getattr(msg.fn, "event_shape", ()))
        for frame in msg.cond_indep_stack:
            if frame.dim is not None and -frame.dim <= len(shape) - event_dims:
                names[len(shape) - event_dims + frame.dim] = frame.name
        if any(names):
            dims[msg.name] = [n if n is not None else f"{msg.name}_dim_{i}" for i, n in enumerate(names)]
    return dims


def _to_numpy(values: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    return {name: value.detach().cpu().numpy() for name, value in values.items()}
