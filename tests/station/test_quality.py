"""Issue 15 families on 3-station instances: floors and the concave benefit against brute force, the
F-USES split, the payroll's pay, and a broken plan per new family failing ``verify`` with exit 7."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import load
from allocator.station import build, solve_instance, write_plan
from cli import main as cli
from solvers import SolveOptions
from tests.conftest import MINI_SETTINGS, MINI_TABLES, write_instance

EXACT = SolveOptions(mip_gap=1e-9)
BREAKS = {"first": 0.2, "second": 0.5, "second_weight": 0.6, "rest_weight": 0.3}
COST = 2000.0  # yuan per resident covered: the services line (120,000) buys 60 of the 100 residents in need


def _settings(w2: float, floor: float | None = None, benefit: bool = True) -> dict[str, Any]:
    s = copy.deepcopy(MINI_SETTINGS)
    grp = {"need_share": 1.0, "special": False, "hours_per_resident": 0.0, "cost_per_resident": COST}
    s["groups"] = {"g1": {"label": "G1", "weight": 1.0, **grp}, "g2": {"label": "G2", "weight": w2, **grp}}
    del s["clauses"]["F-SW-URBAN"]
    if benefit:
        s["clauses"]["X-BENEFIT"] = dict(BREAKS)
    if floor is not None:
        s["clauses"]["X-FLOOR"] = {"mode": "hard", "share": floor}
    return s


def _tables() -> dict[str, pd.DataFrame]:
    t = {k: v.copy() for k, v in MINI_TABLES.items()}
    base = t["stations"].iloc[0].to_dict()
    t["stations"] = pd.DataFrame([{**base, "station_id": f"S{i}", "name": f"S{i}"} for i in (1, 2, 3)])
    t["groups"] = pd.DataFrame([{"station_id": f"S{i}", "group": g, "residents": r}
                                for i, r1, r2 in ((1, 10, 10), (2, 20, 10), (3, 30, 20))
                                for g, r in (("g1", r1), ("g2", r2))])
    t["services"] = t["services"].assign(groups="g1;g2", annual_cost=0.0, staff_hours=0.0)
    return t


def _benefit(x: float, need: float, w: float) -> float:
    """The concave benefit written from X-BENEFIT's definition (not from the model)."""
    a, b = BREAKS["first"] * need, BREAKS["second"] * need
    return w * (min(x, a) + BREAKS["second_weight"] * max(0.0, min(x, b) - a)
                + BREAKS["rest_weight"] * max(0.0, x - b))


def _brute(w2: float, floor: float, budget_residents: int, d1: int = 60, d2: int = 40) -> float:
    """Best benefit over every integer split of the residents the money buys, floors held."""
    best = -np.inf
    for x1 in range(0, d1 + 1):
        x2 = min(d2, budget_residents - x1)
        if x2 < 0 or x1 < floor * d1 - 1e-9 or x2 < floor * d2 - 1e-9:
            continue
        best = max(best, _benefit(x1, d1, 1.0) + _benefit(x2, d2, w2))
    return best


def _solve(tmp_path: Path, settings: dict[str, Any], name: str = "q") -> Any:
    inst = load(write_instance(tmp_path / name, settings, _tables()))
    plan = solve_instance(inst, options=EXACT)
    assert plan.status.has_solution
    cov = plan.tables["coverage"].groupby("group")["covered"].sum()
    return inst, plan, float(cov["g1"]), float(cov["g2"])


@pytest.mark.parametrize("w2, floor", [(0.5, None), (0.1, None), (0.1, 0.25), (0.5, 0.3)])
def test_floors_and_concave_benefit_match_brute_force(tmp_path: Path, w2: float, floor: float | None) -> None:
    inst, plan, x1, x2 = _solve(tmp_path, _settings(w2, floor))
    assert x1 + x2 == pytest.approx(60, abs=1e-6)  # the services line is spent on the residents
    if floor is not None:
        assert x1 >= floor * 60 - 1e-6 and x2 >= floor * 40 - 1e-6
    got = _benefit(x1, 60, 1.0) + _benefit(x2, 40, w2)
    assert got == pytest.approx(_brute(w2, floor or 0.0, 60), abs=1e-6)


def test_without_benefit_or_floor_the_low_weight_group_sits_at_zero(tmp_path: Path) -> None:
    # The corner the floors exist for: a linear objective gives all the money to the best weight per yuan.
    _, _, x1, x2 = _solve(tmp_path, _settings(0.1, None, benefit=False))
    assert (x1, x2) == (pytest.approx(60), pytest.approx(0, abs=1e-6))
    _, _, _, x2_floor = _solve(tmp_path, _settings(0.1, 0.25, benefit=False), "f")
    assert x2_floor == pytest.approx(10, abs=1e-6)


def test_concave_benefit_spreads_without_a_floor(tmp_path: Path) -> None:
    # g2's first residents (0.5) are worth more than g1's last (0.3): the benefit alone covers g2.
    _, _, x1, x2 = _solve(tmp_path, _settings(0.5, None))
    assert x2 >= 8 - 1e-6 and x1 >= 30 - 1e-6


def test_floor_rows_are_in_clauses_csv(tmp_path: Path) -> None:
    _, plan, _, _ = _solve(tmp_path, _settings(0.1, 0.25))
    cl = plan.tables["clauses"]
    rows = cl[(cl["clause_id"] == "X-FLOOR") & (cl["family"] == "group")]
    assert sorted(rows["station_id"]) == ["g1", "g2"]


def _uses_settings() -> dict[str, Any]:
    s = _settings(0.5, 0.1)
    s["clauses"]["F-TOTAL"] = {"mode": "hard", "total": 1e7, "construction": 0, "operations_per_year": 1e6}
    s["clauses"]["F-USES"] = {"mode": "hard", "salaries": 0.6, "services": 0.3, "training": 0.1}
    return s


def test_f_uses_is_a_split_of_the_money_spent(tmp_path: Path) -> None:
    _, plan, _, _ = _solve(tmp_path, _uses_settings())
    b = plan.tables["budget"]
    ops = float(b[["salaries", "services", "training"]].sum().sum())
    assert ops > 0
    for use, share in (("salaries", 0.6), ("services", 0.3), ("training", 0.1)):
        assert float(b[use].sum()) == pytest.approx(share * ops, rel=1e-7, abs=1e-3)


def test_payroll_charges_the_hard_salary_floor(tmp_path: Path) -> None:
    s = _settings(0.5)
    s["clauses"]["A-SALARY"] = {"mode": "hard", "monthly_min": 3000}
    inst = load(write_instance(tmp_path / "hard", s, _tables()))
    model = build(inst)
    assert any(n.startswith("E3 PAYROLL charges A-SALARY's floor, 36,000") for n in model.notes)
    s["clauses"]["A-SALARY"] = {"mode": "soft", "penalty": 0.001, "monthly_min": 1000}  # below today's 20,000
    model = build(load(write_instance(tmp_path / "low", s, _tables())))
    assert any("charges 12,000 yuan" in n for n in model.notes)
    del s["clauses"]["A-SALARY"]
    model = build(load(write_instance(tmp_path / "none", s, _tables())))
    assert any("today's pay, 20,000" in n for n in model.notes)


def _verify(inst_dir: Path, plan_dir: Path) -> Any:
    return CliRunner().invoke(cli, ["verify", str(inst_dir), str(plan_dir)])


def test_broken_plans_fail_verify(tmp_path: Path) -> None:
    settings = _uses_settings()
    inst_dir = write_instance(tmp_path / "inst", settings, _tables())
    plan = solve_instance(load(inst_dir), options=EXACT)
    out = tmp_path / "plan"
    write_plan(plan, out)
    ok = _verify(inst_dir, out)
    assert ok.exit_code == 0, ok.output
    # X-FLOOR: g2 covered nowhere (the floor is 10% of its need)
    cov = pd.read_csv(out / "coverage.csv")
    cov.loc[cov["group"] == "g2", "covered"] = 0.0
    bad = tmp_path / "bad_floor"
    write_plan(plan, bad)
    cov.to_csv(bad / "coverage.csv", index=False)
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "X-FLOOR" in res.output, res.output
    # F-USES [split]: training money moved to services keeps every cap but breaks the 60:30:10 split
    bud = pd.read_csv(out / "budget.csv")
    moved = bud["training"].copy()
    bud["services"] += moved
    bud["training"] = 0.0
    bad = tmp_path / "bad_split"
    write_plan(plan, bad)
    bud.to_csv(bad / "budget.csv", index=False)
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "F-USES" in res.output, res.output


def _min_settings(minimum: float) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    s = _settings(0.5, None)
    s["clauses"]["X-MIN-SERVED"] = {"mode": "hard"}
    s["clauses"]["A-VARIETY"] = {"mode": "soft", "penalty": 5.0, "min_per_station": 3}
    t = _tables()
    # f2 serves only g2, and its residents are worth less than the variety penalty: without a minimum the
    # plan offers it to count for A-VARIETY and serves nobody with it.
    t["services"] = t["services"].assign(min_served=minimum)
    t["services"].loc[t["services"]["service_id"] == "f2", "groups"] = "g2"
    return s, t


def test_a_service_offered_serves_its_minimum(tmp_path: Path) -> None:
    for minimum in (0.0, 5.0):
        s, t = _min_settings(minimum)
        inst = load(write_instance(tmp_path / f"m{minimum}", s, t))
        plan = solve_instance(inst, options=EXACT)
        sv = plan.tables["services"]
        cov = plan.tables["coverage"].pivot(index="station_id", columns="group", values="covered")
        if minimum == 0.0:
            assert "served" not in sv.columns  # X-MIN-SERVED does not apply: no minimum stated
            f2_at = sv[(sv["service_id"] == "f2") & (sv["offered"] == 1)]["station_id"]
            assert (cov.loc[f2_at, "g2"] < 1e-6).any()  # the corner: f2 offered where nobody of g2 is served
            continue
        off = sv[sv["offered"] == 1]
        assert len(off) > 0 and (off["served"] >= minimum - 1e-6).all()
        f2 = off[off["service_id"] == "f2"].set_index("station_id")["served"]
        assert (f2 <= cov.loc[f2.index, "g2"] + 1e-6).all()  # f2 serves only g2: no more than g2's covered


def test_broken_min_served_plan_fails_verify(tmp_path: Path) -> None:
    s, t = _min_settings(5.0)
    inst_dir = write_instance(tmp_path / "inst", s, t)
    plan = solve_instance(load(inst_dir), options=EXACT)
    out = tmp_path / "plan"
    write_plan(plan, out)
    assert _verify(inst_dir, out).exit_code == 0
    sv = pd.read_csv(out / "services.csv")
    first = sv.index[sv["offered"] == 1][0]
    sv.loc[first, "served"] = 0.0  # offered, serving nobody
    sv.to_csv(out / "services.csv", index=False)
    res = _verify(inst_dir, out)
    assert res.exit_code == 7 and "X-MIN-SERVED" in res.output, res.output
