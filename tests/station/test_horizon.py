"""The horizon model (issue 14): a hand-made 2-station, 2-year instance against brute force, and verify's
horizon checks on broken plans (each names clause and year, exit 7)."""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import Clause, Instance, load
from allocator.station import solve_instance, write_plan
from cli import main
from solvers import SolveOptions


def _clause(inst: Instance, cid: str, any_state: bool = False) -> Clause:
    """The clause ``cid`` of ``inst`` (in force, or in any state), which the test knows is there."""
    c = inst.any_clause(cid) if any_state else inst.clause(cid)
    assert c is not None, cid
    return c


TOML = """
[instance]
name = "two stations, two years"
years = [2024, 2025]
currency = "CNY"

[horizon]
weights = [1.0, 2.0]
upgrades_per_year = 0

[objective]
cost_weight = 0.0
equity = "none"

[groups.elderly]
label = "Elderly"
weight = 1.0
need_share = 1.0
special = false
hours_per_resident = 100.0
cost_per_resident = 0.0

[staff_types.admin]
hours_per_year = 0.0
annual_cost = 0.0

[staff_types.social_worker]
hours_per_year = 1000.0
annual_cost = 0.0

[staff_types.volunteer]
hours_per_year = 0.0
annual_cost = 0.0

[costs]
build_per_m2 = 0.0
refit_per_m2 = 0.0
renovation = 0.0
one_stop_upgrade = 0.0
new_station = 0.0
access_retrofit = 0.0
training_per_worker = 0.0

[clauses.F-TURNOVER.rate]
2024 = 0.5
2025 = 0.25

[clauses.F-HIRING.recruited]
2024 = 2
2025 = 1

[clauses.F-BUILD-SUBSIDY]
new_station = 100000
upgraded_station = 50000
"""
STATIONS = """station_id,name,county,area_type,status,one_stop,population,households,floor_area_m2,\
building_age_years,zone_admin,zone_service,zone_activity,accessible
S1,One,North,urban,existing,true,1000,400,100,5,0.2,0.6,0.2,true
S2,Two,North,rural,new,false,1000,400,0,,0,0,0,true
"""
GROUPS = "station_id,group,residents\nS1,elderly,300\nS2,elderly,15\n"
SERVICES = "service_id,name,kind,groups,annual_cost,staff_hours\ncare,Care,basic,elderly,0,0\n"
DEPARTMENTS = "department_id,name,budget,max_packages\nhealth,Health,0,0\n"
PACKAGES = ("package_id,department_id,name,groups,residents_served,cost,staff_hours,eligible,copies\n"
            "P1,health,Visits,elderly,1,0,0,all,1\n")
STAFF = ("worker_id,station_id,type,certified,level,local_registration,years_of_service,bachelor,age\n"
         + "".join(f"W{i},S1,social_worker,false,none,true,1,false,30\n" for i in range(3)))
DEMAND = {"S1": 300.0, "S2": 15.0}
PER_WORKER = 10.0  # residents a social worker covers (1000 hours / 100 hours per resident)


def write_two(d: Path) -> Path:
    """The hand-made 2-station, 2-year instance, written into ``d``."""
    (d / "instance.toml").write_text(TOML)
    for name, text in (("stations", STATIONS), ("groups", GROUPS), ("services", SERVICES), ("staff", STAFF),
                       ("departments", DEPARTMENTS), ("packages", PACKAGES)):
        (d / f"{name}.csv").write_text(text)
    return d


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_two(tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def two_plan(two: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan = solve_instance(load(two), options=SolveOptions(mip_gap=0.0))
    out = tmp_path_factory.mktemp("plan") / "P"
    write_plan(plan, out)
    return out


def _band(rate: float, stock: int) -> range:
    """Integer leavers with |leavers - rate * stock| < 1, at most the stock."""
    lo, hi = max(0, math.ceil(rate * stock - 0.999)), min(stock, math.floor(rate * stock + 0.999))
    return range(lo, hi + 1)


def brute_force() -> float:
    """The best weighted coverage over every build year, hiring split and leavers choice (leavers within 1 of
    the turnover rate x stock at each station and over both)."""
    best = -math.inf
    for built in (None, 2024, 2025):  # the year S2 is built
        for h24 in itertools.product(range(3), repeat=2):
            if sum(h24) > 2 or (built != 2024 and h24[1]):
                continue
            for l24 in _band(0.5, 3):
                s24 = (3 - l24 + h24[0], h24[1])
                for h25 in itertools.product(range(2), repeat=2):
                    if sum(h25) > 1 or (built is None and h25[1]):
                        continue
                    for l25a in _band(0.25, s24[0]):
                        for l25b in _band(0.25, s24[1]):
                            if abs(l25a + l25b - 0.25 * sum(s24)) >= 1:  # F-TURNOVER over all stations
                                continue
                            s25 = (s24[0] - l25a + h25[0], s24[1] - l25b + h25[1])
                            value = 0.0
                            for w, stock, year in ((1.0, s24, 2024), (2.0, s25, 2025)):
                                open2 = built is not None and built <= year
                                value += w * min(DEMAND["S1"], PER_WORKER * stock[0])
                                value += w * (min(DEMAND["S2"], PER_WORKER * stock[1]) if open2 else 0.0)
                            best = max(best, value)
    return best


def test_two_station_two_year_matches_brute_force(two: Path) -> None:
    plan = solve_instance(load(two), options=SolveOptions(mip_gap=0.0))
    assert plan.status.value == "optimal"
    assert plan.objective == pytest.approx(brute_force(), abs=1e-6)
    path = plan.tables["path"]
    assert list(path["year"]) == [2024, 2025]
    # 2024: one of the three leaves (50 % of 3 is 1.5: 1 or 2), both hires taken
    assert int(path["sw_left"].iloc[0]) in (1, 2) and int(path["sw_hired"].iloc[0]) <= 2


def test_one_year_views_resolve_each_years_figures(two: Path) -> None:
    inst = load(two)
    assert inst.years == (2024, 2025)
    assert _clause(inst.for_year(2025), "F-HIRING").figures == {"recruited": 1.0}
    assert _clause(inst.for_year(2024), "F-TURNOVER", any_state=True).figures["rate"] == 0.5
    with pytest.raises(ValueError, match="2027"):
        inst.for_year(2027)


def test_horizon_plan_passes_verify(two: Path, two_plan: Path) -> None:
    r = CliRunner().invoke(main, ["verify", str(two), str(two_plan)])
    assert r.exit_code == 0, r.output


def _broken(src: Path, dst: Path, edit: str) -> Path:
    shutil.copytree(src, dst)
    read = lambda f: pd.read_csv(dst / f"{f}.csv", dtype={"station_id": str})  # noqa: E731
    if edit == "leavers understated":
        lv = read("leavers")
        lv.loc[(lv["year"] == 2024) & (lv["station_id"] == "S1"), "leavers"] = 0
        lv.to_csv(dst / "leavers.csv", index=False)
    elif edit == "hire counted twice":
        h = read("hires")
        pd.concat([h, h.iloc[[0]]]).to_csv(dst / "hires.csv", index=False)
    elif edit == "staffed before built":
        st = read("stations")
        s2 = st["station_id"] == "S2"
        st.loc[s2 & (st["year"] == 2024), ["active", "built"]] = 0
        st.loc[s2 & (st["year"] == 2025), "built"] = 1
        st.loc[s2, "built_year"] = 2025
        st.to_csv(dst / "stations.csv", index=False)
        staff = read("staff")
        staff.loc[(staff["station_id"] == "S2") & (staff["year"] == 2024), "total_staff"] = 1
        staff.to_csv(dst / "staff.csv", index=False)
    elif edit == "construction money in the wrong year":
        b = read("budget")
        s2 = b["station_id"] == "S2"
        paid = float(b.loc[s2, "facilities"].sum())
        b.loc[s2, "facilities"] = [0.0, paid]
        b.to_csv(dst / "budget.csv", index=False)
    return dst


@pytest.mark.parametrize("edit, clause", [
    ("leavers understated", "F-TURNOVER"),
    ("hire counted twice", "H1-STOCK"),
    ("staffed before built", "E2-OPEN"),
    ("construction money in the wrong year", "F-BUILD-SUBSIDY"),
])
def test_broken_horizon_plan_fails_verify_naming_clause_and_year(two: Path, two_plan: Path, tmp_path: Path,
                                                                 edit: str, clause: str) -> None:
    stations = pd.read_csv(two_plan / "stations.csv")
    assert stations.query("station_id == 'S2' and year == 2024")["built"].item() == 1, "S2 is built in 2024"
    bad = _broken(two_plan, tmp_path / "bad", edit)
    r = CliRunner().invoke(main, ["verify", str(two), str(bad)])
    assert r.exit_code == 7, r.output
    failing = [ln for ln in r.output.splitlines() if clause in ln and "FAIL" in ln.upper()]
    assert failing, r.output
    assert any(y in r.output for y in ("S1 2024", "S2 2024", "S1 2025", "S2 2025")), r.output


def test_horizon_money_in_the_summary_is_recomputed(two: Path, two_plan: Path, tmp_path: Path) -> None:
    import json

    bad = tmp_path / "bad"
    shutil.copytree(two_plan, bad)
    summ = json.loads((bad / "summary.json").read_text())
    summ["horizon_money"]["total"] += 1000.0
    (bad / "summary.json").write_text(json.dumps(summ))
    r = CliRunner().invoke(main, ["verify", str(two), str(bad)])
    assert r.exit_code == 7, r.output
    assert any("horizon_money" in ln and "FAIL" in ln.upper() for ln in r.output.splitlines()), r.output


def test_path_rules_carry_interpolate_flow_absent() -> None:
    from allocator.instance.horizon import resolve

    pts = ((2024, 600.0), (2026, 1200.0))
    assert resolve(pts, 2025, "carry") == 600.0
    assert resolve(pts, 2025, "interpolate") == 900.0
    assert resolve(pts, 2025, "flow") is None
    assert resolve(pts, 2025, "absent") is None
    assert resolve(pts, 2027, "interpolate") == 1200.0  # after the last point: carried
    assert resolve(pts, 2023, "carry") is None  # before the first: nothing invented


def test_seed_horizon_figures_per_year() -> None:
    inst = load(Path(__file__).resolve().parents[2] / "instances" / "fuzhou")
    fig = {y: inst.for_year(y) for y in inst.years}
    assert [_clause(fig[y], "F-HIRING").figures.get("in_post") for y in inst.years] == [600, 900, 1200]
    assert [_clause(fig[y], "F-HIRING").figures.get("recruited") for y in inst.years] == [500, None, None]
    assert [_clause(fig[y], "F-TOTAL").figures["operations_per_year"] for y in inst.years] == [30e6, 45e6, 45e6]
    assert [_clause(fig[y], "F-TURNOVER", any_state=True).figures["rate"] for y in inst.years] == [0.25, 0.20, 0.15]
    assert [_clause(fig[y], "F-CERT-RATE").figures["share"] for y in inst.years] == [0.18, 0.30, 0.35]
    assert [fig[y].clause("F-BUILD") is not None for y in inst.years] == [True, False, False]
    assert [fig[y].clause("F-DEMO") is not None for y in inst.years] == [False, True, True]
    assert [_clause(fig[y], "F-DEMO").figures["count"] for y in (2025, 2026)] == [10, 15]


@pytest.mark.parametrize("years, rule", [("[2024, 2026]", "out_of_range"), ('"2024"', "wrong_type")])
def test_bad_years_are_refused_with_exit_2(two: Path, tmp_path: Path, years: str, rule: str) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(two, bad)
    text = (bad / "instance.toml").read_text().replace("years = [2024, 2025]", f"years = {years}")
    (bad / "instance.toml").write_text(text.replace("weights = [1.0, 2.0]\n", ""))
    r = CliRunner().invoke(main, ["validate", str(bad)])
    assert r.exit_code == 2, r.output
    assert "instance.years" in r.output and rule in r.output, r.output


def test_horizon_instance_round_trips_through_a_workbook(tmp_path: Path) -> None:
    from allocator.instance import write_xlsx

    inst = load(Path(__file__).resolve().parents[2] / "instances" / "fuzhou")
    write_xlsx(inst, tmp_path / "book.xlsx")
    back = load(tmp_path / "book.xlsx")
    assert back.years == inst.years and back.horizon == inst.horizon
    assert _clause(back.for_year(2025), "F-HIRING").figures == _clause(inst.for_year(2025), "F-HIRING").figures


def test_assign_staffs_one_year_of_a_horizon_plan(two: Path, two_plan: Path) -> None:
    r = CliRunner().invoke(main, ["assign", str(two), str(two_plan), "--json"])
    assert r.exit_code == 0, r.output
    path = pd.read_csv(two_plan / "path.csv")
    first = path.iloc[0]
    # the first year: today's staff less the plan's leavers stay in post, the plan's hires fill the rest
    assert '"hires": ' + str(int(first["sw_hired"])) in r.output, r.output
    bad = CliRunner().invoke(main, ["assign", str(two), str(two_plan), "--year", "2027"])
    assert bad.exit_code == 2 and "2027" in bad.output
