"""CBC through PuLP (the CBC binary PuLP bundles, driven as a command).

The PuLP model is built row by row from the CSR arrays, one
``LpAffineExpression`` per row made from ready lists, so building is linear in
the number of non-zeros (``+=`` per coefficient would copy the expression
each time).

Status is taken from PuLP's *solution* status, never from its problem status:
PuLP reports a CBC run stopped on the time limit with a plan as status 1
"Optimal" (SOLVER-NOTES), and when CBC found no plan it still loads the values
CBC printed, which are those of the LP relaxation.  Whatever CBC says, a plan
is only returned after it has been checked against the problem's own rows,
bounds and integrality (:func:`max_violation`).

CBC prints the proven bound only in its log ("Lower bound:" when minimising,
"Upper bound:" when maximising, in the problem's own sense); the log is sent to
a temporary file and parsed, so CBC's output never reaches our stdout.

Seeds: CBC and CLP treat seed 0 as "use the time of day", which would make
runs irreproducible, so ``SolveOptions.seed = 0`` keeps CBC's fixed defaults
and any other value ``s`` is passed as ``randomCbcSeed s`` and ``randomSeed s``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from functools import cache
from pathlib import Path

import numpy as np

from solvers import register
from solvers.base import MilpProblem, SolveOptions, SolverResult, Status, relative_gap

# Tolerances of the independent check of a returned plan; CBC's own primal
# and integer tolerances are 1e-7 and 1e-6 (absolute).
_FEAS_TOL = 1e-4  # CBC's solution file prints values to about 8 significant digits
_INT_TOL = 1e-5

_BOUND_RE = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.MULTILINE)
_RESULT_RE = re.compile(r"^Result - (.+)$", re.MULTILINE)


def max_violation(problem: MilpProblem, x: np.ndarray) -> tuple[float, str]:
    """Largest violation of ``problem``'s rows, bounds or integrality by ``x``.

    Row and bound violations are scaled by ``max(1, |bound|)``.

    Parameters
    ----------
    problem : MilpProblem
        The problem the plan claims to solve.
    x : numpy.ndarray
        Column values, shape (n,).

    Returns
    -------
    tuple of (float, str)
        The worst violation and a short description of where it is (empty
        when there is none).
    """
    worst, where = 0.0, ""
    if x.shape != (problem.num_cols,) or not np.all(np.isfinite(x)):
        return math.inf, "plan has the wrong shape or non-finite values"
    checks = []
    act = problem.A @ x
    with np.errstate(invalid="ignore"):
        checks.append(("row", (problem.row_lower - act) / np.maximum(1.0, np.abs(problem.row_lower))))
        checks.append(("row", (act - problem.row_upper) / np.maximum(1.0, np.abs(problem.row_upper))))
        checks.append(("column", (problem.col_lower - x) / np.maximum(1.0, np.abs(problem.col_lower))))
        checks.append(("column", (x - problem.col_upper) / np.maximum(1.0, np.abs(problem.col_upper))))
    frac = np.where(problem.integrality, np.abs(x - np.round(x)), 0.0)
    for kind, v in checks:
        v = np.nan_to_num(v, nan=0.0, neginf=0.0)  # infinite bounds never bind
        if v.size and v.max() > worst:
            k = int(v.argmax())
            worst, where = float(v[k]), f"{kind} {k} violated by {v[k]:.3g} (relative)"
    if frac.size and frac.max() > _INT_TOL and frac.max() > worst:
        k = int(frac.argmax())
        worst, where = float(frac[k]), f"integer column {k} has value {x[k]!r}"
    return worst, where


def plan_is_valid(problem: MilpProblem, x: np.ndarray) -> tuple[bool, str]:
    """Whether ``x`` satisfies ``problem`` within the check tolerances.

    Parameters
    ----------
    problem : MilpProblem
        The problem.
    x : numpy.ndarray
        Column values.

    Returns
    -------
    tuple of (bool, str)
        Validity and, when invalid, where the worst violation is.
    """
    worst, where = max_violation(problem, x)
    limit = _INT_TOL if where.startswith("integer") else _FEAS_TOL
    return worst <= limit, where


@cache
def _cbc_path() -> str | None:
    """The bundled CBC binary, or a ``cbc`` on PATH if the bundle is missing."""
    try:
        from pulp.apis.coin_api import PULP_CBC_CMD
    except ImportError:
        return None
    # Read the class attribute: instantiating PULP_CBC_CMD warns of its removal in PuLP 4.
    bundled = PULP_CBC_CMD.pulp_cbc_path
    if os.path.isfile(bundled) and os.access(bundled, os.X_OK):
        return str(bundled)
    return shutil.which("cbc")


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def build_pulp(problem: MilpProblem, names: bool = False, with_offset: bool = False):  # type: ignore[no-untyped-def]
    """Build a ``pulp.LpProblem`` from ``problem``.

    Parameters
    ----------
    problem : MilpProblem
        The matrix form.
    names : bool
        Use ``problem.col_names`` / ``row_names`` (for writing files);
        otherwise ``x<j>`` and ``r<i>`` (PuLP renames them for CBC anyway).
    with_offset : bool
        Put ``problem.offset`` into the objective's constant.  Off for
        solving: the offset is added back to objective and bound by us.

    Returns
    -------
    tuple
        ``(lp_problem, variables)``, ``variables`` in column order.
    """
    import pulp

    sense = pulp.LpMaximize if problem.sense == "max" else pulp.LpMinimize
    lp = pulp.LpProblem("allocator", sense)
    col_names = problem.col_names if names and problem.col_names is not None else None
    row_names = problem.row_names if names and problem.row_names is not None else None
    lo = problem.col_lower.tolist()
    up = problem.col_upper.tolist()
    integ = problem.integrality.tolist()
    add_variable = lp.add_variable  # PuLP 4 style: LpVariable(...) warns once per column
    variables = [
        add_variable(
            col_names[j] if col_names else f"x{j}",
            lowBound=_finite(lo[j]),
            upBound=_finite(up[j]),
            cat=pulp.LpInteger if integ[j] else pulp.LpContinuous,
        )
        for j in range(problem.num_cols)
    ]
    c = np.asarray(problem.c, dtype=np.float64)
    nz = np.flatnonzero(c).tolist()
    cl = c.tolist()
    lp.setObjective(
        pulp.LpAffineExpression(
            [(variables[j], cl[j]) for j in nz],
            constant=float(problem.offset) if with_offset else 0.0,
        )
    )
    # Columns that appear nowhere must still reach CBC with their bounds.  PuLP 3.3's
    # add_variable does not register the column yet, and addVariables warns of PuLP 4.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lp.addVariables(variables)

    A = problem.A.tocsr()
    indptr, indices, data = A.indptr, A.indices.tolist(), A.data.tolist()
    rlo, rup = problem.row_lower.tolist(), problem.row_upper.tolist()
    add = lp.addConstraint
    for i in range(problem.num_rows):
        s, e = int(indptr[i]), int(indptr[i + 1])
        terms = list(zip([variables[k] for k in indices[s:e]], data[s:e], strict=True))
        lo_i, up_i = rlo[i], rup[i]
        base = row_names[i] if row_names else f"r{i}"
        if math.isfinite(lo_i) and math.isfinite(up_i) and lo_i == up_i:
            add(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintEQ, base, up_i))
            continue
        # PuLP has no ranged rows: a finite range becomes two rows.
        both = math.isfinite(lo_i) and math.isfinite(up_i)
        if math.isfinite(lo_i):
            name = f"{base}_lo" if both else base
            add(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintGE, name, lo_i))
        if math.isfinite(up_i):
            name = f"{base}_up" if both else base
            add(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintLE, name, up_i))
    return lp, variables


class CbcBackend:
    """CBC 2.10 via PuLP (MIP and LP; time limit, gap, threads, seed).

    No duals: PuLP's shadow prices from CBC are not reliable enough in sign
    and presence to be offered under the interface's ``duals`` feature.
    """

    name = "cbc"
    features = frozenset({"lp", "mip", "time_limit", "gap", "threads", "seed", "write"})

    def available(self) -> bool:
        return _cbc_path() is not None

    def version(self) -> str:
        return _cbc_version()

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        start = time.perf_counter()
        try:
            return self._solve(problem, options, start)
        except Exception as exc:  # a solver failure is a status, not a crash
            return SolverResult(
                Status.ERROR, solver=self.name, message=f"{type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - start,
            )

    def _solve(self, problem: MilpProblem, options: SolveOptions, start: float) -> SolverResult:
        """Run the CBC binary PuLP ships on an MPS file HiGHS writes, and read its solution file.

        PuLP 3.3's own MPS writer, with the renaming it applies for CBC, drops or mislabels columns
        of larger models (CBC then reports "No match for column ..." or a wrong "Infeasible"), so
        the model goes to CBC as a minimisation in an MPS file written by HiGHS.  CBC's statuses
        are read from its own result line and solution file, never from a wrapper.
        """
        from solvers.highs_backend import HighsBackend

        path = _cbc_path()
        if path is None:
            raise RuntimeError("no CBC binary found (PuLP's bundled one is missing)")
        flip = -1.0 if problem.sense == "max" else 1.0
        as_min = MilpProblem(flip * problem.c, problem.A, problem.row_lower, problem.row_upper, problem.col_lower,
                             problem.col_upper, problem.integrality, "min", 0.0)
        with tempfile.TemporaryDirectory(prefix="allocator-cbc-") as tmp:
            mps, sol = os.path.join(tmp, "model.mps"), os.path.join(tmp, "model.sol")
            HighsBackend().write(as_min, Path(mps))
            args = [path, mps]
            if options.time_limit is not None:
                args += ["-sec", f"{options.time_limit:g}", "-timeMode", "elapsed"]
            if problem.is_mip:
                args += ["-ratioGap", f"{options.mip_gap:g}"]
            if options.threads > 1:
                args += ["-threads", str(int(options.threads))]
            args += ["-randomCbcSeed", str(int(options.seed) + 1), "-solve", "-solution", sol]
            run = subprocess.run(args, capture_output=True, text=True, check=False)
            log = run.stdout
            text = Path(sol).read_text(errors="replace") if os.path.exists(sol) else ""
        if options.verbose:
            sys.stderr.write(log)
        seconds = time.perf_counter() - start
        head = text.splitlines()[0] if text else ""
        result_line = (_RESULT_RE.findall(log) or [""])[-1].strip()
        raw = result_line or head
        low = (result_line + " " + head).lower()
        x = None
        # "(no integer solution - continuous used)": the values are the LP relaxation's, not a plan.
        if text and "objective value" in head and "infeasible" not in head.lower() \
                and "no integer solution" not in head:
            x = np.zeros(problem.num_cols)
            for line in text.splitlines()[1:]:
                parts = line.split()
                if len(parts) >= 3 and parts[0].isdigit():
                    x[int(parts[0])] = float(parts[2])
        if "infeasible" in low:
            status = Status.INFEASIBLE
        elif "unbounded" in low:
            status = Status.UNBOUNDED
        elif x is not None and "optimal" in low and "stopped" not in low:
            status = Status.OPTIMAL
        elif x is not None and problem.is_mip:
            status = Status.FEASIBLE  # stopped on a limit with a plan
        elif "stopped" in low:
            status = Status.NO_SOLUTION
        else:
            status = Status.ERROR
        bound = objective = gap = None
        if status.has_solution and x is not None:
            ok, where = plan_is_valid(problem, x)
            if not ok:
                return SolverResult(Status.ERROR, solver=self.name, solver_version=self.version(), seconds=seconds,
                                    message=f"CBC returned a plan that fails the check: {where}; {raw}",
                                    raw_status=raw)
            if problem.is_mip:
                x = np.where(problem.integrality, np.round(x), x)
            objective = problem.objective_value(x)
            found = _BOUND_RE.findall(log)
            if found and problem.is_mip:
                with contextlib.suppress(ValueError):
                    bound = flip * float(found[-1]) + float(problem.offset)
            elif status is Status.OPTIMAL:
                bound = objective
            if status is Status.OPTIMAL and bound is None and problem.is_mip:
                bound = objective  # CBC proved optimality without printing a bound (e.g. solved at the root)
            if bound is not None and problem.is_mip:  # the bound cannot be worse than the plan
                bound = max(bound, objective) if problem.sense == "max" else min(bound, objective)
            gap = relative_gap(objective, bound)
            if status is Status.OPTIMAL and gap is not None and gap > options.mip_gap * (1 + 1e-9) + 1e-12:
                status = Status.FEASIBLE
        else:
            x = None
        return SolverResult(status, x=x, objective=objective, bound=bound, gap=gap, solver=self.name,
                            solver_version=self.version(), seconds=seconds, message=raw, raw_status=raw)

    def _result(self, problem, options, lp, variables, log, seconds):  # type: ignore[no-untyped-def]
        import pulp

        status_code, sol_status = lp.status, lp.sol_status
        m = _RESULT_RE.findall(log)
        cbc_result = m[-1].strip() if m else ""
        raw = f"{pulp.LpStatus.get(status_code, status_code)}/sol_status={sol_status}"
        if cbc_result:
            raw += f" ({cbc_result})"

        if status_code == pulp.LpStatusInfeasible:
            status = Status.INFEASIBLE
        elif status_code == pulp.LpStatusUnbounded:
            status = Status.UNBOUNDED
        elif status_code == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
            status = Status.OPTIMAL
        elif status_code == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionIntegerFeasible:
            status = Status.FEASIBLE  # PuLP's "Optimal" for a run stopped with a plan
        elif status_code == pulp.LpStatusNotSolved:
            status = Status.NO_SOLUTION  # the values PuLP loaded are not a plan
        else:
            status = Status.ERROR
        if status == Status.FEASIBLE and not problem.is_mip:
            status = Status.NO_SOLUTION  # an LP stopped early has no checked plan

        x = objective = bound = gap = None
        message = raw
        if status.has_solution:
            x = np.array([v.varValue if v.varValue is not None else np.nan for v in variables])
            ok, where = plan_is_valid(problem, x)
            if not ok:
                return SolverResult(
                    Status.ERROR, solver=self.name, solver_version=self.version(), seconds=seconds,
                    message=f"CBC returned a plan that fails the check: {where}; {raw}", raw_status=raw,
                )
            if problem.is_mip:
                x = np.where(problem.integrality, np.round(x), x)
            objective = problem.objective_value(x)
            found = _BOUND_RE.findall(log)
            if found:
                try:
                    bound = float(found[-1]) + float(problem.offset)
                except ValueError:
                    bound = None
            if status == Status.OPTIMAL and (bound is None or not problem.is_mip):
                bound = objective  # proven optimal: the bound is the objective
            if bound is not None and not math.isfinite(bound):
                bound = None
            gap = relative_gap(objective, bound)
            if (
                status == Status.OPTIMAL and problem.is_mip and gap is not None
                # CBC prints the bound to 3 decimals; allow for that rounding.
                and abs(bound - objective) > 1e-3  # type: ignore[operator]
                and gap > options.mip_gap * (1 + 1e-9) + 1e-12
            ):
                status = Status.FEASIBLE
                message = f"CBC said optimal but its bound leaves gap {gap:.3g}; {raw}"
        return SolverResult(
            status, x=x, objective=objective, bound=bound, gap=gap, solver=self.name,
            solver_version=self.version(), seconds=seconds, message=message, raw_status=raw,
            extra={"cbc_result": cbc_result},
        )

    def write(self, problem: MilpProblem, path: Path) -> None:
        """Write ``problem`` as MPS (with OBJSENSE) or LP, chosen by the suffix."""
        lp, _ = build_pulp(problem, names=True, with_offset=True)
        if str(path).lower().endswith(".lp"):
            lp.writeLP(str(path))
        else:
            # Without with_objsense PuLP writes the sense as a comment (SOLVER-NOTES).
            lp.writeMPS(str(path), with_objsense=True)


@cache
def _cbc_version() -> str:
    path = _cbc_path()
    if path is None:
        return ""
    try:
        out = subprocess.run(
            [path, "-quit"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    m = re.search(r"Version:\s*(\S+)", out)
    return m.group(1) if m else "unknown"


register(CbcBackend())
