"""The builder's clause-family registry: one entry per (POLICY id, family)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from allocator.instance import Instance
from allocator.station.context import Context


@dataclass(frozen=True)
class BuilderFamily:
    """A clause family of the station model.

    Parameters
    ----------
    clause, family : str
        The POLICY.md id and the family name, as :mod:`allocator.instance.policy` declares them.
    applies : callable
        ``applies(instance) -> bool``: whether the family produces rows for ``instance`` (its clause
        in force, the figures it needs stated, the clauses and data it depends on there).  A family
        whose stations are all masked out (no rural station, say) applies and yields no rows.
    build : callable
        ``build(ctx)`` adds the family's rows.
    why_not : callable, optional
        ``why_not(instance) -> str | None``: the note the model keeps when the clause is in force but
        the family cannot apply (``A-SPLIT needs A-BUDGET-PERCAP in force ...``).
    """

    clause: str
    family: str
    applies: Callable[[Instance], bool]
    build: Callable[[Context], None]
    why_not: Callable[[Instance], str | None] | None = None


# Insertion order is the model's row order (kept from the single build function, so plans do not move).
_REGISTRY: dict[tuple[str, str], BuilderFamily] = {}


def in_force(*clause_ids: str) -> Callable[[Instance], bool]:
    """``applies``: every clause of ``clause_ids`` is in force."""
    return lambda inst: all(inst.clause(c) is not None for c in clause_ids)


def with_figure(clause_id: str, name: str) -> Callable[[Instance], bool]:
    """``applies``: the clause is in force and states the figure ``name``."""
    def applies(inst: Instance) -> bool:
        c = inst.clause(clause_id)
        return c is not None and name in c.figures
    return applies


def family(clause: str, name: str, applies: Callable[[Instance], bool] | None = None,
           why_not: Callable[[Instance], str | None] | None = None
           ) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register the decorated ``f(ctx)`` as the builder of ``(clause, name)``.

    ``applies`` defaults to "the clause is in force".
    """
    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        key = (clause, name)
        if key in _REGISTRY:
            raise ValueError(f"builder family {key} registered twice")
        _REGISTRY[key] = BuilderFamily(clause, name, applies or in_force(clause), fn, why_not)
        return fn
    return register
