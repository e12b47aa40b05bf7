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

import dataclasses

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
import scipy.sparse as sp

from solvers import register
from solvers.base import MilpProblem, SolveOptions, SolverResult, Status, relative_gap

# Tolerances of the independent check of a returned plan; CBC's own primal
# and integer tolerances are 1e-7 and 1e-6 (absolute).
_FEAS_TOL = 1e-6
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
        import pulp

        path = _cbc_path()
        if path is None:
            raise RuntimeError("no CBC binary found (PuLP's bundled one is missing)")
        # PuLP's MPS writer leaves out columns that appear in no row and not in the objective but keeps
        # their bounds, and CBC then rejects the file ("No match for column"): solve without them and
        # put each back at a value within its bounds (it affects nothing).
        full = problem
        used = np.zeros(problem.num_cols, dtype=bool)
        csc = problem.A.tocsc()
        used[csc.indices[csc.data != 0]] = True
        used |= problem.c != 0
        if not used.all():
            lo, hi = problem.col_lower[~used], problem.col_upper[~used]
            filler = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0))
            filler = np.where(problem.integrality[~used], np.ceil(filler - 1e-9), filler)
            problem = MilpProblem(problem.c[used], sp.csr_array(problem.A.tocsc()[:, np.flatnonzero(used)]),
                                  problem.row_lower, problem.row_upper, problem.col_lower[used],
                                  problem.col_upper[used], problem.integrality[used], problem.sense, problem.offset)
        lp, variables = build_pulp(problem)
        cbc_options: list[str] = []
        if options.seed:
            cbc_options += [f"randomCbcSeed {int(options.seed)}", f"randomSeed {int(options.seed)}"]
        with tempfile.TemporaryDirectory(prefix="allocator-cbc-") as tmp:
            log_path = os.path.join(tmp, "cbc.log")
            solver = pulp.COIN_CMD(
                path=path,
                mip=problem.is_mip,
                msg=False,  # CBC must not write to our stdout; the log goes to a file
                timeLimit=options.time_limit,
                gapRel=options.mip_gap if problem.is_mip else None,
                threads=int(options.threads) if options.threads > 1 else None,
                options=cbc_options,
                logPath=log_path,
            )
            solver.tmpDir = tmp  # PuLP leaves its files behind when CBC fails
            lp.solve(solver)
            log = Path(log_path).read_text(errors="replace") if os.path.exists(log_path) else ""
        if options.verbose:
            sys.stderr.write(log)
        seconds = time.perf_counter() - start
        result = self._result(problem, options, lp, variables, log, seconds)
        if problem is not full and result.x is not None:
            x = np.empty(full.num_cols)
            x[used] = result.x
            x[~used] = filler
            result = dataclasses.replace(result, x=x)
        return result

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
