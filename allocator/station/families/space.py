"""Space and coverage clauses C21-C30: floor area and zoning, renovation, coverage, building, demo, access."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, county_members, total
from allocator.station.families.registry import family, with_figure


def _zone_share(ctx: Context, cid: str, family_: str, zone: str, share: float, at_least: bool) -> None:
    """z - share * (area + expand) >= 0 (``at_least``) or <= 0; the area today goes to the bound."""
    terms = [(ctx.zone_cols[zone], 1.0), (ctx.expand, -share)]
    if at_least:
        ctx.fam(cid, family_, terms, share * ctx.area0, INF, ctx.sidx, "m2")
    else:
        ctx.fam(cid, family_, terms, -INF, share * ctx.area0, ctx.sidx, "m2")


@family("A-AREA", "station")
def area_min(ctx: Context) -> None:
    """C21: floor_area + expand >= (urban_min_m2 | rural_min_m2) * act[s]."""
    c = ctx.clause("A-AREA")
    need_m2 = np.where(ctx.urban, c.figures["urban_min_m2"], c.figures["rural_min_m2"])
    ctx.fam("A-AREA", "station", [(ctx.expand, 1.0), (ctx.build, -need_m2 * ctx.act_coef)],
            need_m2 * ctx.act_const - ctx.area0, INF, ctx.sidx, "m2")


@family("A-ZONES", "admin")
def zones_admin(ctx: Context) -> None:
    """C22: z_adm - admin_max * (area + expand) <= 0."""
    _zone_share(ctx, "A-ZONES", "admin", "z_adm", ctx.clause("A-ZONES").figures["admin_max"], False)


@family("A-ZONES", "service")
def zones_service(ctx: Context) -> None:
    """C22: z_svc - service_min * (area + expand) >= 0."""
    _zone_share(ctx, "A-ZONES", "service", "z_svc", ctx.clause("A-ZONES").figures["service_min"], True)


@family("A-ZONES", "activity")
def zones_activity(ctx: Context) -> None:
    """C22: z_act - activity_min * (area + expand) >= 0."""
    _zone_share(ctx, "A-ZONES", "activity", "z_act", ctx.clause("A-ZONES").figures["activity_min"], True)


@family("A-FLEX", "station")
def flex(ctx: Context) -> None:
    """C23: z_flex - share * (area + expand) >= 0."""
    _zone_share(ctx, "A-FLEX", "station", "z_flex", ctx.clause("A-FLEX").figures["share"], True)


@family("F-AREA", "area")
def f_area(ctx: Context) -> None:
    """C26: area + expand >= min_m2 * act[s]."""
    m2 = ctx.clause("F-AREA").figures["min_m2"]
    ctx.fam("F-AREA", "area", [(ctx.expand, 1.0), (ctx.build, -m2 * ctx.act_coef)], m2 * ctx.act_const - ctx.area0,
            INF, ctx.sidx, "m2")


@family("F-AREA", "service")
def f_area_service(ctx: Context) -> None:
    """C26: z_svc >= service_share * (area + expand)."""
    _zone_share(ctx, "F-AREA", "service", "z_svc", ctx.clause("F-AREA").figures["service_share"], True)


@family("F-AREA", "office")
def f_area_office(ctx: Context) -> None:
    """C26: z_adm <= office_share * (area + expand)."""
    _zone_share(ctx, "F-AREA", "office", "z_adm", ctx.clause("F-AREA").figures["office_share"], False)


@family("F-AREA", "display")
def f_area_display(ctx: Context) -> None:
    """C26: z_act >= display_share * (area + expand)."""
    _zone_share(ctx, "F-AREA", "display", "z_act", ctx.clause("F-AREA").figures["display_share"], True)


@family("A-RENOVATE", "station")
def renovate(ctx: Context) -> None:
    """C24: reno[s] >= 1 for buildings older than age_years."""
    ctx.fam("A-RENOVATE", "station", [(ctx.reno, 1.0)], 1.0, INF, ctx.sidx, "stations", mask=ctx.old)


def _has_area(urban: bool) -> Callable[[Instance], bool]:
    """``applies`` of A-COVERAGE's urban / rural family: in force and an urban (a rural) station."""
    def applies(inst: Instance) -> bool:
        is_urban = inst.stations["area_type"] == "urban"
        return inst.clause("A-COVERAGE") is not None and bool((is_urban if urban else ~is_urban).any())
    return applies


def _coverage(ctx: Context, f: str, mask: np.ndarray) -> None:
    """C25: sum pop[s] * act[s] over the stations of ``mask`` >= share * their residents."""
    pop, act_const = ctx.pop, ctx.act_const
    covered_const = float((pop * act_const)[mask].sum())
    ctx.fam("A-COVERAGE", f, [total(ctx.build[mask], (pop * ctx.act_coef)[mask])],
            ctx.clause("A-COVERAGE").figures[f] * float(pop[mask].sum()) - covered_const, INF, unit="residents")


@family("A-COVERAGE", "urban", applies=_has_area(True))
def coverage_urban(ctx: Context) -> None:
    _coverage(ctx, "urban", ctx.urban)


@family("A-COVERAGE", "rural", applies=_has_area(False))
def coverage_rural(ctx: Context) -> None:
    _coverage(ctx, "rural", ~ctx.urban)


@family("A-COVERAGE", "one_stop")
def coverage_one_stop(ctx: Context) -> None:
    """C25: one-stop today + sum onestop >= share * |S|."""
    today = float(ctx.inst.stations["one_stop"].sum())
    ctx.fam("A-COVERAGE", "one_stop", [total(ctx.onestop)], ctx.clause("A-COVERAGE").figures["one_stop"] * ctx.S
            - today, INF, unit="stations")


@family("F-COVERAGE", "total", applies=with_figure("F-COVERAGE", "share"))
def f_coverage(ctx: Context) -> None:
    """C27: sum act >= share(year) * |S|."""
    share = ctx.clause("F-COVERAGE").figures["share"]
    ctx.fam("F-COVERAGE", "total", [total(ctx.build, ctx.act_coef)], share * ctx.S - ctx.act_const.sum(), INF,
            unit="stations")


@family("F-BUILD", "new")
def build_new(ctx: Context) -> None:
    """C28: sum build over new stations = new."""
    n = ctx.clause("F-BUILD").figures["new"]
    ctx.fam("F-BUILD", "new", [total(ctx.build[ctx.is_new])], n, n, unit="stations")


@family("F-BUILD", "upgraded")
def build_upgraded(ctx: Context) -> None:
    """C28: sum build over upgrade stations = upgraded."""
    n = ctx.clause("F-BUILD").figures["upgraded"]
    ctx.fam("F-BUILD", "upgraded", [total(ctx.build[ctx.status == "upgrade"])], n, n, unit="stations")


@family("F-DEMO", "count", applies=with_figure("F-DEMO", "count"))
def demo_count(ctx: Context) -> None:
    """C29: sum demo >= count(year)."""
    ctx.fam("F-DEMO", "count", [total(ctx.demo)], ctx.clause("F-DEMO").figures["count"], INF, unit="stations")


@family("F-DEMO", "per_county")
def demo_per_county(ctx: Context) -> None:
    """C29: sum_{s in c} demo >= per_county_min, one row per county."""
    names, members = county_members(ctx.inst.stations)
    ok = members >= 0
    ctx.fam("F-DEMO", "per_county", [(ctx.demo[np.maximum(members, 0)], ok.astype(float))],
            ctx.clause("F-DEMO").figures["per_county_min"], INF, unit="stations", labels=tuple(names))


@family("F-DEMO", "standard")
def demo_standard(ctx: Context) -> None:
    """C29: a demonstration station has min_social_workers and min_featured services; demo <= act."""
    c = ctx.clause("F-DEMO")
    featured = np.flatnonzero(ctx.kind == "featured")
    ctx.fam("F-DEMO", "standard", [(ctx.SW, 1.0), (ctx.demo, -c.figures["min_social_workers"])], 0.0, INF,
            ctx.sidx, "workers", tag="workers")
    ctx.fam("F-DEMO", "standard", [(ctx.y[:, featured], 1.0), (ctx.demo, -c.figures["min_featured"])], 0.0, INF,
            ctx.sidx, "services", tag="services")
    # demo <= act is an engine rule (E2): a station not built is no demonstration station.
    ctx.b.rows("demo_open", "ENGINE", "OPEN", [(ctx.demo, 1.0), (ctx.build, -ctx.act_coef)], -INF, ctx.act_const,
               ctx.sidx, "stations", tag="demo")


@family("F-ACCESS", "station")
def access(ctx: Context) -> None:
    """C30: access[s] >= share * act[s] on stations not barrier-free."""
    share = ctx.clause("F-ACCESS").figures["share"]
    ctx.fam("F-ACCESS", "station", [(ctx.access, 1.0), (ctx.build, -share * ctx.act_coef)], share * ctx.act_const,
            INF, ctx.sidx, "stations", mask=ctx.not_acc)
