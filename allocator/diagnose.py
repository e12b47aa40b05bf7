"""Why is there no plan?  The smallest relaxation, one alternative per clause family, conflict sets.

Three questions, answered in the policy's words:

* **Smallest relaxation** -- the elastic model (:func:`allocator.station.build` with ``elastic=True``)
  puts a non-negative slack on every clause row, in the clause's own unit, priced by the instance's
  penalty (or :data:`allocator.station.UNIT_PENALTY` for hard clauses), and minimises the priced slack.
  Every family it relaxes is reported with the figure now and the figure that would work.
* **Alternatives** -- for each relaxed family, the elastic model with only that family soft: can it
  resolve the conflict on its own, and by how much must it move?
* **Conflict sets** -- a deletion filter over clause families with feasibility solves (correct for a
  MILP): the result is an irreducible set of families that cannot hold together.  After one set is
  found, its families are dropped and the search repeats, so independent conflicts are each reported.

Data inconsistencies (figures of the documents that contradict the data or each other) come from the
loader's warnings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.instance import BY_ID, InputIssue, Instance
from allocator.station import Model, RowBlock, build_model
from solvers import Deadline, SolveOptions, Status, get_backend

Family = tuple[str, str]


@dataclass(frozen=True)
class Relaxation:
    """One family relaxed by the elastic model: total slack in the clause's unit, and where."""

    clause_id: str
    family: str
    unit: str
    amount: float
    stations: tuple[str, ...]
    limit: float | None
    sentence: str
    year: int | None = None  # the year of a horizon's rows (None: one-year model, or a horizon-wide row)


@dataclass(frozen=True)
class Conflict:
    """An irreducible set of clause families that cannot hold together."""

    families: tuple[Family, ...]
    sentence: str


@dataclass
class Diagnosis:
    """The answer of ``allocator diagnose``."""

    feasible: bool
    strict: bool
    relaxation: list[Relaxation] = field(default_factory=list)
    alternatives: list[Relaxation] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    data_issues: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def rel(r: Relaxation) -> dict[str, Any]:
            return {"clause_id": r.clause_id, "family": r.family, "year": r.year, "unit": r.unit, "amount": r.amount,
                    "stations": list(r.stations), "limit": r.limit, "text": r.sentence}

        return {
            "feasible": self.feasible, "strict": self.strict,
            "smallest_relaxation": [rel(r) for r in self.relaxation],
            "alternatives": [rel(r) for r in self.alternatives],
            "conflicts": [{"families": [f"{c}:{f}" for c, f in k.families], "text": k.sentence}
                          for k in self.conflicts],
            "data_issues": self.data_issues, "notes": self.notes,
        }


def _money(v: float) -> str:
    return f"{v:,.0f} yuan"


def _describe(inst: Instance, rb: RowBlock, amount: float, limit: float | None, stations: list[str],
              year: int | None = None) -> str:
    """One relaxed family in words, with the document's figure now and the figure that would work.

    ``year``: the year of a horizon's rows; the figures are then that year's, and the sentence names it."""
    spec = BY_ID.get(rb.clause)
    when = "" if year is None else f" {year}"
    if year is not None:
        inst = inst.for_year(year)
    head = f"{rb.clause}{when} ({spec.title if spec else rb.family}, §{spec.section if spec else '-'})"
    where = ""
    if stations:
        names = dict(zip(inst.stations["station_id"], inst.stations["name"], strict=True))
        shown = ", ".join(names.get(s, s) for s in stations[:5])
        where = f" at {len(stations)} station(s): {shown}{', ...' if len(stations) > 5 else ''}"
    unit = rb.unit
    amt = _money(amount) if unit == "yuan" else f"{amount:,.1f} {unit}"
    c = inst.clause(rb.clause)
    pop = float(inst.stations["population"].sum())
    if rb.clause == "A-SPLIT" and c and (b := inst.clause("A-BUDGET-PERCAP")) and limit is not None:
        budget = b.figures["per_capita"] * pop
        return (f"{head}: the {rb.family} line must rise from {c.figures[rb.family]:.0%} ({_money(limit)}) to at "
                f"least {(limit + amount) / budget:.1%} ({_money(limit + amount)}) of the budget")
    if rb.clause == "F-USES" and c and (t := inst.clause("F-TOTAL")) and limit is not None:
        ops = t.figures["operations_per_year"]
        return (f"{head}: the {rb.family} share of operating funds must rise from {c.figures[rb.family]:.0%} "
                f"({_money(limit)}) to at least {(limit + amount) / ops:.1%} ({_money(limit + amount)})")
    if rb.clause == "F-TOTAL" and rb.family == "construction" and c and limit is not None:
        return (f"{head}: construction spending can reach only {_money(limit - amount)} under the other clauses, "
                f"not the {_money(limit)} booked; the line must fall by {_money(amount)} (or the per-station "
                f"subsidies rise)")
    if rb.clause in ("A-STAFF-DENSITY", "F-SW-DENSITY") and c and limit is not None and rb.family != "stated_total":
        return (f"{head}: {limit:,.0f} {unit} cannot be reached; at most {limit - amount:,.0f} fit, i.e. "
                f"{(limit - amount) / pop * 1e4:.2f} per 10,000 residents instead of {c.figures['per_10k']:g}")
    if rb.clause == "F-HIRING" and rb.family == "in_post" and c and limit is not None:
        return _hiring_sentence(inst, head, limit, amount)
    if rb.clause in ("A-SALARY", "F-SALARY"):
        return (f"{head}: salaries fall {amt} short of the floor{where}; either the floor falls, the salaries "
                f"line rises by that much, or there are fewer social workers")
    if limit is not None and rb.stations.max(initial=-1) < 0 and abs(limit) < 1e-9:
        return f"{head} [{rb.family}]: falls short by {amt}"
    if limit is not None and rb.stations.max(initial=-1) < 0:
        sign = "fall" if rb.sense in (">=", "=") else "rise"
        return f"{head} [{rb.family}]: the figure {limit:,.1f} {unit} must {sign} by {amt}"
    return f"{head} [{rb.family}]: must give way by {amt} in all{where}"


def _hiring_sentence(inst: Instance, head: str, limit: float, amount: float) -> str:
    """F-HIRING [in_post] short: the target, what fits, and how many salaries the year's operating money pays."""
    text = f"{head}: {limit:,.0f} in post, but at most {limit - amount:,.0f} fit under the other clauses"
    total, uses, sal = inst.clause("F-TOTAL"), inst.clause("F-USES"), inst.clause("F-SALARY")
    if total and uses and "operations_per_year" in total.figures and "salaries" in uses.figures:
        ops, share = total.figures["operations_per_year"], uses.figures["salaries"]
        pay = sal.figures["annual_average"] if sal and "annual_average" in sal.figures else \
            float(inst.staff_type("social_worker").annual_cost)
        if pay > 0:
            text += (f"; {ops / 1e6:,.6g} M x {share:.0%} of operations pays for {ops * share / pay:,.0f} salaries "
                     f"of {pay:,.0f} yuan (admin staff and volunteers included)")
    return text


def _relaxed(inst: Instance, model: Model, x: np.ndarray, tol: float = 1e-6) -> list[Relaxation]:
    ids = np.asarray(inst.stations["station_id"], dtype=object)
    by_family: dict[tuple[str, str, int | None], list[tuple[RowBlock, np.ndarray]]] = {}
    # a horizon's row blocks carry their year (None: horizon-wide rows such as F-TOTAL's)
    years = getattr(model, "block_years", ()) or (None,) * len(model.rows)
    for rb, year in zip(model.rows, years, strict=True):
        if not rb.soft:
            continue
        dev = np.zeros(rb.count)
        for d in (rb.dev_plus, rb.dev_minus):
            dev += np.where(d >= 0, x[np.maximum(d, 0)], 0.0)
        if (dev > tol).any():
            by_family.setdefault((rb.clause, rb.family, year), []).append((rb, dev))
    out = []
    for (cid, fam, year), parts in sorted(by_family.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)):
        rb = parts[0][0]
        amount = float(sum(dev.sum() for _, dev in parts)) * rb.scale
        stations = sorted({str(ids[s]) for r, dev in parts for s in r.stations[dev > tol] if s >= 0})
        limit = None
        if rb.count == 1 and len(parts) == 1:
            lo, hi = model.problem.row_lower[rb.start], model.problem.row_upper[rb.start]
            limit = float((lo if np.isfinite(lo) else hi) * rb.scale)
        out.append(Relaxation(cid, fam, rb.unit, amount, tuple(stations), limit,
                              _describe(inst, rb, amount, limit, stations, year), year))
    return out


def _families(model: Model) -> list[Family]:
    seen: dict[Family, None] = {}
    for rb in model.rows:
        if rb.clause != "ENGINE":
            seen[(rb.clause, rb.family)] = None
    return list(seen)


#: The least time a solve is given once the diagnosis's limit is nearly spent.
MIN_SOLVE_SECONDS = 0.5


def diagnose(instance: Instance, strict: bool = True, solver: str = "highs", time_limit: float = 120.0,
             warnings: list[InputIssue] | None = None, find_conflicts: bool = True,
             deadline: Deadline | None = None) -> Diagnosis:
    """Explain why ``instance`` has no plan (with every clause hard when ``strict``).

    Parameters
    ----------
    instance : Instance
    strict : bool
        Diagnose the instance with every clause hard (the documents as written).
    solver : str
        Backend name.
    time_limit : float
        Seconds for the whole diagnosis (every solve shares them); what is not decided by then is left
        out, with a note.
    warnings : list of InputIssue, optional
        The loader's warnings, reported as data inconsistencies.
    find_conflicts : bool
        Also compute conflict sets (a deletion filter: one solve per family).
    deadline : Deadline, optional
        The command's deadline (``Deadline.since_process_start(time_limit)``): it replaces ``time_limit``
        and counts what the command did before (start-up, reading); every solve gets the time it leaves
        less its margin, and a solve stopped by it returns what it found (issue 17, item 22).
    """
    backend = get_backend(solver)
    if deadline is None or deadline.at is None:
        deadline = Deadline.start(time_limit)
    assert deadline.at is not None and deadline.limit is not None
    time_limit = deadline.limit
    at = deadline.at - deadline.margin()  # the margin is kept to answer
    diag = Diagnosis(feasible=False, strict=strict)
    diag.data_issues = [f"{w.message} ({w.column})" for w in (warnings or [])]

    def left() -> float:
        return at - time.monotonic()

    def opts() -> SolveOptions:
        # the floor lets a nearly spent limit still try; the deadline caps it (the backends read it)
        return SolveOptions(time_limit=max(left(), MIN_SOLVE_SECONDS), mip_gap=1e-4, deadline=deadline)

    def feasible(drop: frozenset[Family]) -> bool | None:
        if left() <= 0:
            return None  # undecided: a deletion filter keeps the family, so a conflict stays a true one
        r = backend.solve(build_model(instance, strict=strict, drop=drop, feasibility=True).problem,
                          SolveOptions(time_limit=max(left(), MIN_SOLVE_SECONDS), deadline=deadline))
        if r.status is Status.INFEASIBLE:
            return False
        if r.status.has_solution:
            return True
        return None

    first = feasible(frozenset())
    if first:
        diag.feasible = True
        diag.notes.append("a plan exists with every hard clause met: nothing to relax")
        return diag
    if first is None:
        diag.notes.append(f"feasibility could not be decided within {time_limit:g} s")
    elastic = build_model(instance, strict=strict, elastic=True)
    if left() <= 0:
        diag.notes.append(f"the smallest relaxation was not sought: the time limit ({time_limit:g} s) ran out")
    else:
        res = backend.solve(elastic.problem, opts())
        if res.status.has_solution and res.x is not None:
            diag.relaxation = _relaxed(instance, elastic, res.x)
        else:
            diag.notes.append(f"the elastic model gave {res.status.value}: {res.message}")
    if find_conflicts and first is False:
        _conflicts_and_alternatives(instance, strict, diag, _families(elastic), feasible, left,
                                    lambda others, fam: _alone(instance, strict, others, fam, backend, opts()))
    if left() <= 0:
        diag.notes.append(f"the time limit ({time_limit:g} s for the whole diagnosis) ran out: conflicts and "
                          "alternatives may be incomplete (give --time-limit for more)")
    return diag



def _conflicts_and_alternatives(instance: Instance, strict: bool, diag: Diagnosis, families: list[Family],
                                feasible: Callable[[frozenset[Family]], bool | None], left: Callable[[], float],
                                alone: Callable[[frozenset[Family], Family], Any]) -> None:
    """Independent conflict sets (a deletion filter each), then within each one family giving way alone."""
    dropped: frozenset[Family] = frozenset()
    for _ in range(6):  # independent conflicts, one after the other
        if feasible(dropped) is not False:
            break
        core = _deletion_filter(families, dropped, feasible)
        if not core:
            break
        diag.conflicts.append(Conflict(tuple(core), _conflict_sentence(instance, core)))
        dropped = dropped | frozenset(core)
    # Alternatives: within each conflict, each family alone giving way (the other conflicts dropped).
    for i, conflict in enumerate(diag.conflicts):
        others = frozenset(f for j, c in enumerate(diag.conflicts) if j != i for f in c.families)
        for fam in conflict.families:
            if left() <= 0:
                break
            diag.alternatives += alone(others, fam)  # a horizon: one entry per year the family gives way

def _alone(instance: Instance, strict: bool, drop: frozenset[Family], fam: Family, backend, opts):  # type: ignore[no-untyped-def]
    """The smallest change of family ``fam`` alone that removes the conflict (empty if it cannot): one
    Relaxation, or on a horizon one per year its rows give way."""
    from solvers.base import MilpProblem

    model = build_model(instance, strict=strict, elastic=True, drop=drop)
    ub = model.problem.col_upper.copy()
    for rb in model.rows:
        if rb.soft and (rb.clause, rb.family) != fam:
            for d in (rb.dev_plus, rb.dev_minus):
                ub[d[d >= 0]] = 0.0  # every other family stays hard
    p = model.problem
    r = backend.solve(MilpProblem(p.c, p.A, p.row_lower, p.row_upper, p.col_lower, ub, p.integrality, p.sense),
                      opts)
    if not (r.status.has_solution and r.x is not None):
        return []
    return [x for x in _relaxed(instance, model, r.x) if (x.clause_id, x.family) == fam]


def _deletion_filter(families: list[Family], base_drop: frozenset[Family], feasible) -> list[Family]:  # type: ignore[no-untyped-def]
    """Irreducible infeasible subset of ``families`` (those not already dropped)."""
    candidates = [f for f in families if f not in base_drop]
    dropped = set(base_drop)
    core: list[Family] = []
    for fam in candidates:
        trial = frozenset(dropped | {fam})
        if feasible(trial) is False:
            dropped.add(fam)  # still infeasible without it: not needed for the conflict
        else:
            core.append(fam)  # needed (or undecided: kept, so the set stays a true conflict)
    return core


def _conflict_sentence(inst: Instance, core: list[Family]) -> str:
    parts = []
    for cid, fam in core:
        spec = BY_ID.get(cid)
        c = inst.clause(cid) or (inst.any_clause(cid) if inst.horizon is not None else None)
        paths = dict(c.paths) if c is not None and inst.horizon is not None else {}
        values = {**(dict(c.figures) if c else {}), **{k: pts[-1][1] for k, pts in paths.items()}}
        figs = ", ".join(_figure(k, v, paths.get(k)) for k, v in values.items() if "today" not in k)
        parts.append(f"{cid} [{fam}] ({spec.title if spec else ''}, §{spec.section if spec else '-'}: {figs})")
    return "These clauses cannot all hold: " + "; ".join(parts) + "."


def _figure(name: str, value: float, path: tuple[tuple[int, float], ...] | None) -> str:
    """``in_post 600`` or, for a horizon's year path, ``in_post 2024: 600, 2026: 1,200``."""
    if path:
        return f"{name} " + " / ".join(f"{y}: {v:,.6g}" for y, v in path)
    return f"{name} {value:,.6g}"


def format_diagnosis(d: Diagnosis) -> str:
    """The diagnosis as text for a terminal."""
    lines = []
    if d.feasible:
        lines.append("A plan exists with every hard clause met." if d.strict else "A plan exists.")
    else:
        lines.append("No plan satisfies every hard clause" + (" (every clause hard: --strict)." if d.strict else "."))
    if d.relaxation:
        lines += ["", "Smallest relaxation that makes a plan possible:"]
        lines += [f"  - {r.sentence}" for r in d.relaxation]
    if d.alternatives:
        lines += ["", "Alternatives (each family alone resolving the conflicts it is part of):"]
        lines += [f"  - {r.sentence}" for r in d.alternatives]
    if d.conflicts:
        lines += ["", "Conflicts (irreducible sets of clauses):"]
        lines += [f"  {i}. {c.sentence}" for i, c in enumerate(d.conflicts, 1)]
    if d.data_issues:
        lines += ["", "Data inconsistencies in the documents or data:"]
        lines += [f"  - {t}" for t in d.data_issues]
    if d.notes:
        lines += [""] + [f"note: {n}" for n in d.notes]
    return "\n".join(lines)
