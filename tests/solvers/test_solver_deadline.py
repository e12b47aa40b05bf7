"""Time limits are promises: a Deadline covers the whole command, and the guard keeps the incumbent."""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from test_solver_backends import HARD, feasible

import solvers.cbc_backend
import solvers.highs_backend
import solvers.ortools_backend
from solvers import Deadline, Feature, SolveOptions, Status, backend_names, get_backend
from solvers.deadline import give_up_at, margin_for, solver_limit, stop_at

GAP = HARD["type-d-gap-20x200"]  # 4,000 binaries: HiGHS has a plan within a second, no proof for minutes
GUARDED = [n for n in backend_names() if get_backend(n).supports(Feature.INCUMBENT_ON_LIMIT)
           and get_backend(n).available() and n != "ortools"]  # (ortools is an alias of ortools-scip)
# Seconds a backend may take, after the give-up time, to hand its plan back: HiGHS and OR-Tools answer
# from memory; CBC writes its solution file after SIGINT and PuLP reads it back.
WIND_DOWN = {"cbc": 1.0 + solvers.cbc_backend.KILL_GRACE}


def test_deadline_arithmetic():
    d = Deadline(started=100.0, limit=60.0)
    assert d.at == 160.0 and d.margin() == margin_for(60.0) == 3.0
    assert margin_for(1.0) == 0.5 and margin_for(12.0) == 1.0 and margin_for(1000.0) == 10.0
    assert Deadline.start(None).remaining() is None and not Deadline.start(None).expired()
    assert Deadline.start(0.0).expired() and Deadline.start(5.0).overrun() == 0.0
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite limit >= 0"):
            Deadline.start(bad)


def test_a_command_deadline_counts_from_the_process_start():
    import subprocess
    import sys

    code = ("import time; time.sleep(1.0); from solvers import Deadline; "
            "print(Deadline.since_process_start(10.0).elapsed())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 1.0 <= float(out) < 30.0  # the sleep and the imports count


def test_solver_limit_leaves_the_margin_and_counts_what_was_spent():
    now = time.monotonic()
    d = Deadline(started=now - 4.0, limit=10.0)  # 4 s spent loading and building
    assert solver_limit(None, d, now) == pytest.approx(10.0 - 4.0 - 1.0, abs=0.05)
    assert solver_limit(3.0, d, now) == pytest.approx(3.0, abs=0.05)  # the smaller limit wins
    assert stop_at(None, d, now) == pytest.approx(now + 5.0, abs=0.05)
    assert give_up_at(None, d, now) == pytest.approx(now + 5.5, abs=0.05)
    assert solver_limit(None, Deadline(now - 20.0, 10.0), now) == 0.0  # passed: nothing left, not negative
    assert solver_limit(None, None, now) is None and stop_at(None, Deadline.start(None), now) is None
    opts = SolveOptions(time_limit=10.0, deadline=d).within_deadline()
    assert opts.time_limit == pytest.approx(5.0, abs=0.05) and opts.deadline is d


@pytest.mark.parametrize("name", GUARDED)
def test_guard_stops_an_overrunning_solver_and_returns_its_incumbent(name: str, monkeypatch):
    """A solver that ignores its own limit (HiGHS in root cut separation) is interrupted with its plan."""
    module = {"highs": solvers.highs_backend, "cbc": solvers.cbc_backend}.get(name, solvers.ortools_backend)
    monkeypatch.setattr(module, "solver_limit", lambda *args: None)  # the solver gets no limit of its own
    limit = 6.0
    deadline = Deadline.start(limit)
    r = get_backend(name).solve(GAP, SolveOptions(deadline=deadline, seed=1))
    elapsed = deadline.elapsed()
    assert r.status is Status.FEASIBLE, r.message
    assert r.extra["guard_interrupted"] is True and "wall-clock guard" in r.message
    assert r.x is not None and feasible(GAP, r.x)
    assert r.objective == pytest.approx(GAP.objective_value(r.x))
    assert r.bound is not None and r.bound <= r.objective + 1e-6  # minimisation
    assert r.gap is not None and r.gap > 0
    assert elapsed <= limit - margin_for(limit) / 2 + WIND_DOWN.get(name, 0.5), f"{name} took {elapsed:.2f} s"


def test_deadline_counts_the_time_spent_before_the_solve():
    limit = 4.0
    deadline = Deadline.start(limit)
    time.sleep(1.5)  # loading and building
    r = get_backend("highs").solve(GAP, SolveOptions(time_limit=limit, deadline=deadline))
    assert r.status is Status.FEASIBLE and r.gap is not None and r.gap > 0
    assert r.seconds <= limit - 1.5 - margin_for(limit) + 0.5
    assert deadline.elapsed() <= limit - margin_for(limit) / 2 + 0.5


def test_a_passed_deadline_gives_no_plan_at_once():
    r = get_backend("highs").solve(GAP, SolveOptions(deadline=Deadline(time.monotonic() - 10, 5.0)))
    assert r.status is Status.NO_SOLUTION and r.x is None and r.seconds < 2.0


def test_without_a_limit_highs_runs_unguarded(monkeypatch):
    """No limit, no guard: no callbacks, no solver thread (the seed plans stay byte-identical)."""
    def refuse(*args):
        raise AssertionError("a guard was set up without a limit")

    monkeypatch.setattr(solvers.highs_backend._Guard, "__init__", refuse)
    monkeypatch.setattr(solvers.highs_backend.threading, "Thread", refuse)
    r = get_backend("highs").solve(HARD["type-d-gap-20x200"].relaxed(), SolveOptions())
    assert r.status is Status.OPTIMAL and r.extra["guard_interrupted"] is False


def test_highs_busy_past_the_give_up_time_returns_the_recorded_incumbent(monkeypatch):
    """HiGHS checks no interrupt in presolve: past the give-up time the caller gets what was recorded,
    and the solve ends once it reaches a check (here: once released)."""
    release = threading.Event()
    # HiGHS somewhere it checks no interrupt, until released (its incumbents and bound are still recorded)
    monkeypatch.setattr(solvers.highs_backend._Guard, "due", lambda self: release.is_set())
    monkeypatch.setattr(solvers.highs_backend, "solver_limit", lambda *args: None)
    abandoned = solvers.highs_backend._ABANDONED
    assert solvers.highs_backend._settle_abandoned(time.monotonic() + 30)  # one given up on earlier, if any
    before = len(abandoned)
    limit = 3.0
    start = time.monotonic()
    try:  # a bare time limit: solved in this process (under a deadline HiGHS runs in a child process)
        r = get_backend("highs").solve(GAP, SolveOptions(time_limit=limit))
        elapsed = time.monotonic() - start
        assert r.status is Status.FEASIBLE, r.message
        assert "left to finish" in r.message and r.extra["guard_interrupted"] is True
        assert r.x is not None and feasible(GAP, r.x) and r.gap is not None and r.gap > 0
        assert elapsed <= limit + margin_for(limit) / 2 + 0.5
        assert len(abandoned) == before + 1
    finally:
        release.set()  # the abandoned solve stops at its next check instead of running on
        while len(abandoned) > before:
            _, finished = abandoned.pop()
            assert finished.wait(30.0), "the released HiGHS solve did not stop"


def test_guard_passes_an_lp_through():
    lp = HARD["type-d-gap-20x200"].relaxed()
    r = get_backend("highs").solve(lp, SolveOptions(deadline=Deadline.start(20.0)))
    assert r.status is Status.OPTIMAL and r.row_duals is not None and np.isfinite(r.objective)


def test_under_a_deadline_a_highs_child_that_does_not_answer_is_stopped_with_its_incumbent(monkeypatch):
    """The child sent incumbents, then went silent (HiGHS busy in a root LP): killed, its last plan kept."""
    original = solvers.highs_backend.HighsBackend.solve_here

    def silent_after_solving(self, problem, options, on_incumbent=None):
        original(self, problem, replace(options, deadline=None, time_limit=1.0), on_incumbent)
        time.sleep(60)  # never answers

    monkeypatch.setattr(solvers.highs_backend.HighsBackend, "solve_here", silent_after_solving)
    limit = 4.0
    deadline = Deadline.start(limit)
    r = get_backend("highs").solve(GAP, SolveOptions(deadline=deadline))
    elapsed = deadline.elapsed()
    assert r.status is Status.FEASIBLE, r.message
    assert "stopped by the wall-clock guard at the deadline" in r.message and r.extra["guard_killed"] is True
    assert r.x is not None and feasible(GAP, r.x) and r.gap is not None and r.gap > 0
    assert elapsed <= limit - margin_for(limit) / 2 + 0.5
    assert not [p for p in multiprocessing.active_children() if p.name == "highs-deadline"]
