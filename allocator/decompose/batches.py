"""Batch problems: what a pass asks of one batch, its solve (in a worker), and the runner that spreads
them over :class:`allocator.executor.Executor`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.decompose.partition import Batch
from allocator.executor import Executor
from solvers import MilpProblem, SolveOptions, Status, get_backend

# --------------------------------------------------------------------------------------------------
# Batch solves (run in workers: module-level functions and plain data only)

_BATCHES: tuple[Batch, ...] = ()


def _init_worker(batches: tuple[Batch, ...]) -> None:
    global _BATCHES
    _BATCHES = batches


@dataclass(frozen=True)
class BatchTask:
    """What a pass asks of one batch: a priced objective (Lagrangian) or row ranges (plan)."""

    index: int
    c: np.ndarray | None = None  # Lagrangian: objective of the batch columns
    lo: np.ndarray | None = None  # plan: coupling-row ranges of this batch
    hi: np.ndarray | None = None
    extra_a: sp.csr_array | None = None  # plan: columns added to the batch (coupling rows x extra) ...
    extra_c: np.ndarray | None = None  # ... their objective ...
    extra_lo: np.ndarray | None = None  # ... and bounds
    extra_hi: np.ndarray | None = None
    relaxed: bool = False  # LP relaxation
    heuristics: bool = True  # off in Lagrangian passes: only the bound and some optimal x are needed
    solver: str = "highs"
    gap: float = 1e-6
    time_limit: float | None = None


@dataclass(frozen=True)
class BatchResult:
    index: int
    status: Status
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    duals: np.ndarray | None = None


def solve_batch(task: BatchTask, batch: Batch | None = None) -> BatchResult:
    """Solve one batch problem (in a worker, or here when ``batch`` is given)."""
    b = batch if batch is not None else _BATCHES[task.index]
    integ = np.zeros_like(b.integrality) if task.relaxed else b.integrality
    if task.c is not None:
        prob = MilpProblem(task.c, b.A, b.row_lower, b.row_upper, b.col_lower, b.col_upper, integ, "max")
        n = len(b.cols)
    else:
        assert task.lo is not None and task.hi is not None
        n = len(b.cols)
        c, cl, cu, ig = b.c, b.col_lower, b.col_upper, integ
        AR = sp.csr_array(b.AR)
        if task.extra_a is not None:
            assert task.extra_c is not None and task.extra_lo is not None and task.extra_hi is not None
            E = sp.csr_array(task.extra_a)
            AR = sp.csr_array(sp.hstack([AR, E]))
            c = np.concatenate([c, task.extra_c])
            cl = np.concatenate([cl, task.extra_lo])
            cu = np.concatenate([cu, task.extra_hi])
            ig = np.concatenate([ig, np.zeros(E.shape[1], dtype=bool)])
        # the coupling rows this problem touches and that have a finite side
        keep = (np.isfinite(task.lo) | np.isfinite(task.hi)) & (np.diff(AR.indptr) > 0)
        Aloc = sp.hstack([b.A, sp.csr_array((b.A.shape[0], AR.shape[1] - n))]) if AR.shape[1] > n else b.A
        A2 = sp.csr_array(sp.vstack([Aloc, AR[keep]]))
        lo2 = np.concatenate([b.row_lower, task.lo[keep]])
        hi2 = np.concatenate([b.row_upper, task.hi[keep]])
        prob = MilpProblem(c, A2, lo2, hi2, cl, cu, ig, "max")
        n = len(c)
    res = get_backend(task.solver).solve(prob, SolveOptions(mip_gap=task.gap, time_limit=task.time_limit,
                                                            heuristics=task.heuristics))
    x = None if res.x is None else np.asarray(res.x[:n])
    bound = res.bound if res.bound is not None else (res.objective if res.status == Status.OPTIMAL else None)
    if task.relaxed and res.status == Status.OPTIMAL:
        bound = res.objective
    return BatchResult(task.index, res.status, x, res.objective, bound, res.seconds, res.row_duals)



class Runner:
    """Runs batch tasks on an :class:`~allocator.executor.Executor`; the batches are shipped once (to each
    pool worker by its initializer, to Dask by a scatter)."""

    def __init__(self, batches: tuple[Batch, ...], workers: int = 1, dask: Any = None):
        self.batches = batches
        self.executor = Executor(workers if len(batches) > 1 else 1, dask, initializer=_init_worker,
                                 initargs=(batches,))
        self.remote = self.executor.scatter(list(batches)) if self.executor.kind == "dask" else []
        self.slots = self.executor.slots

    def run(self, tasks: list[BatchTask]) -> list[BatchResult]:
        """Solve ``tasks``; results sorted by batch index."""
        kind = self.executor.kind
        if kind == "dask":
            calls: list[tuple[Any, ...]] = [(t, self.remote[t.index]) for t in tasks]
        elif kind == "processes":
            calls = [(t,) for t in tasks]  # the worker holds the batches (initializer)
        else:
            calls = [(t, self.batches[t.index]) for t in tasks]
        out = self.executor.map(solve_batch, calls)
        return sorted(out, key=lambda r: r.index)

    def close(self) -> None:
        """Stop the pool / close the client."""
        self.executor.close()
