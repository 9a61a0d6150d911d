"""``MCMC``: run an HMC or NUTS kernel for some chains and collect the samples."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable

import torch

from ...util import validation_disabled
from .diagnostics import effective_sample_size, format_summary, split_gelman_rubin, summary
from .health import MCMCWarning, check_chains
from .hmc import HMC, Transition
from .vectorized import BatchedStep, run_vectorized

__all__ = ["MCMC"]

CHAIN_METHODS = ("sequential", "vectorized")
HookFn = Callable[[HMC, dict[str, torch.Tensor], str, int], None]


class MCMC:
    """Markov chain Monte Carlo with an HMC or NUTS kernel, for one or more chains.

    Args:
        kernel: an :class:`HMC` or :class:`NUTS` kernel.
        num_samples: samples kept per chain.
        warmup_steps: adaptation steps per chain, discarded (default: ``num_samples``).
        initial_params: unconstrained starting values by site name, as in Pyro; with
            ``num_chains > 1`` each has a leading dim of size ``num_chains``.
        num_chains: the number of independent chains.
        chain_method: ``"sequential"`` runs the chains one after another; ``"vectorized"``
            (NumPyro's name) advances all of them together, each leapfrog step of all the
            chains one batched potential evaluation (see :mod:`.vectorized`).
        hook_fn: called after every transition as ``hook_fn(kernel, params, stage, i)``
            with the unconstrained values by site, ``stage`` "Warmup" or "Sample" and
            the iteration ``i`` within the stage; a widget can animate the chain with it.
        disable_progbar: hide the progress bar.
        disable_validation: skip torch's distribution argument checks while sampling
            (the default, as in Pyro: divergent trajectories visit invalid points).

    Example::

        mcmc = MCMC(NUTS(model), num_samples=1000, warmup_steps=500)
        mcmc.run(is_cont_africa, ruggedness, log_gdp)
        samples = mcmc.get_samples()  # {"a": tensor of shape (1000,), ...}
        mcmc.summary()
    """

    def __init__(
        self,
        kernel: HMC,
        num_samples: int,
        warmup_steps: int | None = None,
        initial_params: dict[str, torch.Tensor] | None = None,
        num_chains: int = 1,
        chain_method: str = "sequential",
        hook_fn: HookFn | None = None,
        disable_progbar: bool = False,
        disable_validation: bool = True,
    ) -> None:
        if not isinstance(kernel, HMC):
            got = f"the class {kernel.__name__}" if isinstance(kernel, type) else type(kernel).__name__
            raise TypeError(f"MCMC needs an HMC or NUTS kernel, e.g. MCMC(NUTS(model), ...); got {got}")
        warmup_steps = num_samples if warmup_steps is None else warmup_steps
        for name, value, least in (
            ("num_samples", num_samples, 1),
            ("warmup_steps", warmup_steps, 0),
            ("num_chains", num_chains, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"MCMC: {name} must be an int >= {least}, got {value!r}")
        if chain_method not in CHAIN_METHODS:
            raise ValueError(f"MCMC: chain_method must be one of {CHAIN_METHODS}, got {chain_method!r}")
        if initial_params is not None and num_chains > 1:
            for site, start in initial_params.items():
                shape = tuple(torch.as_tensor(start).shape)
                if shape[:1] != (num_chains,):
                    raise ValueError(
                        f"initial_params['{site}'] must have a leading dim of size num_chains={num_chains}, "
                        f"got shape {shape}"
                    )
        self.kernel = kernel
        self.num_samples = num_samples
        self.warmup_steps = warmup_steps
        self.initial_params = initial_params
        self.num_chains = num_chains
        self.chain_method = chain_method
        self.hook_fn = hook_fn
        self.disable_progbar = disable_progbar
        self.disable_validation = disable_validation
        self._positions: torch.Tensor | None = None  # (chains, samples, dim), unconstrained
        self._samples: dict[str, torch.Tensor] | None = None
        self.transitions: list[list[Transition]] = []  # per chain, the sampling phase's transitions
        self.step_sizes: list[float] = []  # per chain, after warmup
        self._first_step_sizes: list[float] = []  # per chain, where warmup started
        self.problems: list[str] = []  # what check_chains found after the last run
        self.kernels: list[HMC] = []  # with chain_method="vectorized", each chain's own kernel
        self.batched_step: BatchedStep | None = None  # and the batched step they shared

    def run(self, *args: Any, **kwargs: Any) -> None:
        """Run the chains on the model called with ``*args, **kwargs``."""
        kernel = self.kernel
        # Gradients are needed even when the caller runs MCMC inside torch.no_grad().
        with torch.enable_grad(), validation_disabled() if self.disable_validation else contextlib.nullcontext():
            kernel.setup(*args, **kwargs)
            potential = kernel.potential
            assert potential is not None
            positions = None
            self.transitions, self.step_sizes, self._first_step_sizes = [], [], []
            if self.chain_method == "vectorized" and self.num_chains > 1:
                positions = self._run_vectorized()
            for chain in range(self.num_chains if positions is None else 0):
                start = kernel.initial_position(self._initial_params_of(chain))
                if positions is None:
                    positions = start.new_empty((self.num_chains, self.num_samples, start.shape[0]))
                self.transitions.append(self._run_chain(chain, start, positions[chain]))
                self.step_sizes.append(kernel.step_size)
                self._first_step_sizes.append(kernel.first_step_size)
        self._positions = positions
        self._samples = None
        self._args, self._kwargs = args, kwargs  # Pyro's names: ArviZ's from_pyro reads them too
        self._check()

    def _run_vectorized(self) -> torch.Tensor:
        kernel = self.kernel
        potential = kernel.potential
        assert potential is not None
        starts = [kernel.initial_position(self._initial_params_of(c)) for c in range(self.num_chains)]
        positions = starts[0].new_empty((self.num_chains, self.num_samples, starts[0].shape[0]))
        total = self.warmup_steps + self.num_samples

        with _progress_bar(total * self.num_chains, 0, 1, self.disable_progbar) as bar:

            def on_transition(chain_kernel: HMC, chain: int, i: int, transition: Transition) -> None:
                warmup = i < self.warmup_steps
                if self.hook_fn is not None:
                    stage, index = ("Warmup", i) if warmup else ("Sample", i - self.warmup_steps)
                    self.hook_fn(chain_kernel, potential.unflatten(chain_kernel.position), stage, index)
                if bar is not None:
                    bar.update(1)

            kernels, self.transitions, self.batched_step = run_vectorized(
                kernel, starts, self.warmup_steps, self.num_samples, positions, on_transition
            )
        self.step_sizes = [k.step_size for k in kernels]
        self._first_step_sizes = [k.first_step_size for k in kernels]
        self.kernels = kernels
        return positions

    def _check(self) -> None:
        """Warn, once per problem, when the samples show signs of not being the posterior."""
        self.problems = check_chains(
            self.transitions,
            self._grouped_samples(),
            self.step_sizes,
            self._first_step_sizes if self.kernel.adapt_step_size and self.warmup_steps > 0 else [],
            getattr(self.kernel, "max_tree_depth", None),
        )
        for problem in self.problems:
            warnings.warn(problem, MCMCWarning, stacklevel=3)

    def _initial_params_of(self, chain: int) -> dict[str, torch.Tensor] | None:
        if self.initial_params is None:
            return None
        if self.num_chains == 1:
            return self.initial_params
        return {name: torch.as_tensor(value)[chain] for name, value in self.initial_params.items()}

    def _run_chain(self, chain: int, start: torch.Tensor, out: torch.Tensor) -> list[Transition]:
        kernel = self.kernel
        potential = kernel.potential
        assert potential is not None
        kernel.begin_chain(start, self.warmup_steps)
        transitions: list[Transition] = []
        total = self.warmup_steps + self.num_samples
        with _progress_bar(total, chain, self.num_chains, self.disable_progbar) as bar:
            for i in range(total):
                transition = kernel.sample()
                warmup = i < self.warmup_steps
                if not warmup:
                    out[i - self.warmup_steps] = kernel.position
                    transitions.append(transition)
                if self.hook_fn is not None:
                    stage, index = ("Warmup", i) if warmup else ("Sample", i - self.warmup_steps)
                    self.hook_fn(kernel, potential.unflatten(kernel.position), stage, index)
                if bar is not None:
                    bar.update(1)
                    if i % 25 == 0 or i == total - 1:
                        bar.set_description(
                            f"{'Warmup' if warmup else 'Sample'}" + (f" [{chain}]" if self.num_chains > 1 else "")
                        )
                        bar.set_postfix(
                            {"step size": f"{kernel.step_size:.2e}", "steps": transition.num_steps}, refresh=False
                        )
        return transitions

    def _require_run(self) -> torch.Tensor:
        if self._positions is None:
            raise RuntimeError("no samples yet: call mcmc.run(*model_args) first")
        return self._positions

    def _grouped_samples(self) -> dict[str, torch.Tensor]:
        if self._samples is None:
            positions = self._require_run()
            potential = self.kernel.potential
            assert potential is not None
            self._samples = potential.constrain(positions)
        return self._samples

    def get_samples(self, num_samples: int | None = None, group_by_chain: bool = False) -> dict[str, torch.Tensor]:
        """Constrained samples by site name, shaped ``(num_chains * num_samples, *site_shape)``.

        Args:
            num_samples: draw this many of them at random, with replacement.
            group_by_chain: keep a leading chain dim: ``(num_chains, num_samples, *site_shape)``.
        """
        samples = self._grouped_samples()
        if not group_by_chain:
            samples = {k: v.reshape((-1,) + v.shape[2:]) for k, v in samples.items()}
        if num_samples is not None:
            dim = 1 if group_by_chain else 0
            size = next(iter(samples.values())).shape[dim]
            index = torch.randint(size, (num_samples,))
            samples = {k: v.index_select(dim, index) for k, v in samples.items()}
        return samples

    def diagnostics(self) -> dict[str, Any]:
        """n_eff and r_hat per site; per chain, the divergences (their sample indices) and more.

        Per chain (keys ``"chain 0"``, ...): ``"divergences"``, ``"acceptance rate"`` (the
        fraction of transitions that moved the chain, as in Pyro), ``"step size"`` (after
        warmup) and ``"mean num steps"`` (leapfrog steps, i.e. gradients, per sample).
        """
        samples = self._grouped_samples()
        result: dict[str, Any] = {
            name: {"n_eff": effective_sample_size(value), "r_hat": split_gelman_rubin(value)}
            for name, value in samples.items()
        }
        chains = [f"chain {c}" for c in range(self.num_chains)]
        runs = list(zip(chains, self.transitions))
        result["divergences"] = {c: [i for i, t in enumerate(ts) if t.diverging] for c, ts in runs}
        result["acceptance rate"] = {c: sum(t.moved for t in ts) / len(ts) for c, ts in runs}
        result["step size"] = dict(zip(chains, self.step_sizes))
        result["mean num steps"] = {c: sum(t.num_steps for t in ts) / len(ts) for c, ts in runs}
        return result

    def summary(self, prob: float = 0.9) -> dict[str, dict[str, Any]]:
        """Print mean, std, median, a ``prob`` HPD interval, n_eff and r_hat per site; also return them.

        Returns:
            site name -> statistic -> float (or nested lists for a non-scalar site).
        """
        table = summary(self._grouped_samples(), prob)
        divergences = sum(t.diverging for ts in self.transitions for t in ts)
        text = "\n" + format_summary(table) + f"\n\nNumber of divergences: {divergences}\n"
        if self.problems:
            text += "\nWarning: these samples may not be the posterior:\n" + "".join(
                f"  - {problem}\n" for problem in self.problems
            )
        print(text)
        return table

    def to_arviz(self, **kwargs: Any) -> Any:
        """These samples as an ``arviz.InferenceData``; see :func:`pplkit.infer.to_arviz` (needs ArviZ)."""
        from ..arviz import to_arviz

        return to_arviz(self, **kwargs)


@contextlib.contextmanager
def _progress_bar(total: int, chain: int, num_chains: int, disable: bool) -> Any:
    if disable:
        yield None
        return
    from tqdm.auto import tqdm

    label = "Warmup" + (f" [{chain}]" if num_chains > 1 else "")
    bar = tqdm(total=total, desc=label, mininterval=0.3, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
