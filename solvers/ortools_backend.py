"""OR-Tools backends: SCIP through ``pywraplp`` and the CP-SAT solver.

``ortools-scip`` (alias ``ortools``)
    SCIP (MIP and LP).  The model is handed over as one ``MPModelProto``
    built from the CSR arrays with bulk ``extend`` calls, then loaded with
    ``Solver.LoadModelFromProto``; on a 128,000-column model that took half the
    time of one SWIG ``SetCoefficient`` call per non-zero.
``cpsat``
    CP-SAT, for *pure integer* programmes only.  CP-SAT works on integers:
    every column must be integer with finite bounds, and every row and the
    objective must have integral coefficients after scaling by some
    ``10**k`` (``k <= 6``); otherwise the backend returns ``ERROR`` saying
    why.  A scaled row keeps its meaning exactly: with integral coefficients
    and integer columns, ``lower <= a x`` is the same as ``ceil(lower) <= a x``.
    CP-SAT cannot prove unboundedness (its domains are finite), hence its own
    feature ``Feature.INTEGER_ONLY`` instead of ``Feature.MILP``.

Both return a plan only after checking it against the problem
(:func:`solvers.check.plan_is_valid`), and an OPTIMAL status only when
the reported bound confirms the asked gap (:func:`solvers.base.confirm_optimal`).

Time: the solver's own limit is the time left (:func:`solvers.deadline.solver_limit`);
at the guard's time (:func:`solvers.deadline.stop_at`) a timer thread calls
SCIP's ``InterruptSolve`` or CP-SAT's ``stop_search``, after which both return
the best plan they hold (FEASIBLE, with its bound).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np

from solvers import register
from solvers.base import (
    BackendBase,
    Feature,
    MilpProblem,
    SolveOptions,
    SolverResult,
    Status,
    Termination,
    confirm_optimal,
    map_status,
    relative_gap,
)
from solvers.check import plan_is_valid
from solvers.deadline import solver_limit, stop_at

_MAX_DECIMALS = 6  # scale factors tried for CP-SAT: 10**0 .. 10**6
_INT_ABS_MAX = 2**53  # larger column bounds or scaled values are not exact in a double


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def _err(name: str, start: float, message: str) -> SolverResult:
    return SolverResult(
        Status.ERROR, solver=name, message=message, seconds=time.perf_counter() - start,
    )


class _Interrupter:
    """Calls ``interrupt`` (thread-safe in both solvers) at ``stop`` on the monotonic clock."""

    def __init__(self, stop: float | None, interrupt: Callable[[], object]) -> None:
        self.fired = False
        self._interrupt = interrupt
        self._timer: threading.Timer | None = None
        if stop is not None:
            self._timer = threading.Timer(max(0.0, stop - time.monotonic()), self._fire)
            self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        self._interrupt()

    def __enter__(self) -> _Interrupter:
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


_GUARD_NOTE = " (interrupted by the wall-clock guard)"


# --------------------------------------------------------------------------- SCIP


def _mp_model(problem: MilpProblem):  # type: ignore[no-untyped-def]
    """The ``MPModelProto`` of ``problem`` (offset left out: it is added back to objective and bound)."""
    from ortools.linear_solver import linear_solver_pb2

    proto = linear_solver_pb2.MPModelProto()
    proto.maximize = problem.sense == "max"
    lo, up = problem.col_lower.tolist(), problem.col_upper.tolist()
    c, integ = np.asarray(problem.c, dtype=np.float64).tolist(), problem.integrality.tolist()
    add_var = proto.variable.add
    for j in range(problem.num_cols):
        add_var(lower_bound=lo[j], upper_bound=up[j], objective_coefficient=c[j], is_integer=integ[j])
    A = problem.A.tocsr()
    indptr, indices, data = A.indptr, A.indices.tolist(), A.data.astype(np.float64).tolist()
    rlo, rup = problem.row_lower.tolist(), problem.row_upper.tolist()
    add_row = proto.constraint.add
    for i in range(problem.num_rows):
        s, e = int(indptr[i]), int(indptr[i + 1])
        row = add_row(lower_bound=rlo[i], upper_bound=rup[i])
        row.var_index.extend(indices[s:e])
        row.coefficient.extend(data[s:e])
    return proto


class OrtoolsScipBackend(BackendBase):
    """SCIP via OR-Tools' ``pywraplp`` (MIP and LP; time limit, gap, threads, seed; incumbent on a limit)."""

    features = frozenset({Feature.LP, Feature.MILP, Feature.TIME_LIMIT, Feature.MIP_GAP, Feature.THREADS,
                          Feature.SEED, Feature.WRITE_MPS, Feature.WRITE_LP, Feature.INCUMBENT_ON_LIMIT})

    def __init__(self, name: str = "ortools-scip") -> None:
        self.name = name

    def available(self) -> bool:
        """Whether the solver can run on this machine."""
        try:
            from ortools.linear_solver import pywraplp
        except ImportError:
            return False
        return pywraplp.Solver.CreateSolver("SCIP") is not None

    def version(self) -> str:
        """Version of the underlying solver."""
        from ortools.linear_solver import pywraplp

        solver = pywraplp.Solver.CreateSolver("SCIP")
        scip = solver.SolverVersion() if solver is not None else "SCIP unavailable"
        return f"ortools {_version('ortools')}, {scip}"

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        """Solve ``problem``; a solver failure is returned as ``ERROR``, never raised.

        Parameters
        ----------
        problem : MilpProblem
            The problem.
        options : SolveOptions
            Time limit, gap, threads, seed, verbosity.

        Returns
        -------
        SolverResult
            Normalised status; a plan only after it passed :func:`plan_is_valid`.
        """
        start = time.perf_counter()
        try:
            return self._solve(problem, options, start)
        except Exception as exc:  # a solver failure is a status, not a crash
            return _err(self.name, start, f"{type(exc).__name__}: {exc}")

    def _solve(self, problem: MilpProblem, options: SolveOptions, start: float) -> SolverResult:
        started = time.monotonic() - (time.perf_counter() - start)  # the call's start, on the deadline's clock
        from ortools.linear_solver import linear_solver_pb2, pywraplp

        solver = pywraplp.Solver.CreateSolver("SCIP")
        if solver is None:
            return _err(self.name, start, "this OR-Tools build has no SCIP")
        error = solver.LoadModelFromProto(_mp_model(problem))
        if error:
            return _err(self.name, start, f"OR-Tools rejected the model: {error}")
        if options.verbose:
            solver.EnableOutput()
        else:
            solver.SuppressOutput()
        limit = solver_limit(options.time_limit, options.deadline, started)
        if limit is not None:
            solver.SetTimeLimit(max(1, int(math.ceil(limit * 1000))))
        threads_ok = solver.SetNumThreads(int(options.threads))
        solver.SetSolverSpecificParametersAsString(
            f"randomization/randomseedshift = {int(options.seed)}\n"
        )
        params = pywraplp.MPSolverParameters()
        if problem.is_mip:
            params.SetDoubleParam(params.RELATIVE_MIP_GAP, float(options.mip_gap))
        with _Interrupter(stop_at(options.time_limit, options.deadline, started), solver.InterruptSolve) as guard:
            code = solver.Solve(params)
        seconds = time.perf_counter() - start

        S = pywraplp.Solver
        raw = {S.OPTIMAL: "OPTIMAL", S.FEASIBLE: "FEASIBLE", S.INFEASIBLE: "INFEASIBLE",
               S.UNBOUNDED: "UNBOUNDED", S.ABNORMAL: "ABNORMAL", S.MODEL_INVALID: "MODEL_INVALID",
               S.NOT_SOLVED: "NOT_SOLVED"}.get(code, str(code))
        termination = {
            S.OPTIMAL: Termination.OPTIMAL, S.FEASIBLE: Termination.LIMIT, S.INFEASIBLE: Termination.INFEASIBLE,
            S.UNBOUNDED: Termination.UNBOUNDED, S.NOT_SOLVED: Termination.LIMIT,
        }.get(code, Termination.ERROR)
        if code == S.ABNORMAL and guard.fired:
            termination = Termination.LIMIT  # interrupted before SCIP had anything to say: no plan
        # An LP stopped early has no checked plan.
        status = map_status(termination, code == S.OPTIMAL or (code == S.FEASIBLE and problem.is_mip))
        message = raw if threads_ok else f"{raw}; SCIP ignored threads={options.threads}"
        if guard.fired:
            message += _GUARD_NOTE
        x = objective = bound = None
        if status.has_solution:
            response = linear_solver_pb2.MPSolutionResponse()
            solver.FillSolutionResponseProto(response)
            x = np.asarray(response.variable_value, dtype=np.float64)
            ok, where = plan_is_valid(problem, x)
            if not ok:
                return _err(self.name, start, f"SCIP returned a plan that fails the check: {where}")
            if problem.is_mip:
                x = np.where(problem.integrality, np.round(x), x)
                bound = float(solver.Objective().BestBound()) + float(problem.offset)
                if not math.isfinite(bound):
                    bound = None
            objective = problem.objective_value(x)
            if not problem.is_mip and status == Status.OPTIMAL:
                bound = objective
            status, note = confirm_optimal(status, problem, options, objective, bound)
            message = note + message
        return SolverResult(
            status, x=x, objective=objective, bound=bound, gap=relative_gap(objective, bound),
            solver=self.name, solver_version=self.version(), seconds=seconds, message=message,
            raw_status=raw, extra={"nodes": int(solver.nodes()) if problem.is_mip else 0,
                                   "guard_interrupted": guard.fired},
        )


# --------------------------------------------------------------------------- CP-SAT


def integer_scale(values: np.ndarray, groups: np.ndarray | None = None,
                  n_groups: int = 1) -> np.ndarray:
    """Smallest ``10**k`` (``k <= 6``) making each group of values integral.

    Parameters
    ----------
    values : numpy.ndarray
        Float values, shape (k,).
    groups : numpy.ndarray, optional
        Group index of each value (e.g. its row); all in group 0 if omitted.
    n_groups : int
        Number of groups.

    Returns
    -------
    numpy.ndarray
        Scale per group, shape (n_groups,); ``nan`` where no ``10**k`` works.
    """
    if groups is None:
        groups = np.zeros(values.shape, dtype=np.intp)
    scale = np.full(n_groups, np.nan)
    for k in range(_MAX_DECIMALS + 1):
        s = 10.0**k
        v = values * s
        err = np.abs(v - np.round(v)) / np.maximum(1.0, np.abs(v))
        bad = np.zeros(n_groups, dtype=bool)
        np.logical_or.at(bad, groups, (err > 1e-9) | (np.abs(v) > _INT_ABS_MAX))
        scale[np.isnan(scale) & ~bad] = s
        if not np.isnan(scale).any():
            break
    return scale


class CpSatBackend(BackendBase):
    """CP-SAT for pure integer programmes (time limit, gap, threads, seed; incumbent on a limit).

    ``Feature.INTEGER_ONLY``: integer columns with finite bounds and coefficients that
    are integral after a decimal scaling.  Anything else is returned as
    ``ERROR`` with the reason.  Model files are written by the shared writer.
    """

    name = "cpsat"
    features = frozenset({Feature.INTEGER_ONLY, Feature.TIME_LIMIT, Feature.MIP_GAP, Feature.THREADS,
                          Feature.SEED, Feature.WRITE_MPS, Feature.WRITE_LP, Feature.INCUMBENT_ON_LIMIT})

    def available(self) -> bool:
        """Whether the solver can run on this machine."""
        try:
            from ortools.sat.python import cp_model  # noqa: F401
        except ImportError:
            return False
        return True

    def version(self) -> str:
        """Version of the underlying solver."""
        return f"ortools {_version('ortools')} CP-SAT"

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        """Solve ``problem``; a solver failure is returned as ``ERROR``, never raised.

        Parameters
        ----------
        problem : MilpProblem
            The problem.
        options : SolveOptions
            Time limit, gap, threads, seed, verbosity.

        Returns
        -------
        SolverResult
            Normalised status; a plan only after it passed :func:`plan_is_valid`.
        """
        start = time.perf_counter()
        try:
            return self._solve(problem, options, start)
        except Exception as exc:  # a solver failure is a status, not a crash
            return _err(self.name, start, f"{type(exc).__name__}: {exc}")

    def _solve(self, problem: MilpProblem, options: SolveOptions, start: float) -> SolverResult:
        started = time.monotonic() - (time.perf_counter() - start)  # the call's start, on the deadline's clock
        from ortools.sat.python import cp_model

        n = problem.num_cols
        if not problem.integrality.all():
            k = int(np.flatnonzero(~problem.integrality)[0])
            return _err(self.name, start, f"cpsat needs integer columns only; column {k} is continuous")
        lo = np.ceil(problem.col_lower - 1e-9)
        up = np.floor(problem.col_upper + 1e-9)
        unbounded = ~(np.isfinite(lo) & np.isfinite(up)) | (np.abs(lo) > _INT_ABS_MAX) | (
            np.abs(up) > _INT_ABS_MAX
        )
        if unbounded.any():
            k = int(np.flatnonzero(unbounded)[0])
            return _err(self.name, start, f"cpsat needs finite column bounds (|bound| <= 2**53); "
                        f"column {k} has [{problem.col_lower[k]}, {problem.col_upper[k]}]")
        if (lo > up).any():
            k = int(np.flatnonzero(lo > up)[0])
            return SolverResult(Status.INFEASIBLE, solver=self.name, solver_version=self.version(),
                                seconds=time.perf_counter() - start,
                                message=f"column {k} has no integer value within its bounds")

        A = problem.A.tocsr()
        A.sum_duplicates()
        rows_of_nz = np.repeat(np.arange(problem.num_rows), np.diff(A.indptr))
        row_scale = integer_scale(A.data.astype(np.float64), rows_of_nz, problem.num_rows)
        if np.isnan(row_scale).any():
            i = int(np.flatnonzero(np.isnan(row_scale))[0])
            return _err(self.name, start, f"cpsat needs integral coefficients: row {i} stays "
                        f"fractional after scaling by up to 10**{_MAX_DECIMALS}")
        obj_scale = float(integer_scale(np.asarray(problem.c, dtype=np.float64))[0])
        if math.isnan(obj_scale):
            return _err(self.name, start, "cpsat needs integral objective coefficients: the "
                        f"objective stays fractional after scaling by up to 10**{_MAX_DECIMALS}")

        coef = np.round(A.data * row_scale[rows_of_nz]).astype(np.int64).tolist()
        with np.errstate(invalid="ignore"):
            rlo = np.ceil(problem.row_lower * row_scale - 1e-9)
            rup = np.floor(problem.row_upper * row_scale + 1e-9)
        model = cp_model.CpModel()
        lo_l, up_l = lo.astype(np.int64).tolist(), up.astype(np.int64).tolist()
        xs = [model.new_int_var(lo_l[j], up_l[j], "") for j in range(n)]
        indices, indptr = A.indices.tolist(), A.indptr
        weighted_sum = cp_model.LinearExpr.weighted_sum
        for i in range(problem.num_rows):
            s, e = int(indptr[i]), int(indptr[i + 1])
            lo_i, up_i = rlo[i], rup[i]
            if not (math.isfinite(lo_i) or math.isfinite(up_i)):
                continue  # a free row constrains nothing
            lo_i = int(max(lo_i, cp_model.INT_MIN + 1)) if math.isfinite(lo_i) else cp_model.INT_MIN
            up_i = int(min(up_i, cp_model.INT_MAX - 1)) if math.isfinite(up_i) else cp_model.INT_MAX
            if s == e:  # empty row: 0 must lie in [lo, up]
                if lo_i > 0 or up_i < 0:
                    return SolverResult(Status.INFEASIBLE, solver=self.name, solver_version=self.version(),
                                        seconds=time.perf_counter() - start,
                                        message=f"row {i} is empty and excludes 0")
                continue
            expr = weighted_sum([xs[k] for k in indices[s:e]], coef[s:e])
            model.add_linear_constraint(expr, lo_i, up_i)
        c_int = np.round(np.asarray(problem.c, dtype=np.float64) * obj_scale).astype(np.int64)
        nz = np.flatnonzero(c_int)
        if nz.size:
            obj = weighted_sum([xs[j] for j in nz.tolist()], c_int[nz].tolist())
            if problem.sense == "max":
                model.maximize(obj)
            else:
                model.minimize(obj)
        invalid = model.validate()
        if invalid:
            return _err(self.name, start, f"CP-SAT rejected the model: {invalid}")

        solver = cp_model.CpSolver()
        p = solver.parameters
        limit = solver_limit(options.time_limit, options.deadline, started)
        if limit is not None:
            p.max_time_in_seconds = float(limit)
        p.num_workers = max(1, int(options.threads))
        p.random_seed = int(options.seed)
        p.relative_gap_limit = float(options.mip_gap)
        p.log_search_progress = bool(options.verbose)
        with _Interrupter(stop_at(options.time_limit, options.deadline, started), solver.stop_search) as guard:
            code = solver.solve(model)
        seconds = time.perf_counter() - start
        raw = solver.status_name(code)

        termination = {
            cp_model.OPTIMAL: Termination.OPTIMAL, cp_model.FEASIBLE: Termination.LIMIT,
            cp_model.INFEASIBLE: Termination.INFEASIBLE, cp_model.UNKNOWN: Termination.LIMIT,
        }.get(code, Termination.ERROR)  # MODEL_INVALID and anything new
        status = map_status(termination, code in (cp_model.OPTIMAL, cp_model.FEASIBLE))
        message = raw + (_GUARD_NOTE if guard.fired else "")
        x = objective = bound = None
        if status.has_solution:
            # The response's repeated field takes no slices; the first n entries are our columns.
            x = np.asarray(list(solver.response_proto.solution), dtype=np.float64)[:n]
            ok, where = plan_is_valid(problem, x)
            if not ok:
                return _err(self.name, start, f"CP-SAT returned a plan that fails the check: {where}")
            objective = problem.objective_value(x)
            # Without an objective any plan is optimal, so the bound is the objective.
            bound = (float(solver.best_objective_bound) / obj_scale + float(problem.offset)
                     if nz.size else objective)
            status, note = confirm_optimal(status, problem, options, objective, bound)
            message = note + message
        elif status == Status.ERROR:
            message = f"{raw}: {solver.solution_info()}"
        return SolverResult(
            status, x=x, objective=objective, bound=bound, gap=relative_gap(objective, bound),
            solver=self.name, solver_version=self.version(), seconds=seconds, message=message,
            raw_status=raw, extra={"objective_scale": obj_scale, "guard_interrupted": guard.fired},
        )


register(OrtoolsScipBackend("ortools-scip"))
register(OrtoolsScipBackend("ortools"))  # plain alias of the SCIP backend
register(CpSatBackend())
