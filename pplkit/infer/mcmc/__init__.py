"""Markov chain Monte Carlo: HMC and NUTS on a model's unconstrained potential energy.

Example::

    from pplkit.infer import MCMC, NUTS
    mcmc = MCMC(NUTS(model), num_samples=1000, warmup_steps=500)
    mcmc.run(data)
    mcmc.summary()
"""

from .api import MCMC
from .diagnostics import effective_sample_size, gelman_rubin, hpdi, split_gelman_rubin, summary
from .hmc import HMC
from .nuts import NUTS

__all__ = ["HMC", "MCMC", "NUTS", "effective_sample_size", "gelman_rubin", "hpdi", "split_gelman_rubin", "summary"]
