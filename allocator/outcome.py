"""The one outcome every result type carries: how a solve ended.

Every result of the engine (the station :class:`~allocator.station.Plan`, the circle plan, the
package and roster results, the GAP solution, a decomposition's result) holds one ``outcome:
Outcome`` field, so that callers read status, objective, bound and gap the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from solvers.base import Status


@dataclass(frozen=True)
class Outcome:
    """How a solve ended.

    Parameters
    ----------
    status : Status
        The normalised status (``OPTIMAL`` only when proven within the gap asked for).
    objective : float or None
        Objective of the plan found, in the problem's own sense; None without a plan.
    bound : float or None
        Best proven bound on the objective; None when unknown.
    gap : float or None
        Relative gap ``|bound - objective| / max(1, |objective|)``; None when unknown.
    solver : str
        Name of the backend that solved it.
    seconds : float
        Wall-clock seconds of the solve.
    message : str
        The solver's own words on how it stopped.
    """

    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    seconds: float
    message: str = ""


class WithOutcome:
    """The outcome's fields read straight off a result: ``result.status`` for ``result.outcome.status``.

    A result type (a dataclass with an ``outcome: Outcome`` field) inherits these read-only views.
    """

    outcome: Outcome

    @property
    def status(self) -> Status:
        return self.outcome.status

    @property
    def objective(self) -> float | None:
        return self.outcome.objective

    @property
    def bound(self) -> float | None:
        return self.outcome.bound

    @property
    def gap(self) -> float | None:
        return self.outcome.gap

    @property
    def solver(self) -> str:
        return self.outcome.solver

    @property
    def seconds(self) -> float:
        return self.outcome.seconds

    @property
    def message(self) -> str:
        return self.outcome.message
