"""The verifier's clause checks: one function per clause family, registered under ``(clause_id, family)``.

:data:`REGISTRY` has exactly the families :mod:`allocator.instance.policy` gives the clauses of scope ``model``
(a test holds it so).  :func:`clause_rows` runs every family that applies to the instance; a clause in
force whose family does not apply is noted with what it needs.  The engine rules (E1-E9, hygiene) are
in :mod:`allocator.verify.checks.engine`.
"""

from __future__ import annotations

from allocator.verify.checks import (
    budget,
    equity,
    moves,
    profile,
    quality,
    services,
    services_policy,
    sources,
    space,
    staffing,
)
from allocator.verify.checks.base import CheckFamily
from allocator.verify.checks.engine import ENGINE_CHECKS as _ENGINE
from allocator.verify.context import Context

__all__ = ["ENGINE_CHECKS", "REGISTRY", "CheckFamily", "clause_rows"]

REGISTRY: dict[tuple[str, str], CheckFamily] = {
    (f.clause, f.family): f
    for group in (staffing, budget, space, services, equity, quality, moves, services_policy, sources, profile)
    for f in group.FAMILIES
}


# E13 SERVICE-LINES (issue 15's cost lines in the services money) runs after the engine rules E1-E9.
ENGINE_CHECKS = (*_ENGINE, services_policy.service_lines)


def clause_rows(ctx: Context) -> None:
    """Derive the rows of every clause family that applies to ``ctx.inst`` (added to ``ctx.rows``)."""
    for (cid, fam), entry in REGISTRY.items():
        if entry.applies(ctx.inst):
            entry.check(ctx)
        elif ctx.inst.clause(cid) is not None:
            ctx.col.notes.append(f"{cid} [{fam}] is in force but has no rows for this instance, so it is not "
                                 f"checked: it needs {entry.needs or 'its figures'}")
