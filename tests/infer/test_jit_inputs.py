"""A compiled step's inputs: arguments flattened and back, the structure key, param names to the handlers."""

from __future__ import annotations

import torch

import pplkit
from pplkit.handlers import trace
from pplkit.infer.jit_inputs import announce_params, flatten_arguments, structure_key, unflatten_arguments
from pplkit.infer.svi import _ParamNames


def model(*args: object, **kwargs: object) -> None:
    pass


def test_plain_arguments_skip_pytree_and_nested_ones_round_trip():
    x = torch.ones(2)
    leaves, layout = flatten_arguments((x, 3, None), {})
    assert leaves == [x, 3, None] and layout == 3
    args, kwargs = (x, [x, {"k": 2.0}]), {"y": x}
    leaves, layout = flatten_arguments(args, kwargs)
    assert len(leaves) == 4
    assert unflatten_arguments(leaves, layout) == (args, kwargs)


def test_the_key_changes_with_a_shape_or_a_number_and_names_an_unhashable_argument():
    def key(*args: object) -> object:
        return structure_key(model, model, *flatten_arguments(args, {}))

    assert key(torch.ones(2), 1) == key(torch.zeros(2), 1)  # values are inputs, not part of the key
    assert key(torch.ones(2), 1) != key(torch.ones(3), 1)
    assert key(torch.ones(2), 1) != key(torch.ones(2), 2)
    reason = key(torch.ones(2), {1, 2})
    assert isinstance(reason, str) and "argument 1" in reason and "set" in reason


def test_param_names_reach_svis_collector_directly_and_other_handlers_as_messages():
    store = pplkit.ParamStore()
    with pplkit.params.use_param_store(store):
        pplkit.param("w", torch.ones(2))
        collector = _ParamNames()
        with collector:
            announce_params(("w",))
        assert list(collector.names) == ["w"]
        with trace() as tracer:
            announce_params(("w",))
        assert tracer.trace.nodes["w"].value is store.unconstrained("w")
