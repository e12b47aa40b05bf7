"""The figures of a plan report, as tables: built once, rendered by the workbook, the HTML and the API.

Every frame names stations by name and county as well as by id; money is in yuan, headcounts are
integers, shares are fractions (the renderers format them).  A plan whose tables carry a ``year``
column (the multi-year path, issue 14) adds the ``path`` frame; the per-station frames then show the
last year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import BY_ID, Instance
from allocator.report.summary import instance_summary
from allocator.station import Plan

USES = ("facilities", "salaries", "services", "training")
STAFF_COLS = ("admin", "sw_certified_assistant", "sw_certified_intermediate", "sw_uncertified", "social_workers",
              "certified", "volunteers", "total_staff")
# Tolerance on a deviation before a clause counts as broken (the plan's tables are rounded to 1e-6).
TOL = 1e-6


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows.  Build it with :func:`report_data`."""

    title: str
    currency: str
    headline: dict[str, Any]
    stations: pd.DataFrame
    counties: pd.DataFrame
    groups: pd.DataFrame
    budget: pd.DataFrame
    staff: pd.DataFrame
    clauses: pd.DataFrame
    path: pd.DataFrame | None = None
    diff: dict[str, pd.DataFrame] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _latest(df: pd.DataFrame) -> pd.DataFrame:
    """The last year's rows of a multi-year table (the table itself otherwise)."""
    if "year" in df.columns and len(df):
        return df[df["year"] == df["year"].max()].drop(columns="year")
    return df


def status_words(plan: Plan) -> str:
    """The solve's status and gap in words, for a budget officer."""
    s = plan.status.value
    gap = plan.gap
    if s == "optimal":
        return ("Best plan found and proven within the gap asked"
                + (f" (within {gap:.2%} of the best possible)" if gap is not None else ""))
    if s == "feasible":
        return ("A plan that keeps every hard clause, not proven best"
                + (f": at most {gap:.2%} from the best possible" if gap is not None else ""))
    if s == "infeasible":
        return "No plan keeps every hard clause: see the conflicts"
    return f"No plan ({s}): {plan.message}"


def station_frame(inst: Instance, plan: Plan) -> pd.DataFrame:
    """One row a station: name, county, urban/rural, staff by type and level, money by use, services,
    coverage by group."""
    st = inst.stations
    base = pd.DataFrame({"station_id": np.asarray(st["station_id"], dtype=object),
                         "name": np.asarray(st["name"], dtype=object) if "name" in st else "",
                         "county": np.asarray(st["county"], dtype=object),
                         "area_type": np.asarray(st["area_type"], dtype=object),
                         "population": np.asarray(st["population"])})
    t = plan.tables
    out = base
    if "staff" in t:
        staff = _latest(t["staff"])
        out = out.merge(staff[["station_id", *[c for c in STAFF_COLS if c in staff]]], on="station_id", how="left")
    if "budget" in t:
        b = _latest(t["budget"])
        out = out.merge(b[["station_id", *[c for c in (*USES, "total") if c in b]]].rename(
            columns={"total": "money_total"}), on="station_id", how="left")
    if "services" in t:
        s = _latest(t["services"])
        out = out.merge(s.groupby("station_id", sort=False)["offered"].sum().rename("services_offered"),
                        left_on="station_id", right_index=True, how="left")
    if "coverage" in t:
        c = _latest(t["coverage"])
        labels = {g.id: g.label for g in inst.groups}
        # groupby + unstack: pivot_table is ten times slower on 40,000 stations x 6 groups
        piv = c.groupby(["station_id", "group"], sort=False)["covered"].sum().unstack("group")
        piv = piv[[g for g in inst.group_ids if g in piv.columns]]
        piv.columns = [f"covered: {labels.get(g, g)}" for g in piv.columns]
        tot = c.groupby("station_id", sort=False)[["demand", "covered"]].sum()
        tot["coverage_share"] = tot["covered"] / tot["demand"].where(tot["demand"] > 0)
        out = out.merge(piv, left_on="station_id", right_index=True, how="left")
        out = out.merge(tot.rename(columns={"demand": "need", "covered": "covered_total"}),
                        left_on="station_id", right_index=True, how="left")
    return out


def county_frame(stations: pd.DataFrame) -> pd.DataFrame:
    """The station frame summed by county, with the coverage share."""
    num = [c for c in stations.columns if c not in ("station_id", "name", "county", "area_type", "coverage_share")]
    g = stations.groupby("county", sort=True)
    out = g[num].sum()
    out.insert(0, "stations", g.size())
    out.insert(1, "urban", (stations["area_type"] == "urban").groupby(stations["county"], sort=True).sum())
    if "need" in out:
        out["coverage_share"] = out["covered_total"] / out["need"].where(out["need"] > 0)
    return out.reset_index()


def group_frame(inst: Instance, plan: Plan) -> pd.DataFrame:
    """Need and need covered by population group."""
    labels = {g.id: g.label for g in inst.groups}
    if "coverage" not in plan.tables:
        return pd.DataFrame(columns=["group", "label", "need", "covered", "coverage_share"])
    c = _latest(plan.tables["coverage"]).groupby("group", sort=False)[["demand", "covered"]].sum()
    c = c.reindex([g for g in inst.group_ids if g in c.index])
    out = pd.DataFrame({"group": c.index, "label": [labels.get(g, g) for g in c.index],
                        "need": c["demand"].to_numpy(), "covered": c["covered"].to_numpy()})
    out["coverage_share"] = out["covered"] / out["need"].where(out["need"] > 0)
    return out


def budget_frame(inst: Instance, stations: pd.DataFrame) -> pd.DataFrame:
    """Money by use against the policy's split (A-SPLIT of the per-capita total, F-USES of operations)."""
    plan_money = {u: float(stations[u].sum()) if u in stations else 0.0 for u in USES}
    total = sum(plan_money.values())
    pop = float(np.asarray(inst.stations["population"]).sum())
    share: dict[str, float] = {}
    doc: dict[str, float] = {}
    clause: dict[str, str] = {}
    split, per_cap = inst.clause("A-SPLIT"), inst.clause("A-BUDGET-PERCAP")
    if split:
        for u in ("facilities", "salaries", "services"):
            if u in split.figures:
                share[u], clause[u] = float(split.figures[u]), "A-SPLIT"
                if per_cap and "per_capita" in per_cap.figures:
                    doc[u] = share[u] * float(per_cap.figures["per_capita"]) * pop
    uses, tot = inst.clause("F-USES"), inst.clause("F-TOTAL")
    if uses:
        for u in ("salaries", "services", "training"):
            if u in uses.figures:
                share[u], clause[u] = float(uses.figures[u]), "F-USES"
                if tot and "operations_per_year" in tot.figures:
                    doc[u] = share[u] * float(tot.figures["operations_per_year"])
    if tot and "construction" in tot.figures and "facilities" not in doc:
        doc["facilities"], clause["facilities"] = float(tot.figures["construction"]), "F-TOTAL"
    # The plan's share is taken over the uses the policy splits (A-SPLIT leaves training out).
    split_uses = [u for u in USES if u in share]
    split_total = sum(plan_money[u] for u in split_uses)
    rows = []
    for u in USES:
        rows.append({"use": u, "plan_yuan": plan_money[u],
                     "plan_share": plan_money[u] / split_total if u in share and split_total > 0 else
                     (plan_money[u] / total if total > 0 else np.nan),
                     "policy_share": share.get(u, np.nan), "policy_yuan": doc.get(u, np.nan),
                     "difference_yuan": plan_money[u] - doc[u] if u in doc else np.nan,
                     "clause": clause.get(u, ""),
                     "section": BY_ID[clause[u]].section if u in clause else ""})
    rows.append({"use": "total", "plan_yuan": total, "plan_share": 1.0 if total else np.nan,
                 "policy_share": np.nan, "policy_yuan": np.nan, "difference_yuan": np.nan, "clause": "",
                 "section": ""})
    return pd.DataFrame(rows)


_TARGET_OF = {"admin": ("A-STAFF-MIX admin",),
              "social_workers": ("A-STAFF-MIX social_worker", "F-SW-DENSITY social workers"),
              "volunteers": ("A-STAFF-MIX volunteer",),
              "total_staff": ("A-STAFF-DENSITY staff",)}


def staff_frame(inst: Instance, plan: Plan, stations: pd.DataFrame) -> pd.DataFrame:
    """Staff by type: the plan, in post today, and each clause's target for the type."""
    summ = instance_summary(inst)
    targets: dict[str, float] = summ["staff_targets"]
    today = summ["staff_today"]
    in_post = {"admin": today["admin"], "social_workers": today["social_worker"], "volunteers": today["volunteer"],
               "certified": today["certified"], "total_staff": today["total"]}
    rows = []
    for col, label in (("admin", "admin"), ("social_workers", "social workers"), ("certified", "certified social "
                       "workers"), ("volunteers", "volunteers"), ("total_staff", "all staff")):
        planned = int(stations[col].sum()) if col in stations else 0
        names = [k for k in _TARGET_OF.get(col, ()) if k in targets]
        target = max((targets[k] for k in names), default=np.nan)
        rows.append({"type": label, "plan": planned, "in_post": int(in_post[col]), "target": target,
                     "target_clause": ", ".join(k.split()[0] for k in names),
                     "difference": planned - target if names else np.nan})
    return pd.DataFrame(rows)


CLAUSE_COLUMNS = ["clause_id", "family", "status", "mode", "document_figures", "sense", "limit", "plan_figure",
                  "rows", "rows_broken", "deviation", "unit", "section", "title"]


def clause_frame(inst: Instance, plan: Plan) -> pd.DataFrame:
    """Every clause in force: met or broken, the document's figure, the plan's figure, the deviation."""
    cl = _latest(plan.tables["clauses"]) if "clauses" in plan.tables else pd.DataFrame()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    figures = {c.id: "; ".join(f"{k} = {v:g}" for k, v in c.figures.items()) for c in inst.clauses}
    if len(cl):
        lim = pd.to_numeric(cl["limit"], errors="coerce")
        val = pd.to_numeric(cl["value"], errors="coerce")
        dev = pd.to_numeric(cl["deviation"], errors="coerce").fillna(0.0)
        slack = pd.to_numeric(cl["slack"], errors="coerce").fillna(0.0)
        broken = (dev > TOL * np.maximum(1.0, lim.abs())) | (slack < -TOL * np.maximum(1.0, lim.abs()))
        f = cl.assign(limit=lim, value=val, deviation=dev, broken=broken)
        for (cid, fam), g in f.groupby(["clause_id", "family"], sort=False):
            spec = BY_ID.get(cid)
            n = len(g)
            nb = int(g["broken"].sum())
            # A family of one row (a city total) has one limit and one plan figure; a family of station
            # rows is judged row by row, so only its count of broken rows and summed deviation are shown.
            rows.append({"clause_id": cid, "family": fam, "status": "broken" if nb else "met",
                         "mode": str(g["mode"].iloc[0]), "document_figures": figures.get(str(cid), ""),
                         "sense": str(g["sense"].iloc[0]) if n == 1 else "",
                         "limit": float(g["limit"].iloc[0]) if n == 1 else np.nan,
                         "plan_figure": float(g["value"].iloc[0]) if n == 1 else np.nan,
                         "rows": n, "rows_broken": nb,
                         "deviation": float(g["deviation"].sum()), "unit": str(g["unit"].iloc[0]),
                         "section": spec.section if spec else "", "title": spec.title if spec else ""})
            seen.add(str(cid))
    for c in inst.iter_clauses_in_force():
        if c.id in seen:
            continue
        spec = BY_ID[c.id]
        rows.append({"clause_id": c.id, "family": "", "status": f"not in the station model ({spec.scope})",
                     "mode": "", "document_figures": figures[c.id], "sense": "", "limit": np.nan,
                     "plan_figure": np.nan, "rows": 0, "rows_broken": 0, "deviation": np.nan, "unit": "",
                     "section": spec.section, "title": spec.title})
    return pd.DataFrame(rows, columns=CLAUSE_COLUMNS)


def path_frame(plan: Plan) -> pd.DataFrame | None:
    """Totals by year when the plan's tables have a ``year`` column (the multi-year path), else None."""
    t = plan.tables
    if not any("year" in df.columns for df in t.values()):
        return None
    parts = []
    for name, cols in (("staff", ("admin", "social_workers", "certified", "volunteers", "total_staff")),
                       ("budget", (*USES, "total")), ("coverage", ("demand", "covered"))):
        df = t.get(name)
        if df is None or "year" not in df.columns:
            continue
        have = [c for c in cols if c in df.columns]
        s = df.groupby("year", sort=True)[have].sum()
        s.columns = [f"money_{c}" if name == "budget" else c for c in have]
        parts.append(s)
    if not parts:
        return None
    out = pd.concat(parts, axis=1).reset_index()
    if "demand" in out and "covered" in out:
        out["coverage_share"] = out["covered"] / out["demand"].where(out["demand"] > 0)
    return out


def report_data(inst: Instance, plan: Plan, diagnosis: Any = None,
                diff: dict[str, pd.DataFrame] | None = None) -> ReportData:
    """Build the report's tables from an instance and its plan.

    Parameters
    ----------
    inst : Instance
    plan : Plan
        A plan value (``tables``, ``summary``, ``manifest``); tables may be empty (no plan).
    diagnosis : Diagnosis, optional
        The result of ``allocator diagnose``: its conflicts are reported in words.
    diff : dict of DataFrame, optional
        A what-if's difference tables (``totals``, ``clauses``, ``stations``); taken from the plan's
        ``diff_*`` tables when not given.
    """
    stations = station_frame(inst, plan)
    counties = county_frame(stations)
    groups = group_frame(inst, plan)
    s = plan.summary
    tot = s.get("totals", {})
    covered = float(tot.get("covered", groups["covered"].sum() if len(groups) else 0.0))
    need = float(tot.get("demand", groups["need"].sum() if len(groups) else 0.0))
    money = tot.get("money", {})
    headline = {"status": plan.status.value, "status_words": status_words(plan), "gap": plan.gap,
                "objective": plan.objective, "solver": plan.solver, "stations": int(len(stations)),
                "counties": int(len(counties)), "population": int(stations["population"].sum()),
                "need": need, "covered": covered, "coverage_share": covered / need if need > 0 else None,
                "money_total": float(money.get("total", 0.0)), "staff": int(tot.get("staff", 0)),
                "social_workers": int(tot.get("social_workers", 0)), "certified": int(tot.get("certified", 0)),
                "stations_active": int(tot.get("stations_active", 0))}
    if diff is None:
        diff = {k[len("diff_"):]: v for k, v in plan.tables.items() if k.startswith("diff_")}
    conflicts: list[str] = []
    if diagnosis is not None:
        conflicts = [c.sentence for c in getattr(diagnosis, "conflicts", [])]
        conflicts += [r.sentence for r in getattr(diagnosis, "relaxation", [])]
    return ReportData(title=inst.name, currency=inst.currency, headline=headline, stations=stations,
                      counties=counties, groups=groups, budget=budget_frame(inst, stations),
                      staff=staff_frame(inst, plan, stations), clauses=clause_frame(inst, plan),
                      path=path_frame(plan), diff=dict(diff), conflicts=conflicts,
                      notes=list(s.get("notes", [])))
