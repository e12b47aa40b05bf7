"""Reading an instance's raw content: the TOML text and tables of strings, within the size limits.

A folder is read only from inside itself (a symbolic link that leads out of it is an error naming the
file, and the file is not read), a file over its byte limit is not read, and instance.toml is parsed with
its nesting depth bounded; every problem becomes an issue of the :class:`IssueLog`, never an exception.
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.instance.errors import IssueLog
from allocator.instance.schema import TABLES, limit

TOML_FILE = "instance.toml"
POLICY_SHEET = "policy"

# ---------------------------------------------------------------------------
# raw sources
# ---------------------------------------------------------------------------
class Source:
    """Raw content of an instance: the TOML dict and tables of strings."""

    def __init__(self, label: str, settings: dict[str, Any] | None, toml_text: str,
                 tables: dict[str, pd.DataFrame | None], table_label: Callable[[str], str],
                 settings_label: str, unreadable: set[str] | None = None,
                 policy_rows: dict[str, int] | None = None):
        self.label = label
        self.settings = settings
        self.toml_text = toml_text
        self.tables = tables
        self.table_label = table_label
        self.settings_label = settings_label
        self.unreadable = unreadable or set()    # tables present but unreadable (already reported)
        self.policy_rows = policy_rows or {}     # workbook: dotted key -> row of the policy sheet


def _outside(folder: Path, f: Path) -> str | None:
    """Why ``f`` may not be read as part of the instance ``folder`` (None if it may)."""
    try:
        real = f.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling or looping link
        return "is a broken or looping symbolic link"
    if not real.is_relative_to(folder):
        return "is a symbolic link to a file outside the instance folder (only files inside it are read)"
    if not real.is_file():
        return "is not a regular file"
    return None


def _too_big(f: Path, key: str) -> str | None:
    size = f.stat().st_size
    cap = limit(key)
    return f"is {size:,} bytes, over the limit of {cap:,} bytes" if size > cap else None


def toml_depth(value: Any) -> int:
    """Nesting depth of parsed TOML (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def parse_toml(text: str, file: str, log: IssueLog) -> dict[str, Any] | None:
    """Parse TOML text, bounding its nesting depth; report a failure under ``file``."""
    text = text.removeprefix("\ufeff")  # a byte-order mark, as spreadsheet tools write it
    depth_cap = limit("toml_depth")
    try:
        settings = tomllib.loads(text)
    except RecursionError:  # nesting deep enough to exhaust the parser's stack
        log.add(file, None, None, None, "too_deep", f"nests tables or arrays deeper than the limit of {depth_cap}")
        return None
    except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4300 digits
        m = re.search(r"line (\d+)", str(exc))
        log.add(file, int(m.group(1)) if m else None, None, None, "toml_syntax", f"not valid TOML: {exc}")
        return None
    if toml_depth(settings) > depth_cap:
        log.add(file, None, None, None, "too_deep", f"nests tables or arrays deeper than the limit of {depth_cap}")
        return None
    return settings


def _read_toml(path: Path, folder: Path, log: IssueLog) -> tuple[dict[str, Any] | None, str]:
    toml_path = path / TOML_FILE
    if not toml_path.is_file() and not toml_path.is_symlink():
        log.add(TOML_FILE, None, None, None, "missing_file", f"{TOML_FILE} not found in {path}")
        return None, ""
    why = _outside(folder, toml_path) or _too_big(toml_path, "toml_bytes")
    if why:
        log.add(TOML_FILE, None, None, None, "unsafe_file" if "link" in why or "regular" in why else "too_big",
                f"{TOML_FILE} {why}")
        return None, ""
    try:
        text = toml_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        log.add(TOML_FILE, None, None, None, "encoding", f"not UTF-8 text ({exc.reason})")
        return None, ""
    return parse_toml(text, TOML_FILE, log), text


def _read_csv(f: Path, folder: Path, log: IssueLog) -> pd.DataFrame | None:
    """One table's cells as strings, or None (reported) when it cannot or may not be read."""
    why = _outside(folder, f) or _too_big(f, "csv_bytes")
    if why:
        log.add(f.name, None, None, None, "unsafe_file" if "link" in why or "regular" in why else "too_big",
                f"{f.name} {why}")
        return None
    header = _raw_header(f)
    if header is not None and len(header) > limit("columns"):
        log.add(f.name, 1, None, None, "too_big",
                f"has {len(header):,} columns, over the limit of {limit('columns'):,}")
        return None
    try:
        df = pd.read_csv(f, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig",
                         nrows=limit("rows") + 1)
    except UnicodeDecodeError as exc:
        log.add(f.name, None, None, None, "encoding", f"not UTF-8 text ({exc.reason})")
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv_error()) as exc:
        m = re.search(r"line (\d+)", str(exc))
        log.add(f.name, int(m.group(1)) if m else None, None, None, "csv_syntax",
                f"cannot be read as CSV: {str(exc).strip()}")
        return None
    if len(df) > limit("rows"):
        log.add(f.name, None, None, None, "too_big", f"has more than the limit of {limit('rows'):,} rows")
        return None
    if header is not None and len(header) == len(df.columns) and len(set(header)) < len(header):
        df.columns = header  # pandas renames a repeated header ('x.1'); keep it for duplicate_column
    return df


def read_folder(path: Path, log: IssueLog) -> Source:
    """The raw content of an instance folder."""
    folder = path.resolve()
    settings, text = _read_toml(path, folder, log)
    tables: dict[str, pd.DataFrame | None] = {}
    unreadable: set[str] = set()
    for spec in TABLES:
        f = path / spec.file
        if not f.is_file() and not f.is_symlink():
            tables[spec.name] = None
            continue
        tables[spec.name] = _read_csv(f, folder, log)
        if tables[spec.name] is None:
            unreadable.add(spec.name)  # present but unreadable (already reported)
    return Source(str(path), settings, text, tables, lambda name: f"{name}.csv", TOML_FILE, unreadable)


def _raw_header(f: Path) -> list[str] | None:
    import csv

    try:
        with f.open(encoding="utf-8-sig", newline="") as fh:
            return next(csv.reader(fh, skipinitialspace=True), None)
    except (UnicodeDecodeError, csv.Error):
        return None


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_xlsx(path: Path, log: IssueLog) -> Source:
    import openpyxl

    book = path.name
    label = lambda name: f"{book}[{name}]"  # noqa: E731
    wb = None
    why = _too_big(path, "xlsx_bytes")
    if why:
        log.add(book, None, None, None, "too_big", f"the workbook {why}")
    else:
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a bad file
            log.add(book, None, None, None, "xlsx_unreadable", f"cannot be opened as a workbook: {exc}")
    if wb is None:
        return Source(str(path), None, "", {t.name: None for t in TABLES}, label, label(POLICY_SHEET),
                       unreadable={t.name for t in TABLES})
    settings: dict[str, Any] | None = None
    policy_rows: dict[str, int] = {}
    if POLICY_SHEET not in wb.sheetnames:
        log.add(label(POLICY_SHEET), None, None, None, "missing_sheet",
                f"the workbook has no '{POLICY_SHEET}' sheet (the content of instance.toml)")
    else:
        settings = _unflatten_policy(wb[POLICY_SHEET], label(POLICY_SHEET), log, policy_rows)
        if settings is not None and toml_depth(settings) > limit("toml_depth"):
            log.add(label(POLICY_SHEET), None, None, None, "too_deep",
                    f"its keys nest deeper than the limit of {limit('toml_depth')}")
            settings = None
    tables: dict[str, pd.DataFrame | None] = {}
    unreadable: set[str] = set()
    for spec in TABLES:
        if spec.name not in wb.sheetnames:
            tables[spec.name] = None
            continue
        rows = _sheet_rows(wb[spec.name], label(spec.name), log)
        if rows is None:
            tables[spec.name] = None
            unreadable.add(spec.name)
            continue
        if not rows:
            tables[spec.name] = pd.DataFrame()
            continue
        header = [_cell_text(h) for h in rows[0]]
        while header and header[-1] == "":
            header.pop()
        if len(header) > limit("columns"):
            log.add(label(spec.name), 1, None, None, "too_big",
                    f"has {len(header):,} columns, over the limit of {limit('columns'):,}")
            tables[spec.name] = None
            unreadable.add(spec.name)
            continue
        body = [[_cell_text(v) for v in r[: len(header)]] for r in rows[1:]]
        body = [r + [""] * (len(header) - len(r)) for r in body]
        while body and all(c == "" for c in body[-1]):
            body.pop()
        tables[spec.name] = pd.DataFrame(body, columns=header, dtype=str)
    wb.close()
    return Source(str(path), settings, "", tables, label, label(POLICY_SHEET), unreadable, policy_rows)


def _sheet_rows(ws: Any, label: str, log: IssueLog) -> list[tuple[Any, ...]] | None:
    """A sheet's rows (each cut to the column limit), or None (reported) over the row limit."""
    import itertools

    cap = limit("rows")
    rows = [tuple(r[: limit("columns") + 1]) for r in itertools.islice(ws.iter_rows(values_only=True), cap + 2)]
    if len(rows) > cap + 1:
        log.add(label, None, None, None, "too_big", f"has more than the limit of {cap:,} rows")
        return None
    return rows


def _unflatten_policy(ws: Any, label: str, log: IssueLog, rows_of: dict[str, int]) -> dict[str, Any] | None:
    rows = _sheet_rows(ws, label, log)
    if rows is None:
        return None
    if not rows or [_cell_text(h) for h in rows[0][:2]] != ["key", "value"]:
        log.add(label, 1, None, None, "missing_column", "the policy sheet needs the columns 'key' and 'value'")
        return None
    out: dict[str, Any] = {}
    for i, r in enumerate(rows[1:], start=2):
        key = _cell_text(r[0] if r else None)
        if not key:
            continue
        rows_of.setdefault(key, i)
        value = r[1] if len(r) > 1 else None
        if value is None:
            log.add(label, i, "value", None, "missing_value", f"no value for '{key}'")
            continue
        parts = key.split(".")
        node = out
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                log.add(label, i, "key", key, "duplicate_key", f"'{p}' is both a value and a table")
                break
            node = nxt
        else:
            if parts[-1] in node:
                log.add(label, i, "key", key, "duplicate_key", f"'{key}' appears twice")
            if isinstance(value, str) and value.startswith("["):
                with contextlib.suppress(ValueError, RecursionError):
                    value = json.loads(value)
            node[parts[-1]] = value
    return out


def flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(flatten(v, key + "."))
        elif isinstance(v, list):
            out.append((key, json.dumps(v)))
        else:
            out.append((key, v))
    return out


