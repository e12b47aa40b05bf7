"""Scenario sweeps: scenario files, identical tables on every executor, resume, failures, the CLI."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import allocator.station
from allocator import sweep
from allocator.sweep import (
    RESULTS_CSV,
    RESULTS_PARQUET,
    Scenario,
    ScenarioFileError,
    SweepError,
    SweepOptions,
    load_scenarios,
    run_sweep,
)
from cli import EXIT_INPUT, main
from tests.conftest import ROOT, write_instance

# 3 x 3 grid on the one-station instance (milliseconds a solve) plus the baseline and one scenario whose
# change breaks a rule (A-SPLIT's shares no longer sum to 1).
MINI_SCENARIOS = """\
[[scenario]]
name = "baseline"

[[scenario]]
name = "bad split"
set = {"A-SPLIT.salaries" = 0.6}

[grid]
"A-SALARY.monthly_min" = [2000, 2500, 3000]
"F-SW-URBAN.per_station" = [1, 2, 3]
"""


@pytest.fixture
def mini(tmp_path: Path, mini_settings: dict) -> Path:
    return write_instance(tmp_path / "mini", mini_settings)


@pytest.fixture
def scenarios(tmp_path: Path) -> list[Scenario]:
    f = tmp_path / "mini.toml"
    f.write_text(MINI_SCENARIOS, encoding="utf-8")
    return load_scenarios(f)


def table(out: Path) -> pd.DataFrame:
    """The parquet table without the one column that may differ between runs."""
    return pd.read_parquet(out / RESULTS_PARQUET).drop(columns="seconds")


def test_scenario_files_grid_names_and_csv_blanks(tmp_path: Path, scenarios: list[Scenario]) -> None:
    names = [s.name for s in scenarios]
    assert names[:2] == ["baseline", "bad split"] and len(names) == 11
    assert names[2] == "A-SALARY.monthly_min=2000|F-SW-URBAN.per_station=1"  # first axis varies slowest
    assert names[3] == "A-SALARY.monthly_min=2000|F-SW-URBAN.per_station=2"
    assert scenarios[-1].changes == {"A-SALARY.monthly_min": 3000, "F-SW-URBAN.per_station": 3}
    linked = tmp_path / "linked.toml"
    linked.write_text('[grid]\n"A-SPLIT.salaries,A-SPLIT.services" = [[0.4, 0.5], [0.5, 0.4]]\n'
                      '"objective.equity_weight" = [0.5]\n[grid.fixed]\n"A-SPLIT.facilities" = 0.1\n')
    got = load_scenarios(linked)
    assert got[1] == Scenario("A-SPLIT.salaries=0.5|A-SPLIT.services=0.4|objective.equity_weight=0.5",
                              {"A-SPLIT.facilities": 0.1, "A-SPLIT.salaries": 0.5, "A-SPLIT.services": 0.4,
                               "objective.equity_weight": 0.5})
    f = tmp_path / "s.csv"
    f.write_text("name,A-SALARY.monthly_min,F-SW-URBAN.in_force\nlow,2000,\noff,,false\n")
    assert load_scenarios(f) == [Scenario("low", {"A-SALARY.monthly_min": 2000}),
                                 Scenario("off", {"F-SW-URBAN.in_force": False})]
    shipped = {p.name: load_scenarios(p) for p in (ROOT / "instances" / "scenarios").glob("*.toml")}
    assert len(shipped["a-salary-share.toml"]) == 13 and len(shipped["fuzhou-grid.toml"]) == 1000
    for s in shipped["a-salary-share.toml"]:  # the linked axis keeps A-SPLIT's shares summing to 1
        if s.changes:
            assert sum(v for k, v in s.changes.items() if k.startswith("A-SPLIT.")) == pytest.approx(1.0)


def test_serial_pool_and_dask_give_identical_tables(tmp_path: Path, mini: Path,
                                                    scenarios: list[Scenario]) -> None:
    from distributed import LocalCluster

    serial = run_sweep(mini, scenarios, tmp_path / "serial", workers=1, progress=False)
    pool = run_sweep(mini, scenarios, tmp_path / "pool", workers=2, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = run_sweep(mini, scenarios, tmp_path / "dask", dask=cluster.scheduler_address, progress=False)
    assert (serial.executor, pool.executor) == ("in-process", "processes(2)")
    assert dask.executor.startswith("dask(")
    for r in (serial, pool, dask):
        assert r.complete and len(r.ran) == 11 and r.statuses == {"optimal": 10, "invalid": 1}
    t = table(tmp_path / "serial")
    pd.testing.assert_frame_equal(t, table(tmp_path / "pool"))
    pd.testing.assert_frame_equal(t, table(tmp_path / "dask"))
    assert list(t["name"]) == sorted(s.name for s in scenarios)
    assert list(t.columns[:3]) == ["name", "A-SPLIT.salaries", "A-SALARY.monthly_min"]
    by = t.set_index("name")
    assert "shares_sum" in by.loc["bad split", "error"] and pd.isna(by.loc["bad split", "objective"])
    # By hand: 385 residents covered by 2 workers (the 50,000-yuan salary line pays no third), less 0.001 per
    # yuan of A-SALARY shortfall (2 x 12 x floor - 50,000) and 50 per worker missing under F-SW-URBAN.
    for floor, short in ((2000, 0), (2500, 10000), (3000, 22000)):
        for per_station, missing in ((1, 0), (2, 0), (3, 1)):
            row = by.loc[f"A-SALARY.monthly_min={floor}|F-SW-URBAN.per_station={per_station}"]
            assert row["objective"] == pytest.approx(385 - 0.001 * short - 50 * missing, abs=1e-6)
            assert row["soft_deviation"] == pytest.approx(short + missing)
            assert row["social_workers"] == 2 and row["money_total"] == pytest.approx(90000)
    assert by.loc["baseline", "objective"] == pytest.approx(363)  # the instance's floor is 3,000
    assert pd.isna(by.loc["baseline", "A-SALARY.monthly_min"])  # unchanged figures are blank
    schema = pq.read_schema(tmp_path / "serial" / RESULTS_PARQUET)
    assert str(schema.field("A-SALARY.monthly_min").type) == "int64" == str(schema.field("staff").type)
    assert str(schema.field("A-SPLIT.salaries").type) == "double" == str(schema.field("money_total").type)


def test_an_interrupted_sweep_resumes_without_redoing_finished_scenarios(
        tmp_path: Path, mini: Path, scenarios: list[Scenario], monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    run_sweep(mini, scenarios, out, workers=1, progress=False)
    full = table(out)
    # Simulate a kill: no parquet, the last two rows gone and a row cut off half-way through.
    (out / RESULTS_PARQUET).unlink()
    lines = (out / RESULTS_CSV).read_text().splitlines(keepends=True)
    missing = [ln.split(",")[0] for ln in lines[-2:]]
    (out / RESULTS_CSV).write_text("".join(lines[:-2]) + lines[-2][:15])
    calls: list[str] = []
    real = sweep.run_scenario

    def counting(path: str, name: str, changes: dict, options: dict) -> dict:
        calls.append(name)
        return real(path, name, changes, options)

    monkeypatch.setattr(sweep.runner, "run_scenario", counting)
    again = run_sweep(mini, scenarios, out, workers=1, progress=False)
    assert sorted(calls) == sorted(again.ran) == sorted(missing)
    assert len(again.skipped) == len(scenarios) - 2
    pd.testing.assert_frame_equal(table(out), full)
    assert len((out / RESULTS_CSV).read_text().splitlines()) == len(scenarios) + 1  # no half row left
    # On the process pool too: a finished sweep runs nothing; a missing row is the only one run.
    assert run_sweep(mini, scenarios, out, workers=2, progress=False).ran == []
    lines = (out / RESULTS_CSV).read_text().splitlines(keepends=True)
    (out / RESULTS_CSV).write_text("".join(lines[:-1]))
    pooled = run_sweep(mini, scenarios, out, workers=2, progress=False)
    assert pooled.ran == [lines[-1].split(",")[0]] and pooled.complete
    pd.testing.assert_frame_equal(table(out), full)


def test_a_failing_scenario_is_recorded_and_the_others_complete(
        tmp_path: Path, mini: Path, scenarios: list[Scenario], monkeypatch: pytest.MonkeyPatch) -> None:
    real = allocator.station.solve_instance

    def flaky(instance: Any, *args: Any, **kwargs: Any) -> Any:
        if instance.clause("A-SALARY").figures["monthly_min"] == 2500:
            raise RuntimeError("solver crashed")
        return real(instance, *args, **kwargs)

    monkeypatch.setattr(allocator.station, "solve_instance", flaky)
    r = run_sweep(mini, scenarios, tmp_path / "out", workers=1, progress=False)
    assert r.complete and r.statuses == {"optimal": 7, "error": 3, "invalid": 1}
    assert len(r.failed) == 4
    t = table(tmp_path / "out").set_index("name")
    crashed = t[t["status"] == "error"]
    assert list(crashed["A-SALARY.monthly_min"]) == [2500] * 3
    assert (crashed["error"] == "RuntimeError: solver crashed").all()
    assert t.loc[t["status"] == "optimal", "error"].isna().all()
    assert t.loc[t["status"] == "optimal", "objective"].notna().all()


def test_a_results_folder_of_other_options_is_refused(tmp_path: Path, mini: Path,
                                                      scenarios: list[Scenario]) -> None:
    run_sweep(mini, scenarios[:2], tmp_path / "out", workers=1, progress=False)
    with pytest.raises(SweepError, match="options"):
        run_sweep(mini, scenarios[:2], tmp_path / "out", SweepOptions(mip_gap=0.05), workers=1, progress=False)
    with pytest.raises(SweepError, match="columns"):
        run_sweep(mini, scenarios, tmp_path / "out", workers=1, progress=False)


def test_sweep_cli_end_to_end_and_rerun(tmp_path: Path, mini: Path) -> None:
    f = tmp_path / "mini.toml"
    f.write_text(MINI_SCENARIOS, encoding="utf-8")
    out = tmp_path / "out"
    args = ["sweep", str(mini), str(f), "--workers", "1", "--out", str(out)]
    r = CliRunner().invoke(main, args)
    # issue 17, item 12: one scenario of the set is invalid ("bad split"), so the sweep does not exit 0
    assert r.exit_code == EXIT_INPUT, r.output
    assert "11 scenarios: 11 run now" in r.stdout and "invalid 1, optimal 10" in r.stdout
    assert "1 of 11 scenario(s) invalid" in r.stdout and "  bad split: " in r.stdout
    assert (out / RESULTS_PARQUET).exists()
    r = CliRunner().invoke(main, args)
    assert r.exit_code == EXIT_INPUT and "0 run now" in r.stdout and "11 already in" in r.stdout
    r = CliRunner().invoke(main, [*args, "--gap", "0.2"])
    assert r.exit_code == EXIT_INPUT and "another options" in r.stderr


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("bad.toml", '[[scenario]]\nname = "x"\nset = {"NOT-A-CLAUSE.x" = 1}\n',
     ['bad.toml, column scenario[1].set."NOT-A-CLAUSE.x"', "unknown_key"]),
    ("bad.toml", '[grid]\n"A-SPLIT.salaries,A-SPLIT.services" = [[0.3, 0.4], [0.2]]\n',
     ['bad.toml, column grid."A-SPLIT.salaries,A-SPLIT.services"[2]', "bad_value"]),
    ("bad.toml", "[[scenario]]\nname = \n", ["bad.toml", "toml_syntax"]),
    ("bad.toml", '[[scenario]]\nset = {"A-SALARY.monthly_min" = 1}\n', ["scenario[1].name", "missing_name"]),
    ("bad.csv", "name,A-SALARY.monthly_min\nlow,2000\nlow,2500\n", ["bad.csv, row 3", "duplicate_name"]),
    ("bad.csv", "label,A-SALARY.monthly_min\nlow,2000\n", ["bad.csv, row 1, column name", "missing_column"]),
    ("bad.csv", "name,A-SALARY\nlow,2000\n", ["bad.csv, row 1, column A-SALARY", "bad_key"]),
])
def test_a_malformed_scenarios_file_exits_2_naming_file_and_key(tmp_path: Path, mini: Path, name: str,
                                                                 text: str, expected: list[str]) -> None:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioFileError):
        load_scenarios(f)
    r = CliRunner().invoke(main, ["sweep", str(mini), str(f), "--out", str(tmp_path / "out")])
    assert r.exit_code == EXIT_INPUT, r.output
    for e in expected:
        assert e in r.stderr
    assert not (tmp_path / "out").exists()


def test_progress_bar_only_when_asked() -> None:
    buf = io.StringIO()
    bar = sweep._Progress(4, True, buf)
    bar.update(2, 1, force=True)
    bar.close()
    assert "2/4" in buf.getvalue() and "1 failed" in buf.getvalue() and buf.getvalue().endswith("\n")
    quiet = io.StringIO()
    sweep._Progress(4, False, quiet).update(4, 0, force=True)
    assert quiet.getvalue() == ""
