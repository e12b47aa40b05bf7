"""A solution vector as the plan's tables (money in yuan, counts as integers) and its summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import BY_ID, Instance
from allocator.station.builder import MONEY, Model
from allocator.station.profile_tables import one_year_profile, staff_columns


def _r(values: np.ndarray, integer: bool = False, money: bool = False) -> np.ndarray:
    if integer:
        return np.round(values).astype(np.int64)
    if money:
        return np.round(values * MONEY, 2)
    return np.round(values, 6)


def plan_tables(instance: Instance, model: Model, x: np.ndarray) -> dict[str, pd.DataFrame]:
    """Turn a solution vector into the plan's tables (money in yuan, counts as integers)."""
    inst = instance
    st = inst.stations
    ids = np.asarray(st["station_id"], dtype=object)
    S = len(ids)

    def v(name: str, **kw: bool) -> np.ndarray:
        return _r(x[model.col(name)], **kw)

    adm, swa, swi, swu, vol = (v(n, integer=True) for n in ("adm", "swa", "swi", "swu", "vol"))
    staff = pd.DataFrame({"station_id": ids, "admin": adm, "sw_certified_assistant": swa,
                          "sw_certified_intermediate": swi, "sw_uncertified": swu, "social_workers": swa + swi + swu,
                          "certified": swa + swi, "volunteers": vol, "total_staff": adm + swa + swi + swu + vol,
                          **staff_columns(model, x)})  # F-DEGREE / F-YOUNG hires by profile (profile_tables)
    money = {k: v(f"m_{c}", money=True) for k, c in (("facilities", "fac"), ("salaries", "sal"),
                                                      ("services", "svc"), ("training", "trn"))}
    budget = pd.DataFrame({"station_id": ids, **money})
    budget["total"] = np.round(budget[list(money)].sum(axis=1), 2)
    moves = _moves_table(inst, model, x)
    if moves is not None:  # X-MOVES: the moves' cost, part of the salaries of the receiving station
        mv_in = np.round(x[model.col("mv_in")]).sum(axis=1)
        budget["moves"] = np.round(mv_in * float(inst.clause("X-MOVES").figures["cost_per_move"]), 2)  # type: ignore[union-attr]
    _service_lines(inst, model, x, budget)
    y = v("y", integer=True)
    K = len(inst.services)
    services = pd.DataFrame({"station_id": np.repeat(ids, K), "service_id": np.tile(inst.services["service_id"], S),
                             "kind": np.tile(inst.services["kind"], S), "offered": y.ravel()})
    if "xs" in model.columns:  # X-MIN-SERVED: the residents each service serves (its pairs' need covered)
        pk = np.argwhere(np.asarray(inst.serves, dtype=bool))
        onehot = np.zeros((len(pk), K))
        onehot[np.arange(len(pk)), pk[:, 0]] = 1.0
        served = np.round(x[model.col("xs")], 6) @ onehot  # stations x services
        services["served"] = np.round(served.ravel(), 6)
    need = np.array([g.need_share for g in inst.groups])
    demand = inst.residents * need[None, :]
    cov = x[model.col("x")]
    cov = np.minimum(np.round(cov, 6), demand)
    G = len(inst.groups)
    coverage = pd.DataFrame({"station_id": np.repeat(ids, G), "group": np.tile(inst.group_ids, S),
                             "demand": np.round(demand.ravel(), 6), "covered": np.round(cov.ravel(), 6)})
    build_v = v("build", integer=True)
    is_new = st["status"] == "new"
    active = np.where(is_new, build_v, 1)
    onestop = v("onestop", integer=True)
    area0 = st["floor_area_m2"].astype(float)
    added = np.round(x[model.col("expand")], 6)
    works = pd.DataFrame({
        "station_id": ids, "active": active, "built": build_v,
        "one_stop": (st["one_stop"] | (onestop > 0)).astype(int),
        "one_stop_upgrade": onestop, "renovated": v("reno", integer=True),
        "access_retrofit": v("access", integer=True),
        "demo": v("demo", integer=True),
        "floor_area_before": area0, "floor_area_added": added,
        "floor_area_after": np.round(area0 + added, 6),
    })
    if "pts" in model.columns:  # A-CATCHMENT: extra service points opened in the station's area
        works["service_points"] = v("pts", integer=True)
    for z, col in (("z_adm", "zone_admin_m2"), ("z_svc", "zone_service_m2"), ("z_act", "zone_activity_m2"),
                   ("z_flex", "zone_flex_m2")):
        works[col] = np.round(x[model.col(z)], 6) if z in model.columns else np.nan
    out = {"staff": staff, "budget": budget, "services": services, "coverage": coverage, "stations": works,
           "clauses": clause_table(instance, model, x)}
    if "m_src" in model.columns:  # A-SOURCES / F-SOURCES: the money of each station by source (sources.csv)
        src = np.round(x[model.col("m_src")] * MONEY, 2)  # stations x (city, county, social, fees)
        names = ("city", "county", "social", "fees")
        out["sources"] = pd.DataFrame({"station_id": np.repeat(ids, len(names)),
                                       "county": np.repeat(np.asarray(st["county"], dtype=object), len(names)),
                                       "source": np.tile(names, S), "yuan": src.ravel()})
    if moves is not None:
        out["moves"] = moves
    if (prof := one_year_profile(instance, model, staff)) is not None:
        out["profile"] = prof  # a horizon replaces it with its own (path_tables.flow_tables)
    return out


def _moves_table(inst: Instance, model: Model, x: np.ndarray) -> pd.DataFrame | None:
    """``moves.csv``: one row per (from, to, level) pair of the plan's moves (X-MOVES), or None."""
    if "mv_in" not in model.columns or inst.clause("X-MOVES") is None:
        return None
    from allocator.station.families.moves import pair_moves

    cost = float(inst.clause("X-MOVES").figures["cost_per_move"])  # type: ignore[union-attr]
    return pair_moves(inst, np.round(x[model.col("mv_in")]).astype(int), np.round(x[model.col("mv_out")]).astype(int),
                      cost)


def _service_lines(inst: Instance, model: Model, x: np.ndarray, budget: pd.DataFrame) -> None:
    """Issue 15's cost lines, parts of the services money (not added to ``total``): A-SOCIAL-SUBSIDY's
    ``social_subsidy``, A-MEAL's ``meal_subsidy`` and A-CATCHMENT's ``service_points`` (points x point_cost)."""
    for col, name in (("m_soc", "social_subsidy"), ("m_meal", "meal_subsidy")):
        if col in model.columns:
            budget[name] = _r(x[model.col(col)], money=True)
    if "pts" in model.columns:
        c = inst.clause("A-CATCHMENT")
        cost = float(c.figures["point_cost"]) if c is not None else 0.0
        budget["service_points"] = np.round(np.round(x[model.col("pts")]) * cost, 2)


def clause_table(instance: Instance, model: Model, x: np.ndarray) -> pd.DataFrame:
    """One row per model row of every clause family: value, limit, deviation, slack, binding."""
    A = model.problem.A
    act = A @ x
    ids = np.asarray(instance.stations["station_id"], dtype=object)
    parts = []
    for rb in model.rows:
        if rb.clause == "ENGINE":
            continue
        sl = slice(rb.start, rb.start + rb.count)
        lhs = act[sl].copy()
        lo = model.problem.row_lower[sl]
        hi = model.problem.row_upper[sl]
        dev = np.zeros(rb.count)
        if rb.soft:
            plus = np.where(rb.dev_plus >= 0, x[np.maximum(rb.dev_plus, 0)], 0.0)
            minus = np.where(rb.dev_minus >= 0, x[np.maximum(rb.dev_minus, 0)], 0.0)
            lhs = lhs - plus + minus  # the row's own value, deviations taken out
            dev = plus + minus
        if rb.sense == "=":
            sense, limit, slack = np.full(rb.count, "="), lo, -np.abs(lhs - lo)
        elif rb.sense == "<=":
            sense, limit, slack = np.full(rb.count, "<="), hi, hi - lhs
        else:
            sense, limit, slack = np.full(rb.count, ">="), lo, lhs - lo
        sc = rb.scale
        st_ids = np.where(rb.stations >= 0, ids[np.maximum(rb.stations, 0)], "")
        if rb.labels:
            st_ids = np.where(st_ids == "", np.asarray(rb.labels, dtype=object), st_ids)
        parts.append(pd.DataFrame({
            "clause_id": rb.clause, "family": rb.family, "station_id": st_ids,
            "mode": "soft" if rb.soft else "hard", "value": np.round(lhs * sc, 6), "sense": sense,
            "limit": np.round(limit * sc, 6), "deviation": np.round(np.maximum(dev, 0) * sc, 6),
            "slack": np.round(slack * sc, 6), "binding": np.abs(slack * sc) <= 1e-6 * np.maximum(1, np.abs(limit * sc)),
            "unit": rb.unit,
        }))
    if not parts:
        return pd.DataFrame(columns=["clause_id", "family", "station_id", "mode", "value", "sense", "limit",
                                     "deviation", "slack", "binding", "unit"])
    return pd.concat(parts, ignore_index=True)


def plan_summary(instance: Instance, t: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Totals, staff in post, coverage by group and county, deviations and binding hard families."""
    st = instance.stations
    staff, budget, cov, cl = t["staff"], t["budget"], t["coverage"], t["clauses"]
    county = dict(zip(st["station_id"], st["county"], strict=True))
    cov = cov.assign(county=cov["station_id"].map(county))
    by_group = cov.groupby("group", sort=False)[["demand", "covered"]].sum()
    by_county = cov.groupby("county", sort=True)[["demand", "covered"]].sum()
    devs = cl[cl["deviation"] > 1e-9].groupby(["clause_id", "family", "unit"], sort=True)["deviation"].agg(
        ["sum", "count"]).reset_index()
    in_post = {t_: int((instance.staff["type"] == t_).sum()) for t_ in ("admin", "social_worker", "volunteer")}
    moves_part = {}
    if "moves" in t:  # X-MOVES: workers moved and what it costs (inside salaries)
        mv = t["moves"]
        moves_part = {"moves": {"workers": int(mv["count"].sum()), "cost": round(float(mv["cost"].sum()), 2),
                                "stations_sending": int(mv["from_station"].nunique()),
                                "stations_receiving": int(mv["to_station"].nunique())}}
    return {
        "totals": {
            "staff": int(staff["total_staff"].sum()), "admin": int(staff["admin"].sum()),
            "social_workers": int(staff["social_workers"].sum()), "certified": int(staff["certified"].sum()),
            "volunteers": int(staff["volunteers"].sum()),
            "money": {k: round(float(budget[k].sum()), 2) for k in ("facilities", "salaries", "services", "training",
                                                                    "total")},
            "covered": round(float(cov["covered"].sum()), 3), "demand": round(float(cov["demand"].sum()), 3),
            "stations_active": int(t["stations"]["active"].sum()),
        },
        "staff_in_post": in_post,
        **moves_part,
        "coverage_by_group": {g: {"demand": round(float(r.demand), 1), "covered": round(float(r.covered), 1)}
                              for g, r in by_group.iterrows()},
        "coverage_by_county": {c: {"demand": round(float(r.demand), 1), "covered": round(float(r.covered), 1)}
                               for c, r in by_county.iterrows()},
        "deviations": [{"clause_id": r.clause_id, "family": r.family, "unit": r.unit,
                        "total": round(float(r["sum"]), 3),
                        "rows": int(r["count"]), "title": BY_ID[r.clause_id].title,
                        "section": BY_ID[r.clause_id].section} for _, r in devs.iterrows()],
        "binding": sorted({f"{r.clause_id}:{r.family}"
                           for r in cl[cl["binding"] & (cl["mode"] == "hard")].itertuples()}),
        **({"money_by_source": {k: round(float(v), 2) for k, v in
                                t["sources"].groupby("source", sort=False)["yuan"].sum().items()}}
           if "sources" in t else {}),
    }
