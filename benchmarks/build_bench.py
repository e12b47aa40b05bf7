"""Model-build benchmark: the engine's vectorised builder against a naive PuLP builder.

    python benchmarks/build_bench.py                       # 1k, 10k, 40k stations, seed 1
    python benchmarks/build_bench.py --sizes 1000,10000 --workdir /tmp/bench

In one run, for each size, the same national instance (``benchmarks/national.py``) is built

(a) by :func:`allocator.station.build` (numpy/scipy, COO triplets), and
(b) by :func:`pulp_anchor.build_pulp`, the same formulation written the way a typical PuLP user would
    (an ``LpVariable`` per column, an ``lpSum`` per row),

each in a fresh child process that loads the instance, builds the model (the timed part), then hands it
to HiGHS (the engine: ``Highs.passModel`` with numpy arrays, as ``solvers/highs_backend.py`` does; PuLP:
its own ``HiGHS`` interface's ``buildSolverModel``, timed separately). Peak RSS is the child's
``ru_maxrss`` (after loading, after building, after the hand-over) and, for the whole child, its
``wait4`` rusage.

Before timing, the two builders are checked to build the same model: on the 1k instance (and the two
seed instances) the same rows, columns, nonzeros and integer columns, and the same sorted coefficients,
row bounds, column bounds and objective coefficients; on small instances (national 150 stations and the
two seeds) HiGHS finds the same optimum within the gap on both models.

Targets (the issue): 40,000 stations built in <= 10 s and >= 10x faster than the PuLP builder.
Results go to ``benchmarks/results/build_bench.json``; ``benchmarks/README.md`` reports them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from benchutil import ensure_instance, machine, peak_rss_mib, rss_now_mib, run_child, save  # noqa: E402

if TYPE_CHECKING:
    from allocator.instance import Instance

TARGET_BUILD_S = 10.0
TARGET_RATIO = 10.0


# ---------------------------------------------------------------------------------------------------
# model size and fingerprints
# ---------------------------------------------------------------------------------------------------
def engine_stats(problem) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rows, columns, nonzeros of an engine problem; ``active`` columns have a nonzero somewhere."""
    A = problem.A.tocsc()
    A.eliminate_zeros()
    active = (np.diff(A.indptr) > 0) | (problem.c != 0)
    return {"rows": problem.num_rows, "columns": problem.num_cols, "active_columns": int(active.sum()),
            "nonzeros": int(A.nnz), "active_integer_columns": int((active & problem.integrality).sum())}


def _finite(a: np.ndarray) -> np.ndarray:
    return np.sort(a[np.isfinite(a)])


def engine_fingerprint(problem) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Sorted coefficient, bound and objective values of the active part of an engine problem."""
    A = problem.A.tocsc()
    A.eliminate_zeros()
    active = (np.diff(A.indptr) > 0) | (problem.c != 0)
    return {"coefficients": np.sort(A.data), "row_lower": _finite(problem.row_lower),
            "row_upper": _finite(problem.row_upper), "col_lower": _finite(problem.col_lower[active]),
            "col_upper": _finite(problem.col_upper[active]), "objective": np.sort(problem.c[active])}


def pulp_fingerprint(prob) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The same fingerprint of a PuLP problem (constants moved to the bounds, as a solver sees them)."""
    coefs, lo, hi = [], [], []
    active: dict[str, Any] = {}
    for c in prob.constraints():
        for v, a in c.items():
            if a != 0:
                coefs.append(a)
                active[v.name] = v
        lb, ub = c.getLb(), c.getUb()
        lo.append(-np.inf if lb is None else lb)
        hi.append(np.inf if ub is None else ub)
    obj = prob.objective
    for v, a in obj.items():
        if a != 0:
            active[v.name] = v
    cl = np.array([-np.inf if v.lowBound is None else v.lowBound for v in active.values()], dtype=float)
    cu = np.array([np.inf if v.upBound is None else v.upBound for v in active.values()], dtype=float)
    oc = np.array([obj.get(v, 0.0) for v in active.values()], dtype=float)
    return {"coefficients": np.sort(np.array(coefs, dtype=float)), "row_lower": _finite(np.array(lo, dtype=float)),
            "row_upper": _finite(np.array(hi, dtype=float)), "col_lower": _finite(cl), "col_upper": _finite(cu),
            "objective": np.sort(oc)}


def compare_models(path: Path) -> dict[str, Any]:
    """Build ``path`` with both builders and compare their sizes and fingerprints.

    Parameters
    ----------
    path : pathlib.Path
        An instance folder.

    Returns
    -------
    dict
        ``engine`` and ``pulp`` sizes, ``same_size``, and per fingerprint part whether it matches
        (``allclose``, relative 1e-9) with the largest difference.
    """
    from pulp_anchor import build_pulp, stats

    from allocator.instance import load
    from allocator.station import build

    inst = load(path)
    problem = build(inst).problem
    prob = build_pulp(inst)
    e, p = engine_stats(problem), stats(prob)
    keys = ("rows", "active_columns", "nonzeros", "active_integer_columns")
    fe, fp = engine_fingerprint(problem), pulp_fingerprint(prob)
    parts = {}
    for k in fe:
        same = fe[k].shape == fp[k].shape and bool(np.allclose(fe[k], fp[k], rtol=1e-9, atol=1e-12))
        diff = float(np.max(np.abs(fe[k] - fp[k]))) if fe[k].shape == fp[k].shape and fe[k].size else None
        parts[k] = {"same": same, "engine_n": int(fe[k].size), "pulp_n": int(fp[k].size), "max_abs_diff": diff}
    return {"instance": str(path), "engine": e, "pulp": p, "same_size": all(e[k] == p[k] for k in keys),
            "fingerprint": parts, "same_fingerprint": all(v["same"] for v in parts.values())}


def compare_optimum(path: Path, gap: float, time_limit: float) -> dict[str, Any]:
    """Solve ``path`` with HiGHS on both models; do the two (objective, bound) intervals agree?

    The problem is a maximisation: each solve gives objective <= optimum <= bound, so the two models
    agree when ``max(objectives) <= min(bounds)`` (plus a 1e-9 relative tolerance).
    """
    import pulp
    from pulp_anchor import build_pulp

    from allocator.instance import load
    from allocator.station import build
    from solvers import SolveOptions, get_backend

    inst = load(path)
    t = time.perf_counter()
    r = get_backend("highs").solve(build(inst).problem, SolveOptions(mip_gap=gap, time_limit=time_limit))
    te = time.perf_counter() - t
    prob = build_pulp(inst)
    t = time.perf_counter()
    prob.solve(pulp.HiGHS(msg=False, gapRel=gap, timeLimit=time_limit, threads=1))
    tp = time.perf_counter() - t
    info = prob.solverModel.getInfo()
    # PuLP hands HiGHS the negated objective of a maximisation: its bound is a lower bound of -f.
    obj_p, bound_p = float(pulp.value(prob.objective)), -float(info.mip_dual_bound)
    assert r.objective is not None and r.bound is not None, r.message
    obj_e, bound_e = float(r.objective), float(r.bound)
    scale = max(1.0, abs(obj_e))
    agree = max(obj_e, obj_p) <= min(bound_e, bound_p) + 1e-9 * scale
    return {"instance": str(path), "gap_asked": gap,
            "engine": {"status": r.status.value, "objective": obj_e, "bound": bound_e, "gap": r.gap, "seconds": te},
            "pulp": {"status": pulp.LpStatus[prob.status], "sol_status": prob.sol_status, "objective": obj_p,
                     "bound": bound_p, "gap": abs(bound_p - obj_p) / max(1.0, abs(obj_p)), "seconds": tp},
            "objective_rel_diff": abs(obj_e - obj_p) / scale, "intervals_agree": bool(agree),
            "within_gap": abs(obj_e - obj_p) <= gap * scale}


# ---------------------------------------------------------------------------------------------------
# child: one builder, one instance
# ---------------------------------------------------------------------------------------------------
def child(builder: str, path: str, repeats: int, handover: bool, sizes: bool, result: str) -> None:
    """Load ``path``, build it ``repeats`` times with ``builder``, optionally hand it to HiGHS; write JSON."""
    from allocator.instance import load

    t = time.perf_counter()
    inst = load(path)
    out: dict[str, Any] = {"builder": builder, "instance": path, "load_s": time.perf_counter() - t,
                           "rss_after_load_mib": rss_now_mib(), "peak_after_load_mib": peak_rss_mib()}
    make: Callable[[Instance], Any]  # both builders are called with the instance alone
    if builder == "engine":
        from allocator.station import build as make
    else:
        from pulp_anchor import build_pulp as make
    times = []
    model = None
    for _ in range(repeats):
        model = None
        gc.collect()
        t = time.perf_counter()
        model = make(inst)
        times.append(time.perf_counter() - t)
    out.update({"build_s": times, "build_median_s": float(np.median(times)), "peak_after_build_mib": peak_rss_mib(),
                "rss_after_build_mib": rss_now_mib()})
    if handover:
        t = time.perf_counter()
        if builder == "engine":
            from solvers.highs_backend import _pass, _quiet_highs

            h = _quiet_highs()
            _pass(h, model.problem)  # type: ignore[union-attr]
            out["highs_cols"] = int(h.getNumCol())
        else:
            import pulp

            solver = pulp.HiGHS(msg=False)
            solver.createAndConfigureSolver(model)
            solver.buildSolverModel(model)
            out["highs_cols"] = int(model.solverModel.getNumCol())  # type: ignore[union-attr]
        out["handover_s"] = time.perf_counter() - t
        out["peak_after_handover_mib"] = peak_rss_mib()
    if sizes:
        if builder == "engine":
            out["size"] = engine_stats(model.problem)  # type: ignore[union-attr]
        else:
            from pulp_anchor import stats

            out["size"] = stats(model)
    Path(result).write_text(json.dumps(out, indent=2))


# ---------------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--child``, one measurement)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,40000", help="comma-separated station counts")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", default="/tmp/allocator-bench", help="where instances are generated")
    p.add_argument("--engine-repeats", type=int, default=3)
    p.add_argument("--pulp-repeats", type=int, default=1)
    p.add_argument("--no-handover", action="store_true", help="do not time the hand-over to HiGHS")
    p.add_argument("--skip-check", action="store_true", help="skip the same-model checks")
    p.add_argument("--check-gap", type=float, default=1e-3)
    p.add_argument("--check-time-limit", type=float, default=120.0)
    p.add_argument("--timeout", type=float, default=1800.0, help="hard stop of a child (seconds)")
    p.add_argument("--out", default="build_bench", help="name of the JSON file under benchmarks/results")
    p.add_argument("--child", choices=("engine", "pulp"), help=argparse.SUPPRESS)
    p.add_argument("--instance", help=argparse.SUPPRESS)
    p.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--handover", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--size-stats", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        child(a.child, a.instance, a.repeats, a.handover, a.size_stats, a.result)
        return

    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in a.sizes.split(",")]
    payload: dict[str, Any] = {"benchmark": "build", "command": " ".join(["python", *sys.argv]),
                               "machine": machine(), "seed": a.seed, "sizes": sizes,
                               "targets": {"build_40k_s": TARGET_BUILD_S, "ratio_vs_pulp": TARGET_RATIO}}
    folders = {n: ensure_instance(n, a.seed, work) for n in sizes}
    if not a.skip_check:
        root = HERE.parent
        check_size = min(sizes)
        cmp_paths = [folders[check_size], root / "instances" / "fuzhou-2026", root / "instances" / "a-district-2026"]
        payload["same_model"] = [compare_models(f) for f in cmp_paths]
        for c in payload["same_model"]:
            print(f"same model {c['instance']}: size {c['same_size']}, fingerprint {c['same_fingerprint']} "
                  f"({c['engine']['rows']:,} rows, {c['engine']['active_columns']:,} columns, "
                  f"{c['engine']['nonzeros']:,} nonzeros)", flush=True)
        small = ensure_instance(150, a.seed, work)
        payload["same_optimum"] = [compare_optimum(f, a.check_gap, a.check_time_limit)
                                   for f in (small, root / "instances" / "fuzhou-2026",
                                             root / "instances" / "a-district-2026")]
        for c in payload["same_optimum"]:
            print(f"same optimum {c['instance']}: engine {c['engine']['objective']:,.2f} "
                  f"(bound {c['engine']['bound']:,.2f}), PuLP {c['pulp']['objective']:,.2f} "
                  f"(bound {c['pulp']['bound']:,.2f}): agree {c['intervals_agree']}", flush=True)
    runs = []
    for n in sizes:
        for builder in ("engine", "pulp"):
            res_file = work / f"build-{builder}-{n}.json"
            res_file.unlink(missing_ok=True)
            args = [str(HERE / "build_bench.py"), "--child", builder, "--instance", str(folders[n]),
                    "--repeats", str(a.engine_repeats if builder == "engine" else a.pulp_repeats),
                    "--result", str(res_file), "--size-stats"]
            if not a.no_handover:
                args.append("--handover")
            load0 = os.getloadavg()[0]
            proc = run_child(args, a.timeout, log=work / f"build-{builder}-{n}.log")
            rec: dict[str, Any] = {"stations": n, "builder": builder, "child": proc, "loadavg_1min_at_start": load0}
            if res_file.exists():
                rec.update(json.loads(res_file.read_text()))
            runs.append(rec)
            print(f"{n:>6} {builder:<6} build {rec.get('build_median_s', float('nan')):8.2f} s  "
                  f"hand-over {rec.get('handover_s', float('nan')):8.2f} s  "
                  f"peak RSS {proc['peak_rss_mib'] or float('nan'):8.0f} MiB"
                  + ("  KILLED" if proc["killed"] else ""), flush=True)
    payload["runs"] = runs
    summary = []
    for n in sizes:
        e = next(r for r in runs if r["stations"] == n and r["builder"] == "engine")
        q = next(r for r in runs if r["stations"] == n and r["builder"] == "pulp")
        row = {"stations": n, "engine_build_s": e.get("build_median_s"), "pulp_build_s": q.get("build_median_s"),
               "engine_handover_s": e.get("handover_s"), "pulp_handover_s": q.get("handover_s"),
               "engine_peak_build_mib": e.get("peak_after_build_mib"),
               "pulp_peak_build_mib": q.get("peak_after_build_mib"),
               "engine_peak_mib": e["child"]["peak_rss_mib"], "pulp_peak_mib": q["child"]["peak_rss_mib"],
               "after_load_mib": e.get("peak_after_load_mib")}
        if row["engine_build_s"] and row["pulp_build_s"]:
            row["build_ratio"] = row["pulp_build_s"] / row["engine_build_s"]
        if row["engine_handover_s"] and row["pulp_handover_s"]:
            row["build_and_handover_ratio"] = ((row["pulp_build_s"] + row["pulp_handover_s"])
                                               / (row["engine_build_s"] + row["engine_handover_s"]))
        summary.append(row)
    payload["summary"] = summary
    payload["machine_after"] = {"loadavg": os.getloadavg()}
    path = save(a.out, payload)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
