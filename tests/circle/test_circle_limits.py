"""Time-limited circle solves keep their best plan (issue 17, item 21); limits as options, not sentinels.

The instance is a random road graph in the shape of OR-Library's pmed files (a random spanning tree plus
random edges, lengths 1..100, every node a place and a candidate) with shortest paths from scipy's csgraph
Dijkstra, independent of the engine's networkx travel times.  At 300 nodes and p = 30 its p-median LP
relaxation alone takes over 20 s here, so a few seconds never prove a plan optimal.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from allocator.circle import STATED, CircleData, Reach, load_circle, solve_circle
from allocator.circle.limited import _combine, fix_y
from allocator.circle.solve import build_model
from cli import EXIT_OK
from solvers import SolveOptions, SolverResult, Status, get_backend
from tests.circle.helpers import FUZHOU_CIRCLE, run, tiny, write_folder
from tests.conftest import ROOT

N, P, RADIUS = 300, 30, 10_000.0


@pytest.fixture(scope="module")
def pmed() -> tuple[CircleData, Reach, np.ndarray]:
    rng = np.random.default_rng(40)
    edges: set[tuple[int, int]] = set()
    order = rng.permutation(N)
    for k in range(1, N):
        edges.add((int(order[k]), int(order[rng.integers(0, k)])))
    while len(edges) < 6 * N:
        a, b = (int(v) for v in rng.integers(0, N, 2))
        if a != b and (b, a) not in edges:
            edges.add((a, b))
    ab = np.array(sorted(edges))
    w = rng.integers(1, 101, len(ab)).astype(float)
    G = sp.csr_array((w, (ab[:, 0], ab[:, 1])), shape=(N, N))
    dist = dijkstra(G, directed=False)
    i, j = np.nonzero(np.isfinite(dist))
    reach = Reach.from_pairs(i, j, dist[i, j], N, N, RADIUS)
    places = pd.DataFrame({"place_id": [f"n{k}" for k in range(N)], "w": np.ones(N, dtype=int)})
    sites = pd.DataFrame({"site_id": [f"s{k}" for k in range(N)], "place_id": places["place_id"]})
    data = CircleData.from_frames(places, sites, {"w": 1.0}, points=P, radius=RADIUS)
    return data, reach, dist


@pytest.mark.parametrize("guard", [False, True], ids=["in-process", "guarded"])
def test_a_time_limited_pmedian_returns_a_feasible_plan_with_its_gap(pmed, guard: bool) -> None:  # type: ignore
    data, reach, dist = pmed
    limit = 3.0
    start = time.perf_counter()
    plan = solve_circle(data, "pmedian", reach=reach, guard=guard, tables=False,
                        options=SolveOptions(time_limit=limit, mip_gap=0.0))
    wall = time.perf_counter() - start
    assert plan.status is Status.FEASIBLE, plan.message
    assert plan.objective is not None and plan.bound is not None and plan.gap is not None
    assert plan.bound <= plan.objective + 1e-6  # a lower bound on a minimisation
    assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)
    # greedy + interchange against the Lagrangian bound: 0.1 % on an idle machine, a few % at load 18 on 2 cores
    assert plan.gap < 0.15
    assert plan.outcome.status is plan.status and plan.summary["incumbent"] in ("heuristic", "solver")
    # the plan is what it claims: at most p points, objective re-derived from the csgraph distances
    opened = data.sites["site_id"].isin(plan.summary["open_sites"]).to_numpy()
    assert 0 < opened.sum() <= P
    assert plan.objective == pytest.approx(float(dist[:, opened].min(axis=1).sum()), rel=1e-9)
    if guard:  # heuristic, bound and MILP share the limit, the guard's grace included (HiGHS alone overruns)
        assert wall < limit + 2.0, wall


def test_the_guard_stopping_the_solver_keeps_the_heuristic_plan(pmed) -> None:  # type: ignore[no-untyped-def]
    """The last resort: the guard returns NO_SOLUTION (its child killed); the heuristic plan stands, FEASIBLE."""
    data, reach, _ = pmed
    built = build_model(data, reach, "pmedian", 15.0, P, None, RADIUS)
    chosen = np.zeros(len(built.y_sites), dtype=bool)
    chosen[:P] = True  # any plan within the limits
    inc = get_backend("highs").solve(fix_y(built.problem, len(built.y_sites), chosen), SolveOptions())
    assert inc.status is Status.OPTIMAL and inc.objective is not None
    killed = SolverResult(Status.NO_SOLUTION, solver="highs", raw_status="killed", extra={"guard_killed": True},
                          message="stopped by the hard wall-clock guard")
    out = _combine(inc, killed, inc.objective * 0.9, "min", SolveOptions(time_limit=1.0, mip_gap=1e-4),
                   "highs", time.perf_counter(), "")
    assert out.status is Status.FEASIBLE and out.x is not None
    assert out.objective == inc.objective and out.bound == pytest.approx(inc.objective * 0.9)
    assert out.gap == pytest.approx(0.1, rel=1e-9)
    assert "guard" in out.message and out.extra["incumbent"] == "heuristic"
    # a better plan from the solver wins, with the better of the two bounds
    better = SolverResult(Status.FEASIBLE, x=inc.x, objective=inc.objective * 0.95, bound=inc.objective * 0.92,
                          solver="highs")
    out2 = _combine(inc, better, inc.objective * 0.9, "min", SolveOptions(time_limit=1.0), "highs", 0.0, "")
    assert out2.objective == pytest.approx(inc.objective * 0.95) and out2.bound == pytest.approx(inc.objective * 0.92)
    assert out2.extra["incumbent"] == "solver" and out2.status is Status.FEASIBLE


@pytest.mark.parametrize("model", ["mclp", "cmclp", "lscp"])
def test_time_limited_covering_models_still_reach_the_optimum_on_the_tiny_circle(tmp_path, model: str) -> None:  # type: ignore
    d = load_circle(write_folder(tmp_path / "c", tiny(3), toml_extra="[coverage]\nurban = 0.5\nrural = 0.5\n"))
    exact = solve_circle(d, model)
    limited = solve_circle(d, model, guard=False, options=SolveOptions(time_limit=20.0, mip_gap=1e-4))
    assert exact.status is Status.OPTIMAL and limited.status is Status.OPTIMAL
    assert limited.objective == pytest.approx(exact.objective, rel=1e-6, abs=1e-6)


def test_limits_are_options_not_sentinels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = load_circle(write_folder(tmp_path / "c", tiny(1), points=1))
    stated = solve_circle(d, "mclp", points=STATED)
    assert stated.summary["points_limit"] == 1 and len(stated.summary["open_sites"]) <= 1
    assert solve_circle(d, "mclp", points=None).summary["points_limit"] is None
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="points"):
            solve_circle(d, "mclp", points=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="budget"):
        solve_circle(d, "mclp", points=None, budget=-1.0)


def test_an_instance_folder_names_the_circle_folder_it_uses() -> None:
    r = run("circle", ROOT / "instances" / "fuzhou", "--points", "5", "--json")
    assert r.exit_code == EXIT_OK, r.output
    assert "using the circle folder" in r.stderr and str(FUZHOU_CIRCLE) in r.stderr
    assert json.loads(r.stdout)["circle_folder"] == str(FUZHOU_CIRCLE)
    r2 = run("circle", FUZHOU_CIRCLE, "--points", "5", "--json")
    assert r2.exit_code == EXIT_OK and "using the circle folder" not in r2.stderr
    assert json.loads(r2.stdout)["circle_folder"] == str(FUZHOU_CIRCLE)
