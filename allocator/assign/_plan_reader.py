"""MINIMAL STAND-IN, used only by ``cli.py``'s ``assign`` command until the merge.

``read_plan(dir) -> Plan`` is being written on the wt-station branch (``allocator.station.read_plan``);
at the merge the lead replaces the import in ``cli.py`` with that one and deletes this file.  It reads a
plan folder written by ``allocator solve --out`` (its tables, ``summary.json``, ``manifest.json``) and
refuses, with :class:`PlanReadError`, a folder that is not one (issue 17, item 11: an instance folder
given as the plan).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from allocator.plan import Plan
from solvers import Status

#: Tables every plan written by ``allocator solve --out`` holds.
PLAN_TABLES = ("staff", "budget", "services", "coverage", "stations", "clauses")


class PlanReadError(Exception):
    """The folder is not a plan written by ``allocator solve --out``."""


def read_plan(plan_dir: str | os.PathLike[str]) -> Plan:
    """The plan in ``plan_dir`` (tables from the CSVs, summary and manifest from the JSON files).

    Raises
    ------
    PlanReadError
        ``plan_dir`` is missing, is not a folder, or lacks a plan's files (naming the first missing).
    """
    d = Path(plan_dir)
    if not d.is_dir():
        raise PlanReadError(f"{d}: no such folder; give a plan folder written by `allocator solve --out`")
    missing = [f for f in ("manifest.json", "summary.json", *(f"{t}.csv" for t in PLAN_TABLES))
               if not (d / f).is_file()]
    if missing:
        raise PlanReadError(f"{d} is not a plan written by `allocator solve --out`: it has no {missing[0]}"
                            + (f" (nor {', '.join(missing[1:4])}{' ...' if len(missing) > 4 else ''})"
                               if len(missing) > 1 else "")
                            + (" -- it looks like an instance folder" if (d / "instance.toml").is_file() else ""))
    try:
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanReadError(f"{d}: manifest.json / summary.json are not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("engine") != "allocator" or not isinstance(summary, dict):
        raise PlanReadError(f"{d}/manifest.json was not written by allocator")
    tables = {}
    for name in PLAN_TABLES:
        try:
            tables[name] = pd.read_csv(d / f"{name}.csv", dtype={"station_id": str})
        except (OSError, ValueError) as exc:
            raise PlanReadError(f"{d}/{name}.csv cannot be read as a plan table: {exc}") from None
    try:
        status = Status(summary.get("status", ""))
    except ValueError:
        raise PlanReadError(f"{d}/summary.json has no known status") from None
    return Plan(status, summary.get("objective"), summary.get("bound"), summary.get("gap"),
                str(manifest.get("solver", "")), str(manifest.get("solver_version", "")), 0.0,
                str(summary.get("message", "")), tables, summary, manifest)
