"""X-MOVES re-checked from ``moves.csv``, ``budget.csv`` and the instance (written apart from the builder).

A plan's moves are the rows of ``moves.csv`` (from station, to station, county, type, level, count, cost).
The verifier holds each to the instance: both stations exist and lie in the county the row names (nobody
crosses a county line); only social workers move, at a level of the catalogue; the count is a whole number
above 0 and the cost is count x ``cost_per_move``; the workers moved out of a station at a level are at most
the social workers in post there at that level below ``protected_years`` (a move cannot create a worker nor
move a senior one); the year's moves are within ``max_per_year`` (X-MOVES [cap], judged against
``clauses.csv``); budget.csv's ``moves`` is the cost of the moves into each station and summary.json's
``moves`` the tables' sums.  E1 (in :mod:`allocator.verify.checks.engine`) counts the staff in post after the
moves, so a worker moved in who is not in the receiving station's staff is a worker lost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.instance import Clause, Instance
from allocator.verify.checks.base import CheckFamily
from allocator.verify.context import Context

LEVELS = ("none", "assistant", "intermediate")
COLUMNS = ("from_station", "to_station", "county", "type", "level", "count", "cost")


def moves_in_force(inst: Instance) -> Clause | None:
    """X-MOVES when in force with the figures the checks need."""
    c = inst.clause("X-MOVES")
    if c is None or any(k not in c.figures for k in ("cost_per_move", "protected_years")):
        return None
    return c


def movable_in_post(inst: Instance, plan_years: int = 1) -> np.ndarray:
    """Social workers in post below ``protected_years`` (at the plan's last year), per station x level."""
    c = inst.clause("X-MOVES")
    ids = np.asarray(inst.stations["station_id"]).astype(str)
    out = np.zeros((len(ids), len(LEVELS)))
    if c is None:
        return out
    sf = inst.staff
    si = pd.Index(ids).get_indexer(np.asarray(sf["station_id"]).astype(str))
    lev = np.asarray(sf["level"]).astype(str)
    li = pd.Index(list(LEVELS)).get_indexer(np.where(np.isin(lev, LEVELS), lev, "none"))
    young = (np.asarray(sf["years_of_service"], dtype=float) + plan_years - 1) < float(c.figures["protected_years"])
    ok = (np.asarray(sf["type"]).astype(str) == "social_worker") & young & (si >= 0)
    np.add.at(out, (si[ok], li[ok]), 1.0)
    return out


def _rows(ctx: Context) -> pd.DataFrame:
    """moves.csv with station and level positions (-1 where unknown) and counts as numbers."""
    mv = ctx.plan.moves
    if mv is None or not len(mv):
        return pd.DataFrame({c: [] for c in (*COLUMNS, "si", "ti", "li")})
    mv = mv.copy()
    idx = pd.Index(list(ctx.ids))
    mv["si"] = idx.get_indexer(mv["from_station"].astype(str))
    mv["ti"] = idx.get_indexer(mv["to_station"].astype(str))
    mv["li"] = pd.Index(list(LEVELS)).get_indexer(mv["level"].astype(str))
    mv["count"] = pd.to_numeric(mv["count"], errors="coerce").fillna(0.0)
    mv["cost"] = pd.to_numeric(mv["cost"], errors="coerce")
    return mv


def flows(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Workers moved in and out per station x level, from the well-formed rows of moves.csv."""
    mv = _rows(ctx)
    inn, out = np.zeros((ctx.S, 3)), np.zeros((ctx.S, 3))
    good = (mv["si"] >= 0) & (mv["ti"] >= 0) & (mv["li"] >= 0)
    g = mv[good]
    np.add.at(inn, (g["ti"].to_numpy(int), g["li"].to_numpy(int)), g["count"].to_numpy(float))
    np.add.at(out, (g["si"].to_numpy(int), g["li"].to_numpy(int)), g["count"].to_numpy(float))
    return inn, out


def net_in(ctx: Context) -> np.ndarray:
    """Net workers moved into each station per level (stations x 3; zeros without moves)."""
    inn, out = flows(ctx)
    return inn - out


def move_cost_in(ctx: Context) -> np.ndarray:
    """Yuan charged to each station's salaries for the workers moved in (X-MOVES ``cost_per_move``)."""
    c = moves_in_force(ctx.inst)
    if c is None:
        return np.zeros(ctx.S)
    return flows(ctx)[0].sum(axis=1) * float(c.figures["cost_per_move"])


def check_moves(ctx: Context) -> None:
    """X-MOVES rows of moves.csv: county, type and level, count, cost, seniority; budget and summary figures."""
    col, c, mv = ctx.col, moves_in_force(ctx.inst), ctx.plan.moves
    if c is None:
        if mv is not None and len(mv):
            col.fail("X-MOVES", "in_force", None, "no moves unless X-MOVES is in force",
                     f"FAIL: moves.csv moves {len(mv)} row(s) of workers but X-MOVES is not in force")
        return
    if mv is None:
        col.fail("E-FILES", "moves", None, "moves.csv is written when X-MOVES is in force",
                 "FAIL: X-MOVES is in force but the plan has no moves.csv")
        return
    missing = [k for k in COLUMNS if k not in mv.columns]
    if missing:
        col.fail("E-FILES", "columns", None, "moves.csv has every column",
                 f"FAIL: moves.csv lacks {', '.join(missing)}")
        return
    rows = _rows(ctx)
    per = float(c.figures["cost_per_move"])
    for r in rows.itertuples(index=False):
        where = f"{r.from_station}->{r.to_station}"
        if r.si < 0 or r.ti < 0 or r.si == r.ti:
            col.fail("X-MOVES", "stations", where, "a move goes from one station of the instance to another",
                     f"FAIL: moves.csv moves workers from {r.from_station} to {r.to_station}")
            continue
        c_from, c_to = ctx.county[r.si], ctx.county[r.ti]
        if not (c_from == c_to == str(r.county)):
            col.fail("X-MOVES", "county", where, "a move stays within one county (the one the row names)",
                     f"FAIL: {r.from_station} is in {c_from}, {r.to_station} in {c_to}; the row says {r.county}")
        if str(r.type) != "social_worker" or r.li < 0:
            col.fail("X-MOVES", "level", where, "only social workers move, at a level none/assistant/intermediate",
                     f"FAIL: moves.csv moves type '{r.type}' level '{r.level}'")
        if r.count < 1 or abs(r.count - round(r.count)) > ctx.tol.integrality:
            col.fail("X-MOVES", "count", where, "a move's count is a whole number of at least 1",
                     f"FAIL: count {r.count!r}", float(r.count), ">=", 1.0, "workers")
        col.compare("X-MOVES", "cost", where, "cost = count x cost_per_move", float(np.nan_to_num(r.cost, nan=-1.0)),
                    "=", r.count * per, "yuan", only_failures=True)
    inn, out = flows(ctx)
    pool = movable_in_post(ctx.inst)
    for s, j in zip(*np.nonzero(out > pool + 1e-9), strict=True):
        col.compare("X-MOVES", "seniority", ctx.ids[s], f"{LEVELS[j]} social workers moved out <= those in post "
                    "below protected_years", float(out[s, j]), "<=", float(pool[s, j]), "workers")
    cost_in = inn.sum(axis=1) * per
    written = ctx.plan.budget_moves
    if written is None:
        if cost_in.sum() > 0:
            col.fail("E-FILES", "budget_moves", None, "budget.csv has the moves' cost",
                     "FAIL: the plan moves workers but budget.csv has no moves column")
    else:
        for s in range(ctx.S):
            col.compare("X-MOVES", "budget", ctx.ids[s], "budget.csv moves = cost of the workers moved in",
                        float(written[s]), "=", float(cost_in[s]), "yuan", only_failures=True)
    summ = ctx.plan.summary.get("moves")
    if isinstance(summ, dict):
        mine = {"workers": out.sum(), "cost": float(np.nan_to_num(rows["cost"]).sum()),
                "stations_sending": float((out.sum(axis=1) > 0).sum()),
                "stations_receiving": float((inn.sum(axis=1) > 0).sum())}
        for k, v in mine.items():
            col.compare("E-TOTALS", f"moves.{k}", None, f"summary.json moves.{k} = moves.csv's", float(summ.get(k, -1)),
                        "=", float(v), "yuan" if k == "cost" else "workers", only_failures=True)
    col.compare("X-MOVES", "checked", None, "moves.csv checked (county, level, count, cost, seniority, budget)",
                float(out.sum()), "=", float(inn.sum()), "workers")


def cap(ctx: Context) -> None:
    """X-MOVES [cap]: workers moved in the year <= max_per_year."""
    out = flows(ctx)[1]
    ctx.row("X-MOVES", "cap", None, "workers moved in the year <= max_per_year", float(out.sum()), "<=",
            ctx.fig("X-MOVES", "max_per_year"), "workers")


def _cap_applies(inst: Instance) -> bool:
    c = moves_in_force(inst)
    return c is not None and "max_per_year" in c.figures


FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("X-MOVES", "cap", _cap_applies, cap, "figures cost_per_move, protected_years and max_per_year",
                as_stated=True),
)
