"""``TraceTMC_ELBO`` at Pyro's path, not implemented in pplkit.

Pyro's Tensor Monte Carlo estimator draws ``num_samples`` values per site and sums
them out by tensor variable elimination. pplkit has the contraction (``TraceEnum_ELBO``)
but not the per-site sampling it needs, so the name is importable, which lets Pyro
code that only mentions it run, and constructing it says what to use instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TraceTMC_ELBO"]


class TraceTMC_ELBO:
    """Not implemented in pplkit: raises ``NotImplementedError`` naming the alternatives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "TraceTMC_ELBO (Tensor Monte Carlo) is not implemented in pplkit. For discrete latents use "
            "TraceEnum_ELBO with config_enumerate, which sums them out exactly; for continuous ones, "
            "Trace_ELBO(num_particles=N, vectorize_particles=True). Or run the model under Pyro itself"
        )
