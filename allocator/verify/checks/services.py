"""Services offered: basic, featured, variety and the elderly canteens (C31-C33, C35)."""

from __future__ import annotations

from functools import partial

import numpy as np

from allocator.instance import Instance
from allocator.verify.checks.base import CheckFamily, has_service, in_force
from allocator.verify.context import Context

__all__ = ["FAMILIES"]


def _kinds(inst: Instance) -> np.ndarray:
    return np.asarray(inst.services["kind"]).astype(str)


def basic(ctx: Context) -> None:
    """C31 A-BASIC [station]: basic services offered >= min(count, catalogue) at every active station."""
    nb = int((ctx.kinds == "basic").sum())
    ctx.station_rows("A-BASIC", "station", "basic services offered >= min(count, catalogue) x active",
                     ctx.y[:, ctx.kinds == "basic"].sum(axis=1), ">=", min(ctx.fig("A-BASIC", "count"), nb) * ctx.act,
                     "services")


def featured(cid: str, ctx: Context) -> None:
    """C32 A-FEATURE / F-FEATURE [station]: featured services offered >= min_per_station x active."""
    ctx.station_rows(cid, "station", "featured services offered >= min_per_station x active",
                     ctx.y[:, ctx.kinds == "featured"].sum(axis=1), ">=", ctx.fig(cid, "min_per_station") * ctx.act,
                     "services")


def variety(ctx: Context) -> None:
    """C33 A-VARIETY [station]: services offered >= min_per_station x active."""
    ctx.station_rows("A-VARIETY", "station", "services offered >= min_per_station x active", ctx.y.sum(axis=1), ">=",
                     ctx.fig("A-VARIETY", "min_per_station") * ctx.act, "services")


def _meals(ctx: Context) -> np.ndarray:
    return ctx.y[:, int(np.flatnonzero(ctx.service_ids == "elderly_meals")[0])]


def canteen_count(ctx: Context) -> None:
    """C35 A-CANTEEN [count]: stations offering elderly meals >= stations."""
    ctx.row("A-CANTEEN", "count", None, "stations offering elderly meals >= stations", _meals(ctx).sum(), ">=",
            ctx.fig("A-CANTEEN", "stations"), "stations")


def canteen_coverage(ctx: Context) -> None:
    """C35 A-CANTEEN [coverage]: residents the canteen serves >= meal_coverage x elderly demand where offered.

    The canteen's own figure (services.csv ``served`` of ``elderly_meals``), not the elderly covered: those may
    be covered by any service that serves them, and the clause asks for meals.  ``served`` must be no more
    than the need covered of the groups the canteen serves at the station (else a plan could state any).
    """
    g = list(ctx.inst.group_ids).index("elderly")
    k = int(np.flatnonzero(ctx.service_ids == "elderly_meals")[0])
    served = ctx.plan.served
    if served is None:
        ctx.col.fail("A-CANTEEN", "coverage", None, "services.csv has a served column",
                     "FAIL: services.csv has no column 'served' (the residents each service serves)")
        return
    meals = np.nan_to_num(served[:, k], nan=0.0)
    ctx.station_rows("A-CANTEEN", "coverage", "residents the canteen serves >= meal_coverage x elderly demand where "
                     "meals are offered", meals, ">=", ctx.fig("A-CANTEEN", "meal_coverage") * ctx.demand[:, g]
                     * _meals(ctx), "residents")
    reach = ctx.x @ np.asarray(ctx.inst.serves, dtype=float)[k]  # need covered of the canteen's groups
    over = meals > reach + 1e-6 * np.maximum(1.0, reach)
    if over.any():
        s = int(np.flatnonzero(over)[0])
        ctx.col.fail("A-CANTEEN", "coverage", ctx.ids[s], "canteen served <= need covered of the groups it serves",
                     f"FAIL: {int(over.sum())} station(s) state more served by the canteen than their groups' need "
                     f"covered (first: {ctx.ids[s]}, {meals[s]:.1f} > {reach[s]:.1f})")


_MEALS = "the service 'elderly_meals' and the group 'elderly'"

FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("A-BASIC", "station",
                lambda inst: in_force("A-BASIC", "count")(inst) and bool((_kinds(inst) == "basic").any()), basic,
                "figure count and a basic service in the catalogue"),
    *(CheckFamily(cid, "station", in_force(cid, "min_per_station"), partial(featured, cid), "figure min_per_station")
      for cid in ("A-FEATURE", "F-FEATURE")),
    CheckFamily("A-VARIETY", "station", in_force("A-VARIETY", "min_per_station"), variety, "figure min_per_station"),
    CheckFamily("A-CANTEEN", "count", has_service(in_force("A-CANTEEN", "stations"), "elderly_meals", "elderly"),
                canteen_count, f"figure stations, {_MEALS}", as_stated=True),
    CheckFamily("A-CANTEEN", "coverage",
                has_service(in_force("A-CANTEEN", "meal_coverage"), "elderly_meals", "elderly"), canteen_coverage,
                f"figure meal_coverage, {_MEALS}"),
)
