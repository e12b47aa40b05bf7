"""The horizon's linking families H1-H8 (see :mod:`allocator.station.horizon` for the formulation).

They tie the year-slices together: the staff stock by level, leavers, hires (rural local registration),
certification upgrades, the build schedule, monotone demonstration stations and the horizon's money.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, total

if TYPE_CHECKING:
    from allocator.station.horizon import _YearBuilder

LEVELS = ("admin", "none", "assistant", "intermediate", "volunteer")
SW_LEVELS = ("none", "assistant", "intermediate")
STOCK_COL = {"admin": "adm", "none": "swu", "assistant": "swa", "intermediate": "swi", "volunteer": "vol"}


def today_stock(instance: Instance) -> dict[str, np.ndarray]:
    """Staff in post today per station and stock category (staff.csv)."""
    st, sf = instance.stations, instance.staff
    sids = np.asarray(st["station_id"], dtype=str)
    at = {s: i for i, s in enumerate(sids)}
    idx = np.array([at[s] for s in np.asarray(sf["station_id"], dtype=str)], dtype=int)
    typ, lev = np.asarray(sf["type"], dtype=str), np.asarray(sf["level"], dtype=str)
    cat = np.where(typ == "social_worker", np.where(np.isin(lev, SW_LEVELS), lev, "none"), typ)
    return {c: np.bincount(idx[cat == c], minlength=len(sids)).astype(float) for c in LEVELS}


def _clause_rows(b: _YearBuilder, inst_t: Instance, cid: str, fam: str, terms: list[tuple[np.ndarray, object]],
                 lo: object, hi: object, unit: str, stations: np.ndarray | None = None) -> None:
    c = inst_t.clause(cid)
    if c is None:
        return
    b.rows(f"{cid}:{fam}", cid, fam, terms, lo, hi, stations, unit, c.mode(fam), c.penalty(fam))


def link_years(instance: Instance, b: _YearBuilder, ctxs: list[Context], rates: list[float]) -> dict[str, np.ndarray]:
    """Add H1-H8 and return the linking columns (``hire``, ``local``, ``leave``, ``up``: years x stations x ...)."""
    hz = instance.horizon
    assert hz is not None
    S = ctxs[0].S
    sidx = np.arange(S)
    rural = ~ctxs[0].urban
    start = today_stock(instance)
    hires, locals_, leaves, ups = [], [], [], []
    for k, (t, ctx) in enumerate(zip(hz.years, ctxs, strict=True)):
        inst_t = ctx.inst
        b.year, b.weight = t, 0.0  # linking columns carry no objective
        hire = b.cols("hire", (S, len(LEVELS)), 0.0, ctx.cap[:, None], True)
        local = b.cols("local_hire", (S, len(SW_LEVELS)), 0.0, np.where(rural, 1.0, 0.0)[:, None] * ctx.cap[:, None],
                       True)
        leave = b.cols("leave", (S, len(SW_LEVELS)), 0.0, ctx.cap[:, None], True)
        up = b.cols("upgrade", (S, 2), 0.0, ctx.cap[:, None], True)  # none->assistant, assistant->intermediate
        hires.append(hire)
        locals_.append(local)
        leaves.append(leave)
        ups.append(up)
        prev = ctxs[k - 1] if k else None
        # H1 stock identity per category
        up_in = {"assistant": up[:, 0], "intermediate": up[:, 1]}
        up_out = {"none": up[:, 0], "assistant": up[:, 1]}
        mv = "mv_in" in ctx.cols  # X-MOVES: transfers in and out per station, year and level
        for j, c in enumerate(LEVELS):
            terms: list[tuple[np.ndarray, object]] = [(ctx.cols[STOCK_COL[c]], 1.0), (hire[:, j], -1.0)]
            if c in SW_LEVELS:
                terms += [(leave[:, SW_LEVELS.index(c)], 1.0), *_move_terms(ctx, c, True)]
            if c in up_in:
                terms.append((up_in[c], -1.0))
            if c in up_out:
                terms.append((up_out[c], 1.0))
            rhs: object = start[c] if prev is None else 0.0
            if prev is not None:
                terms.append((prev.cols[STOCK_COL[c]], -1.0))
            b.rows("stock", "ENGINE", "H1-STOCK", terms, rhs, rhs, sidx, "staff", tag=c)
            # leavers and upgrades out of a level come from its stock at the start of the year
            if c in SW_LEVELS:
                out_terms: list[tuple[np.ndarray, object]] = [(leave[:, SW_LEVELS.index(c)], 1.0),
                                                              *_move_terms(ctx, c, False)]
                if c in up_out:
                    out_terms.append((up_out[c], 1.0))
                hi: object = start[c] if prev is None else 0.0
                if prev is not None:
                    out_terms.append((prev.cols[STOCK_COL[c]], -1.0))
                b.rows("outflow", "ENGINE", "H2-OUTFLOW", out_terms, -INF, hi, sidx, "workers", tag=c)
        if mv:
            _pool(instance, b, ctxs[: k + 1], hires, sidx)
        # H2 leavers band (F-TURNOVER of the year)
        r = rates[k]
        if prev is None:
            sw0 = start["none"] + start["assistant"] + start["intermediate"]
            b.rows("leavers", "F-TURNOVER", "leavers", [(leave, 1.0)], r * sw0 - 0.999, r * sw0 + 0.999, sidx,
                   "workers")
        else:
            b.rows("leavers", "F-TURNOVER", "leavers", [(leave, 1.0), (prev.SW, -r)], -0.999, 0.999, sidx, "workers")
        # ... and over all stations: without it every station may round down (a station of 4 at 20 % loses 0
        # or 1) and the year's turnover is understated by up to one worker per station.
        if prev is None:
            tot0 = r * float(sum(start[c].sum() for c in SW_LEVELS))
            b.rows("leavers_total", "F-TURNOVER", "total", [total(leave.ravel())], tot0 - 0.999, tot0 + 0.999,
                   unit="workers")
        else:
            b.rows("leavers_total", "F-TURNOVER", "total", [total(leave.ravel()), total(prev.SW.ravel(), -r)],
                   -0.999, 0.999, unit="workers")
        # H3 upgrade cap
        b.rows("upgrade_cap", "ENGINE", "H3-UPGRADES", [total(up.ravel())], -INF, hz.upgrades_per_year,
               unit="workers")
        # H4 local hires are rural social-worker hires
        keys = np.char.add(np.repeat(ctx.station_ids, 3), np.tile([",none", ",assistant", ",intermediate"], S))
        b.rows("local", "ENGINE", "H4-LOCAL", [(local.ravel(), 1.0), (hire[:, 1:4].ravel(), -1.0)], -INF, 0.0,
               np.repeat(sidx, 3), "workers", keys=keys)
        # H5 hiring and local-hire clauses of the year
        sw_hire = hire[:, 1:4].ravel()
        fh = inst_t.clause("F-HIRING")
        if fh is not None and "recruited" in fh.figures:
            _clause_rows(b, inst_t, "F-HIRING", "recruited", [total(sw_hire)], -INF, fh.figures["recruited"], "workers")
        fl = inst_t.clause("F-LOCAL-HIRE")
        if fl is not None:
            rural_hire = hire[rural][:, 1:4].ravel()
            _clause_rows(b, inst_t, "F-LOCAL-HIRE", "share",
                         [total(local.ravel()), total(rural_hire, -fl.figures["share"])], 0.0, INF, "workers")
            if "local_hires" in fl.figures:
                _clause_rows(b, inst_t, "F-LOCAL-HIRE", "count", [total(local.ravel())], fl.figures["local_hires"],
                             INF, "workers")
        # H6 build schedule: open = built so far
        built_so_far = np.stack([c.cols["built"] for c in ctxs[: k + 1]], axis=1)
        b.rows("schedule", "ENGINE", "H6-BUILD", [(ctx.cols["build"], 1.0), (built_so_far, -1.0)], 0.0, 0.0, sidx,
               "stations", mask=ctx.buildable, tag="open")
        # H7 demonstration stations stay demonstration stations
        if prev is not None and inst_t.clause("F-DEMO") is not None and prev.inst.clause("F-DEMO") is not None:
            b.rows("demo_keep", "ENGINE", "H7-DEMO", [(ctx.demo, 1.0), (prev.demo, -1.0)], 0.0, INF, sidx, "stations")
    b.year = None
    all_built = np.stack([c.cols["built"] for c in ctxs], axis=1)
    b.rows("once", "ENGINE", "H6-BUILD", [(all_built, 1.0)], -INF, 1.0, sidx, "stations", mask=ctxs[0].buildable,
           tag="once")
    # H8 money over the horizon
    ft = instance.clause("F-TOTAL")
    if ft is not None:
        fac = np.concatenate([c.m_fac for c in ctxs])
        if "construction" in ft.figures:
            con = ft.figures["construction"]
            _clause_rows(b, instance, "F-TOTAL", "construction", [total(fac)], con, con, "yuan")
        if "total" in ft.figures:
            money = np.concatenate([c.money_all for c in ctxs])
            _clause_rows(b, instance, "F-TOTAL", "total", [total(money)], -INF, ft.figures["total"], "yuan")
    return {"hire": np.stack(hires), "local": np.stack(locals_), "leave": np.stack(leaves), "up": np.stack(ups)}


def _move_terms(ctx: Context, level: str, with_in: bool) -> list[tuple[np.ndarray, object]]:
    """X-MOVES terms of H1 (``- mv_in + mv_out``) or H2-OUTFLOW (``+ mv_out``) for one level (none without moves)."""
    if "mv_in" not in ctx.cols:
        return []
    j = SW_LEVELS.index(level)
    out: list[tuple[np.ndarray, object]] = [(ctx.cols["mv_out"][:, j], 1.0)]
    return [(ctx.cols["mv_in"][:, j], -1.0), *out] if with_in else out


def _pool(instance: Instance, b: _YearBuilder, ctxs: list[Context], hires: list[np.ndarray], sidx: np.ndarray) -> None:
    """H9 POOL (X-MOVES): moves out so far, less moves in before, <= today's movable + movable hires before.

    A hire of year u has ``K - 1 - u`` years of service at the plan's end: counted while that is below
    ``protected_years``.  The pool is counted before turnover (leavers are not individuals here); H2-OUTFLOW
    holds each level's moves out within its stock.
    """
    from allocator.station.families.moves import movable

    K, k = len(instance.years), len(ctxs) - 1
    prot = float(instance.clause("X-MOVES").figures["protected_years"])  # type: ignore[union-attr]
    pool = movable(instance, K).sum(axis=1)
    terms: list[tuple[np.ndarray, object]] = [(c.cols["mv_out"], 1.0) for c in ctxs]
    terms += [(c.cols["mv_in"], -1.0) for c in ctxs[:k]]
    terms += [(hires[u][:, 1:4], -1.0) for u in range(k) if K - 1 - u < prot]
    b.rows("moves_pool", "ENGINE", "H9-POOL", terms, -INF, pool, sidx, "workers")
