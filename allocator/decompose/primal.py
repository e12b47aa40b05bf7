"""Primal plans for the coupled model: global columns fixed, the resource split between batches, elastic
repair, Gauss-Seidel improvement sweeps, the LP polish, the whole-model plan check, and the check that a
hard coupling row is out of reach (infeasibility)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.decompose.batches import BatchTask, Runner, solve_batch
from allocator.decompose.bound import MIN_TASK_SECONDS, _State, _task_limit, _tol
from allocator.decompose.options import DecomposeOptions
from allocator.decompose.partition import Structure
from solvers import MilpProblem, SolveOptions, Status, get_backend


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
