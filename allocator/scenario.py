"""What-if changes, rule prices and the scenario record used by sweeps.

A change is ``KEY=VALUE`` where KEY is ``CLAUSE.FIELD`` (``A-SPLIT.salaries``), ``CLAUSE.FIELD.YEAR``
for a year path, ``CLAUSE.in_force`` / ``CLAUSE.mode``, or a dotted key of another instance.toml
section (``objective.equity_weight``, ``costs.renovation``, ``groups.elderly.weight``).  Changes go
through the same checks as a file (:func:`allocator.instance.with_settings`).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import BY_ID, Instance, with_settings
from allocator.station import Plan, build_model, solve_instance
from solvers import Deadline, SolveOptions, Status, get_backend

SECTIONS = ("instance", "objective", "groups", "staff_types", "costs", "stated", "documents")


def parse_value(text: str) -> Any:
    """``true``/``false``, a number, or text."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        f = float(t)
    except ValueError:
        return t
    return int(f) if f.is_integer() and "." not in t and "e" not in t.lower() else f


def parse_changes(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["A-SPLIT.salaries=0.3", ...]`` -> ``{"A-SPLIT.salaries": 0.3}``; ValueError on a bad item."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"a change is KEY=VALUE, e.g. A-SPLIT.salaries=0.30; got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_value(v)
    return out


def apply_changes(instance: Instance, changes: dict[str, Any]) -> Instance:
    """The instance with ``changes`` applied (checked like a file; InstanceError if a rule breaks)."""
    settings = copy.deepcopy(instance.settings_dict())
    for key, value in changes.items():
        parts = key.split(".")
        if parts[0] in SECTIONS:
            path = parts
        elif parts[0] in BY_ID:
            path = ["clauses", *parts]
        else:
            raise ValueError(f"{key!r}: not a clause id of POLICY.md nor a section ({', '.join(SECTIONS)})")
        node = settings
        for p in path[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):  # a figure becomes a year path
                nxt = node[p] = {}
            node = nxt
        node[path[-1]] = value
    label = ", ".join(f"{k}={v}" for k, v in changes.items()) or "baseline"
    return with_settings(instance, settings, label=f"what-if ({label})")


# --------------------------------------------------------------------------------------------------------
# what-if
# --------------------------------------------------------------------------------------------------------
@dataclass
class WhatIf:
    """Baseline and changed plans with their differences."""

    baseline: Plan
    changed: Plan
    totals: pd.DataFrame
    clauses: pd.DataFrame
    stations: pd.DataFrame


def _station_frame(plan: Plan) -> pd.DataFrame:
    t = plan.tables
    key = ["year", "station_id"] if "year" in t["staff"].columns else "station_id"  # a horizon: per year
    staff = t["staff"].set_index(key)[["admin", "social_workers", "certified", "volunteers"]]
    money = t["budget"].set_index(key)[["facilities", "salaries", "services", "training"]]
    svc = t["services"].groupby(key)["offered"].sum().rename("services_offered")
    cov = t["coverage"].groupby(key)["covered"].sum().rename("covered")
    return pd.concat([staff, money, svc, cov], axis=1)


#: A horizon plan's path.csv columns summed over the years (flows); the others are stocks or shares.
_FLOWS = ("need_covered", "sw_hired", "sw_left", "stations_built", "money_facilities", "money_salaries",
          "money_services", "money_training", "money_operations", "money_total")
_PER_YEAR = ("need_covered", "sw_in_post", "sw_hired", "sw_left", "certified_share", "stations_open",
             "demo_stations", "money_operations", "money_total")


def horizon_totals(plan: Plan) -> dict[str, float]:
    """A horizon plan's figures: the flows summed over every year (``horizon <figure>``), the stock at the
    end, then each year's figures (``<year> <figure>``), read from its ``path`` table."""
    path = plan.tables["path"].sort_values("year")
    out: dict[str, float] = {f"horizon {c}": float(path[c].sum()) for c in _FLOWS if c in path.columns}
    out["horizon sw_in_post (end)"] = float(path["sw_in_post"].iloc[-1])
    for r in path.itertuples(index=False):
        for c in _PER_YEAR:
            if hasattr(r, c):  # shares in per cent, so a one-decimal table still shows them
                share = c.endswith("_share")
                out[f"{int(r.year)} {c.replace('_share', ' %') if share else c}"] = \
                    float(getattr(r, c)) * (100.0 if share else 1.0)
    return out


def whatif(instance: Instance, changes: dict[str, Any], solver: str = "highs",
           options: SolveOptions | None = None, strict: bool = False) -> WhatIf:
    """Solve the baseline and the changed instance; diff totals, clause statuses and stations.

    With ``options.deadline`` the two solves share it: the baseline gets at most half the time it
    leaves (less its margin), the changed instance the rest, each returning its incumbent when stopped.
    """
    changed_inst = apply_changes(instance, changes)
    base_options = options
    if options is not None and options.deadline is not None and options.deadline.at is not None:
        half = max(0.0, (options.deadline.at - options.deadline.margin() - time.monotonic()) / 2)
        base_options = dataclasses.replace(options, time_limit=max(1e-3, min(options.time_limit or half, half)))
    base = solve_instance(instance, solver, base_options, strict)
    new = solve_instance(changed_inst, solver, options, strict)
    rows = [("status", base.status.value, new.status.value), ("objective", base.objective, new.objective)]
    if base.tables and new.tables and "path" in base.tables and "path" in new.tables:
        bh, nh = horizon_totals(base), horizon_totals(new)
        rows += [(k, v, nh.get(k)) for k, v in bh.items()]
    elif base.tables and new.tables:
        bt, nt = base.summary["totals"], new.summary["totals"]
        for k in ("covered", "staff", "social_workers", "certified", "admin", "volunteers"):
            rows.append((k, bt[k], nt[k]))
        for k, v in bt["money"].items():
            rows.append((f"money.{k}", v, nt["money"][k]))
    totals = pd.DataFrame(rows, columns=["figure", "baseline", "changed"])
    num = pd.to_numeric(totals["baseline"], errors="coerce"), pd.to_numeric(totals["changed"], errors="coerce")
    totals["change"] = num[1] - num[0]
    clauses = pd.DataFrame()
    stations = pd.DataFrame()
    if base.tables and new.tables:
        def dev(plan: Plan) -> pd.Series:
            c = plan.tables["clauses"]
            return c.groupby(["clause_id", "family"])["deviation"].sum()

        clauses = pd.concat([dev(base).rename("baseline_deviation"), dev(new).rename("changed_deviation")],
                            axis=1).fillna(0.0)
        clauses["change"] = clauses["changed_deviation"] - clauses["baseline_deviation"]
        clauses = clauses[clauses[["baseline_deviation", "changed_deviation"]].abs().sum(axis=1) > 1e-9]
        clauses = clauses.reset_index()
        b, n = _station_frame(base), _station_frame(new)
        d = (n - b).round(6)
        moved = d.abs()
        # biggest moves first: money in yuan weighs the same as 10,000 yuan per worker or resident moved
        score = moved[["facilities", "salaries", "services", "training"]].sum(axis=1) / 1e4 + moved[
            ["admin", "social_workers", "certified", "volunteers", "services_offered", "covered"]].sum(axis=1)
        d = d.assign(_score=score)
        d = d[d["_score"] > 1e-9].sort_values("_score", ascending=False, kind="stable").drop(columns="_score")
        stations = d.reset_index().rename(columns={"index": "station_id"})
        if "year" in stations.columns:  # a horizon plan: the year is a label, not a figure
            stations["year"] = stations["year"].astype(str)
    return WhatIf(base, new, totals, clauses, stations)


def format_whatif(w: WhatIf, changes: dict[str, Any], top: int = 15) -> str:
    lines = [f"What if {', '.join(f'{k} = {v}' for k, v in changes.items())}?", ""]
    lines.append(f"{'figure':<22}{'baseline':>18}{'changed':>18}{'change':>16}")
    for r in w.totals.itertuples():
        def f(v: Any) -> str:
            return f"{v:,.1f}" if isinstance(v, (int, float, np.floating)) and v is not None and not pd.isna(v) \
                else str(v)
        lines.append(f"{r.figure:<22}{f(r.baseline):>18}{f(r.changed):>18}{f(r.change):>16}")
    if len(w.clauses):
        lines += ["", "Soft-clause deviations:"]
        for r in w.clauses.itertuples():
            lines.append(f"  {r.clause_id:<16}{r.family:<14}{r.baseline_deviation:>16,.1f} ->"
                         f"{r.changed_deviation:>16,.1f}")
    if len(w.stations):
        lines += ["", f"Stations that moved most (of {len(w.stations)}):"]
        lines.append(w.stations.head(top).to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------
# rule prices
# --------------------------------------------------------------------------------------------------------
_STEP = {"share": 0.01, "count": 1.0, "number": 1.0, "money": None}


@dataclass
class RulePrice:
    clause_id: str
    family: str
    drop_gain: float | None
    figure: str | None
    step: float | None
    step_gain: float | None
    dual_estimate: float | None
    unit: str
    notes: list[str] = field(default_factory=list)


#: Seconds ``prices`` runs at most when no limit is given.
DEFAULT_PRICES_LIMIT = 120.0
#: The least time a re-solve is given once the limit is nearly spent.
MIN_SOLVE_SECONDS = 0.5


def prices(instance: Instance, solver: str = "highs", options: SolveOptions | None = None,
           time_limit: float | None = None, deadline: Deadline | None = None) -> tuple[Plan, list[RulePrice]]:
    """What each clause family in force costs: objective gain if dropped, if relaxed one unit (re-solves).

    The LP duals of the model with integers fixed at the plan are offered as a fast estimate
    (objective per unit of the row's right-hand side, summed over the family's rows), labelled as such.

    Parameters
    ----------
    instance : Instance
    solver : str
    options : SolveOptions, optional
        Options of each re-solve (default gap 1e-4, 10 s).
    time_limit : float, optional
        Seconds for the whole call (default :data:`DEFAULT_PRICES_LIMIT`).  The baseline and the LP-dual
        estimates come first; the families not re-solved when it runs out keep their estimate only, with
        a note saying so.
    deadline : Deadline, optional
        The command's deadline (``Deadline.since_process_start(time_limit)``), replacing ``time_limit``:
        it counts start-up and reading too, every re-solve carries it (so a solve stopped by it returns
        its incumbent), and its margin is kept to answer (issue 17, item 22).

    Returns
    -------
    (Plan, list of RulePrice)
    """
    if deadline is None or deadline.at is None:
        deadline = Deadline.start(time_limit if time_limit else DEFAULT_PRICES_LIMIT)
    assert deadline.at is not None
    until = deadline.at - deadline.margin()  # on the monotonic clock; the margin is kept to print
    options = dataclasses.replace(options or SolveOptions(mip_gap=1e-4, time_limit=10), deadline=deadline)

    def budget() -> SolveOptions:
        left = max(until - time.monotonic(), MIN_SOLVE_SECONDS)
        return dataclasses.replace(options, time_limit=min(options.time_limit or left, left))

    base = solve_instance(instance, solver, budget())
    if not base.status.has_solution or base.objective is None:
        return base, []
    model = build_model(instance)
    duals = _fixed_integer_duals(model, base, instance, solver, until, deadline)
    out: list[RulePrice] = []
    families = sorted({(rb.clause, rb.family, rb.unit) for rb in model.rows if rb.clause != "ENGINE"})
    for cid, fam, unit in families:
        if time.monotonic() >= until:
            out.append(RulePrice(cid, fam, None, None, None, None, duals.get((cid, fam)), unit,
                                 ["not re-solved: the time limit ran out (the LP-dual estimate stands)"]))
            continue
        dropped = solve_instance(instance, solver, budget(), drop=frozenset({(cid, fam)}))
        drop_gain = (dropped.objective - base.objective) if dropped.objective is not None else None
        figure, step, step_gain, notes = _relax_one_unit(instance, cid, fam, base, solver, budget, until)
        out.append(RulePrice(cid, fam, drop_gain, figure, step, step_gain, duals.get((cid, fam)), unit, notes))
    return base, out


def _relax_one_unit(instance: Instance, cid: str, fam: str, base: Plan, solver: str,
                    budget: Callable[[], SolveOptions], until: float):  # type: ignore[no-untyped-def]
    """Move the clause's first figure one unit each way; the better re-solve is the relaxation.

    ``until`` is on the :func:`time.monotonic` clock."""
    c = instance.clause(cid)
    if c is None and instance.horizon is not None:
        c = instance.any_clause(cid)  # a horizon resolves figures in its first year; the clause may start later
    spec = BY_ID[cid]
    names = [f.name for f in spec.fields if c and f.name in c.figures and "today" not in f.name]
    if fam in names:
        names = [fam]
    if not names or c is None:
        return None, None, None, ["no figure to move"]
    name = names[0]
    paths = dict(c.paths).get(name) if instance.horizon is not None else None
    kind = spec.field(name).kind  # type: ignore[union-attr]
    value = c.figures[name]
    step = _STEP.get(kind) or max(1.0, abs(value) * 0.01)
    best = None
    for sign in (1.0, -1.0):
        if time.monotonic() >= until:
            return name, step, None, ["one-unit change not re-solved: the time limit ran out"]
        # a year path moves in every year (setting the figure alone would replace the path by a constant)
        change = ({f"{cid}.{name}.{y}": v + sign * step for y, v in paths} if paths
                  else {f"{cid}.{name}": value + sign * step})
        if kind == "share" and not all(0 <= v <= 1 for v in change.values()):
            continue
        try:
            changed = apply_changes(instance, change)
        except Exception:  # e.g. shares that must sum to 1: relaxing one alone is not a valid instance
            continue
        p = solve_instance(changed, solver, budget())
        if p.objective is not None and base.objective is not None and (
                best is None or p.objective - base.objective > best[1]):
            best = (sign * step, p.objective - base.objective)
    if best is None:
        return name, step, None, ["no valid one-unit change (shares must sum to 1: use whatif)"]
    note = [f"moved by one unit in each year of its path ({len(paths)} year(s))"] if paths else []
    return name, best[0], best[1], note


def _fixed_integer_duals(model, base: Plan, instance: Instance, solver: str,  # type: ignore[no-untyped-def]
                         until: float = float("inf"),
                         deadline: Deadline | None = None) -> dict[tuple[str, str], float]:
    """LP duals with the integers fixed; ``until`` on the :func:`time.monotonic` clock."""
    p = model.problem
    left = until - time.monotonic()
    if not base.tables or left <= 0:
        return {}
    r0 = get_backend("highs").solve(p, SolveOptions(mip_gap=1e-4, time_limit=min(20.0, max(left / 2,
                                                                                           MIN_SOLVE_SECONDS)),
                                                    deadline=deadline))
    if r0.x is None:
        return {}
    lo, hi = p.col_lower.copy(), p.col_upper.copy()
    ints = p.integrality
    lo[ints] = hi[ints] = np.round(r0.x[ints])
    from solvers.base import MilpProblem

    lp = MilpProblem(p.c, p.A, p.row_lower, p.row_upper, lo, hi, np.zeros_like(ints), p.sense)
    r = get_backend("highs").solve(lp, SolveOptions(time_limit=max(until - time.monotonic(), MIN_SOLVE_SECONDS)
                                                    if until != float("inf") else None, deadline=deadline))
    if r.status is not Status.OPTIMAL or r.row_duals is None:
        return {}
    out: dict[tuple[str, str], float] = {}
    for rb in model.rows:
        if rb.clause == "ENGINE":
            continue
        d = r.row_duals[rb.start:rb.start + rb.count] / rb.scale  # per unit of the row (per yuan for money)
        out[(rb.clause, rb.family)] = out.get((rb.clause, rb.family), 0.0) + float(np.sum(np.abs(d)))
    return out


def format_prices(base: Plan, rows: list[RulePrice]) -> str:
    lines = [f"Baseline objective {base.objective:,.2f} ({base.status.value}); gains are in objective units "
             "(weighted residents' need covered, net of soft-clause penalties).", "",
             f"{'clause':<18}{'family':<14}{'drop it':>14}{'figure':>22}{'one unit':>12}{'gain':>12}"
             f"{'LP-dual estimate':>20}"]
    for r in rows:
        def g(v: float | None) -> str:
            return "-" if v is None else f"{v:,.2f}"
        lines.append(f"{r.clause_id:<18}{r.family:<14}{g(r.drop_gain):>14}{(r.figure or '-'):>22}"
                     f"{g(r.step):>12}{g(r.step_gain):>12}{g(r.dual_estimate):>14} /{r.unit}")
    lines.append("")
    lines.append("'drop it' and 'gain' are re-solves (exact for the MILP); the LP-dual column is an estimate from "
                 "the LP with integers fixed at the plan (sum of |dual| over the family's rows).")
    return "\n".join(lines)
