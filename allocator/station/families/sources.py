"""Funding sources (issue 15): every yuan of the plan is paid from a source (§A2.2, A3.2, A6.3, F2.3, F5.2, F7.2).

Sets and parameters
-------------------
J = (city, county, social, fees) the sources: city fiscal funds, county (district) fiscal funds, social
funds (donations, the social-work fund), service fees / service revenue.  A clause groups them:

* A-SOURCES  fiscal = {city, county}, donations = {social}, fees = {fees}     (§A2.2: 75 : 15 : 10 today;
  ``social_target`` 30 % by 2028 is recorded, not applied: 2028 is beyond every seed's years).
* F-SOURCES  fiscal = {city, county}, social = {social}, revenue = {fees}     (§F2.3 90 : 10 today,
  §F8.2 social 15 % in 2025, §F7.2 70 : 20 : 10 in 2026; path figures, resolved per year-slice).

``share_q`` the clause's share of group q, ``tol`` its ``tolerance`` (share points, default 0), ``cap_j``
an optional yearly cap on a source (A: ``donations_max``, ``fees_max``; F: ``social_max``, ``revenue_max``),
``per_worker`` and ``match`` F-OPS-SUBSIDY's figures.

Variables
---------
``m_src[s, j] >= 0`` money of station s paid from source j (one block per year-slice in a horizon:
``m_src@2025``), in thousands of yuan like every money column.  Per station and source, not per use: the
documents give shares of the whole funding and a county match, never which source pays which use, so a
per-use split would add columns with no policy in them.  ``m_src`` has no objective coefficient: the money
is already costed once on the use columns (m_fac, m_sal, m_svc, m_trn); the sources only say who pays it.
The city column is fixed by F-OPS-SUBSIDY [city]; without F-OPS-SUBSIDY it is 0 (the documents name city
money only as that subsidy), and A's fiscal money is the district's own (source ``county``).

Objective: ``m_src`` costs nothing (above); a soft family (the seeds: F-SOURCES [split], F-OPS-SUBSIDY
[county_match]) loses its penalty per yuan off its row, so the plan is financed as close to the documents'
shares and match as the money allows, and the shortfall is reported in yuan.  In a horizon every year-slice
has its own ``m_src`` and rows, with that year's shares and caps (``share.2026`` resolved per year);
sources.csv then carries a ``year`` column.

How much social and fee money there is: the budget lines (A-BUDGET-PERCAP, F-TOTAL) bound the plan's money
from all sources together; the shares say how that money is financed, so a share never adds money.  A cap
``cap_j`` bounds a source in yuan (F: 10 M social funds planned for 2025, §F5.2; 4.5 M of service revenue
expected, §F7.2): with the split hard, a cap below ``share x total`` lowers the total the plan can spend.

Rows (yuan)
-----------
S1 A-SOURCES / F-SOURCES [paid] (per station, always hard: no yuan without a source):
   ``sum_j m_src[s,j] - (m_fac + m_sal + m_svc + m_trn)[s] = 0``.  F-SOURCES [paid] is built only when
   A-SOURCES is not in force (one identity per station).
S2 [split] (totals, per group q, tags ``q,min`` and ``q,max``; the clause's mode: hard within ``tol``, or soft):
   ``sum_{s, j in q} m_src - (share_q - tol) * sum_{s,j} m_src >= 0`` and the same with ``+ tol``, ``<= 0``.
S3 [available] (totals, one per capped source, labels the source): ``sum_s m_src[s,j] <= cap_j``.
S4 F-OPS-SUBSIDY [city] (per station): ``m_src[s,city] - per_worker * SW[s] - nb[s] * m_fac[s] = 0``: the
   city pays 50,000 yuan per social worker (§F5.2) and, with F-BUILD-SUBSIDY in force, the one-off building
   subsidy (§F2.4): the facilities money of new and upgrade stations (``nb[s]`` = 1 there, else 0), which
   F-BUILD-SUBSIDY sets to ``sub[s] * built[s]``.
S5 F-OPS-SUBSIDY [county_match] (per county, labels the county):
   ``sum_{s in c} m_src[s,county] - match * per_worker * sum_{s in c} SW[s] >= 0``: the county matches the
   city's operating subsidy at least ``match`` : 1 (the building subsidy is the city's alone).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context, county_members, join_keys, total
from allocator.station.families.registry import family

SOURCES = ("city", "county", "social", "fees")
# Groups of sources by clause: figure name -> source indices; then the caps' figure names.
GROUPS = {"A-SOURCES": {"fiscal": (0, 1), "donations": (2,), "fees": (3,)},
          "F-SOURCES": {"fiscal": (0, 1), "social": (2,), "revenue": (3,)}}
CAPS = {"A-SOURCES": {"donations_max": 2, "fees_max": 3}, "F-SOURCES": {"social_max": 2, "revenue_max": 3}}


def source_clause(inst: Instance) -> str | None:
    """The clause that owns the sources identity: A-SOURCES if in force, else F-SOURCES, else None."""
    for cid in ("A-SOURCES", "F-SOURCES"):
        if inst.clause(cid) is not None:
            return cid
    return None


def _src(ctx: Context) -> np.ndarray:
    """The ``m_src`` block (stations x sources), made by the first family that needs it."""
    if "m_src" not in ctx.cols:
        city_ok = ctx.inst.clause("F-OPS-SUBSIDY") is not None
        ub = np.broadcast_to(np.array([INF if city_ok else 0.0, INF, INF, INF]), (ctx.S, len(SOURCES)))
        keys = join_keys(ctx.station_ids[:, None], np.asarray(SOURCES)[None, :])
        ctx.cols["m_src"] = ctx.b.cols("m_src", (ctx.S, len(SOURCES)), 0.0, ub, False, 0.0, money=True, keys=keys)
    return ctx.cols["m_src"]


def _paid(ctx: Context, cid: str) -> None:
    src = _src(ctx)
    uses = np.stack([ctx.m_fac, ctx.m_sal, ctx.m_svc, ctx.m_trn], axis=1)
    ctx.b.rows(f"{cid}:paid", cid, "paid", [(src, 1.0), (uses, -1.0)], 0.0, 0.0, ctx.sidx, "yuan", "hard")


def _split(ctx: Context, cid: str) -> None:
    c = ctx.clause(cid)
    tol = float(c.figures.get("tolerance", 0.0))
    src = _src(ctx)
    for q, members in GROUPS[cid].items():
        mine = np.isin(np.arange(len(SOURCES)), members)[None, :]
        for tag, shift, lo, hi in (("min", -tol, 0.0, INF), ("max", tol, -INF, 0.0)):
            coef = np.broadcast_to(np.where(mine, 1.0, 0.0) - (c.figures[q] + shift), src.shape)
            ctx.fam(cid, "split", [total(src.ravel(), coef.ravel())], lo, hi, unit="yuan", tag=f"{q},{tag}")


def _available(ctx: Context, cid: str) -> None:
    c = ctx.clause(cid)
    src = _src(ctx)
    for name, j in CAPS[cid].items():
        if name in c.figures:
            ctx.fam(cid, "available", [total(src[:, j])], -INF, float(c.figures[name]), unit="yuan",
                    labels=(SOURCES[j],))


def _has_shares(cid: str) -> Callable[[Instance], bool]:
    """``applies``: the clause is in force with every share stated (a path may start after the plan year)."""
    def applies(inst: Instance) -> bool:
        c = inst.clause(cid)
        return c is not None and all(q in c.figures for q in GROUPS[cid])
    return applies


def _has_cap(cid: str) -> Callable[[Instance], bool]:
    """``applies``: the clause is in force and caps some source."""
    def applies(inst: Instance) -> bool:
        c = inst.clause(cid)
        return c is not None and any(n in c.figures for n in CAPS[cid])
    return applies


@family("A-SOURCES", "paid")
def a_paid(ctx: Context) -> None:
    """S1: every yuan of every station paid from a source."""
    _paid(ctx, "A-SOURCES")


@family("A-SOURCES", "split", applies=_has_shares("A-SOURCES"))
def a_split(ctx: Context) -> None:
    """S2: fiscal : donations : fees as the shares of the money spent."""
    _split(ctx, "A-SOURCES")


@family("A-SOURCES", "available", applies=_has_cap("A-SOURCES"))
def a_available(ctx: Context) -> None:
    """S3: donations and fees within what is available."""
    _available(ctx, "A-SOURCES")


@family("F-SOURCES", "paid", applies=lambda inst: source_clause(inst) == "F-SOURCES")
def f_paid(ctx: Context) -> None:
    """S1: every yuan of every station paid from a source (A-SOURCES not in force)."""
    _paid(ctx, "F-SOURCES")


@family("F-SOURCES", "split", applies=_has_shares("F-SOURCES"))
def f_split(ctx: Context) -> None:
    """S2: fiscal : social : revenue as the shares of the money spent (the year's figures)."""
    _split(ctx, "F-SOURCES")


@family("F-SOURCES", "available", applies=_has_cap("F-SOURCES"))
def f_available(ctx: Context) -> None:
    """S3: social funds and service revenue within what is available."""
    _available(ctx, "F-SOURCES")


def _subsidy_applies(inst: Instance) -> bool:
    c = inst.clause("F-OPS-SUBSIDY")
    return c is not None and "per_worker" in c.figures and source_clause(inst) is not None


@family("F-OPS-SUBSIDY", "city", applies=_subsidy_applies)
def ops_city(ctx: Context) -> None:
    """S4: the city's money at a station is its subsidy: per_worker x SW (+ the building subsidy)."""
    per = float(ctx.clause("F-OPS-SUBSIDY").figures["per_worker"])
    src = _src(ctx)
    terms: list[tuple[np.ndarray, object]] = [(src[:, 0], 1.0), (ctx.SW, -per)]
    if ctx.inst.clause("F-BUILD-SUBSIDY") is not None:
        # The facilities money of a new or upgrade station is the city's building subsidy (F-BUILD-SUBSIDY
        # sets it to the subsidy x built, in the year built in a horizon).
        terms.append((ctx.m_fac, -ctx.buildable.astype(float)))
    ctx.fam("F-OPS-SUBSIDY", "city", terms, 0.0, 0.0, ctx.sidx, "yuan")


def _match_applies(inst: Instance) -> bool:
    c = inst.clause("F-OPS-SUBSIDY")
    return _subsidy_applies(inst) and c is not None and "county_match" in c.figures


@family("F-OPS-SUBSIDY", "county_match", applies=_match_applies)
def ops_county_match(ctx: Context) -> None:
    """S5: the county's fiscal money >= match x the city's operating subsidy, per county."""
    f = ctx.clause("F-OPS-SUBSIDY").figures
    per, match = float(f["per_worker"]), float(f["county_match"])
    src = _src(ctx)
    names, members = county_members(ctx.inst.stations)
    valid = members >= 0
    at = np.maximum(members, 0)
    county_cols = src[at, 1]
    sw = ctx.SW[at]  # counties x members x 3
    ctx.fam("F-OPS-SUBSIDY", "county_match",
            [(county_cols, np.where(valid, 1.0, 0.0)),
             (sw.reshape(len(names), -1), np.repeat(np.where(valid, -match * per, 0.0), 3, axis=1))],
            0.0, INF, unit="yuan", labels=tuple(str(n) for n in names))
