"""A Plan to a folder and back: ``write_plan`` (whole or not at all) and ``read_plan``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.atomic import write_dir_atomically
from allocator.outcome import Outcome
from allocator.station.plan import Plan
from solvers import Status

SUMMARY = "summary.json"
MANIFEST = "manifest.json"
# Columns of the plan tables that hold text (ids may look like numbers: "001"; "" is a value).
TEXT_COLUMNS = frozenset({"station_id", "service_id", "kind", "group", "clause_id", "family", "mode", "sense",
                          "unit", "county", "name", "from_station", "to_station", "level", "type"})


def write_plan(plan: Plan, out: str | os.PathLike[str]) -> None:
    """Write the plan's tables, summary.json and manifest.json into ``out``, whole or not at all."""
    def fill(tmp: Path) -> None:
        for name, df in plan.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n", float_format="%.6f")
        (tmp / SUMMARY).write_text(json.dumps(_jsonable(_untimed(plan.summary)), indent=2, sort_keys=True) + "\n")
        (tmp / MANIFEST).write_text(json.dumps(_jsonable(_untimed(dict(plan.manifest))), indent=2, sort_keys=True)
                                    + "\n")

    write_dir_atomically(out, fill)


def _untimed(o: Any) -> Any:
    """``o`` without its wall-clock ``seconds`` (a stage's, a pass's): a rerun writes the same bytes."""
    if isinstance(o, dict):
        return {k: _untimed(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, (list, tuple)):
        return [_untimed(v) for v in o]
    return o


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float):
        return round(o, 6)
    return o


def _read_table(path: Path) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    text = [c for c in header if c in TEXT_COLUMNS]
    # Text columns keep "" as a value (a total row has no station); elsewhere a blank is NaN.
    return pd.read_csv(path, dtype=dict.fromkeys(text, str), keep_default_na=False,
                       na_values={c: [""] for c in header if c not in TEXT_COLUMNS})


#: Tables every plan written by ``allocator solve --out`` holds.
PLAN_TABLES = ("staff", "budget", "services", "coverage", "stations", "clauses")


class PlanReadError(FileNotFoundError):
    """The folder is not a plan written by ``allocator solve --out`` (the message says what it lacks)."""


def _check_plan_folder(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summary and manifest of ``folder``, or :class:`PlanReadError` naming what is missing."""
    if not folder.is_dir():
        raise PlanReadError(f"{folder}: no such folder; give a plan folder written by `allocator solve --out`")
    missing = [f for f in (MANIFEST, SUMMARY, *(f"{t}.csv" for t in PLAN_TABLES)) if not (folder / f).is_file()]
    if missing:
        raise PlanReadError(f"{folder} is not a plan written by `allocator solve --out`: it has no {missing[0]}"
                            + (f" (nor {', '.join(missing[1:4])}{' ...' if len(missing) > 4 else ''})"
                               if len(missing) > 1 else "")
                            + (" -- it looks like an instance folder" if (folder / "instance.toml").is_file()
                               else ""))
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanReadError(f"{folder}: {MANIFEST} / {SUMMARY} are not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("engine") != "allocator" or not isinstance(summary, dict):
        raise PlanReadError(f"{folder}/{MANIFEST} was not written by allocator")
    try:
        Status(summary.get("status", ""))
    except ValueError:
        raise PlanReadError(f"{folder}/{SUMMARY} has no known status") from None
    return summary, manifest


def read_plan(folder: str | os.PathLike[str]) -> Plan:
    """Read a plan folder written by :func:`write_plan` back into a :class:`Plan`.

    The tables come from the CSV files, the summary and manifest from the JSON files, the outcome
    from the summary (and ``solver_version`` from the manifest).  Figures are as written: floats to
    six decimals; ``seconds`` is not written (a rerun would not be byte-identical) and reads as 0.

    Raises
    ------
    PlanReadError
        When ``folder`` is missing, not a folder, or lacks a plan's files (an instance folder given as
        the plan, say); a subclass of ``FileNotFoundError``.
    """
    folder = Path(folder)
    summary, manifest = _check_plan_folder(folder)
    tables = {p.stem: _read_table(p) for p in sorted(folder.glob("*.csv"))}
    outcome = Outcome(Status(summary["status"]), summary.get("objective"), summary.get("bound"), summary.get("gap"),
                      summary.get("solver", manifest.get("solver", "")), 0.0, summary.get("message", ""))
    return Plan(outcome, manifest.get("solver_version", ""), tables, summary, manifest)
