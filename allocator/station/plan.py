"""The Plan: a value holding how the solve ended, the plan's tables, its summary and manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allocator.outcome import Outcome, WithOutcome


@dataclass(frozen=True, eq=False)
class Plan(WithOutcome):
    """The outcome of a solve and, when there is a plan, its tables.

    Parameters
    ----------
    outcome : Outcome
        Status, objective, bound, gap, solver, seconds and message of the solve.
    solver_version : str
        Version of the solver library.
    tables : dict of str to DataFrame
        ``staff``, ``budget``, ``services``, ``coverage``, ``stations``, ``clauses`` (empty without a plan).
    summary : dict
        Totals, coverage by group and county, deviations, binding families, notes (``summary.json``).
    manifest : dict
        Engine, instance hash, solver, options and model size (``manifest.json``).
    """

    outcome: Outcome
    solver_version: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


