"""Second-stage assignments on a solved plan: department resource packages and the worker roster.

Both take the plan as a value (:class:`allocator.station.Plan`, or its ``tables`` mapping), never a folder:

* :mod:`allocator.assign.gap` -- the Generalized Assignment Problem (readers, model, solve);
* :mod:`allocator.assign.packages` -- department packages onto the plan's stations (a GAP with the
  departments' budget and count rows and F-DEPT-LINK), :func:`assign_packages`;
* :mod:`allocator.assign.roster` -- every worker in post onto the plan's posts, the posts left open as the
  hiring list (min-cost flow, or a MILP with side rows), :func:`solve_roster`;
* :mod:`allocator.assign.output` -- the summary and text of an assignment and its files.

Every result carries one :class:`allocator.outcome.Outcome`.
"""

from allocator.assign.gap import (
    GapInstance,
    GapProblem,
    GapSolution,
    build_gap_problem,
    gap_columns,
    read_orlib_gap,
    read_yagiura_gap,
    solve_gap,
)
from allocator.assign.output import assignment_summary, format_assignment, write_assignment
from allocator.assign.packages import DeptLink, PackageResult, assign_packages, dept_link_rule, spare_hours
from allocator.assign.roster import (
    DEFAULT_UPGRADE_COST,
    LEVELS,
    POST_LEVEL,
    POST_TYPE,
    POSTS,
    STAFF_TYPES,
    RosterCosts,
    RosterResult,
    hire_unit_costs,
    hiring_list,
    solve_roster,
    upgrade_costs,
)

__all__ = [
    "DEFAULT_UPGRADE_COST",
    "LEVELS",
    "POSTS",
    "POST_LEVEL",
    "POST_TYPE",
    "STAFF_TYPES",
    "DeptLink",
    "GapInstance",
    "GapProblem",
    "GapSolution",
    "PackageResult",
    "RosterCosts",
    "RosterResult",
    "assign_packages",
    "assignment_summary",
    "build_gap_problem",
    "dept_link_rule",
    "format_assignment",
    "gap_columns",
    "hire_unit_costs",
    "hiring_list",
    "read_orlib_gap",
    "read_yagiura_gap",
    "solve_gap",
    "solve_roster",
    "spare_hours",
    "upgrade_costs",
    "write_assignment",
]
