"""Issue 15's services clauses on 3-station instances with optima worked out by hand, and a broken plan per
clause failing ``verify`` with exit 7: F-PRO-SHARE (the share of professional services offered, a year path),
A-CATCHMENT (extra service points against residents per centre), A-SOCIAL-SUBSIDY and A-MEAL (cost lines in
the services money)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import load
from allocator.station import solve_instance, write_plan
from cli import main as cli
from solvers import SolveOptions
from tests.conftest import MINI_SETTINGS, MINI_TABLES, write_instance

EXACT = SolveOptions(mip_gap=1e-9)


def _settings(**clauses: Any) -> dict[str, Any]:
    s = copy.deepcopy(MINI_SETTINGS)
    del s["clauses"]["F-SW-URBAN"]
    s["groups"]["elderly"].update(need_share=1.0, hours_per_resident=0.0, cost_per_resident=0.0)
    s["clauses"].update(clauses)
    return s


def _tables(pops: tuple[int, ...] = (1000, 1000, 1000)) -> dict[str, pd.DataFrame]:
    t = {k: v.copy() for k, v in MINI_TABLES.items()}
    base = t["stations"].iloc[0].to_dict()
    t["stations"] = pd.DataFrame([{**base, "station_id": f"S{i}", "name": f"S{i}", "population": p,
                                   "households": p // 2} for i, p in enumerate(pops, start=1)])
    t["groups"] = pd.DataFrame([{"station_id": f"S{i}", "group": "elderly", "residents": 500}
                                for i in range(1, len(pops) + 1)])
    t["services"] = t["services"].assign(staff_hours=0.0)
    return t


def _verify(inst_dir: Path, plan_dir: Path) -> Any:
    return CliRunner().invoke(cli, ["verify", str(inst_dir), str(plan_dir)])


def _solve(folder: Path, settings: dict[str, Any], tables: dict[str, pd.DataFrame]) -> tuple[Path, Any]:
    inst_dir = write_instance(folder, settings, tables)
    plan = solve_instance(load(inst_dir), options=EXACT)
    assert plan.status.has_solution, plan.status
    return inst_dir, plan


def _write(plan: Any, inst_dir: Path, out: Path) -> Path:
    write_plan(plan, out)
    res = _verify(inst_dir, out)
    assert res.exit_code == 0, res.output
    return out


# --- F-PRO-SHARE -------------------------------------------------------------------------------------------
# b1 basic (1,000 a year, every station: A-BASIC), f1 featured professional (2,000), f2 featured (500),
# p1 personalised professional (1,400); A-FEATURE asks one featured service per station; money is priced
# (cost_weight), coverage is free once any service runs.  With a stations offering f1 and b offering p1, the
# offers are professional a + b and other 3 + (3 - a); the share s asks (1 - s)(a + b) >= s (6 - a).
#   2024, s = 0.4: 5a + 3b >= 12; cost 4,500 + 1,500 a + 1,400 b  ->  a = 2, b = 1 (8,900; a = 3, b = 0: 9,000)
#   2026, s = 0.6: 5a + 2b >= 18 -> a = 3, b = 2 (a = 2 would need b = 4 > 3)
#   no clause: a = 0, b = 0 (f2 everywhere)
PRO_CASES = [
    # year  share path in force  f1 offered  p1 offered
    (2024,  True,                2,          1),
    (2026,  True,                3,          2),
    (2026,  False,               0,          0),
]  # fmt: skip


def _pro_instance(year: int, in_force: bool) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    clauses = {"F-PRO-SHARE": {"mode": "hard", "share": {"2024": 0.4, "2025": 0.55, "2026": 0.6}}} if in_force else {}
    s = _settings(**clauses)
    s["instance"]["year"] = year
    s["objective"]["cost_weight"] = 0.001
    t = _tables()
    p1 = pd.DataFrame([{"service_id": "p1", "name": "Case management", "kind": "personalised", "groups": "elderly",
                        "annual_cost": 1400.0, "staff_hours": 0.0}])
    t["services"] = pd.concat([t["services"], p1], ignore_index=True)
    t["services"]["professional"] = t["services"]["service_id"].isin(["f1", "p1"])
    return s, t


@pytest.mark.parametrize(("year", "in_force", "f1", "p1"), PRO_CASES)
def test_pro_share_year_figure_known_optimum(tmp_path: Path, year: int, in_force: bool, f1: int, p1: int) -> None:
    inst_dir, plan = _solve(tmp_path / "pro", *_pro_instance(year, in_force))
    sv = plan.tables["services"]
    offered = sv.groupby("service_id")["offered"].sum()
    assert (int(offered["f1"]), int(offered["p1"]), int(offered["b1"])) == (f1, p1, 3)
    assert int(offered["f2"]) == 3 - f1
    _write(plan, inst_dir, tmp_path / "plan")


def test_broken_pro_share_plan_fails_verify(tmp_path: Path) -> None:
    inst_dir, plan = _solve(tmp_path / "pro", *_pro_instance(2026, True))
    out = _write(plan, inst_dir, tmp_path / "plan")
    sv = pd.read_csv(out / "services.csv")
    at = sv["station_id"] == "S1"
    sv.loc[at & (sv["service_id"] == "f1"), "offered"] = 0  # S1 runs the cheap non-professional f2 instead
    sv.loc[at & (sv["service_id"] == "f2"), "offered"] = 1
    sv.to_csv(out / "services.csv", index=False)
    res = _verify(inst_dir, out)
    assert res.exit_code == 7 and "F-PRO-SHARE" in res.output, res.output


# --- A-CATCHMENT -------------------------------------------------------------------------------------------
# Residents 4,000 / 12,000 / 7,000 (or 5,500 at S3), centres of 3,000-5,000; a point costs 50,000 a year, priced
# at 0.001 per yuan = 50 objective units; the upper side soft at q per resident above it.
#   S1: no point fits (4,000 - 3,000 < 3,000).  S2: the first point removes 5,000 residents above, the second
#   2,000.  S3 (7,000): one point removes 2,000.  S3 (5,500): a point would leave 2,750 a centre (below the
#   hard lower side), so none.
CATCH_CASES = [
    # q      S3 residents  points S1,S2,S3  residents above the standard
    (0.02,   7000,         (0, 1, 0),       4000.0),
    (0.1,    7000,         (0, 2, 1),       0.0),
    (0.1,    5500,         (0, 2, 0),       500.0),
]  # fmt: skip


def _catch_instance(q: float, s3: int) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    s = _settings(**{"A-CATCHMENT": {"mode": {"max": "soft", "min": "hard"}, "penalty": q, "min_residents": 3000,
                                     "max_residents": 5000, "point_cost": 50000}})
    s["objective"]["cost_weight"] = 0.001
    return s, _tables((4000, 12000, s3))


@pytest.mark.parametrize(("q", "s3", "points", "above"), CATCH_CASES)
def test_catchment_points_known_optimum(tmp_path: Path, q: float, s3: int, points: tuple[int, ...],
                                        above: float) -> None:
    inst_dir, plan = _solve(tmp_path / "c", *_catch_instance(q, s3))
    st = plan.tables["stations"].set_index("station_id")
    assert tuple(int(st.loc[f"S{i}", "service_points"]) for i in (1, 2, 3)) == points
    cl = plan.tables["clauses"]
    mx = cl[(cl["clause_id"] == "A-CATCHMENT") & (cl["family"] == "max")]
    assert float(mx["deviation"].sum()) == pytest.approx(above, abs=1e-6)
    bud = plan.tables["budget"].set_index("station_id")
    assert float(bud["service_points"].sum()) == pytest.approx(50000.0 * sum(points))
    assert (bud["services"] >= bud["service_points"] - 1e-6).all()  # the points are paid from the services money
    _write(plan, inst_dir, tmp_path / "plan")


def test_broken_catchment_plan_fails_verify(tmp_path: Path) -> None:
    s, t = _catch_instance(0.1, 7000)
    s["clauses"]["A-CATCHMENT"]["mode"] = "hard"
    inst_dir, plan = _solve(tmp_path / "c", s, t)
    out = _write(plan, inst_dir, tmp_path / "plan")
    st = pd.read_csv(out / "stations.csv")
    st.loc[st["station_id"] == "S2", "service_points"] = 1  # 12,000 residents on two centres
    st.to_csv(out / "stations.csv", index=False)
    res = _verify(inst_dir, out)
    assert res.exit_code == 7 and "A-CATCHMENT" in res.output, res.output


# --- A-SOCIAL-SUBSIDY and A-MEAL ---------------------------------------------------------------------------
# Three groups of 500 residents a station, need share 1, weight 1, no cost per resident: adults are served by the
# basic b1 only, the elderly by the meal service f1 only (5 meals a year at 8 yuan: 40 yuan a resident), the
# children by the social providers' f2 only (200 yuan a resident).  Services money: 40 % of 100 x 3,000 =
# 120,000.  The optimum covers every adult (free), every elderly resident (1,500 x 40 = 60,000), and with the
# 60,000 left 300 children (x 200).
def _lines_instance() -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    s = _settings(**{"A-MEAL": {"mode": "hard", "government_share": 0.6, "government_per_meal": 8,
                                "resident_per_meal": 5.3},
                     "A-SOCIAL-SUBSIDY": {"mode": "hard", "per_person": 200, "rent_relief": 0.3}})
    grp = dict(s["groups"]["elderly"])
    s["groups"]["children"] = {**grp, "label": "Children"}
    s["groups"]["adults"] = {**grp, "label": "Adults"}
    t = _tables()
    t["groups"] = pd.DataFrame([{"station_id": f"S{i}", "group": g, "residents": 500}
                                for i in (1, 2, 3) for g in ("elderly", "children", "adults")])
    t["services"] = t["services"].assign(
        annual_cost=0.0, groups=["adults", "elderly", "children"], meals_per_resident=[0.0, 5.0, 0.0],
        social_provider=[False, False, True])
    return s, t


def test_subsidy_and_meal_lines_known_optimum(tmp_path: Path) -> None:
    inst_dir, plan = _solve(tmp_path / "l", *_lines_instance())
    cov = plan.tables["coverage"].groupby("group")["covered"].sum()
    assert (cov["adults"], cov["elderly"], cov["children"]) == pytest.approx((1500, 1500, 300), abs=1e-6)
    bud = plan.tables["budget"]
    assert float(bud["meal_subsidy"].sum()) == pytest.approx(60000.0, abs=1e-3)
    assert float(bud["social_subsidy"].sum()) == pytest.approx(60000.0, abs=1e-3)
    assert float(bud["services"].sum()) == pytest.approx(120000.0, abs=1e-3)
    sv = plan.tables["services"]
    served = sv.groupby("service_id")["served"].sum()
    assert served["f2"] == pytest.approx(300, abs=1e-6) and served["f1"] == pytest.approx(1500, abs=1e-6)
    _write(plan, inst_dir, tmp_path / "plan")


@pytest.mark.parametrize(("column", "clause"), [("social_subsidy", "A-SOCIAL-SUBSIDY"), ("meal_subsidy", "A-MEAL")])
def test_broken_cost_line_plan_fails_verify(tmp_path: Path, column: str, clause: str) -> None:
    inst_dir, plan = _solve(tmp_path / "l", *_lines_instance())
    out = _write(plan, inst_dir, tmp_path / "plan")
    bud = pd.read_csv(out / "budget.csv")
    bud.loc[bud[column].idxmax(), column] -= 1000.0  # the line pays less than the residents it serves cost
    bud.to_csv(out / "budget.csv", index=False)
    res = _verify(inst_dir, out)
    assert res.exit_code == 7 and clause in res.output, res.output
    bud.drop(columns=[column]).to_csv(out / "budget.csv", index=False)
    res = _verify(inst_dir, out)
    assert res.exit_code == 7 and clause in res.output and column in res.output, res.output


def test_understated_served_fails_verify(tmp_path: Path) -> None:
    """Residents moved out of services.csv ``served`` (a smaller subsidy owed) no longer add up to the need covered."""
    inst_dir, plan = _solve(tmp_path / "l", *_lines_instance())
    out = _write(plan, inst_dir, tmp_path / "plan")
    sv = pd.read_csv(out / "services.csv")
    i = sv.index[(sv["service_id"] == "f2") & (sv["served"] > 0)][0]
    bud = pd.read_csv(out / "budget.csv")
    at = bud["station_id"] == sv.loc[i, "station_id"]
    bud.loc[at, "social_subsidy"] -= 200.0 * sv.loc[i, "served"]
    sv.loc[i, "served"] = 0.0
    sv.to_csv(out / "services.csv", index=False)
    bud.to_csv(out / "budget.csv", index=False)
    res = _verify(inst_dir, out)
    assert res.exit_code == 7 and "E10" in res.output, res.output
