"""The plan as one self-contained HTML file: inline CSS, charts as inline SVG, nothing fetched.

Readable on a laptop and printable to A4 (``@media print``).  It shows the headline figures, coverage
by group and by county, the budget by use against the policy's split, staff by type against the
targets, the clauses met and broken in words with their §, the conflicts (when a diagnosis is given)
and the path by year (when the plan has years).  A national plan is shown by county, never station by
station.
"""

from __future__ import annotations

import html
import logging
import math
import os
import time
from typing import Any

import numpy as np
import pandas as pd

from allocator.report import charts
from allocator.report.atomic import write_file_atomically
from allocator.report.frames import ReportData

GENERATOR = "allocator"
log = logging.getLogger(__name__)
# A county table longer than this shows the lowest and highest coverage only.
MAX_COUNTY_ROWS = 60

_CSS = """
:root { --ink: #1a202c; --muted: #4a5568; --line: #e2e8f0; --bad: #c53030; --good: #2f855a; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
       "Microsoft YaHei", "PingFang SC", "DejaVu Sans", sans-serif;
       color: var(--ink); max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid var(--line);
     padding-bottom: .2rem; margin-top: 2rem; }
.status { color: var(--muted); margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10.5rem, 1fr)); gap: .6rem; }
.card { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .7rem; }
.card .v { font-size: 1.25rem; font-weight: 600; } .card .k { color: var(--muted); font-size: .85rem; }
figure.chart { margin: .8rem 0; } figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .2rem .4rem; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.broken { color: var(--bad); } .met { color: var(--good); }
ul.clauses li { margin: .25rem 0; }
footer { color: var(--muted); font-size: .8rem; margin-top: 2rem; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  section, figure.chart, .cards, table { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _num(v: Any, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v):,.{digits}f}"


def _pct(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v):.1%}"


def _table(df: pd.DataFrame, formats: dict[str, str]) -> str:
    head = "".join(f'<th class="{"n" if c in formats else ""}">{_e(c)}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row, strict=True):
            f = formats.get(c)
            text = _pct(v) if f == "%" else _num(v, int(f)) if f is not None else _e(v)
            cells.append(f'<td class="{"n" if f else ""}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(svg: str, caption: str) -> str:
    return f'<figure class="chart">{svg}<figcaption>{_e(caption)}</figcaption></figure>'


def _cards(r: ReportData) -> str:
    h = r.headline
    items = [("coverage of need", _pct(h["coverage_share"])),
             ("residents in need covered", f"{_num(h['covered'])} of {_num(h['need'])}"),
             (f"budget ({r.currency})", _num(h["money_total"])), ("staff", _num(h["staff"])),
             ("social workers", f"{_num(h['social_workers'])} ({_num(h['certified'])} certified)"),
             ("stations in operation", f"{_num(h['stations_active'])} of {_num(h['stations'])}"),
             ("counties", _num(h["counties"])), ("residents", _num(h["population"]))]
    cards = "".join(f'<div class="card"><div class="v">{_e(v)}</div><div class="k">{_e(k)}</div></div>'
                    for k, v in items)
    return f'<div class="cards">{cards}</div>'


def _coverage(r: ReportData) -> str:
    out = ["<section><h2>Coverage of need</h2>"]
    g = r.groups
    if len(g):
        out.append(_figure(charts.share_bars(g["label"].astype(str).tolist(), g["coverage_share"].to_numpy(),
                                             "Need covered by population group"),
                           "Share of each group's residents in need whom the plan's services reach."))
    c = r.counties
    if len(c) and "coverage_share" in c:
        order = c.sort_values("coverage_share", kind="stable")
        if len(c) <= charts.MAX_BARS:
            out.append(_figure(charts.share_bars(order["county"].astype(str).tolist(),
                                                 order["coverage_share"].to_numpy(), "Need covered by county"),
                               "Counties from the least covered to the best covered."))
        else:
            out.append(_figure(charts.share_histogram(c["coverage_share"].to_numpy(),
                                                      f"Need covered: distribution over {len(c):,} counties"),
                               "How many counties reach each share of their need covered."))
        cols = ["county", "stations", "population", "need", "covered_total", "coverage_share"]
        shown = order[[k for k in cols if k in order]]
        fmt = {"stations": "0", "population": "0", "need": "0", "covered_total": "0", "coverage_share": "%"}
        if len(shown) > MAX_COUNTY_ROWS:
            out.append(f"<p>The {MAX_COUNTY_ROWS // 2} least and {MAX_COUNTY_ROWS // 2} best covered of "
                       f"{len(shown):,} counties (all of them are in the workbook's Counties sheet).</p>")
            shown = pd.concat([shown.head(MAX_COUNTY_ROWS // 2), shown.tail(MAX_COUNTY_ROWS // 2)])
        out.append(_table(shown, fmt))
    out.append("</section>")
    return "".join(out)


def _budget(r: ReportData) -> str:
    b = r.budget[r.budget["use"] != "total"]
    svg = charts.grouped_bars(b["use"].tolist(), {"plan": b["plan_yuan"].to_numpy() / 1e6,
                                                  "policy": b["policy_yuan"].to_numpy() / 1e6},
                              "Budget by use: plan against the policy's split", f"million {r.currency}")
    fmt = {"plan_yuan": "0", "plan_share": "%", "policy_share": "%", "policy_yuan": "0", "difference_yuan": "0"}
    return ("<section><h2>Budget by use</h2>" + _figure(svg, "The policy's figure is its share of the document's "
            "total (A-SPLIT of the per-capita budget; F-USES of the yearly operations; F-TOTAL construction).")
            + _table(r.budget, fmt) + "</section>")


def _staff(r: ReportData) -> str:
    s = r.staff
    svg = charts.grouped_bars(s["type"].tolist(), {"plan": s["plan"].to_numpy(float),
                                                   "in post today": s["in_post"].to_numpy(float),
                                                   "target": s["target"].to_numpy(float)},
                              "Staff by type: plan, in post and the clauses' targets", "people")
    fmt = {"plan": "0", "in_post": "0", "target": "0", "difference": "0"}
    return "<section><h2>Staff</h2>" + _figure(svg, "Targets from the staffing clauses (per 10,000 residents, mix).") \
        + _table(s, fmt) + "</section>"


def clause_sentence(row: Any) -> str:
    """One clause family in words: met or broken, the figures, the deviation in its unit, its §."""
    head = f"{row.clause_id} {row.family} (§{row.section}, {row.title})"
    if row.status not in ("met", "broken"):
        return f"{head}: {row.status}; the document says {row.document_figures}."
    if row.rows == 1 and np.isfinite(row.limit):
        figs = f"the plan's figure {row.plan_figure:,.2f} against {row.sense} {row.limit:,.2f} {row.unit}"
    else:
        figs = f"{row.rows - row.rows_broken} of {row.rows} rows kept"
    if row.status == "met":
        return f"{head}: met ({row.mode}); {figs}."
    return f"{head}: broken ({row.mode}); {figs}; short by {row.deviation:,.2f} {row.unit} in all."


def _clauses(r: ReportData) -> str:
    c = r.clauses
    broken = c[c["status"] == "broken"]
    met = c[c["status"] == "met"]
    other = c[~c["status"].isin(["met", "broken"])]
    out = [f"<section><h2>Clauses</h2><p>{len(met)} clause families met, {len(broken)} broken, {len(other)} "
           "clauses in force outside the station model.</p>"]
    if len(broken):
        out.append('<h3 class="broken">Broken</h3><ul class="clauses">' + "".join(
            f"<li>{_e(clause_sentence(x))}</li>" for x in broken.itertuples()) + "</ul>")
    if len(met):
        out.append('<h3 class="met">Met</h3><ul class="clauses">' + "".join(
            f"<li>{_e(clause_sentence(x))}</li>" for x in met.itertuples()) + "</ul>")
    if len(other):
        out.append('<h3>Outside the station model</h3><ul class="clauses">' + "".join(
            f"<li>{_e(clause_sentence(x))}</li>" for x in other.itertuples()) + "</ul>")
    out.append("</section>")
    return "".join(out)


def _path(r: ReportData) -> str:
    p = r.path
    if p is None or not len(p):
        return ""
    cols = [c for c in ("total_staff", "social_workers", "covered") if c in p]
    svg = charts.year_lines(p, cols, "The plan year by year")
    fmt = {c: "%" if "share" in c else "0" for c in p.columns if c != "year"}
    return "<section><h2>Path by year</h2>" + _figure(svg, "Totals of each plan year.") + _table(p, fmt) + \
        "</section>"


def _diff(r: ReportData) -> str:
    t = r.diff.get("totals")
    if t is None or not len(t):
        return ""
    fmt = {"change": "1"}
    shown = t.copy()
    for col in ("baseline", "changed"):
        shown[col] = [_num(v, 1) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in shown[col]]
    return "<section><h2>What changed</h2>" + _table(shown, fmt) + "</section>"


def render_html(r: ReportData) -> str:
    """The report as one HTML document (a string)."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="{GENERATOR}">',
        # Nothing may be fetched: no scripts, fonts or images from anywhere, not even this folder.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">",
        f"<title>{_e(r.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(r.title)}</h1>", f'<p class="status">{_e(r.headline["status_words"])} '
        f'(status {_e(r.headline["status"])}, solver {_e(r.headline["solver"])}).</p>',
        _cards(r),
    ]
    if r.conflicts:
        parts.append('<section><h2>Conflicts</h2><ul class="clauses">' +
                     "".join(f"<li>{_e(c)}</li>" for c in r.conflicts) + "</ul></section>")
    if r.headline["stations"] and len(r.groups):
        parts += [_coverage(r), _budget(r), _staff(r)]
    parts += [_clauses(r), _path(r), _diff(r)]
    for n in r.notes:
        parts.append(f"<p>note: {_e(n)}</p>")
    parts.append(f"<footer>Written by {GENERATOR}. Every figure is in the workbook plan.xlsx.</footer></body></html>")
    return "\n".join(parts)


def write_html(r: ReportData, path: str | os.PathLike[str], *, replace_foreign: bool = True) -> None:
    """Write the report to ``path`` atomically.

    Parameters
    ----------
    r : ReportData
    path : path-like
    replace_foreign : bool
        When False, refuse to replace an existing file that this engine did not write.
    """
    t0 = time.perf_counter()
    text = render_html(r)
    def fill(tmp: Any) -> None:
        tmp.write_text(text, encoding="utf-8")

    write_file_atomically(path, fill, None if replace_foreign else is_engine_html)
    log.info("wrote the HTML report %s (%d kB) in %.1f s", path, len(text) // 1000, time.perf_counter() - t0)


def is_engine_html(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a report this engine wrote (its generator meta tag says so)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR}">' in head
