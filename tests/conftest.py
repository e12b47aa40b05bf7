"""Shared test helpers: small instances written from Python dicts, the path to ../shared."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``../shared`` beside the checkout, or $ALLOCATOR_SHARED."""
    env = os.environ.get("ALLOCATOR_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


MINI_SETTINGS: dict[str, Any] = {
    "instance": {"name": "mini", "year": 2026, "currency": "CNY"},
    "objective": {"cost_weight": 0.0, "equity": "none", "equity_weight": 0.0},
    "groups": {"elderly": {"label": "Elderly", "weight": 1.0, "need_share": 0.8, "special": False,
                           "hours_per_resident": 4.0, "cost_per_resident": 100.0}},
    "staff_types": {"admin": {"hours_per_year": 0.0, "annual_cost": 0.0},
                    "social_worker": {"hours_per_year": 1000.0, "annual_cost": 20000.0},
                    "volunteer": {"hours_per_year": 0.0, "annual_cost": 0.0}},
    "costs": {"build_per_m2": 0.0, "refit_per_m2": 0.0, "renovation": 0.0, "one_stop_upgrade": 0.0,
              "new_station": 0.0, "access_retrofit": 0.0, "training_per_worker": 0.0},
    "clauses": {
        "A-BUDGET-PERCAP": {"per_capita": 100},
        "A-SPLIT": {"facilities": 0.1, "salaries": 0.5, "services": 0.4},
        "A-BASIC": {"count": 1},
        "A-FEATURE": {"min_per_station": 1},
        "A-SALARY": {"mode": "soft", "penalty": 0.001, "monthly_min": 3000},
        "F-SW-URBAN": {"mode": "soft", "penalty": 50.0, "per_station": 2},
    },
}

MINI_TABLES: dict[str, pd.DataFrame] = {
    "stations": pd.DataFrame([{"station_id": "S1", "name": "One", "county": "C1", "area_type": "urban",
                               "status": "existing", "population": 1000, "households": 400,
                               "floor_area_m2": 100.0, "zone_admin": 0.2, "zone_service": 0.5,
                               "zone_activity": 0.3}]),
    "groups": pd.DataFrame([{"station_id": "S1", "group": "elderly", "residents": 500}]),
    "services": pd.DataFrame([
        {"service_id": "b1", "name": "Basic", "kind": "basic", "groups": "elderly", "annual_cost": 1000,
         "staff_hours": 50},
        {"service_id": "f1", "name": "Feature 1", "kind": "featured", "groups": "elderly", "annual_cost": 2000,
         "staff_hours": 100},
        {"service_id": "f2", "name": "Feature 2", "kind": "featured", "groups": "elderly", "annual_cost": 500,
         "staff_hours": 20},
    ]),
    "departments": pd.DataFrame(columns=["department_id", "name", "budget", "max_packages"]),
    "packages": pd.DataFrame(columns=["package_id", "department_id", "name", "groups", "residents_served", "cost",
                                      "staff_hours", "eligible"]),
    "staff": pd.DataFrame([{"worker_id": "W1", "station_id": "S1", "type": "social_worker", "certified": False,
                            "level": "none", "local_registration": True, "years_of_service": 1}]),
}


def write_instance(folder: Path, settings: dict[str, Any] | None = None,
                   tables: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write an instance folder from dicts (defaults: the mini instance) without validating it."""
    import tomli_w

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instance.toml").write_text(tomli_w.dumps(settings or MINI_SETTINGS), encoding="utf-8")
    for name, df in (tables or MINI_TABLES).items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture
def mini_settings() -> dict[str, Any]:
    return copy.deepcopy(MINI_SETTINGS)


@pytest.fixture
def mini_tables() -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in MINI_TABLES.items()}
