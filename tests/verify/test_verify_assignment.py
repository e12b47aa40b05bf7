"""The assignment (roster, hiring list, packages) of the hand-made tiny plan, and ``verify --assignment``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from allocator.instance import Instance, load
from allocator.verify import format_report, verify_assignment
from tests.verify.helpers import TINY, edit_csv, failed, find, tiny_with


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


