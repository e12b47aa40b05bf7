"""The plan as a short text a budget officer reads: status, objective by parts, coverage, budget, staff."""

from __future__ import annotations

from typing import Any

from allocator.instance import Instance
from allocator.station.plan import Plan


def _stage_lines(plan: Plan) -> list[str]:
    """How each solve ended, on its own terms (the weighted solve, or stages 1 and 2)."""
    s = plan.summary
    lines = []
    for st in s.get("stages", []):
        head = "weighted objective" if st["stage"] == "weighted" else f"stage {st['stage']}"
        text = f"{head}: {st['quality']}"
        if st.get("objective") is not None and st.get("bound") is not None:
            text += f" (value {st['objective']:,.1f}, bound {st['bound']:,.1f})"
        if st.get("gap_on_need") is not None:
            text += f"; bound within {st['gap_on_need']:.3%} of the weighted need covered"
        lines.append(f"  {text}, {st['seconds']:.1f} s")
    held = s.get("held")
    if held:
        lines.append(f"  stage 2 holds the weighted deviation <= {held['cap']:,.1f} "
                     f"(least {held['least_weighted_deviation']:,.1f} + {held['tolerance_relative']:.2%} "
                     f"+ {held['tolerance_absolute']:g})")
    return lines


def _part_lines(parts: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """The objective as its parts: need covered, each penalty in its clause's unit, the rest."""
    n = parts["need_covered"]
    lines = ["Objective by parts (objective units; they add up to the objective):",
             f"  need covered {n['weighted']:>+16,.1f}  ({n['residents']:,.0f} residents)"]
    for g, r in n["by_group"].items():
        lines.append(f"    {labels.get(g, g):<34}{r['weighted']:>+14,.1f}  ({r['residents']:,.0f} x {r['weight']:g})")
    for p in parts["penalties"]:
        lines.append(f"  {p['clause_id']:<16} {p['family']:<13}{p['contribution']:>+16,.1f}  "
                     f"({p['deviation']:,.1f} {p['unit']} x {p['penalty']:g})")
    for k, label in (("equity", "equity term"), ("money", "money price"), ("tie_breaks", "tie-breaks"),
                     ("stability", "baseline changes"), ("other", "other")):
        if parts.get(k):
            lines.append(f"  {label:<26}{parts[k]:>+16,.1f}")
    lines.append(f"  {'total':<26}{parts['total']:>+16,.1f}")
    return lines


def _baseline_line(s: dict[str, Any], currency: str) -> list[str]:
    b = s.get("baseline")
    if not b:
        return []
    return [f"Changes against the baseline plan: staff +{b['staff_added']:,.0f} / -{b['staff_removed']:,.0f}, "
            f"{b['money_moved']:,.0f} {currency} moved, {b['services_dropped']:,.0f} services dropped "
            f"({b['services_added']:,.0f} added), {b['demo_changes']:,.0f} demonstration changes (changes.csv)"]


def format_objective(plan: Plan, instance: Instance) -> str:
    """How the solve ended in words, each stage on its own terms, and the objective as its parts.

    ``proven optimal``, ``optimal within X %`` or ``feasible, within X % of the bound``; the parts (need
    covered weighted and in residents, each penalty in its clause's unit) add up to the objective.
    """
    s = plan.summary
    mode = s.get("objective_mode", "weighted")
    lines = [f"Solve: {s.get('quality', plan.status.value)} ({mode} objective)"] + _stage_lines(plan)
    if "objective_parts" in s:
        lines += [""] + _part_lines(s["objective_parts"], {g.id: g.label for g in instance.groups})
    lines += _baseline_line(s, instance.currency)
    return "\n".join(lines)


def format_plan(plan: Plan, instance: Instance) -> str:
    """A short readable summary: how the solve ended, the objective's parts, coverage, budget, staff."""
    s = plan.summary
    lines = [f"{instance.name} -- {plan.status.value.upper()} ({plan.solver} {plan.solver_version}, "
             f"{plan.seconds:.1f} s)", format_objective(plan, instance)]
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
    if s.get("path"):
        lines += ["", "Path by year:"] + path_lines(s["path"]) + horizon_lines(s, instance.currency)
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


_PATH_COLUMNS = (("year", "year", "{:d}"), ("sw_in_post", "SW in post", "{:,d}"), ("sw_hired", "hired", "{:,d}"),
                 ("sw_left", "left", "{:,d}"), ("certified_share", "certified", "{:.1%}"),
                 ("stations_open", "open", "{:,d}"), ("stations_built", "built", "{:,d}"),
                 ("demo_stations", "demo", "{:,d}"), ("money_operations", "operations", "{:,.0f}"),
                 ("money_facilities", "construction", "{:,.0f}"), ("money_total", "total", "{:,.0f}"))


def path_lines(path: list[dict[str, Any]]) -> list[str]:
    """The horizon's path as a year-by-year table (one line per year)."""
    cells = [[h for _, h, _ in _PATH_COLUMNS]]
    for row in path:
        cells.append([fmt.format(int(row[k]) if "d}" in fmt else float(row[k])) for k, _, fmt in _PATH_COLUMNS])
        covered, need = float(row["need_covered"]), float(row["need_total"])
        cells[-1].append(f"{covered / need:.1%}" if need else "-")
    cells[0].append("need covered")
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    return ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]


def horizon_lines(s: dict[str, Any], currency: str) -> list[str]:
    """The horizon's money by use and by source and its moves, over all its years (summary.json)."""
    m, years = s.get("horizon_money"), s.get("years") or []
    if not m or not years:
        return []
    span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    lines = [f"Over {span} ({currency}): " + ", ".join(f"{k} {m[k]:,.0f}" for k in
                                                       ("facilities", "salaries", "services", "training"))
             + f"; total {m['total']:,.0f}"]
    if src := s.get("horizon_money_by_source"):
        lines.append("  paid by: " + ", ".join(f"{k} {v:,.0f}" for k, v in src.items()))
    if mv := s.get("horizon_moves"):
        lines.append(f"  moves: {mv['workers']:,} workers, {mv['cost']:,.0f} (inside salaries)")
    return lines
