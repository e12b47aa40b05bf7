"""Fairness across groups (issue 15): per-group coverage floors and diminishing returns within a group.

Rows (one per group g; ``X[g] = sum_s x[s,g]``, ``D[g] = sum_s demand[s,g]``):

* F-SPECIAL [group] (§F9.1, read per group): ``X[g] - share * D[g] >= 0`` for every special group with need;
  labels are the group ids.
* X-FLOOR [group] (the instance's floor, no document gives one for all groups): ``X[g] - share * D[g] >= 0``
  for every group with need; labels are the group ids.
* X-BENEFIT (scope ``data``, an objective term, engine rows ``BENEFIT``): ``X[g] = u1 + u2 + u3`` with
  ``u1 <= first * D[g]``, ``u2 <= (second - first) * D[g]``; the objective loses ``w[g] * (1 - second_weight)``
  per unit of u2 and ``w[g] * (1 - rest_weight)`` per unit of u3, so a group's first residents count
  ``w[g]``, the next ``second_weight * w[g]``, the last ``rest_weight * w[g]`` (concave: the loss grows
  with the segment, so the solver fills u1 first without binaries).
"""

from __future__ import annotations

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, join_keys, name_part
from allocator.station.families.registry import family


def _group_totals(ctx: Context, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns (groups in ``mask`` x stations) of x and each group's total need."""
    g = np.flatnonzero(mask)
    return ctx.x[:, g].T, ctx.demand[:, g].sum(axis=0)


def _floor_rows(ctx: Context, cid: str, mask: np.ndarray) -> None:
    share = ctx.clause(cid).figures["share"]
    cols, need = _group_totals(ctx, mask)
    ids = tuple(np.asarray(ctx.inst.group_ids)[mask])
    ctx.fam(cid, "group", [(cols, 1.0)], share * need, INF, unit="residents", mask=need > 0, labels=ids)


def _has_special(inst: Instance) -> bool:
    return inst.clause("F-SPECIAL") is not None and any(g.special for g in inst.groups)


@family("F-SPECIAL", "group", applies=_has_special)
def special_group(ctx: Context) -> None:
    """F-SPECIAL [group]: every special group covered at share of its own need (not only on the whole)."""
    _floor_rows(ctx, "F-SPECIAL", np.array([g.special for g in ctx.inst.groups]))


@family("X-FLOOR", "group")
def group_floor(ctx: Context) -> None:
    """X-FLOOR [group]: every group covered at the instance's floor share of its need."""
    _floor_rows(ctx, "X-FLOOR", np.ones(ctx.G, dtype=bool))


def concave_benefit(ctx: Context) -> None:
    """X-BENEFIT: the piecewise-linear concave benefit of each group's coverage (no rows if not in force)."""
    c = ctx.inst.clause("X-BENEFIT")
    if c is None or ctx.G == 0:
        return
    f = c.figures
    first, second = float(f["first"]), max(float(f["second"]), float(f["first"]))
    w = np.array([g.weight for g in ctx.inst.groups])
    need = ctx.demand.sum(axis=0)
    gids = name_part(np.asarray(ctx.inst.group_ids))
    segs = []
    for tag, ub, loss in (("u1", first * need, 0.0), ("u2", (second - first) * need, 1.0 - f["second_weight"]),
                          ("u3", np.maximum(need - second * need, 0.0), 1.0 - f["rest_weight"])):
        segs.append(ctx.b.cols(f"benefit_{tag}", (ctx.G,), 0.0, ub, False, -w * loss,
                               keys=join_keys(np.asarray(tag), gids)))
    u = np.stack(segs, axis=1)  # groups x 3
    cols = np.concatenate([ctx.x.T, u], axis=1)
    coefs = np.concatenate([np.ones((ctx.G, ctx.S)), -np.ones((ctx.G, 3))], axis=1)
    ctx.b.rows("benefit", "ENGINE", "BENEFIT", [(cols, coefs)], 0.0, 0.0, None, "residents",
               labels=tuple(ctx.inst.group_ids))
