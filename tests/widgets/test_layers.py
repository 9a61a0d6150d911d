"""widgets/ is built in layers: plots <- views <- training <- explorer; no layer imports one above it.

Read from the source with ``ast`` (imports inside functions count too), so a lazy import
that would turn the layers into a cycle is caught as well as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import widgets

LAYERS = ("plots", "views", "training", "explorer")  # lowest first
ROOT = Path(widgets.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path) -> set[str]:
    """Every ``widgets...`` module the file imports, relative imports resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return {m for m in found if m == "widgets" or m.startswith("widgets.")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def _layer_edges() -> list[tuple[str, str, str]]:
    """(file, its layer, the layer it imports) for each import from one layer into another."""
    edges = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).glob("*.py")):
            for module in _imported_modules(path):
                target = _layer(module)
                if target is None and module != "widgets":
                    continue
                edges.append((str(path.relative_to(ROOT)), layer, target or "widgets"))
    return edges


def test_every_module_sits_in_a_layer() -> None:
    top = sorted(p.name for p in ROOT.glob("*.py"))
    # Only the package's front door, the export tool and the two documented paths stay flat.
    assert top == ["__init__.py", "convergence.py", "dashboard.py", "export.py"]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_layer_above_it(layer: str) -> None:
    rank = LAYERS.index(layer)
    upward = [(path, target) for path, source, target in _layer_edges()
              if source == layer and (target == "widgets" or LAYERS.index(target) > rank)]
    assert not upward, f"{layer} imports from above it (or from the package front door): {upward}"


def test_the_check_sees_the_imports_between_layers() -> None:
    # Were the resolver wrong, the test above would pass vacuously; these edges exist.
    edges = {(source, target) for _, source, target in _layer_edges()}
    assert {("views", "plots"), ("training", "plots"), ("explorer", "training"), ("explorer", "views")} <= edges


def test_a_relative_import_is_resolved_to_its_layer() -> None:
    path = ROOT / "views" / "model_view.py"
    assert "widgets.plots.svg_view" in _imported_modules(path)
    assert "widgets.views.snapshot" in _imported_modules(path)


def test_the_package_data_ships_every_front_end_file() -> None:
    # pyproject's package-data globs are relative to widgets/; a .js the wheel leaves out
    # would load in a checkout but not after `pip install`.
    import tomllib

    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["widgets"]
    shipped = {path for pattern in patterns for path in ROOT.glob(pattern)}
    front_end = set(ROOT.rglob("*.js")) | set(ROOT.rglob("*.css"))
    assert front_end and front_end <= shipped, sorted(str(p) for p in front_end - shipped)
