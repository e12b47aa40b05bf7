"""F-DEPT-LINK in the package assignment, against a brute force on a 3-station instance, and the
`assign` command given an instance folder instead of a plan (issue 17, item 11)."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.assign import assign_packages, format_assignment, solve_roster
from allocator.instance import load
from cli import EXIT_INPUT, main
from solvers import Status
from tests.conftest import ROOT, write_instance

# (package, department, residents served, staff hours); one copy each, eligible everywhere.
PACKAGES = [("P1", "a", 100, 200), ("P2", "b", 80, 200), ("P3", "c", 60, 200), ("P4", "a", 90, 300),
            ("P5", "b", 50, 100)]
CAPACITY = [1000, 500, 400]          # spare social-worker hours per station
LEFT = [100, 200, 150]               # need left uncovered per station (elderly, weight 1)


def _instance(tmp_path: Path, mini_settings: dict, mini_tables: dict, clause: dict[str, Any] | None) -> Path:
    st = mini_tables["stations"]
    stations = pd.concat([st, st.assign(station_id="S2", name="Two", area_type="rural"),
                          st.assign(station_id="S3", name="Three", area_type="rural")], ignore_index=True)
    groups = pd.DataFrame([{"station_id": s, "group": "elderly", "residents": 500} for s in ("S1", "S2", "S3")])
    deps = pd.DataFrame([{"department_id": d, "name": d.upper(), "budget": 1e6, "max_packages": 5}
                         for d in ("a", "b", "c")])
    pk = pd.DataFrame([{"package_id": p, "department_id": d, "name": p, "groups": "elderly",
                        "residents_served": r, "cost": 1000, "staff_hours": h, "eligible": "all", "copies": 1}
                       for p, d, r, h in PACKAGES])
    mini_settings["clauses"].pop("F-SW-URBAN")
    if clause is not None:
        mini_settings["clauses"]["F-DEPT-LINK"] = clause
    tables = {**mini_tables, "stations": stations, "groups": groups, "departments": deps, "packages": pk}
    return write_instance(tmp_path / "three", mini_settings, tables)


def _plan_tables() -> dict[str, pd.DataFrame]:
    """Plan tables that give each station CAPACITY spare hours and LEFT need (no service uses hours)."""
    ids = ["S1", "S2", "S3"]
    return {
        "staff": pd.DataFrame({"station_id": ids, "social_workers": [c / 1000 for c in CAPACITY], "admin": 0,
                               "volunteers": 0, "sw_uncertified": [1, 0, 0], "sw_certified_assistant": 0,
                               "sw_certified_intermediate": 0}),
        "coverage": pd.DataFrame({"station_id": ids, "group": "elderly", "demand": [float(x) for x in LEFT],
                                  "covered": 0.0}),   # (covered residents would use staff hours)
        "services": pd.DataFrame({"station_id": ids, "service_id": "b1", "offered": 0}),
        "stations": pd.DataFrame({"station_id": ids, "active": 1}),
    }


def _brute(mode: str | None, share: float, penalty: float) -> tuple[tuple[float, ...], int, float]:
    """Best (key, linked, value) over every placement of the copies (station or none)."""
    target = math.ceil(share * 3 - 1e-9)
    big = sum(r for _, _, r, _ in PACKAGES) * 10 + 1
    best: tuple[tuple[float, ...], int, float] | None = None
    for choice in itertools.product((-1, 0, 1, 2), repeat=len(PACKAGES)):
        hours = np.zeros(3)
        deps: list[set[str]] = [set(), set(), set()]
        value = 0.0
        for (_p, d, r, h), s in zip(PACKAGES, choice, strict=True):
            if s < 0:
                continue
            hours[s] += h
            deps[s].add(d)
            value += min(r, LEFT[s])
        if (hours > np.array(CAPACITY)).any():
            continue
        linked = sum(len(x) >= 3 for x in deps)
        short = max(0, target - linked)
        if mode is None:
            key: tuple[float, ...] = (value,)
        elif mode == "hard":
            key = (-short * big + value,)
        else:
            key = (value - penalty * short,)
        if best is None or key > best[0]:
            best = (key, linked, value)
    assert best is not None
    return best


@pytest.mark.parametrize(("clause", "mode", "share", "penalty"), [
    (None, None, 0.0, 0.0),
    ({"departments": 3, "today": 0.3}, "hard", 0.3, 0.0),            # 1 station asked: linking costs value
    ({"departments": 3, "today": 0.6}, "hard", 0.6, 0.0),            # 2 asked: 5 copies link 1 at most
    ({"departments": 3, "today": 0.3, "mode": "soft", "penalty": 5.0}, "soft", 0.3, 5.0),   # cheaper to miss
    ({"departments": 3, "today": 0.3, "mode": "soft", "penalty": 500.0}, "soft", 0.3, 500.0),
])
def test_dept_link_matches_brute_force(tmp_path: Path, mini_settings: dict, mini_tables: dict,
                                       clause: dict[str, Any] | None, mode: str | None, share: float,
                                       penalty: float) -> None:
    inst = load(_instance(tmp_path, mini_settings, mini_tables, clause))
    res = assign_packages(inst, _plan_tables())
    assert res.status is Status.OPTIMAL, res.message
    key, linked, value = _brute(mode, share, penalty)
    assert res.objective == pytest.approx(value)
    per = res.stations.set_index("station_id")
    assert res.dept_link_share is not None  # None only when no package GAP was solved
    assert int((per["departments"] >= 3).sum()) == res.dept_link_share * 3
    if mode is None:
        assert res.dept_link is None
        return
    assert res.dept_link is not None
    target = math.ceil(share * 3 - 1e-9)
    assert res.dept_link.target == target and res.dept_link.mode == mode
    assert min(res.dept_link.linked, target) == min(linked, target)
    assert res.dept_link.shortfall == max(0, target - res.dept_link.linked)
    # the placements themselves link the stations the result says
    pl = res.placements
    assert (pl.groupby("station_id")["department_id"].nunique() >= 3).sum() == res.dept_link.linked


def test_a_hard_target_the_packages_cannot_reach_is_a_reported_shortfall(tmp_path: Path, mini_settings: dict,
                                                                        mini_tables: dict) -> None:
    """Two of three stations asked, five copies: one station at most can hold three departments."""
    folder = _instance(tmp_path, mini_settings, mini_tables, {"departments": 3, "today": 0.6})
    res = assign_packages(load(folder), _plan_tables())
    assert res.status is Status.OPTIMAL and res.dept_link is not None
    assert (res.dept_link.target, res.dept_link.linked, res.dept_link.shortfall) == (2, 1, 1)
    text = format_assignment(res, solve_roster(load(folder), _plan_tables()))
    assert "linked to >= 3 departments: 1 (33.3%; F-DEPT-LINK asks 2" in text
    assert "1 short: the packages offered cannot link more" in text


def test_assign_given_an_instance_for_the_plan_exits_2() -> None:
    """Issue 17, item 11: `allocator assign instances/fuzhou-2026 instances/fuzhou-2026` is bad usage, not exit 6."""
    start = time.perf_counter()
    seed = str(ROOT / "instances" / "fuzhou-2026")
    r = CliRunner().invoke(main, ["assign", seed, seed])
    assert r.exit_code == EXIT_INPUT, r.output
    assert "not a plan written by `allocator solve --out`" in r.output and "instance folder" in r.output
    assert "Traceback" not in r.output and time.perf_counter() - start < 30
