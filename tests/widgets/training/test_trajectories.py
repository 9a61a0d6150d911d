"""ParamTrajectories: one line per parameter element, bounded points, synced as bytes."""

from __future__ import annotations

from array import array

import torch

from widgets.training.trajectories import ParamTrajectories


def test_labels_values_and_the_series_limit():
    view = ParamTrajectories(max_series=4)
    for step in range(1, 4):
        view.record(step, {"a": torch.tensor(float(step)), "w": torch.arange(5.0) * step})
    assert view.names == ["a", "w[0]", "w[1]", "w[2]"]
    assert view.hidden == 2
    assert array("d", view.values["w[2]"]).tolist() == [2.0, 4.0, 6.0]
    assert array("d", view.steps).tolist() == [1.0, 2.0, 3.0]


def test_points_stay_bounded_and_a_new_param_set_starts_over():
    view = ParamTrajectories(max_points=10)
    for step in range(100):
        view.record(step, [("a", torch.tensor(1.0))])
    assert len(array("d", view.steps)) <= 10
    view.record(0, [("b", torch.tensor(2.0))])
    assert view.names == ["b"] and array("d", view.values["b"]).tolist() == [2.0]


def test_static_picture_and_clear():
    view = ParamTrajectories()
    view.record(1, {"sigma": torch.tensor(0.5)})
    assert "sigma = 0.5" in view.static_svg()
    view.clear()
    assert view.names == [] and "no parameter samples yet" in view.static_svg()


def test_the_shared_prefix_of_the_names_is_shown_once():
    view = ParamTrajectories()
    view.record(1, {"AutoNormal.locs.a": torch.tensor(1.0), "AutoNormal.scales.a": torch.tensor(0.1)})
    assert view.prefix == "AutoNormal."
    assert "locs.a = 1" in view.static_svg() and "AutoNormal.locs.a" not in view.static_svg()
    view.record(2, {"a_loc": torch.tensor(1.0), "b_loc": torch.tensor(0.1)})
    assert view.prefix == ""



def test_a_view_that_has_not_drawn_the_last_lines_is_sent_no_more_until_it_acks_or_a_flush(comms, monkeypatch):
    monkeypatch.setattr("widgets.training.trajectories.MIN_INTERVAL", 0.0)
    view = ParamTrajectories()
    sent = comms.of(view)
    view._on_front_end_msg(view, {"kind": "hello"}, [])
    view.record(1, {"loc": torch.tensor(1.0)})
    before = len(sent.updates("steps"))
    for step in range(2, 20):
        view.record(step, {"loc": torch.tensor(float(step))})
    assert len(sent.updates("steps")) == before  # the view is still drawing step 1
    view._on_front_end_msg(view, {"kind": "ack"}, [])
    view.record(20, {"loc": torch.tensor(20.0)})
    assert len(sent.updates("steps")) == before + 1 and view.series()["loc"][-1] == 20.0
    view.record(21, {"loc": torch.tensor(21.0)})
    view.flush()
    assert len(sent.updates("steps")) == before + 2


def test_the_view_and_the_static_picture_print_the_same_scales():
    view = ParamTrajectories()
    for step in range(1, 41):
        view.record(step, {"AutoNormal.loc": torch.tensor([0.1 * step, 5.0]), "AutoNormal.scale": torch.tensor(2.0)})
    assert view.prefix == "AutoNormal." and set(view.scales) == set(view.names)
    loc0 = view.scales["AutoNormal.loc[0]"]
    assert loc0["title"] == "loc[0] = 4" and (loc0["bottom"], loc0["top"]) == ("-0.095", "4.195")
    flat = view.scales["AutoNormal.loc[1]"]
    assert flat["bottom"] != flat["top"]  # a constant line still has a scale
    svg = view.static_svg()
    for scale in view.scales.values():
        for text in (scale["title"], scale["top"], scale["bottom"]):
            assert f">{text}</text>" in svg


def test_the_view_holds_no_scale_rules():
    from pathlib import Path

    import widgets.training.trajectories as module

    view = (Path(module.__file__).parent / "trajectories.js").read_text()
    assert "toPrecision" not in view and "0.05" not in view and "Infinity" not in view
    assert 'model.get("scales")' in view
