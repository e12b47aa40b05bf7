"""Time limits are promises, command by command (issue 17, items 20-22).

Each row runs one CLI command in a fresh process with a small ``--time-limit`` on a seed instance that
takes longer than that without the limit (the decomposition of Fuzhou ran 13 minutes, ``prices`` on
District A past 120 s), and asserts that the whole command (Python start-up, reading, build, every solve,
writing) ends within the limit plus :data:`SLACK`, with an exit code that goes with a plan found or a
clean no-plan, and no traceback.  Long limits and national sizes are in ``benchmarks/time_limits.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
A, F = ROOT / "instances" / "a-district-2026", ROOT / "instances" / "fuzhou-2026"
CIRCLE = ROOT / "instances" / "fuzhou-circle"
# Seconds a command may run past its limit: issue 17's promise (the machine is shared, start-up alone can
# take seconds, and the deadline counts it).
SLACK = 5.0
PLAN_OR_NOT = {0, 1, 4}  # optimal, feasible with a gap, no plan within the limit

# (id, arguments after `allocator`, limit, exit codes allowed, words the output must hold)
CASES = [
    ("solve-monolithic", ["solve", str(F), "--method", "monolithic", "--gap", "0", "--json"], 3.0, PLAN_OR_NOT,
     '"status"'),
    ("solve-decompose", ["solve", str(F), "--method", "decompose", "--json"], 4.0, PLAN_OR_NOT, '"status"'),
    ("diagnose", ["diagnose", str(A), "--json"], 3.0, {0, 3}, '"feasible"'),
    ("prices", ["prices", str(A), "--json"], 4.0, PLAN_OR_NOT, '"prices"'),
    ("whatif", ["whatif", str(F), "--set", "F-TOTAL.total=900000000", "--gap", "0", "--json"], 4.0, PLAN_OR_NOT,
     '"totals"'),
    # (importing the circle package and reading the circle take about 3 s of a busy machine)
    ("circle-pmedian", ["circle", str(CIRCLE), "--model", "pmedian", "--gap", "0", "--json"], 5.0, PLAN_OR_NOT,
     '"status"'),
    ("assign", ["assign", str(A), "{plan}", "--max-moves", "-1", "--json"], 3.0, PLAN_OR_NOT, ""),
]


def _run(args: list[str], limit: float, cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    code = "import sys, cli; sys.argv[0] = 'allocator'; cli.main()"
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-c", code, *args, "--time-limit", f"{limit:g}"], cwd=cwd,
                       capture_output=True, text=True, timeout=3 * limit + 60)
    return time.monotonic() - t, r


@pytest.fixture(scope="module")
def a_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "a"
    r = subprocess.run([sys.executable, "-c", "import sys, cli; sys.argv[0] = 'allocator'; cli.main()",
                        "solve", str(A), "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return out


@pytest.mark.parametrize(("args", "limit", "codes", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_limit_covers_the_whole_command(args: list[str], limit: float, codes: set[int], words: str,
                                            a_plan: Path) -> None:
    args = [str(a_plan) if a == "{plan}" else a for a in args]
    wall, r = _run(args, limit, ROOT)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in codes, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert words in r.stdout
    assert wall <= limit + SLACK, f"{wall:.1f} s on a {limit:g} s limit"
    if r.returncode == 1 and '"gap"' in r.stdout:  # stopped with a plan: the gap is stated
        summary = json.loads(r.stdout[r.stdout.find("{"):])
        assert summary.get("gap") is not None or summary.get("status") != "feasible"


def test_sweep_limit_is_per_scenario_and_counts_each_scenario_whole(tmp_path: Path) -> None:
    scenarios = tmp_path / "s.toml"
    scenarios.write_text('[[scenario]]\nname = "base"\nset = {}\n\n[[scenario]]\nname = "rich"\n'
                         'set = {"F-TOTAL.total" = 900000000}\n')
    limit = 3.0
    wall, r = _run(["sweep", str(F), str(scenarios), "--workers", "1", "--gap", "0", "--out", str(tmp_path / "o"),
                    "--json"], limit, ROOT)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    rows = (tmp_path / "o" / "results.csv").read_text().splitlines()
    assert len(rows) == 3
    header = rows[0].split(",")
    seconds = [float(line.split(",")[header.index("seconds")]) for line in rows[1:]]
    assert max(seconds) <= limit + 1.0, seconds  # each scenario within its own limit (its margin included)
    # The limit is per scenario: the sweep's own start-up, instance check and results.parquet come on top,
    # one SLACK each for the command and for the worker's first load.
    assert wall <= 2 * limit + 2 * SLACK, f"{wall:.1f} s for two scenarios of {limit:g} s"
