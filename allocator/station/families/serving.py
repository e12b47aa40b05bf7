"""A service offered serves at least its minimum (issue 15), or it is not offered.

When X-MIN-SERVED applies (in force, and some service has ``min_served > 0`` in services.csv), the need
covered is split by service: ``xs[s,p]`` for every pair p = (k, g) of a service k and a group g it serves
(``np.argwhere(serves)`` order), 0 <= xs <= demand[s,g].  Rows:

* E10 SERVED-BY (engine, per station and group a service serves): ``x[s,g] - sum_{p: g_p = g} xs[s,p] = 0``.
* E11 SERVICE-GATE-K (engine, per station and pair with need): ``xs[s,p] - demand[s,g_p] * y[s,k_p] <= 0``.
* X-MIN-SERVED [station] (per station and service with a minimum, keys ``station,service``):
  ``sum_{p: k_p = k} xs[s,p] - min_served[k] * y[s,k] >= 0`` (residents).

A-VARIETY, A-FEATURE and F-FEATURE count ``y``; with every minimum > 0, a service counted serves someone.
The plan's services.csv gains ``served`` (sum over the service's pairs) when these rows are built.
"""

from __future__ import annotations

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, join_keys, name_part
from allocator.station.families.registry import family


def min_served(inst: Instance) -> np.ndarray:
    """services.csv ``min_served`` (0 where the column is absent)."""
    sv = inst.services
    return (np.asarray(sv["min_served"], dtype=float) if "min_served" in sv.columns
            else np.zeros(len(sv)))


def _applies(inst: Instance) -> bool:
    return inst.clause("X-MIN-SERVED") is not None and bool((min_served(inst) > 0).any())


def pairs(inst: Instance) -> np.ndarray:
    """(P, 2) array of (service, group) indices a service serves, in the xs column order."""
    return np.argwhere(np.asarray(inst.serves, dtype=bool))


def served_split(ctx: Context) -> np.ndarray:
    """The xs columns (need covered per service pair) with E10 SERVED-BY and E11 SERVICE-GATE-K, built once per
    slice and shared by every family that reads what a service serves (X-MIN-SERVED, A-CANTEEN, A-MEAL, ...)."""
    if "xs" in ctx.cols:
        return ctx.cols["xs"]
    b, inst = ctx.b, ctx.inst
    pk = pairs(inst)
    P = len(pk)
    k_of, g_of = pk[:, 0], pk[:, 1]
    svc_ids = name_part(np.asarray(inst.services["service_id"]))
    grp_ids = name_part(np.asarray(inst.group_ids))
    keys = join_keys(ctx.station_ids[:, None], svc_ids[k_of][None, :], grp_ids[g_of][None, :])
    xs = b.cols("xs", (ctx.S, P), 0.0, ctx.demand[:, g_of], keys=keys)
    ctx.cols["xs"] = xs
    for g in np.unique(g_of):
        mine = np.flatnonzero(g_of == g)
        cols_ = np.concatenate([ctx.x[:, g:g + 1], xs[:, mine]], axis=1)
        coefs = np.concatenate([np.ones((ctx.S, 1)), -np.ones((ctx.S, len(mine)))], axis=1)
        b.rows(f"served_by:{g}", "ENGINE", "SERVED-BY", [(cols_, coefs)], 0.0, 0.0, ctx.sidx, "residents",
               tag=str(grp_ids[g]))
    need = ctx.demand[:, g_of]  # S x P
    gate_cols = np.stack([xs.ravel(), ctx.y[:, k_of].ravel()], axis=1)
    gate_coef = np.stack([np.ones(ctx.S * P), -need.ravel()], axis=1)
    b.rows("gate_k", "ENGINE", "SERVICE-GATE-K", [(gate_cols, gate_coef)], -INF, 0.0, np.repeat(ctx.sidx, P),
           "residents", mask=need.ravel() > 0, keys=keys.ravel() if b.named else None)
    return xs


@family("X-MIN-SERVED", "station", applies=_applies)
def served_minimum(ctx: Context) -> None:
    """The xs columns, E10/E11 and X-MIN-SERVED [station] (see the module docstring)."""
    inst = ctx.inst
    pk = pairs(inst)
    if len(pk) == 0:
        return
    k_of = pk[:, 0]
    svc_ids = name_part(np.asarray(inst.services["service_id"]))
    xs = served_split(ctx)
    mins = min_served(inst)
    for k in np.flatnonzero(mins > 0):
        mine = np.flatnonzero(k_of == k)
        cols_ = np.concatenate([xs[:, mine], ctx.y[:, k:k + 1]], axis=1)
        coefs = np.concatenate([np.ones((ctx.S, len(mine))), np.full((ctx.S, 1), -mins[k])], axis=1)
        ctx.fam("X-MIN-SERVED", "station", [(cols_, coefs)], 0.0, INF, ctx.sidx, "residents", tag=str(svc_ids[k]))
