"""By-hand GAP benchmark of the solver backends (not part of pytest).

Part (a): OR-Library gap1-gap12, 60 instances, maximisation, solved to proven
optimality (``mip_gap=0``) by each backend in turn; total time per backend and
whether every instance was proven optimal at the published optimum.

Part (b): Yagiura's type C instances (10x400 ... 80x1600), minimisation, with
a time limit per instance (60 s by default).  Each solve runs under the hard
wall-clock guard (:func:`solvers.guard.solve_guarded`, 30 s grace), because
solvers overrun their limits; objective, bound, gap and time are compared
with ``yagiura_c/optima.csv``.

One solver runs at a time, on one thread.  Every plan is checked here
(each job once, capacities, objective recomputed) before it is counted, and
the solver's own objective and bound are compared with the recomputed value
and the known optimum / best known value.

Part (a) times the model build (``GapProblem.to_milp``) and the solve of each
instance; the file reading is done once beforehand and each backend first
solves one untimed warm-up instance (gap1-1), so that library import and
first-call costs are reported apart (``warmup_s``) rather than charged to
gap1-1.  ``--repeat k`` runs the whole 60-instance pass ``k`` times per
backend (the machine may be shared; the report gives the median pass).

Usage::

    .venv/bin/python benchmarks/gap_bench.py [--part a|b|all] [--backends highs,cbc,...]
        [--repeat 1] [--time-limit 60] [--data DIR] [--json PATH] [--label NAME]

With ``--json`` an existing file is updated: each part run replaces only its
own key (``part_a``, ``part_b``, or ``part_a_<label>`` with ``--label``).

Markdown tables go to stdout, progress to stderr.  The data folder defaults
to ``../shared/benchmarks/gap`` beside the checkout or
``$ALLOCATOR_SHARED/benchmarks/gap``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import machine  # noqa: E402

from allocator.assign.gap import GapInstance, GapProblem, read_orlib_gap, read_yagiura_gap  # noqa: E402
from solvers import SolveOptions, SolverResult, get_backend  # noqa: E402
from solvers.guard import solve_guarded  # noqa: E402

BACKENDS = ["highs", "cbc", "ortools-scip", "cpsat"]
GRACE = 30.0


def default_data_dir() -> Path:
    """``$ALLOCATOR_SHARED/benchmarks/gap`` or ``../shared/benchmarks/gap``."""
    env = os.environ.get("ALLOCATOR_SHARED")
    return (Path(env) if env else ROOT.parent / "shared") / "benchmarks" / "gap"


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def plan_objective(inst: GapInstance, assignment: np.ndarray) -> float | None:
    """Objective of a complete, capacity-respecting assignment; None if it is not one."""
    n = inst.n
    if assignment.shape != (n,) or (assignment < 0).any() or (assignment >= inst.m).any():
        return None
    load = np.zeros(inst.m)
    np.add.at(load, assignment, inst.a[assignment, np.arange(n)])
    if (load > inst.b).any():
        return None
    return float(inst.c[assignment, np.arange(n)].sum())


def _solve(backend: str, milp, options: SolveOptions, guard: bool) -> SolverResult:  # type: ignore[no-untyped-def]
    if guard:  # a child process, stopped at time_limit + GRACE whatever the solver does
        return solve_guarded(backend, milp, options, grace=GRACE)
    return get_backend(backend).solve(milp, options)


def run_one(inst: GapInstance, sense: str, backend: str, options: SolveOptions, guard: bool) -> dict:
    """Build and solve one instance; return a record with wall and CPU seconds and checked values.

    ``wall`` = ``build`` (``to_milp``) + ``solve`` (the backend call, guard included).
    """
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    problem = GapProblem(inst, sense)
    milp = problem.to_milp()
    build = time.perf_counter() - t0
    cpu0, kids0 = time.process_time(), _children_cpu()
    start = time.perf_counter()
    result = _solve(backend, milp, options, guard)
    solve = time.perf_counter() - start
    cpu = time.process_time() - cpu0 + _children_cpu() - kids0
    sol = problem.solution_from_result(result, solve, backend)
    objective = None
    valid = True
    if sol.status.has_solution:
        objective = plan_objective(inst, sol.assignment)
        valid = objective is not None and objective == sol.objective
    # The backend's own objective must agree with the recomputed one (float noise allowed).
    solver_obj = result.objective
    obj_agrees = (objective is None or solver_obj is None
                  or abs(solver_obj - objective) <= 1e-6 * max(1.0, abs(objective)))
    # A plan can never beat a proven bound.
    bound_respected = (objective is None or sol.bound is None
                       or (objective <= sol.bound + 1e-6 if sense == "max" else objective >= sol.bound - 1e-6))
    return {
        "instance": inst.name, "m": inst.m, "n": inst.n, "sense": sense, "backend": backend,
        "status": sol.status.value, "raw_status": result.raw_status, "objective": objective,
        "solver_objective": solver_obj, "bound": sol.bound, "gap": sol.gap,
        "wall": build + solve, "build": build, "solve": solve, "cpu": cpu,
        "valid_plan": valid and obj_agrees and bound_respected, "objective_agrees": obj_agrees,
        "bound_respected": bound_respected, "guard_killed": bool(result.extra.get("guard_killed", False)),
        "loadavg_1min_at_start": load, "message": sol.message[:200],
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def part_a(data: Path, backends: list[str], cap: float, repeat: int = 1) -> tuple[list[dict], dict]:
    """Solve gap1-gap12 (max) with every backend ``repeat`` times; return records and pass totals."""
    optima = {(r["file"], int(r["instance_index"])): float(r["optimum"])
              for r in _rows(data / "optima.csv") if r["sense"] == "max" and r["benchmark_sense"] == "yes"}
    records = []
    options = SolveOptions(time_limit=cap, mip_gap=0.0, threads=1, seed=0)
    files = [f"gap{k}.txt" for k in range(1, 13)]
    t_read = time.perf_counter()
    instances = [(f, k, inst) for f in files for k, inst in enumerate(read_orlib_gap(data / f), start=1)]
    t_read = time.perf_counter() - t_read
    if len(instances) != 60 or any((f, k) not in optima for f, k, _ in instances):
        raise SystemExit(f"expected 60 instances with a max optimum each, got {len(instances)}")
    passes: dict = {"read_s": t_read, "warmup_s": {}, "pass_wall_s": {}}
    for backend in backends:
        t0 = time.perf_counter()
        run_one(instances[0][2], "max", backend, options, guard=False)  # untimed warm-up
        passes["warmup_s"][backend] = time.perf_counter() - t0
        passes["pass_wall_s"][backend] = []
        for rep in range(repeat):
            t0 = time.perf_counter()
            for f, k, inst in instances:
                rec = run_one(inst, "max", backend, options, guard=False)
                rec["repeat"] = rep
                rec["optimum"] = optima[(f, k)]
                rec["proven"] = rec["status"] == "optimal"
                rec["matched"] = rec["valid_plan"] and rec["objective"] == rec["optimum"]
                rec["ok"] = rec["proven"] and rec["matched"]
                records.append(rec)
            elapsed = time.perf_counter() - t0
            passes["pass_wall_s"][backend].append(elapsed)
            print(f"[a] {backend} pass {rep + 1}/{repeat}: {elapsed:.1f} s, load {os.getloadavg()[0]:.1f}",
                  file=sys.stderr, flush=True)
    return records, passes


def part_b(data: Path, backends: list[str], limit: float) -> list[dict]:
    folder = data / "yagiura_c"
    table = {r["file"]: r for r in _rows(folder / "optima.csv")}
    order = sorted(table, key=lambda name: (int(table[name]["n_jobs"]), int(table[name]["m_agents"])))
    options = SolveOptions(time_limit=limit, mip_gap=0.0, threads=1, seed=0)
    records = []
    for backend in backends:
        for name in order:
            inst = read_yagiura_gap(folder / name)
            rec = run_one(inst, "min", backend, options, guard=True)
            ref = table[name]
            rec["optimum"] = float(ref["optimum"]) if ref["optimum"] else None
            rec["best_bound"] = float(ref["best_bound"])
            rec["best_known"] = float(ref["best_known"])
            # A proven lower bound above the best known plan, or a plan below the literature's
            # proven lower bound, would be a solver (or checker) bug.
            rec["bound_ok"] = rec["bound"] is None or rec["bound"] <= rec["best_known"] + 1e-6
            rec["plan_above_best_bound"] = rec["objective"] is None or rec["objective"] >= rec["best_bound"] - 1e-6
            rec["matches_optimum"] = rec["optimum"] is not None and rec["objective"] == rec["optimum"]
            rec["excess_over_best_known"] = (None if rec["objective"] is None
                                             else rec["objective"] - rec["best_known"])
            records.append(rec)
            print(f"[b] {backend} {name}: {rec['status']} obj={rec['objective']} bound={rec['bound']} "
                  f"{rec['wall']:.1f} s", file=sys.stderr, flush=True)
    return records


def _fmt(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def _median_pass(records: list[dict], backend: str) -> list[dict]:
    """The records of ``backend``'s median pass (by total wall time)."""
    reps = sorted({r["repeat"] for r in records if r["backend"] == backend})
    tot = {k: sum(r["wall"] for r in records if r["backend"] == backend and r["repeat"] == k) for k in reps}
    mid = sorted(reps, key=lambda k: tot[k])[(len(reps) - 1) // 2]
    return [r for r in records if r["backend"] == backend and r["repeat"] == mid]


def report_a(records: list[dict], backends: list[str]) -> str:
    lines = ["| backend | total s (build + solve) | of which build s | total CPU s | all passes s | "
             "proven optimal | matched optimum | valid plans | slowest instance (s) | ratio to fastest | "
             "mean load |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    med = {b: _median_pass(records, b) for b in backends}
    walls = {b: sum(r["wall"] for r in med[b]) for b in backends}
    for b in backends:
        rs = med[b]
        every = [r for r in records if r["backend"] == b]
        passes = sorted({r["repeat"] for r in every})
        per = ", ".join(f"{sum(r['wall'] for r in every if r['repeat'] == k):.1f}" for k in passes)
        slow = max(rs, key=lambda r: r["wall"])
        lines.append(
            f"| {b} | {walls[b]:.1f} | {sum(r['build'] for r in rs):.2f} | {sum(r['cpu'] for r in rs):.1f} | "
            f"{per} | {sum(r['proven'] for r in every)}/{len(every)} | "
            f"{sum(r['matched'] for r in every)}/{len(every)} | "
            f"{sum(r['valid_plan'] for r in every)}/{len(every)} | {slow['instance']} ({slow['wall']:.2f}) | "
            f"{walls[b] / min(walls.values()):.2f} | {np.mean([r['loadavg_1min_at_start'] for r in rs]):.1f} |"
        )
    lines.append("\nTotals are for the median pass; proven/matched/valid count every pass.")
    failed = [r for r in records if not r["ok"]]
    for r in failed:
        lines.append(f"\nnot proven at the optimum: {r['backend']} {r['instance']}: {r['status']} "
                     f"{r['objective']} vs {r['optimum']} ({r['message']})")
    return "\n".join(lines)


def report_b(records: list[dict], backends: list[str]) -> str:
    names = list(dict.fromkeys(r["instance"] for r in records))
    out = []
    head = "| instance | optimum (best bound / best known) | " + " | ".join(
        f"{b}: obj / bound / gap / s" for b in backends) + " |"
    out += [head, "|---|---|" + "---|" * len(backends)]
    by = {(r["instance"], r["backend"]): r for r in records}
    for name in names:
        any_r = by[(name, backends[0])]
        ref = (_fmt(any_r["optimum"]) if any_r["optimum"] is not None
               else f"open ({_fmt(any_r['best_bound'])} / {_fmt(any_r['best_known'])})")
        cells = []
        for b in backends:
            r = by.get((name, b))
            if r is None:
                cells.append("-")
                continue
            flag = "" if r["valid_plan"] and r["bound_ok"] and r["plan_above_best_bound"] else " **CHECK FAILED**"
            if r["guard_killed"]:
                flag += " (killed by guard)"
            star = "*" if r["status"] == "optimal" else ""
            gap = "-" if r["gap"] is None else f"{100 * r['gap']:.2f}%"
            cells.append(f"{_fmt(r['objective'])}{star} / {_fmt(r['bound'], 1)} / {gap} / "
                         f"{r['wall']:.1f}{flag}" if r["status"] != "no_solution" else
                         f"no plan ({r['status']}) / {r['wall']:.1f}")
        out.append(f"| {name} | {ref} | " + " | ".join(cells) + " |")
    out.append("\n`*` = proven optimal. gap = |bound - objective| / objective.\n")
    out += ["| backend | proven optimal | plan at the best known value | mean gap (instances with a plan) | "
            "mean excess over best known | plans | total wall s | total CPU s |",
            "|---|---|---|---|---|---|---|---|"]
    for b in backends:
        rs = [r for r in records if r["backend"] == b]
        with_plan = [r for r in rs if r["objective"] is not None]
        gaps = [r["gap"] for r in with_plan if r["gap"] is not None]
        excess = [(r["objective"] - r["best_known"]) / r["best_known"] for r in with_plan]
        at_best = sum(r["objective"] == r["best_known"] for r in with_plan)
        out.append(
            f"| {b} | {sum(r['status'] == 'optimal' for r in rs)}/{len(rs)} | {at_best}/{len(rs)} | "
            f"{100 * np.mean(gaps):.2f}% | {100 * np.mean(excess):.2f}% | {len(with_plan)}/{len(rs)} | "
            f"{sum(r['wall'] for r in rs):.0f} | {sum(r['cpu'] for r in rs):.0f} |"
            if with_plan else f"| {b} | 0/{len(rs)} | 0/{len(rs)} | - | - | 0/{len(rs)} | "
            f"{sum(r['wall'] for r in rs):.0f} | {sum(r['cpu'] for r in rs):.0f} |"
        )
    return "\n".join(out)


_TIME_KEYS = ("wall", "build", "solve", "cpu", "loadavg_1min_at_start")


def dump_json(out: dict) -> str:
    """JSON text with one line per record; seconds and loads rounded to 0.1 ms / 0.001."""
    parts = []
    for key, section in out.items():
        head = {k: v for k, v in section.items() if k != "records"}
        recs = [json.dumps({k: (round(v, 4) if k in _TIME_KEYS and isinstance(v, float) else v)
                            for k, v in r.items()}) for r in section.get("records", [])]
        body = json.dumps(head, indent=1)[:-2]  # drop the closing brace; records follow
        parts.append(f"{json.dumps(key)}: {body},\n \"records\": [\n  " + ",\n  ".join(recs) + "\n ]\n}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=["a", "b", "all"], default="all")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--time-limit", type=float, default=60.0, help="part (b) limit per instance, s")
    ap.add_argument("--cap-a", type=float, default=60.0, help="part (a) safety limit per instance, s")
    ap.add_argument("--repeat", type=int, default=1, help="part (a) passes per backend")
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--json", type=Path, default=None, help="also write every record here")
    ap.add_argument("--label", default="", help="JSON key suffix: part_a_<label> instead of part_a")
    args = ap.parse_args(argv)
    if not (args.data / "optima.csv").is_file():
        print(f"GAP data not found at {args.data}", file=sys.stderr)
        return 2
    backends = [b for b in args.backends.split(",") if b]
    versions = {b: get_backend(b).version() for b in backends}
    print(f"# GAP benchmark run {time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average at start {os.getloadavg()[0]:.1f}\n")
    print("Versions: " + "; ".join(f"{b} = {v}" for b, v in versions.items()) + "\n")
    info = {"command": " ".join([".venv/bin/python", "benchmarks/gap_bench.py", *(argv or sys.argv[1:])]),
            "machine": machine(), "versions": versions, "threads": 1, "machine_shared": True,
            "time_limit_b": args.time_limit, "guard_grace_b": GRACE, "cap_a": args.cap_a, "repeat_a": args.repeat}
    records: dict[str, list[dict]] = {}
    if args.part in ("a", "all"):
        records["a"], info["part_a"] = part_a(args.data, backends, args.cap_a, args.repeat)
        print("## (a) gap1-gap12, 60 instances, max, to proven optimality\n")
        print(report_a(records["a"], backends) + "\n")
        info["loadavg_end_a"] = os.getloadavg()
        print(f"Load average (1 min) at the end of part (a): {os.getloadavg()[0]:.1f}\n")
    if args.part in ("b", "all"):
        records["b"] = part_b(args.data, backends, args.time_limit)
        print(f"## (b) Yagiura type C, min, {args.time_limit:g} s limit, hard guard at +{GRACE:g} s\n")
        print(report_b(records["b"], backends) + "\n")
        info["loadavg_end_b"] = os.getloadavg()
        print(f"Load average (1 min) at the end of part (b): {os.getloadavg()[0]:.1f}\n")
    if args.json:
        info["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        # One file for both parts: a run of one part replaces that part only, so parts (a) and
        # (b) can be run as separate commands.
        out = json.loads(args.json.read_text()) if args.json.is_file() else {}
        for part, recs in records.items():
            extra = {k: v for k, v in info.items() if not k.endswith("_a" if part == "b" else "_b")}
            out[f"part_{part}" + (f"_{args.label}" if args.label else "")] = {**extra, "records": recs}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(dump_json(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
