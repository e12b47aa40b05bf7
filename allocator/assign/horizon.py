"""``assign --year``: the staff in post in one year of a horizon plan, today's workers and earlier hires.

The horizon plan says how many leave, are hired and are upgraded per station, level and year, not who.
The staff of year ``t`` is replayed from today's ``staff.csv`` year by year (u = first .. t):

* the leavers of year ``u`` (``leavers.csv``) leave, per station and level the workers listed last (the
  most recent hires of the horizon before today's workers, who are listed first);
* for ``u < t`` the moves of year ``u`` (``moves.csv``, X-MOVES) move the least senior social workers of
  the level who are not protected (``protected``: today's workers whose years of service reach
  ``protected_years`` before the horizon ends; the placeholders never), then the upgrades of year ``u``
  (``upgrades.csv``) move the first workers of the lower level up,
  and the hires of year ``u`` (``hires.csv``) join as placeholders named ``hire-<u>-<station>-<type>-<level>-<k>``
  (years of service ``t - u``, local registration from the hire's ``local`` flag, other columns from the
  first worker of ``staff.csv``: the plan does not say them).

Year ``t``'s own hires and upgrades are left to the roster, so the hiring list of year ``t`` is that year's
hires only (the plan's posts of year ``t`` less the staff in post), and the roster is the stock in post.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import Instance, Table


def _level(frame: pd.DataFrame) -> np.ndarray:
    """The level a horizon table uses: the social worker's level, blank for admin staff and volunteers."""
    return np.where(frame["type"].astype(str) == "social_worker", frame["level"].astype(str), "")


def staff_in_year(instance: Instance, tables: dict[str, pd.DataFrame], year: int) -> Instance:
    """``instance.for_year(year)`` whose ``staff`` is the horizon plan's staff in post in ``year``.

    Parameters
    ----------
    instance : Instance
        The horizon instance.
    tables : dict of DataFrame
        The horizon plan's tables (``leavers``, ``hires`` and ``upgrades`` are read; a missing one is empty).
    year : int
        A year of the horizon.
    """
    sf = instance.staff.to_frame().reset_index(drop=True)
    sf = sf.assign(station_id=sf["station_id"].astype(str), _level=_level(sf))
    # X-MOVES protects whoever reaches protected_years before the horizon ends (the station model's rule)
    mc = instance.for_year(year).clause("X-MOVES")
    prot = float(mc.figures["protected_years"]) if mc is not None and "protected_years" in mc.figures else np.inf
    sf["protected"] = pd.to_numeric(sf["years_of_service"]).to_numpy(float) + len(instance.years) - 1 >= prot
    empty = pd.DataFrame(columns=["year", "station_id"])
    leavers, hires, ups, moves = (tables.get(n, empty) for n in ("leavers", "hires", "upgrades", "moves"))
    for u in (y for y in instance.years if y <= year):
        sf = _leave(sf, leavers[pd.to_numeric(leavers["year"]) == u])
        if u < year:
            sf = _move(sf, moves[pd.to_numeric(moves["year"]) == u])
            sf = _upgrade(sf, ups[pd.to_numeric(ups["year"]) == u])
            sf = _hire(sf, hires[pd.to_numeric(hires["year"]) == u], u, year)
    kept = sf.drop(columns="_level").reset_index(drop=True)
    staff = Table(instance.staff.name, {c: kept[c].to_numpy() for c in kept.columns})
    return dataclasses.replace(instance.for_year(year), staff=staff)


def _leave(sf: pd.DataFrame, leavers: pd.DataFrame) -> pd.DataFrame:
    drop = np.zeros(len(sf), dtype=bool)
    sid = sf["station_id"].to_numpy()
    lev = sf["_level"].to_numpy()
    for r in leavers.itertuples(index=False):
        idx = np.flatnonzero((sid == str(r.station_id)) & (lev == str(r.level)) & ~drop)
        n = int(r.leavers)
        if n > 0:
            drop[idx[-n:]] = True
    return sf[~drop].reset_index(drop=True)


def _move(sf: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """The moves of an earlier year (moves.csv): per row the least senior unprotected social workers of the
    level at ``from_station`` go to ``to_station``."""
    if moves.empty:
        return sf
    sf = sf.copy()
    years = pd.to_numeric(sf["years_of_service"]).to_numpy(float)
    for r in moves.itertuples(index=False):
        idx = np.flatnonzero((sf["station_id"].to_numpy() == str(r.from_station))
                             & (sf["_level"].to_numpy() == str(r.level)) & (sf["type"].astype(str) == "social_worker")
                             & ~sf["protected"].to_numpy(bool))
        idx = idx[np.argsort(years[idx], kind="stable")][: int(r.count)]
        sf.loc[idx, "station_id"] = str(r.to_station)
    return sf


def _upgrade(sf: pd.DataFrame, ups: pd.DataFrame) -> pd.DataFrame:
    sf = sf.copy()
    for r in ups.itertuples(index=False):
        idx = np.flatnonzero((sf["station_id"].to_numpy() == str(r.station_id))
                             & (sf["_level"].to_numpy() == str(r.from_level)))[: int(r.upgrades)]
        sf.loc[idx, ["_level", "level"]] = str(r.to_level)
        sf.loc[idx, "certified"] = True
    return sf


def _hire(sf: pd.DataFrame, hires: pd.DataFrame, u: int, year: int) -> pd.DataFrame:
    if hires.empty:
        return sf
    template: dict[str, Any] = sf.iloc[0].to_dict() if len(sf) else {}
    rows = []
    for r in hires.itertuples(index=False):
        level = "" if str(r.type) != "social_worker" else str(r.level)
        for k in range(int(r.hires)):
            rows.append({**template, "worker_id": f"hire-{u}-{r.station_id}-{r.type}-{level or 'none'}-{k + 1}",
                         "station_id": str(r.station_id), "type": str(r.type),
                         "level": level or "none", "_level": level, "certified": level in ("assistant", "intermediate"),
                         "local_registration": bool(getattr(r, "local", False)), "years_of_service": year - u,
                         "protected": False})
    new = pd.DataFrame(rows, columns=sf.columns)
    return pd.concat([sf, new.astype(sf.dtypes.to_dict(), errors="ignore")], ignore_index=True)
