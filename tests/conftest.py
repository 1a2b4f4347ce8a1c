"""Shared fixtures: the shipped profile, a full-scale demo June and a small multi-month demo store."""

from __future__ import annotations

import pandas as pd
import pytest

from gridgeo.profile import default_profile


@pytest.fixture(scope="session")
def profile():
    return default_profile()


@pytest.fixture(scope="session")
def june_store(tmp_path_factory):
    """The calibrated demo month at full scale, written by the same code path as `gridgeo demo`."""
    from gridgeo.demo import run_demo

    out = tmp_path_factory.mktemp("june")
    run_demo(out, months=["2024-06"])
    return out


@pytest.fixture(scope="session")
def june(june_store) -> pd.DataFrame:
    return pd.read_parquet(june_store / "cases" / "2024-06.parquet")


@pytest.fixture(scope="session")
def small_store(tmp_path_factory):
    """All six demo months at 2 % scale through the command line."""
    from gridgeo.cli import main

    out = tmp_path_factory.mktemp("small")
    assert main(["demo", "--out", str(out), "--scale", "0.02"]) == 0
    return out
