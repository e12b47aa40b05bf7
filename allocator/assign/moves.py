"""The plan's moves (X-MOVES) made by named workers, before the roster places anyone.

The station model decides how many social workers of each level move from one station to another
(``moves.csv``); which workers those are is the roster's choice, made here: the least senior who may move.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import Instance

LEVELS = ("none", "assistant", "intermediate")  # the social-worker certification levels


def protected(instance: Instance, years: np.ndarray) -> np.ndarray:
    """Workers X-MOVES never moves: years of service >= ``protected_years`` (none when X-MOVES is not in force).

    A staff table with a boolean ``protected`` column (one year of a horizon, :mod:`allocator.assign.horizon`:
    the station model protects whoever reaches the figure before the horizon ends) says it itself.
    """
    sf = instance.staff
    if "protected" in sf.columns:
        return np.asarray(sf["protected"], bool)
    c = instance.clause("X-MOVES")
    if c is None or "protected_years" not in c.figures:
        return np.zeros(len(years), bool)
    return np.asarray(years, float) >= float(c.figures["protected_years"])


def plan_moves(instance: Instance, plan: Any, wid: np.ndarray, home: np.ndarray, wtype: np.ndarray,
               wl: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray] | str:
    """Apply the plan's ``moves.csv`` (X-MOVES) to the staff in post: who moves where, before the roster.

    Per row (from_station, to_station, level, count) the ``count`` least senior social workers of that
    level at ``from_station`` who are not protected (:func:`protected`) and not moved already move to
    ``to_station`` (ties: staff-table order); between a rural station under F-LOCAL-HIRE and another
    station the non-local go out of the rural one first and the local go into it first.  Returns the
    station of each worker after the moves and the plan's cost per move of each (whole yuan; 0 for those
    who stay), or a message when a move names a station of no instance or too few workers may move.
    """
    tables = plan.tables if hasattr(plan, "tables") else plan
    mv = tables.get("moves") if hasattr(tables, "get") else None
    home = home.copy()
    cost = np.zeros(len(home), np.int64)
    if mv is None or len(mv) == 0:
        return home, cost
    ids = pd.Index(np.asarray(instance.stations["station_id"]).astype(str))
    origin = home.copy()
    free = (wtype == "social_worker") & ~protected(instance, years)
    order = np.lexsort((np.arange(len(home)), np.asarray(years, float)))   # least senior first
    st = instance.stations
    rural = np.asarray(st["area_type"]).astype(str) == "rural"
    lc = instance.clause("F-LOCAL-HIRE")
    rural &= lc is not None and float(lc.figures.get("share", 0.0)) > 0
    registered = np.asarray(instance.staff["local_registration"], bool)
    for r in mv.itertuples(index=False):
        a, b = ids.get_indexer([str(r.from_station), str(r.to_station)])
        lv = LEVELS.index(str(r.level)) if str(r.level) in LEVELS else -1
        n = int(round(float(r.count)))
        if a < 0 or b < 0 or lv < 0:
            return f"moves.csv: a move {r.from_station} -> {r.to_station} ({r.level}) the roster cannot read"
        cand = order[(origin[order] == a) & (home[order] == a) & (wl[order] == lv) & free[order]]
        if len(cand) < n:
            return (f"the plan's moves.csv moves {n} {r.level} social worker(s) from {r.from_station} to "
                    f"{r.to_station}, but only {len(cand)} there may move (X-MOVES protected_years)")
        # F-LOCAL-HIRE: registration is by county and a move keeps the county, so a local worker moved
        # takes one local from a to b; from a rural station to an urban one move the non-local first,
        # the other way round the local first (then, either way, the least senior)
        if rural[a] != rural[b]:
            first = ~registered[cand] if rural[a] else registered[cand]
            cand = np.concatenate([cand[first], cand[~first]])
        take = cand[:n]
        home[take] = b
        cost[take] = int(round(float(r.cost) / n)) if n else 0
    return home, cost
