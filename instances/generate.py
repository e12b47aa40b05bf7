"""Seeded, deterministic generator of the two seed instances.

    python instances/generate.py            # writes instances/a-district-2026 and instances/fuzhou-2026

Every figure the planning documents give is written exactly (clause ids of
POLICY.md); station-level detail the documents do not give is drawn from a
seeded random generator and rescaled so that the documents' aggregates hold
exactly.  The documents' contradictions are encoded as written.  Each folder's
README.md says where every column comes from.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from allocator.instance import load, write_folder, write_xlsx  # noqa: E402


def _split_total(rng: np.random.Generator, total: int, n: int, spread: float = 0.35,
                 floor: int = 1) -> np.ndarray:
    """n positive integers summing exactly to ``total``, roughly equal with noise."""
    w = rng.lognormal(0.0, spread, n)
    raw = w / w.sum() * (total - floor * n)
    out = np.floor(raw).astype(np.int64) + floor
    rest = total - int(out.sum())
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    out[order[:rest]] += 1
    return out


def _pick_exact(rng: np.random.Generator, n: int, k: int, eligible: np.ndarray | None = None) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(eligible) if eligible is not None else np.arange(n)
    mask[rng.choice(idx, size=k, replace=False)] = True
    return mask


def _staff_rows(rng: np.random.Generator, station_ids: list[str], counts: dict[str, np.ndarray],
                certified: int, intermediate: int, rural: np.ndarray, prefix: str) -> pd.DataFrame:
    rows = []
    for t in ("admin", "social_worker", "volunteer"):
        for s, c in zip(station_ids, counts[t], strict=True):
            rows += [(s, t)] * int(c)
    df = pd.DataFrame(rows, columns=["station_id", "type"])
    n = len(df)
    df.insert(0, "worker_id", [f"{prefix}{i + 1:05d}" for i in range(n)])
    sw = np.flatnonzero(df["type"].to_numpy() == "social_worker")
    cert = np.zeros(n, dtype=bool)
    cert[rng.choice(sw, size=certified, replace=False)] = True
    level = np.where(cert, "assistant", "none").astype(object)
    level[rng.choice(np.flatnonzero(cert), size=intermediate, replace=False)] = "intermediate"
    df["certified"] = cert
    df["level"] = level
    st_rural = dict(zip(station_ids, rural, strict=True))
    p_local = np.where([st_rural[s] for s in df["station_id"]], 0.55, 0.35)
    df["local_registration"] = rng.random(n) < p_local
    df["years_of_service"] = rng.integers(0, 12, n)
    df["bachelor"] = rng.random(n) < 0.3
    df["age"] = rng.integers(22, 58, n)
    return df


def _groups_long(station_ids: list[str], table: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = [pd.DataFrame({"station_id": station_ids, "group": g, "residents": v}) for g, v in table.items()]
    df = pd.concat(parts, ignore_index=True)
    return df[df["residents"] > 0].reset_index(drop=True)


def _zones(rng: np.random.Generator, n: int, mean: tuple[float, float, float], has: np.ndarray) -> np.ndarray:
    z = rng.dirichlet(np.array(mean) * 60, n)
    z = np.round(z, 3)
    z[:, 2] = np.round(1.0 - z[:, 0] - z[:, 1], 3)
    z[~has] = 0.0
    return z


SERVICES = pd.DataFrame(
    [
        # id, name, kind, groups, annual_cost (yuan/station/yr), staff_hours (per station/yr)
        ("social_security", "Social-security handling", "basic", "elderly;low_income;disabled", 20000, 120),
        ("policy_publicity", "Policy publicity", "basic", "migrants;unemployed_youth", 8000, 60),
        ("civil_assistance", "Civil-affairs assistance", "basic", "low_income;disabled", 15000, 100),
        ("health_promotion", "Health promotion", "basic", "elderly", 12000, 80),
        ("employment_registration", "Employment registration", "basic", "unemployed_youth;migrants", 10000, 80),
        ("culture_sport", "Culture and sport", "basic", "children", 12000, 80),
        ("elderly_meals", "Elderly meals (canteen)", "featured", "elderly", 60000, 200),
        ("child_care", "After-school child care", "featured", "children;left_behind_children", 40000, 200),
        ("counselling", "Psychological counselling", "featured", "left_behind_children;low_income;disabled",
         30000, 160),
        ("employment_guidance", "Employment guidance", "featured", "unemployed_youth", 20000, 120),
        ("skills_training", "Skills training", "featured", "migrants;unemployed_youth", 30000, 120),
        ("rehabilitation", "Community rehabilitation", "featured", "disabled", 45000, 160),
        ("mutual_aid", "Neighbourhood mutual aid", "featured", "elderly;disabled", 15000, 100),
        ("integration", "New-resident integration", "featured", "migrants", 15000, 100),
        ("case_disabled", "Case management, disabled", "personalised", "disabled", 25000, 150),
        ("case_low_income", "Case management, low income", "personalised", "low_income", 25000, 150),
        ("case_children", "Case management, left-behind children", "personalised", "left_behind_children;children",
         25000, 150),
    ],
    columns=["service_id", "name", "kind", "groups", "annual_cost", "staff_hours"],
)
# The least residents a station offering a service serves in a year (X-MIN-SERVED), the instances' choice (no
# document gives one): 20 for a basic or featured service, 30 for a canteen, 5 cases for case management.
SERVICES["min_served"] = np.where(SERVICES["service_id"] == "elderly_meals", 30.0,
                                  np.where(SERVICES["kind"] == "personalised", 5.0, 20.0))
# Issue 15, the instances' choices (README provenance): the long-term professional services of F-PRO-SHARE
# (§F2.1 names case management and community development: the three case managements, counselling,
# rehabilitation, and new-resident integration as community development; neighbourhood mutual aid is not: §F5.4
# counts it among the activities, 开展"邻里互助""银龄陪伴"等活动); the services social providers run
# (A-SOCIAL-SUBSIDY: §A6.3 names elderly meals and child care as the services to open to the market); meals per
# resident a canteen serves in a year (A-MEAL: one meal each working day, 250).
SERVICES["professional"] = SERVICES["service_id"].isin(
    ["counselling", "rehabilitation", "integration", "case_disabled", "case_low_income", "case_children"])
SERVICES["social_provider"] = SERVICES["service_id"].isin(["elderly_meals", "child_care"])
SERVICES["meals_per_resident"] = np.where(SERVICES["service_id"] == "elderly_meals", 250.0, 0.0)

DEPARTMENTS = pd.DataFrame(
    [
        ("civil_affairs", "Civil affairs", 3_000_000, 12),
        ("health", "Health commission", 2_500_000, 10),
        ("hrss", "Human resources & social security", 1_500_000, 8),
        ("education", "Education", 2_000_000, 10),
        ("justice", "Justice", 600_000, 4),
        ("women", "Women's federation", 800_000, 6),
        ("disabled_fed", "Disabled persons' federation", 1_200_000, 6),
        ("street_office", "Street / township office", 1_000_000, 8),
    ],
    columns=["department_id", "name", "budget", "max_packages"],
)

PACKAGE_KINDS = [
    # department, name, groups, residents_served, cost, staff_hours, eligible
    ("health", "Chronic-disease management", "elderly", 1200, 180000, 150, "all"),
    ("education", "Left-behind-children care point", "left_behind_children;children", 300, 150000, 200, "rural"),
    ("civil_affairs", "Assistance fund", "low_income", 400, 200000, 100, "all"),
    ("hrss", "Job-fair and training package", "unemployed_youth;migrants", 500, 120000, 120, "all"),
    ("justice", "Legal-aid desk", "low_income;migrants", 300, 60000, 60, "all"),
    ("women", "Family-support package", "children;left_behind_children", 250, 70000, 80, "all"),
    ("disabled_fed", "Rehabilitation kit", "disabled", 200, 150000, 120, "all"),
    ("street_office", "Volunteer-coordination package", "elderly;disabled", 400, 50000, 60, "urban"),
]


def _packages(rng: np.random.Generator, copies: int, groups: set[str]) -> pd.DataFrame:
    rows = []
    for i, (dep, name, g, served, cost, hours, elig) in enumerate(PACKAGE_KINDS):
        gs = ";".join(x for x in g.split(";") if x in groups)
        if not gs:
            continue
        for q in range(1, 5):  # quarterly delivery (F5.4)
            rows.append((f"P{i + 1:02d}Q{q}", dep, f"{name}, quarter {q}", gs, served, cost, hours, elig, copies))
    return pd.DataFrame(rows, columns=["package_id", "department_id", "name", "groups", "residents_served", "cost",
                                       "staff_hours", "eligible", "copies"])


# --------------------------------------------------------------------------
# District A (document A)
# --------------------------------------------------------------------------
def district_a(seed: int = 20260101) -> tuple[dict, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    n_urban, n_rural = 30, 12
    n = n_urban + n_rural
    rural = np.array([False] * n_urban + [True] * n_rural)
    # A-COVERAGE today is read as the share of residents living in a community
    # with a centre: 90.5 % urban, 61.9 % rural.  Two urban and two rural
    # communities have no centre (38 of 42 have one).
    pop_urban, pop_rural = 330_000, 90_000
    miss_urban = round(0.095 * pop_urban)      # 31,350 -> 90.5 % covered
    miss_rural = round(0.381 * pop_rural)      # 34,290 -> 61.9 % covered
    pop = np.concatenate([
        _split_total(rng, pop_urban - miss_urban, n_urban - 2, 0.3),
        _split_total(rng, miss_urban, 2, 0.1),
        _split_total(rng, pop_rural - miss_rural, n_rural - 2, 0.3),
        _split_total(rng, miss_rural, 2, 0.1),
    ])
    status = np.array(["existing"] * (n_urban - 2) + ["new"] * 2 + ["existing"] * (n_rural - 2) + ["new"] * 2,
                      dtype=object)
    has = status == "existing"
    one_stop = _pick_exact(rng, n, 15, has)                         # 15 one-stop (35.7 %)
    hh_size = np.where(rural, 2.9, 2.5)
    households = np.round(pop / hh_size).astype(np.int64)
    # Floor area: 36,000 m2 in all over the 38 centres, urban larger than rural.
    w = np.where(rural, 800.0, 1200.0) * rng.lognormal(0, 0.25, n) * has
    area = np.floor(w / w.sum() * 36_000).astype(np.int64)
    area[np.flatnonzero(has)[: 36_000 - int(area.sum())]] += 1
    age = np.full(n, np.nan)
    old = _pick_exact(rng, n, 23, has)                              # 23 older than 10 years
    age[old] = rng.integers(11, 30, old.sum())
    age[has & ~old] = rng.integers(1, 10, (has & ~old).sum())
    zones = _zones(rng, n, (0.45, 0.38, 0.17), has)
    streets = [f"Street {k}" for k in "ABCDEF"]
    county = np.array([streets[i % 4] for i in range(n_urban)] + [streets[4 + i % 2] for i in range(n_rural)],
                      dtype=object)
    ids = [f"A{i + 1:02d}" for i in range(n)]
    stations = pd.DataFrame({
        "station_id": ids,
        "name": [f"Community {i + 1}" for i in range(n)],
        "county": county,
        "area_type": np.where(rural, "rural", "urban"),
        "status": status,
        "one_stop": one_stop,
        "population": pop,
        "households": households,
        "floor_area_m2": area.astype(float),
        "building_age_years": age,
        "zone_admin": zones[:, 0],
        "zone_service": zones[:, 1],
        "zone_activity": zones[:, 2],
        "accessible": has & (rng.random(n) < 0.7),
    })
    # Population groups: shares from A1.2 / national figures the document cites.
    shares = {"elderly": 0.211, "children": 0.15, "disabled": 0.025, "low_income": 0.03, "migrants": 0.12,
              "unemployed_youth": 0.015}
    groups = {}
    for g, sh in shares.items():
        noise = rng.lognormal(0, 0.15, n)
        groups[g] = np.minimum(np.round(pop * sh * noise / noise.mean()).astype(np.int64), pop)
    # Staff today: 203 admin + 60 social workers (27 certified, 45 %) + 63 volunteers = 326.
    counts = {
        "admin": np.where(has, 0, 0) + _alloc_by(rng, has, 203),
        "social_worker": _alloc_by(rng, has, 60),
        "volunteer": _alloc_by(rng, has, 63),
    }
    staff = _staff_rows(rng, ids, counts, certified=27, intermediate=6, rural=rural, prefix="AW")
    settings = a_settings()
    tables = {
        "stations": stations,
        "groups": _groups_long(ids, groups),
        "services": SERVICES[SERVICES["groups"].str.split(";").apply(
            lambda gs: any(g in shares for g in gs))].reset_index(drop=True).assign(
            groups=lambda d: d["groups"].str.split(";").apply(lambda gs: ";".join(g for g in gs if g in shares))),
        "departments": DEPARTMENTS,
        "packages": _packages(rng, 1, set(shares)),
        "staff": staff,
    }
    return settings, tables


def _alloc_by(rng: np.random.Generator, mask: np.ndarray, total: int) -> np.ndarray:
    out = np.zeros(len(mask), dtype=np.int64)
    out[mask] = _split_total(rng, total, int(mask.sum()), 0.3, floor=0)
    return out


def a_settings() -> dict:
    hard = {"mode": "hard"}
    return {
        "instance": {
            "name": "District A community workstations",
            "year": 2026,
            "currency": "CNY",
            "description": "42 communities, 420,000 residents (document A). Station detail is synthetic.",
        },
        "objective": {"cost_weight": 0.0, "equity": "worst_county", "equity_weight": 500.0, "mode": "weighted"},
        "groups": {
            "elderly": _group("Elderly (60+)", 1.0, 0.78, False, 4.0, 150.0),
            "children": _group("Children (after-school care)", 0.8, 0.65, False, 3.0, 120.0),
            "disabled": _group("People with disabilities", 1.5, 0.58, True, 10.0, 300.0),
            "low_income": _group("Low-income households", 1.3, 0.73, True, 6.0, 250.0),
            "migrants": _group("Migrants / new residents", 0.8, 0.65, False, 2.0, 80.0),
            "unemployed_youth": _group("Unemployed youth", 1.0, 0.58, False, 5.0, 120.0),
        },
        "staff_types": {
            # Admin pay is the instance's choice (the document gives the 3,500 a month of community workers
            # as a whole, A2.4): 3,000 a month, so that today's 203 admin and 60 social workers
            # (9.83 M) fit A-SPLIT's 11.025 M salaries line; at 3,500 they would not (11.05 M).
            "admin": {"hours_per_year": 300.0, "annual_cost": 36000.0},
            "social_worker": {"hours_per_year": 1600.0, "annual_cost": 42000.0},
            "volunteer": {"hours_per_year": 200.0, "annual_cost": 0.0},
        },
        "costs": {
            "build_per_m2": 3000.0, "refit_per_m2": 400.0, "renovation": 150000.0, "one_stop_upgrade": 150000.0,
            "new_station": 300000.0, "access_retrofit": 30000.0, "training_per_worker": 0.0,
        },
        "stated": {
            "stations": 42, "population": 420000, "existing": 38, "new": 4, "one_stop": 15,
            "floor_area_m2": 36000, "old_buildings": 23, "staff": 326, "admin": 203, "social_worker": 60,
            "volunteer": 63, "certified": 27,
        },
        "clauses": {
            "A-STAFF-DENSITY": {"mode": "soft", "penalty": 400.0, "per_10k": 18,
                                "note": "soft: with A-STAFF-MIX and A-SALARY it cannot fit A-SPLIT (conflict 1)"},
            # No tolerance: the document gives 3 : 4 : 3 flat (A4.1, A6.1); the README marks it.
            "A-STAFF-MIX": {"mode": "soft", "penalty": 400.0, "admin": 0.3, "social_worker": 0.4, "volunteer": 0.3},
            "A-CERT-MIN": {**hard, "per_station": 2},
            "A-CERT-RATE": {"mode": "soft", "penalty": 400.0, "share": 0.8, "today": 0.45},
            "A-CASELOAD": {**hard, "households_per_worker": 200},
            "A-SALARY": {"mode": "soft", "penalty": 0.01, "monthly_min": 4500, "today": 3500,
                         "note": "soft: conflict 1; the deviation is yuan of salary below the floor"},
            "A-VOLUNTEER": {"mode": "soft", "penalty": 100.0, "multiplier": 3, "baseline": 63},
            "A-TRAINING": {"hours_per_worker": 40},
            "A-BUDGET-PERCAP": {**hard, "per_capita": 105, "today": 82},
            "A-SPLIT": {**hard, "facilities": 0.30, "salaries": 0.25, "services": 0.45},
            "A-DIRECT-MIN": {**hard, "share": 0.45},
            # §A2.2 today's 75 : 15 : 10 as a split of the money spent (hard, tolerance 0); A gives no amount of
            # donations or fees, so no cap: the shares finance the money A-BUDGET-PERCAP allows, never add to it.
            "A-SOURCES": {"mode": {"paid": "hard", "split": "hard"}, "fiscal": 0.75, "donations": 0.15,
                          "fees": 0.10, "social_target": 0.30},
            # Issue 15: cost lines in the services money, hard (a cost is paid); meals and providers in services.csv.
            "A-MEAL": {**hard, "government_share": 0.6, "government_per_meal": 8, "resident_per_meal": 5.3},
            "A-SOCIAL-SUBSIDY": {**hard, "per_person": 200, "rent_relief": 0.3},
            "A-AREA": {**hard, "urban_min_m2": 800, "rural_min_m2": 500},
            "A-ZONES": {**hard, "admin_max": 0.20, "service_min": 0.50, "activity_min": 0.30},
            "A-FLEX": {**hard, "share": 0.10},
            "A-RENOVATE": {**hard, "age_years": 10, "stated_count": 23},
            "A-COVERAGE": {"mode": "soft", "penalty": {"urban": 5.0, "rural": 5.0, "one_stop": 20000.0},
                           "urban": 0.95, "rural": 0.70, "one_stop": 0.60,
                           "urban_today": 0.905, "rural_today": 0.619, "one_stop_today": 0.357},
            # Issue 15: centres per 3,000-5,000 residents: extra service points at 50,000 a year each (the instance's
            # choice); the upper side soft at 0.05 per resident above it (37 of 42 stations serve over 5,000).
            "A-CATCHMENT": {"mode": {"max": "soft", "min": "hard"}, "penalty": 0.05, "min_residents": 3000,
                            "max_residents": 5000, "point_cost": 50000},
            "A-BASIC": {**hard, "count": 6},
            "A-FEATURE": {**hard, "min_per_station": 1, "catalogue": 8},
            "A-VARIETY": {"mode": "soft", "penalty": 500.0, "min_per_station": 15, "today": 8},
            "A-NEEDS": {"elderly_meals": 0.78, "child_care": 0.65, "employment": 0.58, "skills": 0.65,
                        "health": 0.58},
            "A-MATCH": {"mode": "soft", "penalty": 2.0, "share": 0.80, "today": 0.35},
            "A-SUPPLY": {"social_security": 1.0, "policy_publicity": 0.921, "culture_sport": 0.684,
                         "counselling": 0.342, "employment": 0.289},
            "A-CANTEEN": {"mode": "soft", "penalty": 500.0, "stations": 15, "meal_coverage": 0.8},
            "A-BOTTOM10": {"share": 0.10},
            # Fairness (issue 15), the instance's choices: no group below 5 % of its need; a group's first 20 % of
            # need at full weight, the next 30 % at 0.6, the rest at 0.3 (README: provenance).
            "X-FLOOR": {"mode": "hard", "share": 0.05},
            "X-BENEFIT": {"first": 0.2, "second": 0.5, "second_weight": 0.6, "rest_weight": 0.3},
            "X-MIN-SERVED": {"mode": "hard"},
            # Costed moves (issue 15), the instance's choices: a move costs a month of today's pay (3,500 yuan),
            # at most 30 a year in the district, nobody with 3 or more years of service (README: provenance).
            "X-MOVES": {"mode": "hard", "cost_per_move": 3500, "max_per_year": 30, "protected_years": 3},
        },
    }


def _group(label: str, weight: float, need: float, special: bool, hours: float, cost: float) -> dict:
    return {"label": label, "weight": weight, "need_share": need, "special": special, "hours_per_resident": hours,
            "cost_per_resident": cost}


# --------------------------------------------------------------------------
# Fuzhou (document F)
# --------------------------------------------------------------------------
# X-FUZHOU-COUNTIES: population (sums to X-FUZHOU-POP 3,614,866), townships, urban stations.
COUNTIES = [
    ("Linchuan", 1_100_000, 30, 15), ("Dongxiang", 355_000, 14, 5), ("Le'an", 315_000, 16, 2),
    ("Chongren", 295_000, 15, 2), ("Nancheng", 285_000, 12, 2), ("Nanfeng", 265_000, 12, 2),
    ("Jinxi", 255_000, 13, 2), ("Lichuan", 225_000, 12, 2), ("Guangchang", 215_000, 11, 2),
    ("Yihuang", 208_866, 8, 2), ("Zixi", 96_000, 7, 2),
]


def fuzhou(seed: int = 20240101) -> tuple[dict, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    ids: list[str] = []
    names: list[str] = []
    county: list[str] = []
    rural_l: list[bool] = []
    pops: list[int] = []
    for cname, cpop, n_st, n_urban in COUNTIES:
        # urban stations (streets) are larger than rural townships
        w = np.concatenate([rng.lognormal(0, 0.25, n_urban) * 3.0, rng.lognormal(0, 0.3, n_st - n_urban)])
        p = np.floor(w / w.sum() * cpop).astype(np.int64)
        p[: cpop - int(p.sum())] += 1
        for k in range(n_st):
            ids.append(f"F{len(ids) + 1:03d}")
            names.append(f"{cname} {'street' if k < n_urban else 'township'} {k + 1}")
            county.append(cname)
            rural_l.append(k >= n_urban)
            pops.append(int(p[k]))
    n = len(ids)
    rural = np.array(rural_l)
    pop = np.array(pops, dtype=np.int64)
    status = np.array(["upgrade"] * n, dtype=object)
    status[_pick_exact(rng, n, 80)] = "new"                       # F-BUILD: 80 new, 70 upgraded
    is_new = status == "new"
    households = np.round(pop / np.where(rural, 3.0, 2.7)).astype(np.int64)
    area = np.where(is_new, 0.0, np.round(rng.uniform(60, 160, n)))
    zones = _zones(rng, n, (0.35, 0.55, 0.10), area > 0)
    # F-GROUPS: elderly 19.2 % of residents, 23.5 % in rural areas; left-behind
    # children 32,000; disabled 120,000; migrants 80,000 (exact totals).
    pop_r = int(pop[rural].sum())
    eld_total = round(0.192 * int(pop.sum()))
    eld_r = round(0.235 * pop_r)
    elderly = np.zeros(n, dtype=np.int64)
    elderly[rural] = _split_by_weight(rng, eld_r, pop[rural])
    elderly[~rural] = _split_by_weight(rng, eld_total - eld_r, pop[~rural])
    groups = {
        "elderly": elderly,
        "children": _split_by_weight(rng, round(0.216 * int(pop.sum())) - 32_000, pop),   # X-FUZHOU-AGE 0-14
        "left_behind_children": _split_by_weight(rng, 32_000, pop * np.where(rural, 4.0, 0.5)),
        "disabled": _split_by_weight(rng, 120_000, pop),
        "migrants": _split_by_weight(rng, 80_000, pop * np.where(rural, 0.3, 2.0)),
        "low_income": _split_by_weight(rng, round(0.04 * int(pop.sum())), pop * np.where(rural, 1.5, 0.8)),
    }
    # Staff in post: 600 social workers (F-HIRING end-2024), 18 % certified
    # (F-CERT-RATE today), spread over the upgraded stations first.
    counts = {
        "admin": np.zeros(n, dtype=np.int64),
        "social_worker": _split_by_weight(rng, 600, np.where(is_new, 1.0, 3.0) * np.sqrt(pop)),
        "volunteer": np.zeros(n, dtype=np.int64),
    }
    staff = _staff_rows(rng, ids, counts, certified=108, intermediate=30, rural=rural, prefix="FW")
    staff = _f_profile(staff)
    stations = pd.DataFrame({
        "station_id": ids, "name": names, "county": county, "area_type": np.where(rural, "rural", "urban"),
        "status": status, "one_stop": False, "population": pop, "households": households, "floor_area_m2": area,
        "building_age_years": np.where(area > 0, rng.integers(5, 30, n).astype(float), np.nan),
        "zone_admin": zones[:, 0], "zone_service": zones[:, 1], "zone_activity": zones[:, 2],
        "accessible": (area > 0) & (rng.random(n) < 0.5),
    })
    gset = set(groups)
    services = SERVICES.assign(groups=SERVICES["groups"].str.split(";").apply(
        lambda gs: ";".join(g for g in gs if g in gset)))
    services = services[services["groups"] != ""].reset_index(drop=True)
    tables = {
        "stations": stations,
        "groups": _groups_long(ids, groups),
        "services": services,
        "departments": DEPARTMENTS,
        "packages": _packages(rng, 3, gset),
        "staff": staff,
    }
    return f_settings(), tables


def _f_profile(staff: pd.DataFrame) -> pd.DataFrame:
    """Degree and age of Fuzhou's social workers as §F2.2 gives them today: 30 % bachelor's degree or above;
    45 % under 35, 30 % 35-45, 25 % 46 and over (exact counts, seeded; a stream of its own, so the other
    tables' draws do not move)."""
    r = np.random.default_rng(2026_15)
    sw = np.flatnonzero(staff["type"].to_numpy() == "social_worker")
    n = len(sw)
    out = staff.copy()
    bach = np.zeros(len(out), dtype=bool)
    bach[r.choice(sw, size=round(0.30 * n), replace=False)] = True
    out["bachelor"] = bach
    n_young, n_mid = round(0.45 * n), round(0.30 * n)
    ages = np.concatenate([r.integers(22, 35, n_young), r.integers(35, 46, n_mid), r.integers(46, 58, n - n_young
                                                                                             - n_mid)])
    age = out["age"].to_numpy().copy()
    age[sw] = r.permutation(ages)
    out["age"] = age
    return out


def _split_by_weight(rng: np.random.Generator, total: int, weight: np.ndarray) -> np.ndarray:
    w = weight * rng.lognormal(0, 0.15, len(weight))
    raw = w / w.sum() * total
    out = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def f_settings() -> dict:
    hard = {"mode": "hard"}
    return {
        "instance": {
            "name": "Fuzhou township social-work stations",
            "year": 2026,
            "currency": "CNY",
            "description": "150 township/street stations in 2 districts and 9 counties (document F). "
                           "Station detail is synthetic; populations from X-FUZHOU-* context figures.",
        },
        "objective": {"cost_weight": 0.0, "equity": "worst_county", "equity_weight": 5000.0, "mode": "weighted"},
        "groups": {
            "elderly": _group("Elderly (60+)", 1.0, 0.6, False, 4.0, 150.0),
            "children": _group("Children", 0.8, 0.3, False, 3.0, 100.0),
            "left_behind_children": _group("Left-behind children", 1.6, 0.9, True, 8.0, 300.0),
            "disabled": _group("People with disabilities", 1.5, 0.6, True, 10.0, 300.0),
            "migrants": _group("Migrants", 0.8, 0.5, False, 2.0, 80.0),
            "low_income": _group("Low-income households", 1.3, 0.7, True, 6.0, 250.0),
        },
        "staff_types": {
            "admin": {"hours_per_year": 0.0, "annual_cost": 0.0},  # F plans social workers only
            "social_worker": {"hours_per_year": 1600.0, "annual_cost": 42000.0},
            "volunteer": {"hours_per_year": 0.0, "annual_cost": 0.0},
        },
        "costs": {
            "build_per_m2": 1000.0, "refit_per_m2": 200.0, "renovation": 0.0, "one_stop_upgrade": 0.0,
            "new_station": 0.0, "access_retrofit": 10000.0, "training_per_worker": 3000.0,
        },
        "stated": {"stations": 150, "population": 3614866, "new": 80, "upgrade": 70, "counties": 11,
                   "social_worker": 600, "certified": 108},
        # F's text speaks of 12 counties; the city has 2 districts and 9 counties (POLICY.md conflict 5).
        "documents": {"counties": 12},
        "clauses": {
            "F-SW-DENSITY": {"mode": {"per_10k": "soft", "stated_total": "soft"}, "penalty": 400.0, "per_10k": 2,
                             "stated_total": 1200,
                             "note": "2 per 10,000 of 3.6 M is about 720, not 1,200 (conflict 4)"},
            "F-SW-URBAN": {"mode": "soft", "penalty": 2000.0, "per_station": 5},
            "F-SW-RURAL": {"mode": "soft", "penalty": 2000.0, "per_station": 3},
            "F-CERT-RATE": {"mode": "soft", "penalty": 400.0,
                            "share": {"2024": 0.18, "2025": 0.30, "2026": 0.35}, "intermediate_share": 0.10},
            # §F2.2: today 30 % bachelor+ and 45 % under 35; §F3.2 / F7.1: 45 % and 50 % by 2026 (the 1,200 of
            # F3.3). 2024 holds today's share (nothing invented for 2024-2025: the path carries it).
            "F-DEGREE": {"mode": "soft", "penalty": 400.0, "share": {"2024": 0.30, "2026": 0.45}, "today": 0.30,
                         "hire_premium": 6000.0},
            "F-YOUNG": {"mode": "soft", "penalty": 400.0, "share": {"2024": 0.45, "2026": 0.50}, "age_below": 35,
                        "today": 0.45},
            "F-LOCAL-HIRE": {"share": 0.40, "local_hires": {"2024": 200}},
            "F-TURNOVER": {"rate": {"2024": 0.25, "2025": 0.20, "2026": 0.15}},
            "F-HIRING": {"mode": "soft", "penalty": 400.0, "recruited": {"2024": 500},
                         "in_post": {"2024": 600, "2026": 1200}},
            "F-SUPERVISION": {"supervisors": 10},
            "F-SALARY": {"mode": "soft", "penalty": 0.01, "annual_average": 60000, "monthly_min": 3500,
                         "monthly_max": 4500, "seniority_bonus_monthly": 500, "seniority_years": 3},
            "F-BUILD-SUBSIDY": {**hard, "new_station": 100000, "upgraded_station": 50000},
            # §F5.2: 50,000 yuan per social worker from the city, the county matching >= 1 : 1.  The match is soft:
            # 100,000 fiscal yuan per worker on the 600+ in post exceeds F-SOURCES' 70 % of the 45 M (conflict).
            # Penalty 0.001 per yuan (as F-TOTAL construction): at 0.01 a worker's 50,000 unmatched yuan cost more
            # than the staffing clauses' 400 per worker short, and the horizon plan kept ~100 fewer workers.
            "F-OPS-SUBSIDY": {"mode": {"station": "hard", "city": "hard", "county_match": "soft"}, "penalty": 0.001,
                              "per_worker": 50000, "county_match": 1},
            "F-OPS-STATION": {"mode": "soft", "penalty": 0.01, "rural_min": 80000, "rural_max": 100000,
                              "urban_min": 150000},
            "F-TOTAL": {"mode": {"operations": "hard", "construction": "soft"}, "penalty": 0.001,
                        "total": 180_000_000, "construction": 45_000_000, "operations_per_year": 45_000_000,
                        "note": "construction soft: the subsidies need 11.5 M of the 45 M booked (conflict 3)"},
            "F-USES": {**hard, "salaries": 0.60, "services": 0.30, "training": 0.10},
            # §F2.3 90 : 10 today (fees under 5 %, §F2.4: 5 + 5), §F8.2 social 15 % in 2025, §F7.2 70 : 20 : 10 by
            # 2026.  Split soft (0.001 per yuan off the share): the city's subsidies alone pass 70 % (above).
            # Available: 10 M social funds (§F5.2, 2025 target), 4.5 M service revenue (§F7.2, 2024 estimate).
            "F-SOURCES": {"mode": {"paid": "hard", "split": "soft", "available": "hard"}, "penalty": 0.001,
                          "fiscal": {"2024": 0.90, "2025": 0.80, "2026": 0.70},
                          "social": {"2024": 0.05, "2025": 0.15, "2026": 0.20},
                          "revenue": {"2024": 0.05, "2025": 0.05, "2026": 0.10},
                          "social_max": {"2024": 10_000_000}, "revenue_max": {"2024": 4_500_000}},
            "F-FISCAL-FLOOR": {"share": 0.03},
            "F-AREA": {**hard, "min_m2": 80, "service_share": 0.60, "office_share": 0.30, "display_share": 0.10},
            "F-COVERAGE": {**hard, "share": {"2024": 0.90, "2025": 1.0}, "urban": 1.0, "rural": 0.8},
            "F-BUILD": {**hard, "new": 80, "upgraded": 70, "total": 150},
            "F-DEMO": {**hard, "count": {"2025": 10, "2026": 15}, "per_county_min": 1, "min_social_workers": 5,
                       "min_featured": 3},
            "F-CIRCLE": {"extension_points": 30, "minutes": 15},
            "F-ACCESS": {**hard, "share": 1.0},
            "F-GROUPS": {"elderly_share": 0.192, "rural_elderly_share": 0.235, "left_behind_children": 32000,
                         "disabled": 120000, "migrants": 80000},
            "F-PRO-SHARE": {"mode": "soft", "penalty": 500.0, "share": {"2024": 0.40, "2025": 0.55, "2026": 0.60},
                            "case_management": 0.70},
            "F-FEATURE": {**hard, "min_per_station": 2},
            "F-SPECIAL": {"mode": "soft", "penalty": 2.0, "share": 0.70, "today": 0.15},
            "F-RESPONSE": {"days": 3, "today_days": 7},
            "F-DEPT-LINK": {"departments": 3, "today": 0.35},
            "F-SOCIAL-ORG": {"share": {"2024": 0.30, "2025": 0.50, "2027": 0.60}},
            "F-SATISFACTION": {"share": {"2024": 0.78, "2025": 0.80, "2026": 0.85}, "complaints_max": 0.05},
            # Fairness (issue 15), the instance's choices: no group below 5 % of its need; a group's first 20 % of
            # need at full weight, the next 30 % at 0.6, the rest at 0.3 (README: provenance).
            "X-FLOOR": {"mode": "hard", "share": 0.05},
            "X-BENEFIT": {"first": 0.2, "second": 0.5, "second_weight": 0.6, "rest_weight": 0.3},
            "X-MIN-SERVED": {"mode": "hard"},
            # Costed moves (issue 15), the instance's choices: a move costs a month of today's pay (3,500 yuan),
            # at most 150 a year city-wide, nobody with F-SALARY's 3 years of service (README: provenance).
            "X-MOVES": {"mode": "hard", "cost_per_move": 3500, "max_per_year": 150, "protected_years": 3},
        },
    }


def write_raw(folder: Path, settings: dict, tables: dict[str, pd.DataFrame]) -> None:
    """Write generator output as an instance folder (no validation)."""
    import tomli_w

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instance.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    for name, df in tables.items():
        df = df.copy()
        for c in df.columns:
            if df[c].dtype == bool:
                df[c] = np.where(df[c], "true", "false")
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


PROVENANCE = {
    "a-district-2026": {
        "title": "District A community workstations (document A)",
        "rows": [
            ("stations.csv", "station_id, name", "generator", "A01..A42, 'Community N'"),
            ("stations.csv", "county", "generator", "six streets (the document names none)"),
            ("stations.csv", "area_type", "A-COVERAGE", "30 urban / 12 rural, chosen so that today's resident "
             "coverage is 90.5 % urban and 61.9 % rural"),
            ("stations.csv", "status", "A2.1 / A-COVERAGE", "38 existing centres, 4 communities without one ('new')"),
            ("stations.csv", "one_stop", "A-COVERAGE (one_stop_today)", "15 one-stop stations (35.7 %)"),
            ("stations.csv", "population", "A2.1 + generator", "420,000 in all (exact); split by a seeded draw"),
            ("stations.csv", "households", "generator", "population / 2.5 (urban) or 2.9 (rural)"),
            ("stations.csv", "floor_area_m2", "A6.2 + generator", "36,000 m2 over the 38 centres (exact)"),
            ("stations.csv", "building_age_years", "A-RENOVATE + generator", "23 centres older than 10 years (exact)"),
            ("stations.csv", "zone_*", "A-ZONES (today 45/38/17) + generator", "drawn around today's average"),
            ("stations.csv", "accessible", "generator", "about 70 % of centres"),
            ("groups.csv", "residents", "A1.2 national shares + generator", "elderly 21.1 %, children, disabled, "
             "low income, migrants, unemployed youth"),
            ("instance.toml", "[groups] need_share", "A-NEEDS", "78 % elderly meals, 65 % child care, ..."),
            ("services.csv", "all", "A4.3 + generator", "6 basic, 8 featured and 3 personalised services; costs "
             "and hours synthetic"),
            ("departments.csv, packages.csv", "all", "A2.3 / F5.4 + generator", "8 departments; packages synthetic"),
            ("staff.csv", "type, certified", "A2.2 / A-CERT-RATE", "203 admin + 60 social workers (27 certified, 45 %) "
             "+ 63 volunteers = 326 (exact)"),
            ("staff.csv", "level, local_registration, years, bachelor, age", "generator", "seeded draws"),
            ("instance.toml", "[objective] mode", "choice (issue 15)", "weighted: the lexicographic plan (least "
             "weighted deviation first) covers 80,069 residents against 110,074 (elderly 10,961 against 40,926) to "
             "open 14 canteens and 145 more service offers that A-VARIETY counts whether they serve anyone; a "
             "reader defends the plan that serves more (benchmarks/README.md, objective comparison)"),
            ("instance.toml", "[clauses]", "POLICY.md A-*", "every A-* clause with its document figure"),
            ("instance.toml", "[costs], [staff_types], group hours and costs", "generator",
             "synthetic unit costs (the document gives none)"),
            ("instance.toml", "[staff_types.social_worker] annual_cost", "A2.4 / A-SALARY today",
             "42,000 a year = today's 3,500 a month (document); the payroll charges it where A-SALARY is soft"),
            ("instance.toml", "[staff_types.admin] annual_cost", "instance's choice",
             "36,000 a year (3,000 a month): the document gives 3,500 a month for community workers as a whole; "
             "at 3,500 today's 203 admin + 60 social workers (11.05 M) would not fit A-SPLIT's 11.025 M salaries"),
            ("instance.toml", "[clauses.A-STAFF-MIX]", "A4.1, A6.1", "3 : 4 : 3 as written, no tolerance (the "
             "document gives none; an instance may set `tolerance`)"),
            ("instance.toml", "[clauses.A-SOURCES]", "A2.2, A3.2, A6.3", "fiscal : donations : fees 75 : 15 : 10 "
             "(today, the document's only figures before 2028) as a split of the money spent (`split` hard, "
             "tolerance 0: the instance's choice); every yuan paid from a source (`paid`). A's fiscal money is the "
             "district's own (source `county`); A gives no amount of donations or fees, so no cap (`available` "
             "not stated): the shares finance the money A-BUDGET-PERCAP allows, they never add to it. "
             "`social_target` 30 % is for 2028, beyond the seeds' years"),
            ("instance.toml", "[clauses.A-SPLIT]", "A6.3 + instance's reading", "read as the budget's three lines "
             "(caps of 13.23 / 11.025 / 19.845 M), not a split of the money spent: A6.3 states them as amounts of "
             "the 44.1 M, its own audit rule is a floor ('45 % or more' straight to residents: A-DIRECT-MIN), "
             "and A2.2 names the same 30 : 25 : 45 as today's inefficient use"),
            ("instance.toml", "[clauses.X-FLOOR], [clauses.X-BENEFIT]", "instance's choice", "no group below 5 % "
             "of its need (hard); a group's first 20 % of need counts at its full weight, the next 30 % at 0.6, "
             "the rest at 0.3 (no document gives either)"),
            ("services.csv", "min_served", "instance's choice", "20 residents a year for a basic or featured "
             "service, 30 for the canteen, 5 cases for case management; a service below it is not offered "
             "(X-MIN-SERVED, hard)"),
            ("instance.toml", "[clauses.X-MOVES]", "instance's choice", "social workers may move between "
             "communities of one street: 3,500 yuan a move (a month of today's pay, charged to the receiving "
             "station's salaries), at most 30 moves a year in the district, nobody with 3 or more years of "
             "service (no document gives any of these)"),
            ("services.csv", "social_provider", "§A4.2, A6.3 + instance's choice", "elderly meals and child care "
             "(§A6.3 names them as the services to open to the market); A-SOCIAL-SUBSIDY pays 200 yuan a year per "
             "resident they serve, from the services money (hard); the 30 % rent relief is recorded only"),
            ("services.csv", "meals_per_resident", "§A6.3 + instance's choice", "250 meals a year per resident the "
             "canteen serves (a meal each working day); A-MEAL pays the government's 8 yuan of each from the services "
             "money (hard); the resident's 5.3 yuan is not the plan's money"),
            ("instance.toml", "[clauses.A-CATCHMENT]", "§A2.1 + instance's choice", "3,000-5,000 residents per "
             "service centre: the plan opens extra service points (50,000 yuan a year each, from the services money; "
             "no document gives a cost); [max] soft at 0.05 per resident above 5,000 a centre, [min] hard"),
        ],
    },
    "fuzhou-2026": {
        "title": "Fuzhou township social-work stations (document F)",
        "rows": [
            ("stations.csv", "county", "X-FUZHOU-COUNTIES", "Linchuan and Dongxiang districts and 9 counties; "
             "township counts of Zixi (7), Le'an (16), Jinxi (13), Guangchang (11) from the census figures"),
            ("stations.csv", "status", "F-BUILD", "80 new-build, 70 upgrades (exact)"),
            ("stations.csv", "population", "X-FUZHOU-POP, X-FUZHOU-COUNTIES + generator",
             "3,614,866 in all; county totals in the census order; split by a seeded draw"),
            ("stations.csv", "area_type", "generator", "streets of the districts and county seats urban"),
            ("stations.csv", "households, floor_area_m2, building_age_years, zone_*, accessible", "generator",
             "seeded draws; new stations have no building"),
            ("groups.csv", "elderly", "F-GROUPS", "19.2 % of residents, 23.5 % in rural stations (exact)"),
            ("groups.csv", "left_behind_children, disabled, migrants", "F-GROUPS", "32,000 / 120,000 / 80,000 (exact)"),
            ("groups.csv", "children", "X-FUZHOU-AGE", "0-14 share 21.6 % less the left-behind children"),
            ("groups.csv", "low_income", "generator", "4 % of residents"),
            ("staff.csv", "social workers", "F-HIRING (600 in post end-2024), F-CERT-RATE (18 % today)",
             "600 social workers, 108 certified"),
            ("staff.csv", "bachelor, age", "§F2.2 (F-DEGREE, F-YOUNG today)", "180 of 600 (30 %) with a bachelor's "
             "degree or above; 270 (45 %) under 35, 180 (30 %) 35-45, 150 (25 %) 46 and over; seeded draws"),
            ("instance.toml", "[clauses.F-DEGREE], [clauses.F-YOUNG]", "§F2.2, F3.2, F7.1", "30 % -> 45 % bachelor+ "
             "and 45 % -> 50 % under 35 by 2026 (2024: today's share held), soft at 400 per worker short as "
             "F-CERT-RATE; the stock's shares per year, from staff.csv and the hires (allocator/station/families/"
             "profile.py)"),
            ("instance.toml", "[clauses.F-DEGREE] hire_premium", "instance's choice", "a hire with a bachelor's "
             "degree or above costs 6,000 yuan a year more (500 a month, within F-SALARY's 3,500-4,500 range; the "
             "document gives no pay by degree): without a cost F-DEGREE is met for free; a young hire costs "
             "nothing more (pay follows years of service, F-SALARY)"),
            ("services.csv, departments.csv, packages.csv", "all", "F5.4 + generator", "synthetic"),
            ("instance.toml", "[objective] mode", "choice (issue 15)", "weighted: the lexicographic plan covers "
             "38,248 residents against 58,946 to cut the F-SPECIAL shortfall by 12,100 and meet F-CERT-RATE's "
             "intermediate share; the staffing shortfalls no plan avoids stay the same; a reader defends the plan "
             "that serves more (benchmarks/README.md, objective comparison)"),
            ("instance.toml", "[clauses]", "POLICY.md F-*", "every F-* clause with its document figure and year "
             "path (2024/2025/2026)"),
            ("instance.toml", "[documents] counties", "F text", "12 counties as the text says (conflict 5)"),
            ("instance.toml", "[clauses.F-USES]", "F7.2", "60 : 30 : 10 as a split of the operating funds spent "
             "(family `split`, hard, tolerance 0 = the instance's choice of the default), as well as caps on the "
             "45 M operations line"),
            ("instance.toml", "[clauses.X-FLOOR], [clauses.X-BENEFIT]", "instance's choice", "no group below 5 % "
             "of its need (hard); a group's first 20 % of need counts at its full weight, the next 30 % at 0.6, "
             "the rest at 0.3 (no document gives either)"),
            ("services.csv", "min_served", "instance's choice", "20 residents a year for a basic or featured "
             "service, 30 for the canteen, 5 cases for case management; a service below it is not offered "
             "(X-MIN-SERVED, hard)"),
            ("instance.toml", "[clauses.F-SPECIAL]", "F9.1", "70 % of the special groups' need, on the whole "
             "(family `total`) and for each special group (family `group`), soft as before"),
            ("instance.toml", "[clauses.X-MOVES]", "instance's choice", "social workers may move between "
             "stations of one county: 3,500 yuan a move (a month of today's pay, against 42,000+ a year for a "
             "hire; charged to the receiving station's salaries), at most 150 moves a year city-wide (one cap for "
             "all counties), nobody with 3 or more years of service (F-SALARY's seniority_years: whoever earns the "
             "seniority bonus stays where the bonus is paid); no document gives these figures"),
            ("services.csv", "professional", "§F2.1, F3.2 + instance's choice", "long-term professional services "
             "(case management, community development): the three case managements, counselling, rehabilitation and "
             "new-resident integration; not neighbourhood mutual aid (§F5.4 calls it an activity)"),
            ("instance.toml", "[clauses.F-PRO-SHARE]", "§F3.2, F8.2, F9.1", "share of the services offered that are "
             "professional, 40 % / 55 % / 60 % (2024/2025/2026); soft at 500 per service short; case_management "
             "70 % recorded only"),
            ("instance.toml", "[clauses.F-SOURCES]", "F2.3, F2.4, F8.2, F7.2, F5.2", "fiscal : social : revenue "
             "90 : 5 : 5 in 2024 (90 : 10 today, §F2.3; fees under 5 %, §F2.4), 80 : 15 : 5 in 2025 (social 15 %, "
             "§F8.2; the rest the instance's choice), 70 : 20 : 10 in 2026 (§F7.2) as a split of the money spent "
             "(`split` soft, 0.001 per yuan off the share: the instance's choice, the city's subsidies alone pass "
             "70 %); at most 10 M social funds (§F5.2, the 2025 target) and 4.5 M service revenue (§F7.2, the 2024 "
             "estimate) a year (`available`, hard); every yuan paid from a source (`paid`, hard)"),
            ("instance.toml", "[clauses.F-OPS-SUBSIDY]", "F5.2, F2.4", "the city pays 50,000 yuan per social worker "
             "and the building subsidies (`city`, hard); the county matches the operating subsidy >= 1 : 1 "
             "(`county_match`, soft at 0.001 per yuan: 100,000 fiscal yuan per worker does not fit the 45 M; at "
             "0.01 the unmatched yuan outweighed the staffing clauses and the horizon plan kept ~100 fewer workers)"),
        ],
    },
}


def write_readme(folder: Path, name: str) -> None:
    """The folder's provenance table: where every column comes from."""
    p = PROVENANCE[name]
    lines = [f"# {p['title']}", "", "Made by `python instances/generate.py` (seeded, deterministic). The "
             "documents' figures are exact; station-level detail they do not give is synthetic. The documents' "
             "contradictions are encoded as written (see POLICY.md, known conflicts).", "",
             "| file | column | source | note |", "|---|---|---|---|"]
    lines += [f"| {f} | {c} | {s} | {n} |" for f, c, s, n in p["rows"]]
    (folder / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- horizon instances (issue 14): the same tables, the documents' paths year by year -------------------
def f_horizon_settings() -> dict:
    """Fuzhou 2024-2026 (POLICY.md "The path, year by year", F §F8.1-F8.3)."""
    s = f_settings()
    inst = s["instance"]
    del inst["year"]
    inst["years"] = [2024, 2025, 2026]
    inst["description"] = ("150 township/street stations over 2024-2026 (document F, §F8.1-F8.3): one plan "
                           "with staff stock, hiring, turnover, a build schedule and money by year.")
    s["horizon"] = {
        "upgrades_per_year": 60,
        "rules": {"F-HIRING.in_post": "interpolate"},  # 600 end-2024 -> 1,200 by 2026: 900 in 2025
        "in_force": {"F-BUILD": [2024], "F-DEMO": [2025, 2026]},
    }
    c = s["clauses"]
    # §F8.1: 30 M of operating funds in 2024 (half a year of operations), 45 M a year after.
    c["F-TOTAL"]["operations_per_year"] = {"2024": 30_000_000, "2025": 45_000_000}
    # Conflict 2 is sharper in 2024 (60 % of 30 M pays 428 social workers at base cost): F-USES soft.
    c["F-USES"] = {"mode": "soft", "penalty": 0.01, "salaries": 0.60, "services": 0.30, "training": 0.10,
                   "note": "soft over the horizon: 2024's 30 M cannot pay the 600 in post at 60 % (conflict 2)"}
    c["F-LOCAL-HIRE"] = {"mode": "soft", "penalty": 400.0, "share": 0.40, "local_hires": {"2024": 200}}
    # X-FLOOR over the horizon: 2024 runs half a year of operations (§F8.1: stations open Jul-Dec, 30 M), so
    # its floor is half the full-year 5 %; at 5 % in 2024 the year's services money cannot reach every group.
    c["X-FLOOR"] = {"mode": "hard", "share": {"2024": 0.025, "2025": 0.05}}
    return s


def a_horizon_settings() -> dict:
    """District A 2024-2027 (POLICY.md "The path, year by year", A §A7.1-A7.3)."""
    s = a_settings()
    inst = s["instance"]
    del inst["year"]
    inst["years"] = [2024, 2025, 2026, 2027]
    inst["description"] = ("42 communities over 2024-2027 (document A, §A7.1-A7.3): base building 2024-2025, "
                           "function uplift 2026-2027.")
    s["horizon"] = {
        "upgrades_per_year": 20,
        "in_force": {
            # §A3.2: the short-term targets (2024-2025) include at least 2 certified social workers per
            # community, met by the end of 2025 (2024 H2 recruits; 2024 itself cannot train 57 more).
            "A-CERT-MIN": [2025, 2026, 2027],
            # 2026: 15 canteens at 80 % of meal need; >= 10 featured projects (one per community);
            # workstation coverage urban >= 95 %, rural >= 70 %.
            "A-CANTEEN": [2026, 2027], "A-FEATURE": [2026, 2027], "A-COVERAGE": [2026, 2027],
            # 2027: volunteers x 3 of today's; 15 service types.
            "A-VOLUNTEER": [2027], "A-VARIETY": [2027],
        },
    }
    return s


HORIZON_PROVENANCE = {
    "fuzhou": ("fuzhou-2026", f_horizon_settings, [
        ("instance.toml", "[instance] years", "POLICY.md F path", "2024-2026 (§F8.1-F8.3)"),
        ("instance.toml", "F-TOTAL operations_per_year", "§F8.1, F7.2", "30 M in 2024 (Jan-Feb: funds in place for "
         "the year, half a year of operations), 45 M a year from 2025; construction 45 M and total 180 M over "
         "the horizon"),
        ("instance.toml", "F-HIRING recruited / in_post", "§F8.1, F3.3", "recruit 500 in 2024 (a flow); 600 in "
         "post end-2024, 1,200 by 2026; 900 in 2025 by the rule 'interpolate'"),
        ("instance.toml", "F-TURNOVER rate", "§F3.2, F6.2", "25 % (2024), 20 % (2025), 15 % (2026)"),
        ("instance.toml", "F-CERT-RATE share", "§F3.2, F6.2", "18 % / 30 % / 35 %"),
        ("instance.toml", "F-COVERAGE share", "§F8.1, F8.2", "90 % of stations open in 2024, 100 % from 2025"),
        ("instance.toml", "[horizon.in_force] F-BUILD", "§F8.1 (2024 Jun)", "80 new-build and 70 upgrades in 2024"),
        ("instance.toml", "[horizon.in_force] F-DEMO, F-DEMO count", "§F8.2, F3.3", "none in 2024; 10 by 2025 "
         "(one per county or district); 15 by 2026"),
        ("instance.toml", "F-LOCAL-HIRE", "§F8.1 (2024 May), F5.3", "200 local hires in 2024, 40 % of rural hires "
         "(soft)"),
        ("instance.toml", "F-USES mode", "conflict 2", "soft over the horizon (2024's 30 M)"),
        ("instance.toml", "X-FLOOR share", "instance's choice, §F8.1", "every group covered at 2.5 % of its need in "
         "2024 (half a year of operations on 30 M: half the full-year floor) and 5 % from 2025; at 5 % in 2024 "
         "the year's services money cannot reach every group"),
        ("instance.toml", "X-BENEFIT, X-MIN-SERVED", "instance's choice", "as in the one-year seed"),
        ("instance.toml", "[horizon] upgrades_per_year", "generator", "60 certification upgrades a year "
         "(the documents give no figure)"),
        ("all tables", "", "fuzhou-2026", "the one-year seed's tables: today is the start of 2024"),
    ]),
    "a-district": ("a-district-2026", a_horizon_settings, [
        ("instance.toml", "[instance] years", "POLICY.md A path", "2024-2027 (§A7.1-A7.3); 2028+ (A-SOURCES, "
         "A-BOTTOM10) is beyond the horizon"),
        ("instance.toml", "A-AREA, A-ZONES, A-RENOVATE", "§A7.1 (2024 H1)", "space plans and refits, every year "
         "from 2024 (works decided and paid in 2024)"),
        ("instance.toml", "A-STAFF-DENSITY, A-STAFF-MIX, A-CERT-RATE, A-SALARY", "§A7.1 (2024 H2)", "756 staff at "
         "3 : 4 : 3, 80 % certified, 4,500 a month, from 2024"),
        ("instance.toml", "[horizon.in_force] A-CERT-MIN", "§A3.2 (short term 2024-2025)", "at least 2 "
         "certified social workers per community by the end of 2025, held after"),
        ("instance.toml", "[horizon.in_force] A-CANTEEN, A-FEATURE, A-COVERAGE", "§A7.2 (2026)", "15 canteens, "
         "80 % meal coverage, featured projects, coverage urban 95 % / rural 70 % from 2026"),
        ("instance.toml", "[horizon.in_force] A-VOLUNTEER, A-VARIETY", "§A7.2 (2027)", "volunteers x 3, 15 service "
         "types in 2027"),
        ("instance.toml", "[horizon] upgrades_per_year", "generator", "20 certification upgrades a year"),
        ("all tables", "", "a-district-2026", "the one-year seed's tables: today is the start of 2024"),
    ]),
}


def write_horizon_seeds() -> None:
    """``instances/<name>-horizon``: the one-year seed's tables with the horizon settings."""
    import shutil
    import tempfile

    for name, (base, make, rows) in HORIZON_PROVENANCE.items():
        src = load(HERE / base)
        with tempfile.TemporaryDirectory(dir=HERE) as tmp:
            raw = Path(tmp) / "raw"
            write_folder(src, raw)
            import tomli_w

            (raw / "instance.toml").write_text(tomli_w.dumps(make()), encoding="utf-8")
            inst = load(raw)
            write_folder(inst, Path(tmp) / name)
            lines = [f"# {inst.name}: {inst.years[0]}-{inst.years[-1]}", "",
                     f"Made by `python instances/generate.py` from `instances/{base}` (same tables) with the "
                     "documents' figures per year (POLICY.md, \"The path, year by year\").", "",
                     "| file | figure | source | note |", "|---|---|---|---|"]
            lines += [f"| {f} | {c} | {s} | {n} |" for f, c, s, n in rows]
            (Path(tmp) / name / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
            shutil.rmtree(HERE / name, ignore_errors=True)
            shutil.move(Path(tmp) / name, HERE / name)
        print(f"wrote {HERE / name} ({inst.num_stations} stations, years {list(inst.years)})")


def main() -> None:
    import shutil
    import tempfile

    for name, make in (("a-district-2026", district_a), ("fuzhou-2026", fuzhou)):
        settings, tables = make()
        folder = HERE / name
        with tempfile.TemporaryDirectory(dir=HERE) as tmp:
            write_raw(Path(tmp) / "raw", settings, tables)
            inst = load(Path(tmp) / "raw")  # the generated folder must pass validation
            write_folder(inst, Path(tmp) / name)  # canonical form
            write_readme(Path(tmp) / name, name)
            # The seed folders hold a README the engine does not write: this script, not the engine,
            # replaces them.
            shutil.rmtree(folder, ignore_errors=True)
            shutil.move(Path(tmp) / name, folder)
        book = HERE / f"{name}.xlsx"
        book.unlink(missing_ok=True)
        write_xlsx(inst, book)
        print(f"wrote {folder} ({inst.num_stations} stations) and {name}.xlsx")
    write_horizon_seeds()


if __name__ == "__main__":
    import sys

    write_horizon_seeds() if "--horizon" in sys.argv else main()
