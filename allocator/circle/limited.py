"""A solve under a time limit that keeps the best plan found so far (issue 17, item 21).

Before, a p-median stopped by the wall-clock guard (OR-Library pmed40, 900 nodes, p = 90) came back with
"no plan": the solver's incumbent died with its process.  Now, within ``options.time_limit`` seconds:

1. a heuristic plan (:mod:`allocator.circle.heuristic`) is computed first and evaluated by the model itself
   (its ``y`` columns fixed, one LP), so its objective is the model's;
2. the LP relaxation gives a proven bound (a plan within the gap of it is OPTIMAL and the MILP is skipped);
3. the MILP gets the time that is left, with the solver's own time limit set below the guard's (the guard
   stops the child only ``grace`` seconds later), so that the solver returns its own incumbent;
4. the better of the two plans is returned, FEASIBLE, with its gap against the best bound known (the
   solver's, or the LP's when the solver returned none).  Only when the heuristic found no plan does the
   solver's own result (NO_SOLUTION, INFEASIBLE, ...) stand unchanged.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from allocator.circle.data import CircleData
from allocator.circle.heuristic import heuristic_open
from allocator.circle.models import Built
from allocator.circle.reach import Reach
from solvers import MilpProblem, SolveOptions, SolverResult, Status, get_backend, relative_gap

HEURISTIC_SHARE = 0.15  # of the time limit, for the heuristic plan
LP_SHARE = 0.2  # of the time limit, for the LP bound
HANDOVER = 1.0  # seconds kept back for the guard's child to start and hand the model over (spawn)
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
    lp_bound = None
    lp = backend.solve(prob.relaxed(), replace(options, time_limit=max(min(LP_SHARE * limit, left()), 0.1)))
    if lp.status is Status.OPTIMAL and lp.objective is not None:
        lp_bound = lp.objective
    gap = relative_gap(inc.objective, lp_bound)
    if gap is not None and gap <= options.mip_gap:
        return _combine(inc, None, lp_bound, prob.sense, options, solver, start, "heuristic (proven by the LP bound)")
    if left() < MIN_SOLVE * limit:
        return _combine(inc, None, lp_bound, prob.sense, options, solver, start,
                        "heuristic (no time left for the MILP)")
    mip = _milp(solver, prob, options, left(), guard)
    if mip.status is Status.OPTIMAL:
        return mip
    return _combine(inc, mip, lp_bound, prob.sense, options, solver, start, "")


def fix_y(prob: MilpProblem, n_y: int, chosen: np.ndarray) -> MilpProblem:
    """The model with its first ``n_y`` columns (the new points' ``y``) fixed to ``chosen``: an LP."""
    lo, up = prob.col_lower.copy(), prob.col_upper.copy()
    lo[:n_y] = up[:n_y] = chosen.astype(np.float64)
    return MilpProblem(prob.c, prob.A, prob.row_lower, prob.row_upper, lo, up,
                       np.zeros(prob.num_cols, dtype=bool), prob.sense, prob.offset, prob.col_names, prob.row_names)


def _milp(solver: str, prob: MilpProblem, options: SolveOptions, seconds: float, guard: bool) -> SolverResult:
    """The MILP with the solver's own limit below the guard's, so that it returns its incumbent itself."""
    if guard:
        from solvers.guard import solve_guarded

        own = max(seconds - min(HANDOVER, 0.2 * seconds), 0.05)
        return solve_guarded(solver, prob, replace(options, time_limit=own))
    return get_backend(solver).solve(prob, replace(options, time_limit=max(seconds, 0.05)))


def _combine(inc: SolverResult, mip: SolverResult | None, lp_bound: float | None, sense: str,
             options: SolveOptions, solver: str, start: float, how: str) -> SolverResult:
    """The better of the heuristic's and the solver's plans, with its gap against the best bound known."""
    sense_min = sense == "min"
    bounds = [b for b in (lp_bound, mip.bound if mip is not None and mip.status.has_solution else None)
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
