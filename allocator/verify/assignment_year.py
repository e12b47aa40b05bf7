"""The staff in post in one year of a horizon plan, as an assignment of that year states it (``staff_in_post.csv``),
held against the plan's own tables: today's staff or the plan's stock of the year before, less the year's leavers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.verify.report import Collector

LEVEL_RANK = {"none": 0, "assistant": 1, "intermediate": 2}


def json_or_empty(path: Path) -> dict[str, Any]:
    try:
        got = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return got if isinstance(got, dict) else {}


def _category(typ: pd.Series, level: pd.Series) -> np.ndarray:
    t, lv = typ.astype(str).to_numpy(), level.astype(str).to_numpy()
    return np.where(t == "social_worker", np.where(np.isin(lv, ("assistant", "intermediate")), lv, "none"), t)


def check_year_staff(instance: Instance, plan_dir: Path, year: int, sip: pd.DataFrame, col: Collector) -> None:
    """E1 [in_post]: ``staff_in_post.csv`` is the staff the plan has in post in ``year`` before its own moves,
    upgrades and hires: today's workers (type kept, level not lowered) and earlier years' hires
    (``hire-<u>-<station>-...``, u < year, at most the plan's hires of u there); per station and category
    (admin, the three social-worker levels, volunteers) as many as the plan's stock at the start of the year
    (today's staff, else staff.csv of the year before) less the year's leavers (leavers.csv)."""
    today = instance.staff.to_frame().astype({"worker_id": str, "station_id": str}).set_index("worker_id")
    wid = sip["worker_id"].astype(str)
    for w in wid[wid.duplicated()].tolist():
        col.fail("E1", "in_post", None, "staff_in_post.csv lists each worker once", f"FAIL: {w} is listed twice")
    hires = pd.read_csv(plan_dir / "hires.csv", dtype={"station_id": str}) if (plan_dir / "hires.csv").is_file() \
        else pd.DataFrame(columns=["year", "station_id", "hires"])
    placeholder: dict[tuple[int, str], int] = {}
    for r in sip.itertuples(index=False):
        w = str(r.worker_id)
        if w in today.index:
            t0 = today.loc[w]
            if str(t0["type"]) != str(r.type) or LEVEL_RANK.get(str(r.level), 0) < LEVEL_RANK.get(str(t0["level"]), 0):
                col.fail("E1", "in_post", str(r.station_id), "a worker keeps their type and level",
                         f"FAIL: {w}: {t0['type']} {t0['level']} today, {r.type} {r.level} in staff_in_post.csv")
            continue
        parts = w.split("-")
        u = int(parts[1]) if len(parts) > 2 and parts[0] == "hire" and parts[1].isdigit() else None
        if u is None or u >= year or u not in instance.years:
            col.fail("E1", "in_post", str(r.station_id), "staff_in_post.csv: today's workers and earlier hires only",
                     f"FAIL: {w} is neither in staff.csv nor a hire of a year before {year}")
            continue
        placeholder[(u, parts[2])] = placeholder.get((u, parts[2]), 0) + 1
    for (u, s), n in placeholder.items():
        made = pd.to_numeric(hires.loc[(pd.to_numeric(hires["year"]) == u) & (hires["station_id"] == s), "hires"]).sum()
        col.compare("E1", "in_post", s, f"hires of {u} in post in {year} <= the plan's hires of {u}", float(n),
                    "<=", float(made), "workers", only_failures=True)
    ids = np.asarray(instance.stations["station_id"]).astype(str)
    cats = ["admin", "none", "assistant", "intermediate", "volunteer"]
    plan_col = {"admin": "admin", "none": "sw_uncertified", "assistant": "sw_certified_assistant",
                "intermediate": "sw_certified_intermediate", "volunteer": "volunteers"}
    k = instance.years.index(year)
    if k == 0:
        start = pd.crosstab(today["station_id"], _category(today["type"], today["level"]))
    else:
        st = pd.read_csv(plan_dir / "staff.csv", dtype={"station_id": str})
        st = st[pd.to_numeric(st["year"]) == instance.years[k - 1]].set_index("station_id")
        start = pd.DataFrame({c: np.round(pd.to_numeric(st[plan_col[c]])) for c in cats})
    start = start.reindex(index=ids, columns=cats, fill_value=0).fillna(0)
    lv = pd.read_csv(plan_dir / "leavers.csv", dtype={"station_id": str, "level": str}, keep_default_na=False) \
        if (plan_dir / "leavers.csv").is_file() else pd.DataFrame(columns=["year", "station_id", "level", "leavers"])
    lv = lv[pd.to_numeric(lv["year"]) == year]
    lv = lv.assign(cat=np.where(lv["level"].astype(str) == "", "admin", lv["level"].astype(str)))
    gone = lv.groupby(["station_id", "cat"])["leavers"].sum().unstack(fill_value=0)
    gone = gone.reindex(index=ids, columns=cats, fill_value=0).fillna(0)
    have = pd.crosstab(sip["station_id"].astype(str), _category(sip["type"], sip["level"]))
    have = have.reindex(index=ids, columns=cats, fill_value=0).fillna(0)
    for c in cats:
        for s in ids.tolist():
            want = float(start.at[s, c] - gone.at[s, c])
            col.compare("E1", "in_post", s, f"{c} in staff_in_post.csv = the plan's stock at the start of {year} "
                        "less its leavers", float(have.at[s, c]), "=", want, "workers", only_failures=True)
        col.compare("E1", "in_post", None, f"{c} in post in {year} (staff_in_post.csv) = the plan's, all stations",
                    float(have[c].sum()), "=", float((start[c] - gone[c]).sum()), "workers")
