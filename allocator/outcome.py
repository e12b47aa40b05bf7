"""The one outcome every result type carries (status, objective, bound, gap, solver, seconds)."""

from __future__ import annotations

from dataclasses import dataclass

from solvers import Status


@dataclass(frozen=True)
class Outcome:
    """How a solve ended.

    Parameters
    ----------
    status : solvers.Status
        Normalised status; OPTIMAL only when proven.
    objective : float or None
        Objective of the plan found.
    bound : float or None
        Best proven bound.
    gap : float or None
        Relative gap between the two.
    solver : str
        Backend (or method/backend) that produced it.
    seconds : float
        Wall-clock time.
    message : str
        What the solver or method said.
    """

    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    seconds: float
    message: str = ""
