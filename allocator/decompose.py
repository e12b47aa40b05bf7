"""Lagrangian decomposition of the station model, for national instances.

Why
---
Stations interact only through a few *coupling rows*: city totals and shares (budgets, density,
coverage, build counts, F-DEMO count) and the worst-county equity rows, which tie every county to the
one global ``eq`` column.  Everything else -- staff, money, services, floor area, the per-county
F-DEMO rows -- belongs to one station or one county.  The monolithic MIP does not see this; at 40,000
stations HiGHS cannot even finish the LP relaxation in the time the target allows.

Formulation
-----------
The built model is ``max c x  s.t.  lo <= A x <= hi,  l <= x <= u,  x_j integer (j in I)``.

Sets
    S stations, each in a county; B *batches*: whole counties grouped to about ``batch_size``
    stations.  Every column belongs to one batch (through its station, or through the only batch its
    rows touch) or is *global* (``eq``; the deviation columns of soft total rows).
Rows
    *local* rows touch the columns of one batch only (engine rules, per-station clauses, per-county
    F-DEMO rows); *coupling* rows R touch several batches or a global column.
Lagrangian (multipliers pi_r, r in R; pi_r >= 0 needs hi_r finite, pi_r <= 0 needs lo_r finite)
    L(pi) = sum_b max{ (c_b - pi A_Rb) x_b : x_b in X_b }  +  max{ (c_g - pi A_Rg) x_g : l_g <= x_g <= u_g }
            + sum_r max(pi_r hi_r, pi_r lo_r)
    where X_b is batch b's local polytope with its integrality.  For every feasible x,
    c x = c x - pi (A_R x - r) <= L(pi) with r = A_R x in [lo, hi]: **L(pi) is a valid upper bound**
    whenever each batch term is itself an upper bound -- we use the batch MIP's *dual bound*, never
    its incumbent.  The global term is in closed form; a global column with an infinite bound caps
    pi (a soft row's multiplier never exceeds its penalty).
Multipliers
    pi_0 from the LP relaxation (interior point) of a *sample* of batches (all of them when the model
    is small, which makes pi_0 the exact LP duals and L(pi_0) at least as tight as the LP bound), each
    coupling row's range scaled by the sample's share of the row's coefficients (a row the sample does
    not touch stays free; the equity rows of counties outside the sample are therefore unpriced at
    first); then Polyak subgradient steps ``pi <- pi - t g`` with g_r = r_r - A_R x(pi) (r the
    projection of A_R x(pi) on [lo, hi]).
Primal plan (resource split)
    Global columns are fixed (deviations become one copy per batch, with the same penalty;
    ``eq`` the largest value the batch solutions allow), and each coupling row's range is split into
    one range per batch: the batch's usage in the Lagrangian solution plus a share of what the row
    still has (or lacks), in proportion to the batch's usage; a row whose activity is always an
    integer (stations built, demonstration stations) is split into integers that add up to its range.
    Each batch MIP is then solved with its ranges as hard rows; as the ranges add up to the row's
    range, the union of the batch plans is feasible for the coupled model, which is checked row by
    row on the whole model before it counts.  The split is tried *partially* first: only the batches
    that use a broken row most get its shortfall (for a hard row, enough of them that none changes its
    usage by more than :data:`SPLIT_CHANGE`); the others keep their Lagrangian solution, which meets
    its range exactly.  Then an LP polish (integers fixed) and Gauss-Seidel sweeps improve the plan.
Status
    OPTIMAL when (best bound - best plan) / |best bound| <= the gap asked, FEASIBLE with the gap
    otherwise, INFEASIBLE when a batch's local rows have no solution or a hard coupling row cannot
    be met even by each batch pushing that row alone to its limit (LP bounds), NO_SOLUTION when no
    plan was found in the time given.

Batches are solved in this process, on a process pool (``workers``) or on Dask (``dask``: an
address or a ``Client``); the batch problems are sent to the workers once, each pass sends only the
objective (or the row ranges) of each batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.station import Model
from solvers import MilpProblem, SolveOptions, SolverResult, Status, get_backend
from solvers.base import relative_gap


@dataclass(frozen=True)
class DecomposeOptions:
    """Options of the decomposition.

    Parameters
    ----------
    batch_size : int
        Stations per batch (whole counties; a county larger than this is one batch).
    workers : int
        Worker processes for the batches (1: in this process).
    dask : object
        A Dask scheduler address or ``distributed.Client``; overrides ``workers``.
    max_iterations : int
        Lagrangian passes at most.
    sample_stations : int
        Stations in the sample whose LP gives the first multipliers.
    stall : int
        Stop when the bound moved less than 1 % of the gap asked over this many passes.
    split_picks : tuple of float
        Partial splits tried in turn for a plan (share of the batches re-solved per broken coupling
        row; 1.0 re-solves every batch).
    polish : bool
        After a plan is found, fix its integer columns and re-solve the whole model's LP (money,
        coverage, deviations and ``eq`` re-balanced across batches at once).
    """

    batch_size: int = 300
    workers: int = 1
    dask: Any = None
    max_iterations: int = 30
    sample_stations: int = 1500
    polish: bool = True
    stall: int = 3
    split_picks: tuple[float, ...] = (0.1, 0.35, 1.0)


@dataclass(frozen=True, eq=False)
class Batch:
    """One batch: its columns and local rows (a small MILP), and its part of the coupling rows."""

    cols: np.ndarray
    A: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    c: np.ndarray
    AR: sp.csr_array  # coupling rows x batch columns
    stations: int


@dataclass(frozen=True, eq=False)
class Structure:
    """The block structure of a model: batches, global columns and coupling rows."""

    batches: tuple[Batch, ...]
    coupling: np.ndarray  # row indices
    global_cols: np.ndarray
    AR_global: sp.csr_array  # coupling rows x global columns
    col_batch: np.ndarray  # batch of each column, -1 global


def partition(model: Model, county: np.ndarray, batch_size: int = 300) -> Structure:
    """Split ``model`` into batches of whole counties, coupling rows and global columns.

    Parameters
    ----------
    model : Model
        The built station model.
    county : ndarray
        County of each station (instance order).
    batch_size : int
        Stations per batch, about.

    Returns
    -------
    Structure
    """
    p = model.problem
    S = len(county)
    station_of = np.full(p.num_cols, -1)
    for name, blk in model.columns.items():
        if name.startswith("dev:") or not blk.shape or blk.shape[0] != S:
            continue
        station_of[blk.index().ravel()] = np.repeat(np.arange(S), blk.size // S)
    for rb in model.rows:
        for dev in (rb.dev_plus, rb.dev_minus):
            ok = (dev >= 0) & (rb.stations >= 0)
            station_of[dev[ok]] = rb.stations[ok]
    # Whole counties per batch, counties in sorted order, about batch_size stations each.
    names, inv = np.unique(np.asarray(county, dtype=str), return_inverse=True)
    sizes = np.bincount(inv, minlength=len(names))
    county_batch = np.zeros(len(names), dtype=np.int64)
    b, filled = 0, 0
    for i, n in enumerate(sizes):
        if filled and filled + n > batch_size:
            b, filled = b + 1, 0
        county_batch[i] = b
        filled += int(n)
    station_batch = county_batch[inv]
    col_batch = np.where(station_of >= 0, station_batch[np.maximum(station_of, 0)], -1)

    A = sp.csr_array(p.A)
    A.sort_indices()

    def row_span(cb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vals = cb[A.indices]
        nnz = np.diff(A.indptr)
        has = nnz > 0
        starts = A.indptr[:-1][has]
        big = np.iinfo(np.int64).max
        lo = np.full(A.shape[0], -1)
        hi = np.full(A.shape[0], -1)
        unassigned = np.zeros(A.shape[0], dtype=np.int64)
        if len(vals):
            lo[has] = np.minimum.reduceat(np.where(vals >= 0, vals, big), starts)
            hi[has] = np.maximum.reduceat(vals, starts)
            unassigned[has] = np.add.reduceat((vals < 0).astype(np.int64), starts)
        lo[lo == big] = -1
        return lo, hi, unassigned

    # A column of no station whose rows all lie in one batch belongs to that batch (e.g. the
    # deviation column of a soft per-county row).
    lo, hi, _ = row_span(col_batch)
    single = np.where((lo >= 0) & (lo == hi), lo, -2)
    free = np.flatnonzero(col_batch < 0)
    if len(free):
        Ac = sp.csc_array(A[:, free])
        Ac.sort_indices()
        rb_of = single[Ac.indices]
        nnz = np.diff(Ac.indptr)
        has = nnz > 0
        if has.any():
            starts = Ac.indptr[:-1][has]
            mn = np.minimum.reduceat(rb_of, starts)
            mx = np.maximum.reduceat(rb_of, starts)
            own = np.full(len(free), -1)
            own[has] = np.where((mn == mx) & (mn >= 0), mn, -1)
            col_batch[free] = own
    lo, hi, unassigned = row_span(col_batch)
    coupling_mask = (lo != hi) | (unassigned > 0) | (lo < 0)
    row_batch = np.where(coupling_mask, -1, lo)
    coupling = np.flatnonzero(coupling_mask & (np.diff(A.indptr) > 0))
    global_cols = np.flatnonzero(col_batch < 0)
    nb = int(station_batch.max()) + 1 if S else 0

    col_order = np.argsort(col_batch, kind="stable")
    col_starts = np.searchsorted(col_batch[col_order], np.arange(nb + 1))
    row_order = np.argsort(row_batch, kind="stable")
    row_starts = np.searchsorted(row_batch[row_order], np.arange(nb + 1))
    P = sp.csr_array(A[row_order][:, col_order])
    AR = sp.csc_array(A[coupling][:, col_order])
    batches = []
    for k in range(nb):
        c0, c1 = col_starts[k], col_starts[k + 1]
        r0, r1 = row_starts[k], row_starts[k + 1]
        cols = col_order[c0:c1]
        rows = row_order[r0:r1]
        batches.append(Batch(
            cols=cols, A=sp.csr_array(P[r0:r1][:, c0:c1]), row_lower=p.row_lower[rows], row_upper=p.row_upper[rows],
            col_lower=p.col_lower[cols], col_upper=p.col_upper[cols], integrality=p.integrality[cols],
            c=p.c[cols], AR=sp.csr_array(AR[:, c0:c1]), stations=int((station_batch == k).sum())))
    AR_global = sp.csr_array(A[coupling][:, global_cols])
    return Structure(tuple(batches), coupling, global_cols, AR_global, col_batch)


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
    """Runs batch tasks here, on a process pool, or on Dask; batches are shipped once."""

    def __init__(self, batches: tuple[Batch, ...], workers: int = 1, dask: Any = None):
        self.batches = batches
        self.workers = workers
        self.pool: cf.ProcessPoolExecutor | None = None
        self.client: Any = None
        self.own_client = False
        self.remote: list[Any] = []
        self.slots = 1  # batches solved at once
        if dask is not None:
            from distributed import Client

            self.own_client = not isinstance(dask, Client)
            self.client = Client(dask, timeout="20s") if self.own_client else dask
            self.remote = list(self.client.scatter(list(batches), broadcast=False))
            self.slots = max(1, sum(int(n) for n in self.client.nthreads().values()))
        elif workers > 1 and len(batches) > 1:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                               initargs=(batches,))
            self.slots = workers

    def run(self, tasks: list[BatchTask]) -> list[BatchResult]:
        if self.client is not None:
            futs = [self.client.submit(solve_batch, t, self.remote[t.index], pure=False) for t in tasks]
            out = self.client.gather(futs)
        elif self.pool is not None:
            chunk = max(1, len(tasks) // (8 * self.workers))
            out = list(self.pool.map(solve_batch, tasks, chunksize=chunk))
        else:
            out = [solve_batch(t, self.batches[t.index]) for t in tasks]
        return sorted(out, key=lambda r: r.index)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.client is not None and self.own_client:
            with contextlib.suppress(Exception):
                self.client.close()


# --------------------------------------------------------------------------------------------------
# The method


@dataclass
class _State:
    best_bound: float = np.inf
    best_x: np.ndarray | None = None
    best_obj: float = -np.inf
    history: list[dict[str, float]] = field(default_factory=list)


def _h(pi: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    with np.errstate(invalid="ignore"):
        return float(np.sum(np.where(pi > 0, pi * hi, np.where(pi < 0, pi * lo, 0.0))))


def _project(pi: np.ndarray, lo: np.ndarray, hi: np.ndarray, cap_lo: np.ndarray, cap_hi: np.ndarray) -> np.ndarray:
    pi = np.where(np.isfinite(hi), pi, np.minimum(pi, 0.0))
    pi = np.where(np.isfinite(lo), pi, np.maximum(pi, 0.0))
    return np.clip(pi, cap_lo, cap_hi)


def _global_caps(st: Structure, p: MilpProblem) -> tuple[np.ndarray, np.ndarray]:
    """Multiplier box that keeps the closed-form global term finite (single-row global columns)."""
    R = len(st.coupling)
    cap_lo, cap_hi = np.full(R, -np.inf), np.full(R, np.inf)
    G = sp.csc_array(st.AR_global)
    cg = p.c[st.global_cols]
    lg, ug = p.col_lower[st.global_cols], p.col_upper[st.global_cols]
    for j in range(len(st.global_cols)):
        rows = G.indices[G.indptr[j]:G.indptr[j + 1]]
        vals = G.data[G.indptr[j]:G.indptr[j + 1]]
        if len(rows) != 1:
            continue
        r, a = rows[0], vals[0]
        # reduced coefficient cg - pi_r a must be <= 0 if ug = inf, >= 0 if lg = -inf
        if np.isinf(ug[j]):
            if a > 0:
                cap_lo[r] = max(cap_lo[r], cg[j] / a)
            else:
                cap_hi[r] = min(cap_hi[r], cg[j] / a)
        if np.isinf(lg[j]):
            if a > 0:
                cap_hi[r] = min(cap_hi[r], cg[j] / a)
            else:
                cap_lo[r] = max(cap_lo[r], cg[j] / a)
    return cap_lo, cap_hi


def _global_term(st: Structure, p: MilpProblem, pi: np.ndarray) -> tuple[float, np.ndarray]:
    cg = p.c[st.global_cols] - st.AR_global.T @ pi
    lg, ug = p.col_lower[st.global_cols], p.col_upper[st.global_cols]
    xg = np.where(cg > 0, ug, np.where(cg < 0, lg, np.clip(0.0, lg, ug)))
    if not np.all(np.isfinite(xg)):
        return np.inf, xg
    return float(cg @ xg), xg


def solve_decomposed(model: Model, county: np.ndarray, options: SolveOptions | None = None,
                     solver: str = "highs", dopts: DecomposeOptions | None = None,
                     on_pass: Callable[[dict[str, float]], None] | None = None) -> SolverResult:
    """Solve the station model by Lagrangian decomposition (see the module docstring).

    Parameters
    ----------
    model : Model
        The built station model.
    county : ndarray
        County of each station.
    options : SolveOptions
        ``mip_gap`` is the gap that counts as optimal, ``time_limit`` the wall-clock budget.
    solver : str
        Backend for the batch problems.
    dopts : DecomposeOptions
        Batch size, workers, Dask.
    on_pass : callable, optional
        Called after every pass with its history entry (seconds, bound, Lagrangian value, best plan).

    Returns
    -------
    SolverResult
        With ``extra['history']`` (bound and plan per pass) and ``extra['batches']``.
    """
    options = options or SolveOptions(mip_gap=0.01)
    dopts = dopts or DecomposeOptions()
    t0 = time.perf_counter()
    deadline = t0 + options.time_limit if options.time_limit else np.inf
    p = model.problem
    st = partition(model, county, dopts.batch_size)
    lo_R, hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
    A = sp.csr_array(p.A)
    runner = Runner(st.batches, dopts.workers, dopts.dask)
    row_norm2 = np.maximum(np.asarray(A[st.coupling].multiply(A[st.coupling]).sum(axis=1)).ravel(), 1e-12)
    state = _State()
    sub_gap = max(min(options.mip_gap / 5, 1e-4), 1e-7)
    msg = ""
    try:
        cap_lo, cap_hi = _global_caps(st, p)
        pi = _project(_first_multipliers(st, p, solver, dopts, deadline), lo_R, hi_R, cap_lo, cap_hi)
        step = 1.0
        last_plan_bound = np.inf
        last_pass = 0.0
        for it in range(dopts.max_iterations):
            left = deadline - time.perf_counter()
            rounds = -(-len(st.batches) // max(1, runner.slots))
            if left <= 0 or (it > 0 and left < max(0.5 * last_pass, rounds * MIN_TASK_SECONDS)):
                # (a pass with less than half the time the last one took gives a weak bound and seldom a
                # plan: not worth starting; nor one whose least task limits alone would pass the deadline)
                msg = "time limit"
                break
            limit = _task_limit(left, len(st.batches), runner.slots)
            pass_start = time.perf_counter()
            tasks = [BatchTask(k, c=b.c - b.AR.T @ pi, solver=solver, gap=sub_gap, time_limit=limit, heuristics=False)
                     for k, b in enumerate(st.batches)]
            results = runner.run(tasks)
            last_pass = time.perf_counter() - pass_start
            bad = [r for r in results if r.status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.ERROR)]
            if any(r.status == Status.INFEASIBLE for r in bad):
                return _result(Status.INFEASIBLE, None, None, None, t0, solver, st, state,
                               "a batch's own rows (stations of one county group) have no solution")
            if bad or any(r.bound is None for r in results):
                msg = "a batch problem failed or ran out of time"
                break
            g_val, xg = _global_term(st, p, pi)
            L = sum(float(r.bound or 0.0) for r in results) + g_val + _h(pi, lo_R, hi_R) + p.offset
            # (a batch cut short by its time limit with a solution still gives a valid dual bound)
            state.best_bound = min(state.best_bound, L)
            if any(r.x is None for r in results):
                msg = "a batch problem ran out of time before a solution"
                state.history.append({"pass": it + 1, "seconds": time.perf_counter() - t0,
                                      "bound": state.best_bound, "lagrangian": L, "plan": state.best_obj})
                break
            x = np.zeros(p.num_cols)
            for r in results:
                x[st.batches[r.index].cols] = r.x
            x[st.global_cols] = xg
            usage = np.asarray([b.AR @ x[b.cols] for b in st.batches])  # batches x R
            activity = usage.sum(axis=0) + st.AR_global @ xg
            # The Lagrangian solution itself may satisfy the coupling rows.
            _try_plan(state, p, A, _fix_globals(st, p, x, usage), options)
            # A new plan only when the bound moved by a tenth of the gap asked: a plan pass costs as
            # much as a Lagrangian pass or more.
            if state.best_bound - state.best_obj > _tol(options, state) and \
                    (it == 0 or last_plan_bound - state.best_bound > 0.1 * _tol(options, state)) and \
                    deadline - time.perf_counter() > 0:
                last_plan_bound = state.best_bound
                ok = False
                for pick in dopts.split_picks:
                    if deadline - time.perf_counter() <= 0:
                        break
                    xp = _plan_by_split(st, p, x, usage, runner, solver, max(sub_gap, options.mip_gap / 2), deadline,
                                        pick)
                    if xp is not None and _try_plan(state, p, A, xp, options):
                        ok = True
                        break
                if not ok:
                    xr = _repair(st, p, _fix_globals(st, p, x, usage), solver, max(sub_gap, options.mip_gap / 2),
                                 deadline)
                    if xr is not None:
                        _try_plan(state, p, A, xr, options)
            if state.best_x is not None and state.best_bound - state.best_obj > _tol(options, state):
                _local_search(state, st, p, A, solver, options, dopts, deadline, sweeps=1)
            state.history.append({"pass": it + 1, "seconds": time.perf_counter() - t0, "bound": state.best_bound,
                                  "lagrangian": L, "plan": state.best_obj})
            if on_pass is not None:
                on_pass(state.history[-1])
            if state.best_bound - state.best_obj <= _tol(options, state):
                break
            # Polyak step towards the best plan (or 0.1 % below the bound without one).
            # Rows are in mixed units (thousand yuan, workers, coverage shares): step in the row-normalised
            # space, i.e. scale each row's subgradient by the row's norm squared.
            proj = np.clip(activity, lo_R, hi_R)
            g = (proj - activity) / row_norm2
            gn = float((proj - activity) @ g)
            if gn < 1e-18:
                break
            target = state.best_obj if np.isfinite(state.best_obj) else L - 1e-3 * abs(L)
            t = step * max(L - target, 1e-9 * abs(L)) / gn
            pi = _project(pi - t * g, lo_R, hi_R, cap_lo, cap_hi)
            if len(state.history) >= 2 and state.history[-1]["bound"] >= state.history[-2]["bound"] - 1e-9:
                step *= 0.5
            if len(state.history) > dopts.stall and \
                    state.history[-1 - dopts.stall]["bound"] - state.best_bound < 0.01 * _tol(options, state):
                msg = f"bound stalled for {dopts.stall} passes"
                break
        if state.best_x is not None and state.best_bound - state.best_obj > _tol(options, state):
            _local_search(state, st, p, A, solver, options, dopts, deadline, sweeps=dopts.max_iterations)
    finally:
        runner.close()
    if state.best_x is None:
        # The check gets what is left of the time limit (the limit is a promise).
        verdict = _coupling_infeasible(st, p, runner_factory=lambda: Runner(st.batches, dopts.workers, dopts.dask),
                                       solver=solver, until=deadline)
        if verdict:
            return _result(Status.INFEASIBLE, None, None, None, t0, solver, st, state,
                           "a coupling row cannot be met by the stations together")
        why = msg or "no plan found"
        if verdict is None:
            why += "; no time was left to check the coupling rows for infeasibility"
        return _result(Status.NO_SOLUTION, None, None, state.best_bound, t0, solver, st, state, why)
    gap = relative_gap(state.best_obj, state.best_bound)
    ok = gap is not None and gap <= options.mip_gap
    return _result(Status.OPTIMAL if ok else Status.FEASIBLE, state.best_x, state.best_obj, state.best_bound, t0,
                   solver, st, state, msg)


def _task_limit(left: float, tasks: int, slots: int) -> float:
    """Time limit of each of ``tasks`` batch solves run ``slots`` at a time, so that the pass ends by
    the deadline even when every batch uses its whole limit (most end long before)."""
    if not np.isfinite(left):
        return 3600.0
    rounds = max(1, -(-tasks // max(1, slots)))
    return max(MIN_TASK_SECONDS, left / rounds)


def _tol(options: SolveOptions, state: _State) -> float:
    return options.mip_gap * max(abs(state.best_bound), 1e-9)


def _result(status: Status, x: np.ndarray | None, obj: float | None, bound: float | None, t0: float, solver: str,
            st: Structure, state: _State, msg: str) -> SolverResult:
    gap = relative_gap(obj, bound) if obj is not None else None
    be = get_backend(solver)
    return SolverResult(status, x=x, objective=obj, bound=None if bound is None or not np.isfinite(bound) else bound,
                        gap=gap, solver=f"decompose/{solver}", solver_version=be.version(),
                        seconds=time.perf_counter() - t0, message=msg, raw_status=status.value,
                        extra={"history": state.history, "batches": len(st.batches),
                               "coupling_rows": int(len(st.coupling))})


def _first_multipliers(st: Structure, p: MilpProblem, solver: str, dopts: DecomposeOptions,
                       deadline: float) -> np.ndarray:
    """LP duals of the coupling rows on a sample of batches, each row's range scaled to the sample."""
    nb = len(st.batches)
    sizes = np.array([b.stations for b in st.batches])
    if sizes.sum() <= dopts.sample_stations:
        pick = np.arange(nb)
    else:
        rng = np.random.default_rng(0)
        order = rng.permutation(nb)
        pick = np.sort(order[: max(1, int(np.searchsorted(np.cumsum(sizes[order]), dopts.sample_stations)) + 1)])
    blocks = [st.batches[k] for k in pick]
    A_loc = sp.block_diag([b.A for b in blocks], format="csr")
    AR_s = sp.hstack([b.AR for b in blocks] + [st.AR_global], format="csr")
    AR_all = np.abs(sp.hstack([b.AR for b in st.batches], format="csr")).sum(axis=1)
    AR_pick = np.abs(sp.hstack([b.AR for b in blocks], format="csr")).sum(axis=1)
    frac = np.divide(AR_pick, AR_all, out=np.ones_like(AR_all), where=AR_all > 0)
    lo_R, hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
    A_s = sp.vstack([sp.hstack([A_loc, sp.csr_array((A_loc.shape[0], len(st.global_cols)))]), AR_s], format="csr")
    # (a row the sample does not touch stays free: inf * 0 would be nan and fail the LP)
    with np.errstate(invalid="ignore"):
        lo_s = np.where(np.isfinite(lo_R) & (frac > 0), lo_R * frac, -np.inf)
        hi_s = np.where(np.isfinite(hi_R) & (frac > 0), hi_R * frac, np.inf)
    lo = np.concatenate([np.concatenate([b.row_lower for b in blocks]), lo_s])
    hi = np.concatenate([np.concatenate([b.row_upper for b in blocks]), hi_s])
    c = np.concatenate([b.c for b in blocks] + [p.c[st.global_cols]])
    cl = np.concatenate([b.col_lower for b in blocks] + [p.col_lower[st.global_cols]])
    cu = np.concatenate([b.col_upper for b in blocks] + [p.col_upper[st.global_cols]])
    prob = MilpProblem(c, A_s, lo, hi, cl, cu, np.zeros(len(c), dtype=bool), "max")
    left = deadline - time.perf_counter()
    # Interior point: 2-3x faster than simplex on this LP (13.9 s vs 31.2 s for 3,000 stations).
    res = get_backend(solver).solve(prob, SolveOptions(lp_method="ipm",
                                                       time_limit=max(1.0, left / 4) if np.isfinite(left) else None))
    if res.row_duals is None:
        return np.zeros(len(st.coupling))
    return np.asarray(res.row_duals[A_loc.shape[0]:], dtype=float)


def _fix_globals(st: Structure, p: MilpProblem, x: np.ndarray, usage: np.ndarray) -> np.ndarray:
    """Global columns at their best values given the batches' columns (a 1-D ratio test each)."""
    x = x.copy()
    lo_R, hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
    G = sp.csc_array(st.AR_global)
    act = usage.sum(axis=0) + st.AR_global @ x[st.global_cols]
    for j, col in enumerate(st.global_cols):
        rows = G.indices[G.indptr[j]:G.indptr[j + 1]]
        a = G.data[G.indptr[j]:G.indptr[j + 1]]
        rest = act[rows] - a * x[col]
        lo_j, hi_j = p.col_lower[col], p.col_upper[col]
        # rows: lo <= rest + a v <= hi
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(a > 0, (hi_R[rows] - rest) / a, (lo_R[rows] - rest) / a)
            dn = np.where(a > 0, (lo_R[rows] - rest) / a, (hi_R[rows] - rest) / a)
        vmax = min(hi_j, float(np.nanmin(up)) if len(up) else hi_j)
        vmin = max(lo_j, float(np.nanmax(dn)) if len(dn) else lo_j)
        # (vmin > vmax: no value meets every row; the plan check will say so)
        v = (vmin if p.c[col] < 0 else vmax) if vmin > vmax + 1e-9 else (vmax if p.c[col] > 0 else vmin)
        if not np.isfinite(v):
            v = float(np.clip(0.0, lo_j, hi_j))
        act[rows] += a * (v - x[col])
        x[col] = v
    return x


MIN_TASK_SECONDS = 0.2  # the least time limit a batch solve is given near the deadline
SPLIT_CHANGE = 0.25  # a partial split asks a batch to change its usage of a hard row by this share at most


def _round_parts(v: np.ndarray, total: float) -> np.ndarray:
    """Integers, each within 1 of ``v`` (which sums to ``total``, an integer), that sum to ``total``
    exactly (largest remainder).  An integer entry of ``v`` is kept as it is."""
    base = np.floor(v + 1e-9)
    frac = v - base
    d = int(round(total - base.sum()))
    if d > 0:
        base[np.argsort(-frac, kind="stable")[:d]] += 1
    elif d < 0:
        base[np.argsort(frac, kind="stable")[:-d]] -= 1
    return base


def _integral_rows(st: Structure, p: MilpProblem, fixed_zero: np.ndarray) -> np.ndarray:
    """Coupling rows whose activity is always an integer: integer coefficients on integer columns only
    (global columns allowed only where they are fixed at 0)."""
    ok = np.ones(len(st.coupling), dtype=bool)
    for b in st.batches:
        M = sp.csr_array(b.AR)
        bad_entry = (~b.integrality.astype(bool)[M.indices]) | (np.abs(M.data - np.round(M.data)) > 1e-12)
        bad_rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))[bad_entry & (M.data != 0)]
        ok[bad_rows] = False
    G = sp.csr_array(st.AR_global)
    g_rows = np.repeat(np.arange(G.shape[0]), np.diff(G.indptr))
    ok[g_rows[(G.data != 0) & ~fixed_zero[G.indices]]] = False
    return ok


def _plan_by_split(st: Structure, p: MilpProblem, x: np.ndarray, usage: np.ndarray, runner: Runner, solver: str,
                   gap: float, deadline: float, pick: float = 1.0) -> np.ndarray | None:
    """A plan for the coupled model: each coupling row's range split between the batches.

    ``pick`` < 1 re-solves only part of the batches: for each coupling row the Lagrangian solution
    ``x`` breaks, the ``pick`` share of the batches using the row most; the others keep their part of
    ``x``, whose usage is exactly their range (a partial split costs a fraction of a pass).  Rows with
    integer activity (counts of stations built, demonstration stations) are split into integers.
    """
    lo_R, hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
    G = sp.csc_array(st.AR_global)
    single = np.diff(G.indptr) == 1
    dev_row = np.full(len(st.global_cols), -1)
    dev_row[single] = G.indices[G.indptr[:-1][single]]
    cg = p.c[st.global_cols]
    is_dev = single & (p.col_lower[st.global_cols] == 0) & np.isinf(p.col_upper[st.global_cols]) & (cg <= 0)
    xg = _fix_globals(st, p, x, usage)[st.global_cols]
    fixed = np.where(is_dev, 0.0, xg)
    rest_lo = lo_R - st.AR_global @ fixed
    rest_hi = hi_R - st.AR_global @ fixed
    integral = _integral_rows(st, p, is_dev)
    rest_lo = np.where(integral, np.ceil(rest_lo - 1e-9), rest_lo)
    rest_hi = np.where(integral, np.floor(rest_hi + 1e-9), rest_hi)
    total = usage.sum(axis=0)
    nb = len(st.batches)
    touch = np.asarray([np.diff(b.AR.tocsr().indptr) > 0 for b in st.batches], dtype=float)  # batches x R
    # Batches to re-solve.
    viol = (total < rest_lo - 1e-9 * np.maximum(1, np.abs(rest_lo))) | \
        (total > rest_hi + 1e-9 * np.maximum(1, np.abs(rest_hi)))
    if pick >= 1.0:
        chosen = np.ones(nb, dtype=bool)
    else:
        chosen = np.zeros(nb, dtype=bool)
        reach = np.asarray([abs(sp.csr_array(b.AR)) @ np.minimum(b.col_upper - b.col_lower, 1e30)
                            for b in st.batches])  # batches x R; >= 1e29: unbounded
        soft_row = np.zeros(len(st.coupling), dtype=bool)
        soft_row[dev_row[is_dev]] = True
        for r in np.flatnonzero(viol):
            cand = np.flatnonzero(touch[:, r] > 0)
            if not len(cand):
                return None
            cand = cand[np.argsort(-np.abs(usage[cand, r]), kind="stable")]
            q = max(1, int(np.ceil(pick * len(cand))))
            if not soft_row[r]:
                # a hard row: enough batches that none changes the row by more than SPLIT_CHANGE of its
                # usage, or of its reach where that is finite (a count of stations: a batch of 300
                # stations can add 75 demonstration stations even if it has none)
                need = max(rest_lo[r] - total[r], total[r] - rest_hi[r])
                room = SPLIT_CHANGE * np.maximum(np.abs(usage[cand, r]), np.where(reach[cand, r] < 1e29,
                                                                                    reach[cand, r], 0.0))
                cand = cand[np.argsort(-room, kind="stable")]
                q = max(q, int(np.searchsorted(np.cumsum(np.sort(room)[::-1]), need)) + 1)
            chosen[cand[:q]] = True
        if not chosen.any():
            chosen[np.argmax(np.abs(usage).sum(axis=1))] = True
    # Share of a row's surplus (or shortfall) per chosen batch: by usage, evenly where the row is unused.
    w = np.abs(usage) * chosen[:, None]
    ws = w.sum(axis=0)
    tc = touch * chosen[:, None]
    even = tc / np.maximum(tc.sum(axis=0), 1)
    share = np.where(ws > 0, w / np.where(ws > 0, ws, 1), even)
    if np.any(viol & (share.sum(axis=0) <= 0)):
        return None

    def split(bound: np.ndarray) -> np.ndarray:
        fin = np.isfinite(bound)
        out = np.where(fin[None, :], usage + share * (np.where(fin, bound, 0) - total)[None, :], 0.0)
        for r in np.flatnonzero(fin & integral):
            out[:, r] = _round_parts(out[:, r], float(bound[r]))
        return np.where(fin[None, :], out, bound[None, :])

    blo = split(rest_lo) if nb else usage
    bhi = split(rest_hi) if nb else usage
    # An integer row with both ends finite: its width is split in integers too, so that lo <= hi in every
    # batch (rounding the two ends apart can cross them).
    both = integral & np.isfinite(rest_lo) & np.isfinite(rest_hi)
    for r in np.flatnonzero(both):
        bhi[:, r] = blo[:, r] + _round_parts(share[:, r] * (rest_hi[r] - rest_lo[r]), float(rest_hi[r] - rest_lo[r]))
    # A row the batch does not touch is left out of its problem.
    blo = np.where(touch > 0, blo, -np.inf)
    bhi = np.where(touch > 0, bhi, np.inf)
    dev_cols = np.flatnonzero(is_dev)
    todo = np.flatnonzero(chosen)
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    limit = min(60.0, _task_limit(left, len(todo), runner.slots))
    tasks = []
    for k in todo:
        rows = dev_row[dev_cols]
        has = touch[k, rows] > 0
        d = int(has.sum())
        E = sp.csr_array(sp.coo_array((G.data[G.indptr[dev_cols[has]]], (rows[has], np.arange(d))),
                                      shape=(len(st.coupling), d)))
        tasks.append(BatchTask(int(k), lo=blo[k], hi=bhi[k], extra_a=E, extra_c=cg[dev_cols[has]],
                               extra_lo=np.zeros(d), extra_hi=np.full(d, np.inf), solver=solver, gap=gap,
                               time_limit=limit))
    results = runner.run(tasks)
    if any(r.x is None for r in results):
        return None
    xp = x.copy()
    for res in results:
        assert res.x is not None
        xp[st.batches[res.index].cols] = res.x[: len(st.batches[res.index].cols)]
    xp[st.global_cols] = fixed
    # Deviation columns: the least that closes each soft row given the batches' activity.
    act = sum((b.AR @ xp[b.cols] for b in st.batches), np.zeros(len(st.coupling))) + st.AR_global @ xp[st.global_cols]
    for j in dev_cols:
        col, r = st.global_cols[j], dev_row[j]
        a = G.data[G.indptr[j]]
        need = max(lo_R[r] - act[r], act[r] - hi_R[r], 0.0)
        if need > 0:
            sign_ok = (lo_R[r] - act[r] > 0 and a > 0) or (act[r] - hi_R[r] > 0 and a < 0)
            if sign_ok:
                xp[col] = need / abs(a)
                act[r] += a * xp[col]
    return xp


def _local_search(state: _State, st: Structure, p: MilpProblem, A: sp.csr_array, solver: str,
                  options: SolveOptions, dopts: DecomposeOptions, deadline: float, sweeps: int) -> None:
    """Improvement sweeps from the best plan, each followed by the LP polish, while they gain a tenth
    of the gap asked and time is left."""
    gap = max(min(options.mip_gap / 5, 1e-4), 1e-7)
    for _ in range(sweeps):
        if deadline - time.perf_counter() <= 0 or state.best_x is None:
            return
        before = state.best_obj
        # The polish first: one LP, seconds even at 40,000 stations, while a sweep solves every batch.
        if dopts.polish:
            _try_plan(state, p, A, _polish(p, state.best_x, solver, deadline), options)
        _try_plan(state, p, A, _improve(st, p, state.best_x, solver, gap, deadline), options)
        if state.best_obj - before < 0.1 * _tol(options, state) or \
                state.best_bound - state.best_obj <= _tol(options, state):
            return


ELASTIC_PENALTY = 1e6  # per unit of coupling-row violation while a plan is being repaired


def _violation(act: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(lo - act, act - hi), 0.0)


def _improve(st: Structure, p: MilpProblem, x: np.ndarray, solver: str, gap: float, deadline: float,
             elastic: bool = False) -> np.ndarray:
    """One Gauss-Seidel sweep: each batch re-solved with the coupling rows, the other batches fixed and the
    global columns free.  Each step never lowers the objective and, from a plan, keeps it a plan.

    ``elastic``: the coupling rows get violation columns priced at :data:`ELASTIC_PENALTY` (repair of a
    start that violates them; every step lowers the priced violation or keeps it)."""
    x = x.copy()
    lo_R, hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
    R = len(st.coupling)
    g = st.global_cols
    gl, gu, cg = p.col_lower[g], p.col_upper[g], p.c[g]
    E, ec, elo, ehi = st.AR_global, cg, gl, gu
    if elastic:
        eye = sp.identity(R, format="csr")
        E = sp.csr_array(sp.hstack([st.AR_global, eye, -eye]))
        ec = np.concatenate([cg, np.full(2 * R, -ELASTIC_PENALTY)])
        elo = np.concatenate([gl, np.zeros(2 * R)])
        ehi = np.concatenate([gu, np.full(2 * R, np.inf)])
    act = sum((b.AR @ x[b.cols] for b in st.batches), np.zeros(R))
    for k, b in enumerate(st.batches):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        rest = act - b.AR @ x[b.cols]
        task = BatchTask(k, lo=lo_R - rest, hi=hi_R - rest, extra_a=E, extra_c=ec, extra_lo=elo, extra_hi=ehi,
                         solver=solver, gap=gap, time_limit=max(MIN_TASK_SECONDS, min(left, 60.0)))
        r = solve_batch(task, b)
        if r.x is None or r.objective is None:
            continue
        n = len(b.cols)
        old = float(b.c @ x[b.cols] + cg @ x[g])
        if elastic:
            old -= ELASTIC_PENALTY * float(_violation(act + st.AR_global @ x[g], lo_R, hi_R).sum())
        if r.objective > old + 1e-9 * max(1.0, abs(old)):
            x[b.cols] = r.x[:n]
            x[g] = r.x[n:n + len(g)]
            act = rest + b.AR @ x[b.cols]
    return x


def _repair(st: Structure, p: MilpProblem, x: np.ndarray, solver: str, gap: float, deadline: float,
            sweeps: int = 6) -> np.ndarray | None:
    """From batch solutions that break coupling rows to a plan: elastic sweeps until nothing is violated."""
    lo_R, hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
    for _ in range(sweeps):
        if deadline - time.perf_counter() <= 0:
            return None
        x = _improve(st, p, x, solver, gap, deadline, elastic=True)
        act = sum((b.AR @ x[b.cols] for b in st.batches), np.zeros(len(st.coupling))) + \
            st.AR_global @ x[st.global_cols]
        if float(_violation(act, lo_R, hi_R).max(initial=0.0)) <= 1e-7:
            return x
    return None


def _polish(p: MilpProblem, x: np.ndarray, solver: str, deadline: float) -> np.ndarray:
    """The LP over the continuous columns with every integer column fixed at its value in ``x``."""
    ints = p.integrality.astype(bool)
    lo = np.where(ints, np.round(x), p.col_lower)
    hi = np.where(ints, np.round(x), p.col_upper)
    left = deadline - time.perf_counter()
    if left <= 0:
        return x
    lp = MilpProblem(p.c, p.A, p.row_lower, p.row_upper, lo, hi, np.zeros_like(ints), "max", p.offset)
    res = get_backend(solver).solve(lp, SolveOptions(time_limit=left if np.isfinite(left) else None))
    return np.asarray(res.x) if res.status == Status.OPTIMAL and res.x is not None else x


def _try_plan(state: _State, p: MilpProblem, A: sp.csr_array, x: np.ndarray, options: SolveOptions) -> bool:
    """Keep ``x`` as the best plan if it satisfies every row, bound and integrality of the whole model and
    beats the best so far; return whether it is a plan at all."""
    ints = p.integrality.astype(bool)
    xr = x.copy()
    xr[ints] = np.round(xr[ints])
    if np.any(xr < p.col_lower - 1e-6) or np.any(xr > p.col_upper + 1e-6):
        return False
    act = A @ xr
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(p.row_lower), p.row_lower, 0))
                       + np.abs(np.where(np.isfinite(p.row_upper), p.row_upper, 0)))
    viol = np.maximum(p.row_lower - act, act - p.row_upper) / scale
    if np.nanmax(viol, initial=0.0) > 1e-6:
        return False
    obj = float(p.c @ xr) + p.offset
    if obj > state.best_obj:
        state.best_obj, state.best_x = obj, xr
    return True


def _coupling_infeasible(st: Structure, p: MilpProblem, runner_factory: Any, solver: str,
                         until: float = np.inf) -> bool | None:
    """Whether some hard coupling row is out of reach even with every batch pushing it alone (LP);
    None when the check did not finish by ``until``.  Rows that span several batches (the city totals)
    are checked first: one county's equity row is met by ``eq = 0``."""
    lo_R, hi_R = p.row_lower[st.coupling], p.row_upper[st.coupling]
    G = st.AR_global
    spans = np.sum([np.diff(b.AR.indptr) > 0 for b in st.batches], axis=0)
    runner = runner_factory()
    try:
        for r in np.argsort(-spans, kind="stable"):
            g = G[[r]]
            for sign, need in ((1.0, lo_R[r]), (-1.0, -hi_R[r])):
                if not np.isfinite(need):
                    continue
                if time.perf_counter() > until:
                    return None
                # only the batches with columns in row r: the others add nothing to it
                touching = [k for k, b in enumerate(st.batches) if b.AR.indptr[r + 1] > b.AR.indptr[r]]
                limit = _task_limit(until - time.perf_counter(), len(touching), runner.slots)
                tasks = [BatchTask(k, c=sign * np.asarray(st.batches[k].AR[[r]].todense()).ravel(), relaxed=True,
                                   solver=solver, time_limit=limit) for k in touching]
                res = runner.run(tasks)
                if any(x.status == Status.INFEASIBLE for x in res):
                    return True
                if any(x.bound is None for x in res):
                    continue
                gl, gu = p.col_lower[st.global_cols], p.col_upper[st.global_cols]
                gcoef = sign * np.asarray(g.todense()).ravel()
                with np.errstate(invalid="ignore"):
                    gbest = np.where(gcoef > 0, gcoef * gu, np.where(gcoef < 0, gcoef * gl, 0.0))
                best = sum(float(x.bound) for x in res) + float(np.sum(gbest))  # type: ignore[arg-type]
                if best < need - 1e-6 * max(1.0, abs(need)):
                    return True
    finally:
        runner.close()
    return False
