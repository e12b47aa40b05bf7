"""HiGHS through highspy, fed the matrix directly (no modelling layer).

The numpy overload of ``Highs.passModel`` is used: SOLVER-NOTES measured it
about 6x faster than filling a ``HighsLp`` with Python lists.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from solvers import register
from solvers.base import MilpProblem, SolveOptions, SolverResult, Status, relative_gap

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


def _new_highs(options: SolveOptions):  # type: ignore[no-untyped-def]
    h = _quiet_highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("threads", int(options.threads))
    if options.time_limit is not None:
        h.setOptionValue("time_limit", float(options.time_limit))
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


class HighsBackend:
    """HiGHS (MIP and LP; duals on LPs; time limit, gap, threads, seed)."""

    name = "highs"
    features = frozenset({"lp", "mip", "duals", "time_limit", "gap", "threads", "seed", "write", "iis",
                          "lp_method", "heuristics"})

    def available(self) -> bool:
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def version(self) -> str:
        from importlib.metadata import version

        return version("highspy")

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        import highspy

        start = time.perf_counter()
        try:
            h = _new_highs(options)
            _pass(h, problem)
            h.run()
            ms = h.getModelStatus()
            if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
                # Presolve could not tell which; without it the simplex can.
                h.setOptionValue("presolve", "off")
                h.run()
                ms = h.getModelStatus()
            return self._result(h, problem, options, ms, time.perf_counter() - start)
        except Exception as exc:  # a solver failure is a status, not a crash
            return SolverResult(
                Status.ERROR, solver=self.name, message=f"{type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - start,
            )

    def _result(self, h, problem, options, ms, seconds):  # type: ignore[no-untyped-def]
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
        # A MIP's proven bound; an LP's optimum is its own bound.
        bound: float | None = float(info.mip_dual_bound) if problem.is_mip else (
            objective if ms == M.kOptimal else None)
        gap = relative_gap(objective, bound)
        if ms == M.kOptimal and has_primal:
            # HiGHS' own test is against mip_rel_gap; check it ourselves too.
            if problem.is_mip and gap is not None and gap > options.mip_gap * (1 + 1e-9) + 1e-12:
                status = Status.FEASIBLE
            else:
                status = Status.OPTIMAL
        elif ms == M.kInfeasible:
            status = Status.INFEASIBLE
        elif ms in (M.kUnbounded, M.kUnboundedOrInfeasible):
            status = Status.UNBOUNDED if ms == M.kUnbounded else Status.ERROR
        elif ms in (
            M.kTimeLimit, M.kIterationLimit, M.kSolutionLimit, M.kInterrupt,
            M.kObjectiveBound, M.kObjectiveTarget, M.kMemoryLimit,
        ):
            status = Status.FEASIBLE if has_primal else Status.NO_SOLUTION
        else:
            status = Status.ERROR
        if not status.has_solution:
            x, objective, duals = None, None, None
            gap = None
        return SolverResult(
            status, x=x, objective=objective, bound=bound if status.has_solution else None,
            gap=gap, solver=self.name, solver_version=self.version(), seconds=seconds,
            message=raw, row_duals=duals, raw_status=raw,
        )

    def write(self, problem: MilpProblem, path: Path) -> None:
        """Write ``problem`` as MPS or LP (chosen by the file suffix), with names."""
        h = _new_highs(SolveOptions())
        _pass(h, problem)
        if problem.col_names is not None:
            for j, name in enumerate(problem.col_names):
                h.passColName(j, name)
        if problem.row_names is not None:
            for i, name in enumerate(problem.row_names):
                h.passRowName(i, name)
        h.writeModel(str(path))


register(HighsBackend())
