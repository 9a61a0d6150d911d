"""What the compiled samplers and ELBOs share: the warning, the checks turned off, and Inductor.

``NUTS(jit_compile=True)`` and ``JitTrace_ELBO`` both record a model's torch ops once
with ``make_fx`` (on fake tensors) and hand the flat graph to Inductor. Both turn the
argument checks off while tracing (a check branches on values, which a graph cannot
follow), both explain a failed trace the same way, and both keep running the traced
graph when Inductor itself fails. ``torch.fx`` and Inductor are imported only inside
these functions: ``import pplkit`` loads neither.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import torch

from ..util import validation_disabled

__all__ = ["JitWarning", "checks_off_while_tracing", "compile_graph", "outside_pplkit", "why_not_traceable"]

_PPLKIT = str(Path(__file__).resolve().parent.parent)


class JitWarning(UserWarning):
    """A ``jit_compile=True`` sampler or a ``Jit*`` ELBO could not compile the model, and ran it eagerly."""


def outside_pplkit() -> int:
    """The ``stacklevel`` of the first caller outside pplkit, for a warning the user's line should carry.

    A compiled ELBO is reached through ``svi.step``, ``svi.run`` or ``elbo.loss``: the
    depth differs, the user's frame does not.
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PPLKIT):
        frame, level = frame.f_back, level + 1
    return level


@contextlib.contextmanager
def checks_off_while_tracing() -> Iterator[None]:
    """pplkit's and torch's argument checks off for the seconds of tracing (and of the eager comparison).

    Distributions that torch builds inside pplkit's (``Beta``'s ``Dirichlet``) follow only
    torch's global switch, so both switches go off. The compiled graph has no checks, as
    Pyro's JIT has none; the eager first step has already run them once.
    """
    saved = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        with validation_disabled():
            yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(saved)


def why_not_traceable(error: Exception) -> str:
    """The reason, for a :class:`JitWarning`, that tracing the model failed with ``error``."""
    first_line = str(error).splitlines()[0][:200] if str(error) else ""
    text = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    if "data-dependent" in str(error) or "DataDependent" in type(error).__name__:
        return (
            "the model's control flow depends on latent values (an `if` on a tensor, or a .item()/float() "
            f"call), which a compiled graph cannot follow ({text})"
        )
    return f"tracing the model failed ({text})"


def compile_graph(
    graph: Any, inputs: Sequence[torch.Tensor], stacklevel: int | None = None, guarded: bool = True
) -> tuple[Callable[..., Any], bool]:
    """``graph`` (an FX graph) compiled by Inductor and run once on ``inputs``; ``(callable, compiled)``.

    ``guarded``: through ``torch.compile``, whose guards re-check every input at each call.
    Without, Inductor's code is called directly (``torch._inductor.compile``): 4x less
    overhead per call, for a caller that itself makes sure the inputs keep their shapes,
    dtypes and devices. When Inductor fails (no C compiler, an op it does not lower) it
    warns and gives back the traced graph itself, which still skips all of pplkit's Python.
    """
    try:
        with warnings.catch_warnings():
            # Inductor calls torch's own deprecated helpers (``torch._prims_common.check`` when
            # it lowers a diagonal, ``torch.jit.script_method``): nothing a user can act on, and
            # under ``filterwarnings = error`` (Pyro's test settings) they would fail the compile.
            for category in (FutureWarning, DeprecationWarning):
                warnings.filterwarnings("ignore", message=r"`torch\.", category=category)
            if guarded:
                compiled = torch.compile(graph, fullgraph=True, dynamic=False)
            else:
                import torch._inductor as inductor

                compiled = inductor.compile(graph, list(inputs))
            compiled(*inputs)
    except Exception as error:  # noqa: BLE001 -- no C compiler, an unsupported op: keep the traced graph
        first_line = str(error).splitlines()[0][:200] if str(error) else ""
        warnings.warn(
            f"jit_compile: torch.compile failed ({type(error).__name__}: {first_line}); "
            "running the traced graph without compiling it (still faster than eager)",
            JitWarning,
            stacklevel=outside_pplkit() if stacklevel is None else stacklevel,
        )
        return graph, False
    return compiled, True
