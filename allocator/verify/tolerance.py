"""Tolerances: how far a recomputed number may be from a stated one and still count as equal."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["COUNT_UNITS", "MONEY_UNITS", "Tolerance", "shortfall"]

MONEY_UNITS = frozenset({"yuan"})
COUNT_UNITS = frozenset({"staff", "workers", "volunteers", "services", "stations"})


@dataclass(frozen=True)
class Tolerance:
    """How far a number may be from its limit and still count as equal.

    Parameters
    ----------
    money_abs, money_rel : float
        Money rows (yuan): ``money_abs + money_rel * |limit|``.
    quantity_abs, quantity_rel : float
        Residents, households, m2, hours: ``max(quantity_abs, quantity_rel * |limit|)``.
    count_abs : float
        Counts (staff, workers, services, stations) are integers; only float noise on a
        fractional right-hand side is forgiven.
    integrality : float
        How far a count or yes/no value in a table may be from an integer.
    """

    money_abs: float = 1.0
    money_rel: float = 1e-6
    quantity_abs: float = 1e-3
    quantity_rel: float = 1e-6
    count_abs: float = 1e-6
    integrality: float = 1e-6

    def of(self, unit: str, limit: float) -> float:
        """The tolerance of a row in ``unit`` whose right-hand side is ``limit``.

        Parameters
        ----------
        unit : str
            The row's unit (``yuan``, ``residents``, ``workers``, ...).
        limit : float
            The row's right-hand side (or the reference value).

        Returns
        -------
        float
            The largest difference that still counts as equal.
        """
        mag = abs(limit) if math.isfinite(limit) else 0.0
        if unit in MONEY_UNITS:
            return self.money_abs + self.money_rel * mag
        if unit in COUNT_UNITS:
            return max(self.count_abs, 1e-9 * mag)
        return max(self.quantity_abs, self.quantity_rel * mag)


def shortfall(value: float, sense: str, limit: float) -> float:
    """How far ``value sense limit`` is from holding (0 when it holds; inf when a side is not finite)."""
    if not (math.isfinite(value) and math.isfinite(limit)):
        return math.inf
    if sense == ">=":
        return max(0.0, limit - value)
    if sense == "<=":
        return max(0.0, value - limit)
    return abs(value - limit)
