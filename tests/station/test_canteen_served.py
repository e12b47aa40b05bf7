"""A-CANTEEN [coverage] reads the canteen's own served figure, not the elderly covered by any service.

One station, 100 elderly (need share 1), two services that both serve the elderly:

| service       | kind     | min_served | meals per resident |
|---------------|----------|------------|--------------------|
| b1            | basic    | 10         | 0                  |
| elderly_meals | featured | 30         | 10                 |

A-MEAL pays 8 yuan a meal, so every resident the canteen serves costs 80 yuan and the objective prices money
(cost_weight 0.001 per yuan: 0.08 per resident served by the canteen); b1 serves for nothing.  A-CANTEEN asks
1 canteen and meal coverage 80 %.  Read on the elderly covered (x), 100 covered met it and the canteen served
only its minimum of 30 (the other 70 counted through b1); read on the canteen's served figure, the canteen
serves 80 = 0.8 x 100 elderly: no fewer (the clause) and no more (each one costs 80 yuan).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import load
from allocator.station import solve_instance
from cli import main
from solvers import SolveOptions
from tests.conftest import MINI_SETTINGS, MINI_TABLES, write_instance

ELDERLY = 100
COVER = 0.8


def canteen_instance(folder: Path) -> Path:
    settings = copy.deepcopy(MINI_SETTINGS)
    settings["objective"]["cost_weight"] = 0.001
    settings["groups"]["elderly"]["need_share"] = 1.0
    settings["clauses"].update({
        "A-CANTEEN": {"mode": "hard", "stations": 1, "meal_coverage": COVER},
        "X-MIN-SERVED": {"mode": "hard"},
        "A-MEAL": {"mode": "hard", "government_share": 0.6, "government_per_meal": 8, "resident_per_meal": 5.3},
    })
    tables = {k: v.copy() for k, v in MINI_TABLES.items()}
    tables["groups"] = pd.DataFrame([{"station_id": "S1", "group": "elderly", "residents": ELDERLY}])
    tables["services"] = pd.DataFrame([
        {"service_id": "b1", "name": "Basic", "kind": "basic", "groups": "elderly", "annual_cost": 0,
         "staff_hours": 0, "min_served": 10, "meals_per_resident": 0},
        {"service_id": "elderly_meals", "name": "Canteen", "kind": "featured", "groups": "elderly",
         "annual_cost": 0, "staff_hours": 0, "min_served": 30, "meals_per_resident": 10},
    ])
    return write_instance(folder, settings, tables)


def test_canteen_serves_its_meal_coverage(tmp_path: Path) -> None:
    """The canteen serves 80 of the 100 elderly (not its minimum 30), and the plan verifies."""
    folder = canteen_instance(tmp_path / "i")
    plan = solve_instance(load(folder), options=SolveOptions(mip_gap=0.0))
    assert plan.status.value == "optimal", plan.status
    sv = plan.tables["services"].set_index(["station_id", "service_id"])
    assert float(plan.tables["coverage"]["covered"].sum()) == pytest.approx(ELDERLY, abs=1e-4)
    assert float(sv.loc[("S1", "elderly_meals"), "served"]) == pytest.approx(COVER * ELDERLY, abs=1e-4)
    assert float(sv.loc[("S1", "b1"), "served"]) == pytest.approx((1 - COVER) * ELDERLY, abs=1e-4)
    cl = plan.tables["clauses"].set_index(["clause_id", "family"]).loc[("A-CANTEEN", "coverage")]
    assert float(cl["value"]) - float(cl["limit"]) == pytest.approx(0.0, abs=1e-4)
    out = tmp_path / "plan"
    r = CliRunner().invoke(main, ["solve", str(folder), "--out", str(out), "--time-limit", "30"])
    assert r.exit_code == 0, r.output
    v = CliRunner().invoke(main, ["verify", str(folder), str(out)])
    assert v.exit_code == 0, v.output


def test_verifier_reads_the_canteens_served_figure(tmp_path: Path) -> None:
    """A plan whose canteen serves only its minimum (the other elderly counted through b1) fails A-CANTEEN."""
    folder = canteen_instance(tmp_path / "i")
    out = tmp_path / "plan"
    assert CliRunner().invoke(main, ["solve", str(folder), "--out", str(out), "--time-limit", "30"]).exit_code == 0
    path = out / "services.csv"
    sv = pd.read_csv(path)
    meals, basic = sv["service_id"] == "elderly_meals", sv["service_id"] == "b1"
    sv.loc[meals, "served"], sv.loc[basic, "served"] = 30.0, 70.0   # the same 100 covered, split the dodging way
    sv.to_csv(path, index=False)
    v = CliRunner().invoke(main, ["verify", str(folder), str(out)])
    assert v.exit_code != 0, v.output
    assert any("A-CANTEEN" in ln and "FAIL" in ln for ln in v.output.splitlines()), v.output
