"""Fixtures of the report tests: District A solved once, and a copy of it with Chinese names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import CJK_COUNTIES, FORMULA_NAME, ROOT, write_mini_cjk

A_DISTRICT = ROOT / "instances" / "a-district-2026"


@pytest.fixture(scope="session")
def cjk_instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """District A with Chinese county and station names (the first station named like a formula)."""
    d = tmp_path_factory.mktemp("cjk") / "a-district-cjk"
    shutil.copytree(A_DISTRICT, d)
    st = pd.read_csv(d / "stations.csv", dtype=str, keep_default_na=False)
    st["county"] = st["county"].map(lambda c: CJK_COUNTIES.get(c, c))
    st["name"] = [f"{c}第{i + 1}社区" for i, c in enumerate(st["county"])]
    st.loc[0, "name"] = FORMULA_NAME
    st.to_csv(d / "stations.csv", index=False)
    return d


@pytest.fixture(scope="session")
def mini_cjk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one-station mini instance of tests/conftest.py, with a Chinese county and station name."""
    return write_mini_cjk(tmp_path_factory.mktemp("mini-cjk") / "mini")


@pytest.fixture(scope="session")
def cjk_solved(cjk_instance_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(instance, Plan, plan folder) of the Chinese-named District A."""
    from allocator.instance import load
    from allocator.station import solve_instance, write_plan
    from solvers import SolveOptions

    inst = load(cjk_instance_dir)
    plan = solve_instance(inst, "highs", SolveOptions(mip_gap=0.01, time_limit=60))
    out = tmp_path_factory.mktemp("cjk-plan") / "plan"
    write_plan(plan, out)
    return inst, plan, out
