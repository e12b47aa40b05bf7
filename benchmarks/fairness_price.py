"""The price of fairness on the seeds: residents covered with and without the group floors.

``.venv/bin/python benchmarks/fairness_price.py`` solves each seed twice with the same options as
``allocator solve --seed 0`` (gap 1 %): as written (X-FLOOR [group] and F-SPECIAL [group] in the model) and with
the floors taken out (X-FLOOR out of force; F-SPECIAL's per-group rows dropped, its total kept).  The
concave benefit (X-BENEFIT) is in both runs, so the difference is the floors' alone.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from allocator.instance import load
from allocator.station import solve_instance
from solvers import SolveOptions

ROOT = Path(__file__).resolve().parents[1]


def covered(plan) -> tuple[float, float, dict[str, float]]:  # type: ignore[no-untyped-def]
    cov = plan.tables["coverage"]
    by = cov.groupby("group")[["covered", "demand"]].sum()
    return float(cov["covered"].sum()), float(cov["demand"].sum()), (by["covered"] / by["demand"]).to_dict()


def main() -> None:
    for seed in ("a-district", "fuzhou"):
        inst = load(ROOT / "instances" / seed)
        free = dataclasses.replace(inst, clauses=tuple(
            dataclasses.replace(c, in_force=False) if c.id == "X-FLOOR" else c for c in inst.clauses))
        for label, i, drop in (("with floors", inst, frozenset()),
                               ("without floors", free, frozenset({("F-SPECIAL", "group")}))):
            t = time.perf_counter()
            plan = solve_instance(i, options=SolveOptions(mip_gap=0.01, seed=0), drop=drop)
            c, d, share = covered(plan)
            low = min(share.items(), key=lambda kv: kv[1])
            print(f"{seed:11s} {label:15s} covered {c:10,.0f} of {d:10,.0f} ({100 * c / d:5.2f} %)  "
                  f"lowest group {low[0]} {100 * low[1]:.1f} %  [{plan.status.name}, {time.perf_counter() - t:.0f} s]")


if __name__ == "__main__":
    main()
