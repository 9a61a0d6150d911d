"""take_snapshot: what a wrapped model changed is read from its trace, not passed alongside it."""

from __future__ import annotations

import torch

from pplkit.handlers import do, uncondition
from pplkit.inspect import NodeRole
from widgets.views.snapshot import take_snapshot

from ..conftest import Y, hierarchical


def test_interventions_and_freed_sites_come_from_the_trace():
    wrapped = uncondition(do(hierarchical, data={"theta": torch.tensor(1.5)}), names=["y"])
    snapshot = take_snapshot(wrapped, (Y,), {}, data={"y": Y}, num_samples=50)
    assert snapshot.draws.free == {"y"}
    assert torch.equal(snapshot.draws.data["y"], Y)  # the data of the model as written
    assert snapshot.latent_sites == ["mu", "theta", "sigma"]  # a freed site gets no marginal
    theta = snapshot.marginal_entry("theta")
    assert theta["fixed"] == 1.5 and theta["label"] == "theta (intervened)"
    assert snapshot.marginal_entry("mu")["fixed"] is None


def test_without_data_the_observed_sites_of_the_run_are_the_data():
    snapshot = take_snapshot(hierarchical, (Y,), {}, num_samples=50)
    assert snapshot.draws.free == frozenset() and torch.equal(snapshot.draws.data["y"], Y)
    assert take_snapshot(hierarchical, (), {}, num_samples=50).draws.data == {}


def test_the_graph_is_labelled_with_the_posterior_of_latent_sites_only():
    snapshot = take_snapshot(do(hierarchical, data={"theta": torch.tensor(1.5)}), (Y,), {}, num_samples=50)
    posterior = {"mu": torch.randn(200) + 2.0, "theta": torch.full((200,), 1.5), "sigma": torch.rand(200)}
    graph = snapshot.with_posterior(posterior).annotated_graph()
    assert graph.nodes["theta"].role is NodeRole.INTERVENED and graph.nodes["theta"].posterior is None
    assert graph.nodes["mu"].posterior is not None
