"""Solving a circle: build the chosen model, solve it within the limits, read the plan back.

The flow is read (:mod:`~allocator.circle.checks`) -> data -> reach (:mod:`~allocator.circle.reach`) -> build
(:mod:`~allocator.circle.models`) -> solve (here; under a time limit :mod:`~allocator.circle.limited`) ->
result (:mod:`~allocator.circle.result`) -> report / write.
"""

from __future__ import annotations

import enum
import time
from typing import Any

import numpy as np
import pandas as pd

from allocator.circle.data import DEFAULT_GAP, MODELS, CircleData
from allocator.circle.limited import solve_limited
from allocator.circle.models import Built, build_cmclp, build_lscp, build_mclp, build_pmedian
from allocator.circle.reach import Reach, travel_reach
from allocator.circle.result import CirclePlan, objective_of, plan_summary, plan_tables
from allocator.outcome import Outcome
from solvers import SolveOptions, SolverResult, Status, get_backend


class Stated(enum.Enum):
    """The value of ``points`` / ``budget`` that means "as the circle folder states" (``circle.toml``)."""

    STATED = "stated"


STATED = Stated.STATED
"""Use the limit ``circle.toml`` states (its ``points``, default 30, and its ``budget``, default none)."""


def solve_circle(data: CircleData, model: str = "mclp", minutes: float | None = None,
                 points: int | None | Stated = STATED, budget: float | None | Stated = STATED,
                 solver: str = "highs", options: SolveOptions | None = None, reach: Reach | None = None,
                 guard: bool = True, tables: bool = True) -> CirclePlan:
    """Choose the points of the circle with ``model`` and report coverage.

    Parameters
    ----------
    data : CircleData
        The circle.
    model : {"mclp", "cmclp", "lscp", "pmedian"}
        Which model.
    minutes : float, optional
        T; default ``data.minutes``.
    points : int, None or STATED
        At most this many new points; None: no count limit; :data:`STATED` (the default): ``data.points``.
    budget : float, None or STATED
        Opening costs of the new points at most this (yuan); None: no budget; :data:`STATED`: ``data.budget``.
        LSCP finds the fewest points itself and takes neither limit.
    solver : str
        Registered backend name.
    options : SolveOptions, optional
        Default: gap 1e-4, no time limit.  With a time limit the solve keeps the best plan found
        (:func:`allocator.circle.limited.solve_limited`).
    reach : Reach, optional
        Ready travel pairs (must reach at least ``max(T, radius)`` for p-median, T otherwise).
    guard : bool
        With a time limit, solve in a child process stopped after the limit plus grace (solvers.guard).
    tables : bool
        Build the plan's tables (False: objective and open points only, for benchmarks).

    Returns
    -------
    CirclePlan
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; one of {', '.join(MODELS)}")
    options = options or SolveOptions(mip_gap=DEFAULT_GAP)
    T = float(data.minutes if minutes is None else minutes)
    p, Y = _limits(data, model, points, budget)
    R = data.radius_for(T)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if reach is None:
        reach = travel_reach(data, R if model == "pmedian" or tables else T)
    timings["travel"] = reach.seconds if reach.seconds else time.perf_counter() - t0
    t1 = time.perf_counter()
    built = build_model(data, reach, model, T, p, Y, R)
    timings["build"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    prob = built.problem
    if prob.num_cols == 0:
        result = SolverResult(Status.OPTIMAL, x=np.zeros(0), objective=prob.offset, bound=prob.offset, gap=0.0,
                              solver=solver, message="solved by the reductions (no decision left)")
    elif options.time_limit is not None:
        result = solve_limited(data, reach, model, built, T, R, p, Y, solver, options, guard)
    else:
        result = get_backend(solver).solve(prob, options)
    timings["solve"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    plan = _read_back(data, reach, model, built, result, solver, options, T, p, Y, R, tables)
    timings["report"] = time.perf_counter() - t3
    plan.timings.update(timings)
    return plan


def _limits(data: CircleData, model: str, points: int | None | Stated,
            budget: float | None | Stated) -> tuple[int | None, float | None]:
    """The points and budget limits in force (LSCP: neither)."""
    p = data.points if points is STATED else points
    Y = data.budget if budget is STATED else budget
    if p is not None and (isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0):
        raise ValueError(f"points must be an integer >= 0, None or STATED, not {p!r}")
    if Y is not None and (isinstance(Y, (bool, Stated)) or not Y >= 0):
        raise ValueError(f"budget must be a number >= 0, None or STATED, not {Y!r}")
    if model == "lscp":
        return None, None
    return (None if p is None else int(p)), (None if Y is None else float(Y))


def build_model(data: CircleData, reach: Reach, model: str, T: float, p: int | None, Y: float | None,
                R: float) -> Built:
    """The chosen model's MILP (:mod:`allocator.circle.models`)."""
    if model == "mclp":
        return build_mclp(data, reach, T, p, Y)
    if model == "lscp":
        return build_lscp(data, reach, T, data.shares)
    if model == "cmclp":
        return build_cmclp(data, reach, T, p, Y)
    return build_pmedian(data, reach, p, Y, R)


def _read_back(data: CircleData, reach: Reach, model: str, built: Built, result: SolverResult, solver: str,
               options: SolveOptions, T: float, p: int | None, Y: float | None, R: float,
               tables: bool) -> CirclePlan:
    """The plan from the solver's columns: open points, the objective recomputed, tables and summary."""
    ex = data.existing
    open_ = ex.copy()
    x = result.x if result.status.has_solution else None
    if x is not None:
        open_[built.y_sites[np.asarray(x[:len(built.y_sites)]) > 0.5]] = True
    manifest = _manifest(data, model, solver, result, options, built, T, p, Y, R)
    notes = list(data.notes) + list(built.notes)
    summary: dict[str, Any] = {
        "circle": data.name, "model": model, "status": result.status.value, "objective": result.objective,
        "bound": result.bound, "gap": result.gap, "solver": solver, "message": result.message,
        "minutes": T, "points_limit": p, "budget_limit": Y, "radius": R if model == "pmedian" else None,
        "shares": dict(data.shares) if model == "lscp" else None, "model_size": built.stats,
    }
    if "incumbent" in result.extra:
        summary["incumbent"] = result.extra["incumbent"]
    out_tables: dict[str, pd.DataFrame] = {}
    if x is not None:
        served = None
        if model == "cmclp":
            xv = np.asarray(x[built.x_start:built.x_start + len(built.x_place)])
            served = (built.x_place, built.x_site, xv)
        check = objective_of(data, reach, model, open_, T, R, served)
        summary["objective_recomputed"] = check
        if result.objective is not None and abs(check - result.objective) > 1e-6 * max(1.0, abs(check)):
            notes.append(f"the objective recomputed from the plan ({check:,.3f}) differs from the solver's "
                         f"({result.objective:,.3f}): within the solver's tolerances")
        if model == "pmedian":
            pen = np.asarray(x)[built.extra["penalty_cols"]] > 0.5
            exact = not bool(pen.any())
            summary["radius_exact"] = exact
            notes.append(("no place is charged the R penalty: the plan is optimal for the unrestricted p-median "
                          "over these places") if exact else
                         (f"{int(pen.sum())} place(s) are charged the R penalty: the plan is optimal for the "
                          f"radius-restricted model; the unrestricted optimum may differ"))
        if tables:
            out_tables = plan_tables(data, reach, model, open_, T, R, served)
            summary.update(plan_summary(data, out_tables, open_, model))
    summary["open_sites"] = sorted(data.sites["site_id"].to_numpy()[open_ & ~ex].tolist()) if x is not None else []
    summary["notes"] = notes
    outcome = Outcome(result.status, result.objective, result.bound, result.gap, solver, result.seconds,
                      result.message)
    return CirclePlan(outcome, model, result.solver_version, out_tables, summary, manifest)


def _manifest(data: CircleData, model: str, solver: str, result: SolverResult, options: SolveOptions, built: Built,
              T: float, p: int | None, Y: float | None, R: float) -> dict[str, Any]:
    import platform

    from allocator import __version__

    pr = built.problem
    return {"engine": "allocator", "engine_version": __version__, "command": "circle", "circle": data.name,
            "input_hash": data.input_hash, "model": model, "solver": solver,
            "solver_version": result.solver_version,
            "options": {"time_limit": options.time_limit, "gap": options.mip_gap, "threads": options.threads,
                        "seed": options.seed, "minutes": T, "points": p, "budget": Y,
                        "radius": R if model == "pmedian" else None},
            "python": platform.python_version(),
            "problem": {"rows": pr.num_rows, "columns": pr.num_cols, "integer_columns": int(pr.integrality.sum()),
                        "nonzeros": int(pr.A.nnz)}}
