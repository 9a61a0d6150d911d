"""The Makefile's torch install: the CPU build from PyTorch's index, or a fallback when it is unreachable."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install_torch.py"
LOCAL_WHEELS = Path("/opt/wheels")  # this workplace's CPU wheel; elsewhere the dry-run test is skipped


def load_script():
    spec = importlib.util.spec_from_file_location("install_torch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


install_torch = load_script()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/whl/cpu"  # nothing listens there once the socket is closed


def test_makefile_installs_torch_through_the_script():
    makefile = (ROOT / "Makefile").read_text()
    assert 'scripts/install_torch.py $(BIN)/python "$(TORCH)"' in makefile
    assert "pip install -q \"$(TORCH)\"" not in makefile


def test_reachable_index_comes_first_with_the_cpu_pin():
    plan = install_torch.plan("torch==2.13.0", install_torch.CPU_INDEX, reachable=lambda index: True)
    assert plan.pip_args == ["--index-url", "https://download.pytorch.org/whl/cpu", "torch==2.13.0+cpu"]


def test_unreachable_index_falls_back_to_the_plain_pin():
    unreachable = closed_port_url()
    assert not install_torch.index_reachable(unreachable, timeout=2.0)
    plan = install_torch.plan("torch==2.13.0", unreachable)
    assert plan.pip_args == ["torch==2.13.0"]
    assert "cannot be reached" in plan.reason and "falling back" in plan.reason


@pytest.mark.parametrize(("spec", "index", "expected"), [
    ("torch==2.5.1+cpu", install_torch.CPU_INDEX, ["torch==2.5.1+cpu"]),  # the build is named: as given
    ("torch==2.13.0", "", ["torch==2.13.0"]),  # the index switched off
    ("torch>=2.2", install_torch.CPU_INDEX, ["--index-url", install_torch.CPU_INDEX, "torch>=2.2"]),
])
def test_other_pins(spec, index, expected):
    assert install_torch.plan(spec, index, reachable=lambda index: True).pip_args == expected


def dry_run(index: str, tmp_path: Path, extra_env: dict[str, str]) -> dict:
    report = tmp_path / "report.json"
    env = dict(os.environ, PPLKIT_TORCH_INDEX=index, **extra_env)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), sys.executable, "torch==2.13.0", "--dry-run", "--ignore-installed",
         "--no-deps", "--quiet", "--report", str(report)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {"stdout": done.stdout, "install": json.loads(report.read_text())["install"]}


def local_cpu_wheel() -> Path:
    wheels = sorted(LOCAL_WHEELS.glob("torch-2.13.0+cpu-*.whl"))
    if not wheels:
        pytest.skip(f"no torch 2.13.0 CPU wheel in {LOCAL_WHEELS} to build a stand-in for PyTorch's index")
    return wheels[0]


def test_dry_run_resolves_the_cpu_wheel_from_the_cpu_index(tmp_path):
    """A stand-in for download.pytorch.org/whl/cpu (a PEP 503 folder) holding only the CPU wheel."""
    wheel = local_cpu_wheel()
    package = tmp_path / "simple" / "torch"
    package.mkdir(parents=True)
    (package / wheel.name).symlink_to(wheel)
    (package / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    # Only that index: no pip config, no find-links, so the wheel can only come from it.
    isolated = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_NO_INDEX": ""}
    result = dry_run((tmp_path / "simple").as_uri(), tmp_path, isolated)
    assert "installing the CPU build" in result["stdout"]
    (torch,) = result["install"]
    assert (torch["metadata"]["name"], torch["metadata"]["version"]) == ("torch", "2.13.0+cpu")
    assert torch["download_info"]["url"].startswith((tmp_path / "simple").as_uri())


def test_dry_run_falls_back_where_the_index_is_unreachable(tmp_path):
    """Here PyTorch's index cannot be reached; the fallback must still resolve this machine's CPU wheel."""
    local_cpu_wheel()
    result = dry_run(closed_port_url(), tmp_path, {})
    assert "falling back" in result["stdout"]
    (torch,) = result["install"]
    assert torch["metadata"]["version"] == "2.13.0+cpu"
