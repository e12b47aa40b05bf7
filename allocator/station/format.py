"""The plan as a short text a budget officer reads: status, coverage, budget, staff, deviations."""

from __future__ import annotations

from allocator.instance import Instance
from allocator.station.plan import Plan


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
