"""Time limits as promises: ``--time-limit`` against the wall time of the whole command.

    nice python benchmarks/time_limits.py --stations 1000 5000 --limits 20 60 --out-dir /tmp/tl
    nice python benchmarks/time_limits.py --stations 10000 --methods decompose --limits 60
    nice python benchmarks/time_limits.py --stations --commands prices diagnose circle --limits 30

``--commands`` adds, per limit, ``allocator prices instances/a-district-2026``, ``allocator diagnose
instances/a-district-2026`` and ``allocator circle instances/fuzhou-circle --model pmedian --gap 0`` (each
``--time-limit L --json``); they are measured the same way.

Each case runs ``allocator solve DIR --time-limit L --method M --out PLAN`` in a fresh process (the
national instances of :mod:`national`, seed 1) and records the wall time from process start to exit
(Python start-up, load, build, solve, tables, writing), the exit code, the plan's status and gap and
the overrun, wall minus limit.  A hard timeout of ``3 * limit + 60`` s stops a case that ignores its
limit altogether.  Results go to ``benchmarks/results/time_limits.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchutil import ensure_instance, machine, run_child, save  # noqa: E402

CLI = "import sys, cli; sys.argv[0] = 'allocator'; cli.main()"


ROOT = HERE.parent
COMMANDS = {
    "prices": ["prices", str(ROOT / "instances" / "a-district-2026")],
    "diagnose": ["diagnose", str(ROOT / "instances" / "a-district-2026")],
    "circle": ["circle", str(ROOT / "instances" / "fuzhou-circle"), "--model", "pmedian", "--gap", "0"],
}


def run_case(folder: Path, limit: float, method: str, out_dir: Path) -> dict[str, object]:
    """One ``allocator solve`` under ``limit``; wall time, exit code, status, gap, overrun."""
    plan = out_dir / f"{folder.name}-{method}-{limit:g}"
    args = ["solve", str(folder), "--time-limit", f"{limit:g}", "--method", method, "--out", str(plan)]
    row = run_command(args, limit, out_dir / f"{plan.name}.log")
    return {"stations": int(folder.name.split("-")[1]), "method": method, **row}


def run_command(command: list[str], limit: float, log: Path) -> dict[str, object]:
    """One CLI command (``--json`` added) under ``limit``; wall time, exit code, status, gap, overrun."""
    args = ["-c", CLI, *command, "--time-limit", f"{limit:g}", "--json"]
    r = run_child(args, timeout=3 * limit + 60, log=log)
    summary: dict[str, object] = {}
    text = log.read_text(errors="replace")
    start = text.find("{")
    if start >= 0:
        try:
            summary = json.loads(text[start:])
        except json.JSONDecodeError:
            summary = {}
    status = summary.get("status")
    if status is None and "feasible" in summary:  # diagnose: whether a plan exists
        status = "feasible" if summary["feasible"] else "infeasible"
    return {"command": " ".join(command[:2]), "limit_s": limit,
            "wall_s": round(float(r["wall_s"]), 2), "overrun_s": round(float(r["wall_s"]) - limit, 2),
            "exit": r["returncode"], "killed": r["killed"], "status": status,
            "gap": summary.get("gap"), "message": str(summary.get("message", ""))[:160],
            "peak_rss_mib": r["peak_rss_mib"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--limits", type=float, nargs="+", default=[20.0, 60.0])
    parser.add_argument("--methods", nargs="+", default=["monolithic"], choices=["monolithic", "decompose"])
    parser.add_argument("--commands", nargs="*", default=[], choices=sorted(COMMANDS))
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument("--results", default="time_limits", help="results/<NAME>.json (default: time_limits)")
    a = parser.parse_args(argv)
    out_dir = a.out_dir or Path(tempfile.mkdtemp(prefix="allocator-tl-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in a.stations:
        folder = ensure_instance(n, 1, out_dir)
        for method in a.methods:
            for limit in a.limits:
                row = run_case(folder, limit, method, out_dir)
                rows.append(row)
                print(json.dumps(row), flush=True)
    for name in a.commands:
        for limit in a.limits:
            row = run_command(COMMANDS[name], limit, out_dir / f"{name}-{limit:g}.log")
            rows.append(row)
            print(json.dumps(row), flush=True)
    path = save(a.results, {"machine": machine(), "cases": rows})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
