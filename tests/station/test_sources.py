"""Funding sources (issue 15) on a 3-station instance: the plan's money against a brute force written from
the clauses' text, sources.csv re-checked, broken plans failing ``verify`` with exit 7, and the seeds' figures.

The instance: stations S1, S2 in county C1 and S3 in C2, one social worker in post at each (20,000 yuan a
year), services at 1,000 yuan per resident covered and nothing else costed; A-BUDGET-PERCAP caps all money
at 300,000; F-SOURCES 70 : 20 : 10; the city pays ``per_worker`` per social worker (F-OPS-SUBSIDY), the
county matches it ``county_match`` : 1.
"""

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
COST = 1000.0      # yuan per resident covered
PAY = 20000.0      # yuan per social worker a year
BUDGET = 300000.0  # A-BUDGET-PERCAP: 100 yuan x 3,000 residents
DEMAND = 3 * 400.0  # 500 elderly at each station, 80 % in need
SW = {"C1": 2, "C2": 1}


def _settings(per_worker: float = 20000.0, match: float = 1.0, social_max: float | None = 50000.0,
              shares: tuple[float, float, float] = (0.7, 0.2, 0.1)) -> dict[str, Any]:
    s = copy.deepcopy(MINI_SETTINGS)
    s["groups"]["elderly"].update(hours_per_resident=0.0, cost_per_resident=COST)
    s["staff_types"]["social_worker"]["annual_cost"] = PAY
    c = s["clauses"]
    for cid in ("A-SPLIT", "A-SALARY", "F-SW-URBAN", "A-FEATURE"):
        del c[cid]
    c["F-SOURCES"] = {"fiscal": shares[0], "social": shares[1], "revenue": shares[2]}
    if social_max is not None:
        c["F-SOURCES"]["social_max"] = social_max
    c["F-OPS-SUBSIDY"] = {"per_worker": per_worker, "county_match": match}
    return s


def _tables() -> dict[str, pd.DataFrame]:
    t = {k: v.copy() for k, v in MINI_TABLES.items()}
    base = t["stations"].iloc[0].to_dict()
    t["stations"] = pd.DataFrame([{**base, "station_id": f"S{i}", "name": f"S{i}", "county": cty}
                                  for i, cty in ((1, "C1"), (2, "C1"), (3, "C2"))])
    t["groups"] = pd.DataFrame([{"station_id": f"S{i}", "group": "elderly", "residents": 500} for i in (1, 2, 3)])
    t["services"] = t["services"].assign(annual_cost=0.0, staff_hours=0.0)
    w = t["staff"].iloc[0].to_dict()
    t["staff"] = pd.DataFrame([{**w, "worker_id": f"W{i}", "station_id": f"S{i}"} for i in (1, 2, 3)])
    return t


def _brute(per_worker: float, match: float, social_max: float | None,
           shares: tuple[float, float, float] = (0.7, 0.2, 0.1)) -> float | None:
    """Most residents covered (to 0.01), from the clauses' text alone; None when no plan exists.

    With the three workers in post and nothing else costed, the money is T(x) = 3 PAY + COST x.  It must fit
    the budget; the city pays per_worker x 3, each county at least match x per_worker x its workers, both
    fiscal, so fiscal = share x T >= (1 + match) x per_worker x 3 (county money can sit at any station of
    its county); social = share x T <= social_max; the city's yuan at a station cannot exceed the station's
    money, which holds here (each station spends at least its pay).
    """
    best = None
    for x in np.arange(0.0, DEMAND + 1e-9, 0.01):
        t = 3 * PAY + COST * x
        ok = (t <= BUDGET + 1e-6 and shares[0] * t >= (1 + match) * per_worker * 3 - 1e-6
              and (social_max is None or shares[1] * t <= social_max + 1e-6)
              and per_worker <= PAY + COST * 400)
        if ok:
            best = float(x)
    return best


def _solve(tmp_path: Path, settings: dict[str, Any], name: str = "s") -> tuple[Path, Any]:
    inst_dir = write_instance(tmp_path / name, settings, _tables())
    return inst_dir, solve_instance(load(inst_dir), options=EXACT)


@pytest.mark.parametrize("per_worker, match, social_max", [
    (20000.0, 1.0, 50000.0),   # the social cap binds: T <= 250,000, 190 residents
    (20000.0, 1.0, None),      # the budget binds: 240 residents
    (40000.0, 1.0, None),      # the match binds from below, the budget from above: still 240
    (20000.0, 2.0, 50000.0),   # fiscal >= 180,000 needs T >= 257,143 > the 250,000 the cap allows: no plan
    (60000.0, 1.0, None),      # fiscal >= 360,000 > 70 % of the budget: no plan
])
def test_money_matches_brute_force(tmp_path: Path, per_worker: float, match: float,
                                   social_max: float | None) -> None:
    expected = _brute(per_worker, match, social_max)
    _, plan = _solve(tmp_path, _settings(per_worker, match, social_max))
    if expected is None:
        assert not plan.status.has_solution
        return
    assert plan.status.has_solution
    covered = float(plan.tables["coverage"]["covered"].sum())
    assert covered == pytest.approx(expected, abs=0.011)
    src = plan.tables["sources"]
    budget = plan.tables["budget"].set_index("station_id")["total"]
    by_station = src.groupby("station_id")["yuan"].sum()
    assert np.allclose(by_station.reindex(budget.index), budget, atol=0.05)  # every yuan has a source
    by_source = src.groupby("source")["yuan"].sum()
    whole = float(by_source.sum())
    assert by_source["city"] + by_source["county"] == pytest.approx(0.7 * whole, abs=0.05)
    assert by_source["social"] == pytest.approx(0.2 * whole, abs=0.05)
    assert by_source["fees"] == pytest.approx(0.1 * whole, abs=0.05)
    assert np.allclose(src[src["source"] == "city"]["yuan"], per_worker, atol=0.01)  # one worker per station
    county = src[src["source"] == "county"].groupby("county")["yuan"].sum()
    for cty, n in SW.items():
        assert county[cty] >= match * per_worker * n - 0.05
    assert plan.summary["money_by_source"] == pytest.approx(by_source.to_dict(), abs=0.05)


def test_shares_do_not_add_money(tmp_path: Path) -> None:
    """Without F-SOURCES the plan spends the same budget: the shares only say who pays."""
    s = _settings(social_max=None)
    del s["clauses"]["F-SOURCES"]
    _, plan = _solve(tmp_path, s)
    assert "sources" not in plan.tables
    assert float(plan.tables["coverage"]["covered"].sum()) == pytest.approx(_brute(0.0, 0.0, None) or 0, abs=0.011)
    assert float(plan.tables["budget"]["total"].sum()) == pytest.approx(BUDGET, abs=1.0)


def test_families_build_their_rows(tmp_path: Path) -> None:
    inst = load(write_instance(tmp_path / "b", _settings(), _tables()))
    model = build(inst)
    fams: dict[tuple[str, str], int] = {}
    for rb in model.rows:
        fams[(rb.clause, rb.family)] = fams.get((rb.clause, rb.family), 0) + rb.count
    assert fams[("F-SOURCES", "paid")] == 3
    assert fams[("F-SOURCES", "split")] == 6  # min and max per share
    assert fams[("F-SOURCES", "available")] == 1
    assert fams[("F-OPS-SUBSIDY", "city")] == 3
    assert fams[("F-OPS-SUBSIDY", "county_match")] == 2


def _verify(inst_dir: Path, plan_dir: Path) -> Any:
    return CliRunner().invoke(cli, ["verify", str(inst_dir), str(plan_dir)])


def _edit_sources(src_dir: Path, dst: Path, edit: Any) -> Path:
    import shutil
    shutil.copytree(src_dir, dst)
    df = pd.read_csv(dst / "sources.csv", dtype={"station_id": str})
    edited = edit(df)  # an edit returns a new table or changes ``df`` in place
    df = df if edited is None else edited
    df.to_csv(dst / "sources.csv", index=False)
    return dst


def _move(df: pd.DataFrame, station: str, frm: str, to: str, amount: float | None = None) -> None:
    at = df["station_id"] == station
    a = df.loc[at & (df["source"] == frm), "yuan"].iloc[0] if amount is None else amount
    df.loc[at & (df["source"] == frm), "yuan"] -= a
    df.loc[at & (df["source"] == to), "yuan"] += a


def test_broken_plans_fail_verify(tmp_path: Path) -> None:
    inst_dir, plan = _solve(tmp_path, _settings(social_max=None))
    out = tmp_path / "plan"
    write_plan(plan, out)
    ok = _verify(inst_dir, out)
    assert ok.exit_code == 0, ok.output
    # a yuan with no source: S2's sources left out
    bad = _edit_sources(out, tmp_path / "no_source", lambda df: df[df["station_id"] != "S2"])
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "F-SOURCES" in res.output and "paid" in res.output, res.output
    # shares moved: 10,000 yuan from social funds to the county at S1 (each station still fully paid)
    bad = _edit_sources(out, tmp_path / "shares", lambda df: _move(df, "S1", "social", "county", 10000.0))
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "split" in res.output, res.output
    # county match under 1 : 1: C2's county money all moved to social funds at S3
    bad = _edit_sources(out, tmp_path / "match", lambda df: _move(df, "S3", "county", "social"))
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "county_match" in res.output and "C2" in res.output, res.output
    # the city short of its subsidy at S1 (the yuan moved to fees)
    bad = _edit_sources(out, tmp_path / "city", lambda df: _move(df, "S1", "city", "fees", 5000.0))
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "F-OPS-SUBSIDY" in res.output, res.output
    # summary.json's money by source misstated
    import json
    bad = _edit_sources(out, tmp_path / "summary", lambda df: None)
    summ = json.loads((bad / "summary.json").read_text())
    summ["money_by_source"]["social"] += 1000.0
    (bad / "summary.json").write_text(json.dumps(summ))
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "money_by_source" in res.output, res.output
    # no sources.csv at all
    bad = _edit_sources(out, tmp_path / "none", lambda df: None)
    (bad / "sources.csv").unlink()
    res = _verify(inst_dir, bad)
    assert res.exit_code == 7 and "sources.csv" in res.output, res.output


SEEDS = Path(__file__).resolve().parents[2] / "instances"


def test_seed_figures_are_the_documents() -> None:
    f = load(SEEDS / "fuzhou-2026")
    c = f.clause("F-SOURCES")
    assert c is not None
    assert (c.figures["fiscal"], c.figures["social"], c.figures["revenue"]) == (0.70, 0.20, 0.10)  # §F7.2, 2026
    o = f.clause("F-OPS-SUBSIDY")
    assert o is not None and (o.figures["per_worker"], o.figures["county_match"]) == (50000, 1)  # §F5.2
    h = load(SEEDS / "fuzhou")
    assert h.for_year(2025).clause("F-SOURCES").figures["social"] == 0.15  # type: ignore[union-attr]  # §F8.2
    a = load(SEEDS / "a-district-2026").clause("A-SOURCES")
    assert a is not None and (a.figures["fiscal"], a.figures["donations"], a.figures["fees"]) == (0.75, 0.15, 0.10)
    model = build(load(SEEDS / "a-district-2026"), names=False)
    fams = {(rb.clause, rb.family) for rb in model.rows}
    assert {("A-SOURCES", "paid"), ("A-SOURCES", "split")} <= fams
    assert not any(cid == "F-OPS-SUBSIDY" for cid, _ in fams)


def test_city_pays_the_building_subsidy(tmp_path: Path) -> None:
    """With F-BUILD-SUBSIDY, an upgrade station's facilities money (its subsidy) is the city's."""
    s = _settings(social_max=None)
    s["clauses"]["F-BUILD-SUBSIDY"] = {"new_station": 0, "upgraded_station": 10000}
    s["clauses"]["F-BUILD"] = {"new": 0, "upgraded": 1, "total": 1}
    t = _tables()
    t["stations"].loc[2, "status"] = "upgrade"
    inst_dir = write_instance(tmp_path / "u", s, t)
    plan = solve_instance(load(inst_dir), options=EXACT)
    assert plan.status.has_solution
    src = plan.tables["sources"].set_index(["station_id", "source"])["yuan"]
    fac = plan.tables["budget"].set_index("station_id")["facilities"]
    assert fac["S3"] == pytest.approx(10000.0, abs=0.01)
    assert src[("S3", "city")] == pytest.approx(20000.0 + 10000.0, abs=0.01)
    assert src[("S1", "city")] == pytest.approx(20000.0, abs=0.01)
    # the money: 300,000 less 60,000 pay and 10,000 subsidy buys 230 residents (fiscal 210,000 >= 130,000)
    assert float(plan.tables["coverage"]["covered"].sum()) == pytest.approx(230.0, abs=0.011)
    out = tmp_path / "plan"
    write_plan(plan, out)
    assert _verify(inst_dir, out).exit_code == 0


def test_horizon_shares_resolve_per_year(tmp_path: Path) -> None:
    """Two years (the horizon tests' instance): each year's sources hold that year's F-SOURCES shares."""
    from tests.station import test_horizon as th

    d = tmp_path / "two"
    d.mkdir()
    toml = th.TOML + """
[clauses.F-SOURCES.fiscal]
2024 = 0.9
2025 = 0.7

[clauses.F-SOURCES.social]
2024 = 0.1
2025 = 0.2

[clauses.F-SOURCES.revenue]
2024 = 0.0
2025 = 0.1

[clauses.F-OPS-SUBSIDY]
per_worker = 1000
county_match = 1
"""
    (d / "instance.toml").write_text(toml)
    for name, text in (("stations", th.STATIONS), ("groups", th.GROUPS), ("services", th.SERVICES),
                       ("staff", th.STAFF), ("departments", th.DEPARTMENTS), ("packages", th.PACKAGES)):
        (d / f"{name}.csv").write_text(text)
    plan = solve_instance(load(d), options=EXACT)
    assert plan.status.has_solution
    src = plan.tables["sources"]
    assert set(src["year"]) == {2024, 2025}
    want = {2024: (0.9, 0.1, 0.0), 2025: (0.7, 0.2, 0.1)}
    sw = plan.tables["staff"].groupby("year")["social_workers"].sum()
    for y, (fiscal, social, fees) in want.items():
        by = src[src["year"] == y].groupby("source")["yuan"].sum()
        whole = float(by.sum())
        assert whole > 0
        assert by["city"] + by["county"] == pytest.approx(fiscal * whole, abs=0.05)
        assert by["social"] == pytest.approx(social * whole, abs=0.05)
        assert by["fees"] == pytest.approx(fees * whole, abs=0.05)
        assert by["county"] >= 1000.0 * sw[y] - 0.05  # one county: it matches the city's subsidy 1 : 1
    out = tmp_path / "plan"
    write_plan(plan, out)
    res = _verify(d, out)
    assert res.exit_code == 0, res.output
    # 2025's shares moved: all of S1's 2025 social funds booked as county money
    df = pd.read_csv(out / "sources.csv", dtype={"station_id": str})
    at = (df["year"] == 2025) & (df["station_id"] == "S1")
    moved = float(df.loc[at & (df["source"] == "social"), "yuan"].iloc[0])
    assert moved > 0
    df.loc[at & (df["source"] == "social"), "yuan"] = 0.0
    df.loc[at & (df["source"] == "county"), "yuan"] += moved
    df.to_csv(out / "sources.csv", index=False)
    res = _verify(d, out)
    assert res.exit_code == 7 and "F-SOURCES" in res.output and "2025" in res.output, res.output
