"""Fixtures for the widget tests: a comm that records what would reach the browser, and a fake clock.

Outside a kernel ``comm.create_comm`` makes a comm that sends nothing; the recording
comm keeps each message, so a test can count the state updates a widget sends.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm
from ipywidgets.widgets.widget import _put_buffers

from widgets.plots.runner import THREAD_PREFIX


class RecordingComm(BaseComm):
    """Stands in for the kernel's comm; records every message instead of sending it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.custom: list[tuple[dict[str, Any], list[bytes]]] = []  # (content, buffers) of widget.send
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        if data and data.get("buffer_paths"):  # put binary values back where the browser would
            data = copy.deepcopy(data)
            _put_buffers(data["state"], data["buffer_paths"], [bytes(b) for b in buffers])
        self.sent.append((msg_type, data))
        if data and data.get("method") == "custom":
            self.custom.append((data["content"], [bytes(b) for b in buffers or []]))

    def updates(self, key: str | None = None) -> list[dict[str, Any]]:
        """The state updates sent, optionally only those that include ``key``."""
        return [
            data["state"] for kind, data in self.sent
            if kind == "comm_msg" and data.get("method") == "update" and (key is None or key in data["state"])
        ]


class Comms(list):
    def of(self, widget: Any) -> RecordingComm:
        """The comm of ``widget``."""
        return next(c for c in self if c.comm_id == widget.model_id)


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> Comms:
    """Every comm created during the test, recording its messages."""
    made = Comms()

    def create(*args: Any, **kwargs: Any) -> RecordingComm:
        made.append(RecordingComm(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(comm, "create_comm", create)
    return made


class FakeClock:
    """A ``time.monotonic`` replacement that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Replaces the clock the ELBO chart reads."""
    fake = FakeClock()
    monkeypatch.setattr("widgets.training.elbo_chart.time.monotonic", fake)
    return fake


def fit_threads() -> list[threading.Thread]:
    """The training threads alive now."""
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


@pytest.fixture(autouse=True)
def no_leftover_fit_threads():
    """Every widget test must end with its training threads finished."""
    yield
    left = fit_threads()
    for thread in left:
        thread.join(timeout=10)
    assert not left, f"training threads still running after the test: {left}"


# -- small models, fast enough to fit in a unit test ------------------------------------------

import torch  # noqa: E402

import pplkit  # noqa: E402
import pplkit.distributions as dist  # noqa: E402

Y = torch.tensor([2.1, 1.7, 2.6, 2.2, 1.4, 2.9, 2.0, 2.4, 1.8, 2.3, 2.5, 1.9])


def hierarchical(y=None):
    """mu -> theta -> y <- sigma: small, with one edge that ``do(theta)`` must cut."""
    mu = pplkit.sample("mu", dist.Normal(0.0, 5.0))
    theta = pplkit.sample("theta", dist.Normal(mu, 1.0))
    sigma = pplkit.sample("sigma", dist.HalfNormal(1.0))
    with pplkit.plate("data", len(Y)):
        return pplkit.sample("y", dist.Normal(theta, sigma), obs=y)


def mean_field_guide(y=None):
    """A hand-written guide for :func:`hierarchical`."""
    from pplkit.distributions import constraints

    for name in ("mu", "theta"):
        loc = pplkit.param(f"{name}_loc", torch.tensor(0.0))
        scale = pplkit.param(f"{name}_scale", torch.tensor(1.0), constraint=constraints.positive)
        pplkit.sample(name, dist.Normal(loc, scale))
    sigma_loc = pplkit.param("sigma_loc", torch.tensor(0.0))
    pplkit.sample("sigma", dist.LogNormal(sigma_loc, 0.3))


@pytest.fixture
def rugged():
    """The introduction's data: (is_cont_africa, ruggedness, log_gdp)."""
    from pplkit.examples import rugged_data

    try:
        return rugged_data()
    except (FileNotFoundError, OSError) as error:
        pytest.skip(f"no ruggedness data: {error}")
