"""The sweep itself: scenarios not yet in ``results.csv`` run on an :class:`allocator.executor.Executor`,
rows written as they finish, the parquet once every scenario has a row."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from allocator.executor import Executor, ExecutorError
from allocator.sweep.results import (
    RESULTS_CSV,
    RESULTS_PARQUET,
    _cell,
    _csv_line,
    read_results_csv,
    write_parquet,
)
from allocator.sweep.scenarios import Scenario, parameter_keys
from allocator.sweep.worker import RESULT_COLUMNS, SweepOptions, _one_line, run_scenario

MANIFEST = "sweep.json"


class SweepError(Exception):
    """A sweep that cannot start as asked (e.g. ``DIR`` holds results of other options)."""


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
    errors : dict
        Every scenario of the set in ``results.csv`` with status ``invalid`` or ``error`` ->
        ``(status, error)`` (rows of earlier runs included).
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
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every scenario of the set has a row."""
        return not self.lost

    @property
    def invalid(self) -> dict[str, str]:
        """Scenarios of the set whose changes break a rule (status ``invalid``) -> the error."""
        return {n: e for n, (st, e) in self.errors.items() if st == "invalid"}

    @property
    def errored(self) -> dict[str, str]:
        """Scenarios of the set whose solve failed (status ``error``) -> the error."""
        return {n: e for n, (st, e) in self.errors.items() if st == "error"}


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
    if dask is not None:  # reach the scheduler first: a wrong address fails in seconds, before any work
        try:
            executor = Executor(1, dask)
        except ExecutorError as exc:
            raise SweepError(str(exc)) from None
    with _locked(folder):
        try:
            done = _resume(folder, path, opts, keys, header, scenarios)
        except BaseException:
            if dask is not None:
                executor.close()
            raise
        todo = [s for s in scenarios if s.name not in done]
        skipped = [s.name for s in scenarios if s.name in done]
        if dask is None:
            n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
            executor = Executor(1 if len(todo) <= 1 else min(n_workers, len(todo)))
        bar = _Progress(len(scenarios), sys.stderr.isatty() if progress is None else progress, base=len(skipped))
        try:
            outcomes = executor.as_completed(run_scenario, [(s.name, (path, s.name, s.changes, opts)) for s in todo])
            ran, failed, lost = _write_rows(csv_path, header, keys, {s.name: s for s in scenarios}, outcomes, bar,
                                            len(skipped))
        finally:
            executor.close()
        header_now, rows = read_results_csv(csv_path)
        i_status, i_error = header_now.index("status"), header_now.index("error")
        recorded = {r[0]: (r[i_status], r[i_error]) for r in rows}
        if all(n in recorded for n in names):
            write_parquet(csv_path, parquet_path)
    errors = {n: recorded[n] for n in names if n in recorded and recorded[n][0] in ("invalid", "error")}
    return SweepReport(len(scenarios), ran, skipped, failed, lost,
                       Counter(recorded[n][0] for n in names if n in recorded), time.perf_counter() - started,
                       executor.label, csv_path, parquet_path, errors)


def _resume(folder: Path, path: str, opts: dict[str, Any], keys: list[str], header: list[str],
            scenarios: list[Scenario]) -> dict[str, list[str]]:
    """Check ``folder`` holds this sweep (or nothing), record the manifest; the rows already done."""
    from allocator.instance import instance_hash, load

    csv_path = folder / RESULTS_CSV
    manifest = {"instance": path, "instance_hash": instance_hash(load(path)), "options": opts, "parameters": keys}
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
    return done


def _write_rows(csv_path: Path, header: list[str], keys: list[str], by_name: dict[str, Scenario],
                outcomes: Iterator[tuple[Any, Any, BaseException | None]], bar: _Progress, skipped: int
                ) -> tuple[list[str], list[str], dict[str, str]]:
    """Append one row per finished scenario (flushed); names run, failed, and lost to the executor."""
    ran: list[str] = []
    failed: list[str] = []
    lost: dict[str, str] = {}
    new_file = not csv_path.exists() or csv_path.stat().st_size == 0
    try:
        with open(csv_path, "a", encoding="utf-8", newline="") as fh:
            if new_file:
                fh.write(_csv_line(header))
                fh.flush()
            bar.update(skipped, 0, force=True)
            for name, row, exc in outcomes:
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
                bar.update(skipped + len(ran) + len(lost), len(failed))
    finally:
        with contextlib.suppress(Exception):
            outcomes.close()  # type: ignore[attr-defined]
        bar.close()
    return ran, failed, lost


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
    invalid = report.invalid
    if invalid:
        every = len(invalid) == report.total
        lines.append(f"{'every' if every else f'{len(invalid)} of {report.total}'} scenario(s) invalid "
                     "(their changes break a rule; no plan):")
        lines += [f"  {name}: {err}" for name, err in invalid.items()]
    return "\n".join(lines)
