"""The lexicographic objective ([objective] mode = "lexicographic") on a tiny instance against brute force.

The instance is test_fairness_brute's three stations (capacity 70 residents, groups a and b each needing
100, X-BENEFIT on) with a soft X-FLOOR of 40 % at penalty P per resident short: 80 residents are asked of
70 residents' worth of hours, so every plan is at least 10 residents short.

* Stage 1's value (the least weighted deviation, P x residents short) must equal the minimum found by a
  separate solve whose objective is only the deviations (the same instance in weighted mode with both
  group weights 0 and X-BENEFIT off), and brute force's minimum, 10 P.
* Stage 2 must be the best benefit among the plans whose weighted deviation is within
  least x (1 + tol_rel) + tol_abs, by brute force:

| tol_rel | tol_abs | cap (P = 2) | residents short | a  | b  | benefit |
|---------|---------|-------------|-----------------|----|----|---------|
| 0       | 0       | 20          | 10              | 40 | 30 | 38.5    |
| 0.5     | 0       | 30          | 15              | 45 | 25 | 40.75   |
| 0       | 4       | 24          | 12              | 42 | 28 | 39.4    |
| 1       | 1000    | 1020        | 40 (no limit)   | 70 | 0  | 44      |

(Moving one resident from b to a gains 0.6 and loses 0.15 or 0.25 while a is under 50: stage 2 moves as
many as the cap allows.)
"""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path
from typing import Any

import pytest

from allocator.instance import load
from allocator.station import solve_instance
from solvers import SolveOptions
from tests.conftest import write_instance
from tests.station.test_fairness_brute import BENEFIT, CAP, NEED, SETTINGS, TABLES, benefit

P = 2.0          # X-FLOOR's penalty per resident short (objective units)
SHARE = 0.4      # X-FLOOR's floor: 40 of each group's 100
TOL = 1e-6


def shortfall(cov: dict[str, float]) -> float:
    return sum(max(0.0, SHARE * sum(NEED[g].values()) - cov[g]) for g in NEED)


def plans() -> list[dict[str, float]]:
    """Every whole-resident plan that fills the hours (group b takes what group a leaves)."""
    out = []
    stations = list(CAP)
    for xa in itertools.product(*(range(min(CAP[s], NEED["a"][s]) + 1) for s in stations)):
        xb = [min(NEED["b"][s], CAP[s] - a) for s, a in zip(stations, xa, strict=True)]
        out.append({"a": float(sum(xa)), "b": float(sum(xb))})
    return out


def brute_stage1() -> float:
    return min(P * shortfall(c) for c in plans())


def brute_stage2(cap: float) -> tuple[float, dict[str, float]]:
    best, best_cov = -math.inf, {}
    for c in plans():
        if P * shortfall(c) <= cap + TOL:
            value = benefit("a", c["a"], True) + benefit("b", c["b"], True)
            if value > best + TOL:
                best, best_cov = value, c
    return best, best_cov


def instance(folder: Path, mode: str, tol_rel: float = 0.0, tol_abs: float = 0.0,
             deviations_only: bool = False) -> Path:
    s: dict[str, Any] = copy.deepcopy(SETTINGS)
    s["objective"].update({"mode": mode, "deviation_tolerance": tol_rel, "deviation_tolerance_abs": tol_abs})
    s["clauses"]["X-FLOOR"] = {"mode": "soft", "penalty": P, "share": SHARE}
    if deviations_only:
        for g in s["groups"].values():
            g["weight"] = 0.0
    else:
        s["clauses"]["X-BENEFIT"] = dict(BENEFIT)
    return write_instance(folder, s, TABLES)


def test_brute_force_tables() -> None:
    """The table in the docstring (so the figures below are the brute force's, and readable)."""
    assert brute_stage1() == pytest.approx(10 * P)
    for cap, value, cov in ((20, 38.5, (40, 30)), (30, 40.75, (45, 25)), (24, 39.4, (42, 28)),
                            (1020, 44.0, (70, 0))):
        best, c = brute_stage2(cap)
        assert best == pytest.approx(value) and (c["a"], c["b"]) == cov, cap


def test_stage1_equals_a_separate_deviation_only_solve(tmp_path: Path) -> None:
    separate = solve_instance(load(instance(tmp_path / "dev", "weighted", deviations_only=True)),
                              options=SolveOptions(mip_gap=0.0))
    assert separate.status.value == "optimal" and separate.objective is not None
    least_separate = -separate.objective
    assert least_separate == pytest.approx(brute_stage1(), abs=1e-6)
    lex = solve_instance(load(instance(tmp_path / "lex", "lexicographic")), options=SolveOptions(mip_gap=0.0))
    assert lex.status.value == "optimal"
    stage1 = lex.summary["stages"][0]
    assert stage1["stage"] == "1" and stage1["status"] == "optimal"
    assert -float(stage1["objective"]) == pytest.approx(least_separate, abs=1e-6)
    assert lex.summary["held"]["least_weighted_deviation"] == pytest.approx(least_separate, abs=1e-6)


@pytest.mark.parametrize("tol_rel, tol_abs", [(0.0, 0.0), (0.5, 0.0), (0.0, 4.0), (1.0, 1000.0)])
def test_stage2_is_the_best_benefit_within_the_tolerance(tmp_path: Path, tol_rel: float, tol_abs: float) -> None:
    cap = brute_stage1() * (1 + tol_rel) + tol_abs
    best, cov = brute_stage2(cap)
    plan = solve_instance(load(instance(tmp_path / "lex", "lexicographic", tol_rel, tol_abs)),
                          options=SolveOptions(mip_gap=0.0))
    assert plan.status.value == "optimal", plan.summary.get("stages")
    assert plan.summary["held"]["cap"] == pytest.approx(cap, abs=1e-6)
    got = plan.tables["coverage"].groupby("group")["covered"].sum()
    assert {g: float(got[g]) for g in NEED} == pytest.approx(cov, abs=1e-4)
    assert benefit("a", float(got["a"]), True) + benefit("b", float(got["b"]), True) == pytest.approx(best, abs=1e-4)
    # the deviation the plan carries is within the cap, and the soft clause's rows say so
    short = shortfall({g: float(got[g]) for g in NEED})
    assert P * short <= cap + 1e-6
    rows = plan.tables["clauses"]
    floor = rows[rows["clause_id"] == "X-FLOOR"]
    assert float(floor["deviation"].sum()) == pytest.approx(short, abs=1e-4)
