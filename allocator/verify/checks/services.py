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
    """C35 A-CANTEEN [coverage]: elderly covered >= meal_coverage x elderly demand where meals are offered."""
    g = list(ctx.inst.group_ids).index("elderly")
    ctx.station_rows("A-CANTEEN", "coverage", "elderly covered >= meal_coverage x elderly demand where meals are "
                     "offered", ctx.x[:, g], ">=", ctx.fig("A-CANTEEN", "meal_coverage") * ctx.demand[:, g]
                     * _meals(ctx), "residents")


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
