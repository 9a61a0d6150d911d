"""Running a model for drawing: seeded prior draws, the support-centre fallback, errors with notes."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.examples import model
from pplkit.inspect import NodeRole, get_model_relations
from pplkit.inspect.tracing import run_once
from pplkit.util import default_validate_args

LATENT, OBSERVED = NodeRole.LATENT, NodeRole.OBSERVED


def relations(graph):
    return [(n.name, n.role, n.parents, n.plates, n.distribution or n.constraint) for n in graph]


def test_a_model_that_fails_on_its_prior_draw_runs_at_the_centre_of_each_support(fragile):
    with pytest.raises(RuntimeError, match="Poisson rate"):  # what a prior draw alone does
        run_once(fragile, (), {}, 0, at_support_centre=False)
    graph = get_model_relations(fragile)
    assert relations(graph) == [
        ("rate", LATENT, (), (), "Normal"),
        ("n", LATENT, ("rate",), (), "Poisson"),
        ("y", OBSERVED, ("n",), (), "Normal"),
    ]


def test_a_model_error_is_the_model_s_own_with_a_note():
    def broken():
        pplkit.sample("a", dist.Normal(0.0, 1.0))
        raise KeyError("no such column")

    with pytest.raises(KeyError, match="no such column") as info:
        get_model_relations(broken)
    notes = "\n".join(info.value.__notes__)
    assert "after site 'a'" in notes  # the trace handler's note
    assert "pplkit.get_model_relations: this happened while running the model to draw its graph" in notes


def test_tracing_leaves_the_random_state_and_validation_as_they_were(fragile, intro_args):
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    get_model_relations(model, intro_args)
    assert torch.equal(torch.rand(2), expected)
    # Drawing turns the checks off in this thread only while the model runs.
    assert default_validate_args() is True and dist.Normal(0.0, 1.0)._validate_args
    pplkit.enable_validation(False)
    get_model_relations(fragile)
    assert default_validate_args() is False and not dist.Normal(0.0, 1.0)._validate_args


def test_the_second_error_is_described_when_it_differs():
    calls = []

    def flaky():
        pplkit.sample("z", dist.Normal(0.0, 1.0))
        calls.append(1)
        raise ValueError("first") if len(calls) == 1 else RuntimeError()

    with pytest.raises(ValueError, match="first") as info:
        get_model_relations(flaky)
    assert info.value.__notes__[-1].endswith("failed too, with RuntimeError: .")


def test_values_reach_the_model_tagged_and_the_trace_records_them():
    seen = {}

    def m():
        seen["z"] = pplkit.sample("z", dist.Normal(0.0, 1.0))

    trace = run_once(m, (), {}, seed=0, at_support_centre=True)
    assert seen["z"].provenance == {"z"}
    assert trace["z"].value.item() == 0.0  # the centre of the real line


