"""Each circle model against brute-force enumeration over the candidate subsets (tests/circle/helpers.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.circle import CircleData, load_circle, solve_circle, travel_reach
from solvers import SolveOptions, Status
from tests.circle.helpers import WEIGHTS, Brute, T, open_mask, tiny, write_folder

SEEDS = [1, 2, 3]


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed{s}")
def case(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = tiny(request.param)
    d = load_circle(write_folder(tmp_path / "c", t))
    return t, d, Brute(t)


# ---------------------------------------------------------------------------
# models against enumeration
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("points", [0, 1, 2, 3])
def test_mclp_matches_enumeration(case, points: int) -> None:  # type: ignore[no-untyped-def]
    t, d, b = case
    best = max(b.mclp(o) for _, o in b.subsets(points))
    plan = solve_circle(d, "mclp", points=points)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    o = open_mask(plan, d)
    assert (o & ~d.existing).sum() <= points
    assert b.mclp(o) == pytest.approx(best, rel=1e-6, abs=1e-6)  # the plan itself achieves it


def test_mclp_with_a_budget_matches_enumeration(case) -> None:  # type: ignore[no-untyped-def]
    t, d, b = case
    budget = float(np.sort(b.cost[b.cand])[:2].sum()) + 5000.0
    best = max(b.mclp(o) for _, o in b.subsets(budget=budget))
    plan = solve_circle(d, "mclp", points=None, budget=budget)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    o = open_mask(plan, d)
    assert b.cost[o & ~d.existing].sum() <= budget + 1e-6


@pytest.mark.parametrize("points", [1, 2])
def test_capacitated_mclp_matches_enumeration_with_an_lp_per_subset(case, points: int) -> None:  # type: ignore
    t, d, b = case
    best = max(b.cmclp(o) for _, o in b.subsets(points))
    plan = solve_circle(d, "cmclp", points=points)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-4, abs=1e-4)
    # the assignment written respects capacities and reach
    a = plan.tables["assignment"]
    load = a.groupby("site_id")["residents"].sum()
    cap = dict(zip(d.sites["site_id"], d.sites["capacity"], strict=True))
    assert all(load[s] <= cap[s] + 1e-6 for s in load.index)
    assert (a["minutes"] <= T + 1e-6).all()
    assert set(a["site_id"]) <= set(plan.summary["open_sites"]) | set(d.sites["site_id"][d.existing])


@pytest.mark.parametrize("shares", [{"urban": 0.7, "rural": 0.6}, {"urban": 1.0, "rural": 1.0},
                                    {"urban": 1.0, "rural": 0.5}], ids=["shares", "classic", "mixed"])
def test_lscp_matches_enumeration_and_says_infeasible(case, shares: dict[str, float]) -> None:  # type: ignore
    t, d, b = case
    feasible = [len(S) for S, o in b.subsets() if b.shares_met(o, shares)]
    d2 = replace(d, shares=shares)
    plan = solve_circle(d2, "lscp")
    if feasible:
        assert plan.status is Status.OPTIMAL
        assert plan.objective == pytest.approx(min(feasible))
        assert b.shares_met(open_mask(plan, d2), shares)
    else:
        assert plan.status is Status.INFEASIBLE
    # a share no set of sites reaches: proven infeasible, with the best share in a note
    all_open = b.ex | True
    cov = b.covered(all_open)
    urban = (b.places["area_type"] == "urban").to_numpy()
    if b.pop[urban].sum() > 0 and b.pop[urban & cov].sum() < b.pop[urban].sum():
        d3 = replace(d, shares={"urban": 1.0, "rural": 0.0001})
        p3 = solve_circle(d3, "lscp")
        assert p3.status is Status.INFEASIBLE
        assert any("even with every site open" in n for n in p3.summary["notes"])


@pytest.mark.parametrize("points", [1, 2])
def test_pmedian_matches_enumeration(case, points: int) -> None:  # type: ignore[no-untyped-def]
    t, d, b = case
    big = float(np.nanmax(np.where(np.isfinite(b.t), b.t, np.nan))) + 1.0
    best = min(b.pmedian(o) for _, o in b.subsets(points))
    d2 = replace(d, radius=big)
    plan = solve_circle(d2, "pmedian", points=points)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert plan.summary["radius_exact"] is True
    # a radius below the farthest trip: the restricted model is a relaxation of the full one
    small = replace(d, radius=T)
    ps = solve_circle(small, "pmedian", points=points)
    assert ps.status is Status.OPTIMAL
    assert ps.objective == pytest.approx(min(b.pmedian(o, T) for _, o in b.subsets(points)), rel=1e-6, abs=1e-6)
    if ps.summary["radius_exact"]:
        assert b.pmedian(open_mask(ps, small)) == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_a_travel_table_gives_the_same_plan_as_the_network(tmp_path: Path) -> None:
    t = tiny(5)
    b = Brute(t)
    rows = [(p, s, b.t[i, j]) for i, p in enumerate(t["places"]["place_id"])
            for j, s in enumerate(t["sites"]["site_id"]) if np.isfinite(b.t[i, j])]
    t2 = {"places": t["places"], "sites": t["sites"],
          "travel": pd.DataFrame(rows, columns=["place_id", "site_id", "minutes"])}
    p1 = solve_circle(load_circle(write_folder(tmp_path / "net", t)), "mclp")
    p2 = solve_circle(load_circle(write_folder(tmp_path / "tab", t2)), "mclp")
    assert p1.objective == pytest.approx(p2.objective)


def test_one_way_edges_count_from_place_to_site() -> None:
    places = pd.DataFrame({"place_id": ["A", "B"], "elderly": [10, 10]})
    sites = pd.DataFrame({"site_id": ["SA", "SB"], "place_id": ["A", "B"]})
    edges = pd.DataFrame({"from_id": ["A"], "to_id": ["B"], "minutes": [5.0]})
    d = CircleData.from_frames(places, sites, {"elderly": 1.0}, edges=edges, directed=True)
    r = travel_reach(d, 15.0)
    pairs = set(zip(r.place.tolist(), r.site.tolist(), strict=True))
    assert (0, 1) in pairs and (1, 0) not in pairs  # A reaches SB; B cannot reach SA
    d2 = CircleData.from_frames(places, sites, {"elderly": 1.0}, edges=edges)
    r2 = travel_reach(d2, 15.0)
    assert (1, 0) in set(zip(r2.place.tolist(), r2.site.tolist(), strict=True))


def test_from_frames_and_options() -> None:
    t = tiny(3)
    d = CircleData.from_frames(t["places"], t["sites"], WEIGHTS, edges=t["edges"], points=2)
    plan = solve_circle(d, "mclp", options=SolveOptions(mip_gap=0.0), tables=False)
    assert plan.status is Status.OPTIMAL and not plan.tables
    assert plan.objective == pytest.approx(max(Brute(t).mclp(o) for _, o in Brute(t).subsets(2)))
