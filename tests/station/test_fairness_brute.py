"""Per-group floors (X-FLOOR, F-SPECIAL [group]) and the concave benefit (X-BENEFIT) against brute force.

Three stations in three counties (so no move between them), two groups, staff fixed (F-HIRING recruited 0),
nothing costs money: the only scarce thing is social-worker hours. Each worker gives 1,000 hours and every
resident needs 100, so a station covers 10 residents per worker of either group. The LP over residents
covered is a flow problem with integer data, so its optimum is integral and enumerating whole residents
is exact: for every split of group a at each station, group b takes what is left (more coverage never lowers
the benefit, and the floors are lower bounds).

| station | workers | capacity | need a | need b |
|---------|---------|----------|--------|--------|
| S1      | 3       | 30       | 40     | 20     |
| S2      | 2       | 20       | 30     | 30     |
| S3      | 2       | 20       | 30     | 50     |

Group a (weight 1.0) needs 100, group b (weight 0.25, special) needs 100; capacity 70 in all.
X-BENEFIT: the first 20 % of a group's need counts its weight, the next 30 % 0.6 x, the rest 0.3 x.
"""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import load
from allocator.station import solve_instance
from cli import main
from solvers import SolveOptions
from tests.conftest import write_instance

CAP = {"S1": 30, "S2": 20, "S3": 20}
NEED = {"a": {"S1": 40, "S2": 30, "S3": 30}, "b": {"S1": 20, "S2": 30, "S3": 50}}
WEIGHT = {"a": 1.0, "b": 0.25}
BENEFIT = {"first": 0.2, "second": 0.5, "second_weight": 0.6, "rest_weight": 0.3}
TOL = 1e-6

SETTINGS: dict[str, Any] = {
    "instance": {"name": "three stations, two groups", "year": 2026, "currency": "CNY"},
    "objective": {"cost_weight": 0.0, "equity": "none", "equity_weight": 0.0},
    "groups": {g: {"label": g.upper(), "weight": WEIGHT[g], "need_share": 1.0, "special": g == "b",
                   "hours_per_resident": 100.0, "cost_per_resident": 0.0} for g in ("a", "b")},
    "staff_types": {"admin": {"hours_per_year": 0.0, "annual_cost": 0.0},
                    "social_worker": {"hours_per_year": 1000.0, "annual_cost": 0.0},
                    "volunteer": {"hours_per_year": 0.0, "annual_cost": 0.0}},
    "costs": {k: 0.0 for k in ("build_per_m2", "refit_per_m2", "renovation", "one_stop_upgrade", "new_station",
                               "access_retrofit", "training_per_worker")},
    "clauses": {"F-HIRING": {"recruited": 0}},
}
TABLES = {
    "stations": pd.DataFrame([{"station_id": s, "name": s, "county": f"C{s}", "area_type": "urban",
                               "status": "existing", "one_stop": False, "population": 1000, "households": 400,
                               "floor_area_m2": 100.0, "building_age_years": 5, "zone_admin": 0.2,
                               "zone_service": 0.6, "zone_activity": 0.2, "accessible": True} for s in CAP]),
    "groups": pd.DataFrame([{"station_id": s, "group": g, "residents": NEED[g][s]} for s in CAP for g in NEED]),
    "services": pd.DataFrame([{"service_id": "care", "name": "Care", "kind": "basic", "groups": "a;b",
                               "annual_cost": 0.0, "staff_hours": 0.0}]),
    "departments": pd.DataFrame(columns=["department_id", "name", "budget", "max_packages"]),
    "packages": pd.DataFrame(columns=["package_id", "department_id", "name", "groups", "residents_served", "cost",
                                      "staff_hours", "eligible"]),
    "staff": pd.DataFrame([{"worker_id": f"W{s}{k}", "station_id": s, "type": "social_worker", "certified": False,
                            "level": "none", "local_registration": True, "years_of_service": 1, "bachelor": False,
                            "age": 30} for s, cap in CAP.items() for k in range(cap // 10)]),
}


def benefit(g: str, covered: float, concave: bool) -> float:
    """The objective value of ``covered`` residents of group ``g`` (X-BENEFIT's three segments, or linear)."""
    w = WEIGHT[g]
    if not concave:
        return w * covered
    need = sum(NEED[g].values())
    b1, b2 = BENEFIT["first"] * need, BENEFIT["second"] * need
    return w * (min(covered, b1) + BENEFIT["second_weight"] * min(max(covered - b1, 0.0), b2 - b1)
                + BENEFIT["rest_weight"] * max(covered - b2, 0.0))


def brute_force(concave: bool, floor: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The best objective and each group's coverage over every whole-resident split, or (-inf, {}) if none
    meets the floors (group -> share of its need)."""
    best, best_cov = -math.inf, {}
    stations = list(CAP)
    for xa in itertools.product(*(range(min(CAP[s], NEED["a"][s]) + 1) for s in stations)):
        xb = [min(NEED["b"][s], CAP[s] - a) for s, a in zip(stations, xa, strict=True)]
        cov = {"a": float(sum(xa)), "b": float(sum(xb))}
        if any(cov[g] < share * sum(NEED[g].values()) - TOL for g, share in floor.items()):
            continue
        value = benefit("a", cov["a"], concave) + benefit("b", cov["b"], concave)
        if value > best + TOL:
            best, best_cov = value, cov
    return best, best_cov


def instance(folder: Path, clauses: dict[str, Any]) -> Path:
    settings = copy.deepcopy(SETTINGS)
    settings["clauses"].update(copy.deepcopy(clauses))
    return write_instance(folder, settings, TABLES)


# case: clauses added, whether X-BENEFIT is on, the floors brute force applies, the known optimum and coverage
CASES = [
    # no floor: a's last residents (0.3) still beat b's first (0.25), so b gets nothing
    ("benefit, no floor", {"X-BENEFIT": BENEFIT}, True, {}, 44.0, {"a": 70, "b": 0}),
    # linear: a takes all 70 hours' worth
    ("linear, no floor", {}, False, {}, 70.0, {"a": 70, "b": 0}),
    # X-FLOOR 10 % binds for b: 10 residents of b instead of a's last (0.3 -> 0.25)
    ("X-FLOOR 10 % binds", {"X-BENEFIT": BENEFIT, "X-FLOOR": {"mode": "hard", "share": 0.1}}, True,
     {"a": 0.1, "b": 0.1}, 43.5, {"a": 60, "b": 10}),
    # F-SPECIAL 30 % of the special group b, per group: 20 + 12 of a, 20 x 0.25 + 10 x 0.15 of b
    ("F-SPECIAL 30 % binds", {"X-BENEFIT": BENEFIT, "F-SPECIAL": {"mode": "hard", "share": 0.3}}, True,
     {"b": 0.3}, 38.5, {"a": 40, "b": 30}),
    # linear and a floor: the floor alone moves 10 residents from a (1.0) to b (0.25)
    ("linear, X-FLOOR 10 %", {"X-FLOOR": {"mode": "hard", "share": 0.1}}, False, {"a": 0.1, "b": 0.1}, 62.5,
     {"a": 60, "b": 10}),
]


@pytest.mark.parametrize("name, clauses, concave, floor, known, known_cov", CASES, ids=[c[0] for c in CASES])
def test_solver_matches_brute_force(tmp_path: Path, name: str, clauses: dict[str, Any], concave: bool,
                                    floor: dict[str, float], known: float, known_cov: dict[str, float]) -> None:
    best, cov = brute_force(concave, floor)
    assert best == pytest.approx(known, abs=TOL), "the hand-computed optimum in CASES"
    assert cov == pytest.approx(known_cov, abs=TOL)
    plan = solve_instance(load(instance(tmp_path / "i", clauses)), options=SolveOptions(mip_gap=0.0))
    assert plan.status.value == "optimal", plan.status
    got = plan.tables["coverage"].groupby("group")["covered"].sum()
    solver_value = sum(benefit(g, float(got[g]), concave) for g in ("a", "b"))
    assert solver_value == pytest.approx(best, abs=1e-4), got.to_dict()
    assert plan.objective == pytest.approx(best, abs=1e-4)
    for g, share in floor.items():
        assert got[g] >= share * sum(NEED[g].values()) - 1e-6, (g, got.to_dict())


def test_floor_that_cannot_be_met_is_infeasible_and_diagnose_names_it(tmp_path: Path) -> None:
    """X-FLOOR 40 % asks 40 + 40 residents of 70 residents' worth of hours: no plan (exit 3)."""
    assert brute_force(True, {"a": 0.4, "b": 0.4})[0] == -math.inf
    folder = instance(tmp_path / "i", {"X-BENEFIT": BENEFIT, "X-FLOOR": {"mode": "hard", "share": 0.4}})
    r = CliRunner().invoke(main, ["solve", str(folder), "--time-limit", "30"])
    assert r.exit_code == 3, r.output
    assert "INFEASIBLE" in r.output.upper(), r.output
    d = CliRunner().invoke(main, ["diagnose", str(folder), "--as-stated", "--time-limit", "30"])
    relax = [ln for ln in d.output.splitlines() if "X-FLOOR" in ln and "give way" in ln]
    assert relax and "10.0 residents" in relax[0], d.output   # 80 asked, 70 possible


def brute_force_soft(share: float, penalty: float) -> tuple[float, dict[str, float]]:
    """The best benefit less ``penalty`` per resident of the special group b below ``share`` of its need."""
    best, best_cov = -math.inf, {}
    for xa in itertools.product(*(range(min(CAP[s], NEED["a"][s]) + 1) for s in CAP)):
        xb = [min(NEED["b"][s], CAP[s] - a) for s, a in zip(CAP, xa, strict=True)]
        cov = {"a": float(sum(xa)), "b": float(sum(xb))}
        short = max(0.0, share * sum(NEED["b"].values()) - cov["b"])
        value = benefit("a", cov["a"], True) + benefit("b", cov["b"], True) - penalty * short
        if value > best + TOL:
            best, best_cov = value, cov
    return best, best_cov


def test_soft_special_floor_prices_its_shortfall_once(tmp_path: Path) -> None:
    """F-SPECIAL soft, 30 %, penalty 0.4 per resident short: b's first residents are worth 0.25 + 0.4 and its
    next 0.15 + 0.4 = 0.55 < a's 0.6, so the optimum stops at b = 20 (10 short): 38 + 5 - 4 = 39.
    Priced twice (0.8) the engine fills b to 30 (a = 40, b = 30, 38.5)."""
    best, cov = brute_force_soft(0.3, 0.4)
    assert best == pytest.approx(39.0) and cov == {"a": 50.0, "b": 20.0}
    folder = instance(tmp_path / "i", {"X-BENEFIT": BENEFIT, "F-SPECIAL": {"mode": "soft", "penalty": 0.4,
                                                                            "share": 0.3}})
    plan = solve_instance(load(folder), options=SolveOptions(mip_gap=0.0))
    got = plan.tables["coverage"].groupby("group")["covered"].sum()
    assert {g: float(got[g]) for g in ("a", "b")} == pytest.approx(cov, abs=1e-4)
    assert plan.objective == pytest.approx(best, abs=1e-4)
    # Both rows still report the 10 residents short; only [group] prices them (the total carries no penalty).
    cl = plan.tables["clauses"].set_index(["clause_id", "family"]).loc["F-SPECIAL"]
    assert cl.loc["group", "deviation"] == pytest.approx(10.0, abs=1e-4)
    assert cl.loc["total", "deviation"] == pytest.approx(10.0, abs=1e-4)
    # The verifier's own recomputation of the objective (E-OBJECTIVE) agrees: the plan verifies.
    out = tmp_path / "plan"
    r = CliRunner().invoke(main, ["solve", str(folder), "--out", str(out), "--time-limit", "30"])
    assert r.exit_code == 0, r.output
    v = CliRunner().invoke(main, ["verify", str(folder), str(out)])
    assert v.exit_code == 0, v.output
