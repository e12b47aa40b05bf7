"""F-DEGREE and F-YOUNG: the profile of social-worker hires and of the stock (§F3.2, F7.1).

Formulation
===========
Sets and parameters
-------------------
S stations (s); in a horizon the years t = 0..T-1 of ``instance.years``.  From staff.csv (social workers
only): B0[s] workers in post with a bachelor's degree or above, ages a_w.  A = F-YOUNG ``age_below`` (35).
r_t the year's F-TURNOVER rate (0 in a one-year model: E1 keeps everyone in post).  p = F-DEGREE
``hire_premium`` (yuan a year, default 0).  share_t the clause's figure of the year.

Variables
---------
hb[s] (hb[s,t])  integer >= 0: social-worker hires with a bachelor's degree or above (F-DEGREE);
hy[s] (hy[s,t])  integer >= 0: social-worker hires under A (F-YOUNG).
Degree and age are independent marks of a hire: any hb, hy <= hires are the counts of some list of people.

Stock (expressions of the hires, no columns of their own)
---------------------------------------------------------
One year (E1: nobody leaves; staff.csv's ages are the plan year's):
    BACH = sum_s B0[s] + sum_s hb[s];   YOUNG = #{w: a_w < A} + sum_s hy[s].
Horizon (linear assumptions, stated here):
* Leavers are in proportion to the stock's profile in expectation: each profile loses the year's share r_t of
  its stock at the start of the year (hires of the year do not leave in it, as H2-OUTFLOW).  The stock of a
  profile is therefore an expected, fractional figure; the integer leavers of H2 are not split by profile.
* Degrees are kept (no in-service degrees).
* Ageing: staff.csv's ages are those of the first plan year, so today's worker w is under A in year t iff
  a_w + t < A (exact, cohort by cohort).  Hires' ages are not known: a young hire leaves the band at the
  yearly ageing-out share g = #{w: a_w = A-1} / #{w: a_w < A} of today's young workers (their share at
  the band's edge), in every year after the one they are hired in.
    surv_b(u,t) = prod_{u<j<=t} (1 - r_j),   surv_y(u,t) = prod_{u<j<=t} (1 - r_j - g)
    BACH_t  = sum_s B0[s] * prod_{j<=t} (1 - r_j) + sum_{u<=t} surv_b(u,t) sum_s hb[s,u]
    YOUNG_t = #{w: a_w + t < A} * prod_{j<=t} (1 - r_j) + sum_{u<=t} surv_y(u,t) sum_s hy[s,u]

The horizon counts the years in which the clause applies (its hb / hy columns): a clause that starts after
the first year would count the earlier years' hires as none of the profile and skip their turnover, so an
instance states the figure from the first year (the seeds: 2024, today's share).

Rows
----
P1 PROFILE-HIRES (engine, hard)  hb[s] <= SW hires[s]; hy[s] <= SW hires[s]   (workers)
        one year: SW hires[s] = SW[s] - social workers in post[s] - moves in[s] + moves out[s] (E1);
        horizon: SW hires[s,t] = sum over the social-worker levels of hire[s,c,t] (H1), added by
        :func:`link_profile` once the linking columns exist.
P2 F-DEGREE [share]   BACH_t - share_t * sum_s SW[s,t] >= 0                    (workers)
   F-YOUNG  [share]   YOUNG_t - share_t * sum_s SW[s,t] >= 0                   (workers)
P3 PROFILE-PAYROLL (engine, hard; only when p > 0)  E3's payroll plus the degree premium of the bachelor
        hires still in post:  m_sal[s] - pay*SW - base[admin]*adm - base[vol]*vol
                              - p * sum_{u<=t} surv_b(u,t) hb[s,u] >= 0            (yuan)

The cost: a bachelor hire costs p more a year (the instance's figure, F-DEGREE ``hire_premium``; without it
F-DEGREE would be met for free by marking hires); a young hire costs nothing more (the documents tie pay to
years of service, F-SALARY, not to age), so F-YOUNG binds only where the hires are too few for the share
once the stock ages and leaves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, total
from allocator.station.families import engine as eng
from allocator.station.families.registry import family, with_figure

KEYS = {"F-DEGREE": "hb", "F-YOUNG": "hy"}
_INTEGER = True  # hires are people: the hiring list needs whole numbers


def today_profile(inst: Instance) -> dict[str, Any]:
    """Social workers in post today: station index, bachelor flag and age of each (staff.csv)."""
    sf = inst.staff
    sids = np.asarray(inst.stations["station_id"], dtype=str)
    at = {s: i for i, s in enumerate(sids)}
    sw = np.asarray(sf["type"], dtype=str) == "social_worker"
    idx = np.array([at[s] for s in np.asarray(sf["station_id"], dtype=str)[sw]], dtype=int)
    bach = np.asarray(sf["bachelor"], dtype=bool)[sw] if "bachelor" in sf else np.zeros(int(sw.sum()), bool)
    age = np.asarray(sf["age"], dtype=float)[sw] if "age" in sf else np.full(int(sw.sum()), 35.0)
    return {"S": len(sids), "idx": idx, "bachelor": bach, "age": age}


def ageing_share(inst: Instance, age_below: float) -> float:
    """g: the share of today's young social workers at the band's edge (age_below - 1), 0 with none young."""
    age = today_profile(inst)["age"]
    young = age < age_below
    return float((np.floor(age[young]) == age_below - 1).sum() / young.sum()) if young.any() else 0.0


def stock_today(inst: Instance, cid: str, k: int = 0) -> np.ndarray:
    """Per station: today's social workers of the profile (F-DEGREE: bachelors; F-YOUNG: under age_below in
    year index ``k``, before leavers)."""
    p = today_profile(inst)
    if cid == "F-DEGREE":
        mask = p["bachelor"]
    else:
        c = inst.any_clause("F-YOUNG")
        below = float(c.figures.get("age_below", 35.0)) if c is not None else 35.0
        mask = p["age"] + k < below
    return np.bincount(p["idx"][mask], minlength=p["S"]).astype(float)


def survival(rates: list[float], g: float = 0.0) -> tuple[float, list[float]]:
    """For year index t = len(rates)-1: today's stock kept (prod_{j<=t} (1-r_j)) and each year u's hires kept."""
    keep_today = float(np.prod([1.0 - r for r in rates]))
    hires = [float(np.prod([1.0 - r - g for r in rates[u + 1:]])) for u in range(len(rates))]
    return keep_today, hires


def _state(ctx: Context) -> dict[str, list[Any]] | None:
    """The horizon's record of the earlier years' profile columns (None in a one-year build)."""
    b = ctx.b
    if not hasattr(b, "block_years"):
        return None
    st: dict[str, list[Any]] = b.__dict__.setdefault("_profile", {"hb": [], "hy": []})
    return st


def _rate(inst: Instance) -> float:
    c = inst.any_clause("F-TURNOVER")
    return float(c.figures.get("rate", 0.0)) if c is not None else 0.0


def _profile(ctx: Context, cid: str) -> None:
    key = KEYS[cid]
    c = ctx.clause(cid)
    share = float(c.figures["share"])
    b, S = ctx.b, ctx.S
    col = b.cols(key, (S,), 0.0, ctx.cap, _INTEGER)
    ctx.cols[key] = col
    state = _state(ctx)
    if state is None:  # one year: hires are the rise over today's social workers after the moves (E1)
        p1: list[tuple[np.ndarray, Any]] = [(col, 1.0), (ctx.SW, -1.0)]
        if "mv_in" in ctx.cols:  # X-MOVES: a worker moved in is not a hire, one moved out leaves a post to fill
            p1 += [(ctx.cols["mv_in"], 1.0), (ctx.cols["mv_out"], -1.0)]
        b.rows(f"profile_hires:{key}", "ENGINE", "PROFILE-HIRES", p1, -INF,
               -ctx.in_post["sw"], ctx.sidx, "workers", tag=key)
        hist: list[tuple[np.ndarray, float]] = [(col, 0.0)]
    else:
        state[key].append((col, _rate(ctx.inst)))
        hist = state[key]
    rates = [r for _, r in hist]
    k = len(hist) - 1
    g = ageing_share(ctx.inst, float(c.figures.get("age_below", 35.0))) if cid == "F-YOUNG" else 0.0
    keep_today, keep_hires = survival(rates, g)
    today = float(stock_today(ctx.inst, cid, k).sum()) * keep_today
    terms: list[tuple[np.ndarray, Any]] = [total(h, f) for (h, _), f in zip(hist, keep_hires, strict=True)]
    terms.append(total(ctx.SW.ravel(), -share))
    ctx.fam(cid, "share", terms, -today, INF, unit="workers")
    premium = float(c.figures.get("hire_premium", 0.0)) if cid == "F-DEGREE" else 0.0
    if premium > 0:
        pay, _ = eng.sw_pay(ctx)
        base = ctx.base
        pterms: list[tuple[np.ndarray, Any]] = [
            (ctx.m_sal, 1.0), (ctx.SW, -pay), (ctx.adm, -base["admin"].annual_cost),
            (ctx.vol, -base["volunteer"].annual_cost)]
        pterms += [(h, -premium * f) for (h, _), f in zip(hist, keep_hires, strict=True)]
        b.rows("profile_payroll", "ENGINE", "PROFILE-PAYROLL", pterms, 0.0, INF, ctx.sidx, "yuan")


@family("F-DEGREE", "share", applies=with_figure("F-DEGREE", "share"))
def degree_share(ctx: Context) -> None:
    """P1-P3 for F-DEGREE: bachelor hires, the stock's bachelor share, the degree premium."""
    _profile(ctx, "F-DEGREE")


@family("F-YOUNG", "share", applies=with_figure("F-YOUNG", "share"))
def young_share(ctx: Context) -> None:
    """P1-P2 for F-YOUNG: young hires and the stock's young share."""
    _profile(ctx, "F-YOUNG")


def link_profile(ctxs: list[Context], link: dict[str, np.ndarray], years: tuple[int, ...]) -> None:
    """P1 in a horizon: each year's profile hires within its social-worker hires (``link['hire']``)."""
    if not ctxs:
        return
    b = ctxs[0].b
    for k, (t, ctx) in enumerate(zip(years, ctxs, strict=True)):
        sw_hires = link["hire"][k][:, 1:4]  # levels none / assistant / intermediate (path.LEVELS)
        for key in ("hb", "hy"):
            if key in ctx.cols:
                b.year = t  # type: ignore[attr-defined]
                b.rows(f"profile_hires:{key}", "ENGINE", "PROFILE-HIRES", [(ctx.cols[key], 1.0), (sw_hires, -1.0)],
                       -INF, 0.0, ctx.sidx, "workers", tag=key)
    b.year = None  # type: ignore[attr-defined]
