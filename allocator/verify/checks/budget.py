"""Budget clauses: the per-capita budget and its split, subsidies, the Fuzhou totals and uses (C13-C20).

A-SPLIT's shares are shares of A-BUDGET-PERCAP's total and F-USES's of F-TOTAL's operations: with the
total out of force there is nothing to take a share of, so the family does not apply (and the station
model does not build it either).  The out-of-force figure is never used.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from allocator.instance import Instance
from allocator.verify.checks.base import CheckFamily, in_force, stations_where
from allocator.verify.context import Context

__all__ = ["FAMILIES"]


def budget_percap(ctx: Context) -> None:
    """C13 A-BUDGET-PERCAP [total]: all money <= per_capita x residents."""
    ctx.row("A-BUDGET-PERCAP", "total", None, "all money <= per_capita x residents", ctx.money_total, "<=",
            ctx.fig("A-BUDGET-PERCAP", "per_capita") * ctx.pop_total, "yuan")


def split(use: str, ctx: Context) -> None:
    """C14 A-SPLIT [use]: money of the use <= share x per_capita x residents (A-BUDGET-PERCAP in force)."""
    money = {"facilities": ctx.fac, "salaries": ctx.sal, "services": ctx.svc}[use]
    ctx.row("A-SPLIT", use, None, f"{use} money <= share x per_capita x residents", money.sum(), "<=",
            ctx.fig("A-SPLIT", use) * ctx.fig("A-BUDGET-PERCAP", "per_capita") * ctx.pop_total, "yuan")


def direct_min(ctx: Context) -> None:
    """C15 A-DIRECT-MIN [total]: services money >= share x all money."""
    ctx.row("A-DIRECT-MIN", "total", None, "services money >= share x all money", ctx.svc.sum(), ">=",
            ctx.fig("A-DIRECT-MIN", "share") * ctx.money_total, "yuan")


def build_subsidy(ctx: Context) -> None:
    """C16 F-BUILD-SUBSIDY [station]: facilities money = subsidy(status) x built, at new and upgrade stations."""
    new, upg = ctx.fig("F-BUILD-SUBSIDY", "new_station", 0.0), ctx.fig("F-BUILD-SUBSIDY", "upgraded_station", 0.0)
    sub = np.where(ctx.status == "new", new, np.where(ctx.status == "upgrade", upg, 0.0))
    ctx.station_rows("F-BUILD-SUBSIDY", "station", "facilities money = subsidy(status) x built", ctx.fac, "=",
                     sub * ctx.built, "yuan", np.isin(ctx.status, ("new", "upgrade")))


def ops_subsidy(ctx: Context) -> None:
    """C17 F-OPS-SUBSIDY [station]: operating money >= per_worker x social workers."""
    ctx.station_rows("F-OPS-SUBSIDY", "station", "operating money >= per_worker x social workers", ctx.ops, ">=",
                     ctx.fig("F-OPS-SUBSIDY", "per_worker") * ctx.sw, "yuan")


def ops_station(ctx: Context) -> None:
    """C18 F-OPS-STATION [station]: operating money >= the urban / rural minimum at every active station."""
    floor = np.where(ctx.urban, ctx.fig("F-OPS-STATION", "urban_min"), ctx.fig("F-OPS-STATION", "rural_min"))
    ctx.station_rows("F-OPS-STATION", "station", "operating money >= urban/rural minimum x active", ctx.ops, ">=",
                     floor * ctx.act, "yuan")


def total_operations(ctx: Context) -> None:
    """C19 F-TOTAL [operations]: operating money <= operations_per_year."""
    ctx.row("F-TOTAL", "operations", None, "operating money <= operations_per_year", ctx.ops.sum(), "<=",
            ctx.fig("F-TOTAL", "operations_per_year"), "yuan")


def total_construction(ctx: Context) -> None:
    """C19 F-TOTAL [construction]: facilities money = construction."""
    ctx.row("F-TOTAL", "construction", None, "facilities money = construction", ctx.fac.sum(), "=",
            ctx.fig("F-TOTAL", "construction"), "yuan")


def uses(use: str, ctx: Context) -> None:
    """C20 F-USES [use]: money of the use <= share x operations_per_year (F-TOTAL in force)."""
    money = {"salaries": ctx.sal, "services": ctx.svc, "training": ctx.trn}[use]
    ctx.row("F-USES", use, None, f"{use} money <= share x operations_per_year", money.sum(), "<=",
            ctx.fig("F-USES", use) * ctx.fig("F-TOTAL", "operations_per_year"), "yuan")


def _buildable(inst: Instance) -> np.ndarray:
    return np.isin(np.asarray(inst.stations["status"]).astype(str), ("new", "upgrade"))


FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("A-BUDGET-PERCAP", "total", in_force("A-BUDGET-PERCAP", "per_capita"), budget_percap,
                "figure per_capita", as_stated=True),
    *(CheckFamily("A-SPLIT", u, in_force("A-SPLIT", u, also=("A-BUDGET-PERCAP",), also_figures=("per_capita",)),
                  partial(split, u), f"figure {u} and A-BUDGET-PERCAP in force (its total is what A-SPLIT splits)",
                  as_stated=True)
      for u in ("facilities", "salaries", "services")),
    CheckFamily("A-DIRECT-MIN", "total", in_force("A-DIRECT-MIN", "share"), direct_min, "figure share"),
    CheckFamily("F-BUILD-SUBSIDY", "station", stations_where(in_force("F-BUILD-SUBSIDY"), _buildable),
                build_subsidy, "a new or upgrade station"),
    CheckFamily("F-OPS-SUBSIDY", "station", in_force("F-OPS-SUBSIDY", "per_worker"), ops_subsidy,
                "figure per_worker"),
    CheckFamily("F-OPS-STATION", "station", in_force("F-OPS-STATION", "urban_min", "rural_min"), ops_station,
                "figures urban_min and rural_min"),
    CheckFamily("F-TOTAL", "operations", in_force("F-TOTAL", "operations_per_year"), total_operations,
                "figure operations_per_year", as_stated=True),
    CheckFamily("F-TOTAL", "construction", in_force("F-TOTAL", "construction"), total_construction,
                "figure construction", as_stated=True),
    *(CheckFamily("F-USES", u, in_force("F-USES", u, also=("F-TOTAL",), also_figures=("operations_per_year",)),
                  partial(uses, u), f"figure {u} and F-TOTAL in force (its operations are what F-USES splits)",
                  as_stated=True)
      for u in ("salaries", "services", "training")),
)
