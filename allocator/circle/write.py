"""Writing a circle plan: its tables, ``summary.json`` and ``manifest.json``, whole or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

from allocator.atomic import write_dir_atomically
from allocator.circle.report import _jsonable
from allocator.circle.result import CirclePlan


def write_circle(plan: CirclePlan, out: str | os.PathLike[str]) -> None:
    """Write the plan's tables, ``summary.json`` and ``manifest.json`` into ``out``, whole or not at all."""

    def fill(tmp: Path) -> None:
        for name, df in plan.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        (tmp / "summary.json").write_text(json.dumps(_jsonable(plan.summary), indent=2, sort_keys=True) + "\n")
        (tmp / "manifest.json").write_text(json.dumps(_jsonable(plan.manifest), indent=2, sort_keys=True) + "\n")

    write_dir_atomically(out, fill)
