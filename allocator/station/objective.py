"""The objective as its parts, and the lexicographic solve (issue 15: an honest objective).

The weighted objective of :mod:`allocator.station.builder` is one number: weighted need covered less
every soft clause's penalty times its deviation (plus the equity term, the money price and the
certification tie-breaks).  The soft clauses' penalties are mostly ones no plan can avoid, so that one
number, and a gap relative to it, say little about the service a plan delivers.  This module

* splits the objective of a solution into its parts (:func:`objective_parts`): need covered (weighted and
  in residents, by group), each soft family's deviation in its clause's unit with its penalty, the equity
  term, the money price, the tie-breaks, the prices of changes against a baseline plan; the parts add up
  to the objective;
* solves in two stages (:func:`solve_lexicographic`): stage 1 the least weighted deviation of the soft
  clauses (sum over soft rows of penalty x deviation, each deviation in its clause's unit), stage 2 the
  rest of the objective (need covered first) with the weighted deviation held within stage 1's value
  plus a stated tolerance (``[objective] deviation_tolerance`` relative, ``deviation_tolerance_abs``
  absolute).  Each stage keeps its status, objective, bound and gap on its own terms.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.instance import BY_ID, Instance
from allocator.station.builder import Model
from solvers import SolveOptions, Status
from solvers.base import MilpProblem, SolverResult

# Columns of the weighted objective that are not need, deviation, equity or baseline terms.
TIE_BREAK_COLUMNS = ("swa", "swi")
MONEY_COLUMNS = ("m_fac", "m_sal", "m_svc", "m_trn")
MODES = ("weighted", "lexicographic")
HOLD_ROW = "LEX-HOLD[weighted_deviation]"


def deviation_columns(model: Model) -> np.ndarray:
    """Indices of every soft row's deviation columns (the stage-1 objective's support)."""
    parts = [d[d >= 0] for rb in model.rows if rb.soft for d in (rb.dev_plus, rb.dev_minus)]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def objective_parts(instance: Instance, model: Model, c: np.ndarray, x: np.ndarray,
                    extra: dict[str, np.ndarray] | None = None, offset: float = 0.0) -> dict[str, Any]:
    """The weighted objective of ``x`` as its parts; ``total`` is their sum (= ``c @ x + offset``).

    Parameters
    ----------
    instance : Instance
    model : Model
        The model built (its column and row blocks say which column is which part).
    c : ndarray
        The weighted objective's coefficients (those of the model, with a baseline's prices if any).
    x : ndarray
        The solution (the model's columns first, then any ``extra``).
    extra : dict of str to ndarray, optional
        Further parts by name: their column indices (e.g. ``stability``, the baseline's prices).

    Returns
    -------
    dict
        ``need_covered`` (``weighted``, ``residents``, ``by_group``), ``penalties`` (one entry per soft
        family with a deviation: ``deviation`` in ``unit``, ``penalty`` per unit and ``contribution``),
        ``equity``, ``money``, ``tie_breaks``, the ``extra`` parts, ``other`` and ``total``; every
        figure but ``residents`` and ``deviation`` in objective units, signed as it enters the objective.
    """
    used = np.zeros(len(c), dtype=bool)

    def contrib(cols: np.ndarray) -> float:
        cols = np.asarray(cols, dtype=np.int64).ravel()
        used[cols] = True
        return float(c[cols] @ x[cols]) if cols.size else 0.0

    xc = model.col("x")
    weights = c[xc]
    by_group = {}
    for g, grp in enumerate(instance.groups):
        col = xc[:, g]
        by_group[grp.id] = {"residents": round(float(x[col].sum()), 3), "weight": grp.weight,
                            "weighted": round(float(weights[:, g] @ x[col]), 3)}
    need_weighted, need_residents = contrib(xc), float(x[xc].sum())
    need: dict[str, Any] = {"weighted": need_weighted, "residents": need_residents, "by_group": by_group}
    penalties: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rb in model.rows:
        if not rb.soft:
            continue
        cols = np.concatenate([d[d >= 0] for d in (rb.dev_plus, rb.dev_minus)])
        entry = penalties.setdefault((rb.clause, rb.family, rb.unit), {"deviation": 0.0, "contribution": 0.0,
                                                                       "penalty": rb.penalty})
        entry["deviation"] += float(x[cols].sum()) * rb.scale
        entry["contribution"] += contrib(cols)
    out: dict[str, Any] = {
        "need_covered": need,
        "penalties": [{"clause_id": k[0], "family": k[1], "unit": k[2], "title": BY_ID[k[0]].title,
                       "deviation": round(v["deviation"], 6), "penalty": v["penalty"],
                       "contribution": round(v["contribution"], 6)}
                      for k, v in sorted(penalties.items()) if v["deviation"] > 1e-9 or v["contribution"] != 0],
        "equity": contrib(model.col("eq")) if "eq" in model.columns else 0.0,
        "money": contrib(np.concatenate([model.col(m) for m in MONEY_COLUMNS])),
        "tie_breaks": contrib(np.concatenate([model.col(m) for m in TIE_BREAK_COLUMNS])),
    }
    for name, cols in (extra or {}).items():
        out[name] = contrib(cols)
    rest = np.flatnonzero(~used)
    out["other"] = float(c[rest] @ x[rest]) + offset
    penalty_sum = sum(p["contribution"] for p in out["penalties"])
    total = need_weighted + penalty_sum + out["equity"] + out["money"] + out["tie_breaks"] + out["other"]
    total += sum(out[name] for name in (extra or {}))
    out["penalty_total"] = penalty_sum
    out["total"] = total
    for k in ("equity", "money", "tie_breaks", "other", "penalty_total", "total", *(extra or {})):
        out[k] = round(out[k], 6)
    need["weighted"] = round(need_weighted, 6)
    need["residents"] = round(need_residents, 3)
    return out


def quality(status: Status, gap: float | None) -> str:
    """How a solve ended, in words: ``proven optimal``, ``optimal within X %`` or ``feasible, within X %``."""
    if status is Status.OPTIMAL:
        if gap is None or gap <= 1e-9:
            return "proven optimal"
        return f"optimal within {gap:.3%}"
    if status is Status.FEASIBLE:
        return "feasible, gap unknown" if gap is None else f"feasible, within {gap:.3%} of the bound"
    return status.value.replace("_", " ")


def stage_record(name: str, terms: str, result: SolverResult, seconds: float,
                 need_weighted: float | None = None) -> dict[str, Any]:
    """One stage's (or the weighted solve's) status, objective, bound, gap and wall time, on its terms.

    ``gap_on_need`` is the bound's distance as a share of the weighted need covered: the most service
    value the solve may have left on the table.
    """
    rec: dict[str, Any] = {"stage": name, "objective_terms": terms, "status": result.status.value,
                           "objective": result.objective, "bound": result.bound, "gap": result.gap,
                           "quality": quality(result.status, result.gap), "seconds": round(seconds, 3)}
    if need_weighted is not None and result.objective is not None and result.bound is not None:
        rec["gap_on_need"] = abs(result.bound - result.objective) / max(abs(need_weighted), 1.0)
    return rec


def _with_row(problem: MilpProblem, coef: np.ndarray, lo: float, hi: float, name: str) -> MilpProblem:
    A = sp.csr_array(sp.vstack([problem.A, sp.csr_array(coef.reshape(1, -1))]))
    names = None if problem.row_names is None else (*problem.row_names, name)
    return dataclasses.replace(problem, A=A, row_lower=np.append(problem.row_lower, lo),
                               row_upper=np.append(problem.row_upper, hi), row_names=names)


def solve_lexicographic(problem: MilpProblem, dev_cols: np.ndarray, backend: Any, options: SolveOptions,
                        tol_rel: float, tol_abs: float) -> tuple[SolverResult, dict[str, Any], np.ndarray]:
    """Stage 1: least weighted deviation; stage 2: the rest of the objective with it held.

    Parameters
    ----------
    problem : MilpProblem
        The weighted problem (maximise); its deviation columns carry ``-penalty`` per unit.
    dev_cols : ndarray
        The deviation columns.
    backend, options
        The solver and its options; a time limit is shared: stage 1 gets half, stage 2 what is left.
    tol_rel, tol_abs : float
        Stage 2 holds the weighted deviation <= stage 1's x (1 + tol_rel) + tol_abs.

    Returns
    -------
    (SolverResult, dict, ndarray)
        The final result (stage 2's, or stage 1's plan marked feasible if stage 2 found none), the
        record of both stages (``stages``, ``held``), and the stage-2 objective's coefficients.
    """
    is_dev = np.zeros(problem.num_cols, dtype=bool)
    is_dev[dev_cols] = True
    c1 = np.where(is_dev, problem.c, 0.0)
    c2 = np.where(is_dev, 0.0, problem.c)
    limit = options.within_deadline().time_limit  # the time both stages share (the backend reads the deadline)
    t0 = time.perf_counter()
    opt1 = dataclasses.replace(options, time_limit=None if limit is None else limit / 2)
    r1 = backend.solve(dataclasses.replace(problem, c=c1, offset=0.0), opt1)
    t1 = time.perf_counter() - t0
    stage1 = stage_record("1", "least weighted deviation of the soft clauses (penalty x deviation, objective "
                          "units; maximised as its negative)", r1, t1)
    record: dict[str, Any] = {"stages": [stage1]}
    if not r1.status.has_solution or r1.x is None or r1.objective is None:
        return r1, record, c2
    least = max(-float(r1.objective), 0.0)
    cap = least * (1.0 + tol_rel) + tol_abs
    record["held"] = {"least_weighted_deviation": least, "tolerance_relative": tol_rel,
                      "tolerance_absolute": tol_abs, "cap": cap}
    # The held row: -sum c1 x <= cap, i.e. sum c1 x >= -cap (c1 <= 0 on the deviations).
    p2 = _with_row(dataclasses.replace(problem, c=c2), c1, -cap, np.inf, HOLD_ROW)
    opt2 = dataclasses.replace(options, time_limit=None if limit is None else max(limit - t1, 1e-3))
    r2 = backend.solve(p2, opt2)
    t2 = time.perf_counter() - t0 - t1
    if not r2.status.has_solution or r2.x is None:
        # Stage 1's plan holds the deviation within the cap: it is a plan of stage 2, not proven best.
        x1 = r1.x
        obj2 = float(c2 @ x1 + problem.offset)
        r2 = dataclasses.replace(r2, status=Status.FEASIBLE, x=x1, objective=obj2, gap=None,
                                 message=f"stage 2 found no plan ({r2.status.value}): stage 1's plan kept")
    record["stages"].append(stage_record("2", "weighted need covered (with the equity term, money price, "
                                         "tie-breaks and baseline prices), weighted deviation held", r2, t2))
    return r2, record, c2


def combined_status(stages: list[dict[str, Any]]) -> Status:
    """Optimal when every stage is; feasible when the last has a plan; else the failing stage's status."""
    statuses = [Status(s["status"]) for s in stages]
    if all(s is Status.OPTIMAL for s in statuses):
        return Status.OPTIMAL
    for s in statuses:
        if not s.has_solution:
            return s
    return Status.FEASIBLE


__all__ = ["HOLD_ROW", "MODES", "combined_status", "deviation_columns", "objective_parts", "quality",
           "solve_lexicographic", "stage_record"]
