"""Backends that misbehave, for the guard tests (a small module: the guard's child imports it fast)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from solvers import Feature, MilpProblem, SolveOptions, Status, register
from solvers.base import BackendBase, SolverResult


class SlowBackend(BackendBase):
    """Ignores its time limit; starts a grandchild process like CBC does."""

    name = "test-slow"
    features = frozenset({Feature.LP, Feature.MILP, Feature.TIME_LIMIT})

    def available(self) -> bool:
        return True

    def version(self) -> str:
        return "0"

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        pid_file = os.environ.get("ALLOCATOR_TEST_PIDFILE")
        if pid_file:
            Path(pid_file).write_text(str(child.pid))
        time.sleep(120)
        return SolverResult(Status.OPTIMAL, solver=self.name)


class CrashingBackend(SlowBackend):
    name = "test-crash"

    def solve(self, problem: MilpProblem, options: SolveOptions) -> SolverResult:
        os._exit(3)


register(SlowBackend())
register(CrashingBackend())
