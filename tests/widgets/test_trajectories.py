"""ParamTrajectories: one line per parameter element, bounded points, synced as bytes."""

from __future__ import annotations

from array import array

import torch

from widgets.trajectories import ParamTrajectories


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

