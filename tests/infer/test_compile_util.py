"""What compiled samplers and ELBOs share: the reasons they give, and the checks they turn off."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import pplkit.distributions as dist
from pplkit.infer.compile_util import checks_off_while_tracing, compile_graph, outside_pplkit, why_not_traceable
from pplkit.util import default_validate_args


def test_a_data_dependent_failure_is_explained_as_control_flow():
    class GuardOnDataDependentSymNode(RuntimeError):
        pass

    reason = why_not_traceable(GuardOnDataDependentSymNode("Could not guard on data-dependent expression u0 < 16"))
    assert "control flow depends on latent values" in reason and "u0 < 16" in reason
    assert why_not_traceable(ValueError("bad")) == "tracing the model failed (ValueError: bad)"


def test_checks_are_off_inside_and_restored_after():
    assert default_validate_args()
    with checks_off_while_tracing():
        assert not default_validate_args() and not torch.distributions.Distribution._validate_args
        dist.Normal(0.0, -1.0)  # no check
    assert default_validate_args() and torch.distributions.Distribution._validate_args


def test_outside_pplkit_is_the_callers_level_from_a_test():
    assert outside_pplkit() == 1  # called from this file, which is outside pplkit


@pytest.mark.slow  # one Inductor compile: 4-15 s
def test_inductors_own_deprecation_warnings_do_not_fail_a_compile_under_warnings_as_errors():
    # Lowering a diagonal calls torch's deprecated torch._prims_common.check (torch 2.13):
    # under Pyro's `filterwarnings = error` that FutureWarning used to abort Inductor.
    from torch.fx.experimental.proxy_tensor import make_fx

    def trace_of_cholesky(m):
        return torch.linalg.cholesky(m).diagonal().log().sum()

    m = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    graph = make_fx(trace_of_cholesky)(m)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled, ok = compile_graph(graph, [m])
        assert ok
        # log det(m) / 2 = log(11) / 2
        assert compiled(m).item() == pytest.approx(math.log(11.0) / 2)
