"""Fixtures of the report tests: District A solved once, and a copy of it with Chinese names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
A_DISTRICT = ROOT / "instances" / "a-district"

# Chinese county (street) and station names, and one name that a spreadsheet would take for a formula.
CJK_COUNTIES = {"Street A": "东乡区", "Street B": "临川区", "Street C": "南城县", "Street D": "崇仁县",
                "Street E": "乐安县", "Street F": "宜黄县"}
FORMULA_NAME = '=HYPERLINK("http://example.invalid","x")'


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
def cjk_solved(cjk_instance_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(instance, Plan, plan folder) of the Chinese-named District A."""
    from allocator.io import load
    from allocator.plan import solve_instance, write_plan
    from solvers import SolveOptions

    inst = load(cjk_instance_dir)
    plan = solve_instance(inst, "highs", SolveOptions(mip_gap=0.01, time_limit=60))
    out = tmp_path_factory.mktemp("cjk-plan") / "plan"
    write_plan(plan, out)
    return inst, plan, out
