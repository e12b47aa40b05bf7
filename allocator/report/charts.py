"""The HTML report's charts: matplotlib figures rendered to inline SVG.

Why matplotlib to SVG (not Vega-Lite or plotly): the charts are static, so no JavaScript is needed;
an SVG chart is a few tens of kB against plotly's 3.5 MB bundle or Vega's 800 kB that would have to be
inlined; and vector output prints sharply to A4.  Text stays text in the SVG (``svg.fonttype = none``),
so Chinese labels are drawn by the browser with the CJK fonts the report's CSS names.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

# Fonts asked for, in order: the CJK fonts of Debian (fonts-noto-cjk), Windows and macOS, then a Latin
# fallback.  The same list is in the report's CSS.
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
             "PingFang SC", "DejaVu Sans"]
_RC: dict[str, Any] = {"svg.fonttype": "none", "svg.hashsalt": "allocator", "font.family": "sans-serif",
       "font.sans-serif": CJK_FONTS, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
BLUE, GREY, ORANGE = "#2b6cb0", "#a0aec0", "#dd6b20"
# Counties beyond this many are shown as a distribution with the lowest ones named, not one bar each.
MAX_BARS = 40


@contextmanager
def _style() -> Iterator[None]:
    with rc_context(cast(Any, _RC)), warnings.catch_warnings():
        # Measuring a Chinese label without a CJK font installed warns once per glyph; the browser
        # draws the text itself, so the warning says nothing about the report.
        warnings.simplefilter("ignore")
        yield


def _svg(fig: Figure, label: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # Let the page size the chart (CSS max-width) and tell screen readers what it shows.
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
                  rf'<svg\1 role="img" aria-label="{_esc(label)}" class="chart-svg"', text, count=1)
    return text


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def share_bars(labels: list[str], shares: np.ndarray, title: str, width: float = 6.5) -> str:
    """Horizontal bars of shares (0..1), one a label, labelled with the percentage."""
    with _style():
        n = max(1, len(labels))
        fig = Figure(figsize=(width, 0.28 * n + 0.9))
        ax = fig.add_subplot()
        y = np.arange(len(labels))
        vals = np.nan_to_num(np.asarray(shares, dtype=float))
        ax.barh(y, vals, color=BLUE)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, max(1.0, float(vals.max(initial=0)) * 1.1))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        for yi, v in zip(y, vals, strict=True):
            ax.text(float(v), float(yi), f" {v:.1%}", va="center", fontsize=8)
        ax.set_title(title, loc="left")
        return _svg(fig, title)


def share_histogram(shares: np.ndarray, title: str) -> str:
    """The distribution of shares (many counties), in 20 bins."""
    with _style():
        fig = Figure(figsize=(6.5, 2.6))
        ax = fig.add_subplot()
        vals = np.nan_to_num(np.asarray(shares, dtype=float))
        ax.hist(vals, bins=20, color=BLUE)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel("coverage of need")
        ax.set_ylabel("counties")
        ax.set_title(title, loc="left")
        return _svg(fig, title)


def grouped_bars(categories: list[str], series: dict[str, np.ndarray], title: str, unit: str) -> str:
    """Bars side by side per category (e.g. plan against policy); NaN leaves a gap."""
    with _style():
        fig = Figure(figsize=(6.5, 2.8))
        ax = fig.add_subplot()
        x = np.arange(len(categories))
        k = max(1, len(series))
        w = 0.8 / k
        colors = [BLUE, GREY, ORANGE, "#38a169"]
        for i, (name, vals) in enumerate(series.items()):
            v = np.asarray(vals, dtype=float)
            ax.bar(x - 0.4 + w * (i + 0.5), np.nan_to_num(v), w, label=name, color=colors[i % len(colors)])
        ax.set_xticks(x, categories)
        ax.set_ylabel(unit)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        ax.legend(frameon=False, fontsize=8)
        ax.set_title(title, loc="left")
        return _svg(fig, title)


def year_lines(path: pd.DataFrame, columns: list[str], title: str) -> str:
    """One line per column over the plan's years."""
    with _style():
        fig = Figure(figsize=(6.5, 2.8))
        ax = fig.add_subplot()
        for c in columns:
            ax.plot(path["year"].astype(int), path[c].astype(float), marker="o", label=c)
        ax.set_xticks(path["year"].astype(int).tolist())
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        ax.legend(frameon=False, fontsize=8)
        ax.set_title(title, loc="left")
        return _svg(fig, title)
