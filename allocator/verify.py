"""The independent verifier: re-check a written plan against its instance, clause by clause.

A plan directory (what ``allocator solve --out DIR`` writes) is read back and every engine
rule (E1-E9 of :mod:`allocator.model`'s formulation) and every clause row (C1-C36) is
recomputed here from the plan's tables and the instance, with this module's own arithmetic.
Nothing is shared with the model builder or the plan writer: this module imports neither
``allocator.model`` nor ``allocator.plan`` nor ``solvers``; it reads only the instance
(:mod:`allocator.instance`, loaded by :func:`allocator.instance.load`) and the clause registry
(:mod:`allocator.instance.policy`, for titles and sections).

The plan's ``clauses.csv`` is used for two things only: the deviation it reports on each row
of a soft family (compared with the shortfall computed here) and the mode it states.  Its
``value`` and ``limit`` columns are never trusted.

Rules of the verdict
--------------------
* hard row: passes when the plan satisfies it within tolerance (and reports no deviation);
* soft row: passes when the deviation the plan reports equals, within tolerance, the shortfall
  computed here (so the row holds once the deviation is added, and nothing is understated);
* engine rules and plan hygiene (always hard): ``E1``-``E9`` as in the formulation, plus
  ``E-BOUNDS`` (0 <= covered <= demand, areas >= 0, staff >= 0), ``E-MONEY`` (money >= 0),
  ``E-INTEGER`` (counts and binaries integral), ``E-DOMAIN`` (a binary set only where the
  decision exists), ``E-TABLES`` (derived columns agree with their parts and with the
  instance), ``E-TOTALS`` (summary.json totals agree with the tables), ``E-OBJECTIVE`` (the
  reported objective agrees with the plan, where the objective is defined in the formulation),
  ``E-FILES`` (the plan's files and rows are there).

Assignments
-----------
:func:`verify_assignment` re-checks what ``allocator assign --out DIR`` writes (the roster, the
hiring list, the package placements) against the instance and the plan, sharing no code with
:mod:`allocator.assign` either: ``E1`` [roster] (every worker in post on the roster, once),
``E-ROSTER`` (type, station and level of origin as the staff table says; nobody below their
level), the certification clause in force (``F-CERT-RATE``, ``A-CERT-RATE`` or ``A-CERT-MIN``;
a certified / intermediate post held at that level or with the upgrade listed), ``F-HIRING``
[posts] (workers placed + hires = posts, per station and post), ``E2`` [roster], ``E-MOVES``
(the move limit recorded in assignment.json), ``F-LOCAL-HIRE`` [hires] and [station] at rural
stations, ``E-PACKAGES``, ``E4`` [packages] (spare staff hours), ``E-DEPT`` (department budget
and count), and ``E-TOTALS``/``E-TABLES`` for assignment.json and the hiring costs.  ``allocator
verify INSTANCE PLAN_DIR --assignment DIR`` adds them to the plan's report (exit 7 on a failure).

Tolerances (:class:`Tolerance`): money +-(1 yuan + 1e-6 relative); residents, households,
m2 and hours +-max(1e-3, 1e-6 |limit|); counts (staff, workers, services, stations) exact
after rounding, i.e. +-1e-6 for float noise on a fractional right-hand side.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import BY_ID as CLAUSE_SPECS
from allocator.instance import Instance

__all__ = ["Check", "Tolerance", "VerifyReport", "format_report", "verify_assignment", "verify_plan"]

MONEY_UNITS = frozenset({"yuan"})
COUNT_UNITS = frozenset({"staff", "workers", "volunteers", "services", "stations"})

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
    "E-TOTALS": "summary.json totals agree with the tables",
    "E-OBJECTIVE": "summary.json objective agrees with the plan",
    "E-FILES": "the plan's files, columns and rows are present",
    "E-ROSTER": "roster: every worker in post once, with their own type, station and level",
    "E-MOVES": "roster: workers moved within the move limit",
    "E-PACKAGES": "packages: each copy at most once, where eligible, at a station the plan opens",
    "E-DEPT": "packages: department budget and number of packages",
}

STAFF_COLUMNS = ("admin", "sw_certified_assistant", "sw_certified_intermediate", "sw_uncertified",
                 "social_workers", "certified", "volunteers", "total_staff")
BUDGET_COLUMNS = ("facilities", "salaries", "services", "training", "total")
MONEY_USES = ("facilities", "salaries", "services", "training")
STATION_COLUMNS = ("active", "built", "one_stop", "one_stop_upgrade", "renovated", "access_retrofit", "demo",
                   "floor_area_before", "floor_area_added", "floor_area_after")
ZONE_COLUMNS = ("zone_admin_m2", "zone_service_m2", "zone_activity_m2", "zone_flex_m2")
BINARY_COLUMNS = ("active", "built", "one_stop", "one_stop_upgrade", "renovated", "access_retrofit", "demo")
ZONING_CLAUSES = ("A-ZONES", "A-FLEX", "F-AREA")
REQUIRED_FILES = ("staff.csv", "budget.csv", "services.csv", "coverage.csv", "stations.csv", "clauses.csv",
                  "summary.json")
CLAUSE_COLUMNS = ("clause_id", "family", "station_id", "mode", "value", "sense", "limit", "deviation", "unit")


# ---------------------------------------------------------------------------
# public data
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Tolerance:
    """How far a number may be from its limit and still count as equal.

    Parameters
    ----------
    money_abs, money_rel : float
        Money rows (yuan): ``money_abs + money_rel * |limit|``.
    quantity_abs, quantity_rel : float
        Residents, households, m2, hours: ``max(quantity_abs, quantity_rel * |limit|)``.
    count_abs : float
        Counts (staff, workers, services, stations) are integers; only float noise on a
        fractional right-hand side is forgiven.
    integrality : float
        How far a count or yes/no value in a table may be from an integer.
    """

    money_abs: float = 1.0
    money_rel: float = 1e-6
    quantity_abs: float = 1e-3
    quantity_rel: float = 1e-6
    count_abs: float = 1e-6
    integrality: float = 1e-6

    def of(self, unit: str, limit: float) -> float:
        """The tolerance of a row in ``unit`` whose right-hand side is ``limit``.

        Parameters
        ----------
        unit : str
            The row's unit (``yuan``, ``residents``, ``workers``, ...).
        limit : float
            The row's right-hand side (or the reference value).

        Returns
        -------
        float
            The largest difference that still counts as equal.
        """
        mag = abs(limit) if math.isfinite(limit) else 0.0
        if unit in MONEY_UNITS:
            return self.money_abs + self.money_rel * mag
        if unit in COUNT_UNITS:
            return max(self.count_abs, 1e-9 * mag)
        return max(self.quantity_abs, self.quantity_rel * mag)


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
        The verdict.
    message : str
        Why, with the numbers.
    unit : str
        Unit of value, limit and deviation.
    mode : str
        ``hard`` or ``soft`` (as the instance states it).
    shortfall : float
        How far the plan is from satisfying the row, as computed here (0 when it holds).
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

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON-ready data (NaN as None)."""
        return {k: _json_value(v) for k, v in asdict(self).items()}


@dataclass
class VerifyReport:
    """Everything :func:`verify_plan` found.

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
    """

    instance: str
    plan_dir: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passes."""
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The checks that fail."""
        return [c for c in self.checks if not c.ok]

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

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data: verdict, counts by clause family, checks and notes."""
        groups: dict[tuple[str, str], list[Check]] = defaultdict(list)
        for c in self.checks:
            groups[(c.clause_id, c.family)].append(c)
        summary = [{"clause_id": cid, "family": fam, "mode": rows[0].mode, "rows": len(rows),
                    "failed": sum(not r.ok for r in rows)} for (cid, fam), rows in sorted(groups.items())]
        return {
            "ok": self.ok,
            "instance": self.instance,
            "plan_dir": self.plan_dir,
            "checked": len(self.checks),
            "failed": len(self.failures),
            "families": summary,
            "failures": [c.to_dict() for c in self.failures],
            "checks": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
        }


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# ---------------------------------------------------------------------------
# reading the plan
# ---------------------------------------------------------------------------
@dataclass
class _Plan:
    """The plan's tables as arrays in the instance's station / group / service order."""

    staff: dict[str, np.ndarray]
    money: dict[str, np.ndarray]
    offered: np.ndarray            # stations x services
    kind_written: dict[tuple[int, int], str]
    covered: np.ndarray            # stations x groups
    demand_written: np.ndarray     # stations x groups (nan when missing)
    st: dict[str, np.ndarray]
    zones_present: bool
    clauses: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any] | None


class _Collector:
    """Collects checks and notes while reading and verifying."""

    def __init__(self, tol: Tolerance):
        self.tol = tol
        self.checks: list[Check] = []
        self.notes: list[str] = []

    def fail(self, clause_id: str, family: str, station: str | None, description: str, message: str,
             value: float = math.nan, sense: str = "=", limit: float = math.nan, unit: str = "") -> None:
        self.checks.append(Check(clause_id, family, station, description, value, sense, limit, None, False,
                                 message, unit, "hard", math.nan))

    def compare(self, clause_id: str, family: str, station: str | None, description: str, value: float,
                sense: str, limit: float, unit: str, *, only_failures: bool = False) -> bool:
        """An engine or consistency check (always hard). Returns its verdict."""
        value, limit = float(value), float(limit)
        short = _shortfall(value, sense, limit)
        ok = short <= self.tol.of(unit, limit)
        if ok and only_failures:
            return True
        msg = _verdict_text(value, sense, limit, short, unit, ok)
        self.checks.append(Check(clause_id, family, station, description, value, sense, limit, None, ok, msg,
                                 unit, "hard", short))
        return ok


def _shortfall(value: float, sense: str, limit: float) -> float:
    if not (math.isfinite(value) and math.isfinite(limit)):
        return math.inf
    if sense == ">=":
        return max(0.0, limit - value)
    if sense == "<=":
        return max(0.0, value - limit)
    return abs(value - limit)


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    if abs(x - round(x)) < 1e-9 and abs(x) < 1e15:
        return f"{int(round(x)):,}"
    if abs(x) >= 100:
        return f"{x:,.2f}"
    return f"{x:.6g}"


def _verdict_text(value: float, sense: str, limit: float, short: float, unit: str, ok: bool) -> str:
    head = "ok" if ok else "FAIL"
    text = f"{head}: {_fmt(value)} {sense} {_fmt(limit)} {unit}".rstrip()
    if short > 0 and math.isfinite(short):
        text += f" (off by {_fmt(short)} {unit})".replace(" )", ")")
    return text


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"station_id": str, "service_id": str, "group": str, "clause_id": str,
                                    "family": str, "mode": str, "sense": str, "unit": str, "kind": str})


def _station_frame(col: _Collector, df: pd.DataFrame, file: str, ids: np.ndarray,
                   columns: tuple[str, ...]) -> pd.DataFrame | None:
    """Index a per-station table by the instance's stations; record missing/extra/duplicate rows."""
    missing_cols = [c for c in ("station_id", *columns) if c not in df.columns]
    if missing_cols:
        col.fail("E-FILES", "columns", None, f"{file} has every column",
                 f"FAIL: {file} lacks column(s) {', '.join(missing_cols)}")
        return None
    sid = df["station_id"].astype(str)
    dup = sid[sid.duplicated()].unique()
    if len(dup):
        col.fail("E-FILES", "rows", None, f"{file}: one row per station",
                 f"FAIL: {file} repeats station(s) {', '.join(map(str, dup[:10]))}")
        df = df[~sid.duplicated()]
        sid = df["station_id"].astype(str)
    known = set(ids.tolist())
    extra = sorted(set(sid) - known)
    if extra:
        col.fail("E-FILES", "rows", None, f"{file}: stations of the instance only",
                 f"FAIL: {file} has station(s) not in the instance: {', '.join(extra[:10])}")
    absent = [s for s in ids if s not in set(sid)]
    if absent:
        col.fail("E-FILES", "rows", None, f"{file}: a row for every station",
                 f"FAIL: {file} has no row for station(s) {', '.join(map(str, absent[:10]))} (read as 0)")
    out = df.set_index(sid).reindex(ids)
    return out


def _numeric(col: _Collector, frame: pd.DataFrame, name: str, file: str, fill: float = 0.0) -> np.ndarray:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & frame.index.notna()
    written = frame[name].notna().to_numpy()
    if np.any(bad & written):
        rows = frame.index[bad & written]
        col.fail("E-FILES", "values", None, f"{file}.{name} is numeric",
                 f"FAIL: {file} column {name} is not a number at {', '.join(map(str, rows[:10]))}")
    return np.where(np.isnan(values), fill, values)


def _read_plan(inst: Instance, plan_dir: Path, col: _Collector) -> _Plan | None:
    missing = [f for f in REQUIRED_FILES if not (plan_dir / f).is_file()]
    if missing:
        status = ""
        if (plan_dir / "summary.json").is_file():
            with contextlib.suppress(ValueError):
                status = str(json.loads((plan_dir / "summary.json").read_text(encoding="utf-8")).get("status", ""))
        col.fail("E-FILES", "files", None, "the plan's files are present",
                 f"FAIL: {plan_dir} lacks {', '.join(missing)}"
                 + (f" (summary.json status: {status}: there is no plan to verify)" if status else ""))
        return None
    ids = np.asarray(inst.stations["station_id"], dtype=object).astype(str)
    S, G, K = len(ids), len(inst.group_ids), len(inst.services)
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    manifest = None
    if (plan_dir / "manifest.json").is_file():
        manifest = json.loads((plan_dir / "manifest.json").read_text(encoding="utf-8"))

    staff_df = _station_frame(col, _read_csv(plan_dir / "staff.csv"), "staff.csv", ids, STAFF_COLUMNS)
    budget_df = _station_frame(col, _read_csv(plan_dir / "budget.csv"), "budget.csv", ids, BUDGET_COLUMNS)
    st_raw = _read_csv(plan_dir / "stations.csv")
    zone_cols_there = all(c in st_raw.columns for c in ZONE_COLUMNS)
    st_df = _station_frame(col, st_raw, "stations.csv", ids, STATION_COLUMNS)
    if staff_df is None or budget_df is None or st_df is None:
        return None
    staff = {c: _numeric(col, staff_df, c, "staff.csv") for c in STAFF_COLUMNS}
    money = {c: _numeric(col, budget_df, c, "budget.csv") for c in BUDGET_COLUMNS}
    st = {c: _numeric(col, st_df, c, "stations.csv") for c in STATION_COLUMNS}
    zones_present = False
    if zone_cols_there:
        zvals = {c: pd.to_numeric(st_df[c], errors="coerce").to_numpy(dtype=float) for c in ZONE_COLUMNS}
        zones_present = any(np.any(~np.isnan(v)) for v in zvals.values())
        for c, v in zvals.items():
            st[c] = v

    # services: one row per station x service
    sv = _read_csv(plan_dir / "services.csv")
    offered = np.zeros((S, K))
    kind_written: dict[tuple[int, int], str] = {}
    need = ("station_id", "service_id", "offered")
    if any(c not in sv.columns for c in need):
        col.fail("E-FILES", "columns", None, "services.csv has every column",
                 f"FAIL: services.csv lacks one of {', '.join(need)}")
    else:
        si = pd.Index(ids).get_indexer(sv["station_id"].astype(str))
        ki = pd.Index(np.asarray(inst.services["service_id"]).astype(str)).get_indexer(sv["service_id"].astype(str))
        unknown = (si < 0) | (ki < 0)
        if unknown.any():
            col.fail("E-FILES", "rows", None, "services.csv: stations and services of the instance only",
                     f"FAIL: services.csv has {int(unknown.sum())} row(s) naming an unknown station or service")
        vals = pd.to_numeric(sv["offered"], errors="coerce").to_numpy(dtype=float)
        seen = np.zeros((S, K), dtype=int)
        good = ~unknown
        np.add.at(seen, (si[good], ki[good]), 1)
        offered[si[good], ki[good]] = np.nan_to_num(vals[good])
        if (seen == 0).any():
            n = int((seen == 0).sum())
            col.fail("E-FILES", "rows", None, "services.csv: one row per station x service",
                     f"FAIL: services.csv lacks {n} station x service pair(s) (read as not offered)")
        if (seen > 1).any():
            col.fail("E-FILES", "rows", None, "services.csv: one row per station x service",
                     f"FAIL: services.csv repeats {int((seen > 1).sum())} station x service pair(s)")
        if "kind" in sv.columns:
            for a, b, k in zip(si[good], ki[good], sv["kind"].astype(str).to_numpy()[good], strict=True):
                kind_written[(int(a), int(b))] = k

    # coverage: station x group
    cv = _read_csv(plan_dir / "coverage.csv")
    covered = np.zeros((S, G))
    demand_written = np.full((S, G), np.nan)
    need_cv = ("station_id", "group", "demand", "covered")
    if any(c not in cv.columns for c in need_cv):
        col.fail("E-FILES", "columns", None, "coverage.csv has every column",
                 f"FAIL: coverage.csv lacks one of {', '.join(need_cv)}")
    else:
        si = pd.Index(ids).get_indexer(cv["station_id"].astype(str))
        gi = pd.Index(list(inst.group_ids)).get_indexer(cv["group"].astype(str))
        unknown = (si < 0) | (gi < 0)
        if unknown.any():
            col.fail("E-FILES", "rows", None, "coverage.csv: stations and groups of the instance only",
                     f"FAIL: coverage.csv has {int(unknown.sum())} row(s) naming an unknown station or group")
        good = ~unknown
        seen = np.zeros((S, G), dtype=int)
        np.add.at(seen, (si[good], gi[good]), 1)
        if (seen > 1).any():
            col.fail("E-FILES", "rows", None, "coverage.csv: one row per station x group",
                     f"FAIL: coverage.csv repeats {int((seen > 1).sum())} station x group pair(s)")
        covered[si[good], gi[good]] = np.nan_to_num(pd.to_numeric(cv["covered"], errors="coerce")
                                                    .to_numpy(dtype=float)[good])
        demand_written[si[good], gi[good]] = pd.to_numeric(cv["demand"], errors="coerce").to_numpy(dtype=float)[good]

    clauses = _read_csv(plan_dir / "clauses.csv")
    if any(c not in clauses.columns for c in CLAUSE_COLUMNS):
        col.fail("E-FILES", "columns", None, "clauses.csv has every column",
                 f"FAIL: clauses.csv lacks one of {', '.join(CLAUSE_COLUMNS)}")
        clauses = pd.DataFrame({c: pd.Series(dtype=object) for c in CLAUSE_COLUMNS})
    return _Plan(staff, money, offered, kind_written, covered, demand_written, st, zones_present, clauses,
                 summary, manifest)


# ---------------------------------------------------------------------------
# clause rows
# ---------------------------------------------------------------------------
@dataclass
class _Row:
    clause_id: str
    family: str
    station: str | None
    description: str
    value: float
    sense: str
    limit: float
    unit: str
    mode: str


class _Verifier:
    """Derives every row from the instance and the plan's tables."""

    def __init__(self, inst: Instance, plan: _Plan, col: _Collector):
        self.inst, self.plan, self.col = inst, plan, col
        self.tol = col.tol
        st = inst.stations
        self.ids = np.asarray(st["station_id"], dtype=object).astype(str)
        self.S = len(self.ids)
        self.status = np.asarray(st["status"]).astype(str)
        self.urban = np.asarray(st["area_type"]).astype(str) == "urban"
        self.county = np.asarray(st["county"]).astype(str)
        self.pop = np.asarray(st["population"], dtype=float)
        self.hh = np.asarray(st["households"], dtype=float)
        self.area = np.asarray(st["floor_area_m2"], dtype=float)
        self.age = np.asarray(st["building_age_years"], dtype=float) if "building_age_years" in st else \
            np.full(self.S, np.nan)
        self.one_stop_today = np.asarray(st["one_stop"], dtype=bool) if "one_stop" in st else np.zeros(self.S, bool)
        self.accessible = np.asarray(st["accessible"], dtype=bool) if "accessible" in st else np.ones(self.S, bool)
        self.zone_today = {
            "admin": self.area * (np.asarray(st["zone_admin"], dtype=float) if "zone_admin" in st else 0.0),
            "service": self.area * (np.asarray(st["zone_service"], dtype=float) if "zone_service" in st else 0.0),
            "activity": self.area * (np.asarray(st["zone_activity"], dtype=float) if "zone_activity" in st else 0.0),
        }
        self.kinds = np.asarray(inst.services["kind"]).astype(str)
        self.service_ids = np.asarray(inst.services["service_id"]).astype(str)
        self.demand = np.asarray(inst.residents, dtype=float) * np.array([g.need_share for g in inst.groups])
        self.rows: list[_Row] = []
        # strict=True (summary.json or the manifest's options) makes every family hard
        options = (plan.manifest or {}).get("options") or {}
        self.strict = bool(plan.summary.get("strict", options.get("strict", False)))

        # the plan's decisions, rounded where they are integers
        p = plan
        r = np.round
        self.adm = r(p.staff["admin"])
        self.swa = r(p.staff["sw_certified_assistant"])
        self.swi = r(p.staff["sw_certified_intermediate"])
        self.swu = r(p.staff["sw_uncertified"])
        self.vol = r(p.staff["volunteers"])
        self.sw = self.swa + self.swi + self.swu
        self.cert = self.swa + self.swi
        self.total_staff = self.adm + self.sw + self.vol
        self.fac, self.sal = p.money["facilities"], p.money["salaries"]
        self.svc, self.trn = p.money["services"], p.money["training"]
        self.ops = self.sal + self.svc + self.trn
        self.y = r(p.offered)
        self.x = p.covered
        self.built = r(p.st["built"])
        is_new = self.status == "new"
        self.is_new = is_new
        self.act = np.where(is_new, self.built, 1.0)
        self.onestop = r(p.st["one_stop_upgrade"])
        self.reno = r(p.st["renovated"])
        self.access = r(p.st["access_retrofit"])
        self.demo = r(p.st["demo"])
        self.expand = p.st["floor_area_added"]
        self.area_after = self.area + self.expand

        # in post today
        sf = inst.staff
        s_index = pd.Index(self.ids).get_indexer(np.asarray(sf["station_id"]).astype(str))
        types = np.asarray(sf["type"]).astype(str)
        cert = np.asarray(sf["certified"], dtype=bool)
        level = np.asarray(sf["level"]).astype(str)
        self.years = np.asarray(sf["years_of_service"], dtype=float)

        def count(mask: np.ndarray) -> np.ndarray:
            out = np.zeros(self.S)
            np.add.at(out, s_index[mask & (s_index >= 0)], 1.0)
            return out

        self.post_sw = count(types == "social_worker")
        self.post_cert = count((types == "social_worker") & cert)
        self.post_int = count((types == "social_worker") & (level == "intermediate"))
        self.post_adm = count(types == "admin")
        self.post_vol = count(types == "volunteer")
        self._count = count
        self._staff_types = types

    # --- helpers -----------------------------------------------------------
    def row(self, cid: str, family: str, station: str | None, description: str, value: float, sense: str,
            limit: float, unit: str) -> None:
        c = self.inst.clause(cid)
        mode = c.mode(family) if c is not None and not self.strict else "hard"
        self.rows.append(_Row(cid, family, station, description, float(value), sense, float(limit), unit, mode))

    def station_rows(self, cid: str, family: str, description: str, value: np.ndarray, sense: str,
                     limit: np.ndarray | float, unit: str, mask: np.ndarray | None = None) -> None:
        limit = np.broadcast_to(np.asarray(limit, dtype=float), (self.S,))
        for s in range(self.S):
            if mask is None or mask[s]:
                self.row(cid, family, self.ids[s], description, value[s], sense, limit[s], unit)

    def figure(self, cid: str, name: str, *, any_state: bool = False) -> float | None:
        c = self.inst.clause(cid) if not any_state else self.inst.any_clause(cid)
        if c is None:
            return None
        v = c.figures.get(name)
        return None if v is None else float(v)

    def missing(self, cid: str, family: str, figure: str) -> None:
        self.col.notes.append(f"{cid} [{family}] not checked: the instance gives no figure '{figure}'")

    def base(self, t: str) -> float:
        return float(self.inst.staff_type(t).annual_cost)

    def hours(self, t: str) -> float:
        return float(self.inst.staff_type(t).hours_per_year)

    # --- plan hygiene ------------------------------------------------------
    def hygiene(self) -> None:
        col, p, tol = self.col, self.plan, self.tol
        ints = {f"staff.csv:{c}": p.staff[c] for c in STAFF_COLUMNS}
        ints.update({f"stations.csv:{c}": p.st[c] for c in BINARY_COLUMNS})
        for name, v in ints.items():
            bad = np.abs(v - np.round(v)) > tol.integrality
            for s in np.flatnonzero(bad).tolist():
                col.fail("E-INTEGER", name.split(":")[1], self.ids[s], f"{name} is an integer",
                         f"FAIL: {name} = {v[s]!r} at {self.ids[s]} is not an integer", v[s], "=", round(v[s]))
        bad = np.abs(p.offered - np.round(p.offered)) > tol.integrality
        for s, k in zip(*(a.tolist() for a in np.nonzero(bad)), strict=True):
            col.fail("E-INTEGER", "offered", self.ids[s], "services.csv:offered is 0 or 1",
                     f"FAIL: offered = {p.offered[s, k]!r} for {self.service_ids[k]} at {self.ids[s]}")
        for name, v in [(c, np.round(p.st[c])) for c in BINARY_COLUMNS] + [("offered", self.y)]:
            bad = (v != 0) & (v != 1)
            for idx in zip(*(a.tolist() for a in np.nonzero(bad)), strict=True):
                col.fail("E-INTEGER", name, self.ids[idx[0]], f"{name} is 0 or 1",
                         f"FAIL: {name} = {v[idx]:g} at {self.ids[idx[0]]}", float(v[idx]), "=", 1.0)

        # bounds
        for c in ("admin", "sw_certified_assistant", "sw_certified_intermediate", "sw_uncertified", "volunteers"):
            for s in np.flatnonzero(p.staff[c] < 0).tolist():
                col.compare("E-BOUNDS", c, self.ids[s], f"{c} >= 0", p.staff[c][s], ">=", 0.0, "staff")
        for s, g in zip(*(a.tolist() for a in np.nonzero(self.x < -tol.quantity_abs)), strict=True):
            col.compare("E-BOUNDS", self.inst.group_ids[g], self.ids[s], "covered >= 0", self.x[s, g], ">=", 0.0,
                        "residents")
        for s in range(self.S):
            for g, gid in enumerate(self.inst.group_ids):
                col.compare("E-BOUNDS", gid, self.ids[s], f"covered {gid} <= demand", self.x[s, g], "<=",
                            self.demand[s, g], "residents", only_failures=True)
        for s in np.flatnonzero(self.expand < 0).tolist():
            col.compare("E-BOUNDS", "floor_area_added", self.ids[s], "floor area added >= 0", self.expand[s], ">=",
                        0.0, "m2")
        if p.zones_present:
            for c in ZONE_COLUMNS:
                for s in np.flatnonzero(np.nan_to_num(p.st[c]) < 0).tolist():
                    col.compare("E-BOUNDS", c, self.ids[s], f"{c} >= 0", p.st[c][s], ">=", 0.0, "m2")
        for use in MONEY_USES:
            for s in range(self.S):
                col.compare("E-MONEY", use, self.ids[s], f"{use} money >= 0", p.money[use][s], ">=", 0.0, "yuan",
                            only_failures=True)

        # domain of the yes/no decisions
        def domain(name: str, v: np.ndarray, allowed: np.ndarray, why: str) -> None:
            for s in np.flatnonzero((v > 0.5) & ~allowed).tolist():
                col.fail("E-DOMAIN", name, self.ids[s], f"{name} only {why}",
                         f"FAIL: {name} = 1 at {self.ids[s]}, but the decision exists only {why}", 1.0, "=", 0.0)

        domain("built", self.built, np.isin(self.status, ("new", "upgrade")), "for new and upgrade stations")
        domain("one_stop_upgrade", self.onestop, ~self.one_stop_today, "for stations not one-stop today")
        age = self.figure("A-RENOVATE", "age_years", any_state=True)
        old = (np.nan_to_num(self.age, nan=-1.0) > age) if age is not None else np.zeros(self.S, bool)
        domain("renovated", self.reno, old, "for buildings older than A-RENOVATE's age")
        domain("access_retrofit", self.access, ~self.accessible, "for stations not barrier-free today")
        if self.inst.clause("F-DEMO") is None:
            domain("demo", self.demo, np.zeros(self.S, bool), "when F-DEMO is in force")

        # derived columns
        def same(name: str, written: np.ndarray, mine: np.ndarray, unit: str, what: str) -> None:
            for s in range(self.S):
                col.compare("E-TABLES", name, self.ids[s], what, written[s], "=", mine[s], unit, only_failures=True)

        same("social_workers", p.staff["social_workers"], self.sw, "staff",
             "social_workers = assistant + intermediate + uncertified")
        same("certified", p.staff["certified"], self.cert, "staff", "certified = assistant + intermediate")
        same("total_staff", p.staff["total_staff"], self.total_staff, "staff",
             "total_staff = admin + social workers + volunteers")
        same("budget_total", p.money["total"], self.fac + self.ops, "yuan",
             "budget total = facilities + salaries + services + training")
        same("active", p.st["active"], self.act, "stations", "active = 1 for existing/upgrade, = built for new")
        same("one_stop", p.st["one_stop"], np.maximum(self.one_stop_today.astype(float), self.onestop), "stations",
             "one_stop after = one-stop today or upgraded")
        same("floor_area_before", p.st["floor_area_before"], self.area, "m2", "floor area before = the instance's")
        same("floor_area_after", p.st["floor_area_after"], self.area_after, "m2",
             "floor area after = before + added")
        for (s, k), kind in p.kind_written.items():
            if kind != self.kinds[k]:
                col.fail("E-TABLES", "kind", self.ids[s], "services.csv kind = the catalogue's",
                         f"FAIL: {self.service_ids[k]} written as {kind}, catalogue says {self.kinds[k]}")
        dw = p.demand_written
        for s, g in zip(*(a.tolist() for a in np.nonzero(np.isnan(dw) & (self.demand > 0))), strict=True):
            col.fail("E-FILES", "rows", self.ids[s], "coverage.csv: a row for every station x group with demand",
                     f"FAIL: no coverage row for {self.inst.group_ids[g]} at {self.ids[s]} (demand "
                     f"{_fmt(self.demand[s, g])}); read as covered 0")
        for s, g in zip(*(a.tolist() for a in np.nonzero(~np.isnan(dw))), strict=True):
            col.compare("E-TABLES", "demand", self.ids[s], f"demand {self.inst.group_ids[g]} = residents x need_share",
                        dw[s, g], "=", self.demand[s, g], "residents", only_failures=True)
        zoning = any(self.inst.clause(c) is not None for c in ZONING_CLAUSES)
        if zoning and not p.zones_present:
            col.fail("E-FILES", "zones", None, "zone columns are written when a zoning clause is in force",
                     "FAIL: a zoning clause (A-ZONES, A-FLEX or F-AREA) is in force but the zone columns are blank")
        if zoning and p.zones_present:
            for c in ZONE_COLUMNS:
                for s in np.flatnonzero(np.isnan(p.st[c])).tolist():
                    col.fail("E-FILES", "zones", self.ids[s], f"{c} is written",
                             f"FAIL: {c} is blank at {self.ids[s]} (read as 0)")
                p.st[c] = np.nan_to_num(p.st[c])
        if not zoning and p.zones_present:
            col.notes.append("zone columns are filled although no zoning clause (A-ZONES, A-FLEX, F-AREA) is in "
                             "force; the format says they are blank then")

    # --- engine rules --------------------------------------------------------
    def engine(self) -> None:
        col, inst = self.col, self.inst
        ids = self.ids
        # E1 in post
        for fam, mine, post in (("social_worker", self.sw, self.post_sw), ("certified", self.cert, self.post_cert),
                                ("intermediate", self.swi, self.post_int), ("admin", self.adm, self.post_adm),
                                ("volunteer", self.vol, self.post_vol)):
            for s in np.flatnonzero(post > 0).tolist():
                col.compare("E1", fam, ids[s], f"{fam} at the station >= {fam} in post today", mine[s], ">=",
                            post[s], "staff")
        # E2 not-built new stations
        closed = self.is_new & (self.built < 0.5)
        n_offered = self.y.sum(axis=1)
        for s in np.flatnonzero(closed).tolist():
            col.compare("E2", "staff", ids[s], "a new station not built has no staff", self.total_staff[s], "<=", 0.0,
                        "staff")
            col.compare("E2", "services", ids[s], "a new station not built offers no service", n_offered[s], "<=",
                        0.0, "services")
            stray = {k: a for k, a in (("money", self.fac[s] + self.ops[s]), ("floor area added", self.expand[s]))
                     if a > 1e-6}
            if stray:
                col.notes.append(f"{ids[s]} is a new station not built but the plan gives it "
                                 + ", ".join(f"{k} {_fmt(v)}" for k, v in stray.items())
                                 + " (E2 of the formulation does not forbid it)")
        # E3 payroll
        pay = self.base("social_worker") * self.sw + self.base("admin") * self.adm + self.base("volunteer") * self.vol
        for s in range(self.S):
            col.compare("E3", "station", ids[s], "salaries >= base cost of social workers, admin and volunteers",
                        self.sal[s], ">=", pay[s], "yuan")
        # E4 hours
        training_h = self.figure("A-TRAINING", "hours_per_worker") or 0.0
        h_g = np.array([g.hours_per_resident for g in inst.groups])
        h_k = np.asarray(inst.services["staff_hours"], dtype=float)
        need = self.x @ h_g + self.y @ h_k
        have = (self.hours("social_worker") - training_h) * self.sw + self.hours("admin") * self.adm \
            + self.hours("volunteer") * self.vol
        for s in range(self.S):
            col.compare("E4", "station", ids[s], "hours for residents and services <= staff hours (less training)",
                        need[s], "<=", have[s], "hours")
        # E5 service gate
        reach = self.y @ inst.serves.astype(float)          # stations x groups: services offered reaching g
        for s in range(self.S):
            for g, gid in enumerate(inst.group_ids):
                if self.x[s, g] > 0 or reach[s, g] == 0:
                    col.compare("E5", gid, ids[s], f"{gid} covered only through an offered service reaching it",
                                self.x[s, g], "<=", self.demand[s, g] * reach[s, g], "residents",
                                only_failures=self.x[s, g] <= 0)
        # E6 service cost
        cpr = np.array([g.cost_per_resident for g in inst.groups])
        run = np.asarray(inst.services["annual_cost"], dtype=float)
        cost = self.x @ cpr + self.y @ run
        for s in range(self.S):
            col.compare("E6", "station", ids[s], "services money >= residents served x cost + services run",
                        self.svc[s], ">=", cost[s], "yuan")
        # E7 facility cost
        costs = inst.costs
        fcost = (costs.get("build_per_m2", 0.0) * self.expand
                 + costs.get("renovation", 0.0) * self.reno
                 + costs.get("one_stop_upgrade", 0.0) * self.onestop
                 + costs.get("new_station", 0.0) * self.built * self.is_new
                 + costs.get("access_retrofit", 0.0) * self.access)
        p = self.plan
        if p.zones_present:
            inc = (np.maximum(0.0, p.st["zone_admin_m2"] - self.zone_today["admin"])
                   + np.maximum(0.0, p.st["zone_service_m2"] - self.zone_today["service"])
                   + np.maximum(0.0, p.st["zone_activity_m2"] - self.zone_today["activity"])
                   + np.maximum(0.0, p.st["zone_flex_m2"]))
            # every zone's growth counted, so this is never negative (sum of zones = area + expand)
            fcost = fcost + costs.get("refit_per_m2", 0.0) * (inc - self.expand)
        for s in range(self.S):
            col.compare("E7", "station", ids[s], "facilities money >= works (build, refit, renovation, one-stop, "
                        "new station, access)", self.fac[s], ">=", fcost[s], "yuan")
        # E8 training cost
        tpw = costs.get("training_per_worker", 0.0)
        for s in range(self.S):
            col.compare("E8", "station", ids[s], "training money >= training_per_worker x social workers",
                        self.trn[s], ">=", tpw * self.sw[s], "yuan")
        # E9 zones sum
        if p.zones_present:
            zsum = np.sum([p.st[c] for c in ZONE_COLUMNS], axis=0)
            for s in range(self.S):
                col.compare("E9", "station", ids[s], "admin + service + activity + flex = floor area + added",
                            zsum[s], "=", self.area_after[s], "m2")

    # --- clauses -----------------------------------------------------------
    def clauses(self) -> None:  # noqa: C901 - one block per clause, in formulation order
        inst = self.inst
        pop_total = float(self.pop.sum())
        act = self.act
        money_total = float((self.fac + self.ops).sum())

        # C1 A-STAFF-DENSITY
        if (v := self.figure("A-STAFF-DENSITY", "per_10k")) is not None:
            self.row("A-STAFF-DENSITY", "total", None, "staff >= per_10k x residents / 10,000",
                     self.total_staff.sum(), ">=", v * pop_total / 10_000, "staff")
        # C2 A-STAFF-MIX
        c = inst.clause("A-STAFF-MIX")
        if c is not None:
            tolr = float(c.figures.get("tolerance", 0.0))
            total = self.total_staff.sum()
            mine = {"admin": self.adm.sum(), "social_worker": self.sw.sum(), "volunteer": self.vol.sum()}
            for t, n in mine.items():
                if t not in c.figures:
                    self.missing("A-STAFF-MIX", t, t)
                    continue
                share = float(c.figures[t])
                self.row("A-STAFF-MIX", t, None, f"{t} >= (share - tolerance) x all staff", n, ">=",
                         (share - tolr) * total, "staff")
                self.row("A-STAFF-MIX", t, None, f"{t} <= (share + tolerance) x all staff", n, "<=",
                         (share + tolr) * total, "staff")
        # C3 A-CERT-MIN
        if (v := self.figure("A-CERT-MIN", "per_station")) is not None:
            self.station_rows("A-CERT-MIN", "station", "certified social workers >= per_station x active", self.cert,
                              ">=", v * act, "workers")
        # C4 A-CERT-RATE
        if (v := self.figure("A-CERT-RATE", "share")) is not None:
            self.row("A-CERT-RATE", "total", None, "certified >= share x social workers", self.cert.sum(), ">=",
                     v * self.sw.sum(), "workers")
        # C5 A-CASELOAD
        if (v := self.figure("A-CASELOAD", "households_per_worker")) is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                per_res = np.where(self.pop > 0, self.hh / np.where(self.pop > 0, self.pop, 1.0), 0.0)
            served_hh = self.x.sum(axis=1) * per_res
            self.station_rows("A-CASELOAD", "station", "households served <= households_per_worker x social workers",
                              served_hh, "<=", v * self.sw, "households")
        # C6 A-SALARY
        if (v := self.figure("A-SALARY", "monthly_min")) is not None:
            self.station_rows("A-SALARY", "station", "salaries >= 12 x monthly_min x social workers + admin base cost",
                              self.sal, ">=", 12 * v * self.sw + self.base("admin") * self.adm, "yuan")
        # C7 A-VOLUNTEER
        c = inst.clause("A-VOLUNTEER")
        if c is not None:
            if "multiplier" in c.figures and "baseline" in c.figures:
                self.row("A-VOLUNTEER", "total", None, "volunteers >= multiplier x baseline", self.vol.sum(), ">=",
                         float(c.figures["multiplier"]) * float(c.figures["baseline"]), "volunteers")
            else:
                self.missing("A-VOLUNTEER", "total", "multiplier/baseline")
        # C8 F-SW-DENSITY
        c = inst.clause("F-SW-DENSITY")
        if c is not None:
            if "per_10k" in c.figures:
                self.row("F-SW-DENSITY", "per_10k", None, "social workers >= per_10k x residents / 10,000",
                         self.sw.sum(), ">=", float(c.figures["per_10k"]) * pop_total / 10_000, "workers")
            if "stated_total" in c.figures:
                self.row("F-SW-DENSITY", "stated_total", None, "social workers >= stated_total", self.sw.sum(), ">=",
                         float(c.figures["stated_total"]), "workers")
        # C9 F-SW-URBAN / F-SW-RURAL
        for cid, mask in (("F-SW-URBAN", self.urban), ("F-SW-RURAL", ~self.urban)):
            if (v := self.figure(cid, "per_station")) is not None:
                self.station_rows(cid, "station", "social workers >= per_station x active", self.sw, ">=", v * act,
                                  "workers", mask)
        # C10 F-CERT-RATE
        c = inst.clause("F-CERT-RATE")
        if c is not None:
            if "share" in c.figures:
                self.row("F-CERT-RATE", "certified", None, "certified >= share(year) x social workers",
                         self.cert.sum(), ">=", float(c.figures["share"]) * self.sw.sum(), "workers")
            if "intermediate_share" in c.figures:
                self.row("F-CERT-RATE", "intermediate", None, "intermediate level >= share x social workers",
                         self.swi.sum(), ">=", float(c.figures["intermediate_share"]) * self.sw.sum(), "workers")
        # C11 F-HIRING
        c = inst.clause("F-HIRING")
        if c is not None:
            if "in_post" in c.figures:
                self.row("F-HIRING", "in_post", None, "social workers >= in_post(year)", self.sw.sum(), ">=",
                         float(c.figures["in_post"]), "workers")
            if "recruited" in c.figures:
                self.row("F-HIRING", "recruited", None, "social workers - in post today <= recruited(year)",
                         self.sw.sum() - self.post_sw.sum(), "<=", float(c.figures["recruited"]), "workers")
        # C12 F-SALARY
        c = inst.clause("F-SALARY")
        if c is not None and "annual_average" in c.figures:
            bonus = float(c.figures.get("seniority_bonus_monthly", 0.0))
            years = c.figures.get("seniority_years")
            senior = (self._count((self._staff_types == "social_worker") & (self.years >= float(years)))
                      if years is not None else np.zeros(self.S))
            if bonus and years is None:
                self.col.notes.append("F-SALARY has seniority_bonus_monthly but no seniority_years: bonus not counted")
            self.station_rows("F-SALARY", "station", "salaries >= annual_average x social workers + 12 x seniority "
                              "bonus x senior workers in post", self.sal, ">=",
                              float(c.figures["annual_average"]) * self.sw + 12 * bonus * senior, "yuan")
        # C13 A-BUDGET-PERCAP
        per_capita = self.figure("A-BUDGET-PERCAP", "per_capita")
        if per_capita is not None:
            self.row("A-BUDGET-PERCAP", "total", None, "all money <= per_capita x residents", money_total, "<=",
                     per_capita * pop_total, "yuan")
        # C14 A-SPLIT
        c = inst.clause("A-SPLIT")
        if c is not None:
            pc = per_capita if per_capita is not None else self.figure("A-BUDGET-PERCAP", "per_capita",
                                                                       any_state=True)
            if pc is None:
                self.missing("A-SPLIT", "*", "A-BUDGET-PERCAP per_capita")
            else:
                for fam, m in (("facilities", self.fac), ("salaries", self.sal), ("services", self.svc)):
                    if fam in c.figures:
                        self.row("A-SPLIT", fam, None, f"{fam} money <= share x per_capita x residents", m.sum(),
                                 "<=", float(c.figures[fam]) * pc * pop_total, "yuan")
        # C15 A-DIRECT-MIN
        if (v := self.figure("A-DIRECT-MIN", "share")) is not None:
            self.row("A-DIRECT-MIN", "total", None, "services money >= share x all money", self.svc.sum(), ">=",
                     v * money_total, "yuan")
        # C16 F-BUILD-SUBSIDY
        c = inst.clause("F-BUILD-SUBSIDY")
        if c is not None:
            sub = np.where(self.status == "new", float(c.figures.get("new_station", 0.0)),
                           np.where(self.status == "upgrade", float(c.figures.get("upgraded_station", 0.0)), 0.0))
            self.station_rows("F-BUILD-SUBSIDY", "station", "facilities money = subsidy(status) x built", self.fac,
                              "=", sub * self.built, "yuan", np.isin(self.status, ("new", "upgrade")))
        # C17 F-OPS-SUBSIDY
        if (v := self.figure("F-OPS-SUBSIDY", "per_worker")) is not None:
            self.station_rows("F-OPS-SUBSIDY", "station", "operating money >= per_worker x social workers", self.ops,
                              ">=", v * self.sw, "yuan")
        # C18 F-OPS-STATION
        c = inst.clause("F-OPS-STATION")
        if c is not None:
            if "urban_min" in c.figures and "rural_min" in c.figures:
                floor = np.where(self.urban, float(c.figures["urban_min"]), float(c.figures["rural_min"]))
                self.station_rows("F-OPS-STATION", "station", "operating money >= urban/rural minimum x active",
                                  self.ops, ">=", floor * act, "yuan")
            else:
                self.missing("F-OPS-STATION", "station", "urban_min/rural_min")
        # C19 F-TOTAL
        ops_year = self.figure("F-TOTAL", "operations_per_year")
        c = inst.clause("F-TOTAL")
        if c is not None:
            if ops_year is not None:
                self.row("F-TOTAL", "operations", None, "operating money <= operations_per_year", self.ops.sum(),
                         "<=", ops_year, "yuan")
            if "construction" in c.figures:
                self.row("F-TOTAL", "construction", None, "facilities money = construction", self.fac.sum(), "=",
                         float(c.figures["construction"]), "yuan")
        # C20 F-USES
        c = inst.clause("F-USES")
        if c is not None:
            oy = ops_year if ops_year is not None else self.figure("F-TOTAL", "operations_per_year", any_state=True)
            if oy is None:
                self.missing("F-USES", "*", "F-TOTAL operations_per_year")
            else:
                for fam, m in (("salaries", self.sal), ("services", self.svc), ("training", self.trn)):
                    if fam in c.figures:
                        self.row("F-USES", fam, None, f"{fam} money <= share x operations_per_year", m.sum(), "<=",
                                 float(c.figures[fam]) * oy, "yuan")
        # C21 A-AREA
        c = inst.clause("A-AREA")
        if c is not None:
            mins = np.where(self.urban, float(c.figures.get("urban_min_m2", 0.0)),
                            float(c.figures.get("rural_min_m2", 0.0)))
            self.station_rows("A-AREA", "station", "floor area after >= urban/rural minimum x active",
                              self.area_after, ">=", mins * act, "m2")
        zones = self.plan.zones_present
        z = {k: self.plan.st[c] if zones else np.zeros(self.S) for k, c in
             (("admin", "zone_admin_m2"), ("service", "zone_service_m2"), ("activity", "zone_activity_m2"),
              ("flex", "zone_flex_m2"))}
        # C22 A-ZONES
        c = inst.clause("A-ZONES")
        if c is not None:
            for fam, fig, sense in (("admin", "admin_max", "<="), ("service", "service_min", ">="),
                                    ("activity", "activity_min", ">=")):
                if fig in c.figures:
                    self.station_rows("A-ZONES", fam, f"{fam} zone {sense} {fig} x floor area after", z[fam], sense,
                                      float(c.figures[fig]) * self.area_after, "m2")
        # C23 A-FLEX
        if (v := self.figure("A-FLEX", "share")) is not None:
            self.station_rows("A-FLEX", "station", "flexible zone >= share x floor area after", z["flex"], ">=",
                              v * self.area_after, "m2")
        # C24 A-RENOVATE
        if (v := self.figure("A-RENOVATE", "age_years")) is not None:
            old = np.nan_to_num(self.age, nan=-1.0) > v
            self.station_rows("A-RENOVATE", "station", "a building older than age_years is renovated", self.reno,
                              ">=", np.ones(self.S), "stations", old)
        # C25 A-COVERAGE
        c = inst.clause("A-COVERAGE")
        if c is not None:
            for fam, mask in (("urban", self.urban), ("rural", ~self.urban)):
                if fam in c.figures:
                    self.row("A-COVERAGE", fam, None, f"residents of active {fam} stations >= share x {fam} residents",
                             float((self.pop * act)[mask].sum()), ">=", float(c.figures[fam]) * self.pop[mask].sum(),
                             "residents")
            if "one_stop" in c.figures:
                self.row("A-COVERAGE", "one_stop", None, "one-stop today + upgraded >= share x stations",
                         float(self.one_stop_today.sum() + self.onestop.sum()), ">=",
                         float(c.figures["one_stop"]) * self.S, "stations")
        # C26 F-AREA
        c = inst.clause("F-AREA")
        if c is not None:
            if "min_m2" in c.figures:
                self.station_rows("F-AREA", "area", "floor area after >= min_m2 x active", self.area_after, ">=",
                                  float(c.figures["min_m2"]) * act, "m2")
            for fam, zone, fig, sense in (("service", "service", "service_share", ">="),
                                          ("office", "admin", "office_share", "<="),
                                          ("display", "activity", "display_share", ">=")):
                if fig in c.figures:
                    self.station_rows("F-AREA", fam, f"{zone} zone {sense} {fig} x floor area after", z[zone], sense,
                                      float(c.figures[fig]) * self.area_after, "m2")
        # C27 F-COVERAGE
        if (v := self.figure("F-COVERAGE", "share")) is not None:
            self.row("F-COVERAGE", "total", None, "active stations >= share(year) x stations", act.sum(), ">=",
                     v * self.S, "stations")
        # C28 F-BUILD
        c = inst.clause("F-BUILD")
        if c is not None:
            for fam, status in (("new", "new"), ("upgraded", "upgrade")):
                if fam in c.figures:
                    self.row("F-BUILD", fam, None, f"{status} stations built = {fam}",
                             self.built[self.status == status].sum(), "=", float(c.figures[fam]), "stations")
        # C29 F-DEMO
        c = inst.clause("F-DEMO")
        if c is not None:
            if "count" in c.figures:
                self.row("F-DEMO", "count", None, "demonstration stations >= count(year)", self.demo.sum(), ">=",
                         float(c.figures["count"]), "stations")
            if "per_county_min" in c.figures:
                for county in sorted(set(self.county)):
                    m = self.county == county
                    self.row("F-DEMO", "per_county", county, "demonstration stations in the county >= per_county_min",
                             self.demo[m].sum(), ">=", float(c.figures["per_county_min"]), "stations")
            featured = self.y[:, self.kinds == "featured"].sum(axis=1)
            if "min_social_workers" in c.figures:
                self.station_rows("F-DEMO", "standard", "social workers >= min_social_workers x demo", self.sw, ">=",
                                  float(c.figures["min_social_workers"]) * self.demo, "workers")
            if "min_featured" in c.figures:
                self.station_rows("F-DEMO", "standard", "featured services >= min_featured x demo", featured, ">=",
                                  float(c.figures["min_featured"]) * self.demo, "services")
            self.station_rows("F-DEMO", "standard", "a demonstration station is active", self.demo, "<=", act,
                              "stations")
        # C30 F-ACCESS
        if (v := self.figure("F-ACCESS", "share")) is not None:
            self.station_rows("F-ACCESS", "station", "barrier-free retrofit >= share x active", self.access, ">=",
                              v * act, "stations", ~self.accessible)
        # C31 A-BASIC
        if (v := self.figure("A-BASIC", "count")) is not None:
            nb = int((self.kinds == "basic").sum())
            self.station_rows("A-BASIC", "station", "basic services offered >= min(count, catalogue) x active",
                              self.y[:, self.kinds == "basic"].sum(axis=1), ">=", min(v, nb) * act, "services")
        # C32 A-FEATURE / F-FEATURE
        featured = self.y[:, self.kinds == "featured"].sum(axis=1)
        for cid in ("A-FEATURE", "F-FEATURE"):
            if (v := self.figure(cid, "min_per_station")) is not None:
                self.station_rows(cid, "station", "featured services offered >= min_per_station x active", featured,
                                  ">=", v * act, "services")
        # C33 A-VARIETY
        if (v := self.figure("A-VARIETY", "min_per_station")) is not None:
            self.station_rows("A-VARIETY", "station", "services offered >= min_per_station x active",
                              self.y.sum(axis=1), ">=", v * act, "services")
        # C34 A-MATCH
        if (v := self.figure("A-MATCH", "share")) is not None:
            self.row("A-MATCH", "total", None, "need covered >= share x demand", self.x.sum(), ">=",
                     v * self.demand.sum(), "residents")
        # C35 A-CANTEEN
        c = inst.clause("A-CANTEEN")
        if c is not None:
            meals = np.flatnonzero(self.service_ids == "elderly_meals")
            gids = list(inst.group_ids)
            if len(meals) == 0:
                self.col.notes.append("A-CANTEEN not checked: the catalogue has no service 'elderly_meals'")
            else:
                ym = self.y[:, meals[0]]
                if "stations" in c.figures:
                    self.row("A-CANTEEN", "count", None, "stations offering elderly meals >= stations", ym.sum(), ">=",
                             float(c.figures["stations"]), "stations")
                if "meal_coverage" in c.figures:
                    if "elderly" not in gids:
                        self.col.notes.append("A-CANTEEN [coverage] not checked: no group 'elderly'")
                    else:
                        g = gids.index("elderly")
                        self.station_rows("A-CANTEEN", "coverage", "elderly covered >= meal_coverage x elderly demand "
                                          "where meals are offered", self.x[:, g], ">=",
                                          float(c.figures["meal_coverage"]) * self.demand[:, g] * ym, "residents")
        # C36 F-SPECIAL
        if (v := self.figure("F-SPECIAL", "share")) is not None:
            special = np.array([g.special for g in inst.groups], dtype=bool)
            self.row("F-SPECIAL", "total", None, "special groups covered >= share x their demand",
                     self.x[:, special].sum(), ">=", v * self.demand[:, special].sum(), "residents")

    # --- matching rows with the plan's clauses.csv ---------------------------
    def judge(self) -> dict[tuple[str, str, str, str, str], float]:
        """Turn the derived rows into checks; return my shortfall per row key (for the objective)."""
        col, tol = self.col, self.tol
        cl = self.plan.clauses
        written: dict[tuple[str, str, str, str, str], list[tuple[float, str]]] = defaultdict(list)
        for r in cl.itertuples(index=False):
            station = "" if pd.isna(r.station_id) else str(r.station_id)
            dev = pd.to_numeric(pd.Series([r.deviation]), errors="coerce").iloc[0]
            key = (str(r.clause_id), str(r.family), station, str(r.sense), str(r.unit))
            written[key].append((float(dev) if pd.notna(dev) else math.nan, str(r.mode)))
        mine: dict[tuple[str, str, str, str, str], list[_Row]] = defaultdict(list)
        for r in self.rows:
            mine[(r.clause_id, r.family, r.station or "", r.sense, r.unit)].append(r)
        shortfalls: dict[tuple[str, str, str, str, str], float] = {}
        missing_rows: dict[tuple[str, str], int] = defaultdict(int)
        families_written = {(str(a), str(b)) for a, b in zip(cl["clause_id"], cl["family"], strict=True)}
        for key, rows in mine.items():
            reps = written.pop(key, [])
            rows_short = [(r, _shortfall(r.value, r.sense, r.limit)) for r in rows]
            if len(rows) > 1 or len(reps) > 1:   # several rows share a key: pair them in order of size
                rows_short.sort(key=lambda t: t[1])
                reps = sorted(reps, key=lambda t: t[0])
            if len(reps) > len(rows):
                col.notes.append(f"clauses.csv has {len(reps)} rows for {_key_text(key)}, the verifier derives "
                                 f"{len(rows)}")
            shortfalls[key] = sum(s for _, s in rows_short)
            if not reps:
                missing_rows[(key[0], key[1])] += len(rows)
            for i, (r, short) in enumerate(rows_short):
                rep = reps[i] if i < len(reps) else None
                col.checks.append(self._assess(r, short, rep))
        for (cid, fam), n in sorted(missing_rows.items()):
            if (cid, fam) not in families_written:
                col.notes.append(f"clauses.csv reports no row of {cid} [{fam}] ({n} row(s) derived and checked here)")
        for key, reps in written.items():
            devs = [d for d, _ in reps]
            big = [d for d in devs if not (math.isfinite(d) and abs(d) <= tol.of(key[4], 0.0))]
            text = (f"clauses.csv reports {len(reps)} row(s) {_key_text(key)} that the verifier does not derive "
                    f"(deviation {', '.join(_fmt(d) for d in devs)})")
            if big:
                col.fail(key[0], key[1], key[2] or None, "a row the verifier does not derive", "FAIL: " + text,
                         unit=key[4])
            else:
                col.notes.append(text)
        return shortfalls

    def _assess(self, r: _Row, short: float, rep: tuple[float, str] | None) -> Check:
        t = self.tol.of(r.unit, r.limit)
        dev = rep[0] if rep is not None else None
        problems: list[str] = []
        if rep is not None and rep[1] != r.mode:
            problems.append(f"plan says mode {rep[1]}, the instance says {r.mode}")
        if r.mode == "soft":
            d = 0.0 if dev is None or not math.isfinite(dev) else dev
            if dev is not None and not math.isfinite(dev):
                problems.append("deviation is not a number")
            if d < short - t:
                problems.append(f"deviation understated: reported {_fmt(d)}, actual shortfall {_fmt(short)} {r.unit}")
            elif d > short + t:
                problems.append(f"deviation overstated: reported {_fmt(d)}, actual shortfall {_fmt(short)} {r.unit}")
        else:
            if short > t:
                problems.append(f"hard row broken by {_fmt(short)} {r.unit}")
            if dev is not None and math.isfinite(dev) and abs(dev) > t:
                problems.append(f"a deviation of {_fmt(dev)} is reported on a hard row")
        ok = not problems
        msg = f"{'ok' if ok else 'FAIL'}: {_fmt(r.value)} {r.sense} {_fmt(r.limit)} {r.unit}"
        if short > 0:
            msg += f"; shortfall {_fmt(short)}"
        if r.mode == "soft":
            msg += f"; reported deviation {_fmt(dev if dev is not None else 0.0)}"
        if problems:
            msg += " -- " + "; ".join(problems)
        return Check(r.clause_id, r.family, r.station, r.description, r.value, r.sense, r.limit, dev, ok, msg,
                     r.unit, r.mode, short)

    # --- summary.json ----------------------------------------------------------
    def totals(self) -> None:
        col, p = self.col, self.plan
        tot = p.summary.get("totals")
        if not isinstance(tot, dict):
            col.fail("E-TOTALS", "totals", None, "summary.json has totals", "FAIL: summary.json has no 'totals'")
            return
        mine: dict[str, tuple[float, str]] = {
            "staff": (self.total_staff.sum(), "staff"), "social_workers": (self.sw.sum(), "staff"),
            "certified": (self.cert.sum(), "staff"), "admin": (self.adm.sum(), "staff"),
            "volunteers": (self.vol.sum(), "staff"), "covered": (self.x.sum(), "residents"),
            "demand": (self.demand.sum(), "residents"),
        }
        if "stations_active" in tot:
            mine["stations_active"] = (self.act.sum(), "stations")
        for k, (v, unit) in mine.items():
            if k not in tot:
                col.fail("E-TOTALS", k, None, f"summary.json totals.{k}", f"FAIL: summary.json totals lack {k}")
                continue
            col.compare("E-TOTALS", k, None, f"summary.json totals.{k} = the tables' sum", float(tot[k]), "=", v, unit)
        money = tot.get("money")
        if not isinstance(money, dict):
            col.fail("E-TOTALS", "money", None, "summary.json totals.money", "FAIL: summary.json totals lack money")
            return
        sums = {"facilities": self.fac.sum(), "salaries": self.sal.sum(), "services": self.svc.sum(),
                "training": self.trn.sum()}
        sums["total"] = sum(sums.values())
        for k, v in sums.items():
            if k not in money:
                col.fail("E-TOTALS", f"money.{k}", None, f"summary.json totals.money.{k}",
                         f"FAIL: summary.json totals.money lacks {k}")
                continue
            col.compare("E-TOTALS", f"money.{k}", None, f"summary.json totals.money.{k} = budget.csv's sum",
                        float(money[k]), "=", v, "yuan")

    def objective(self, shortfalls: dict[tuple[str, str, str, str, str], float]) -> None:
        """Recompute the objective where the formulation defines it (equity none or worst_county)."""
        inst, p, col = self.inst, self.plan, self.col
        reported = p.summary.get("objective")
        if reported is None or not isinstance(reported, (int, float)):
            return
        obj = inst.objective
        if obj.equity not in ("none", "worst_county"):
            col.notes.append(f"objective not recomputed: the formulation does not define equity '{obj.equity}'")
            return
        w = np.array([g.weight for g in inst.groups])
        value = float((self.x @ w).sum()) - obj.cost_weight * float((self.fac + self.ops).sum())
        if obj.equity == "worst_county" and obj.equity_weight:
            shares = []
            for county in sorted(set(self.county)):
                m = self.county == county
                d = self.demand[m].sum()
                if d > 0:
                    shares.append(self.x[m].sum() / d)
            value += obj.equity_weight * 100 * (min(shares) if shares else 0.0)
        pen = 0.0
        for key, short in shortfalls.items():
            c = inst.clause(key[0])
            if c is not None and c.mode(key[1]) == "soft" and not self.strict:
                pen += c.penalty(key[1]) * short
        value -= pen
        rep = float(reported)
        t = 1e-5 * max(1.0, abs(value), abs(rep))
        ok = rep <= value + t
        text = (f"summary.json objective {_fmt(rep)}, recomputed from the tables {_fmt(value)} "
                f"(penalties {_fmt(pen)})")
        if ok and rep < value - t:
            col.notes.append(f"E-OBJECTIVE: {text}: the plan is better than reported (a slack equity or deviation "
                             "variable in the solver's incumbent)")
        col.checks.append(Check(
            "E-OBJECTIVE", "objective", None,
            "objective = sum w x - cost_weight x yuan + equity term - penalties x shortfalls", rep, "<=", value, None,
            ok, f"{'ok' if ok else 'FAIL'}: {text}" + ("" if ok else " -- the summary claims more than the plan has"),
            "objective units", "hard", max(0.0, rep - value)))


def _key_text(key: tuple[str, str, str, str, str]) -> str:
    cid, fam, station, sense, unit = key
    return f"{cid} [{fam}]{' at ' + station if station else ''} ({sense}, {unit})"


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def verify_plan(instance: Instance, plan_dir: str | os.PathLike[str], tol: Tolerance | None = None) -> VerifyReport:
    """Re-check the plan in ``plan_dir`` against ``instance``, clause by clause.

    Parameters
    ----------
    instance : Instance
        The instance the plan was solved for (from :func:`allocator.instance.load`).
    plan_dir : path-like
        A directory written by ``allocator solve --out DIR``.
    tol : Tolerance, optional
        Tolerances; the defaults are those of the module docstring.

    Returns
    -------
    VerifyReport
        One :class:`Check` per row; ``report.ok`` is True when all pass.
    """
    tol = tol or Tolerance()
    col = _Collector(tol)
    path = Path(plan_dir)
    report = VerifyReport(instance.name, str(path))
    if not path.is_dir():
        col.fail("E-FILES", "files", None, "the plan directory exists", f"FAIL: no plan directory {path}")
        report.checks, report.notes = col.checks, col.notes
        return report
    plan = _read_plan(instance, path, col)
    if plan is not None:
        status = str(plan.summary.get("status", ""))
        if status and status not in ("optimal", "feasible", "time_limit", "gap_limit"):
            col.notes.append(f"summary.json status is '{status}'")
        if plan.manifest is not None and plan.manifest.get("instance") not in (None, instance.name):
            col.notes.append(f"manifest.json names instance '{plan.manifest.get('instance')}', "
                             f"this instance is '{instance.name}'")
        v = _Verifier(instance, plan, col)
        v.hygiene()
        v.engine()
        v.clauses()
        shortfalls = v.judge()
        v.totals()
        v.objective(shortfalls)
    report.checks, report.notes = col.checks, col.notes
    return report


# ---------------------------------------------------------------------------
# assignment: packages, roster, hiring list (what ``allocator assign --out DIR`` writes)
# ---------------------------------------------------------------------------
ASSIGNMENT_FILES = ("roster.csv", "hires.csv", "packages.csv")
ROSTER_COLUMNS = ("worker_id", "type", "from_station", "to_station", "from_level", "to_level", "moved", "upgrade")
HIRES_COLUMNS = ("station_id", "post", "hires", "local_required", "annual_cost")
PACKAGE_COLUMNS = ("package_id", "copy", "department_id", "station_id")
LEVEL_RANK = {"none": 0, "assistant": 1, "intermediate": 2}
# post kind: (staff type, level) and the plan's staff.csv column
POST_KINDS: dict[str, tuple[str, int, str]] = {
    "admin": ("admin", 0, "admin"),
    "sw_uncertified": ("social_worker", 0, "sw_uncertified"),
    "sw_certified_assistant": ("social_worker", 1, "sw_certified_assistant"),
    "sw_certified_intermediate": ("social_worker", 2, "sw_certified_intermediate"),
    "volunteer": ("volunteer", 0, "volunteers"),
}


def _steps(a: int, b: int) -> set[str]:
    """The upgrade steps from level a to level b."""
    return ({"certify"} if a == 0 and b >= 1 else set()) | ({"promote"} if a <= 1 and b == 2 else set())


def _hire_unit(inst: Instance) -> dict[str, float]:
    """Annual cost of one hire per post: the salary floor in force for social workers."""
    a_sal, f_sal = inst.clause("A-SALARY"), inst.clause("F-SALARY")
    if a_sal is not None and "monthly_min" in a_sal.figures:
        sw = 12.0 * float(a_sal.figures["monthly_min"])
    elif f_sal is not None and "annual_average" in f_sal.figures:
        sw = float(f_sal.figures["annual_average"])
    else:
        sw = float(inst.staff_type("social_worker").annual_cost)
    return {"admin": float(inst.staff_type("admin").annual_cost), "sw_uncertified": sw,
            "sw_certified_assistant": sw, "sw_certified_intermediate": sw,
            "volunteer": float(inst.staff_type("volunteer").annual_cost)}


def _read_table(col: _Collector, path: Path, columns: tuple[str, ...], str_cols: tuple[str, ...]
                ) -> pd.DataFrame | None:
    if not path.is_file():
        col.fail("E-FILES", "files", None, f"{path.name} is present", f"FAIL: {path} is missing")
        return None
    try:
        df = pd.read_csv(path, dtype={c: str for c in str_cols}, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        df = pd.DataFrame(columns=list(columns))
    missing = [c for c in columns if c not in df.columns]
    if missing:
        col.fail("E-FILES", "columns", None, f"{path.name} has every column",
                 f"FAIL: {path.name} lacks column(s) {', '.join(missing)}")
        return None
    for c in str_cols:
        if c in df.columns:
            df[c] = df[c].fillna("").astype(str)
    return df


def _ints(col: _Collector, df: pd.DataFrame, name: str, file: str) -> np.ndarray:
    v = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) | (np.abs(v - np.round(v)) > col.tol.integrality)
    if bad.any():
        col.fail("E-INTEGER", name, None, f"{file}.{name} is a whole number",
                 f"FAIL: {file} column {name} is not a whole number in {int(bad.sum())} row(s) (read as 0)")
    return np.where(bad, 0, np.round(np.nan_to_num(v))).astype(np.int64)


class _AssignmentVerifier:
    """Checks the roster, the hiring list and the package placements against the instance and the plan."""

    def __init__(self, inst: Instance, plan: _Plan, adir: Path, col: _Collector):
        self.inst, self.plan, self.adir, self.col = inst, plan, adir, col
        st = inst.stations
        self.ids = np.asarray(st["station_id"], dtype=object).astype(str)
        self.sidx = pd.Index(self.ids)
        self.S = len(self.ids)
        self.urban = np.asarray(st["area_type"]).astype(str) == "urban"
        self.county = np.asarray(st["county"]).astype(str)
        status = np.asarray(st["status"]).astype(str)
        built = np.round(plan.st["built"])
        self.active = np.where(status == "new", built, 1.0) > 0.5
        self.summary: dict[str, Any] = {}
        if (adir / "assignment.json").is_file():
            try:
                self.summary = json.loads((adir / "assignment.json").read_text(encoding="utf-8"))
            except ValueError:
                col.fail("E-FILES", "files", None, "assignment.json is JSON", "FAIL: assignment.json is not JSON")
        else:
            col.notes.append("no assignment.json: the move limit and the totals are not checked")

    # --- roster and hiring list -----------------------------------------------
    def roster(self) -> None:
        col, inst, ids = self.col, self.inst, self.ids
        ro = _read_table(col, self.adir / "roster.csv", ROSTER_COLUMNS,
                         ("worker_id", "type", "from_station", "to_station", "from_level", "to_level", "upgrade"))
        hi = _read_table(col, self.adir / "hires.csv", HIRES_COLUMNS, ("station_id", "post"))
        if ro is None or hi is None:
            return
        sf = inst.staff
        wid = np.asarray(sf["worker_id"]).astype(str)
        w_station = np.asarray(sf["station_id"]).astype(str)
        w_type = np.asarray(sf["type"]).astype(str)
        w_level = np.asarray(sf["level"]).astype(str)
        w_local = np.asarray(sf["local_registration"], dtype=bool)
        W = len(wid)
        windex = pd.Index(wid)
        wi = windex.get_indexer(ro["worker_id"])
        # E1 / E-ROSTER: every worker in post exactly once, nobody else
        for r in np.flatnonzero(wi < 0).tolist():
            col.fail("E-ROSTER", "worker", None, "roster.csv lists only workers in post",
                     f"FAIL: roster.csv row {r + 2}: worker {ro['worker_id'].iat[r]!r} is not in the staff table")
        seen = np.bincount(wi[wi >= 0], minlength=W)
        for w in np.flatnonzero(seen > 1).tolist():
            col.fail("E-ROSTER", "worker", w_station[w], "each worker appears once on the roster",
                     f"FAIL: worker {wid[w]} appears {seen[w]} times", float(seen[w]), "=", 1.0, "workers")
        for w in np.flatnonzero(seen == 0).tolist():
            col.fail("E1", "roster", w_station[w], "every worker in post is on the roster (nobody dismissed)",
                     f"FAIL: worker {wid[w]} ({w_type[w]}) in post at {w_station[w]} is not on the roster",
                     0.0, ">=", 1.0, "workers")
        col.compare("E1", "roster", None, "workers in post on the roster exactly once", float((seen == 1).sum()),
                    "=", float(W), "workers")
        keep = (wi >= 0) & ~pd.Series(wi).duplicated().to_numpy()
        ro = ro[keep].reset_index(drop=True)
        w = wi[keep]
        to_s = self.sidx.get_indexer(ro["to_station"])
        bad_s = to_s < 0
        for r in np.flatnonzero(bad_s).tolist():
            col.fail("E-ROSTER", "station", None, "a worker goes to a station of the instance",
                     f"FAIL: worker {wid[w[r]]} goes to unknown station {ro['to_station'].iat[r]!r}")
        # type, station and level of origin as the staff table says
        for name, written, truth in (("type", ro["type"].to_numpy(), w_type[w]),
                                     ("from_station", ro["from_station"].to_numpy(), w_station[w]),
                                     ("from_level", ro["from_level"].to_numpy(), w_level[w])):
            for r in np.flatnonzero(written != truth).tolist():
                col.fail("E-ROSTER", name, w_station[w[r]], f"roster {name} = the staff table's",
                         f"FAIL: worker {wid[w[r]]}: {name} written {written[r]!r}, the staff table says "
                         f"{truth[r]!r}" + (" (a worker keeps their type)" if name == "type" else ""))
        to_level = ro["to_level"].to_numpy()
        to_rank = np.array([LEVEL_RANK.get(x, -1) for x in to_level])
        from_rank = np.array([LEVEL_RANK.get(x, 0) for x in w_level[w]])
        is_sw = w_type[w] == "social_worker"
        for r in np.flatnonzero((to_rank < 0) | (~is_sw & (to_rank != 0))).tolist():
            col.fail("E-ROSTER", "to_level", self.ids[to_s[r]] if to_s[r] >= 0 else None,
                     "to_level is none/assistant/intermediate ('none' for admin staff and volunteers)",
                     f"FAIL: worker {wid[w[r]]} ({w_type[w[r]]}): to_level {to_level[r]!r}")
        for r in np.flatnonzero(is_sw & (to_rank >= 0) & (to_rank < from_rank)).tolist():
            col.fail("E-ROSTER", "to_level", self.ids[to_s[r]] if to_s[r] >= 0 else None,
                     "nobody takes a post below their certificate level",
                     f"FAIL: worker {wid[w[r]]} ({w_level[w[r]]}) placed at level {to_level[r]}", float(to_rank[r]),
                     ">=", float(from_rank[r]), "workers")
        # upgrades: a certified / intermediate post needs the certificate or the listed upgrade
        cert_id = next((c for c in ("F-CERT-RATE", "A-CERT-RATE", "A-CERT-MIN") if inst.any_clause(c) is not None),
                       "E-ROSTER")
        ups = ro["upgrade"].to_numpy()
        for r in np.flatnonzero(is_sw & (to_rank > from_rank)).tolist():
            listed = {x.strip() for x in str(ups[r]).replace(",", "+").split("+") if x.strip()}
            where = self.ids[to_s[r]] if to_s[r] >= 0 else None
            for step, fam, what in (("certify", "certified", "a certified post"),
                                    ("promote", "intermediate", "an intermediate post")):
                if step in _steps(int(from_rank[r]), int(to_rank[r])) and step not in listed:
                    col.fail(cert_id, fam, where, f"a worker in {what} holds the level or is listed to {step}",
                             f"FAIL: worker {wid[w[r]]} ({w_level[w[r]]}) in {what} without the upgrade "
                             f"'{step}' (upgrade written: {ups[r]!r})", 0.0, ">=", 1.0, "workers")
        for r in range(len(ro)):
            listed = {x.strip() for x in str(ups[r]).replace(",", "+").split("+") if x.strip()}
            need = _steps(int(from_rank[r]), int(to_rank[r])) if is_sw[r] and to_rank[r] >= 0 else set()
            if listed - need:
                col.fail("E-TABLES", "upgrade", None, "the upgrade listed is the one the levels need",
                         f"FAIL: worker {wid[w[r]]} {w_level[w[r]]} -> {to_level[r]} lists {ups[r]!r}")
        moved_written = _ints(col, ro, "moved", "roster.csv")
        moved = ro["to_station"].to_numpy() != w_station[w]
        for r in np.flatnonzero(moved_written != moved.astype(int)).tolist():
            col.fail("E-TABLES", "moved", None, "moved = 1 exactly when the station changes",
                     f"FAIL: worker {wid[w[r]]}: moved {moved_written[r]}, {w_station[w[r]]} -> "
                     f"{ro['to_station'].iat[r]}")
        # E-MOVES: the move limit the assignment was made under
        got = self.summary.get("roster")
        rs: dict[str, Any] = got if isinstance(got, dict) else {}
        if "max_moves" in rs:
            if rs["max_moves"] is None:
                col.notes.append(f"E-MOVES: no move limit recorded; {int(moved.sum())} worker(s) moved")
            else:
                col.compare("E-MOVES", "roster", None, "workers moved to another station <= max_moves",
                            float(moved.sum()), "<=", float(rs["max_moves"]), "workers")

        # hires.csv rows
        post_names = list(POST_KINDS)
        hs = self.sidx.get_indexer(hi["station_id"])
        hk = np.array([post_names.index(p) if p in POST_KINDS else -1 for p in hi["post"]], dtype=np.int64)
        bad = (hs < 0) | (hk < 0)
        for r in np.flatnonzero(bad).tolist():
            col.fail("E-FILES", "rows", None, "hires.csv names stations of the instance and known posts",
                     f"FAIL: hires.csv row {r + 2}: station {hi['station_id'].iat[r]!r}, post {hi['post'].iat[r]!r}")
        n_h = _ints(col, hi, "hires", "hires.csv")
        n_l = _ints(col, hi, "local_required", "hires.csv")
        for r in np.flatnonzero((n_h < 0) | (n_l < 0) | (n_l > n_h)).tolist():
            col.fail("E-BOUNDS", "hires", hi["station_id"].iat[r], "0 <= local_required <= hires",
                     f"FAIL: hires.csv row {r + 2}: hires {n_h[r]}, local_required {n_l[r]}")
        dup = pd.Series(list(zip(hs, hk, strict=True))).duplicated().to_numpy() & ~bad
        for r in np.flatnonzero(dup).tolist():
            col.fail("E-FILES", "rows", hi["station_id"].iat[r], "hires.csv: one row per station and post",
                     f"FAIL: hires.csv repeats {hi['station_id'].iat[r]} {hi['post'].iat[r]}")
        unit = _hire_unit(inst)
        cost_w = pd.to_numeric(hi["annual_cost"], errors="coerce").to_numpy(dtype=float)
        for r in np.flatnonzero(~bad).tolist():
            col.compare("E-TABLES", "annual_cost", hi["station_id"].iat[r],
                        f"hires.csv annual_cost = hires x the salary floor in force ({hi['post'].iat[r]})",
                        cost_w[r], "=", n_h[r] * unit[hi["post"].iat[r]], "yuan", only_failures=True)
        K = len(post_names)
        hires = np.zeros((self.S, K), np.int64)
        local_req = np.zeros((self.S, K), np.int64)
        good = ~bad
        np.add.at(hires, (hs[good], hk[good]), n_h[good])
        np.add.at(local_req, (hs[good], hk[good]), n_l[good])

        # F-HIRING posts: placed + hires = posts, per station and post
        k_of = np.full(len(ro), -1)
        for i, (t, lvl, _) in enumerate(POST_KINDS.values()):
            k_of[(w_type[w] == t) & (to_rank == lvl)] = i
        okp = (k_of >= 0) & (to_s >= 0)
        placed = np.zeros((self.S, K), np.int64)
        np.add.at(placed, (to_s[okp], k_of[okp]), 1)
        posts = np.column_stack([np.round(self.plan.staff[c]) for _, _, c in POST_KINDS.values()])
        for k, name in enumerate(post_names):
            for s in np.flatnonzero((posts[:, k] > 0) | (placed[:, k] + hires[:, k] > 0)).tolist():
                col.compare("F-HIRING", "posts", ids[s], f"{name}: workers placed + hires = posts in the plan",
                            placed[s, k] + hires[s, k], "=", posts[s, k], "staff", only_failures=True)
            col.compare("F-HIRING", "posts", None, f"{name}: workers placed + hires = posts, all stations",
                        float(placed[:, k].sum() + hires[:, k].sum()), "=", float(posts[:, k].sum()), "staff")
        for s in np.flatnonzero(~self.active & (placed.sum(1) > 0)).tolist():
            col.fail("E2", "roster", ids[s], "nobody is placed at a station the plan does not open",
                     f"FAIL: {int(placed[s].sum())} worker(s) placed at {ids[s]}, not active in the plan")

        # totals in assignment.json
        if rs:
            for key, mine in (("moved", float(moved.sum())), ("hires", float(n_h[good].sum())),
                              ("local_required", float(n_l[good].sum()))):
                if key in rs:
                    col.compare("E-TOTALS", f"roster.{key}", None, f"assignment.json roster.{key} = the tables'",
                                float(rs[key]), "=", mine, "workers")

        # F-LOCAL-HIRE at rural stations
        c = inst.clause("F-LOCAL-HIRE")
        if c is None or "share" not in c.figures:
            return
        share = float(c.figures["share"])
        sw_k = np.array([t == "social_worker" for t, _, _ in POST_KINDS.values()])
        sw_posts = posts[:, sw_k].sum(1)
        sw_hires = hires[:, sw_k].sum(1)
        sw_local = local_req[:, sw_k].sum(1)
        home = self.sidx.get_indexer(w_station[w])
        sw_row = is_sw & (to_s >= 0) & (home >= 0)
        local_there = np.zeros(len(ro), bool)
        local_there[sw_row] = w_local[w][sw_row] & (self.county[to_s[sw_row]] == self.county[home[sw_row]])
        local_staff = np.bincount(to_s[sw_row & local_there], minlength=self.S)
        in_nonlocal = np.bincount(to_s[sw_row & ~local_there & moved], minlength=self.S)
        out_local = np.bincount(home[sw_row & w_local[w] & moved], minlength=self.S)
        mode = "hard"
        forced_short: list[float] = []
        for s in np.flatnonzero(~self.urban & (sw_posts > 0)).tolist():
            col.compare("F-LOCAL-HIRE", "hires", ids[s], "local hires >= share x social-worker hires (rural)",
                        float(sw_local[s]), ">=", share * sw_hires[s], "workers")
            value, limit = float(local_staff[s] + sw_local[s]), share * float(sw_posts[s])
            short = _shortfall(value, ">=", limit)
            desc = "local social workers in post + local hires >= share x social workers (rural)"
            if short <= col.tol.of("workers", limit):
                col.compare("F-LOCAL-HIRE", "station", ids[s], desc, value, ">=", limit, "workers")
                continue
            forced = sw_local[s] == sw_hires[s] and in_nonlocal[s] == 0 and out_local[s] == 0
            msg = _verdict_text(value, ">=", limit, short, "workers", forced)
            if forced:
                msg += (" -- forced by staff in post who are not local (IN-POST keeps them): every hire is local "
                        "and nobody was moved in or out")
            else:
                why = []
                if sw_local[s] < sw_hires[s]:
                    why.append(f"{sw_hires[s] - sw_local[s]} hire(s) not required local")
                if in_nonlocal[s]:
                    why.append(f"{in_nonlocal[s]} non-local worker(s) moved in")
                if out_local[s]:
                    why.append(f"{out_local[s]} local worker(s) moved out")
                msg += " -- " + "; ".join(why)
            col.checks.append(Check("F-LOCAL-HIRE", "station", ids[s], desc, value, ">=", limit, None, forced, msg,
                                    "workers", mode, short))
            if forced:
                forced_short.append(math.ceil(limit - 1e-9) - value)  # in whole workers
        if forced_short:
            col.notes.append(f"F-LOCAL-HIRE [station]: {len(forced_short)} rural station(s) short of the local share "
                             f"by {_fmt(sum(forced_short))} social worker(s) in all, forced by staff in post who are "
                             "not local (every hire there is local; IN-POST keeps them; `allocator assign "
                             "--max-moves N` lets the roster move them)")

    # --- packages ---------------------------------------------------------------
    def packages(self) -> None:
        col, inst, ids, p = self.col, self.inst, self.ids, self.plan
        pl = _read_table(col, self.adir / "packages.csv", PACKAGE_COLUMNS, ("package_id", "department_id",
                                                                             "station_id"))
        if pl is None:
            return
        pk = inst.packages
        pids = np.asarray(pk["package_id"]).astype(str)
        pidx = pd.Index(pids)
        j = pidx.get_indexer(pl["package_id"])
        s = self.sidx.get_indexer(pl["station_id"])
        copy = _ints(col, pl, "copy", "packages.csv")
        bad = (j < 0) | (s < 0)
        for r in np.flatnonzero(bad).tolist():
            col.fail("E-PACKAGES", "rows", None, "packages.csv names packages and stations of the instance",
                     f"FAIL: packages.csv row {r + 2}: package {pl['package_id'].iat[r]!r} at "
                     f"{pl['station_id'].iat[r]!r}")
        copies = np.asarray(pk["copies"], dtype=np.int64) if "copies" in pk else np.ones(len(pids), np.int64)
        dep_of = np.asarray(pk["department_id"]).astype(str)
        good = np.flatnonzero(~bad)
        for r in good.tolist():
            if not 1 <= copy[r] <= copies[j[r]]:
                col.fail("E-PACKAGES", "copies", ids[s[r]], "a copy number between 1 and the package's copies",
                         f"FAIL: {pids[j[r]]} copy {copy[r]}: the package has {copies[j[r]]} copies")
            if pl["department_id"].iat[r] != dep_of[j[r]]:
                col.fail("E-TABLES", "department_id", ids[s[r]], "a package's department is the instance's",
                         f"FAIL: {pids[j[r]]} written for {pl['department_id'].iat[r]}, the instance says "
                         f"{dep_of[j[r]]}")
        key = pd.Series([f"{a}#{b}" for a, b in zip(pl["package_id"], copy, strict=True)])
        for r in np.flatnonzero(key.duplicated().to_numpy()).tolist():
            col.fail("E-PACKAGES", "copies", pl["station_id"].iat[r], "each package copy is placed at most once",
                     f"FAIL: {pl['package_id'].iat[r]} copy {copy[r]} is placed more than once")
        n_copies = np.bincount(j[good], minlength=len(pids))
        for q in np.flatnonzero(n_copies > copies).tolist():
            col.fail("E-PACKAGES", "copies", None, "copies placed <= the package's copies",
                     f"FAIL: {pids[q]} placed {n_copies[q]} times, it has {copies[q]} copies",
                     float(n_copies[q]), "<=", float(copies[q]), "packages")
        # eligibility and active stations
        rules = np.asarray(pk["eligible"]).astype(str)
        for r in good.tolist():
            rule = rules[j[r]].strip()
            ok = (rule == "all" or (rule == "urban" and self.urban[s[r]]) or (rule == "rural" and not self.urban[s[r]])
                  or ids[s[r]] in {x.strip() for x in rule.split(";")})
            if not ok:
                col.fail("E-PACKAGES", "eligible", ids[s[r]], "a package goes only where it is eligible",
                         f"FAIL: {pids[j[r]]} at {ids[s[r]]}, eligible: {rule}")
            if not self.active[s[r]]:
                col.fail("E-PACKAGES", "active", ids[s[r]], "a package goes only to a station the plan opens",
                         f"FAIL: {pids[j[r]]} at {ids[s[r]]}, not active in the plan")
        col.compare("E-PACKAGES", "copies", None, "package copies placed <= copies offered", float(len(good)), "<=",
                    float(copies.sum()), "packages")
        # E4 HOURS: the packages' staff hours within the hours the plan leaves spare
        train = inst.clause("A-TRAINING")
        h_train = float(train.figures.get("hours_per_worker", 0.0)) if train is not None else 0.0
        sw = np.round(p.staff["sw_certified_assistant"]) + np.round(p.staff["sw_certified_intermediate"]) \
            + np.round(p.staff["sw_uncertified"])
        have = ((inst.staff_type("social_worker").hours_per_year - h_train) * sw
                + inst.staff_type("admin").hours_per_year * np.round(p.staff["admin"])
                + inst.staff_type("volunteer").hours_per_year * np.round(p.staff["volunteers"]))
        used = p.covered @ np.array([g.hours_per_resident for g in inst.groups]) \
            + np.round(p.offered) @ np.asarray(inst.services["staff_hours"], dtype=float)
        pk_hours = np.zeros(self.S)
        np.add.at(pk_hours, s[good], np.asarray(pk["staff_hours"], dtype=float)[j[good]])
        for st in np.flatnonzero(pk_hours > 0).tolist():
            col.compare("E4", "packages", ids[st], "package hours <= staff hours left after coverage and services",
                        pk_hours[st], "<=", max(0.0, have[st] - used[st]), "hours")
        # department budget and number of packages
        deps = inst.departments
        d_ids = np.asarray(deps["department_id"]).astype(str)
        d_of = pd.Index(d_ids).get_indexer(dep_of[j[good]])
        spent = np.zeros(len(d_ids))
        count = np.zeros(len(d_ids))
        okd = d_of >= 0
        np.add.at(spent, d_of[okd], np.asarray(pk["cost"], dtype=float)[j[good]][okd])
        np.add.at(count, d_of[okd], 1.0)
        for d, dep in enumerate(d_ids):
            col.compare("E-DEPT", "budget", dep, "cost of the department's packages placed <= its budget", spent[d],
                        "<=", float(deps["budget"][d]), "yuan")
            col.compare("E-DEPT", "count", dep, "the department's packages placed <= max_packages", count[d], "<=",
                        float(deps["max_packages"][d]), "packages")


def verify_assignment(instance: Instance, plan_dir: str | os.PathLike[str], assignment_dir: str | os.PathLike[str],
                      tol: Tolerance | None = None) -> VerifyReport:
    """Re-check what ``allocator assign --out DIR`` wrote against the instance and the plan it was made for.

    Roster (``roster.csv``, ``hires.csv``): every worker in post appears exactly once (E1, E-ROSTER) with
    their own type, station and level; nobody takes a post below their level; a worker in a certified or
    intermediate post holds that level already or is listed with the upgrade (``certify`` / ``promote``;
    failures carry the certification clause in force: F-CERT-RATE, A-CERT-RATE or A-CERT-MIN); at every
    station and post, workers placed + hires = posts of the plan (F-HIRING [posts]: nothing left open
    unlisted, nothing overfilled); moves within the limit recorded in ``assignment.json`` (E-MOVES);
    F-LOCAL-HIRE at rural stations: local hires >= share x hires [hires], and local social workers + local
    hires >= share x social workers [station] -- a shortfall there passes only where every hire is local
    and nobody was moved in or out (forced by staff in post, whom IN-POST keeps).  Packages
    (``packages.csv``): each copy at most once, only where eligible and at stations the plan opens
    (E-PACKAGES), within the staff hours the plan leaves spare (E4 [packages]), department budgets and
    counts (E-DEPT).

    Parameters
    ----------
    instance : Instance
    plan_dir : path-like
        The plan the assignment was made for.
    assignment_dir : path-like
        A directory written by ``allocator assign --out DIR``.
    tol : Tolerance, optional

    Returns
    -------
    VerifyReport
        Its checks only (the plan's own clauses are :func:`verify_plan`'s).
    """
    tol = tol or Tolerance()
    col = _Collector(tol)
    adir = Path(assignment_dir)
    report = VerifyReport(instance.name, str(adir))
    quiet = _Collector(tol)      # the plan's own file problems are verify_plan's to report
    plan = _read_plan(instance, Path(plan_dir), quiet) if Path(plan_dir).is_dir() else None
    if not adir.is_dir():
        col.fail("E-FILES", "files", None, "the assignment directory exists", f"FAIL: no directory {adir}")
    elif plan is None:
        col.fail("E-FILES", "files", None, "the plan can be read",
                 f"FAIL: the plan {plan_dir} cannot be read; the assignment is not checked")
    else:
        v = _AssignmentVerifier(instance, plan, adir, col)
        v.roster()
        v.packages()
    report.checks, report.notes = col.checks, col.notes
    return report


def format_report(report: VerifyReport, *, max_rows: int = 20) -> str:
    """The report for a terminal: verdict, failures first with their numbers, then every clause family.

    Parameters
    ----------
    report : VerifyReport
        From :func:`verify_plan`.
    max_rows : int
        Failing rows printed per clause family (the rest are counted).

    Returns
    -------
    str
    """
    lines: list[str] = []
    fails = report.failures
    verdict = "PASS" if report.ok else "FAIL"
    lines.append(f"verify {report.plan_dir} against '{report.instance}': {verdict} "
                 f"({len(report.checks)} checks, {len(fails)} failed)")
    groups: dict[tuple[str, str], list[Check]] = defaultdict(list)
    for c in report.checks:
        groups[(c.clause_id, c.family)].append(c)

    def title(cid: str) -> str:
        spec = CLAUSE_SPECS.get(cid)
        if spec is not None:
            return f"{spec.title} (§{spec.section})"
        return ENGINE_RULES.get(cid, "")

    if fails:
        lines.append("")
        lines.append("FAILURES")
        for (cid, fam), rows in sorted(groups.items()):
            bad = [r for r in rows if not r.ok]
            if not bad:
                continue
            lines.append(f"  {cid} [{fam}] {bad[0].mode}: {len(bad)} of {len(rows)} row(s) fail -- {title(cid)}")
            for r in bad[:max_rows]:
                where = f"{r.station_id}: " if r.station_id else ""
                lines.append(f"    x {where}{r.description}: {r.message}")
            if len(bad) > max_rows:
                lines.append(f"    ... {len(bad) - max_rows} more")
    lines.append("")
    lines.append("CLAUSES")
    lines.append(f"  {'':3}{'clause':<17} {'family':<16} {'mode':<5} {'rows':>5} {'fail':>5}  numbers")
    for (cid, fam), rows in sorted(groups.items(), key=lambda kv: (all(r.ok for r in kv[1]), kv[0])):
        nfail = sum(not r.ok for r in rows)
        mark = "x" if nfail else "ok"
        if len(rows) == 1 and not (math.isfinite(rows[0].value) and math.isfinite(rows[0].limit)):
            nums = rows[0].message
        elif len(rows) == 1:
            r = rows[0]
            nums = f"{_fmt(r.value)} {r.sense} {_fmt(r.limit)} {r.unit}"
            if r.mode == "soft":
                nums += f", deviation {_fmt(r.deviation_reported or 0.0)} (actual {_fmt(r.shortfall)})"
        else:
            short = [r.shortfall for r in rows if math.isfinite(r.shortfall)]
            dev = sum((r.deviation_reported or 0.0) for r in rows)
            nums = f"worst shortfall {_fmt(max(short) if short else 0.0)} {rows[0].unit}"
            if rows[0].mode == "soft":
                nums += f", deviation {_fmt(dev)} (actual {_fmt(sum(short))})"
        lines.append(f"  {mark:<3}{cid:<17} {fam:<16} {rows[0].mode:<5} {len(rows):>5} {nfail:>5}  {nums}")
    if report.notes:
        lines.append("")
        lines.append("NOTES")
        for n in report.notes:
            lines.append(f"  - {n}")
    return "\n".join(lines)
