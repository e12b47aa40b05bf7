"""One scenario, run in a worker: load (cached per process), apply the changes, solve, one result row."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from allocator.instance import InstanceError

MONEY_KEYS = ("facilities", "salaries", "services", "training", "total")
#: Result columns after ``name`` and the parameter columns, in this order.  On a horizon instance
#: ``covered`` and the money columns are summed over the years; staff counts are the last year's (in post).
RESULT_COLUMNS = ("status", "objective", "bound", "gap", "seconds", "covered", "staff", "social_workers",
                  "certified", *(f"money_{k}" for k in MONEY_KEYS), "soft_deviation", "soft_missed", "error")


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
        Seconds per scenario, from the moment a worker takes it up (loading and building count); a
        scenario stopped by it reports ``feasible`` and its gap.
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
    begun = time.monotonic()  # the scenario's limit counts its imports, loading and build too (issue 17)
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row["name"] = name
    try:
        from allocator.scenario import apply_changes
        from allocator.station import solve_instance
        from solvers import Deadline, SolveOptions

        opts = SweepOptions(**options)
        deadline = Deadline(begun, opts.time_limit)
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
                                                                 threads=1, seed=opts.seed, deadline=deadline),
                              opts.strict)
        row.update(status=plan.status.value, objective=plan.objective, bound=plan.bound, gap=plan.gap)
        if plan.status.value == "error":
            row["error"] = _one_line(plan.message) or "solver error"
        totals = plan.summary.get("totals")
        if totals:
            row.update(covered=totals["covered"], staff=totals["staff"], social_workers=totals["social_workers"],
                       certified=totals["certified"])
            for k in MONEY_KEYS:
                row[f"money_{k}"] = totals["money"][k]
            if plan.tables and "path" in plan.tables:  # a horizon: need covered and money over every year
                path = plan.tables["path"]
                row["covered"] = float(path["need_covered"].sum())
                for k in MONEY_KEYS:
                    row[f"money_{k}"] = float(path[f"money_{k}"].sum())
            devs = plan.summary.get("deviations", [])
            row["soft_deviation"] = round(float(sum(d["total"] for d in devs)), 6)
            row["soft_missed"] = len(devs)
    except Exception as exc:  # the scenario fails, the sweep goes on
        row.update(status="error", error=_one_line(f"{type(exc).__name__}: {exc}"))
    finally:
        row["seconds"] = round(time.perf_counter() - start, 3)
    return row

