"""Need met overall and for the special groups (C34, C36).

The equity term of the objective (worst county's share covered) is not a clause row; it is checked
with the objective in :mod:`allocator.verify.figures`.
"""

from __future__ import annotations

import numpy as np

from allocator.verify.checks.base import CheckFamily, in_force
from allocator.verify.context import Context

__all__ = ["FAMILIES"]


def match(ctx: Context) -> None:
    """C34 A-MATCH [total]: need covered >= share x demand."""
    ctx.row("A-MATCH", "total", None, "need covered >= share x demand", ctx.x.sum(), ">=",
            ctx.fig("A-MATCH", "share") * ctx.demand.sum(), "residents")


def special(ctx: Context) -> None:
    """C36 F-SPECIAL [total]: special groups covered >= share x their demand.

    Reported with its shortfall but priced by no penalty of its own (:data:`allocator.verify.figures.UNPRICED`):
    [group] prices each special group's shortfall, and the groups at their share imply the total.
    """
    sp = np.array([g.special for g in ctx.inst.groups], dtype=bool)
    ctx.row("F-SPECIAL", "total", None, "special groups covered >= share x their demand", ctx.x[:, sp].sum(), ">=",
            ctx.fig("F-SPECIAL", "share") * ctx.demand[:, sp].sum(), "residents")


FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("A-MATCH", "total", in_force("A-MATCH", "share"), match, "figure share", as_stated=True),
    CheckFamily("F-SPECIAL", "total",
                lambda inst: in_force("F-SPECIAL", "share")(inst) and any(g.special for g in inst.groups), special,
                "figure share and a special group", as_stated=True),
)
