"""The horizon's search (relax-and-fix by year, neighbourhoods by year and county) and HiGHS' MIP start."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from allocator.instance import load
from allocator.station.horizon import build_horizon
from allocator.station.horizon_search import neighbourhoods, solve_by_search
from solvers import SolveOptions, Status, get_backend
from solvers.base import Feature, MilpProblem
from solvers.check import plan_is_valid
from tests.station import test_horizon as th


def _knapsack() -> MilpProblem:
    """max 5a + 4b + 3c, 2a + 3b + c <= 4, binaries: optimum 8 (a, c), a plan 4 (b)."""
    A = sp.csr_array(np.array([[2.0, 3.0, 1.0]]))
    return MilpProblem(np.array([5.0, 4.0, 3.0]), A, np.array([-np.inf]), np.array([4.0]), np.zeros(3), np.ones(3),
                       np.ones(3, dtype=bool))


def test_highs_takes_a_start_and_refuses_a_wrong_one() -> None:
    highs = get_backend("highs")
    assert highs.supports(Feature.MIP_START)
    p = _knapsack()
    res = highs.solve(p, SolveOptions(mip_gap=0.0, start=np.array([0.0, 1.0, 0.0])))
    assert res.status is Status.OPTIMAL and res.objective == pytest.approx(8.0)
    bad = highs.solve(p, SolveOptions(start=np.zeros(2)))
    assert bad.status is Status.ERROR and "start has shape" in bad.message


@pytest.fixture(scope="module")
def two_model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    inst = load(th.write_two(tmp_path_factory.mktemp("two")))
    return inst, build_horizon(inst, names=False)


def test_every_integer_column_has_a_year_and_station_columns_a_county(two_model) -> None:  # type: ignore[no-untyped-def]
    inst, model = two_model
    hoods = neighbourhoods(model, np.asarray(inst.stations["county"], dtype=str))
    p = model.problem
    assert set(np.unique(hoods.year[p.integrality])) <= set(model.years)
    hire = model.columns["hire@2024"].index()
    assert list(hoods.county[hire.reshape(len(inst.stations), -1)[:, 0]]) == list(inst.stations["county"])
    names = [n for n, _ in hoods.all()]
    assert names[:2] == ["2024", "2025"] and set(names[2:]) == set(inst.stations["county"])


def test_search_reaches_the_brute_force_optimum(two_model) -> None:  # type: ignore[no-untyped-def]
    inst, model = two_model
    hoods = neighbourhoods(model, np.asarray(inst.stations["county"], dtype=str))
    res = solve_by_search(model.problem, hoods, get_backend("highs"), SolveOptions(mip_gap=0.0, time_limit=60))
    assert res is not None and res.x is not None
    assert plan_is_valid(model.problem, res.x)[0]
    assert res.status is Status.OPTIMAL
    assert res.objective == pytest.approx(th.brute_force(), abs=1e-6)
    assert "relax-and-fix" in res.message and res.extra["search"]


def test_search_reports_an_infeasible_lp(two_model) -> None:  # type: ignore[no-untyped-def]
    inst, model = two_model
    p = model.problem
    lo = p.col_lower.copy()
    hoods = neighbourhoods(model, np.asarray(inst.stations["county"], dtype=str))
    # every hire column at least 10**6 workers: F-HIRING's recruited cap cannot hold
    lo[model.columns["hire@2024"].index().ravel()] = 1e6
    q = MilpProblem(p.c, p.A, p.row_lower, p.row_upper, lo, np.maximum(lo, p.col_upper), p.integrality, p.sense,
                    p.offset)
    res = solve_by_search(q, hoods, get_backend("highs"), SolveOptions(time_limit=30))
    assert res is not None and res.status is Status.INFEASIBLE
