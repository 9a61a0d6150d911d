"""dist.util.broadcast_shape and logsumexp, against torch itself."""

from __future__ import annotations

import pytest
import torch

import pplkit.distributions as dist


@pytest.mark.parametrize("shapes", [[(2, 1), (3,)], [(2, 2, 1, 1), (8, 10)], [(), (4,)], [(5, 1, 3), (1, 4, 1)]])
def test_broadcast_shape_is_torchs(shapes):
    assert dist.util.broadcast_shape(*shapes) == tuple(torch.broadcast_shapes(*shapes))


def test_broadcast_shape_strict_and_mismatch():
    assert dist.util.broadcast_shape((3, 4), (3, 4), strict=True) == (3, 4)
    with pytest.raises(ValueError, match="shape mismatch"):
        dist.util.broadcast_shape((3, 1), (3, 4), strict=True)
    with pytest.raises(ValueError, match=r"\(2,\) vs \(3,\)"):
        dist.util.broadcast_shape((2,), (3,))


def test_logsumexp_matches_torch_and_handles_all_minus_infinity():
    x = torch.randn(3, 4, 5)
    assert torch.allclose(dist.util.logsumexp(x, -1), x.logsumexp(-1))
    assert torch.allclose(dist.util.logsumexp(x, (0, 2), keepdim=True), x.logsumexp((0, 2), keepdim=True))
    minus_inf = torch.full((2, 3), -float("inf"))
    assert torch.equal(dist.util.logsumexp(minus_inf, -1), torch.full((2,), -float("inf")))
