#!/usr/bin/env python3
"""Install torch's CPU build into a virtual environment, falling back when PyTorch's index is unreachable.

A plain ``pip install torch==2.13.0`` on Linux x86-64 resolves PyPI's CUDA build: a 527 MB
wheel plus the CUDA 13 libraries and triton, gigabytes a learner's laptop or a Binder
node never uses. PyTorch's own CPU index serves ``torch==2.13.0+cpu`` (about 190 MB).

The decision, in order:

1. the pin asks for a local build already (``torch==2.13.0+cpu``) or ``PPLKIT_TORCH_INDEX`` is
   empty: install it as given, from pip's configured indexes;
2. PyTorch's CPU index answers within a few seconds: install from it (``--index-url``, as
   PyTorch's own instructions do; the index also serves torch's dependencies), with the pin
   narrowed to the ``+cpu`` build;
3. otherwise (offline, a proxy, a mirror-only CI): fall back to the pin as given from pip's
   configured indexes, say so, and warn afterwards if the result is a CUDA build.

Usage: ``scripts/install_torch.py PYTHON TORCH_SPEC [pip options...]``, e.g.
``scripts/install_torch.py .venv/bin/python torch==2.13.0 -q`` (what the Makefile runs).
Standard library only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
INDEX_ENV = "PPLKIT_TORCH_INDEX"  # another CPU index (a mirror), or empty to skip the index
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Plan:
    """The pip arguments to install torch with, and why."""

    pip_args: list[str]
    reason: str


def index_reachable(index: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether ``index`` (a PEP 503 simple index) lists torch; file:// indexes are looked up on disk."""
    url = index.rstrip("/") + "/torch/"
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(parsed.path)).is_dir()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def cpu_pin(spec: str) -> str:
    """``torch==2.13.0`` -> ``torch==2.13.0+cpu``; other specifiers are left as they are.

    >>> cpu_pin("torch==2.13.0"), cpu_pin("torch>=2.2"), cpu_pin("torch==2.5.1+cpu")
    ('torch==2.13.0+cpu', 'torch>=2.2', 'torch==2.5.1+cpu')
    """
    match = re.fullmatch(r"\s*torch\s*==\s*([0-9][0-9.]*)\s*", spec)
    return f"torch=={match.group(1)}+cpu" if match else spec.strip()


def plan(spec: str, index: str | None = None, reachable=index_reachable) -> Plan:
    """Choose how to install ``spec``. ``reachable(index)`` is injectable so tests can fake the network.

    >>> plan("torch==2.13.0", CPU_INDEX, reachable=lambda index: False).pip_args
    ['torch==2.13.0']
    >>> plan("torch==2.13.0", CPU_INDEX, reachable=lambda index: True).pip_args[:2]
    ['--index-url', 'https://download.pytorch.org/whl/cpu']
    """
    index = os.environ.get(INDEX_ENV, CPU_INDEX) if index is None else index
    if "+" in spec:
        return Plan([spec.strip()], f"{spec.strip()} names its build; installing it from pip's configured indexes")
    if not index:
        return Plan([spec.strip()], f"{INDEX_ENV} is empty; installing {spec.strip()} from pip's configured indexes")
    if reachable(index):
        return Plan(
            ["--index-url", index, cpu_pin(spec)],
            f"installing the CPU build of torch from {index}",
        )
    return Plan(
        [spec.strip()],
        f"{index} cannot be reached; falling back to {spec.strip()} from pip's configured indexes "
        f"(on Linux x86-64, PyPI's wheel is the CUDA build: several GB; set {INDEX_ENV} to a CPU mirror to avoid it)",
    )


def installed_cuda(python: str) -> str | None:
    """The CUDA version the installed torch was built for (None for a CPU build)."""
    probe = subprocess.run(
        [python, "-c", "import torch; print(torch.version.cuda or '')"], capture_output=True, text=True, check=False
    )
    return (probe.stdout.strip() or None) if probe.returncode == 0 else None


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.split("\n\n")[-2], file=sys.stderr)
        return 2
    python, spec, pip_options = argv[1], argv[2], argv[3:]
    chosen = plan(spec)
    print(f"install_torch: {chosen.reason}")
    done = subprocess.run([python, "-m", "pip", "install", *pip_options, *chosen.pip_args], check=False)
    if done.returncode != 0:
        return done.returncode
    if "--dry-run" not in pip_options:
        cuda = installed_cuda(python)
        if cuda:
            print(f"install_torch: warning: the installed torch is a CUDA {cuda} build; pplkit only needs the CPU "
                  f"build (pip install --index-url {CPU_INDEX} torch)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
