"""The station model: build the MILP from an Instance, solve it, and hold the result as a Plan.

Flow: :func:`build` (Instance -> :class:`Model`, the clause families of
:mod:`allocator.station.families`) -> :func:`solve_instance` (a backend of :mod:`solvers`) ->
:class:`Plan` (tables, summary, manifest) -> :func:`write_plan` / :func:`read_plan`,
:func:`format_plan`.  The formulation is written out in :mod:`allocator.station.builder`.
"""

from allocator.station.builder import MONEY, UNIT_PENALTY, ColumnBlock, Model, RowBlock, build
from allocator.station.format import format_plan
from allocator.station.plan import Plan
from allocator.station.solve import (
    AUTO_DECOMPOSE_STATIONS,
    DEFAULT_GAP,
    METHODS,
    choose_method,
    instance_hash,
    solve_instance,
)
from allocator.station.tables import clause_table, plan_summary, plan_tables
from allocator.station.write import PlanReadError, read_plan, write_plan

__all__ = [
    "AUTO_DECOMPOSE_STATIONS", "DEFAULT_GAP", "METHODS", "MONEY", "UNIT_PENALTY", "ColumnBlock", "Model", "Plan",
    "RowBlock", "build", "choose_method", "clause_table", "format_plan", "instance_hash", "plan_summary",
    "PlanReadError", "plan_tables", "read_plan", "solve_instance", "write_plan",
]
