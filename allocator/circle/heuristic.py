"""A quick plan before the exact solve, kept when a time limit stops the solver (issue 17, item 21).

Each heuristic picks new points among the model's own ``y`` columns (``Built.y_sites``), within the same
``p`` / budget limits; existing sites are always open.  The plan is then evaluated by the model itself (its
``y`` fixed, see :func:`allocator.circle.solve`), so its objective is in the model's terms and comparable with
any bound.

* MCLP, capacitated MCLP: greedy adding, each step the candidate that brings the most need-weighted residents
  not yet within T (per yuan, under a budget).
* LSCP: greedy adding of the candidate that closes most of the remaining share deficits, until every share is
  met (none when even all the candidates do not meet them).
* p-median: greedy adding, then the interchange (swap) local search of Teitz & Bart in the gain / loss /
  extra form of Whitaker (1983) and Resende & Werneck (2007), on the sparse pairs within R; a place with no
  open point within R is charged R, as in the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from allocator.circle.data import DEFAULT_SHARES, EPS, CircleData
from allocator.circle.models import Built
from allocator.circle.reach import Reach


def heuristic_open(data: CircleData, reach: Reach, model: str, built: Built, T: float, R: float,
                   points: int | None, budget: float | None, deadline: float) -> np.ndarray | None:
    """New points to open (a boolean mask over ``built.y_sites``), or None when no plan is found.

    ``deadline`` is a ``time.perf_counter()`` value: the local search stops there with the best plan so far.
    """
    cand = np.asarray(built.y_sites, dtype=np.int64)
    if len(cand) == 0:
        return np.zeros(0, dtype=bool)
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)[cand]
    col = np.full(reach.n_sites, -1, dtype=np.int64)
    col[cand] = np.arange(len(cand))
    if model == "pmedian":
        return _pmedian(data, reach, cand, col, cost, R, points, budget, deadline)
    if model == "lscp":
        return _lscp(data, reach, cand, col, T)
    return _covering(data, reach, cand, col, cost, T, points, budget, deadline)


def _pairs(reach: Reach, col: np.ndarray, within: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(place, candidate column, minutes) of the pairs within ``within`` whose site is a candidate column."""
    m = (reach.minutes <= within + EPS) & (col[reach.site] >= 0)
    return reach.place[m], col[reach.site[m]], reach.minutes[m]


def _greedy(n: int, cost: np.ndarray, points: int | None, budget: float | None,
            gain: Callable[[np.ndarray], np.ndarray], deadline: float) -> np.ndarray:
    """Add the best candidate (gain, or gain per yuan under a budget) while one helps and the limits allow."""
    chosen = np.zeros(n, dtype=bool)
    spent = 0.0
    # the greedy may run to twice the heuristic's time (its plan is the backbone; the interchange only polishes);
    # stopped earlier it still leaves a plan within the limits, only with fewer points
    stop = time.perf_counter() + 2.0 * max(0.0, deadline - time.perf_counter())
    while time.perf_counter() < stop and (points is None or chosen.sum() < points):
        g = gain(chosen)
        ok = ~chosen & (g > EPS)
        if budget is not None:
            ok &= spent + cost <= budget + EPS
        if not ok.any():
            break
        score = g / np.maximum(cost, 1.0) if budget is not None else g
        k = int(np.flatnonzero(ok)[np.argmax(score[ok])])
        chosen[k] = True
        spent += float(cost[k])
    return chosen


def covering_pairs(data: CircleData, reach: Reach, col: np.ndarray,
                   T: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(place, candidate column) pairs within T of the places no existing site covers, and that ``pre`` mask."""
    m = (reach.minutes <= T + EPS) & data.existing[reach.site]
    pre = np.zeros(reach.n_places, dtype=bool)
    pre[reach.place[m]] = True
    pp, cc, _ = _pairs(reach, col, T)
    keep = ~pre[pp]
    return pp[keep], cc[keep], pre


def _covering(data: CircleData, reach: Reach, cand: np.ndarray, col: np.ndarray, cost: np.ndarray, T: float,
              points: int | None, budget: float | None, deadline: float) -> np.ndarray:
    need = data.need
    pp, cc, pre = covering_pairs(data, reach, col, T)

    def gain(chosen: np.ndarray) -> np.ndarray:
        covered = pre.copy()
        covered[pp[chosen[cc]]] = True
        free = ~covered[pp]
        return np.bincount(cc[free], weights=need[pp[free]], minlength=len(cand))

    return _greedy(len(cand), cost, points, budget, gain, deadline)


def _lscp(data: CircleData, reach: Reach, cand: np.ndarray, col: np.ndarray, T: float) -> np.ndarray | None:
    pop = data.population
    rural = (data.places["area_type"] == "rural").to_numpy()
    ex = data.existing
    m = (reach.minutes <= T + EPS) & ex[reach.site]
    covered = np.zeros(reach.n_places, dtype=bool)
    covered[reach.place[m]] = True
    pp, cc, _ = _pairs(reach, col, T)
    target = {}
    for t, mask in (("urban", ~rural), ("rural", rural)):
        target[t] = float(data.shares.get(t, DEFAULT_SHARES[t])) * float(pop[mask].sum())
    chosen = np.zeros(len(cand), dtype=bool)
    while True:
        deficit = {t: target[t] - float(pop[mask & covered].sum())
                   for t, mask in (("urban", ~rural), ("rural", rural))}
        if all(d <= 1e-6 for d in deficit.values()):
            return chosen
        free = ~covered[pp]
        score = np.zeros(len(cand))
        for t, mask in (("urban", ~rural), ("rural", rural)):
            if deficit[t] > 1e-6:
                sel = free & mask[pp]
                score += np.minimum(np.bincount(cc[sel], weights=pop[pp[sel]], minlength=len(cand)), deficit[t])
        score[chosen] = 0.0
        if score.max(initial=0.0) <= EPS:
            return None  # the shares cannot be met: the exact model proves it infeasible
        k = int(np.argmax(score))
        chosen[k] = True
        covered[pp[cc == k]] = True


def pmedian_pairs(data: CircleData, reach: Reach, col: np.ndarray, R: float) -> tuple[np.ndarray, ...]:
    """The p-median's data: candidate pairs faster than the base, the base ``g``, need, places in the objective.

    ``g_i = min(e_i, R)``: the time to the nearest existing site, or the R penalty; a pair is kept when it
    beats ``g_i`` for a place with need.  A place is in the objective when some site is within R.
    """
    need = data.need
    m = (reach.minutes <= R + EPS) & data.existing[reach.site]
    base = np.full(reach.n_places, float(R))
    np.minimum.at(base, reach.place[m], reach.minutes[m])
    in_obj = np.zeros(reach.n_places, dtype=bool)
    in_obj[reach.place[reach.minutes <= R + EPS]] = True
    in_obj &= need > 0
    pp, cc, tt = _pairs(reach, col, R)
    useful = (tt < base[pp] - EPS) & (need[pp] > 0)
    return pp[useful], cc[useful], tt[useful], base, need, in_obj


def _pmedian(data: CircleData, reach: Reach, cand: np.ndarray, col: np.ndarray, cost: np.ndarray, R: float,
             points: int | None, budget: float | None, deadline: float) -> np.ndarray:
    pp, cc, tt, base, need, _ = pmedian_pairs(data, reach, col, R)
    order = np.argsort(cc, kind="stable")
    pp, cc, tt = pp[order], cc[order], tt[order]
    ptr = np.searchsorted(cc, np.arange(len(cand) + 1))
    a = need[pp]
    d1 = base.copy()  # nearest time so far, updated as points are added (a greedy step is one pass)
    added = np.zeros(len(cand), dtype=bool)

    def gain(chosen: np.ndarray) -> np.ndarray:
        for k in np.flatnonzero(chosen & ~added):
            sl = slice(ptr[k], ptr[k + 1])
            np.minimum.at(d1, pp[sl], tt[sl])
            added[k] = True
        return np.bincount(cc, weights=a * np.maximum(0.0, d1[pp] - tt), minlength=len(cand))

    chosen = _greedy(len(cand), cost, points, budget, gain, deadline)
    if budget is not None:
        return chosen  # swaps under a budget would need a cost check per pair: the greedy plan stands
    while time.perf_counter() < deadline and chosen.any() and not chosen.all():
        move = _best_swap(pp, cc, tt, need, chosen, base, len(cand))
        if move is None:
            break
        r, k = move
        chosen[r], chosen[k] = False, True
    return chosen


def first_two(pp: np.ndarray, cc: np.ndarray, tt: np.ndarray, chosen: np.ndarray,
               base: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per place: nearest time ``d1`` (base included), its candidate column ``n1`` (-1: base) and ``d2``."""
    n = len(base)
    d1, d2 = base.copy(), base.copy()
    n1 = np.full(n, -1, dtype=np.int64)
    o = chosen[cc]
    p, c, t = pp[o], cc[o], tt[o]
    order = np.lexsort((t, p))
    p, c, t = p[order], c[order], t[order]
    first = np.ones(len(p), dtype=bool)
    first[1:] = p[1:] != p[:-1]
    d1[p[first]] = t[first]
    n1[p[first]] = c[first]
    second = np.zeros(len(p), dtype=bool)
    second[1:] = first[:-1] & ~first[1:]
    d2[p[second]] = np.minimum(t[second], base[p[second]])
    # a place served by a candidate falls back to its second point or the base, whichever is nearer
    return d1, n1, d2


def _best_swap(pp: np.ndarray, cc: np.ndarray, tt: np.ndarray, need: np.ndarray, chosen: np.ndarray,
               base: np.ndarray, n: int) -> tuple[int, int] | None:
    """The most profitable swap (close r, open k), or None when no swap lowers the objective.

    ``profit(r, k) = gain(k) - loss(r) + extra(r, k)``: ``gain`` what opening k saves, ``loss`` what closing r
    costs its places (they fall back to their second point), ``extra`` the part of that loss k wins back.
    ``extra >= 0`` is sparse, so the best swap is its best entry or the best gain against the least loss.
    """
    d1, n1, d2 = first_two(pp, cc, tt, chosen, base)
    a = need[pp]
    served = np.flatnonzero(n1 >= 0)
    gain = np.bincount(cc, weights=a * np.maximum(0.0, d1[pp] - tt), minlength=n)
    loss = np.bincount(n1[served], weights=need[served] * (d2 - d1)[served], minlength=n)
    mask = (n1[pp] >= 0) & (tt < d2[pp] - EPS) & ~chosen[cc]
    extra = sp.coo_array((a[mask] * (d2[pp[mask]] - np.maximum(tt[mask], d1[pp[mask]])),
                          (n1[pp[mask]], cc[mask])), shape=(n, n)).tocsr()
    extra.sum_duplicates()
    best, move = 0.0, None
    ec = extra.tocoo()
    if ec.nnz:
        prof = gain[ec.col] - loss[ec.row] + ec.data
        q = int(np.argmax(prof))
        best, move = float(prof[q]), (int(ec.row[q]), int(ec.col[q]))
    open_, closed = np.flatnonzero(chosen), np.flatnonzero(~chosen)
    k = int(closed[np.argmax(gain[closed])])
    r = int(open_[np.argmin(loss[open_])])
    prof_rk = float(gain[k] - loss[r] + extra[r, k])
    if prof_rk > best:
        best, move = prof_rk, (r, k)
    scale = float((need[pp] * d1[pp]).sum()) if len(pp) else 0.0
    return move if best > 1e-9 * max(1.0, scale) else None
