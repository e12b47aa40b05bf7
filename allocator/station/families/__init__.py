"""The station model's clause families, one small function each, keyed by (POLICY id, family).

Modules by clause group: :mod:`.engine` (the engine rules E1-E9, always hard, not clauses),
:mod:`.staffing` (C1-C12), :mod:`.budget` (C13-C20), :mod:`.sources` (funding sources S1-S5),
:mod:`.space` (C21-C30), :mod:`.services`
(C31-C36) and :mod:`.equity` (the objective's equity term).  :data:`REGISTRY` holds the clause
families in the model's row order; its keys are the ``families`` that :mod:`allocator.instance.policy`
declares for every clause of scope ``model``.

To add a clause family: write ``@family("ID", "name", applies=...) def f(ctx): ctx.fam(...)`` in the
module of its group, declare the family in :mod:`allocator.instance.policy`, add its verifier check.
"""

from __future__ import annotations

from allocator.station.families import (
    budget,
    canteen,
    fairness,
    moves,
    profile,
    services,
    services_policy,
    serving,
    sources,
    space,
    staffing,
)
from allocator.station.families.registry import _REGISTRY, BuilderFamily

__all__ = ["REGISTRY", "BuilderFamily"]

# Row order: the groups in the formulation's order, each module's families in definition order.
REGISTRY: dict[tuple[str, str], BuilderFamily] = {
    key: fam for mod in (staffing, budget, space, services, fairness, serving, canteen, moves, services_policy,
                         sources, profile)
    for key, fam in _REGISTRY.items()
    if fam.build.__module__ == mod.__name__}
