"""Budget clauses C13-C20: the per-capita budget and its split, subsidies, the 2024-2026 totals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, total
from allocator.station.families.registry import family, in_force


def _needs(clause: str, sizing: str) -> Callable[[Instance], str | None]:
    """``why_not``: ``clause`` is stated in force but ``sizing`` (which gives its total) is not."""
    def why_not(inst: Instance) -> str | None:
        if inst.clause(clause) is not None and inst.clause(sizing) is None:
            return f"{clause} needs {sizing} in force to size its lines; not applied"
        return None
    return why_not


@family("A-BUDGET-PERCAP", "total")
def budget_per_capita(ctx: Context) -> None:
    """C13: sum of all money <= per_capita * pop_total."""
    budget = ctx.clause("A-BUDGET-PERCAP").figures["per_capita"] * ctx.pop_total
    ctx.fam("A-BUDGET-PERCAP", "total", [total(ctx.money_all)], -INF, budget, unit="yuan")


def _split(ctx: Context, f: str, cols_f: np.ndarray) -> None:
    """C14: one use of funds <= its share of the per-capita budget (A-SPLIT's shares need that total)."""
    budget = ctx.clause("A-BUDGET-PERCAP").figures["per_capita"] * ctx.pop_total
    ctx.fam("A-SPLIT", f, [total(cols_f)], -INF, ctx.clause("A-SPLIT").figures[f] * budget, unit="yuan")


# A-SPLIT's shares are of A-BUDGET-PERCAP's total: out of force, the split has nothing to apply to.
_SPLIT_APPLIES, _SPLIT_WHY = in_force("A-SPLIT", "A-BUDGET-PERCAP"), _needs("A-SPLIT", "A-BUDGET-PERCAP")


@family("A-SPLIT", "facilities", applies=_SPLIT_APPLIES, why_not=_SPLIT_WHY)
def split_facilities(ctx: Context) -> None:
    _split(ctx, "facilities", ctx.m_fac)


@family("A-SPLIT", "salaries", applies=_SPLIT_APPLIES, why_not=_SPLIT_WHY)
def split_salaries(ctx: Context) -> None:
    _split(ctx, "salaries", ctx.m_sal)


@family("A-SPLIT", "services", applies=_SPLIT_APPLIES, why_not=_SPLIT_WHY)
def split_services(ctx: Context) -> None:
    _split(ctx, "services", ctx.m_svc)


@family("A-DIRECT-MIN", "total")
def direct_min(ctx: Context) -> None:
    """C15: sum m_svc - share * sum of all money >= 0."""
    share = ctx.clause("A-DIRECT-MIN").figures["share"]
    rest = np.concatenate([ctx.m_fac, ctx.m_sal, ctx.m_trn])
    ctx.fam("A-DIRECT-MIN", "total", [total(ctx.m_svc, 1 - share), total(rest, -share)], 0.0, INF, unit="yuan")


@family("F-BUILD-SUBSIDY", "station")
def build_subsidy(ctx: Context) -> None:
    """C16: m_fac[s] - subsidy(status) * build[s] = 0 on new and upgrade stations."""
    c = ctx.clause("F-BUILD-SUBSIDY")
    subsidy = np.where(ctx.is_new, c.figures["new_station"], c.figures["upgraded_station"])
    ctx.fam("F-BUILD-SUBSIDY", "station", [(ctx.m_fac, 1.0), (ctx.built, -subsidy)], 0.0, 0.0, ctx.sidx, "yuan",
            mask=ctx.buildable)


@family("F-OPS-SUBSIDY", "station")
def ops_subsidy(ctx: Context) -> None:
    """C17: m_sal + m_svc + m_trn - per_worker * SW >= 0."""
    per = ctx.clause("F-OPS-SUBSIDY").figures["per_worker"]
    ctx.fam("F-OPS-SUBSIDY", "station", [(ctx.ops, 1.0), (ctx.SW, -per)], 0.0, INF, ctx.sidx, "yuan")


@family("F-OPS-STATION", "station")
def ops_station(ctx: Context) -> None:
    """C18: m_sal + m_svc + m_trn >= (urban_min | rural_min) * act[s]."""
    c = ctx.clause("F-OPS-STATION")
    floor = np.where(ctx.urban, c.figures["urban_min"], c.figures["rural_min"])
    ctx.fam("F-OPS-STATION", "station", [(ctx.ops, 1.0), (ctx.build, -floor * ctx.act_coef)], floor * ctx.act_const,
            INF, ctx.sidx, "yuan")


@family("F-TOTAL", "operations")
def total_operations(ctx: Context) -> None:
    """C19: sum (m_sal + m_svc + m_trn) <= operations_per_year."""
    opb = ctx.clause("F-TOTAL").figures["operations_per_year"]
    ctx.fam("F-TOTAL", "operations", [total(ctx.ops.ravel())], -INF, opb, unit="yuan")


@family("F-TOTAL", "construction")
def total_construction(ctx: Context) -> None:
    """C19: sum m_fac = construction."""
    con = ctx.clause("F-TOTAL").figures["construction"]
    ctx.fam("F-TOTAL", "construction", [total(ctx.m_fac)], con, con, unit="yuan")


def _uses(ctx: Context, f: str, cols_f: np.ndarray) -> None:
    """C20: one use of operating funds <= its share of F-TOTAL's operations line."""
    opb = ctx.clause("F-TOTAL").figures["operations_per_year"]
    ctx.fam("F-USES", f, [total(cols_f)], -INF, ctx.clause("F-USES").figures[f] * opb, unit="yuan")


_USES_APPLIES, _USES_WHY = in_force("F-USES", "F-TOTAL"), _needs("F-USES", "F-TOTAL")


@family("F-USES", "salaries", applies=_USES_APPLIES, why_not=_USES_WHY)
def uses_salaries(ctx: Context) -> None:
    _uses(ctx, "salaries", ctx.m_sal)


@family("F-USES", "services", applies=_USES_APPLIES, why_not=_USES_WHY)
def uses_services(ctx: Context) -> None:
    _uses(ctx, "services", ctx.m_svc)


@family("F-USES", "training", applies=_USES_APPLIES, why_not=_USES_WHY)
def uses_training(ctx: Context) -> None:
    _uses(ctx, "training", ctx.m_trn)


@family("F-USES", "split", applies=_USES_APPLIES, why_not=_USES_WHY)
def uses_split(ctx: Context) -> None:
    """C20b: F-USES as written (§F7.2): each use is its share of the operating funds actually spent.

    Per use u in (salaries, services, training), tagged ``min`` and ``max``:
    ``m_u - (share_u - tol) * ops >= 0`` and ``m_u - (share_u + tol) * ops <= 0``, ops = sum of
    m_sal + m_svc + m_trn; ``tol`` is the instance's ``tolerance`` (share points, default 0: an exact split).
    The caps of C20 stay (share of the operations line); the split binds the spending itself.
    """
    c = ctx.clause("F-USES")
    tol = float(c.figures.get("tolerance", 0.0))
    ops = ctx.ops.ravel()
    for use, cols_u in (("salaries", ctx.m_sal), ("services", ctx.m_svc), ("training", ctx.m_trn)):
        mine = np.isin(ops, cols_u)
        share = c.figures[use]
        for tag, shift, lo, hi in (("min", -tol, 0.0, INF), ("max", tol, -INF, 0.0)):
            coef = np.where(mine, 1.0, 0.0) - (share + shift)
            ctx.fam("F-USES", "split", [total(ops, coef)], lo, hi, unit="yuan", tag=f"{use},{tag}")
