"""Build -> solve -> :class:`Plan`: the station model of an instance, monolithic or decomposed."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator import __version__
from allocator.instance import Instance, instance_hash
from allocator.outcome import Outcome
from allocator.station.builder import Model, build
from allocator.station.objective import (
    MODES,
    combined_status,
    deviation_columns,
    objective_parts,
    quality,
    solve_lexicographic,
    stage_record,
)
from allocator.station.plan import Plan
from allocator.station.stability import Baseline, add_baseline, changes_summary, changes_table
from allocator.station.tables import plan_summary, plan_tables
from solvers import Deadline, Feature, SolveOptions, SolverResult, get_backend

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



def _method_for(instance: Instance, method: str, mode: str, with_baseline: bool) -> str:
    """The method a solve uses: ``monolithic`` or ``decompose``; ValueError where the asked one cannot apply."""
    if instance.horizon is not None:
        if method == "decompose":
            raise ValueError(f"{instance.name}: a horizon instance (years {list(instance.years)}) is solved as one "
                             "model; --method decompose takes one-year instances only")
        if mode == "lexicographic" or with_baseline:
            raise ValueError(f"{instance.name}: a horizon instance (years {list(instance.years)}) is solved with "
                             "the weighted objective and without --baseline (lexicographic stages and baseline "
                             "prices take one-year instances)")
        return "monolithic"  # the years are linked in every row block: no county batches to solve apart
    chosen = choose_method(instance, method)
    if chosen == "decompose" and (mode == "lexicographic" or with_baseline):
        if method == "decompose":
            raise ValueError("the decomposition solves the weighted objective without a baseline; "
                             "use --method monolithic with --objective lexicographic or --baseline")
        chosen = "monolithic"
    return chosen

def solve_instance(instance: Instance, solver: str = "highs", options: SolveOptions | None = None,
                   strict: bool = False, drop: frozenset[tuple[str, str]] = frozenset(),
                   method: str = "monolithic", decompose: Any = None,
                   export: str | os.PathLike[str] | None = None, objective: str | None = None,
                   baseline: Plan | None = None) -> Plan:
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
    objective : str, optional
        ``weighted`` or ``lexicographic`` (:mod:`allocator.station.objective`); default the instance's
        ``[objective] mode``.  Lexicographic and baseline solves are monolithic.
    baseline : Plan, optional
        Last year's plan: changes against it are priced and limited (:mod:`allocator.station.stability`)
        and listed in ``changes.csv``.
    """
    options = options or SolveOptions(mip_gap=DEFAULT_GAP)
    if options.deadline is None and options.time_limit is not None:  # the limit covers the build too
        options = replace(options, deadline=Deadline.start(options.time_limit))
    mode = objective or instance.objective.mode
    if mode not in MODES:
        raise ValueError(f"unknown objective mode {mode!r}; known: {', '.join(MODES)}")
    horizon = instance.horizon is not None
    chosen = _method_for(instance, method, mode, baseline is not None)
    # Names double the build time at national scale and only an exported model reads them.
    if horizon:
        from allocator.station.horizon import build_horizon
        from allocator.station.path_tables import horizon_summary, horizon_tables

        model: Model = build_horizon(instance, strict=strict, drop=drop, names=export is not None)
    else:
        model = build(instance, strict=strict, drop=drop, names=export is not None)
    problem = model.problem
    base = stab = None
    if baseline is not None:
        base = Baseline.of(instance, baseline)
        problem, stab = add_baseline(instance, model, problem, base)
    if export is not None:
        # HiGHS writes both formats with the names; the model written is the one solved (stage 1 and 2
        # of a lexicographic solve differ only in their objective and the held row).
        get_backend("highs").write(problem, Path(export))  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    record: dict[str, Any] = {}
    if chosen == "decompose":
        from allocator.decompose import solve_decomposed

        result = solve_decomposed(model, np.asarray(instance.stations["county"], dtype=str),
                                  options.within_deadline(), solver, decompose).to_solver_result()
    elif mode == "lexicographic":
        obj = instance.objective
        result, record, _ = solve_lexicographic(problem, deviation_columns(model), get_backend(solver), options,
                                                obj.deviation_tolerance, obj.deviation_tolerance_abs)
    elif horizon and get_backend(solver).supports(Feature.MIP_START):
        result = _solve_horizon(instance, model, problem, solver, options)
    else:
        result = get_backend(solver).solve(problem, options)
    wall = time.perf_counter() - t0
    manifest = _manifest(instance, solver, result.solver_version, options, strict, chosen, mode, problem)
    tables: dict[str, pd.DataFrame] = {}
    summary: dict[str, Any] = {}
    status, value, bound, gap = result.status, result.objective, result.bound, result.gap
    if mode == "lexicographic":
        status = combined_status(record["stages"])
        bound = gap = None  # the weighted objective's bound is not sought in this mode
    if result.status.has_solution and result.x is not None:
        x = result.x
        if horizon:
            tables = horizon_tables(instance, model, x)  # type: ignore[arg-type]
            summary = horizon_summary(instance, tables)
        else:
            tables = plan_tables(instance, model, x[:model.problem.num_cols])
            summary = plan_summary(instance, tables)
            extra = {"stability": stab.all()} if stab is not None else None
            parts = objective_parts(instance, model, problem.c, x, extra, problem.offset)
            value = parts["total"] if mode == "lexicographic" else value
            summary["objective_parts"] = parts
            need = parts["need_covered"]["weighted"]
            if mode == "weighted":
                record = {"stages": [stage_record("weighted", "weighted need covered less every penalty x "
                                                  "deviation (with the equity term, money price, tie-breaks, "
                                                  "baseline prices)", result, wall, need)]}
            else:
                record["stages"][-1] = {**record["stages"][-1], **stage_record(
                    "2", record["stages"][-1]["objective_terms"], result, record["stages"][-1]["seconds"], need)}
            if base is not None and stab is not None:
                tables["changes"] = changes_table(instance, tables, base)
                summary["baseline"] = changes_summary(instance, tables["changes"], parts["stability"])
    summary.update({"status": status.value, "objective": value, "bound": bound, "gap": gap, "solver": solver,
                    "message": result.message, "strict": strict, "notes": list(model.notes), "method": chosen,
                    "objective_mode": mode, "quality": quality(status, gap if mode == "weighted" else None)})
    _record_stages(summary, manifest, record, mode)
    if "search" in result.extra:  # a horizon's search (horizon_search): each sub-problem and the plan after it
        summary["search"] = result.extra["search"]
    if chosen == "decompose":
        summary["decomposition"] = {k: result.extra[k] for k in ("batches", "coupling_rows", "history")
                                    if k in result.extra}
    outcome = Outcome(status, value, bound, gap, solver, result.seconds if mode == "weighted" else wall,
                      result.message)
    return Plan(outcome, result.solver_version, tables, summary, manifest)


def _solve_horizon(instance: Instance, model: Model, problem: Any, solver: str,
                   options: SolveOptions) -> SolverResult:
    """A horizon model by relax-and-fix and neighbourhood search (:mod:`allocator.station.horizon_search`);
    the whole MIP, as for one year, when that finds no first plan."""
    from allocator.station.horizon_search import neighbourhoods, solve_by_search

    backend = get_backend(solver)
    found = solve_by_search(problem, neighbourhoods(model, np.asarray(instance.stations["county"], dtype=str)),
                            backend, options)
    return found if found is not None else backend.solve(problem, options)


def _manifest(instance: Instance, solver: str, solver_version: str, options: SolveOptions, strict: bool,
              method: str, mode: str, problem: Any) -> dict[str, Any]:
    """What a rerun needs to reproduce the plan: engine, instance hash, solver and options, model size."""
    return {
        "engine": "allocator", "engine_version": __version__, "instance": instance.name,
        "instance_hash": instance_hash(instance), "solver": solver, "solver_version": solver_version,
        "options": {"time_limit": options.time_limit, "gap": options.mip_gap, "threads": options.threads,
                    "seed": options.seed, "strict": strict, "method": method, "objective": mode},
        "python": platform.python_version(),
        "model": {"rows": problem.num_rows, "columns": problem.num_cols,
                  "integer_columns": int(problem.integrality.sum()), "nonzeros": int(problem.A.nnz)},
    }


def _record_stages(summary: dict[str, Any], manifest: dict[str, Any], record: dict[str, Any], mode: str) -> None:
    """Each stage's status, bound and gap on its own terms into the summary and the manifest."""
    if record:
        summary["stages"] = record["stages"]
        if "held" in record:
            summary["held"] = record["held"]
        manifest["stages"] = [{k: st[k] for k in ("stage", "status", "objective", "bound", "gap", "seconds")}
                              for st in record["stages"]]
    if mode == "lexicographic" and record.get("stages"):
        summary["quality"] = "; ".join(f"stage {st['stage']} {st['quality']}" for st in record["stages"])
