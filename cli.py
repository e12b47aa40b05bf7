"""The ``allocator`` command: parse, call the library, print.

Exit codes
----------
0  success (validate: valid; solve: proven optimal)
1  solve: a plan, but optimality not proven (time limit; gap reported)
2  bad input (files, rows, columns, rules) or bad usage
3  infeasible: no plan satisfies the hard clauses
4  no plan found within the limits
5  unbounded model
6  internal or solver error
7  verify: the plan breaks a clause
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

EXIT_OK, EXIT_FEASIBLE, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_UNBOUNDED, EXIT_ERROR = 0, 1, 2, 3, 4, 5, 6
EXIT_VERIFY_FAILED = 7


def _emit_issues(issues: list[Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"valid": False, "errors": [i.to_dict() for i in issues if i.severity == "error"],
                               "warnings": [i.to_dict() for i in issues if i.severity != "error"]}, indent=2))
    errors = [i for i in issues if i.severity == "error"]
    click.echo(f"{len(errors)} error(s) in the instance:", err=True)
    for i in issues:
        click.echo(f"  {'error' if i.severity == 'error' else 'warning'}: {i}", err=True)


def _load_or_exit(path: str, as_json: bool):  # type: ignore[no-untyped-def]
    from allocator.io import check

    instance, issues = check(path)
    if instance is None:
        _emit_issues(issues, as_json)
        sys.exit(EXIT_INPUT)
    return instance, issues


def _guard(fn: Callable[..., None]) -> Callable[..., None]:
    """No traceback reaches a user: unexpected errors exit 6 with one line."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except (SystemExit, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(141)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # last line of defence
            click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="allocator")
def main() -> None:
    """Allocate social workers, money and department resources to community service stations."""


@main.command()
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Errors and warnings as JSON on stdout.")
@_guard
def validate(path: str, as_json: bool) -> None:
    """Check an instance folder or .xlsx workbook; exit 2 listing every error."""
    instance, issues = _load_or_exit(path, as_json)
    warnings = [i for i in issues if i.severity != "error"]
    if as_json:
        click.echo(json.dumps({"valid": True, "errors": [], "warnings": [w.to_dict() for w in warnings],
                               "stations": instance.num_stations}, indent=2))
    else:
        click.echo(f"{path}: valid ({instance.num_stations} stations, {len(instance.clauses)} clauses)")
        for w in warnings:
            click.echo(f"  warning: {w}", err=True)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON.")
@_guard
def show(path: str, as_json: bool) -> None:
    """Summarise an instance: stations, residents, staff vs targets, budget, clauses."""
    from allocator.report import format_instance_summary, instance_summary

    instance, _ = _load_or_exit(path, as_json)
    summary = instance_summary(instance)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=float))
    else:
        click.echo(format_instance_summary(summary))


@main.command()
@click.argument("source", type=click.Path())
@click.argument("target", type=click.Path())
@_guard
def convert(source: str, target: str) -> None:
    """Convert an instance between folder and .xlsx forms (TARGET's suffix decides)."""
    from allocator.io import write_folder, write_xlsx

    instance, _ = _load_or_exit(source, False)
    if target.lower().endswith(".xlsx"):
        write_xlsx(instance, target)
    else:
        write_folder(instance, target)
    click.echo(f"wrote {target}")


_STATUS_EXIT = {"optimal": EXIT_OK, "feasible": EXIT_FEASIBLE, "infeasible": EXIT_INFEASIBLE,
                "no_solution": EXIT_NO_SOLUTION, "unbounded": EXIT_UNBOUNDED, "error": EXIT_ERROR}


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.option("--solver", default="highs", show_default=True, help="Backend: highs, cbc, ortools, cpsat.")
@click.option("--time-limit", type=float, default=None, help="Seconds; a run stopped by it is never OPTIMAL.")
@click.option("--gap", type=float, default=0.01, show_default=True, help="Relative gap that counts as optimal.")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--strict", is_flag=True, help="Every clause hard, whatever the instance says.")
@click.option("--out", type=click.Path(), default=None, help="Write the plan's tables here (whole or not at all).")
@click.option("--mps", type=click.Path(), default=None, help="Also export the model (.mps or .lp) for other solvers.")
@click.option("--method", type=click.Choice(["monolithic", "decompose", "auto"]), default="auto", show_default=True,
              help="One MIP, or Lagrangian decomposition by county batches (auto: decompose from 2,000 stations).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes for the decomposition's batches.")
@click.option("--dask", "dask_address", metavar="ADDRESS", default=None,
              help="Solve the decomposition's batches on this Dask scheduler.")
@click.option("--batch-size", type=click.IntRange(min=1), default=300, show_default=True,
              help="Stations per decomposition batch (whole counties).")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON on stdout.")
@_guard
def solve(instance_path: str, solver: str, time_limit: float | None, gap: float, threads: int, seed: int,
          strict: bool, out: str | None, mps: str | None, method: str, workers: int, dask_address: str | None,
          batch_size: int, as_json: bool) -> None:
    """Solve the station allocation model of INSTANCE and report the plan."""
    from allocator.plan import format_plan, solve_instance, write_plan
    from solvers import SolveOptions, backend_names

    instance, _ = _load_or_exit(instance_path, as_json)
    if solver not in backend_names():
        click.echo(f"unknown solver {solver!r}; known: {', '.join(backend_names())}", err=True)
        sys.exit(EXIT_INPUT)
    options = SolveOptions(time_limit=time_limit, mip_gap=gap, threads=threads, seed=seed)
    if mps:
        from allocator.model import build
        from solvers import get_backend

        get_backend("highs").write(build(instance, strict=strict).problem, mps)  # type: ignore[attr-defined]
    from allocator.decompose import DecomposeOptions

    plan = solve_instance(instance, solver=solver, options=options, strict=strict, method=method,
                          decompose=DecomposeOptions(batch_size=batch_size, workers=workers, dask=dask_address))
    if out and plan.tables:
        write_plan(plan, out)
    if as_json:
        click.echo(json.dumps({**plan.summary, "manifest": plan.manifest}, indent=2, default=float))
    else:
        click.echo(format_plan(plan, instance))
        if plan.status.value == "infeasible":
            click.echo("No plan satisfies every hard clause. Run without --strict for a plan with the soft "
                       "clauses' deviations sized.", err=True)
        if out and plan.tables:
            click.echo(f"plan written to {out}")
    sys.exit(_STATUS_EXIT[plan.status.value])


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.argument("plan_dir", type=click.Path())
@click.option("--assignment", "assignment_dir", type=click.Path(), default=None,
              help="Also check what `allocator assign --out DIR` wrote for this plan (roster, hires, packages); "
                   "found by itself when PLAN_DIR holds roster.csv.")
@click.option("--json", "as_json", is_flag=True, help="Every check as JSON.")
@_guard
def verify(instance_path: str, plan_dir: str, assignment_dir: str | None, as_json: bool) -> None:
    """Re-check every clause of a written plan with independent arithmetic; exit 7 on any failure."""
    from pathlib import Path

    from allocator.verify import VerifyReport, format_report, verify_assignment, verify_plan

    instance, _ = _load_or_exit(instance_path, as_json)
    report = verify_plan(instance, plan_dir)
    if assignment_dir is None and (Path(plan_dir) / "roster.csv").is_file():
        assignment_dir = plan_dir
    if assignment_dir is not None:
        extra = verify_assignment(instance, plan_dir, assignment_dir)
        report = VerifyReport(report.instance, f"{plan_dir} with assignment {assignment_dir}",
                              report.checks + extra.checks, report.notes + extra.notes)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=float))
    else:
        click.echo(format_report(report))
    sys.exit(EXIT_OK if report.ok else EXIT_VERIFY_FAILED)


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.option("--strict/--as-stated", default=True, show_default=True,
              help="Diagnose with every clause hard (the documents as written), or with the instance's modes.")
@click.option("--time-limit", type=float, default=30.0, show_default=True, help="Seconds for the whole diagnosis.")
@click.option("--no-conflicts", is_flag=True, help="Skip the conflict sets (one solve per clause family).")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@_guard
def diagnose(instance_path: str, strict: bool, time_limit: float, no_conflicts: bool, as_json: bool) -> None:
    """Why is there no plan? Smallest relaxation, alternatives per clause, conflict sets, data issues."""
    from allocator.diagnose import diagnose as run
    from allocator.diagnose import format_diagnosis

    instance, issues = _load_or_exit(instance_path, as_json)
    d = run(instance, strict=strict, time_limit=time_limit, warnings=[i for i in issues if i.severity != "error"],
            find_conflicts=not no_conflicts)
    if as_json:
        click.echo(json.dumps(d.to_dict(), indent=2, default=float))
    else:
        click.echo(format_diagnosis(d))
    sys.exit(EXIT_OK if d.feasible else EXIT_INFEASIBLE)


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.option("--set", "changes", multiple=True, required=True,
              help="CLAUSE.FIELD=VALUE (e.g. A-SPLIT.salaries=0.30); repeat for several.")
@click.option("--solver", default="highs", show_default=True)
@click.option("--gap", type=float, default=0.01, show_default=True)
@click.option("--time-limit", type=float, default=None)
@click.option("--strict", is_flag=True)
@click.option("--out", type=click.Path(), default=None, help="Write the changed plan and diff tables here.")
@click.option("--json", "as_json", is_flag=True)
@_guard
def whatif(instance_path: str, changes: tuple[str, ...], solver: str, gap: float, time_limit: float | None,
           strict: bool, out: str | None, as_json: bool) -> None:
    """Solve the baseline and a changed instance; print what moved, biggest moves first."""
    from allocator.errors import InstanceError
    from allocator.plan import write_plan
    from allocator.scenario import format_whatif, parse_changes
    from allocator.scenario import whatif as run
    from solvers import SolveOptions

    instance, _ = _load_or_exit(instance_path, as_json)
    try:
        parsed = parse_changes(list(changes))
        w = run(instance, parsed, solver, SolveOptions(time_limit=time_limit, mip_gap=gap), strict)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except InstanceError as exc:
        _emit_issues(exc.issues + exc.warnings, as_json)
        sys.exit(EXIT_INPUT)
    if out and w.changed.tables:
        import pandas as pd

        extra = {"diff_totals": w.totals, "diff_clauses": w.clauses, "diff_stations": w.stations}
        plan = w.changed
        write_plan(type(plan)(plan.status, plan.objective, plan.bound, plan.gap, plan.solver, plan.solver_version,
                              plan.seconds, plan.message, {**plan.tables, **{k: pd.DataFrame(v) for k, v in
                                                                             extra.items()}},
                              {**plan.summary, "changes": parsed}, plan.manifest), out)
    if as_json:
        click.echo(json.dumps({"changes": parsed, "totals": w.totals.to_dict(orient="records"),
                               "clauses": w.clauses.to_dict(orient="records"),
                               "stations": w.stations.to_dict(orient="records")}, indent=2, default=str))
    else:
        click.echo(format_whatif(w, parsed))
    sys.exit(_STATUS_EXIT[w.changed.status.value])


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.option("--solver", default="highs", show_default=True)
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=120.0, show_default=True,
              help="Seconds for the whole command; when it runs out, the prices found so far are given.")
@click.option("--json", "as_json", is_flag=True)
@_guard
def prices(instance_path: str, solver: str, time_limit: float, as_json: bool) -> None:
    """What each clause in force costs: objective gain if dropped or relaxed one unit (re-solves)."""
    import dataclasses

    from allocator.scenario import format_prices
    from allocator.scenario import prices as run

    instance, _ = _load_or_exit(instance_path, as_json)
    base, rows = run(instance, solver, time_limit=time_limit)
    if as_json:
        click.echo(json.dumps({"baseline": base.objective, "status": base.status.value,
                               "prices": [dataclasses.asdict(r) for r in rows]}, indent=2, default=float))
    elif base.objective is None:
        click.echo(f"no plan to price: {base.status.value}")
    else:
        click.echo(format_prices(base, rows))
    sys.exit(_STATUS_EXIT[base.status.value])


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.argument("plan_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--solver", default="highs", show_default=True)
@click.option("--max-moves", type=click.IntRange(min=-1), default=0, show_default=True,
              help="Most workers moved to another station; 0 keeps everyone where they are (IN-POST), -1 no limit.")
@click.option("--out", type=click.Path(), default=None,
              help="Write packages, roster, hiring list and assignment.json here (whole or not at all).")
@click.option("--json", "as_json", is_flag=True)
@_guard
def assign(instance_path: str, plan_dir: str, solver: str, max_moves: int, out: str | None, as_json: bool) -> None:
    """Place department packages onto a plan's stations (exact GAP), workers onto its posts (the roster) and
    list the posts left open (the hiring list, F-HIRING, F-LOCAL-HIRE).  Check with
    `allocator verify INSTANCE PLAN_DIR --assignment DIR`."""
    from allocator.assign import (
        assign_packages,
        assignment_summary,
        format_assignment,
        solve_roster,
        write_assignment,
    )
    from allocator.assign._plan_reader import PlanReadError, read_plan  # the lead: allocator.station.read_plan
    from solvers import backend_names

    instance, _ = _load_or_exit(instance_path, as_json)
    if solver not in backend_names():
        click.echo(f"unknown solver {solver!r}; known: {', '.join(backend_names())}", err=True)
        sys.exit(EXIT_INPUT)
    try:
        plan = read_plan(plan_dir)
    except PlanReadError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    res = assign_packages(instance, plan, solver)
    ro = solve_roster(instance, plan, max_moves=None if max_moves < 0 else max_moves, solver=solver)
    if not ro.status.has_solution:
        click.echo(f"Roster: {ro.status.value.upper()}: {ro.message}", err=True)
        sys.exit(_STATUS_EXIT[ro.status.value])
    if out:
        write_assignment(res, ro, out)
    if as_json:
        click.echo(json.dumps(assignment_summary(res, ro), indent=2, default=float))
    else:
        click.echo(format_assignment(res, ro, out))
    sys.exit(max(_STATUS_EXIT[res.status.value], _STATUS_EXIT[ro.status.value]))


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.argument("scenarios_path", metavar="SCENARIOS", type=click.Path())
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: the CPU count); 1 runs the scenarios in this process.")
@click.option("--dask", "dask_address", metavar="ADDRESS", default=None,
              help="Run on this Dask scheduler (tcp://host:8786) instead; its workers need this package and "
                   "the INSTANCE path.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Results folder (default: sweep-<SCENARIOS name>); the same folder again resumes the sweep.")
@click.option("--solver", default="highs", show_default=True)
@click.option("--gap", type=float, default=0.01, show_default=True, help="Relative gap that counts as optimal.")
@click.option("--time-limit", type=float, default=None, help="Seconds per scenario.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--strict", is_flag=True, help="Every clause hard, whatever the instance says.")
@_guard
def sweep(instance_path: str, scenarios_path: str, workers: int | None, dask_address: str | None, out: str | None,
          solver: str, gap: float, time_limit: float | None, seed: int, strict: bool) -> None:
    """Solve every scenario of SCENARIOS (TOML or CSV: named changes or a grid) on INSTANCE; resumable.

    One row per scenario goes to DIR/results.csv as it finishes, and DIR/results.parquet (sorted by name)
    is written once every scenario has a row.  Exit 0 when every scenario has a plan row; 2 on a bad scenarios
    file, a DIR holding another sweep, an unreachable --dask scheduler, or when any scenario is invalid (its
    changes break a rule: all of them, or some -- the others keep their rows; each invalid one is listed with
    its error); 6 when some could not be run (run the same command again to finish them) or a solve failed.
    """
    from pathlib import Path

    from allocator.sweep import (
        ScenarioFileError,
        SweepError,
        SweepOptions,
        format_report,
        load_scenarios,
        run_sweep,
    )
    from solvers import backend_names

    _load_or_exit(instance_path, False)
    if solver not in backend_names():
        click.echo(f"unknown solver {solver!r}; known: {', '.join(backend_names())}", err=True)
        sys.exit(EXIT_INPUT)
    try:
        scenarios = load_scenarios(scenarios_path)
    except ScenarioFileError as exc:
        click.echo(f"{len(exc.issues)} error(s) in the scenarios file:", err=True)
        for i in exc.issues:
            click.echo(f"  error: {i}", err=True)
        sys.exit(EXIT_INPUT)
    options = SweepOptions(solver=solver, mip_gap=gap, time_limit=time_limit, seed=seed, strict=strict)
    try:
        report = run_sweep(instance_path, scenarios, out or f"sweep-{Path(scenarios_path).stem}", options,
                           workers=workers, dask=dask_address)
    except SweepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    click.echo(format_report(report))
    if report.invalid:
        n = len(report.invalid)
        click.echo(f"error: {'every scenario is' if n == report.total else f'{n} of {report.total} scenarios are'} "
                   "invalid (listed above with their errors)", err=True)
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_OK if report.complete and not report.errored else EXIT_ERROR)


@main.command()
@click.argument("path", metavar="INSTANCE_OR_CIRCLE_DIR", type=click.Path())
@click.option("--model", type=click.Choice(["mclp", "cmclp", "lscp", "pmedian"]), default="mclp",
              show_default=True, help="Maximal covering, capacitated, set covering (fewest points) or p-median.")
@click.option("--minutes", type=float, default=None, help="Travel-time limit T (default: circle.toml, else 15).")
@click.option("--points", type=int, default=None, help="At most this many new points (default: circle.toml).")
@click.option("--budget", type=float, default=None, help="Opening costs of the new points at most this (yuan).")
@click.option("--solver", default="highs", show_default=True, help="Backend: highs, cbc, ortools, cpsat.")
@click.option("--time-limit", type=float, default=None, help="Seconds; a run stopped by it is never OPTIMAL.")
@click.option("--gap", type=float, default=1e-4, show_default=True, help="Relative gap that counts as optimal.")
@click.option("--out", type=click.Path(), default=None, help="Write the plan's tables here (whole or not at all).")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON on stdout.")
@_guard
def circle(path: str, model: str, minutes: float | None, points: int | None, budget: float | None, solver: str,
           time_limit: float | None, gap: float, out: str | None, as_json: bool) -> None:
    """Choose the 15-minute circle's extension points (F-CIRCLE) and report who is within reach."""
    from allocator.circle import check_circle, format_circle, solve_circle, summary_json, write_circle
    from solvers import SolveOptions, backend_names

    data, issues = check_circle(path)
    if data is None:
        _emit_issues(issues, as_json)
        sys.exit(EXIT_INPUT)
    usage = []
    if points is not None and budget is not None:
        usage.append("give --points or --budget, not both")
    if model == "lscp" and (points is not None or budget is not None):
        usage.append("lscp finds the fewest points itself: --points and --budget do not apply")
    for name, value, ok in (("--minutes", minutes, minutes is None or minutes > 0),
                            ("--points", points, points is None or points >= 0),
                            ("--budget", budget, budget is None or budget >= 0),
                            ("--time-limit", time_limit, time_limit is None or time_limit > 0),
                            ("--gap", gap, gap >= 0)):
        if not ok:
            usage.append(f"{name} {value} is out of range")
    if solver not in backend_names():
        usage.append(f"unknown solver {solver!r}; known: {', '.join(backend_names())}")
    if usage:
        for u in usage:
            click.echo(f"error: {u}", err=True)
        sys.exit(EXIT_INPUT)
    for w in issues:
        if not as_json:
            click.echo(f"  warning: {w}", err=True)
    p: int | None = -1
    y: float | None = -1.0
    if points is not None:
        p, y = points, None
    elif budget is not None:
        p, y = None, budget
    plan = solve_circle(data, model=model, minutes=minutes, points=p, budget=y, solver=solver,
                        options=SolveOptions(time_limit=time_limit, mip_gap=gap))
    if out and plan.tables:
        write_circle(plan, out)
    if as_json:
        click.echo(json.dumps(summary_json(plan), indent=2, default=float))
    else:
        click.echo(format_circle(plan, data))
        if out and plan.tables:
            click.echo(f"plan written to {out}")
    sys.exit(_STATUS_EXIT[plan.status.value])


@main.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@_guard
def clauses(as_json: bool) -> None:
    """List the POLICY.md clauses the engine knows: figures, units, scope, families."""
    from allocator.policy import CLAUSES

    if as_json:
        click.echo(json.dumps([{"id": c.id, "title": c.title, "section": c.section, "scope": c.scope,
                                "families": list(c.families),
                                "figures": [{"name": f.name, "kind": f.kind, "unit": f.unit, "required": f.required,
                                             "path": f.path} for f in c.fields]} for c in CLAUSES], indent=2))
        return
    for c in CLAUSES:
        figs = ", ".join(f"{f.name}{'' if f.required else '?'} [{f.unit}]" for f in c.fields)
        fam = f" families: {', '.join(c.families)}" if c.families else ""
        click.echo(f"{c.id:<18} {c.scope:<8} §{c.section:<14} {c.title}\n{'':<19}{figs}{fam}")


if __name__ == "__main__":
    main()
