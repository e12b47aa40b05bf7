"""The :class:`CheckFamily` record and the small predicates the ``applies`` functions are built from.

``applies(instance)`` answers from the instance alone: is the clause in force, are the figures the
family needs there, are the clauses it depends on in force, is there any station (service, group) the
family has a row for.  The station model answers the same question for its rows
(``allocator.station.families``); a test holds the two to the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from allocator.instance import Instance
from allocator.verify.context import Context

__all__ = ["CheckFamily", "family", "has_service", "in_force", "stations_where"]

Applies = Callable[[Instance], bool]


@dataclass(frozen=True)
class CheckFamily:
    """One clause family's check.

    Parameters
    ----------
    clause : str
        POLICY.md id.
    family : str
        One of the clause's ``families`` in :mod:`allocator.instance.policy`.
    applies : callable
        ``applies(instance) -> bool``: does the family have rows for this instance.
    check : callable
        ``check(context) -> None``: derives the family's rows from the plan (added to ``context.rows``).
    needs : str
        What ``applies`` asks for, in words (the note when a clause in force is not checked).
    as_stated : bool
        The formulation writes the family's row as the clause states it (no terms moved across the
        sense), so ``clauses.csv``'s value and limit must each be the verifier's, not only their margin.
    """

    clause: str
    family: str
    applies: Applies
    check: Callable[[Context], None]
    needs: str = ""
    as_stated: bool = False


def in_force(cid: str, *figures: str, also: tuple[str, ...] = (), also_figures: tuple[str, ...] = ()) -> Applies:
    """The clause is in force with ``figures``; the clauses ``also`` are in force (with ``also_figures``)."""
    def applies(inst: Instance) -> bool:
        c = inst.clause(cid)
        if c is None or any(f not in c.figures for f in figures):
            return False
        for other in also:
            o = inst.clause(other)
            if o is None or any(f not in o.figures for f in also_figures):
                return False
        return True
    return applies


def stations_where(base: Applies, mask: Callable[[Instance], np.ndarray]) -> Applies:
    """``base`` and at least one station where ``mask`` (the family has a row per such station)."""
    return lambda inst: base(inst) and bool(np.any(mask(inst)))


def has_service(base: Applies, service: str, group: str) -> Applies:
    """``base`` and the catalogue has ``service`` and the instance the group ``group``."""
    return lambda inst: (base(inst) and service in set(np.asarray(inst.services["service_id"]).astype(str))
                         and group in inst.group_ids)


def family(clause: str, fam: str, applies: Applies, needs: str = "") -> Callable[
        [Callable[[Context], None]], CheckFamily]:
    """Decorator: turn a check function into the :class:`CheckFamily` of ``(clause, fam)``."""
    def wrap(fn: Callable[[Context], None]) -> CheckFamily:
        return CheckFamily(clause, fam, applies, fn, needs)
    return wrap
