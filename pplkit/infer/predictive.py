"""``Predictive``: samples of every site of a model, under the prior or a posterior.

With no guide and no samples it draws from the prior predictive. With a guide it
first draws the latent sites from the guide, then runs the model conditioned on them
(the posterior predictive); with ``posterior_samples`` (from MCMC, say) it conditions
the model on those. Shapes follow Pyro: every returned site has ``num_samples`` as
its leading dim, and sites with fewer batch dims than the model's plates are padded
with size-1 dims, so ``a`` in a model with one plate comes back as ``(num_samples, 1)``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Collection, Mapping

import torch

from ..handlers import condition, trace
from ..plate import plate
from ..runtime import SiteKind
from ..trace import Trace
from .discrete import CONDITIONED_INSIDE
from .explain import check_samples_fit_plates
from .util import call_user_fn, guess_max_plate_nesting, tracing_for_structure

__all__ = ["Predictive"]

_RETURN = "_RETURN"
_SAMPLES_PLATE = "_num_predictive_samples"


class Predictive(torch.nn.Module):
    """Draw from the prior or posterior predictive distribution of ``model``.

    A ``torch.nn.Module``, as Pyro's: calling it runs :meth:`forward`, and
    ``torch.jit.trace_module(predictive, {"call": args})`` traces :meth:`call`.

    Args:
        model: the model.
        posterior_samples: ``{site: tensor with num_samples leading}``, e.g. from MCMC. (A
            callable here is taken as the guide, so ``Predictive(model, guide, ...)`` works too.)
        guide: a fitted guide to draw the latent sites from (not with posterior_samples).
        num_samples: how many samples (taken from posterior_samples when given).
        return_sites: names of the sites to return (``"_RETURN"`` for the model's return
            value). By default every sample and deterministic site not in
            posterior_samples; with a guide, every site.
        parallel: draw all samples at once under an extra plate (the model must put
            all its batch dims in plates) instead of a Python loop.

    Example::

        predictive = Predictive(model, guide=guide, num_samples=800)
        samples = predictive(is_cont_africa, ruggedness)   # samples["obs"].shape == (800, 170)
    """

    def __init__(
        self,
        model: Callable[..., Any],
        posterior_samples: Mapping[str, torch.Tensor] | Callable[..., Any] | None = None,
        guide: Callable[..., Any] | None = None,
        num_samples: int | None = None,
        return_sites: Collection[str] | None = (),
        parallel: bool = False,
    ) -> None:
        if callable(posterior_samples) and getattr(posterior_samples, "__name__", None) == "get_samples":
            raise TypeError(
                "Predictive: posterior_samples= got the method get_samples itself; call it: "
                "Predictive(model, posterior_samples=mcmc.get_samples())"
            )
        if callable(posterior_samples) and not isinstance(posterior_samples, Mapping):
            # Predictive(model, guide, ...): a guide in the second place is unambiguous.
            if guide is not None:
                raise ValueError("Predictive: two guides given; pass the guide once, as guide=")
            guide, posterior_samples = posterior_samples, None
        if guide is not None and posterior_samples:
            raise ValueError(
                "Predictive: give either guide= (to draw the latent sites from it) or posterior_samples= (to use "
                "those draws), not both"
            )
        if posterior_samples is not None and not isinstance(posterior_samples, Mapping):
            from_mcmc = hasattr(posterior_samples, "get_samples")
            hint = "mcmc.get_samples()" if from_mcmc else "{'loc': tensor of shape (num_samples,)}"
            raise TypeError(
                f"Predictive: posterior_samples must be a dict of tensors by site name, e.g. {hint}; "
                f"got {type(posterior_samples).__name__}"
            )
        posterior_samples = dict(posterior_samples or {})
        for name, value in posterior_samples.items():
            if not isinstance(value, torch.Tensor) or value.dim() == 0:
                raise ValueError(
                    f"Predictive: posterior_samples['{name}'] must be a tensor with the samples along its first dim"
                )
            if num_samples is None:
                num_samples = value.shape[0]
            elif value.shape[0] != num_samples:
                warnings.warn(
                    f"Predictive: posterior_samples['{name}'] holds {value.shape[0]} samples but num_samples="
                    f"{num_samples}; using {value.shape[0]}",
                    stacklevel=2,
                )
                num_samples = value.shape[0]
        if num_samples is None:
            raise ValueError("Predictive: give num_samples= (or posterior_samples= with the samples along dim 0)")
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"Predictive: num_samples must be a positive int, got {num_samples!r}")
        if return_sites is not None and isinstance(return_sites, str):
            raise TypeError(f"Predictive: return_sites must be a list of names, e.g. [{return_sites!r}]")
        super().__init__()
        self.model = model
        self.guide = guide
        self.posterior_samples = posterior_samples
        self.num_samples = num_samples
        self.return_sites = return_sites
        self.parallel = parallel

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Samples of the requested sites, each with ``num_samples`` as its leading dim."""
        with torch.no_grad():
            samples = self.posterior_samples
            return_sites = self.return_sites
            if self.guide is not None:
                samples = _predict(self.guide, "guide", {}, self.num_samples, None, self.parallel, args, kwargs)
                return_sites = return_sites or None
            return _predict(self.model, "model", samples, self.num_samples, return_sites, self.parallel, args, kwargs)

    def call(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, ...]:
        """The samples as a tuple sorted by site name: what ``torch.jit.trace_module`` can return."""
        return tuple(value for _, value in sorted(self(*args, **kwargs).items()))

    def get_samples(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Pyro's older name for calling the predictive; deprecated there as here, in favour of ``forward``."""
        warnings.warn(
            "Predictive.get_samples is deprecated; call the Predictive itself", DeprecationWarning, stacklevel=2
        )
        return self(*args, **kwargs)

    def get_vectorized_trace(self, *args: Any, **kwargs: Any) -> Trace:
        """One trace of the model with every sample drawn at once, under a plate of num_samples."""
        with torch.no_grad():
            samples = self.posterior_samples
            if self.guide is not None:
                samples = _predict(self.guide, "guide", {}, self.num_samples, None, self.parallel, args, kwargs)
            nesting, known = _model_structure(self.model, args, kwargs)
            tr, _ = _vectorized_run(self.model, _known(samples, known), self.num_samples, nesting, args, kwargs)
        return tr


def _model_structure(
    model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], role: str = "model"
) -> tuple[int, Trace]:
    """Run the model (hidden from every handler) for its plate nesting and sites.

    It runs twice, as Pyro's Predictive does (once to guess the plate nesting, once for
    the site shapes), so that the random draws after it are Pyro's: a seeded notebook
    then prints Pyro's numbers for the rest of its cells (intro_long's second fit).
    """
    with tracing_for_structure():
        call_user_fn(model, role, args, kwargs)
        with trace() as tracer:
            call_user_fn(model, role, args, kwargs)
    return guess_max_plate_nesting(tracer.trace), tracer.trace


def _known(samples: Mapping[str, torch.Tensor], structure: Trace) -> dict[str, torch.Tensor]:
    """The samples the model has a sample site for."""
    return {
        name: value
        for name, value in samples.items()
        if name in structure.nodes and structure.nodes[name].kind is SiteKind.SAMPLE
    }


def _predict(
    fn: Callable[..., Any],
    role: str,
    samples: Mapping[str, torch.Tensor],
    num_samples: int,
    return_sites: Collection[str] | None,
    parallel: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> dict[str, torch.Tensor]:
    nesting, structure = _model_structure(fn, args, kwargs, role)
    conditioning = _known(samples, structure)
    check_samples_fit_plates(structure, conditioning)
    unknown = [n for n in samples if n not in conditioning]
    if unknown and role == "model":
        warnings.warn(
            f"Predictive: the model has no sample site(s) {unknown}; those samples were not used", stacklevel=3
        )
    shapes = _site_shapes(structure, samples, num_samples, nesting, return_sites)
    conditioned_inside = getattr(fn, CONDITIONED_INSIDE, None)  # an infer_discrete model
    if parallel and conditioned_inside is not None:
        raise ValueError(
            "Predictive(parallel=True) cannot run an infer_discrete model: the plate of the samples would take "
            "the dim its enumeration uses. Use parallel=False (the default)"
        )
    if parallel:
        tr, returned = _vectorized_run(fn, conditioning, num_samples, nesting, args, kwargs, role)
        return _gather_vectorized(tr, returned, shapes)
    collected: dict[str, list[torch.Tensor]] = {name: [] for name in shapes}
    for i in range(num_samples):
        draw = {name: value[i] for name, value in conditioning.items()}
        run = fn if conditioned_inside is None else conditioned_inside(draw)
        with trace() as tracer, condition(data=draw):
            returned = call_user_fn(run, role, args, kwargs)
        for name in shapes:
            value = returned if name == _RETURN else tracer.trace.nodes[name].value
            collected[name].append(torch.as_tensor(value))
    return {
        name: torch.stack(values) if name == _RETURN else torch.stack(values).reshape(shapes[name])
        for name, values in collected.items()
    }


def _site_shapes(
    structure: Trace,
    samples: Mapping[str, torch.Tensor],
    num_samples: int,
    nesting: int,
    return_sites: Collection[str] | None,
) -> dict[str, tuple[int, ...]]:
    """The shape each returned site will have, as Pyro computes it."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, msg in structure.nodes.items():
        if msg.kind is not SiteKind.SAMPLE and msg.kind is not SiteKind.DETERMINISTIC:
            continue
        if return_sites is None:
            # A guide's run: every site but its auxiliary ones, which the model has no use for.
            wanted = not msg.infer.get("is_auxiliary")
        elif return_sites:
            wanted = name in return_sites
        else:
            wanted = name not in samples  # by default what the samples do not already hold
        if wanted:
            pad = max(nesting - len(msg.fn.batch_shape), 0)
            shapes[name] = (num_samples,) + (1,) * pad + tuple(msg.value.shape)
    if return_sites:
        missing = [n for n in return_sites if n not in shapes and n != _RETURN]
        if missing:
            raise ValueError(
                f"Predictive: return_sites {missing} are not sample or deterministic sites of the model "
                f"(it has {[n for n in structure.nodes if structure.nodes[n].kind.is_sample_like]})"
            )
        if _RETURN in return_sites:
            shapes[_RETURN] = (num_samples,)  # only a marker: the value is stacked as it comes
    return shapes


def _vectorized_run(
    fn: Callable[..., Any],
    conditioning: Mapping[str, torch.Tensor],
    num_samples: int,
    nesting: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    role: str = "model",
) -> tuple[Trace, Any]:
    reshaped = {}
    for name, value in conditioning.items():
        sample_shape = value.shape[1:]
        pad = max(nesting - len(sample_shape), 0)
        reshaped[name] = value.reshape((num_samples,) + (1,) * pad + tuple(sample_shape))
    with trace() as tracer, condition(data=reshaped), plate(_SAMPLES_PLATE, num_samples, dim=-nesting - 1):
        returned = call_user_fn(fn, role, args, kwargs)
    return tracer.trace, returned


def _gather_vectorized(tr: Trace, returned: Any, shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    result = {}
    for name, shape in shapes.items():
        if name == _RETURN:
            result[name] = returned
            continue
        value = tr.nodes[name].value
        if value.numel() < math.prod(shape):
            result[name] = value.expand(shape)
        else:
            result[name] = value.reshape(shape)
    return result
