"""The seed instances solved by decomposition and by the monolithic MIP, side by side.

    python benchmarks/decompose_seeds.py --batch-size 20

The seeds are small (42 and 150 stations), so ``--batch-size`` is set low enough that each splits into
several batches of whole counties (streets in district A) and the coupling rows really couple.  Both
methods are asked for the same gap; they agree when each one's plan lies under the other's bound and the
two plans are within that gap of each other.  Results go to ``benchmarks/results/decompose_seeds.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import cast

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from benchutil import machine, save  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    import numpy as np

    from allocator.decompose import DecomposeOptions, solve_decomposed
    from allocator.instance import load
    from allocator.station import build
    from solvers import SolveOptions, get_backend

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--instances", default="a-district,fuzhou")
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--gap", type=float, default=1e-3)
    p.add_argument("--time-limit", type=float, default=300.0)
    a = p.parse_args(argv)
    records = []
    for name in a.instances.split(","):
        inst = load(ROOT / "instances" / name)
        model = build(inst)
        county = np.asarray(inst.stations["county"], dtype=str)
        opts = SolveOptions(mip_gap=a.gap, time_limit=a.time_limit)
        t = time.perf_counter()
        mono = get_backend("highs").solve(model.problem, opts)
        t_mono = time.perf_counter() - t
        t = time.perf_counter()
        dec = solve_decomposed(model, county, opts, "highs", DecomposeOptions(batch_size=a.batch_size))
        t_dec = time.perf_counter() - t
        tol = 1e-6 * max(1.0, abs(mono.objective or 0.0))
        brackets = (mono.objective is not None and dec.objective is not None and dec.bound is not None
                    and mono.bound is not None and dec.bound >= mono.objective - tol
                    and dec.objective <= mono.bound + tol)
        diff = None if mono.objective is None or dec.objective is None else \
            abs(dec.objective - mono.objective) / max(1.0, abs(mono.objective))
        history = cast("list[dict[str, float]]", dec.extra.get("history", []))  # one entry per pass
        rec = {"instance": name, "stations": len(inst.stations), "counties": int(len(set(county))),
               "batches": dec.extra.get("batches"), "coupling_rows": dec.extra.get("coupling_rows"),
               "monolithic": {"status": mono.status.value, "objective": mono.objective, "bound": mono.bound,
                              "gap": mono.gap, "seconds": t_mono},
               "decompose": {"status": dec.status.value, "objective": dec.objective, "bound": dec.bound,
                             "gap": dec.gap, "seconds": t_dec, "passes": len(history)},
               "brackets": brackets, "relative_difference": diff, "same_optimum_within_gap": bool(
                   brackets and diff is not None and diff <= a.gap)}
        records.append(rec)
        print(f"{name}: monolithic {mono.status.value} {mono.objective} (bound {mono.bound}, {t_mono:.1f} s) | "
              f"decompose {dec.status.value} {dec.objective} (bound {dec.bound}, gap {dec.gap}, {t_dec:.1f} s, "
              f"{rec['batches']} batches) | difference {diff} brackets {brackets}", flush=True)
    payload = {"benchmark": "decompose_seeds", "command": " ".join(["python", *sys.argv]), "machine": machine(),
               "records": records}
    print(f"results: {save('decompose_seeds', payload)}")


if __name__ == "__main__":
    main()
