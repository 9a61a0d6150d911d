#!/usr/bin/env python3
"""How many learners one JupyterHub/Binder node serves: each tutorial's kernel memory and CPU time.

Runs tutorials 01-03 one after another, each in a fresh kernel on a throw-away copy, as a
learner would (full length; ``--smoke`` takes CI's shorter runs), and prints per tutorial
the kernel's peak resident memory and its CPU seconds (user + system, all its threads, plus
its children such as graphviz's ``dot``). It also measures an idle JupyterLab server, which
each learner has on Binder. Then it sizes a 2-core / 4 GB node (Binder's size) both ways:

* memory: learners whose server and largest tutorial kernel fit at once;
* CPU: learners who each run all three tutorials within one class hour.

Usage: ``PYTHONPATH=. .venv/bin/python scripts/classroom_scale.py [--smoke]`` (about 5-10 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ["01_introduction.ipynb", "02_live_svi.ipynb", "03_explore.ipynb"]
NODE_CORES, NODE_MEMORY_MB, CLASS_SECONDS = 2, 4096, 3600
KERNEL_BUDGET_MB = 1024
MARKER = "pplkit-scale:"
# Peak memory is the kernel's VmHWM: ru_maxrss survives exec on Linux, so it would include the
# process that started the kernel.
PROBE = f"""
import json as _json, resource as _r
_self, _children = _r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN)
try:
    _peak = int([l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]) / 1024
except (OSError, IndexError):
    _peak = _self.ru_maxrss / 1024
print({MARKER!r} + _json.dumps({{"peak_mb": _peak,
    "cpu_s": _self.ru_utime + _self.ru_stime + _children.ru_utime + _children.ru_stime}}))
"""


def run_tutorial(path: Path, smoke: bool) -> dict[str, float]:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if smoke:
        env["CI"] = "1"
    start = time.perf_counter()
    NotebookClient(notebook, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    wall = time.perf_counter() - start
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream")
    return {**json.loads(printed.split(MARKER, 1)[1]), "wall_s": wall}


def idle_server_mb(folder: Path) -> float:
    """Resident memory of an idle JupyterLab server, 15 s after it starts listening."""
    import psutil

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
            "--IdentityProvider.token=", f"--ServerApp.root_dir={folder}"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        time.sleep(15)
        return psutil.Process(server.pid).memory_info().rss / 2**20
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="CI's shorter runs (CI=1), not a learner's")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per learner's kernel, as on a shared node
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        for name in TUTORIALS:
            shutil.copyfile(ROOT / "tutorials" / name, folder / name)
        rows = {name: run_tutorial(folder / name, args.smoke) for name in TUTORIALS}
        server_mb = idle_server_mb(folder)

    mode = "CI smoke runs" if args.smoke else "full runs, as a learner"
    print(f"\nPer-learner cost of tutorials 01-03 ({mode}; torch threads: {os.environ['OMP_NUM_THREADS']})\n")
    print("| tutorial | kernel peak RSS (MB) | kernel CPU (s) | wall (s) |")
    print("|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['peak_mb']:.0f} | {row['cpu_s']:.0f} | {row['wall_s']:.0f} |")
    total_cpu = sum(r["cpu_s"] for r in rows.values())
    peak = max(r["peak_mb"] for r in rows.values())
    print(f"| all three | max {peak:.0f} | {total_cpu:.0f} | {sum(r['wall_s'] for r in rows.values()):.0f} |")
    print(f"\nidle JupyterLab server: {server_mb:.0f} MB")
    per_learner_mb = server_mb + peak
    by_memory = int(NODE_MEMORY_MB // per_learner_mb)
    by_cpu = int(NODE_CORES * CLASS_SECONDS // total_cpu)
    print(f"\nOne {NODE_CORES}-core / {NODE_MEMORY_MB // 1024} GB node:")
    print(f"  memory: {by_memory} learners at once ({per_learner_mb:.0f} MB each: a server and one tutorial kernel)")
    print(f"  CPU:    {by_cpu} learners each running all three tutorials within {CLASS_SECONDS // 60} minutes")
    print(f"  serves: {min(by_memory, by_cpu)} learners; each kernel under the {KERNEL_BUDGET_MB} MB budget: "
          f"{'yes' if peak < KERNEL_BUDGET_MB else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
