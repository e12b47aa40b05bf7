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

Every backend turns its solver's answer into a :class:`Termination` and
calls :func:`map_status`, the one mapping they share; a wrapper's word
"optimal" counts only with a solution the solver marks as such (PuLP calls a
time-limited CBC run with a plan "Optimal": its *solution* status says
otherwise), and :func:`confirm_optimal` then checks the reported bound.

What a backend can do is a typed :class:`Feature` set, asked with
``backend.supports(Feature.DUALS)`` or :func:`require` (linopy's
``SolverFeature`` is the model).
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from solvers.deadline import Deadline


class Feature(enum.Enum):
    """What a backend can do; a backend lists its own in ``features``."""

    LP = "lp"
    """Continuous linear programmes."""
    MILP = "milp"
    """Mixed-integer programmes (integer and continuous columns, any bounds)."""
    INTEGER_ONLY = "integer_only"
    """Pure integer programmes with finite column bounds and decimal coefficients only (CP-SAT)."""
    DUALS = "duals"
    """Row duals (``SolverResult.row_duals``) of an LP solved to optimality."""
    TIME_LIMIT = "time_limit"
    """``SolveOptions.time_limit`` and ``deadline`` are honoured."""
    MIP_GAP = "mip_gap"
    """``SolveOptions.mip_gap`` is honoured."""
    THREADS = "threads"
    """``SolveOptions.threads`` is honoured."""
    SEED = "seed"
    """``SolveOptions.seed`` is honoured (same seed, same answer)."""
    WRITE_MPS = "write_mps"
    """``write(problem, "x.mps")`` writes a free MPS file with OBJSENSE and names."""
    WRITE_LP = "write_lp"
    """``write(problem, "x.lp")`` writes a CPLEX LP file with names."""
    INCUMBENT_ON_LIMIT = "incumbent_on_limit"
    """A solve stopped by its limit or by the guard returns the best plan found so far."""
    MIP_START = "mip_start"
    """``SolveOptions.start`` (a plan of the problem) is handed to the solver as its first incumbent."""


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
    row_names, col_names : tuple of str, optional
        Names used only when a model is written to a file (``F-SW-RURAL[F012]``,
        ``sw[F012]``); the writer makes them file-safe and unique
        (:func:`solvers.writers.file_names`).
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
    row_names: tuple[str, ...] | None = None
    col_names: tuple[str, ...] | None = None

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
        for name, names, size in (("row_names", self.row_names, m), ("col_names", self.col_names, n)):
            if names is not None and len(names) != size:
                raise ValueError(f"{name} has {len(names)} names, expected {size}")

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
            self.offset, row_names=self.row_names, col_names=self.col_names,
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
    deadline : Deadline, optional
        The command's deadline (:mod:`solvers.deadline`): the solver's own limit is the time left
        minus a margin for extraction and writing, and a solver that overruns it is interrupted
        and returns its best plan.  ``time_limit`` still applies, counted from the backend's call.
    start : numpy.ndarray, optional
        A plan of the problem (every column) handed to a MIP solve as its first incumbent, by
        backends with ``Feature.MIP_START``; the result is then never worse than the start.
    """

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    verbose: bool = False
    lp_method: str = "auto"
    heuristics: bool = True
    deadline: Deadline | None = None
    start: np.ndarray | None = field(default=None, compare=False, repr=False)

    def within_deadline(self) -> SolveOptions:
        """These options with ``time_limit`` cut to what the deadline leaves, less its margin.

        For a caller that budgets its own time from ``time_limit`` (the decomposition) rather
        than handing the options to a backend, which reads the deadline itself.
        """
        if self.deadline is None or self.deadline.at is None:
            return self
        from solvers.deadline import solver_limit

        left = solver_limit(self.time_limit, self.deadline, time.monotonic())
        # (never 0: a caller may read a limit of 0 as "none")
        return replace(self, time_limit=max(1e-3, left if left is not None else 0.0))


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


class Termination(enum.Enum):
    """Why a solver stopped, in words every solver's own codes translate to."""

    OPTIMAL = "optimal"
    """The solver says it proved optimality (believed only with a solution it marks optimal)."""
    LIMIT = "limit"
    """A time, node, iteration or solution limit, or an interrupt (the guard's)."""
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    NOT_SOLVED = "not_solved"
    """Nothing was solved (the solver did not start or gave up before a plan)."""
    ERROR = "error"


def map_status(termination: Termination, has_plan: bool) -> Status:
    """The one status mapping of every backend.

    Parameters
    ----------
    termination : Termination
        Why the solver stopped.
    has_plan : bool
        Whether the solver holds a primal solution it marks feasible (or optimal, for
        ``Termination.OPTIMAL``) and the backend can vouch for; a backend that cannot
        trust an LP stopped early passes False.

    Returns
    -------
    Status
        OPTIMAL only for a proven optimum with its plan; FEASIBLE for a limit with a plan;
        NO_SOLUTION for a limit without one; ERROR for an optimum claimed without a plan and
        for "infeasible or unbounded" left undecided.
    """
    if termination is Termination.OPTIMAL:
        return Status.OPTIMAL if has_plan else Status.ERROR
    if termination is Termination.LIMIT:
        return Status.FEASIBLE if has_plan else Status.NO_SOLUTION
    if termination is Termination.NOT_SOLVED:
        return Status.NO_SOLUTION
    return {Termination.INFEASIBLE: Status.INFEASIBLE, Termination.UNBOUNDED: Status.UNBOUNDED}.get(
        termination, Status.ERROR)


def confirm_optimal(status: Status, problem: MilpProblem, options: SolveOptions, objective: float | None,
                    bound: float | None, bound_abs_tol: float = 0.0) -> tuple[Status, str]:
    """Downgrade a MIP's OPTIMAL to FEASIBLE when its bound does not confirm the gap asked.

    Parameters
    ----------
    status, problem, options
        The mapped status, the problem and the options (``mip_gap``).
    objective, bound : float or None
        The plan's objective and the solver's proven bound.
    bound_abs_tol : float
        An absolute difference that never downgrades (CBC prints its bound to 3 decimals).

    Returns
    -------
    tuple of (Status, str)
        The status and a note for the message (empty when unchanged).
    """
    if status is not Status.OPTIMAL or not problem.is_mip:
        return status, ""
    gap = relative_gap(objective, bound)
    if gap is not None and abs(bound - objective) <= bound_abs_tol:  # type: ignore[operator]
        return status, ""
    if gap is None or gap > options.mip_gap * (1 + 1e-9) + 1e-12:
        shown = "unknown" if gap is None else f"{gap:.3g}"
        return Status.FEASIBLE, f"solver said optimal but its bound leaves gap {shown}; "
    return status, ""


class FeatureUnavailableError(ValueError):
    """A backend was asked for something it does not do (e.g. duals from CBC)."""


class Backend(Protocol):
    """The interface of a solver backend.

    Attributes
    ----------
    name : str
        Registry name (``highs``, ``cbc``, ...).
    features : frozenset of Feature
        What it can do; ask with :meth:`supports`.
    """

    name: str
    features: frozenset[Feature]

    def available(self) -> bool:
        """Whether the backend's library imports on this machine."""

    def version(self) -> str:
        """Version string of the underlying solver."""

    def supports(self, feature: Feature) -> bool:
        """Whether ``feature`` is in :attr:`features`."""

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        """Solve ``problem``; never raise for a solver failure, return ERROR."""

    def write(self, problem: MilpProblem, path: str | Path) -> None:
        """Write ``problem`` as MPS or LP (by the suffix), with its row and column names.

        Raises
        ------
        FeatureUnavailableError
            If the backend lacks ``Feature.WRITE_MPS`` / ``WRITE_LP`` for that suffix.
        """


class BackendBase:
    """Shared behaviour of the built-in backends: :meth:`supports` and :meth:`write`.

    Writing goes through one writer (:func:`solvers.writers.write_model`) whatever the
    backend: a model file is the same for every solver, and one writer means one way of
    making names file-safe.
    """

    name: str = ""
    features: frozenset[Feature] = frozenset()

    def supports(self, feature: Feature) -> bool:
        """Whether ``feature`` is in :attr:`features`."""
        return feature in self.features

    def write(self, problem: MilpProblem, path: str | Path) -> None:
        """Write ``problem`` as free MPS (``.mps``) or CPLEX LP (``.lp``), names kept."""
        from solvers.writers import format_of, write_model

        require(self, Feature.WRITE_LP if format_of(path) == "lp" else Feature.WRITE_MPS)
        write_model(problem, path)


def require(backend: Backend | BackendBase, feature: Feature, purpose: str = "") -> None:
    """Raise :class:`FeatureUnavailableError` unless ``backend`` supports ``feature``.

    Callers that rely on duals (rule prices, the decomposition's multipliers) call
    ``require(backend, Feature.DUALS)`` before they read ``row_duals``.

    Parameters
    ----------
    backend : Backend
        The backend.
    feature : Feature
        What is needed.
    purpose : str
        What it is needed for, for the message.
    """
    if feature in backend.features:
        return
    from solvers import backend_names, get_backend

    able = [n for n in backend_names() if feature in get_backend(n).features]
    why = f" for {purpose}" if purpose else ""
    raise FeatureUnavailableError(
        f"solver {backend.name!r} does not provide {feature.value}{why}; "
        f"solvers that do: {', '.join(able) or 'none'}")
