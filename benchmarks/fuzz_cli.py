"""Fuzz the CLI with mutated seed instances, by the thousand (issue 17).

    python benchmarks/fuzz_cli.py                   # 1,000 cases
    python benchmarks/fuzz_cli.py --cases 3000 --solve-every 25
    python benchmarks/fuzz_cli.py --cases 1000 --jobs 2      # two processes (seeds 17, 18), results merged

Each case copies District A, Fuzhou or the tiny fixture, applies one to three mutations
(``tests/instance/cli_fuzz.py``: cells, types, rows, columns, encodings, truncation, deleted files,
symbolic links, absurd instance.toml values, garbled TOML) and runs ``allocator validate`` (every other
case with ``--json``); every ``--solve-every``-th case on the tiny fixture runs ``allocator solve
--time-limit 5 --out DIR`` instead.  The commands run in this process through click's test runner, as the
test suite does.  Each outcome must be exit 0/1/3/4 or 2 with an error line; an exit 6, a traceback or an
exception is a failure, listed with the mutations that caused it.  The hypothesis seed is fixed, so a run
is repeatable.

Results go to ``benchmarks/results/fuzz_cli.json``; ``benchmarks/README.md`` reports them.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _fuzz_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cli_fuzz", ROOT / "tests" / "instance" / "cli_fuzz.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--solve-every", type=int, default=20, help="every N-th case solves the tiny fixture")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fuzz_cli.json")
    ap.add_argument("--seed", type=int, default=17, help="hypothesis seed")
    ap.add_argument("--jobs", type=int, default=1, help="processes, each with its own seed and share of cases")
    args = ap.parse_args()
    if args.jobs > 1:
        _parallel(args)
        return

    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st

    fz = _fuzz_module()
    codes: collections.Counter[str] = collections.Counter()
    by_seed: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    failures: list[dict[str, object]] = []
    count = [0]

    @seed(args.seed)
    @settings(max_examples=args.cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data(), which=st.sampled_from(["a-district-2026", "fuzhou-2026", "tiny"]), n=st.integers(1, 3))
    def case(data: st.DataObject, which: str, n: int) -> None:
        i = count[0]
        count[0] += 1
        solve = args.solve_every > 0 and i % args.solve_every == 0
        which = "tiny" if solve else which
        with tempfile.TemporaryDirectory() as tmp:
            folder, done = fz.make_case(Path(tmp), which, n, data.draw)
            if solve:
                cmd = ["solve", str(folder), "--time-limit", "5", "--out", str(Path(tmp) / "plan")]
            else:
                cmd = ["validate", "--json", str(folder)] if i % 2 else ["validate", str(folder)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = fz.run(cmd)
        problem = fz.outcome_problem(result)
        codes[f"{cmd[0]} exit {result.exit_code}"] += 1
        by_seed[which] += 1
        for d in done:
            kinds[d.split(" ")[0]] += 1
        if problem is not None or "Traceback" in result.stdout + result.stderr:
            failures.append({"case": i, "seed": which, "command": cmd[0], "mutations": done, "problem": problem})
        if count[0] % 100 == 0:
            print(f"{count[0]} cases, {len(failures)} failures", flush=True)

    t0 = time.perf_counter()
    case()
    seconds = time.perf_counter() - t0
    report = {
        "command": "python benchmarks/fuzz_cli.py " + " ".join(sys.argv[1:]),
        "cases": count[0], "seconds": round(seconds, 1), "exit_codes": dict(sorted(codes.items())),
        "exit_6": sum(v for k, v in codes.items() if k.endswith("exit 6")),
        "tracebacks_or_exceptions": sum(1 for f in failures if "traceback" in str(f["problem"])
                                        or "exception" in str(f["problem"])),
        "failures": failures[:50], "seeds": dict(by_seed), "mutation_kinds": dict(kinds.most_common()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k not in ("failures", "mutation_kinds")}, indent=2))
    print(f"{len(failures)} failures; details in {args.out}")


def _parallel(args: argparse.Namespace) -> None:
    """Run ``args.jobs`` child processes (seeds seed, seed+1, ...) and merge their reports."""
    import subprocess

    t0 = time.perf_counter()
    parts = []
    procs = []
    for j in range(args.jobs):
        cases = args.cases // args.jobs + (1 if j < args.cases % args.jobs else 0)
        part = args.out.with_name(f"{args.out.stem}.part{j}.json")
        parts.append(part)
        procs.append(subprocess.Popen([sys.executable, __file__, "--cases", str(cases), "--seed", str(args.seed + j),
                                       "--solve-every", str(args.solve_every), "--out", str(part)]))
    for p in procs:
        p.wait()
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in parts]
    merged: dict[str, object] = {"command": "python benchmarks/fuzz_cli.py " + " ".join(sys.argv[1:]),
                                 "seconds": round(time.perf_counter() - t0, 1)}
    for key in ("cases", "exit_6", "tracebacks_or_exceptions"):
        merged[key] = sum(r[key] for r in reports)
    for key in ("exit_codes", "seeds", "mutation_kinds"):
        c: collections.Counter[str] = collections.Counter()
        for r in reports:
            c.update(r[key])
        merged[key] = dict(sorted(c.items()))
    merged["failures"] = [f for r in reports for f in r["failures"]][:50]
    merged["parts"] = [{"seed": args.seed + j, "cases": r["cases"], "seconds": r["seconds"]}
                       for j, r in enumerate(reports)]
    args.out.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    for p in parts:
        p.unlink()
    print(json.dumps({k: v for k, v in merged.items() if k not in ("failures", "mutation_kinds")}, indent=2))


if __name__ == "__main__":
    main()
