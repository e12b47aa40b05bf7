"""The verifier's clause registry: its keys are the policy's, it applies where the model builds rows, and it
shares no code with the engine.  Holds the A-SPLIT regression of issue 13."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.instance import CLAUSES, Instance, load
from allocator.verify import format_report, verify_plan
from allocator.verify.checks import REGISTRY, CheckFamily
from tests.verify.helpers import ROOT, SEEDS


def test_the_verifier_shares_no_code_with_the_engine() -> None:
    code = ("import sys, allocator.verify; print(','.join(sorted(m for m in sys.modules "
            "if m.startswith(('allocator', 'solvers')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    loaded = set(out.strip().split(","))
    assert not loaded & {"allocator.model", "allocator.plan", "allocator.assign", "allocator.gap", "solvers"}, loaded
    assert not {m for m in loaded if m.startswith("allocator.station")}, loaded


def test_registry_keys_are_the_policy_families_of_model_clauses() -> None:
    policy = {(c.id, f) for c in CLAUSES if c.scope == "model" for f in c.families}
    assert set(REGISTRY) == policy
    for (cid, fam), entry in REGISTRY.items():
        assert isinstance(entry, CheckFamily) and (entry.clause, entry.family) == (cid, fam)
        assert callable(entry.applies) and callable(entry.check)


def _families_written(plan_dir: Path) -> set[tuple[str, str]]:
    written = pd.read_csv(plan_dir / "clauses.csv")
    return set(zip(written.clause_id, written.family, strict=True))


def _applies(inst: Instance) -> set[tuple[str, str]]:
    return {k for k, e in REGISTRY.items() if e.applies(inst)}


@pytest.mark.parametrize("seed", SEEDS)
def test_applies_where_the_engine_writes_rows(seeds: dict[str, tuple[Instance, Path]], seed: str) -> None:
    """The families the verifier checks are exactly those the engine's plan has rows of."""
    inst, plan_dir = seeds[seed]
    assert _applies(inst) == _families_written(plan_dir)


def _percap_out_of_force(tmp_path: Path) -> Path:
    folder = tmp_path / "a-district-2026"
    shutil.copytree(ROOT / "instances" / "a-district-2026", folder)
    toml = folder / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    assert "[clauses.A-BUDGET-PERCAP]\n" in text
    toml.write_text(text.replace("[clauses.A-BUDGET-PERCAP]\n", "[clauses.A-BUDGET-PERCAP]\nin_force = false\n", 1),
                    encoding="utf-8")
    return folder


def test_regression_a_split_not_checked_when_a_budget_percap_is_out_of_force(tmp_path: Path) -> None:
    """Issue 13: with A-BUDGET-PERCAP out of force the model drops A-SPLIT; `verify` must PASS the plan it wrote."""
    from cli import main

    folder = _percap_out_of_force(tmp_path)
    inst = load(folder)
    assert all(not REGISTRY[("A-SPLIT", f)].applies(inst) for f in ("facilities", "salaries", "services"))
    assert not REGISTRY[("A-BUDGET-PERCAP", "total")].applies(inst)
    runner = CliRunner()
    solved = runner.invoke(main, ["solve", str(folder), "--out", str(tmp_path / "plan"), "--seed", "0"])
    assert solved.exit_code == 0, solved.output
    checked = runner.invoke(main, ["verify", str(folder), str(tmp_path / "plan")])
    assert checked.exit_code == 0, checked.output
    assert "PASS" in checked.output.splitlines()[0]
    report = verify_plan(inst, tmp_path / "plan")
    assert report.ok, format_report(report)
    assert "A-SPLIT" not in report.clause_ids() and "A-BUDGET-PERCAP" not in report.clause_ids()
    assert any(n.startswith("A-SPLIT [services] is in force but") and "A-BUDGET-PERCAP" in n for n in report.notes)
    assert _applies(inst) == _families_written(tmp_path / "plan")


def test_a_split_applies_again_with_a_budget_percap_in_force() -> None:
    inst = load(ROOT / "instances" / "a-district-2026")
    assert all(REGISTRY[("A-SPLIT", f)].applies(inst) for f in ("facilities", "salaries", "services"))


def test_f_uses_needs_f_total_in_force(tmp_path: Path) -> None:
    folder = tmp_path / "fuzhou-2026"
    shutil.copytree(ROOT / "instances" / "fuzhou-2026", folder)
    inst = load(folder)
    assert all(REGISTRY[("F-USES", f)].applies(inst) for f in ("salaries", "services", "training"))
    toml = folder / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    assert "[clauses.F-TOTAL]\n" in text
    toml.write_text(text.replace("[clauses.F-TOTAL]\n", "[clauses.F-TOTAL]\nin_force = false\n", 1), encoding="utf-8")
    off = load(folder)
    assert not any(REGISTRY[("F-USES", f)].applies(off) for f in ("salaries", "services", "training"))


def _toggled(inst: Instance, cid: str) -> Instance:
    """The instance with clause ``cid`` out of force (or in force, if it was out)."""
    from dataclasses import replace

    return replace(inst, clauses=tuple(replace(c, in_force=not c.in_force) if c.id == cid else c
                                       for c in inst.clauses))


# Clauses whose force changes what other families apply to (A-SPLIT, F-USES need their totals) and a few
# whose families hang on the catalogue or the stations.
TOGGLES = {"a-district-2026": ("A-BUDGET-PERCAP", "A-SPLIT", "A-CANTEEN", "A-ZONES", "A-COVERAGE"),
           "fuzhou-2026": ("F-TOTAL", "F-USES", "F-DEMO", "F-SW-URBAN", "F-ACCESS")}


@pytest.mark.parametrize("seed", SEEDS)
def test_applies_agrees_with_the_model_builder_when_clauses_are_toggled(seed: str) -> None:
    """For every toggle, the families the verifier checks are the families the model has rows of.

    The test (not the verifier) reads the builder; after the station move the import is
    ``allocator.station``'s (the paired registry test of issue 13 replaces this one).
    """
    import allocator.station as model_mod
    base = load(ROOT / "instances" / seed)
    for cid in ("", *TOGGLES[seed]):
        inst = _toggled(base, cid) if cid else base
        built = {(rb.clause, rb.family) for rb in model_mod.build(inst).rows if rb.clause != "ENGINE"}
        assert _applies(inst) == built, (cid, sorted(_applies(inst) ^ built))
