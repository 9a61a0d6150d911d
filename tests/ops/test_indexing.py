"""Vindex: broadcasting advanced indexing, checked element by element against plain indexing."""

from __future__ import annotations

import itertools

import pytest
import torch

from pplkit.ops.indexing import Vindex


def test_tensor_indices_broadcast_and_slices_stay_on_the_right():
    x = torch.randn(3, 4, 5)
    i = torch.tensor([[0], [2]])  # batch shape (2, 1)
    j = torch.tensor([4, 1, 0])  # batch shape (3,)
    out = Vindex(x)[i, :, j]
    assert out.shape == (2, 3, 4)
    for a, b in itertools.product(range(2), range(3)):
        assert torch.equal(out[a, b], x[i[a, 0], :, j[b]])


def test_ellipsis_broadcasts_the_tensors_own_batch_dims():
    x = torch.randn(6, 3, 2)  # batch 6, event (3, 2)
    k = torch.tensor([2, 0, 1, 1, 0, 2])
    out = Vindex(x)[..., k, :]
    assert out.shape == (6, 2)
    for n in range(6):
        assert torch.equal(out[n], x[n, k[n]])


def test_an_enumerated_index_adds_its_dim_on_the_left():
    probs = torch.rand(2, 3, 4)  # p[b, c] is a distribution over 4 values
    b = torch.arange(2).reshape(2, 1, 1)  # an enumeration dim at -3
    c = torch.tensor([0, 2, 1, 1, 0])  # a plate of 5
    out = Vindex(probs)[b, c]
    assert out.shape == (2, 1, 5, 4)
    assert torch.equal(out[1, 0, 2], probs[1, 1])


def test_without_tensor_indices_it_is_plain_indexing():
    x = torch.randn(3, 4)
    assert torch.equal(Vindex(x)[1, :], x[1, :])


def test_unsupported_indices_are_named():
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match="only ':' slices"):
        Vindex(x)[torch.tensor([0, 1]), 1:3]
    with pytest.raises(ValueError, match="may appear only first"):
        Vindex(x)[torch.tensor([0, 1]), ...]
