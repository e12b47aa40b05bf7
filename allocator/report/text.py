"""Terminal renderings of the CLI's results, with tables aligned by display width (:func:`terminal.table`).

They say what ``allocator.station.format_plan``, ``allocator.scenario.format_whatif`` / ``format_prices``
and the ``clauses`` command said, in the same order, with every table through ``rich``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from allocator.instance import Instance
from allocator.report.terminal import table
from allocator.station import Plan


def _f(v: Any, digits: int = 1) -> str:
    if v is None or isinstance(v, bool):
        return "-" if v is None else str(v)
    if isinstance(v, int | float):
        return "-" if isinstance(v, float) and not math.isfinite(v) else f"{v:,.{digits}f}"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "-" if not math.isfinite(x) else f"{x:,.{digits}f}"


def format_plan_text(plan: Plan, instance: Instance) -> str:
    """Status, coverage by group and county, budget, staff and the soft clauses not met."""
    s = plan.summary
    from allocator.station import format_objective

    # How the solve ended in words and the objective as its parts (never one bare number, issue 15).
    lines = [f"{instance.name} -- {plan.status.value.upper()} ({plan.solver} {plan.solver_version}, "
             f"{plan.seconds:.1f} s)", format_objective(plan, instance)]
    if not plan.tables:
        lines.append(plan.message)
        return "\n".join(lines)
    t = s["totals"]
    labels = {g.id: g.label for g in instance.groups}
    lines += ["", f"Need covered: {t['covered']:,.0f} of {t['demand']:,.0f} residents in need "
              f"({t['covered'] / max(t['demand'], 1):.1%})"]
    right = [False, True, True, True]
    lines.append(table(["group", "covered", "in need", "share"],
                       [[labels.get(g, g), f"{r['covered']:,.0f}", f"{r['demand']:,.0f}",
                         f"{r['covered'] / max(r['demand'], 1):.1%}"] for g, r in s["coverage_by_group"].items()],
                       right=right))
    lines.append(table(["county", "covered", "in need", "share"],
                       [[c, f"{r['covered']:,.0f}", f"{r['demand']:,.0f}", f"{r['covered'] / max(r['demand'], 1):.1%}"]
                        for c, r in s["coverage_by_county"].items()], right=right))
    m = t["money"]
    lines += ["", f"Budget ({instance.currency}): " + ", ".join(
        f"{k} {m[k]:,.0f}" for k in ("facilities", "salaries", "services", "training")) + f"; total {m['total']:,.0f}"]
    ip = s["staff_in_post"]
    lines.append(f"Staff: {t['staff']} (in post {sum(ip.values())}): admin {t['admin']} ({ip['admin']}), "
                 f"social workers {t['social_workers']} ({ip['social_worker']}; {t['certified']} certified), "
                 f"volunteers {t['volunteers']} ({ip['volunteer']})")
    if s.get("path"):  # a horizon plan: the path year by year (issue 14)
        from allocator.station.format import horizon_lines, path_lines

        lines += ["", "Path by year:"] + path_lines(s["path"]) + horizon_lines(s, instance.currency)
    if s["deviations"]:
        lines += ["", table(["clause", "family", "deviation", "unit", "§", "title"],
                            [[d["clause_id"], d["family"], f"{d['total']:,.1f}", d["unit"], d["section"], d["title"]]
                             for d in s["deviations"]], right=[False, False, True, False, False, False],
                            title="Soft clauses not met (deviation in the clause's unit):")]
    else:
        lines += ["", "Every clause in force is met."]
    for note in s.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


def format_whatif_text(w: Any, changes: dict[str, Any], top: int = 15) -> str:
    """The totals that moved, the soft-clause deviations before and after, the stations that moved most."""
    lines = [f"What if {', '.join(f'{k} = {v}' for k, v in changes.items())}?", ""]
    lines.append(table(["figure", "baseline", "changed", "change"],
                       [[r.figure, _f(r.baseline), _f(r.changed), _f(r.change)] for r in w.totals.itertuples()],
                       right=[False, True, True, True]))
    if len(w.clauses):
        lines += ["", table(["clause", "family", "baseline", "changed"],
                            [[r.clause_id, r.family, _f(r.baseline_deviation), _f(r.changed_deviation)]
                             for r in w.clauses.itertuples()], right=[False, False, True, True],
                            title="Soft-clause deviations:")]
    if len(w.stations):
        st: pd.DataFrame = w.stations.head(top)
        lines += ["", table(list(st.columns), [[_f(v) if not isinstance(v, str) else v for v in row]
                                               for row in st.itertuples(index=False)],
                            right=[c != "station_id" for c in st.columns],
                            title=f"Stations that moved most (of {len(w.stations)}):")]
    return "\n".join(lines)


def format_prices_text(base: Plan, rows: list[Any]) -> str:
    """What each clause family costs: drop gain, one-unit gain and the LP-dual estimate."""
    lines = [f"Baseline objective {base.objective:,.2f} ({base.status.value}); gains are in objective units "
             "(weighted residents' need covered, net of soft-clause penalties).", ""]
    lines.append(table(["clause", "family", "drop it", "figure", "one unit", "gain", "LP-dual estimate"],
                       [[r.clause_id, r.family, _f(r.drop_gain, 2), r.figure or "-", _f(r.step, 2),
                         _f(r.step_gain, 2), f"{_f(r.dual_estimate, 2)} /{r.unit}"] for r in rows],
                       right=[False, False, True, True, True, True, True]))
    lines.append("")
    lines.append("'drop it' and 'gain' are re-solves (exact for the MILP); the LP-dual column is an estimate from "
                 "the LP with integers fixed at the plan (sum of |dual| over the family's rows).")
    return "\n".join(lines)


def format_clauses_text(clauses: Any) -> str:
    """The clause registry: id, scope, §, title, figures and families."""
    rows = []
    for c in clauses:
        figs = ", ".join(f"{f.name}{'' if f.required else '?'} [{f.unit}]" for f in c.fields)
        rows.append([c.id, c.scope, f"§{c.section}", c.title, figs, ", ".join(c.families)])
    return table(["clause", "scope", "§", "title", "figures", "families"], rows)
