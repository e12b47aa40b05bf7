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
                          "unit", "county", "name"})


def write_plan(plan: Plan, out: str | os.PathLike[str]) -> None:
    """Write the plan's tables, summary.json and manifest.json into ``out``, whole or not at all."""
    def fill(tmp: Path) -> None:
        for name, df in plan.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n", float_format="%.6f")
        (tmp / SUMMARY).write_text(json.dumps(_jsonable(plan.summary), indent=2, sort_keys=True) + "\n")
        (tmp / MANIFEST).write_text(json.dumps(_jsonable(dict(plan.manifest)), indent=2, sort_keys=True) + "\n")

    write_dir_atomically(out, fill)


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


def read_plan(folder: str | os.PathLike[str]) -> Plan:
    """Read a plan folder written by :func:`write_plan` back into a :class:`Plan`.

    The tables come from the CSV files, the summary and manifest from the JSON files, the outcome
    from the summary (and ``solver_version`` from the manifest).  Figures are as written: floats to
    six decimals; ``seconds`` is not written (a rerun would not be byte-identical) and reads as 0.

    Raises
    ------
    FileNotFoundError
        When ``folder`` has no ``summary.json``.
    """
    folder = Path(folder)
    summary = json.loads((folder / SUMMARY).read_text())
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    tables = {p.stem: _read_table(p) for p in sorted(folder.glob("*.csv"))}
    outcome = Outcome(Status(summary["status"]), summary.get("objective"), summary.get("bound"), summary.get("gap"),
                      summary.get("solver", manifest.get("solver", "")), 0.0, summary.get("message", ""))
    return Plan(outcome, manifest.get("solver_version", ""), tables, summary, manifest)
