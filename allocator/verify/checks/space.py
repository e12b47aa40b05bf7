"""Stations and space: floor area, zoning, renovation, coverage, building, demonstration, access (C21-C30)."""

from __future__ import annotations

from functools import partial

import numpy as np

from allocator.instance import Instance
from allocator.verify.checks.base import CheckFamily, in_force, stations_where
from allocator.verify.context import Context

__all__ = ["FAMILIES"]

ZONE_OF = {"admin": "zone_admin_m2", "service": "zone_service_m2", "activity": "zone_activity_m2",
           "flex": "zone_flex_m2"}


def _zone(ctx: Context, zone: str) -> np.ndarray:
    return ctx.plan.st[ZONE_OF[zone]] if ctx.plan.zones_present else np.zeros(ctx.S)


def area_a(ctx: Context) -> None:
    """C21 A-AREA [station]: floor area after >= the urban / rural minimum at every active station."""
    mins = np.where(ctx.urban, ctx.fig("A-AREA", "urban_min_m2", 0.0), ctx.fig("A-AREA", "rural_min_m2", 0.0))
    ctx.station_rows("A-AREA", "station", "floor area after >= urban/rural minimum x active", ctx.area_after, ">=",
                     mins * ctx.act, "m2")


ZONES_A = {"admin": ("admin_max", "<="), "service": ("service_min", ">="), "activity": ("activity_min", ">=")}


def zones_a(fam: str, ctx: Context) -> None:
    """C22 A-ZONES [zone]: the zone within its share of the floor area after."""
    fig, sense = ZONES_A[fam]
    ctx.station_rows("A-ZONES", fam, f"{fam} zone {sense} {fig} x floor area after", _zone(ctx, fam), sense,
                     ctx.fig("A-ZONES", fig) * ctx.area_after, "m2")


def flex(ctx: Context) -> None:
    """C23 A-FLEX [station]: flexible zone >= share x floor area after."""
    ctx.station_rows("A-FLEX", "station", "flexible zone >= share x floor area after", _zone(ctx, "flex"), ">=",
                     ctx.fig("A-FLEX", "share") * ctx.area_after, "m2")


def _old(inst: Instance) -> np.ndarray:
    c = inst.clause("A-RENOVATE")
    age = np.asarray(inst.stations["building_age_years"], dtype=float) if "building_age_years" in inst.stations \
        else np.full(inst.num_stations, np.nan)
    if c is None or "age_years" not in c.figures:
        return np.zeros(inst.num_stations, bool)
    return np.asarray(np.nan_to_num(age, nan=-1.0) > float(c.figures["age_years"]))


def renovate(ctx: Context) -> None:
    """C24 A-RENOVATE [station]: a building older than age_years is renovated."""
    ctx.station_rows("A-RENOVATE", "station", "a building older than age_years is renovated", ctx.reno, ">=",
                     np.ones(ctx.S), "stations", _old(ctx.inst))


def coverage_area(fam: str, ctx: Context) -> None:
    """C25 A-COVERAGE [urban|rural]: residents of active stations >= share x residents of that kind."""
    mask = ctx.urban if fam == "urban" else ~ctx.urban
    ctx.row("A-COVERAGE", fam, None, f"residents of active {fam} stations >= share x {fam} residents",
            float((ctx.pop * ctx.act)[mask].sum()), ">=", ctx.fig("A-COVERAGE", fam) * ctx.pop[mask].sum(),
            "residents")


def coverage_one_stop(ctx: Context) -> None:
    """C25 A-COVERAGE [one_stop]: one-stop today + upgraded >= share x stations."""
    ctx.row("A-COVERAGE", "one_stop", None, "one-stop today + upgraded >= share x stations",
            float(ctx.one_stop_today.sum() + ctx.onestop.sum()), ">=", ctx.fig("A-COVERAGE", "one_stop") * ctx.S,
            "stations")


def area_f(ctx: Context) -> None:
    """C26 F-AREA [area]: floor area after >= min_m2 at every active station."""
    ctx.station_rows("F-AREA", "area", "floor area after >= min_m2 x active", ctx.area_after, ">=",
                     ctx.fig("F-AREA", "min_m2") * ctx.act, "m2")


ZONES_F = {"service": ("service", "service_share", ">="), "office": ("admin", "office_share", "<="),
           "display": ("activity", "display_share", ">=")}


def zones_f(fam: str, ctx: Context) -> None:
    """C26 F-AREA [service|office|display]: the zone within its share of the floor area after."""
    zone, fig, sense = ZONES_F[fam]
    ctx.station_rows("F-AREA", fam, f"{zone} zone {sense} {fig} x floor area after", _zone(ctx, zone), sense,
                     ctx.fig("F-AREA", fig) * ctx.area_after, "m2")


def coverage_f(ctx: Context) -> None:
    """C27 F-COVERAGE [total]: active stations >= share(year) x stations."""
    ctx.row("F-COVERAGE", "total", None, "active stations >= share(year) x stations", ctx.act.sum(), ">=",
            ctx.fig("F-COVERAGE", "share") * ctx.S, "stations")


def build(fam: str, ctx: Context) -> None:
    """C28 F-BUILD [new|upgraded]: stations of the status built = the stated number."""
    status = "new" if fam == "new" else "upgrade"
    ctx.row("F-BUILD", fam, None, f"{status} stations built = {fam}", ctx.built[ctx.status == status].sum(), "=",
            ctx.fig("F-BUILD", fam), "stations")


def demo_count(ctx: Context) -> None:
    """C29 F-DEMO [count]: demonstration stations >= count(year)."""
    ctx.row("F-DEMO", "count", None, "demonstration stations >= count(year)", ctx.demo.sum(), ">=",
            ctx.fig("F-DEMO", "count"), "stations")


def demo_per_county(ctx: Context) -> None:
    """C29 F-DEMO [per_county]: demonstration stations in every county >= per_county_min."""
    for county in sorted(set(ctx.county)):
        m = ctx.county == county
        ctx.row("F-DEMO", "per_county", county, "demonstration stations in the county >= per_county_min",
                ctx.demo[m].sum(), ">=", ctx.fig("F-DEMO", "per_county_min"), "stations")


def demo_standard(ctx: Context) -> None:
    """C29 F-DEMO [standard]: a demonstration station is active, with its social workers and featured services."""
    c = ctx.inst.clause("F-DEMO")
    assert c is not None
    featured = ctx.y[:, ctx.kinds == "featured"].sum(axis=1)
    if "min_social_workers" in c.figures:
        ctx.station_rows("F-DEMO", "standard", "social workers >= min_social_workers x demo", ctx.sw, ">=",
                         float(c.figures["min_social_workers"]) * ctx.demo, "workers")
    if "min_featured" in c.figures:
        ctx.station_rows("F-DEMO", "standard", "featured services >= min_featured x demo", featured, ">=",
                         float(c.figures["min_featured"]) * ctx.demo, "services")
    ctx.station_rows("F-DEMO", "standard", "a demonstration station is active", ctx.demo, "<=", ctx.act, "stations")


def _not_accessible(inst: Instance) -> np.ndarray:
    st = inst.stations
    return ~np.asarray(st["accessible"], dtype=bool) if "accessible" in st else np.zeros(inst.num_stations, bool)


def access(ctx: Context) -> None:
    """C30 F-ACCESS [station]: barrier-free retrofit >= share at active stations not barrier-free today."""
    ctx.station_rows("F-ACCESS", "station", "barrier-free retrofit >= share x active", ctx.access, ">=",
                     ctx.fig("F-ACCESS", "share") * ctx.act, "stations", ~ctx.accessible)


def _urban(inst: Instance) -> np.ndarray:
    return np.asarray(inst.stations["area_type"]).astype(str) == "urban"


FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("A-AREA", "station", in_force("A-AREA"), area_a),
    *(CheckFamily("A-ZONES", f, in_force("A-ZONES", ZONES_A[f][0]), partial(zones_a, f), f"figure {ZONES_A[f][0]}")
      for f in ZONES_A),
    CheckFamily("A-FLEX", "station", in_force("A-FLEX", "share"), flex, "figure share"),
    CheckFamily("A-RENOVATE", "station", stations_where(in_force("A-RENOVATE", "age_years"), _old), renovate,
                "figure age_years and a building older than that", as_stated=True),
    CheckFamily("A-COVERAGE", "urban", stations_where(in_force("A-COVERAGE", "urban"), _urban),
                partial(coverage_area, "urban"), "figure urban and an urban station"),
    CheckFamily("A-COVERAGE", "rural", stations_where(in_force("A-COVERAGE", "rural"), lambda i: ~_urban(i)),
                partial(coverage_area, "rural"), "figure rural and a rural station"),
    CheckFamily("A-COVERAGE", "one_stop", in_force("A-COVERAGE", "one_stop"), coverage_one_stop,
                "figure one_stop"),
    CheckFamily("F-AREA", "area", in_force("F-AREA", "min_m2"), area_f, "figure min_m2"),
    *(CheckFamily("F-AREA", f, in_force("F-AREA", ZONES_F[f][1]), partial(zones_f, f), f"figure {ZONES_F[f][1]}")
      for f in ZONES_F),
    CheckFamily("F-COVERAGE", "total", in_force("F-COVERAGE", "share"), coverage_f, "figure share"),
    *(CheckFamily("F-BUILD", f, in_force("F-BUILD", f), partial(build, f), f"figure {f}", as_stated=True)
      for f in ("new", "upgraded")),
    CheckFamily("F-DEMO", "count", in_force("F-DEMO", "count"), demo_count, "figure count", as_stated=True),
    CheckFamily("F-DEMO", "per_county", in_force("F-DEMO", "per_county_min"), demo_per_county,
                "figure per_county_min", as_stated=True),
    CheckFamily("F-DEMO", "standard", in_force("F-DEMO"), demo_standard),
    CheckFamily("F-ACCESS", "station", stations_where(in_force("F-ACCESS", "share"), _not_accessible), access,
                "figure share and a station not barrier-free today"),
)
