"""The 15-minute circle's models against spopt (PySAL), side by side in one run.

spopt builds LSCP, MCLP and p-median with PuLP from a dense cost matrix; ``allocator.circle`` builds them
from sparse pairs with scipy.sparse and hands numpy arrays to the solver.  Both get the same solver (HiGHS
1.16 through highspy: PuLP's ``HiGHS`` class for spopt, the ``highs`` backend here; ``--solver cbc`` gives
both CBC), one thread, the same relative gap and time limit.

Each (size, model, tool) runs in a fresh interpreter.  Peak memory is the process's VmHWM, reset just before
the clock starts; ``+MB`` is that peak less the resident memory at that moment.  The instance is made in the
child from the size's seed, identically for both tools, before the clock starts:
spopt gets the dense ``cdist`` matrix, allocator gets the ``cKDTree`` pairs within the radius (the travel
input each tool expects; its time is reported apart).  Timed: building the model and solving it (allocator:
``solve_circle`` including its reductions, the plan's tables and the objective recomputation; spopt:
``from_cost_matrix`` and ``solve(results=False)``, so without its Python result arrays).

Status is taken honestly on both sides: spopt's own check accepts PuLP status 1 "Optimal", which PuLP also
reports for a run stopped by the time limit (SOLVER-NOTES), so the spopt child reads HiGHS' model status,
dual bound and gap from the PuLP model's ``solverModel`` (and CBC's ``sol_status`` with ``--solver cbc``), and
recomputes the objective of the sites it opened from the cost matrix.

Instances: demand points and candidate sites uniform in the unit square, integer demand weights 1..100;
radius chosen so that a demand point has ``k`` sites within reach on average (``k = 3``); ``p = m / 10``.
LSCP covers every demand point some site reaches (those no site reaches are dropped for both tools).
p-median: spopt's model is dense (``n m`` binaries), so it runs only at ``--pmedian-sizes``; allocator's
keeps pairs within ``R = 1 / sqrt(p)`` and certifies that no demand point is charged the radius.
``--hard`` adds MCLP with ``k = 10`` at the largest size, where the LP bound is weak (SOLVER-NOTES).

Usage::

    .venv/bin/python benchmarks/circle_bench.py [--sizes 1000x100,2000x200,5000x500,10000x1000]
        [--models mclp,lscp,pmedian] [--pmedian-sizes 1000x100,2000x200] [--time-limit 300]
        [--solver highs|cbc] [--hard [--hard-time-limit 120]] [--json FILE]

spopt is a benchmark-only dependency (``pip install spopt``); without it only allocator's side runs.

Time-limited p-median (issue 17, item 21): ``--pmed FILE`` reads an OR-Library p-median file (``pmed40.txt``:
first line ``nodes edges p``, then ``i j length``, an edge listed twice keeps its last length, shortest paths
over the undirected graph) and solves it through ``solve_circle`` under the wall-clock guard with
``--pmed-limits`` seconds, printing status, objective, bound, gap, where the plan came from and the wall time
against the limit.  Where the file is absent (it is not in ../shared/benchmarks), ``--pmed 900`` makes a random
graph of the same shape (a random spanning tree plus random edges up to ``nodes²/50`` edges, lengths 1..100,
``p = nodes / 10``)::

    .venv/bin/python benchmarks/circle_bench.py --pmed ../shared/benchmarks/pmed/pmed40.txt --pmed-limits 10,60
    .venv/bin/python benchmarks/circle_bench.py --pmed 900 --pmed-limits 10,60
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
K_REACH = 3.0
P_FRACTION = 0.1
GAP = 1e-4


def instance(n: int, m: int, k: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Demand points, sites, integer weights and the radius giving ``k`` sites within reach on average."""
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0.0, 1.0, (n, 2))
    sites = rng.uniform(0.0, 1.0, (m, 2))
    weights = rng.integers(1, 101, n).astype(np.float64)
    return demand, sites, weights, math.sqrt(k / (m * math.pi))


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (Linux: ``5`` into /proc/self/clear_refs) so the peak is the model's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    """Peak resident memory since :func:`_reset_peak` (VmHWM), else since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------
# children
# ---------------------------------------------------------------------------
def child_allocator(model: str, n: int, m: int, k: float, p: int, time_limit: float, solver: str,
                    seed: int) -> dict[str, object]:
    import pandas as pd
    from scipy.spatial import cKDTree

    sys.path.insert(0, str(ROOT))
    from allocator.circle import CircleData, Reach, solve_circle
    from solvers import SolveOptions, get_backend

    D, S, w, r = instance(n, m, k, seed)
    radius = 1.0 / math.sqrt(p) if model == "pmedian" else r
    t0 = time.perf_counter()
    pairs = cKDTree(D).sparse_distance_matrix(cKDTree(S), radius, output_type="coo_matrix")
    keep = np.ones(n, dtype=bool)
    if model == "lscp":
        keep[:] = False
        keep[pairs.row[pairs.data <= r]] = True
    index = np.cumsum(keep) - 1
    sel = keep[pairs.row]
    reach = Reach.from_pairs(index[pairs.row[sel]], pairs.col[sel], pairs.data[sel], int(keep.sum()), m, radius)
    places = pd.DataFrame({"place_id": [f"d{i}" for i in range(int(keep.sum()))], "w": w[keep]})
    sites = pd.DataFrame({"site_id": [f"s{j}" for j in range(m)], "place_id": [f"d{j % len(places)}"
                                                                             for j in range(m)]})
    data = CircleData.from_frames(places, sites, {"w": 1.0}, minutes=r, points=p, radius=radius,
                                  shares={"urban": 1.0, "rural": 1.0})
    prep = time.perf_counter() - t0
    get_backend(solver)  # imported before the baseline, as PuLP is on spopt's side
    base = _rss_mb()
    _reset_peak()
    t1 = time.perf_counter()
    plan = solve_circle(data, model, minutes=r, points=None if model == "lscp" else p, budget=None,
                        solver=solver, reach=reach, guard=False,
                        options=SolveOptions(time_limit=time_limit, mip_gap=GAP, threads=1))
    total = time.perf_counter() - t1
    tm = plan.timings
    return {"status": plan.status.value, "objective": plan.objective, "bound": plan.bound, "gap": plan.gap,
            "objective_check": plan.summary.get("objective_recomputed"), "open": len(plan.summary["open_sites"]),
            "prep_s": prep, "build_s": tm["build"], "solve_s": tm["solve"], "total_s": total,
            "peak_mb": _peak_mb(), "delta_mb": _peak_mb() - base, "pairs": reach.nnz,
            "radius_exact": plan.summary.get("radius_exact"), "size": plan.summary.get("model_size")}


def child_spopt(model: str, n: int, m: int, k: float, p: int, time_limit: float, solver: str,
                seed: int) -> dict[str, object]:
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import LSCP, MCLP, PMedian

    D, S, w, r = instance(n, m, k, seed)
    t0 = time.perf_counter()
    cost = cdist(D, S)
    if model == "lscp":
        keep = (cost <= r).any(axis=1)
        cost, w = cost[keep], w[keep]
    prep = time.perf_counter() - t0
    base = _rss_mb()
    _reset_peak()
    if solver == "highs":
        lp_solver = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=GAP, threads=1)
    else:
        lp_solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=GAP, threads=1)
    t1 = time.perf_counter()
    if model == "mclp":
        obj = MCLP.from_cost_matrix(cost, w, service_radius=r, p_facilities=p)
    elif model == "lscp":
        obj = LSCP.from_cost_matrix(cost, service_radius=r)
    else:
        obj = PMedian.from_cost_matrix(cost, w, p_facilities=p)
    build = time.perf_counter() - t1
    t2 = time.perf_counter()
    error = ""
    try:
        obj.solve(lp_solver, results=False)
    except RuntimeError as exc:  # spopt raises when PuLP's status is not 1
        error = str(exc)
    solve = time.perf_counter() - t2
    total = time.perf_counter() - t1
    prob = obj.problem
    out: dict[str, object] = {"pulp_status": pulp.LpStatus.get(prob.status), "pulp_sol_status": prob.sol_status,
                              "prep_s": prep, "build_s": build, "solve_s": solve, "total_s": total,
                              "peak_mb": _peak_mb(), "delta_mb": _peak_mb() - base, "error": error}
    y = np.array([v.value() or 0.0 for v in obj.fac_vars]) > 0.5
    has_plan = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    status, bound, gap = "no_solution", None, None
    if solver == "highs" and hasattr(prob, "solverModel"):
        import highspy

        h = prob.solverModel
        ms = h.getModelStatus()
        info = h.getInfo()
        has_plan = int(info.primal_solution_status) == 2
        bound = float(info.mip_dual_bound)
        if model == "mclp":  # PuLP hands HiGHS the negated objective of a maximisation
            bound = -bound
        out["highs_status"] = h.modelStatusToString(ms)
        if ms == highspy.HighsModelStatus.kInfeasible:
            status = "infeasible"
    elif prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    if has_plan:
        if model == "mclp":
            objective = float(w[(cost[:, y] <= r + 1e-12).any(axis=1)].sum()) if y.any() else 0.0
        elif model == "lscp":
            objective = float(y.sum())
            if not (cost[:, y] <= r + 1e-12).any(axis=1).all():
                has_plan = False
        else:
            objective = float((w * cost[:, y].min(axis=1)).sum()) if y.any() else math.inf
        out["objective"] = objective
        if solver == "highs":
            gap = abs(bound - objective) / max(1.0, abs(objective)) if bound is not None else None
            status = "optimal" if out.get("highs_status") == "Optimal" and gap is not None and \
                gap <= GAP * (1 + 1e-9) + 1e-12 else "feasible"
        out["open"] = int(y.sum())
    out.update({"status": status if has_plan or status == "infeasible" else "no_solution", "bound": bound,
                "gap": gap})
    return out


# ---------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------
def run_child(tool: str, model: str, n: int, m: int, k: float, p: int, time_limit: float,
              args: argparse.Namespace) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", tool, model, str(n), str(m), str(k), str(p),
           str(time_limit), args.solver, str(args.seed + n + m)]
    wall = 3 * time_limit + 900  # spopt's Python build alone took 70 s at 10,000 x 1,000
    start = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=wall)
    except subprocess.TimeoutExpired:
        return {"status": "killed", "total_s": time.perf_counter() - start, "error": f"outer timeout {wall} s"}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        return {"status": "error", "total_s": time.perf_counter() - start,
                "error": (res.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(lines[-1])


def fmt(v: object, spec: str = ".2f") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


def pmed_graph(spec: str, seed: int) -> tuple[int, np.ndarray, np.ndarray, int, str]:
    """(nodes, edge array (k, 2), lengths, p, name) of an OR-Library pmed file or a random graph of that shape."""
    path = Path(spec)
    if path.is_file():
        nums = [int(float(v)) for v in path.read_text().split()]
        n, e, p = nums[:3]
        last: dict[tuple[int, int], float] = {}
        for k in range(e):
            i, j, c = nums[3 + 3 * k: 6 + 3 * k]
            last[(min(i, j) - 1, max(i, j) - 1)] = float(c)  # a repeated edge: the last length counts
        ab = np.array(list(last), dtype=np.int64)
        return n, ab, np.array(list(last.values())), p, path.stem
    n = int(spec)
    rng = np.random.default_rng(seed)
    edges: set[tuple[int, int]] = set()
    order = rng.permutation(n)
    for k in range(1, n):
        a, b = int(order[k]), int(order[rng.integers(0, k)])
        edges.add((min(a, b), max(a, b)))
    while len(edges) < n * n // 50:
        a, b = (int(v) for v in rng.integers(0, n, 2))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    ab = np.array(sorted(edges), dtype=np.int64)
    return n, ab, rng.integers(1, 101, len(ab)).astype(np.float64), max(1, n // 10), f"random {n} nodes"


def pmed_run(args: argparse.Namespace) -> None:
    import pandas as pd
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    sys.path.insert(0, str(ROOT))
    from allocator.circle import CircleData, Reach, solve_circle
    from solvers import SolveOptions

    n, ab, w, p, name = pmed_graph(args.pmed, args.seed)
    dist = dijkstra(sp.csr_array((w, (ab[:, 0], ab[:, 1])), shape=(n, n)), directed=False)
    i, j = np.nonzero(np.isfinite(dist))
    radius = float(dist[i, j].max()) + 1.0  # every pair: the unrestricted p-median
    reach = Reach.from_pairs(i, j, dist[i, j], n, n, radius)
    places = pd.DataFrame({"place_id": [f"n{k}" for k in range(n)], "w": np.ones(n, dtype=int)})
    sites = pd.DataFrame({"site_id": [f"s{k}" for k in range(n)], "place_id": places["place_id"]})
    data = CircleData.from_frames(places, sites, {"w": 1.0}, points=p, radius=radius)
    print(f"# p-median {name}: {n} nodes, {len(ab)} edges, p = {p}, {reach.nnz:,} pairs; solver {args.solver}, "
          f"gap {GAP:g}, guard on, cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}", flush=True)
    print("| limit s | status | objective | bound | gap | plan from | wall s | over s |\n|" + "---|" * 8, flush=True)
    for limit in (float(v) for v in args.pmed_limits.split(",")):
        t = time.perf_counter()
        plan = solve_circle(data, "pmedian", reach=reach, solver=args.solver, tables=False,
                            options=SolveOptions(time_limit=limit, mip_gap=GAP))
        wall = time.perf_counter() - t
        print(f"| {limit:g} | {plan.status.value} | {fmt(plan.objective, ',.1f')} | {fmt(plan.bound, ',.1f')} | "
              f"{fmt(plan.gap, '.3%')} | {plan.summary.get('incumbent', 'solver')} | {wall:.1f} | "
              f"{max(0.0, wall - limit):.1f} |", flush=True)
        print(f"<!-- {plan.message} -->", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000x100,2000x200,5000x500,10000x1000")
    ap.add_argument("--models", default="mclp,lscp,pmedian")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--solver", default="highs", choices=["highs", "cbc"])
    ap.add_argument("--pmedian-sizes", default="1000x100,2000x200",
                    help="p-median sizes (spopt's p-median is dense: n m binaries)")
    ap.add_argument("--hard", action="store_true", help="also MCLP with k = 10 at the largest size")
    ap.add_argument("--hard-time-limit", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, default=None, help="write every run's figures here")
    ap.add_argument("--pmed", default=None, help="an OR-Library pmed file, or a node count for a random graph")
    ap.add_argument("--pmed-limits", default="10,60", help="time limits (s) for --pmed")
    ap.add_argument("--child", nargs=9, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pmed:
        pmed_run(args)
        return
    if args.child:
        tool, model, n, m, k, p, tl, solver, seed = args.child
        fn = child_allocator if tool == "allocator" else child_spopt
        out = fn(model, int(n), int(m), float(k), int(p), float(tl), solver, int(seed))
        print(json.dumps(out, default=float))
        return
    try:
        import spopt  # noqa: F401

        tools = ["allocator", "spopt"]
    except ImportError:
        print("spopt is not installed (pip install spopt): allocator only", file=sys.stderr)
        tools = ["allocator"]
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    jobs = []
    pm_sizes = [tuple(int(x) for x in s.split("x")) for s in args.pmedian_sizes.split(",") if s]
    models = args.models.split(",")
    for n, m in sizes:
        for model in models:
            if model != "pmedian" or (n, m) in pm_sizes:
                jobs.append((model, n, m, K_REACH, args.time_limit))
    if args.hard:
        n, m = sizes[-1]
        jobs.append(("mclp", n, m, 10.0, args.hard_time_limit))
    rows = []
    print(f"# circle_bench: solver {args.solver}, time limit {args.time_limit:g} s "
          f"(--hard {args.hard_time_limit:g} s), gap {GAP:g}, 1 thread, cpus {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    head = ("| model | n x m | k | p | tool | status | objective | bound | build s | solve s | total s | "
            "peak MB | +MB | speed-up |")
    print(head + "\n|" + "---|" * 14, flush=True)
    for model, n, m, k, tl in jobs:
        p = max(1, int(round(m * P_FRACTION)))
        res = {tool: run_child(tool, model, n, m, k, p, tl, args) for tool in tools}
        a: dict[str, Any] = res.get("allocator", {})
        s: dict[str, Any] = res.get("spopt", {})
        same = None
        if a.get("objective") is not None and s.get("objective") is not None:
            same = abs(float(a["objective"]) - float(s["objective"])) <= 1e-6 * max(1.0, abs(float(a["objective"])))
        speed = (float(s["total_s"]) / float(a["total_s"])) if s.get("total_s") and a.get("total_s") and \
            s.get("status") not in ("not run", "error", "killed") else None
        for tool, r in res.items():
            print(f"| {model} | {n:,} x {m:,} | {k:g} | {p} | {tool} | {r.get('status')} | "
                  f"{fmt(r.get('objective'), ',.1f')} | {fmt(r.get('bound'), ',.1f')} | {fmt(r.get('build_s'))} | "
                  f"{fmt(r.get('solve_s'))} | {fmt(r.get('total_s'))} | {fmt(r.get('peak_mb'), '.0f')} | "
                  f"{fmt(r.get('delta_mb'), '.0f')} | "
                  f"{fmt(speed, '.1f') + 'x' if tool == 'allocator' and speed else ''} |", flush=True)
        rows.append({"model": model, "n": n, "m": m, "k": k, "p": p, "time_limit": tl, "results": res,
                     "same_objective": same, "speedup": speed})
        for tool, r in res.items():
            extra = {key: r[key] for key in ("pulp_status", "pulp_sol_status", "highs_status", "error",
                                             "radius_exact", "objective_check", "prep_s", "pairs")
                     if r.get(key) not in (None, "")}
            if extra:
                print(f"<!-- {model} {n}x{m} k={k:g} {tool}: {json.dumps(extra, default=float)} -->", flush=True)
        if same is not None:
            print(f"<!-- {model} {n}x{m} k={k:g}: same objective: {same} -->", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
