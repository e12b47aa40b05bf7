"""``allocator verify PLAN --assignment DIR`` on one year of a horizon plan (issue 14).

The instance is the hand-made 2-station, 2-year one of ``tests/station/test_horizon.py`` (S1 with three
uncertified social workers W0-W2, S2 new).  Its optimal plan: in 2024 one of S1's three leaves and S1 and
S2 hire one each; in 2025 S2's 2024 hire leaves and S1 hires one.  So the staff in post in 2024 is two of
W0-W2 (at S1), in 2025 those two and ``hire-2024-S1-...``.  The verifier checks each year's roster against
that year's staff in post (``staff_in_post.csv``, cross-checked with the plan's stock, leavers and hires),
not today's staff.csv: a worker the plan lets go is not dismissed, a hire of an earlier year is not unknown.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import load
from allocator.verify import verify_assignment
from cli import main
from tests.test_horizon_commands import _write, two, two_plan  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def assigned(two: Path, two_plan: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:  # noqa: F811
    base = tmp_path_factory.mktemp("hz-assign")
    out = {}
    for year in (2024, 2025):
        r = CliRunner().invoke(main, ["assign", str(two), str(two_plan), "--year", str(year), "--out",
                                      str(base / str(year)), "--time-limit", "60"])
        assert r.exit_code == 0, r.output
        out[year] = base / str(year)
    return out


@pytest.mark.parametrize("year", [2024, 2025])
def test_each_year_of_a_horizon_assignment_verifies(two: Path, two_plan: Path,  # noqa: F811
                                                    assigned: dict[int, Path], year: int) -> None:
    r = CliRunner().invoke(main, ["verify", str(two), str(two_plan), "--assignment", str(assigned[year])])
    assert r.exit_code == 0, r.output
    report = verify_assignment(load(two), two_plan, assigned[year])
    ins = [c for c in report.checks if c.clause_id == "E1" and c.family == "in_post" and c.station_id is None]
    # the social workers in post that year, all stations: 3 - 1 = 2 in 2024; 2 + 2 hires - 1 = 3 in 2025
    got = {c.description.split(" in ")[0]: c.value for c in ins}
    assert got["none"] == (2 if year == 2024 else 3)
    roster = pd.read_csv(assigned[year] / "roster.csv")
    assert (roster["worker_id"].str.startswith("hire-2024-").sum() == 1) == (year == 2025)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_a_worker_dismissed_in_a_year_fails(two: Path, two_plan: Path, assigned: dict[int, Path],  # noqa: F811
                                            tmp_path: Path) -> None:
    """2025: drop W0 from both staff_in_post.csv and the roster (a hire takes the post): the plan lets
    nobody else go, so the staff in post no longer matches the plan's stock less its leavers."""
    adir = _copy(assigned[2025], tmp_path / "a")
    sip = pd.read_csv(adir / "staff_in_post.csv")
    gone = sip["worker_id"].iloc[0]
    sip[sip["worker_id"] != gone].to_csv(adir / "staff_in_post.csv", index=False)
    ro = pd.read_csv(adir / "roster.csv", keep_default_na=False)
    ro[ro["worker_id"] != gone].to_csv(adir / "roster.csv", index=False)
    hi = pd.read_csv(adir / "hires.csv")
    hi.loc[(hi["station_id"] == "S1") & (hi["post"] == "sw_uncertified"), ["hires", "annual_cost"]] += [1, 36000]
    hi.to_csv(adir / "hires.csv", index=False)
    report = verify_assignment(load(two), two_plan, adir)
    assert ("E1", "in_post", "S1") in {(c.clause_id, c.family, c.station_id) for c in report.failures}
    r = CliRunner().invoke(main, ["verify", str(two), str(two_plan), "--assignment", str(adir)])
    assert r.exit_code == 7


def test_a_hire_of_the_same_year_in_post_fails(two: Path, two_plan: Path, assigned: dict[int, Path],  # noqa: F811
                                               tmp_path: Path) -> None:
    """2024: a placeholder named as a 2024 hire cannot be in post at the start of 2024."""
    adir = _copy(assigned[2024], tmp_path / "b")
    for name in ("staff_in_post.csv", "roster.csv"):
        df = pd.read_csv(adir / name, keep_default_na=False)
        df.loc[0, "worker_id"] = "hire-2024-S1-social_worker-none-1"
        df.to_csv(adir / name, index=False)
    report = verify_assignment(load(two), two_plan, adir)
    fails = [c for c in report.failures if c.clause_id == "E1" and c.family == "in_post"]
    assert fails and "neither in staff.csv nor a hire of a year before 2024" in fails[0].message


def test_a_horizon_assignment_without_its_staff_fails(two: Path, two_plan: Path,  # noqa: F811
                                                      assigned: dict[int, Path], tmp_path: Path) -> None:
    adir = _copy(assigned[2025], tmp_path / "c")
    (adir / "staff_in_post.csv").unlink()
    report = verify_assignment(load(two), two_plan, adir)
    assert report.clause_ids(failed_only=True) == {"E-FILES"}
