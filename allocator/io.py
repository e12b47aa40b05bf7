"""Reading and writing instances: a folder (instance.toml + CSV) or one .xlsx workbook.

Both forms load through the same checks to equal :class:`Instance` values.
Every problem found is collected (file, row, column, value, rule) and raised
together as one :class:`InstanceError`; nothing downstream sees a half-checked
instance.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.atomic import write_dir_atomically
from allocator.errors import InputIssue, InstanceError, IssueLog
from allocator.instance import Clause, GroupType, Instance, Objective, StaffType, Table
from allocator.policy import BY_ID as CLAUSE_SPECS
from allocator.schema import STATED_KEYS, TABLE_BY_NAME, TABLES, TOML_SECTIONS, Column, TableSpec

TOML_FILE = "instance.toml"
POLICY_SHEET = "policy"
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_SUM_TOL = 1e-6
_DATES = (dt.date, dt.time)  # TOML / workbook date values: not text, and not JSON-serialisable
_INT_MAX = 2**53  # largest whole number a table cell may hold (exact as a float; sums fit in int64)
_SHARE_NOTE = " (a share lies between 0 and 1)"
# Flow figures count events of one year (hires in 2024); other path figures are
# targets that hold from their year on.
_FLOW_FIELDS = {("F-HIRING", "recruited"), ("F-LOCAL-HIRE", "local_hires")}


# ---------------------------------------------------------------------------
# raw sources
# ---------------------------------------------------------------------------
class _Source:
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


def _read_folder(path: Path, log: IssueLog) -> _Source:
    settings: dict[str, Any] | None = None
    text = ""
    toml_path = path / TOML_FILE
    if not toml_path.is_file():
        log.add(TOML_FILE, None, None, None, "missing_file", f"{TOML_FILE} not found in {path}")
    else:
        try:
            text = toml_path.read_text(encoding="utf-8")
            settings = tomllib.loads(text)
        except UnicodeDecodeError as exc:
            log.add(TOML_FILE, None, None, None, "encoding", f"not UTF-8 text ({exc.reason})")
        except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4300 digits
            m = re.search(r"line (\d+)", str(exc))
            log.add(TOML_FILE, int(m.group(1)) if m else None, None, None, "toml_syntax",
                    f"not valid TOML: {exc}")
    tables: dict[str, pd.DataFrame | None] = {}
    unreadable: set[str] = set()
    for spec in TABLES:
        f = path / spec.file
        if not f.is_file():
            tables[spec.name] = None
            continue
        try:
            df = pd.read_csv(f, dtype=str, keep_default_na=False, skipinitialspace=True,
                             encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            log.add(spec.file, None, None, None, "encoding", f"not UTF-8 text ({exc.reason})")
            tables[spec.name] = None
            unreadable.add(spec.name)
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv_error()) as exc:
            m = re.search(r"line (\d+)", str(exc))
            log.add(spec.file, int(m.group(1)) if m else None, None, None, "csv_syntax",
                    f"cannot be read as CSV: {str(exc).strip()}")
            tables[spec.name] = None  # present but unreadable
            unreadable.add(spec.name)
            continue
        header = _raw_header(f)
        if header is not None and len(header) == len(df.columns) and len(set(header)) < len(header):
            df.columns = header  # pandas renames a repeated header ('x.1'); keep it for duplicate_column
        tables[spec.name] = df
    return _Source(str(path), settings, text, tables, lambda name: f"{name}.csv", TOML_FILE, unreadable)


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


def _read_xlsx(path: Path, log: IssueLog) -> _Source:
    import openpyxl

    book = path.name
    label = lambda name: f"{book}[{name}]"  # noqa: E731
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        log.add(book, None, None, None, "xlsx_unreadable", f"cannot be opened as a workbook: {exc}")
        return _Source(str(path), None, "", {t.name: None for t in TABLES}, label, label(POLICY_SHEET),
                       unreadable={t.name for t in TABLES})
    settings: dict[str, Any] | None = None
    policy_rows: dict[str, int] = {}
    if POLICY_SHEET not in wb.sheetnames:
        log.add(label(POLICY_SHEET), None, None, None, "missing_sheet",
                f"the workbook has no '{POLICY_SHEET}' sheet (the content of instance.toml)")
    else:
        settings = _unflatten_policy(wb[POLICY_SHEET], label(POLICY_SHEET), log, policy_rows)
    tables: dict[str, pd.DataFrame | None] = {}
    for spec in TABLES:
        if spec.name not in wb.sheetnames:
            tables[spec.name] = None
            continue
        rows = list(wb[spec.name].iter_rows(values_only=True))
        if not rows:
            tables[spec.name] = pd.DataFrame()
            continue
        header = [_cell_text(h) for h in rows[0]]
        while header and header[-1] == "":
            header.pop()
        body = [[_cell_text(v) for v in r[: len(header)]] for r in rows[1:]]
        body = [r + [""] * (len(header) - len(r)) for r in body]
        while body and all(c == "" for c in body[-1]):
            body.pop()
        tables[spec.name] = pd.DataFrame(body, columns=header, dtype=str)
    wb.close()
    return _Source(str(path), settings, "", tables, label, label(POLICY_SHEET), policy_rows=policy_rows)


def _unflatten_policy(ws: Any, label: str, log: IssueLog, rows_of: dict[str, int]) -> dict[str, Any] | None:
    rows = list(ws.iter_rows(values_only=True))
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
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            node[parts[-1]] = value
    return out


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(_flatten(v, key + "."))
        elif isinstance(v, list):
            out.append((key, json.dumps(v)))
        else:
            out.append((key, v))
    return out


# ---------------------------------------------------------------------------
# TOML checks
# ---------------------------------------------------------------------------
def _toml_locator(text: str) -> Callable[[str], int | None]:
    """Line of a dotted key in the TOML text (best effort; None if not found)."""
    lines = text.splitlines()

    def find(dotted: str) -> int | None:
        parts = dotted.split(".")
        for cut in range(len(parts), -1, -1):
            header, rest = parts[:cut], parts[cut:]
            start = 0
            if header:
                pat = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(
                    r'(?:"?' + re.escape(h) + r'"?)' for h in header) + r"\s*\]")
                start = next((i for i, ln in enumerate(lines) if pat.match(ln)), -1)
                if start < 0:
                    continue
                start += 1
            key = rest[0] if rest else None
            if key is None:
                return start
            kp = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
            for i in range(start, len(lines)):
                if i > start and lines[i].lstrip().startswith("["):
                    break
                if kp.match(lines[i]):
                    return i + 1
            if header:
                return start
        return None

    return find


def _policy_locator(rows: dict[str, int]) -> Callable[[str], int | None]:
    """Row of a dotted key in a workbook's policy sheet (a table key: its first row; None if absent)."""

    def find(dotted: str) -> int | None:
        if dotted in rows:
            return rows[dotted]
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut]) + "."
            hits = [r for k, r in rows.items() if k.startswith(prefix)]
            if hits:
                return min(hits)
        return None

    return find


class _TomlChecker:
    def __init__(self, src: _Source, log: IssueLog):
        self.src = src
        self.log = log
        self.locate = _toml_locator(src.toml_text) if src.toml_text else _policy_locator(src.policy_rows)

    def add(self, key: str, value: object, rule: str, message: str, severity: str = "error") -> None:
        self.log.add(self.src.settings_label, self.locate(key), key, value, rule, message, severity)

    def number(self, key: str, value: object, *, share: bool = False, integer: bool = False,
               minimum: float = 0.0) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(key, value, "wrong_type", "must be a number")
            return None
        try:
            x = float(value)
        except OverflowError:  # a TOML integer beyond any float
            x = math.inf
        if not math.isfinite(x):
            self.add(key, value, "out_of_range", "must be a finite number")
            return None
        if integer and not x.is_integer():
            self.add(key, value, "wrong_type", "must be a whole number")
            return None
        if share and not 0.0 <= x <= 1.0:
            self.add(key, value, "out_of_range", "a share must lie between 0 and 1")
            return None
        if x < minimum:
            self.add(key, value, "out_of_range", f"must be >= {minimum:g}")
            return None
        return x

    def section(self, name: str, required: bool = True) -> dict[str, Any]:
        settings = self.src.settings or {}
        sec = settings.get(name)
        if sec is None:
            if required:
                self.add(name, None, "missing_section", f"[{name}] is required")
            return {}
        if not isinstance(sec, dict):
            self.add(name, sec, "wrong_type", f"{name} must be a table")
            return {}
        return sec


def _check_settings(src: _Source, log: IssueLog) -> dict[str, Any]:
    """Check instance.toml; return the parsed pieces (possibly partial)."""
    ck = _TomlChecker(src, log)
    settings = src.settings or {}
    out: dict[str, Any] = {}
    known = {"instance", "objective", "groups", "staff_types", "costs", "stated", "documents", "clauses"}
    for k in settings:
        if k not in known:
            ck.add(k, None, "unknown_key", f"unknown section '{k}' (known: {', '.join(sorted(known))})")

    inst = ck.section("instance")
    for k in inst:
        if k not in TOML_SECTIONS["instance"]:
            ck.add(f"instance.{k}", inst[k], "unknown_key", "unknown key in [instance]")
    for k in ("name", "currency"):
        v = inst.get(k)
        if not isinstance(v, str) or not v.strip():
            ck.add(f"instance.{k}", v, "missing_value" if v is None else "wrong_type", "must be a non-empty text")
    if isinstance(inst.get("description"), _DATES):
        ck.add("instance.description", inst["description"], "wrong_type", "must be text, not a date")
    year = inst.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        ck.add("instance.year", year, "wrong_type" if not isinstance(year, int) else "out_of_range",
               "must be a whole year between 1990 and 2100")
        year = None
    out["year"] = year
    out["instance"] = inst

    obj = ck.section("objective", required=False)
    cost_weight = ck.number("objective.cost_weight", obj.get("cost_weight", 0.0)) or 0.0
    equity = obj.get("equity", "none")
    if equity not in ("none", "worst_county", "urban_rural_gap"):
        ck.add("objective.equity", equity, "bad_choice", "must be none, worst_county or urban_rural_gap")
        equity = "none"
    eq_w = ck.number("objective.equity_weight", obj.get("equity_weight", 0.0)) or 0.0
    for k in obj:
        if k not in TOML_SECTIONS["objective"]:
            ck.add(f"objective.{k}", obj[k], "unknown_key", "unknown key in [objective]")
    out["objective"] = Objective(cost_weight, equity, eq_w)

    groups: list[GroupType] = []
    gsec = ck.section("groups")
    if not gsec and "groups" in settings:
        ck.add("groups", None, "missing_value", "at least one population group is needed")
    for gid, g in gsec.items():
        if not isinstance(g, dict):
            ck.add(f"groups.{gid}", g, "wrong_type", "each group is a table")
            continue
        vals: dict[str, Any] = {}
        ok = True
        for k, (kind, _u, _d) in TOML_SECTIONS["groups"].items():
            key = f"groups.{gid}.{k}"
            if k not in g:
                if k == "label":
                    vals[k] = gid
                    continue
                if k == "special":
                    vals[k] = False
                    continue
                ck.add(key, None, "missing_value", f"group '{gid}' needs '{k}'")
                ok = False
                continue
            if kind == "str":
                if isinstance(g[k], _DATES):
                    ck.add(key, g[k], "wrong_type", "must be text, not a date")
                    ok = False
                vals[k] = str(g[k])
            elif kind == "bool":
                if not isinstance(g[k], bool):
                    ck.add(key, g[k], "wrong_type", "must be true or false")
                    ok = False
                vals[k] = bool(g[k])
            else:
                x = ck.number(key, g[k], share=kind == "share")
                ok = ok and x is not None
                vals[k] = x
        for k in g:
            if k not in TOML_SECTIONS["groups"]:
                ck.add(f"groups.{gid}.{k}", g[k], "unknown_key", "unknown key for a group")
        if ok:
            groups.append(GroupType(gid, vals["label"], vals["weight"], vals["need_share"], vals["special"],
                                    vals["hours_per_resident"], vals["cost_per_resident"]))
    out["groups"] = groups
    out["group_ids"] = list(gsec)

    staff_types: list[StaffType] = []
    ssec = ck.section("staff_types")
    for sid in ("admin", "social_worker", "volunteer"):
        s = ssec.get(sid)
        if not isinstance(s, dict):
            ck.add(f"staff_types.{sid}", s, "missing_value", f"[staff_types.{sid}] is required")
            continue
        h = ck.number(f"staff_types.{sid}.hours_per_year", s.get("hours_per_year"))
        c = ck.number(f"staff_types.{sid}.annual_cost", s.get("annual_cost"))
        if h is not None and c is not None:
            staff_types.append(StaffType(sid, h, c))
    for sid in ssec:
        if sid not in ("admin", "social_worker", "volunteer"):
            ck.add(f"staff_types.{sid}", None, "unknown_key", "staff types are admin, social_worker, volunteer")
    out["staff_types"] = staff_types

    costs: dict[str, float] = {}
    csec = ck.section("costs")
    for k in TOML_SECTIONS["costs"]:
        if k not in csec:
            ck.add(f"costs.{k}", None, "missing_value", f"costs.{k} is required")
            continue
        x = ck.number(f"costs.{k}", csec[k])
        if x is not None:
            costs[k] = x
    for k in csec:
        if k not in TOML_SECTIONS["costs"]:
            ck.add(f"costs.{k}", csec[k], "unknown_key", "unknown cost")
    out["costs"] = costs

    stated: dict[str, float] = {}
    for k, v in ck.section("stated", required=False).items():
        if k not in STATED_KEYS:
            ck.add(f"stated.{k}", v, "unknown_key",
                   f"unknown stated aggregate (known: {', '.join(STATED_KEYS)})")
            continue
        x = ck.number(f"stated.{k}", v)
        if x is not None:
            stated[k] = x
    out["stated"] = stated

    # Aggregates as a document states them when the document contradicts itself or the data:
    # reported as warnings (data inconsistencies), never rejected.
    documents: dict[str, float] = {}
    for k, v in ck.section("documents", required=False).items():
        if k not in STATED_KEYS:
            ck.add(f"documents.{k}", v, "unknown_key", f"unknown aggregate (known: {', '.join(STATED_KEYS)})")
            continue
        x = ck.number(f"documents.{k}", v)
        if x is not None:
            documents[k] = x
    out["documents"] = documents

    out["clauses"] = _check_clauses(ck, ck.section("clauses"), year)
    return out


def _check_clauses(ck: _TomlChecker, sec: dict[str, Any], year: int | None) -> list[Clause]:
    clauses: list[Clause] = []
    for cid, body in sec.items():
        key = f"clauses.{cid}"
        spec = CLAUSE_SPECS.get(cid)
        if spec is None:
            close = [k for k in CLAUSE_SPECS if k.split("-")[0] == cid.split("-")[0]]
            ck.add(key, cid, "unknown_clause",
                   f"'{cid}' is not a clause of POLICY.md" + (f" (same prefix: {', '.join(close[:6])}, ...)"
                                                               if close else ""))
            continue
        if not isinstance(body, dict):
            ck.add(key, body, "wrong_type", "a clause is a table")
            continue
        in_force = body.get("in_force", True)
        if not isinstance(in_force, bool):
            ck.add(f"{key}.in_force", in_force, "wrong_type", "must be true or false")
            in_force = True
        families = spec.families or ("*",)
        modes: dict[str, str] = {}
        raw_mode = body.get("mode", "hard")
        mode_items = raw_mode.items() if isinstance(raw_mode, dict) else [("*", raw_mode)]
        for fam, m in mode_items:
            if fam != "*" and fam not in families:
                ck.add(f"{key}.mode.{fam}", m, "unknown_key",
                       f"{cid} has the families {', '.join(families)}")
            elif m not in ("hard", "soft"):
                ck.add(f"{key}.mode" + ("" if fam == "*" else f".{fam}"), m, "bad_choice",
                       "mode must be 'hard' or 'soft'")
            else:
                modes[fam] = m
        penalties: dict[str, float] = {}
        raw_pen = body.get("penalty", 0.0)
        pen_items = raw_pen.items() if isinstance(raw_pen, dict) else [("*", raw_pen)]
        for fam, p in pen_items:
            pkey = f"{key}.penalty" + ("" if fam == "*" else f".{fam}")
            if fam != "*" and fam not in families:
                ck.add(pkey, p, "unknown_key", f"{cid} has the families {', '.join(families)}")
                continue
            x = ck.number(pkey, p)
            if x is not None:
                penalties[fam] = x
        figures: dict[str, float] = {}
        paths: dict[str, tuple[tuple[int, float], ...]] = {}
        for fspec in spec.fields:
            fkey = f"{key}.{fspec.name}"
            if fspec.name not in body:
                if fspec.required:
                    ck.add(fkey, None, "missing_value", f"{cid} needs its figure '{fspec.name}' ({fspec.unit})")
                continue
            raw = body[fspec.name]
            integer = fspec.kind == "count"
            share = fspec.kind == "share"
            if isinstance(raw, dict):
                if not fspec.path:
                    ck.add(fkey, raw, "wrong_type", f"{cid}.{fspec.name} is one figure, not a path by year")
                    continue
                pts: list[tuple[int, float]] = []
                for y, v in raw.items():
                    if not re.fullmatch(r"\d{4}", str(y)):
                        ck.add(f"{fkey}.{y}", v, "wrong_type", "path keys are years like \"2025\"")
                        continue
                    x = ck.number(f"{fkey}.{y}", v, share=share, integer=integer)
                    if x is not None:
                        pts.append((int(y), x))
                pts.sort()
                paths[fspec.name] = tuple(pts)
                value = _resolve_path(pts, year, (cid, fspec.name) in _FLOW_FIELDS)
                if value is not None:
                    figures[fspec.name] = value
            else:
                x = ck.number(fkey, raw, share=share, integer=integer)
                if x is not None:
                    figures[fspec.name] = x
        for k in body:
            if k not in ("in_force", "mode", "penalty", "note") and spec.field(k) is None:
                ck.add(f"{key}.{k}", body[k], "unknown_key",
                       f"{cid} has the figures {', '.join(f.name for f in spec.fields)}")
        if spec.sums_to_one and all(n in figures for n in spec.sums_to_one):
            total = sum(figures[n] for n in spec.sums_to_one)
            if abs(total - 1.0) > _SUM_TOL:
                ck.add(key, f"{total:g}", "shares_sum",
                       f"{cid} shares {' + '.join(spec.sums_to_one)} sum to {total:g}, not 1")
        note = body.get("note", "")
        if isinstance(note, _DATES):
            ck.add(f"{key}.note", note, "wrong_type", "must be text, not a date")
        clauses.append(Clause(cid, in_force, figures, paths, modes or {"*": "hard"}, penalties,
                              str(note)))
    return clauses


def _resolve_path(points: list[tuple[int, float]], year: int | None, flow: bool) -> float | None:
    if not points or year is None:
        return None
    if flow:
        return next((v for y, v in points if y == year), None)
    earlier = [v for y, v in points if y <= year]
    return earlier[-1] if earlier else None


# ---------------------------------------------------------------------------
# table checks (vectorised per column)
# ---------------------------------------------------------------------------
def _parse_column(spec: TableSpec, col: Column, raw: pd.Series, label: str, log: IssueLog,
                  group_ids: set[str] | None) -> np.ndarray:
    text = raw.astype(str).str.strip()
    rows = np.arange(len(text)) + 2  # header is row 1
    blank = (text == "").to_numpy()
    if not col.blank_ok and blank.any():
        for r in rows[blank][:50]:
            log.add(label, int(r), col.name, "", "missing_value", f"{col.name} must not be blank")
    kind = col.kind
    if kind in ("int", "float", "share"):
        num = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype=float)
        bad = ~blank & ~np.isfinite(num)
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "wrong_type",
                    f"{col.name} must be a {'whole ' if kind == 'int' else ''}number"
                    + (f" ({col.unit})" if col.unit else ""))
        ok = ~blank & ~bad
        if kind == "int":
            frac = ok & (num != np.round(num))
            for r, v in zip(rows[frac][:50], text[frac][:50], strict=False):
                log.add(label, int(r), col.name, v, "wrong_type", f"{col.name} must be a whole number")
            huge = ok & (np.abs(num) > _INT_MAX)  # beyond exact integers: would wrap around in int64
            for r, v in zip(rows[huge][:50], text[huge][:50], strict=False):
                log.add(label, int(r), col.name, v, "out_of_range", f"{col.name} must be at most {_INT_MAX:,}")
        lo = 0.0 if kind == "share" else col.minimum
        hi = 1.0 if kind == "share" else col.maximum
        if lo is not None:
            low = ok & (num < lo)
            for r, v in zip(rows[low][:50], text[low][:50], strict=False):
                log.add(label, int(r), col.name, v, "out_of_range",
                        f"{col.name} must be >= {lo:g}" + (_SHARE_NOTE if kind == "share" else ""))
        if hi is not None:
            high = ok & (num > hi)
            for r, v in zip(rows[high][:50], text[high][:50], strict=False):
                log.add(label, int(r), col.name, v, "out_of_range",
                        f"{col.name} must be <= {hi:g}" + (_SHARE_NOTE if kind == "share" else ""))
        if kind == "int":
            return np.where(np.isfinite(num) & (np.abs(num) <= _INT_MAX), np.round(num), 0).astype(np.int64)
        return num
    if kind == "bool":
        low = text.str.lower()
        t = low.isin(_TRUE).to_numpy()
        f = low.isin(_FALSE).to_numpy()
        bad = ~blank & ~t & ~f
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "wrong_type", f"{col.name} must be true or false")
        return t
    if kind == "enum":
        bad = ~blank & ~text.isin(col.choices).to_numpy()
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "bad_choice",
                    f"{col.name} must be one of {', '.join(col.choices)}")
        return text.to_numpy(dtype=object)
    if kind == "str" and col.ref == "groups" and group_ids is not None:
        bad = ~blank & ~text.isin(group_ids).to_numpy()
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "unknown_reference", f"'{v}' is not a group of instance.toml [groups]")
    if kind == "list":
        if col.ref == "groups" and group_ids is not None:
            for r, v in zip(rows, text, strict=False):
                items = [x.strip() for x in v.split(";") if x.strip()]
                if v and v != "all":
                    for it in items:
                        if it not in group_ids:
                            log.add(label, int(r), col.name, it, "unknown_reference",
                                    f"'{it}' is not a group of instance.toml [groups]")
        return text.to_numpy(dtype=object)
    return text.to_numpy(dtype=object)


def _check_table(src: _Source, spec: TableSpec, log: IssueLog, group_ids: set[str] | None) -> Table | None:
    label = src.table_label(spec.name)
    if spec.name in src.unreadable:
        return None
    df = src.tables.get(spec.name)
    if df is None:
        if spec.required:
            what = "sheet" if "[" in label else "file"
            log.add(label, None, None, None, "missing_file" if what == "file" else "missing_sheet",
                    f"the {what} '{spec.name}' is required ({spec.doc})")
        return None
    if df.empty and len(df.columns) == 0:
        if spec.required:
            log.add(label, 1, None, None, "missing_column", "the table has no header row")
        return None
    header = [str(c).strip() for c in df.columns]
    df.columns = header
    seen: set[str] = set()
    for i, h in enumerate(header):
        if h in seen:
            log.add(label, 1, h, h, "duplicate_column", f"column '{h}' appears twice")
        seen.add(h)
        if h not in {c.name for c in spec.columns}:
            if h.startswith("Unnamed") or h == "":
                log.add(label, 1, f"#{i + 1}", h, "missing_column", "a column has no name in the header")
            else:
                log.add(label, 1, h, h, "unknown_column",
                        f"'{h}' is not a column of {spec.name} (it is ignored)", severity="warning")
    cols: dict[str, np.ndarray] = {}
    for col in spec.columns:
        if col.name not in df.columns:
            if col.required:
                log.add(label, 1, col.name, None, "missing_column", f"the column '{col.name}' is required")
                continue
            cols[col.name] = _default_column(col, len(df))
            continue
        series = df[col.name]
        if isinstance(series, pd.DataFrame):  # duplicated header
            series = series.iloc[:, 0]
        cols[col.name] = _parse_column(spec, col, series, label, log, group_ids)
    if spec.key and all(k in cols for k in spec.key):
        keyframe = pd.DataFrame({k: cols[k] for k in spec.key})
        dup = keyframe.duplicated(keep="first").to_numpy()
        for r in (np.flatnonzero(dup) + 2)[:50]:
            vals = " / ".join(str(keyframe.iloc[r - 2][k]) for k in spec.key)
            log.add(label, int(r), "/".join(spec.key), vals, "duplicate_id",
                    f"{' + '.join(spec.key)} must be unique; this repeats an earlier row")
    return Table(spec.name, {c.name: cols[c.name] for c in spec.columns if c.name in cols})


def _default_column(col: Column, n: int) -> np.ndarray:
    if col.kind == "bool":
        return np.full(n, bool(col.default))
    if col.kind == "int":
        return np.full(n, int(col.default or 0), dtype=np.int64)  # type: ignore[call-overload]
    if col.kind in ("float", "share"):
        return np.full(n, np.nan if col.default is None else float(col.default))  # type: ignore[arg-type]
    return np.full(n, "" if col.default is None else str(col.default), dtype=object)


def _check_refs(src: _Source, tables: dict[str, Table | None], log: IssueLog) -> None:
    for spec in TABLES:
        t = tables.get(spec.name)
        if t is None:
            continue
        for col in spec.columns:
            if not col.ref or col.ref == "groups" or col.name not in t:
                continue
            tname, cname = col.ref.split(".")
            target = tables.get(tname)
            if target is None or cname not in target:
                continue
            known = set(target[cname].tolist())
            vals = t[col.name]
            bad = ~pd.Series(vals).isin(known).to_numpy() & (pd.Series(vals) != "").to_numpy()
            for r in (np.flatnonzero(bad) + 2)[:50]:
                log.add(src.table_label(spec.name), int(r), col.name, vals[r - 2], "unknown_reference",
                        f"'{vals[r - 2]}' is not a {cname} of {tname}")


# ---------------------------------------------------------------------------
# cross-table rules
# ---------------------------------------------------------------------------
def _cross_checks(src: _Source, parsed: dict[str, Any], tables: dict[str, Table | None], log: IssueLog,
                  ck: _TomlChecker) -> None:
    st = tables.get("stations")
    if st is not None and all(k in st for k in ("zone_admin", "zone_service", "zone_activity", "floor_area_m2")):
        z = np.nan_to_num(st["zone_admin"]) + np.nan_to_num(st["zone_service"]) + np.nan_to_num(st["zone_activity"])
        has_building = st["floor_area_m2"] > 0
        bad = (has_building & (np.abs(z - 1) > 1e-3)) | (~has_building & (z > 1e-9))
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("stations"), int(r), "zone_admin+zone_service+zone_activity",
                    f"{z[r - 2]:g}", "shares_sum",
                    "the zone shares of a station with a building must sum to 1 (all 0 without one)")
    sf = tables.get("staff")
    if sf is not None and all(k in sf for k in ("type", "certified", "level")):
        bad = (sf["level"] != "none") & ~sf["certified"]
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("staff"), int(r), "level", sf["level"][r - 2], "level_needs_certificate",
                    "a certificate level other than 'none' needs certified = true")
        bad = sf["certified"] & (sf["type"] != "social_worker")
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("staff"), int(r), "certified", "true", "certified_not_social_worker",
                    "only social workers hold the social-work certificate")
        bad = sf["certified"] & (sf["level"] == "none")
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("staff"), int(r), "level", "none", "level_needs_certificate",
                    "a certified social worker has a level (assistant or intermediate)")
    pk = tables.get("packages")
    if pk is not None and st is not None and "eligible" in pk and "station_id" in st:
        known = set(st["station_id"].tolist())
        for r, rule in enumerate(pk["eligible"], start=2):
            if rule in ("all", "urban", "rural", ""):
                continue
            for sid in (x.strip() for x in str(rule).split(";") if x.strip()):
                if sid not in known:
                    log.add(src.table_label("packages"), r, "eligible", sid, "unknown_reference",
                            f"'{sid}' is not 'all', 'urban', 'rural' nor a station_id of stations")
    stated = parsed.get("stated", {})
    actual = _aggregates(tables, parsed)
    for k, v in stated.items():
        if k in actual and abs(actual[k] - v) > 1e-6 * max(1.0, abs(v)):
            ck.add(f"stated.{k}", v, "stated_total",
                   f"the tables give {actual[k]:,.10g} for {STATED_KEYS[k]}, but [stated] says {v:,.10g}")
    for k, v in parsed.get("documents", {}).items():
        if k in actual and abs(actual[k] - v) > 1e-6 * max(1.0, abs(v)):
            ck.add(f"documents.{k}", v, "document_inconsistent",
                   f"the document states {v:,.10g} for {STATED_KEYS[k]}, the tables have {actual[k]:,.10g}",
                   severity="warning")
    # Figures inside the policy that disagree with the tables are reported, not
    # rejected: the documents contradict themselves and later steps diagnose it.
    sw = _clause_figure(parsed, "F-SW-DENSITY", "per_10k")
    stated_total = _clause_figure(parsed, "F-SW-DENSITY", "stated_total")
    if sw is not None and stated_total is not None and "population" in actual:
        implied = sw * actual["population"] / 10_000
        if abs(implied - stated_total) > 0.05 * stated_total:
            ck.add("clauses.F-SW-DENSITY.stated_total", stated_total, "figure_inconsistent",
                   f"{sw:g} per 10,000 of {actual['population']:,.0f} residents is {implied:,.0f}, "
                   f"not the stated {stated_total:,.0f} (POLICY.md known conflict 4)", severity="warning")


def _clause_figure(parsed: dict[str, Any], cid: str, name: str) -> float | None:
    for c in parsed.get("clauses", []):
        if c.id == cid and c.in_force:
            return c.figures.get(name)
    return None


def _aggregates(tables: dict[str, Table | None], parsed: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    st = tables.get("stations")
    if st is not None:
        out["stations"] = len(st)
        if "population" in st:
            out["population"] = float(st["population"].sum())
        if "households" in st:
            out["households"] = float(st["households"].sum())
        if "status" in st:
            for s in ("existing", "new", "upgrade"):
                out[s] = float((st["status"] == s).sum())
        if "one_stop" in st:
            out["one_stop"] = float(st["one_stop"].sum())
        if "floor_area_m2" in st:
            out["floor_area_m2"] = float(st["floor_area_m2"].sum())
        if "county" in st:
            out["counties"] = float(len(set(st["county"].tolist())))
        age = _clause_figure(parsed, "A-RENOVATE", "age_years")
        if age is not None and "building_age_years" in st:
            out["old_buildings"] = float(np.nansum(st["building_age_years"] > age))
    sf = tables.get("staff")
    if sf is not None and "type" in sf:
        out["staff"] = float(len(sf))
        for t in ("admin", "social_worker", "volunteer"):
            out[t] = float((sf["type"] == t).sum())
        if "certified" in sf:
            out["certified"] = float(sf["certified"].sum())
    return out


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def check(path: str | os.PathLike[str]) -> tuple[Instance | None, list[InputIssue]]:
    """Load and check an instance; return it (or None) with every issue found.

    Parameters
    ----------
    path : path-like
        An instance folder or an ``.xlsx`` workbook.

    Returns
    -------
    (Instance or None, list of InputIssue)
        The instance is None when any issue is an error.
    """
    p = Path(path)
    log = IssueLog()
    if p.is_dir():
        src = _read_folder(p, log)
    elif p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm"):
        src = _read_xlsx(p, log)
    elif p.exists():
        log.add(p.name, None, None, None, "bad_path",
                "an instance is a folder (instance.toml + CSV tables) or an .xlsx workbook")
        return None, log.items
    else:
        log.add(str(p), None, None, None, "missing_file", "no such folder or file")
        return None, log.items
    return _check_source(src, log)


def _check_source(src: _Source, log: IssueLog) -> tuple[Instance | None, list[InputIssue]]:
    if src.settings is None:
        # Tables can still be checked for their own errors.
        src.settings = {}
        skip_settings = True
    else:
        skip_settings = False
    ck = _TomlChecker(src, log)
    parsed = _check_settings(src, log) if not skip_settings else {"group_ids": [], "clauses": []}
    group_ids = None if skip_settings else set(parsed.get("group_ids", []))  # unknown if unreadable
    tables = {spec.name: _check_table(src, spec, log, group_ids) for spec in TABLES}
    _check_refs(src, tables, log)
    if not skip_settings:
        _cross_checks(src, parsed, tables, log, ck)
    if log.errors:
        return None, log.items
    instance = _assemble(src, parsed, tables)
    return instance, log.items


def with_settings(instance: Instance, settings: dict[str, Any], label: str = "changed instance") -> Instance:
    """The instance with new instance.toml content, checked exactly as a file would be.

    Used by what-if and sweeps: a change that breaks a rule raises :class:`InstanceError`.
    """
    tables: dict[str, pd.DataFrame | None] = {spec.name: None for spec in TABLES}
    for name, df in _frames(instance).items():
        df = _csv_frame(df)
        tables[name] = df.astype(object).where(df.notna(), "").astype(str)
    src = _Source(label, settings, "", tables, lambda name: f"{label}[{name}]", f"{label}[settings]")
    log = IssueLog()
    inst, issues = _check_source(src, log)
    if inst is None:
        raise InstanceError(issues)
    return inst


def load(path: str | os.PathLike[str]) -> Instance:
    """Load an instance folder or workbook; raise :class:`InstanceError` listing every error."""
    instance, issues = check(path)
    if instance is None:
        raise InstanceError(issues)
    return instance


def _assemble(src: _Source, parsed: dict[str, Any], tables: dict[str, Table | None]) -> Instance:
    st = tables["stations"]
    assert st is not None
    groups: list[GroupType] = parsed["groups"]
    gids = [g.id for g in groups]
    gt = tables["groups"]
    assert gt is not None
    residents = np.zeros((len(st), len(gids)), dtype=np.int64)
    if len(gt):
        s_index = pd.Index(st["station_id"]).get_indexer(gt["station_id"])
        g_index = pd.Index(gids).get_indexer(gt["group"])
        residents[s_index, g_index] = gt["residents"]
    sv = tables["services"]
    assert sv is not None
    serves = np.zeros((len(sv), len(gids)), dtype=bool)
    for i, v in enumerate(sv["groups"]):
        if v.strip() == "all":
            serves[i, :] = True
        else:
            for it in v.split(";"):
                it = it.strip()
                if it in gids:
                    serves[i, gids.index(it)] = True
    inst = parsed["instance"]
    empty = {spec.name: Table(spec.name, {c.name: _default_column(c, 0) for c in spec.columns})
             for spec in TABLES}
    return Instance(
        name=str(inst["name"]),
        year=int(parsed["year"]),
        currency=str(inst["currency"]),
        description=str(inst.get("description", "")),
        objective=parsed["objective"],
        groups=tuple(groups),
        staff_types=tuple(parsed["staff_types"]),
        costs=parsed["costs"],
        stated=parsed["stated"],
        clauses=tuple(sorted(parsed["clauses"], key=lambda c: c.id)),
        stations=st,
        residents=residents,
        services=sv,
        serves=serves,
        departments=tables["departments"] or empty["departments"],
        packages=tables["packages"] or empty["packages"],
        staff=tables["staff"] or empty["staff"],
        travel=tables["travel"],
        settings=json.dumps(src.settings),
    )


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def _frames(instance: Instance) -> dict[str, pd.DataFrame]:
    gids = instance.group_ids
    s_idx, g_idx = np.nonzero(instance.residents)
    groups = pd.DataFrame({
        "station_id": instance.stations["station_id"][s_idx],
        "group": np.asarray(gids, dtype=object)[g_idx] if len(gids) else np.array([], dtype=object),
        "residents": instance.residents[s_idx, g_idx],
    })
    out = {
        "stations": instance.stations.to_frame(),
        "groups": groups,
        "services": instance.services.to_frame(),
        "departments": instance.departments.to_frame(),
        "packages": instance.packages.to_frame(),
        "staff": instance.staff.to_frame(),
    }
    if instance.travel is not None:
        out["travel"] = instance.travel.to_frame()
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == bool:
            df[c] = np.where(df[c], "true", "false")
    return df


def write_folder(instance: Instance, path: str | os.PathLike[str]) -> None:
    """Write ``instance`` as a folder: instance.toml and one CSV per table."""
    import tomli_w

    def fill(tmp: Path) -> None:
        (tmp / TOML_FILE).write_text(tomli_w.dumps(instance.settings_dict()), encoding="utf-8")
        for name, df in _frames(instance).items():
            _csv_frame(df).to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")

    write_dir_atomically(path, fill)


def write_xlsx(instance: Instance, path: str | os.PathLike[str]) -> None:
    """Write ``instance`` as one workbook: a policy sheet and one sheet per table."""
    import openpyxl

    target = Path(path).resolve()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = POLICY_SHEET
    ws.append(["key", "value"])
    for k, v in _flatten(instance.settings_dict()):
        ws.append([k, v])
    for name, df in _frames(instance).items():
        sh = wb.create_sheet(name)
        sh.append(list(df.columns))
        for row in df.itertuples(index=False):
            sh.append([_py(v) for v in row])
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _py(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def convert(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Instance:
    """Convert between the folder and workbook forms (chosen by ``dst``'s suffix)."""
    instance = load(src)
    if str(dst).lower().endswith(".xlsx"):
        write_xlsx(instance, dst)
    else:
        write_folder(instance, dst)
    return instance


__all__ = ["InstanceError", "check", "convert", "load", "write_folder", "write_xlsx", "TABLE_BY_NAME"]
