"""Packages onto stations (exact, vs brute force) and the roster / hiring list."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.assign import assign_packages, hiring_list, spare_hours
from allocator.instance import load
from allocator.station import solve_instance, write_plan
from cli import main
from solvers import SolveOptions, Status
from tests.conftest import write_instance


def _two_station_instance(tmp_path: Path, mini_settings: dict, mini_tables: dict) -> Path:
    st = mini_tables["stations"]
    st2 = pd.concat([st, st.assign(station_id="S2", name="Two", area_type="rural", population=800,
                                   households=300)], ignore_index=True)
    groups = pd.DataFrame([{"station_id": "S1", "group": "elderly", "residents": 500},
                           {"station_id": "S2", "group": "elderly", "residents": 600}])
    staff = pd.concat([mini_tables["staff"], mini_tables["staff"].assign(worker_id="W2", station_id="S2")])
    deps = pd.DataFrame([{"department_id": "health", "name": "Health", "budget": 300000, "max_packages": 2},
                         {"department_id": "civil", "name": "Civil affairs", "budget": 100000, "max_packages": 1}])
    pk = pd.DataFrame([
        {"package_id": "P1", "department_id": "health", "name": "Chronic care", "groups": "elderly",
         "residents_served": 120, "cost": 150000, "staff_hours": 300, "eligible": "all", "copies": 2},
        {"package_id": "P2", "department_id": "civil", "name": "Fund", "groups": "elderly",
         "residents_served": 80, "cost": 90000, "staff_hours": 100, "eligible": "rural", "copies": 1},
        {"package_id": "P3", "department_id": "health", "name": "Check-ups", "groups": "elderly",
         "residents_served": 60, "cost": 50000, "staff_hours": 150, "eligible": "S1", "copies": 1},
    ])
    mini_settings["clauses"]["A-BUDGET-PERCAP"]["per_capita"] = 120
    mini_settings["clauses"].pop("F-SW-URBAN")
    tables = {**mini_tables, "stations": st2, "groups": groups, "staff": staff, "departments": deps, "packages": pk}
    return write_instance(tmp_path / "two", mini_settings, tables)


def test_packages_match_brute_force(tmp_path: Path, mini_settings: dict, mini_tables: dict) -> None:
    inst = load(_two_station_instance(tmp_path, mini_settings, mini_tables))
    plan = solve_instance(inst, options=SolveOptions(mip_gap=1e-9))
    write_plan(plan, tmp_path / "plan")
    res = assign_packages(inst, plan)
    assert res.status is Status.OPTIMAL
    # Brute force: every copy goes to S1, S2 or nowhere; check capacities, eligibility, departments.
    spare = np.floor(spare_hours(inst, {n: pd.read_csv(tmp_path / "plan" / f"{n}.csv") for n in
                                        ("staff", "coverage", "services", "stations")}))
    cov = plan.tables["coverage"].set_index("station_id")
    left = (cov["demand"] - cov["covered"]).to_numpy()
    copies = [("P1", "health", 120, 150000, 300, {0, 1}), ("P1", "health", 120, 150000, 300, {0, 1}),
              ("P2", "civil", 80, 90000, 100, {1}), ("P3", "health", 60, 50000, 150, {0})]
    budget = {"health": 300000, "civil": 100000}
    count = {"health": 2, "civil": 1}
    best = 0.0
    for choice in itertools.product((-1, 0, 1), repeat=len(copies)):
        hours = np.zeros(2)
        spent = {"health": 0.0, "civil": 0.0}
        used = {"health": 0, "civil": 0}
        value = 0.0
        ok = True
        for (_pid, dep, served, cost, h, elig), s in zip(copies, choice, strict=True):
            if s < 0:
                continue
            if s not in elig or left[s] <= 0:
                ok = False
                break
            hours[s] += h
            spent[dep] += cost
            used[dep] += 1
            value += round(min(served, left[s]))
        if ok and (hours <= spare).all() and all(spent[d] <= budget[d] and used[d] <= count[d] for d in budget):
            best = max(best, value)
    assert res.objective == pytest.approx(best)
    assert set(res.placements.columns) >= {"package_id", "department_id", "station_id"}


def test_roster_keeps_everyone_and_lists_the_hires(tmp_path: Path, mini_settings: dict, mini_tables: dict) -> None:
    """The roster on the two-station instance: nobody moves, every post filled or hired, F-LOCAL-HIRE at
    the rural station; written by `allocator assign` and passed by `allocator verify --assignment`."""
    mini_settings["clauses"]["F-LOCAL-HIRE"] = {"share": 0.4}
    mini_settings["clauses"]["F-SW-RURAL"] = {"per_station": 4}       # posts to hire at the rural station
    folder = _two_station_instance(tmp_path, mini_settings, mini_tables)
    inst = load(folder)
    plan = solve_instance(inst, options=SolveOptions(mip_gap=1e-9))
    write_plan(plan, tmp_path / "plan")
    roster, hires = hiring_list(inst, plan)
    assert len(roster) == len(inst.staff) and roster["moved"].sum() == 0
    staff = plan.tables["staff"].set_index("station_id")
    # every post is filled by someone in post (possibly after certification) or listed as a hire
    sw_hires = hires[hires["post"].str.startswith("sw")].groupby("station_id")["hires"].sum()
    sw_in_post = pd.Series(inst.staff["station_id"]).value_counts()
    for s in staff.index:
        assert sw_in_post.get(s, 0) + sw_hires.get(s, 0) == staff.loc[s, "social_workers"]
    # F-LOCAL-HIRE at the rural S2: its worker in post is local; the hires make up the share
    s2 = hires[(hires["station_id"] == "S2") & hires["post"].str.startswith("sw")]
    n_sw = staff.loc["S2", "social_workers"]
    assert n_sw >= 4 and 1 + s2["local_required"].sum() >= 0.4 * n_sw
    assert s2["local_required"].sum() >= np.ceil(0.4 * s2["hires"].sum() - 1e-9)      # the clause as written
    assert hires.loc[hires["station_id"] == "S1", "local_required"].sum() == 0         # urban
    r = CliRunner().invoke(main, ["assign", str(folder), str(tmp_path / "plan"), "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert "min-cost flow" in r.output
    r = CliRunner().invoke(main, ["verify", str(folder), str(tmp_path / "plan"), "--assignment", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output


def test_assign_cli_usage_errors(tmp_path: Path, mini_settings: dict, mini_tables: dict) -> None:
    folder = _two_station_instance(tmp_path, mini_settings, mini_tables)
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(main, ["assign", str(folder), str(tmp_path / "empty")])
    assert r.exit_code == 2 and "staff.csv" in r.output
    r = CliRunner().invoke(main, ["assign", str(folder), str(tmp_path / "empty"), "--max-moves", "-2"])
    assert r.exit_code == 2
