"""The builder's and the verifier's clause-family registries against each other and POLICY.md (issue 13).

Three registries must name the same (clause id, family) pairs: the clause registry's ``families`` of
every clause the station model reads, the builder's :data:`allocator.station.families.REGISTRY` and
the verifier's :data:`allocator.verify.checks.REGISTRY`.  For every family both sides must also agree
on whether it applies to an instance: a builder that drops a family the verifier still checks writes a
plan its own verifier rejects (the A-SPLIT case below).  The instances are the two seeds with each
clause in force taken out of force, each clause out of force put in force, and every family's mode
flipped between hard and soft (a mode changes how a row is priced, never whether it exists).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from allocator.instance import CLAUSES, Instance, load
from allocator.station.families import REGISTRY as BUILDER
from allocator.verify.checks import REGISTRY as CHECKS

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ("a-district-2026", "fuzhou-2026")


def _policy_families() -> set[tuple[str, str]]:
    return {(c.id, f) for c in CLAUSES if c.scope == "model" for f in c.families}


def test_builder_verifier_and_policy_name_the_same_families() -> None:
    policy = _policy_families()
    assert set(BUILDER) == policy, sorted(set(BUILDER) ^ policy)
    assert set(CHECKS) == policy, sorted(set(CHECKS) ^ policy)


def _toggled(inst: Instance, cid: str) -> Instance:
    return replace(inst, clauses=tuple(replace(c, in_force=not c.in_force) if c.id == cid else c
                                       for c in inst.clauses))


def _mode_flipped(inst: Instance, cid: str) -> Instance:
    def flip(c):  # type: ignore[no-untyped-def]
        modes = {f: ("soft" if m == "hard" else "hard") for f, m in dict(c.modes).items()}
        return replace(c, modes=modes, penalties=dict(c.penalties) or {"*": 1.0})
    return replace(inst, clauses=tuple(flip(c) if c.id == cid else c for c in inst.clauses))


def _disagreements(inst: Instance) -> list[tuple[str, str, bool, bool]]:
    out = []
    for key in sorted(BUILDER):
        built, checked = BUILDER[key].applies(inst), CHECKS[key].applies(inst)
        if built != checked:
            out.append((*key, built, checked))
    return out


def _variants(seed: str) -> list[tuple[str, Instance]]:
    base = load(ROOT / "instances" / seed)
    stated = sorted({c.id for c in base.clauses})
    out = [("as shipped", base)]
    out += [(f"{cid} in_force toggled", _toggled(base, cid)) for cid in stated]
    out += [(f"{cid} mode flipped", _mode_flipped(base, cid)) for cid in stated if base.clause(cid) is not None]
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_builder_and_verifier_agree_on_what_applies(seed: str) -> None:
    """One table of (variant, clause, family, builder applies, verifier applies) that must stay empty."""
    bad = [(name, *d) for name, inst in _variants(seed) for d in _disagreements(inst)]
    assert not bad, "\n".join(f"{v:40s} {c:18s} {f:14s} builder={b} verifier={k}" for v, c, f, b, k in bad)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_mode_never_changes_what_applies(seed: str) -> None:
    base = load(ROOT / "instances" / seed)
    before = {k for k, e in BUILDER.items() if e.applies(base)}
    for c in base.clauses:
        if base.clause(c.id) is None:
            continue
        after = {k for k, e in BUILDER.items() if e.applies(_mode_flipped(base, c.id))}
        assert after == before, c.id


def test_regression_a_split_dropped_by_both_when_a_budget_percap_is_out_of_force() -> None:
    """Issue 13: the model dropped A-SPLIT while the verifier checked it with the out-of-force figure."""
    inst = _toggled(load(ROOT / "instances" / "a-district-2026"), "A-BUDGET-PERCAP")
    assert inst.clause("A-BUDGET-PERCAP") is None and inst.clause("A-SPLIT") is not None
    for f in ("facilities", "salaries", "services"):
        assert not BUILDER[("A-SPLIT", f)].applies(inst)
        assert not CHECKS[("A-SPLIT", f)].applies(inst)
