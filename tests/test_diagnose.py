"""Diagnosis: smallest relaxation and conflict sets against brute force; the documents' conflicts."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from allocator.diagnose import diagnose
from allocator.instance import check, load
from allocator.station import build
from solvers import SolveOptions, Status, get_backend
from tests.conftest import ROOT, write_instance


def _feasible(inst, drop) -> bool:  # type: ignore[no-untyped-def]
    r = get_backend("highs").solve(build(inst, strict=True, drop=frozenset(drop), feasibility=True).problem,
                                   SolveOptions(time_limit=30))
    assert r.status in (Status.INFEASIBLE, Status.OPTIMAL, Status.FEASIBLE)
    return r.status is not Status.INFEASIBLE


def test_mini_smallest_relaxation_matches_brute_force(tmp_path: Path, mini_settings: dict) -> None:
    inst = load(write_instance(tmp_path / "mini", mini_settings))
    # Brute force over the number of social workers: the salaries line L holds today's payroll only if
    # A-SPLIT gives way (0.01 per yuan, the hard-clause price); the floor's shortfall costs A-SALARY's own
    # penalty; a worker short of F-SW-URBAN costs its penalty.
    cl = mini_settings["clauses"]
    line = cl["A-SPLIT"]["salaries"] * cl["A-BUDGET-PERCAP"]["per_capita"] * 1000
    best = min(
        (0.01 * max(0, 20000 * sw - line)
         + cl["A-SALARY"]["penalty"] * max(0, 12 * cl["A-SALARY"]["monthly_min"] * sw - max(line, 20000 * sw))
         + cl["F-SW-URBAN"]["penalty"] * max(0, 2 - sw), sw)
        for sw in range(1, 8)
    )
    d = diagnose(inst)
    assert not d.feasible
    priced = {"A-SALARY": cl["A-SALARY"]["penalty"], "A-SPLIT": 0.01, "F-SW-URBAN": cl["F-SW-URBAN"]["penalty"]}
    total = sum(priced[r.clause_id] * r.amount for r in d.relaxation)
    assert total == pytest.approx(best[0], abs=1e-6)
    assert {r.clause_id for r in d.relaxation} == {"A-SALARY"}
    assert d.relaxation[0].amount == pytest.approx(12 * 3000 * 2 - line)


def test_mini_conflict_set_is_a_minimal_infeasible_subset_by_brute_force(tmp_path: Path,
                                                                        mini_settings: dict) -> None:
    inst = load(write_instance(tmp_path / "mini", mini_settings))
    families = sorted({(rb.clause, rb.family) for rb in build(inst, strict=True).rows if rb.clause != "ENGINE"})
    # Every subset of families kept (the rest dropped): the minimal infeasible ones.
    infeasible: list[tuple[tuple[str, str], ...]] = []
    for k in range(len(families) + 1):
        for keep in itertools.combinations(families, k):
            drop = [f for f in families if f not in keep]
            if not any(set(m) <= set(keep) for m in infeasible) and not _feasible(inst, drop):
                infeasible.append(keep)
    d = diagnose(inst)
    assert d.conflicts
    assert tuple(sorted(d.conflicts[0].families)) in [tuple(sorted(m)) for m in infeasible]


def test_feasible_instance_has_nothing_to_relax(tmp_path: Path, mini_settings: dict) -> None:
    mini_settings["clauses"]["A-SALARY"]["monthly_min"] = 2000  # 2 x 24,000 fits the 50,000 line
    d = diagnose(load(write_instance(tmp_path / "mini", mini_settings)))
    assert d.feasible and not d.relaxation and not d.conflicts


def _has(conflicts, *families: str) -> bool:  # type: ignore[no-untyped-def]
    want = {tuple(f.split(":")) if ":" in f else (f, None) for f in families}
    for c in conflicts:
        ids = set(c.families)
        if all((cid, fam) in ids if fam else any(x[0] == cid for x in ids) for cid, fam in want):
            return True
    return False


# The whole diagnosis of a seed takes 60-120 s (the elastic MIP alone 20-90 s) and, at the default 120 s
# limit on a loaded machine, sometimes ran out before the conflicts were found.  The suite checks the
# documents' conflicts directly (test_documents_conflict_is_a_minimal_infeasible_subset, a few seconds)
# and the diagnosis against brute force on the mini instance; benchmarks/slow_cases.py runs the two
# whole-seed diagnoses below at a limit that lets them finish.
RUN_SLOW = os.environ.get("ALLOCATOR_SLOW_CASES") == "1"
slow = pytest.mark.skipif(not RUN_SLOW, reason="slow case: run by benchmarks/slow_cases.py")
SLOW_LIMIT = 900.0


@pytest.mark.parametrize(("seed", "conflict"), [
    ("a-district-2026", [("A-CERT-MIN", "station"), ("A-SALARY", "station"), ("A-SPLIT", "salaries")]),  # 1
    ("fuzhou-2026", [("F-SALARY", "station"), ("F-USES", "salaries")]),                                 # 2
    ("fuzhou-2026", [("F-BUILD-SUBSIDY", "station"), ("F-TOTAL", "construction")]),                     # 3
], ids=["a-1", "fuzhou-2", "fuzhou-3"])
def test_documents_conflict_is_a_minimal_infeasible_subset(seed: str, conflict: list[tuple[str, str]]) -> None:
    """POLICY.md's conflicts, with every clause hard: the families of the conflict alone (every other
    family dropped) have no plan, and each one dropped as well gives a plan."""
    inst = load(ROOT / "instances" / seed)
    families = sorted({(rb.clause, rb.family) for rb in build(inst, strict=True).rows if rb.clause != "ENGINE"})
    assert set(conflict) <= set(families)
    others = [f for f in families if f not in conflict]
    assert not _feasible(inst, others)
    for fam in conflict:
        assert _feasible(inst, [*others, fam]), fam


def test_fuzhou_data_issues_4_and_5_even_when_the_limit_is_spent() -> None:
    """The loader's warnings are reported whatever the limit; a limit spent before any solve says so."""
    inst, issues = check(ROOT / "instances" / "fuzhou-2026")
    assert inst is not None, issues
    d = diagnose(inst, warnings=[i for i in issues if i.severity != "error"], time_limit=1e-3)
    text = " ".join(d.data_issues)
    assert "1,200" in text and "723" in text                              # conflict 4
    assert "12" in text and "11" in text and "counties" in text           # conflict 5
    assert not d.feasible and not d.conflicts and not d.relaxation
    assert any("time limit" in n for n in d.notes), d.notes


@slow
def test_district_a_conflict_1_salaries_vs_split() -> None:
    inst, issues = check(ROOT / "instances" / "a-district-2026")
    assert inst is not None, issues
    d = diagnose(inst, warnings=[i for i in issues if i.severity != "error"], time_limit=SLOW_LIMIT)
    assert _has(d.conflicts, "A-SALARY", "A-SPLIT:salaries")
    assert any(r.clause_id == "A-SALARY" and r.amount > 0 for r in d.relaxation)


@slow
def test_fuzhou_conflicts_2_and_3_and_data_issues_4_and_5() -> None:
    inst, issues = check(ROOT / "instances" / "fuzhou-2026")
    assert inst is not None, issues
    d = diagnose(inst, warnings=[i for i in issues if i.severity != "error"], time_limit=SLOW_LIMIT)
    assert _has(d.conflicts, "F-SALARY", "F-USES:salaries")              # conflict 2
    assert _has(d.conflicts, "F-BUILD-SUBSIDY", "F-TOTAL:construction")  # conflict 3
    construction = [r for r in d.relaxation if (r.clause_id, r.family) == ("F-TOTAL", "construction")]
    assert construction and construction[0].amount == pytest.approx(45e6 - 11.5e6)   # 80 x 0.1 M + 70 x 0.05 M
    text = " ".join(d.data_issues)
    assert "1,200" in text and "723" in text                              # conflict 4
    assert "12" in text and "11" in text and "counties" in text           # conflict 5
