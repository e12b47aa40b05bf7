"""Build -> solve -> :class:`Plan`: the station model of an instance, monolithic or decomposed."""

from __future__ import annotations

import os
import platform
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator import __version__
from allocator.instance import Instance, instance_hash
from allocator.outcome import Outcome
from allocator.station.builder import build
from allocator.station.plan import Plan
from allocator.station.tables import plan_summary, plan_tables
from solvers import Deadline, SolveOptions, get_backend

DEFAULT_GAP = 0.01

# ``method="auto"`` decomposes from this many stations on (the monolithic MIP is faster below it).
AUTO_DECOMPOSE_STATIONS = 2000
METHODS = ("monolithic", "decompose", "auto")


def choose_method(instance: Instance, method: str) -> str:
    """``monolithic`` or ``decompose``: ``auto`` by the number of stations."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if method == "auto":
        return "decompose" if len(instance.stations) >= AUTO_DECOMPOSE_STATIONS else "monolithic"
    return method


def solve_instance(instance: Instance, solver: str = "highs", options: SolveOptions | None = None,
                   strict: bool = False, drop: frozenset[tuple[str, str]] = frozenset(),
                   method: str = "monolithic", decompose: Any = None,
                   export: str | os.PathLike[str] | None = None) -> Plan:
    """Build and solve the station model of ``instance`` and return its :class:`Plan`.

    Parameters
    ----------
    instance : Instance
    solver : str
        Backend name (the whole model, or each batch when decomposing).
    options : SolveOptions
        Time limit, gap asked, threads, seed.
    strict : bool
        Every clause hard.
    drop : frozenset of (clause id, family)
        Families left out (rule prices).
    method : str
        ``monolithic`` (one MIP), ``decompose`` (:mod:`allocator.decompose`) or ``auto``.
    decompose : DecomposeOptions, optional
        Batch size, workers and Dask address of the decomposition.
    export : path, optional
        Also write the model built (``.mps`` or ``.lp``, with row and column names) before solving it.
    """
    options = options or SolveOptions(mip_gap=DEFAULT_GAP)
    if options.deadline is None and options.time_limit is not None:  # the limit covers the build too
        options = replace(options, deadline=Deadline.start(options.time_limit))
    # Names double the build time at national scale and only an exported model reads them.
    model = build(instance, strict=strict, drop=drop, names=export is not None)
    if export is not None:
        # HiGHS writes both formats with the names; the model written is the one solved.
        get_backend("highs").write(model.problem, Path(export))  # type: ignore[attr-defined]
    chosen = choose_method(instance, method)
    if chosen == "decompose":
        from allocator.decompose import solve_decomposed

        result = solve_decomposed(model, np.asarray(instance.stations["county"], dtype=str),
                                  options.within_deadline(), solver, decompose).to_solver_result()
    else:
        result = get_backend(solver).solve(model.problem, options)
    manifest = {
        "engine": "allocator", "engine_version": __version__, "instance": instance.name,
        "instance_hash": instance_hash(instance), "solver": solver, "solver_version": result.solver_version,
        "options": {"time_limit": options.time_limit, "gap": options.mip_gap, "threads": options.threads,
                    "seed": options.seed, "strict": strict, "method": chosen},
        "python": platform.python_version(),
        "model": {"rows": model.problem.num_rows, "columns": model.problem.num_cols,
                  "integer_columns": int(model.problem.integrality.sum()), "nonzeros": int(model.problem.A.nnz)},
    }
    tables: dict[str, pd.DataFrame] = {}
    summary: dict[str, Any] = {}
    if result.status.has_solution and result.x is not None:
        tables = plan_tables(instance, model, result.x)
        summary = plan_summary(instance, tables)
    summary.update({"status": result.status.value, "objective": result.objective, "bound": result.bound,
                    "gap": result.gap, "solver": solver,
                    "message": result.message, "strict": strict, "notes": list(model.notes), "method": chosen})
    if chosen == "decompose":
        summary["decomposition"] = {k: result.extra[k] for k in ("batches", "coupling_rows", "history")
                                    if k in result.extra}
    outcome = Outcome(result.status, result.objective, result.bound, result.gap, solver, result.seconds,
                      result.message)
    return Plan(outcome, result.solver_version, tables, summary, manifest)
