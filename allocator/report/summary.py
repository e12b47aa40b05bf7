"""Readable summaries of instances (and, later, plans) for budget officers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import BY_ID, Instance


def instance_summary(inst: Instance) -> dict[str, Any]:
    """The figures ``allocator show`` prints, as plain data (JSON-ready)."""
    st = inst.stations
    pop = st["population"]
    frame = pd.DataFrame({"county": st["county"], "area_type": st["area_type"], "status": st["status"],
                          "population": pop})
    by_county = (frame.groupby("county", sort=True)
                 .agg(stations=("population", "size"), population=("population", "sum"),
                      urban=("area_type", lambda s: int((s == "urban").sum())),
                      new=("status", lambda s: int((s == "new").sum())),
                      upgrade=("status", lambda s: int((s == "upgrade").sum())))
                 .reset_index())
    staff = inst.staff
    sw = staff["type"] == "social_worker"
    staff_today = {t: int((staff["type"] == t).sum()) for t in ("admin", "social_worker", "volunteer")}
    certified = int(staff["certified"].sum())
    total_pop = int(pop.sum())
    targets: dict[str, Any] = {}
    c = inst.clause("A-STAFF-DENSITY")
    if c:
        targets["A-STAFF-DENSITY staff"] = c.figures["per_10k"] * total_pop / 10_000
    c = inst.clause("A-STAFF-MIX")
    if c and "A-STAFF-DENSITY staff" in targets:
        for t in ("admin", "social_worker", "volunteer"):
            targets[f"A-STAFF-MIX {t}"] = c.figures[t] * targets["A-STAFF-DENSITY staff"]
    c = inst.clause("F-SW-DENSITY")
    if c:
        targets["F-SW-DENSITY social workers"] = c.figures["per_10k"] * total_pop / 10_000
        if "stated_total" in c.figures:
            targets["F-SW-DENSITY stated total"] = c.figures["stated_total"]
    urban = st["area_type"] == "urban"
    for cid, mask in (("F-SW-URBAN", urban), ("F-SW-RURAL", ~urban)):
        c = inst.clause(cid)
        if c:
            targets[f"{cid} social workers"] = c.figures["per_station"] * int(mask.sum())
    for cid, name in (("A-CERT-RATE", "share"), ("F-CERT-RATE", "share")):
        c = inst.clause(cid)
        if c and name in c.figures:
            targets[f"{cid} certified share"] = c.figures[name]
    budget: dict[str, float] = {}
    c = inst.clause("A-BUDGET-PERCAP")
    if c:
        total = c.figures["per_capita"] * total_pop
        budget["total"] = total
        split = inst.clause("A-SPLIT")
        if split:
            for k in ("facilities", "salaries", "services"):
                budget[k] = split.figures[k] * total
    c = inst.clause("F-TOTAL")
    if c:
        budget["construction (2024-2026)"] = c.figures["construction"]
        budget["operations per year"] = c.figures["operations_per_year"]
        uses = inst.clause("F-USES")
        if uses:
            for k in ("salaries", "services", "training"):
                budget[f"operations: {k}"] = uses.figures[k] * c.figures["operations_per_year"]
    groups = {g.label: int(inst.residents[:, i].sum()) for i, g in enumerate(inst.groups)}
    clauses = [
        {"id": cl.id, "title": BY_ID[cl.id].title, "section": BY_ID[cl.id].section, "scope": BY_ID[cl.id].scope,
         "in_force": cl.in_force, "mode": dict(cl.modes),
         "figures": {k: v for k, v in cl.figures.items()}}
        for cl in inst.clauses
    ]
    age = st["building_age_years"]
    return {
        "name": inst.name,
        "year": inst.year,
        "currency": inst.currency,
        "stations": int(len(st)),
        "status": {s: int((st["status"] == s).sum()) for s in ("existing", "new", "upgrade")},
        "urban": int(urban.sum()),
        "rural": int((~urban).sum()),
        "one_stop": int(st["one_stop"].sum()),
        "counties": by_county.to_dict(orient="records"),
        "population": total_pop,
        "households": int(st["households"].sum()),
        "floor_area_m2": float(st["floor_area_m2"].sum()),
        "buildings_older_than_10_years": int(np.nansum(age > 10)),
        "groups": groups,
        "staff_today": {**staff_today, "total": int(len(staff)), "certified": certified,
                        "certified_share": certified / max(1, int(sw.sum()))},
        "staff_targets": targets,
        "budget": budget,
        "clauses": clauses,
    }


def format_instance_summary(s: dict[str, Any]) -> str:
    """Plain-text rendering of :func:`instance_summary` (tables aligned by display width)."""
    from allocator.report.terminal import table

    cur = s["currency"]
    lines = [f"{s['name']} -- plan year {s['year']}", ""]
    st = s["status"]
    lines.append(f"Stations: {s['stations']} ({s['urban']} urban, {s['rural']} rural; {st['existing']} existing, "
                 f"{st['new']} new, {st['upgrade']} upgrade; {s['one_stop']} one-stop)")
    lines.append(f"Residents: {s['population']:,} in {s['households']:,} households; floor area "
                 f"{s['floor_area_m2']:,.0f} m2; {s['buildings_older_than_10_years']} buildings older than 10 years")
    lines.append("")
    lines.append(table(["county", "stations", "urban", "new", "upgrade", "residents"],
                       [[r["county"], r["stations"], r["urban"], r["new"], r["upgrade"], f"{r['population']:,}"]
                        for r in s["counties"]], right=[False, True, True, True, True, True]))
    lines.append("")
    lines.append(table(["population group", "residents"], [[k, f"{v:,}"] for k, v in s["groups"].items()],
                       right=[False, True]))
    t = s["staff_today"]
    lines.append("")
    lines.append(f"Staff today: {t['total']} = {t['admin']} admin + {t['social_worker']} social workers "
                 f"({t['certified']} certified, {t['certified_share']:.0%}) + {t['volunteer']} volunteers")
    if s["staff_targets"]:
        lines.append(table(["staff target of the clauses", "figure"],
                           [[k, f"{v:.0%}" if "share" in k else f"{v:,.0f}"] for k, v in s["staff_targets"].items()],
                           right=[False, True]))
    if s["budget"]:
        lines.append("")
        lines.append(table([f"budget ({cur})", "yuan"], [[k, f"{v:,.0f}"] for k, v in s["budget"].items()],
                           right=[False, True]))
    lines.append("")
    inforce = [c for c in s["clauses"] if c["in_force"]]
    rows = []
    for c in inforce:
        modes = c["mode"]
        mode = modes.get("*") if set(modes) == {"*"} else ", ".join(f"{k}={v}" for k, v in modes.items())
        if c["scope"] != "model":
            mode = "-"
        figs = ", ".join(f"{k}={v:g}" for k, v in c["figures"].items())
        rows.append([c["id"], c["scope"], mode or "", figs])
    lines.append(table(["clause", "scope", "mode", "figures"], rows,
                       title=f"Clauses in force: {len(inforce)} of {len(s['clauses'])} stated"))
    return "\n".join(lines)
