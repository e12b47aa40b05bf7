"""The price of fairness on the seeds: residents covered with and without the group floors.

``.venv/bin/python benchmarks/fairness_price.py [GAP [SEED...]]`` solves each seed twice with the same options as
``allocator solve --seed 0`` (gap 1 %): as written (X-FLOOR [group] and F-SPECIAL [group] in the model) and with
the floors taken out (X-FLOOR out of force; F-SPECIAL's per-group rows dropped, its total kept).  The
concave benefit (X-BENEFIT) is in both runs, so the difference is the floors' alone.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from allocator.instance import load
from allocator.station import solve_instance
from solvers import SolveOptions

ROOT = Path(__file__).resolve().parents[1]


def covered(plan, weights: dict[str, float]) -> tuple[float, float, float, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Residents covered, in need, weighted need covered (sum of w[g] x), coverage share by group."""
    cov = plan.tables["coverage"]
    by = cov.groupby("group")[["covered", "demand"]].sum()
    weighted = float(sum(weights[g] * by.loc[g, "covered"] for g in by.index))
    return (float(cov["covered"].sum()), float(cov["demand"].sum()), weighted,
            (by["covered"] / by["demand"]).to_dict())


def main() -> None:
    gap = float(sys.argv[1]) if len(sys.argv) > 1 else 0.01  # the CLI's default gap unless given
    seeds = sys.argv[2:] or ["a-district-2026", "fuzhou-2026"]
    for seed in seeds:
        inst = load(ROOT / "instances" / seed)
        free = dataclasses.replace(inst, clauses=tuple(
            dataclasses.replace(c, in_force=False) if c.id == "X-FLOOR" else c for c in inst.clauses))
        for label, i, drop in (("with floors", inst, frozenset()),
                               ("without floors", free, frozenset({("F-SPECIAL", "group")}))):
            t = time.perf_counter()
            plan = solve_instance(i, options=SolveOptions(mip_gap=gap, seed=0, time_limit=300), drop=drop)
            c, d, wc, share = covered(plan, {g.id: g.weight for g in inst.groups})
            low = min(share.items(), key=lambda kv: kv[1])
            print(f"{seed:11s} {label:15s} covered {c:9,.0f} of {d:9,.0f} ({100 * c / d:5.2f} %)  weighted "
                  f"{wc:9,.0f}  lowest group {low[0]} {100 * low[1]:.1f} %  gap {100 * (plan.outcome.gap or 0):.2f} %"
                  f"  [{plan.status.name}, {time.perf_counter() - t:.0f} s]")


if __name__ == "__main__":
    main()
