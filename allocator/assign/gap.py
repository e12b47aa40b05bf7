r"""The Generalized Assignment Problem (GAP): readers, model builder, solver.

Agents ``i = 0..m-1`` with capacities ``b[i]``; jobs ``j = 0..n-1``;
assigning job ``j`` to agent ``i`` costs (or earns) ``c[i, j]`` and uses
``a[i, j] >= 0`` of the agent's capacity.  Let ``E`` be the eligible
(agent, job) pairs: all pairs, or those of an eligibility mask, minus every
pair with ``a[i, j] > b[i]`` (such a pair can never be used, since all
resource use is non-negative).  The model has one binary column per pair in
``E`` and nothing for the others::

    x[i, j] in {0, 1}                                   (i, j) in E
    sum_{i : (i, j) in E} x[i, j]  = 1                  every required job j
    sum_{i : (i, j) in E} x[i, j] <= 1                  every optional job j
    sum_{j : (i, j) in E} a[i, j] x[i, j] <= b[i]       every agent i
    max or min  sum_{(i, j) in E} c[i, j] x[i, j]

Columns are ordered agent-major (the order of ``numpy.nonzero`` on the
``m x n`` mask, see :func:`gap_columns`); rows are the ``n`` job rows, then
the ``m`` capacity rows.  The matrix is built with numpy and
``scipy.sparse`` in one go; there is no loop over coefficients.

The same component serves OR-Library benchmarks (:func:`read_orlib_gap`,
:func:`read_yagiura_gap`) and the "department resource packages onto
stations" layer: there packages are jobs that may stay unplaced
(``optional=True``) and a package may only go to certain stations
(``eligible``).

File formats (``shared/benchmarks/gap/README.md``): whitespace-separated
integers whose line breaks mean nothing.  OR-Library files start with the
instance count ``P``; each instance is ``m n``, the ``m x n`` cost matrix
agent-major, the ``m x n`` resource matrix, then ``m`` capacities.  Yagiura's
files hold one instance without ``P``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from allocator.outcome import Outcome, WithOutcome
from solvers import SolveOptions, SolverResult, Status, get_backend

__all__ = [
    "GapInstance",
    "GapProblem",
    "GapSolution",
    "build_gap_problem",
    "gap_columns",
    "read_orlib_gap",
    "read_yagiura_gap",
    "solve_gap",
]


def _frozen_array(values: object, name: str, owner: str) -> np.ndarray:
    arr = np.array(values)  # a copy: the caller's array may change later
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{owner}: {name} must be numeric, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{owner}: {name} has non-finite values")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class GapInstance:
    """One GAP instance (frozen; its arrays are read-only copies).

    Parameters
    ----------
    name : str
        Label, e.g. ``gap1-1`` or ``c10400``.
    c : array_like
        Cost (min) or profit (max) of job ``j`` on agent ``i``, shape (m, n).
    a : array_like
        Capacity used by job ``j`` on agent ``i``, shape (m, n), ``>= 0``.
    b : array_like
        Capacity of each agent, shape (m,), ``>= 0``.

    Raises
    ------
    ValueError
        On wrong shapes, non-numeric or non-finite values, or negative
        resource use or capacity.
    """

    name: str
    c: np.ndarray
    a: np.ndarray
    b: np.ndarray

    def __post_init__(self) -> None:
        c = _frozen_array(self.c, "c", self.name)
        a = _frozen_array(self.a, "a", self.name)
        b = _frozen_array(self.b, "b", self.name)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
            raise ValueError(f"{self.name}: c must be a non-empty m x n matrix, got shape {c.shape}")
        if a.shape != c.shape:
            raise ValueError(f"{self.name}: a has shape {a.shape}, c has {c.shape}")
        if b.shape != (c.shape[0],):
            raise ValueError(f"{self.name}: b has shape {b.shape}, expected ({c.shape[0]},)")
        if (a < 0).any() or (b < 0).any():
            raise ValueError(f"{self.name}: resource use a and capacities b must be >= 0")
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)

    @property
    def m(self) -> int:
        """Number of agents."""
        return int(self.c.shape[0])

    @property
    def n(self) -> int:
        """Number of jobs."""
        return int(self.c.shape[1])

    def objective(self, assignment: np.ndarray) -> float:
        """Objective of an assignment (``-1`` = job left unassigned).

        Parameters
        ----------
        assignment : numpy.ndarray
            Agent of each job, shape (n,).

        Returns
        -------
        float
            ``sum_j c[assignment[j], j]`` over assigned jobs.
        """
        assignment = np.asarray(assignment)
        jobs = np.flatnonzero(assignment >= 0)
        return float(self.c[assignment[jobs], jobs].sum())


# --------------------------------------------------------------------------- readers


def _read_tokens(path: Path) -> np.ndarray:
    text = Path(path).read_text()
    tokens = text.split()
    try:
        return np.array(tokens, dtype=np.int64)
    except ValueError:
        for pos, tok in enumerate(tokens):
            try:
                int(tok)
            except ValueError:
                raise ValueError(
                    f"{path}: token {pos + 1} ({tok!r}) is not an integer; GAP files hold only integers"
                ) from None
        raise  # pragma: no cover - numpy and int() disagree


def _take_instance(tokens: np.ndarray, pos: int, path: Path, label: str, name: str) -> tuple[GapInstance, int]:
    """Parse ``m n c a b`` starting at ``pos``; return the instance and the next position."""
    total = len(tokens)
    if pos + 2 > total:
        raise ValueError(
            f"{path}: {label} needs 'm n' at token {pos + 1}, but the file has only {total} tokens"
        )
    m, n = int(tokens[pos]), int(tokens[pos + 1])
    if m < 1 or n < 1:
        raise ValueError(f"{path}: {label} has m={m}, n={n} at token {pos + 1}; both must be >= 1")
    need = 2 + 2 * m * n + m
    if pos + need > total:
        raise ValueError(
            f"{path}: {label} (m={m}, n={n}) needs {need} tokens (2 + 2*m*n + m) from token {pos + 1}, "
            f"but only {total - pos} remain (the file has {total} tokens)"
        )
    p = pos + 2
    c = tokens[p:p + m * n].reshape(m, n)
    p += m * n
    a = tokens[p:p + m * n].reshape(m, n)
    p += m * n
    b = tokens[p:p + m]
    return GapInstance(name, c, a, b), p + m


def read_orlib_gap(path: str | Path) -> list[GapInstance]:
    """Read an OR-Library GAP file (``gap1.txt`` ... ``gap12.txt``, ``gapa.txt`` ...).

    The file is read as a flat stream of integers: ``P``, then ``P`` times
    ``m n``, ``c`` (m*n, agent-major), ``a`` (m*n), ``b`` (m).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    list of GapInstance
        In file order, named ``<stem>-<k>`` with ``k`` counted from 1
        (``gap1-1`` is OR-Library's c515-1).

    Raises
    ------
    ValueError
        If a token is not an integer, the file is too short for the sizes it
        declares, or tokens are left over; the message names the file and
        the token counts.
    """
    path = Path(path)
    tokens = _read_tokens(path)
    if len(tokens) == 0:
        raise ValueError(f"{path}: empty file; expected the instance count P")
    count = int(tokens[0])
    if count < 1:
        raise ValueError(f"{path}: instance count P = {count} must be >= 1")
    pos, out = 1, []
    for k in range(1, count + 1):
        inst, pos = _take_instance(tokens, pos, path, f"instance {k} of {count}", f"{path.stem}-{k}")
        out.append(inst)
    if pos != len(tokens):
        raise ValueError(
            f"{path}: {len(tokens)} tokens, but P={count} instances use {pos} "
            f"(1 + sum of 2 + 2*m*n + m); {len(tokens) - pos} left over"
        )
    return out


def read_yagiura_gap(path: str | Path) -> GapInstance:
    """Read a single-instance GAP file (Yagiura's ``c10400`` ... format).

    Same layout as one OR-Library instance, without the leading ``P``.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    GapInstance
        Named after the file (``c10400``).

    Raises
    ------
    ValueError
        If a token is not an integer or the token count is not
        ``2 + 2*m*n + m``; the message names the file and the counts.
    """
    path = Path(path)
    tokens = _read_tokens(path)
    inst, pos = _take_instance(tokens, 0, path, "the instance", path.stem)
    if pos != len(tokens):
        raise ValueError(
            f"{path}: {len(tokens)} tokens, but m={inst.m}, n={inst.n} use 2 + 2*m*n + m = {pos}; "
            f"{len(tokens) - pos} left over"
        )
    return inst


# --------------------------------------------------------------------------- model


def _job_flags(optional: bool | np.ndarray, n: int) -> np.ndarray:
    flags = np.broadcast_to(np.asarray(optional, dtype=bool), (n,))
    return np.array(flags)


@dataclass(frozen=True, eq=False)
class GapProblem:
    """A GAP instance with the modelling choices around it.

    Parameters
    ----------
    instance : GapInstance
        Data.
    sense : str
        ``"max"`` (``c`` is a profit) or ``"min"`` (``c`` is a cost).
    optional : bool or numpy.ndarray
        True (or per job, shape (n,)) when a job may stay unassigned: its
        row becomes ``<= 1``.  Unassigned jobs show as ``-1``.
    eligible : numpy.ndarray, optional
        Boolean (m, n): pairs allowed at all.  Ineligible pairs get no
        column.
    """

    instance: GapInstance
    sense: str = "min"
    optional: bool | np.ndarray = False
    eligible: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.sense not in ("max", "min"):
            raise ValueError(f"sense must be 'max' or 'min', not {self.sense!r}")
        shape = self.instance.c.shape
        if self.eligible is not None and np.shape(self.eligible) != shape:
            raise ValueError(f"eligible has shape {np.shape(self.eligible)}, expected {shape}")
        np.broadcast_to(np.asarray(self.optional, dtype=bool), (self.instance.n,))  # raises on bad shape

    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Agent and job of every column (see :func:`gap_columns`)."""
        return gap_columns(self.instance, self.eligible)

    def unplaceable_jobs(self) -> np.ndarray:
        """Required jobs that no usable (agent, job) pair can take."""
        _, jobs = self.columns()
        has = np.zeros(self.instance.n, dtype=bool)
        has[jobs] = True
        return np.flatnonzero(~has & ~_job_flags(self.optional, self.instance.n))

    def to_milp(self, names: bool = False):  # type: ignore[no-untyped-def]
        """The :class:`solvers.MilpProblem` of the formulation in the module docstring.

        Parameters
        ----------
        names : bool
            Attach names ``x[i,j]``, ``job[j]``, ``cap[i]`` (for writing files).

        Returns
        -------
        solvers.MilpProblem
        """
        from solvers import MilpProblem

        inst = self.instance
        m, n = inst.m, inst.n
        agents, jobs = self.columns()
        k = agents.size
        cols = np.arange(k)
        use = inst.a[agents, jobs].astype(np.float64)
        nz = use != 0  # zero resource use needs no entry in the capacity row
        rows = np.concatenate([jobs, n + agents[nz]])
        A = sp.csr_array(
            (np.concatenate([np.ones(k), use[nz]]), (rows, np.concatenate([cols, cols[nz]]))),
            shape=(n + m, k),
        )
        A.sort_indices()
        optional = _job_flags(self.optional, n)
        row_lower = np.concatenate([np.where(optional, 0.0, 1.0), np.full(m, -np.inf)])
        row_upper = np.concatenate([np.ones(n), inst.b.astype(np.float64)])
        col_names = row_names = None
        if names:
            col_names = tuple(f"x[{i},{j}]" for i, j in zip(agents.tolist(), jobs.tolist(), strict=True))
            row_names = tuple([f"job[{j}]" for j in range(n)] + [f"cap[{i}]" for i in range(m)])
        return MilpProblem(
            c=inst.c[agents, jobs].astype(np.float64),
            A=A,
            row_lower=row_lower,
            row_upper=row_upper,
            col_lower=np.zeros(k),
            col_upper=np.ones(k),
            integrality=np.ones(k, dtype=bool),
            sense=self.sense,
            col_names=col_names,
            row_names=row_names,
        )

    def solve(self, backend: str = "highs", options: SolveOptions | None = None,
              guard: bool = False) -> GapSolution:
        """Solve with a registered backend.

        Parameters
        ----------
        backend : str
            Registry name (``highs``, ``cbc``, ``ortools-scip``, ``cpsat``).
        options : SolveOptions, optional
            Defaults to ``SolveOptions(mip_gap=0.0)``: GAP objectives are
            usually integers, and a relative gap of 1e-4 on an objective of
            20,000 would accept a plan 2 units off the optimum.
        guard : bool
            Run the solve in a child process stopped at ``time_limit`` plus a
            grace period (:func:`solvers.guard.solve_guarded`).

        Returns
        -------
        GapSolution
        """
        options = options if options is not None else SolveOptions(mip_gap=0.0)
        start = time.perf_counter()
        missing = self.unplaceable_jobs()
        if missing.size:
            shown = ", ".join(str(j) for j in missing[:10]) + (" ..." if missing.size > 10 else "")
            return GapSolution(
                Outcome(Status.INFEASIBLE, None, None, None, backend, time.perf_counter() - start,
                        f"{missing.size} required job(s) fit no eligible agent: {shown}"),
                np.full(self.instance.n, -1),
            )
        problem = self.to_milp()
        if guard:
            from solvers.guard import solve_guarded

            result = solve_guarded(backend, problem, options)
        else:
            result = get_backend(backend).solve(problem, options)
        return self.solution_from_result(result, time.perf_counter() - start, backend)

    def solution_from_result(self, result: SolverResult, seconds: float, backend: str) -> GapSolution:
        """Turn a backend's result on :meth:`to_milp` into a :class:`GapSolution`.

        Parameters
        ----------
        result : solvers.SolverResult
            What the backend returned for this problem's model.
        seconds : float
            Wall clock to report.
        backend : str
            Backend name to report.

        Returns
        -------
        GapSolution
            The assignment read from the chosen columns; ``ERROR`` if the
            plan gives a job twice.
        """
        assignment = np.full(self.instance.n, -1, dtype=np.int64)
        objective = None
        status = result.status
        message = result.message
        if status.has_solution and result.x is not None:
            agents, jobs = self.columns()
            chosen = result.x > 0.5
            counts = np.bincount(jobs[chosen], minlength=self.instance.n)
            if (counts > 1).any():  # a backend's plan is checked, but not trusted blindly
                j = int(np.flatnonzero(counts > 1)[0])
                return GapSolution(Outcome(Status.ERROR, None, None, None, backend, seconds,
                                           f"solver plan assigns job {j} {counts[j]} times; {message}"), assignment)
            assignment[jobs[chosen]] = agents[chosen]
            objective = self.instance.objective(assignment)
        return GapSolution(Outcome(status, objective, result.bound, result.gap, backend, seconds, message),
                           assignment, raw=result)


@dataclass(frozen=True, eq=False)
class GapSolution(WithOutcome):
    """Result of :func:`solve_gap`.

    Parameters
    ----------
    outcome : allocator.outcome.Outcome
        Status (OPTIMAL only when proven), objective (recomputed from ``c`` and ``assignment``), the
        solver's bound, the relative gap, the backend, wall clock of build and solve, the solver's message.
    assignment : numpy.ndarray
        Agent of each job, ``-1`` when unassigned (or no plan).
    raw : solvers.SolverResult, optional
        The backend's full result.

    The properties ``status``, ``objective``, ``bound``, ``gap``, ``seconds``, ``backend`` and ``message``
    read the outcome.
    """

    outcome: Outcome
    assignment: np.ndarray
    raw: SolverResult | None = field(default=None, repr=False)


    @property
    def backend(self) -> str:
        """Backend used."""
        return self.outcome.solver


def gap_columns(inst: GapInstance, eligible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Agent and job index of every column of the GAP model.

    A pair gets a column when it is eligible and ``a[i, j] <= b[i]``.

    Parameters
    ----------
    inst : GapInstance
        Data.
    eligible : numpy.ndarray, optional
        Boolean (m, n) mask of allowed pairs.

    Returns
    -------
    tuple of numpy.ndarray
        ``(agents, jobs)``, agent-major order.
    """
    mask = inst.a <= inst.b[:, None]
    if eligible is not None:
        mask &= np.asarray(eligible, dtype=bool)
    agents, jobs = np.nonzero(mask)
    return agents.astype(np.int64), jobs.astype(np.int64)


def build_gap_problem(inst: GapInstance, sense: str, *, optional: bool | np.ndarray = False,
                      eligible: np.ndarray | None = None, names: bool = False):  # type: ignore[no-untyped-def]
    """Build the GAP model of the module docstring as a :class:`solvers.MilpProblem`.

    Parameters
    ----------
    inst : GapInstance
        Data.
    sense : str
        ``"max"`` or ``"min"``.
    optional : bool or numpy.ndarray
        Jobs that may stay unassigned (all, or per job).
    eligible : numpy.ndarray, optional
        Boolean (m, n) mask of allowed pairs.
    names : bool
        Attach row and column names.

    Returns
    -------
    solvers.MilpProblem
        Columns as :func:`gap_columns`; rows: ``n`` job rows then ``m``
        capacity rows.
    """
    return GapProblem(inst, sense, optional, eligible).to_milp(names=names)


def solve_gap(inst: GapInstance, sense: str, backend: str = "highs", options: SolveOptions | None = None,
              *, optional: bool | np.ndarray = False, eligible: np.ndarray | None = None,
              guard: bool = False) -> GapSolution:
    """Solve a GAP instance.

    Parameters
    ----------
    inst : GapInstance
        Data.
    sense : str
        ``"max"`` or ``"min"``.
    backend : str
        Registry name of the solver backend.
    options : SolveOptions, optional
        Defaults to ``SolveOptions(mip_gap=0.0)`` (exact optimum).
    optional : bool or numpy.ndarray
        Jobs that may stay unassigned.
    eligible : numpy.ndarray, optional
        Boolean (m, n) mask of allowed pairs.
    guard : bool
        Solve in a child process with a hard wall-clock stop.

    Returns
    -------
    GapSolution
    """
    return GapProblem(inst, sense, optional, eligible).solve(backend, options, guard=guard)
