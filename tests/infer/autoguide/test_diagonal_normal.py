"""AutoDiagonalNormal matches the exact posterior of independent Gaussian sites."""

from __future__ import annotations

import torch

import pplkit
from pplkit.infer import AutoDiagonalNormal

from .. import conjugate as cj


def test_group_means_posterior():
    guide = AutoDiagonalNormal(cj.group_means_model)
    cj.fit(cj.group_means_model, guide, cj.GROUP_DATA)
    mean, sd = cj.group_means_posterior()
    store = pplkit.get_param_store()
    assert store.keys() == ["AutoDiagonalNormal.loc", "AutoDiagonalNormal.scale"]
    assert torch.allclose(guide.median()["mu"], mean, atol=0.2 * sd[0, 0].item())
    assert torch.allclose(store["AutoDiagonalNormal.scale"], sd.reshape(-1), rtol=0.08)
    q = guide.quantiles([0.5])
    assert q["mu"].shape == (1, 4, 1)
