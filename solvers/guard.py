"""A hard wall-clock stop around any backend's solve: the last resort.

Solvers overrun their own time limits (SOLVER-NOTES: HiGHS ran a 300 s limit
to 590 s in root cut separation; CBC ran 408 s).  Every built-in backend
guards itself and returns its best plan when interrupted (see
:mod:`solvers.deadline`); this module is for a solver that does not come back
even then, or a backend without that guard: it solves in a child process and
stops it ``grace`` seconds after the backend's own give-up time
(:func:`solvers.deadline.give_up_at`, which honours ``SolveOptions.deadline``).
A plan the solver held when killed is lost, so the grace should leave the
backend's own interrupt time to act.

The child is started with the ``spawn`` method (a fresh interpreter: no
inherited solver threads or locks, unlike ``fork``) and makes itself the
leader of a new process group, so that stopping the group also stops any
solver binary it launched (CBC runs as a separate program under PuLP).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from multiprocessing.connection import Connection

from solvers import get_backend
from solvers.base import Backend, MilpProblem, SolveOptions, SolverResult, Status
from solvers.deadline import give_up_at


def _child(conn: Connection, backend: Backend, problem: MilpProblem, options: SolveOptions) -> None:
    """Entry point of the solving process: solve and send the result back."""
    if hasattr(os, "setsid"):
        os.setsid()  # own process group: the parent can stop CBC's binary with us
    try:
        result = backend.solve(problem, options)
    except BaseException as exc:  # backends should not raise; report it if one does
        result = SolverResult(Status.ERROR, solver=getattr(backend, "name", ""),
                              message=f"{type(exc).__name__}: {exc}")
    try:
        conn.send(result)
    finally:
        conn.close()


def _stop(proc: mp.process.BaseProcess) -> None:
    """Kill the child and its process group (solver binaries included)."""
    pid = proc.pid
    if pid is not None and hasattr(os, "killpg"):
        try:
            if os.getpgid(pid) == pid:  # the child has called setsid: kill the whole group
                os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.is_alive():
        proc.kill()
    proc.join(5)


def solve_guarded(backend_name: str, problem: MilpProblem, options: SolveOptions,
                  grace: float = 5.0) -> SolverResult:
    """Solve with ``backend_name`` in a child process, stopped ``grace`` seconds after the guard time.

    Parameters
    ----------
    backend_name : str
        Registry name of the backend (a backend registered at run time works
        too, provided its class can be imported by the child process).
    problem : MilpProblem
        The problem.
    options : SolveOptions
        Options; without ``time_limit`` or ``deadline`` the backend is called
        directly in this process.
    grace : float
        Seconds allowed beyond the backend's own give-up time, ``time_limit`` plus
        half its margin or the deadline less half its margin (process start-up,
        model hand-over and the solver's own wind-down all count).

    Returns
    -------
    SolverResult
        The backend's result, or ``NO_SOLUTION`` when the hard guard had to
        stop the solve (whatever plan the solver held is lost with the
        process), or ``ERROR`` if the child died without an answer.
    """
    backend = get_backend(backend_name)
    stop = give_up_at(options.time_limit, options.deadline, time.monotonic())
    if stop is None:
        return backend.solve(problem, options)
    budget = stop - time.monotonic() + float(grace)
    start = time.perf_counter()
    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    # Not a daemon: a daemonic process may not start processes of its own, and the
    # finally clause below stops the child on every way out of this function.
    proc = ctx.Process(target=_child, args=(sender, backend, problem, options),
                       name=f"solve-{backend_name}")
    proc.start()
    sender.close()  # only the child writes; EOF then means the child is gone
    try:
        remaining = budget - (time.perf_counter() - start)
        if receiver.poll(max(0.0, remaining)):
            try:
                result: SolverResult = receiver.recv()
            except EOFError:
                proc.join(5)
                return SolverResult(
                    Status.ERROR, solver=backend_name, seconds=time.perf_counter() - start,
                    message=f"solver process ended without a result (exit code {proc.exitcode})",
                )
            proc.join(5)
            if proc.is_alive():
                _stop(proc)
            return result
        _stop(proc)
        seconds = time.perf_counter() - start
        return SolverResult(
            Status.NO_SOLUTION, solver=backend_name, seconds=seconds, raw_status="killed",
            message=(
                f"stopped by the hard wall-clock guard after {seconds:.1f} s: the solver overran "
                f"its time limit and did not answer its own guard within {grace:g} s; "
                "any plan it held was lost"
            ),
            extra={"guard_killed": True},
        )
    finally:
        receiver.close()
        if proc.is_alive():
            _stop(proc)
