"""The Python API for analysts and notebooks: ``import allocator as al``.

>>> inst = al.load("instances/fuzhou-2026")                         # doctest: +SKIP
>>> plan = al.solve(inst, solver="highs", time_limit=60)        # doctest: +SKIP
>>> plan.staff.head()                                           # doctest: +SKIP

:func:`solve` returns a :class:`PlanView`: the engine's :class:`~allocator.station.Plan` value together with
its instance, whose tables carry each station's name and county, and which writes the workbook and the
HTML report.  Every attribute of the Plan (``status``, ``objective``, ``gap``, ``summary``, ...) is
reachable on the view.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pandas as pd

from allocator.instance import Instance
from allocator.station import Plan

__all__ = ["PlanView", "load", "read", "solve", "verify"]


def load(path: str | os.PathLike[str]) -> Instance:
    """Load and validate an instance folder or ``.xlsx`` workbook.

    Raises
    ------
    allocator.instance.InstanceError
        Listing every error (file, row, column, rule).
    """
    from allocator.instance import load as _load

    return _load(path)


def solve(instance: Instance, solver: str = "highs", time_limit: float | None = None, gap: float = 0.01,
          threads: int = 1, seed: int = 0, strict: bool = False, method: str = "auto",
          verbose: bool = False) -> PlanView:
    """Solve the station model of ``instance``.

    Parameters
    ----------
    instance : Instance
    solver : str
        ``highs`` (default), ``cbc``, ``ortools`` or ``cpsat``.
    time_limit : float, optional
        Seconds; a run stopped by it is never optimal.
    gap : float
        Relative gap that counts as optimal.
    threads, seed : int
    strict : bool
        Every clause hard.
    method : str
        ``monolithic``, ``decompose`` or ``auto`` (decompose from 2,000 stations).
    verbose : bool
        Let the solver print its log.

    Returns
    -------
    PlanView
    """
    from allocator.station import solve_instance
    from solvers import SolveOptions

    opts = SolveOptions(time_limit=time_limit, mip_gap=gap, threads=threads, seed=seed, verbose=verbose)
    return PlanView(solve_instance(instance, solver=solver, options=opts, strict=strict, method=method), instance)


def read(plan_dir: str | os.PathLike[str], instance: Instance) -> PlanView:
    """A plan folder written by ``allocator solve --out`` (or :meth:`PlanView.write`), as a view."""
    from allocator.report import read_plan

    return PlanView(read_plan(plan_dir), instance)


def verify(instance: Instance, plan: PlanView | Plan) -> Any:
    """Re-check every clause of ``plan`` with the verifier's independent arithmetic.

    Returns
    -------
    allocator.verify.VerifyReport
        ``.ok`` is True when every check passes; ``.failures`` lists the others.
    """
    from allocator.station import write_plan
    from allocator.verify import verify_plan

    value = plan.plan if isinstance(plan, PlanView) else plan
    # The verifier reads a written plan on purpose (it shares no code with the builder): write it.
    with tempfile.TemporaryDirectory(prefix="allocator-verify-") as d:
        write_plan(value, os.path.join(d, "plan"))
        return verify_plan(instance, os.path.join(d, "plan"))


class PlanView:
    """A :class:`~allocator.station.Plan` with its instance: named tables, workbook, HTML, notebook display."""

    def __init__(self, plan: Plan, instance: Instance):
        self.plan = plan
        self.instance = instance

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the view does not define: the Plan's own fields.
        if name in ("plan", "instance"):
            raise AttributeError(name)
        return getattr(self.plan, name)

    def __repr__(self) -> str:
        return f"<PlanView {self.instance.name!r}: {self.plan.status.value}, objective {self.plan.objective}>"

    def _named(self, table: str) -> pd.DataFrame:
        df = self.plan.tables.get(table)
        if df is None:
            return pd.DataFrame()
        st = self.instance.stations
        names = pd.DataFrame({"station_id": st["station_id"],
                              "name": st["name"] if "name" in st else st["station_id"], "county": st["county"]})
        out = df.merge(names, on="station_id", how="left")
        first = ["station_id", "name", "county"]
        return out[first + [c for c in out.columns if c not in first]]

    @property
    def staff(self) -> pd.DataFrame:
        """Staff by type and level per station, with the station's name and county."""
        return self._named("staff")

    @property
    def budget(self) -> pd.DataFrame:
        """Money by use per station (yuan), with name and county."""
        return self._named("budget")

    @property
    def services(self) -> pd.DataFrame:
        """Services offered per station, with name and county."""
        return self._named("services")

    @property
    def coverage(self) -> pd.DataFrame:
        """Need and need covered per station and group, with name and county."""
        return self._named("coverage")

    @property
    def works(self) -> pd.DataFrame:
        """Building works and floor areas per station, with name and county."""
        return self._named("stations")

    @property
    def clauses(self) -> pd.DataFrame:
        """Every clause family in force: met or broken, figures, deviation, §."""
        return self.report_data().clauses

    @property
    def counties(self) -> pd.DataFrame:
        """The plan summed by county."""
        return self.report_data().counties

    def report_data(self, diagnosis: Any = None) -> Any:
        """The report's tables (:class:`allocator.report.ReportData`)."""
        from allocator.report import report_data

        return report_data(self.instance, self.plan, diagnosis)

    def write(self, out: str | os.PathLike[str]) -> None:
        """Write the plan's CSV tables, summary.json and manifest.json into the folder ``out``."""
        from allocator.station import write_plan

        write_plan(self.plan, out)

    def to_excel(self, path: str | os.PathLike[str]) -> None:
        """Write the workbook (Summary, Stations, Counties, Groups, Budget, Staff, Clauses, ...)."""
        from allocator.report import write_workbook

        write_workbook(self.report_data(), path)

    def to_html(self, path: str | os.PathLike[str]) -> None:
        """Write the self-contained HTML report."""
        from allocator.report import write_html

        write_html(self.report_data(), path)

    def _repr_html_(self) -> str:
        """A notebook's view: the headline figures and the coverage by group (no charts, quick)."""
        import html

        r = self.report_data()
        h = r.headline
        rows = [("status", h["status_words"]), ("coverage of need", "–" if h["coverage_share"] is None else
                                                f"{h['coverage_share']:.1%}"),
                (f"budget ({r.currency})", f"{h['money_total']:,.0f}"), ("staff", f"{h['staff']:,}"),
                ("clause families broken", str(int((r.clauses["status"] == "broken").sum())))]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in rows)
        groups = r.groups[["label", "need", "covered", "coverage_share"]].to_html(
            index=False, float_format=lambda v: f"{v:,.1f}")
        return f"<div><b>{html.escape(r.title)}</b><table>{body}</table>{groups}</div>"
