"""HiGHS in a forked child process the parent can stop: solves under a command's deadline.

HiGHS checks no interrupt in some long phases (presolve; the LP solves of a MIP's root, which run in
a ``Highs`` object of their own, without callbacks): at 1,000 stations on a busy machine it ran 20 s
past its limit there.  A thread cannot be stopped, and an interpreter that exits under a running
HiGHS thread aborts; a child process can be killed.  So a solve under a
:class:`solvers.deadline.Deadline` is forked (the problem is shared copy-on-write, not pickled),
the child sends each improving solution up a pipe as HiGHS finds it and its result at the end, and
the parent stops waiting at the give-up time (:func:`solvers.deadline.give_up_at`), kills the
child and returns the last incumbent it received (FEASIBLE with its gap) or no plan.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from solvers.base import MilpProblem, SolveOptions, SolverResult, Status, relative_gap
from solvers.check import plan_is_valid
from solvers.deadline import give_up_at


def can_fork() -> bool:
    """Whether this process may fork a child (not on Windows; not inside a daemonic worker process,
    such as a ``multiprocessing.Pool`` or Dask worker, which may not have children)."""
    return hasattr(os, "fork") and not mp.current_process().daemon


def _child(conn: Connection, backend: Any, problem: MilpProblem, options: SolveOptions) -> None:
    """Solve in the child; send incumbents and the result; leave without running exit handlers."""
    try:
        if hasattr(os, "setsid"):
            os.setsid()  # own process group
        import highspy

        # The parent's HiGHS worker threads (threads > 1) did not come along: drop its scheduler, without
        # waiting for them.
        highspy.Highs.resetGlobalScheduler(False)

        def forward(x: np.ndarray | None, objective: float | None, bound: float | None) -> None:
            conn.send(("incumbent", (x, objective, bound)) if x is not None else ("bound", bound))

        result = backend.solve_here(problem, options, on_incumbent=forward)
        conn.send(("result", result))
    except BaseException as exc:  # reported to the parent, which decides
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
        os._exit(0)  # a forked child must not run the parent's atexit handlers or finalizers


def solve_in_child(backend: Any, problem: MilpProblem, options: SolveOptions) -> SolverResult:
    """Solve with HiGHS in a forked child; stopped at the give-up time with the best plan received.

    Parameters
    ----------
    backend : HighsBackend
        The backend (its ``solve_here`` runs in the child).
    problem : MilpProblem
        The problem.
    options : SolveOptions
        Options with a deadline.

    Returns
    -------
    SolverResult
        The child's result; or, when it was stopped, FEASIBLE with the last incumbent it sent (checked
        against the problem), else NO_SOLUTION.
    """
    start = time.perf_counter()
    started = time.monotonic()
    give_up = give_up_at(options.time_limit, options.deadline, started)
    assert give_up is not None
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, backend, problem, options), name="highs-deadline")
    proc.start()
    sender.close()
    best: tuple[np.ndarray, float, float | None] | None = None
    bound: float | None = None  # the latest dual bound (it only improves)
    final: SolverResult | None = None
    error = ""
    try:
        while final is None and not error:
            left = give_up - time.monotonic()
            if left <= 0 or not receiver.poll(left):
                break
            try:
                kind, payload = receiver.recv()
            except EOFError:
                error = f"HiGHS' process ended without a result (exit code {proc.exitcode})"
                break
            if kind == "incumbent":
                best = payload
                bound = payload[2] if payload[2] is not None else bound
            elif kind == "bound":
                bound = payload
            elif kind == "result":
                final = payload
            else:
                error = str(payload)
    finally:
        receiver.close()
        if proc.is_alive() and proc.pid is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        proc.join(5)
    seconds = time.perf_counter() - start
    if final is not None:
        return final
    return _stopped(backend, problem, best, bound, seconds, error)


def _stopped(backend: Any, problem: MilpProblem, best: tuple[np.ndarray, float, float | None] | None,
             bound: float | None, seconds: float, error: str) -> SolverResult:
    """The result of a child stopped at the give-up time (or lost): its last incumbent, if any."""
    version = backend.version()
    why = error or ("stopped by the wall-clock guard at the deadline (HiGHS was busy where it checks no "
                    "interrupt)")
    extra: dict[str, object] = {"guard_interrupted": True, "guard_killed": not error}
    if best is not None and problem.is_mip:
        x = best[0]
        ok, _ = plan_is_valid(problem, x)
        if ok:
            x = np.where(problem.integrality, np.round(x), x)
            objective = problem.objective_value(x)
            return SolverResult(Status.FEASIBLE, x=x, objective=objective, bound=bound,
                                gap=relative_gap(objective, bound), solver=backend.name, solver_version=version,
                                seconds=seconds, message=f"{why}; best plan found so far", raw_status="stopped",
                                extra=extra)
    status = Status.ERROR if error else Status.NO_SOLUTION
    return SolverResult(status, solver=backend.name, solver_version=version, seconds=seconds,
                        message=f"{why}; no plan had been found", raw_status="stopped", extra=extra)
