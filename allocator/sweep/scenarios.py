"""Scenario files: named ``[[scenario]]`` entries, a ``[grid]`` (TOML) or a CSV, checked before anything runs."""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.instance import BY_ID, InputIssue
from allocator.scenario import SECTIONS, parse_value

MAX_GRID = 1_000_000


@dataclass(frozen=True)
class Scenario:
    """One scenario: a unique name and the changes applied to the instance.

    Parameters
    ----------
    name : str
        Unique within the sweep; grid points are named ``KEY=VALUE|KEY=VALUE``.
    changes : dict
        ``{"A-SPLIT.salaries": 0.3, ...}`` as :func:`allocator.scenario.apply_changes` takes them.
    """

    name: str
    changes: dict[str, Any] = field(default_factory=dict)


class ScenarioFileError(Exception):
    """A scenarios file that cannot be used; ``issues`` name the file, row or key and the rule broken."""

    def __init__(self, issues: list[InputIssue]):
        self.issues = issues
        n = len(issues)
        super().__init__(f"{n} error{'s' if n != 1 else ''} in the scenarios file:\n" + "\n".join(map(str, issues)))



def format_value(value: Any) -> str:
    """The text of a change value in names and CSV cells: ``true``, ``16``, ``0.3``, text as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def grid_name(changes: dict[str, Any]) -> str:
    """The deterministic name of a grid point: ``A-SPLIT.salaries=0.3|A-STAFF-DENSITY.per_10k=16``."""
    return "|".join(f"{k}={format_value(v)}" for k, v in changes.items())


class _Checker:
    """Collects the issues of one scenarios file."""

    def __init__(self, file: str):
        self.file = file
        self.issues: list[InputIssue] = []

    def add(self, where: str | None, value: Any, rule: str, message: str, row: int | None = None) -> None:
        shown = None if value is None else str(value)
        self.issues.append(InputIssue(self.file, row, where, shown, rule, message))

    def key(self, key: str, where: str, row: int | None = None) -> bool:
        parts = key.split(".")
        if len(parts) < 2 or not all(p.strip() for p in parts):
            self.add(where, key, "bad_key", "a key is CLAUSE.FIELD (A-SPLIT.salaries), CLAUSE.FIELD.YEAR or "
                     "SECTION.FIELD (objective.equity_weight)", row)
            return False
        if parts[0] not in SECTIONS and parts[0] not in BY_ID:
            self.add(where, key, "unknown_key", f"{parts[0]!r} is not a clause id of POLICY.md nor a section "
                     f"({', '.join(SECTIONS)})", row)
            return False
        return True

    def value(self, value: Any, where: str, row: int | None = None) -> bool:
        if isinstance(value, bool | int | str):
            if isinstance(value, str) and any(ord(ch) < 32 for ch in value):
                self.add(where, repr(value), "bad_value", "text values must be one line", row)
                return False
            return True
        if isinstance(value, float):
            if not math.isfinite(value):
                self.add(where, value, "bad_value", "a number must be finite", row)
                return False
            return True
        self.add(where, repr(value), "bad_value", "a change is one value: true/false, a number or text", row)
        return False

    def name(self, name: Any, where: str, row: int | None = None) -> str | None:
        if not isinstance(name, str) or not name.strip():
            self.add(where, None if name is None else repr(name), "missing_name",
                     "every scenario needs a non-empty name (text)", row)
            return None
        if any(ord(ch) < 32 for ch in name):
            self.add(where, repr(name), "bad_name", "a name must be one line of text", row)
            return None
        return name.strip()


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested TOML tables to dotted keys (``set.A-SPLIT.salaries = 0.3`` -> ``A-SPLIT.salaries``)."""
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out += _flatten(v, key + ".")
        else:
            out.append((key, v))
    return out


def _changes(ck: _Checker, table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        ck.add(where, repr(table), "bad_type", 'changes are a table: set = {"A-SPLIT.salaries" = 0.3}')
        return {}
    out: dict[str, Any] = {}
    for key, value in _flatten(table):
        at = f'{where}."{key}"'
        if key in out:
            ck.add(at, value, "duplicate_key", "the same key is given twice")
        elif ck.key(key, at) and ck.value(value, at):
            out[key] = value
    return out


Found = list[tuple[Scenario, str, int | None]]  # a scenario, where it is defined (key, row)


def _toml_scenarios(ck: _Checker, data: dict[str, Any]) -> Found:
    found: Found = []
    for top, content in data.items():
        if top == "scenario":
            if not isinstance(content, list) or not all(isinstance(s, dict) for s in content):
                ck.add("scenario", None, "bad_type", "scenarios are an array of tables: [[scenario]]")
                continue
            for i, s in enumerate(content, start=1):
                where = f"scenario[{i}]"
                for k in s:
                    if k not in ("name", "set", "note"):
                        ck.add(f"{where}.{k}", None, "unknown_key", "a [[scenario]] has name, set and note")
                name = ck.name(s.get("name"), f"{where}.name")
                changes = _changes(ck, s.get("set", {}), f"{where}.set")
                if name is not None:
                    found.append((Scenario(name, changes), f"{where}.name", None))
        elif top == "grid":
            found += _toml_grid(ck, content)
        else:
            ck.add(top, None, "unknown_key", "a scenarios file has [[scenario]] entries and/or a [grid]")
    return found


def _toml_grid(ck: _Checker, grid: Any) -> Found:
    if not isinstance(grid, dict):
        ck.add("grid", None, "bad_type", '[grid] is a table of "KEY" = [values]')
        return []
    fixed = _changes(ck, grid.get("fixed", {}), "grid.fixed")
    axes: list[tuple[list[str], list[tuple[Any, ...]]]] = []
    seen: set[str] = set(fixed)
    for key, values in _flatten({k: v for k, v in grid.items() if k != "fixed"}):
        where = f'grid."{key}"'
        keys = [k.strip() for k in key.split(",")]
        ok = all([ck.key(k, where) for k in keys])
        for k in keys:
            if k in seen:
                ck.add(where, k, "duplicate_key", "a key is an axis of the grid once, and not also in [grid.fixed]")
                ok = False
            seen.add(k)
        if not isinstance(values, list) or not values:
            ck.add(where, repr(values), "bad_type", "a grid axis is a non-empty array of values")
            continue
        points: list[tuple[Any, ...]] = []
        for j, v in enumerate(values, start=1):
            at = f"{where}[{j}]"
            if len(keys) > 1:
                if not isinstance(v, list) or len(v) != len(keys):
                    ck.add(at, repr(v), "bad_value", f"an axis of {len(keys)} linked keys takes arrays of "
                           f"{len(keys)} values (one per key, in order)")
                    ok = False
                    continue
                vals = tuple(v)
            else:
                vals = (v,)
            if all([ck.value(x, at) for x in vals]):
                points.append(vals)
            else:
                ok = False
        if ok:
            axes.append((keys, points))
    if not axes:
        if not any(i.column and i.column.startswith("grid") for i in ck.issues):
            ck.add("grid", None, "empty_grid", 'a [grid] needs at least one "KEY" = [values] axis')
        return []
    size = math.prod(len(p) for _, p in axes)
    if size > MAX_GRID:
        ck.add("grid", size, "grid_too_large", f"the grid has {size:,} points; at most {MAX_GRID:,}")
        return []
    out: Found = []
    for combo in itertools.product(*(p for _, p in axes)):
        point: dict[str, Any] = {}
        for (keys, _), vals in zip(axes, combo, strict=True):
            point.update(zip(keys, vals, strict=True))
        out.append((Scenario(grid_name(point), {**fixed, **point}), "grid", None))
    return out


def _csv_scenarios(ck: _Checker, text: str) -> Found:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True, strict=True))
    except csv.Error as exc:
        ck.add(None, None, "csv_syntax", f"cannot be read as CSV: {exc}")
        return []
    if not rows:
        ck.add(None, None, "no_scenarios", "the file is empty: a header with name and one column per key")
        return []
    header = [h.strip() for h in rows[0]]
    if "name" not in header:
        ck.add("name", None, "missing_column", "a scenarios CSV has a name column", row=1)
        return []
    good_cols: dict[int, str] = {}
    for j, h in enumerate(header):
        if header.index(h) != j:
            ck.add(h, None, "duplicate_column", "the column appears twice", row=1)
        elif h != "name" and ck.key(h, h, row=1):
            good_cols[j] = h
    iname = header.index("name")
    out: Found = []
    for r, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            ck.add(None, None, "csv_syntax", f"{len(cells)} fields, the header has {len(header)}", row=r)
            continue
        name = ck.name(cells[iname], "name", row=r)
        changes: dict[str, Any] = {}
        for j, key in good_cols.items():
            cell = cells[j].strip()
            if cell == "":
                continue
            value = parse_value(cell)
            if ck.value(value, key, row=r):
                changes[key] = value
        if name is not None:
            out.append((Scenario(name, changes), "name", r))
    return out


def load_scenarios(path: str | os.PathLike[str]) -> list[Scenario]:
    """Read the scenarios of a ``.toml`` or ``.csv`` file, checked before anything runs.

    TOML: ``[[scenario]]`` entries (``name = "..."``, ``set = {"A-SPLIT.salaries" = 0.3}``) and/or a
    ``[grid]`` of ``"KEY" = [v1, v2, ...]`` axes (cartesian product, first axis slowest, points named
    ``KEY=VALUE|KEY=VALUE``); ``"KEY1,KEY2" = [[a1, b1], [a2, b2]]`` is one axis of linked keys
    (shares that must keep summing to 1), and ``[grid.fixed]`` changes apply to every grid point.
    CSV: a ``name`` column plus one column per key; a blank cell leaves the figure unchanged.

    Parameters
    ----------
    path : path-like
        The scenarios file.

    Returns
    -------
    list of Scenario
        In file order; names are unique.

    Raises
    ------
    ScenarioFileError
        Listing every problem with the file, the row or key, and the rule broken.
    """
    p = Path(path)
    ck = _Checker(p.name)
    suffix = p.suffix.lower()
    if not p.is_file():
        ck.add(None, str(p), "missing_file", "no such file")
        raise ScenarioFileError(ck.issues)
    if suffix not in (".toml", ".csv"):
        ck.add(None, p.suffix, "bad_suffix", "a scenarios file is .toml or .csv")
        raise ScenarioFileError(ck.issues)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        ck.add(None, None, "encoding", f"not UTF-8 text ({exc.reason})")
        raise ScenarioFileError(ck.issues) from None
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            ck.add(None, None, "toml_syntax", f"not valid TOML: {exc}")
            raise ScenarioFileError(ck.issues) from None
        found = _toml_scenarios(ck, data)
    else:
        found = _csv_scenarios(ck, text)
    first: dict[str, str] = {}
    for s, where, row in found:
        if s.name in first:
            ck.add(where, s.name, "duplicate_name", f"the name is already used by {first[s.name]}", row)
        else:
            first[s.name] = where if row is None else f"row {row}"
    if not found and not ck.issues:
        ck.add(None, None, "no_scenarios", "no scenario in the file ([[scenario]] entries or a [grid])")
    if ck.issues:
        raise ScenarioFileError(ck.issues)
    return [s for s, _, _ in found]


def parameter_keys(scenarios: list[Scenario]) -> list[str]:
    """The change keys of a sweep (the parameter columns of its tables), in order of first appearance."""
    keys: dict[str, None] = {}
    for s in scenarios:
        keys.update(dict.fromkeys(s.changes))
    return list(keys)

