"""Quick proven bounds for a plan found under a time limit: Lagrangian relaxations solved by subgradient.

The LP relaxation of the p-median is slow to solve (degenerate: 21-25 s for 300 nodes and 90,000 pairs on the
2-core test machine, where the relaxation below reaches within 0.1 % in a second), so the gap of a heuristic
plan is measured against these bounds instead.  Every value returned is a valid bound whatever the
multipliers, so stopping the subgradient early only weakens it.

p-median (minimise; ``g_i = min(e_i, R)`` the time to the nearest existing site, capped at R): relaxing
``Σ_j x_ij + x_i0 = 1`` with multipliers ``λ_i`` gives

.. math:: L(λ) = \\sum_{i \\notin M} a_i g_i + \\sum_{i \\in M} \\min(λ_i, a_i g_i)
          + \\min_{y \\in Y} \\sum_j y_j \\sum_i \\min(0, a_i t_{ij} - λ_i)

MCLP (maximise): relaxing ``z_i <= Σ_{j ∈ N_i} y_j`` with ``μ_i >= 0`` gives

.. math:: U(μ) = a_E + \\sum_i \\max(0, a_i - μ_i) + \\max_{y \\in Y} \\sum_j y_j \\sum_{i: j \\in N_i} μ_i

``Y`` is the set of at most p new points, or its LP relaxation under a budget (a fractional knapsack, still a
valid bound); with both limits each one alone is a valid relaxation and the tighter bound is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from allocator.circle.data import CircleData
from allocator.circle.heuristic import covering_pairs, first_two, pmedian_pairs
from allocator.circle.reach import Reach


def lagrangian_bound(data: CircleData, reach: Reach, model: str, y_sites: np.ndarray, T: float, R: float,
                     points: int | None, budget: float | None, best: float, deadline: float,
                     gap: float, chosen: np.ndarray | None = None) -> float | None:
    """A proven bound on the model's optimum (p-median: lower, MCLP: upper), or None for the other models.

    ``best`` is the objective of the best plan known (it steers the step length); the subgradient stops at
    ``deadline`` (``time.perf_counter()``) or when the bound is within ``gap`` of ``best``.  ``chosen`` (a mask
    over ``y_sites``: the best plan's new points) gives the p-median's first multipliers, each place's cost in
    that plan (far better than its base when R is large).
    """
    cand = np.asarray(y_sites, dtype=np.int64)
    col = np.full(reach.n_sites, -1, dtype=np.int64)
    col[cand] = np.arange(len(cand))
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)[cand]
    choose = _chooser(len(cand), cost, points, budget)
    if model == "pmedian":
        pp, cc, tt, base, need, in_obj = pmedian_pairs(data, reach, col, R)
        lam = need * base
        if chosen is not None:
            d1, _, _ = first_two(pp, cc, tt, np.asarray(chosen, dtype=bool), base)
            lam = need * d1
        return _pmedian(pp, cc, tt, base, need, in_obj, len(cand), choose, best, deadline, gap, lam)
    if model == "mclp":
        pp, cc, pre = covering_pairs(data, reach, col, T)
        return _mclp(pp, cc, pre, data.need, len(cand), choose, best, deadline, gap)
    return None


Chooser = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _chooser(n: int, cost: np.ndarray, points: int | None, budget: float | None) -> Chooser:
    """``choose(v)``: the least ``Σ v_j y_j`` over the new-point limits and the (fractional) ``y`` reaching it."""

    def by_count(v: np.ndarray) -> tuple[float, np.ndarray]:
        y = np.zeros(n)
        neg = np.flatnonzero(v < 0)
        if points is not None and len(neg) > points:
            neg = neg[np.argpartition(v[neg], points)[:points]] if points > 0 else neg[:0]
        y[neg] = 1.0
        return float(v[neg].sum()), y

    def by_budget(v: np.ndarray) -> tuple[float, np.ndarray]:
        assert budget is not None
        y = np.zeros(n)
        neg = np.flatnonzero(v < 0)
        free = neg[cost[neg] <= 0]
        y[free] = 1.0
        paid = neg[cost[neg] > 0]
        paid = paid[np.argsort(v[paid] / cost[paid], kind="stable")]
        room = float(budget)
        for j in paid:
            if room <= 0:
                break
            y[j] = min(1.0, room / cost[j])
            room -= cost[j] * y[j]
        return float(v @ y), y

    if budget is None:
        return by_count
    if points is None:
        return by_budget

    def both(v: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = by_count(v), by_budget(v)
        return a if a[0] >= b[0] else b  # the larger minimum is the tighter relaxation

    return both


MIN_STEPS = 10  # subgradient steps taken even past the deadline: a bound, if a weak one, is always given


def _ascend(f: Callable[[np.ndarray], tuple[float, np.ndarray]], lam: np.ndarray, lower: float, target: float,
            deadline: float, gap: float) -> float:
    """Maximise the concave ``f`` (value, subgradient) over ``lam >= lower`` by Polyak steps towards ``target``.

    Runs until ``deadline`` but at least ``MIN_STEPS`` steps (each one pass over the pairs: a few ms for
    90,000 pairs), so that a plan found under a time limit always has a gap; the caller gives the deadline
    some room (``limited.MIN_BOUND``) so that the bound is a useful one.
    """
    best = -math.inf
    theta, stale, steps = 2.0, 0, 0
    tol = gap * max(1.0, abs(target))
    while (steps < MIN_STEPS or time.perf_counter() < deadline) and theta > 1e-4:
        steps += 1
        value, s = f(lam)
        if value > best + 1e-12 * max(1.0, abs(value)):
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 20:
                theta, stale = theta / 2.0, 0
        norm = float(s @ s)
        if target - best <= tol or norm == 0.0:
            break
        lam = np.maximum(lam + theta * max(target - value, tol) / norm * s, lower)
    return best


def _pmedian(pp: np.ndarray, cc: np.ndarray, tt: np.ndarray, base: np.ndarray, need: np.ndarray,
             in_obj: np.ndarray, n: int, choose: Chooser, best: float, deadline: float, gap: float,
             lam: np.ndarray) -> float:
    places = np.unique(pp)
    const = float((need * base)[in_obj].sum() - (need * base)[places].sum())
    cost_pair = need[pp] * tt
    cap = need * base
    outside = np.ones(len(need), dtype=bool)
    outside[places] = False

    def f(lam: np.ndarray) -> tuple[float, np.ndarray]:
        r = np.minimum(0.0, cost_pair - lam[pp])
        rho = np.bincount(cc, weights=r, minlength=n)
        chosen_value, y = choose(rho)
        value = const + float(np.minimum(lam, cap)[places].sum()) + chosen_value
        s = np.zeros(len(lam))
        s[places] = 1.0
        s -= (cap < lam) * 1.0
        s -= np.bincount(pp, weights=(r < 0) * y[cc], minlength=len(lam))
        s[outside] = 0.0
        return value, s

    return _ascend(f, lam.astype(np.float64), -math.inf, best, deadline, gap)


def _mclp(pp: np.ndarray, cc: np.ndarray, pre: np.ndarray, need: np.ndarray, n: int, choose: Chooser,
          best: float, deadline: float, gap: float) -> float:
    places = np.unique(pp)
    const = float(need[pre].sum())
    a = need.copy()

    def f(mu: np.ndarray) -> tuple[float, np.ndarray]:
        sigma = np.bincount(cc, weights=mu[pp], minlength=n)
        chosen_value, y = choose(-sigma)
        upper = const + float(np.maximum(0.0, a - mu)[places].sum()) - chosen_value
        z = (a > mu) * 1.0
        g = np.zeros(len(mu))
        g[places] = (z - np.bincount(pp, weights=y[cc], minlength=len(mu)))[places]
        return -upper, g  # ascend on -U: a step along g lowers U

    mu = np.zeros(len(need))
    value = _ascend(f, mu, 0.0, -best, deadline, gap)
    return -value
