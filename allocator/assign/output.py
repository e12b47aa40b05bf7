"""The assignment's summary, its text for a reader, and its files (written whole or not at all)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from allocator.assign.packages import PackageResult
from allocator.assign.roster import RosterResult
from allocator.atomic import write_dir_atomically


def _packages_doc(res: PackageResult) -> dict[str, Any]:
    doc: dict[str, Any] = {"status": res.status.value, "objective": res.objective, "bound": res.bound,
                           "gap": res.gap, "placed": len(res.placements), "dept_link_share": res.dept_link_share}
    if res.dept_link is not None:
        doc["dept_link"] = asdict(res.dept_link)
    return doc


def assignment_summary(res: PackageResult, roster: RosterResult) -> dict[str, Any]:
    """The summary ``allocator assign --json`` prints.

    Parameters
    ----------
    res : PackageResult
    roster : RosterResult

    Returns
    -------
    dict
        Packages (status, objective, gap, placed, F-DEPT-LINK share and its figures) and the roster summary.
    """
    rs = roster.summary
    out: dict[str, Any] = {"status": res.status.value, "objective": res.objective, "gap": res.gap,
                           "packages_placed": len(res.placements), "dept_link_share": res.dept_link_share}
    if res.dept_link is not None:
        out["dept_link"] = asdict(res.dept_link)
    out.update({"roster": rs, "workers_moved": rs["moved"], "hires": rs["hires"], "hiring_cost": rs["hiring_cost"],
                "local_hires_required": rs["local_required"]})
    return out


def _dept_link_text(res: PackageResult) -> str:
    share = f"{(res.dept_link_share or 0):.1%}"
    link = res.dept_link
    if link is None:
        return f"stations linked to >= 3 departments: {share} (F-DEPT-LINK not applied)"
    text = (f"stations linked to >= {link.departments} departments: {link.linked} ({share}; F-DEPT-LINK asks "
            f"{link.target}, {link.share:.0%} of the active stations, {link.mode})")
    if link.shortfall:
        text += (f"; {link.shortfall} short: the packages offered cannot link more" if link.mode == "hard"
                 else f"; {link.shortfall} short (soft, penalised)")
    return text


def format_assignment(res: PackageResult, roster: RosterResult, out: str | os.PathLike[str] | None = None) -> str:
    """The text ``allocator assign`` prints: packages, F-DEPT-LINK, the roster and the hiring list.

    Parameters
    ----------
    res : PackageResult
    roster : RosterResult
    out : path-like, optional
        Where the assignment was written (said on the last line).

    Returns
    -------
    str
    """
    rs = roster.summary
    limit = "no limit" if roster.max_moves is None else f"at most {roster.max_moves}"
    lines = [f"Packages: {res.status.value.upper()}, {len(res.placements)} placed, need covered "
             f"{res.objective or 0:,.0f} (weighted residents); {_dept_link_text(res)}",
             f"Roster: {roster.status.value.upper()} by {roster.method} ({roster.why}), {roster.seconds:.2f} s",
             f"  {len(roster.roster)} workers in post, {rs['moved']} moved ({rs.get('plan_moves', 0)} by the plan's "
             f"moves.csv, {rs.get('roster_moves', rs['moved'])} more: {limit}; {rs['moved_county']} to another "
             f"county), {rs['certified']} to certify, {rs['promoted']} to promote; one-off cost "
             f"{rs['roster_cost']:,} yuan",
             f"  hires {rs['hires']} costing {rs['hiring_cost']:,} a year; {rs['local_required']} of them "
             "local (F-LOCAL-HIRE)"]
    if rs["local_shortfall"]:
        lines.append(f"  F-LOCAL-HIRE: {rs['local_shortfall']} local social worker(s) missing at "
                     f"{rs['local_shortfall_stations']} rural station(s) even with every hire local: staff in "
                     "post who are not local stay (IN-POST); --max-moves lets the roster move them")
    if len(roster.hires):
        lines.append(roster.hires.groupby("post")[["hires", "annual_cost", "local_required"]].sum().to_string())
    if out:
        lines.append(f"assignment written to {out}")
    return "\n".join(lines)


def write_assignment(res: PackageResult, roster: RosterResult, out: str | os.PathLike[str],
                     year: int | None = None, staff: Any = None) -> None:
    """Write packages.csv, package_stations.csv, roster.csv, hires.csv, local_hire.csv and assignment.json,
    whole or not at all.

    For one year of a horizon plan (``assign --year``): ``year`` goes into assignment.json and ``staff``
    (the staff in post that year the roster placed, a DataFrame: today's workers less the horizon's
    leavers, earlier years' hires as ``hire-...`` placeholders; :mod:`allocator.assign.horizon`) to
    ``staff_in_post.csv``, so a year-aware check can read whom the roster was given."""
    doc: dict[str, Any] = {"packages": _packages_doc(res), "roster": roster.summary}
    if year is not None:
        doc["year"] = year

    def fill(tmp: Path) -> None:
        res.placements.to_csv(tmp / "packages.csv", index=False, lineterminator="\n")
        res.stations.to_csv(tmp / "package_stations.csv", index=False, lineterminator="\n")
        roster.roster.to_csv(tmp / "roster.csv", index=False, lineterminator="\n")
        roster.hires.to_csv(tmp / "hires.csv", index=False, lineterminator="\n")
        roster.local.to_csv(tmp / "local_hire.csv", index=False, lineterminator="\n")
        (tmp / "assignment.json").write_text(json.dumps(doc, indent=2, default=float) + "\n", encoding="utf-8")
        if staff is not None:
            staff.to_csv(tmp / "staff_in_post.csv", index=False, lineterminator="\n")

    write_dir_atomically(out, fill)
