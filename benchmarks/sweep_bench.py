"""Benchmark of ``allocator sweep``: 1,000 scenarios of the Fuzhou instance on 2 worker processes.

Target: the 1,000 points of ``instances/scenarios/fuzhou-grid.toml`` in at most 5 minutes on 2 cores.

Run from the checkout::

    .venv/bin/python benchmarks/sweep_bench.py --workers 2            # the full grid, ~10-20 min
    .venv/bin/python benchmarks/sweep_bench.py --workers 2 --limit 20 # a quick look

It runs :func:`allocator.sweep.run_sweep` (the code path of the CLI) into a fresh folder, so nothing is
skipped, and reports wall time, scenarios per second, statuses and failures.  Because the machine may be
shared, it also samples the CPU time of its own worker processes and of the whole machine (``psutil``,
installed with ``distributed``): the worker CPU seconds divided by the worker count is the wall time the
same sweep would take on otherwise idle cores, and the machine's other load says how far the measured
time is from that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SCENARIOS = 1000
TARGET_SECONDS = 300.0


class CpuSampler:
    """Samples, once a second, the CPU time of this process's children and of the whole machine."""

    def __init__(self) -> None:
        import psutil

        self.psutil = psutil
        self.me = psutil.Process()
        self.children: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.machine0 = self._machine_busy()
        self.self0 = self._self_cpu()

    def _machine_busy(self) -> float:
        t = self.psutil.cpu_times()
        return t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)

    def _self_cpu(self) -> float:
        t = self.me.cpu_times()
        return t.user + t.system

    def _sample(self) -> None:
        for p in self.me.children(recursive=True):
            try:
                t = p.cpu_times()
            except self.psutil.Error:
                continue
            self.children[p.pid] = t.user + t.system

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.workers_cpu = sum(self.children.values())
        self.main_cpu = self._self_cpu() - self.self0
        self.machine_cpu = self._machine_busy() - self.machine0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(ROOT / "instances" / "fuzhou-2026"))
    ap.add_argument("--scenarios", default=str(ROOT / "instances" / "scenarios" / "fuzhou-grid.toml"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", default=None, help="a Dask scheduler address instead of the local pool")
    ap.add_argument("--limit", type=int, default=None, help="only the first N scenarios")
    ap.add_argument("--out", default=None, help="results folder (default: a fresh temporary one)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args(argv)

    from allocator.sweep import SweepOptions, load_scenarios, read_results_csv, run_sweep

    scenarios = load_scenarios(args.scenarios)[: args.limit]
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    load0 = os.getloadavg()
    with CpuSampler() as cpu:
        start = time.perf_counter()
        report = run_sweep(args.instance, scenarios, out, SweepOptions(), workers=args.workers, dask=args.dask,
                           progress=sys.stderr.isatty())
        wall = time.perf_counter() - start
    load1 = os.getloadavg()
    header, rows = read_results_csv(out / "results.csv")
    secs = [float(r[header.index("seconds")]) for r in rows]
    n = len(report.ran)
    cores = os.cpu_count() or 1
    others = max(0.0, cpu.machine_cpu - cpu.workers_cpu - cpu.main_cpu)
    idle_estimate = cpu.workers_cpu / max(1, args.workers) if cpu.workers_cpu else None
    per_target = wall * TARGET_SCENARIOS / n if n else None
    figures = {
        "instance": Path(args.instance).name, "scenarios": len(scenarios), "ran": n, "workers": args.workers,
        "executor": report.executor, "wall_seconds": round(wall, 1), "scenarios_per_second": round(n / wall, 3),
        "statuses": dict(report.statuses), "failed": len(report.failed), "lost": len(report.lost),
        "scenario_seconds_mean": round(statistics.mean(secs), 3) if secs else None,
        "scenario_seconds_median": round(statistics.median(secs), 3) if secs else None,
        "scenario_seconds_max": round(max(secs), 3) if secs else None,
        "worker_cpu_seconds": round(cpu.workers_cpu, 1), "main_cpu_seconds": round(cpu.main_cpu, 1),
        "worker_cpu_per_scenario": round(cpu.workers_cpu / n, 3) if n else None,
        "idle_cores_estimate_seconds": round(idle_estimate, 1) if idle_estimate else None,
        "other_processes_cpu_seconds": round(others, 1),
        "other_processes_cores": round(others / wall, 2) if wall else None,
        "cores": cores, "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in load1],
        "seconds_for_1000": round(per_target, 1) if per_target else None,
        "target_seconds": TARGET_SECONDS, "out": str(out),
    }
    figures["target_met"] = bool(per_target is not None and per_target <= TARGET_SECONDS and not report.lost)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
