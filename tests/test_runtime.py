"""The handler stack: order of processing, stop, wrappers, threads."""

from __future__ import annotations

import threading

import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit.runtime import Handler, Message, SiteKind, apply_stack, get_handler_stack


class Recorder(Handler):
    def __init__(self, label: str, log: list[str], stop: bool = False) -> None:
        super().__init__()
        self.label, self.log, self.stop = label, log, stop

    def process(self, msg: Message) -> None:
        self.log.append(f"process {self.label}")
        msg.stop = self.stop

    def postprocess(self, msg: Message) -> None:
        self.log.append(f"postprocess {self.label}")


def test_innermost_processes_first_and_outermost_postprocesses_first():
    log: list[str] = []
    with Recorder("outer", log), Recorder("inner", log):
        apply_stack(Message(kind=SiteKind.SAMPLE, name="x", fn=dist.Normal(0.0, 1.0)))
    assert log == ["process inner", "process outer", "postprocess outer", "postprocess inner"]


def test_stop_hides_the_message_from_outer_handlers():
    log: list[str] = []
    with Recorder("outer", log), Recorder("inner", log, stop=True):
        msg = apply_stack(Message(kind=SiteKind.SAMPLE, name="x", fn=dist.Normal(0.0, 1.0)))
    assert log == ["process inner", "postprocess inner"]
    assert msg.value is not None  # the default behaviour still ran


def test_default_behaviour_samples_only_when_not_done():
    class Fix(Handler):
        def process(self, msg: Message) -> None:
            msg.value = torch.tensor(3.0)
            msg.done = True

    with Fix():
        assert pplkit.sample("x", dist.Normal(0.0, 1.0)).item() == 3.0


def test_handler_is_both_context_manager_and_wrapper():
    def model():
        return pplkit.sample("x", dist.Normal(0.0, 1.0))

    tr = pplkit.poutine.trace(model).get_trace()
    assert list(tr.nodes) == ["x"]
    with pplkit.poutine.trace() as t:
        model()
    assert list(t.trace.nodes) == ["x"]
    assert get_handler_stack() == []


def test_calling_a_handler_without_a_function_explains_how_to_use_it():
    with pytest.raises(TypeError, match="with trace"):
        pplkit.poutine.trace()()


def test_stack_is_per_thread():
    seen_in_thread: list[int] = []
    with pplkit.poutine.trace():
        worker = threading.Thread(target=lambda: seen_in_thread.append(len(get_handler_stack())))
        worker.start()
        worker.join()
        assert len(get_handler_stack()) == 1
    assert seen_in_thread == [0]


def test_stack_is_left_clean_after_an_exception():
    def model():
        pplkit.sample("x", dist.Normal(0.0, 1.0))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        pplkit.poutine.trace(pplkit.condition(model, data={"x": 0.0})).get_trace()
    assert get_handler_stack() == []


def test_message_reads_like_a_pyro_site():
    msg = Message(kind=SiteKind.DETERMINISTIC, name="d", value=torch.tensor(1.0), is_observed=True)
    assert msg["type"] == "sample" and msg.type == "sample"
    assert msg["value"] is msg.value and msg["is_observed"] is True
    assert msg.get("missing", 7) == 7
    assert Message(kind=SiteKind.PARAM, name="p").type == "param"
    with pytest.raises(KeyError):
        msg["missing"]


def test_message_accepts_pyro_style_item_assignment():
    msg = Message(kind=SiteKind.SAMPLE, name="z", fn=dist.Normal(0.0, 1.0))
    msg["value"] = torch.tensor(1.5)
    msg["done"] = True
    msg["infer"]["enumerate"] = "parallel"
    msg.update(is_observed=True, scale=2.0)
    assert msg.value.item() == 1.5 and msg.done and msg.is_observed and msg.scale == 2.0
    assert msg["infer"] == {"enumerate": "parallel"}
    msg["type"] = "param"
    assert msg.kind is SiteKind.PARAM and msg["type"] == "param"
    with pytest.raises(KeyError, match="site 'z' has no field 'colour'.*msg\\['infer'\\]\\['colour'\\]"):
        msg["colour"] = "red"
    assert "colour" not in msg and "value" in msg
    copy = msg.copy()
    copy["value"] = torch.tensor(0.0)
    copy["infer"]["enumerate"] = "sequential"
    assert msg.value.item() == 1.5 and msg.infer["enumerate"] == "parallel"


def test_continuation_runs_after_every_postprocess():
    order = []

    class Record(Handler):
        def postprocess(self, msg):
            order.append("post")

    msg = Message(kind=SiteKind.SAMPLE, name="z", fn=dist.Normal(0.0, 1.0))
    msg.continuation = lambda m: order.append("continuation")
    with Record(), Record():
        apply_stack(msg)
    assert order == ["post", "post", "continuation"]


def test_log_prob_sum_key_reads_the_summed_scaled_log_density():
    from pplkit.handlers import scale, trace

    def model():
        with pplkit.plate("data", 3):
            pplkit.sample("x", dist.Normal(0.0, 1.0), obs=torch.tensor([0.0, 1.0, 2.0]))

    tr = trace(scale(model, scale=2.0)).get_trace()
    site = tr.nodes["x"]
    assert "log_prob_sum" not in site  # not computed yet, as in Pyro
    tr.compute_log_prob()
    expected = 2.0 * dist.Normal(0.0, 1.0).log_prob(torch.tensor([0.0, 1.0, 2.0])).sum()
    assert "log_prob_sum" in site and torch.allclose(site["log_prob_sum"], expected)
