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

import math
import sys
from collections.abc import Callable
from typing import Any

import click

EXIT_OK, EXIT_FEASIBLE, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_UNBOUNDED, EXIT_ERROR = 0, 1, 2, 3, 4, 5, 6
EXIT_VERIFY_FAILED = 7


class _Finite(click.FloatRange):
    """A FloatRange that also refuses nan and inf (which compare false with every bound)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        x = super().convert(value, param, ctx)
        if not math.isfinite(x):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return x


SECONDS = _Finite(min=0, min_open=True)        # a time limit
GAP = _Finite(min=0, max=1, max_open=True)     # a relative gap
SEED = click.IntRange(min=0, max=2**31 - 1)


def _check_out(out: str | None, force: bool, folder: bool = True) -> None:
    """Exit 2 unless the output ``out`` may be written (new, or the engine's own with --force)."""
    from allocator.atomic import OutputError, check_target

    if out is None:
        return
    try:
        check_target(out, force=force, folder=folder)
    except OutputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)


def _solver_wrote(p: Any) -> bool:
    """Does the file ``p`` start as HiGHS writes an .lp or .mps model?"""
    try:
        with open(p, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.startswith((b"\\ File written by HiGHS", b"NAME"))


def _check_mps(mps: str | None, force: bool) -> None:
    """Exit 2 unless ``mps`` names a new .mps/.lp file in an existing folder (or --force over one)."""
    from pathlib import Path

    if mps is None:
        return
    p = Path(mps)
    problem = None
    if p.suffix.lower() not in (".mps", ".lp"):
        problem = f"--mps {mps}: the model is written as .mps or .lp (the suffix chooses), not '{p.suffix}'"
    elif not p.absolute().parent.is_dir():
        problem = f"--mps {mps}: the folder {p.absolute().parent} does not exist"
    elif p.exists() and not (force and p.is_file() and _solver_wrote(p)):
        problem = (f"--mps {mps} already exists: give --force to replace a model the solver wrote (nothing else "
                   "is replaced)")
    if problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_INPUT)


def _echo_json(obj: Any) -> None:
    """Strict JSON on stdout: NaN/inf as null, UTF-8 text (see allocator.report.terminal.to_json)."""
    from allocator.report.terminal import to_json

    click.echo(to_json(obj))


def _emit_issues(issues: list[Any], as_json: bool) -> None:
    if as_json:
        _echo_json({"valid": False, "errors": [i.to_dict() for i in issues if i.severity == "error"],
                    "warnings": [i.to_dict() for i in issues if i.severity != "error"]})
    errors = [i for i in issues if i.severity == "error"]
    click.echo(f"{len(errors)} error(s) in the instance:", err=True)
    for i in issues:
        click.echo(f"  {'error' if i.severity == 'error' else 'warning'}: {i}", err=True)


def _load_or_exit(path: str, as_json: bool):  # type: ignore[no-untyped-def]
    from allocator.instance import check

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
        except ValueError as exc:
            from allocator.atomic import OutputError
            from allocator.instance import InstanceError

            if isinstance(exc, OutputError):  # an output the engine may not write: bad usage
                click.echo(f"error: {exc}", err=True)
                sys.exit(EXIT_INPUT)
            if isinstance(exc, InstanceError):
                _emit_issues(exc.issues + exc.warnings, False)
                sys.exit(EXIT_INPUT)
            click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_ERROR)
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
@click.option("-v", "--verbose", count=True, help="-v: progress messages (INFO); -vv: debug and the solver's own log.")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help="Also write the log (DEBUG) here.")
def main(verbose: int, log_file: str | None) -> None:
    """Allocate social workers, money and department resources to community service stations."""
    from allocator.report.terminal import setup_logging

    setup_logging(verbose, log_file)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Errors and warnings as JSON on stdout.")
@_guard
def validate(path: str, as_json: bool) -> None:
    """Check an instance folder or .xlsx workbook; exit 2 listing every error."""
    instance, issues = _load_or_exit(path, as_json)
    warnings = [i for i in issues if i.severity != "error"]
    if as_json:
        _echo_json({"valid": True, "errors": [], "warnings": [w.to_dict() for w in warnings],
                    "stations": instance.num_stations})
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
        _echo_json(summary)
    else:
        click.echo(format_instance_summary(summary))


@main.command()
@click.argument("source", type=click.Path())
@click.argument("target", type=click.Path())
@click.option("--force", is_flag=True, help="Replace TARGET if the engine wrote it (nothing else is replaced).")
@click.option("--json", "as_json", is_flag=True, help="What was written, as JSON.")
@_guard
def convert(source: str, target: str, force: bool, as_json: bool) -> None:
    """Convert an instance between folder and .xlsx forms (TARGET's suffix decides: a folder or .xlsx)."""
    from allocator.atomic import OutputError
    from allocator.instance import target_form, write_folder, write_xlsx

    try:
        form = target_form(target)
    except OutputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    _check_out(target, force, folder=form == "folder")
    instance, _ = _load_or_exit(source, as_json)
    if form == "xlsx":
        write_xlsx(instance, target)
    else:
        write_folder(instance, target)
    if as_json:
        _echo_json({"wrote": target, "stations": instance.num_stations})
    else:
        click.echo(f"wrote {target}")


_STATUS_EXIT = {"optimal": EXIT_OK, "feasible": EXIT_FEASIBLE, "infeasible": EXIT_INFEASIBLE,
                "no_solution": EXIT_NO_SOLUTION, "unbounded": EXIT_UNBOUNDED, "error": EXIT_ERROR}


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.option("--solver", default="highs", show_default=True, help="Backend: highs, cbc, ortools, cpsat.")
@click.option("--time-limit", type=SECONDS, default=None, help="Seconds; a run stopped by it is never OPTIMAL.")
@click.option("--gap", type=GAP, default=0.01, show_default=True, help="Relative gap that counts as optimal.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--strict", is_flag=True, help="Every clause hard, whatever the instance says.")
@click.option("--out", type=click.Path(), default=None, help="Write the plan's tables here (whole or not at all).")
@click.option("--force", is_flag=True, help="Replace --out (a plan the engine wrote) or --mps if they exist.")
@click.option("--mps", type=click.Path(), default=None, help="Also export the model (.mps or .lp) for other solvers.")
@click.option("--method", type=click.Choice(["monolithic", "decompose", "auto"]), default="auto", show_default=True,
              help="One MIP, or Lagrangian decomposition by county batches (auto: decompose from 2,000 stations).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes for the decomposition's batches.")
@click.option("--dask", "dask_address", metavar="ADDRESS", default=None,
              help="Solve the decomposition's batches on this Dask scheduler.")
@click.option("--batch-size", type=click.IntRange(min=1), default=300, show_default=True,
              help="Stations per decomposition batch (whole counties).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Write DIR/plan.xlsx and DIR/report.html (each whole or not at all).")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON on stdout.")
@click.option("--objective", "objective_mode", type=click.Choice(["lexicographic", "weighted"]), default=None,
              help="lexicographic: least weighted deviation first, then most need covered with it held; weighted: "
                   "one objective (default: the instance's [objective] mode).")
@click.option("--baseline", "baseline_dir", type=click.Path(), default=None,
              help="Last year's plan folder: changes against it priced and limited ([objective] baseline_*), "
                   "listed in changes.csv.")
@_guard
def solve(instance_path: str, solver: str, time_limit: float | None, gap: float, threads: int, seed: int,
          strict: bool, out: str | None, force: bool, mps: str | None, method: str, workers: int,
          dask_address: str | None, batch_size: int, report_dir: str | None, as_json: bool,
          objective_mode: str | None = None, baseline_dir: str | None = None) -> None:
    """Solve the station allocation model of INSTANCE and report the plan."""
    from allocator.report.terminal import progress, solver_log_wanted
    from allocator.report.text import format_plan_text
    from allocator.station import solve_instance, write_plan
    from solvers import Deadline, SolveOptions, backend_names

    deadline = Deadline.since_process_start(time_limit)  # --time-limit covers start-up, load, build, solve, write
    _check_out(out, force)
    _check_mps(mps, force)
    instance, _ = _load_or_exit(instance_path, as_json)
    if solver not in backend_names():
        click.echo(f"unknown solver {solver!r}; known: {', '.join(backend_names())}", err=True)
        sys.exit(EXIT_INPUT)
    if instance.horizon is not None and method == "decompose":
        click.echo(f"error: --method decompose takes one-year instances; {instance_path} plans the years "
                   f"{', '.join(map(str, instance.years))} as one model whose county blocks are tied by "
                   "horizon-wide rows (F-TOTAL's construction and total over the years, F-HIRING's recruited and "
                   "F-TURNOVER's total per year over all stations, the yearly upgrade cap), and the decomposed "
                   "solve writes no year-by-year plan (use --method monolithic)", err=True)
        sys.exit(EXIT_INPUT)
    options = SolveOptions(time_limit=time_limit, mip_gap=gap, threads=threads, seed=seed, deadline=deadline,
                           verbose=solver_log_wanted())
    from allocator.decompose import DecomposeOptions

    baseline = _read_baseline(baseline_dir)
    mode = objective_mode or instance.objective.mode
    if (mode == "lexicographic" or baseline is not None) and method == "decompose":
        click.echo("error: --method decompose solves the weighted objective without a baseline; use --method "
                   "monolithic (or auto) with --objective lexicographic or --baseline", err=True)
        sys.exit(EXIT_INPUT)
    with progress(f"solving {instance.num_stations:,} stations ({method})", enabled=not as_json):
        plan = solve_instance(instance, solver=solver, options=options, strict=strict, method=method,
                              decompose=DecomposeOptions(batch_size=batch_size, workers=workers, dask=dask_address),
                              export=mps, objective=objective_mode, baseline=baseline)
    if out and plan.tables:
        write_plan(plan, out)
    if report_dir:
        _write_report(instance, plan, report_dir, as_json)
    if as_json:
        _echo_json({**plan.summary, "manifest": plan.manifest})
    else:
        click.echo(format_plan_text(plan, instance))
        if plan.status.value == "infeasible":
            click.echo("No plan satisfies every hard clause. Run without --strict for a plan with the soft "
                       "clauses' deviations sized.", err=True)
        if out and plan.tables:
            click.echo(f"plan written to {out}")
    sys.exit(_STATUS_EXIT[plan.status.value])


def _read_baseline(baseline_dir: str | None) -> Any:
    """The ``--baseline`` plan (exit 2 when the folder is not a plan the engine wrote)."""
    if baseline_dir is None:
        return None
    from pathlib import Path

    from allocator.station import read_plan

    missing = [f for f in ("summary.json", "staff.csv", "budget.csv", "services.csv", "stations.csv")
               if not (Path(baseline_dir) / f).is_file()]
    if missing:
        click.echo(f"error: --baseline {baseline_dir}: not a plan folder written by `allocator solve --out` "
                   f"(no {', '.join(missing)})", err=True)
        sys.exit(EXIT_INPUT)
    try:
        return read_plan(baseline_dir)
    except (OSError, ValueError, KeyError) as exc:
        click.echo(f"error: --baseline {baseline_dir}: {exc}", err=True)
        sys.exit(EXIT_INPUT)


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.argument("plan_dir", type=click.Path())
@click.option("--assignment", "assignment_dir", type=click.Path(), default=None,
              help="Also check what `allocator assign --out DIR` wrote for this plan (roster, hires, packages); "
                   "found by itself when PLAN_DIR holds roster.csv.")
@click.option("--json", "as_json", is_flag=True, help="Every check as JSON.")
@click.option("--allow-other-instance", is_flag=True,
              help="Check the plan even when manifest.json's instance_hash is not this instance's (a warning, "
                   "not exit 2).")
@_guard
def verify(instance_path: str, plan_dir: str, assignment_dir: str | None, as_json: bool,
           allow_other_instance: bool) -> None:
    """Re-check every clause of a written plan with independent arithmetic; exit 7 on any failure.

    PASS means every hard clause holds and every figure the plan states (clauses.csv, summary.json) is the
    verifier's; a broken soft clause is reported as broken, with its deviation, and does not fail the plan.
    Exit 2 when PLAN_DIR is not a plan, or was made for another instance (unless --allow-other-instance).
    """
    from pathlib import Path

    from allocator.instance import instance_hash
    from allocator.verify import VerifyReport, format_report, verify_assignment, verify_plan

    instance, _ = _load_or_exit(instance_path, as_json)
    report = verify_plan(instance, plan_dir, instance_hash=instance_hash(instance))
    mismatch = report.instance_check is not None and report.instance_check["match"] is False
    if report.input_error or (mismatch and not allow_other_instance):
        why = report.input_error or (report.warnings[0] + "; pass --allow-other-instance to check it anyway")
        if as_json:
            _echo_json({"ok": False, "input_error": why, "instance_check": report.instance_check})
        click.echo(f"error: {why}", err=True)
        sys.exit(EXIT_INPUT)
    if assignment_dir is None and (Path(plan_dir) / "roster.csv").is_file():
        assignment_dir = plan_dir
    if assignment_dir is not None:
        extra = verify_assignment(instance, plan_dir, assignment_dir)
        report = VerifyReport(report.instance, f"{plan_dir} with assignment {assignment_dir}",
                              report.checks + extra.checks, report.notes + extra.notes,
                              instance_check=report.instance_check, warnings=report.warnings)
    if as_json:
        _echo_json(report.to_dict())
    else:
        click.echo(format_report(report))
    sys.exit(EXIT_OK if report.ok else EXIT_VERIFY_FAILED)


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.option("--strict/--as-stated", default=True, show_default=True,
              help="Diagnose with every clause hard (the documents as written), or with the instance's modes.")
@click.option("--time-limit", type=SECONDS, default=120.0, show_default=True,
              help="Seconds for the whole diagnosis.")
@click.option("--no-conflicts", is_flag=True, help="Skip the conflict sets (one solve per clause family).")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@_guard
def diagnose(instance_path: str, strict: bool, time_limit: float, no_conflicts: bool, as_json: bool) -> None:
    """Why is there no plan? Smallest relaxation, alternatives per clause, conflict sets, data issues."""
    from allocator.diagnose import diagnose as run
    from allocator.diagnose import format_diagnosis
    from allocator.report.terminal import progress
    from solvers import Deadline

    deadline = Deadline.since_process_start(time_limit)  # the whole command: start-up and reading too
    instance, issues = _load_or_exit(instance_path, as_json)
    with progress("diagnosing (one solve per clause family)", enabled=not as_json):
        d = run(instance, strict=strict, time_limit=time_limit, warnings=[i for i in issues if i.severity != "error"],
                find_conflicts=not no_conflicts, deadline=deadline)
    if as_json:
        _echo_json(d.to_dict())
    else:
        click.echo(format_diagnosis(d))
    sys.exit(EXIT_OK if d.feasible else EXIT_INFEASIBLE)


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.option("--set", "changes", multiple=True, required=True,
              help="CLAUSE.FIELD=VALUE; repeat for several (shares that sum to 1 change together: "
                   "--set A-SPLIT.salaries=0.30 --set A-SPLIT.services=0.40).")
@click.option("--solver", default="highs", show_default=True)
@click.option("--gap", type=GAP, default=0.01, show_default=True)
@click.option("--time-limit", type=SECONDS, default=None)
@click.option("--strict", is_flag=True)
@click.option("--out", type=click.Path(), default=None, help="Write the changed plan and diff tables here.")
@click.option("--force", is_flag=True, help="Replace --out if it is a plan the engine wrote.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Write DIR/plan.xlsx and DIR/report.html of the changed plan, with its Diff.")
@click.option("--json", "as_json", is_flag=True)
@_guard
def whatif(instance_path: str, changes: tuple[str, ...], solver: str, gap: float, time_limit: float | None,
           strict: bool, out: str | None, force: bool, report_dir: str | None, as_json: bool) -> None:
    """Solve the baseline and a changed instance; print what moved, biggest moves first."""
    from allocator.instance import InstanceError
    from allocator.report.terminal import progress, solver_log_wanted
    from allocator.report.text import format_whatif_text
    from allocator.scenario import parse_changes
    from allocator.scenario import whatif as run
    from allocator.station import write_plan
    from solvers import Deadline, SolveOptions

    deadline = Deadline.since_process_start(time_limit)  # both solves share the limit, start-up included
    _check_out(out, force)
    instance, _ = _load_or_exit(instance_path, as_json)
    try:
        parsed = parse_changes(list(changes))
        with progress("solving the baseline and the changed instance", enabled=not as_json):
            w = run(instance, parsed, solver, SolveOptions(time_limit=time_limit, mip_gap=gap, deadline=deadline,
                                                           verbose=solver_log_wanted()), strict)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except InstanceError as exc:
        _emit_issues(exc.issues + exc.warnings, as_json)
        sys.exit(EXIT_INPUT)
    if out and w.changed.tables:
        import dataclasses

        import pandas as pd

        extra = {"diff_totals": w.totals, "diff_clauses": w.clauses, "diff_stations": w.stations}
        plan = w.changed
        write_plan(dataclasses.replace(plan, tables={**plan.tables, **{k: pd.DataFrame(v) for k, v in extra.items()}},
                                       summary={**plan.summary, "changes": parsed}), out)
    if report_dir and w.changed.tables:
        from allocator.scenario import apply_changes

        _write_report(apply_changes(instance, parsed), w.changed, report_dir, as_json,
                      diff={"totals": w.totals, "clauses": w.clauses, "stations": w.stations})
    if as_json:
        _echo_json({"changes": parsed, "totals": w.totals, "clauses": w.clauses, "stations": w.stations})
    else:
        click.echo(format_whatif_text(w, parsed))
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

    from allocator.report.terminal import progress
    from allocator.report.text import format_prices_text
    from allocator.scenario import prices as run
    from solvers import Deadline

    deadline = Deadline.since_process_start(time_limit)  # the whole command: start-up and reading too
    instance, _ = _load_or_exit(instance_path, as_json)
    with progress("pricing every clause family (one re-solve each)", enabled=not as_json):
        base, rows = run(instance, solver, time_limit=time_limit, deadline=deadline)
    if as_json:
        _echo_json({"baseline": base.objective, "status": base.status.value,
                    "prices": [dataclasses.asdict(r) for r in rows]})
    elif base.objective is None:
        click.echo(f"no plan to price: {base.status.value}")
    else:
        click.echo(format_prices_text(base, rows))
    sys.exit(_STATUS_EXIT[base.status.value])


def _one_year_of(instance: Any, plan: Any, year: int | None) -> tuple[Any, Any]:
    """``assign --year``: the instance and the Plan of one year of a horizon plan (exit 2 if no such year)."""
    from allocator.assign.horizon import staff_in_year
    from allocator.station.path_tables import year_plan

    year = instance.years[0] if year is None else year
    if year not in instance.years:
        click.echo(f"error: --year {year}: the instance plans {', '.join(map(str, instance.years))}", err=True)
        sys.exit(EXIT_INPUT)
    if instance.horizon is None:
        return instance, plan
    return staff_in_year(instance, plan.tables, year), year_plan(plan, year)


@main.command()
@click.argument("instance_path", metavar="INSTANCE", type=click.Path())
@click.argument("plan_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--solver", default="highs", show_default=True)
@click.option("--max-moves", type=click.IntRange(min=-1), default=0, show_default=True,
              help="Most workers moved to another station; 0 keeps everyone where they are (IN-POST), -1 no limit.")
@click.option("--out", type=click.Path(), default=None,
              help="Write packages, roster, hiring list and assignment.json here (whole or not at all).")
@click.option("--time-limit", type=SECONDS, default=None,
              help="Seconds for the whole command; the package GAP and the roster share it.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--year", type=int, default=None, help="The year of a horizon plan to staff (default: its first).")
@_guard
def assign(instance_path: str, plan_dir: str, solver: str, max_moves: int, out: str | None, time_limit: float | None,
           as_json: bool, year: int | None) -> None:
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
    from allocator.station import PlanReadError, read_plan
    from solvers import Deadline, SolveOptions, backend_names

    deadline = Deadline.since_process_start(time_limit)  # start-up, reading, both solves and writing
    instance, _ = _load_or_exit(instance_path, as_json)
    if solver not in backend_names():
        click.echo(f"unknown solver {solver!r}; known: {', '.join(backend_names())}", err=True)
        sys.exit(EXIT_INPUT)
    try:
        plan = read_plan(plan_dir)
    except PlanReadError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    horizon = instance.horizon is not None
    if horizon or year is not None:
        instance, plan = _one_year_of(instance, plan, year)
        year = instance.year if horizon else None
    left = deadline.remaining()
    # the package GAP gets at most half the time left (less the margin), the roster the rest of the deadline
    half = None if left is None else max(1e-3, (left - deadline.margin()) / 2)
    res = assign_packages(instance, plan, solver, SolveOptions(mip_gap=1e-6, time_limit=half, deadline=deadline))
    ro = solve_roster(instance, plan, max_moves=None if max_moves < 0 else max_moves, solver=solver,
                      options=SolveOptions(mip_gap=1e-9, deadline=deadline))
    if not ro.status.has_solution:
        click.echo(f"Roster: {ro.status.value.upper()}: {ro.message}", err=True)
        sys.exit(_STATUS_EXIT[ro.status.value])
    if out:
        write_assignment(res, ro, out, year, instance.staff.to_frame() if year is not None else None)
    if as_json:
        _echo_json(assignment_summary(res, ro))
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
@click.option("--gap", type=GAP, default=0.01, show_default=True, help="Relative gap that counts as optimal.")
@click.option("--time-limit", type=SECONDS, default=None, help="Seconds per scenario.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--strict", is_flag=True, help="Every clause hard, whatever the instance says.")
@click.option("--json", "as_json", is_flag=True, help="What the sweep did, as JSON.")
@_guard
def sweep(instance_path: str, scenarios_path: str, workers: int | None, dask_address: str | None, out: str | None,
          solver: str, gap: float, time_limit: float | None, seed: int, strict: bool, as_json: bool) -> None:
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
    if as_json:
        _echo_json({**{k: v for k, v in vars(report).items() if not k.startswith("_")}, "complete": report.complete})
    else:
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
@click.option("--minutes", type=_Finite(min=0, min_open=True), default=None,
              help="Travel-time limit T (default: circle.toml, else 15).")
@click.option("--points", type=click.IntRange(min=0), default=None,
              help="At most this many new points (default: circle.toml).")
@click.option("--budget", type=_Finite(min=0), default=None,
              help="Opening costs of the new points at most this (yuan).")
@click.option("--solver", default="highs", show_default=True, help="Backend: highs, cbc, ortools, cpsat.")
@click.option("--time-limit", type=SECONDS, default=None, help="Seconds; a run stopped by it is never OPTIMAL.")
@click.option("--gap", type=GAP, default=1e-4, show_default=True, help="Relative gap that counts as optimal.")
@click.option("--out", type=click.Path(), default=None, help="Write the plan's tables here (whole or not at all).")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON on stdout.")
@_guard
def circle(path: str, model: str, minutes: float | None, points: int | None, budget: float | None, solver: str,
           time_limit: float | None, gap: float, out: str | None, as_json: bool) -> None:
    """Choose the 15-minute circle's extension points (F-CIRCLE) and report who is within reach.

    INSTANCE_OR_CIRCLE_DIR is a circle folder (with circle.toml), or an instance folder INST whose circle is
    INST/circle or the sibling INST-circle; the folder used is then named on stderr (and always as
    circle_folder in --json).  Without --points and --budget the limits are as circle.toml states.  A run
    stopped by --time-limit returns its best plan (FEASIBLE, with its gap), never none when one was found.
    """
    from pathlib import Path

    from allocator.circle import STATED, check_circle, format_circle, solve_circle, summary_json, write_circle
    from solvers import Deadline, SolveOptions, backend_names

    deadline = Deadline.since_process_start(time_limit)  # --time-limit covers start-up, reading, build, solve, write
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
    if Path(data.source).resolve() != Path(path).resolve():
        # an instance folder stands for its circle: say which folder is read (issue 17, item 16)
        click.echo(f"note: {path} is not a circle folder (no circle.toml); using the circle folder "
                   f"{data.source} found for it", err=True)
    # neither limit given: as circle.toml states (STATED); one given: that one alone, the other lifted
    given = points is not None or budget is not None
    plan = solve_circle(data, model=model, minutes=minutes, points=points if given else STATED,
                        budget=budget if given else STATED, solver=solver,
                        options=SolveOptions(time_limit=time_limit, mip_gap=gap, deadline=deadline))
    if out and plan.tables:
        write_circle(plan, out)
    if as_json:
        _echo_json({"circle_folder": data.source, **summary_json(plan)})
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
    from allocator.instance import CLAUSES

    if as_json:
        _echo_json([{"id": c.id, "title": c.title, "section": c.section, "scope": c.scope,
                     "families": list(c.families),
                     "figures": [{"name": f.name, "kind": f.kind, "unit": f.unit, "required": f.required,
                                  "path": f.path} for f in c.fields]} for c in CLAUSES])
        return
    from allocator.report.text import format_clauses_text

    click.echo(format_clauses_text(CLAUSES))


def _write_report(instance: Any, plan: Any, report_dir: str, as_json: bool, diagnosis: Any = None,
                  diff: dict[str, Any] | None = None, xlsx: str | None = None, html: str | None = None) -> None:
    """Write the workbook and the HTML report (each atomically; never over a file allocator did not write)."""
    from pathlib import Path

    from allocator.report import report_data
    from allocator.report.atomic import ForeignFileError
    from allocator.report.html import write_html
    from allocator.report.workbook import write_workbook

    r = report_data(instance, plan, diagnosis, diff)
    targets = [(xlsx or (str(Path(report_dir) / "plan.xlsx") if report_dir else None), write_workbook),
               (html or (str(Path(report_dir) / "report.html") if report_dir else None), write_html)]
    try:
        for path, write in targets:
            if path:
                write(r, path, replace_foreign=False)
                if not as_json:
                    click.echo(f"report written to {path}", err=True)
    except ForeignFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)


@main.command()
@click.argument("plan_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--instance", "instance_path", required=True, type=click.Path(), help="The plan's instance.")
@click.option("--xlsx", type=click.Path(dir_okay=False), default=None, help="Write the workbook here.")
@click.option("--html", type=click.Path(dir_okay=False), default=None, help="Write the HTML report here.")
@click.option("--json", "as_json", is_flag=True, help="The report's headline and files as JSON.")
@_guard
def report(plan_dir: str, instance_path: str, xlsx: str | None, html: str | None, as_json: bool) -> None:
    """Write a plan's workbook (--xlsx) and HTML report (--html); both into PLAN_DIR when neither is given."""
    from pathlib import Path

    from allocator.report import read_plan, report_data

    instance, _ = _load_or_exit(instance_path, as_json)
    try:
        plan = read_plan(plan_dir)
    except (FileNotFoundError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    if xlsx is None and html is None:
        xlsx, html = str(Path(plan_dir) / "plan.xlsx"), str(Path(plan_dir) / "report.html")
    _write_report(instance, plan, "", as_json, xlsx=xlsx, html=html)
    if as_json:
        _echo_json({"xlsx": xlsx, "html": html, "headline": report_data(instance, plan).headline})


if __name__ == "__main__":
    main()
