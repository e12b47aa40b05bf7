"""F-DEGREE and F-YOUNG on hires and in the stock (issue 15): a 3-station one-year instance and a 2-station
2-year instance against brute force, the stock's shares by hand, and broken plans failing verify (exit 7,
naming clause and year)."""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import load
from allocator.station import solve_instance, write_plan
from cli import main
from solvers import SolveOptions
from tests.station.test_horizon import _band

COMMON = """
[objective]
cost_weight = {cw}
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
annual_cost = {pay}

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
"""
SERVICES = "service_id,name,kind,groups,annual_cost,staff_hours\ncare,Care,basic,elderly,0,0\n"
DEPARTMENTS = "department_id,name,budget,max_packages\nhealth,Health,0,0\n"
PACKAGES = ("package_id,department_id,name,groups,residents_served,cost,staff_hours,eligible,copies\n"
            "P1,health,Visits,elderly,1,0,0,all,1\n")
HEAD = "worker_id,station_id,type,certified,level,local_registration,years_of_service,bachelor,age\n"
STATION_HEAD = ("station_id,name,county,area_type,status,one_stop,population,households,floor_area_m2,"
                "building_age_years,zone_admin,zone_service,zone_activity,accessible\n")
PER_WORKER = 10  # residents one social worker covers (1000 hours / 100 hours per resident)

# --- one year: three stations --------------------------------------------------------------------------------
ONE_TOML = """
[instance]
name = "three stations, profile"
year = 2026
currency = "CNY"

[clauses.F-DEGREE]
mode = "soft"
penalty = 2.0
share = 0.6
hire_premium = 6000.0

[clauses.F-YOUNG]
mode = "soft"
penalty = 3.0
share = 0.5
age_below = 35
""" + COMMON.format(cw=1e-4, pay=40000.0)
ONE_STATIONS = STATION_HEAD + "".join(
    f"S{i},St{i},North,urban,existing,true,1000,400,100,5,0.2,0.6,0.2,true\n" for i in (1, 2, 3))
ONE_DEMAND = {"S1": 50, "S2": 30, "S3": 20}
ONE_GROUPS = "station_id,group,residents\n" + "".join(f"{s},elderly,{d}\n" for s, d in ONE_DEMAND.items())
# today: 4 social workers, 2 with a bachelor's degree (S1, S3), 2 under 35 (S1's 30, S3's 34)
ONE_STAFF = HEAD + ("W1,S1,social_worker,false,none,true,1,true,30\n"
                    "W2,S1,social_worker,false,none,true,1,false,40\n"
                    "W3,S2,social_worker,false,none,true,1,false,50\n"
                    "W4,S3,social_worker,false,none,true,1,true,34\n")
ONE_IN_POST = {"S1": 2, "S2": 1, "S3": 1}


def _folder(d: Path, toml: str, stations: str, groups: str, staff: str) -> Path:
    (d / "instance.toml").write_text(toml)
    for name, text in (("stations", stations), ("groups", groups), ("services", SERVICES), ("staff", staff),
                       ("departments", DEPARTMENTS), ("packages", PACKAGES)):
        (d / f"{name}.csv").write_text(text)
    return d


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(tmp_path_factory.mktemp("one"), ONE_TOML, ONE_STATIONS, ONE_GROUPS, ONE_STAFF)


@pytest.fixture(scope="module")
def one_plan(one: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan = solve_instance(load(one), options=SolveOptions(mip_gap=0.0))
    out = tmp_path_factory.mktemp("plan1") / "P"
    write_plan(plan, out)
    return out


def brute_one() -> tuple[float, int, int, int]:
    """Best objective over social workers per station and profile hires (totals: where they go does not matter
    beyond hb, hy <= hires).  Objective = need covered - 1e-4 x (40,000 per worker + 6,000 per bachelor hire)
    - 2 x F-DEGREE shortfall - 3 x F-YOUNG shortfall."""
    best = (-math.inf, 0, 0, 0)
    ranges = [range(ONE_IN_POST[s], ONE_DEMAND[s] // PER_WORKER + 2) for s in ONE_DEMAND]
    for sw in itertools.product(*ranges):
        total = sum(sw)
        hires = total - 4
        covered = sum(min(d, PER_WORKER * n) for d, n in zip(ONE_DEMAND.values(), sw, strict=True))
        for hb in range(hires + 1):
            for hy in range(hires + 1):
                value = (covered - 1e-4 * (40000 * total + 6000 * hb) - 2 * max(0.0, 0.6 * total - (2 + hb))
                         - 3 * max(0.0, 0.5 * total - (2 + hy)))
                if value > best[0] + 1e-9:
                    best = (value, total, hb, hy)
    return best


def test_one_year_matches_brute_force(one: Path) -> None:
    plan = solve_instance(load(one), options=SolveOptions(mip_gap=0.0))
    assert plan.status.value == "optimal"
    value, total, hb, hy = brute_one()
    assert plan.objective == pytest.approx(value, abs=1e-6)
    staff = plan.tables["staff"]
    assert int(staff["social_workers"].sum()) == total == 10       # every need met: 5 + 3 + 2
    # six hires: a bachelor costs 0.6 and saves 2 per worker short, so (0.6 x 10 - 2 =) 4 are bachelors;
    # young hires are free: (0.5 x 10 - 2 =) 3 of them, no more needed
    assert int(staff["sw_hires_bachelor"].sum()) == hb == 4
    assert int(staff["sw_hires_young"].sum()) >= 3
    hires = staff["social_workers"] - staff["station_id"].map(ONE_IN_POST)
    assert (staff["sw_hires_bachelor"] <= hires).all() and (staff["sw_hires_young"] <= hires).all()
    prof = plan.tables["profile"].iloc[0]
    assert (prof["bachelor"], prof["bachelor_share"], prof["young_share"]) == (6.0, 0.6, pytest.approx(
        (2 + int(staff["sw_hires_young"].sum())) / 10))
    # the premium is paid: salaries = 40,000 x 10 + 6,000 x 4
    assert float(plan.tables["budget"]["salaries"].sum()) == pytest.approx(424000.0)


def test_one_year_plan_passes_verify(one: Path, one_plan: Path) -> None:
    r = CliRunner().invoke(main, ["verify", str(one), str(one_plan)])
    assert r.exit_code == 0, r.output


def _edit_csv(path: Path, fn) -> None:  # type: ignore[no-untyped-def]
    df = pd.read_csv(path, dtype={"station_id": str})
    fn(df)
    df.to_csv(path, index=False)


def _set(df: pd.DataFrame, mask: object, col: str, value: object) -> None:
    df.loc[mask, col] = value


@pytest.mark.parametrize("edit, clause, where", [
    ("bachelor share overstated", "F-DEGREE", "2026"),
    ("young hires above the hires", "F-YOUNG", "S2 2026"),
    ("bachelor hires invented", "F-DEGREE", "2026"),
    ("premium not paid", "F-DEGREE", "S1 2026"),
])
def test_broken_one_year_plan_fails_verify(one: Path, one_plan: Path, tmp_path: Path, edit: str, clause: str,
                                           where: str) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(one_plan, bad)
    if edit == "bachelor share overstated":
        _edit_csv(bad / "profile.csv", lambda d: _set(d, d.index == 0, "bachelor_share", 0.9))
    elif edit == "young hires above the hires":
        # S2 hires 2 (3 - 1 in post): 5 young hires there is more than it hires
        _edit_csv(bad / "staff.csv", lambda d: _set(d, d["station_id"] == "S2", "sw_hires_young", 5))
    elif edit == "bachelor hires invented":
        # every hire a bachelor (6, within each station's hires): clauses.csv and profile.csv no longer follow
        _edit_csv(bad / "staff.csv", lambda d: _set(d, slice(None), "sw_hires_bachelor",
                                                    d["social_workers"] - d["station_id"].map(ONE_IN_POST)))
    elif edit == "premium not paid":
        # S1's salaries at the base pay of its 5 workers only: its bachelor hires' premium is missing
        _edit_csv(bad / "budget.csv", lambda d: _set(d, d["station_id"] == "S1", "salaries", 200000.0))
    r = CliRunner().invoke(main, ["verify", str(one), str(bad)])
    assert r.exit_code == 7, r.output
    failing = [ln for ln in r.output.splitlines() if clause in ln and "FAIL" in ln.upper()]
    assert failing, r.output
    assert where in r.output, r.output


# --- two years: two stations -----------------------------------------------------------------------------------
TWO_TOML = """
[instance]
name = "two stations, two years, profile"
years = [2024, 2025]
currency = "CNY"

[horizon]
weights = [1.0, 2.0]
upgrades_per_year = 0

[clauses.F-TURNOVER.rate]
2024 = 0.5
2025 = 0.25

[clauses.F-HIRING.recruited]
2024 = 2
2025 = 2

[clauses.F-DEGREE]
mode = "soft"
penalty = 3.0

[clauses.F-DEGREE.share]
2024 = 0.5
2025 = 0.75

[clauses.F-YOUNG]
mode = "soft"
penalty = 4.0
age_below = 35

[clauses.F-YOUNG.share]
2024 = 0.5
2025 = 0.6
""" + COMMON.format(cw=0.0, pay=0.0)
TWO_STATIONS = STATION_HEAD + ("S1,One,North,urban,existing,true,1000,400,100,5,0.2,0.6,0.2,true\n"
                               "S2,Two,North,rural,existing,false,1000,400,100,5,0.2,0.6,0.2,true\n")
TWO_DEMAND = {"S1": 40, "S2": 10}
TWO_GROUPS = "station_id,group,residents\nS1,elderly,40\nS2,elderly,10\n"
# today 3 at S1: one bachelor aged 34 (leaves the band in 2025), one aged 30, one aged 50
TWO_STAFF = HEAD + ("W1,S1,social_worker,false,none,true,1,true,34\n"
                    "W2,S1,social_worker,false,none,true,1,false,30\n"
                    "W3,S1,social_worker,false,none,true,1,false,50\n")


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(tmp_path_factory.mktemp("two"), TWO_TOML, TWO_STATIONS, TWO_GROUPS, TWO_STAFF)


@pytest.fixture(scope="module")
def two_plan(two: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan = solve_instance(load(two), options=SolveOptions(mip_gap=0.0))
    out = tmp_path_factory.mktemp("plan2") / "P"
    write_plan(plan, out)
    return out




def profile_stock(hires: tuple[int, int]) -> tuple[list[float], list[float]]:
    """Bachelors and young per year by hand when every hire has the mark (they are free here).

    Bachelors: 1 today; 2024 keeps 50 %, 2025 75 %.  Young: today's W1 (34) and W2 (30) are young in 2024,
    only W2 in 2025; hired young leave the band at g = 1/2 (W1 is 34 of the 2 young) the year after."""
    b24 = 1 * 0.5 + hires[0]
    b25 = b24 * 0.75 + hires[1]
    y24 = 2 * 0.5 + hires[0]
    y25 = 1 * 0.5 * 0.75 + hires[0] * (1 - 0.25 - 0.5) + hires[1]
    return [b24, b25], [y24, y25]


def brute_two() -> float:
    """Best weighted objective: coverage (S1 40, S2 10 residents, 10 per worker) less 3 x the degree and 4 x the
    young shortfall per year, over hires per station and year (<= 2 a year) and leavers within the band."""
    best = -math.inf
    for h24 in itertools.product(range(3), repeat=2):
        if sum(h24) > 2:
            continue
        for l24 in _band(0.5, 3):
            s24 = (3 - l24 + h24[0], h24[1])
            for h25 in itertools.product(range(3), repeat=2):
                if sum(h25) > 2:
                    continue
                for la in _band(0.25, s24[0]):
                    for lb in _band(0.25, s24[1]):
                        if abs(la + lb - 0.25 * sum(s24)) >= 1:
                            continue
                        s25 = (s24[0] - la + h25[0], s24[1] - lb + h25[1])
                        bach, young = profile_stock((sum(h24), sum(h25)))
                        value = 0.0
                        for k, (w, stock) in enumerate(((1.0, s24), (2.0, s25))):
                            sw = sum(stock)
                            value += w * sum(min(d, PER_WORKER * n) for d, n in zip(TWO_DEMAND.values(), stock,
                                                                                    strict=True))
                            value -= w * 3 * max(0.0, (0.5, 0.75)[k] * sw - bach[k])
                            value -= w * 4 * max(0.0, (0.5, 0.6)[k] * sw - young[k])
                        best = max(best, value)
    return best


def test_two_year_matches_brute_force(two: Path) -> None:
    plan = solve_instance(load(two), options=SolveOptions(mip_gap=0.0))
    assert plan.status.value == "optimal"
    assert plan.objective == pytest.approx(brute_two(), abs=1e-6)
    prof = plan.tables["profile"].set_index("year")
    hires = plan.tables["hires"]
    sw_h = hires[hires["type"] == "social_worker"].groupby("year")["hires"].sum().reindex([2024, 2025], fill_value=0)
    bach, young = profile_stock((int(sw_h[2024]), int(sw_h[2025])))
    assert list(prof["bachelor_hires"]) == list(sw_h) == list(prof["young_hires"])  # free marks: every hire
    assert list(prof["bachelor"]) == pytest.approx(bach)
    assert list(prof["young"]) == pytest.approx(young)
    assert (hires["bachelor"] <= hires["hires"]).all() and (hires["young"] <= hires["hires"]).all()


def test_two_year_plan_passes_verify(two: Path, two_plan: Path) -> None:
    r = CliRunner().invoke(main, ["verify", str(two), str(two_plan)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("edit, clause, where", [
    ("young share overstated", "F-YOUNG", "2025"),
    ("bachelor hires above the row's hires", "F-DEGREE", "2024"),
    ("profile stock edited", "F-DEGREE", "2025"),
])
def test_broken_two_year_plan_fails_verify(two: Path, two_plan: Path, tmp_path: Path, edit: str, clause: str,
                                           where: str) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(two_plan, bad)
    if edit == "young share overstated":
        _edit_csv(bad / "profile.csv", lambda d: _set(d, d["year"] == 2025, "young_share", 0.99))
    elif edit == "bachelor hires above the row's hires":
        def more(d: pd.DataFrame) -> None:
            rows = d.index[(d["year"] == 2024) & (d["type"] == "social_worker")]
            d.loc[rows[0], "bachelor"] = int(d.loc[rows[0], "hires"]) + 1
        _edit_csv(bad / "hires.csv", more)
    elif edit == "profile stock edited":
        _edit_csv(bad / "profile.csv", lambda d: _set(d, d["year"] == 2025, "bachelor", 9.0))
    r = CliRunner().invoke(main, ["verify", str(two), str(bad)])
    assert r.exit_code == 7, r.output
    failing = [ln for ln in r.output.splitlines() if clause in ln and "FAIL" in ln.upper()]
    assert failing, r.output
    assert where in r.output, r.output


def test_hiring_list_holds_the_profile_hires(one: Path, one_plan: Path) -> None:
    """The roster's hiring list (allocator assign) lists per station the hires the plan's profile counts fit in."""
    from allocator.assign.roster import hiring_list
    from allocator.station import read_plan

    plan_staff = pd.read_csv(one_plan / "staff.csv", dtype={"station_id": str}).set_index("station_id")
    _, hires = hiring_list(load(one), read_plan(one_plan))
    listed = hires[hires["post"].astype(str).str.startswith("sw")].groupby("station_id")["hires"].sum()
    listed = listed.reindex(plan_staff.index, fill_value=0)
    assert (listed == plan_staff["social_workers"] - pd.Series(ONE_IN_POST)).all()
    assert (plan_staff["sw_hires_bachelor"] <= listed).all() and (plan_staff["sw_hires_young"] <= listed).all()
