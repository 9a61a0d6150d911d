"""Prior families a learner can pick for a latent site, and the ranges of their parameters.

A site's original prior decides its *domain*: a coefficient with a Normal prior lives on
the real line, a noise scale with a Uniform(0, 10) prior on the positive half-line.
Only families whose support lies inside that domain are offered, so a new prior can
never hand the likelihood a negative scale. Each parameter's control respects its own
support: scales and rates move on a log scale above zero, and a Uniform's low stays
below its high.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch.distributions import Distribution, constraints

import pplkit.distributions as dist
from pplkit.distributions.util import unwrap_independent

__all__ = [
    "FAMILIES",
    "Family",
    "ParamRange",
    "PriorChoice",
    "domain_of",
    "families_for",
    "matched_choice",
    "mean_and_sd",
    "param_range",
    "prior_choice_of",
]


@dataclass(frozen=True)
class Family:
    """A distribution family a prior can be switched to."""

    name: str
    cls: type[Distribution]
    params: tuple[str, ...]
    domain: str  # "real", "positive" or "unit_interval": where its samples lie


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family("Normal", dist.Normal, ("loc", "scale"), "real"),
        Family("StudentT", dist.StudentT, ("df", "loc", "scale"), "real"),
        Family("Laplace", dist.Laplace, ("loc", "scale"), "real"),
        Family("Cauchy", dist.Cauchy, ("loc", "scale"), "real"),
        Family("Uniform", dist.Uniform, ("low", "high"), "interval"),
        Family("HalfNormal", dist.HalfNormal, ("scale",), "positive"),
        Family("HalfCauchy", dist.HalfCauchy, ("scale",), "positive"),
        Family("Exponential", dist.Exponential, ("rate",), "positive"),
        Family("Gamma", dist.Gamma, ("concentration", "rate"), "positive"),
        Family("LogNormal", dist.LogNormal, ("loc", "scale"), "positive"),
        Family("InverseGamma", dist.InverseGamma, ("concentration", "rate"), "positive"),
        Family("Beta", dist.Beta, ("concentration1", "concentration0"), "unit_interval"),
    ]
}
_DOMAIN_BOUNDS = {"real": (-math.inf, math.inf), "positive": (0.0, math.inf), "unit_interval": (0.0, 1.0)}




def domain_of(d: Distribution) -> str | None:
    """Where the samples of ``d`` may lie, coarsely: "real", "positive", "unit_interval", or None.

    None means discrete or multivariate supports, whose prior the explorer leaves alone.
    """
    support = unwrap_independent(d)[0].support
    if support is None:
        return None
    if support is constraints.real:
        return "real"
    lower = getattr(support, "lower_bound", None)
    upper = getattr(support, "upper_bound", math.inf)
    if lower is None or support.is_discrete or support.event_dim:
        return None
    lower, upper = float(torch.as_tensor(lower).min()), float(torch.as_tensor(upper).max())
    if lower >= 0 and upper <= 1:
        return "unit_interval"
    return "positive" if lower >= 0 else "real"


def families_for(domain: str | None) -> list[str]:
    """Names of the families whose samples stay inside ``domain``."""
    if domain is None:
        return []
    return [f.name for f in FAMILIES.values() if f.domain == domain] + ["Uniform"]


@dataclass(frozen=True)
class ParamRange:
    """How a parameter's control moves: linearly within [low, high], or on a log scale (low > 0)."""

    low: float
    high: float
    log: bool


@dataclass(frozen=True)
class PriorChoice:
    """A family and scalar parameter values, e.g. ``PriorChoice("Normal", {"loc": 0, "scale": 10})``.

    Calling it on a site's original distribution builds the new prior with the same
    batch and event shape, so it can replace the original inside any plate.

    Example::

        choice = PriorChoice("HalfNormal", {"scale": 2.0})
        choice(dist.Uniform(0.0, 10.0))   # HalfNormal(scale: 2.0)
    """

    family: str
    params: dict[str, float]

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown prior family {self.family!r}; choose one of {sorted(FAMILIES)}")
        expected = FAMILIES[self.family].params
        if set(self.params) != set(expected):
            raise ValueError(f"{self.family} takes the parameters {list(expected)}, got {sorted(self.params)}")
        for name, value in self.params.items():
            if not math.isfinite(value):
                raise ValueError(f"{self.family}: parameter {name}={value} must be finite")
        if self.family == "Uniform" and not self.params["low"] < self.params["high"]:
            raise ValueError(f"Uniform needs low < high, got low={self.params['low']}, high={self.params['high']}")

    def distribution(self) -> Distribution:
        family = FAMILIES[self.family]
        make: Any = family.cls
        return make(**{name: torch.tensor(float(self.params[name])) for name in family.params})

    def __call__(self, original: Distribution) -> Distribution:
        base, ndims = unwrap_independent(original)
        new = self.distribution().expand(base.batch_shape)
        return new.to_event(ndims) if ndims else new

    def __str__(self) -> str:
        values = ", ".join(f"{name}={_short(self.params[name])}" for name in FAMILIES[self.family].params)
        return f"{self.family}({values})"

    def short(self) -> str:
        """Without parameter names, for tight spaces: ``Normal(0, 10)``."""
        values = ", ".join(_short(self.params[name]) for name in FAMILIES[self.family].params)
        return f"{self.family}({values})"

    def __hash__(self) -> int:
        return hash((self.family, tuple(sorted(self.params.items()))))


def _short(value: float) -> str:
    return f"{value:.3g}"


def prior_choice_of(d: Distribution) -> PriorChoice | None:
    """The choice that rebuilds ``d``, when its family is known and each parameter is one number."""
    base, _ = unwrap_independent(d)
    family = FAMILIES.get(type(base).__name__)
    if family is None or not isinstance(base, family.cls):
        return None
    params = {}
    for name in family.params:
        value = torch.as_tensor(getattr(base, name)).detach()
        if value.numel() == 0 or not bool((value == value.reshape(-1)[0]).all()):
            return None  # parameters that differ per element: not one slider's worth
        params[name] = float(value.reshape(-1)[0])
    return PriorChoice(family.name, params)


def mean_and_sd(d: Distribution, domain: str) -> tuple[float, float]:
    """Location and spread of ``d``, finite even for heavy tails (median and IQR-based fallbacks)."""
    base, _ = unwrap_independent(d)
    try:
        mean = float(base.mean.reshape(-1)[0])
        sd = float(base.stddev.reshape(-1)[0])
    except (NotImplementedError, RuntimeError):
        mean, sd = math.nan, math.nan
    if not (math.isfinite(mean) and math.isfinite(sd) and sd > 0):
        draws = base.sample((2000,)).reshape(2000, -1)[:, 0]
        q = torch.quantile(draws, torch.tensor([0.25, 0.5, 0.75]))
        mean, sd = float(q[1]), float(q[2] - q[0]) / 1.35
    lo, hi = _DOMAIN_BOUNDS.get(domain, (-math.inf, math.inf))
    mean = min(max(mean, lo + 1e-3), hi - 1e-3) if math.isfinite(hi) else max(mean, lo + 1e-3)
    return mean, max(sd, 1e-3)


def matched_choice(family_name: str, like: Distribution, domain: str) -> PriorChoice:
    """A prior of ``family_name`` with about the mean and spread of ``like``: the default after a switch."""
    m, s = mean_and_sd(like, domain)
    if family_name in ("Normal", "Laplace", "Cauchy"):
        params = {"loc": m, "scale": s}
    elif family_name == "StudentT":
        params = {"df": 3.0, "loc": m, "scale": s}
    elif family_name == "Uniform":
        lo, hi = _DOMAIN_BOUNDS.get(domain, (-math.inf, math.inf))
        low, high = max(m - math.sqrt(3) * s, lo), min(m + math.sqrt(3) * s, hi)
        params = {"low": low, "high": high if high > low else low + 1.0}
    elif family_name == "HalfNormal":
        params = {"scale": m * math.sqrt(math.pi / 2)}
    elif family_name == "HalfCauchy":
        params = {"scale": m}
    elif family_name == "Exponential":
        params = {"rate": 1.0 / m}
    elif family_name == "Gamma":
        params = {"concentration": (m / s) ** 2, "rate": m / s**2}
    elif family_name == "LogNormal":
        var = math.log1p((s / m) ** 2)
        params = {"loc": math.log(m) - var / 2, "scale": math.sqrt(var)}
    elif family_name == "InverseGamma":
        alpha = (m / s) ** 2 + 2
        params = {"concentration": alpha, "rate": m * (alpha - 1)}
    elif family_name == "Beta":
        nu = max(m * (1 - m) / s**2 - 1, 0.2)
        params = {"concentration1": m * nu, "concentration0": (1 - m) * nu}
    else:
        raise ValueError(f"unknown prior family {family_name!r}; choose one of {sorted(FAMILIES)}")
    return PriorChoice(family_name, params)


def param_range(family: str, param: str, value: float, domain: str, choice: PriorChoice | None = None) -> ParamRange:
    """The range a control for ``param`` should span around its current ``value``."""
    if family == "Uniform":
        lo, hi = _DOMAIN_BOUNDS.get(domain, (-math.inf, math.inf))
        width = abs(choice.params["high"] - choice.params["low"]) if choice else max(abs(value), 1.0)
        low = lo if math.isfinite(lo) else min(value, 0.0) - 2 * width
        high = hi if math.isfinite(hi) else max(value, 0.0) + 2 * width
        return ParamRange(low, high, log=False)
    arg_constraints: Any = FAMILIES[family].cls.arg_constraints
    constraint = arg_constraints.get(param)
    if constraint is constraints.real:
        scale = choice.params.get("scale", 0.0) if choice else 0.0
        spread = max(abs(value), abs(scale), 1.0)
        return ParamRange(value - 3 * spread, value + 3 * spread, log=False)
    # positive parameters (scale, rate, df, concentrations): two decades either side
    center = max(value, 1e-6)
    return ParamRange(center / 100, center * 100, log=True)
