"""A Plan is a value: read_plan(write_plan(plan)) gives it back; --mps writes the model solved, once built."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import allocator.station.solve
from allocator.instance import load
from allocator.outcome import Outcome
from allocator.station import Plan, read_plan, solve_instance, write_plan
from cli import EXIT_OK, main
from solvers import SolveOptions, Status
from tests.conftest import write_instance


@pytest.fixture(scope="module")
def mini_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    inst = load(write_instance(tmp_path_factory.mktemp("mini") / "mini"))
    plan = solve_instance(inst, options=SolveOptions(mip_gap=1e-6))
    assert plan.status is Status.OPTIMAL and plan.tables
    return plan


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_plan_keeps_one_outcome_and_the_old_fields_read_through_it(mini_plan: Plan) -> None:
    o = mini_plan.outcome
    assert isinstance(o, Outcome)
    assert (mini_plan.status, mini_plan.objective, mini_plan.bound, mini_plan.gap, mini_plan.solver,
            mini_plan.seconds, mini_plan.message) == (o.status, o.objective, o.bound, o.gap, o.solver, o.seconds,
                                                      o.message)
    assert mini_plan.solver == "highs" and mini_plan.seconds > 0


def _without_seconds(o: object) -> object:
    if isinstance(o, dict):
        return {k: _without_seconds(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, list):
        return [_without_seconds(v) for v in o]
    return o


def test_read_plan_gives_back_the_plan_written(mini_plan: Plan, tmp_path: Path) -> None:
    write_plan(mini_plan, tmp_path / "a")
    back = read_plan(tmp_path / "a")
    assert list(back.tables) == sorted(mini_plan.tables)
    for name, df in mini_plan.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], df, check_exact=True)
    written = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert back.summary == written
    assert back.manifest == _without_seconds(mini_plan.manifest)  # wall-clock timings are not written
    assert back.solver_version == mini_plan.solver_version
    o, b = mini_plan.outcome, back.outcome
    assert (b.status, b.solver, b.message) == (o.status, o.solver, o.message)
    for got, want in ((b.objective, o.objective), (b.bound, o.bound), (b.gap, o.gap)):
        assert got == (None if want is None else round(want, 6))
    assert b.seconds == 0.0  # not written: a rerun must be byte-identical
    # Written again, the value read back gives the same bytes.
    write_plan(back, tmp_path / "b")
    assert files(tmp_path / "b") == files(tmp_path / "a")


def test_read_plan_keeps_ids_that_look_like_numbers_and_blank_station_ids(mini_plan: Plan, tmp_path: Path) -> None:
    clauses = mini_plan.tables["clauses"]
    assert (clauses["station_id"] == "").any(), "the mini plan has total rows"
    staff = mini_plan.tables["staff"].assign(station_id=["007"])
    write_plan(Plan(mini_plan.outcome, mini_plan.solver_version, {**mini_plan.tables, "staff": staff},
                    mini_plan.summary, mini_plan.manifest), tmp_path / "p")
    back = read_plan(tmp_path / "p")
    assert list(back.tables["staff"]["station_id"]) == ["007"]
    assert list(back.tables["clauses"]["station_id"]) == list(clauses["station_id"])


def test_read_plan_of_a_folder_without_a_plan_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_plan(tmp_path)


def test_mps_export_builds_the_model_once_and_names_its_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = allocator.station.solve.build

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(allocator.station.solve, "build", counting)
    folder = write_instance(tmp_path / "mini")
    mps = tmp_path / "model.mps"
    r = CliRunner().invoke(main, ["solve", str(folder), "--mps", str(mps), "--gap", "1e-6"], catch_exceptions=False)
    assert r.exit_code == EXIT_OK, r.output
    assert len(calls) == 1
    text = mps.read_text()
    for name in ("A-SPLIT[salaries]", "E3-PAYROLL[S1]", "F-SW-URBAN[S1]", "swu[S1]", "y[S1,f1]"):
        assert name in text, name
