"""Reading a circle plan: the short text report and the ``--json`` summary."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from allocator.circle.data import MODEL_TITLES, CircleData
from allocator.circle.result import CirclePlan


def summary_json(plan: CirclePlan) -> dict[str, Any]:
    """What ``allocator circle --json`` prints: the summary, the manifest and the timings."""
    return _jsonable({**plan.summary, "manifest": plan.manifest,
                      "timings": {k: round(v, 4) for k, v in plan.timings.items()}})


def format_circle(plan: CirclePlan, data: CircleData, limit: int = 15) -> str:
    """A short readable report: status, points, coverage by group, township and county, uncovered places."""
    s = plan.summary
    lim = []
    if s.get("points_limit") is not None:
        lim.append(f"at most {s['points_limit']} new points")
    if s.get("budget_limit") is not None:
        lim.append(f"budget {s['budget_limit']:,.0f} yuan")
    if plan.model == "lscp":
        lim.append("shares " + ", ".join(f"{k} {v:.0%}" for k, v in (s.get("shares") or {}).items()))
    lines = [f"{data.name} -- {MODEL_TITLES[plan.model]}, {s['minutes']:g} minutes"
             + (f", {'; '.join(lim)}" if lim else "") + f" -- {plan.status.value.upper()}"]
    if plan.objective is not None:
        unit = {"mclp": "need-weighted residents within T", "cmclp": "need-weighted residents served",
                "lscp": "new points", "pmedian": "need-weighted minutes"}[plan.model]
        gap = f"{plan.gap:.3%}" if plan.gap is not None else "unknown"
        bound = f"{plan.bound:,.1f}" if plan.bound is not None else "unknown"
        lines.append(f"objective {plan.objective:,.1f} ({unit})  bound {bound}  gap {gap}  "
                     f"({plan.solver} {plan.solver_version}, {plan.seconds:.2f} s)")
    if not plan.tables:
        lines.append(plan.message)
        lines += [f"note: {n}" for n in s.get("notes", [])]
        return "\n".join(lines)
    t = s["totals"]
    pts = plan.tables["points"]
    new = pts[pts["new"] == 1]
    lines += ["", f"Points: {t['existing_points']} existing + {t['new_points']} new of {t['candidates']} "
              f"candidates; opening cost {t['opening_cost']:,.0f} yuan"]
    for tw, grp in new.groupby("township", sort=True):
        lines.append(f"  {tw:<10}{', '.join(grp['site_id'])}")
    lines += ["", f"Within {s['minutes']:g} minutes: {t['residents_within_T']:,.0f} of {t['residents']:,.0f} "
              f"residents ({t['share_within_T']:.1%}); need-weighted {t['need_share_within_T']:.1%}"]
    if plan.model == "cmclp":
        lines.append(f"Served within capacity: {t['residents_served']:,.0f} ({t['share_served']:.1%})")
    if plan.model == "pmedian" and t.get("mean_minutes_need_weighted") is not None:
        lines.append(f"Mean time to the nearest open point (need-weighted): {t['mean_minutes_need_weighted']:.1f} "
                     "minutes")
    lines.append("By group:")
    for r in plan.tables["coverage_group"].itertuples():
        lines.append(f"  {r.label:<28}{r.within_T:>12,.0f} / {r.residents:>10,.0f}  {r.share_within_T:>7.1%}")
    lines.append("By township:")
    for r in plan.tables["coverage_township"].itertuples():
        lines.append(f"  {r.township:<8}{r.county:<12}{r.within_T:>10,.0f} / {r.residents:>8,.0f}  "
                     f"{r.share_within_T:>7.1%}  new points {r.new_points}")
    lines.append("By county:")
    for r in plan.tables["coverage_county"].itertuples():
        lines.append(f"  {r.county:<20}{r.within_T:>10,.0f} / {r.residents:>8,.0f}  {r.share_within_T:>7.1%}")
    unc = plan.tables["uncovered"]
    lines += ["", f"Uncovered places: {len(unc)} ({t['residents_uncovered']:,.0f} residents)"]
    for r in unc.head(limit).itertuples():
        near = f"nearest open point {r.nearest_point} at {r.minutes:.1f} min" if r.nearest_point else \
            "no open point within reach"
        lines.append(f"  {r.place_id:<10} {r.name:<34} {r.township:<6}{r.population:>7,}  {near}")
    if len(unc) > limit:
        lines.append(f"  ... and {len(unc) - limit} more (uncovered.csv)")
    lines += [f"note: {n}" for n in s.get("notes", [])]
    return "\n".join(lines)


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float):
        return None if not math.isfinite(o) else round(o, 6)
    return o
