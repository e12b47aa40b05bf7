"""A horizon solution as plan tables: the one-year tables with a ``year`` column, hires, leavers, upgrades, path.

File layout per "Wave 2 contracts" (HELPERS.md): ``staff``, ``budget``, ``services``, ``coverage`` and
``stations`` gain a first column ``year``; ``stations`` gains ``built_year`` and its ``active`` is per
year; ``clauses`` gains ``year`` after ``family`` (blank for horizon rows); new ``hires``, ``leavers``,
``upgrades`` and ``path``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.station.families.path import LEVELS, SW_LEVELS, today_stock
from allocator.station.horizon import HorizonModel
from allocator.station.profile_tables import horizon_profile, spread_over_hires
from allocator.station.tables import clause_table, plan_summary, plan_tables

_HIRE_TYPE = {"admin": ("admin", "none"), "none": ("social_worker", "none"),
              "assistant": ("social_worker", "assistant"), "intermediate": ("social_worker", "intermediate"),
              "volunteer": ("volunteer", "none")}


def _ints(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.round(x[idx]).astype(np.int64)


def _with_year(df: pd.DataFrame, year: int) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"year": np.full(len(df), year)}), df.reset_index(drop=True)], axis=1)


def horizon_tables(instance: Instance, model: HorizonModel, x: np.ndarray) -> dict[str, pd.DataFrame]:
    """Every plan table of a horizon solution (money in yuan, counts as integers)."""
    years = model.years
    ids = np.asarray(instance.stations["station_id"], dtype=object)
    per_year: dict[str, list[pd.DataFrame]] = {}
    clauses = []
    built_year = np.full(len(ids), "", dtype=object)
    for t in years:
        view = model.year_view(t)
        tab = plan_tables(instance.for_year(t), view, x)
        built = _ints(x, view.col("built"))
        opened = _ints(x, view.col("build"))
        st = tab["stations"]
        st["active"] = np.where(instance.stations["status"] == "new", opened, 1)
        st["built"] = built
        built_year = np.where(built > 0, str(t), built_year)
        for name, df in tab.items():
            if name == "clauses":
                df.insert(2, "year", str(t))
                clauses.append(df)
            else:
                per_year.setdefault(name, []).append(_with_year(df, t))
    horizon_rows = clause_table(instance, model.year_view(None), x)
    horizon_rows.insert(2, "year", "")
    out = {name: pd.concat(parts, ignore_index=True) for name, parts in per_year.items()}
    st_all = out["stations"]
    pos = st_all.columns.get_loc("built") + 1
    st_all.insert(pos, "built_year", np.tile(built_year, len(years)))
    out["clauses"] = pd.concat(clauses + [horizon_rows], ignore_index=True)
    out.update(flow_tables(instance, model, x))
    out["hires"] = spread_over_hires(out["hires"], out["staff"])  # F-DEGREE / F-YOUNG columns
    out.pop("profile", None)  # the slices' one-year profile tables: the horizon's own replaces them
    if (prof := horizon_profile(instance, out["staff"], out["hires"])) is not None:
        out["profile"] = prof
    out["path"] = path_table(instance, out)
    return out


def flow_tables(instance: Instance, model: HorizonModel, x: np.ndarray) -> dict[str, pd.DataFrame]:
    """``hires``, ``leavers`` and ``upgrades`` (one row per year, station and category with a nonzero flow)."""
    assert model.link is not None
    ids = np.asarray(instance.stations["station_id"], dtype=object)
    S = len(ids)
    hires, leavers, upgrades = [], [], []
    stock = today_stock(instance)
    prev = {c: stock[c] for c in LEVELS}
    for k, t in enumerate(model.years):
        hire = _ints(x, model.link["hire"][k])
        local = _ints(x, model.link["local"][k])
        leave = _ints(x, model.link["leave"][k])
        up = _ints(x, model.link["up"][k])
        for j, c in enumerate(LEVELS):
            typ, lev = _HIRE_TYPE[c]
            loc = local[:, j - 1] if c in SW_LEVELS else np.zeros(S, dtype=np.int64)
            for is_local, n in ((True, loc), (False, hire[:, j] - loc)):
                keep = n > 0
                hires.append(pd.DataFrame({"year": t, "station_id": ids[keep], "type": typ, "level": lev,
                                           "local": is_local, "hires": n[keep]}))
        view = model.year_view(t)
        rate = _rate(instance, t)
        for j, c in enumerate(SW_LEVELS):
            leavers.append(pd.DataFrame({"year": t, "station_id": ids, "level": c,
                                         "stock_start": prev[c].astype(np.int64), "rate": rate,
                                         "leavers": leave[:, j]}))
        for j, (a, bb) in enumerate((("none", "assistant"), ("assistant", "intermediate"))):
            keep = up[:, j] > 0
            upgrades.append(pd.DataFrame({"year": t, "station_id": ids[keep], "from_level": a, "to_level": bb,
                                          "upgrades": up[keep, j]}))
        prev = {c: _ints(x, view.col(col)).astype(float) for c, col in
                (("admin", "adm"), ("none", "swu"), ("assistant", "swa"), ("intermediate", "swi"),
                 ("volunteer", "vol"))}
    lv = pd.concat(leavers, ignore_index=True)
    lv = lv[(lv["stock_start"] > 0) | (lv["leavers"] > 0)].reset_index(drop=True)
    return {"hires": pd.concat(hires, ignore_index=True), "leavers": lv,
            "upgrades": pd.concat(upgrades, ignore_index=True)}


def _rate(instance: Instance, year: int) -> float:
    c = instance.for_year(year).any_clause("F-TURNOVER")
    return float(c.figures.get("rate", 0.0)) if c is not None else 0.0


def path_table(instance: Instance, t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per year: staff in post, hires, leavers, certified shares, stations, money, coverage by group."""
    rows = []
    for y, staff in t["staff"].groupby("year", sort=True):
        bud = t["budget"][t["budget"]["year"] == y]
        st = t["stations"][t["stations"]["year"] == y]
        cov = t["coverage"][t["coverage"]["year"] == y]
        hires = t["hires"][(t["hires"]["year"] == y) & (t["hires"]["type"] == "social_worker")]
        left = t["leavers"][t["leavers"]["year"] == y]
        sw = int(staff["social_workers"].sum())
        row: dict[str, Any] = {
            "year": int(y), "sw_in_post": sw, "sw_hired": int(hires["hires"].sum()),
            "sw_left": int(left["leavers"].sum()),
            "certified_share": round(int(staff["certified"].sum()) / sw, 6) if sw else 0.0,
            "intermediate_share": round(int(staff["sw_certified_intermediate"].sum()) / sw, 6) if sw else 0.0,
            "stations_open": int(st["active"].sum()), "stations_built": int(st["built"].sum()),
            "demo_stations": int(st["demo"].sum()),
        }
        for k in ("facilities", "salaries", "services", "training"):
            row[f"money_{k}"] = round(float(bud[k].sum()), 2)
        row["money_operations"] = round(row["money_salaries"] + row["money_services"] + row["money_training"], 2)
        row["money_total"] = round(row["money_operations"] + row["money_facilities"], 2)
        row["need_covered"] = round(float(cov["covered"].sum()), 3)
        row["need_total"] = round(float(cov["demand"].sum()), 3)
        for g, part in cov.groupby("group", sort=False):
            d = float(part["demand"].sum())
            row[f"coverage_{g}"] = round(float(part["covered"].sum()) / d, 6) if d else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def horizon_summary(instance: Instance, t: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The one-year summary of the last year (deviations over all years) plus the path and horizon money."""
    last = max(instance.years)
    one = {k: (v[v["year"] == last].drop(columns="year").reset_index(drop=True) if "year" in v.columns
               and k not in ("clauses",) else v) for k, v in t.items()
           if k in ("staff", "budget", "coverage", "stations", "services", "clauses")}
    s = plan_summary(instance.for_year(last), one)
    s["years"] = list(instance.years)
    s["path"] = t["path"].to_dict(orient="records")
    s["horizon_money"] = {k: round(float(t["budget"][k].sum()), 2)
                          for k in ("facilities", "salaries", "services", "training", "total")}
    if "moves" in t:  # X-MOVES over the horizon: workers moved and their cost (inside salaries)
        s["horizon_moves"] = {"workers": int(t["moves"]["count"].sum()),
                              "cost": round(float(t["moves"]["cost"].sum()), 2)}
    if "sources" in t:  # every yuan of the horizon by the source that pays it
        s["horizon_money_by_source"] = {k: round(float(v), 2) for k, v in
                                        t["sources"].groupby("source", sort=False)["yuan"].sum().items()}
    return s


def year_plan(plan: Any, year: int) -> Any:
    """One year of a horizon :class:`~allocator.station.Plan` as a one-year Plan (same tables, no ``year``).

    Consumers of one-year plans (``assign``) take it; ``hires``, ``leavers``, ``upgrades`` and ``path`` stay
    with the horizon plan, and clause rows over the whole horizon (blank year) are left out.
    """
    from allocator.station.plan import Plan

    tables = {}
    for name, df in plan.tables.items():
        if name in ("hires", "leavers", "upgrades", "path") or "year" not in df.columns:
            continue
        keep = pd.to_numeric(df["year"], errors="coerce") == year  # clauses.csv's year reads back as a float
        one = df[keep].drop(columns="year").reset_index(drop=True)
        if name == "stations" and "built_year" in one.columns:
            one = one.drop(columns="built_year")
        tables[name] = one
    return Plan(plan.outcome, plan.solver_version, tables, dict(plan.summary), dict(plan.manifest))


def staff_at_start(instance: Instance, leavers: pd.DataFrame, year: int) -> Instance:
    """``instance.for_year(year)`` with today's staff less the leavers of the years before and in ``year``.

    The plan says how many leave per station and level, not who: the roster takes the workers listed last
    at that station and level (fewest years of service first would be as arbitrary).  Workers hired in
    earlier years of the horizon are not named people in staff.csv; for a year after the first, the roster
    lists their posts as hires again.
    """
    import dataclasses

    from allocator.instance import Table

    sf = instance.staff.to_frame()
    level = np.where(sf["type"] == "social_worker", sf["level"], "")
    gone = leavers[leavers["year"].astype(int) <= year].groupby(["station_id", "level"])["leavers"].sum()
    drop = np.zeros(len(sf), dtype=bool)
    for (sid, lev), n in gone.items():
        idx = np.flatnonzero((sf["station_id"].astype(str) == str(sid)) & (level == lev))
        if n > 0:
            drop[idx[-int(n):]] = True
    kept = sf[~drop].reset_index(drop=True)
    staff = Table(instance.staff.name, {c: kept[c].to_numpy() for c in kept.columns})
    return dataclasses.replace(instance.for_year(year), staff=staff)
