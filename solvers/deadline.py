"""A time limit as a promise: one monotonic deadline for a whole command.

``allocator solve --time-limit 120`` promises an answer 120 s after the command
starts, not 120 s of solver time after a load and a build that may themselves
take half a minute (issue 17, item 20: 10,000 stations ran 169 s on a 120 s
limit).  A :class:`Deadline` is started when the command starts and travels in
:class:`solvers.SolveOptions`; every solve path asks it how much time is left.

Four times matter, all derived from the deadline by the backends
(:func:`solver_limit`, :func:`stop_at`, :func:`give_up_at`), ``m`` being the
margin (:func:`margin_for`):

* the solver's **own limit**, due at ``deadline - m``: the margin is kept for
  reading the solution back, building the plan's tables and writing them;
* the **guard**, at the same time: the backend interrupts its solver from
  a callback or another thread (HiGHS' interrupt callbacks, SCIP's
  ``InterruptSolve``, CP-SAT's ``stop_search``, SIGINT to CBC); each of them
  then returns the best plan it holds, which the backend reports as FEASIBLE
  with its gap (SOLVER-NOTES: HiGHS overruns its own limit in root cut
  separation, CBC overruns too);
* **giving up**, at ``deadline - m/2``: a solver still busy where it checks no
  interrupt (HiGHS' presolve) is no longer waited for; the backend returns
  the incumbent it recorded, or no plan;
* the **deadline** itself, by which the command has written its answer.

The clock is :func:`time.monotonic`, which is shared by every process of one
machine (Linux' ``CLOCK_MONOTONIC``), so a deadline may be sent to a local
child process; it means nothing on another machine (a Dask worker).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

# Seconds kept back from the solver for extraction and writing: 5 % of the limit, at least 1 s, at most
# 10 s, and never more than half the limit (plan tables and CSVs of 10,000 stations take about 2 s on
# this machine; HiGHS may take a few tenths of a second to reach an interrupt check on a busy one).
MARGIN_SHARE, MARGIN_MIN, MARGIN_MAX = 0.05, 1.0, 10.0


def margin_for(limit: float) -> float:
    """Seconds kept back from a solver given ``limit`` seconds in all."""
    return min(MARGIN_MAX, max(MARGIN_MIN, MARGIN_SHARE * limit), limit / 2)


#: A process older than this when a command starts runs commands in-process (see since_process_start).
FRESH_PROCESS_S = 30.0


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock by which a command must have answered.

    Parameters
    ----------
    started : float
        :func:`time.monotonic` when the command started.
    limit : float or None
        Seconds allowed from ``started``; None for no limit.

    Examples
    --------
    >>> d = Deadline.start(120.0)  # first thing in the command
    >>> d.remaining() <= 120.0
    True
    """

    started: float
    limit: float | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and not (math.isfinite(self.limit) and self.limit >= 0):
            raise ValueError(f"a deadline needs a finite limit >= 0 seconds, not {self.limit!r}")

    @classmethod
    def start(cls, limit: float | None) -> Deadline:
        """A deadline ``limit`` seconds from now (no limit when None)."""
        return cls(time.monotonic(), None if limit is None else float(limit))

    @classmethod
    def since_process_start(cls, limit: float | None) -> Deadline:
        """A deadline ``limit`` seconds from when this process started.

        For a command: Python's start-up and the imports (seconds on a busy machine) count too.
        Where the process' start cannot be read (no Linux ``/proc``), from now.  A process older than
        :data:`FRESH_PROCESS_S` is not a fresh command but a host that runs commands in-process (a test
        runner, a notebook, a sweep worker): its age says nothing of this command's start, so the
        deadline counts from now.
        """
        now = time.monotonic()
        try:
            # Field 22 of /proc/self/stat: the start in clock ticks since boot.
            ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
            age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, AttributeError):
            age = 0.0
        if not 0.0 <= age <= FRESH_PROCESS_S:
            age = 0.0
        return cls(now - age, None if limit is None else float(limit))

    @property
    def at(self) -> float | None:
        """The deadline on the monotonic clock; None without a limit."""
        return None if self.limit is None else self.started + self.limit

    def elapsed(self) -> float:
        """Seconds since the command started."""
        return time.monotonic() - self.started

    def remaining(self) -> float | None:
        """Seconds left (negative once passed); None without a limit."""
        at = self.at
        return None if at is None else at - time.monotonic()

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        left = self.remaining()
        return left is not None and left <= 0

    def overrun(self) -> float:
        """Seconds past the deadline (0 while it holds or without a limit)."""
        left = self.remaining()
        return 0.0 if left is None else max(0.0, -left)

    def margin(self) -> float:
        """Seconds kept back for extraction and writing."""
        return 0.0 if self.limit is None else margin_for(self.limit)


def solver_limit(time_limit: float | None, deadline: Deadline | None, started: float) -> float | None:
    """Seconds to set as a solver's own time limit.

    Parameters
    ----------
    time_limit : float or None
        The options' limit, counted from ``started`` (the backend's call).
    deadline : Deadline or None
        The command's deadline; its margin is kept back.
    started : float
        :func:`time.monotonic` when the backend was called.

    Returns
    -------
    float or None
        The smaller of the two, never below 0; None when neither limits.
    """
    limits = []
    if time_limit is not None:
        limits.append(float(time_limit) - (time.monotonic() - started))
    if deadline is not None and deadline.at is not None:
        limits.append(deadline.at - deadline.margin() - time.monotonic())
    return max(0.0, min(limits)) if limits else None


def _own_limit_at(time_limit: float | None, deadline: Deadline | None, started: float) -> tuple[float, float] | None:
    """When the solver's own limit falls due (monotonic) and the margin that goes with it."""
    dues = []
    if time_limit is not None:
        dues.append((started + float(time_limit), margin_for(float(time_limit))))
    if deadline is not None and deadline.at is not None:
        dues.append((deadline.at - deadline.margin(), deadline.margin()))
    return min(dues) if dues else None


def stop_at(time_limit: float | None, deadline: Deadline | None, started: float) -> float | None:
    """Monotonic time at which a backend interrupts a solver that overran its own limit.

    When the solver's own limit falls due (:func:`solver_limit`): solvers check their own
    limit at fewer points than their interrupt callbacks (HiGHS in root cut separation).
    """
    due = _own_limit_at(time_limit, deadline, started)
    return None if due is None else due[0]


def give_up_at(time_limit: float | None, deadline: Deadline | None, started: float) -> float | None:
    """Monotonic time after which a backend stops waiting for an interrupted solver.

    Half the margin after the solver's own limit: with a deadline, the other half is left to
    read the plan back and write it; with a bare ``time_limit`` the solve returns by
    ``time_limit`` plus half its margin.
    """
    due = _own_limit_at(time_limit, deadline, started)
    return None if due is None else due[0] + due[1] / 2
