"""HiGHS through highspy, fed the matrix directly (no modelling layer).

The numpy overload of ``Highs.passModel`` is used: SOLVER-NOTES measured it
about 6x faster than filling a ``HighsLp`` with Python lists.

Under a time limit or a deadline HiGHS runs guarded (:class:`_Guard`): a MIP's
improving solutions are recorded through ``cbMipImprovingSolution``, and the
simplex, IPM and MIP interrupt callbacks stop the solve once the guard's time
(:func:`solvers.deadline.stop_at`) has passed: HiGHS overruns its own
``time_limit`` in root cut separation (SOLVER-NOTES), an interrupt there still
returns the incumbent, reported FEASIBLE with its gap.  The solve runs in
highspy's solver thread; should HiGHS not come back by the give-up time
(:func:`solvers.deadline.give_up_at`; it checks no interrupt in presolve), the
recorded incumbent is returned (or no plan) and the solve is left to finish,
joined when the process exits.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

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
from solvers.deadline import give_up_at, solver_limit, stop_at

_INF = 1e30  # HiGHS' own infinity (kHighsInf) is inf; finite cap keeps MPS sane


_banner_silenced = False


def _quiet_highs():  # type: ignore[no-untyped-def]
    """A ``Highs`` object whose licence banner does not reach stdout.

    highspy prints a banner on the first construction in a process, straight
    to file descriptor 1, which would corrupt ``--json`` output.
    """
    global _banner_silenced
    import highspy

    if _banner_silenced:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _banner_silenced = True
    return h


def _new_highs(options: SolveOptions, time_limit: float | None = None):  # type: ignore[no-untyped-def]
    h = _quiet_highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("threads", int(options.threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if options.lp_method in ("simplex", "ipm"):
        # (interior point is 2-3x faster than simplex on the large LPs of the decomposition)
        h.setOptionValue("solver", options.lp_method)
    if not options.heuristics:
        # (on the decomposition's priced batches: 2.8 ms per station instead of 4.8, the same bound)
        for name in ("mip_heuristic_run_rins", "mip_heuristic_run_rens", "mip_heuristic_run_feasibility_jump",
                     "mip_heuristic_run_root_reduced_cost"):
            h.setOptionValue(name, False)
        h.setOptionValue("mip_heuristic_effort", 0.0)
    return h


def _pass(h, problem: MilpProblem) -> None:  # type: ignore[no-untyped-def]
    import highspy

    A = problem.A.tocsc()
    A.sort_indices()
    sense = highspy.ObjSense.kMaximize if problem.sense == "max" else highspy.ObjSense.kMinimize
    integrality = problem.integrality.astype(np.int32)  # 1 = kInteger
    status = h.passModel(
        problem.num_cols,
        problem.num_rows,
        int(A.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(sense),
        float(problem.offset),
        np.ascontiguousarray(problem.c, dtype=np.float64),
        np.ascontiguousarray(problem.col_lower, dtype=np.float64),
        np.ascontiguousarray(problem.col_upper, dtype=np.float64),
        np.ascontiguousarray(problem.row_lower, dtype=np.float64),
        np.ascontiguousarray(problem.row_upper, dtype=np.float64),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(np.float64),
        integrality,
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the model")


def _set_start(h: Any, problem: MilpProblem, start: np.ndarray) -> None:
    """Hand HiGHS a plan as its first incumbent (it fixes the integer columns and solves the LP left)."""
    import highspy

    x = np.asarray(start, dtype=np.float64)
    if x.shape != (problem.num_cols,):
        raise ValueError(f"the start has shape {x.shape}, expected ({problem.num_cols},)")
    sol = highspy.HighsSolution()
    sol.col_value = np.where(problem.integrality, np.round(x), x).tolist()
    sol.value_valid = True
    h.setSolution(sol)


class _Guard:
    """Records a MIP's incumbents and interrupts HiGHS once ``stop`` (monotonic) has passed."""

    def __init__(self, h: Any, stop: float, give_up: float,
                 on_incumbent: Callable[[np.ndarray | None, float | None, float | None], None] | None = None,
                 ) -> None:
        import highspy

        self.stop, self.give_up, self.on_incumbent = stop, give_up, on_incumbent
        self.x: np.ndarray | None = None
        self.objective: float | None = None
        self.bound: float | None = None
        self.interrupted = False
        self._mip_interrupt = highspy.cb.HighsCallbackType.kCallbackMipInterrupt
        self._sent = 0.0
        self._lock = threading.Lock()
        h.cbMipImprovingSolution.subscribe(self._improving)
        for cb in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
            cb.subscribe(self._interrupt)

    def _improving(self, e: Any) -> None:
        out = e.data_out
        with self._lock:
            self.x = np.array(out.mip_solution, dtype=np.float64, copy=True)
            self.objective = float(out.objective_function_value)
            self._note_bound(out)
        if self.on_incumbent is not None:
            self.on_incumbent(self.x, self.objective, self.bound)

    def _note_bound(self, out: Any) -> None:
        b = float(out.mip_dual_bound)
        if np.isfinite(b):
            self.bound = b

    def due(self) -> bool:
        """Whether the guard's time has passed."""
        return time.monotonic() >= self.stop

    def _interrupt(self, e: Any) -> None:
        if e.callback_type == self._mip_interrupt:
            with self._lock:
                before = self.bound
                self._note_bound(e.data_out)
            now = time.monotonic()
            if self.on_incumbent is not None and self.bound != before and now - self._sent > 0.25:
                self._sent = now
                self.on_incumbent(None, None, self.bound)  # the bound alone, at most four times a second
        if self.due():
            self.interrupted = True
            e.interrupt()

    def incumbent(self, problem: MilpProblem) -> tuple[np.ndarray, float] | None:
        """The last recorded incumbent, if it is a plan of ``problem``."""
        with self._lock:
            x = self.x
        if x is None or not problem.is_mip:
            return None
        ok, _ = plan_is_valid(problem, x)
        if not ok:
            return None
        x = np.where(problem.integrality, np.round(x), x)
        return x, problem.objective_value(x)

    def abandoned(self, problem: MilpProblem, name: str, version: str, seconds: float) -> SolverResult:
        """The result when HiGHS did not come back after the interrupt: the recorded incumbent."""
        note = (f"HiGHS did not return within {self.give_up - self.stop:.2g} s of the wall-clock guard's "
                "interrupt (busy where it checks none, e.g. presolve); its solve was left to finish")
        found = self.incumbent(problem)
        extra: dict[str, object] = {"guard_interrupted": True}
        if found is None:
            return SolverResult(Status.NO_SOLUTION, solver=name, solver_version=version, seconds=seconds,
                                message=f"{note}; no plan had been found", raw_status="abandoned", extra=extra)
        x, objective = found
        return SolverResult(Status.FEASIBLE, x=x, objective=objective, bound=self.bound,
                            gap=relative_gap(objective, self.bound), solver=name, solver_version=version,
                            seconds=seconds, message=f"{note}; best plan found so far", raw_status="abandoned",
                            extra=extra)


class _BusyError(Exception):
    """An earlier solve given up on had not ended by this one's give-up time."""


class _AbandonedError(Exception):
    def __init__(self, guard: _Guard) -> None:
        super().__init__("HiGHS did not return after the interrupt")
        self.guard = guard


# Solves given up on (HiGHS busy where it checks no interrupt, e.g. presolve), with the event their
# thread sets when HiGHS returns.  They are waited for at exit (they have been interrupted and end at
# HiGHS' next check): an interpreter that shuts down under a running HiGHS thread aborts ("terminate
# called without an active exception", exit 134) instead of exiting with the command's code.  A solve
# under a command's deadline runs in a child process instead (solvers.highs_child), stopped outright.
_ABANDONED: list[tuple[Any, threading.Event]] = []


def _join_abandoned() -> None:
    _settle_abandoned(None)


atexit.register(_join_abandoned)


def _settle_abandoned(until: float | None) -> bool:
    """Wait (until ``until``, monotonic; None: as long as it takes) for solves given up on to end.

    HiGHS does not run two solves at once in one process (a second one returns "Not Set" at once);
    an abandoned solve has been interrupted and ends at its next check.  Returns whether none is left.
    """
    while _ABANDONED:
        h, finished = _ABANDONED[-1]
        if not finished.wait(None if until is None else max(0.0, until - time.monotonic())):
            return False
        _ABANDONED.pop()
    return True


def _run(h: Any, guard: _Guard | None) -> None:
    """Run HiGHS; guarded, in a thread of its own, waited for until the guard's give-up time.

    The interrupt callbacks stop HiGHS at its next check once the guard's time has passed; HiGHS
    checks none during presolve, so a long presolve is given up on at the guard's ``give_up``
    time: the caller gets the incumbent recorded so far (or no plan), and the solve finishes
    in the background.  (Not highspy's ``startSolve``: its locks are class attributes, shared by
    every ``Highs`` object, so one solve given up on would block all later ones.)
    """
    if guard is None:
        _settle_abandoned(None)
        h.run()
        import highspy

        if h.getModelStatus() == highspy.HighsModelStatus.kNotset:
            # Seen in the test suite after guarded solves in other threads of the process: HiGHS
            # returned at once, "Not Set".  Its scheduler is reset and the solve run once more.
            highspy.Highs.resetGlobalScheduler(True)
            h.run()
        return
    if not _settle_abandoned(guard.give_up):
        raise _BusyError()
    finished = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        import highspy

        try:
            h.run()  # the C++ run, which releases the GIL
            # As highspy does after its own threaded solve: the scheduler state HiGHS keeps for this
            # thread must not outlive it (a later solve in the calling thread returned "Not Set").
            highspy.Highs.resetThreadScheduler(False)
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)
        finally:
            finished.set()

    threading.Thread(target=target, name="highs-guarded", daemon=True).start()
    if not finished.wait(max(0.0, guard.give_up - time.monotonic())):
        guard.interrupted = True
        _ABANDONED.append((h, finished))
        raise _AbandonedError(guard)
    if failure:
        raise failure[0]


class HighsBackend(BackendBase):
    """HiGHS (MIP and LP; duals on LPs; time limit, gap, threads, seed; incumbent on a limit)."""

    name = "highs"
    features = frozenset({Feature.LP, Feature.MILP, Feature.DUALS, Feature.TIME_LIMIT, Feature.MIP_GAP,
                          Feature.THREADS, Feature.SEED, Feature.WRITE_MPS, Feature.WRITE_LP,
                          Feature.INCUMBENT_ON_LIMIT, Feature.MIP_START})

    def available(self) -> bool:
        """Whether the solver can run on this machine."""
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def version(self) -> str:
        """Version of the underlying solver."""
        from importlib.metadata import version

        return version("highspy")

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        """Solve ``problem``; a solver failure is returned as ``ERROR``, never raised.

        Parameters
        ----------
        problem : MilpProblem
            The problem.
        options : SolveOptions
            Time limit, deadline, gap, threads, seed, verbosity, LP method, heuristics.

        Returns
        -------
        SolverResult
            Normalised status; stopped by the limit or the guard with a plan: FEASIBLE, its gap.
        """
        if options.deadline is not None and options.deadline.at is not None:
            from solvers.highs_child import can_fork, solve_in_child

            if can_fork():
                return solve_in_child(self, problem, options)
        return self.solve_here(problem, options)

    def solve_here(self, problem: MilpProblem, options: SolveOptions,
                   on_incumbent: Callable[[np.ndarray | None, float | None, float | None], None] | None = None,
                   ) -> SolverResult:
        """:meth:`solve` in this process (guarded in a thread under a limit); ``on_incumbent(x, objective,
        bound)`` is called with each improving MIP solution, and with ``(None, None, bound)`` when the
        dual bound moves."""
        import highspy

        start = time.perf_counter()
        started = time.monotonic()
        try:
            h = _new_highs(options, solver_limit(options.time_limit, options.deadline, started))
            _pass(h, problem)
            if options.start is not None and problem.is_mip:
                _set_start(h, problem, options.start)
            stop = stop_at(options.time_limit, options.deadline, started)
            give_up = give_up_at(options.time_limit, options.deadline, started)
            guard = None if stop is None or give_up is None else _Guard(h, stop, give_up, on_incumbent)
            _run(h, guard)
            ms = h.getModelStatus()
            if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible and not (guard and guard.interrupted):
                # Presolve could not tell which; without it the simplex can.
                h.setOptionValue("presolve", "off")
                left = solver_limit(options.time_limit, options.deadline, started)
                if left is not None:
                    h.setOptionValue("time_limit", left)
                _run(h, guard)
                ms = h.getModelStatus()
            return self._result(h, problem, options, ms, time.perf_counter() - start, guard)
        except _AbandonedError as stuck:
            return stuck.guard.abandoned(problem, self.name, self.version(), time.perf_counter() - start)
        except _BusyError:
            return SolverResult(
                Status.NO_SOLUTION, solver=self.name, solver_version=self.version(), raw_status="busy",
                seconds=time.perf_counter() - start, extra={"guard_interrupted": True},
                message="HiGHS was still busy with a solve given up on earlier (it runs one solve at a "
                        "time in a process) until this solve's time was up; no plan")
        except Exception as exc:  # a solver failure is a status, not a crash
            return SolverResult(
                Status.ERROR, solver=self.name, message=f"{type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - start,
            )

    def _result(self, h, problem, options, ms, seconds, guard):  # type: ignore[no-untyped-def]
        import highspy

        M = highspy.HighsModelStatus
        info = h.getInfo()
        raw = h.modelStatusToString(ms)
        has_primal = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
        x = None
        objective = None
        duals = None
        if has_primal:
            sol = h.getSolution()
            x = np.asarray(sol.col_value, dtype=np.float64)
            objective = float(info.objective_function_value)
            if not problem.is_mip and sol.dual_valid:
                duals = np.asarray(sol.row_dual, dtype=np.float64)
        elif guard is not None and (found := guard.incumbent(problem)) is not None:
            x, objective = found  # an incumbent HiGHS did not hand back itself
            has_primal = True
        # A MIP's proven bound; an LP's optimum is its own bound.
        bound: float | None = float(info.mip_dual_bound) if problem.is_mip else (
            objective if ms == M.kOptimal else None)
        if bound is not None and not np.isfinite(bound):
            bound = guard.bound if guard is not None else None
        termination = {
            M.kOptimal: Termination.OPTIMAL, M.kInfeasible: Termination.INFEASIBLE,
            M.kUnbounded: Termination.UNBOUNDED, M.kUnboundedOrInfeasible: Termination.INFEASIBLE_OR_UNBOUNDED,
            M.kTimeLimit: Termination.LIMIT, M.kIterationLimit: Termination.LIMIT,
            M.kSolutionLimit: Termination.LIMIT, M.kInterrupt: Termination.LIMIT,
            M.kObjectiveBound: Termination.LIMIT, M.kObjectiveTarget: Termination.LIMIT,
            M.kMemoryLimit: Termination.LIMIT,
        }.get(ms, Termination.ERROR)
        status = map_status(termination, has_primal)
        # HiGHS' own test is against mip_rel_gap; check it ourselves too.
        status, note = confirm_optimal(status, problem, options, objective, bound)
        gap = relative_gap(objective, bound)
        if not status.has_solution:
            x, objective, duals = None, None, None
            gap = None
        message = note + raw
        if guard is not None and guard.interrupted:
            message += " (interrupted by the wall-clock guard; best plan found so far)" if status.has_solution \
                else " (interrupted by the wall-clock guard; no plan had been found)"
        return SolverResult(
            status, x=x, objective=objective, bound=bound if status.has_solution else None,
            gap=gap, solver=self.name, solver_version=self.version(), seconds=seconds,
            message=message, row_duals=duals, raw_status=raw,
            extra={"guard_interrupted": bool(guard is not None and guard.interrupted)},
        )


register(HighsBackend())
