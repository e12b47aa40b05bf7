"""What-if and rule prices, checked against hand computations and direct re-solves."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.instance import Clause, Instance, InstanceError, load
from allocator.scenario import apply_changes, parse_changes, prices, whatif
from allocator.station import Plan, solve_instance
from cli import EXIT_INPUT, main
from solvers import SolveOptions
from tests.conftest import ROOT, write_instance

EXACT = SolveOptions(mip_gap=1e-9)


def _clause(inst: Instance, clause_id: str) -> Clause:
    """The clause ``clause_id`` of ``inst``, which must be in force."""
    clause = inst.clause(clause_id)
    assert clause is not None, f"{clause_id} is not in force"
    return clause


def _objective(plan: Plan) -> float:
    """The objective of a solved plan."""
    assert plan.objective is not None, plan.status
    return plan.objective


def test_parse_and_apply_changes(tmp_path: Path, mini_settings: dict) -> None:
    inst = load(write_instance(tmp_path / "mini", mini_settings))
    ch = parse_changes(["A-SALARY.monthly_min=2500", "objective.cost_weight=0.0", "F-SW-URBAN.in_force=false"])
    assert ch == {"A-SALARY.monthly_min": 2500, "objective.cost_weight": 0.0, "F-SW-URBAN.in_force": False}
    changed = apply_changes(inst, ch)
    assert _clause(changed, "A-SALARY").figures["monthly_min"] == 2500
    assert changed.clause("F-SW-URBAN") is None
    assert _clause(inst, "A-SALARY").figures["monthly_min"] == 3000  # the original is untouched
    with pytest.raises(InstanceError):
        apply_changes(inst, {"A-SPLIT.salaries": 0.6})  # shares no longer sum to 1
    with pytest.raises(ValueError):
        apply_changes(inst, {"NOT-A-CLAUSE.x": 1})


def test_whatif_diff_on_a_hand_made_case(tmp_path: Path, mini_settings: dict) -> None:
    # Baseline: 2 workers, salaries line 50,000 < 72,000 floor -> 22,000 yuan short (A-SALARY soft).
    # Lower the floor to 2,000/month: 48,000 fits, the deviation disappears, coverage is unchanged.
    inst = load(write_instance(tmp_path / "mini", mini_settings))
    w = whatif(inst, {"A-SALARY.monthly_min": 2000}, options=EXACT)
    totals = w.totals.set_index("figure")
    assert totals.loc["social_workers", "baseline"] == 2 and totals.loc["social_workers", "changed"] == 2
    assert totals.loc["objective", "change"] == pytest.approx(22.0, abs=1e-6)  # 22,000 yuan x 0.001
    dev = w.clauses.set_index(["clause_id", "family"])
    assert dev.loc[("A-SALARY", "station"), "baseline_deviation"] == pytest.approx(22000.0)
    assert dev.loc[("A-SALARY", "station"), "changed_deviation"] == pytest.approx(0.0)


def test_rule_prices_match_direct_resolves(tmp_path: Path, mini_settings: dict) -> None:
    inst = load(write_instance(tmp_path / "mini", mini_settings))
    base, rows = prices(inst, options=EXACT)
    by = {(r.clause_id, r.family): r for r in rows}
    # Dropping F-SW-URBAN: re-solve the instance with the clause out of force.
    off = solve_instance(apply_changes(inst, {"F-SW-URBAN.in_force": False}), options=EXACT)
    assert by[("F-SW-URBAN", "station")].drop_gain == pytest.approx(_objective(off) - _objective(base), abs=1e-6)
    # Relaxing A-SALARY's floor by one unit (its figure is money: one unit = 1 % of it, 30 yuan a month).
    r = by[("A-SALARY", "station")]
    assert r.figure == "monthly_min" and r.step == pytest.approx(-30.0)
    moved = solve_instance(apply_changes(inst, {"A-SALARY.monthly_min": 3000 - 30}), options=EXACT)
    assert r.step_gain == pytest.approx(_objective(moved) - _objective(base), abs=1e-6)
    assert r.step_gain == pytest.approx(2 * 12 * 30 * 0.001, abs=1e-6)  # 720 yuan less shortfall x 0.001
    assert r.dual_estimate is not None  # labelled estimate from the LP with integers fixed


def test_whatif_cli_rejects_a_change_that_breaks_a_rule() -> None:
    r = CliRunner().invoke(main, ["whatif", str(ROOT / "instances" / "a-district-2026"),
                                  "--set", "A-SPLIT.salaries=0.3"])
    assert r.exit_code == EXIT_INPUT
    assert "shares_sum" in r.stderr


def test_whatif_cli_on_a_seed(tmp_path: Path) -> None:
    out = tmp_path / "w"
    r = CliRunner().invoke(main, ["whatif", str(ROOT / "instances" / "a-district-2026"),
                                  "--set", "A-SPLIT.salaries=0.30", "--set", "A-SPLIT.services=0.40",
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Stations that moved most" in r.output
    assert (out / "diff_stations.csv").exists() and (out / "staff.csv").exists()
