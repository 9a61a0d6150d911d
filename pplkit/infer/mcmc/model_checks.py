"""Checks of a model made once before MCMC samples, and what to say when a start point fails.

MCMC scores its sites without a trace and with torch's argument checks off (divergent
trajectories visit invalid points), so mistakes that SVI's validated steps would catch
are looked for here, once, on the model's first run: a log density with a dim that no
plate explains, and data outside the support of their distribution. When no finite
starting point is found, :func:`non_finite_sites` runs the model at the point and names
the sites whose log density is not finite, so the message points at the culprit.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import torch

from ...handlers import block, condition, trace
from ...handlers.enum import ENUM_DIM
from ...runtime import SiteKind
from ...trace import Trace, check_log_prob_shape
from ...util import default_validate_args

__all__ = ["check_log_prob_shapes", "non_finite_sites", "warn_data_outside_support"]


def check_log_prob_shapes(tr: Trace) -> None:
    """Refuse, once before sampling, a site whose log density has a dim that no plate explains.

    Data of shape (N, 1) inside ``plate("data", N)`` broadcasts to N x N terms: every
    sample would then come from a wrong posterior, silently. MCMC scores its sites without
    a trace (``scoring.py``), so the check the ELBOs make at each step is made here, on the
    prototype run; it is a check of the model's structure, so it runs with validation off too.
    A model the user wrapped in ``enum`` already has enumeration dims left of its plates:
    those are not checked.
    """
    nesting: float = math.inf
    if any(ENUM_DIM in m.infer for m in tr.nodes.values()):
        nesting = max((-f.dim for m in tr.nodes.values() for f in m.cond_indep_stack if f.dim is not None), default=0)
    for msg in tr.nodes.values():
        if msg.kind in (SiteKind.SAMPLE, SiteKind.FACTOR) and msg.cond_indep_stack:
            log_p = msg.fn.log_prob(msg.value)
            if log_p.dim():
                check_log_prob_shape(msg, log_p, "model", nesting)


def warn_data_outside_support(tr: Trace) -> None:
    """Warn about observed values outside their distribution's support (e.g. a negative count).

    With validation off, torch scores such a value by the density's formula, often to a
    finite number, and NUTS samples a posterior of data the model cannot produce. Pyro's
    MCMC runs on without a word; pplkit says so, once, naming the site. With validation
    on (``MCMC(disable_validation=False)``) it is an error, as torch's own check would
    raise, but naming the site.
    """
    for msg in tr.nodes.values():
        if msg.kind is not SiteKind.SAMPLE or not msg.is_observed:
            continue
        value = torch.as_tensor(msg.value)
        try:
            inside = msg.fn.support.check(value)
        except (NotImplementedError, RuntimeError, TypeError):  # a support that cannot be checked here
            continue
        if bool(inside.all()):
            continue
        outside = ~inside
        example = (value[outside] if outside.shape == value.shape else value).reshape(-1)[0]
        count = int(outside.sum())
        message = (
            f"observed site '{msg.name}': {count} of its values (e.g. {float(example):g}) "
            f"{'lies' if count == 1 else 'lie'} outside "
            f"the support of its {type(msg.fn).__name__} ({msg.fn.support}); their density is zero, so the "
            "posterior MCMC samples is not one of this model and data. Check the data, or choose a distribution "
            "whose support holds them"
        )
        if default_validate_args():
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=6)  # the user's mcmc.run(...) line


def non_finite_sites(
    model: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], values: dict[str, torch.Tensor]
) -> str:
    """The sites whose log density is not finite when the latent sites take ``values``, in words ("" if none)."""
    try:
        with torch.no_grad(), block():
            tr = trace(condition(model, data=values)).get_trace(*args, **kwargs)
    except Exception:  # noqa: BLE001 -- only a diagnosis: the caller's own message stands without it
        return ""
    found = []
    for msg in tr.nodes.values():
        if msg.kind not in (SiteKind.SAMPLE, SiteKind.FACTOR):
            continue
        try:
            log_p = msg.fn.log_prob(msg.value)
        except (ValueError, RuntimeError):
            found.append(f"site '{msg.name}' cannot be scored at its value")
            continue
        bad = ~torch.isfinite(log_p)
        if bool(bad.any()):
            where = f"{int(bad.sum())} of {bad.numel()} elements" if log_p.dim() else "its value"
            kind = type(msg.fn).__name__
            found.append(f"site '{msg.name}' ({kind}) has log density {float(log_p[bad][0])} at {where}")
    return "; ".join(found)
