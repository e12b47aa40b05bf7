"""The builder's clause-family registry: its keys are the policy's, and ``applies`` says what build() does."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path

import pytest

from allocator.instance import CLAUSES, Instance, load
from allocator.station import build, solve_instance
from allocator.station.families import REGISTRY
from solvers import SolveOptions
from tests.conftest import MINI_SETTINGS, ROOT, write_instance

SEEDS = ("a-district-2026", "fuzhou-2026")
SPLIT_NOTE = "A-SPLIT needs A-BUDGET-PERCAP in force to size its lines; not applied"
# Families whose rows are limited to some stations (urban, rural, old buildings, ...): they apply and
# may still yield no row on an instance without such a station.
MASKED = {("F-SW-URBAN", "station"), ("F-SW-RURAL", "station"), ("A-RENOVATE", "station"),
          ("F-ACCESS", "station"), ("F-BUILD-SUBSIDY", "station")}


def out_of_force(inst: Instance, *clause_ids: str) -> Instance:
    """``inst`` with ``clause_ids`` stated but not in force."""
    clauses = tuple(dataclasses.replace(c, in_force=False) if c.id in clause_ids else c for c in inst.clauses)
    return dataclasses.replace(inst, clauses=clauses)


def built_families(inst: Instance) -> set[tuple[str, str]]:
    return {(rb.clause, rb.family) for rb in build(inst).rows if rb.clause != "ENGINE" and rb.count}


def assert_applies_is_what_build_does(inst: Instance) -> None:
    applying = {key for key, fam in REGISTRY.items() if fam.applies(inst)}
    built = built_families(inst)
    assert built <= applying, f"rows of families that say they do not apply: {sorted(built - applying)}"
    assert applying - built <= MASKED, f"families that apply and build nothing: {sorted(applying - built - MASKED)}"


def test_registry_keys_are_the_policy_families_of_every_model_clause() -> None:
    declared = {(c.id, f) for c in CLAUSES if c.scope == "model" for f in c.families}
    assert set(REGISTRY) == declared
    assert all(c.families for c in CLAUSES if c.scope == "model")
    for (cid, family), fam in REGISTRY.items():
        assert (fam.clause, fam.family) == (cid, family)


@pytest.fixture(scope="module")
def seeds() -> dict[str, Instance]:
    return {name: load(ROOT / "instances" / name) for name in SEEDS}


@pytest.mark.parametrize("name", SEEDS)
def test_applies_agrees_with_the_rows_built_on_the_seeds(seeds: dict[str, Instance], name: str) -> None:
    assert_applies_is_what_build_does(seeds[name])


@pytest.mark.parametrize("name", SEEDS)
def test_applies_agrees_with_the_rows_built_with_each_clause_out_of_force(seeds: dict[str, Instance],
                                                                          name: str) -> None:
    inst = seeds[name]
    stated = {c.id for c in inst.clauses if c.in_force} & {cid for cid, _ in REGISTRY}
    assert stated, "the seed states model clauses"
    for cid in sorted(stated):
        off = out_of_force(inst, cid)
        assert not any(fam.applies(off) for (c, _), fam in REGISTRY.items() if c == cid)
        assert_applies_is_what_build_does(off)


def test_a_split_regression_budget_out_of_force_drops_the_split_on_both_sides(tmp_path: Path) -> None:
    # As a new user did it (issue 13): copy a seed, put A-BUDGET-PERCAP out of force in the file.
    folder = tmp_path / "a-district-2026"
    shutil.copytree(ROOT / "instances" / "a-district-2026", folder)
    toml = folder / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    assert "[clauses.A-BUDGET-PERCAP]\n" in text
    toml.write_text(text.replace("[clauses.A-BUDGET-PERCAP]\n", "[clauses.A-BUDGET-PERCAP]\nin_force = false\n"),
                    encoding="utf-8")
    inst = load(folder)
    assert inst.clause("A-BUDGET-PERCAP") is None and inst.clause("A-SPLIT") is not None
    for f in ("facilities", "salaries", "services"):
        assert REGISTRY[("A-SPLIT", f)].applies(inst) is False
        assert REGISTRY[("A-SPLIT", f)].applies(load(ROOT / "instances" / "a-district-2026")) is True
    model = build(inst)
    assert not [rb for rb in model.rows if rb.clause in ("A-SPLIT", "A-BUDGET-PERCAP")]
    assert SPLIT_NOTE in model.notes
    assert not [n for n in model.problem.row_names or () if n.startswith(("A-SPLIT", "A-BUDGET-PERCAP"))]


def test_a_split_regression_on_a_solved_plan(tmp_path: Path) -> None:
    settings = copy.deepcopy(MINI_SETTINGS)
    settings["clauses"]["A-BUDGET-PERCAP"]["in_force"] = False
    plan = solve_instance(load(write_instance(tmp_path / "mini", settings)), options=SolveOptions(mip_gap=1e-6))
    assert plan.status.has_solution
    # Issue 15: the payroll rule's note (which pay E3 charges) comes first; the split's note is the only other.
    notes = plan.summary["notes"]
    assert notes[0].startswith("E3 PAYROLL charges") and notes[1:] == [SPLIT_NOTE]
    assert not set(plan.tables["clauses"]["clause_id"]) & {"A-SPLIT", "A-BUDGET-PERCAP"}
    # In force, the same instance has the three split lines.
    full = solve_instance(load(write_instance(tmp_path / "full")), options=SolveOptions(mip_gap=1e-6))
    lines = full.tables["clauses"]
    assert set(lines.loc[lines["clause_id"] == "A-SPLIT", "family"]) == {"facilities", "salaries", "services"}
    # Issue 15: only the payroll rule's note (which pay E3 charges); no split note.
    assert [n for n in full.summary["notes"] if not n.startswith("E3 PAYROLL charges")] == []


def test_f_uses_needs_f_total(seeds: dict[str, Instance]) -> None:
    inst = seeds["fuzhou-2026"]
    assert inst.clause("F-USES") is not None and inst.clause("F-TOTAL") is not None
    off = out_of_force(inst, "F-TOTAL")
    assert not any(REGISTRY[("F-USES", f)].applies(off) for f in ("salaries", "services", "training"))
    model = build(off)
    assert not [rb for rb in model.rows if rb.clause == "F-USES"]
    assert "F-USES needs F-TOTAL in force to size its lines; not applied" in model.notes


def test_a_canteen_needs_its_service_and_group(tmp_path: Path) -> None:
    settings = copy.deepcopy(MINI_SETTINGS)
    settings["clauses"]["A-CANTEEN"] = {"stations": 1, "meal_coverage": 0.5}
    inst = load(write_instance(tmp_path / "mini", settings))  # no service 'elderly_meals'
    assert inst.clause("A-CANTEEN") is not None
    assert not REGISTRY[("A-CANTEEN", "count")].applies(inst)
    assert "A-CANTEEN needs service 'elderly_meals' and group 'elderly'; not applied" in build(inst).notes
    assert_applies_is_what_build_does(inst)


@pytest.mark.parametrize("name", SEEDS)
def test_every_row_and_column_has_a_unique_name(seeds: dict[str, Instance], name: str) -> None:
    p = build(seeds[name]).problem
    assert p.row_names is not None and p.col_names is not None
    assert len(p.row_names) == p.num_rows == len(set(p.row_names))
    assert len(p.col_names) == p.num_cols == len(set(p.col_names))
    assert not [n for n in p.row_names + p.col_names if " " in n]
    first = seeds[name].stations["station_id"][0]
    assert f"E3-PAYROLL[{first}]" in p.row_names and f"swu[{first}]" in p.col_names


def test_row_names_carry_the_clause_and_the_station(seeds: dict[str, Instance]) -> None:
    a = build(seeds["a-district-2026"])
    names = a.problem.row_names
    assert names is not None
    assert {"A-SPLIT[facilities]", "A-SPLIT[salaries]", "A-SPLIT[services]", "A-BUDGET-PERCAP[total]"} <= set(names)
    for rb in a.rows:  # each block's names start with its clause id (engine rules with their E number)
        head = names[rb.start].split("[")[0]
        assert head == rb.clause or (rb.clause == "ENGINE" and head.endswith(rb.family)), (head, rb)
    f = build(seeds["fuzhou-2026"])
    rural = [s for s, t in zip(seeds["fuzhou-2026"].stations["station_id"], seeds["fuzhou-2026"].stations["area_type"],
                               strict=True) if t == "rural"]
    assert rural, "fuzhou has rural stations"
    assert f"F-SW-RURAL[{rural[0]}]" in (f.problem.row_names or ())


def test_names_off_changes_nothing_but_the_names(seeds: dict[str, Instance]) -> None:
    named, bare = build(seeds["fuzhou-2026"]).problem, build(seeds["fuzhou-2026"], names=False).problem
    assert bare.row_names is None and bare.col_names is None
    assert (named.A != bare.A).nnz == 0
    for f in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        assert (getattr(named, f) == getattr(bare, f)).all(), f
