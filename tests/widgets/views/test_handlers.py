"""replace_prior: the explorer's own handler, which wraps a model without editing it."""

from __future__ import annotations

import pytest
import torch

import pplkit.distributions as dist
from pplkit.handlers import trace
from widgets.views.handlers import replace_prior
from widgets.views.priors import PriorChoice

from ..conftest import Y, hierarchical


def test_replace_prior_changes_the_sites_distribution_in_the_trace():
    tr = trace(replace_prior(hierarchical, priors={"mu": dist.Laplace(1.0, 2.0)})).get_trace(Y)
    fn = tr.nodes["mu"].fn
    assert isinstance(fn, dist.Laplace) and float(fn.loc) == 1.0 and float(fn.scale) == 2.0
    assert isinstance(tr.nodes["theta"].fn, dist.Normal)  # other sites untouched
    original = trace(hierarchical).get_trace(Y)
    assert isinstance(original.nodes["mu"].fn, dist.Normal)  # the model itself is unchanged


def test_replace_prior_with_a_choice_keeps_the_original_shape():
    def model():
        return __import__("pplkit").sample("w", dist.Normal(0.0, 1.0).expand([3]).to_event(1))

    tr = trace(replace_prior(model, priors={"w": PriorChoice("StudentT", {"df": 3.0, "loc": 0.0, "scale": 2.0})})
               ).get_trace()
    fn = tr.nodes["w"].fn
    assert fn.event_shape == (3,) and fn.batch_shape == ()
    assert isinstance(fn.base_dist, dist.StudentT)


def test_replace_prior_rejects_a_shape_mismatch_naming_the_site():
    with pytest.raises(ValueError, match="site 'mu'.*batch shape \\(2,\\)"):
        trace(replace_prior(hierarchical, priors={"mu": dist.Normal(torch.zeros(2), 1.0)})).get_trace(Y)


def test_replace_prior_leaves_observed_sites_alone():
    tr = trace(replace_prior(hierarchical, priors={"y": dist.Normal(0.0, 1.0)})).get_trace(Y)
    assert tr.nodes["y"].is_observed and tr.nodes["y"].fn.batch_shape == (len(Y),)


def test_handler_arguments_are_checked():
    with pytest.raises(TypeError, match="priors="):
        replace_prior(hierarchical, priors=None)
