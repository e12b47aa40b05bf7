"""Fixtures of the verifier tests: the tiny instance, the hand-made plan and assignment, the solved seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.instance import Instance, load
from tests.verify.helpers import ROOT, SEEDS, TINY, write_hand_assignment, write_hand_plan


@pytest.fixture(scope="module")
def tiny() -> Instance:
    return load(TINY)


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    return write_hand_plan(tmp_path / "hand")


@pytest.fixture
def hand_assignment(tmp_path: Path) -> Path:
    return write_hand_assignment(tmp_path / "assign")


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Instance, Path]]:
    """Each seed solved once (default options) and written as a plan directory."""
    import allocator.station as plan_mod
    out: dict[str, tuple[Instance, Path]] = {}
    base = tmp_path_factory.mktemp("plans")
    for seed in SEEDS:
        inst = load(ROOT / "instances" / seed)
        plan = plan_mod.solve_instance(inst)
        plan_mod.write_plan(plan, base / seed)
        out[seed] = (inst, base / seed)
    return out
