"""Validation switches, seeds, and atomic writes."""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import pplkit
import pplkit.distributions as dist
from pplkit import util
from pplkit.util import validation_disabled, write_atomically


def test_enable_validation_switches_argument_checks():
    pplkit.enable_validation(False)
    assert not pplkit.is_validation_enabled()
    dist.Normal(0.0, -1.0)
    pplkit.enable_validation(True)
    with pytest.raises(ValueError, match="scale"):
        dist.Normal(0.0, -1.0)


def test_validation_disabled_is_per_thread_and_restored():
    seen_in_other_thread: list[bool] = []
    with validation_disabled():
        dist.Normal(0.0, -1.0)  # no check in this thread
        worker = threading.Thread(target=lambda: seen_in_other_thread.append(dist.Normal(0.0, 1.0)._validate_args))
        worker.start()
        worker.join()
        with validation_disabled():
            pass
        dist.Normal(0.0, -1.0)  # a nested block leaves the outer one in force
    assert seen_in_other_thread == [True]
    with pytest.raises(ValueError):
        dist.Normal(0.0, -1.0)


def test_an_explicit_validate_args_wins_over_the_default():
    with validation_disabled():
        with pytest.raises(ValueError):
            dist.Normal(0.0, -1.0, validate_args=True)
    assert dist.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0


def test_set_rng_seed_seeds_torch_random_and_numpy():
    pplkit.set_rng_seed(5)
    first = (torch.rand(1).item(), random.random(), np.random.rand())
    pplkit.set_rng_seed(5)
    assert (torch.rand(1).item(), random.random(), np.random.rand()) == first


@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    saved = os.umask(0o022)
    yield os.umask
    os.umask(saved)


def test_write_atomically_writes_a_normal_file_and_leaves_no_temp_file(tmp_path, umask):
    path = tmp_path / "out.bin"
    write_atomically(path, b"first")
    write_atomically(str(path), b"second")  # replaces, and takes a str too
    assert path.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["out.bin"]
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600
    umask(0o077)
    write_atomically(path, b"third")
    assert path.stat().st_mode & 0o777 == 0o600  # the umask decides, as for any new file


def test_a_failed_write_atomically_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    synced = []
    monkeypatch.setattr(util.os, "fsync", lambda fd: synced.append(fd))

    def fail(src, dst):
        assert Path(src).read_bytes() == b"new" and synced  # written and synced before the rename
        raise OSError("disk full")

    monkeypatch.setattr(util.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_validation_enabled_is_a_context_manager_that_restores_the_setting():
    assert pplkit.is_validation_enabled()
    with pplkit.validation_enabled(False):
        assert not pplkit.is_validation_enabled()
        assert not torch.distributions.Distribution._validate_args
        dist.Normal(0.0, -1.0)  # no argument check inside
        with pplkit.validation_enabled():
            assert pplkit.is_validation_enabled()
        assert not pplkit.is_validation_enabled()
    assert pplkit.is_validation_enabled()
    with pytest.raises(ValueError):
        dist.Normal(0.0, -1.0)


def test_one_random_draw_is_one_call_to_a_torch_function_mode_and_the_function_outside_one():
    @util.one_random_draw
    def indices(n: int) -> torch.Tensor:
        return torch.randperm(n)[:2]

    class Calls(torch.overrides.TorchFunctionMode):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            self.seen.append(func.__name__)
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    outside = indices(5)
    calls = Calls()
    torch.manual_seed(0)
    with calls:
        inside = indices(5)
    assert calls.seen == ["indices"]  # randperm and the slice ran inside it, unseen
    assert torch.equal(inside, outside)


def test_optional_enters_the_context_only_when_asked():
    import pplkit.distributions as dist
    from pplkit import poutine
    from pplkit.util import optional

    def model(batched):
        with optional(pplkit.plate("data", 3), batched):
            pplkit.sample("x", dist.Normal(0.0, 1.0))

    assert poutine.trace(model).get_trace(True).nodes["x"].value.shape == (3,)
    assert poutine.trace(model).get_trace(False).nodes["x"].value.shape == ()
    assert poutine.get_mask is poutine.runtime.get_mask


def test_check_model_guide_match_is_at_pyros_path_and_names_the_site():
    def model():
        pplkit.sample("x", dist.Normal(torch.zeros(3), 1.0).to_event(1))

    def guide():
        pplkit.sample("x", dist.Normal(torch.zeros(1, 3), 1.0).to_event(2))

    def good_guide():
        pplkit.sample("x", dist.Normal(torch.ones(3), 2.0).to_event(1))

    model_trace = pplkit.poutine.trace(model).get_trace()
    util.check_model_guide_match(model_trace, pplkit.poutine.trace(good_guide).get_trace())
    with pytest.raises(ValueError, match="event_dims disagree at site 'x'"):
        util.check_model_guide_match(model_trace, pplkit.poutine.trace(guide).get_trace())
