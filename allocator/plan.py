"""From a solved model to a Plan: tables a budget officer can read, written whole or not at all.

``solve_instance`` runs build -> solve and turns the column values into tables (staff, budget,
services, coverage, station works, clause rows); ``write_plan`` writes them with ``summary.json`` and
a ``manifest.json`` into a directory atomically (temporary sibling, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator import __version__
from allocator.atomic import write_dir_atomically
from allocator.instance import Instance
from allocator.model import MONEY, Model, build
from allocator.policy import BY_ID
from solvers import SolveOptions, SolverResult, Status, get_backend

DEFAULT_GAP = 0.01


@dataclass(frozen=True, eq=False)
class Plan:
    """The outcome of a solve: status, objective, bound, gap and (when there is a plan) its tables."""

    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    solver_version: str
    seconds: float
    message: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def instance_hash(instance: Instance) -> str:
    """A hash of the instance's content (settings and every table), independent of its file form."""
    h = hashlib.sha256()
    h.update(instance.settings.encode())
    for t in (instance.stations, instance.services, instance.departments, instance.packages, instance.staff):
        h.update(t.to_frame().to_csv(index=False).encode())
    h.update(np.ascontiguousarray(instance.residents).tobytes())
    return h.hexdigest()[:16]


# ``method="auto"`` decomposes from this many stations on (the monolithic MIP is faster below it).
AUTO_DECOMPOSE_STATIONS = 2000
METHODS = ("monolithic", "decompose", "auto")


def choose_method(instance: Instance, method: str) -> str:
    """``monolithic`` or ``decompose``: ``auto`` by the number of stations."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if method == "auto":
        return "decompose" if len(instance.stations) >= AUTO_DECOMPOSE_STATIONS else "monolithic"
    return method


def solve_instance(instance: Instance, solver: str = "highs", options: SolveOptions | None = None,
                   strict: bool = False, drop: frozenset[tuple[str, str]] = frozenset(),
                   method: str = "monolithic", decompose: Any = None) -> Plan:
    """Build and solve the station model of ``instance`` and return its :class:`Plan`.

    Parameters
    ----------
    instance : Instance
    solver : str
        Backend name (the whole model, or each batch when decomposing).
    options : SolveOptions
        Time limit, gap asked, threads, seed.
    strict : bool
        Every clause hard.
    drop : frozenset of (clause id, family)
        Families left out (rule prices).
    method : str
        ``monolithic`` (one MIP), ``decompose`` (:mod:`allocator.decompose`) or ``auto``.
    decompose : DecomposeOptions, optional
        Batch size, workers and Dask address of the decomposition.
    """
    options = options or SolveOptions(mip_gap=DEFAULT_GAP)
    model = build(instance, strict=strict, drop=drop)
    chosen = choose_method(instance, method)
    if chosen == "decompose":
        from allocator.decompose import solve_decomposed

        result = solve_decomposed(model, np.asarray(instance.stations["county"], dtype=str), options, solver,
                                  decompose).to_solver_result()
    else:
        result = get_backend(solver).solve(model.problem, options)
    manifest = {
        "engine": "allocator", "engine_version": __version__, "instance": instance.name,
        "instance_hash": instance_hash(instance), "solver": solver, "solver_version": result.solver_version,
        "options": {"time_limit": options.time_limit, "gap": options.mip_gap, "threads": options.threads,
                    "seed": options.seed, "strict": strict, "method": chosen},
        "python": platform.python_version(),
        "model": {"rows": model.problem.num_rows, "columns": model.problem.num_cols,
                  "integer_columns": int(model.problem.integrality.sum()), "nonzeros": int(model.problem.A.nnz)},
    }
    tables: dict[str, pd.DataFrame] = {}
    summary: dict[str, Any] = {}
    if result.status.has_solution and result.x is not None:
        tables = plan_tables(instance, model, result.x)
        summary = _summary(instance, tables, result)
    summary.update({"status": result.status.value, "objective": result.objective, "bound": result.bound,
                    "gap": result.gap, "solver": solver,
                    "message": result.message, "strict": strict, "notes": list(model.notes), "method": chosen})
    if chosen == "decompose":
        summary["decomposition"] = {k: result.extra[k] for k in ("batches", "coupling_rows", "history")
                                    if k in result.extra}
    return Plan(result.status, result.objective, result.bound, result.gap, solver, result.solver_version,
                result.seconds, result.message, tables, summary, manifest)


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
                          "certified": swa + swi, "volunteers": vol, "total_staff": adm + swa + swi + swu + vol})
    money = {k: v(f"m_{c}", money=True) for k, c in (("facilities", "fac"), ("salaries", "sal"),
                                                      ("services", "svc"), ("training", "trn"))}
    budget = pd.DataFrame({"station_id": ids, **money})
    budget["total"] = np.round(budget[list(money)].sum(axis=1), 2)
    y = v("y", integer=True)
    K = len(inst.services)
    services = pd.DataFrame({"station_id": np.repeat(ids, K), "service_id": np.tile(inst.services["service_id"], S),
                             "kind": np.tile(inst.services["kind"], S), "offered": y.ravel()})
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
    for z, col in (("z_adm", "zone_admin_m2"), ("z_svc", "zone_service_m2"), ("z_act", "zone_activity_m2"),
                   ("z_flex", "zone_flex_m2")):
        works[col] = np.round(x[model.col(z)], 6) if z in model.columns else np.nan
    return {"staff": staff, "budget": budget, "services": services, "coverage": coverage, "stations": works,
            "clauses": clause_table(instance, model, x)}


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


def _summary(instance: Instance, t: dict[str, pd.DataFrame], result: SolverResult) -> dict[str, Any]:
    st = instance.stations
    staff, budget, cov, cl = t["staff"], t["budget"], t["coverage"], t["clauses"]
    county = dict(zip(st["station_id"], st["county"], strict=True))
    cov = cov.assign(county=cov["station_id"].map(county))
    by_group = cov.groupby("group", sort=False)[["demand", "covered"]].sum()
    by_county = cov.groupby("county", sort=True)[["demand", "covered"]].sum()
    devs = cl[cl["deviation"] > 1e-9].groupby(["clause_id", "family", "unit"], sort=True)["deviation"].agg(
        ["sum", "count"]).reset_index()
    in_post = {t_: int((instance.staff["type"] == t_).sum()) for t_ in ("admin", "social_worker", "volunteer")}
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
    }


def write_plan(plan: Plan, out: str | os.PathLike[str]) -> None:
    """Write the plan's tables, summary.json and manifest.json into ``out``, whole or not at all."""
    def fill(tmp: Path) -> None:
        for name, df in plan.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n", float_format="%.6f")
        (tmp / "summary.json").write_text(json.dumps(_jsonable(plan.summary), indent=2, sort_keys=True) + "\n")
        (tmp / "manifest.json").write_text(json.dumps(_jsonable(dict(plan.manifest)), indent=2, sort_keys=True)
                                           + "\n")

    write_dir_atomically(out, fill)


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float):
        return round(o, 6)
    return o


def format_plan(plan: Plan, instance: Instance) -> str:
    """A short readable summary: status, coverage by group and county, budget, staff, deviations."""
    s = plan.summary
    lines = [f"{instance.name} -- {plan.status.value.upper()}"]
    if plan.objective is not None:
        gap = f"{plan.gap:.3%}" if plan.gap is not None else "unknown"
        lines.append(f"objective {plan.objective:,.1f}  bound {plan.bound:,.1f}  gap {gap}  "
                     f"({plan.solver} {plan.solver_version}, {plan.seconds:.1f} s)")
    if not plan.tables:
        lines.append(plan.message)
        return "\n".join(lines)
    t = s["totals"]
    labels = {g.id: g.label for g in instance.groups}
    lines += ["", f"Need covered: {t['covered']:,.0f} of {t['demand']:,.0f} residents in need "
              f"({t['covered'] / max(t['demand'], 1):.1%})"]
    for g, r in s["coverage_by_group"].items():
        lines.append(f"  {labels.get(g, g):<36}{r['covered']:>12,.0f} / {r['demand']:>10,.0f}"
                     f"  {r['covered'] / max(r['demand'], 1):>6.1%}")
    lines.append("By county:")
    for c, r in s["coverage_by_county"].items():
        share = r["covered"] / max(r["demand"], 1)
        lines.append(f"  {c:<36}{r['covered']:>12,.0f} / {r['demand']:>10,.0f}  {share:>6.1%}")
    m = t["money"]
    lines += ["", f"Budget ({instance.currency}): " + ", ".join(f"{k} {m[k]:,.0f}" for k in
                                                                ("facilities", "salaries", "services", "training")) +
              f"; total {m['total']:,.0f}"]
    ip = s["staff_in_post"]
    lines.append(f"Staff: {t['staff']} (in post {sum(ip.values())}): admin {t['admin']} ({ip['admin']}), "
                 f"social workers {t['social_workers']} ({ip['social_worker']}; {t['certified']} certified), "
                 f"volunteers {t['volunteers']} ({ip['volunteer']})")
    if s["deviations"]:
        lines += ["", "Soft clauses not met (deviation in the clause's unit):"]
        for d in s["deviations"]:
            lines.append(f"  {d['clause_id']:<16}{d['family']:<14}{d['total']:>16,.1f} {d['unit']:<10}"
                         f"§{d['section']}  {d['title']}")
    else:
        lines += ["", "Every clause in force is met."]
    for note in s.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)
