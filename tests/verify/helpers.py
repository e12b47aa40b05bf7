"""Shared helpers of the verifier tests (:mod:`allocator.verify`).

* a hand-made plan for ``tests/instance/fixtures/tiny`` whose every number is worked out below, so the
  verifier's arithmetic is checked without any solver;
* :class:`Plan`, a copy of a solved seed plan to break on purpose, one clause family at a time;
* the hand-made assignment (roster, hiring list, packages) of the tiny plan.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.instance import Instance, load
from allocator.verify import Check, VerifyReport

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "instance" / "fixtures" / "tiny"
SEEDS = ("a-district-2026", "fuzhou-2026")

# ---------------------------------------------------------------------------
# a hand-made plan for tiny
# ---------------------------------------------------------------------------
# tiny: S1 urban existing one-stop 900 m2 age 12; S2 urban existing 850 m2 age 4; S3 rural existing
# 520 m2 age 15; S4 rural new (not built here).  In post: S1 admin + intermediate SW + uncertified SW,
# S2 assistant SW + volunteer, S3 uncertified SW + admin + volunteer.
HAND_STAFF = pd.DataFrame({
    "station_id": ["S1", "S2", "S3", "S4"],
    "admin": [1, 0, 1, 0],
    "sw_certified_assistant": [0, 1, 0, 0],
    "sw_certified_intermediate": [1, 0, 0, 0],
    "sw_uncertified": [1, 0, 3, 0],
    "social_workers": [2, 1, 3, 0],
    "certified": [1, 1, 0, 0],
    "volunteers": [0, 1, 1, 0],
    "total_staff": [3, 2, 5, 0],
})
# E3 salaries >= 42,000 x SW; E6 services >= 150 x elderly covered + 12,000 per service run;
# E8 training >= 3,000 x SW; E7 facilities >= 150,000 renovation (S1, S3 older than 10 years).
HAND_BUDGET = pd.DataFrame({
    "station_id": ["S1", "S2", "S3", "S4"],
    "facilities": [150000.0, 0.0, 150000.0, 0.0],
    "salaries": [84000.0, 42000.0, 126000.0, 0.0],
    "services": [27000.0, 12000.0, 12000.0, 0.0],
    "training": [6000.0, 3000.0, 9000.0, 0.0],
    "total": [267000.0, 57000.0, 297000.0, 0.0],
})
HAND_STATIONS = pd.DataFrame({
    "station_id": ["S1", "S2", "S3", "S4"],
    "active": [1, 1, 1, 0], "built": [0, 0, 0, 0], "one_stop": [1, 0, 0, 0], "one_stop_upgrade": [0, 0, 0, 0],
    "renovated": [1, 0, 1, 0], "access_retrofit": [0, 0, 0, 0], "demo": [0, 0, 0, 0],
    "floor_area_before": [900.0, 850.0, 520.0, 0.0], "floor_area_added": [0.0, 0.0, 0.0, 0.0],
    "floor_area_after": [900.0, 850.0, 520.0, 0.0],
    "zone_admin_m2": [None] * 4, "zone_service_m2": [None] * 4, "zone_activity_m2": [None] * 4,
    "zone_flex_m2": [None] * 4,
})
# demand = residents x need_share (elderly 0.6, children 0.3, disabled 0.6)
HAND_DEMAND = {"S1": (960.0, 360.0, 120.0), "S2": (660.0, 300.0, 90.0), "S3": (600.0, 180.0, 72.0),
               "S4": (300.0, 90.0, 36.0)}
HAND_SERVICES = ("social_security", "health_promotion", "child_care", "case_disabled")
HAND_KINDS = ("basic", "basic", "featured", "personalised")
# Soft rows (staff 10: admin 2, SW 6, volunteers 2; certified 2, intermediate 1), in the writer's form:
# A-STAFF-MIX admin >= 0.25 x 10 short 0.5; SW <= 0.45 x 10 over by 1.5; volunteer >= 2.5 short 0.5;
# A-CERT-RATE 2 >= 0.8 x 6 short 2.8; F-CERT-RATE 2 >= 0.35 x 6 short 0.1; intermediate 1 >= 0.6.
# Each row with the value and limit a truthful plan states (the verifier holds them to its own figures).
HAND_CLAUSES: list[tuple[str, str, str, str, str, float, float, float, str]] = [
    ("A-STAFF-MIX", "admin", "", "soft", ">=", 2.0, 2.5, 0.5, "staff"),
    ("A-STAFF-MIX", "admin", "", "soft", "<=", 2.0, 3.5, 0.0, "staff"),
    ("A-STAFF-MIX", "social_worker", "", "soft", ">=", 6.0, 3.5, 0.0, "staff"),
    ("A-STAFF-MIX", "social_worker", "", "soft", "<=", 6.0, 4.5, 1.5, "staff"),
    ("A-STAFF-MIX", "volunteer", "", "soft", ">=", 2.0, 2.5, 0.5, "staff"),
    ("A-STAFF-MIX", "volunteer", "", "soft", "<=", 2.0, 3.5, 0.0, "staff"),
    ("A-CERT-RATE", "total", "", "soft", ">=", 2.0, 4.8, 2.8, "workers"),
    ("F-CERT-RATE", "certified", "", "soft", ">=", 2.0, 2.1, 0.1, "workers"),
    ("F-CERT-RATE", "intermediate", "", "soft", ">=", 1.0, 0.6, 0.0, "workers"),
    ("F-SW-RURAL", "station", "S3", "soft", ">=", 3.0, 3.0, 0.0, "workers"),
    ("F-SW-RURAL", "station", "S4", "soft", ">=", 0.0, 0.0, 0.0, "workers"),
    ("A-BUDGET-PERCAP", "total", "", "hard", "<=", 621000.0, 2100000.0, 0.0, "yuan"),
    ("A-SPLIT", "facilities", "", "hard", "<=", 300000.0, 630000.0, 0.0, "yuan"),
    ("A-RENOVATE", "station", "S1", "hard", ">=", 1.0, 1.0, 0.0, "stations"),
]
# penalties 400 per unit: A-STAFF-MIX 2.5, A-CERT-RATE 2.8, F-CERT-RATE 0.1; sum w x = 1.0 x 100
HAND_OBJECTIVE = 100.0 - 400.0 * (2.5 + 2.8 + 0.1)


def write_hand_plan(out: Path) -> Path:
    """Write the hand-made tiny plan into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    HAND_STAFF.to_csv(out / "staff.csv", index=False)
    HAND_BUDGET.to_csv(out / "budget.csv", index=False)
    HAND_STATIONS.to_csv(out / "stations.csv", index=False)
    rows: list[dict[str, object]] = []
    for s in ("S1", "S2", "S3", "S4"):
        for sid, kind in zip(HAND_SERVICES, HAND_KINDS, strict=True):
            rows.append({"station_id": s, "service_id": sid, "kind": kind,
                         "offered": int(sid == "health_promotion" and s != "S4")})
    pd.DataFrame(rows).to_csv(out / "services.csv", index=False)
    rows.clear()
    for s, demands in HAND_DEMAND.items():
        for g, d in zip(("elderly", "children", "disabled"), demands, strict=True):
            rows.append({"station_id": s, "group": g, "demand": d,
                         "covered": 100.0 if (s, g) == ("S1", "elderly") else 0.0})
    pd.DataFrame(rows).to_csv(out / "coverage.csv", index=False)
    pd.DataFrame([{"clause_id": c, "family": f, "station_id": s, "mode": m, "value": v, "sense": sense,
                   "limit": lim, "deviation": d, "unit": u} for c, f, s, m, sense, v, lim, d, u in HAND_CLAUSES]
                 ).to_csv(out / "clauses.csv", index=False)
    summary = {"status": "optimal", "objective": HAND_OBJECTIVE, "bound": HAND_OBJECTIVE, "gap": 0.0,
               "totals": {"staff": 10, "social_workers": 6, "certified": 2, "admin": 2, "volunteers": 2,
                          "money": {"facilities": 300000.0, "salaries": 252000.0, "services": 51000.0,
                                    "training": 18000.0, "total": 621000.0},
                          "covered": 100.0, "demand": 3768.0}}
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps({"instance": "tiny", "solver": "by hand"}), encoding="utf-8")
    return out


def find(report: VerifyReport, clause_id: str, family: str, station: str | None = None,
         sense: str | None = None) -> Check:
    hits = [c for c in report.checks if c.clause_id == clause_id and c.family == family
            and (station is None or c.station_id == station) and (sense is None or c.sense == sense)]
    assert len(hits) == 1, [c.message for c in hits]
    return hits[0]


def failed(report: VerifyReport) -> set[str]:
    return report.clause_ids(failed_only=True)


def edit_csv(path: Path, fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    df = pd.read_csv(path, dtype={"station_id": str})
    out = fn(df)
    (df if out is None else out).to_csv(path, index=False)

class Plan:
    """A copy of a plan directory to break on purpose; derived columns are kept consistent."""

    def __init__(self, src: Path, dst: Path, inst: Instance):
        shutil.copytree(src, dst)
        self.dir, self.inst = dst, inst
        self.t = {n: pd.read_csv(dst / f"{n}.csv", dtype={"station_id": str})
                  for n in ("staff", "budget", "services", "coverage", "stations", "clauses")}
        self.t["clauses"]["station_id"] = self.t["clauses"]["station_id"].fillna("")
        st = inst.stations
        self.info = pd.DataFrame({"station_id": np.asarray(st["station_id"]).astype(str),
                                  "status": st["status"], "area_type": st["area_type"],
                                  "county": st["county"]}).set_index("station_id")

    def save(self) -> Path:
        s = self.t["staff"]
        sw = s.sw_certified_assistant + s.sw_certified_intermediate + s.sw_uncertified
        s["social_workers"] = sw
        s["certified"] = s.sw_certified_assistant + s.sw_certified_intermediate
        s["total_staff"] = s.admin + sw + s.volunteers
        for n, df in self.t.items():
            df.to_csv(self.dir / f"{n}.csv", index=False)
        return self.dir

    # --- choosing where to break ---------------------------------------------
    def rows(self, cid: str, fam: str) -> pd.DataFrame:
        c = self.t["clauses"]
        rows = c[(c.clause_id == cid) & (c.family == fam)].copy()
        rows["_order"] = np.where(rows.deviation > 0, -1.0, rows.slack.abs())
        return rows.sort_values(["_order", "station_id"])

    def pick(self, cid: str, fam: str, ok: Callable[[pd.Series], bool] = lambda r: True) -> pd.Series:
        for _, r in self.rows(cid, fam).iterrows():
            if ok(r):
                return r
        raise AssertionError(f"no row of {cid} [{fam}] fits the break")

    def staff_at(self, sid: str, col: str) -> float:
        s = self.t["staff"]
        if col in ("social_workers", "certified"):
            parts = ["sw_certified_assistant", "sw_certified_intermediate"]
            parts += ["sw_uncertified"] if col == "social_workers" else []
            return float(s.loc[s.station_id == sid, parts].to_numpy().sum())
        return float(s.loc[s.station_id == sid, col].iloc[0])

    def active(self) -> list[str]:
        s = self.t["stations"]
        return list(s.station_id[s.active == 1])

    def richest(self, use: str) -> str:
        b = self.t["budget"]
        return str(b.station_id[b[use].idxmax()])

    # --- edits ---------------------------------------------------------------
    def staff_add(self, sid: str, col: str, n: int) -> None:
        """Add ``n`` staff of column ``col`` at ``sid`` (derived columns are redone on save)."""
        s = self.t["staff"]
        s.loc[s.station_id == sid, col] += n

    def remove_sw(self, sid: str, n: int) -> None:
        for col in ("sw_uncertified", "sw_certified_assistant", "sw_certified_intermediate"):
            k = min(n, int(self.staff_at(sid, col)))
            self.staff_add(sid, col, -k)
            n -= k
        assert n == 0, f"not enough social workers at {sid}"

    def remove_total(self, cols: tuple[str, ...], n: int) -> None:
        """Remove ``n`` staff, taking from the columns in order, station by station."""
        s = self.t["staff"]
        for col in cols:
            have = s[col].to_numpy()
            before = np.concatenate([[0], np.cumsum(have)[:-1]])
            take = np.clip(n - before, 0, have)
            s[col] = have - take
            n -= int(take.sum())
        assert n == 0

    def convert(self, cols: tuple[str, ...], to: str) -> None:
        """Move every worker of ``cols`` into column ``to``."""
        s = self.t["staff"]
        for col in cols:
            s[to] += s[col]
            s[col] = 0

    def money_add(self, sid: str, use: str, amount: float) -> None:
        b = self.t["budget"]
        m = b.station_id == sid
        assert float(b.loc[m, use].iloc[0]) + amount >= 0
        b.loc[m, use] += amount
        b.loc[m, "total"] += amount

    def money_take(self, stations: pd.Series, use: str, amount: float) -> None:
        """Take ``amount`` yuan of ``use`` money from the stations, in order."""
        for sid in stations:
            b = self.t["budget"]
            k = min(amount, float(b.loc[b.station_id == sid, use].iloc[0]))
            self.money_add(sid, use, -k)
            amount -= k
            if amount <= 0:
                return
        raise AssertionError(f"not enough {use} money to take")

    def offer(self, sid: str, kind: str | None = None, on: bool = False, n: int = 1,
              service: str | None = None) -> None:
        v = self.t["services"]
        m = (v.station_id == sid) & (v.offered == (0 if on else 1))
        if kind:
            m &= v.kind == kind
        if service:
            m &= v.service_id == service
        idx = v.index[m][:n]
        assert len(idx) == n, f"cannot toggle {n} {kind or service} service(s) at {sid}"
        v.loc[idx, "offered"] = 1 if on else 0

    def cover_reduce(self, amount: float, groups: set[str] | None = None) -> None:
        c = self.t["coverage"]
        for i in c.index[c.covered > 0]:
            if groups and c.at[i, "group"] not in groups:
                continue
            k = min(amount, float(c.at[i, "covered"]))
            c.at[i, "covered"] -= k
            amount -= k
            if amount <= 0:
                return
        raise AssertionError("not enough coverage to remove")

    def station_set(self, sid: str, col: str, value: float) -> None:
        s = self.t["stations"]
        s.loc[s.station_id == sid, col] = value

    def area_add(self, sid: str, amount: float) -> None:
        s = self.t["stations"]
        m = s.station_id == sid
        s.loc[m, "floor_area_added"] += amount
        s.loc[m, "floor_area_after"] += amount

    def zone_add(self, sid: str, zone: str, amount: float) -> None:
        s = self.t["stations"]
        s.loc[s.station_id == sid, f"zone_{zone}_m2"] += amount

    def misreport(self, row: pd.Series) -> None:
        """Understate the deviation of a soft row (or, if it is 0, report one that is not there)."""
        c = self.t["clauses"]
        dev = float(row.deviation)
        c.loc[row.name, "deviation"] = dev / 2 if dev > 0 else 1.0


def figure(inst: Instance, cid: str, name: str) -> float:
    clause = inst.clause(cid)
    assert clause is not None
    return float(clause.figures[name])


def room(r: pd.Series) -> float:
    """How far the plan's own row is from binding (0 when it binds or deviates); sizes an edit."""
    return max(0.0, float(r.slack))


# ---------------------------------------------------------------------------
# the assignment (roster, hiring list, packages) of the hand-made tiny plan
# ---------------------------------------------------------------------------
# Everyone stays at their level; S3's plan has 3 uncertified posts for 1 in post: 2 hires at the social
# worker's annual_cost (tiny states no salary floor), 1 of them local when F-LOCAL-HIRE (0.4) is in force.
HAND_ROSTER = pd.DataFrame({
    "worker_id": ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"],
    "type": ["admin", "social_worker", "social_worker", "social_worker", "social_worker", "admin", "volunteer",
             "volunteer"],
    "from_station": ["S1", "S1", "S1", "S2", "S3", "S3", "S2", "S3"],
    "to_station": ["S1", "S1", "S1", "S2", "S3", "S3", "S2", "S3"],
    "from_level": ["none", "intermediate", "none", "assistant", "none", "none", "none", "none"],
    "to_level": ["none", "intermediate", "none", "assistant", "none", "none", "none", "none"],
    "moved": 0, "upgrade": "", "cost": 0,
})
HAND_HIRES = pd.DataFrame([{"station_id": "S3", "post": "sw_uncertified", "hires": 2, "local_required": 1,
                            "annual_cost": 84000.0}])
HAND_PACKAGES = pd.DataFrame([
    {"package_id": "P1", "copy": 1, "department_id": "health", "station_id": "S1", "value": 300.0,
     "staff_hours": 100.0, "cost": 60000.0},
    {"package_id": "P2", "copy": 1, "department_id": "education", "station_id": "S3", "value": 100.0,
     "staff_hours": 120.0, "cost": 50000.0},
])


def write_hand_assignment(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    HAND_ROSTER.to_csv(out / "roster.csv", index=False)
    HAND_HIRES.to_csv(out / "hires.csv", index=False)
    HAND_PACKAGES.to_csv(out / "packages.csv", index=False)
    (out / "assignment.json").write_text(json.dumps({"roster": {"max_moves": 0, "moved": 0, "hires": 2,
                                                                "local_required": 1}}), encoding="utf-8")
    return out


def tiny_with(tmp_path: Path, toml_extra: str = "", departments: pd.DataFrame | None = None) -> Instance:
    folder = tmp_path / "tiny-copy"
    shutil.copytree(TINY, folder)
    if toml_extra:
        with (folder / "instance.toml").open("a", encoding="utf-8") as f:
            f.write("\n" + toml_extra)
    if departments is not None:
        departments.to_csv(folder / "departments.csv", index=False)
    return load(folder)


