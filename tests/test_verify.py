"""Tests of the independent verifier (:mod:`allocator.verify`).

Two layers:

* a hand-made plan for ``tests/instance/fixtures/tiny`` whose every number is worked out below, so the
  verifier's arithmetic is checked without any solver;
* the shipped seeds solved by the engine (once per session): the plans must verify, and a plan
  broken on purpose, one clause family at a time, must fail with that clause id.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.instance import Instance, load
from allocator.verify import Check, Tolerance, VerifyReport, format_report, verify_assignment, verify_plan

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "instance" / "fixtures" / "tiny"
SEEDS = ("a-district", "fuzhou")


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
HAND_CLAUSES: list[tuple[str, str, str, str, str, float, str]] = [
    ("A-STAFF-MIX", "admin", "", "soft", ">=", 0.5, "staff"),
    ("A-STAFF-MIX", "admin", "", "soft", "<=", 0.0, "staff"),
    ("A-STAFF-MIX", "social_worker", "", "soft", ">=", 0.0, "staff"),
    ("A-STAFF-MIX", "social_worker", "", "soft", "<=", 1.5, "staff"),
    ("A-STAFF-MIX", "volunteer", "", "soft", ">=", 0.5, "staff"),
    ("A-STAFF-MIX", "volunteer", "", "soft", "<=", 0.0, "staff"),
    ("A-CERT-RATE", "total", "", "soft", ">=", 2.8, "workers"),
    ("F-CERT-RATE", "certified", "", "soft", ">=", 0.1, "workers"),
    ("F-CERT-RATE", "intermediate", "", "soft", ">=", 0.0, "workers"),
    ("F-SW-RURAL", "station", "S3", "soft", ">=", 0.0, "workers"),
    ("F-SW-RURAL", "station", "S4", "soft", ">=", 0.0, "workers"),
    ("A-BUDGET-PERCAP", "total", "", "hard", "<=", 0.0, "yuan"),
    ("A-SPLIT", "facilities", "", "hard", "<=", 0.0, "yuan"),
    ("A-RENOVATE", "station", "S1", "hard", ">=", 0.0, "stations"),
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
    pd.DataFrame([{"clause_id": c, "family": f, "station_id": s, "mode": m, "value": 0.0, "sense": sense,
                   "limit": 0.0, "deviation": d, "unit": u} for c, f, s, m, sense, d, u in HAND_CLAUSES]
                 ).to_csv(out / "clauses.csv", index=False)
    summary = {"status": "optimal", "objective": HAND_OBJECTIVE, "bound": HAND_OBJECTIVE, "gap": 0.0,
               "totals": {"staff": 10, "social_workers": 6, "certified": 2, "admin": 2, "volunteers": 2,
                          "money": {"facilities": 300000.0, "salaries": 252000.0, "services": 51000.0,
                                    "training": 18000.0, "total": 621000.0},
                          "covered": 100.0, "demand": 3768.0}}
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps({"instance": "tiny", "solver": "by hand"}), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def tiny() -> Instance:
    return load(TINY)


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    return write_hand_plan(tmp_path / "hand")


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


def test_hand_plan_passes(tiny: Instance, hand: Path) -> None:
    report = verify_plan(tiny, hand)
    assert report.ok, format_report(report)
    assert {"E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "A-STAFF-MIX", "A-CERT-RATE", "F-CERT-RATE",
            "F-SW-RURAL", "A-BUDGET-PERCAP", "A-SPLIT", "A-AREA", "A-RENOVATE", "E-TOTALS",
            "E-OBJECTIVE"} <= report.clause_ids()
    assert "E9" not in report.clause_ids()  # no zoning clause in tiny


def test_hand_plan_numbers_are_recomputed(tiny: Instance, hand: Path) -> None:
    r = verify_plan(tiny, hand)
    mix = find(r, "A-STAFF-MIX", "social_worker", sense="<=")
    assert (mix.value, mix.limit, mix.shortfall, mix.deviation_reported) == (6.0, pytest.approx(4.5),
                                                                             pytest.approx(1.5), 1.5)
    cert = find(r, "A-CERT-RATE", "total")
    assert cert.value == 2.0 and cert.limit == pytest.approx(4.8) and cert.shortfall == pytest.approx(2.8)
    # E4 at S1: 4 h x 100 elderly + 80 h health promotion <= (1600 - 40 training) x 2 SW + 300 x 1 admin
    hours = find(r, "E4", "station", "S1")
    assert (hours.value, hours.limit) == (pytest.approx(480.0), pytest.approx(3420.0))
    # E6 at S1: 150 x 100 + 12,000
    assert find(r, "E6", "station", "S1").limit == pytest.approx(27000.0)
    # E7 at S3: renovation only (no zoning clause: no refit term)
    assert find(r, "E7", "station", "S3").limit == pytest.approx(150000.0)
    split = find(r, "A-SPLIT", "facilities")
    assert (split.value, split.limit) == (pytest.approx(300000.0), pytest.approx(0.3 * 105 * 20000))
    rural = find(r, "F-SW-RURAL", "station", "S4")   # S4 not built: 0 >= 3 x 0
    assert (rural.value, rural.limit, rural.ok) == (0.0, 0.0, True)
    assert find(r, "E-OBJECTIVE", "objective").limit == pytest.approx(HAND_OBJECTIVE)


@pytest.mark.parametrize("new_deviation, word", [(1.0, "understated"), (2.0, "overstated")],
                         ids=["understated", "overstated"])
def test_a_soft_deviation_must_equal_the_shortfall(tiny: Instance, hand: Path, new_deviation: float,
                                                   word: str) -> None:
    def fn(df: pd.DataFrame) -> None:
        df.loc[(df.clause_id == "A-STAFF-MIX") & (df.family == "social_worker") & (df.sense == "<="),
               "deviation"] = new_deviation
    edit_csv(hand / "clauses.csv", fn)
    r = verify_plan(tiny, hand)
    assert failed(r) == {"A-STAFF-MIX"}
    assert word in find(r, "A-STAFF-MIX", "social_worker", sense="<=").message


def test_a_missing_soft_row_counts_as_zero_deviation(tiny: Instance, hand: Path) -> None:
    edit_csv(hand / "clauses.csv", lambda df: df[df.clause_id != "A-CERT-RATE"])
    r = verify_plan(tiny, hand)
    assert failed(r) == {"A-CERT-RATE"}
    check = find(r, "A-CERT-RATE", "total")
    assert check.deviation_reported is None and "understated" in check.message


def test_a_hard_row_broken_and_mode_misstated(tiny: Instance, hand: Path) -> None:
    def more_facilities(df: pd.DataFrame) -> None:
        df.loc[df.station_id == "S1", "facilities"] += 400000.0
        df.loc[df.station_id == "S1", "total"] += 400000.0
    edit_csv(hand / "budget.csv", more_facilities)
    edit_csv(hand / "clauses.csv", lambda df: df.__setitem__("mode", df["mode"].where(
        df.clause_id != "A-RENOVATE", "soft")))
    r = verify_plan(tiny, hand)
    assert {"A-SPLIT", "E-TOTALS", "A-RENOVATE"} <= failed(r)
    assert "broken by 70,000 yuan" in find(r, "A-SPLIT", "facilities").message
    assert "mode soft" in find(r, "A-RENOVATE", "station", "S1").message


def test_engine_rules_are_checked(tiny: Instance, hand: Path) -> None:
    def staff(df: pd.DataFrame) -> None:
        df.loc[df.station_id == "S1", ["sw_certified_intermediate", "social_workers", "certified",
                                       "total_staff"]] -= 1              # the intermediate in post is gone
        df.loc[df.station_id == "S4", ["admin", "total_staff"]] = 1      # staff at a station not built
    edit_csv(hand / "staff.csv", staff)

    def coverage(df: pd.DataFrame) -> None:
        df.loc[(df.station_id == "S2") & (df.group == "children"), "covered"] = 301.0   # > demand 300
    edit_csv(hand / "coverage.csv", coverage)
    edit_csv(hand / "services.csv", lambda df: df.__setitem__("offered", df["offered"].where(
        ~((df.station_id == "S1") & (df.service_id == "health_promotion")), 0)))   # S1 covers with no service
    r = verify_plan(tiny, hand)
    assert {"E1", "E2", "E-BOUNDS", "E5"} <= failed(r)
    assert not find(r, "E1", "intermediate", "S1").ok
    assert not find(r, "E5", "elderly", "S1").ok
    bound = [c for c in r.failures if c.clause_id == "E-BOUNDS"]
    assert [(c.station_id, c.family) for c in bound] == [("S2", "children")]


def test_integrality_domain_and_tables(tiny: Instance, hand: Path) -> None:
    edit_csv(hand / "staff.csv", lambda df: df.__setitem__("volunteers", df["volunteers"].astype(float).where(
        df.station_id != "S2", 1.5)))
    edit_csv(hand / "stations.csv", lambda df: df.__setitem__("access_retrofit", df["access_retrofit"].where(
        df.station_id != "S1", 1)))                                     # S1 is barrier-free already
    edit_csv(hand / "stations.csv", lambda df: df.__setitem__("floor_area_after", df["floor_area_after"].where(
        df.station_id != "S2", 851.0)))
    r = verify_plan(tiny, hand)
    assert {"E-INTEGER", "E-DOMAIN", "E-TABLES"} <= failed(r)
    assert not find(r, "E-DOMAIN", "access_retrofit", "S1").ok
    assert not find(r, "E-TABLES", "floor_area_after", "S2").ok


def test_summary_totals_and_objective(tiny: Instance, hand: Path) -> None:
    data = json.loads((hand / "summary.json").read_text())
    data["totals"]["social_workers"] = 7
    data["objective"] = HAND_OBJECTIVE + 10.0
    (hand / "summary.json").write_text(json.dumps(data))
    r = verify_plan(tiny, hand)
    assert failed(r) == {"E-TOTALS", "E-OBJECTIVE"}
    assert not find(r, "E-TOTALS", "social_workers").ok


def test_missing_files_and_rows(tiny: Instance, hand: Path, tmp_path: Path) -> None:
    r = verify_plan(tiny, tmp_path / "nowhere")
    assert not r.ok and failed(r) == {"E-FILES"}
    edit_csv(hand / "staff.csv", lambda df: df[df.station_id != "S3"])
    assert "E-FILES" in failed(verify_plan(tiny, hand))
    (hand / "coverage.csv").unlink()
    r = verify_plan(tiny, hand)
    assert failed(r) == {"E-FILES"} and "coverage.csv" in r.failures[0].message


def test_report_text_and_json(tiny: Instance, hand: Path) -> None:
    edit_csv(hand / "clauses.csv", lambda df: df.__setitem__("deviation", df["deviation"].where(
        df.clause_id != "A-CERT-RATE", 0.0)))
    r = verify_plan(tiny, hand)
    text = format_report(r)
    assert text.splitlines()[0].endswith("failed)") and "FAIL" in text.splitlines()[0]
    assert text.index("FAILURES") < text.index("CLAUSES")
    assert "A-CERT-RATE [total] soft" in text and "certified share of professional social workers (§A4.1" in text
    data = json.loads(json.dumps(r.to_dict()))
    assert data["ok"] is False and data["failed"] == 1
    assert data["failures"][0]["clause_id"] == "A-CERT-RATE"
    assert {"clause_id", "family", "station_id", "description", "value", "sense", "limit", "deviation_reported",
            "ok", "message"} <= set(data["checks"][0])


def test_tolerances() -> None:
    tol = Tolerance()
    assert tol.of("yuan", 1e7) == pytest.approx(11.0)
    assert tol.of("residents", 10.0) == pytest.approx(1e-3)
    assert tol.of("m2", 1e4) == pytest.approx(1e-2)
    assert tol.of("workers", 722.97) < 1e-5


# ---------------------------------------------------------------------------
# the shipped seeds, solved by the engine
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Instance, Path]]:
    """Each seed solved once (default options) and written as a plan directory."""
    plan_mod = pytest.importorskip("allocator.station")
    out: dict[str, tuple[Instance, Path]] = {}
    base = tmp_path_factory.mktemp("plans")
    for seed in SEEDS:
        inst = load(ROOT / "instances" / seed)
        plan = plan_mod.solve_instance(inst)
        plan_mod.write_plan(plan, base / seed)
        out[seed] = (inst, base / seed)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_solved_seed_verifies(seeds: dict[str, tuple[Instance, Path]], seed: str) -> None:
    inst, plan_dir = seeds[seed]
    report = verify_plan(inst, plan_dir)
    assert report.ok, format_report(report)
    written = pd.read_csv(plan_dir / "clauses.csv")
    assert set(written.clause_id) <= report.clause_ids()


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


def _soft_or(edit: Callable[[Plan], None], cid: str, fam: str, can: Callable[[Plan], bool]) -> Callable[[Plan], None]:
    """The table edit when it applies to this plan, else misreport the family's most deviated row."""
    def run(p: Plan) -> None:
        if can(p):
            edit(p)
        else:
            p.misreport(p.pick(cid, fam))
    return run


def _served(p: Plan, service: str) -> list[str]:
    v = p.t["services"]
    return list(v.station_id[(v.service_id == service) & (v.offered == 1)])


def _area(p: Plan, cid: str, fam: str) -> None:
    r = p.pick(cid, fam)
    p.area_add(r.station_id, -(room(r) + 1.0))


def _zone(cid: str, fam: str, zone: str, sign: float) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        p.zone_add(r.station_id, zone, sign * (room(r) + 1.0))
    return run


def _money_up(cid: str, fam: str, use: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        p.money_add(p.richest(use), use, room(r) + 1000.0)
    return run


def _money_down(cid: str, fam: str, use: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        def fits(r: pd.Series) -> bool:
            b = p.t["budget"]
            return bool(r.station_id) and float(b.loc[b.station_id == r.station_id, use].iloc[0]) > room(r) + 1e3
        r = p.pick(cid, fam, fits)
        p.money_add(r.station_id, use, -(room(r) + 1000.0))
    return run


def _sw_down(cid: str, fam: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        def n(r: pd.Series) -> int:
            return int(math.floor(room(r) + 1e-9)) + 1
        r = p.pick(cid, fam, lambda r: p.staff_at(r.station_id, "social_workers") >= n(r))
        p.remove_sw(r.station_id, n(r))
    return run


def _sw_total_down(cid: str, fam: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        p.remove_total(("sw_uncertified", "sw_certified_assistant", "sw_certified_intermediate"),
                       int(math.floor(room(r) + 1e-9)) + 1)
    return run


def _unbuild(status: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        s = p.t["stations"]
        sid = next(x for x in s.station_id[s.built == 1] if p.info.at[x, "status"] == status)
        p.station_set(sid, "built", 0)
        if status == "new":
            p.station_set(sid, "active", 0)
    return run


def _demo_off_in_county(p: Plan) -> None:
    r = p.pick("F-DEMO", "per_county")
    s = p.t["stations"]
    sid = next(x for x in s.station_id[s.demo == 1] if p.info.at[x, "county"] == r.station_id)
    p.station_set(sid, "demo", 0)


def _demo_station(p: Plan) -> str:
    s = p.t["stations"]
    return str(s.station_id[s.demo == 1].iloc[0])


def _canteen_coverage(p: Plan) -> None:
    """Open the canteen at the active station with the least elderly coverage and cover none of its elderly."""
    c = p.t["coverage"]
    eld = c[(c.group == "elderly") & c.station_id.isin(p.active()) & (c.demand > 0)]
    i = (eld.covered / eld.demand).idxmin()
    sid = str(c.at[i, "station_id"])
    if sid not in _served(p, "elderly_meals"):
        p.offer(sid, service="elderly_meals", on=True)
    c.loc[i, "covered"] = 0.0


def _staff_mix(t: str) -> Callable[[Plan], None]:
    col = {"admin": "admin", "social_worker": "sw_uncertified", "volunteer": "volunteers"}[t]

    def run(p: Plan) -> None:
        p.staff_add(p.active()[0], col, int(10 * p.t["staff"].total_staff.sum()))
    return run


def _variety(p: Plan) -> None:
    r = p.pick("A-VARIETY", "station", lambda r: r.station_id in p.active())
    p.offer(r.station_id, n=int(math.floor(room(r) + 1e-9)) + 1)


def _basic(cid: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        sid = next(s for s in p.active())
        p.offer(sid, "basic")
    return run


def _construction(p: Plan) -> None:
    b = p.t["budget"]
    sid = str(b.station_id[b.facilities >= 1000].iloc[0])
    p.money_add(sid, "facilities", -1000.0)


def _caseload(p: Plan) -> None:
    hpw = float(figure(p.inst, "A-CASELOAD", "households_per_worker"))

    def n(r: pd.Series) -> int:
        return int(math.floor(room(r) / hpw)) + 1
    r = p.pick("A-CASELOAD", "station", lambda r: p.staff_at(r.station_id, "social_workers") >= n(r))
    p.remove_sw(r.station_id, n(r))


def _cert_min(p: Plan) -> None:
    r = p.pick("A-CERT-MIN", "station", lambda r: r.station_id in p.active())
    sid = r.station_id
    n = int(p.staff_at(sid, "certified"))
    for col in ("sw_certified_assistant", "sw_certified_intermediate"):
        k = int(p.staff_at(sid, col))
        p.staff_add(sid, col, -k)
        p.staff_add(sid, "sw_uncertified", k)
    assert n > 0


def _all_uncertified(p: Plan) -> None:
    p.convert(("sw_certified_assistant", "sw_certified_intermediate"), "sw_uncertified")


def _no_intermediate(p: Plan) -> None:
    p.convert(("sw_certified_intermediate",), "sw_certified_assistant")


def _one_stop(p: Plan) -> None:
    s = p.t["stations"]
    sid = str(s.station_id[s.one_stop_upgrade == 1].iloc[0])
    p.station_set(sid, "one_stop_upgrade", 0)
    p.station_set(sid, "one_stop", 0)


def _direct_min(p: Plan) -> None:
    r = p.pick("A-DIRECT-MIN", "total")
    p.money_take(p.t["budget"].station_id, "services", 2 * room(r) + 10000.0)


def _renovate(p: Plan) -> None:
    p.station_set(p.pick("A-RENOVATE", "station").station_id, "renovated", 0)


def _access(p: Plan) -> None:
    p.station_set(p.pick("F-ACCESS", "station", lambda r: r.station_id in p.active()).station_id,
                  "access_retrofit", 0)


def _demo_standard_workers(p: Plan) -> None:
    sid = _demo_station(p)
    keep = int(figure(p.inst, "F-DEMO", "min_social_workers")) - 1
    p.remove_sw(sid, int(p.staff_at(sid, "social_workers")) - keep)


def _demo_standard_services(p: Plan) -> None:
    sid = _demo_station(p)
    keep = int(figure(p.inst, "F-DEMO", "min_featured")) - 1
    v = p.t["services"]
    n = int(v[(v.station_id == sid) & (v.kind == "featured")].offered.sum())
    p.offer(sid, "featured", n=n - keep)


def _feature(cid: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        v = p.t["services"]
        sid = p.active()[0]
        n = int(v[(v.station_id == sid) & (v.kind == "featured")].offered.sum())
        p.offer(sid, "featured", n=n)
    return run


def _cover_down(cid: str, fam: str, special: bool = False) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        groups = {g.id for g in p.inst.groups if g.special} if special else None
        p.cover_reduce(room(r) + 100.0, groups)
    return run


def _staff_total_down(p: Plan) -> None:
    r = p.pick("A-STAFF-DENSITY", "total")
    p.remove_total(("volunteers", "admin"), int(math.floor(room(r) + 1e-9)) + 1)


def _volunteers_down(p: Plan) -> None:
    r = p.pick("A-VOLUNTEER", "total")
    p.remove_total(("volunteers",), int(math.floor(room(r) + 1e-9)) + 1)


def _coverage_share(p: Plan) -> None:
    s = p.t["stations"]
    sid = next(x for x in s.station_id[s.built == 1] if p.info.at[x, "status"] == "new")
    p.station_set(sid, "built", 0)
    p.station_set(sid, "active", 0)


# One break per clause family the seed plans contain: (seed, clause id, family) -> edit.
BREAKS: dict[tuple[str, str, str], Callable[[Plan], None]] = {
    # --- a-district ---
    ("a-district", "A-AREA", "station"): lambda p: _area(p, "A-AREA", "station"),
    ("a-district", "A-BASIC", "station"): _basic("A-BASIC"),
    ("a-district", "A-BUDGET-PERCAP", "total"): _money_up("A-BUDGET-PERCAP", "total", "services"),
    ("a-district", "A-CANTEEN", "count"): _soft_or(lambda p: p.offer(_served(p, "elderly_meals")[0],
                                                                     service="elderly_meals"),
                                                   "A-CANTEEN", "count", lambda p: bool(_served(p, "elderly_meals"))),
    ("a-district", "A-CANTEEN", "coverage"): _canteen_coverage,
    ("a-district", "A-CASELOAD", "station"): _caseload,
    ("a-district", "A-CERT-MIN", "station"): _cert_min,
    ("a-district", "A-CERT-RATE", "total"): _all_uncertified,
    ("a-district", "A-COVERAGE", "one_stop"): _soft_or(_one_stop, "A-COVERAGE", "one_stop",
                                                       lambda p: bool((p.t["stations"].one_stop_upgrade == 1).any())),
    ("a-district", "A-COVERAGE", "rural"): lambda p: p.misreport(p.pick("A-COVERAGE", "rural")),
    ("a-district", "A-COVERAGE", "urban"): lambda p: p.misreport(p.pick("A-COVERAGE", "urban")),
    ("a-district", "A-DIRECT-MIN", "total"): _direct_min,
    ("a-district", "A-FEATURE", "station"): _feature("A-FEATURE"),
    ("a-district", "A-FLEX", "station"): _zone("A-FLEX", "station", "flex", -1.0),
    ("a-district", "A-MATCH", "total"): _cover_down("A-MATCH", "total"),
    ("a-district", "A-RENOVATE", "station"): _renovate,
    ("a-district", "A-SALARY", "station"): _money_down("A-SALARY", "station", "salaries"),
    ("a-district", "A-SPLIT", "facilities"): _money_up("A-SPLIT", "facilities", "facilities"),
    ("a-district", "A-SPLIT", "salaries"): _money_up("A-SPLIT", "salaries", "salaries"),
    ("a-district", "A-SPLIT", "services"): _money_up("A-SPLIT", "services", "services"),
    ("a-district", "A-STAFF-DENSITY", "total"): _staff_total_down,
    ("a-district", "A-STAFF-MIX", "admin"): _staff_mix("admin"),
    ("a-district", "A-STAFF-MIX", "social_worker"): _staff_mix("social_worker"),
    ("a-district", "A-STAFF-MIX", "volunteer"): _staff_mix("volunteer"),
    ("a-district", "A-VARIETY", "station"): _variety,
    ("a-district", "A-VOLUNTEER", "total"): _volunteers_down,
    ("a-district", "A-ZONES", "activity"): _zone("A-ZONES", "activity", "activity", -1.0),
    ("a-district", "A-ZONES", "admin"): _zone("A-ZONES", "admin", "admin", 1.0),
    ("a-district", "A-ZONES", "service"): _zone("A-ZONES", "service", "service", -1.0),
    # --- fuzhou ---
    ("fuzhou", "F-ACCESS", "station"): _access,
    ("fuzhou", "F-AREA", "area"): lambda p: _area(p, "F-AREA", "area"),
    ("fuzhou", "F-AREA", "display"): _zone("F-AREA", "display", "activity", -1.0),
    ("fuzhou", "F-AREA", "office"): _zone("F-AREA", "office", "admin", 1.0),
    ("fuzhou", "F-AREA", "service"): _zone("F-AREA", "service", "service", -1.0),
    ("fuzhou", "F-BUILD", "new"): _unbuild("new"),
    ("fuzhou", "F-BUILD", "upgraded"): _unbuild("upgrade"),
    ("fuzhou", "F-BUILD-SUBSIDY", "station"): lambda p: p.money_add(p.pick("F-BUILD-SUBSIDY", "station").station_id,
                                                                    "facilities", 1000.0),
    ("fuzhou", "F-CERT-RATE", "certified"): _all_uncertified,
    ("fuzhou", "F-CERT-RATE", "intermediate"): _no_intermediate,
    ("fuzhou", "F-COVERAGE", "total"): _coverage_share,
    ("fuzhou", "F-DEMO", "count"): lambda p: p.station_set(_demo_station(p), "demo", 0),
    ("fuzhou", "F-DEMO", "per_county"): _demo_off_in_county,
    ("fuzhou", "F-DEMO", "standard"): _demo_standard_workers,
    ("fuzhou", "F-DEMO", "standard/services"): _demo_standard_services,
    ("fuzhou", "F-FEATURE", "station"): _feature("F-FEATURE"),
    ("fuzhou", "F-HIRING", "in_post"): _sw_total_down("F-HIRING", "in_post"),
    ("fuzhou", "F-OPS-STATION", "station"): _money_down("F-OPS-STATION", "station", "salaries"),
    ("fuzhou", "F-OPS-SUBSIDY", "station"): _money_down("F-OPS-SUBSIDY", "station", "salaries"),
    ("fuzhou", "F-SALARY", "station"): _money_down("F-SALARY", "station", "salaries"),
    ("fuzhou", "F-SPECIAL", "total"): _cover_down("F-SPECIAL", "total", special=True),
    ("fuzhou", "F-SW-DENSITY", "per_10k"): _sw_total_down("F-SW-DENSITY", "per_10k"),
    ("fuzhou", "F-SW-DENSITY", "stated_total"): _sw_total_down("F-SW-DENSITY", "stated_total"),
    ("fuzhou", "F-SW-RURAL", "station"): _sw_down("F-SW-RURAL", "station"),
    ("fuzhou", "F-SW-URBAN", "station"): _sw_down("F-SW-URBAN", "station"),
    ("fuzhou", "F-TOTAL", "construction"): _construction,
    ("fuzhou", "F-TOTAL", "operations"): _money_up("F-TOTAL", "operations", "services"),
    ("fuzhou", "F-USES", "salaries"): _money_up("F-USES", "salaries", "salaries"),
    ("fuzhou", "F-USES", "services"): _money_up("F-USES", "services", "services"),
    ("fuzhou", "F-USES", "training"): _money_up("F-USES", "training", "training"),
}


@pytest.mark.parametrize("seed", SEEDS)
def test_every_family_in_the_plan_has_a_break(seeds: dict[str, tuple[Instance, Path]], seed: str) -> None:
    written = pd.read_csv(seeds[seed][1] / "clauses.csv")
    families = set(zip(written.clause_id, written.family, strict=True))
    covered = {(c, f.split("/")[0]) for s, c, f in BREAKS if s == seed}
    assert families <= covered, f"no break case for {sorted(families - covered)}"


@pytest.mark.parametrize("key", list(BREAKS), ids=[f"{s}:{c}:{f}" for s, c, f in BREAKS])
def test_a_broken_family_is_caught(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path,
                                   key: tuple[str, str, str]) -> None:
    seed, cid, fam = key
    inst, plan_dir = seeds[seed]
    p = Plan(plan_dir, tmp_path / "broken", inst)
    BREAKS[key](p)
    report = verify_plan(inst, p.save())
    bad = [c for c in report.failures if c.clause_id == cid and c.family == fam.split("/")[0]]
    assert bad, f"{cid} [{fam}] not caught:\n{format_report(report)}"


@pytest.mark.parametrize("seed", SEEDS)
def test_every_understated_soft_deviation_is_caught(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path,
                                                    seed: str) -> None:
    inst, plan_dir = seeds[seed]
    written = pd.read_csv(plan_dir / "clauses.csv", dtype={"station_id": str})
    tol = Tolerance()
    big = [d > 4 * tol.of(u, lim) for d, u, lim in zip(written.deviation, written.unit, written.limit, strict=True)]
    soft = written[(written["mode"] == "soft") & np.array(big, dtype=bool)]
    # Both seeds' plans carry soft deviations (the documents' conflicts): a plan without any would mean the
    # test no longer tests anything, so it fails rather than skips.
    assert not soft.empty, "no soft deviation in this seed plan"
    for n, (i, row) in enumerate(soft.drop_duplicates(["clause_id", "family"]).iterrows()):
        d = tmp_path / f"p{n}"
        shutil.copytree(plan_dir, d)
        df = written.copy()
        df.loc[i, "deviation"] = row.deviation / 2
        df.to_csv(d / "clauses.csv", index=False)
        report = verify_plan(inst, d)
        assert failed(report) == {row.clause_id}, (row.clause_id, row.family, format_report(report))


def test_strict_plan_makes_every_family_hard(tiny: Instance, hand: Path) -> None:
    data = json.loads((hand / "summary.json").read_text())
    data["strict"] = True
    (hand / "summary.json").write_text(json.dumps(data))
    edit_csv(hand / "clauses.csv", lambda df: df.assign(mode="hard", deviation=0.0))
    r = verify_plan(tiny, hand)
    assert failed(r) == {"A-STAFF-MIX", "A-CERT-RATE", "F-CERT-RATE"}
    assert {c.mode for c in r.checks} == {"hard"}


def _station_with(p: Plan, table: str, col: str) -> str:
    t = p.t[table]
    return str(t.station_id[t[col].idxmax()])


def _e1(p: Plan) -> None:
    sid = str(p.inst.staff["station_id"][np.asarray(p.inst.staff["type"]) == "social_worker"][0])
    p.remove_sw(sid, int(p.staff_at(sid, "social_workers")))


def _e2(p: Plan) -> None:
    """Staff at a new station not built: add some to an unbuilt one, or unbuild a staffed one."""
    s = p.t["stations"]
    new = [x for x in s.station_id if p.info.at[x, "status"] == "new"]
    unbuilt = [x for x in new if int(s.loc[s.station_id == x, "built"].iloc[0]) == 0]
    if unbuilt:
        p.staff_add(unbuilt[0], "admin", 1)
    else:
        sid = max(new, key=lambda x: p.staff_at(x, "social_workers"))
        p.station_set(sid, "built", 0)
        p.station_set(sid, "active", 0)


def _e4(p: Plan) -> None:
    sid = _station_with(p, "staff", "social_workers")
    for col in ("admin", "volunteers"):
        p.staff_add(sid, col, -int(p.staff_at(sid, col)))
    p.remove_sw(sid, int(p.staff_at(sid, "social_workers")))


def _e5(p: Plan) -> None:
    c = p.t["coverage"]
    sid = str(c.station_id[c.covered.idxmax()])
    p.t["services"].loc[p.t["services"].station_id == sid, "offered"] = 0


def _money_zero(use: str, table: str = "budget", col: str | None = None) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        sid = _station_with(p, table, col or use)
        b = p.t["budget"]
        p.money_add(sid, use, -float(b.loc[b.station_id == sid, use].iloc[0]))
    return run


def _e9(p: Plan) -> None:
    p.zone_add(p.active()[0], "service", 10.0)


def _bounds(p: Plan) -> None:
    c = p.t["coverage"]
    i = c.index[c.demand > 0][0]
    c.loc[i, "covered"] = c.loc[i, "demand"] + 10.0


# Engine rules broken on a solved seed: (seed, rule, family) -> edit.
ENGINE_BREAKS: dict[tuple[str, str, str], Callable[[Plan], None]] = {
    ("a-district", "E1", "social_worker"): _e1,
    ("a-district", "E2", "staff"): _e2,
    ("a-district", "E3", "station"): _money_zero("salaries", "staff", "social_workers"),
    ("a-district", "E4", "station"): _e4,
    ("a-district", "E5", "*"): _e5,
    ("a-district", "E6", "station"): _money_zero("services"),
    ("a-district", "E7", "station"): _money_zero("facilities"),
    ("fuzhou", "E8", "station"): _money_zero("training", "staff", "social_workers"),
    ("fuzhou", "E9", "station"): _e9,
    ("fuzhou", "E-BOUNDS", "*"): _bounds,
}


@pytest.mark.parametrize("key", list(ENGINE_BREAKS), ids=[f"{s}:{c}" for s, c, _ in ENGINE_BREAKS])
def test_a_broken_engine_rule_is_caught(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path,
                                        key: tuple[str, str, str]) -> None:
    seed, rule, fam = key
    inst, plan_dir = seeds[seed]
    p = Plan(plan_dir, tmp_path / "broken", inst)
    ENGINE_BREAKS[key](p)
    report = verify_plan(inst, p.save())
    assert [c for c in report.failures if c.clause_id == rule and fam in ("*", c.family)], format_report(report)


def test_summary_totals_of_a_solved_plan_are_checked(seeds: dict[str, tuple[Instance, Path]],
                                                     tmp_path: Path) -> None:
    inst, plan_dir = seeds["fuzhou"]
    d = tmp_path / "p"
    shutil.copytree(plan_dir, d)
    data = json.loads((d / "summary.json").read_text())
    data["totals"]["money"]["salaries"] += 1000.0
    (d / "summary.json").write_text(json.dumps(data))
    r = verify_plan(inst, d)
    assert failed(r) == {"E-TOTALS"} and [c.family for c in r.failures] == ["money.salaries"]


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


@pytest.fixture
def hand_assignment(tmp_path: Path) -> Path:
    return write_hand_assignment(tmp_path / "assign")


def test_hand_assignment_passes(tiny: Instance, hand: Path, hand_assignment: Path) -> None:
    report = verify_assignment(tiny, hand, hand_assignment)
    assert report.ok, format_report(report)
    assert {"E1", "F-HIRING", "E-MOVES", "E-PACKAGES", "E-DEPT", "E4", "E-TOTALS"} <= report.clause_ids()
    posts = [c for c in report.checks if c.clause_id == "F-HIRING" and "sw_uncertified" in c.description]
    assert posts and posts[0].value == 4 and posts[0].limit == 4            # 2 in post + 2 hired = 1 + 3 posts
    assert find(report, "E4", "packages", "S1").limit == pytest.approx(3420 - 400 - 80)


def _roster_edit(fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> Callable[[Path], None]:
    return lambda d: edit_csv(d / "roster.csv", fn)


def _set(worker: str, **values: object) -> Callable[[pd.DataFrame], None]:
    def fn(df: pd.DataFrame) -> None:
        for k, v in values.items():
            df[k] = df[k].astype(object)
            df.loc[df["worker_id"] == worker, k] = v
    return fn


ASSIGNMENT_BREAKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "a worker dismissed": (_roster_edit(lambda df: df[df["worker_id"] != "W3"]), "E1"),
    "a worker twice": (_roster_edit(lambda df: pd.concat([df, df.iloc[[2]]])), "E-ROSTER"),
    "a volunteer turned social worker": (_roster_edit(_set("W7", type="social_worker")), "E-ROSTER"),
    "a downgrade": (_roster_edit(_set("W4", to_level="none")), "E-ROSTER"),
    "uncertified in a certified post": (_roster_edit(_set("W3", to_level="intermediate")), "F-CERT-RATE"),
    "a post neither filled nor hired": (lambda d: edit_csv(d / "hires.csv", lambda df: df.assign(hires=1,
                                                                                                annual_cost=42000.0,
                                                                                                local_required=0)),
                                        "F-HIRING"),
    "a post overfilled": (lambda d: edit_csv(d / "hires.csv", lambda df: df.assign(hires=3, annual_cost=126000.0)),
                          "F-HIRING"),
    "a hire's cost misstated": (lambda d: edit_csv(d / "hires.csv", lambda df: df.assign(annual_cost=1.0)),
                                "E-TABLES"),
    "a move over the limit": (_roster_edit(_set("W8", to_station="S2", moved=1)), "E-MOVES"),
    "a package copy twice": (lambda d: edit_csv(d / "packages.csv", lambda df: pd.concat([df, df.iloc[[0]]])),
                             "E-PACKAGES"),
    "a rural package at an urban station": (lambda d: edit_csv(d / "packages.csv",
                                                               lambda df: df.assign(station_id=["S1", "S1"])),
                                            "E-PACKAGES"),
    "a package at a station not built": (lambda d: edit_csv(d / "packages.csv",
                                                            lambda df: df.assign(station_id=["S4", "S3"])),
                                         "E-PACKAGES"),
}


@pytest.mark.parametrize("name", list(ASSIGNMENT_BREAKS))
def test_a_broken_assignment_is_caught(tiny: Instance, hand: Path, hand_assignment: Path, name: str) -> None:
    edit, clause = ASSIGNMENT_BREAKS[name]
    edit(hand_assignment)
    report = verify_assignment(tiny, hand, hand_assignment)
    assert clause in failed(report), format_report(report)
    bad = [c for c in report.failures if c.clause_id == clause]
    assert all(c.message.startswith("FAIL") for c in bad)


def test_a_missing_certify_names_the_station_and_step(tiny: Instance, hand: Path, hand_assignment: Path) -> None:
    _roster_edit(_set("W3", to_level="assistant"))(hand_assignment)
    report = verify_assignment(tiny, hand, hand_assignment)
    cert = [c for c in report.failures if c.clause_id == "F-CERT-RATE"]
    assert [(c.family, c.station_id) for c in cert] == [("certified", "S1")]
    assert "certify" in cert[0].message
    _roster_edit(_set("W3", upgrade="certify"))(hand_assignment)             # listed: only the posts are off now
    report = verify_assignment(tiny, hand, hand_assignment)
    assert failed(report) == {"F-HIRING"}
    over = [c for c in report.failures if c.station_id == "S1"]
    assert {c.shortfall for c in over} == {1.0}


def test_local_hires_at_a_rural_station(tiny: Instance, hand: Path, hand_assignment: Path, tmp_path: Path) -> None:
    inst = tiny_with(tmp_path, "[clauses.F-LOCAL-HIRE]\nshare = 0.4\n")
    assert verify_assignment(inst, hand, hand_assignment).ok
    edit_csv(hand_assignment / "hires.csv", lambda df: df.assign(local_required=0))
    report = verify_assignment(inst, hand, hand_assignment)
    bad = {(c.clause_id, c.family, c.station_id) for c in report.failures}
    assert {("F-LOCAL-HIRE", "hires", "S3"), ("F-LOCAL-HIRE", "station", "S3")} <= bad
    station = find(report, "F-LOCAL-HIRE", "station", "S3")
    assert station.value == 1 and station.limit == pytest.approx(1.2)          # W5 local, no local hire


def test_a_local_shortfall_forced_by_staff_in_post_passes(hand: Path, hand_assignment: Path, tmp_path: Path) -> None:
    """S3 with one post for W5, who is not local: nothing to hire, nobody moved: forced, noted, not failed."""
    inst = tiny_with(tmp_path, "[clauses.F-LOCAL-HIRE]\nshare = 0.4\n")
    folder = tmp_path / "tiny-copy"
    edit_csv(folder / "staff.csv", lambda df: df.assign(local_registration=df["worker_id"] != "W5"))
    inst = load(folder)
    edit_csv(hand / "staff.csv", lambda df: df.assign(sw_uncertified=[1, 0, 1, 0], social_workers=[2, 1, 1, 0]))
    edit_csv(hand_assignment / "hires.csv", lambda df: df.iloc[0:0])
    report = verify_assignment(inst, hand, hand_assignment)
    assert failed(report) == {"E-TOTALS"}                                       # assignment.json says 2 hires
    check = find(report, "F-LOCAL-HIRE", "station", "S3")
    assert check.ok and check.shortfall == pytest.approx(0.4) and "forced" in check.message
    assert any("F-LOCAL-HIRE [station]" in n for n in report.notes)
    # a non-local worker moved in is not forced
    _roster_edit(_set("W3", to_station="S3", moved=1))(hand_assignment)
    edit_csv(hand / "staff.csv", lambda df: df.assign(sw_uncertified=[0, 0, 2, 0], social_workers=[1, 1, 2, 0]))
    report = verify_assignment(inst, hand, hand_assignment)
    assert not find(report, "F-LOCAL-HIRE", "station", "S3").ok


def test_department_budget_and_hours(hand: Path, hand_assignment: Path, tmp_path: Path) -> None:
    deps = pd.read_csv(TINY / "departments.csv").assign(budget=[50000, 300000])
    inst = tiny_with(tmp_path, departments=deps)
    report = verify_assignment(inst, hand, hand_assignment)
    bad = find(report, "E-DEPT", "budget", "health")
    assert not bad.ok and bad.shortfall == pytest.approx(10000)
    assert failed(report) == {"E-DEPT"}


def test_verify_cli_with_an_assignment(hand: Path, hand_assignment: Path) -> None:
    from click.testing import CliRunner

    from cli import main

    r = CliRunner().invoke(main, ["verify", str(TINY), str(hand), "--assignment", str(hand_assignment)])
    assert r.exit_code == 0, r.output
    for f in hand_assignment.iterdir():                                         # found by itself in PLAN_DIR
        shutil.copy(f, hand / f.name)
    r = CliRunner().invoke(main, ["verify", str(TINY), str(hand), "--json"])
    assert r.exit_code == 0 and "E-PACKAGES" in r.output
    edit_csv(hand / "roster.csv", lambda df: df[df["worker_id"] != "W1"])
    r = CliRunner().invoke(main, ["verify", str(TINY), str(hand)])
    assert r.exit_code == 7 and "W1" in r.output
    r = CliRunner().invoke(main, ["verify", str(TINY), str(hand), "--assignment", str(hand / "nowhere")])
    assert r.exit_code == 7 and "E-FILES" in r.output



def test_the_verifier_shares_no_code_with_the_engine() -> None:
    import subprocess
    import sys

    code = ("import sys, allocator.verify; print(','.join(sorted(m for m in sys.modules "
            "if m.startswith(('allocator', 'solvers')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    loaded = set(out.strip().split(","))
    assert not loaded & {"allocator.station", "allocator.assign", "allocator.gap", "solvers"}, loaded
