"""The decomposition's entry point: Lagrangian passes, plans, local search, the result."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from allocator.decompose.batches import BatchResult, BatchTask, Runner
from allocator.decompose.bound import (
    MIN_TASK_SECONDS,
    _first_multipliers,
    _global_caps,
    _global_term,
    _h,
    _project,
    _State,
    _task_limit,
    _tol,
)
from allocator.decompose.options import DecomposeOptions
from allocator.decompose.partition import Structure, partition
from allocator.decompose.primal import (
    _coupling_infeasible,
    _fix_globals,
    _local_search,
    _plan_by_split,
    _repair,
    _try_plan,
)
from allocator.outcome import Outcome, WithOutcome
from allocator.station import Model
from solvers import MilpProblem, SolveOptions, SolverResult, Status, get_backend
from solvers.base import relative_gap


@dataclass(frozen=True, eq=False)
class DecomposeResult(WithOutcome):
    """What the decomposition returns: its :class:`~allocator.outcome.Outcome`, the plan's column values and
    the run's record.

    The properties (``status``, ``objective``, ``bound``, ``gap``, ``seconds``, ``message``, ``solver``) read
    the outcome, so the result is used where a :class:`solvers.SolverResult` was.

    Parameters
    ----------
    outcome : Outcome
        Status, objective, bound, gap, ``decompose/<backend>``, seconds, message.
    x : ndarray or None
        Column values of the best plan.
    solver_version : str
        The batch backend's version.
    extra : dict
        ``history`` (bound and plan per pass), ``batches``, ``coupling_rows``, ``time_limit`` (the limit
        applied, seconds) and ``default_limit`` (whether it was the default).
    """

    outcome: Outcome
    x: np.ndarray | None = None
    solver_version: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    row_duals: np.ndarray | None = None  # (none: a decomposition has no duals of the whole model)


    @property
    def raw_status(self) -> str:
        """The status as text."""
        return self.outcome.status.value

    def to_solver_result(self) -> SolverResult:
        """The same as a :class:`solvers.SolverResult` (for code written against a backend's result)."""
        o = self.outcome
        return SolverResult(o.status, x=self.x, objective=o.objective, bound=o.bound, gap=o.gap, solver=o.solver,
                            solver_version=self.solver_version, seconds=o.seconds, message=o.message,
                            raw_status=o.status.value, extra=dict(self.extra))


def solve_decomposed(model: Model, county: np.ndarray, options: SolveOptions | None = None,
                     solver: str = "highs", dopts: DecomposeOptions | None = None,
                     on_pass: Callable[[dict[str, float]], None] | None = None) -> DecomposeResult:
    """Solve the station model by Lagrangian decomposition (see :mod:`allocator.decompose`).

    Parameters
    ----------
    model : Model
        The built station model.
    county : ndarray
        County of each station.
    options : SolveOptions
        ``mip_gap`` is the gap that counts as optimal, ``time_limit`` the wall-clock budget; without one,
        ``dopts.default_time_limit`` (300 s) applies: the run never goes unbounded.
    solver : str
        Backend for the batch problems.
    dopts : DecomposeOptions
        Batch size, workers, Dask.
    on_pass : callable, optional
        Called after every pass with its history entry (seconds, bound, Lagrangian value, best plan).

    Returns
    -------
    DecomposeResult
        With ``extra['history']`` (bound and plan per pass) and ``extra['batches']``.

    Raises
    ------
    allocator.executor.ExecutorError
        The Dask scheduler cannot be reached.
    """
    options = options or SolveOptions(mip_gap=0.01)
    dopts = dopts or DecomposeOptions()
    t0 = time.perf_counter()
    default_limit = not options.time_limit
    limit = float(dopts.default_time_limit if default_limit else options.time_limit)  # type: ignore[arg-type]
    run = _Run(model.problem, partition(model, county, dopts.batch_size), options, solver, dopts,
               t0, t0 + limit, on_pass)
    runner = Runner(run.st.batches, dopts.workers, dopts.dask)
    try:
        early = run.passes(runner)
        if early is not None:
            return _result(early, None, None, None, t0, solver, run.st, run.state, run.msg, limit, default_limit)
        if run.state.best_x is not None and run.state.best_bound - run.state.best_obj > _tol(options, run.state):
            _local_search(run.state, run.st, run.p, run.A, solver, options, dopts, run.deadline,
                          sweeps=dopts.max_iterations)
    finally:
        runner.close()
    state, st = run.state, run.st
    msg = run.msg
    if msg == "time limit" and default_limit:
        msg = f"default time limit ({limit:g} s; give --time-limit for another)"
    if state.best_x is None:
        # The check gets what is left of the time limit (the limit is a promise).
        verdict = _coupling_infeasible(st, run.p, runner_factory=lambda: Runner(st.batches, dopts.workers, dopts.dask),
                                       solver=solver, until=run.deadline)
        if verdict:
            return _result(Status.INFEASIBLE, None, None, None, t0, solver, st, state,
                           "a coupling row cannot be met by the stations together", limit, default_limit)
        why = msg or "no plan found"
        if verdict is None:
            why += "; no time was left to check the coupling rows for infeasibility"
        return _result(Status.NO_SOLUTION, None, None, state.best_bound, t0, solver, st, state, why, limit,
                       default_limit)
    gap = relative_gap(state.best_obj, state.best_bound)
    ok = gap is not None and gap <= options.mip_gap
    return _result(Status.OPTIMAL if ok else Status.FEASIBLE, state.best_x, state.best_obj, state.best_bound, t0,
                   solver, st, state, msg, limit, default_limit)


#: Share of the time limit kept, while no plan is found, for the infeasibility check of the coupling rows.
CHECK_SHARE = 0.25

class _Run:
    """One decomposition run: the Lagrangian passes with their plan steps and the multiplier updates."""

    def __init__(self, p: MilpProblem, st: Structure, options: SolveOptions, solver: str, dopts: DecomposeOptions,
                 t0: float, deadline: float, on_pass: Callable[[dict[str, float]], None] | None):
        self.p, self.st, self.options, self.solver, self.dopts = p, st, options, solver, dopts
        self.t0, self.deadline, self.on_pass = t0, deadline, on_pass
        self.last_plan_bound = np.inf
        self.lo_R, self.hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
        self.A = sp.csr_array(p.A)
        Ac = self.A[st.coupling]
        self.row_norm2 = np.maximum(np.asarray(Ac.multiply(Ac).sum(axis=1)).ravel(), 1e-12)
        self.state = _State()
        self.sub_gap = max(min(options.mip_gap / 5, 1e-4), 1e-7)
        self.msg = ""

    def passes(self, runner: Runner) -> Status | None:
        """Run the passes; a status when the run ends without a plan to look for (a batch infeasible)."""
        st, p, state, options, dopts = self.st, self.p, self.state, self.options, self.dopts
        cap_lo, cap_hi = _global_caps(st, p)
        pi = _project(_first_multipliers(st, p, self.solver, dopts, self.deadline), self.lo_R, self.hi_R,
                      cap_lo, cap_hi)
        step = 1.0
        self.last_plan_bound = np.inf
        last_pass = 0.0
        for it in range(dopts.max_iterations):
            left = self._pass_deadline() - time.perf_counter()
            rounds = -(-len(st.batches) // max(1, runner.slots))
            if left <= 0 or (it > 0 and left < max(0.5 * last_pass, rounds * MIN_TASK_SECONDS)):
                # (a pass with less than half the time the last one took gives a weak bound and seldom a
                # plan: not worth starting; nor one whose least task limits alone would pass the deadline)
                self.msg = "time limit"
                return None
            limit = _task_limit(left, len(st.batches), runner.slots)
            pass_start = time.perf_counter()
            tasks = [BatchTask(k, c=b.c - b.AR.T @ pi, solver=self.solver, gap=self.sub_gap, time_limit=limit,
                               heuristics=False) for k, b in enumerate(st.batches)]
            results = runner.run(tasks)
            last_pass = time.perf_counter() - pass_start
            bad = [r for r in results if r.status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.ERROR)]
            if any(r.status == Status.INFEASIBLE for r in bad):
                self.msg = "a batch's own rows (stations of one county group) have no solution"
                return Status.INFEASIBLE
            if bad or any(r.bound is None for r in results):
                self.msg = "a batch problem failed or ran out of time"
                return None
            g_val, xg = _global_term(st, p, pi)
            L = sum(float(r.bound or 0.0) for r in results) + g_val + _h(pi, self.lo_R, self.hi_R) + p.offset
            # (a batch cut short by its time limit with a solution still gives a valid dual bound)
            state.best_bound = min(state.best_bound, L)
            if any(r.x is None for r in results):
                self.msg = "a batch problem ran out of time before a solution"
                state.history.append({"pass": it + 1, "seconds": time.perf_counter() - self.t0,
                                      "bound": state.best_bound, "lagrangian": L, "plan": state.best_obj})
                return None
            activity = self._plans(runner, results, xg, it)
            state.history.append({"pass": it + 1, "seconds": time.perf_counter() - self.t0,
                                  "bound": state.best_bound, "lagrangian": L, "plan": state.best_obj})
            if self.on_pass is not None:
                self.on_pass(state.history[-1])
            if state.best_bound - state.best_obj <= _tol(options, state):
                return None
            new = self._step(pi, activity, L, step, cap_lo, cap_hi)
            if new is None:
                return None
            pi = new
            if len(state.history) >= 2 and state.history[-1]["bound"] >= state.history[-2]["bound"] - 1e-9:
                step *= 0.5
            if len(state.history) > dopts.stall and \
                    state.history[-1 - dopts.stall]["bound"] - state.best_bound < 0.01 * _tol(options, state):
                self.msg = f"bound stalled for {dopts.stall} passes"
                return None
        return None

    def _pass_deadline(self) -> float:
        """When the passes stop: the deadline once a plan exists; before that, early enough to leave
        :data:`CHECK_SHARE` of the time for the check that a coupling row is out of reach (infeasibility)."""
        if self.state.best_x is not None:
            return self.deadline
        return self.deadline - CHECK_SHARE * (self.deadline - self.t0)

    def _plans(self, runner: Runner, results: list[BatchResult], xg: np.ndarray, it: int) -> np.ndarray:
        """Plans from the pass's Lagrangian solution (itself, split, repaired, then one local-search sweep);
        returns the solution's coupling-row activity."""
        st, p, state, options = self.st, self.p, self.state, self.options
        x = np.zeros(p.num_cols)
        for r in results:
            x[st.batches[r.index].cols] = r.x
        x[st.global_cols] = xg
        usage = np.asarray([b.AR @ x[b.cols] for b in st.batches])  # batches x R
        activity = usage.sum(axis=0) + st.AR_global @ xg
        # The Lagrangian solution itself may satisfy the coupling rows.
        _try_plan(state, p, self.A, _fix_globals(st, p, x, usage), options)
        # A new plan only when the bound moved by a tenth of the gap asked: a plan pass costs as much as a
        # Lagrangian pass or more.
        if state.best_bound - state.best_obj > _tol(options, state) and \
                (it == 0 or self.last_plan_bound - state.best_bound > 0.1 * _tol(options, state)) and \
                self.deadline - time.perf_counter() > 0:
            self.last_plan_bound = state.best_bound
            gap = max(self.sub_gap, options.mip_gap / 2)
            ok = False
            for pick in self.dopts.split_picks:
                if self.deadline - time.perf_counter() <= 0:
                    break
                xp = _plan_by_split(st, p, x, usage, runner, self.solver, gap, self.deadline, pick)
                if xp is not None and _try_plan(state, p, self.A, xp, options):
                    ok = True
                    break
            if not ok:
                xr = _repair(st, p, _fix_globals(st, p, x, usage), self.solver, gap, self.deadline)
                if xr is not None:
                    _try_plan(state, p, self.A, xr, options)
        if state.best_x is not None and state.best_bound - state.best_obj > _tol(options, state):
            _local_search(state, st, p, self.A, self.solver, options, self.dopts, self.deadline, sweeps=1)
        return activity

    def _step(self, pi: np.ndarray, activity: np.ndarray, L: float, step: float, cap_lo: np.ndarray,
              cap_hi: np.ndarray) -> np.ndarray | None:
        """Polyak step towards the best plan (or 0.1 % below the bound without one); None at a zero
        subgradient.  Rows are in mixed units (thousand yuan, workers, coverage shares): step in the
        row-normalised space, i.e. scale each row's subgradient by the row's norm squared."""
        proj = np.clip(activity, self.lo_R, self.hi_R)
        g = (proj - activity) / self.row_norm2
        gn = float((proj - activity) @ g)
        if gn < 1e-18:
            return None
        best = self.state.best_obj
        target = best if np.isfinite(best) else L - 1e-3 * abs(L)
        t = step * max(L - target, 1e-9 * abs(L)) / gn
        return _project(pi - t * g, self.lo_R, self.hi_R, cap_lo, cap_hi)


def _result(status: Status, x: np.ndarray | None, obj: float | None, bound: float | None, t0: float, solver: str,
            st: Structure, state: _State, msg: str, limit: float, default_limit: bool) -> DecomposeResult:
    gap = relative_gap(obj, bound) if obj is not None else None
    be = get_backend(solver)
    outcome = Outcome(status, obj, None if bound is None or not np.isfinite(bound) else bound, gap,
                      f"decompose/{solver}", time.perf_counter() - t0, msg)
    return DecomposeResult(outcome, x=x, solver_version=be.version(),
                           extra={"history": state.history, "batches": len(st.batches),
                                  "coupling_rows": int(len(st.coupling)), "time_limit": limit,
                                  "default_limit": default_limit})
