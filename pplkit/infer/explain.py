"""Turning an error raised deep inside a model into one that names its cause.

When a guide hands the model a value outside a site's support (a Normal guide for a
``Uniform(0, 10)`` scale, say), the model rarely fails at that site: it fails later,
where the value is used (``Normal(0., sigma)`` with a negative scale), and torch's
message names only the later distribution's argument. These helpers run only after
an error has happened, so they cost nothing on the training path.
"""

from __future__ import annotations

from typing import Any

import torch

from ..runtime import Message, SiteKind
from ..trace import Trace

__all__ = ["check_samples_fit_plates", "value_outside_support"]


def _outside_support(msg: Message) -> bool:
    support = getattr(msg.fn, "support", None)
    if support is None or not isinstance(msg.value, torch.Tensor):
        return False
    try:
        return not bool(support.check(msg.value).all())
    except Exception:  # a support that cannot check a value of this shape says nothing
        return False


def value_outside_support(error: BaseException) -> ValueError | None:
    """A clearer error when the model's partial trace holds a latent value outside its support, else None.

    Example::

        >>> import pplkit, pplkit.distributions as dist, torch
        >>> def model():
        ...     sigma = pplkit.sample("sigma", dist.Uniform(0.0, 10.0))
        ...     if sigma < 0:  # what a Normal(0., sigma) further on would say, in torch's words
        ...         raise ValueError("Expected parameter scale ... to satisfy the constraint GreaterThan(0.0)")
        >>> guide = lambda: pplkit.sample("sigma", dist.Delta(torch.tensor(-0.5)))
        >>> replayed = pplkit.poutine.replay(model, trace=pplkit.poutine.trace(guide).get_trace())
        >>> try:
        ...     pplkit.poutine.trace(replayed).get_trace()
        ... except ValueError as e:
        ...     print(value_outside_support(e))
        model site 'sigma' got the value -0.5, outside the support ... of Uniform(...). ...
    """
    partial: Trace | None = getattr(error, "_pplkit_partial_trace", None)
    if partial is None:
        return None
    for msg in partial.nodes.values():
        if msg.kind is SiteKind.SAMPLE and not msg.is_observed and _outside_support(msg):
            return ValueError(_message(msg, error))
    return None


def _message(msg: Message, error: BaseException) -> str:
    value = msg.value.detach()
    shown = value.item() if value.numel() == 1 else f"a tensor of shape {tuple(value.shape)} with values outside it"
    if isinstance(shown, float):
        shown = f"{shown:.4g}"
    first_line = (str(error).splitlines() or [""])[0]
    if len(first_line) > 160:
        first_line = first_line[:157] + "..."
    return (
        f"model site '{msg.name}' got the value {shown}, outside the support {msg.fn.support} of "
        f"{_describe(msg.fn)}. The value came from the guide (or a condition/substitute), and the model failed "
        f"further on because of it, with {type(error).__name__}: {first_line}\n"
        f"Fix: give '{msg.name}' in the guide a distribution with the same support: an autoguide such as "
        "AutoNormal(model) does this by mapping its Normal into the support; in a hand-written guide use e.g. "
        "dist.LogNormal for a positive site, or dist.TransformedDistribution(dist.Normal(loc, scale), "
        f"biject_to(support)) with the model's support."
    )


def _describe(fn: Any) -> str:
    text = repr(fn)
    return text if len(text) <= 80 else type(fn).__name__


def check_samples_fit_plates(structure: Trace, samples: dict[str, torch.Tensor]) -> None:
    """Refuse samples of a local (plate) site drawn for another plate size than the model has now,
    and samples whose shape is not the site's (a chain dim, a wrong site).

    A guide with local latents, or MCMC samples of them, describe the rows they were
    fitted on: predicting for 4 new rows with values for 10 old ones would otherwise
    fail further on with a broadcasting error naming another site.

    Example::

        check_samples_fit_plates(model_structure, {"z": torch.zeros(100, 10)})  # model now has plate size 4
    """
    for name, value in samples.items():
        msg = structure.nodes.get(name)
        if msg is None or not isinstance(value, torch.Tensor):
            continue
        event_dim = len(getattr(msg.fn, "event_shape", ()))
        draw_shape = value.shape[1:]  # samples carry num_samples as their leading dim
        for frame in msg.cond_indep_stack:
            if frame.dim is None:
                continue
            position = frame.dim - event_dim
            if len(draw_shape) >= -position and draw_shape[position] not in (1, frame.size):
                raise ValueError(
                    f"Predictive: the samples of site '{name}' have size {draw_shape[position]} at plate "
                    f"'{frame.name}' (dim {frame.dim}), but the model now has {frame.size} elements there. '{name}' is "
                    "a local latent: its samples (from the guide, or posterior_samples) belong to the rows they "
                    "were fitted on. To predict for other rows, keep only the global sites: "
                    f"samples = Predictive(model, guide=guide, num_samples=n)(*training_args), then "
                    f"Predictive(model, posterior_samples={{k: v for k, v in samples.items() if k != '{name}'}})"
                    "(*new_args) draws the local sites afresh from the model"
                )
        site_shape = tuple(msg.value.shape)
        if _without_leading_ones(tuple(draw_shape)) != _without_leading_ones(site_shape):
            raise ValueError(
                f"Predictive: posterior_samples['{name}'] has shape {tuple(value.shape)}, that is "
                f"{value.shape[0]} samples of shape {tuple(draw_shape)}, but site '{name}' has values of shape "
                f"{site_shape}. Give it shape {_samples_shape(site_shape)}; from MCMC, "
                "mcmc.get_samples() (without group_by_chain=True) has it"
            )


def _without_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _samples_shape(site_shape: tuple[int, ...]) -> str:
    return "(num_samples," + "".join(f" {d}," for d in site_shape).rstrip(",") + ")"
