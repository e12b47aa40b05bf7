"""The planning horizon of an instance: its years and how each clause figure applies per year.

An instance with ``years = [2024, 2025, 2026]`` under ``[instance]`` plans those years in one model;
``[horizon]`` says how:

``weights``          objective weight per year (default 1 each).
``upgrades_per_year`` certification upgrades of staff in post per year (none->assistant and
                     assistant->intermediate together; default 0: nobody is upgraded).
``survival``         share of today's senior workers still in post per year of the horizon, used for
                     F-SALARY's seniority bonus (a parameter, not a decision; default 1 - F-TURNOVER).
``rules``            ``"CLAUSE.figure" = "carry" | "interpolate" | "flow" | "absent"``: a year the path
                     does not state takes the last stated figure (carry, the default for targets), the
                     straight line between the stated years (interpolate), or nothing (flow: the figure
                     counts events of its own year; absent: it is not carried).
``in_force``         ``CLAUSE = [years]``: the clause holds only in those years (F-BUILD's 80 / 70 are
                     2024 figures; F-DEMO starts in 2025).

Nothing is invented: a year without a figure and without a rule that gives one has no figure, and
the clause's families that need it do not apply in that year.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

RULES = ("carry", "interpolate", "flow", "absent")
# Flow figures count events of one year (hires in 2024); other path figures are targets that hold
# from their year on.  (Same set as the one-year resolution in settings.)
FLOW_FIELDS = frozenset({("F-HIRING", "recruited"), ("F-LOCAL-HIRE", "local_hires")})


@dataclass(frozen=True)
class Horizon:
    """The years of a horizon instance and the per-year rules (see the module docstring)."""

    years: tuple[int, ...]
    weights: tuple[float, ...] = ()
    upgrades_per_year: float = 0.0
    survival: float | None = None
    rules: Mapping[str, str] = field(default_factory=dict)
    in_force: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))
        object.__setattr__(self, "in_force", MappingProxyType(dict(self.in_force)))
        if not self.weights:
            object.__setattr__(self, "weights", tuple(1.0 for _ in self.years))

    def weight(self, year: int) -> float:
        return self.weights[self.years.index(year)]

    def rule(self, clause_id: str, figure: str) -> str:
        r = self.rules.get(f"{clause_id}.{figure}")
        if r is not None:
            return r
        return "flow" if (clause_id, figure) in FLOW_FIELDS else "carry"


def resolve(points: tuple[tuple[int, float], ...], year: int, rule: str) -> float | None:
    """The figure of a path (sorted (year, value) points) in ``year`` under ``rule``."""
    if not points:
        return None
    exact = next((v for y, v in points if y == year), None)
    if rule in ("flow", "absent") or exact is not None:
        return exact
    earlier = [(y, v) for y, v in points if y < year]
    later = [(y, v) for y, v in points if y > year]
    if not earlier:
        return None
    if rule == "interpolate" and later:
        (y0, v0), (y1, v1) = earlier[-1], later[0]
        return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return earlier[-1][1]


def check_horizon(ck: Any, inst: Mapping[str, Any], sec: Mapping[str, Any]) -> Horizon | None:
    """Check ``[instance] years`` and ``[horizon]`` (``ck``: the settings' TomlChecker); None if one-year."""
    years_raw = inst.get("years")
    if years_raw is None:
        if sec:
            ck.add("horizon", None, "missing_value", "[horizon] needs `years = [...]` under [instance]")
        return None
    if (not isinstance(years_raw, list) or not years_raw
            or not all(isinstance(y, int) and not isinstance(y, bool) and 1990 <= y <= 2100 for y in years_raw)):
        ck.add("instance.years", years_raw, "wrong_type", "must be a list of whole years between 1990 and 2100")
        return None
    years = tuple(years_raw)
    if list(years) != list(range(years[0], years[0] + len(years))):
        ck.add("instance.years", years_raw, "out_of_range", "years must be consecutive and increasing")
        return None
    for k in sec:
        if k not in ("weights", "upgrades_per_year", "survival", "rules", "in_force"):
            ck.add(f"horizon.{k}", sec[k], "unknown_key",
                   "unknown key in [horizon] (known: weights, upgrades_per_year, survival, rules, in_force)")
    weights: tuple[float, ...] = ()
    if "weights" in sec:
        w = sec["weights"]
        if not isinstance(w, list) or len(w) != len(years):
            ck.add("horizon.weights", w, "wrong_type", f"one weight per year ({len(years)})")
        else:
            ws = [ck.number(f"horizon.weights.{i}", v, maximum=1e6) for i, v in enumerate(w)]
            weights = tuple(float(v) for v in ws if v is not None) if None not in ws else ()
    ups = ck.number("horizon.upgrades_per_year", sec.get("upgrades_per_year", 0), maximum=1e7, integer=True) or 0.0
    surv = ck.number("horizon.survival", sec["survival"], maximum=1.0, share=True) if "survival" in sec else None
    rules: dict[str, str] = {}
    flat: dict[str, Any] = {}
    for k, r in dict(sec.get("rules", {})).items():
        # "F-HIRING.in_post" = ... and [horizon.rules.F-HIRING] in_post = ... (a workbook's policy sheet) alike
        flat.update({f"{k}.{f}": v for f, v in r.items()} if isinstance(r, dict) else {k: r})
    for k, r in flat.items():
        if r not in RULES or "." not in k:
            ck.add(f"horizon.rules.{k}", r, "bad_choice", f"a rule is 'CLAUSE.figure' = one of {', '.join(RULES)}")
        else:
            rules[k] = r
    in_force: dict[str, tuple[int, ...]] = {}
    for k, ys in dict(sec.get("in_force", {})).items():
        if not isinstance(ys, list) or not all(y in years for y in ys):
            ck.add(f"horizon.in_force.{k}", ys, "out_of_range", f"a list of years of the horizon {list(years)}")
        else:
            in_force[k] = tuple(ys)
    return Horizon(years, weights, float(ups), surv, rules, in_force)


def clauses_for_year(clauses: tuple[Any, ...], horizon: Horizon, year: int) -> tuple[Any, ...]:
    """Each clause with its figures resolved for ``year`` (and out of force outside its years)."""
    out = []
    for c in clauses:
        figures = {k: v for k, v in c.figures.items() if k not in c.paths}
        for name, pts in c.paths.items():
            v = resolve(pts, year, horizon.rule(c.id, name))
            if v is not None:
                figures[name] = v
        in_force = c.in_force and (c.id not in horizon.in_force or year in horizon.in_force[c.id])
        out.append(dataclasses.replace(c, figures=figures, in_force=in_force))
    return tuple(out)
