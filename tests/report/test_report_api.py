"""The Python API, and the README's "Use from Python" snippet run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use from Python", 1)[1]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "README's Use from Python section has no python block"
    return m.group(1)


def test_readme_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "instances").symlink_to(ROOT / "instances")
    monkeypatch.chdir(tmp_path)
    ns: dict[str, object] = {}
    exec(compile(_snippet(), "README.md", "exec"), ns)  # noqa: S102 - the documented snippet, as written
    assert (tmp_path / "out" / "plan.xlsx").is_file() and (tmp_path / "out" / "report.html").is_file()


def test_api_tables_carry_name_and_county(cjk_instance_dir: Path, cjk_solved) -> None:  # type: ignore[no-untyped-def]
    import allocator as al
    from allocator.api import PlanView

    inst, plan, _ = cjk_solved
    view = PlanView(plan, inst)
    for df in (view.staff, view.budget, view.coverage, view.services, view.works):
        assert list(df.columns[:3]) == ["station_id", "name", "county"]
        assert df["county"].notna().all()
    assert set(view.staff["county"]) >= {"东乡区"}
    assert view.status is plan.status and view.objective == plan.objective
    html = view._repr_html_()
    assert inst.name in html and "coverage of need" in html
    assert al.verify(inst, view).ok
    assert callable(al.load) and callable(al.solve)
