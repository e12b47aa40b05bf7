"""A first plan of a horizon model, then a better one: relax-and-fix by year, neighbourhood search by year and county.

Why not one MIP solve
=====================
The three-year Fuzhou model (40,678 columns, 20,700 integer, 45,618 rows) is hard for HiGHS' own search:
its root cut loop ran for the whole of 600 s without a first plan (benchmarks/README.md), with or without
more heuristic effort, and SCIP did no better in 240 s.  Two facts, measured on that model, shape this
module: the MIP with only *one* year's integer columns integer (the other years continuous) and no
objective finds a plan in about 30 s, and a MIP in which every integer column but a county's, or a
year's, is fixed solves in 2-40 s.

Algorithm
=========
1. **Bound.** The LP relaxation (about 13 s): its optimum bounds every plan (infeasible LP: no plan at all).
2. **Relax-and-fix, first plan.** For each year t in order: the integer columns of years before t fixed to
   the values found, year t's integer, later years' continuous, no objective (any plan will do); then
   year t's integer columns are fixed.  A last LP with every integer column fixed optimises the
   continuous columns for the real objective.  If a stage finds no plan, the search gives up and the
   caller solves the whole MIP as before.
3. **Neighbourhood search.** In turn for each year and each county: every integer column outside the
   neighbourhood fixed at the incumbent, the MIP of the rest solved with the incumbent as its start
   (so it is never worse), kept if it is better.  Rounds repeat until one improves nothing or the time
   is spent.
4. **The whole MIP** from that plan (HiGHS' MIP start) for the time kept for it (a quarter of what was
   left after the first plan; without a limit, as long as steps 1-3 took, at least 60 s): a better plan, or a
   tighter bound than the LP's.
5. **Result.** FEASIBLE with the gap to the tighter bound; OPTIMAL only when that gap is within the gap
   asked, or when the whole MIP proved it.

Every sub-problem is the horizon's own :class:`~solvers.base.MilpProblem` with other column bounds and
integrality; a plan found is checked against the whole problem (:func:`solvers.check.plan_is_valid`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from solvers.base import MilpProblem, SolveOptions, SolverResult, Status, relative_gap
from solvers.check import plan_is_valid

# Seconds of one relax-and-fix stage and of one neighbourhood, when the command has no limit.
STAGE_SECONDS = 120.0
HOOD_SECONDS = 30.0
MAX_ROUNDS = 3
# Share of the time left after the first plan that is kept for the whole MIP (step 5: its bound).
FINAL_SHARE = 0.25


@dataclass(frozen=True)
class Neighbourhoods:
    """Labels of the integer columns: the year (``-1`` none) and the county (``""`` none) of each column."""

    year: np.ndarray
    county: np.ndarray

    def all(self) -> list[tuple[str, np.ndarray]]:
        """The neighbourhoods searched in a round: each year, then each county, as (name, column mask)."""
        out = [(str(int(t)), self.year == t) for t in np.unique(self.year) if t >= 0]
        out += [(str(c), self.county == c) for c in np.unique(self.county) if c]
        return out


def _with(problem: MilpProblem, lo: np.ndarray, hi: np.ndarray, integer: np.ndarray,
          c: np.ndarray | None = None) -> MilpProblem:
    return MilpProblem(problem.c if c is None else c, problem.A, problem.row_lower, problem.row_upper, lo, hi,
                       integer, problem.sense, problem.offset)


def _left(options: SolveOptions, started: float) -> float | None:
    """Seconds left of the command (its deadline less the margin kept for writing), None without a limit."""
    if options.deadline is not None and options.deadline.at is not None:
        return options.deadline.remaining() - options.deadline.margin()  # type: ignore[operator]
    if options.time_limit is not None:
        return options.time_limit - (time.monotonic() - started)
    return None


def _better(problem: MilpProblem, a: float, b: float) -> bool:
    """Whether objective ``b`` improves on ``a`` (in the problem's sense, beyond rounding)."""
    tol = 1e-7 * max(1.0, abs(a))
    return b > a + tol if problem.sense == "max" else b < a - tol


def _improved(problem: MilpProblem, best: float, res: SolverResult) -> np.ndarray | None:
    """A sub-solve's plan (integers rounded) when it is a plan of the whole problem better than ``best``."""
    if not res.status.has_solution or res.x is None:
        return None
    x = np.where(problem.integrality, np.round(res.x), res.x)
    return x if _better(problem, best, problem.objective_value(x)) and plan_is_valid(problem, x)[0] else None


def _sub_solve(backend: object, sub: MilpProblem, options: SolveOptions, limit: float | None, gap: float,
               start: np.ndarray | None = None) -> SolverResult:
    opts = replace(options, time_limit=limit, mip_gap=gap, start=start, verbose=False)
    return backend.solve(sub, opts)  # type: ignore[attr-defined, no-any-return]


def first_plan(problem: MilpProblem, hoods: Neighbourhoods, backend: object, options: SolveOptions,
               started: float) -> np.ndarray | None:
    """Relax-and-fix by year (step 2 of the module docstring): a plan of ``problem``, or None."""
    lo, hi = problem.col_lower.copy(), problem.col_upper.copy()
    zero = np.zeros(problem.num_cols)
    years = [t for t in np.unique(hoods.year) if t >= 0]
    for k, t in enumerate(years):
        left = _left(options, started)
        # (a share of the time left for each stage still to come, and for the search after them)
        limit = STAGE_SECONDS if left is None else max(1.0, left / (len(years) - k + 1))
        stage = problem.integrality & (hoods.year == t)
        # (integer columns of no year are integer from the first stage on)
        if k == 0:
            stage |= problem.integrality & (hoods.year < 0)
        res = _sub_solve(backend, _with(problem, lo, hi, stage, zero), options, limit, 0.0)
        if not res.status.has_solution or res.x is None:
            return None
        v = np.round(res.x)
        lo, hi = np.where(stage, v, lo), np.where(stage, v, hi)
    res = _sub_solve(backend, _with(problem, lo, hi, np.zeros(problem.num_cols, dtype=bool)), options,
                     _left(options, started), 0.0)
    if not res.status.has_solution or res.x is None:
        return None
    x = np.where(problem.integrality, np.round(res.x), res.x)
    return x if plan_is_valid(problem, x)[0] else None


def improve(problem: MilpProblem, x: np.ndarray, hoods: Neighbourhoods, backend: object, options: SolveOptions,
            started: float, bound: float | None, reserve: float = 0.0) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Neighbourhood search (step 3): the incumbent improved by year and county until a round gains nothing,
    or until only ``reserve`` seconds are left (kept for step 5)."""
    best = problem.objective_value(x)
    history: list[dict[str, object]] = []
    for rnd in range(MAX_ROUNDS):
        gained = False
        for name, mask in hoods.all():
            left = _left(options, started)
            if left is not None:
                left -= reserve
                if left < 2.0:
                    return x, history
            gap = relative_gap(best, bound)
            if gap is not None and gap <= options.mip_gap:
                return x, history
            fix = problem.integrality & ~mask
            sub = _with(problem, np.where(fix, x, problem.col_lower), np.where(fix, x, problem.col_upper),
                        problem.integrality)
            limit = HOOD_SECONDS if left is None else min(HOOD_SECONDS, left)
            res = _sub_solve(backend, sub, options, limit, 1e-3, start=x)
            if (xn := _improved(problem, best, res)) is not None:
                x, best, gained = xn, problem.objective_value(xn), True
            history.append({"round": rnd + 1, "neighbourhood": name, "objective": best,
                            "seconds": round(res.seconds, 2)})
        if not gained:
            break
    return x, history


def solve_by_search(problem: MilpProblem, hoods: Neighbourhoods, backend: object,
                    options: SolveOptions) -> SolverResult | None:
    """Steps 1-5 of the module docstring; None when relax-and-fix finds no first plan (solve the MIP instead).

    Parameters
    ----------
    problem : MilpProblem
        The horizon model.
    hoods : Neighbourhoods
        The year and county of each column.
    backend : Backend
        A backend with ``Feature.MIP_START``.
    options : SolveOptions
        Time limit or deadline (covering the whole search), the gap asked, threads, seed.

    Returns
    -------
    SolverResult or None
        INFEASIBLE when the LP relaxation is; FEASIBLE (OPTIMAL within the gap asked) with the LP bound;
        None when no first plan was found.
    """
    started = time.monotonic()
    t0 = time.perf_counter()
    lp = _sub_solve(backend, problem.relaxed(), options, _left(options, started), 0.0)
    if lp.status in (Status.INFEASIBLE, Status.UNBOUNDED):
        return replace(lp, message=f"the LP relaxation of the horizon model is {lp.status.value}: {lp.message}")
    bound = lp.objective if lp.status is Status.OPTIMAL else None
    x = first_plan(problem, hoods, backend, options, started)
    if x is None:
        return None
    left = _left(options, started)
    x, history = improve(problem, x, hoods, backend, options, started, bound,
                         reserve=0.0 if left is None else FINAL_SHARE * left)
    objective = problem.objective_value(x)
    how = f"relax-and-fix by year, then a search by year and county ({len(history)} sub-problems)"
    status, source = Status.FEASIBLE, "the LP relaxation"
    gap = relative_gap(objective, bound)
    left = _left(options, started)
    if not (gap is not None and gap <= options.mip_gap) and (left is None or left > 5.0):
        # Step 4: the whole MIP from the plan found, for the time left: a better plan or a tighter bound.
        # (without a limit, as long as the search took: the whole MIP's proof could take hours, and a
        # command without --time-limit should still end)
        limit = left if left is not None else max(60.0, time.monotonic() - started)
        final = _sub_solve(backend, problem, options, limit, options.mip_gap, start=x)
        if (xn := _improved(problem, objective, final)) is not None:
            x, objective = xn, problem.objective_value(xn)
        if final.bound is not None and np.isfinite(final.bound) and (
                bound is None or (final.bound < bound if problem.sense == "max" else final.bound > bound)):
            bound, source = final.bound, "the whole MIP"
        if final.status is Status.OPTIMAL and final.x is not None and x is not None:
            status = Status.OPTIMAL
        how += f", then the whole MIP from that plan ({final.status.value})"
    gap = relative_gap(objective, bound)
    if gap is not None and gap <= options.mip_gap * (1 + 1e-9):
        status = Status.OPTIMAL
    return SolverResult(status, x=x, objective=objective, bound=bound, gap=gap, solver=lp.solver,
                        solver_version=lp.solver_version, seconds=time.perf_counter() - t0,
                        message=f"{how}; bound from {source}", raw_status="search", extra={"search": history})


def neighbourhoods(model: object, county: np.ndarray) -> Neighbourhoods:
    """The year (from the ``@year`` of its block) and county (a block's first axis is the station) of each column."""
    problem: MilpProblem = model.problem  # type: ignore[attr-defined]
    n, S = problem.num_cols, len(county)
    year = np.full(n, -1, dtype=int)
    where = np.full(n, "", dtype=object)
    for name, block in model.columns.items():  # type: ignore[attr-defined]
        idx = np.asarray(block.index())
        if "@" in name:
            tag = name.split("@", 1)[1][:4]
            if tag.isdigit():
                year[idx.ravel()] = int(tag)
        if idx.ndim >= 1 and idx.shape[0] == S:
            where[idx.reshape(S, -1)] = np.asarray(county, dtype=object)[:, None]
    return Neighbourhoods(year, where)
