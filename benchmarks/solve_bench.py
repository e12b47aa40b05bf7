"""Solve benchmark: the seed instances through the CLI, and one monolithic HiGHS MIP at national scale.

    python benchmarks/solve_bench.py                        # both parts
    python benchmarks/solve_bench.py --part seeds --repeats 3
    python benchmarks/solve_bench.py --part national --sizes 1000,5000,10000,40000 --time-limit 120

(a) ``seeds``: wall time of ``allocator solve instances/a-district-2026`` and ``allocator solve instances/fuzhou-2026``
    as a subprocess (interpreter start-up, imports, loading, building, solving and printing included),
    ``--repeats`` times each, median; the exit code says whether the plan is proven optimal at the default
    1 % gap (0) or not (1).  Target: <= 2 s, proven optimal.

(b) ``national``: for each size, a fresh child process loads a national instance (``benchmarks/national.py``),
    builds the model and gives it whole to HiGHS (``threads=2``, ``mip_rel_gap`` 0.1 %, ``time_limit``),
    with HiGHS' log in a file.  HiGHS overruns its time limit (SOLVER-NOTES), so the parent kills the child
    ``--grace`` seconds after the limit (counted from the start of the solve); the status, objective and
    bound of a killed run come from the last line of HiGHS' branch-and-bound log.  Peak RSS is the child's
    ``VmHWM``.  Target: 40,000 stations to a proven gap <= 0.1 % within 120 s on 2 cores in <= 4 GiB.

Results go to ``benchmarks/results/solve_bench.json``; ``benchmarks/README.md`` reports them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from benchutil import PYTHON, ensure_instance, machine, peak_rss_mib, rss_now_mib, save  # noqa: E402

TARGET_SEED_S = 2.0
TARGET_GAP = 1e-3
TARGET_S = 120.0
TARGET_RSS_GIB = 4.0

# A branch-and-bound line of HiGHS' MIP log:
# Src Proc. InQueue | Leaves Expl. | BestBound BestSol Gap | Cuts InLp Confl. | LpIters Time
_BB_LINE = re.compile(
    r"^\s*(?P<src>[A-Za-z])?\s+(?P<nodes>\d+)\s+(?P<queue>\d+)\s+(?P<leaves>\d+)\s+(?P<expl>[\d.]+)%\s+"
    r"(?P<bound>\S+)\s+(?P<sol>\S+)\s+(?P<gap>\S+)\s+.*?(?P<lpiters>\d+)\s+(?P<time>\d+(?:\.\d+)?)s\s*$")


def _num(text: str) -> float | None:
    try:
        v = float(text.rstrip("%"))
    except ValueError:
        return None
    return v if abs(v) != float("inf") else None


def parse_highs_log(text: str) -> dict[str, Any]:
    """The last branch-and-bound line of a HiGHS MIP log: best bound, best plan, gap, time.

    Parameters
    ----------
    text : str
        HiGHS' log (``output_flag`` on).

    Returns
    -------
    dict
        ``bb_lines`` (count), and from the last line ``bound``, ``objective`` (None while no plan),
        ``gap`` (fraction), ``log_time_s``, ``nodes``, ``lp_iterations``; ``root_lp_done`` whether
        the log got past the root LP (the first line, before any LP, shows only a trivial bound, and
        HiGHS repeats it when it stops inside the root LP); ``bound`` is None until then.
    """
    last = None
    count = 0
    trivial = None
    moved = False
    for line in text.splitlines():
        m = _BB_LINE.match(line)
        if m:
            count += 1
            last = m
            if trivial is None:
                trivial = m["bound"]
            moved = moved or m["bound"] != trivial or m["sol"] != "-inf"
    out: dict[str, Any] = {"bb_lines": count, "root_lp_done": moved}
    if last is not None:
        gap = _num(last["gap"])
        out.update({"bound": _num(last["bound"]) if moved else None, "trivial_bound": _num(trivial or ""),
                    "objective": _num(last["sol"]),
                    "gap": gap / 100 if gap is not None else None, "log_time_s": float(last["time"]),
                    "nodes": int(last["nodes"]), "lp_iterations": int(last["lpiters"])})
    return out


# ---------------------------------------------------------------------------------------------------
# (a) seed instances through the CLI
# ---------------------------------------------------------------------------------------------------
_HEAD = re.compile(r"-- (?P<status>[A-Z_ ]+)\s*$", re.M)
_OBJ = re.compile(r"objective (?P<obj>[-\d,.]+)\s+bound (?P<bound>[-\d,.]+)\s+gap (?P<gap>[\d.]+)%"
                  r".*?, (?P<s>[\d.]+) s\)")


def seeds(repeats: int) -> list[dict[str, Any]]:
    """Time ``allocator solve`` on the two seed instances, ``repeats`` times each."""
    exe = str(Path(PYTHON).with_name("allocator"))
    out = []
    for name in ("a-district-2026", "fuzhou-2026"):
        runs: list[dict[str, Any]] = []  # JSON records: numbers, status text, None when not parsed
        for _ in range(repeats):
            load0 = os.getloadavg()[0]
            t = time.perf_counter()
            p = subprocess.run([exe, "solve", f"instances/{name}"], cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - t
            head = _HEAD.search(p.stdout)
            obj = _OBJ.search(p.stdout)
            runs.append({"wall_s": wall, "exit_code": p.returncode, "status": head["status"] if head else None,
                         "objective": float(obj["obj"].replace(",", "")) if obj else None,
                         "bound": float(obj["bound"].replace(",", "")) if obj else None,
                         "gap": float(obj["gap"]) / 100 if obj else None,
                         "solver_s": float(obj["s"]) if obj else None, "loadavg_1min": load0})
            print(f"{name}: {wall:.2f} s wall, exit {p.returncode}, solver {runs[-1]['solver_s']} s", flush=True)
        walls = [r["wall_s"] for r in runs]
        out.append({"instance": f"instances/{name}", "command": f"allocator solve instances/{name}", "runs": runs,
                    "median_wall_s": statistics.median(walls),
                    "median_solver_s": statistics.median(r["solver_s"] or float("nan") for r in runs),
                    "all_proven_optimal": all(r["exit_code"] == 0 for r in runs)})
    # start-up alone: what the CLI costs before any solving
    t = time.perf_counter()
    subprocess.run([exe, "--help"], cwd=ROOT, capture_output=True)
    out.append({"instance": None, "command": "allocator --help", "wall_s": time.perf_counter() - t})
    return out


def breakdown_child(name: str, result: str) -> None:
    """Where the CLI's time goes on a seed instance: imports, load, build, solve, plan tables."""
    t = time.perf_counter()
    import cli  # noqa: F401  (what ``allocator`` imports before doing anything)
    from allocator.instance import load
    from allocator.station import DEFAULT_GAP, build, format_plan, solve_instance
    from solvers import SolveOptions, get_backend

    out = {"import_s": time.perf_counter() - t}
    t = time.perf_counter()
    inst = load(ROOT / "instances" / name)
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    model = build(inst)
    out["build_s"] = time.perf_counter() - t
    r = get_backend("highs").solve(model.problem, SolveOptions(mip_gap=DEFAULT_GAP))
    out["solve_s"] = r.seconds
    t = time.perf_counter()
    plan = solve_instance(inst)  # build + solve + tables + summary, as ``allocator solve`` does
    total = time.perf_counter() - t
    t = time.perf_counter()
    format_plan(plan, inst)
    out["format_s"] = time.perf_counter() - t
    out["solve_instance_s"] = total
    out["tables_and_summary_s"] = max(0.0, total - out["build_s"] - plan.seconds)
    Path(result).write_text(json.dumps(out))


def breakdown(work: Path) -> list[dict[str, Any]]:
    """Run :func:`breakdown_child` for both seeds, plus the bare interpreter start-up."""
    out = []
    t = time.perf_counter()
    subprocess.run([PYTHON, "-c", "pass"], check=True)
    bare = time.perf_counter() - t
    for name in ("a-district-2026", "fuzhou-2026"):
        res = work / f"breakdown-{name}.json"
        subprocess.run([PYTHON, str(HERE / "solve_bench.py"), "--breakdown-child", name, "--result", str(res)],
                       cwd=ROOT, check=True)
        rec = {"instance": f"instances/{name}", "python_startup_s": bare, **json.loads(res.read_text())}
        out.append(rec)
        print(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in rec.items() if k.endswith("_s")), flush=True)
    return out


# ---------------------------------------------------------------------------------------------------
# (b) national instances, one monolithic MIP each
# ---------------------------------------------------------------------------------------------------
def child(path: str, time_limit: float, gap: float, threads: int, marker: str, result: str) -> None:
    """Load, build and solve one instance; HiGHS logs to stdout; write the marker, then the result."""
    from allocator.instance import load
    from allocator.station import build
    from solvers import SolveOptions, get_backend

    t = time.perf_counter()
    inst = load(path)
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    model = build(inst)
    t_build = time.perf_counter() - t
    p = model.problem
    info: dict[str, Any] = {"load_s": t_load, "build_s": t_build, "rows": p.num_rows, "columns": p.num_cols,
            "nonzeros": int(p.A.nnz), "integer_columns": int(p.integrality.sum()),
            "rss_before_solve_mib": rss_now_mib(), "peak_before_solve_mib": peak_rss_mib()}
    Path(marker).write_text(json.dumps(info))
    print(f"[bench] load {t_load:.2f} s, build {t_build:.2f} s; solving", flush=True)
    t = time.perf_counter()
    r = get_backend("highs").solve(p, SolveOptions(time_limit=time_limit, mip_gap=gap, threads=threads,
                                                   verbose=True))
    info.update({"solve_s": time.perf_counter() - t, "status": r.status.value, "objective": r.objective,
                 "bound": r.bound, "gap": r.gap, "message": r.message, "peak_rss_mib": peak_rss_mib()})
    sys.stdout.flush()
    Path(result).write_text(json.dumps(info))


def national(n: int, seed: int, work: Path, time_limit: float, grace: float, gap: float,
             threads: int) -> dict[str, Any]:
    """Solve the national instance of ``n`` stations in a child, killed ``grace`` s after the time limit."""
    folder = ensure_instance(n, seed, work)
    marker, result, log = (work / f"solve-{n}.{k}" for k in ("started.json", "result.json", "log"))
    for f in (marker, result):
        f.unlink(missing_ok=True)
    args = [PYTHON, str(HERE / "solve_bench.py"), "--child", str(folder), "--time-limit", str(time_limit),
            "--gap", str(gap), "--threads", str(threads), "--marker", str(marker), "--result", str(result)]
    load0 = os.getloadavg()[0]
    start = time.perf_counter()
    solve_start = None
    killed = False
    hwm = 0.0
    with open(log, "w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        while proc.poll() is None:
            mark = peak_rss_mib(proc.pid)
            if mark == mark:
                hwm = max(hwm, mark)
            now = time.perf_counter()
            if solve_start is None and marker.exists():
                solve_start = now
            deadline = (solve_start + time_limit + grace) if solve_start else (start + time_limit + grace + 900)
            if now > deadline:
                killed = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.1)
    wall = time.perf_counter() - start
    rec: dict[str, Any] = {"stations": n, "instance": str(folder), "time_limit_s": time_limit, "gap_asked": gap,
                           "threads": threads, "killed": killed, "wall_s": wall,
                           "solve_wall_s": (time.perf_counter() - solve_start) if solve_start and killed else None,
                           "child_peak_rss_mib": hwm, "loadavg_1min_at_start": load0, "log": str(log)}
    if marker.exists():
        rec.update(json.loads(marker.read_text()))
    if result.exists():
        rec.update(json.loads(result.read_text()))
    rec["log_last_line"] = parse_highs_log(log.read_text(errors="replace"))
    if killed:
        ll = rec["log_last_line"]
        rec.update({"status": "killed", "objective": ll.get("objective"), "bound": ll.get("bound"),
                    "gap": ll.get("gap"), "solve_s": rec["solve_wall_s"]})
    rec["meets_target"] = bool(n >= 40_000 and rec.get("gap") is not None and rec["gap"] <= TARGET_GAP
                               and (rec.get("solve_s") or 1e9) + (rec.get("build_s") or 0) <= TARGET_S
                               and hwm <= TARGET_RSS_GIB * 1024)
    print(f"{n:>6} stations: {rec.get('status')}, objective {rec.get('objective')}, bound {rec.get('bound')}, "
          f"gap {rec.get('gap')}, build {rec.get('build_s')}, solve {rec.get('solve_s')}, peak {hwm:.0f} MiB",
          flush=True)
    return rec


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--child``, one solve)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=("seeds", "breakdown", "national", "both"), default="both",
                   help="both = seeds, breakdown and national")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sizes", default="1000,5000,10000,40000")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", default="/tmp/allocator-bench")
    p.add_argument("--time-limit", type=float, default=TARGET_S)
    p.add_argument("--grace", type=float, default=30.0, help="seconds after the limit before the child is killed")
    p.add_argument("--gap", type=float, default=TARGET_GAP)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="solve_bench")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--breakdown-child", help=argparse.SUPPRESS)
    p.add_argument("--marker", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        child(a.child, a.time_limit, a.gap, a.threads, a.marker, a.result)
        return
    if a.breakdown_child:
        breakdown_child(a.breakdown_child, a.result)
        return
    payload: dict[str, Any] = {"benchmark": "solve", "command": " ".join(["python", *sys.argv]),
                               "machine": machine(),
                               "targets": {"seed_wall_s": TARGET_SEED_S, "national_gap": TARGET_GAP,
                                           "national_s": TARGET_S, "national_rss_gib": TARGET_RSS_GIB}}
    if a.part in ("seeds", "both"):
        payload["seeds"] = seeds(a.repeats)
    if a.part in ("breakdown", "both"):
        Path(a.workdir).mkdir(parents=True, exist_ok=True)
        payload["seed_breakdown"] = breakdown(Path(a.workdir))
    if a.part in ("national", "both"):
        work = Path(a.workdir)
        work.mkdir(parents=True, exist_ok=True)
        payload["national"] = [national(int(n), a.seed, work, a.time_limit, a.grace, a.gap, a.threads)
                               for n in a.sizes.split(",")]
    payload["machine_after"] = {"loadavg": os.getloadavg()}
    print(f"results: {save(a.out, payload)}")


if __name__ == "__main__":
    main()
