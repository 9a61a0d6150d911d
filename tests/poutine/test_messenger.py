"""Messenger is pplkit's Handler: a Pyro-style subclass from scratch, as the effect_handlers tutorial writes one."""

from __future__ import annotations

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import poutine
from pplkit.poutine.messenger import Messenger
from pplkit.runtime import Handler


def scale(guess):
    weight = pplkit.sample("weight", dist.Normal(guess, 1.0))
    return pplkit.sample("measurement", dist.Normal(weight, 0.75))


DATA = {"measurement": torch.tensor(9.5), "weight": torch.tensor(8.23)}


def exact_log_joint(guess=8.5):
    w, m = DATA["weight"], DATA["measurement"]
    return dist.Normal(guess, 1.0).log_prob(w) + dist.Normal(w, 0.75).log_prob(m)


class LogJointMessenger(Messenger):
    """The tutorial's first messenger: it skips Messenger.__init__ and overrides __call__."""

    def __init__(self, cond_data):
        self.data = cond_data

    def __call__(self, fn):
        def _fn(*args, **kwargs):
            with self:
                fn(*args, **kwargs)
                return self.logp.clone()

        return _fn

    def __enter__(self):
        self.logp = torch.tensor(0.0)
        return super().__enter__()

    def __exit__(self, exc_type, exc_value, traceback):
        self.logp = torch.tensor(0.0)
        return super().__exit__(exc_type, exc_value, traceback)

    def _pyro_sample(self, msg):
        assert msg["name"] in self.data
        msg["value"] = self.data[msg["name"]]
        msg["is_observed"] = True
        self.logp = self.logp + (msg["scale"] * msg["fn"].log_prob(msg["value"])).sum()


class LogJointAfter(Messenger):
    """The tutorial's second one: set the value and ``done`` before, score after (``_pyro_post_sample``)."""

    def __init__(self, cond_data):
        self.data = cond_data
        self.logp = torch.tensor(0.0)

    def _pyro_sample(self, msg):
        if msg["name"] in self.data:
            msg["value"] = self.data[msg["name"]]
            msg["done"] = True

    def _pyro_post_sample(self, msg):
        assert msg["done"]
        self.logp = self.logp + (msg["scale"] * msg["fn"].log_prob(msg["value"])).sum()


def test_messenger_is_the_one_handler_base_class():
    assert Messenger is Handler
    assert isinstance(poutine.trace(), Messenger)


def test_a_pyro_style_messenger_works_as_context_manager_and_decorator():
    with LogJointMessenger(cond_data=DATA) as m:
        scale(8.5)
        inside = m.logp.clone()
    assert torch.allclose(inside, exact_log_joint())
    assert torch.allclose(LogJointMessenger(cond_data=DATA)(scale)(8.5), exact_log_joint())


def test_post_hooks_see_the_finished_message():
    with LogJointAfter(cond_data=DATA) as m:
        scale(8.5)
    assert torch.allclose(m.logp, exact_log_joint())


def test_overriding_process_message_sees_every_site_and_can_finish_it():
    class Constant(Messenger):
        def _process_message(self, msg):
            if msg["type"] == "sample" and not msg["done"]:
                msg["value"] = torch.tensor(3.0)
                msg["done"] = True

    tr = poutine.trace(Constant()(scale)).get_trace(8.5)
    assert tr.nodes["weight"]["value"].item() == 3.0 and tr.nodes["measurement"]["value"].item() == 3.0


def test_handlers_written_pplkit_s_way_skip_the_pyro_door():
    # Routing happens once at class creation; a pplkit-style handler keeps its own process.
    assert poutine.trace.process is Handler.process
    assert LogJointAfter.process is not Handler.process and LogJointAfter.postprocess is not Handler.postprocess


def test_messenger_call_with_a_function_binds_it_as_pyro_does():
    tracer = poutine.trace_messenger.TraceMessenger()
    traced = tracer(scale)
    traced(8.5)
    assert set(tracer.trace.nodes) == {"weight", "measurement"}  # state lands on the messenger itself
    assert set(tracer.get_trace(8.5).nodes) == {"weight", "measurement"}  # a bound one runs its function
    with poutine.trace_messenger.TraceMessenger() as unbound:
        scale(8.5)
    copy = unbound.get_trace()  # an unbound one hands out a copy of what it recorded, as Pyro's
    assert copy is not unbound.trace and set(copy.nodes) == {"weight", "measurement"}
    with pytest.raises(TypeError, match="without a function to wrap"):
        poutine.trace()(1.0, 2.0)


def test_pyro_messenger_classes_take_pyro_arguments():
    from pplkit.poutine.condition_messenger import ConditionMessenger
    from pplkit.poutine.scale_messenger import ScaleMessenger

    with poutine.trace_messenger.TraceMessenger() as tracer, ConditionMessenger(DATA):  # data positional, as in Pyro
        scale(8.5)
    assert tracer.trace.nodes["weight"]["is_observed"]
    with poutine.trace() as t, ScaleMessenger(2.0):
        scale(8.5)
    assert t.trace.nodes["weight"]["scale"] == 2.0
    assert isinstance(ConditionMessenger(DATA), poutine.condition)
    with pytest.raises(TypeError, match="ScaleMessenger takes at most 1 positional"):
        ScaleMessenger(2.0, 3.0)


def test_trace_messenger_param_only_records_params():
    def model():
        pplkit.param("p", torch.tensor(1.0))
        pplkit.sample("z", dist.Normal(0.0, 1.0))

    with poutine.trace_messenger.TraceMessenger(param_only=True) as tracer:
        model()
    assert list(tracer.trace.nodes) == ["p"]
    with pytest.raises(ValueError, match="graph_type='dense' is not supported"):
        poutine.trace_messenger.TraceMessenger(graph_type="dense")
