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

Modules: :mod:`~allocator.sweep.scenarios` (scenario files), :mod:`~allocator.sweep.worker` (one scenario),
:mod:`~allocator.sweep.results` (the tables), :mod:`~allocator.sweep.runner` (the sweep on an
:class:`allocator.executor.Executor`, and its report).
"""

from allocator.sweep.results import (
    FLOAT_COLUMNS,
    INT_COLUMNS,
    RESULTS_CSV,
    RESULTS_PARQUET,
    read_results_csv,
    results_table,
    write_parquet,
)
from allocator.sweep.runner import MANIFEST, SweepError, SweepReport, _Progress, format_report, run_sweep
from allocator.sweep.scenarios import (
    MAX_GRID,
    Scenario,
    ScenarioFileError,
    format_value,
    grid_name,
    load_scenarios,
    parameter_keys,
)
from allocator.sweep.worker import MONEY_KEYS, RESULT_COLUMNS, SweepOptions, run_scenario

__all__ = [
    "FLOAT_COLUMNS",
    "INT_COLUMNS",
    "MANIFEST",
    "MAX_GRID",
    "MONEY_KEYS",
    "RESULTS_CSV",
    "RESULTS_PARQUET",
    "RESULT_COLUMNS",
    "Scenario",
    "ScenarioFileError",
    "SweepError",
    "SweepOptions",
    "SweepReport",
    "_Progress",
    "format_report",
    "format_value",
    "grid_name",
    "load_scenarios",
    "parameter_keys",
    "read_results_csv",
    "results_table",
    "run_scenario",
    "run_sweep",
    "write_parquet",
]
