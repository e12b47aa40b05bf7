"""The three-year Fuzhou solve against the one-year model, side by side in one run (issue 14).

Runs ``allocator solve`` (the CLI, as a user would) on ``instances/fuzhou-2026`` (one year, 2026) and
``instances/fuzhou`` (2024-2026) one after the other, and records CLI wall time, status, proven gap
and model size (rows, columns, integer columns, nonzeros from the manifest) in
``benchmarks/results/horizon_bench.json``.

    .venv/bin/python benchmarks/horizon_bench.py [--time-limit 300] [--decompose-batch 40]

With ``--decompose-batch N`` it also tries the county decomposition on the horizon model (the library's
``solve_decomposed`` on ``build_horizon``; the CLI refuses ``--method decompose`` on a horizon): batches of
about N stations, how many rows couple them, and what the decomposition finds within the time limit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = (("one-year 2026", "instances/fuzhou-2026"), ("horizon 2024-2026", "instances/fuzhou"))


def run(instance: str, out: Path, time_limit: float) -> dict[str, object]:
    cli = Path(sys.executable).parent / "allocator"
    t0 = time.perf_counter()
    proc = subprocess.run([str(cli), "solve", str(ROOT / instance), "--out", str(out), "--seed", "0",
                           "--time-limit", str(time_limit)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    return {"instance": instance, "exit": proc.returncode, "wall_s": round(wall, 1), "status": summary["status"],
            "gap": summary["gap"], "objective": summary["objective"], "bound": summary["bound"],
            "model": manifest["model"]}


def decompose(batch: int, time_limit: float) -> dict[str, object]:
    """The county decomposition of the three-year model: its coupling and what it finds in ``time_limit``."""
    import numpy as np

    from allocator.decompose import DecomposeOptions
    from allocator.decompose.partition import partition
    from allocator.decompose.solve import solve_decomposed
    from allocator.instance import load
    from allocator.station.horizon import build_horizon
    from solvers import SolveOptions

    inst = load(ROOT / "instances" / "fuzhou")
    model = build_horizon(inst)
    county = np.asarray(inst.stations["county"], dtype=str)
    st = partition(model, county, batch)
    t0 = time.perf_counter()
    r = solve_decomposed(model, county, SolveOptions(mip_gap=0.01, time_limit=time_limit),
                         dopts=DecomposeOptions(batch_size=batch))
    return {"case": f"horizon decomposed, batches of ~{batch}", "batches": len(st.batches),
            "coupling_rows": len(st.coupling), "global_columns": len(st.global_cols), "status": r.status.value,
            "objective": r.objective, "bound": r.bound, "gap": r.gap, "wall_s": round(time.perf_counter() - t0, 1),
            "message": r.message}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--decompose-batch", type=int, default=None)
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, instance in CASES:
            r = run(instance, Path(tmp) / label.replace(" ", "_"), args.time_limit)
            r["case"] = label
            results.append(r)
            print(json.dumps(r), flush=True)
    if args.decompose_batch:
        results.append(decompose(args.decompose_batch, args.time_limit))
        print(json.dumps(results[-1]), flush=True)
    out = ROOT / "benchmarks" / "results" / "horizon_bench.json"
    out.write_text(json.dumps({"time_limit": args.time_limit, "results": results}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
