"""Shared fixtures: a clean param store and fixed seed for every test; the data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import pplkit

REPO_ROOT = Path(__file__).resolve().parent.parent
# Tests read the shared copy of the tutorial data, never the network (see pplkit.datasets).
DATA_DIR = Path(os.environ.get("PPLKIT_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")


def pytest_configure(config: pytest.Config) -> None:
    # Set for the whole session, so notebook kernels and servers started by tests inherit it.
    if DATA_DIR.is_dir():
        os.environ.setdefault("PPLKIT_DATA_DIR", str(DATA_DIR))
    # One torch thread, here and in the kernels and servers the tests start. The tensors
    # are tiny, and on a busy 2-core machine (CI) some torch kernels open a two-thread
    # parallel region even for 25 elements and stall for milliseconds on the busy core.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture
def rugged_data_dir() -> Path:
    """The folder holding rugged_data.csv ($PPLKIT_DATA_DIR, default ../shared/data)."""
    if not (DATA_DIR / "rugged_data.csv").is_file():
        pytest.skip(f"no rugged_data.csv in {DATA_DIR}: set PPLKIT_DATA_DIR to a folder holding it")
    return DATA_DIR


@pytest.fixture(autouse=True)
def fresh_state():
    """Each test starts with an empty param store, seed 0 and validation on."""
    pplkit.clear_param_store()
    pplkit.set_rng_seed(0)
    pplkit.enable_validation(True)
    yield
    pplkit.clear_param_store()
