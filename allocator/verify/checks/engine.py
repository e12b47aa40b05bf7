"""Engine rules E1-E9 of the formulation and plan hygiene (bounds, integers, domains, derived columns).

These are always hard and are not clause families of :mod:`allocator.instance.policy`; they go straight to the
collector as checks, in the order of :data:`ENGINE_CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocator.verify.checks.moves import check_moves, move_cost_in, net_in
from allocator.verify.context import Context
from allocator.verify.reader import BINARY_COLUMNS, MONEY_USES, STAFF_COLUMNS, ZONE_COLUMNS
from allocator.verify.report import fmt

__all__ = ["ENGINE_CHECKS"]

ZONING_CLAUSES = ("A-ZONES", "A-FLEX", "F-AREA")


def integers(ctx: Context) -> None:
    """E-INTEGER: staff counts, yes/no decisions and services offered are whole (0/1 where yes/no)."""
    col, p, tol, ids = ctx.col, ctx.plan, ctx.tol, ctx.ids
    ints = {f"staff.csv:{c}": p.staff[c] for c in STAFF_COLUMNS}
    ints.update({f"stations.csv:{c}": p.st[c] for c in BINARY_COLUMNS})
    for name, v in ints.items():
        for s in np.flatnonzero(np.abs(v - np.round(v)) > tol.integrality).tolist():
            col.fail("E-INTEGER", name.split(":")[1], ids[s], f"{name} is an integer",
                     f"FAIL: {name} = {v[s]!r} at {ids[s]} is not an integer", v[s], "=", round(v[s]))
    bad = np.abs(p.offered - np.round(p.offered)) > tol.integrality
    for s, k in zip(*(a.tolist() for a in np.nonzero(bad)), strict=True):
        col.fail("E-INTEGER", "offered", ids[s], "services.csv:offered is 0 or 1",
                 f"FAIL: offered = {p.offered[s, k]!r} for {ctx.service_ids[k]} at {ids[s]}")
    for name, v in [(c, np.round(p.st[c])) for c in BINARY_COLUMNS] + [("offered", ctx.y)]:
        for idx in zip(*(a.tolist() for a in np.nonzero((v != 0) & (v != 1))), strict=True):
            col.fail("E-INTEGER", name, ids[idx[0]], f"{name} is 0 or 1",
                     f"FAIL: {name} = {v[idx]:g} at {ids[idx[0]]}", float(v[idx]), "=", 1.0)


def bounds(ctx: Context) -> None:
    """E-BOUNDS and E-MONEY: nothing negative, coverage within demand."""
    col, p, ids = ctx.col, ctx.plan, ctx.ids
    for c in ("admin", "sw_certified_assistant", "sw_certified_intermediate", "sw_uncertified", "volunteers"):
        for s in np.flatnonzero(p.staff[c] < 0).tolist():
            col.compare("E-BOUNDS", c, ids[s], f"{c} >= 0", p.staff[c][s], ">=", 0.0, "staff")
    for s, g in zip(*(a.tolist() for a in np.nonzero(ctx.x < -ctx.tol.quantity_abs)), strict=True):
        col.compare("E-BOUNDS", ctx.inst.group_ids[g], ids[s], "covered >= 0", ctx.x[s, g], ">=", 0.0, "residents")
    for s in range(ctx.S):
        for g, gid in enumerate(ctx.inst.group_ids):
            col.compare("E-BOUNDS", gid, ids[s], f"covered {gid} <= demand", ctx.x[s, g], "<=", ctx.demand[s, g],
                        "residents", only_failures=True)
    for s in np.flatnonzero(ctx.expand < 0).tolist():
        col.compare("E-BOUNDS", "floor_area_added", ids[s], "floor area added >= 0", ctx.expand[s], ">=", 0.0, "m2")
    if p.zones_present:
        for c in ZONE_COLUMNS:
            for s in np.flatnonzero(np.nan_to_num(p.st[c]) < 0).tolist():
                col.compare("E-BOUNDS", c, ids[s], f"{c} >= 0", p.st[c][s], ">=", 0.0, "m2")
    for use in MONEY_USES:
        for s in range(ctx.S):
            col.compare("E-MONEY", use, ids[s], f"{use} money >= 0", p.money[use][s], ">=", 0.0, "yuan",
                        only_failures=True)


def domains(ctx: Context) -> None:
    """E-DOMAIN: a yes/no decision is set only where the formulation has it."""
    def domain(name: str, v: np.ndarray, allowed: np.ndarray, why: str) -> None:
        for s in np.flatnonzero((v > 0.5) & ~allowed).tolist():
            ctx.col.fail("E-DOMAIN", name, ctx.ids[s], f"{name} only {why}",
                         f"FAIL: {name} = 1 at {ctx.ids[s]}, but the decision exists only {why}", 1.0, "=", 0.0)

    domain("built", ctx.built, np.isin(ctx.status, ("new", "upgrade")), "for new and upgrade stations")
    domain("one_stop_upgrade", ctx.onestop, ~ctx.one_stop_today, "for stations not one-stop today")
    reno = ctx.inst.any_clause("A-RENOVATE")
    age = reno.figures.get("age_years") if reno is not None else None
    old = (np.nan_to_num(ctx.age, nan=-1.0) > float(age)) if age is not None else np.zeros(ctx.S, bool)
    domain("renovated", ctx.reno, old, "for buildings older than A-RENOVATE's age")
    domain("access_retrofit", ctx.access, ~ctx.accessible, "for stations not barrier-free today")
    if ctx.inst.clause("F-DEMO") is None:
        domain("demo", ctx.demo, np.zeros(ctx.S, bool), "when F-DEMO is in force")


def derived(ctx: Context) -> None:
    """E-TABLES: derived columns agree with their parts and with the instance."""
    col, p, ids = ctx.col, ctx.plan, ctx.ids

    def same(name: str, written: np.ndarray, mine: np.ndarray, unit: str, what: str) -> None:
        for s in range(ctx.S):
            col.compare("E-TABLES", name, ids[s], what, written[s], "=", mine[s], unit, only_failures=True)

    same("social_workers", p.staff["social_workers"], ctx.sw, "staff",
         "social_workers = assistant + intermediate + uncertified")
    same("certified", p.staff["certified"], ctx.cert, "staff", "certified = assistant + intermediate")
    same("total_staff", p.staff["total_staff"], ctx.total_staff, "staff",
         "total_staff = admin + social workers + volunteers")
    same("budget_total", p.money["total"], ctx.fac + ctx.ops, "yuan",
         "budget total = facilities + salaries + services + training")
    same("active", p.st["active"], ctx.act, "stations", "active = 1 for existing/upgrade, = built for new")
    same("one_stop", p.st["one_stop"], np.maximum(ctx.one_stop_today.astype(float), ctx.onestop), "stations",
         "one_stop after = one-stop today or upgraded")
    same("floor_area_before", p.st["floor_area_before"], ctx.area, "m2", "floor area before = the instance's")
    same("floor_area_after", p.st["floor_area_after"], ctx.area_after, "m2", "floor area after = before + added")
    for (s, k), kind in p.kind_written.items():
        if kind != ctx.kinds[k]:
            col.fail("E-TABLES", "kind", ids[s], "services.csv kind = the catalogue's",
                     f"FAIL: {ctx.service_ids[k]} written as {kind}, catalogue says {ctx.kinds[k]}")
    dw = p.demand_written
    for s, g in zip(*(a.tolist() for a in np.nonzero(np.isnan(dw) & (ctx.demand > 0))), strict=True):
        col.fail("E-FILES", "rows", ids[s], "coverage.csv: a row for every station x group with demand",
                 f"FAIL: no coverage row for {ctx.inst.group_ids[g]} at {ids[s]} (demand "
                 f"{fmt(ctx.demand[s, g])}); read as covered 0")
    for s, g in zip(*(a.tolist() for a in np.nonzero(~np.isnan(dw))), strict=True):
        col.compare("E-TABLES", "demand", ids[s], f"demand {ctx.inst.group_ids[g]} = residents x need_share",
                    dw[s, g], "=", ctx.demand[s, g], "residents", only_failures=True)


def zones_written(ctx: Context) -> None:
    """E-FILES [zones]: zone columns are written exactly when a zoning clause is in force."""
    col, p = ctx.col, ctx.plan
    zoning = any(ctx.inst.clause(c) is not None for c in ZONING_CLAUSES)
    if zoning and not p.zones_present:
        col.fail("E-FILES", "zones", None, "zone columns are written when a zoning clause is in force",
                 "FAIL: a zoning clause (A-ZONES, A-FLEX or F-AREA) is in force but the zone columns are blank")
    if zoning and p.zones_present:
        for c in ZONE_COLUMNS:
            for s in np.flatnonzero(np.isnan(p.st[c])).tolist():
                col.fail("E-FILES", "zones", ctx.ids[s], f"{c} is written", f"FAIL: {c} is blank at {ctx.ids[s]} "
                         "(read as 0)")
            p.st[c] = np.nan_to_num(p.st[c])
    if not zoning and p.zones_present:
        col.notes.append("zone columns are filled although no zoning clause (A-ZONES, A-FLEX, F-AREA) is in "
                         "force; the format says they are blank then")


def e1_in_post(ctx: Context) -> None:
    """E1 IN-POST: at least as many staff of each kind as are in post today, after moves.csv's moves (X-MOVES)."""
    net = net_in(ctx)  # stations x (none, assistant, intermediate)
    for fam, mine, post in (("social_worker", ctx.sw, ctx.post_sw + net.sum(axis=1)),
                            ("certified", ctx.cert, ctx.post_cert + net[:, 1] + net[:, 2]),
                            ("intermediate", ctx.swi, ctx.post_int + net[:, 2]), ("admin", ctx.adm, ctx.post_adm),
                            ("volunteer", ctx.vol, ctx.post_vol)):
        for s in np.flatnonzero(post != 0).tolist():
            ctx.col.compare("E1", fam, ctx.ids[s], f"{fam} at the station >= {fam} in post today (+ moved in - "
                            "moved out)", mine[s], ">=", post[s], "staff")


def e2_open(ctx: Context) -> None:
    """E2 OPEN: a new station not built has no staff and offers no service."""
    closed = ctx.is_new & (ctx.built < 0.5)
    n_offered = ctx.y.sum(axis=1)
    for s in np.flatnonzero(closed).tolist():
        ctx.col.compare("E2", "staff", ctx.ids[s], "a new station not built has no staff", ctx.total_staff[s], "<=",
                        0.0, "staff")
        ctx.col.compare("E2", "services", ctx.ids[s], "a new station not built offers no service", n_offered[s],
                        "<=", 0.0, "services")
        stray = {k: a for k, a in (("money", ctx.fac[s] + ctx.ops[s]), ("floor area added", ctx.expand[s]))
                 if a > 1e-6}
        if stray:
            ctx.col.notes.append(f"{ctx.ids[s]} is a new station not built but the plan gives it "
                                 + ", ".join(f"{k} {fmt(v)}" for k, v in stray.items())
                                 + " (E2 of the formulation does not forbid it)")


def e3_payroll(ctx: Context) -> None:
    """E3 PAYROLL: salaries >= base cost of the staff."""
    pay = ctx.base("social_worker") * ctx.sw + ctx.base("admin") * ctx.adm + ctx.base("volunteer") * ctx.vol
    pay = pay + move_cost_in(ctx)  # X-MOVES: the receiving station pays for the workers moved in
    for s in range(ctx.S):
        ctx.col.compare("E3", "station", ctx.ids[s], "salaries >= base cost of social workers, admin and volunteers"
                        " (and of the workers moved in)", ctx.sal[s], ">=", pay[s], "yuan")


def e4_hours(ctx: Context) -> None:
    """E4 HOURS: hours for residents and services <= staff hours, less training."""
    t = ctx.inst.clause("A-TRAINING")
    training_h = float(t.figures.get("hours_per_worker", 0.0)) if t is not None else 0.0
    h_g = np.array([g.hours_per_resident for g in ctx.inst.groups])
    need = ctx.x @ h_g + ctx.y @ np.asarray(ctx.inst.services["staff_hours"], dtype=float)
    have = (ctx.hours("social_worker") - training_h) * ctx.sw + ctx.hours("admin") * ctx.adm \
        + ctx.hours("volunteer") * ctx.vol
    for s in range(ctx.S):
        ctx.col.compare("E4", "station", ctx.ids[s], "hours for residents and services <= staff hours (less "
                        "training)", need[s], "<=", have[s], "hours")


def e5_service_gate(ctx: Context) -> None:
    """E5 SERVICE-GATE: a group is covered at a station only through an offered service reaching it."""
    reach = ctx.y @ ctx.inst.serves.astype(float)          # stations x groups: services offered reaching g
    for s in range(ctx.S):
        for g, gid in enumerate(ctx.inst.group_ids):
            if ctx.x[s, g] > 0 or reach[s, g] == 0:
                ctx.col.compare("E5", gid, ctx.ids[s], f"{gid} covered only through an offered service reaching it",
                                ctx.x[s, g], "<=", ctx.demand[s, g] * reach[s, g], "residents",
                                only_failures=ctx.x[s, g] <= 0)


def e6_service_cost(ctx: Context) -> None:
    """E6 SERVICE-COST: services money >= residents served x cost + services run."""
    cpr = np.array([g.cost_per_resident for g in ctx.inst.groups])
    cost = ctx.x @ cpr + ctx.y @ np.asarray(ctx.inst.services["annual_cost"], dtype=float)
    for s in range(ctx.S):
        ctx.col.compare("E6", "station", ctx.ids[s], "services money >= residents served x cost + services run",
                        ctx.svc[s], ">=", cost[s], "yuan")


def e7_facility_cost(ctx: Context) -> None:
    """E7 FACILITY-COST: facilities money >= works (build, refit, renovation, one-stop, new station, access)."""
    costs, p = ctx.inst.costs, ctx.plan
    fcost = (costs.get("build_per_m2", 0.0) * ctx.expand + costs.get("renovation", 0.0) * ctx.reno
             + costs.get("one_stop_upgrade", 0.0) * ctx.onestop
             + costs.get("new_station", 0.0) * ctx.built * ctx.is_new
             + costs.get("access_retrofit", 0.0) * ctx.access)
    if p.zones_present:
        inc = (np.maximum(0.0, p.st["zone_admin_m2"] - ctx.zone_today["admin"])
               + np.maximum(0.0, p.st["zone_service_m2"] - ctx.zone_today["service"])
               + np.maximum(0.0, p.st["zone_activity_m2"] - ctx.zone_today["activity"])
               + np.maximum(0.0, p.st["zone_flex_m2"]))
        # every zone's growth counted, so this is never negative (sum of zones = area + expand)
        fcost = fcost + costs.get("refit_per_m2", 0.0) * (inc - ctx.expand)
    for s in range(ctx.S):
        ctx.col.compare("E7", "station", ctx.ids[s], "facilities money >= works (build, refit, renovation, one-stop, "
                        "new station, access)", ctx.fac[s], ">=", fcost[s], "yuan")


def e8_training_cost(ctx: Context) -> None:
    """E8 TRAINING-COST: training money >= training_per_worker x social workers."""
    tpw = ctx.inst.costs.get("training_per_worker", 0.0)
    for s in range(ctx.S):
        ctx.col.compare("E8", "station", ctx.ids[s], "training money >= training_per_worker x social workers",
                        ctx.trn[s], ">=", tpw * ctx.sw[s], "yuan")


def e9_zones_sum(ctx: Context) -> None:
    """E9 ZONES-SUM: the zones add up to the floor area after the plan."""
    if not ctx.plan.zones_present:
        return
    zsum = np.sum([ctx.plan.st[c] for c in ZONE_COLUMNS], axis=0)
    for s in range(ctx.S):
        ctx.col.compare("E9", "station", ctx.ids[s], "admin + service + activity + flex = floor area + added",
                        zsum[s], "=", ctx.area_after[s], "m2")


ENGINE_CHECKS: tuple[Callable[[Context], None], ...] = (
    integers, bounds, domains, derived, zones_written,
    e1_in_post, e2_open, e3_payroll, e4_hours, e5_service_gate, e6_service_cost, e7_facility_cost, e8_training_cost,
    e9_zones_sum, check_moves,
)
