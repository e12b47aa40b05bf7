"""MINIMAL STAND-IN for ``allocator.station.read_plan`` (issue 13, written on the wt-station branch).

The lead replaces this module at merge time: delete it and import ``read_plan`` from
``allocator.station`` in ``allocator/report/__init__.py``.  It reads back what ``write_plan`` wrote:
every ``*.csv`` of the folder as a table (station ids and clause ids kept as text) and
``summary.json`` / ``manifest.json`` as the summary and manifest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from allocator.plan import Plan
from solvers import Status

# Columns that hold identifiers or words: read as text so that "007" stays "007".
_TEXT = {"station_id", "clause_id", "family", "group", "service_id", "kind", "mode", "sense", "unit", "figure",
         "county", "name", "post"}


def read_plan(plan_dir: str | os.PathLike[str]) -> Plan:
    """Read a plan folder written by ``write_plan`` back into a :class:`Plan`.

    Parameters
    ----------
    plan_dir : path-like
        Folder holding ``summary.json`` and the plan's CSV tables.

    Returns
    -------
    Plan

    Raises
    ------
    FileNotFoundError
        When the folder has no ``summary.json`` (not a plan folder).
    """
    d = Path(plan_dir)
    summary_path = d / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{d}: no summary.json: not a plan written by `allocator solve --out`")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    manifest_path = d / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    tables: dict[str, pd.DataFrame] = {}
    for f in sorted(d.glob("*.csv")):
        head = pd.read_csv(f, nrows=0)
        dtypes = {c: str for c in head.columns if c in _TEXT}
        tables[f.stem] = pd.read_csv(f, dtype=dtypes, keep_default_na=True)
        for c in dtypes:
            if c in tables[f.stem]:
                tables[f.stem][c] = tables[f.stem][c].fillna("")
    return Plan(Status(summary.get("status", "error")), summary.get("objective"), summary.get("bound"),
                summary.get("gap"), summary.get("solver", manifest.get("solver", "")),
                manifest.get("solver_version", ""), float(summary.get("seconds", 0.0) or 0.0),
                summary.get("message", ""), tables, summary, manifest)
