"""Scaling benchmark: the decomposition against the monolithic MIP, side by side in one run.

    python benchmarks/decompose_bench.py --sizes 1000,5000,10000,40000,100000 --time-limit 120 --workers 2

For each size a national instance (``benchmarks/national.py``, seed 1) is solved twice, each time in a
fresh child process killed ``--grace`` seconds after the limit:

* ``decompose``: :func:`allocator.decompose.solve_decomposed` with ``--workers`` processes; the child
  prints a line after every pass (seconds, bound, best plan), so a killed child still reports how far it
  got; time to 1 % and to 0.1 % are read from those lines.
* ``monolithic``: HiGHS on the whole model (``threads=2``); time to 1 % and 0.1 % from the
  branch-and-bound lines of HiGHS' log (``solve_bench.parse_highs_log`` reads the last one).

Peak memory is the largest sum of ``VmRSS`` over the child's process group (the decomposition's pool
workers included), sampled every 0.1 s.  Results go to ``benchmarks/results/decompose_bench.json`` and
a gap-against-time plot to ``benchmarks/results/decompose_gap.png`` (when matplotlib is installed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from benchutil import PYTHON, ensure_instance, machine, save  # noqa: E402

_BB = re.compile(r"^\s*[A-Za-z]?\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+(?P<bound>\S+)\s+(?P<sol>\S+)\s+(?P<gap>\S+)\s+.*?"
                 r"(?P<time>\d+(?:\.\d+)?)s\s*$")


def group_rss_mib(pgid: int) -> float:
    """Sum of VmRSS over the processes of a process group."""
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.getpgid(int(d)) != pgid:
                continue
            with open(f"/proc/{d}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += float(line.split()[1]) / 1024
        except (OSError, ProcessLookupError):
            continue
    return total


def child(method: str, path: str, time_limit: float, gap: float, workers: int, batch: int) -> None:
    """One solve; progress lines start with ``[bench]``."""
    import numpy as np

    from allocator.decompose import DecomposeOptions, DecomposeResult, solve_decomposed
    from allocator.instance import load
    from allocator.station import build
    from solvers import SolveOptions, SolverResult, get_backend

    t0 = time.perf_counter()
    inst = load(path)
    t1 = time.perf_counter()
    model = build(inst)
    t2 = time.perf_counter()
    print(f"[bench] start load={t1 - t0:.3f} build={t2 - t1:.3f}", flush=True)
    opts = SolveOptions(time_limit=time_limit, mip_gap=gap, threads=2 if method == "monolithic" else 1,
                        verbose=method == "monolithic")
    r: SolverResult | DecomposeResult
    if method == "monolithic":
        r = get_backend("highs").solve(model.problem, opts)
    else:
        def report(h: dict[str, float]) -> None:
            print(f"[bench] pass t={h['seconds']:.2f} bound={h['bound']} plan={h['plan']}", flush=True)

        r = solve_decomposed(model, np.asarray(inst.stations["county"], dtype=str), opts, "highs",
                             DecomposeOptions(batch_size=batch, workers=workers), on_pass=report)
    print("[bench] result " + json.dumps({"status": r.status.value, "objective": r.objective, "bound": r.bound,
                                           "gap": r.gap, "solve_s": time.perf_counter() - t2,
                                           "message": r.message}), flush=True)


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None or obj != obj or bound != bound or abs(bound) == float("inf"):
        return None
    if abs(obj) == float("inf"):
        return None
    return abs(bound - obj) / max(abs(bound), 1e-9)


def trace(method: str, text: str) -> list[tuple[float, float | None]]:
    """(seconds since the solve started, gap) points."""
    pts: list[tuple[float, float | None]] = []
    for line in text.splitlines():
        if method == "decompose" and line.startswith("[bench] pass"):
            kv = dict(x.split("=") for x in line.split()[2:])
            t = float(kv["t"])
            try:
                pts.append((t, _gap(float(kv["plan"]), float(kv["bound"]))))
            except ValueError:
                pts.append((t, None))
        elif method == "monolithic":
            m = _BB.match(line)
            if m:
                try:
                    pts.append((float(m["time"]), _gap(float(m["sol"]), float(m["bound"]))))
                except ValueError:
                    pts.append((float(m["time"]), None))
    return pts


def first_time(pts: list[tuple[float, float | None]], level: float) -> float | None:
    return next((t for t, g in pts if g is not None and g <= level), None)


def run(method: str, folder: Path, n: int, a: argparse.Namespace, work: Path) -> dict[str, Any]:
    log = work / f"{method}-{n}.log"
    args = [PYTHON, str(Path(__file__).resolve()), "--child", method, str(folder), "--time-limit", str(a.time_limit),
            "--gap", str(a.gap), "--workers", str(a.workers), "--batch-size", str(a.batch_size)]
    start = time.perf_counter()
    peak = 0.0
    killed = False
    with open(log, "w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        while proc.poll() is None:
            peak = max(peak, group_rss_mib(proc.pid))
            if time.perf_counter() - start > a.time_limit + a.grace + a.setup_allowance:
                killed = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.1)
    text = log.read_text(errors="replace")
    rec: dict[str, Any] = {"method": method, "stations": n, "killed": killed, "wall_s": time.perf_counter() - start,
                           "peak_rss_mib": peak, "log": str(log)}
    for line in text.splitlines():
        if line.startswith("[bench] start"):
            rec.update({k: float(v) for k, v in (x.split("=") for x in line.split()[2:])})
        if line.startswith("[bench] result"):
            rec.update(json.loads(line.split(" ", 2)[2]))
    pts = trace(method, text)
    rec["trace"] = pts
    rec["time_to_1pct_s"] = first_time(pts, 0.01)
    rec["time_to_0.1pct_s"] = first_time(pts, 0.001)
    if "gap" not in rec:
        rec["gap"] = next((g for _, g in reversed(pts) if g is not None), None)
        rec["status"] = "killed" if killed else "no result"
    print(f"{method:>10} {n:>6}: {rec.get('status')} gap {rec.get('gap')} build {rec.get('build')} "
          f"1% {rec['time_to_1pct_s']} 0.1% {rec['time_to_0.1pct_s']} peak {peak:.0f} MiB wall {rec['wall_s']:.0f} s",
          flush=True)
    return rec


def plot(records: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in records:
        pts = [(t, g) for t, g in r["trace"] if g is not None]
        if pts:
            ax.step([t for t, _ in pts], [100 * g for _, g in pts], where="post",
                    linestyle="-" if r["method"] == "decompose" else "--", label=f"{r['method']} {r['stations']:,}")
    ax.set_yscale("log")
    ax.set_xlabel("seconds into the solve")
    ax.set_ylabel("proven gap, %")
    ax.axhline(0.1, color="grey", linewidth=0.5)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,5000,10000,40000,100000")
    p.add_argument("--methods", default="decompose,monolithic")
    p.add_argument("--skip-monolithic-above", type=int, default=40000,
                   help="no monolithic run above this size (it needs more memory than the machine has)")
    p.add_argument("--time-limit", type=float, default=120.0)
    p.add_argument("--grace", type=float, default=30.0)
    p.add_argument("--setup-allowance", type=float, default=120.0, help="seconds for loading and building")
    p.add_argument("--gap", type=float, default=1e-3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=300)
    p.add_argument("--workdir", default="/tmp/allocator-bench")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        child(a.child[0], a.child[1], a.time_limit, a.gap, a.workers, a.batch_size)
        return
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    records = []
    for n in (int(s) for s in a.sizes.split(",")):
        folder = ensure_instance(n, 1, work)
        for method in a.methods.split(","):
            if method == "monolithic" and n > a.skip_monolithic_above:
                records.append({"method": method, "stations": n, "status": "not run",
                                "why": f"monolithic needs > 5 GiB above {a.skip_monolithic_above} stations",
                                "trace": []})
                continue
            records.append(run(method, folder, n, a, work))
    payload = {"benchmark": "decompose", "command": " ".join(["python", *sys.argv]), "machine": machine(),
               "loadavg_after": os.getloadavg(), "records": records}
    print(f"results: {save('decompose_bench', payload)}")
    if plot(records, HERE / "results" / "decompose_gap.png"):
        print("plot: benchmarks/results/decompose_gap.png")


if __name__ == "__main__":
    main()
