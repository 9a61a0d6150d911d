"""pplkit.infer.util: the helpers Pyro code imports from pyro.infer.util."""

from __future__ import annotations

import torch

from pplkit.infer.util import torch_item


def test_torch_item_takes_tensors_and_plain_numbers():
    assert torch_item(torch.tensor(1.5)) == 1.5 and isinstance(torch_item(torch.tensor(1.5)), float)
    assert torch_item(2.0) == 2.0 and torch_item(3) == 3
