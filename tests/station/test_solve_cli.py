"""`allocator solve` end to end: exit codes, outputs written whole, byte-identical reruns."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, main
from tests.conftest import ROOT

A = str(ROOT / "instances" / "a-district-2026")
F = str(ROOT / "instances" / "fuzhou-2026")
PLAN_FILES = {"staff.csv", "budget.csv", "services.csv", "coverage.csv", "stations.csv", "clauses.csv",
              "summary.json", "manifest.json"}


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("path", [A, F], ids=["a-district-2026", "fuzhou-2026"])
def test_solve_writes_a_complete_plan_and_strict_exits_infeasible(tmp_path: Path, path: str) -> None:
    out = tmp_path / "plan"
    r = run("solve", path, "--out", str(out))
    assert r.exit_code == EXIT_OK, r.output
    assert "OPTIMAL" in r.output and "Soft clauses not met" in r.output
    # both seeds have X-MOVES and funding sources in force; Fuzhou F-DEGREE / F-YOUNG (profile.csv)
    extra = {"moves.csv", "sources.csv"} | ({"profile.csv"} if path == F else set())
    assert {p.name for p in out.iterdir()} == PLAN_FILES | extra
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["solver"] == "highs" and manifest["instance_hash"]
    r = run("solve", path, "--strict", "--out", str(tmp_path / "strict"))
    assert r.exit_code == EXIT_INFEASIBLE
    assert "INFEASIBLE" in r.output
    assert not (tmp_path / "strict").exists()


def test_same_instance_options_and_seed_give_byte_identical_files(tmp_path: Path) -> None:
    for k in (1, 2):
        assert run("solve", F, "--seed", "7", "--out", str(tmp_path / f"p{k}")).exit_code == EXIT_OK
    for name in PLAN_FILES:
        assert (tmp_path / "p1" / name).read_bytes() == (tmp_path / "p2" / name).read_bytes(), name


def test_json_output_is_machine_readable() -> None:
    r = CliRunner().invoke(main, ["solve", A, "--json"])
    data = json.loads(r.stdout)
    assert data["status"] == "optimal" and data["totals"]["staff"] > 0


def test_bad_input_and_unknown_solver_exit_2(tmp_path: Path) -> None:
    assert run("solve", str(tmp_path / "nowhere")).exit_code == EXIT_INPUT
    assert run("solve", A, "--solver", "nosuch").exit_code == EXIT_INPUT


def test_a_killed_solve_leaves_no_partial_plan_directory(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "allocator"
    for delay in (0.3, 0.8, 1.2, 1.6):
        out = tmp_path / f"killed-{delay}"
        proc = subprocess.Popen([str(exe), "solve", F, "--out", str(out)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Either nothing at the target, or the whole plan: never a half-written directory.
        if out.exists():
            assert {p.name for p in out.iterdir()} == PLAN_FILES
