"""The sweep's tables: ``results.csv`` (appended as scenarios finish) and ``results.parquet`` (typed, sorted)."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

from allocator.scenario import parse_value
from allocator.sweep.scenarios import format_value
from allocator.sweep.worker import MONEY_KEYS

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
FLOAT_COLUMNS = ("objective", "bound", "gap", "seconds", "covered", *(f"money_{k}" for k in MONEY_KEYS),
                 "soft_deviation")
INT_COLUMNS = ("staff", "social_workers", "certified", "soft_missed")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return format_value(value)


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def read_results_csv(path: str | os.PathLike[str], repair: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and complete rows of a sweep's ``results.csv``.

    A sweep that was killed may leave a last line cut short: it is dropped (and, with ``repair``,
    the file is rewritten without it), so the scenario runs again on the next run.

    Parameters
    ----------
    path : path-like
        The ``results.csv`` of a sweep.
    repair : bool
        Rewrite the file without an incomplete last line.

    Returns
    -------
    (list of str, list of list of str)
        The header and the rows, as text cells.
    """
    p = Path(path)
    raw = p.read_bytes()
    end = raw.rfind(b"\n") + 1
    text = raw[:end].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        if repair and raw:
            p.write_bytes(b"")
        return [], []
    header, body = rows[0], rows[1:]
    good = [r for r in body if len(r) == len(header)]
    if repair and (end != len(raw) or len(good) != len(body)):
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text("".join(_csv_line(r) for r in [header, *good]), encoding="utf-8")
        os.replace(tmp, p)
    return header, good


def _typed(cells: list[str], kind: str) -> list[Any]:
    out: list[Any] = []
    for c in cells:
        if c == "":
            out.append(None)
        elif kind == "float":
            out.append(float(c))
        elif kind == "int":
            out.append(int(c))
        elif kind == "bool":
            out.append(c == "true")
        else:
            out.append(c)
    return out


def _param_kind(cells: list[str]) -> str:
    vals = [parse_value(c) for c in cells if c != ""]
    if vals and all(isinstance(v, bool) for v in vals):
        return "bool"
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return "int"
    if vals and all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        return "float"
    return "str"


def results_table(csv_path: str | os.PathLike[str]):  # type: ignore[no-untyped-def]
    """The rows of ``results.csv`` as a typed ``pyarrow.Table`` sorted by name.

    Types come from the column, not from the order rows arrived in: figures are float64 or int64
    (null without a plan), a parameter column is bool, int64, float64 or text from its values.

    Parameters
    ----------
    csv_path : path-like
        The ``results.csv`` of a sweep.

    Returns
    -------
    pyarrow.Table
        One row per scenario, sorted by name.
    """
    import pyarrow as pa

    header, rows = read_results_csv(csv_path)
    rows = sorted(rows, key=lambda r: r[0])
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    arrays, fields = [], []
    types = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string()}
    for name, cells in zip(header, cols, strict=True):
        if name in FLOAT_COLUMNS:
            kind = "float"
        elif name in INT_COLUMNS:
            kind = "int"
        elif name in ("name", "status", "error"):
            kind = "str"
        else:
            kind = _param_kind(list(cells))
        arrays.append(pa.array(_typed(list(cells), kind), type=types[kind]))
        fields.append(pa.field(name, types[kind]))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(csv_path: str | os.PathLike[str], parquet_path: str | os.PathLike[str]) -> None:
    """Write :func:`results_table` of ``csv_path`` to ``parquet_path`` (temporary file, then rename)."""
    import pyarrow.parquet as pq

    target = Path(parquet_path)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(results_table(csv_path), tmp)
    os.replace(tmp, target)

