"""Issue 17, item 22: the decomposition never runs unbounded (its default limit applies without
--time-limit); `prices` and `diagnose` keep one limit for the whole command."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from allocator.decompose import DEFAULT_TIME_LIMIT, DecomposeOptions, solve_decomposed
from allocator.diagnose import diagnose
from allocator.instance import load
from allocator.scenario import prices
from allocator.station import build
from solvers import SolveOptions, Status
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A 30-station national instance in 2-3 counties (benchmarks/national.py), built once."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("allocator_national_bench", ROOT / "benchmarks" / "national.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    d = tmp_path_factory.mktemp("nat30")
    mod.write(d, stations=30, seed=4, check=False)
    inst = load(d)
    return build(inst), np.asarray(inst.stations["county"], dtype=str)


def test_decompose_without_a_limit_ends_and_applies_the_default(national) -> None:  # type: ignore[no-untyped-def]
    model, county = national
    start = time.perf_counter()
    res = solve_decomposed(model, county, SolveOptions(mip_gap=0.01), "highs", DecomposeOptions(batch_size=15))
    assert time.perf_counter() - start < DEFAULT_TIME_LIMIT
    assert res.extra["time_limit"] == DEFAULT_TIME_LIMIT == 300.0 and res.extra["default_limit"] is True
    assert res.status in (Status.OPTIMAL, Status.FEASIBLE), res.message
    assert res.outcome.solver == "decompose/highs" and res.x is not None


def test_the_default_limit_stops_a_run_that_cannot_reach_its_gap(national) -> None:  # type: ignore[no-untyped-def]
    model, county = national
    start = time.perf_counter()
    # a gap no decomposition proves (1e-12) and a default limit of 3 s: the limit, not the gap, stops it
    res = solve_decomposed(model, county, SolveOptions(mip_gap=1e-12), "highs",
                           DecomposeOptions(batch_size=15, default_time_limit=3.0, stall=1000, max_iterations=1000))
    took = time.perf_counter() - start
    assert res.extra["time_limit"] == 3.0 and res.extra["default_limit"] is True
    assert took < 3.0 + 5.0, took
    assert res.status is not Status.OPTIMAL
    given = solve_decomposed(model, county, SolveOptions(mip_gap=1e-12, time_limit=2.0), "highs",
                             DecomposeOptions(batch_size=15, stall=1000, max_iterations=1000))
    assert given.extra["time_limit"] == 2.0 and given.extra["default_limit"] is False


def test_prices_keeps_one_limit_for_the_whole_command() -> None:
    inst = load(ROOT / "instances" / "a-district-2026")
    start = time.perf_counter()
    base, rows = prices(inst, time_limit=4.0)
    took = time.perf_counter() - start
    assert base.status.has_solution and rows
    assert took < 4.0 + 5.0, took
    cut = [r for r in rows if any("time limit ran out" in n for n in r.notes)]
    assert cut, "a 4 s limit cannot re-solve every family of District A"
    assert all(r.drop_gain is None for r in cut if r.notes[0].startswith("not re-solved"))


def test_diagnose_keeps_its_limit_for_the_whole_command(tmp_path: Path) -> None:
    inst = load(ROOT / "instances" / "fuzhou-2026")
    start = time.perf_counter()
    d = diagnose(inst, strict=True, time_limit=3.0)
    assert time.perf_counter() - start < 3.0 + 8.0
    assert d is not None


def test_prices_cli_takes_a_time_limit() -> None:
    from click.testing import CliRunner

    from cli import main

    r = CliRunner().invoke(main, ["prices", str(ROOT / "instances" / "a-district-2026"), "--time-limit", "-1"])
    assert r.exit_code == 2
