"""The seed instances say what the planning documents say (POLICY.md figures), and the generator is stable."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from allocator.instance import Instance, load

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = ROOT / "instances"


def shared_dir() -> Path:
    env = os.environ.get("ALLOCATOR_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


@functools.cache
def inst(name: str) -> Instance:
    return load(INSTANCES / name)


# ---------------------------------------------------------------------------
# getters
# ---------------------------------------------------------------------------
def population(i: Instance) -> int:
    return int(i.stations["population"].sum())


def stations_with(column: str, value: object) -> Callable[[Instance], int]:
    return lambda i: int((i.stations[column] == value).sum())


def staff_of(kind: str) -> Callable[[Instance], int]:
    return lambda i: int((i.staff["type"] == kind).sum())


def certified(i: Instance) -> int:
    return int(i.staff["certified"].sum())


def certified_share(i: Instance) -> float:
    return round(certified(i) / staff_of("social_worker")(i), 3)


def figure(clause: str, name: str) -> Callable[[Instance], float | None]:
    def get(i: Instance) -> float | None:
        c = i.any_clause(clause)
        return None if c is None else c.figure(name)
    return get


def path(clause: str, name: str) -> Callable[[Instance], tuple[tuple[int, float], ...] | None]:
    def get(i: Instance) -> tuple[tuple[int, float], ...] | None:
        c = i.any_clause(clause)
        return None if c is None else tuple(c.paths.get(name, ()))
    return get


def budget(i: Instance) -> float:
    return figure("A-BUDGET-PERCAP", "per_capita")(i) * population(i)  # type: ignore[operator]


def split(name: str) -> Callable[[Instance], float]:
    return lambda i: round(budget(i) * figure("A-SPLIT", name)(i), 2)  # type: ignore[operator]


def coverage_today(area: str) -> Callable[[Instance], float]:
    """Share of the area's residents living in a community whose station exists today, in % to 0.1."""
    def get(i: Instance) -> float:
        st = i.stations
        here = st["area_type"] == area
        covered = st["population"][here & (st["status"] == "existing")].sum()
        return round(100 * covered / st["population"][here].sum(), 1)
    return get


def old_buildings(i: Instance) -> int:
    age = figure("A-RENOVATE", "age_years")(i)
    return int(np.nansum(i.stations["building_age_years"] > age))


def counties(i: Instance) -> set[str]:
    return set(i.stations["county"].tolist())


def county_population(i: Instance) -> pd.Series:
    return pd.Series(i.stations["population"]).groupby(i.stations["county"]).sum()


def counties_over_1m(i: Instance) -> list[str]:
    pop = county_population(i)
    return sorted(pop[pop > 1_000_000].index)


def smallest_county(i: Instance) -> str:
    return str(county_population(i).idxmin())


def has_linchuan_dongxiang(i: Instance) -> bool:
    return {"Linchuan", "Dongxiang"} <= counties(i)


def floor_area(i: Instance) -> float:
    return float(i.stations["floor_area_m2"].sum())


def one_stop_share(i: Instance) -> float:
    return round(stations_with("one_stop", True)(i) / i.num_stations, 3)


def group_total(group: str) -> Callable[[Instance], int]:
    return lambda i: int(i.residents[:, i.group_ids.index(group)].sum())


def elderly_share(rural_only: bool) -> Callable[[Instance], float]:
    """Elderly residents over all residents (of rural stations only), to 0.1 %."""
    def get(i: Instance) -> float:
        rows = i.stations["area_type"] == "rural" if rural_only else np.ones(i.num_stations, dtype=bool)
        elderly = i.residents[rows, i.group_ids.index("elderly")].sum()
        return round(elderly / i.stations["population"][rows].sum(), 3)
    return get


# ---------------------------------------------------------------------------
# the document figures
# ---------------------------------------------------------------------------
FIGURES: list[tuple[str, str, Any, Callable[[Instance], Any]]] = [
    # instance     figure                                   expected          actual
    ("a-district-2026", "communities",                           42,               lambda i: i.num_stations),
    ("a-district-2026", "residents",                             420_000,          population),
    ("a-district-2026", "communities with a centre (existing)",  38,               stations_with("status", "existing")),
    ("a-district-2026", "communities without a centre (new)",    4,                stations_with("status", "new")),
    ("a-district-2026", "one-stop stations",                     15,               stations_with("one_stop", True)),
    ("a-district-2026", "staff in post",                         326,              lambda i: len(i.staff)),
    ("a-district-2026", "admin staff",                           203,              staff_of("admin")),
    ("a-district-2026", "social workers",                        60,               staff_of("social_worker")),
    ("a-district-2026", "certified social workers",              27,               certified),
    ("a-district-2026", "certified share (A-CERT-RATE today)",   0.45,             certified_share),
    ("a-district-2026", "volunteers",                            63,               staff_of("volunteer")),
    ("a-district-2026", "floor area m2",                         36_000,           floor_area),
    ("a-district-2026", "centres older than 10 years",           23,               old_buildings),
    ("a-district-2026", "A-BUDGET-PERCAP per capita",            105,
     figure("A-BUDGET-PERCAP", "per_capita")),
    ("a-district-2026", "budget 105 x 420,000",                  44_100_000,       budget),
    ("a-district-2026", "A-SPLIT facilities",                    13_230_000,       split("facilities")),
    ("a-district-2026", "A-SPLIT salaries",                      11_025_000,       split("salaries")),
    ("a-district-2026", "A-SPLIT direct services",               19_845_000,       split("services")),
    ("a-district-2026", "urban resident coverage today %",       90.5,             coverage_today("urban")),
    ("a-district-2026", "rural resident coverage today %",       61.9,             coverage_today("rural")),
    ("a-district-2026", "one-stop share today",                  0.357,            one_stop_share),
    ("fuzhou-2026",     "stations",                              150,              lambda i: i.num_stations),
    ("fuzhou-2026",     "new stations (F-BUILD)",                80,               stations_with("status", "new")),
    ("fuzhou-2026",     "upgraded stations (F-BUILD)",           70,               stations_with("status", "upgrade")),
    ("fuzhou-2026",     "counties and districts",                11,               lambda i: len(counties(i))),
    ("fuzhou-2026",     "Linchuan and Dongxiang among them",     True,             has_linchuan_dongxiang),
    ("fuzhou-2026",     "population (X-FUZHOU-POP)",             3_614_866,        population),
    ("fuzhou-2026",     "counties over 1 M residents",           ["Linchuan"],     counties_over_1m),
    ("fuzhou-2026",     "smallest county",                       "Zixi",           smallest_county),
    ("fuzhou-2026",     "elderly share of residents",            0.192,            elderly_share(rural_only=False)),
    ("fuzhou-2026",     "elderly share in rural stations",       0.235,            elderly_share(rural_only=True)),
    ("fuzhou-2026",     "left-behind children",                  32_000,           group_total("left_behind_children")),
    ("fuzhou-2026",     "disabled",                              120_000,          group_total("disabled")),
    ("fuzhou-2026",     "migrants",                              80_000,           group_total("migrants")),
    ("fuzhou-2026",     "F-TOTAL total",                         180_000_000,      figure("F-TOTAL", "total")),
    ("fuzhou-2026",     "F-TOTAL construction",                  45_000_000,       figure("F-TOTAL", "construction")),
    ("fuzhou-2026",     "F-TOTAL operations per year",           45_000_000,
     figure("F-TOTAL", "operations_per_year")),
    ("fuzhou-2026",     "F-USES salaries",                       0.60,             figure("F-USES", "salaries")),
    ("fuzhou-2026",     "F-USES services",                       0.30,             figure("F-USES", "services")),
    ("fuzhou-2026",     "F-USES training",                       0.10,             figure("F-USES", "training")),
    ("fuzhou-2026",     "F-CERT-RATE path",                      ((2024, 0.18), (2025, 0.30), (2026, 0.35)),
                                                                              path("F-CERT-RATE", "share")),
]  # fmt: skip


@pytest.mark.parametrize(("instance", "what", "expected", "actual"), FIGURES,
                         ids=[f"{f[0]}: {f[1]}" for f in FIGURES])
def test_document_figure(instance: str, what: str, expected: Any, actual: Callable[[Instance], Any]) -> None:
    got = actual(inst(instance))
    if isinstance(expected, float) or (isinstance(expected, int) and not isinstance(expected, bool)):
        assert got == pytest.approx(expected, rel=1e-9), what
    else:
        assert got == expected, what


# Every clause's figures as POLICY.md gives them.  A list is a path by year whose values the document
# gives without years; a tuple of (year, value) pairs a path whose years it gives.
CLAUSE_FIGURES: dict[str, dict[str, dict[str, Any]]] = {
    "a-district-2026": {
        "A-STAFF-DENSITY": {"per_10k": 18},
        "A-STAFF-MIX": {"admin": 0.3, "social_worker": 0.4, "volunteer": 0.3},
        "A-CERT-MIN": {"per_station": 2},
        "A-CERT-RATE": {"share": 0.8, "today": 0.45},
        "A-CASELOAD": {"households_per_worker": 200},
        "A-SALARY": {"monthly_min": 4500, "today": 3500},
        "A-VOLUNTEER": {"multiplier": 3, "baseline": 63},
        "A-TRAINING": {"hours_per_worker": 40},
        "A-BUDGET-PERCAP": {"per_capita": 105, "today": 82},
        "A-SPLIT": {"facilities": 0.30, "salaries": 0.25, "services": 0.45},
        "A-DIRECT-MIN": {"share": 0.45},
        "A-SOURCES": {"fiscal": 0.75, "donations": 0.15, "fees": 0.10, "social_target": 0.30},
        "A-MEAL": {"government_share": 0.6, "government_per_meal": 8, "resident_per_meal": 5.3},
        "A-SOCIAL-SUBSIDY": {"per_person": 200, "rent_relief": 0.3},
        "A-AREA": {"urban_min_m2": 800, "rural_min_m2": 500},
        "A-ZONES": {"admin_max": 0.20, "service_min": 0.50, "activity_min": 0.30},
        "A-FLEX": {"share": 0.10},
        "A-RENOVATE": {"age_years": 10, "stated_count": 23},
        "A-COVERAGE": {"urban": 0.95, "rural": 0.70, "one_stop": 0.60, "urban_today": 0.905, "rural_today": 0.619,
                       "one_stop_today": 0.357},
        "A-CATCHMENT": {"min_residents": 3000, "max_residents": 5000},
        "A-BASIC": {"count": 6},
        "A-FEATURE": {"min_per_station": 1, "catalogue": 8},
        "A-VARIETY": {"min_per_station": 15, "today": 8},
        "A-NEEDS": {"elderly_meals": 0.78, "child_care": 0.65, "employment": 0.58, "skills": 0.65, "health": 0.58},
        "A-MATCH": {"share": 0.80, "today": 0.35},
        "A-SUPPLY": {"social_security": 1.0, "policy_publicity": 0.921, "culture_sport": 0.684, "counselling": 0.342,
                     "employment": 0.289},
        "A-CANTEEN": {"stations": 15, "meal_coverage": 0.8},
        "A-BOTTOM10": {"share": 0.10},
    },
    "fuzhou-2026": {
        "F-SW-DENSITY": {"per_10k": 2, "stated_total": 1200},
        "F-SW-URBAN": {"per_station": 5},
        "F-SW-RURAL": {"per_station": 3},
        "F-CERT-RATE": {"share": ((2024, 0.18), (2025, 0.30), (2026, 0.35)), "intermediate_share": 0.10},
        "F-DEGREE": {"share": [0.30, 0.45]},
        "F-YOUNG": {"share": [0.45, 0.50], "age_below": 35},
        "F-LOCAL-HIRE": {"share": 0.40, "local_hires": ((2024, 200),)},
        "F-TURNOVER": {"rate": [0.25, 0.20, 0.15]},
        "F-HIRING": {"recruited": ((2024, 500),), "in_post": ((2024, 600), (2026, 1200))},
        "F-SUPERVISION": {"supervisors": 10},
        "F-SALARY": {"annual_average": 60000, "monthly_min": 3500, "monthly_max": 4500, "seniority_bonus_monthly": 500,
                     "seniority_years": 3},
        "F-BUILD-SUBSIDY": {"new_station": 100_000, "upgraded_station": 50_000},
        "F-OPS-SUBSIDY": {"per_worker": 50_000, "county_match": 1},
        "F-OPS-STATION": {"rural_min": 80_000, "rural_max": 100_000, "urban_min": 150_000},
        "F-TOTAL": {"total": 180_000_000, "construction": 45_000_000, "operations_per_year": 45_000_000},
        "F-USES": {"salaries": 0.60, "services": 0.30, "training": 0.10},
        # §F2.3 90 % fiscal today, §F8.2 social 15 % in 2025, §F7.2 70 : 20 : 10 by 2026 (2024's 5 : 5 split of
        # the other 10 % and 2025's fiscal are the instance's)
        "F-SOURCES": {"fiscal": ((2024, 0.90), (2026, 0.70)), "social": ((2025, 0.15), (2026, 0.20)),
                      "revenue": ((2026, 0.10),)},
        "F-FISCAL-FLOOR": {"share": 0.03},
        "F-AREA": {"min_m2": 80, "service_share": 0.60, "office_share": 0.30, "display_share": 0.10},
        "F-COVERAGE": {"share": ((2024, 0.90), (2025, 1.0)), "urban": 1.0, "rural": 0.80},
        "F-BUILD": {"new": 80, "upgraded": 70, "total": 150},
        "F-DEMO": {"count": ((2025, 10), (2026, 15)), "per_county_min": 1},
        "F-CIRCLE": {"extension_points": 30, "minutes": 15},
        "F-ACCESS": {"share": 1.0},
        "F-GROUPS": {"elderly_share": 0.192, "rural_elderly_share": 0.235, "left_behind_children": 32_000,
                     "disabled": 120_000, "migrants": 80_000},
        "F-PRO-SHARE": {"share": [0.40, 0.55, 0.60], "case_management": 0.70},
        "F-FEATURE": {"min_per_station": 2},
        "F-SPECIAL": {"share": 0.70, "today": 0.15},
        "F-RESPONSE": {"days": 3, "today_days": 7},
        "F-DEPT-LINK": {"departments": 3, "today": 0.35},
        "F-SOCIAL-ORG": {"share": ((2025, 0.50), (2027, 0.60))},
        "F-SATISFACTION": {"share": ((2025, 0.80), (2026, 0.85)), "complaints_max": 0.05},
    },
}
PREFIX = {"a-district-2026": "A", "fuzhou-2026": "F"}


def _clause_rows() -> list[tuple[str, str, str, Any]]:
    return [(name, cid, fig, want) for name, clauses in CLAUSE_FIGURES.items()
            for cid, figs in clauses.items() for fig, want in figs.items()]


@pytest.mark.parametrize(("instance", "clause", "name", "expected"), _clause_rows(),
                         ids=[f"{r[1]}.{r[2]}" for r in _clause_rows()])
def test_clause_figure_as_the_document_gives_it(instance: str, clause: str, name: str, expected: Any) -> None:
    c = inst(instance).any_clause(clause)
    assert c is not None, f"{clause} is not in instances/{instance}/instance.toml"
    if isinstance(expected, list):          # a path; the document gives the values in order
        assert [v for _, v in c.paths[name]] == pytest.approx(expected)
    elif isinstance(expected, tuple):       # a path; (year, value) pairs the document gives
        got = dict(c.paths[name])
        for year, value in expected:
            assert got.get(year) == pytest.approx(value), (year, got)
    else:
        assert c.figure(name) == pytest.approx(expected)


def policy_clause_ids(prefix: str) -> list[str]:
    policy = shared_dir() / "POLICY.md"
    if not policy.is_file():
        pytest.skip(f"{policy} is absent (set ALLOCATOR_SHARED to the shared folder): clause list not checked")
    text = policy.read_text(encoding="utf-8")
    clauses = text[text.index("## Clauses"):text.index("## Known conflicts")]
    return re.findall(rf"^\| ({prefix}-[A-Z0-9-]+) \|", clauses, flags=re.M)


@pytest.mark.parametrize("instance", ["a-district-2026", "fuzhou-2026"])
def test_every_policy_clause_is_in_the_instance(instance: str) -> None:
    ids = policy_clause_ids(PREFIX[instance])
    assert len(ids) >= 25
    stated = {c.id for c in inst(instance).clauses}
    assert [cid for cid in ids if cid not in stated] == [], "POLICY.md clauses missing from instance.toml"
    assert [cid for cid in ids if cid not in CLAUSE_FIGURES[instance]] == [], \
        "POLICY.md clauses without their figures in this test's CLAUSE_FIGURES"


def test_f_social_org_and_satisfaction_start_today() -> None:
    # the first figure of these paths is "today" in the document; the instance dates it at the plan's start
    c = inst("fuzhou-2026").any_clause("F-SOCIAL-ORG")
    assert c is not None and c.paths["share"][0][1] == pytest.approx(0.30)
    c = inst("fuzhou-2026").any_clause("F-SATISFACTION")
    assert c is not None and c.paths["share"][0][1] == pytest.approx(0.78)


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------
@functools.cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_generate", INSTANCES / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MAKERS = {"a-district-2026": "district_a", "fuzhou-2026": "fuzhou"}


@pytest.mark.parametrize("instance", list(MAKERS))
def test_generator_is_deterministic(instance: str) -> None:
    make = getattr(generator(), MAKERS[instance])
    s1, t1 = make()
    s2, t2 = make()
    assert s1 == s2
    assert list(t1) == list(t2)
    for name in t1:
        pd.testing.assert_frame_equal(t1[name], t2[name], check_exact=True)


@pytest.mark.parametrize("instance", list(MAKERS))
def test_checked_in_folder_is_what_the_generator_makes(instance: str, tmp_path: Path) -> None:
    gen = generator()
    settings, tables = getattr(gen, MAKERS[instance])()
    gen.write_raw(tmp_path / instance, settings, tables)
    assert load(tmp_path / instance) == inst(instance), \
        f"instances/{instance} differs from what instances/generate.py makes: rerun it"
