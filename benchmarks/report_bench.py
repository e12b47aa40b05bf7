"""Time the workbook and the HTML report of a national-scale plan (issue 16: <= 30 s for 40,000 stations).

    python benchmarks/national.py --stations 40000 --seed 1 --out /tmp/national-40k
    python benchmarks/report_bench.py --instance /tmp/national-40k [--plan PLAN_DIR] [--out DIR]

With ``--plan`` the plan folder written by ``allocator solve --out`` is reported.  Without it the plan's
tables are made up with the shapes and types a solve writes (staff as in post, money by use from the unit
costs, every service offered, half of each group's need covered, one clause row per station for three station
families and one for each city-wide family): solving 40,000 stations takes far longer than reporting them and
the report's cost depends only on the tables' sizes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from allocator.io import load  # noqa: E402
from allocator.plan import Plan  # noqa: E402

from allocator.instance import Instance  # noqa: E402
from solvers import Status  # noqa: E402


def synthetic_plan(inst: Instance, seed: int = 0) -> Plan:
    """A plan with the tables' real shapes for ``inst`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    st = inst.stations
    ids = np.asarray(st["station_id"], dtype=object)
    S, G, K = len(ids), len(inst.groups), len(inst.services)
    sw_post = pd.Series(np.asarray(inst.staff["station_id"])).value_counts().reindex(ids, fill_value=0).to_numpy()
    swa = rng.integers(0, 2, S)
    swi = rng.integers(0, 2, S)
    swu = np.maximum(sw_post - swa - swi, 0) + 1
    staff = pd.DataFrame({"station_id": ids, "admin": 0, "sw_certified_assistant": swa,
                          "sw_certified_intermediate": swi, "sw_uncertified": swu, "social_workers": swa + swi + swu,
                          "certified": swa + swi, "volunteers": 0, "total_staff": swa + swi + swu})
    sal = staff["social_workers"].to_numpy() * 42000.0
    budget = pd.DataFrame({"station_id": ids, "facilities": rng.choice([50000.0, 100000.0], S), "salaries": sal,
                           "services": np.round(rng.uniform(50000, 150000, S), 2), "training": sal / 14})
    budget["total"] = budget[["facilities", "salaries", "services", "training"]].sum(axis=1)
    services = pd.DataFrame({"station_id": np.repeat(ids, K), "service_id": np.tile(inst.services["service_id"], S),
                             "kind": np.tile(inst.services["kind"], S), "offered": 1})
    need = np.array([g.need_share for g in inst.groups])
    demand = (inst.residents * need[None, :]).ravel()
    coverage = pd.DataFrame({"station_id": np.repeat(ids, G), "group": np.tile(inst.group_ids, S),
                             "demand": demand, "covered": demand * rng.uniform(0.2, 0.8, S * G)})
    works = pd.DataFrame({"station_id": ids, "active": 1, "built": 1})
    fam = []
    for cid, f, unit in (("F-SW-RURAL", "station", "workers"), ("F-SALARY", "station", "yuan"),
                         ("F-AREA", "area", "m2")):
        dev = np.where(rng.random(S) < 0.2, rng.uniform(1, 5, S), 0.0)
        fam.append(pd.DataFrame({"clause_id": cid, "family": f, "station_id": ids, "mode": "soft",
                                 "value": 2.0 - dev, "sense": ">=", "limit": 2.0, "deviation": dev, "slack": -dev,
                                 "binding": False, "unit": unit}))
    fam.append(pd.DataFrame({"clause_id": ["F-SW-DENSITY", "F-TOTAL"], "family": ["per_10k", "operations"],
                             "station_id": "", "mode": ["soft", "hard"], "value": [1.0e5, 1.0e9],
                             "sense": [">=", "<="], "limit": [1.2e5, 1.2e9], "deviation": [2.0e4, 0.0],
                             "slack": [-2.0e4, 2.0e8], "binding": False, "unit": ["workers", "yuan"]}))
    clauses = pd.concat(fam, ignore_index=True)
    tables = {"staff": staff, "budget": budget, "services": services, "coverage": coverage, "stations": works,
              "clauses": clauses}
    by_county = coverage.assign(county=np.repeat(np.asarray(st["county"], dtype=object), G)).groupby("county")[
        ["demand", "covered"]].sum()
    summary = {"status": "feasible", "totals": {
        "staff": int(staff["total_staff"].sum()), "social_workers": int(staff["social_workers"].sum()),
        "certified": int(staff["certified"].sum()), "admin": 0, "volunteers": 0, "stations_active": S,
        "money": {k: float(budget[k].sum()) for k in ("facilities", "salaries", "services", "training", "total")},
        "covered": float(coverage["covered"].sum()), "demand": float(coverage["demand"].sum())},
        "coverage_by_county": {c: {"demand": r.demand, "covered": r.covered} for c, r in by_county.iterrows()}}
    return Plan(Status.FEASIBLE, 0.0, 0.0, 0.01, "synthetic", "", 0.0, "synthetic tables", tables, summary, {})


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--instance", required=True)
    p.add_argument("--plan", default=None, help="a plan folder (default: synthetic tables of the real shapes)")
    p.add_argument("--out", default="/tmp/report-bench")
    a = p.parse_args(argv)
    from allocator.report import read_plan, report_data
    from allocator.report.html import write_html
    from allocator.report.workbook import write_workbook

    inst = load(a.instance)
    plan = read_plan(a.plan) if a.plan else synthetic_plan(inst)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    c0 = time.process_time()
    t0 = time.perf_counter()
    r = report_data(inst, plan)
    t1 = time.perf_counter()
    write_workbook(r, out / "plan.xlsx")
    t2 = time.perf_counter()
    write_html(r, out / "report.html")
    t3 = time.perf_counter()
    print(f"{len(inst.stations):,} stations in {r.headline['counties']:,} counties: tables {t1 - t0:.1f} s, "
          f"workbook {t2 - t1:.1f} s ({(out / 'plan.xlsx').stat().st_size / 1e6:.1f} MB), "
          f"HTML {t3 - t2:.1f} s ({(out / 'report.html').stat().st_size / 1e3:.0f} kB); total {t3 - t0:.1f} s wall, "
          f"{time.process_time() - c0:.1f} s CPU")


if __name__ == "__main__":
    main()
