"""The four models (MCLP, capacitated MCLP, LSCP, p-median), each built with scipy.sparse as a MilpProblem."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.circle.data import DEFAULT_SHARES, EPS, MONEY, CircleData
from allocator.circle.reach import Reach
from solvers import MilpProblem


@dataclass(eq=False)
class Built:
    """A model ready for a backend, with what is needed to read its solution back.

    Attributes
    ----------
    problem : MilpProblem
        The MILP.
    y_sites : numpy.ndarray
        Site index of each ``y`` column (columns ``0 .. len(y_sites)-1``).
    x_place, x_site : numpy.ndarray
        Place and site of each assignment column (CMCLP, p-median), starting at column ``x_start``.
    x_start : int
        First assignment column.
    stats : dict
        Sizes before and after the reductions.
    notes : list of str
        What the reader must know about the model (approximations, penalties, infeasibility evidence).
    """

    problem: MilpProblem
    y_sites: np.ndarray
    x_place: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_site: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_start: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _aggregate(B: sp.csr_array, key: np.ndarray | None = None) -> tuple[sp.csr_array, np.ndarray]:
    """Merge rows of ``B`` with the same pattern (and ``key``): (unique rows, group of each original row)."""
    B = B.tocsr()
    B.sort_indices()
    ip, ix = B.indptr, B.indices
    seen: dict[tuple[int, bytes], int] = {}
    group = np.empty(B.shape[0], dtype=np.int64)
    kk = key if key is not None else np.zeros(B.shape[0], dtype=np.int64)
    for r in range(B.shape[0]):
        group[r] = seen.setdefault((int(kk[r]), ix[ip[r]:ip[r + 1]].tobytes()), len(seen))
    first = np.full(len(seen), -1, dtype=np.int64)
    first[group[::-1]] = np.arange(B.shape[0])[::-1]
    return B[first], group


def _dominated(B: sp.csr_array, cost: np.ndarray | None, limit: int = 20000) -> np.ndarray:
    """Columns of ``B`` whose row set is inside another column's (no cheaper; lower index among equals)."""
    J = B.shape[1]
    s = np.asarray(B.sum(axis=0)).ravel()
    dom = s == 0
    if limit < J or J < 2:
        return dom
    Bi = B.astype(np.int32)
    overlap = (Bi.T @ Bi).tocoo()
    j, k, v = overlap.row, overlap.col, overlap.data
    m = (j != k) & (v == s[j])
    equiv = s[k] == s[j]
    if cost is not None:
        m &= cost[k] <= cost[j] + EPS
        equiv &= np.abs(cost[k] - cost[j]) <= EPS
    m &= ~equiv | (k < j)
    dom[j[m]] = True
    return dom


def _limit_rows(cols: np.ndarray, cost: np.ndarray, points: int | None, budget: float | None,
                ncols: int) -> tuple[list[sp.csr_array], list[float], list[str]]:
    """The ``Σ y <= p`` and ``Σ c y <= Y`` rows over the ``y`` columns ``cols`` (money in thousands)."""
    rows, ups, names = [], [], []
    if points is not None:
        rows.append(sp.csr_array((np.ones(len(cols)), (np.zeros(len(cols), np.int64), cols)), shape=(1, ncols)))
        ups.append(float(points))
        names.append("points")
    if budget is not None:
        rows.append(sp.csr_array((cost / MONEY, (np.zeros(len(cols), np.int64), cols)), shape=(1, ncols)))
        ups.append(float(budget) / MONEY)
        names.append("budget")
    return rows, ups, names


def _covering_core(data: CircleData, reach: Reach, minutes: float, value: np.ndarray, cost_matters: bool,
                   key: np.ndarray | None = None) -> dict[str, Any]:
    """Shared reductions of MCLP and LSCP: constant places, merged places, dominated candidates."""
    ex = data.existing
    cand_idx = np.flatnonzero(~ex)
    W = reach.matrix(minutes)
    pre = np.asarray(W[:, np.flatnonzero(ex)].sum(axis=1)).ravel() > 0 if ex.any() else np.zeros(W.shape[0], bool)
    B = W[:, cand_idx]
    reachable = np.asarray(B.sum(axis=1)).ravel() > 0
    rows = np.flatnonzero(~pre & reachable & (value > 0))
    B = B[rows]
    Bg, group = _aggregate(B, None if key is None else key[rows])
    vg = np.bincount(group, weights=value[rows], minlength=Bg.shape[0])
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)[cand_idx]
    dom = _dominated(Bg, cost if cost_matters else None)
    keep_cols = np.flatnonzero(~dom)
    Bk = Bg[:, keep_cols]
    Bk2, group2 = _aggregate(Bk, None if key is None else np.asarray(key[rows])[_first_of(group)])
    vg2 = np.bincount(group2, weights=vg, minlength=Bk2.shape[0])
    return {"pre": pre, "rows": rows, "B": Bk2, "value": vg2, "cols": cand_idx[keep_cols],
            "group_of_place": group2[group], "stats": {
                "places": int(W.shape[0]), "candidates": int(len(cand_idx)), "pairs_within_T": int(W.nnz),
                "places_constant": int(pre.sum()), "places_unreachable": int((~pre & ~reachable).sum()),
                "place_classes": int(Bk2.shape[0]), "candidates_kept": int(len(keep_cols)),
                "candidates_dominated": int(dom.sum())}}


def _first_of(group: np.ndarray) -> np.ndarray:
    first = np.full(int(group.max()) + 1 if len(group) else 0, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return first


def build_mclp(data: CircleData, reach: Reach, minutes: float, points: int | None,
               budget: float | None) -> Built:
    r"""The maximal covering location problem (Church & ReVelle), existing sites open.

    .. math::

        \max \; \sum_{k} a_k z_k + \sum_{i \in I_E} a_i
        \quad\text{s.t.}\quad
        z_k \le \sum_{j \in N_k \cap C} y_j \;(k),\qquad
        \sum_{j \in C} y_j \le p,\qquad
        \sum_{j \in C} c_j y_j \le Y,\qquad
        y_j \in \{0,1\},\; 0 \le z_k \le 1.

    ``I_E`` are the places within T of an existing site (covered whatever is chosen: a constant); ``k`` runs
    over classes of the remaining places that share the same candidate set ``N_k`` (their ``a`` summed);
    dominated candidates are dropped (module docstring).  ``z`` may be continuous: for binary ``y`` the
    optimum has ``z_k = min(1, Σ y)`` in {0, 1}.  Either limit row is left out when its limit is None.
    """
    need = data.need
    core = _covering_core(data, reach, minutes, need, cost_matters=budget is not None)
    B, a, cols = core["B"], core["value"], core["cols"]
    J, K = len(cols), B.shape[0]
    n = J + K
    cover = sp.hstack([-B, sp.eye_array(K, format="csr")], format="csr") if K else sp.csr_array((0, n))
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)[cols]
    lim, ups, names = _limit_rows(np.arange(J), cost, points, budget, n)
    A = sp.vstack([cover, *lim], format="csr") if lim else cover
    offset = float(need[core["pre"]].sum())
    problem = MilpProblem(
        c=np.concatenate([np.zeros(J), a]), A=A,
        row_lower=np.full(A.shape[0], -np.inf), row_upper=np.concatenate([np.zeros(K), ups]),
        col_lower=np.zeros(n), col_upper=np.ones(n),
        integrality=np.concatenate([np.ones(J, bool), np.zeros(K, bool)]), sense="max", offset=offset,
        col_names=tuple([f"y_{s}" for s in data.sites["site_id"].to_numpy()[cols]] + [f"z_{k}" for k in range(K)]),
        row_names=tuple([f"cover_{k}" for k in range(K)] + names),
    )
    return Built(problem, cols, stats=core["stats"])


def build_lscp(data: CircleData, reach: Reach, minutes: float, shares: dict[str, float]) -> Built:
    r"""The location set covering problem with coverage shares (Toregas et al.), existing sites open.

    .. math::

        \min \; \sum_{j \in C} y_j
        \quad\text{s.t.}\quad
        z_k \le \sum_{j \in N_k \cap C} y_j \;(k),\qquad
        \sum_{k \in K_t} P_k z_k \ge s_t P_t - P_t^E \;(t \in \{\text{urban}, \text{rural}\}),\qquad
        y_j \in \{0,1\},\; 0 \le z_k \le 1.

    ``P_t`` is the population of the places of area type ``t``, ``P_t^E`` the part within T of an existing site,
    ``s_t`` the share asked for (defaults: 95 % urban, A-COVERAGE; 80 % rural, F-COVERAGE); classes ``k`` are
    places with the same candidate set and area type.  For an area type with ``s_t = 1`` this is the classic
    LSCP: its ``z`` and share row are replaced by ``Σ_{j ∈ N_k ∩ C} y_j >= 1`` for each of its classes.  When
    even every site open cannot reach a share, the backend proves the model INFEASIBLE and a note gives the
    share that every site together reaches.
    """
    pop = data.population
    area = (data.places["area_type"] == "rural").to_numpy().astype(np.int64)
    core = _covering_core(data, reach, minutes, pop, cost_matters=False, key=area)
    B, P, cols = core["B"], core["value"], core["cols"]
    J, K = len(cols), B.shape[0]
    cls_area = np.zeros(K, dtype=np.int64)
    cls_area[core["group_of_place"]] = area[core["rows"]]
    any_site = np.asarray(reach.matrix(minutes).sum(axis=1)).ravel() > 0
    full = {code: float(shares.get(t, DEFAULT_SHARES[t])) >= 1.0 - 1e-12 for code, t in ((0, "urban"), (1, "rural"))}
    zcls = np.flatnonzero(~np.array([full[int(c)] for c in cls_area], dtype=bool)) if K else np.zeros(0, np.int64)
    ccls = np.setdiff1d(np.arange(K), zcls)
    zcol = np.full(K, -1, dtype=np.int64)
    zcol[zcls] = J + np.arange(len(zcls))
    n = J + len(zcls)
    blocks, lows, ups, names, notes = [], [], [], [], []
    if len(zcls):
        Bz = B[zcls]
        blocks.append(sp.hstack([-Bz, sp.eye_array(len(zcls), format="csr")], format="csr"))
        lows += [-np.inf] * len(zcls)
        ups += [0.0] * len(zcls)
        names += [f"cover_{k}" for k in zcls]
    if len(ccls):
        blocks.append(sp.hstack([B[ccls], sp.csr_array((len(ccls), len(zcls)))], format="csr"))
        lows += [1.0] * len(ccls)
        ups += [np.inf] * len(ccls)
        names += [f"cover_{k}" for k in ccls]
    for code, t in ((0, "urban"), (1, "rural")):
        mask = area == code
        P_t = float(pop[mask].sum())
        if P_t <= 0:
            continue
        s_t = float(shares.get(t, DEFAULT_SHARES[t]))
        best = float(pop[mask & any_site].sum()) / P_t
        if best + 1e-12 < s_t:
            notes.append(f"{t}: even with every site open only {best:.1%} of residents are within "
                         f"{minutes:g} minutes, below the {s_t:.0%} asked for")
        if full[code]:
            if best + 1e-12 < 1.0:  # a place no site reaches: an empty covering row, proven infeasible
                blocks.append(sp.csr_array((1, n)))
                lows.append(1.0)
                ups.append(np.inf)
                names.append(f"unreachable_{t}")
            continue
        P_e = float(pop[mask & core["pre"]].sum())
        sel = np.flatnonzero(cls_area == code)
        blocks.append(sp.csr_array((P[sel], (np.zeros(len(sel), np.int64), zcol[sel])), shape=(1, n)))
        lows.append(s_t * P_t - P_e)
        ups.append(np.inf)
        names.append(f"share_{t}")
    A = sp.vstack(blocks, format="csr") if blocks else sp.csr_array((1, n))
    if not blocks:
        lows, ups, names = [-np.inf], [np.inf], ["empty"]
    problem = MilpProblem(
        c=np.concatenate([np.ones(J), np.zeros(len(zcls))]), A=A,
        row_lower=np.array(lows, dtype=np.float64), row_upper=np.array(ups, dtype=np.float64),
        col_lower=np.zeros(n), col_upper=np.ones(n),
        integrality=np.concatenate([np.ones(J, bool), np.zeros(len(zcls), bool)]), sense="min",
        col_names=tuple([f"y_{s}" for s in data.sites["site_id"].to_numpy()[cols]] + [f"z_{k}" for k in zcls]),
        row_names=tuple(names),
    )
    return Built(problem, cols, stats=core["stats"], notes=notes)


def build_cmclp(data: CircleData, reach: Reach, minutes: float, points: int | None,
                budget: float | None) -> Built:
    r"""The capacitated maximal covering problem: each open point serves at most its capacity.

    .. math::

        \max \sum_{(i,j): t_{ij} \le T} v_i x_{ij}
        \quad\text{s.t.}\quad
        \sum_j x_{ij} \le P_i \;(i),\qquad
        \sum_i x_{ij} \le u_j y_j \;(j: u_j < \infty),\qquad
        x_{ij} \le P_i y_j \;(j \in C),\qquad
        \sum_{j \in C} y_j \le p,\qquad \sum_{j \in C} c_j y_j \le Y,

    ``y_j \in \{0,1\}`` for candidates and ``y_j = 1`` for existing sites, ``x_{ij} \ge 0`` residents of place
    ``i`` served by point ``j``, ``v_i = a_i / P_i`` the need weight of one resident of place ``i``.  A place's
    residents may be split between several points (fractional assignment; every resident of a place counts
    alike).  The ``x <= P y`` rows are implied by the capacity rows but tighten the LP relaxation.
    """
    need, pop = data.need, data.population
    ex = data.existing
    cap = data.sites["capacity"].to_numpy(dtype=np.float64)
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)
    m = (reach.minutes <= minutes + EPS) & (pop[reach.place] > 0) & (need[reach.place] > 0) & (cap[reach.site] > 0)
    xp, xs = reach.place[m], reach.site[m]
    used = np.unique(xs)
    ysites = np.concatenate([used[~ex[used]], used[ex[used]]])  # candidates first, then existing
    ycol = np.full(len(ex), -1, dtype=np.int64)
    ycol[ysites] = np.arange(len(ysites))
    J, X = len(ysites), len(xp)
    n = J + X
    xc = J + np.arange(X)
    places = np.unique(xp)
    prow = np.full(len(pop), -1, dtype=np.int64)
    prow[places] = np.arange(len(places))
    r_place = sp.csr_array((np.ones(X), (prow[xp], xc)), shape=(len(places), n))
    finite = ysites[np.isfinite(cap[ysites])]
    srow = np.full(len(ex), -1, dtype=np.int64)
    srow[finite] = np.arange(len(finite))
    fx = np.isfinite(cap[xs])
    r_cap = sp.csr_array((np.concatenate([np.ones(int(fx.sum())), -cap[finite]]),
                          (np.concatenate([srow[xs[fx]], np.arange(len(finite))]),
                           np.concatenate([xc[fx], ycol[finite]]))), shape=(len(finite), n))
    cx = ~ex[xs]
    k = int(cx.sum())
    r_vub = sp.csr_array((np.concatenate([np.ones(k), -pop[xp[cx]]]),
                          (np.concatenate([np.arange(k), np.arange(k)]),
                           np.concatenate([xc[cx], ycol[xs[cx]]]))), shape=(k, n))
    ncand = int((~ex[ysites]).sum())
    lim, ups, names = _limit_rows(np.arange(ncand), cost[ysites[:ncand]], points, budget, n)
    A = sp.vstack([r_place, r_cap, r_vub, *lim], format="csr")
    if A.shape[0] == 0:
        A = sp.csr_array((1, n))
        ups = [np.inf]
    v = np.divide(need, pop, out=np.zeros_like(need), where=pop > 0)
    col_lower = np.concatenate([ex[ysites].astype(float), np.zeros(X)])
    col_upper = np.concatenate([np.ones(J), pop[xp]])
    problem = MilpProblem(
        c=np.concatenate([np.zeros(J), v[xp]]), A=A,
        row_lower=np.full(A.shape[0], -np.inf),
        row_upper=np.concatenate([pop[places], np.zeros(len(finite)), np.zeros(k), ups]),
        col_lower=col_lower, col_upper=col_upper,
        integrality=np.concatenate([~ex[ysites], np.zeros(X, bool)]), sense="max",
    )
    stats = {"places": int(len(pop)), "candidates": int((~ex).sum()), "pairs_within_T": int(X),
             "places_modelled": int(len(places)), "sites_modelled": int(J)}
    notes = ["capacitated MCLP: a place's residents may be split between points (fractional assignment); "
             "coverage by group assumes every resident of a place is served alike"]
    return Built(problem, ysites[:ncand], xp, xs, J, stats, notes, {"existing_y": ysites[ncand:]})


def build_pmedian(data: CircleData, reach: Reach, points: int | None, budget: float | None,
                  radius: float) -> Built:
    r"""The p-median problem on pairs within a radius R, in the radius formulation, existing sites open.

    Minimise the need-weighted travel time ``Σ_i a_i min_{j open} t_ij`` with at most p new points (or within
    the budget).  The model is the radius formulation of García, Labbé & Marín (2011), which has the LP bound
    of the classic assignment formulation (Hakimi; ReVelle & Swain) with one row per distinct distance level
    instead of one column and one row per pair.  For place ``i`` let ``D_i1 < ... < D_iG`` be the distinct times
    to candidates within R and faster than ``e_i``, the time to its nearest existing site within R (always
    open), and ``g_i = min(e_i, R)``, ``D_i,G+1 = g_i``:

    .. math::

        \min \sum_i a_i \Big(D_{i1} + \sum_{k=2}^{G+1} (D_{ik} - D_{i,k-1})\, z_{ik}\Big)
        \quad\text{s.t.}\quad
        z_{ik} \ge z_{i,k-1} - \sum_{j \in C: t_{ij} = D_{i,k-1}} y_j \;(k = 2..G+1,\ z_{i1} \equiv 1),\qquad
        \sum_{j \in C} y_j \le p,\qquad \sum_{j \in C} c_j y_j \le Y,

    ``y`` binary, ``z \in [0, 1]``: ``z_ik = 1`` when no open point is faster than ``D_ik``; for binary ``y`` the
    optimal ``z_ik = max(0, 1 - Σ_{j: t_ij < D_ik} y_j)`` is integral.  A place with no open point within R
    and no existing site within R is charged ``g_i = R`` -- the *unreachable* penalty, never more than its true
    time, so the model is a relaxation of the unrestricted p-median over the same places: when its optimum
    charges no place the penalty, that plan is optimal for the unrestricted p-median too (``radius_exact``).
    A place with no candidate faster than ``e_i`` is a constant ``a_i e_i``; places with no site at all within
    R are left out and listed.
    """
    need = data.need
    ex = data.existing
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)
    n_i = len(need)
    m = reach.minutes <= radius + EPS
    pp, ss, tt = reach.place[m], reach.site[m], reach.minutes[m]
    e = np.full(n_i, np.inf)
    em = ex[ss]
    np.minimum.at(e, pp[em], tt[em])
    has_any = np.zeros(n_i, dtype=bool)
    has_any[pp] = True
    g = np.minimum(e, radius)
    cm = ~em & (tt < e[pp] - EPS) & (need[pp] > 0)
    xp, xs, xt = pp[cm], ss[cm], tt[cm]
    const = has_any.copy()
    const[xp] = False
    offset = float((need * g)[const].sum())
    ysites = np.unique(xs)
    ycol = np.full(len(ex), -1, dtype=np.int64)
    ycol[ysites] = np.arange(len(ysites))
    J = len(ysites)
    # distance levels: distinct (place, time) among candidate pairs, sorted by place then time
    order = np.lexsort((xt, xp))
    xp, xs, xt = xp[order], xs[order], xt[order]
    new_level = np.ones(len(xp), dtype=bool)
    new_level[1:] = (xp[1:] != xp[:-1]) | (xt[1:] - xt[:-1] > EPS)
    level = np.cumsum(new_level) - 1  # level of each pair
    lp_, lt = xp[new_level], xt[new_level]  # place and time of each level
    L = len(lp_)
    last = np.ones(L, dtype=bool)
    last[:-1] = lp_[1:] != lp_[:-1]
    first = np.ones(L, dtype=bool)
    first[1:] = lp_[1:] != lp_[:-1]
    nxt = np.where(last, g[lp_], np.roll(lt, -1))  # D_{i,k+1} (the cap after the last level)
    # z column q for level q means "no open point at time <= lt[q]": z_{i,k+1} in the docstring's numbering
    zc = J + np.arange(L)
    n = J + L
    # row of level q: z_q - z_{q-1} (same place, q not first) + Σ_{j at level q} y_j >= 1 if first else 0
    rows = np.concatenate([np.arange(L), np.flatnonzero(~first), level])
    colv = np.concatenate([zc, zc[np.flatnonzero(~first) - 1], ycol[xs]])
    vals = np.concatenate([np.ones(L), -np.ones(int((~first).sum())), np.ones(len(xs))])
    r_levels = sp.csr_array((vals, (rows, colv)), shape=(L, n))
    lim, ups, names = _limit_rows(np.arange(J), cost[ysites], points, budget, n)
    A = sp.vstack([r_levels, *lim], format="csr")
    if A.shape[0] == 0:
        A = sp.csr_array((1, n))
        ups = [np.inf]
    lo = np.concatenate([first.astype(np.float64), np.full(len(lim), -np.inf)]) if L or lim else np.array([-np.inf])
    up = np.concatenate([np.full(L, np.inf), ups]) if L or lim else np.array([np.inf])
    places_m = lp_[first]
    offset += float((need[places_m] * lt[first]).sum())  # a_i D_i1
    problem = MilpProblem(
        c=np.concatenate([np.zeros(J), need[lp_] * (nxt - lt)]), A=A,
        row_lower=lo, row_upper=up, col_lower=np.zeros(n), col_upper=np.ones(n),
        integrality=np.concatenate([np.ones(J, bool), np.zeros(L, bool)]), sense="min", offset=offset,
    )
    unreachable = int((~has_any & (need > 0)).sum())
    notes = [f"p-median over pairs within R = {radius:g} minutes; a place with no open point within R is "
             f"charged R minutes (a lower bound on its true time)"]
    if unreachable:
        notes.append(f"{unreachable} place(s) with need have no site within {radius:g} minutes: left out of the "
                     "p-median objective and listed as unreachable")
    stats = {"places": n_i, "candidates": int((~ex).sum()), "pairs_within_R": int(m.sum()),
             "places_modelled": int(len(places_m)), "places_constant": int(const.sum()),
             "places_unreachable": unreachable, "distance_levels": int(L)}
    # the penalty column of a place: its last level, when no existing site is within R
    pen_cols = zc[last & ~np.isfinite(e[lp_])]
    return Built(problem, ysites, stats=stats, notes=notes, extra={"penalty_cols": pen_cols, "penalty": radius})
