"""Staffing clauses: density, mix, certification, caseload, pay, volunteers, hiring (formulation C1-C12)."""

from __future__ import annotations

from functools import partial

import numpy as np

from allocator.instance import Instance
from allocator.verify.checks.base import CheckFamily, in_force, stations_where
from allocator.verify.checks.moves import move_cost_in
from allocator.verify.context import Context

__all__ = ["FAMILIES"]


def staff_density(ctx: Context) -> None:
    """C1 A-STAFF-DENSITY [total]: staff >= per_10k x residents / 10,000."""
    ctx.row("A-STAFF-DENSITY", "total", None, "staff >= per_10k x residents / 10,000", ctx.total_staff.sum(), ">=",
            ctx.fig("A-STAFF-DENSITY", "per_10k") * ctx.pop_total / 10_000, "staff")


def staff_mix(t: str, ctx: Context) -> None:
    """C2 A-STAFF-MIX [t]: staff of type t within (share -+ tolerance) x all staff."""
    tolr = ctx.fig("A-STAFF-MIX", "tolerance", 0.0)
    share = ctx.fig("A-STAFF-MIX", t)
    n = {"admin": ctx.adm, "social_worker": ctx.sw, "volunteer": ctx.vol}[t].sum()
    total = ctx.total_staff.sum()
    ctx.row("A-STAFF-MIX", t, None, f"{t} >= (share - tolerance) x all staff", n, ">=", (share - tolr) * total,
            "staff")
    ctx.row("A-STAFF-MIX", t, None, f"{t} <= (share + tolerance) x all staff", n, "<=", (share + tolr) * total,
            "staff")


def cert_min(ctx: Context) -> None:
    """C3 A-CERT-MIN [station]: certified social workers >= per_station at every active station."""
    ctx.station_rows("A-CERT-MIN", "station", "certified social workers >= per_station x active", ctx.cert, ">=",
                     ctx.fig("A-CERT-MIN", "per_station") * ctx.act, "workers")


def cert_rate_a(ctx: Context) -> None:
    """C4 A-CERT-RATE [total]: certified >= share x social workers."""
    ctx.row("A-CERT-RATE", "total", None, "certified >= share x social workers", ctx.cert.sum(), ">=",
            ctx.fig("A-CERT-RATE", "share") * ctx.sw.sum(), "workers")


def caseload(ctx: Context) -> None:
    """C5 A-CASELOAD [station]: households served <= households_per_worker x social workers."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_res = np.where(ctx.pop > 0, ctx.hh / np.where(ctx.pop > 0, ctx.pop, 1.0), 0.0)
    ctx.station_rows("A-CASELOAD", "station", "households served <= households_per_worker x social workers",
                     ctx.x.sum(axis=1) * per_res, "<=", ctx.fig("A-CASELOAD", "households_per_worker") * ctx.sw,
                     "households")


def salary_a(ctx: Context) -> None:
    """C6 A-SALARY [station]: salaries >= 12 x monthly_min x social workers + admin base cost."""
    ctx.station_rows("A-SALARY", "station", "salaries >= 12 x monthly_min x social workers + admin base cost",
                     ctx.sal - move_cost_in(ctx), ">=",
                     12 * ctx.fig("A-SALARY", "monthly_min") * ctx.sw + ctx.base("admin") * ctx.adm,
                     "yuan")


def volunteers(ctx: Context) -> None:
    """C7 A-VOLUNTEER [total]: volunteers >= multiplier x baseline."""
    ctx.row("A-VOLUNTEER", "total", None, "volunteers >= multiplier x baseline", ctx.vol.sum(), ">=",
            ctx.fig("A-VOLUNTEER", "multiplier") * ctx.fig("A-VOLUNTEER", "baseline"), "volunteers")


def sw_density(ctx: Context) -> None:
    """C8 F-SW-DENSITY [per_10k]: social workers >= per_10k x residents / 10,000."""
    ctx.row("F-SW-DENSITY", "per_10k", None, "social workers >= per_10k x residents / 10,000", ctx.sw.sum(), ">=",
            ctx.fig("F-SW-DENSITY", "per_10k") * ctx.pop_total / 10_000, "workers")


def sw_stated(ctx: Context) -> None:
    """C8 F-SW-DENSITY [stated_total]: social workers >= the stated city-wide total."""
    ctx.row("F-SW-DENSITY", "stated_total", None, "social workers >= stated_total", ctx.sw.sum(), ">=",
            ctx.fig("F-SW-DENSITY", "stated_total"), "workers")


def sw_per_station(cid: str, ctx: Context) -> None:
    """C9 F-SW-URBAN / F-SW-RURAL [station]: social workers >= per_station at every active station of the kind."""
    mask = ctx.urban if cid == "F-SW-URBAN" else ~ctx.urban
    ctx.station_rows(cid, "station", "social workers >= per_station x active", ctx.sw, ">=",
                     ctx.fig(cid, "per_station") * ctx.act, "workers", mask)


def cert_rate_f(ctx: Context) -> None:
    """C10 F-CERT-RATE [certified]: certified >= share(year) x social workers."""
    ctx.row("F-CERT-RATE", "certified", None, "certified >= share(year) x social workers", ctx.cert.sum(), ">=",
            ctx.fig("F-CERT-RATE", "share") * ctx.sw.sum(), "workers")


def intermediate_rate(ctx: Context) -> None:
    """C10 F-CERT-RATE [intermediate]: intermediate level >= intermediate_share x social workers."""
    ctx.row("F-CERT-RATE", "intermediate", None, "intermediate level >= share x social workers", ctx.swi.sum(), ">=",
            ctx.fig("F-CERT-RATE", "intermediate_share") * ctx.sw.sum(), "workers")


def hiring_in_post(ctx: Context) -> None:
    """C11 F-HIRING [in_post]: social workers >= in_post(year)."""
    ctx.row("F-HIRING", "in_post", None, "social workers >= in_post(year)", ctx.sw.sum(), ">=",
            ctx.fig("F-HIRING", "in_post"), "workers")


def hiring_recruited(ctx: Context) -> None:
    """C11 F-HIRING [recruited]: social workers - in post today <= recruited(year)."""
    ctx.row("F-HIRING", "recruited", None, "social workers - in post today <= recruited(year)",
            ctx.sw.sum() - ctx.post_sw.sum(), "<=", ctx.fig("F-HIRING", "recruited"), "workers")


def salary_f(ctx: Context) -> None:
    """C12 F-SALARY [station]: salaries >= annual_average x social workers + 12 x bonus x senior workers."""
    c = ctx.inst.clause("F-SALARY")
    assert c is not None
    bonus = float(c.figures.get("seniority_bonus_monthly", 0.0))
    years = c.figures.get("seniority_years")
    senior = (ctx.count_in_post((ctx.staff_types == "social_worker") & (ctx.years >= float(years)))
              if years is not None else np.zeros(ctx.S))
    if bonus and years is None:
        ctx.col.notes.append("F-SALARY has seniority_bonus_monthly but no seniority_years: bonus not counted")
    ctx.station_rows("F-SALARY", "station", "salaries >= annual_average x social workers + 12 x seniority "
                     "bonus x senior workers in post", ctx.sal - move_cost_in(ctx), ">=",
                     ctx.fig("F-SALARY", "annual_average") * ctx.sw + 12 * bonus * senior, "yuan")


def _urban(inst: Instance) -> np.ndarray:
    return np.asarray(inst.stations["area_type"]).astype(str) == "urban"


FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("A-STAFF-DENSITY", "total", in_force("A-STAFF-DENSITY", "per_10k"), staff_density, "figure per_10k",
                as_stated=True),
    *(CheckFamily("A-STAFF-MIX", t, in_force("A-STAFF-MIX", t), partial(staff_mix, t), f"figure {t}")
      for t in ("admin", "social_worker", "volunteer")),
    CheckFamily("A-CERT-MIN", "station", in_force("A-CERT-MIN", "per_station"), cert_min, "figure per_station"),
    CheckFamily("A-CERT-RATE", "total", in_force("A-CERT-RATE", "share"), cert_rate_a, "figure share"),
    CheckFamily("A-CASELOAD", "station", in_force("A-CASELOAD", "households_per_worker"), caseload,
                "figure households_per_worker"),
    CheckFamily("A-SALARY", "station", in_force("A-SALARY", "monthly_min"), salary_a, "figure monthly_min"),
    CheckFamily("A-VOLUNTEER", "total", in_force("A-VOLUNTEER", "multiplier", "baseline"), volunteers,
                "figures multiplier and baseline", as_stated=True),
    CheckFamily("F-SW-DENSITY", "per_10k", in_force("F-SW-DENSITY", "per_10k"), sw_density, "figure per_10k",
                as_stated=True),
    CheckFamily("F-SW-DENSITY", "stated_total", in_force("F-SW-DENSITY", "stated_total"), sw_stated,
                "figure stated_total", as_stated=True),
    CheckFamily("F-SW-URBAN", "station", stations_where(in_force("F-SW-URBAN", "per_station"), _urban),
                partial(sw_per_station, "F-SW-URBAN"), "figure per_station and an urban station"),
    CheckFamily("F-SW-RURAL", "station", stations_where(in_force("F-SW-RURAL", "per_station"),
                                                        lambda inst: ~_urban(inst)),
                partial(sw_per_station, "F-SW-RURAL"), "figure per_station and a rural station"),
    CheckFamily("F-CERT-RATE", "certified", in_force("F-CERT-RATE", "share"), cert_rate_f, "figure share"),
    CheckFamily("F-CERT-RATE", "intermediate", in_force("F-CERT-RATE", "intermediate_share"), intermediate_rate,
                "figure intermediate_share"),
    CheckFamily("F-HIRING", "in_post", in_force("F-HIRING", "in_post"), hiring_in_post, "figure in_post",
                as_stated=True),
    CheckFamily("F-HIRING", "recruited", in_force("F-HIRING", "recruited"), hiring_recruited, "figure recruited"),
    CheckFamily("F-SALARY", "station", in_force("F-SALARY", "annual_average"), salary_f, "figure annual_average"),
)
