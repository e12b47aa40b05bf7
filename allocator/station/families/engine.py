"""Engine rules E1-E9: the model's own bookkeeping, always hard, whatever the clauses say."""

from __future__ import annotations

import numpy as np

from allocator.station.context import INF, Context, join_keys, name_part
from allocator.station.families import moves


def in_post(ctx: Context) -> None:
    """E1 IN-POST: SW >= social workers in post; CERT >= certified in post (nobody is dismissed).

    With X-MOVES in force the staff in post are counted after the moves (in less out, by level), and E12
    keeps the moves within each county (:func:`allocator.station.families.moves.one_year_moves`).
    """
    if moves.moves_clause(ctx.inst) is not None:
        moves.one_year_moves(ctx)
        return
    ip = ctx.in_post
    ctx.b.rows("in_post_sw", "ENGINE", "IN-POST", [(ctx.SW, 1.0)], ip["sw"], INF, ctx.sidx, "workers", tag="sw")
    ctx.b.rows("in_post_cert", "ENGINE", "IN-POST", [(ctx.CERT, 1.0)], ip["cert"], INF, ctx.sidx, "workers",
               tag="cert")


def open_station(ctx: Context) -> None:
    """E2 OPEN: staff <= cap * act; y[s,k] <= act[s] (a station not built has nothing)."""
    b, S = ctx.b, ctx.sidx
    b.rows("open_staff", "ENGINE", "OPEN", [(ctx.staff, 1.0), (ctx.build, -ctx.cap * ctx.act_coef)], -INF,
           ctx.cap * ctx.act_const, S, "staff", tag="staff")
    # y[s,k] <= build[s] for new stations, one row per (station, service)
    if ctx.is_new.any() and ctx.K:
        rows_s = np.repeat(S[ctx.is_new], ctx.K)
        yk = ctx.y[ctx.is_new].ravel()
        keys = None
        if b.named:
            svc = np.tile(name_part(ctx.inst.services["service_id"]), int(ctx.is_new.sum()))
            keys = join_keys(ctx.station_ids[rows_s], svc)
        b.rows("open_services", "ENGINE", "OPEN", [(np.stack([yk, ctx.build[rows_s]], 1), np.array([1.0, -1.0]))],
               -INF, 0.0, rows_s, "services", tag="services", keys=keys)


def sw_pay(ctx: Context) -> tuple[float, str]:
    """The pay per social worker E3 charges, and the model note that says where it comes from.

    A salary clause in force (A-SALARY: 12 x monthly_min; F-SALARY: annual_average) sets the pay: a hard
    clause is charged in full here; a soft one is charged down to the lower of its floor and today's pay
    (``[staff_types.social_worker] annual_cost``), its own rows pricing the yuan below the floor.  With no
    salary clause in force, today's pay.
    """
    today = float(ctx.base["social_worker"].annual_cost)
    for cid, floor_of in (("A-SALARY", lambda c: 12 * c.figures["monthly_min"]),
                          ("F-SALARY", lambda c: c.figures["annual_average"])):
        c = ctx.inst.clause(cid)
        if c is None:
            continue
        floor = float(floor_of(c))
        b = ctx.b
        if (cid, "station") in b.drop or (cid, "*") in b.drop:
            continue  # the diagnosis left the clause out: its floor is not charged either
        if (c.mode("station") == "hard" or b.strict) and not b.elastic:
            return floor, f"E3 PAYROLL charges {cid}'s floor, {floor:,.0f} yuan per social worker a year (hard)"
        pay = min(floor, today)
        return pay, (f"E3 PAYROLL charges {pay:,.0f} yuan per social worker a year: the lower of {cid}'s floor "
                     f"{floor:,.0f} (soft: its rows price the yuan below it) and today's pay {today:,.0f}")
    return today, (f"E3 PAYROLL charges today's pay, {today:,.0f} yuan per social worker a year "
                   "(no salary clause in force)")


def payroll(ctx: Context) -> None:
    """E3 PAYROLL: m_sal >= pay of every worker (social workers: :func:`sw_pay`; admin, volunteers: the instance).

    With X-MOVES, each worker moved in is charged ``cost_per_move`` to the receiving station's salaries.
    """
    base = ctx.base
    pay, note = sw_pay(ctx)
    ctx.notes.append(note)
    ctx.b.rows("payroll", "ENGINE", "PAYROLL",
               [(ctx.m_sal, 1.0), (ctx.SW, -pay), (ctx.adm, -base["admin"].annual_cost),
                (ctx.vol, -base["volunteer"].annual_cost), *moves.move_cost_terms(ctx, -1.0)], 0.0, INF, ctx.sidx,
               "yuan")


def hours(ctx: Context) -> None:
    """E4 HOURS: the hours the groups and services need fit in the staff's hours (less training)."""
    inst, base = ctx.inst, ctx.base
    hours_g = np.array([g.hours_per_resident for g in inst.groups])
    svc_hours = inst.services["staff_hours"].astype(float)
    train = inst.clause("A-TRAINING")
    h_sw = base["social_worker"].hours_per_year - (train.figures["hours_per_worker"] if train else 0.0)
    ctx.b.rows("hours", "ENGINE", "HOURS",
               [(ctx.x, hours_g[None, :]), (ctx.y, svc_hours[None, :]), (ctx.SW, -h_sw),
                (ctx.adm, -base["admin"].hours_per_year), (ctx.vol, -base["volunteer"].hours_per_year)],
               -INF, 0.0, ctx.sidx, "hours")


def service_gate(ctx: Context) -> None:
    """E5 SERVICE-GATE: x[s,g] - demand[s,g] * sum_{k serves g} y[s,k] <= 0, one row per (s, g)."""
    inst, x, y, demand = ctx.inst, ctx.x, ctx.y, ctx.demand
    serves = inst.serves  # (K, G)
    for g in range(ctx.G):
        ks = np.flatnonzero(serves[:, g])
        cols_ = np.concatenate([x[:, g:g + 1], y[:, ks]], axis=1)
        coefs = np.concatenate([np.ones((ctx.S, 1)), -np.repeat(demand[:, g:g + 1], len(ks), 1)], axis=1)
        gid = inst.groups[g].id
        ctx.b.rows(f"gate:{gid}", "ENGINE", "SERVICE-GATE", [(cols_, coefs)], -INF, 0.0, ctx.sidx,
                   "residents", mask=demand[:, g] > 0, tag=gid)


def service_cost(ctx: Context) -> None:
    """E6 SERVICE-COST: m_svc >= cost per resident served + running cost of the services offered."""
    inst = ctx.inst
    cpr = np.array([g.cost_per_resident for g in inst.groups])
    svc_cost = inst.services["annual_cost"].astype(float)
    ctx.b.rows("service_cost", "ENGINE", "SERVICE-COST",
               [(ctx.m_svc, 1.0), (ctx.x, -cpr[None, :]), (ctx.y, -svc_cost[None, :])], 0.0, INF, ctx.sidx, "yuan")


def zones(ctx: Context) -> list[tuple[np.ndarray, object]]:
    """E9 ZONES-SUM (when a zoning clause is in force): the zone columns, their sum and increases.

    Returns the refit terms of E7 (refitted area is charged per m2).
    """
    if not ctx.zoning:
        return []
    b, S, st, area0 = ctx.b, ctx.S, ctx.inst.stations, ctx.area0
    refit = ctx.inst.costs["refit_per_m2"]
    for z in ("z_adm", "z_svc", "z_act", "z_flex"):
        ctx.zone_cols[z] = ctx.cols[z] = b.cols(z, (S,), 0.0, INF)
    incs = {z: b.cols(f"inc_{z[2:]}", (S,), 0.0, INF) for z in ("z_adm", "z_svc", "z_act", "z_flex")}
    for z, inc in incs.items():
        ctx.cols[f"inc_{z[2:]}"] = inc
    # Refitting is charged on existing floor area that changes zone: the increases minus the newly
    # built area (new area is fitted out as part of its build cost).
    terms: list[tuple[np.ndarray, object]] = [(incs[z], -refit) for z in incs] + [(ctx.expand, refit)]
    b.rows("zones_sum", "ENGINE", "ZONES-SUM",
           [(np.stack([ctx.zone_cols[z] for z in ctx.zone_cols], 1), 1.0), (ctx.expand, -1.0)], area0, area0,
           ctx.sidx, "m2")
    today = {"z_adm": area0 * st["zone_admin"], "z_svc": area0 * st["zone_service"],
             "z_act": area0 * st["zone_activity"], "z_flex": np.zeros(S)}
    for z, inc in incs.items():
        b.rows(f"refit_{z}", "ENGINE", "ZONES-SUM", [(ctx.zone_cols[z], 1.0), (inc, -1.0)], -INF, today[z],
               ctx.sidx, "m2", tag=z)
    return terms


def facility_cost(ctx: Context, refit_terms: list[tuple[np.ndarray, object]]) -> None:
    """E7 FACILITY-COST: m_fac >= building, refit, renovation, one-stop, new-station and access costs."""
    costs = ctx.inst.costs
    fac_terms: list[tuple[np.ndarray, object]] = [
        (ctx.m_fac, 1.0), (ctx.expand, -costs["build_per_m2"]), (ctx.reno, -costs["renovation"]),
        (ctx.onestop, -costs["one_stop_upgrade"]), (ctx.built, -costs["new_station"] * ctx.is_new),
        (ctx.access, -costs["access_retrofit"])]
    ctx.b.rows("facility_cost", "ENGINE", "FACILITY-COST", fac_terms + refit_terms, 0.0, INF, ctx.sidx, "yuan")


def training_cost(ctx: Context) -> None:
    """E8 TRAINING-COST: m_trn >= training per worker * SW (when training costs anything)."""
    per = ctx.inst.costs["training_per_worker"]
    if per > 0:
        ctx.b.rows("training_cost", "ENGINE", "TRAINING-COST", [(ctx.m_trn, 1.0), (ctx.SW, -per)], 0.0, INF,
                   ctx.sidx, "yuan")


def engine_rules(ctx: Context) -> None:
    """Every engine rule, in the model's row order (E9 before E7: the refit terms come from the zones)."""
    in_post(ctx)
    open_station(ctx)
    payroll(ctx)
    hours(ctx)
    service_gate(ctx)
    service_cost(ctx)
    refit_terms = zones(ctx)
    facility_cost(ctx, refit_terms)
    training_cost(ctx)
