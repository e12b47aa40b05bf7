"""Issue 15's clause families, checked from the plan files and the instance alone.

Written from the formulation's text (:mod:`allocator.station.builder` docstring, the family docstrings)
and POLICY.md; nothing is imported from :mod:`allocator.station`.

* F-USES [split] (§F7.2): every use of operating funds is its share of the operating money spent,
  within the instance's ``tolerance`` (default 0), rows ``min`` then ``max`` per use.
* F-SPECIAL [group] (§F9.1 per group) and X-FLOOR [group] (the instance's floor): every (special) group
  with need has covered >= share x its need, one row per group in the instance's group order.
* X-MIN-SERVED [station]: a service offered at a station serves (services.csv ``served``) at least its
  ``min_served`` residents; ``served`` is no more than the need covered of the groups it serves there.
"""

from __future__ import annotations

import numpy as np

from allocator.instance import Instance
from allocator.verify.checks.base import CheckFamily, in_force
from allocator.verify.context import Context

__all__ = ["FAMILIES"]


def uses_split(ctx: Context) -> None:
    """F-USES [split]: (share - tol) x operating money <= money of the use <= (share + tol) x operating money."""
    tol = ctx.fig("F-USES", "tolerance", 0.0)
    ops = float(ctx.ops.sum())
    for use, money in (("salaries", ctx.sal), ("services", ctx.svc), ("training", ctx.trn)):
        share = ctx.fig("F-USES", use)
        ctx.row("F-USES", "split", None, f"{use} money >= (share - tolerance) x operating money", money.sum(), ">=",
                (share - tol) * ops, "yuan")
        ctx.row("F-USES", "split", None, f"{use} money <= (share + tolerance) x operating money", money.sum(), "<=",
                (share + tol) * ops, "yuan")




def _group_floor(cid: str, mask: np.ndarray, ctx: Context) -> None:
    share = ctx.fig(cid, "share")
    covered, need = ctx.x.sum(axis=0), ctx.demand.sum(axis=0)
    for g, grp in enumerate(ctx.inst.groups):
        if mask[g] and need[g] > 0:
            ctx.row(cid, "group", grp.id, "covered >= share x the group's need", covered[g], ">=", share * need[g],
                    "residents")


def special_group(ctx: Context) -> None:
    """F-SPECIAL [group]: each special group covered >= share x its need."""
    _group_floor("F-SPECIAL", np.array([g.special for g in ctx.inst.groups]), ctx)


def group_floor(ctx: Context) -> None:
    """X-FLOOR [group]: each group covered >= the floor share x its need."""
    _group_floor("X-FLOOR", np.ones(len(ctx.inst.groups), dtype=bool), ctx)


def _min_served(inst: Instance) -> np.ndarray:
    sv = inst.services
    return np.asarray(sv["min_served"], dtype=float) if "min_served" in sv.columns else np.zeros(len(sv))


def min_served(ctx: Context) -> None:
    """X-MIN-SERVED [station]: served >= min_served x offered, per station and service with a minimum."""
    served = ctx.plan.served
    if served is None:
        ctx.col.fail("X-MIN-SERVED", "station", None, "services.csv has a served column",
                     "FAIL: services.csv has no column 'served' (the residents each service serves)")
        return
    mins = _min_served(ctx.inst)
    serves = np.asarray(ctx.inst.serves, dtype=float)  # services x groups
    reach = ctx.x @ serves.T  # need covered of the groups each service serves, stations x services
    for k in np.flatnonzero(mins > 0):
        ctx.station_rows("X-MIN-SERVED", "station", "residents served >= min_served x offered", served[:, k], ">=",
                         mins[k] * ctx.y[:, k], "residents")
    over = np.nan_to_num(served, nan=np.inf) > reach + 1e-6 * np.maximum(1.0, reach)
    if over.any():
        s, k = np.argwhere(over)[0]
        ctx.col.fail("X-MIN-SERVED", "station", ctx.ids[s], "served <= need covered of the groups it serves",
                     f"FAIL: {int(over.sum())} station x service pair(s) serve more than their groups' need covered "
                     f"(first: {ctx.ids[s]} {ctx.service_ids[k]})")


def _min_applies(inst: Instance) -> bool:
    return inst.clause("X-MIN-SERVED") is not None and bool((_min_served(inst) > 0).any())


def _special_applies(inst: Instance) -> bool:
    return inst.clause("F-SPECIAL") is not None and any(g.special for g in inst.groups)


FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("F-SPECIAL", "group", _special_applies, special_group, "a special group"),
    CheckFamily("X-FLOOR", "group", in_force("X-FLOOR", "share"), group_floor),
    CheckFamily("X-MIN-SERVED", "station", _min_applies, min_served, "a service with min_served > 0"),
    CheckFamily("F-USES", "split", in_force("F-USES", also=("F-TOTAL",)), uses_split,
                "F-TOTAL in force (the operating money the split is of)"),
)
