"""The verifier's own plan reader: a plan folder's CSV and JSON files as arrays in the instance's order.

It shares no code with the plan writer or the station model on purpose: a plan is checked as the
files say it is, read with this module's arithmetic.  Anything missing, repeated, unknown or not a
number is recorded as an ``E-FILES`` failure (and read as 0) rather than raised.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.verify.report import Collector

__all__ = ["BINARY_COLUMNS", "BUDGET_COLUMNS", "CLAUSE_COLUMNS", "MONEY_USES", "PlanData", "REQUIRED_FILES",
           "STAFF_COLUMNS", "STATION_COLUMNS", "ZONE_COLUMNS", "not_a_plan", "read_plan_folder"]

STAFF_COLUMNS = ("admin", "sw_certified_assistant", "sw_certified_intermediate", "sw_uncertified",
                 "social_workers", "certified", "volunteers", "total_staff")
BUDGET_COLUMNS = ("facilities", "salaries", "services", "training", "total")
MONEY_USES = ("facilities", "salaries", "services", "training")
STATION_COLUMNS = ("active", "built", "one_stop", "one_stop_upgrade", "renovated", "access_retrofit", "demo",
                   "floor_area_before", "floor_area_added", "floor_area_after")
ZONE_COLUMNS = ("zone_admin_m2", "zone_service_m2", "zone_activity_m2", "zone_flex_m2")
BINARY_COLUMNS = ("active", "built", "one_stop", "one_stop_upgrade", "renovated", "access_retrofit", "demo")
REQUIRED_FILES = ("staff.csv", "budget.csv", "services.csv", "coverage.csv", "stations.csv", "clauses.csv",
                  "summary.json")
CLAUSE_COLUMNS = ("clause_id", "family", "station_id", "mode", "value", "sense", "limit", "deviation", "unit")
# What the engine writes into every plan folder, even one with no plan: a folder with neither is not a plan.
MARKER_FILES = ("summary.json", "manifest.json")
STATUSES_WITH_PLAN = ("optimal", "feasible", "time_limit", "gap_limit")


@dataclass
class PlanData:
    """The plan's tables as arrays in the instance's station / group / service order."""

    staff: dict[str, np.ndarray]
    money: dict[str, np.ndarray]
    offered: np.ndarray            # stations x services
    kind_written: dict[tuple[int, int], str]
    covered: np.ndarray            # stations x groups
    demand_written: np.ndarray     # stations x groups (nan when missing)
    st: dict[str, np.ndarray]
    zones_present: bool
    clauses: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any] | None
    served: np.ndarray | None = None  # stations x services, services.csv ``served`` (X-MIN-SERVED), if written
    moves: pd.DataFrame | None = None  # moves.csv as written (X-MOVES), None when the folder has none
    budget_moves: np.ndarray | None = None  # budget.csv ``moves`` per station, None when not written
    # Issue 15's optional columns, by "file:column" (budget.csv social_subsidy, meal_subsidy, service_points;
    # stations.csv service_points), per station (nan where a cell is blank); absent columns are not keys.
    optional: dict[str, np.ndarray] | None = None
    sources: pd.DataFrame | None = None  # sources.csv (A-SOURCES / F-SOURCES), if written
    folder: Path | None = None  # the plan folder (checks that read a table of their own: profile.csv)


def _json(path: Path) -> dict[str, Any] | None:
    with contextlib.suppress(ValueError, OSError):
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    return None


def not_a_plan(plan_dir: Path) -> str | None:
    """Why ``plan_dir`` is not a plan folder at all (bad input), or None when it is one.

    A plan folder is what ``allocator solve --out DIR`` writes: it holds ``summary.json`` and
    ``manifest.json`` whatever else is missing.  A folder that is missing, empty, or holds neither is
    not a plan; nor is an engine folder whose summary says the solve found no plan.  A plan folder
    missing one of its tables is a plan that fails (``E-FILES``), not bad input.
    """
    if not plan_dir.exists():
        return f"no plan folder {plan_dir}: it does not exist"
    if not plan_dir.is_dir():
        return f"{plan_dir} is a file, not a plan folder"
    if not any(plan_dir.iterdir()):
        return f"{plan_dir} is empty: not a plan folder (it lacks summary.json and manifest.json)"
    if not any((plan_dir / f).is_file() for f in MARKER_FILES):
        return (f"{plan_dir} is not a plan folder: it lacks summary.json and manifest.json (what "
                "`allocator solve --out DIR` writes)")
    summary = _json(plan_dir / "summary.json") if (plan_dir / "summary.json").is_file() else None
    status = str((summary or {}).get("status", ""))
    tables = [f for f in REQUIRED_FILES if f != "summary.json" and (plan_dir / f).is_file()]
    if status and status not in STATUSES_WITH_PLAN and not tables:
        return f"{plan_dir} holds no plan: summary.json status is '{status}' (the solve found no plan to verify)"
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"station_id": str, "service_id": str, "group": str, "clause_id": str,
                                        "family": str, "mode": str, "sense": str, "unit": str, "kind": str,
                                        "from_station": str, "to_station": str, "county": str, "level": str,
                                        "type": str}, keep_default_na=path.name != "moves.csv")
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _station_frame(col: Collector, df: pd.DataFrame, file: str, ids: np.ndarray,
                   columns: tuple[str, ...]) -> pd.DataFrame | None:
    """Index a per-station table by the instance's stations; record missing/extra/duplicate rows."""
    missing_cols = [c for c in ("station_id", *columns) if c not in df.columns]
    if missing_cols:
        col.fail("E-FILES", "columns", None, f"{file} has every column",
                 f"FAIL: {file} lacks column(s) {', '.join(missing_cols)}")
        return None
    sid = df["station_id"].astype(str)
    dup = sid[sid.duplicated()].unique()
    if len(dup):
        col.fail("E-FILES", "rows", None, f"{file}: one row per station",
                 f"FAIL: {file} repeats station(s) {', '.join(map(str, dup[:10]))}")
        df = df[~sid.duplicated()]
        sid = df["station_id"].astype(str)
    known = set(ids.tolist())
    extra = sorted(set(sid) - known)
    if extra:
        col.fail("E-FILES", "rows", None, f"{file}: stations of the instance only",
                 f"FAIL: {file} has station(s) not in the instance: {', '.join(extra[:10])}")
    absent = [s for s in ids if s not in set(sid)]
    if absent:
        col.fail("E-FILES", "rows", None, f"{file}: a row for every station",
                 f"FAIL: {file} has no row for station(s) {', '.join(map(str, absent[:10]))} (read as 0)")
    return df.set_index(sid).reindex(ids)


def _numeric(col: Collector, frame: pd.DataFrame, name: str, file: str, fill: float = 0.0) -> np.ndarray:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & frame.index.notna()
    written = frame[name].notna().to_numpy()
    if np.any(bad & written):
        rows = frame.index[bad & written]
        col.fail("E-FILES", "values", None, f"{file}.{name} is numeric",
                 f"FAIL: {file} column {name} is not a number at {', '.join(map(str, rows[:10]))}")
    return np.where(np.isnan(values), fill, values)


def _pairs(col: Collector, df: pd.DataFrame, file: str, ids: np.ndarray, second: str, known: list[str],
           what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row positions (station, second key) of a station x something table; unknown rows recorded."""
    si = pd.Index(ids).get_indexer(df["station_id"].astype(str))
    ki = pd.Index(known).get_indexer(df[second].astype(str))
    unknown = (si < 0) | (ki < 0)
    if unknown.any():
        col.fail("E-FILES", "rows", None, f"{file}: stations and {what}s of the instance only",
                 f"FAIL: {file} has {int(unknown.sum())} row(s) naming an unknown station or {what}")
    good = ~unknown
    seen = np.zeros((len(ids), len(known)), dtype=int)
    np.add.at(seen, (si[good], ki[good]), 1)
    if (seen > 1).any():
        col.fail("E-FILES", "rows", None, f"{file}: one row per station x {what}",
                 f"FAIL: {file} repeats {int((seen > 1).sum())} station x {what} pair(s)")
    return si, ki, good, seen


def _services(col: Collector, inst: Instance, plan_dir: Path, ids: np.ndarray
              ) -> tuple[np.ndarray, dict[tuple[int, int], str]]:
    sv = _read_csv(plan_dir / "services.csv")
    known = list(np.asarray(inst.services["service_id"]).astype(str))
    offered = np.zeros((len(ids), len(known)))
    kind_written: dict[tuple[int, int], str] = {}
    need = ("station_id", "service_id", "offered")
    if any(c not in sv.columns for c in need):
        col.fail("E-FILES", "columns", None, "services.csv has every column",
                 f"FAIL: services.csv lacks one of {', '.join(need)}")
        return offered, kind_written
    si, ki, good, seen = _pairs(col, sv, "services.csv", ids, "service_id", known, "service")
    vals = pd.to_numeric(sv["offered"], errors="coerce").to_numpy(dtype=float)
    offered[si[good], ki[good]] = np.nan_to_num(vals[good])
    if (seen == 0).any():
        col.fail("E-FILES", "rows", None, "services.csv: one row per station x service",
                 f"FAIL: services.csv lacks {int((seen == 0).sum())} station x service pair(s) (read as not offered)")
    if "kind" in sv.columns:
        for a, b, k in zip(si[good], ki[good], sv["kind"].astype(str).to_numpy()[good], strict=True):
            kind_written[(int(a), int(b))] = k
    return offered, kind_written


def _served(inst: Instance, plan_dir: Path, ids: np.ndarray) -> np.ndarray | None:
    """services.csv's ``served`` column as stations x services (None when the plan has none)."""
    sv = _read_csv(plan_dir / "services.csv")
    if "served" not in sv.columns or "station_id" not in sv.columns or "service_id" not in sv.columns:
        return None
    known = {k: i for i, k in enumerate(np.asarray(inst.services["service_id"]).astype(str))}
    at = {k: i for i, k in enumerate(ids)}
    out = np.zeros((len(ids), len(known)))
    vals = pd.to_numeric(sv["served"], errors="coerce").to_numpy(dtype=float)
    for s_id, k_id, v in zip(sv["station_id"].astype(str), sv["service_id"].astype(str), vals, strict=True):
        if s_id in at and k_id in known:
            out[at[s_id], known[k_id]] = v  # nan stays nan: a blank cell fails the check
    return out


OPTIONAL_COLUMNS = {"budget.csv": ("social_subsidy", "meal_subsidy", "service_points"),
                    "stations.csv": ("service_points",)}


def _optional(frames: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """The optional columns present in the station-indexed frames, as floats (nan where blank or not a number)."""
    out = {}
    for file, names in OPTIONAL_COLUMNS.items():
        for n in names:
            if n in frames[file].columns:
                out[f"{file}:{n}"] = pd.to_numeric(frames[file][n], errors="coerce").to_numpy(dtype=float)
    return out


def _coverage(col: Collector, inst: Instance, plan_dir: Path, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cv = _read_csv(plan_dir / "coverage.csv")
    G = len(inst.group_ids)
    covered = np.zeros((len(ids), G))
    demand_written = np.full((len(ids), G), np.nan)
    need = ("station_id", "group", "demand", "covered")
    if any(c not in cv.columns for c in need):
        col.fail("E-FILES", "columns", None, "coverage.csv has every column",
                 f"FAIL: coverage.csv lacks one of {', '.join(need)}")
        return covered, demand_written
    si, gi, good, _ = _pairs(col, cv, "coverage.csv", ids, "group", list(inst.group_ids), "group")
    covered[si[good], gi[good]] = np.nan_to_num(pd.to_numeric(cv["covered"], errors="coerce")
                                                .to_numpy(dtype=float)[good])
    demand_written[si[good], gi[good]] = pd.to_numeric(cv["demand"], errors="coerce").to_numpy(dtype=float)[good]
    return covered, demand_written


def read_plan_folder(inst: Instance, plan_dir: Path, col: Collector) -> PlanData | None:
    """Read the plan in ``plan_dir``; None when its files cannot be checked at all (recorded in ``col``)."""
    missing = [f for f in REQUIRED_FILES if not (plan_dir / f).is_file()]
    if missing:
        status = str((_json(plan_dir / "summary.json") or {}).get("status", ""))
        col.fail("E-FILES", "files", None, "the plan's files are present",
                 f"FAIL: {plan_dir} lacks {', '.join(missing)}"
                 + (f" (summary.json status: {status}: there is no plan to verify)" if status else ""))
        return None
    summary = _json(plan_dir / "summary.json")
    if summary is None:
        col.fail("E-FILES", "files", None, "summary.json is a JSON object", "FAIL: summary.json is not a JSON object")
        return None
    manifest = _json(plan_dir / "manifest.json") if (plan_dir / "manifest.json").is_file() else None
    ids = np.asarray(inst.stations["station_id"], dtype=object).astype(str)
    staff_df = _station_frame(col, _read_csv(plan_dir / "staff.csv"), "staff.csv", ids, STAFF_COLUMNS)
    budget_df = _station_frame(col, _read_csv(plan_dir / "budget.csv"), "budget.csv", ids, BUDGET_COLUMNS)
    st_raw = _read_csv(plan_dir / "stations.csv")
    zone_cols_there = all(c in st_raw.columns for c in ZONE_COLUMNS)
    st_df = _station_frame(col, st_raw, "stations.csv", ids, STATION_COLUMNS)
    if staff_df is None or budget_df is None or st_df is None:
        return None
    staff = {c: _numeric(col, staff_df, c, "staff.csv") for c in STAFF_COLUMNS}
    money = {c: _numeric(col, budget_df, c, "budget.csv") for c in BUDGET_COLUMNS}
    st = {c: _numeric(col, st_df, c, "stations.csv") for c in STATION_COLUMNS}
    zones_present = False
    if zone_cols_there:
        zvals = {c: pd.to_numeric(st_df[c], errors="coerce").to_numpy(dtype=float) for c in ZONE_COLUMNS}
        zones_present = any(np.any(~np.isnan(v)) for v in zvals.values())
        st.update(zvals)
    offered, kind_written = _services(col, inst, plan_dir, ids)
    covered, demand_written = _coverage(col, inst, plan_dir, ids)
    clauses = _read_csv(plan_dir / "clauses.csv")
    if any(c not in clauses.columns for c in CLAUSE_COLUMNS):
        col.fail("E-FILES", "columns", None, "clauses.csv has every column",
                 f"FAIL: clauses.csv lacks one of {', '.join(CLAUSE_COLUMNS)}")
        clauses = pd.DataFrame({c: pd.Series(dtype=object) for c in CLAUSE_COLUMNS})
    moves = _read_csv(plan_dir / "moves.csv") if (plan_dir / "moves.csv").is_file() else None
    budget_moves = _numeric(col, budget_df, "moves", "budget.csv") if "moves" in budget_df.columns else None
    return PlanData(staff, money, offered, kind_written, covered, demand_written, st, zones_present, clauses,
                    summary, manifest, _served(inst, plan_dir, ids), moves, budget_moves,
                    _optional({"budget.csv": budget_df, "stations.csv": st_df}),
                    _read_csv(plan_dir / "sources.csv") if (plan_dir / "sources.csv").is_file() else None,
                    plan_dir)
