"""The test cases too slow for the suite, run by hand with the suite's own assertions.

Each case is a pytest node of the test suite that is collected only when ``ALLOCATOR_SLOW_CASES=1``
(the suite keeps a faster variant of each property: see the test files).  This script sets the variable,
runs the nodes with ``pytest -n <workers> --durations=0`` and writes the outcome and every node's time to
``benchmarks/results/slow_cases.json``.

    .venv/bin/python benchmarks/slow_cases.py              # every slow case, 2 pytest workers
    .venv/bin/python benchmarks/slow_cases.py -k gap       # only the nodes whose id contains "gap"
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

from benchutil import PYTHON, ROOT, machine, save

GAP = "tests/assign/test_gap.py::test_known_optimum"
CASES = [
    # OR-Library GAP rows HiGHS needs 10-80 s each to prove optimal (tests/assign/test_gap.py SLOW_ROWS).
    *(f"{GAP}[{r}]" for r in ("gapb-2-max", "gapb-2-min", "gapb-4-min", "gapc-2-max", "gapc-3-max", "gapc-3-min",
                              "gapc-4-max", "gapc-4-min", "gapc-5-min", "gapc-6-max", "gapc-6-min")),
    # The decomposition proving a coupled instance infeasible (about 100 s: it runs its Lagrangian
    # iterations before it concludes), on the binding budget and with every clause hard.
    "tests/decompose/test_decompose.py::test_an_infeasible_coupled_instance_is_reported_infeasible",
    "tests/decompose/test_decompose.py::test_agrees_with_the_monolithic_oracle[key5-1.0-True]",
    # OR-Tools on A-district (46 s), CBC and OR-Tools on Fuzhou (75-80 s each), against HiGHS.
    "tests/station/test_model.py::test_backends_agree_on_seed_objectives[a-district-2026-ortools]",
    "tests/station/test_model.py::test_backends_agree_on_seed_objectives[fuzhou-2026-cbc]",
    "tests/station/test_model.py::test_backends_agree_on_seed_objectives[fuzhou-2026-ortools]",
    # The whole diagnosis of both one-year seeds (60-120 s each), at a limit that lets it finish.
    "tests/test_diagnose.py::test_district_a_conflict_1_salaries_vs_split",
    "tests/test_diagnose.py::test_fuzhou_conflicts_2_and_3_and_data_issues_4_and_5",
    # The property tests at their former example counts (150 and 60).
    "tests/instance/test_properties.py::test_validate_never_crashes_on_mutated_files",
    "tests/instance/test_properties.py::test_validate_never_crashes_on_a_mutated_workbook",
    # The multi-year seeds solved and held against POLICY.md's path (minutes each: see benchmarks/README.md).
    "tests/station/test_path_seeds.py",
    # The decomposition of the one-year Fuzhou seed with issue 15's city-wide shares (no plan within 120 s).
    "tests/decompose/test_decompose.py::test_seed_instances_bracket_the_monolithic_optimum[fuzhou-2026]",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only the cases whose node id contains this text")
    ap.add_argument("-n", type=int, default=2, help="pytest-xdist workers (default 2)")
    args = ap.parse_args()
    nodes = [c for c in CASES if args.k in c]
    env = {**os.environ, "ALLOCATOR_SLOW_CASES": "1"}
    cmd = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0", "-n", str(args.n), *nodes]
    info = machine()
    info["loadavg"] = list(os.getloadavg())
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    sys.stdout.write(proc.stdout[-20000:])
    sys.stderr.write(proc.stderr[-5000:])
    durations = [{"seconds": float(m[1]), "phase": m[2], "node": m[3]}
                 for m in re.finditer(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)", proc.stdout, re.M)]
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    save("slow_cases", {"command": " ".join(["benchmarks/slow_cases.py", *sys.argv[1:]]), "machine": info,
                        "nodes": nodes, "returncode": proc.returncode, "summary": tail,
                        "wall_s": round(wall, 1), "durations": durations})
    print(f"{len(nodes)} slow cases, wall {wall:.0f} s, pytest exit {proc.returncode}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
