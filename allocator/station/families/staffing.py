"""Staffing clauses C1-C12: staff density and mix, certification, caseload, salaries, hiring."""

from __future__ import annotations

import numpy as np

from allocator.station.context import INF, Context, total
from allocator.station.families.moves import move_cost_terms
from allocator.station.families.registry import family, with_figure


@family("A-STAFF-DENSITY", "total")
def staff_density(ctx: Context) -> None:
    """C1: sum(adm+SW+vol) >= per_10k * pop_total / 10,000."""
    c = ctx.clause("A-STAFF-DENSITY")
    ctx.fam("A-STAFF-DENSITY", "total", [total(ctx.staff.ravel())], c.figures["per_10k"] * ctx.pop_total / 1e4, INF,
            unit="staff")


def _staff_mix(ctx: Context, t: str, cols_t: np.ndarray) -> None:
    """C2: staff_t within (share_t -/+ tolerance) of all staff."""
    c = ctx.clause("A-STAFF-MIX")
    tol, share = c.figures.get("tolerance", 0.0), c.figures[t]  # no tolerance unless the instance sets one
    staff_all = ctx.staff.ravel()
    mine = np.isin(staff_all, np.asarray(cols_t).ravel())
    lo_coef = np.where(mine, 1.0 - (share - tol), -(share - tol))
    hi_coef = np.where(mine, 1.0 - (share + tol), -(share + tol))
    ctx.fam("A-STAFF-MIX", t, [total(staff_all, lo_coef)], 0.0, INF, unit="staff", tag="min")
    ctx.fam("A-STAFF-MIX", t, [total(staff_all, hi_coef)], -INF, 0.0, unit="staff", tag="max")


@family("A-STAFF-MIX", "admin")
def staff_mix_admin(ctx: Context) -> None:
    _staff_mix(ctx, "admin", ctx.adm)


@family("A-STAFF-MIX", "social_worker")
def staff_mix_sw(ctx: Context) -> None:
    _staff_mix(ctx, "social_worker", ctx.SW.ravel())


@family("A-STAFF-MIX", "volunteer")
def staff_mix_volunteer(ctx: Context) -> None:
    _staff_mix(ctx, "volunteer", ctx.vol)


@family("A-CERT-MIN", "station")
def cert_min(ctx: Context) -> None:
    """C3: CERT[s] >= per_station * act[s]."""
    n = ctx.clause("A-CERT-MIN").figures["per_station"]
    ctx.fam("A-CERT-MIN", "station", [(ctx.CERT, 1.0), (ctx.build, -n * ctx.act_coef)], n * ctx.act_const, INF,
            ctx.sidx, "workers")


@family("A-CERT-RATE", "total")
def cert_rate(ctx: Context) -> None:
    """C4: sum CERT - share * sum SW >= 0."""
    share = ctx.clause("A-CERT-RATE").figures["share"]
    ctx.fam("A-CERT-RATE", "total", [total(np.concatenate([ctx.swa, ctx.swi]), 1 - share), total(ctx.swu, -share)],
            0.0, INF, unit="workers")


@family("A-CASELOAD", "station")
def caseload(ctx: Context) -> None:
    """C5: households served / hhsize - households_per_worker * SW <= 0."""
    c = ctx.clause("A-CASELOAD")
    hhsize = ctx.pop / ctx.hh
    ctx.fam("A-CASELOAD", "station", [(ctx.x, 1.0 / hhsize[:, None]), (ctx.SW, -c.figures["households_per_worker"])],
            -INF, 0.0, ctx.sidx, "households")


@family("A-SALARY", "station")
def salary_floor(ctx: Context) -> None:
    """C6: m_sal - 12 * monthly_min * SW - base[admin] * adm >= 0."""
    c = ctx.clause("A-SALARY")
    ctx.fam("A-SALARY", "station", [(ctx.m_sal, 1.0), (ctx.SW, -12 * c.figures["monthly_min"]),
                                    (ctx.adm, -ctx.base["admin"].annual_cost), *move_cost_terms(ctx, -1.0)],
            0.0, INF, ctx.sidx, "yuan")  # X-MOVES: the salaries less the moves' cost are pay


@family("A-VOLUNTEER", "total")
def volunteers(ctx: Context) -> None:
    """C7: sum vol >= multiplier * baseline."""
    c = ctx.clause("A-VOLUNTEER")
    ctx.fam("A-VOLUNTEER", "total", [total(ctx.vol)], c.figures["multiplier"] * c.figures["baseline"], INF,
            unit="volunteers")


@family("F-SW-DENSITY", "per_10k")
def sw_density(ctx: Context) -> None:
    """C8: sum SW >= per_10k * pop_total / 10,000."""
    c = ctx.clause("F-SW-DENSITY")
    ctx.fam("F-SW-DENSITY", "per_10k", [total(ctx.SW.ravel())], c.figures["per_10k"] * ctx.pop_total / 1e4, INF,
            unit="workers")


@family("F-SW-DENSITY", "stated_total", applies=with_figure("F-SW-DENSITY", "stated_total"))
def sw_stated_total(ctx: Context) -> None:
    """C8: sum SW >= stated_total."""
    c = ctx.clause("F-SW-DENSITY")
    ctx.fam("F-SW-DENSITY", "stated_total", [total(ctx.SW.ravel())], c.figures["stated_total"], INF, unit="workers")


def _sw_per_station(ctx: Context, cid: str, mask: np.ndarray) -> None:
    n = ctx.clause(cid).figures["per_station"]
    ctx.fam(cid, "station", [(ctx.SW, 1.0), (ctx.build, -n * ctx.act_coef)], n * ctx.act_const, INF, ctx.sidx,
            "workers", mask=mask)


@family("F-SW-URBAN", "station")
def sw_urban(ctx: Context) -> None:
    """C9: SW[s] >= per_station * act[s] on urban stations."""
    _sw_per_station(ctx, "F-SW-URBAN", ctx.urban)


@family("F-SW-RURAL", "station")
def sw_rural(ctx: Context) -> None:
    """C9: SW[s] >= per_station * act[s] on rural stations."""
    _sw_per_station(ctx, "F-SW-RURAL", ~ctx.urban)


@family("F-CERT-RATE", "certified", applies=with_figure("F-CERT-RATE", "share"))
def cert_share(ctx: Context) -> None:
    """C10: sum CERT - share(year) * sum SW >= 0."""
    share = ctx.clause("F-CERT-RATE").figures["share"]
    ctx.fam("F-CERT-RATE", "certified", [total(np.concatenate([ctx.swa, ctx.swi]), 1 - share), total(ctx.swu, -share)],
            0.0, INF, unit="workers")


@family("F-CERT-RATE", "intermediate", applies=with_figure("F-CERT-RATE", "intermediate_share"))
def intermediate_share(ctx: Context) -> None:
    """C10: sum swi - intermediate_share * sum SW >= 0."""
    share = ctx.clause("F-CERT-RATE").figures["intermediate_share"]
    ctx.fam("F-CERT-RATE", "intermediate",
            [total(ctx.swi, 1 - share), total(np.concatenate([ctx.swa, ctx.swu]), -share)], 0.0, INF, unit="workers")


@family("F-HIRING", "in_post", applies=with_figure("F-HIRING", "in_post"))
def hiring_in_post(ctx: Context) -> None:
    """C11: sum SW >= in_post(year)."""
    ctx.fam("F-HIRING", "in_post", [total(ctx.SW.ravel())], ctx.clause("F-HIRING").figures["in_post"], INF,
            unit="workers")


@family("F-HIRING", "recruited", applies=with_figure("F-HIRING", "recruited"))
def hiring_recruited(ctx: Context) -> None:
    """C11: sum SW - in post today <= recruited(year)."""
    ctx.fam("F-HIRING", "recruited", [total(ctx.SW.ravel())], -INF,
            ctx.clause("F-HIRING").figures["recruited"] + ctx.in_post["sw"].sum(), unit="workers")


@family("F-SALARY", "station")
def salary_average(ctx: Context) -> None:
    """C12: m_sal - annual_average * SW - 12 * seniority_bonus * (senior workers in post) >= 0."""
    c = ctx.clause("F-SALARY")
    bonus = 12 * c.figures.get("seniority_bonus_monthly", 0.0) * ctx.in_post["senior"]
    ctx.fam("F-SALARY", "station", [(ctx.m_sal, 1.0), (ctx.SW, -c.figures["annual_average"]),
                                    *move_cost_terms(ctx, -1.0)], bonus, INF, ctx.sidx, "yuan")
