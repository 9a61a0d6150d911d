"""scripts/system-deps.sh checks every prerequisite up front and names all missing ones in one message."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "system-deps.sh"


def run_with_path(tmp_path: Path, programs: dict[str, str], *needs: str) -> subprocess.CompletedProcess:
    """Run the script with a PATH holding only bash, id and the given fake programs (name -> shell body)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    for name, body in programs.items():
        fake = bin_dir / name
        fake.write_text(f"#!{shutil.which('bash')}\n{body}\n")
        fake.chmod(0o755)
    env = {"PATH": str(bin_dir), "SYSTEM_DEPS_NO_INSTALL": "1"}  # never apt-get from a test, even as root
    return subprocess.run([shutil.which("bash"), str(SCRIPT), *needs], env=env, capture_output=True, text=True,
                          check=False)


def test_one_message_lists_everything_missing(tmp_path):
    # A python3 without ensurepip (Debian without python3-venv), no dot, no C compiler.
    done = run_with_path(tmp_path, {"python3": "exit 1"}, "venv", "graphviz", "compiler")
    assert done.returncode == 1
    (first, *rest) = done.stderr.splitlines()
    assert first == "system-deps: missing system packages: python3-venv graphviz gcc"
    assert any("sudo apt-get install python3-venv graphviz gcc" in line for line in rest)


def test_nothing_missing_says_nothing(tmp_path):
    done = run_with_path(tmp_path, {"python3": "exit 0", "dot": "exit 0", "cc": "exit 0"},
                         "venv", "graphviz", "compiler")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_unknown_prerequisite_is_named(tmp_path):
    done = run_with_path(tmp_path, {}, "graphviz", "cuda")
    assert done.returncode == 2 and "unknown prerequisite 'cuda'" in done.stderr


def test_every_target_checks_before_installing():
    makefile = (ROOT / "Makefile").read_text()
    for target, needs in [("lab", "venv graphviz compiler"), ("test", "venv graphviz compiler chromium"),
                          ("demo", "venv graphviz compiler")]:
        recipe = makefile.split(f"\n{target}:\n", 1)[1].split("\n\n", 1)[0]
        first_line = recipe.splitlines()[0]
        assert first_line.strip() == f"@$(SYSTEM_DEPS) {needs}", f"make {target} should check {needs} first"
    assert os.access(SCRIPT, os.X_OK)
