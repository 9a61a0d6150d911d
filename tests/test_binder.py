"""binder/ must install what pyproject.toml declares, with CPU torch and pplkit from the repo."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def binder_requirements() -> tuple[dict[str, Requirement], list[str]]:
    """({name: requirement}, [option and path lines]) from binder/requirements.txt."""
    requirements, others = {}, []
    for raw in (BINDER / "requirements.txt").read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-", ".")):
            others.append(line)
        else:
            requirement = Requirement(line)
            requirements[canonicalize_name(requirement.name)] = requirement
    return requirements, others


LEARNER_EXTRAS = ["arviz"]  # what `make lab` installs beside the dependencies: pip install -e ".[arviz]"


def learner_requirements() -> list[Requirement]:
    project = pyproject()["project"]
    extras = [line for extra in LEARNER_EXTRAS for line in project["optional-dependencies"][extra]]
    return [Requirement(line) for line in [*project["dependencies"], *extras]]


def test_same_packages_and_versions_as_pyproject():
    declared = {canonicalize_name(r.name): r for r in learner_requirements()}
    binder, _ = binder_requirements()
    assert set(binder) == set(declared), "binder/requirements.txt and pyproject.toml list different packages"
    for name, requirement in declared.items():
        if name != "torch":
            assert binder[name].specifier == requirement.specifier, f"{name}: binder pins differ from pyproject"


def test_torch_is_the_pinned_cpu_build():
    binder, options = binder_requirements()
    (pin,) = binder["torch"].specifier
    assert pin.operator == "==" and pin.version.endswith("+cpu"), f"torch must be pinned to a +cpu build, got {pin}"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in options
    declared = next(r for r in map(Requirement, pyproject()["project"]["dependencies"]) if r.name == "torch")
    assert Version(pin.version) in declared.specifier
    assert '-e ".[arviz]"' in (ROOT / "Makefile").read_text(), "make lab must install the same extras as Binder"
    # The same torch as `make lab` / `make test` install.
    makefile_torch = re.search(r"^TORCH\s*\?=\s*torch==(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert makefile_torch and Version(pin.version).public == makefile_torch.group(1)


def test_pplkit_is_installed_from_the_repository():
    binder, options = binder_requirements()
    assert "pplkit" not in binder, "pplkit must come from this repository, not from PyPI"
    assert "-e ." in options


def test_runtime_graphviz_and_post_build():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"runtime.txt should read python-X.Y, got {runtime!r}"
    assert Version(match.group(1)) in SpecifierSet(pyproject()["project"]["requires-python"])

    assert "graphviz" in (BINDER / "apt.txt").read_text().split()

    post_build = BINDER / "postBuild"
    assert post_build.read_text().startswith("#!/usr/bin/env bash")
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"


def test_documented_link_opens_an_existing_tutorial():
    links = re.findall(r"urlpath=lab/tree/(\S+\.ipynb)", (BINDER / "README.md").read_text())
    assert links, "binder/README.md should give a link with urlpath=lab/tree/tutorials/..."
    for notebook in links:
        assert (ROOT / notebook).is_file(), f"binder/README.md links to {notebook}, which does not exist"


def test_lab_news_prompt_is_off_in_binder_and_make_lab(tmp_path):
    """Binder's postBuild and `make lab` write the same JupyterLab overrides with one script."""
    import json
    import subprocess

    assert "scripts/lab-settings.sh" in (BINDER / "postBuild").read_text()
    assert "scripts/lab-settings.sh $(VENV)" in (ROOT / "Makefile").read_text()
    subprocess.run([str(ROOT / "scripts" / "lab-settings.sh"), str(tmp_path)], check=True)
    overrides = json.loads((tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}
