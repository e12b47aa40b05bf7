"""Scenario sweeps: many what-if changes of one instance, solved on a process pool or a Dask cluster.

A scenario is a name and a set of changes (``{"A-SPLIT.salaries": 0.3, ...}``, the keys of
:func:`allocator.scenario.apply_changes`).  :func:`load_scenarios` reads them from a TOML file
(named ``[[scenario]]`` entries and/or a ``[grid]`` of values, cartesian product) or a CSV file
(a ``name`` column plus one column per key, blank = unchanged).

:func:`run_sweep` submits one call of :func:`run_scenario` per scenario -- the instance *path*, the
scenario's name and changes and a small options dict, never a loaded model -- either to a
``concurrent.futures.ProcessPoolExecutor`` (``forkserver`` or ``spawn``), to a Dask distributed
``Client`` (``--dask ADDRESS``), or runs them in this process (one worker).  Each worker loads the
instance (cached per process), applies the changes, builds and solves the model with one solver
thread and a fixed seed, so a scenario gives the same figures whatever the executor.

Results go one row per scenario to ``DIR/results.csv`` as scenarios finish (append, flush) and,
once every scenario has a row, to ``DIR/results.parquet`` sorted by name, so the table does not
depend on the order of completion.  A rerun with the same ``DIR`` skips the scenarios already in
``results.csv``; ``DIR/sweep.json`` records the instance hash and solve options, and a rerun with
other ones is refused rather than mixing results.  A scenario whose changes break a rule
(status ``invalid``) or whose solve fails (status ``error``) is recorded with its error; the others
go on.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import io
import itertools
import json
import math
import multiprocessing
import os
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from allocator.instance import BY_ID, InputIssue, InstanceError
from allocator.scenario import SECTIONS, parse_value

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
MANIFEST = "sweep.json"
MAX_GRID = 1_000_000
MONEY_KEYS = ("facilities", "salaries", "services", "training", "total")
FLOAT_COLUMNS = ("objective", "bound", "gap", "seconds", "covered", *(f"money_{k}" for k in MONEY_KEYS),
                 "soft_deviation")
INT_COLUMNS = ("staff", "social_workers", "certified", "soft_missed")
#: Result columns after ``name`` and the parameter columns, in this order.
RESULT_COLUMNS = ("status", "objective", "bound", "gap", "seconds", "covered", "staff", "social_workers",
                  "certified", *(f"money_{k}" for k in MONEY_KEYS), "soft_deviation", "soft_missed", "error")


# --------------------------------------------------------------------------------------------------------
# scenario files
# --------------------------------------------------------------------------------------------------------
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


class SweepError(Exception):
    """A sweep that cannot start as asked (e.g. ``DIR`` holds results of other options)."""


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


# --------------------------------------------------------------------------------------------------------
# one scenario (runs in a worker)
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepOptions:
    """Solve options of every scenario of a sweep (one solver thread each; the seed fixes the run).

    Parameters
    ----------
    solver : str
        Backend name (``highs``, ``cbc``, ...).
    mip_gap : float
        Relative gap that counts as optimal.
    time_limit : float or None
        Seconds per scenario; a scenario stopped by it reports ``feasible`` and its gap.
    seed : int
        Solver seed.
    strict : bool
        Every clause hard.
    """

    solver: str = "highs"
    mip_gap: float = 0.01
    time_limit: float | None = None
    seed: int = 0
    strict: bool = False

    def to_dict(self) -> dict[str, Any]:
        """As the plain dict :func:`run_scenario` takes."""
        return asdict(self)


_INSTANCES: dict[tuple[str, int], Any] = {}


def _instance(path: str) -> Any:
    """The instance at ``path``, loaded once per process (reloaded if the files change)."""
    from allocator.instance import load

    p = Path(path)
    files = [p] if p.is_file() else sorted(p.iterdir()) if p.is_dir() else [p]
    stamp = sum(f.stat().st_mtime_ns for f in files if f.exists())
    key = (str(p.resolve()), stamp)
    if key not in _INSTANCES:
        _INSTANCES.clear()
        _INSTANCES[key] = load(p)
    return _INSTANCES[key]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run_scenario(instance_path: str, name: str, changes: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Load the instance, apply ``changes``, solve, and return the scenario's result row.

    The one function every executor runs (process pool, Dask worker, or this process).  It never
    raises for the scenario's own failures: a change that breaks a rule gives status ``invalid``, a
    failed solve status ``error``, each with its message in ``error``.

    Parameters
    ----------
    instance_path : str
        Instance folder or workbook, readable where the function runs.
    name : str
        The scenario's name (returned as is).
    changes : dict
        ``{"A-SPLIT.salaries": 0.3, ...}``.
    options : dict
        :meth:`SweepOptions.to_dict`; the solver always runs one thread.

    Returns
    -------
    dict
        ``name`` and every column of :data:`RESULT_COLUMNS`; figures are None without a plan.
    """
    start = time.perf_counter()
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row["name"] = name
    try:
        from allocator.scenario import apply_changes
        from allocator.station import solve_instance
        from solvers import SolveOptions

        opts = SweepOptions(**options)
        instance = _instance(instance_path)
        try:
            changed = apply_changes(instance, changes)
        except InstanceError as exc:
            row.update(status="invalid", error=_one_line("; ".join(str(i) for i in exc.issues) or str(exc)))
            return row
        except ValueError as exc:
            row.update(status="invalid", error=_one_line(str(exc)))
            return row
        plan = solve_instance(changed, opts.solver, SolveOptions(time_limit=opts.time_limit, mip_gap=opts.mip_gap,
                                                                 threads=1, seed=opts.seed), opts.strict)
        row.update(status=plan.status.value, objective=plan.objective, bound=plan.bound, gap=plan.gap)
        if plan.status.value == "error":
            row["error"] = _one_line(plan.message) or "solver error"
        totals = plan.summary.get("totals")
        if totals:
            row.update(covered=totals["covered"], staff=totals["staff"], social_workers=totals["social_workers"],
                       certified=totals["certified"])
            for k in MONEY_KEYS:
                row[f"money_{k}"] = totals["money"][k]
            devs = plan.summary.get("deviations", [])
            row["soft_deviation"] = round(float(sum(d["total"] for d in devs)), 6)
            row["soft_missed"] = len(devs)
    except Exception as exc:  # the scenario fails, the sweep goes on
        row.update(status="error", error=_one_line(f"{type(exc).__name__}: {exc}"))
    finally:
        row["seconds"] = round(time.perf_counter() - start, 3)
    return row


# --------------------------------------------------------------------------------------------------------
# results files
# --------------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------------------------------------
@dataclass
class SweepReport:
    """What a sweep did.

    Attributes
    ----------
    total : int
        Scenarios in the set.
    ran : list of str
        Names run by this call, in order of completion.
    skipped : list of str
        Names already in ``results.csv`` (not run again).
    failed : list of str
        Names run by this call whose row has an error (status ``invalid`` or ``error``).
    lost : dict
        Names that got no row because the executor failed (worker died, cluster lost) -> the error;
        rerun the same sweep to finish them.
    statuses : collections.Counter
        Status of every scenario in ``results.csv``.
    seconds : float
        Wall-clock time of the call.
    executor : str
        ``in-process``, ``processes(N)`` or ``dask(ADDRESS)``.
    csv_path, parquet_path : pathlib.Path
        The tables (the parquet only exists once every scenario has a row).
    """

    total: int
    ran: list[str]
    skipped: list[str]
    failed: list[str]
    lost: dict[str, str]
    statuses: Counter[str]
    seconds: float
    executor: str
    csv_path: Path
    parquet_path: Path

    @property
    def complete(self) -> bool:
        """Whether every scenario of the set has a row."""
        return not self.lost


class _Progress:
    """A one-line progress bar on a terminal (``\\r`` updates); silent otherwise."""

    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None, width: int = 28, base: int = 0):
        self.total, self.enabled, self.width, self.base = total, enabled, width, base
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, failed: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.1 and done < self.total:
            return
        self.last = now
        frac = done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        elapsed = now - self.start
        ran = done - self.base  # scenarios already done before this run took no time
        eta = elapsed / ran * (self.total - done) if ran > 0 else None
        eta_s = "--:--" if eta is None else f"{int(eta) // 60:d}:{int(eta) % 60:02d}"
        fail = f"  {failed} failed" if failed else ""
        self.stream.write(f"\rsweep {done:>{len(str(self.total))}}/{self.total} [{'#' * filled}"
                          f"{'.' * (self.width - filled)}] {frac:4.0%}{fail}  ETA {eta_s} ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _mp_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


Outcome = tuple[str, dict[str, Any] | None, BaseException | None]


def _in_process(path: str, todo: list[Scenario], opts: dict[str, Any]) -> Iterator[Outcome]:
    for s in todo:
        yield s.name, run_scenario(path, s.name, s.changes, opts), None


def _on_pool(path: str, todo: list[Scenario], opts: dict[str, Any], workers: int) -> Iterator[Outcome]:
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context())
    finished = False
    try:
        futures = {pool.submit(run_scenario, path, s.name, s.changes, opts): s.name for s in todo}
        for fut in cf.as_completed(futures):
            try:
                yield futures[fut], fut.result(), None
            except Exception as exc:  # BrokenProcessPool: the worker died, not the scenario
                yield futures[fut], None, exc
        finished = True
    finally:
        if not finished:  # interrupted: stop the solves under way rather than wait for them
            for proc in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(path: str, todo: list[Scenario], opts: dict[str, Any], address: Any) -> Iterator[Outcome]:
    from distributed import Client, as_completed

    own = not isinstance(address, Client)
    try:
        client = Client(address, timeout="20s") if own else address
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {address}: {_one_line(str(exc))}") from None
    futures: dict[Any, str] = {}
    try:
        for s in todo:
            futures[client.submit(run_scenario, path, s.name, s.changes, opts, pure=False)] = s.name
        for fut in as_completed(list(futures)):
            try:
                yield futures[fut], fut.result(), None
            except Exception as exc:  # KilledWorker, CancelledError, a worker without the package ...
                yield futures[fut], None, exc
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        if own:
            client.close()


def _check_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Refuse a folder holding a sweep of another instance or other solve options."""
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if isinstance(old, dict):
            for k in ("instance_hash", "options"):
                if old.get(k) != manifest[k]:
                    raise SweepError(f"{path.parent} holds a sweep with another {k.replace('_', ' ')} "
                                     f"({old.get(k)} vs {manifest[k]}); use another --out or remove it")


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Refuse a second sweep writing the same folder at the same time (where ``fcntl`` exists)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(folder / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"another sweep is writing {folder}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_sweep(instance_path: str | os.PathLike[str], scenarios: list[Scenario], out: str | os.PathLike[str],
              options: SweepOptions | None = None, workers: int | None = None, dask: Any = None,
              progress: bool | None = None) -> SweepReport:
    """Run every scenario not yet in ``out/results.csv``; write the rows as they finish, then the parquet.

    Parameters
    ----------
    instance_path : path-like
        Instance folder or workbook (Dask workers must be able to read the same path).
    scenarios : list of Scenario
        Unique names (see :func:`load_scenarios`).
    out : path-like
        Results folder; created if missing.  Reusing it resumes the sweep.
    options : SweepOptions, optional
        Solve options of every scenario.
    workers : int, optional
        Worker processes of the local pool (default: CPU count); 1 runs in this process.
    dask : str or distributed.Client, optional
        A Dask scheduler address (or client): run there instead of the local pool.
    progress : bool, optional
        Show a progress bar on stderr; default only when stderr is a terminal.

    Returns
    -------
    SweepReport

    Raises
    ------
    SweepError
        ``out`` holds results of another instance, other options or other parameter columns.
    """
    from allocator.instance import load
    from allocator.station import instance_hash

    started = time.perf_counter()
    options = options or SweepOptions()
    path = str(Path(instance_path).resolve())
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise SweepError("scenario names must be unique")
    keys = parameter_keys(scenarios)
    header = ["name", *keys, *RESULT_COLUMNS]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = folder / RESULTS_CSV, folder / RESULTS_PARQUET
    opts = options.to_dict()
    with _locked(folder):
        manifest = {"instance": path, "instance_hash": instance_hash(load(path)), "options": opts,
                    "parameters": keys}
        _check_manifest(folder / MANIFEST, manifest)
        done: dict[str, list[str]] = {}
        if csv_path.exists() and csv_path.stat().st_size:
            old_header, rows = read_results_csv(csv_path, repair=True)
            if old_header and old_header != header:
                raise SweepError(f"{csv_path} has columns {old_header[:len(old_header) - len(RESULT_COLUMNS)]} but "
                                 f"this sweep has {header[:len(keys) + 1]}; use another --out or remove it")
            done = {r[0]: r for r in rows}
        by_name = {s.name: s for s in scenarios}
        for name, r in done.items():
            s = by_name.get(name)
            if s is not None and r[1:1 + len(keys)] != [_cell(s.changes.get(k)) for k in keys]:
                raise SweepError(f"scenario {name!r} is in {csv_path} with other changes; use another --out")
        _write_manifest(folder / MANIFEST, manifest)
        todo = [s for s in scenarios if s.name not in done]
        skipped = [s.name for s in scenarios if s.name in done]
        n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        if dask is not None:
            executor = f"dask({dask if isinstance(dask, str) else 'client'})"
            outcomes = _on_dask(path, todo, opts, dask)
        elif n_workers == 1 or len(todo) <= 1:
            executor = "in-process"
            outcomes = _in_process(path, todo, opts)
        else:
            n_workers = min(n_workers, len(todo))
            executor = f"processes({n_workers})"
            outcomes = _on_pool(path, todo, opts, n_workers)
        bar = _Progress(len(scenarios), sys.stderr.isatty() if progress is None else progress, base=len(skipped))
        ran: list[str] = []
        failed: list[str] = []
        lost: dict[str, str] = {}
        new_file = not csv_path.exists() or csv_path.stat().st_size == 0
        try:
            with open(csv_path, "a", encoding="utf-8", newline="") as fh:
                if new_file:
                    fh.write(_csv_line(header))
                    fh.flush()
                bar.update(len(skipped), 0, force=True)
                for name, row, exc in outcomes if todo else ():
                    if row is None:
                        lost[name] = _one_line(f"{type(exc).__name__}: {exc}")
                    else:
                        s = by_name[name]
                        cells = [name, *(_cell(s.changes.get(k)) for k in keys),
                                 *(_cell(row.get(c)) for c in RESULT_COLUMNS)]
                        fh.write(_csv_line(cells))
                        fh.flush()
                        ran.append(name)
                        if row.get("error"):
                            failed.append(name)
                    bar.update(len(skipped) + len(ran) + len(lost), len(failed))
        finally:
            with contextlib.suppress(Exception):
                outcomes.close()  # type: ignore[union-attr,attr-defined]
            bar.close()
        header_now, rows = read_results_csv(csv_path)
        recorded = {r[0]: r[header_now.index("status")] for r in rows}
        if all(n in recorded for n in names):
            write_parquet(csv_path, parquet_path)
    return SweepReport(len(scenarios), ran, skipped, failed, lost,
                       Counter(recorded[n] for n in names if n in recorded), time.perf_counter() - started,
                       executor, csv_path, parquet_path)


def format_report(report: SweepReport) -> str:
    """A few lines: what ran, the statuses, what failed and where the tables are.

    Parameters
    ----------
    report : SweepReport
        What :func:`run_sweep` returned.

    Returns
    -------
    str
    """
    ran = len(report.ran)
    rate = f", {ran / report.seconds:.2f} scenarios/s" if ran and report.seconds > 0 else ""
    lines = [f"{report.total} scenarios: {ran} run now ({report.executor}, {report.seconds:.1f} s{rate}), "
             f"{len(report.skipped)} already in {report.csv_path}"]
    if report.statuses:
        lines.append("status: " + ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items())))
    if report.failed:
        shown = ", ".join(report.failed[:5]) + (" ..." if len(report.failed) > 5 else "")
        lines.append(f"{len(report.failed)} failed in this run (see the error column): {shown}")
    if report.lost:
        name, err = next(iter(report.lost.items()))
        lines.append(f"{len(report.lost)} not run (executor failure, e.g. {name}: {err}); run the same command "
                     "again to finish them")
    else:
        lines.append(f"tables: {report.csv_path} and {report.parquet_path}")
    return "\n".join(lines)
