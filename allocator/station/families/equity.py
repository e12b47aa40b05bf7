"""The objective's equity term (``[objective] equity``): not a clause, an engine row block."""

from __future__ import annotations

import numpy as np

from allocator.station.context import INF, Context, county_members, total
from allocator.station.families.fairness import concave_benefit


def worst_county(ctx: Context) -> None:
    """eq <= covered / demand in every county; eq earns equity_weight * 100 per unit."""
    inst, b = ctx.inst, ctx.b
    eq = b.cols("eq", (1,), 0.0, 1.0, False, inst.objective.equity_weight * 100, keys=np.array(["worst_county"]))
    names, members = county_members(inst.stations)
    ok = members >= 0
    C = len(names)
    safe = np.maximum(members, 0)
    d = (ctx.demand[safe].sum(axis=2) * ok).sum(axis=1)
    inv_d = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    cols_ = np.concatenate([ctx.x[safe].reshape(C, -1), np.broadcast_to(eq, (C, 1))], axis=1)
    coefs = np.concatenate([np.repeat(ok, ctx.G, axis=1) * inv_d[:, None], -np.ones((C, 1))], axis=1)
    b.rows("equity", "ENGINE", "EQUITY", [(cols_, coefs)], 0.0, INF, None, "share", mask=d > 0, labels=tuple(names))


def urban_rural_gap(ctx: Context) -> None:
    """gap >= |urban coverage - rural coverage|; the gap costs equity_weight * 100 per unit."""
    inst, b, urban, demand, x = ctx.inst, ctx.b, ctx.urban, ctx.demand, ctx.x
    gap = b.cols("eq", (1,), 0.0, 1.0, False, -inst.objective.equity_weight * 100, keys=np.array(["urban_rural_gap"]))
    du, dr = float(demand[urban].sum()), float(demand[~urban].sum())
    if du > 0 and dr > 0:
        xu, xr = x[urban].ravel(), x[~urban].ravel()
        for sign, tag in ((1.0, "urban_ahead"), (-1.0, "rural_ahead")):
            coefs = np.concatenate([np.full(xu.size, -sign / du), np.full(xr.size, sign / dr), [1.0]])
            b.rows(f"equity:{tag}", "ENGINE", "EQUITY", [total(np.concatenate([xu, xr, gap]), coefs)], 0.0, INF, None,
                   "share", tag=tag)


def equity(ctx: Context) -> None:
    """The equity rows the objective asks for (none when its weight is 0), and X-BENEFIT's concave benefit."""
    concave_benefit(ctx)
    obj = ctx.inst.objective
    if obj.equity == "worst_county" and obj.equity_weight > 0:
        worst_county(ctx)
    elif obj.equity == "urban_rural_gap" and obj.equity_weight > 0:
        urban_rural_gap(ctx)
