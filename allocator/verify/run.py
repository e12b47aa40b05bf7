"""``verify_plan``: read the plan folder, run the engine rules and every clause family, judge what it says."""

from __future__ import annotations

import os
from pathlib import Path

from allocator.instance import Instance
from allocator.verify.checks import ENGINE_CHECKS, clause_rows
from allocator.verify.context import Context
from allocator.verify.figures import judge, objective, summary_breakdowns, totals
from allocator.verify.reader import PlanData, not_a_plan, read_plan_folder
from allocator.verify.report import Collector, VerifyReport
from allocator.verify.tolerance import Tolerance

__all__ = ["verify_plan"]


def _instance_check(report: VerifyReport, plan: PlanData, instance: Instance, instance_hash: str | None) -> None:
    manifest = plan.manifest or {}
    if manifest.get("instance") not in (None, instance.name):
        report.notes.append(f"manifest.json names instance '{manifest.get('instance')}', "
                            f"this instance is '{instance.name}'")
    if instance_hash is None:
        return
    stated = manifest.get("instance_hash")
    if stated is None:
        # a plan written by hand or by an older engine: nothing says which instance it was made for
        report.instance_check = {"plan": None, "instance": instance_hash, "match": None}
        report.warnings.append("manifest.json states no instance_hash: it is not known that this plan was made "
                               "for this instance")
        return
    match = str(stated) == instance_hash
    report.instance_check = {"plan": str(stated), "instance": instance_hash, "match": match}
    if not match:
        report.warnings.append(f"this plan was not made for this instance: manifest.json gives instance_hash "
                               f"'{stated}', the instance given hashes to '{instance_hash}'")


def verify_plan(instance: Instance, plan_dir: str | os.PathLike[str], tol: Tolerance | None = None, *,
                instance_hash: str | None = None) -> VerifyReport:
    """Re-check the plan in ``plan_dir`` against ``instance``, clause by clause.

    Parameters
    ----------
    instance : Instance
        The instance the plan was solved for (from :func:`allocator.instance.load`).
    plan_dir : path-like
        A directory written by ``allocator solve --out DIR``.
    tol : Tolerance, optional
        Tolerances; the defaults are those of :class:`Tolerance`.
    instance_hash : str, optional
        The instance's content hash; when given, it is compared with ``manifest.json``'s
        ``instance_hash``: ``report.instance_check`` is ``{"plan", "instance", "match"}`` (``match`` None
        when the manifest states no hash) and a warning line is added when they differ or the hash is
        missing.  The verdict does not change: the CLI decides (exit 2 on a mismatch unless
        ``--allow-other-instance``).

    Returns
    -------
    VerifyReport
        One :class:`~allocator.verify.report.Check` per row; ``report.ok`` is True when every hard row
        and engine rule holds and every figure the plan states is the verifier's (soft clauses may be
        broken: they are reported as ``broken (soft)`` with their deviation).  ``report.input_error``
        is set when ``plan_dir`` is not a plan at all.
    """
    tol = tol or Tolerance()
    col = Collector(tol)
    path = Path(plan_dir)
    report = VerifyReport(instance.name, str(path))
    report.input_error = not_a_plan(path)
    if not path.is_dir():
        col.fail("E-FILES", "files", None, "the plan directory exists", f"FAIL: no plan directory {path}")
        report.checks, report.notes = col.checks, col.notes
        return report
    plan = read_plan_folder(instance, path, col)
    if plan is not None:
        status = str(plan.summary.get("status", ""))
        if status and status not in ("optimal", "feasible", "time_limit", "gap_limit"):
            col.notes.append(f"summary.json status is '{status}'")
        _instance_check(report, plan, instance, instance_hash)
        ctx = Context(instance, plan, col)
        for check in ENGINE_CHECKS:
            check(ctx)
        clause_rows(ctx)
        shortfalls = judge(ctx)
        totals(ctx)
        summary_breakdowns(ctx, shortfalls)
        objective(ctx, shortfalls)
    report.checks = col.checks
    report.notes = col.notes + report.notes
    return report
