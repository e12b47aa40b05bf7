"""The honest objective: lexicographic stages, the objective's parts, changes against a baseline plan."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from allocator.instance import load
from allocator.station import build, solve_instance
from allocator.station.objective import deviation_columns, solve_lexicographic
from allocator.station.stability import Baseline, changes_summary, changes_table
from solvers import SolveOptions, Status, get_backend
from tests.conftest import MINI_SETTINGS, MINI_TABLES, write_instance

EXACT = SolveOptions(mip_gap=0.0)


def _three(tmp_path: Path, name: str = "three", **objective: Any) -> Any:
    """Three urban stations; one worker in post; money for about three social workers in all.

    F-SW-URBAN (2 per station, soft, 50 per worker short) and the need covered compete for the salaries
    A-SPLIT allows: the weighted objective and the lexicographic stages can differ.
    """
    settings = copy.deepcopy(MINI_SETTINGS)
    settings["objective"].update(objective)
    settings["clauses"]["A-BUDGET-PERCAP"] = {"per_capita": 40}
    settings["clauses"]["A-SPLIT"] = {"facilities": 0.1, "salaries": 0.6, "services": 0.3}
    settings["groups"]["elderly"]["weight"] = 1.0
    return load(write_instance(tmp_path / name, settings, _tables()))


def _tables() -> dict[str, pd.DataFrame]:
    tables = copy.deepcopy(MINI_TABLES)
    st = tables["stations"]
    tables["stations"] = pd.concat([st.assign(station_id=f"S{i}", name=f"S{i}", population=1000 * i)
                                    for i in (1, 2, 3)], ignore_index=True)
    tables["groups"] = pd.DataFrame([{"station_id": f"S{i}", "group": "elderly", "residents": 150 * i}
                                     for i in (1, 2, 3)])
    return tables


def _dev(plan: Any) -> float:
    return -sum(p["contribution"] for p in plan.summary["objective_parts"]["penalties"])


def test_parts_add_up_to_the_objective_in_both_modes(tmp_path: Path) -> None:
    inst = _three(tmp_path)
    w = solve_instance(inst, options=EXACT)
    parts = w.summary["objective_parts"]
    assert parts["total"] == pytest.approx(w.objective, abs=1e-6)
    assert parts["need_covered"]["residents"] == pytest.approx(w.summary["totals"]["covered"], abs=1e-3)
    assert sum(g["weighted"] for g in parts["need_covered"]["by_group"].values()) == pytest.approx(
        parts["need_covered"]["weighted"], abs=1e-3)
    for p in parts["penalties"]:  # each penalty: its deviation in the clause's unit times its price
        assert p["contribution"] == pytest.approx(-p["penalty"] * p["deviation"], rel=1e-6, abs=1e-6)
    lex = solve_instance(inst, options=EXACT, objective="lexicographic")
    lp = lex.summary["objective_parts"]
    assert lp["total"] == pytest.approx(lex.objective, abs=1e-6)
    stage2 = lex.summary["stages"][1]["objective"]
    assert stage2 == pytest.approx(lp["total"] - lp["penalty_total"], abs=1e-6)
    assert lex.summary["objective_mode"] == "lexicographic" and lex.status is Status.OPTIMAL
    assert lex.summary["quality"].startswith("stage 1 proven optimal")


def test_stage_one_is_the_least_deviation_of_a_separate_solve(tmp_path: Path) -> None:
    """Stage 1 = a weighted solve of the same instance with every group's weight 0 (only the penalties count)."""
    inst = _three(tmp_path)
    lex = solve_instance(inst, options=EXACT, objective="lexicographic")
    raw = inst.settings_dict()
    raw["groups"]["elderly"]["weight"] = 0.0
    only_pen = solve_instance(load(write_instance(tmp_path / "only", raw, _tables())), options=EXACT)
    least = lex.summary["held"]["least_weighted_deviation"]
    # The separate solve's optimum carries the certification tie-breaks (1e-3 per post) on top.
    assert least == pytest.approx(_dev(only_pen), abs=1e-2)
    assert least == pytest.approx(-lex.summary["stages"][0]["objective"], abs=1e-9)
    # Stage 2 holds the deviation within its cap, and covers at least as much as stage 1's plan could.
    assert _dev(lex) <= lex.summary["held"]["cap"] + 1e-6
    w = solve_instance(inst, options=EXACT)
    assert _dev(w) >= least - 1e-6
    assert w.summary["objective_parts"]["need_covered"]["weighted"] >= (
        lex.summary["objective_parts"]["need_covered"]["weighted"] - 1e-6)


def test_lexicographic_stages_by_brute_force(tmp_path: Path) -> None:
    """Fix the social workers per station (S1 1..3, S2 and S3 0..3, uncertified) and solve each fixed model
    in both stages: the least deviation over all, then the most need covered within the cap, is the
    lexicographic solve's."""
    inst = _three(tmp_path)
    lex = solve_instance(inst, options=EXACT, objective="lexicographic")
    model = build(inst, names=False)
    dev = deviation_columns(model)
    pen = -model.problem.c[dev]
    results = []
    for combo in itertools.product(range(1, 4), range(4), range(4)):
        lo, hi = model.problem.col_lower.copy(), model.problem.col_upper.copy()
        for name in ("swa", "swi"):
            lo[model.col(name)] = hi[model.col(name)] = 0.0
        lo[model.col("swu")] = hi[model.col("swu")] = combo
        fixed = dataclasses.replace(model.problem, col_lower=lo, col_upper=hi)
        r1 = get_backend("highs").solve(dataclasses.replace(fixed, c=np.where(np.isin(
            np.arange(fixed.num_cols), dev), fixed.c, 0.0)), EXACT)
        if r1.status is Status.OPTIMAL and r1.x is not None:
            results.append((combo, float(pen @ r1.x[dev]), fixed))
    least = min(d for _, d, _ in results)
    held = lex.summary["held"]
    assert held["least_weighted_deviation"] == pytest.approx(least, abs=1e-6)
    most = -np.inf
    for _, _, fixed in results:  # stage 2 on every staffing: the most need with the deviation held
        r, _, _ = solve_lexicographic(fixed, dev, get_backend("highs"), EXACT, 0.0, held["cap"] - least)
        if r.status is Status.OPTIMAL and r.x is not None and float(pen @ r.x[dev]) <= held["cap"] + 1e-6:
            most = max(most, float(r.x[model.col("x")].sum()))
    assert lex.summary["objective_parts"]["need_covered"]["residents"] == pytest.approx(most, abs=1e-3)


def test_objective_mode_is_validated(tmp_path: Path) -> None:
    from allocator.instance import InstanceError

    settings = copy.deepcopy(MINI_SETTINGS)
    settings["objective"]["mode"] = "fastest"
    with pytest.raises(InstanceError, match="objective.mode"):
        load(write_instance(tmp_path / "bad", settings))
    settings["objective"]["mode"] = "lexicographic"
    settings["objective"]["deviation_tolerance"] = 2.0
    with pytest.raises(InstanceError, match="deviation_tolerance"):
        load(write_instance(tmp_path / "bad2", settings))
    settings["objective"]["deviation_tolerance"] = 0.01
    assert load(write_instance(tmp_path / "ok", settings)).objective.mode == "lexicographic"


def test_baseline_changes_are_counted(tmp_path: Path) -> None:
    inst = _three(tmp_path)
    plan = solve_instance(inst, options=EXACT)
    t = {k: v.copy() for k, v in plan.tables.items()}
    # Last year's plan: two more social workers at S2, 1,000 yuan more services at S3, S1's first
    # service offered (and dropped now), S3 a demonstration station.
    t["staff"].loc[1, "social_workers"] += 2
    t["budget"].loc[2, "services"] += 1000.0
    first = t["services"].index[t["services"]["station_id"] == "S1"][0]
    offered_now = int(t["services"].loc[first, "offered"])
    t["services"].loc[first, "offered"] = 1
    t["stations"].loc[2, "demo"] = 1
    base = Baseline.of(inst, type(plan)(plan.outcome, tables=t))
    ch = changes_table(inst, plan.tables, base)
    summ = changes_summary(inst, ch, 0.0)
    assert summ["staff_removed"] == 2 and summ["staff_added"] == 0
    assert summ["money_moved"] == pytest.approx(1000.0)
    assert summ["services_dropped"] == (0 if offered_now else 1)
    assert summ["demo_changes"] == 1
    assert set(ch["station_id"]) <= {"S1", "S2", "S3"}
    # Solved against its own plan with every change priced, the plan changes nothing.
    priced = _three(tmp_path, "priced", baseline_staff=1e4, baseline_money=1.0, baseline_service=1e4,
                    baseline_demo=1e4)
    again = solve_instance(priced, options=EXACT, baseline=plan)
    assert len(again.tables["changes"]) == 0 and again.summary["baseline"]["money_moved"] == 0
    assert again.summary["objective_parts"]["total"] == pytest.approx(again.objective, abs=1e-6)
    # Against the baseline with two more workers at S2: unpriced, the plan drops both; limited to one
    # staff change, it keeps one of them.
    free = solve_instance(inst, options=EXACT, baseline=type(plan)(plan.outcome, tables=t))
    assert free.summary["baseline"]["staff_removed"] == 2
    limited = _three(tmp_path, "limited", baseline_max_staff=1)
    kept = solve_instance(limited, options=EXACT, baseline=type(plan)(plan.outcome, tables=t))
    assert kept.summary["baseline"]["staff_added"] + kept.summary["baseline"]["staff_removed"] <= 1
