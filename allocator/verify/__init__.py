"""The independent verifier: re-check a written plan against its instance, clause by clause.

A plan directory (what ``allocator solve --out DIR`` writes) is read back by the verifier's own reader
(:mod:`allocator.verify.reader`) and every engine rule (E1-E9 of the formulation, plus plan hygiene:
:mod:`allocator.verify.checks.engine`) and every clause family (:data:`allocator.verify.checks.REGISTRY`,
one function per ``(clause_id, family)`` of :mod:`allocator.instance.policy`) is recomputed from the plan's tables
and the instance with this package's own arithmetic.  Nothing is shared with the station model or the
plan writer: the package imports only the instance types (:mod:`allocator.instance`) and the clause
registry (:mod:`allocator.instance.policy`).

Rules of the verdict
--------------------
* hard row: passes when the plan satisfies it within tolerance (and reports no deviation);
* soft row: ``met`` when it holds, ``broken (soft)`` when it does not; either way it passes when the
  deviation the plan reports equals, within tolerance, the shortfall computed here.  A broken soft
  clause does not by itself fail the plan; it is reported as broken with its deviation in its unit;
* every figure the plan states must be the verifier's: ``clauses.csv`` (value, limit, slack and
  deviation of each row, :mod:`allocator.verify.figures`) and ``summary.json`` (totals, coverage by
  group and county, staff in post, deviation totals, objective);
* engine rules and plan hygiene are always hard.

PASS (``report.ok``) therefore means: every hard clause and engine rule holds and every reported figure
equals the recomputation.  A folder that is not a plan at all sets ``report.input_error`` (the CLI exits
2); a plan that fails exits 7.

Tolerances (:class:`Tolerance`): money +-(1 yuan + 1e-6 relative); residents, households, m2 and hours
+-max(1e-3, 1e-6 |limit|); counts (staff, workers, services, stations) exact after rounding.
"""

from __future__ import annotations

from allocator.verify.assignment import verify_assignment
from allocator.verify.report import Check, VerifyReport, format_report
from allocator.verify.run import verify_plan
from allocator.verify.tolerance import Tolerance

__all__ = ["Check", "Tolerance", "VerifyReport", "format_report", "verify_assignment", "verify_plan"]
