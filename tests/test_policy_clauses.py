"""The engine's clauses met and broken on the seeds, held against an independent check from POLICY.md.

Each seed is solved once per session (a module-scoped fixture writes the plan into a temporary folder).
The check below is written from ``/work/shared/POLICY.md``'s figures and the plan's CSV files with pandas
only: it imports nothing from ``allocator.verify`` or ``allocator.station``. For every clause family the
engine reports in ``clauses.csv`` and that the table ``RULES`` knows, the set of stations (or the one total)
where the clause is broken must be the same in three places: this check, ``clauses.csv``'s ``deviation``
column and ``allocator verify --json``'s state, and the family's total deviation must equal this check's
total shortfall (``AMOUNT_EXCEPTIONS`` lists where it may not, and why). Every row's hard/soft mode must be
the instance's. Multi-year plans are checked year by year with each year's figure; rows without a year
(horizon totals) by ``HORIZON_RULES``. Families the table does not know (other helpers are adding
clauses) are listed in the test output, not failed. Add a clause by appending a ``Rule`` row.

The instance.toml is read only to know which clauses are in force (and the group list / special flags,
which are instance data). The FIGURES are POLICY.md's; where an instance deliberately uses another figure,
or POLICY.md has none, the row's ``figure`` says "instance:" and ``INSTANCE_FIGURES`` gives the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The multi-year Fuzhou seed takes ~30 s to solve alone but ~90 s on the shared machine: it runs when
# ALLOCATOR_SLOW_SEEDS=1 (the check itself handles the year column and each year's figure).
SLOW = os.environ.get("ALLOCATOR_SLOW_SEEDS") == "1"
SEEDS = ["fuzhou-2026", "a-district-2026",
         pytest.param("fuzhou", marks=pytest.mark.skipif(not SLOW, reason="multi-year seed: ALLOCATOR_SLOW_SEEDS=1"))]

# tolerance on a shortfall, in the clause's unit: the plan's files carry 6 decimals and money rounds to fen
TOL = 1e-3
TOL_YUAN = 1.0


# ---------------------------------------------------------------------------------------------------------------
# POLICY.md figures (year -> figure: a path figure holds from its year until the next one)
# ---------------------------------------------------------------------------------------------------------------
F_CERT_SHARE = {2024: 0.18, 2025: 0.30, 2026: 0.35}     # F-CERT-RATE §F3.2, F6.2, F7.1
F_CERT_INTERMEDIATE = 0.10                                # F-CERT-RATE intermediate level >= 10 %
F_IN_POST = {2024: 600.0, 2026: 1200.0}                    # F-HIRING §F3.3, F5.3, F8.2
F_OPERATIONS = {2024: 30e6, 2025: 45e6}                  # F-TOTAL: 30 M in 2024 (half a year), then 45 M a year
F_RECRUITED = {2024: 500.0}                              # F-HIRING: 500 recruited in 2024 (May)
F_LOCAL_HIRES = {2024: 200.0}                            # F-LOCAL-HIRE: 200 local hires in 2024
F_LOCAL_SHARE = 0.4                                      # F-LOCAL-HIRE: rural hires locally registered >= 40 %
F_COVERAGE = {2024: 0.9, 2025: 1.0}                      # F-COVERAGE §F3.2, F3.3
F_DEMO = {2025: 10.0, 2026: 15.0}                          # F-DEMO §F3.1, F3.3

INSTANCE_FIGURES = {
    # (clause, family): why the figure comes from the instance, not POLICY.md
    ("F-DEMO", "standard"): "POLICY.md gives no standard for a demonstration station; the instance sets "
                            "min_social_workers and min_featured",
    ("X-FLOOR", "group"): "X- clauses are the engine's own (issue 15: per-group floors are instance figures)",
    ("X-MIN-SERVED", "station"): "X- clause: each service's min_served is an instance figure (services.csv)",
    ("F-HIRING", "in_post"): "between POLICY.md's years the instance's [horizon.rules] may say 'interpolate' "
                             "(600 end-2024 -> 1,200 by 2026 read as a straight line: 900 in 2025)",
    ("F-SW-DENSITY", "stated_total"): "the 1,200 is POLICY.md's F-SW-DENSITY '-> 1,200 city-wide' (conflict 4)",
}


def at(path: dict[int, float], year: int, interpolate: bool = False) -> float | None:
    """The path figure in force in ``year`` (the last one at or before it), or None before the first.

    With ``interpolate`` (the instance's own reading of a path, see INSTANCE_FIGURES) a year between two
    figures gets the straight line between them.
    """
    keys = [y for y in sorted(path) if y <= year]
    if not keys:
        return None
    after = [y for y in sorted(path) if y > year]
    if interpolate and after:
        y0, y1 = keys[-1], after[0]
        return path[y0] + (path[y1] - path[y0]) * (year - y0) / (y1 - y0)
    return path[keys[-1]]


# ---------------------------------------------------------------------------------------------------------------
# One year of a plan, joined to the instance's station data
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Year:
    year: int
    st: pd.DataFrame       # one row per station: instance stations + plan stations/staff/budget, index station_id
    cov: pd.DataFrame      # coverage rows with the group's special flag
    svc: pd.DataFrame      # services rows with min_served
    toml: dict[str, Any]
    hires: pd.DataFrame | None = None   # hires.csv rows with the station's area_type (multi-year plans)

    @property
    def active(self) -> pd.Series:
        return self.st["active"] == 1

    @property
    def urban(self) -> pd.Series:
        return self.st["area_type"] == "urban"

    def interpolates(self, clause: str, key: str) -> bool:
        rules = self.toml.get("horizon", {}).get("rules", {})
        return bool(rules.get(f"{clause}.{key}") == "interpolate")

    def fig(self, clause: str, key: str) -> Any:
        return self.toml["clauses"][clause][key]


def load_years(instance: Path, plan: Path) -> list[Year]:
    toml = tomllib.loads((instance / "instance.toml").read_text(encoding="utf-8"))
    inst = pd.read_csv(instance / "stations.csv").set_index("station_id").rename(columns={"one_stop": "one_stop_today"})
    staff = pd.read_csv(instance / "staff.csv")
    sw = staff[staff["type"] == "social_worker"]
    senior = (sw["years_of_service"] >= 3).groupby(sw["station_id"]).sum()
    min_served = pd.read_csv(instance / "services.csv").set_index("service_id")["min_served"]
    special = {g: bool(v.get("special", False)) for g, v in toml["groups"].items()}
    frames = {n: pd.read_csv(plan / f"{n}.csv") for n in ("stations", "staff", "budget", "coverage", "services")}
    hires = pd.read_csv(plan / "hires.csv") if (plan / "hires.csv").exists() else None
    if hires is not None:
        hires = hires.join(inst["area_type"], on="station_id")
    if "year" not in frames["stations"]:
        for df in frames.values():
            df["year"] = toml["instance"]["year"]
    years = []
    for year in sorted(frames["stations"]["year"].unique()):
        f = {n: df[df["year"] == year].drop(columns="year") for n, df in frames.items()}
        st = inst.join(f["stations"].set_index("station_id"))
        st = st.join(f["staff"].set_index("station_id"))
        st = st.join(f["budget"].set_index("station_id"), rsuffix="_yuan")  # service_points: count and yuan
        st["ops"] = st["salaries"] + st["services"] + st["training"]
        st["senior"] = senior.reindex(st.index, fill_value=0)
        cov = f["coverage"].assign(special=lambda d: d["group"].map(special))
        svc = f["services"].assign(min_served=lambda d: d["service_id"].map(min_served))
        h = None if hires is None else hires[hires["year"] == year]
        years.append(Year(int(year), st, cov, svc, toml, h))
    return years


# ---------------------------------------------------------------------------------------------------------------
# Shortfall helpers: a Series of shortfalls (>= 0) keyed by station id, or by "" for a total
# ---------------------------------------------------------------------------------------------------------------
Check = Callable[[Year], "pd.Series | None"]


def total(shortfall: float) -> pd.Series:
    return pd.Series({"": max(0.0, float(shortfall))})


def at_least(lhs: pd.Series, rhs: pd.Series | float, where: pd.Series) -> pd.Series:
    return (rhs - lhs).clip(lower=0.0)[where]


def at_most(lhs: pd.Series, rhs: pd.Series | float, where: pd.Series) -> pd.Series:
    return (lhs - rhs).clip(lower=0.0)[where]


def offered(y: Year, kind: str | None = None, service: str | None = None) -> pd.Series:
    s = y.svc[y.svc["offered"] == 1]
    if kind:
        s = s[s["kind"] == kind]
    if service:
        s = s[s["service_id"] == service]
    return s.groupby("station_id").size().reindex(y.st.index, fill_value=0)


def covered(y: Year, special: bool | None = None) -> tuple[float, float]:
    c = y.cov if special is None else y.cov[y.cov["special"] == special]
    return float(c["covered"].sum()), float(c["demand"].sum())


def per_group(y: Year, share: float, only_special: bool) -> pd.Series:
    g = y.cov.groupby("group")[["covered", "demand"]].sum()
    if only_special:
        g = g[g.index.map(lambda k: bool(y.cov.loc[y.cov["group"] == k, "special"].iloc[0]))]
    return (share * g["demand"] - g["covered"]).clip(lower=0.0).rename(lambda k: f"group:{k}")


def opt(fig: float | None, fn: Callable[[float], pd.Series]) -> pd.Series | None:
    """The check when the year has a figure, else None (not in force that year)."""
    return None if fig is None else fn(fig)


def uses_split(y: Year) -> pd.Series:
    ops = float(y.st["ops"].sum())
    gaps = [abs(float(y.st[u].sum()) - share * ops) for u, share in (("salaries", 0.6), ("services", 0.3),
                                                                        ("training", 0.1))]
    return total(sum(gaps))


def served_min(y: Year) -> pd.Series | None:
    if "served" not in y.svc:
        return None
    s = y.svc[y.svc["offered"] == 1]
    return (s["min_served"] - s["served"]).clip(lower=0.0).groupby(s["station_id"]).max()


def built_now(y: Year) -> pd.Series:
    if "built_year" in y.st:
        return y.st["built_year"] == y.year
    return y.st["built"] == 1


def sw_hires(y: Year) -> pd.DataFrame | None:
    return None if y.hires is None else y.hires[y.hires["type"] == "social_worker"]


def recruited(y: Year) -> pd.Series | None:
    h, cap = sw_hires(y), at(F_RECRUITED, y.year)
    return None if h is None or cap is None or y.year not in F_RECRUITED else total(h["hires"].sum() - cap)


def local_count(y: Year) -> pd.Series | None:
    h = sw_hires(y)
    if h is None or y.year not in F_LOCAL_HIRES:
        return None
    return total(F_LOCAL_HIRES[y.year] - h.loc[h["local"].astype(bool), "hires"].sum())


def local_share(y: Year) -> pd.Series | None:
    h = sw_hires(y)
    if h is None:
        return None
    rural = h[h["area_type"] == "rural"]
    return total(F_LOCAL_SHARE * rural["hires"].sum() - rural.loc[rural["local"].astype(bool), "hires"].sum())


def demo_standard(y: Year) -> pd.Series:
    d = y.st["demo"] == 1
    short = (np.maximum(0, y.fig("F-DEMO", "min_social_workers") - y.st["social_workers"])
             + np.maximum(0, y.fig("F-DEMO", "min_featured") - offered(y, "featured")))
    return short[d]


def renovate(y: Year) -> pd.Series:
    old = y.st["building_age_years"].fillna(0) > 10
    return at_least(y.st["renovated"], 1, old & y.active)


def canteen_coverage(y: Year) -> pd.Series:
    meals = offered(y, service="elderly_meals") > 0
    e = y.cov[y.cov["group"] == "elderly"].set_index("station_id")
    return at_least(e["covered"], 0.8 * e["demand"], meals.reindex(e.index, fill_value=False))


def caseload(y: Year) -> pd.Series:
    hh_size = y.st["population"] / y.st["households"]
    households = y.cov.groupby("station_id")["covered"].sum().reindex(y.st.index, fill_value=0) / hh_size
    return at_most(households, 200 * y.st["social_workers"], y.active)


def pay(y: Year) -> pd.Series:
    """The salaries line less the cost of moving workers (budget.csv ``moves``): relocation is not pay."""
    moves = y.st["moves"] if "moves" in y.st.columns else 0.0
    return y.st["salaries"] - moves


def a_salary(y: Year) -> pd.Series:
    admin_cost = y.toml["staff_types"]["admin"]["annual_cost"]   # a cost of the instance, not a clause figure
    return at_least(pay(y), 12 * 4500 * y.st["social_workers"] + admin_cost * y.st["admin"], y.active)


def a_mix(kind: str, share: float) -> Check:
    return lambda y: total(abs(float(y.st[kind].sum()) - share * float(y.st["total_staff"].sum())))


def a_coverage(urban: bool, share: float) -> Check:
    def check(y: Year) -> pd.Series:
        mask = y.urban if urban else ~y.urban
        pop = y.st.loc[mask, "population"]
        return total(share * pop.sum() - pop[y.active[mask]].sum())
    return check


# ---------------------------------------------------------------------------------------------------------------
# The table: clause id, family, POLICY.md figure, how it is computed from the plan, the check
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    clause: str
    family: str
    figure: str
    how: str
    check: Check
    tol: float = TOL


def _pop(y: Year) -> float:
    return float(y.st["population"].sum())


def _sw(y: Year) -> float:
    return float(y.st["social_workers"].sum())


RULES: list[Rule] = [
    # ---- Fuzhou (document F) ----
    Rule("F-SW-DENSITY", "per_10k", ">= 2 per 10,000", "sum staff.social_workers >= 2 * sum population / 1e4",
         lambda y: total(2 * _pop(y) / 1e4 - _sw(y))),
    Rule("F-SW-DENSITY", "stated_total", ">= 1,200", "sum staff.social_workers >= 1200",
         lambda y: total(1200 - _sw(y))),
    Rule("F-HIRING", "in_post", "600 (2024), 1,200 (2026)", "sum staff.social_workers >= figure(year)",
         lambda y: opt(at(F_IN_POST, y.year, y.interpolates("F-HIRING", "in_post")), lambda n: total(n - _sw(y)))),
    Rule("F-HIRING", "recruited", "500 recruited in 2024", "sum hires.csv social-worker hires in 2024 <= 500",
         recruited),
    Rule("F-LOCAL-HIRE", "count", "200 local hires in 2024", "sum hires.csv hires with local in 2024 >= 200",
         local_count),
    Rule("F-LOCAL-HIRE", "share", "rural hires local >= 40 %", "local rural hires >= 0.4 * rural hires",
         local_share),
    Rule("F-SW-URBAN", "station", ">= 5 per urban station", "social_workers >= 5 at every open urban station",
         lambda y: at_least(y.st["social_workers"], 5, y.active & y.urban)),
    Rule("F-SW-RURAL", "station", ">= 3 per rural station", "social_workers >= 3 at every open rural station",
         lambda y: at_least(y.st["social_workers"], 3, y.active & ~y.urban)),
    Rule("F-CERT-RATE", "certified", "18 % -> 30 % (2025) -> 35 % (2026)",
         "sum certified >= share(year) * sum social_workers",
         lambda y: opt(at(F_CERT_SHARE, y.year), lambda s: total(s * _sw(y) - y.st["certified"].sum()))),
    Rule("F-CERT-RATE", "intermediate", "intermediate >= 10 %",
         "sum sw_certified_intermediate >= 0.10 * sum social_workers",
         lambda y: total(F_CERT_INTERMEDIATE * _sw(y) - y.st["sw_certified_intermediate"].sum())),
    Rule("F-SALARY", "station", "60,000 a year; +500 a month after 3 years",
         "budget.salaries - budget.moves >= 60000 * social_workers + 12 * 500 * (workers in post with >= 3 years)",
         lambda y: at_least(pay(y), 60000 * y.st["social_workers"] + 6000 * y.st["senior"], y.active),
         TOL_YUAN),
    Rule("F-TOTAL", "operations", "30 M (2024), 45 M a year", "sum (salaries + services + training) <= figure",
         lambda y: opt(at(F_OPERATIONS, y.year), lambda b: total(y.st["ops"].sum() - b)), TOL_YUAN),
    Rule("F-TOTAL", "construction", "45 M construction", "sum budget.facilities = 45e6 (either way is broken)",
         lambda y: total(abs(y.st["facilities"].sum() - 45e6)), TOL_YUAN),
    Rule("F-USES", "salaries", "60 % of F-TOTAL's operations", "sum salaries <= 0.6 * operations(year)",
         lambda y: opt(at(F_OPERATIONS, y.year), lambda b: total(y.st["salaries"].sum() - 0.6 * b)), TOL_YUAN),
    Rule("F-USES", "services", "30 % of F-TOTAL's operations", "sum services <= 0.3 * operations(year)",
         lambda y: opt(at(F_OPERATIONS, y.year), lambda b: total(y.st["services"].sum() - 0.3 * b)), TOL_YUAN),
    Rule("F-USES", "training", "10 % of F-TOTAL's operations", "sum training <= 0.1 * operations(year)",
         lambda y: opt(at(F_OPERATIONS, y.year), lambda b: total(y.st["training"].sum() - 0.1 * b)), TOL_YUAN),
    Rule("F-USES", "split", "60 : 30 : 10 of operating funds",
         "sum of |use - share * sum ops| over salaries, services, training", uses_split, TOL_YUAN),
    Rule("F-BUILD", "new", "80 new", "stations with status new and built = 80",
         lambda y: total(abs(((y.st["status"] == "new") & (y.st["built"] == 1)).sum() - 80))),
    Rule("F-BUILD", "upgraded", "70 upgraded", "stations with status upgrade and built = 70",
         lambda y: total(abs(((y.st["status"] == "upgrade") & (y.st["built"] == 1)).sum() - 70))),
    Rule("F-BUILD-SUBSIDY", "station", "100,000 per new, 50,000 per upgraded station",
         "budget.facilities >= subsidy at each station built (in its year where the plan has built_year)",
         lambda y: at_least(y.st["facilities"], y.st["status"].map({"new": 1e5, "upgrade": 5e4}).fillna(0.0),
                            built_now(y)), TOL_YUAN),
    Rule("F-COVERAGE", "total", "90 % (2024) -> 100 % (2025)", "open stations >= share(year) * all stations",
         lambda y: opt(at(F_COVERAGE, y.year), lambda s: total(s * len(y.st) - y.active.sum()))),
    Rule("F-DEMO", "count", "10 by 2025, 15 by 2026", "sum stations.demo >= figure(year)",
         lambda y: opt(at(F_DEMO, y.year), lambda n: total(n - y.st["demo"].sum()))),
    Rule("F-DEMO", "per_county", ">= 1 per county", "every county has a demo station",
         lambda y: opt(at(F_DEMO, y.year),
                       lambda _: (1 - y.st.groupby("county")["demo"].sum()).clip(lower=0).rename(lambda c: ""))),
    Rule("F-DEMO", "standard", "instance: min social workers, min featured at a demo station",
         "at demo stations social_workers >= min and featured offered >= min", demo_standard),
    Rule("F-FEATURE", "station", ">= 2 featured projects per station", "featured services offered >= 2 (open)",
         lambda y: at_least(offered(y, "featured"), 2, y.active)),
    Rule("F-AREA", "area", ">= 80 m2", "floor_area_after >= 80 at open stations",
         lambda y: at_least(y.st["floor_area_after"], 80, y.active)),
    Rule("F-AREA", "service", "service 60 %", "zone_service_m2 >= 0.6 * floor_area_after",
         lambda y: at_least(y.st["zone_service_m2"], 0.6 * y.st["floor_area_after"], y.active)),
    Rule("F-AREA", "office", "office 30 %", "zone_admin_m2 <= 0.3 * floor_area_after (office = admin zone)",
         lambda y: at_most(y.st["zone_admin_m2"], 0.3 * y.st["floor_area_after"], y.active)),
    Rule("F-AREA", "display", "display 10 %", "zone_activity_m2 >= 0.1 * floor_area_after (display = activity)",
         lambda y: at_least(y.st["zone_activity_m2"], 0.1 * y.st["floor_area_after"], y.active)),
    Rule("F-ACCESS", "station", "100 % barrier-free", "accessible today or access_retrofit, every open station",
         lambda y: at_least(y.st["accessible"].astype(int) + y.st["access_retrofit"], 1, y.active)),
    Rule("F-OPS-SUBSIDY", "station", "50,000 per social worker from the city",
         "salaries + services + training >= 50000 * social_workers (the county match: sources, not here)",
         lambda y: at_least(y.st["ops"], 50000 * y.st["social_workers"], y.active), TOL_YUAN),
    Rule("F-OPS-STATION", "station", "rural 80,000, urban 150,000 a year (floor; 100,000 is today's top)",
         "salaries + services + training >= 150000 urban / 80000 rural (open)",
         lambda y: at_least(y.st["ops"], np.where(y.urban, 150000, 80000), y.active), TOL_YUAN),
    Rule("F-SPECIAL", "group", "70 % of each special group", "covered >= 0.7 * demand per special group",
         lambda y: per_group(y, 0.7, only_special=True)),
    Rule("F-SPECIAL", "total", "70 % of special groups", "sum covered >= 0.7 * sum demand over special groups",
         lambda y: total(0.7 * covered(y, True)[1] - covered(y, True)[0])),
    # ---- District A (document A) ----
    Rule("A-STAFF-DENSITY", "total", ">= 18 per 10,000", "sum total_staff >= 18 * sum population / 1e4",
         lambda y: total(18 * _pop(y) / 1e4 - y.st["total_staff"].sum())),
    Rule("A-STAFF-MIX", "admin", "3 : 4 : 3", "|sum admin - 0.3 * sum total_staff| (no tolerance)",
         a_mix("admin", 0.3)),
    Rule("A-STAFF-MIX", "social_worker", "3 : 4 : 3", "|sum social_workers - 0.4 * sum total_staff|",
         a_mix("social_workers", 0.4)),
    Rule("A-STAFF-MIX", "volunteer", "3 : 4 : 3", "|sum volunteers - 0.3 * sum total_staff|",
         a_mix("volunteers", 0.3)),
    Rule("A-CERT-MIN", "station", ">= 2 certified per community", "certified >= 2 at every open station",
         lambda y: at_least(y.st["certified"], 2, y.active)),
    Rule("A-CERT-RATE", "total", ">= 80 %", "sum certified >= 0.8 * sum social_workers",
         lambda y: total(0.8 * _sw(y) - y.st["certified"].sum())),
    Rule("A-CASELOAD", "station", "200 households per social worker",
         "covered residents / (population / households) <= 200 * social_workers", caseload),
    Rule("A-SALARY", "station", ">= 4,500 a month", "salaries >= 54000 * social_workers + admin pay", a_salary,
         TOL_YUAN),
    Rule("A-VOLUNTEER", "total", "x 3 of today's 63", "sum volunteers >= 189",
         lambda y: total(189 - y.st["volunteers"].sum())),
    Rule("A-BUDGET-PERCAP", "total", "105 yuan per resident", "sum budget.total <= 105 * sum population",
         lambda y: total(y.st["total"].sum() - 105 * _pop(y)), TOL_YUAN),
    Rule("A-SPLIT", "facilities", "30 % (13.23 M)", "sum facilities <= 0.30 * 105 * population",
         lambda y: total(y.st["facilities"].sum() - 0.30 * 105 * _pop(y)), TOL_YUAN),
    Rule("A-SPLIT", "salaries", "25 % (11.025 M)", "sum salaries <= 0.25 * 105 * population",
         lambda y: total(y.st["salaries"].sum() - 0.25 * 105 * _pop(y)), TOL_YUAN),
    Rule("A-SPLIT", "services", "45 % (19.845 M)", "sum services <= 0.45 * 105 * population",
         lambda y: total(y.st["services"].sum() - 0.45 * 105 * _pop(y)), TOL_YUAN),
    Rule("A-DIRECT-MIN", "total", ">= 45 % to residents' services", "sum services >= 0.45 * sum budget.total",
         lambda y: total(0.45 * y.st["total"].sum() - y.st["services"].sum()), TOL_YUAN),
    Rule("A-AREA", "station", "urban >= 800 m2, rural >= 500 m2", "floor_area_after >= 800 / 500 (open)",
         lambda y: at_least(y.st["floor_area_after"], np.where(y.urban, 800, 500), y.active)),
    Rule("A-ZONES", "admin", "admin <= 20 %", "zone_admin_m2 <= 0.2 * floor_area_after",
         lambda y: at_most(y.st["zone_admin_m2"], 0.2 * y.st["floor_area_after"], y.active)),
    Rule("A-ZONES", "service", "service >= 50 %", "zone_service_m2 >= 0.5 * floor_area_after",
         lambda y: at_least(y.st["zone_service_m2"], 0.5 * y.st["floor_area_after"], y.active)),
    Rule("A-ZONES", "activity", "activity >= 30 %", "zone_activity_m2 >= 0.3 * floor_area_after",
         lambda y: at_least(y.st["zone_activity_m2"], 0.3 * y.st["floor_area_after"], y.active)),
    Rule("A-FLEX", "station", "10 % kept free", "zone_flex_m2 >= 0.1 * floor_area_after",
         lambda y: at_least(y.st["zone_flex_m2"], 0.1 * y.st["floor_area_after"], y.active)),
    Rule("A-RENOVATE", "station", "centres older than 10 years", "renovated = 1 where building_age_years > 10",
         renovate),
    Rule("A-COVERAGE", "urban", "urban >= 95 %", "residents of open urban stations >= 0.95 * urban residents",
         a_coverage(True, 0.95)),
    Rule("A-COVERAGE", "rural", "rural >= 70 %", "residents of open rural stations >= 0.70 * rural residents",
         a_coverage(False, 0.70)),
    Rule("A-COVERAGE", "one_stop", "one-stop 60 %", "sum stations.one_stop >= 0.6 * stations",
         lambda y: total(0.6 * len(y.st) - y.st["one_stop"].sum())),
    Rule("A-BASIC", "station", "6 mandatory", "basic services offered >= 6 at every open station",
         lambda y: at_least(offered(y, "basic"), 6, y.active)),
    Rule("A-FEATURE", "station", ">= 1 featured per community", "featured services offered >= 1 (open)",
         lambda y: at_least(offered(y, "featured"), 1, y.active)),
    Rule("A-VARIETY", "station", ">= 15 service types", "services offered >= 15 at every open station",
         lambda y: at_least(offered(y), 15, y.active)),
    Rule("A-MATCH", "total", "80 % supply-demand match", "sum covered >= 0.8 * sum demand",
         lambda y: total(0.8 * covered(y)[1] - covered(y)[0])),
    Rule("A-CANTEEN", "count", "15 canteens", "stations offering elderly_meals >= 15",
         lambda y: total(15 - (offered(y, service="elderly_meals") > 0).sum())),
    Rule("A-CANTEEN", "coverage", "80 % of meal need where a canteen runs",
         "elderly covered >= 0.8 * elderly demand at each station offering elderly_meals", canteen_coverage),
    # ---- the engine's own clauses (issue 15), figures from the instance ----
    Rule("X-FLOOR", "group", "instance: share of every group's need", "covered >= share * demand per group",
         lambda y: per_group(y, y.fig("X-FLOOR", "share"), only_special=False)),
    Rule("X-MIN-SERVED", "station", "instance: services.csv min_served", "served >= min_served where offered",
         served_min),
]
RULES_BY_KEY = {(r.clause, r.family): r for r in RULES}

# Rows of a multi-year plan without a year (the horizon's totals): the check over every year's plan.
HORIZON_RULES: dict[tuple[str, str], Callable[[list[Year]], pd.Series]] = {
    ("F-TOTAL", "construction"): lambda ys: total(abs(sum(y.st["facilities"].sum() for y in ys) - 45e6)),
    ("F-TOTAL", "total"): lambda ys: total(sum(y.st["total"].sum() for y in ys) - 180e6),
}


def test_rules_table_is_consistent() -> None:
    """One row per (clause, family); every instance-figure row says why."""
    assert len(RULES_BY_KEY) == len(RULES)
    for r in RULES:
        if r.figure.startswith("instance:"):
            assert (r.clause, r.family) in INSTANCE_FIGURES, r


# ---------------------------------------------------------------------------------------------------------------
# Solve each seed once; compare
# ---------------------------------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("allocator")     # the console script beside this interpreter
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module", params=SEEDS)
def seed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    instance = ROOT / "instances" / request.param
    plan = tmp_path_factory.mktemp(request.param) / "plan"
    # exit 1 is a plan stopped at its limit (FEASIBLE with its gap): met/broken is compared on any plan
    res = _cli("solve", str(instance), "--out", str(plan), "--time-limit", "240")
    assert res.returncode in (0, 1), res.stdout + res.stderr
    ver = _cli("verify", str(instance), str(plan), "--json")
    assert ver.returncode == 0, ver.stdout[-3000:] + ver.stderr
    return instance, plan, json.loads(ver.stdout)


def engine_deviation(plan: Path, year: int) -> dict[tuple[str, str, int], float]:
    """(clause, family, year) -> clauses.csv's total deviation."""
    c = pd.read_csv(plan / "clauses.csv")
    if "year" not in c:
        c["year"] = year
    c["year"] = c["year"].fillna(0)
    return {(cid, fam, int(y)): float(d) for (cid, fam, y), d in c.groupby(["clause_id", "family", "year"])
            ["deviation"].sum().items()}


# Where the engine's total deviation may differ from this check's shortfall (met/broken is still compared).
AMOUNT_EXCEPTIONS = {
    ("F-SALARY", "station"): "multi-year: the workers in post with 3 years' service change year by year "
                             "(leavers, service years); this check counts today's",
}


def engine_broken(plan: Path, year: int) -> dict[tuple[str, str, int], set[str]]:
    """(clause, family, year) -> the station ids ("" for a total) where clauses.csv's deviation > tolerance."""
    c = pd.read_csv(plan / "clauses.csv", dtype={"station_id": str})
    if "year" not in c:
        c["year"] = year
    c["station_id"] = c["station_id"].fillna("")
    c["year"] = c["year"].fillna(0)      # a horizon row (no year): listed, not compared
    out: dict[tuple[str, str, int], set[str]] = {}
    for (cid, fam, year), rows in c.groupby(["clause_id", "family", "year"]):
        rule = RULES_BY_KEY.get((cid, fam))
        tol = rule.tol if rule else TOL_YUAN if (cid, fam) in HORIZON_RULES else TOL
        out[(cid, fam, int(year))] = set(rows.loc[rows["deviation"] > tol, "station_id"])
    return out


def test_engine_agrees_with_policy(seed: tuple[Path, Path, dict]) -> None:
    instance, plan, verify = seed
    years = {y.year: y for y in load_years(instance, plan)}
    engine = engine_broken(plan, min(years))
    deviations = engine_deviation(plan, min(years))
    unknown = sorted({(c, f) for c, f, _ in engine
                      if (c, f) not in RULES_BY_KEY and (c, f) not in HORIZON_RULES and not c.startswith("E")})
    skipped: list[tuple[str, str, object]] = []
    mismatches: list[str] = []
    compared: list[tuple[str, str, int, str]] = []
    for (cid, fam, year), eng in sorted(engine.items()):
        rule = RULES_BY_KEY.get((cid, fam))
        if year not in years and (cid, fam) in HORIZON_RULES:
            short = HORIZON_RULES[(cid, fam)](list(years.values()))
            over = set(short[short > TOL_YUAN].index)
            compared.append((cid, fam, year, "broken" if eng else "met"))
            if eng != over:
                mismatches.append(f"{cid} [{fam}] over the horizon: engine {eng}, POLICY check {over}")
            continue
        if rule is None or year not in years:
            if rule is not None:
                skipped.append((cid, fam, "horizon"))
            continue
        short = rule.check(years[year])
        if short is None:
            skipped.append((cid, fam, year))
            continue
        mine = {str(k) if not str(k).startswith("group:") else "" for k in short[short > rule.tol].index}
        amount = deviations[(cid, fam, year)]
        multi = len(years) > 1 and (cid, fam) in AMOUNT_EXCEPTIONS
        if not multi and abs(amount - float(short.sum())) > rule.tol + 1e-6 * abs(amount):
            mismatches.append(f"{cid} [{fam}] {year}: engine deviation {amount:,.4f}, POLICY check shortfall "
                              f"{float(short.sum()):,.4f} -- {rule.how}")
        # a per-group family: the engine keys rows by station_id "" too; compare met/broken of the family
        if fam == "group":
            eng, mine = ({""} if eng else set()), ({""} if mine else set())
        compared.append((cid, fam, year, "broken" if eng else "met"))
        if eng != mine:
            mismatches.append(f"{cid} [{fam}] {year}: engine broken at {sorted(eng)[:8]} ({len(eng)}), "
                              f"POLICY check at {sorted(mine)[:8]} ({len(mine)}) -- {rule.how}")
    # verify's state per family (over all years) must say the same as clauses.csv
    states = {(f["clause_id"], f["family"]): f["state"] for f in verify["families"]}
    for cid, fam in sorted({(c, f) for c, f, *_ in compared}):
        broken = any(s for (c, f, _), s in engine.items() if (c, f) == (cid, fam))
        v = states.get((cid, fam))
        if v is not None and v.startswith("broken") != broken:
            mismatches.append(f"{cid} [{fam}]: verify says {v!r}, clauses.csv says {'broken' if broken else 'met'}")
    mismatches += mode_mismatches(instance, plan)
    in_force = {cid for cid, body in verify_in_force(instance).items() if body}
    missing = sorted({r.clause for r in RULES if r.clause in in_force} - {c for c, _, _ in engine})
    print(f"\n{instance.name}: {len(compared)} family-years compared "
          f"({sum(s == 'broken' for *_, s in compared)} broken)")
    for row in compared:
        print("  ", *row)
    print("  not known to this table (listed, not failed):", unknown)
    print("  not computable from the plan's files:", skipped)
    assert not missing, f"clauses in force with a mode but not in clauses.csv: {missing}"
    assert not mismatches, "\n".join(mismatches)


def verify_in_force(instance: Path) -> dict[str, bool]:
    """Clause id -> whether the instance puts it in force with a mode (hard or soft)."""
    toml = tomllib.loads((instance / "instance.toml").read_text(encoding="utf-8"))
    return {cid: "mode" in body for cid, body in toml.get("clauses", {}).items()}


def mode_mismatches(instance: Path, plan: Path) -> list[str]:
    """Each clauses.csv row's mode is the instance's: ``mode = "soft"`` or a per-family table of modes."""
    toml = tomllib.loads((instance / "instance.toml").read_text(encoding="utf-8"))
    c = pd.read_csv(plan / "clauses.csv")
    out = []
    for (cid, fam), modes in c.groupby(["clause_id", "family"])["mode"]:
        body = toml.get("clauses", {}).get(cid, {})
        want = body.get("mode")
        if isinstance(want, dict):
            want = want.get(fam)
        if want is not None and set(modes) != {want}:
            out.append(f"{cid} [{fam}]: clauses.csv mode {sorted(set(modes))}, instance.toml says {want!r}")
    return out
