"""Provenance tensors: torch's own results, plus the set of sites each came from."""

from __future__ import annotations

import torch

import pplkit.distributions as dist
from pplkit.inspect.provenance import ProvenanceTensor, provenance_of, tag, untag


def tagged():
    a = tag(torch.tensor(2.0), "a")
    b = tag(torch.tensor([1.0, -1.0, 0.5]), "b")
    return a, b


def test_ops_return_torchs_values_and_the_union_of_their_inputs_sources():
    a, b = tagged()
    x = torch.tensor([3.0, 4.0, 5.0])
    out = a * b + x.exp()
    assert provenance_of(out) == {"a", "b"}
    assert torch.equal(untag(out), torch.tensor(2.0) * torch.tensor([1.0, -1.0, 0.5]) + x.exp())
    assert provenance_of(b.sum()) == {"b"}
    assert provenance_of(torch.stack([a.expand(3), x])) == {"a"}
    assert provenance_of(torch.cat([b, x])) == {"b"}


def test_plain_tensors_stay_plain():
    a, _ = tagged()
    x = torch.ones(3)
    assert type(x * 2) is torch.Tensor
    assert provenance_of(x * 2) == frozenset()
    assert isinstance(a.shape, torch.Size) and a.dim() == 0 and len(tagged()[1]) == 3


def test_indexing_with_a_tagged_index_carries_the_index_site():
    k = tag(torch.tensor(1), "k")
    table = torch.tensor([-1.0, 0.0, 1.0])
    assert provenance_of(table[k]) == {"k"}
    assert table[k].item() == 0.0


def test_in_place_writes_into_a_tagged_tensor_add_the_written_sources():
    a, b = tagged()
    c = b.clone()
    c[0] = a
    assert provenance_of(c) == {"a", "b"}
    assert c.tolist() == [2.0, -1.0, 0.5]


def test_multiple_outputs_are_each_tagged():
    _, b = tagged()
    values, indices = b.max(0)
    assert provenance_of(values) == {"b"} and provenance_of(indices) == {"b"}
    assert provenance_of(torch.broadcast_tensors(b, torch.zeros(2, 1))[1]) == {"b"}


def test_tag_records_only_the_direct_source():
    a, _ = tagged()
    c = tag(a * 3, "c")
    assert provenance_of(c) == {"c"}
    assert type(untag(c)) is torch.Tensor and untag(c).item() == 6.0


def test_a_distribution_s_provenance_is_that_of_its_parameters():
    a, b = tagged()
    assert provenance_of(dist.Normal(a, 1.0)) == {"a"}
    assert provenance_of(dist.Normal(0.0, b.exp()).expand([4, 3]).to_event(1)) == {"b"}
    assert provenance_of(dist.Normal(0.0, 1.0).mask(b > 0)) == {"b"}
    affine = dist.transforms.AffineTransform(a, 2.0)
    assert provenance_of(dist.TransformedDistribution(dist.Normal(0.0, 1.0), [affine])) == {"a"}
    mvn = dist.MultivariateNormal(torch.zeros(3), scale_tril=torch.diag(b.exp()))
    assert provenance_of(mvn) == {"b"}
    assert provenance_of(dist.Uniform(0.0, a)) == {"a"}
    assert provenance_of(dist.Normal(0.0, 1.0)) == frozenset()


def test_samples_drawn_from_a_tagged_distribution_carry_its_sources():
    a, _ = tagged()
    assert isinstance(dist.Normal(a, 1.0).rsample(), ProvenanceTensor)
    assert provenance_of(dist.Categorical(logits=a.expand(3)).sample()) == {"a"}


def test_repr_names_the_sources():
    a, b = tagged()
    assert "from ['a', 'b']" in repr(a + b)
