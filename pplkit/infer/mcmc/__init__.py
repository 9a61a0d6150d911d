"""Markov chain Monte Carlo: HMC and NUTS on a model's unconstrained potential energy.

Example::

    from pplkit.infer import MCMC, NUTS
    mcmc = MCMC(NUTS(model), num_samples=1000, warmup_steps=500)
    mcmc.run(data)
    mcmc.summary()

Four chains advanced together, each leapfrog step one batched evaluation, and the
step compiled::

    mcmc = MCMC(NUTS(model, jit_compile=True), 1000, 500, num_chains=4, chain_method="vectorized")
"""

from .api import MCMC
from .compiled import JitWarning
from .diagnostics import effective_sample_size, gelman_rubin, hpdi, split_gelman_rubin, summary
from .health import MCMCWarning
from .hmc import HMC
from .nuts import NUTS

__all__ = [
    "HMC",
    "MCMC",
    "NUTS",
    "JitWarning",
    "MCMCWarning",
    "effective_sample_size",
    "gelman_rubin",
    "hpdi",
    "split_gelman_rubin",
    "summary",
]
