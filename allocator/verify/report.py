"""What the verifier found: one :class:`Check` per row, the :class:`VerifyReport`, and its text form.

Three states of a row (:attr:`Check.state`):

* ``met``: the row holds (within tolerance) and what the plan says of it is true;
* ``broken (soft)``: a soft clause's row does not hold; the plan reports the deviation in the clause's
  unit and the report says it is broken.  It does not by itself fail the plan: soft clauses are the
  instance's choice to trade a clause against others, at a stated penalty;
* ``FAIL``: a hard row or an engine rule does not hold, or a figure the plan states (``clauses.csv``,
  ``summary.json``) differs from the verifier's recomputation.  Any FAIL fails the plan (exit 7).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from allocator.instance import BY_ID as CLAUSE_SPECS
from allocator.verify.tolerance import Tolerance, shortfall

__all__ = ["ENGINE_RULES", "Check", "Collector", "VerifyReport", "fmt", "format_report", "verdict_text"]

ENGINE_RULES: dict[str, str] = {
    "E1": "IN-POST: nobody in post is dismissed",
    "E2": "OPEN: a new station not built has no staff and no services",
    "E3": "PAYROLL: salary money covers the staff's base cost",
    "E4": "HOURS: service and coverage hours within staff hours",
    "E5": "SERVICE-GATE: need is covered only through an offered service",
    "E6": "SERVICE-COST: service money covers residents served and services run",
    "E7": "FACILITY-COST: facilities money covers the works done",
    "E8": "TRAINING-COST: training money covers every social worker",
    "E9": "ZONES-SUM: zones add up to the floor area after the plan",
    "E-BOUNDS": "bounds: 0 <= covered <= demand; areas and staff >= 0",
    "E-MONEY": "money by use >= 0",
    "E-INTEGER": "staff counts and yes/no decisions are integers",
    "E-DOMAIN": "a yes/no decision is set only where it exists",
    "E-TABLES": "derived columns agree with their parts and with the instance",
    "E-TOTALS": "summary.json figures agree with the tables",
    "E-OBJECTIVE": "summary.json objective agrees with the plan",
    "E-FILES": "the plan's files, columns and rows are present",
    "E-INSTANCE": "the plan was made for this instance (manifest.json instance_hash)",
    "E-ROSTER": "roster: every worker in post once, with their own type, station and level",
    "E-MOVES": "roster: workers moved within the move limit",
    "E-PACKAGES": "packages: each copy at most once, where eligible, at a station the plan opens",
    "E-DEPT": "packages: department budget and number of packages",
}

MET, BROKEN_SOFT, FAILED = "met", "broken (soft)", "FAIL"
# a hard row short where the plan had no choice (F-LOCAL-HIRE forced by staff in post); explained in the notes
FORCED = "short (forced)"


@dataclass
class Check:
    """One row checked: a clause row, an engine rule at a station, or a consistency check.

    Parameters
    ----------
    clause_id : str
        POLICY.md clause id (``A-SPLIT``) or engine rule (``E1`` ... ``E9``, ``E-TABLES``, ...).
    family : str
        Constraint family of the clause (``station``, ``total``, ``salaries``, ...).
    station_id : str or None
        Station (or county, for per-county rows); None for a total row.
    description : str
        What the row says, in words.
    value : float
        Left side as recomputed here.
    sense : str
        ``>=``, ``<=`` or ``=``.
    limit : float
        Right side as recomputed here.
    deviation_reported : float or None
        The deviation the plan's ``clauses.csv`` reports on the row (None: no row there).
    ok : bool
        The verdict: False fails the plan.
    message : str
        Why, with the numbers.
    unit : str
        Unit of value, limit and deviation.
    mode : str
        ``hard`` or ``soft`` (as the instance states it).
    shortfall : float
        How far the plan is from satisfying the row, as computed here (0 when it holds).
    held : bool
        The row itself holds within tolerance (a soft row may be ``ok`` and not held: broken, reported).
    """

    clause_id: str
    family: str
    station_id: str | None
    description: str
    value: float
    sense: str
    limit: float
    deviation_reported: float | None
    ok: bool
    message: str
    unit: str = ""
    mode: str = "hard"
    shortfall: float = 0.0
    held: bool = True

    @property
    def state(self) -> str:
        """``met``, ``broken (soft)``, ``short (forced)`` or ``FAIL``."""
        if not self.ok:
            return FAILED
        if self.held:
            return MET
        return BROKEN_SOFT if self.mode == "soft" else FORCED

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON-ready data (NaN as None)."""
        out = {k: _json_value(v) for k, v in asdict(self).items()}
        out["state"] = self.state
        return out


@dataclass
class VerifyReport:
    """Everything :func:`allocator.verify.verify_plan` found.

    Parameters
    ----------
    instance : str
        Instance name.
    plan_dir : str
        The plan directory checked.
    checks : list of Check
        One per row checked.
    notes : list of str
        Remarks that do not fail the plan (rows the verifier does not derive, figures missing,
        places where the formulation is silent).
    input_error : str or None
        Set when ``plan_dir`` is not a plan at all (missing, empty, not written by the engine, or a
        solve that found no plan): bad input, exit 2 in the CLI, rather than a plan that fails.
    instance_check : dict or None
        ``{"plan": hash in manifest.json, "instance": hash of the instance given, "match": bool}``
        when the caller passed the instance's hash.
    warnings : list of str
        Lines printed at the top of the text report (e.g. a plan made for another instance).
    """

    instance: str
    plan_dir: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    input_error: str | None = None
    instance_check: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passes (soft clauses may be broken, with their deviation reported)."""
        return self.input_error is None and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The checks that fail."""
        return [c for c in self.checks if not c.ok]

    @property
    def broken_soft(self) -> list[Check]:
        """Soft rows that do not hold (deviation reported truthfully)."""
        return [c for c in self.checks if c.ok and not c.held and c.mode == "soft"]

    def clause_ids(self, failed_only: bool = False) -> set[str]:
        """Clause ids checked (or only those with a failing row).

        Parameters
        ----------
        failed_only : bool
            Only ids with at least one failing check.

        Returns
        -------
        set of str
        """
        return {c.clause_id for c in self.checks if not (failed_only and c.ok)}

    def families(self) -> list[dict[str, Any]]:
        """One entry per (clause, family): mode, rows, failed, state and the deviation in its unit."""
        out = []
        for (cid, fam), rows in sorted(_groups(self.checks).items()):
            short = [r.shortfall for r in rows if not r.held and math.isfinite(r.shortfall)]
            out.append({"clause_id": cid, "family": fam, "mode": rows[0].mode, "rows": len(rows),
                        "failed": sum(not r.ok for r in rows), "broken": sum(not r.held for r in rows),
                        "state": _family_state(rows), "deviation": float(sum(short)), "unit": rows[0].unit})
        return out

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data: verdict, counts by clause family, checks and notes."""
        return {
            "ok": self.ok,
            "instance": self.instance,
            "plan_dir": self.plan_dir,
            "input_error": self.input_error,
            "instance_check": self.instance_check,
            "warnings": list(self.warnings),
            "checked": len(self.checks),
            "failed": len(self.failures),
            "soft_broken": len(self.broken_soft),
            "families": self.families(),
            "failures": [c.to_dict() for c in self.failures],
            "checks": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
        }


def _groups(checks: list[Check]) -> dict[tuple[str, str], list[Check]]:
    groups: dict[tuple[str, str], list[Check]] = defaultdict(list)
    for c in checks:
        groups[(c.clause_id, c.family)].append(c)
    return groups


def _family_state(rows: list[Check]) -> str:
    if any(not r.ok for r in rows):
        return FAILED
    if all(r.held for r in rows):
        return MET
    return BROKEN_SOFT if rows[0].mode == "soft" else FORCED


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def fmt(x: float | None) -> str:
    """A number for a person: thousands separated, integers without decimals."""
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    if abs(x - round(x)) < 1e-9 and abs(x) < 1e15:
        return f"{int(round(x)):,}"
    if abs(x) >= 100:
        return f"{x:,.2f}"
    return f"{x:.6g}"


def verdict_text(value: float, sense: str, limit: float, short: float, unit: str, ok: bool) -> str:
    """``ok: 3 >= 2 workers`` or ``FAIL: 1 >= 2 workers (off by 1 workers)``."""
    head = "ok" if ok else "FAIL"
    text = f"{head}: {fmt(value)} {sense} {fmt(limit)} {unit}".rstrip()
    if short > 0 and math.isfinite(short):
        text += f" (off by {fmt(short)} {unit})".replace(" )", ")")
    return text


class Collector:
    """Collects checks and notes while reading and verifying."""

    def __init__(self, tol: Tolerance):
        self.tol = tol
        self.checks: list[Check] = []
        self.notes: list[str] = []

    def fail(self, clause_id: str, family: str, station: str | None, description: str, message: str,
             value: float = math.nan, sense: str = "=", limit: float = math.nan, unit: str = "") -> None:
        """Record a failed check that has no numbers to compare (or whose numbers are given)."""
        self.checks.append(Check(clause_id, family, station, description, value, sense, limit, None, False,
                                 message, unit, "hard", math.nan, False))

    def compare(self, clause_id: str, family: str, station: str | None, description: str, value: float,
                sense: str, limit: float, unit: str, *, only_failures: bool = False, slack: float = 0.0) -> bool:
        """An engine or consistency check (always hard). Returns its verdict.

        ``slack`` widens the tolerance, for figures written rounded (``summary.json`` rounds coverage
        to 0.1 resident).
        """
        value, limit = float(value), float(limit)
        short = shortfall(value, sense, limit)
        ok = short <= self.tol.of(unit, limit) + slack
        if ok and only_failures:
            return True
        msg = verdict_text(value, sense, limit, short, unit, ok)
        self.checks.append(Check(clause_id, family, station, description, value, sense, limit, None, ok, msg,
                                 unit, "hard", short, ok))
        return ok


def _title(cid: str) -> str:
    spec = CLAUSE_SPECS.get(cid)
    if spec is not None:
        return f"{spec.title} (§{spec.section})"
    return ENGINE_RULES.get(cid, "")


def _numbers(rows: list[Check]) -> str:
    if len(rows) == 1 and not (math.isfinite(rows[0].value) and math.isfinite(rows[0].limit)):
        return rows[0].message
    if len(rows) == 1:
        r = rows[0]
        nums = f"{fmt(r.value)} {r.sense} {fmt(r.limit)} {r.unit}"
        if r.mode == "soft":
            nums += f", deviation {fmt(r.deviation_reported or 0.0)} (actual {fmt(r.shortfall)})"
        return nums
    short = [r.shortfall for r in rows if math.isfinite(r.shortfall)]
    dev = sum((r.deviation_reported or 0.0) for r in rows)
    nums = f"worst shortfall {fmt(max(short) if short else 0.0)} {rows[0].unit}"
    if rows[0].mode == "soft":
        nums += f", deviation {fmt(dev)} (actual {fmt(sum(short))})"
    return nums


def format_report(report: VerifyReport, *, max_rows: int = 20) -> str:
    """The report for a terminal: verdict, failures first, soft clauses broken, then every clause family.

    Parameters
    ----------
    report : VerifyReport
        From :func:`allocator.verify.verify_plan`.
    max_rows : int
        Failing rows printed per clause family (the rest are counted).

    Returns
    -------
    str
    """
    fails = report.failures
    verdict = "PASS" if report.ok else "FAIL"
    groups = _groups(report.checks)
    soft = {k: rows for k, rows in groups.items() if _family_state(rows) == BROKEN_SOFT}
    lines = [f"verify {report.plan_dir} against '{report.instance}': {verdict} "
             f"({len(report.checks)} checks, {len(soft)} soft clause famil{'y' if len(soft) == 1 else 'ies'} "
             f"broken, {len(fails)} failed)"]
    lines += [f"WARNING: {w}" for w in report.warnings]
    if report.input_error:
        lines.append(f"ERROR: {report.input_error}")
    if fails:
        lines += ["", "FAILURES"]
        for (cid, fam), rows in sorted(groups.items()):
            bad = [r for r in rows if not r.ok]
            if not bad:
                continue
            lines.append(f"  {cid} [{fam}] {bad[0].mode}: {len(bad)} of {len(rows)} row(s) fail -- {_title(cid)}")
            for r in bad[:max_rows]:
                where = f"{r.station_id}: " if r.station_id else ""
                lines.append(f"    x {where}{r.description}: {r.message}")
            if len(bad) > max_rows:
                lines.append(f"    ... {len(bad) - max_rows} more")
    if soft:
        lines += ["", "SOFT CLAUSES BROKEN (deviation reported in the clause's unit; they do not fail the plan)"]
        for (cid, fam), rows in sorted(soft.items()):
            broken = [r for r in rows if not r.held]
            dev = sum(r.shortfall for r in broken if math.isfinite(r.shortfall))
            lines.append(f"  {cid} [{fam}]: broken at {len(broken)} of {len(rows)} row(s), deviation "
                         f"{fmt(dev)} {rows[0].unit} -- {_title(cid)}")
    lines += ["", "CLAUSES", f"  {'state':<14}{'clause':<17} {'family':<16} {'mode':<5} {'rows':>5} {'fail':>5}  "
              "numbers"]
    order = {FAILED: 0, BROKEN_SOFT: 1, FORCED: 2, MET: 3}
    for (cid, fam), rows in sorted(groups.items(), key=lambda kv: (order[_family_state(kv[1])], kv[0])):
        nfail = sum(not r.ok for r in rows)
        lines.append(f"  {_family_state(rows):<14}{cid:<17} {fam:<16} {rows[0].mode:<5} {len(rows):>5} {nfail:>5}  "
                     f"{_numbers(rows)}")
    if report.notes:
        lines += ["", "NOTES"]
        lines += [f"  - {n}" for n in report.notes]
    return "\n".join(lines)
