"""The multi-year seeds solved as a budget officer reads them (issue 14, "Done when").

``allocator solve instances/fuzhou --out P`` writes ``P/path.csv``; each year's line is held here against the
figures of POLICY.md ("The path, year by year", F §F8.1-F8.3), computed from the plan's tables with pandas,
not with the engine's or the verifier's code.  District A's 2024-2027 path solves and verifies the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
# Each multi-year seed takes minutes to a first plan with every issue-15 family in force (benchmarks/README.md,
# "The multi-year seeds"): a slow case, run by benchmarks/slow_cases.py.  The 2-station 2-year instance of
# tests/station/test_horizon.py holds the same rules in the suite, against brute force.
pytestmark = pytest.mark.skipif(os.environ.get("ALLOCATOR_SLOW_CASES") != "1",
                                reason="slow case: run by benchmarks/slow_cases.py")

# POLICY.md, document F, year by year.
#  year  turnover  certified  stations open  demonstration  operations (yuan)
F_PATH = pd.DataFrame(
    [(2024, 0.25, 0.18, 0.90, 0, 30_000_000),
     (2025, 0.20, 0.30, 1.00, 10, 45_000_000),
     (2026, 0.15, 0.35, 1.00, 15, 45_000_000)],
    columns=["year", "turnover", "certified", "open_share", "demo_min", "operations"],
).set_index("year")
F_CONSTRUCTION = 45_000_000   # F-TOTAL: construction over 2024-2026
F_TOTAL = 180_000_000         # F-TOTAL: the three years in all


def _solve(name: str, out: Path) -> Path:
    r = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / name), "--out", str(out),
                                  "--time-limit", "300"])
    # 0: optimal within the gap; 1: a plan stopped by the limit, its gap reported (the three-year Fuzhou
    # search ends about 12 % from its bound in 300 s: benchmarks/README.md)
    assert r.exit_code in (0, 1), r.output
    return out


@pytest.fixture(scope="module")
def fuzhou_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _solve("fuzhou", tmp_path_factory.mktemp("fuzhou") / "plan")


def _read(plan: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(plan / f"{name}.csv", dtype={"station_id": str})


def test_fuzhou_path_per_year(fuzhou_plan: Path) -> None:
    path = _read(fuzhou_plan, "path").set_index("year")
    assert list(path.index) == [2024, 2025, 2026]
    today = pd.read_csv(ROOT / "instances" / "fuzhou" / "staff.csv")
    start = float((today["type"] == "social_worker").sum())
    stations = pd.read_csv(ROOT / "instances" / "fuzhou" / "stations.csv", dtype={"station_id": str})
    for year, want in F_PATH.iterrows():
        got = path.loc[year]
        # leavers are F-TURNOVER's rate of the stock at the start of the year, rounded (+-1 in all)
        assert abs(got["sw_left"] - want["turnover"] * start) <= 1.0, (year, got["sw_left"], start)
        # stock identity on the path line: in post = start - left + hired
        assert got["sw_in_post"] == pytest.approx(start - got["sw_left"] + got["sw_hired"], abs=1e-6), year
        start = float(got["sw_in_post"])
        assert got["stations_open"] >= want["open_share"] * len(stations) - 1e-9, year
        assert got["demo_stations"] >= want["demo_min"], year
        assert got["money_operations"] <= want["operations"] * (1 + 1e-9), year
    assert path["money_facilities"].sum() <= F_CONSTRUCTION * (1 + 1e-9)
    assert path["money_total"].sum() <= F_TOTAL * (1 + 1e-9)


def test_fuzhou_certified_share_or_its_deviation(fuzhou_plan: Path) -> None:
    """Each year's certified share reaches F-CERT-RATE's figure, or the plan reports the deviation."""
    path = _read(fuzhou_plan, "path").set_index("year")
    clauses = _read(fuzhou_plan, "clauses")
    for year, want in F_PATH.iterrows():
        short = (want["certified"] * path.loc[year, "sw_in_post"] - path.loc[year, "certified_share"]
                 * path.loc[year, "sw_in_post"])
        reported = clauses.query("clause_id == 'F-CERT-RATE' and family == 'certified' and year == @year")
        assert len(reported) == 1, year
        assert float(reported["deviation"].iloc[0]) == pytest.approx(max(short, 0.0), abs=0.01), year


def test_fuzhou_demonstration_stations_one_per_county_from_2025(fuzhou_plan: Path) -> None:
    st = _read(fuzhou_plan, "stations")
    counties = pd.read_csv(ROOT / "instances" / "fuzhou" / "stations.csv", dtype={"station_id": str})
    st = st.merge(counties[["station_id", "county"]], on="station_id")
    for year in (2025, 2026):
        per_county = st[st["year"] == year].groupby("county")["demo"].sum()
        assert (per_county >= 1).all(), (year, per_county[per_county < 1])
    assert st.loc[st["year"] == 2024, "demo"].sum() == 0


def test_fuzhou_every_group_at_its_floor_each_year(fuzhou_plan: Path) -> None:
    """X-FLOOR of the seed: 2.5 % of each group's need in 2024's half year, 5 % from 2025."""
    path = _read(fuzhou_plan, "path").set_index("year")
    floor = {2024: 0.025, 2025: 0.05, 2026: 0.05}
    cov = path[[c for c in path.columns if c.startswith("coverage_")]]
    for year, row in cov.iterrows():
        assert (row >= floor[int(year)] - 1e-6).all(), (year, row[row < floor[int(year)]])


def test_fuzhou_path_plan_verifies(fuzhou_plan: Path) -> None:
    r = CliRunner().invoke(main, ["verify", str(ROOT / "instances" / "fuzhou"), str(fuzhou_plan)])
    assert r.exit_code == 0, r.output[:3000]
    assert "PASS" in r.output.splitlines()[0]


def test_a_district_path_solves_and_verifies(tmp_path: Path) -> None:
    plan = _solve("a-district", tmp_path / "plan")
    path = _read(plan, "path").set_index("year")
    assert list(path.index) == [2024, 2025, 2026, 2027]
    st = _read(plan, "staff").merge(_read(plan, "stations")[["year", "station_id", "active"]],
                                    on=["year", "station_id"])
    # A-CERT-MIN from 2025 (§A3.2, short-term target 2024-2025): 2 certified social workers per community
    # in operation
    certified = st[(st["year"] >= 2025) & (st["active"] == 1)].groupby(["year", "station_id"])["certified"].sum()
    assert (certified >= 2 - 1e-6).all(), certified[certified < 2]
    r = CliRunner().invoke(main, ["verify", str(ROOT / "instances" / "a-district"), str(plan)])
    assert r.exit_code == 0, r.output[:3000]
