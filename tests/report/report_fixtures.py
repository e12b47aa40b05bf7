"""Constants and small instances shared by the report tests (a module of its own: two conftest.py files
are on the path, so ``from conftest import`` would be ambiguous)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]

# Chinese county (street) names for District A, and a station name a spreadsheet would take for a formula.
CJK_COUNTIES = {"Street A": "东乡区", "Street B": "临川区", "Street C": "南城县", "Street D": "崇仁县",
                "Street E": "乐安县", "Street F": "宜黄县"}
FORMULA_NAME = '=HYPERLINK("http://example.invalid","x")'


def _tests_conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("allocator_tests_conftest", ROOT / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_mini_cjk(folder: Path) -> Path:
    """The mini instance of tests/conftest.py with its county and station named in Chinese."""
    base = _tests_conftest()
    tables = {k: v.copy() for k, v in base.MINI_TABLES.items()}
    tables["stations"]["county"] = "东乡区"
    tables["stations"]["name"] = "孝岗镇社区"
    settings = dict(base.MINI_SETTINGS)
    settings["instance"] = {**settings["instance"], "name": "东乡区试点"}
    return base.write_instance(folder, settings, tables)
