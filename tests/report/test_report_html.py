"""The HTML report: self-contained, and checked in headless Chromium (charts drawn, figures shown, no errors)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from report_cdp import chromium_path, render

from allocator.report import report_data
from allocator.report.html import render_html, write_html

MEASURE = """(() => {
  const charts = Array.from(document.querySelectorAll("figure.chart svg")).map(e => {
    const b = e.getBoundingClientRect(); return {w: b.width, h: b.height, label: e.getAttribute("aria-label")};
  });
  return {charts, text: document.body.innerText, fonts: getComputedStyle(document.body).fontFamily};
})()"""


def test_the_report_fetches_nothing(cjk_solved) -> None:  # type: ignore[no-untyped-def]
    inst, plan, _ = cjk_solved
    text = render_html(report_data(inst, plan))
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r'(src|href)\s*=\s*["\'](https?:)?//', text)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "@media print" in text and "size: A4" in text
    assert "Noto Sans CJK SC" in text
    assert "东乡区" in text  # Chinese names as text, not escapes


def test_report_in_headless_chromium(cjk_solved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if chromium_path() is None:
        if os.environ.get("ALLOCATOR_REQUIRE_BROWSER") == "1":
            pytest.fail("ALLOCATOR_REQUIRE_BROWSER=1 but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (set ALLOCATOR_REQUIRE_BROWSER=1 to make this a failure)")
    inst, plan, _ = cjk_solved
    page = tmp_path / "report.html"
    write_html(report_data(inst, plan), page)
    got = render(page, MEASURE)
    (tmp_path / "report.png").write_bytes(got.screenshot)
    assert got.errors == []
    assert got.requests == [page.resolve().as_uri()]  # nothing but the page itself
    charts = got.measured["charts"]
    n_expected = page.read_text(encoding="utf-8").count('<figure class="chart">')
    assert len(charts) == n_expected >= 4
    for c in charts:
        assert c["w"] > 100 and c["h"] > 50, c
    text = got.measured["text"]
    t = plan.summary["totals"]
    for figure in (f"{t['money']['total']:,.0f}", f"{t['staff']:,}", f"{t['covered']:,.0f}", f"{t['demand']:,.0f}",
                   f"{t['covered'] / t['demand']:.1%}", f"{t['social_workers']:,}"):
        assert figure in text, figure
    assert "东乡区" in text
    assert "Noto Sans CJK SC" in got.measured["fonts"]
    assert got.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "report.png").stat().st_size > 10_000
