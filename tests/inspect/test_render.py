"""render_model and to_dot: the DOT text for known models, and drawing it with Graphviz."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.examples import custom_guide, model, simple_model
from pplkit.inspect import GraphvizNotFound, get_model_relations, render_model, to_dot, to_graphviz

REPO_ROOT = Path(__file__).resolve().parents[2]


def blocks(source: str) -> dict[str, set[str]]:
    """The DOT text as {box: its lines}: '' for the top level, else the subgraph's name.

    Order inside a box is free; which box a line is in (the nesting) is not.
    """
    assert source.startswith("digraph {\n") and source.endswith("}\n")
    found: dict[str, set[str]] = {"": set()}
    stack = [""]
    for raw in source.splitlines()[1:-1]:
        line = raw.strip()
        if line.startswith("subgraph "):
            found[stack[-1]].add(line)
            stack.append(line[len("subgraph ") : -len(" {")])
            found[stack[-1]] = set()
        elif line == "}":
            stack.pop()
        else:
            found[stack[-1]].add(line)
    assert stack == [""]
    return found


def latent(name: str) -> str:
    return f'{name} [label={name} id="node:{name}" class=latent shape=ellipse style=filled fillcolor=white]'


def param(name: str) -> str:
    return f'{name} [label={name} id="node:{name}" class=param shape=plain]'


def edge(parent: str, child: str) -> str:
    return f'{parent} -> {child} [id="edge:{parent}->{child}"]'


def legend(*lines: str) -> str:
    return 'legend [label="' + "".join(line + r"\l" for line in lines) + '" id=legend shape=plaintext]'


OBS = 'obs [label=obs id="node:obs" class=observed shape=ellipse style=filled fillcolor=gray]'
DATA_PLATE = 'id="plate:data" class=plate label="data (170)" labeljust=r labelloc=b'
COEFFICIENTS = ["a", "bA", "bR", "bAR", "sigma"]


def test_intro_model_dot(intro_args):
    source = render_model(model, model_args=intro_args, render_distributions=True).source
    assert blocks(source) == {
        "": {
            *map(latent, COEFFICIENTS),
            "subgraph cluster_data {",
            *(edge(name, "obs") for name in COEFFICIENTS),
            legend("a ~ Normal", "bA ~ Normal", "bR ~ Normal", "bAR ~ Normal", "sigma ~ Uniform", "obs ~ Normal"),
        },
        "cluster_data": {DATA_PLATE, OBS},
    }


def test_simple_model_dot_with_params(intro_args):
    source = render_model(simple_model, intro_args, render_params=True, render_distributions=True).source
    assert blocks(source) == {
        "": {
            *map(param, COEFFICIENTS),
            "subgraph cluster_data {",
            *(edge(name, "obs") for name in COEFFICIENTS),
            legend(
                "obs ~ Normal",
                *(f"{name} : Real()" for name in COEFFICIENTS[:-1]),
                "sigma : GreaterThan(lower_bound=0.0)",
            ),
        },
        "cluster_data": {DATA_PLATE, OBS},
    }
    without_params = render_model(simple_model, intro_args).source
    assert blocks(without_params) == {"": {"subgraph cluster_data {"}, "cluster_data": {DATA_PLATE, OBS}}


def test_custom_guide_dot_with_params(intro_args):
    source = render_model(custom_guide, intro_args, render_params=True).source
    weights = ["weights_loc", "weights_scale"]
    assert blocks(source) == {
        "": {
            *map(param, ["a_loc", "a_scale", "sigma_loc", *weights]),
            *map(latent, COEFFICIENTS),
            edge("a_loc", "a"),
            edge("a_scale", "a"),
            *(edge(w, site) for w in weights for site in ["bA", "bR", "bAR"]),
            edge("sigma_loc", "sigma"),
        }
    }


def test_nested_plates_dot(nested_plates):
    source = to_dot(get_model_relations(nested_plates))
    assert blocks(source) == {
        "": {latent("scale"), "subgraph cluster_groups {", edge("scale", "mu"), edge("mu", "y")},
        "cluster_groups": {
            'id="plate:groups" class=plate label="groups (3)" labeljust=r labelloc=b',
            latent("mu"),
            'subgraph "cluster_groups/items" {',
        },
        '"cluster_groups/items"': {
            'id="plate:groups/items" class=plate label="items (4)" labeljust=r labelloc=b',
            'y [label=y id="node:y" class=observed shape=ellipse style=filled fillcolor=gray]',
        },
    }


def test_crossing_plates_dot_draws_the_inner_plate_twice(crossing_plates):
    source = to_dot(get_model_relations(crossing_plates))
    cell = 'cell [label=cell id="node:cell" class=observed shape=ellipse style=filled fillcolor=gray]'
    assert blocks(source) == {
        "": {"subgraph cluster_rows {", "subgraph cluster_cols {", edge("r", "cell"), edge("c", "cell")},
        "cluster_rows": {
            'id="plate:rows" class=plate label="rows (3)" labeljust=r labelloc=b',
            latent("r"),
            'subgraph "cluster_rows/cols" {',
        },
        '"cluster_rows/cols"': {'id="plate:rows/cols" class=plate label="cols (4)" labeljust=r labelloc=b', cell},
        "cluster_cols": {'id="plate:cols" class=plate label="cols (4)" labeljust=r labelloc=b', latent("c")},
    }


def test_deterministic_sites_are_dashed_or_passed_through(deterministic_and_factor):
    graph = get_model_relations(deterministic_and_factor)
    factor = 'penalty [label=penalty id="node:penalty" class=factor shape=box style=filled fillcolor=gray]'
    y = 'y [label=y id="node:y" class=observed shape=ellipse style=filled fillcolor=gray]'
    shown = blocks(to_dot(graph, render_deterministic=True, render_distributions=True))[""]
    assert shown == {
        *map(latent, ["a", "b", "k"]),
        'mean [label=mean id="node:mean" class=deterministic shape=ellipse style="filled,dashed" fillcolor=white]',
        factor,
        y,
        edge("a", "b"),
        edge("a", "mean"),
        edge("b", "mean"),
        edge("mean", "penalty"),
        edge("mean", "y"),
        edge("k", "y"),
        legend(
            "a ~ Normal", "b ~ LogNormal", "mean ~ Deterministic", "penalty : factor", "k ~ Categorical", "y ~ Normal"
        ),
    }
    passed_through = blocks(to_dot(graph))[""]
    assert passed_through == {
        *map(latent, ["a", "b", "k"]),
        factor,
        y,
        edge("a", "b"),
        edge("a", "penalty"),
        edge("b", "penalty"),
        edge("a", "y"),
        edge("b", "y"),
        edge("k", "y"),
    }


def test_a_do_intervened_site_is_drawn_as_its_fixed_value(deterministic_and_factor):
    intervened = pplkit.do(deterministic_and_factor, data={"b": 2.0})
    lines = blocks(render_model(intervened, render_distributions=True).source)[""]
    assert (
        'b [label="b = 2" id="node:b" class=intervened shape=box style="rounded,filled,bold" fillcolor=white]' in lines
    )
    assert edge("a", "b") not in lines  # cut from its cause
    assert edge("b", "y") in lines
    assert any(r"\lb = 2 (do)\l" in line for line in lines)


def test_sometimes_observed_sites_are_half_gray(semi_supervised):
    xs = torch.randn(4)
    lines = blocks(render_model(semi_supervised, [(xs, torch.ones(4)), (xs,)]).source)["cluster_data"]
    assert 'y [label=y id="node:y" class=sometimes_observed shape=ellipse style=filled fillcolor="gray:white"]' in lines


def test_posterior_summaries_label_the_latent_sites(intro_args):
    samples = {"a": torch.tensor([1.0, 2.0, 3.0]), "obs": torch.zeros(3, 170)}
    lines = blocks(render_model(model, intro_args, posterior=samples).source)[""]
    assert 'a [label="a\\n2 ± 1" id="node:a" class=latent shape=ellipse style=filled fillcolor=white]' in lines
    assert latent("bA") in lines


def test_odd_site_names_are_quoted_and_map_back_from_the_svg():
    names = ["AutoNormal.locs.a", "x:1", "two words", 'say "hi"', "back\\slash", "node", "legend"]

    def odd():
        z = [pplkit.sample(name, dist.Normal(0.0, 1.0)) for name in names]
        pplkit.sample("sum", dist.Normal(sum(z), 1.0), obs=torch.tensor(0.0))

    digraph = render_model(odd, render_distributions=True)
    assert "legend_ [label=" in digraph.source  # the legend steps aside for a site named legend
    ids = {g.get("id") for g in ET.fromstring(digraph.pipe(format="svg")).iter("{http://www.w3.org/2000/svg}g")}
    assert {f"node:{name}" for name in [*names, "sum"]} <= ids
    assert {f"edge:{name}->sum" for name in names} <= ids


def test_svg_elements_carry_ids_and_role_classes(intro_args):
    svg = render_model(model, intro_args).pipe(format="svg")
    groups = {g.get("id"): g.get("class") for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g")}
    assert groups["node:a"] == "node latent"
    assert groups["node:obs"] == "node observed"
    assert groups["plate:data"] == "cluster plate"
    assert groups["edge:sigma->obs"] == "edge"


def test_filename_writes_the_format_its_suffix_names(tmp_path, intro_args):
    render_model(model, intro_args, filename=tmp_path / "model.svg")
    render_model(model, intro_args, filename=str(tmp_path / "model.png"))
    digraph = render_model(model, intro_args, filename=tmp_path / "model.gv")
    assert (tmp_path / "model.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "model.gv").read_text() == digraph.source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gv", "model.png", "model.svg"]


def test_a_bad_filename_is_refused_before_the_model_runs(tmp_path):
    calls = []

    def counted():
        calls.append(1)
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match=r"cannot tell the image format from filename .*model\.jpgg"):
        render_model(counted, filename=tmp_path / "model.jpgg")
    with pytest.raises(ValueError, match="give it a suffix"):
        render_model(counted, filename=tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_model(counted, filename=tmp_path / "missing" / "model.svg")
    assert calls == [] and list(tmp_path.iterdir()) == []


def test_without_dot_the_graph_builds_and_drawing_says_how_to_install(tmp_path, monkeypatch, intro_args):
    old = tmp_path / "model.svg"
    old.write_text("old drawing")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    digraph = render_model(model, intro_args)
    assert "obs [label=obs" in digraph.source
    for draw in (lambda: digraph.pipe(format="svg"), digraph._repr_mimebundle_, lambda: digraph.render(tmp_path / "x")):
        with pytest.raises(GraphvizNotFound) as info:
            draw()
        message = str(info.value)
        assert "apt-get install graphviz" in message and "conda install" in message and "brew install" in message
    with pytest.raises(GraphvizNotFound):
        render_model(model, intro_args, filename=old)
    assert old.read_text() == "old drawing"  # written atomically or not at all
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_model_error_says_it_happened_while_rendering():
    def broken():
        raise ValueError("bad data")

    with pytest.raises(ValueError, match="bad data") as info:
        render_model(broken)
    assert any("pplkit.render_model: this happened while running the model" in n for n in info.value.__notes__)


def test_to_graphviz_draws_a_graph_you_already_have(intro_args):
    graph = get_model_relations(model, intro_args)
    assert to_graphviz(graph).source == to_dot(graph) == render_model(model, intro_args).source


SCRIPT = """
import sys, pplkit
assert "graphviz" not in sys.modules, "importing pplkit must not import graphviz"
from pplkit.examples import custom_guide
import torch
args = (torch.zeros(170), torch.zeros(170), torch.zeros(170))
print(pplkit.render_model(custom_guide, args, render_params=True, render_distributions=True).source, end="")
"""


def test_output_is_the_same_under_any_hash_seed_and_graphviz_loads_lazily():
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    pplkit.clear_param_store()
    args = (torch.zeros(170), torch.zeros(170), torch.zeros(170))
    here = render_model(custom_guide, args, render_params=True, render_distributions=True).source
    assert result.stdout == here  # line for line, in the same order


def test_auto_multivariate_normal_guide_dot_as_in_the_intro_tutorial(intro_args):
    from pplkit.infer import AutoMultivariateNormal

    guide = AutoMultivariateNormal(model)
    source = render_model(guide, model_args=intro_args, render_params=True).source
    params = ["AutoMultivariateNormal.loc", "AutoMultivariateNormal.scale", "AutoMultivariateNormal.scale_tril"]
    latent_vector = "_AutoMultivariateNormal_latent"
    quoted = [f'"{p}" [label="{p}" id="node:{p}" class=param shape=plain]' for p in params]
    assert blocks(source) == {
        "": {
            *quoted,
            *map(latent, [latent_vector, *COEFFICIENTS]),
            *(f'"{p}" -> {latent_vector} [id="edge:{p}->{latent_vector}"]' for p in params),
            *(edge(latent_vector, site) for site in COEFFICIENTS),
        }
    }


def test_auto_normal_guide_dot_puts_local_params_in_their_plate(nested_plates):
    from pplkit.infer import AutoNormal

    source = render_model(AutoNormal(nested_plates), render_params=True).source

    def p(name):
        return f'"AutoNormal.{name}" [label="AutoNormal.{name}" id="node:AutoNormal.{name}" class=param shape=plain]'

    def e(name, site):
        return f'"AutoNormal.{name}" -> {site} [id="edge:AutoNormal.{name}->{site}"]'

    assert blocks(source) == {
        "": {
            p("locs.scale"),
            p("scales.scale"),
            latent("scale"),
            "subgraph cluster_groups {",
            e("locs.scale", "scale"),
            e("scales.scale", "scale"),
            e("locs.mu", "mu"),
            e("scales.mu", "mu"),
        },
        "cluster_groups": {
            'id="plate:groups" class=plate label="groups (3)" labeljust=r labelloc=b',
            p("locs.mu"),
            p("scales.mu"),
            latent("mu"),
        },
    }


def test_a_trained_guide_annotates_the_model_with_its_posterior(intro_args):
    from pplkit.infer import AutoNormal

    guide = AutoNormal(model)
    guide(*intro_args)
    store = pplkit.get_param_store()
    store["AutoNormal.locs.bR"] = torch.tensor(-0.2)
    store["AutoNormal.scales.bR"] = torch.tensor(1e-4)
    lines = blocks(render_model(model, intro_args, posterior=guide, num_samples=20).source)[""]
    (line,) = [line for line in lines if line.startswith("bR [")]
    label = line.split('"')[1]
    name, mean, sd = re.fullmatch(r"(\w+)\\n(\S+) ± (\S+)", label).groups()
    assert name == "bR" and mean == "-0.2" and 0 < float(sd) < 2e-4


PYRO_LEGEND_SCRIPT = """
import torch
from torch.distributions import constraints

def model(x):
    a = pyro.param("a", torch.tensor(1.0))
    sigma = pyro.param("sigma", torch.tensor(1.0), constraint=constraints.positive)
    p = pyro.param("p", torch.tensor(0.5), constraint=constraints.interval(0.0, 1.0))
    with pyro.plate("N", 3):
        pyro.sample("z", dist.Normal(a, sigma))
        pyro.sample("x", dist.Bernoulli(p), obs=x)

source = pyro.render_model(model, (torch.ones(3),), render_distributions=True, render_params=True).source
print([line for line in source.splitlines() if "shape=plaintext" in line][0].split('"')[1])
"""


def test_legend_prints_params_and_constraints_as_pyro_does():
    pytest.importorskip("pyro")
    outputs = []
    for imports in ("import pyro, pyro.distributions as dist", "import pplkit as pyro, pplkit.distributions as dist"):
        done = subprocess.run(
            [sys.executable, "-c", imports + PYRO_LEGEND_SCRIPT], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.strip())
    pyro_legend, pplkit_legend = outputs
    assert "sigma : GreaterThan(lower_bound=0.0)" in pyro_legend
    assert pplkit_legend == pyro_legend
