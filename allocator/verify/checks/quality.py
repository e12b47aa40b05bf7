"""Issue 15's clause families, checked from the plan files and the instance alone.

Written from the formulation's text (:mod:`allocator.station.builder` docstring, the family docstrings)
and POLICY.md; nothing is imported from :mod:`allocator.station`.

* F-USES [split] (§F7.2): every use of operating funds is its share of the operating money spent,
  within the instance's ``tolerance`` (default 0), rows ``min`` then ``max`` per use.
"""

from __future__ import annotations



from allocator.verify.checks.base import CheckFamily, in_force
from allocator.verify.context import Context

__all__ = ["FAMILIES"]


def uses_split(ctx: Context) -> None:
    """F-USES [split]: (share - tol) x operating money <= money of the use <= (share + tol) x operating money."""
    tol = ctx.fig("F-USES", "tolerance", 0.0)
    ops = float(ctx.ops.sum())
    for use, money in (("salaries", ctx.sal), ("services", ctx.svc), ("training", ctx.trn)):
        share = ctx.fig("F-USES", use)
        ctx.row("F-USES", "split", None, f"{use} money >= (share - tolerance) x operating money", money.sum(), ">=",
                (share - tol) * ops, "yuan")
        ctx.row("F-USES", "split", None, f"{use} money <= (share + tolerance) x operating money", money.sum(), "<=",
                (share + tol) * ops, "yuan")




FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("F-USES", "split", in_force("F-USES", also=("F-TOTAL",)), uses_split,
                "F-TOTAL in force (the operating money the split is of)"),
)
