"""diagnose, whatif, prices, assign --year and decompose on a horizon instance (issue 14).

The instance is the hand-made 2-station, 2-year one of ``tests/station/test_horizon.py`` (S1 urban with
three uncertified social workers, S2 rural and new; a social worker covers 10 residents; year weights 1
and 2; F-HIRING recruited 2 in 2024 and 1 in 2025; turnover 50 % then 25 %).  Its optimum (brute force in
that file) is 120: S2 is built in 2024, both 2024 hires and the 2025 hire are taken.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import load
from allocator.scenario import apply_changes, horizon_totals, whatif
from allocator.station import solve_instance, write_plan
from cli import main
from solvers import SolveOptions
from tests.station import test_horizon as th


def _write(d: Path, extra: str = "") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "instance.toml").write_text(th.TOML + extra)
    for name, text in (("stations", th.STATIONS), ("groups", th.GROUPS), ("services", th.SERVICES),
                       ("staff", th.STAFF), ("departments", th.DEPARTMENTS), ("packages", th.PACKAGES)):
        (d / f"{name}.csv").write_text(text)
    return d


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("hz") / "two")


@pytest.fixture(scope="module")
def two_plan(two: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hzplan") / "P"
    write_plan(solve_instance(load(two), options=SolveOptions(mip_gap=0.0)), out)
    return out


def test_diagnose_names_the_year_of_each_relaxation(tmp_path: Path) -> None:
    # 20 in post by 2025 cannot be reached: 3 in post today, at most 2 + 1 hires
    bad = _write(tmp_path / "bad", "\n[clauses.F-HIRING.in_post]\n2025 = 20\n")
    r = CliRunner().invoke(main, ["diagnose", str(bad), "--time-limit", "60", "--json"])
    assert r.exit_code == 3, r.output
    d = json.loads(r.output)
    years = {(x["clause_id"], x["family"], x["year"]) for x in d["smallest_relaxation"]}
    assert {("F-HIRING", "recruited", 2024), ("F-HIRING", "recruited", 2025)} <= years
    alt = {(x["clause_id"], x["family"], x["year"]): x for x in d["alternatives"]}
    # in post 2025 alone: 2024 ends with at most 3 - 1 + 2 = 4 (50 % of 3 leaves: 1 or 2); 2025's leavers are
    # 25 % of 4 = exactly 1 (the band is narrower than 2), plus 1 hire: at most 4 fit, so 20 falls by 16
    assert alt[("F-HIRING", "in_post", 2025)]["amount"] == pytest.approx(16.0)
    assert "F-HIRING 2025 (" in alt[("F-HIRING", "in_post", 2025)]["text"]
    assert "20 in post, but at most 4 fit" in alt[("F-HIRING", "in_post", 2025)]["text"]
    assert "in_post 2025: 20" in d["conflicts"][0]["text"]


def test_whatif_compares_the_horizons_totals_and_each_year(two: Path) -> None:
    w = whatif(load(two), {"F-HIRING.recruited.2025": 2}, options=SolveOptions(mip_gap=0.0))
    t = w.totals.set_index("figure")
    # one more hire in 2025 covers 10 more residents in 2025 (weight 2: objective +20)
    assert t.loc["objective", "change"] == pytest.approx(20.0)
    assert t.loc["horizon sw_hired", "baseline"] == 3 and t.loc["horizon sw_hired", "changed"] == 4
    assert t.loc["2024 sw_hired", "change"] == 0 and t.loc["2025 sw_hired", "change"] == 1
    assert t.loc["2025 need_covered", "change"] == pytest.approx(10.0)
    # the construction of S2 is paid in 2024: the horizon's money counts it, the last year alone does not
    assert t.loc["horizon money_facilities", "baseline"] == pytest.approx(100_000)
    assert t.loc["2025 money_total", "baseline"] == pytest.approx(0.0)


def test_horizon_totals_sum_flows_and_keep_the_end_stock(two: Path) -> None:
    plan = solve_instance(load(two), options=SolveOptions(mip_gap=0.0))
    h = horizon_totals(plan)
    path = plan.tables["path"]
    assert h["horizon sw_hired"] == path["sw_hired"].sum()
    assert h["horizon sw_in_post (end)"] == path["sw_in_post"].iloc[-1]


def test_whatif_sets_one_year_of_a_path() -> None:
    inst = load(Path(__file__).resolve().parent.parent / "instances" / "fuzhou")
    changed = apply_changes(inst, {"F-CERT-RATE.share.2025": 0.25})
    got = [changed.for_year(y).clause("F-CERT-RATE").figures["share"] for y in changed.years]  # type: ignore[union-attr]
    assert got == pytest.approx([0.18, 0.25, 0.35])


def test_prices_moves_a_path_in_every_year(two: Path) -> None:
    r = CliRunner().invoke(main, ["prices", str(two), "--time-limit", "60", "--json"])
    assert r.exit_code == 0, r.output
    rows = {(p["clause_id"], p["family"]): p for p in json.loads(r.output)["prices"]}
    hiring = rows[("F-HIRING", "recruited")]
    # recruited 3 in 2024 and 2 in 2025: S1 +10 residents in both years (weights 1 + 2) and +10 in 2025 (2)
    assert hiring["step"] == 1.0 and hiring["step_gain"] == pytest.approx(50.0, abs=1e-3)


@pytest.mark.parametrize("year", [2024, 2025])
def test_assign_year_lists_only_that_years_hires(two: Path, two_plan: Path, tmp_path: Path, year: int) -> None:
    out = tmp_path / f"A{year}"
    r = CliRunner().invoke(main, ["assign", str(two), str(two_plan), "--year", str(year), "--out", str(out),
                                  "--time-limit", "60"])
    assert r.exit_code == 0, r.output
    hires = pd.read_csv(two_plan / "hires.csv")
    staff = pd.read_csv(two_plan / "staff.csv")
    listed = pd.read_csv(out / "hires.csv")
    assert int(listed["hires"].sum()) == int(hires.loc[hires["year"] == year, "hires"].sum())
    roster = pd.read_csv(out / "roster.csv")
    in_post = int(staff.loc[staff["year"] == year, "social_workers"].sum())
    assert len(roster) + int(listed["hires"].sum()) == in_post  # the stock in post = roster + that year's hires
    if year == 2025:
        assert roster["worker_id"].str.startswith("hire-2024-").sum() >= 1  # 2024's hires are in post now
    assert json.loads((out / "assignment.json").read_text())["year"] == year
    given = pd.read_csv(out / "staff_in_post.csv")
    assert sorted(given["worker_id"]) == sorted(roster["worker_id"])  # the roster places exactly that staff


def test_decompose_refuses_a_horizon_naming_why(two: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["solve", str(two), "--method", "decompose", "--out", str(tmp_path / "P")])
    assert r.exit_code == 2
    assert "horizon-wide rows" in r.output and "--method monolithic" in r.output


def test_sweep_on_a_horizon_sums_money_and_need_over_the_years(two: Path, tmp_path: Path) -> None:
    sc = tmp_path / "sc.toml"
    sc.write_text('[[scenario]]\nname = "baseline"\nset = {}\n\n[[scenario]]\nname = "more-2025"\n'
                  'set = {"F-HIRING.recruited.2025" = 2}\n')
    r = CliRunner().invoke(main, ["sweep", str(two), str(sc), "--out", str(tmp_path / "SW"), "--workers", "1",
                                  "--time-limit", "60"])
    assert r.exit_code == 0, r.output
    res = pd.read_csv(tmp_path / "SW" / "results.csv").set_index("name")
    assert res.loc["baseline", "objective"] == pytest.approx(120.0)
    assert res.loc["more-2025", "objective"] == pytest.approx(140.0)
    # S2's construction is paid in 2024 (100,000): a last-year-only total would read 0
    assert res.loc["baseline", "money_facilities"] == pytest.approx(100_000)
    assert res.loc["baseline", "covered"] == pytest.approx(80.0)  # 40 residents in each year
    assert res.loc["more-2025", "social_workers"] == 5  # in post in the last year


def test_horizon_totals_give_shares_in_per_cent(two: Path) -> None:
    plan = solve_instance(load(two), options=SolveOptions(mip_gap=0.0))
    h = horizon_totals(plan)
    path = plan.tables["path"].set_index("year")
    assert h["2025 certified %"] == pytest.approx(100 * path.loc[2025, "certified_share"])
