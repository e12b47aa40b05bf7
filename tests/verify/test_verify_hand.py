"""The verifier's arithmetic on a hand-made plan for ``tests/instance/fixtures/tiny`` (no solver involved)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from allocator.instance import Instance
from allocator.verify import Tolerance, format_report, verify_plan
from tests.verify.helpers import HAND_OBJECTIVE, edit_csv, failed, find


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


def test_strict_plan_makes_every_family_hard(tiny: Instance, hand: Path) -> None:
    data = json.loads((hand / "summary.json").read_text())
    data["strict"] = True
    (hand / "summary.json").write_text(json.dumps(data))
    edit_csv(hand / "clauses.csv", lambda df: df.assign(mode="hard", deviation=0.0))
    r = verify_plan(tiny, hand)
    assert failed(r) == {"A-STAFF-MIX", "A-CERT-RATE", "F-CERT-RATE"}
    assert {c.mode for c in r.checks} == {"hard"}


