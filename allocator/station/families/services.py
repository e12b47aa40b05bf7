"""Services and needs clauses C31-C36: basic, featured and varied services, matching, canteens, special groups.

A-CANTEEN [coverage] is built in :mod:`.canteen` (after :mod:`.serving`: it reads the canteen's served split).
F-SPECIAL [total] is written but carries no penalty of its own (see :func:`special`): [group] prices the
special groups' shortfalls and every group at its share implies the total.
"""

from __future__ import annotations

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, total
from allocator.station.families.registry import family


def _has_basic(inst: Instance) -> bool:
    return inst.clause("A-BASIC") is not None and bool((inst.services["kind"] == "basic").any())


@family("A-BASIC", "station", applies=_has_basic)
def basic(ctx: Context) -> None:
    """C31: sum_{k basic} y[s,k] >= min(count, |B|) * act[s] (needs a basic service in the catalogue)."""
    idx = np.flatnonzero(ctx.kind == "basic")
    n = min(ctx.clause("A-BASIC").figures["count"], len(idx))
    ctx.fam("A-BASIC", "station", [(ctx.y[:, idx], 1.0), (ctx.build, -n * ctx.act_coef)], n * ctx.act_const, INF,
            ctx.sidx, "services")


def _featured(ctx: Context, cid: str) -> None:
    """C32: sum_{k featured} y[s,k] >= min_per_station * act[s]."""
    featured = np.flatnonzero(ctx.kind == "featured")
    n = ctx.clause(cid).figures["min_per_station"]
    ctx.fam(cid, "station", [(ctx.y[:, featured], 1.0), (ctx.build, -n * ctx.act_coef)], n * ctx.act_const, INF,
            ctx.sidx, "services")


@family("A-FEATURE", "station")
def a_feature(ctx: Context) -> None:
    _featured(ctx, "A-FEATURE")


@family("F-FEATURE", "station")
def f_feature(ctx: Context) -> None:
    _featured(ctx, "F-FEATURE")


@family("A-VARIETY", "station")
def variety(ctx: Context) -> None:
    """C33: sum_k y[s,k] >= min_per_station * act[s]."""
    n = ctx.clause("A-VARIETY").figures["min_per_station"]
    ctx.fam("A-VARIETY", "station", [(ctx.y, 1.0), (ctx.build, -n * ctx.act_coef)], n * ctx.act_const, INF,
            ctx.sidx, "services")


@family("A-MATCH", "total")
def match(ctx: Context) -> None:
    """C34: sum x - share * sum demand >= 0."""
    share = ctx.clause("A-MATCH").figures["share"]
    ctx.fam("A-MATCH", "total", [total(ctx.x.ravel())], share * float(ctx.demand.sum()), INF, unit="residents")


def _canteen_data(inst: Instance) -> bool:
    return "elderly_meals" in list(inst.services["service_id"]) and "elderly" in inst.group_ids


def _canteen_applies(inst: Instance) -> bool:
    return inst.clause("A-CANTEEN") is not None and _canteen_data(inst)


def _canteen_why_not(inst: Instance) -> str | None:
    if inst.clause("A-CANTEEN") is not None and not _canteen_data(inst):
        return "A-CANTEEN needs service 'elderly_meals' and group 'elderly'; not applied"
    return None


def _meals(ctx: Context) -> tuple[int, int]:
    """Index of the service ``elderly_meals`` and of the group ``elderly``."""
    return list(ctx.inst.services["service_id"]).index("elderly_meals"), list(ctx.inst.group_ids).index("elderly")


@family("A-CANTEEN", "count", applies=_canteen_applies, why_not=_canteen_why_not)
def canteen_count(ctx: Context) -> None:
    """C35: sum_s y[s, elderly_meals] >= stations."""
    k, _ = _meals(ctx)
    ctx.fam("A-CANTEEN", "count", [total(ctx.y[:, k])], ctx.clause("A-CANTEEN").figures["stations"], INF,
            unit="stations")


def _has_special(inst: Instance) -> bool:
    return inst.clause("F-SPECIAL") is not None and any(g.special for g in inst.groups)


@family("F-SPECIAL", "total", applies=_has_special)
def special(ctx: Context) -> None:
    """C36: sum over special groups x - share * their demand >= 0 (needs a special group).

    The row carries no penalty of its own: [group] (:mod:`.fairness`) applies whenever this family does and
    asks every special group for its share, which implies the total (sum of the groups' rows).  A soft
    total priced as well would charge the same residents short twice (with every special group short the
    two deviations are equal, so a penalty P acted as 2 P).  The row is still written (clauses.csv reports
    it), soft or hard as the instance says; hard, it holds whenever the groups' rows do.
    """
    sp = np.array([g.special for g in ctx.inst.groups])
    c = ctx.clause("F-SPECIAL")
    ctx.b.rows("F-SPECIAL:total", "F-SPECIAL", "total", [total(ctx.x[:, sp].ravel())],
               c.figures["share"] * float(ctx.demand[:, sp].sum()), INF, None, "residents", c.mode("total"), 0.0)
