"""The plan's profile figures (F-DEGREE, F-YOUNG): hires by profile per station, the stock's shares per year.

* ``staff`` gains ``sw_hires_bachelor`` / ``sw_hires_young`` (the model's hb / hy per station) where the clause
  applies;
* ``hires`` (a horizon) gains ``bachelor`` and ``young``: a station's profile hires of the year spread over
  its social-worker hire rows in their order (the model counts them per station, not per level);
* ``profile``: one row per year: social workers, their hires, and per clause the profile's hires, the
  stock (expected: see :mod:`allocator.station.families.profile`), its share and the year's figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.station.builder import Model
from allocator.station.families.profile import KEYS, ageing_share, stock_today, survival

COLUMN = {"hb": "sw_hires_bachelor", "hy": "sw_hires_young"}
PREFIX = {"F-DEGREE": "bachelor", "F-YOUNG": "young"}


def staff_columns(model: Model, x: np.ndarray) -> dict[str, np.ndarray]:
    """``sw_hires_bachelor`` / ``sw_hires_young`` per station, where the model has the columns."""
    return {COLUMN[k]: np.round(x[model.col(k)]).astype(np.int64) for k in COLUMN if k in model.columns}


def _rate(inst: Instance) -> float:
    c = inst.any_clause("F-TURNOVER")
    return float(c.figures.get("rate", 0.0)) if c is not None else 0.0


def profile_rows(instance: Instance, years: list[int], sw: list[int], hires: list[int],
                 profile_hires: list[dict[str, int | None]], rates: list[float]) -> pd.DataFrame:
    """The ``profile`` table from each year's social workers, hires, profile hires (None: clause not in force)."""
    rows: list[dict[str, Any]] = []
    for k, t in enumerate(years):
        inst_t = instance.for_year(t) if instance.horizon is not None else instance
        row: dict[str, Any] = {"year": t, "social_workers": sw[k], "sw_hires": hires[k]}
        for cid, key in KEYS.items():
            p = PREFIX[cid]
            c = inst_t.clause(cid)
            n = profile_hires[k].get(key)
            if c is None or n is None:
                continue
            g = ageing_share(instance, float(c.figures.get("age_below", 35.0))) if cid == "F-YOUNG" else 0.0
            keep_today, keep_hires = survival(rates[: k + 1], g)
            earlier = [profile_hires[u].get(key) or 0 for u in range(k + 1)]
            stock = float(stock_today(instance, cid, k).sum()) * keep_today + sum(
                f * h for f, h in zip(keep_hires, earlier, strict=True))
            row[f"{p}_hires"] = int(n)
            row[p] = round(stock, 6)
            row[f"{p}_share"] = round(stock / sw[k], 6) if sw[k] else 0.0
            row[f"{p}_target"] = float(c.figures["share"])
        rows.append(row)
    return pd.DataFrame(rows)


def one_year_profile(instance: Instance, model: Model, staff: pd.DataFrame) -> pd.DataFrame | None:
    """The one-year ``profile`` table (None when neither clause applies)."""
    cols = [k for k in COLUMN if k in model.columns]
    if not cols:
        return None
    sw = int(staff["social_workers"].sum())
    in_post = int((np.asarray(instance.staff["type"], dtype=str) == "social_worker").sum())
    ph: dict[str, int | None] = {k: int(staff[COLUMN[k]].sum()) for k in cols}
    return profile_rows(instance, [instance.year], [sw], [sw - in_post], [ph], [0.0])


def horizon_profile(instance: Instance, staff: pd.DataFrame, hires: pd.DataFrame) -> pd.DataFrame | None:
    """The horizon's ``profile`` table from its staff (per year, with the profile columns) and hires tables."""
    if not any(c in staff.columns for c in COLUMN.values()):
        return None
    years = list(instance.years)
    sw, hi, ph, rates = [], [], [], []
    for t in years:
        st = staff[staff["year"] == t]
        sw.append(int(st["social_workers"].sum()))
        h = hires[(hires["year"] == t) & (hires["type"] == "social_worker")]
        hi.append(int(h["hires"].sum()))
        ph.append({k: (int(st[c].sum()) if c in st.columns and st[c].notna().any() else None)
                   for k, c in COLUMN.items()})
        rates.append(_rate(instance.for_year(t)))
    return profile_rows(instance, years, sw, hi, ph, rates)


def spread_over_hires(hires: pd.DataFrame, staff: pd.DataFrame) -> pd.DataFrame:
    """``hires`` with ``bachelor`` / ``young``: each station-year's profile hires over its social-worker rows."""
    out = hires.copy()
    is_sw = (out["type"] == "social_worker").to_numpy()
    before = out["hires"].where(is_sw, 0).groupby([out["year"], out["station_id"]]).cumsum() - out["hires"].where(
        is_sw, 0)
    for key, col in COLUMN.items():
        if col not in staff.columns:
            continue
        name = "bachelor" if key == "hb" else "young"
        per = staff.set_index(["year", "station_id"])[col].fillna(0)
        want = per.reindex(pd.MultiIndex.from_arrays([out["year"], out["station_id"]])).fillna(0).to_numpy()
        alloc = np.clip(want - before.to_numpy(), 0, out["hires"].to_numpy())
        out[name] = np.where(is_sw, alloc, 0).astype(np.int64)
    return out
