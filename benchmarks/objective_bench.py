"""Lexicographic against weighted on the seeds: need covered per group, deviations, stages, wall time.

    .venv/bin/python benchmarks/objective_bench.py [--time-limit 120] [--gap 0.01] [instances ...]

Prints one Markdown table per instance (the rows of benchmarks/README.md's comparison).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from allocator.instance import load
from allocator.station import solve_instance
from solvers import SolveOptions

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("instances", nargs="*", default=["a-district-2026", "fuzhou-2026"])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--gap", type=float, default=0.01)
    args = ap.parse_args()
    for name in args.instances:
        inst = load(ROOT / "instances" / name)
        rows = {}
        for mode in ("weighted", "lexicographic"):
            t0 = time.perf_counter()
            plan = solve_instance(inst, options=SolveOptions(time_limit=args.time_limit, mip_gap=args.gap),
                                  objective=mode)
            rows[mode] = (plan, time.perf_counter() - t0)
        print(f"\n### {name} (gap {args.gap:g}, time limit {args.time_limit:g} s)\n")
        print("| | " + " | ".join(rows) + " |")
        print("|---|" + "---|" * len(rows))
        parts = {m: p.summary["objective_parts"] for m, (p, _) in rows.items()}
        print("| how it ended | " + " | ".join(p.summary["quality"] for p, _ in rows.values()) + " |")
        print("| wall time (s) | " + " | ".join(f"{s:.1f}" for _, s in rows.values()) + " |")
        print("| need covered, residents | " + " | ".join(f"{parts[m]['need_covered']['residents']:,.0f}"
                                                       for m in rows) + " |")
        print("| need covered, weighted | " + " | ".join(f"{parts[m]['need_covered']['weighted']:,.0f}"
                                                      for m in rows) + " |")
        for g in inst.group_ids:
            print(f"| {g} | " + " | ".join(f"{parts[m]['need_covered']['by_group'][g]['residents']:,.0f}"
                                          for m in rows) + " |")
        print("| weighted deviation | " + " | ".join(f"{-parts[m]['penalty_total']:,.0f}" for m in rows) + " |")
        keys = sorted({(p["clause_id"], p["family"], p["unit"]) for m in rows for p in parts[m]["penalties"]})
        for k in keys:
            vals = []
            for m in rows:
                d = {(p["clause_id"], p["family"], p["unit"]): p["deviation"] for p in parts[m]["penalties"]}
                vals.append(f"{d.get(k, 0.0):,.1f}")
            print(f"| {k[0]} {k[1]} ({k[2]}) | " + " | ".join(vals) + " |")


if __name__ == "__main__":
    main()
