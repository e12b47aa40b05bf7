"""A solve under a time limit that keeps the best plan found so far (issue 17, item 21).

Before, a p-median stopped by the wall-clock guard (OR-Library pmed40, 900 nodes, p = 90) came back with
"no plan": the solver's incumbent died with its process.  Now, within ``options.time_limit`` seconds:

1. a heuristic plan (:mod:`allocator.circle.heuristic`, at most ``HEURISTIC_SHARE`` of the limit) is
   computed first and evaluated by the model itself (its ``y`` columns fixed, one LP), so its objective is
   the model's;
2. the MILP gets the time that is left but ``BOUND_SHARE``, with the solver's own time limit ending before
   the guard's (start-up, the solver's limit and the guard's grace all fit in it), so that the solver
   returns its own incumbent and bound; an OPTIMAL result stands as it is;
3. when the solver returned no bound (no plan of its own, or the guard stopped it), a proven bound from the
   time kept back: Lagrangian for p-median and MCLP (:mod:`allocator.circle.bounds`), else the LP relaxation;
4. the better of the two plans is returned, FEASIBLE (OPTIMAL only when the bound proves it within the
   gap), with its gap against the best bound known.  Only when the heuristic found no plan does the
   solver's own result (NO_SOLUTION, INFEASIBLE, ...) stand unchanged.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from allocator.circle.bounds import lagrangian_bound
from allocator.circle.data import CircleData
from allocator.circle.heuristic import heuristic_open
from allocator.circle.models import Built
from allocator.circle.reach import Reach
from solvers import Backend, MilpProblem, SolveOptions, SolverResult, Status, get_backend, relative_gap

HEURISTIC_SHARE = 0.15  # of the time limit, for the heuristic plan
BOUND_SHARE = 0.15  # of the time limit, kept back for a bound when the solver gives none
MIN_BOUND = 0.15  # of the time limit, for the bound even when the solver overran into the time kept back
MIN_GUARDED = 2.0  # seconds: a guarded MILP given less is not started (spawn and model hand-over take ~1-2 s)
HANDOVER = 1.0  # seconds kept back for the guard's child to start and hand the model over (spawn)
GRACE = 5.0  # the guard's grace at most; the solver's own limit ends this much before the deadline
MIN_SOLVE = 0.05  # a MILP given less than this share of the limit is not started


def solve_limited(data: CircleData, reach: Reach, model: str, built: Built, T: float, R: float,
                  points: int | None, budget: float | None, solver: str, options: SolveOptions,
                  guard: bool) -> SolverResult:
    """Solve ``built`` within ``options.time_limit`` seconds, never losing a plan once one is found.

    Returns
    -------
    SolverResult
        The solver's own result when it is OPTIMAL or when the heuristic found no plan; else the better of
        the heuristic's and the solver's plans, FEASIBLE (OPTIMAL only if a proven bound is within the gap),
        with ``extra["incumbent"]`` naming where the plan came from.
    """
    assert options.time_limit is not None
    limit = float(options.time_limit)
    start = time.perf_counter()
    backend = get_backend(solver)
    prob = built.problem

    def left() -> float:
        return limit - (time.perf_counter() - start)

    chosen = heuristic_open(data, reach, model, built, T, R, points, budget,
                            deadline=start + HEURISTIC_SHARE * limit)
    inc = None
    if chosen is not None:
        r = backend.solve(fix_y(prob, len(built.y_sites), chosen), replace(options, time_limit=max(left(), 0.1)))
        inc = r if r.status.has_solution else None
    if inc is None:
        return _milp(solver, prob, options, max(left(), MIN_SOLVE * limit), guard)
    # the MILP first (an easy model is solved as before), the bound's share of the time kept back for after
    seconds = max(left() - BOUND_SHARE * limit, MIN_SOLVE * limit)
    if guard and seconds < MIN_GUARDED:  # the child's start-up alone would take it: the heuristic plan stands
        mip = SolverResult(Status.NO_SOLUTION, solver=solver, message=f"MILP not started: {seconds:.1f} s left")
    else:
        mip = _milp(solver, prob, options, seconds, guard)
    if mip.status is Status.OPTIMAL:
        return mip
    known_bound = None
    if not (mip.status.has_solution and mip.bound is not None):
        # the time kept back, and never less than MIN_BOUND of the limit (a solver run in this process
        # may have overrun its own limit): a plan without a gap tells its user little
        until = max(start + limit, time.perf_counter() + MIN_BOUND * limit)
        known_bound = _bound(data, reach, model, built, T, R, points, budget, backend, inc, options, until)
    return _combine(inc, mip, known_bound, prob.sense, options, solver, start, "")


def _bound(data: CircleData, reach: Reach, model: str, built: Built, T: float, R: float, points: int | None,
           budget: float | None, backend: Backend, inc: SolverResult, options: SolveOptions,
           until: float) -> float | None:
    """A proven bound: Lagrangian for p-median and MCLP (fast), else the LP relaxation within the time."""
    assert inc.objective is not None
    assert inc.x is not None
    chosen = np.asarray(inc.x[:len(built.y_sites)]) > 0.5
    lag = lagrangian_bound(data, reach, model, built.y_sites, T, R, points, budget, inc.objective, until,
                           options.mip_gap, chosen)
    if lag is not None:
        return lag if math.isfinite(lag) else None
    seconds = until - time.perf_counter()
    if seconds <= 0.05:
        return None
    lp = backend.solve(built.problem.relaxed(), replace(options, time_limit=seconds))
    return lp.objective if lp.status is Status.OPTIMAL else None


def fix_y(prob: MilpProblem, n_y: int, chosen: np.ndarray) -> MilpProblem:
    """The model with its first ``n_y`` columns (the new points' ``y``) fixed to ``chosen``: an LP."""
    lo, up = prob.col_lower.copy(), prob.col_upper.copy()
    lo[:n_y] = up[:n_y] = chosen.astype(np.float64)
    return MilpProblem(prob.c, prob.A, prob.row_lower, prob.row_upper, lo, up,
                       np.zeros(prob.num_cols, dtype=bool), prob.sense, prob.offset, row_names=prob.row_names,
                       col_names=prob.col_names)


def _milp(solver: str, prob: MilpProblem, options: SolveOptions, seconds: float, guard: bool) -> SolverResult:
    """The MILP within ``seconds``: the solver's own limit ends before the guard's, so it returns its incumbent.

    Under the guard the child gets ``seconds`` in all: start-up and hand-over (``HANDOVER``), the solver's own
    limit, then the guard's grace (``GRACE``, at most a fifth of the time) as the last resort.
    """
    if guard:
        from solvers.guard import solve_guarded

        grace = min(GRACE, 0.2 * seconds)
        own = max(seconds - grace - min(HANDOVER, 0.1 * seconds), 0.05)
        return solve_guarded(solver, prob, replace(options, time_limit=own), grace=grace)
    return get_backend(solver).solve(prob, replace(options, time_limit=max(seconds, 0.05)))


def _combine(inc: SolverResult, mip: SolverResult | None, known_bound: float | None, sense: str,
             options: SolveOptions, solver: str, start: float, how: str) -> SolverResult:
    """The better of the heuristic's and the solver's plans, with its gap against the best bound known."""
    sense_min = sense == "min"
    bounds = [b for b in (known_bound, mip.bound if mip is not None and mip.status.has_solution else None)
              if b is not None]
    bound = (max(bounds) if sense_min else min(bounds)) if bounds else None
    pick, source = inc, how or "heuristic"
    if mip is not None and mip.status.has_solution and mip.objective is not None and inc.objective is not None:
        better = mip.objective < inc.objective if sense_min else mip.objective > inc.objective
        if better:
            pick, source = mip, "solver"
    gap = relative_gap(pick.objective, bound)
    status = Status.OPTIMAL if gap is not None and gap <= options.mip_gap else Status.FEASIBLE
    said = f"; the solver said: {mip.message}" if mip is not None and mip.message else ""
    message = (f"time limit {options.time_limit:g} s: plan from the {source}"
               + ("" if gap is None else f", gap {gap:.3%} against the best bound known") + said)
    return SolverResult(status, x=pick.x, objective=pick.objective, bound=bound, gap=gap, solver=solver,
                        solver_version=(mip.solver_version if mip is not None and mip.solver_version else
                                        inc.solver_version),
                        seconds=time.perf_counter() - start, message=message, raw_status=pick.raw_status,
                        extra={"incumbent": source})
