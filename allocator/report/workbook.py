"""The plan as an Excel workbook a budget officer can open (openpyxl, write-only mode).

Sheets: Summary, Stations, Counties, Groups, Budget, Staff, Clauses, then Path (only when the plan's
tables carry a ``year`` column: a sheet and a line chart) and Diff (only for a what-if).  Each sheet
has a frozen header row, columns fitted to their contents (East Asian wide characters count two),
and number formats by column: yuan ``#,##0``, shares ``0.0%``, headcounts ``0``.  Text that begins
with ``=``, ``+``, ``-`` or ``@`` is stored as a text cell with Excel's quote prefix, never as a
formula.  openpyxl's write-only mode streams rows, so a 40,000-station plan stays fast and small in
memory; the Stations sheet is capped below Excel's row limit.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
import zipfile
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from wcwidth import wcswidth

from allocator.report.atomic import write_file_atomically
from allocator.report.frames import USES, ReportData

EXCEL_MAX_ROWS = 1_048_576
# Tables longer than this are streamed by :func:`_fast_rows` (openpyxl costs about 40 us a cell: 40,000
# stations x 23 columns would take a minute); openpyxl still writes their header and one template row.
FAST_ROWS = 5000
YUAN, SHARE, COUNT, NUMBER = "#,##0", "0.0%", "0", "#,##0.0##"
_FORMULA_START = ("=", "+", "-", "@")
GENERATOR = "allocator"
log = logging.getLogger(__name__)

_YUAN_COLS = {*USES, "money_total", "plan_yuan", "policy_yuan", "difference_yuan"}
_COUNT_COLS = {"admin", "sw_certified_assistant", "sw_certified_intermediate", "sw_uncertified", "social_workers",
               "certified", "volunteers", "total_staff", "stations", "urban", "services_offered", "rows",
               "rows_broken", "plan", "in_post", "year", "stations_active"}
_RESIDENT_COLS = {"population", "need", "covered", "covered_total", "demand", "target", "difference"}


def column_format(name: str) -> str | None:
    """The number format of a column, by its name (None: general)."""
    n = str(name)
    if "share" in n:
        return SHARE
    if n in _YUAN_COLS or n.startswith("money") or n.endswith("_yuan"):
        return YUAN
    if n in _COUNT_COLS:
        return COUNT
    if n in _RESIDENT_COLS or n.startswith("covered"):
        return YUAN  # residents: whole numbers with thousands separators
    return None


def _display(v: Any, fmt: str | None) -> str:
    if isinstance(v, float | int | np.integer | np.floating) and not isinstance(v, bool):
        f = float(v)
        if not math.isfinite(f):
            return ""
        if fmt == SHARE:
            return f"{f:.1%}"
        if fmt in (YUAN, COUNT):
            return f"{f:,.0f}"
        return f"{f:,.3f}"
    return str(v)


def _width(text: str) -> int:
    w = wcswidth(text)
    return len(text) if w < 0 else w


class _Sheet:
    """A write-only sheet: header, typed cells, fitted widths and a frozen header row."""

    def __init__(self, wb: Workbook, title: str):
        self.wb = wb
        self.ws = wb.create_sheet(title)
        self.bold = Font(bold=True)
        self.wrap = Alignment(wrap_text=False)
        self.fast: tuple[list[np.ndarray], int] | None = None

    def cell(self, v: Any, fmt: str | None = None, bold: bool = False) -> Any:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return None
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
        c = WriteOnlyCell(self.ws, value=v)
        if isinstance(v, str) and v.startswith(_FORMULA_START):
            # openpyxl would store "=..." as a formula: force a text cell, and mark it quoted so that
            # Excel keeps it text when the cell is edited.
            c.data_type = "s"
            c.quotePrefix = True
        elif fmt and isinstance(v, int | float) and not isinstance(v, bool):
            c.number_format = fmt
        if bold:
            c.font = self.bold
        return c

    def widths(self, frames: Iterable[tuple[list[str], pd.DataFrame]]) -> None:
        """Fit each column to its widest header or value (a sample of rows of a long table)."""
        best: dict[int, int] = {}
        for header, df in frames:
            for j, name in enumerate(header):
                w = _width(str(name))
                if df is not None and name in df.columns and len(df):
                    fmt = column_format(name)
                    col = df[name]
                    sample = col if len(col) <= 2000 else pd.concat([col.head(1000), col.tail(1000)])
                    w = max(w, max((_width(_display(v, fmt)) for v in sample), default=0))
                best[j] = max(best.get(j, 0), w)
        for j, w in best.items():
            self.ws.column_dimensions[get_column_letter(j + 1)].width = min(60, w + 2)

    def table(self, df: pd.DataFrame, limit: int | None = None, stream: bool = True) -> int:
        """Append a header row and the frame's rows; return the rows written.

        ``stream``: a long table gets a template row that :func:`save_workbook` replaces by its rows (only
        for a sheet that holds this one table: see :func:`_frozen_sheet`)."""
        cols = list(df.columns)
        self.ws.append([self.cell(str(c), bold=True) for c in cols])
        fmts = [column_format(c) for c in cols]
        n = len(df) if limit is None else min(limit, len(df))
        data = [df[c].to_numpy(dtype=object)[:n] for c in cols]
        if stream and n > FAST_ROWS:
            # One template row: a cell of each column's style, then a quoted text cell; replaced on save.
            template = [self.cell(0 if fmts[j] else "t", fmts[j]) for j in range(len(cols))]
            self.ws.append([*template, self.cell("=quoted")])
            self.fast = (data, n)
            return n
        for i in range(n):
            self.ws.append([self.cell(data[j][i], fmts[j]) for j in range(len(cols))])
        return n


def _frozen_sheet(wb: Workbook, title: str, df: pd.DataFrame, limit: int | None = None) -> tuple[_Sheet, int]:
    sh = _Sheet(wb, title)
    sh.ws.freeze_panes = "A2"
    sh.widths([(list(df.columns), df)])
    n = sh.table(df, limit)
    if sh.fast is not None:
        wb._allocator_fast = [*getattr(wb, "_allocator_fast", []), (len(wb.worksheets) - 1, sh.fast)]
    return sh, n


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _fast_rows(data: list[np.ndarray], n: int, styles: list[str], quoted: str) -> str:
    """Rows 2.. of a sheet as XML: numbers with their column's style, text inline (formula-looking text
    with the quote-prefix style), NaN as no cell."""
    letters = [get_column_letter(j + 1) for j in range(len(data))]
    out = []
    for i in range(n):
        r = i + 2
        cells = []
        for j, col in enumerate(data):
            v = col[i]
            if v is None:
                continue
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, bool):
                cells.append(f'<c r="{letters[j]}{r}" t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, int):
                cells.append(f'<c r="{letters[j]}{r}"{styles[j]}><v>{v}</v></c>')
            elif isinstance(v, float):
                if math.isfinite(v):
                    cells.append(f'<c r="{letters[j]}{r}"{styles[j]}><v>{v!r}</v></c>')
            else:
                t = str(v)
                st = quoted if t.startswith(_FORMULA_START) else ""
                t = escape(_ILLEGAL.sub("", t))
                cells.append(f'<c r="{letters[j]}{r}"{st} t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out)


def save_workbook(wb: Workbook, path: str | os.PathLike[str]) -> None:
    """Save ``wb``, then stream the long tables into their sheets in place of their template row."""
    wb.save(path)
    fast = getattr(wb, "_allocator_fast", [])
    if not fast:
        return
    with zipfile.ZipFile(path) as z:
        entries = {i.filename: z.read(i.filename) for i in z.infolist()}
    for index, (data, n) in fast:
        name = f"xl/worksheets/sheet{index + 1}.xml"
        xml = entries[name].decode("utf-8")
        m = re.search(r'<row r="2"[^>]*>(.*?)</row>', xml, re.S)
        assert m is not None, name
        cell_styles = re.findall(r'<c r="[A-Z]+2"( s="\d+")?', m.group(1))
        styles, quoted = list(cell_styles[:len(data)]), cell_styles[len(data)]
        entries[name] = (xml[:m.start()] + _fast_rows(data, n, styles, quoted) + xml[m.end():]).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in entries.items():
            z.writestr(k, v)


def _summary_rows(r: ReportData) -> list[tuple[str, Any, str | None]]:
    h = r.headline
    rows: list[tuple[str, Any, str | None]] = [
        ("plan", r.title, None), ("status", h["status"], None), ("in words", h["status_words"], None),
        ("gap", h["gap"], "0.00%"), ("objective", h["objective"], NUMBER), ("solver", h["solver"], None),
        ("stations", h["stations"], COUNT), ("stations in operation", h["stations_active"], COUNT),
        ("counties", h["counties"], COUNT), ("residents", h["population"], YUAN),
        ("residents in need", h["need"], YUAN), ("need covered", h["covered"], YUAN),
        ("coverage", h["coverage_share"], SHARE), (f"budget ({r.currency})", h["money_total"], YUAN),
        ("staff", h["staff"], COUNT), ("social workers", h["social_workers"], COUNT),
        ("certified social workers", h["certified"], COUNT),
    ]
    broken = r.clauses[r.clauses["status"] == "broken"]
    met = r.clauses[r.clauses["status"] == "met"]
    rows.append(("clause families met", len(met), COUNT))
    rows.append(("clause families broken", len(broken), COUNT))
    for b in broken.itertuples():
        rows.append((f"broken: {b.clause_id} {b.family}",
                     f"deviation {b.deviation:,.1f} {b.unit} (§{b.section}) {b.title}", None))
    for c in r.conflicts:
        rows.append(("conflict", c, None))
    for n in r.notes:
        rows.append(("note", n, None))
    return rows


def _summary_sheet(wb: Workbook, r: ReportData) -> None:
    sh = _Sheet(wb, "Summary")
    sh.ws.freeze_panes = "A2"
    rows = _summary_rows(r)
    sh.ws.column_dimensions["A"].width = min(60, max(_width(k) for k, _, _ in rows) + 2)
    sh.ws.column_dimensions["B"].width = min(100, max(_width(_display(v, f)) for _, v, f in rows) + 2)
    sh.ws.append([sh.cell("figure", bold=True), sh.cell("value", bold=True)])
    for k, v, f in rows:
        sh.ws.append([sh.cell(k), sh.cell(v, f)])


def _path_sheet(wb: Workbook, path: pd.DataFrame) -> None:
    sh, n = _frozen_sheet(wb, "Path", path)
    chart = LineChart()
    chart.title = "By year"
    chart.y_axis.title = "headcount / residents"
    chart.x_axis.title = "year"
    cols = [j for j, c in enumerate(path.columns) if c in ("total_staff", "social_workers", "covered")]
    for j in cols:
        chart.add_data(Reference(sh.ws, min_col=j + 1, min_row=1, max_row=n + 1), titles_from_data=True)
    chart.set_categories(Reference(sh.ws, min_col=1, min_row=2, max_row=n + 1))
    sh.ws.add_chart(chart, f"{get_column_letter(len(path.columns) + 2)}2")


def _diff_sheet(wb: Workbook, diff: dict[str, pd.DataFrame]) -> None:
    sh = _Sheet(wb, "Diff")
    sh.ws.freeze_panes = "A2"
    parts = [(k, v) for k, v in diff.items() if v is not None and len(v.columns)]
    sh.widths([(list(v.columns), v) for _, v in parts])
    first = True
    for name, df in parts:
        if not first:
            sh.ws.append([])
            sh.ws.append([sh.cell(f"{name}", bold=True)])
        first = False
        sh.table(df, stream=False)


def build_workbook(r: ReportData) -> Workbook:
    """The workbook of a report (not yet saved; save it with :func:`save_workbook`)."""
    wb = Workbook(write_only=True)
    wb.properties.creator = GENERATOR
    wb.properties.title = r.title
    _summary_sheet(wb, r)
    _frozen_sheet(wb, "Stations", r.stations, limit=EXCEL_MAX_ROWS - 1)
    _frozen_sheet(wb, "Counties", r.counties)
    _frozen_sheet(wb, "Groups", r.groups)
    _frozen_sheet(wb, "Budget", r.budget)
    _frozen_sheet(wb, "Staff", r.staff)
    _frozen_sheet(wb, "Clauses", r.clauses)
    if r.path is not None:
        _path_sheet(wb, r.path)
    if r.diff:
        _diff_sheet(wb, r.diff)
    return wb


def write_workbook(r: ReportData, path: str | os.PathLike[str], *, replace_foreign: bool = True) -> None:
    """Write the report's workbook to ``path`` atomically (a temporary sibling, then a rename).

    Parameters
    ----------
    r : ReportData
    path : path-like
    replace_foreign : bool
        When False, refuse to replace an existing file that this engine did not write.
    """
    t0 = time.perf_counter()
    # Built inside ``fill``: a refused target leaves no half-built write-only workbook behind.
    write_file_atomically(path, lambda tmp: save_workbook(build_workbook(r), tmp),
                          None if replace_foreign else is_engine_workbook)
    log.info("wrote the workbook %s (%d stations) in %.1f s", path, len(r.stations), time.perf_counter() - t0)


def is_engine_workbook(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a workbook this engine wrote (its creator property says so)."""
    try:
        with zipfile.ZipFile(path) as z:
            core = z.read("docProps/core.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    # openpyxl writes the namespace on the element or on the root, depending on whether lxml is installed
    return re.search(rf"<dc:creator(\s[^>]*)?>{GENERATOR}</dc:creator>", core) is not None
