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

Time: CBC's own ``sec`` limit is the time left (:func:`solvers.deadline.solver_limit`); CBC
overruns it (408 s on a 300 s limit, SOLVER-NOTES), so at the guard's time
(:func:`solvers.deadline.stop_at`) a timer sends CBC SIGINT, on which CBC stops
its search and writes the best plan it has ("Stopped on ctrl-c"), reported
FEASIBLE; a CBC still running ``KILL_GRACE`` seconds after the give-up time
(:func:`solvers.deadline.give_up_at`) is killed (no plan).  The CBC process is found among this process' children by the
temporary folder on its command line (Linux ``/proc``; elsewhere only CBC's
own limit and :func:`solvers.guard.solve_guarded` apply).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from functools import cache
from pathlib import Path

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
from solvers.check import max_violation as max_violation  # re-exported: the check lived here
from solvers.check import plan_is_valid
from solvers.deadline import give_up_at, solver_limit, stop_at

# Seconds after the give-up time (solvers.deadline.give_up_at) before a CBC that ignored SIGINT is
# killed: after SIGINT, CBC and PuLP take about a second to write and read the plan back (several on a
# busy machine), and a kill loses it.
KILL_GRACE = 2.5

_BOUND_RE = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.MULTILINE)
_RESULT_RE = re.compile(r"^Result - (.+)$", re.MULTILINE)
_OBJ_RE = re.compile(r"^Objective value:\s+(\S+)", re.MULTILINE)


def _last_float(pattern: re.Pattern[str], text: str) -> float | None:
    found = pattern.findall(text)
    try:
        return float(found[-1]) if found else None
    except ValueError:
        return None


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
    # Every column goes into the objective, zero coefficients included: PuLP 3.3's MPS writer
    # writes a column only where it has a coefficient, so a column in no row with no cost was
    # left out of COLUMNS while its BOUNDS line stayed, and CBC rejected the file ("No match
    # for column ...").
    lp.setObjective(
        pulp.LpAffineExpression(
            list(zip(variables, np.asarray(problem.c, dtype=np.float64).tolist(), strict=True)),
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


def _children_running(marker: str) -> list[int]:
    """Pids of this process' children whose command line contains ``marker`` (Linux /proc)."""
    me, found = os.getpid(), list[int]()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != me:
                continue
            if marker in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


class _CbcGuard:
    """At ``stop`` (monotonic) send SIGINT to the CBC run marked by ``marker``; at ``kill``, SIGKILL."""

    def __init__(self, stop: float | None, kill: float | None, marker: str) -> None:
        self.stop, self.kill, self.marker = stop, kill, marker
        self.interrupted = self.killed = False
        self._timers: list[threading.Timer] = []

    def _later(self, delay: float, action) -> None:  # type: ignore[no-untyped-def]
        t = threading.Timer(max(0.0, delay), action)
        t.daemon = True
        self._timers.append(t)
        t.start()

    def _signal(self, sig: int) -> bool:
        sent = False
        for pid in _children_running(self.marker):
            try:
                os.kill(pid, sig)
                sent = True
            except ProcessLookupError:
                pass
        return sent

    def _interrupt(self) -> None:
        if self._signal(signal.SIGINT):
            self.interrupted = True
        if self.kill is not None:
            self._later(self.kill - time.monotonic(), self._kill)

    def _kill(self) -> None:
        if self._signal(signal.SIGKILL):
            self.killed = True

    def __enter__(self) -> _CbcGuard:
        if self.stop is not None:
            self._later(self.stop - time.monotonic(), self._interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        for t in self._timers:
            t.cancel()


class _KilledError(Exception):
    def __init__(self) -> None:
        super().__init__("CBC killed by the guard")


class CbcBackend(BackendBase):
    """CBC 2.10 via PuLP (MIP and LP; time limit, gap, threads, seed; incumbent on a limit).

    No duals: PuLP's shadow prices from CBC are not reliable enough in sign
    and presence to be offered under the interface's ``DUALS`` feature.
    """

    name = "cbc"
    features = frozenset({Feature.LP, Feature.MILP, Feature.TIME_LIMIT, Feature.MIP_GAP, Feature.THREADS,
                          Feature.SEED, Feature.WRITE_MPS, Feature.WRITE_LP, Feature.INCUMBENT_ON_LIMIT})

    def available(self) -> bool:
        """Whether the solver can run on this machine."""
        return _cbc_path() is not None

    def version(self) -> str:
        """Version of the underlying solver."""
        return _cbc_version()

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        """Solve ``problem``; a solver failure is returned as ``ERROR``, never raised.

        Parameters
        ----------
        problem : MilpProblem
            The problem.
        options : SolveOptions
            Time limit, gap, threads, seed, verbosity.

        Returns
        -------
        SolverResult
            Normalised status; a plan only after it passed :func:`plan_is_valid`.
        """
        start = time.perf_counter()
        started = time.monotonic()
        try:
            return self._solve(problem, options, start, started)
        except _KilledError:
            return SolverResult(
                Status.NO_SOLUTION, solver=self.name, solver_version=self.version(), raw_status="killed",
                seconds=time.perf_counter() - start, extra={"guard_interrupted": True, "guard_killed": True},
                message="CBC did not answer the wall-clock guard's interrupt in time and was stopped; no plan",
            )
        except Exception as exc:  # a solver failure is a status, not a crash
            return SolverResult(
                Status.ERROR, solver=self.name, message=f"{type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - start,
            )

    def _solve(self, problem: MilpProblem, options: SolveOptions, start: float, started: float) -> SolverResult:
        lp, variables = build_pulp(problem)
        stop = stop_at(options.time_limit, options.deadline, started)
        give_up = give_up_at(options.time_limit, options.deadline, started)
        kill = None if give_up is None else give_up + KILL_GRACE
        limit = solver_limit(options.time_limit, options.deadline, started)
        log, interrupted = self._run(lp, problem, options, limit, [], (stop, kill))
        result = self._result(problem, options, lp, variables, log, time.perf_counter() - start, interrupted)
        if result.extra.get("plan_mismatch"):
            # CBC 2.10.3's integer preprocessing can write a plan other than the one it found
            # (seen on random MIPs with free or negative integer columns): the log says the
            # optimum is -85, the solution file holds a valid plan worth -81.25.  Solving again
            # without that preprocessing gave the proven plan in every such case we found.
            left = solver_limit(options.time_limit, options.deadline, started)
            if left is None or left > 0:
                log, interrupted = self._run(lp, problem, options, left, ["preprocess off"], (stop, kill))
                retry = self._result(problem, options, lp, variables, log, time.perf_counter() - start, interrupted)
                if not retry.extra.get("plan_mismatch") and retry.status.has_solution:
                    return SolverResult(
                        retry.status, x=retry.x, objective=retry.objective, bound=retry.bound,
                        gap=retry.gap, solver=self.name, solver_version=retry.solver_version,
                        seconds=time.perf_counter() - start, raw_status=retry.raw_status,
                        message=f"re-solved with preprocess off: {result.message}; then {retry.message}",
                        extra={**retry.extra, "retried_without_preprocess": True},
                    )
        return result

    def _run(self, lp, problem: MilpProblem, options: SolveOptions, time_limit: float | None,  # type: ignore[no-untyped-def]
             extra: list[str], guard_at: tuple[float | None, float | None]) -> tuple[str, bool]:
        """Run CBC on ``lp`` through PuLP, interrupted and killed at ``guard_at``; return its log and
        whether it was interrupted."""
        import pulp

        path = _cbc_path()
        if path is None:
            raise RuntimeError("no CBC binary found (PuLP's bundled one is missing)")
        cbc_options = list(extra)
        if options.seed:
            cbc_options += [f"randomCbcSeed {int(options.seed)}", f"randomSeed {int(options.seed)}"]
        with tempfile.TemporaryDirectory(prefix="allocator-cbc-") as tmp:
            log_path = os.path.join(tmp, "cbc.log")
            solver = pulp.COIN_CMD(
                path=path,
                mip=problem.is_mip,
                msg=False,  # CBC must not write to our stdout; the log goes to a file
                # (at least 0.1 s: PuLP leaves a limit of 0 out, which would mean none)
                timeLimit=None if time_limit is None else max(0.1, time_limit),
                gapRel=options.mip_gap if problem.is_mip else None,
                threads=int(options.threads) if options.threads > 1 else None,
                options=cbc_options,
                logPath=log_path,
            )
            solver.tmpDir = tmp  # PuLP leaves its files behind when CBC fails
            try:
                with _CbcGuard(*guard_at, tmp) as guard:
                    lp.solve(solver)
            except pulp.PulpSolverError as exc:
                if guard.killed:
                    raise _KilledError() from None
                log = Path(log_path).read_text(errors="replace") if os.path.exists(log_path) else ""
                tail = " | ".join(line for line in log.splitlines() if "error" in line.lower() or "No match" in line)
                raise RuntimeError(f"{exc}; CBC log: {tail[:500]}") from None
            log = Path(log_path).read_text(errors="replace") if os.path.exists(log_path) else ""
        if options.verbose:
            sys.stderr.write(log)
        return log, guard.interrupted

    def _result(self, problem, options, lp, variables, log, seconds, interrupted):  # type: ignore[no-untyped-def]
        import pulp

        status_code, sol_status = lp.status, lp.sol_status
        m = _RESULT_RE.findall(log)
        cbc_result = m[-1].strip() if m else ""
        raw = f"{pulp.LpStatus.get(status_code, status_code)}/sol_status={sol_status}"
        if cbc_result:
            raw += f" ({cbc_result})"

        # PuLP's problem status "Optimal" is believed only with the solution status "Optimal":
        # with "IntegerFeasible" it is a run stopped with a plan.
        if status_code == pulp.LpStatusInfeasible:
            termination = Termination.INFEASIBLE
        elif status_code == pulp.LpStatusUnbounded:
            termination = Termination.UNBOUNDED
        elif status_code == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
            termination = Termination.OPTIMAL
        elif status_code in (pulp.LpStatusOptimal, pulp.LpStatusNotSolved):
            termination = Termination.LIMIT  # NotSolved: the values PuLP loaded are not a plan
        else:
            termination = Termination.ERROR
        # An LP stopped early has no checked plan; a MIP's integer-feasible one is a plan.
        has_plan = sol_status == pulp.LpSolutionOptimal or (
            problem.is_mip and sol_status == pulp.LpSolutionIntegerFeasible)
        status = map_status(termination, has_plan)

        x = objective = bound = gap = None
        if interrupted:
            raw += " (interrupted by the wall-clock guard)"
        message = raw
        mismatch = False
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
            claimed = _last_float(_OBJ_RE, log)
            if problem.is_mip and claimed is not None:
                claimed += float(problem.offset)
                worse = objective - claimed if problem.sense == "min" else claimed - objective
                if worse > 1e-6 * max(1.0, abs(claimed)):
                    # The plan in the solution file is not the one CBC reports: never call it optimal.
                    mismatch = True
                    message = (f"CBC reported objective {claimed:.10g} but wrote a plan worth "
                               f"{objective:.10g}; {raw}")
                    if status == Status.OPTIMAL:
                        status, bound = Status.FEASIBLE, claimed  # the proven optimum is a bound
            if status == Status.OPTIMAL and (bound is None or not problem.is_mip):
                bound = objective  # proven optimal: the bound is the objective
            if bound is not None and not math.isfinite(bound):
                bound = None
            gap = relative_gap(objective, bound)
            # CBC prints the bound to 3 decimals; allow for that rounding.
            status, note = confirm_optimal(status, problem, options, objective, bound, bound_abs_tol=1e-3)
            message = note + message
        return SolverResult(
            status, x=x, objective=objective, bound=bound, gap=gap, solver=self.name,
            solver_version=self.version(), seconds=seconds, message=message, raw_status=raw,
            extra={"cbc_result": cbc_result, "plan_mismatch": mismatch, "guard_interrupted": interrupted},
        )


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
