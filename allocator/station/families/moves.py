"""Costed moves (X-MOVES): social workers move between stations of one county, with their certification level.

Formulation
===========
Sets and parameters
-------------------
L = (none, assistant, intermediate): a social worker's certification level (``swu``, ``swa``, ``swi``); it
travels with the worker.  c(s) is the county of station s.  ``cost`` = X-MOVES ``cost_per_move`` (yuan per
worker moved), ``cap`` = ``max_per_year`` (workers moved in a year, all counties together: one city-wide
figure, so a county with many surplus workers may use more of it than a county with few), ``P`` =
``protected_years``.

Seniority is respected by not moving senior workers: ``movable[s,l]`` counts the social workers in post
at s of level l whose ``years_of_service + (plan years - 1) < P`` (a one-year plan: ``years < P``; a
horizon: nobody who reaches P before the plan ends).  Validation holds ``P <= F-SALARY seniority_years``
when F-SALARY pays a bonus, so a worker who earns (or, within the plan, will earn) the bonus is never
moved and F-SALARY's bonus stays counted at the station in post.  Admin staff (community posts) and
volunteers (residents of the community) are not moved.

Columns (per station and level; one set per year in a horizon)
--------------------------------------------------------------
mv_in[s,l], mv_out[s,l]   integer >= 0, workers moved into / out of s; ``mv_out <= movable`` (one year).

Rows
----
E1  IN-POST (with moves)  SW[s] - sum_l (mv_in - mv_out)[s,l] >= SW in post;
                          CERT[s] - sum_{l certified} (mv_in - mv_out)[s,l] >= certified in post;
                          swi[s] - (mv_in - mv_out)[s,intermediate] >= intermediate in post
                          (the bound ``swi >= intermediate in post`` is lowered by the movable ones).
E12 MOVES   per county c and level l: sum_{s in c} (mv_in - mv_out)[s,l] = 0: nobody is created or lost
            and nobody crosses a county line.
E3  PAYROLL gains ``+ cost * sum_l mv_in[s,l]``: a move is a personnel cost, charged to the salaries of the
            receiving station (budget.csv ``moves`` shows it); A-SALARY (C6) and F-SALARY (C12) count pay
            only: their rows subtract the same term.
X-MOVES [cap]  sum_{s,l} mv_out[s,l] <= cap (per year).
Objective: ``-1e-3`` per move (a tie-break: among plans equal in all the policy values, move nobody needlessly).

Why station totals and not pairs (from, to): the cost is per move, not per distance, so any county-balanced
in/out decomposes into that many pairwise moves (:func:`pair_moves` does it for ``moves.csv``); the pair
model has the same optimum with |S|^2 columns.

Horizon (:mod:`allocator.station.families.path`): H1 gains ``+ mv_in - mv_out`` per station, year and level,
E12 per county, year and level; H2-OUTFLOW: leavers + upgrades out + moves out <= the level's stock at the
start of the year; H9 POOL: moves out of s up to year t, less moves into s before t, <= movable today
+ hires into s before t (hires are new, below P within a horizon shorter than P years).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.instance import Clause, Instance
from allocator.station.context import INF, Context, county_members, name_part, total
from allocator.station.families.registry import family

MOVE_LEVELS = ("none", "assistant", "intermediate")
MOVE_COL = {"none": "swu", "assistant": "swa", "intermediate": "swi"}
TIE_BREAK = 1e-3  # objective units per move


def moves_clause(inst: Instance) -> Clause | None:
    """The X-MOVES clause when it is in force with its figures (else None: nobody moves)."""
    c = inst.clause("X-MOVES")
    if c is None or any(k not in c.figures for k in ("cost_per_move", "protected_years")):
        return None
    return c


def movable(inst: Instance, plan_years: int = 1) -> np.ndarray:
    """Social workers in post who may move, per station and level (stations x 3).

    A worker may move when ``years_of_service + plan_years - 1 < protected_years``.
    """
    c = inst.clause("X-MOVES")
    st, sf = inst.stations, inst.staff
    S = len(st)
    out = np.zeros((S, len(MOVE_LEVELS)))
    if c is None or not len(sf):
        return out
    prot = float(c.figures["protected_years"])
    at = pd.Index(np.asarray(st["station_id"], dtype=str)).get_indexer(np.asarray(sf["station_id"], dtype=str))
    typ, lev = np.asarray(sf["type"], dtype=str), np.asarray(sf["level"], dtype=str)
    young = np.asarray(sf["years_of_service"], dtype=float) + (plan_years - 1) < prot
    for j, lv in enumerate(MOVE_LEVELS):
        mask = (typ == "social_worker") & young & (np.where(np.isin(lev, MOVE_LEVELS), lev, "none") == lv) & (at >= 0)
        out[:, j] = np.bincount(at[mask], minlength=S)
    return out


def add_move_columns(ctx: Context, out_ub: np.ndarray | float) -> None:
    """The columns ``mv_in`` and ``mv_out`` (stations x levels); ``mv_out <= out_ub``."""
    b, S = ctx.b, ctx.S
    keys = np.char.add(np.char.add(np.repeat(ctx.station_ids, 3).reshape(S, 3), ","),
                       np.tile(np.asarray(MOVE_LEVELS), (S, 1)))
    ctx.cols["mv_in"] = b.cols("mv_in", (S, 3), 0.0, ctx.cap[:, None], True, keys=keys)
    ctx.cols["mv_out"] = b.cols("mv_out", (S, 3), 0.0, np.broadcast_to(out_ub, (S, 3)), True, -TIE_BREAK, keys=keys)


def move_cost_terms(ctx: Context, sign: float = 1.0) -> list[tuple[np.ndarray, object]]:
    """``sign * cost * sum_l mv_in[s,l]`` as row terms (empty when nobody moves)."""
    c = moves_clause(ctx.inst)
    if c is None or "mv_in" not in ctx.cols:
        return []
    return [(ctx.cols["mv_in"], sign * float(c.figures["cost_per_move"]))]


def balance(ctx: Context) -> None:
    """E12 MOVES: per county and level, moves in = moves out."""
    names, members = county_members(ctx.inst.stations)
    if not len(names):
        return
    mi, mo = ctx.cols["mv_in"], ctx.cols["mv_out"]
    valid = members >= 0
    m = np.maximum(members, 0)
    for j, lv in enumerate(MOVE_LEVELS):
        cols = np.concatenate([np.where(valid, mi[m, j], -1), np.where(valid, mo[m, j], -1)], axis=1)
        coefs = np.concatenate([np.where(valid, 1.0, 0.0), np.where(valid, -1.0, 0.0)], axis=1)
        cols = np.where(cols >= 0, cols, mi[0, j])  # padding: a zero coefficient on some column
        ctx.b.rows("moves_balance", "ENGINE", "MOVES", [(cols, coefs)], 0.0, 0.0, None, "workers", tag=lv,
                   keys=name_part(np.asarray(names, dtype=str)))


def in_post_rows(ctx: Context) -> None:
    """E1 with moves: the staff in post today plus the net moves in, by level."""
    ip = ctx.in_post
    mi, mo = ctx.cols["mv_in"], ctx.cols["mv_out"]
    net = [(mi, -1.0), (mo, 1.0)]
    ctx.b.rows("in_post_sw", "ENGINE", "IN-POST", [(ctx.SW, 1.0), *net], ip["sw"], INF, ctx.sidx, "workers", tag="sw")
    cert_net = [(mi[:, 1:], -1.0), (mo[:, 1:], 1.0)]
    ctx.b.rows("in_post_cert", "ENGINE", "IN-POST", [(ctx.CERT, 1.0), *cert_net], ip["cert"], INF, ctx.sidx,
               "workers", tag="cert")
    ctx.b.rows("in_post_inter", "ENGINE", "IN-POST", [(ctx.swi, 1.0), (mi[:, 2], -1.0), (mo[:, 2], 1.0)],
               ip["inter"], INF, ctx.sidx, "workers", tag="inter")


def one_year_moves(ctx: Context) -> None:
    """The one-year model's move columns, E1 with moves and E12 (called by E1 when X-MOVES is in force)."""
    mov = movable(ctx.inst, 1)
    add_move_columns(ctx, mov)
    # swi >= intermediate in post becomes a row (E1 inter): the bound keeps only the ones who cannot move
    ctx.b.set_lower(ctx.swi, np.maximum(ctx.in_post["inter"] - mov[:, 2], 0.0))
    in_post_rows(ctx)
    balance(ctx)


def _cap_applies(inst: Instance) -> bool:
    c = moves_clause(inst)
    return c is not None and "max_per_year" in c.figures


@family("X-MOVES", "cap", applies=_cap_applies)
def moves_cap(ctx: Context) -> None:
    """X-MOVES [cap]: workers moved in the year <= max_per_year."""
    if "mv_out" not in ctx.cols:
        return
    ctx.fam("X-MOVES", "cap", [total(np.asarray(ctx.cols["mv_out"]).ravel())], -INF,
            ctx.clause("X-MOVES").figures["max_per_year"], unit="workers")


def pair_moves(inst: Instance, mv_in: np.ndarray, mv_out: np.ndarray, cost: float) -> pd.DataFrame:
    """The moves as (from, to) pairs: per county and level, senders matched to receivers in station order."""
    st = inst.stations
    ids = np.asarray(st["station_id"], dtype=str)
    county = np.asarray(st["county"], dtype=str)
    rows: list[dict[str, object]] = []
    for c in sorted(set(county.tolist())):
        at = np.flatnonzero(county == c)
        for j, lv in enumerate(MOVE_LEVELS):
            send = [[int(s), int(mv_out[s, j])] for s in at if mv_out[s, j] > 0]
            recv = [[int(s), int(mv_in[s, j])] for s in at if mv_in[s, j] > 0]
            a = b = 0
            while a < len(send) and b < len(recv):
                n = min(send[a][1], recv[b][1])
                rows.append({"from_station": ids[send[a][0]], "to_station": ids[recv[b][0]], "county": c,
                             "type": "social_worker", "level": lv, "count": n, "cost": round(n * cost, 2)})
                send[a][1] -= n
                recv[b][1] -= n
                a += send[a][1] == 0
                b += recv[b][1] == 0
    cols = ["from_station", "to_station", "county", "type", "level", "count", "cost"]
    return pd.DataFrame(rows, columns=cols).astype({"count": np.int64, "cost": float})
