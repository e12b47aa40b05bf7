"""The workbook: every sheet, frozen headers, fitted widths, number formats, names intact, no formulas."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report_fixtures import CJK_COUNTIES, FORMULA_NAME

from allocator.report import report_data, workbook
from allocator.report.workbook import COUNT, SHARE, YUAN, write_workbook

SHEETS = ["Summary", "Stations", "Counties", "Groups", "Budget", "Staff", "Clauses"]


def _header(ws) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {c.value: c.column for c in ws[1]}


def _fmt(ws, col: str, row: int = 2) -> str:  # type: ignore[no-untyped-def]
    return ws.cell(row=row, column=_header(ws)[col]).number_format


@pytest.fixture(params=["openpyxl", "streamed"])
def rows_written_by(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of writing a table's rows: cell by cell (openpyxl) and streamed (long tables)."""
    if request.param == "streamed":
        monkeypatch.setattr(workbook, "FAST_ROWS", 0)
    return str(request.param)


def test_every_sheet_with_frozen_headers_widths_and_formats(cjk_solved, tmp_path: Path, rows_written_by) -> None:
    inst, plan, _ = cjk_solved
    path = tmp_path / "plan.xlsx"
    write_workbook(report_data(inst, plan), path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS  # no Path (no years), no Diff (not a what-if)
    for name in SHEETS:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.column_dimensions["A"].width and ws.column_dimensions["A"].width > 5, name
    st = wb["Stations"]
    assert st.max_row == len(inst.stations) + 1
    for col in ("facilities", "salaries", "services", "training", "money_total"):
        assert _fmt(st, col) == YUAN, col
    for col in ("admin", "social_workers", "sw_certified_assistant", "volunteers", "total_staff", "services_offered"):
        assert _fmt(st, col) == COUNT, col
        assert isinstance(st.cell(row=2, column=_header(st)[col]).value, int), col
    assert _fmt(st, "coverage_share") == SHARE
    assert any(str(h).startswith("covered: ") for h in _header(st))
    # Chinese names intact, and wide enough: a 4-character county takes 8 columns of width.
    counties = {st.cell(row=r, column=_header(st)["county"]).value for r in range(2, st.max_row + 1)}
    assert counties == set(CJK_COUNTIES.values())
    assert st.column_dimensions["C"].width >= 8
    names = [st.cell(row=r, column=_header(st)["name"]).value for r in range(3, st.max_row + 1)]
    assert all("社区" in n for n in names)
    b = wb["Budget"]
    assert _fmt(b, "plan_yuan") == YUAN and _fmt(b, "policy_share") == SHARE
    uses = [b.cell(row=r, column=1).value for r in range(2, b.max_row + 1)]
    assert uses == ["facilities", "salaries", "services", "training", "total"]
    cl = wb["Clauses"]
    h = _header(cl)
    statuses = {cl.cell(row=r, column=h["status"]).value for r in range(2, cl.max_row + 1)}
    assert "met" in statuses
    ids = {cl.cell(row=r, column=h["clause_id"]).value for r in range(2, cl.max_row + 1)}
    assert {c.id for c in inst.iter_clauses_in_force()} <= ids  # every clause in force has a row
    assert all(cl.cell(row=r, column=h["section"]).value for r in range(2, cl.max_row + 1))
    summary = {r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_row=2)}
    assert summary["status"] == plan.status.value
    assert summary["staff"] == plan.summary["totals"]["staff"]
    assert round(summary[f"budget ({inst.currency})"]) == round(plan.summary["totals"]["money"]["total"])


def test_text_that_looks_like_a_formula_is_written_as_text(cjk_solved, tmp_path: Path, rows_written_by) -> None:
    inst, plan, _ = cjk_solved
    path = tmp_path / "plan.xlsx"
    write_workbook(report_data(inst, plan), path)
    ws = openpyxl.load_workbook(path)["Stations"]
    cell = ws.cell(row=2, column=_header(ws)["name"])
    assert cell.value == FORMULA_NAME
    assert cell.data_type == "s"
    assert cell.quotePrefix
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for n in sheets:
            assert "<f>" not in z.read(n).decode(), n  # no formula anywhere


def test_other_formula_starts_are_text(cjk_solved, tmp_path: Path, rows_written_by) -> None:
    inst, plan, _ = cjk_solved
    r = report_data(inst, plan)
    tricky = ["+SUM(A1:A2)", "-1+2", "@cmd", "=1+1"]
    r.stations.loc[: len(tricky) - 1, "name"] = tricky
    path = tmp_path / "plan.xlsx"
    write_workbook(r, path)
    ws = openpyxl.load_workbook(path)["Stations"]
    got = [ws.cell(row=i + 2, column=_header(ws)["name"]) for i in range(len(tricky))]
    assert [c.value for c in got] == tricky
    assert all(c.data_type == "s" for c in got)


def test_years_add_a_path_sheet_with_a_chart_and_a_whatif_a_diff_sheet(cjk_solved, tmp_path: Path) -> None:
    inst, plan, _ = cjk_solved
    # A plan of two years: the same tables twice with a year column (the shape issue 14 will write).
    tables = {k: pd.concat([v.assign(year=2025), v.assign(year=2026)], ignore_index=True)
              for k, v in plan.tables.items()}
    tables["diff_totals"] = pd.DataFrame({"figure": ["staff", "status"], "baseline": [10, "optimal"],
                                          "changed": [12, "optimal"], "change": [2.0, float("nan")]})
    multi = dataclasses.replace(plan, tables=tables)
    r = report_data(inst, multi)
    assert r.path is not None and list(r.path["year"]) == [2025, 2026]
    path = tmp_path / "plan.xlsx"
    write_workbook(r, path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [*SHEETS, "Path", "Diff"]
    p = wb["Path"]
    assert [p.cell(row=i, column=1).value for i in (2, 3)] == [2025, 2026]
    staff_col = _header(p)["total_staff"]
    assert p.cell(row=2, column=staff_col).value == plan.summary["totals"]["staff"]
    assert wb["Stations"].max_row == len(inst.stations) + 1  # the last year only, not one row a year
    with zipfile.ZipFile(path) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())
    d = wb["Diff"]
    assert [c.value for c in d[1]] == ["figure", "baseline", "changed", "change"]
    assert d.cell(row=3, column=4).value is None  # NaN written as an empty cell
