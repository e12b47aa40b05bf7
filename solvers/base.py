"""The one small interface every solver backend implements.

A backend receives a :class:`MilpProblem` (plain arrays: objective, sparse
constraint matrix, bounds, integrality) and returns a :class:`SolverResult`
whose :class:`Status` is normalised.  Backends know nothing of social work:
names of rows and columns are carried only so that a backend may write them
into an exported model file.

Status rules every backend follows
----------------------------------
* ``OPTIMAL``   -- the solver *proved* optimality within the relative gap
  asked for (``SolveOptions.mip_gap``).  A run that stopped on a time,
  node or iteration limit is never OPTIMAL, whatever the wrapper says.
* ``FEASIBLE``  -- a limit was reached with a plan in hand; objective,
  bound and gap are reported.
* ``INFEASIBLE``, ``UNBOUNDED`` -- proven by the solver.
* ``NO_SOLUTION`` -- a limit was reached without any plan.
* ``ERROR``     -- anything else (solver crash, numerical trouble, ...).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.sparse as sp


class Status(enum.Enum):
    """Normalised solve status shared by every backend."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        """Whether a primal solution accompanies this status."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True, eq=False)
class MilpProblem:
    """A mixed-integer linear programme in plain arrays.

    ``row_lower <= A @ x <= row_upper``, ``col_lower <= x <= col_upper``,
    ``x[j]`` integer where ``integrality[j]``; optimise ``c @ x + offset`` in
    direction ``sense`` (``"max"`` or ``"min"``).  Infinite bounds are
    ``numpy.inf``.

    Parameters
    ----------
    c : numpy.ndarray
        Objective coefficients, shape (n,).
    A : scipy.sparse.csr_array
        Constraint matrix, shape (m, n).
    row_lower, row_upper : numpy.ndarray
        Row bounds, shape (m,).
    col_lower, col_upper : numpy.ndarray
        Column bounds, shape (n,).
    integrality : numpy.ndarray
        Boolean, shape (n,): True for integer columns.
    sense : str
        ``"max"`` or ``"min"``.
    offset : float
        Constant added to the objective.
    col_names, row_names : tuple of str, optional
        Names used only when a model is written to a file.
    """

    c: np.ndarray
    A: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    sense: str = "max"
    offset: float = 0.0
    col_names: tuple[str, ...] | None = None
    row_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        m, n = self.A.shape
        if self.sense not in ("max", "min"):
            raise ValueError(f"sense must be 'max' or 'min', not {self.sense!r}")
        for name, arr, size in (
            ("c", self.c, n),
            ("col_lower", self.col_lower, n),
            ("col_upper", self.col_upper, n),
            ("integrality", self.integrality, n),
            ("row_lower", self.row_lower, m),
            ("row_upper", self.row_upper, m),
        ):
            if np.shape(arr) != (size,):
                raise ValueError(f"{name} has shape {np.shape(arr)}, expected ({size},)")

    @property
    def num_cols(self) -> int:
        return int(self.A.shape[1])

    @property
    def num_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def is_mip(self) -> bool:
        return bool(np.any(self.integrality))

    def relaxed(self) -> MilpProblem:
        """The LP relaxation: the same problem with every column continuous."""
        return MilpProblem(
            self.c, self.A, self.row_lower, self.row_upper, self.col_lower,
            self.col_upper, np.zeros(self.num_cols, dtype=bool), self.sense,
            self.offset, self.col_names, self.row_names,
        )

    def objective_value(self, x: np.ndarray) -> float:
        """Objective of a given column vector (offset included)."""
        return float(self.c @ x + self.offset)


@dataclass(frozen=True)
class SolveOptions:
    """Options every backend understands (as far as its feature set allows).

    Parameters
    ----------
    time_limit : float or None
        Wall-clock seconds; None for no limit.
    mip_gap : float
        Relative gap at which a MIP is proven optimal.
    threads : int
        Solver threads.
    seed : int
        Random seed handed to the solver.
    verbose : bool
        Let the solver print its log.
    lp_method : str
        ``"auto"``, ``"simplex"`` or ``"ipm"`` (interior point, with crossover so duals stay
        available) for an LP; backends without the ``lp_method`` feature ignore it.
    heuristics : bool
        Primal heuristics of a MIP on (the default).  Off when only the dual bound is wanted: the
        solve is then often faster (backends without the ``heuristics`` feature ignore it).
    """

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    verbose: bool = False
    lp_method: str = "auto"
    heuristics: bool = True


@dataclass(frozen=True, eq=False)
class SolverResult:
    """What a backend returns.

    ``objective`` and ``bound`` include the problem's offset and are in the
    problem's own sense.  ``gap`` is relative: ``|bound - objective| /
    max(1, |objective|)``; ``None`` when unknown.
    """

    status: Status
    x: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    solver: str = ""
    solver_version: str = ""
    seconds: float = 0.0
    message: str = ""
    row_duals: np.ndarray | None = None
    raw_status: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap ``|bound - objective| / max(1, |objective|)``."""
    if objective is None or bound is None:
        return None
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    return abs(bound - objective) / max(1.0, abs(objective))


class Backend(Protocol):
    """The interface of a solver backend.

    Attributes
    ----------
    name : str
        Registry name (``highs``, ``cbc``, ...).
    features : frozenset of str
        Subset of ``{"lp", "mip", "duals", "time_limit", "gap", "threads",
        "seed", "iis", "write"}``.
    """

    name: str
    features: frozenset[str]

    def available(self) -> bool:
        """Whether the backend's library imports on this machine."""

    def version(self) -> str:
        """Version string of the underlying solver."""

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        """Solve ``problem``; never raise for a solver failure, return ERROR."""
