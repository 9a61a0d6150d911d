"""``MCMC(..., chain_method="vectorized")``: K chains, each leapfrog step one batched call.

Every chain keeps its own sampler state (position, step size, mass matrix, tree) in
its own copy of the kernel, and its work is a generator that yields a request for each
leapfrog step it needs (see ``HMC._drive``). This driver collects one request from
every chain still running, evaluates them all in one call of the step vectorised over
chains (``torch.func.vmap`` of it, traced into one graph, and compiled with
``jit_compile=True``), and sends each chain its answer. Chains need not stay in step: each goes on with its own
trajectory, its own tree depth, its own transitions, as it would alone; a chain that has
finished is replaced in the batch by a copy of another chain's request (so the batch
keeps one shape and a compiled graph is never rebuilt) whose answer is dropped.
"""

from __future__ import annotations

import copy
import warnings
from typing import Callable, Generator

import torch

from .compiled import JitWarning, compile_step, step_function
from .hamiltonian import PhasePoint
from .hmc import HMC, Leapfrogs, Transition

__all__ = ["BatchedStep", "run_vectorized"]

ChainWork = Generator[tuple[PhasePoint, float], PhasePoint, None]


class BatchedStep:
    """A leapfrog step of ``num_chains`` chains at once, from one request per chain.

    Args:
        kernel: the (set-up) kernel whose potential is stepped.
        example: a position of one chain, for the compile.
        num_chains: the batch size.
    """

    def __init__(self, kernel: HMC, example: torch.Tensor, num_chains: int) -> None:
        potential = kernel._require_potential()
        self.num_chains = num_chains
        # Even without jit_compile, the batched step is traced into a graph (a couple of
        # seconds, no C compiler): vmap run eagerly re-dispatches every op of the model
        # through its batching rules, which measured 2-3x slower per call than the graph.
        self.compiled, reason = compile_step(
            potential.energy, example, dense=kernel.full_mass, inductor=kernel.jit_compile, batch=num_chains
        )
        if self.compiled is None and kernel.jit_compile:
            warnings.warn(
                f"{type(kernel).__name__}(jit_compile=True): vectorized chains run eagerly instead, because {reason}",
                JitWarning,
                stacklevel=4,
            )
        self._step: Callable[..., tuple[torch.Tensor, ...]] = (
            self.compiled.graph if self.compiled else torch.func.vmap(step_function(potential.energy, kernel.full_mass))
        )

    def __call__(
        self, requests: list[tuple[PhasePoint, float]], inverse_masses: list[torch.Tensor]
    ) -> list[PhasePoint]:
        points = [point for point, _ in requests]
        reference = points[0].position
        step_sizes = torch.tensor([s for _, s in requests], dtype=reference.dtype, device=reference.device)
        position, momentum, velocity, grad, energies = self._step(
            torch.stack([p.position for p in points]),
            torch.stack([p.momentum for p in points]),
            torch.stack([p.grad for p in points]),
            torch.stack(inverse_masses),
            step_sizes,
        )
        pairs = energies.tolist()
        return [
            PhasePoint(z, r, v, potential, g, kinetic)
            for z, r, v, g, (potential, kinetic) in zip(
                position.unbind(), momentum.unbind(), velocity.unbind(), grad.unbind(), pairs
            )
        ]


def run_vectorized(
    kernel: HMC,
    starts: list[torch.Tensor],
    num_warmup: int,
    num_samples: int,
    out: torch.Tensor,
    on_transition: Callable[[HMC, int, int, Transition], None] | None = None,
) -> tuple[list[HMC], list[list[Transition]], BatchedStep]:
    """Run one chain per start, batching their leapfrog steps; fill ``out`` (chains, samples, dim).

    Returns the per-chain kernels (their final step sizes, mass matrices...), the
    sampling phase's transitions of each, and the batched step (its compile times).
    ``on_transition(kernel, chain, i, transition)`` is called after each transition
    ``i`` (warmup included).
    """
    num_chains = len(starts)
    batched = BatchedStep(kernel, starts[0], num_chains)
    # Each chain's sampler state lives in its own copy; only the batched step is shared.
    kernels = []
    for _ in range(num_chains):
        chain_kernel = copy.copy(kernel)
        chain_kernel.jit_compile = False  # the batched step is compiled instead
        kernels.append(chain_kernel)
    transitions: list[list[Transition]] = [[] for _ in range(num_chains)]

    def work(chain: int) -> ChainWork:
        chain_kernel = kernels[chain]
        yield from chain_kernel.begin_chain_steps(starts[chain], num_warmup)
        for i in range(num_warmup + num_samples):
            transition: Transition = yield from chain_kernel.sample_steps()
            if i >= num_warmup:
                out[chain, i - num_warmup] = chain_kernel.position
                transitions[chain].append(transition)
            if on_transition is not None:
                on_transition(chain_kernel, chain, i, transition)

    works: list[Leapfrogs[None]] = [work(c) for c in range(num_chains)]
    pending: dict[int, tuple[PhasePoint, float]] = {}
    for chain, chain_work in enumerate(works):
        try:
            pending[chain] = next(chain_work)
        except StopIteration:
            pass
    while pending:
        running = list(pending)
        filler = running[0]
        order = [c if c in pending else filler for c in range(num_chains)]
        answers = batched([pending[c] for c in order], [kernels[c].integrator.mass.inverse for c in order])
        for chain in running:
            try:
                pending[chain] = works[chain].send(answers[chain])
            except StopIteration:
                del pending[chain]
    return kernels, transitions, batched
