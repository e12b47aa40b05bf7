"""Funding sources (issue 15), checked from ``sources.csv``, ``budget.csv`` and the instance alone.

Written from the formulation's text (:mod:`allocator.station.families.sources` docstring) and POLICY.md;
nothing is imported from :mod:`allocator.station`.  ``sources.csv`` has one row per station and source
(``city``, ``county``, ``social``, ``fees``) with the yuan paid from it; a missing file, an unknown source or
station, or a blank amount is a failure of the clause's [paid] family (a yuan with no source).

* A-SOURCES / F-SOURCES [paid]: per station, the sources' yuan = facilities + salaries + services + training;
  summary.json's ``money_by_source`` (when written) = sources.csv's sums.
* [split]: per share (A: fiscal = city + county, donations = social, fees; F: fiscal, social, revenue = fees),
  (share - tolerance) x all money <= that money <= (share + tolerance) x all money, a ``min`` and a ``max`` row.
* [available]: a capped source's yuan <= its cap (A: donations_max, fees_max; F: social_max, revenue_max).
* F-OPS-SUBSIDY [city]: per station, city yuan = per_worker x social workers + (with F-BUILD-SUBSIDY in
  force) the facilities money of a new or upgrade station, the building subsidy (F-BUILD-SUBSIDY checks
  that it is the subsidy x built).
* F-OPS-SUBSIDY [county_match]: per county, county yuan >= county_match x per_worker x its social workers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.verify.checks.base import CheckFamily
from allocator.verify.context import Context

__all__ = ["FAMILIES"]

NAMES = ("city", "county", "social", "fees")
SHARES = {"A-SOURCES": (("fiscal", ("city", "county")), ("donations", ("social",)), ("fees", ("fees",))),
          "F-SOURCES": (("fiscal", ("city", "county")), ("social", ("social",)), ("revenue", ("fees",)))}
CAPS = {"A-SOURCES": (("donations_max", "social"), ("fees_max", "fees")),
        "F-SOURCES": (("social_max", "social"), ("revenue_max", "fees"))}


def _owner(inst: Instance) -> str | None:
    return "A-SOURCES" if inst.clause("A-SOURCES") else ("F-SOURCES" if inst.clause("F-SOURCES") else None)


def _table(ctx: Context) -> np.ndarray:
    """sources.csv as stations x sources (yuan); problems recorded against the owning clause's [paid]."""
    cid = _owner(ctx.inst) or "F-SOURCES"
    out = np.zeros((ctx.S, len(NAMES)))
    df = ctx.plan.sources
    if df is None or any(c not in df.columns for c in ("station_id", "source", "yuan")):
        ctx.col.fail(cid, "paid", None, "sources.csv gives every station's money by source",
                     "FAIL: sources.csv is missing or lacks station_id, source, yuan: the plan's money has no source")
        return out
    si = pd.Index(ctx.ids).get_indexer(df["station_id"].astype(str))
    ji = pd.Index(NAMES).get_indexer(df["source"].astype(str))
    yuan = pd.to_numeric(df["yuan"], errors="coerce").to_numpy(dtype=float)
    bad = (si < 0) | (ji < 0) | np.isnan(yuan)
    if bad.any():
        ctx.col.fail(cid, "paid", None, "sources.csv: known stations and sources, a number of yuan",
                     f"FAIL: sources.csv has {int(bad.sum())} row(s) with an unknown station or source or no amount")
    neg = ~bad & (yuan < -ctx.tol.of("yuan", 0.0))
    if neg.any():
        ctx.col.fail(cid, "paid", None, "sources.csv: no negative amount",
                     f"FAIL: sources.csv has {int(neg.sum())} negative amount(s)")
    seen = np.zeros_like(out)
    np.add.at(seen, (si[~bad], ji[~bad]), 1.0)
    if (seen > 1).any():
        ctx.col.fail(cid, "paid", None, "sources.csv: one row per station and source",
                     f"FAIL: sources.csv repeats {int((seen > 1).sum())} station x source pair(s)")
    np.add.at(out, (si[~bad], ji[~bad]), yuan[~bad])
    return out


def _src(ctx: Context) -> np.ndarray:
    cached = getattr(ctx, "_sources_cache", None)
    if cached is None:
        cached = _table(ctx)
        ctx._sources_cache = cached  # type: ignore[attr-defined]
    return cached


def paid(cid: str, ctx: Context) -> None:
    """[paid]: the sources' yuan of each station = its money of every use (budget.csv)."""
    src = _src(ctx)
    ctx.station_rows(cid, "paid", "money from the sources = money of the uses", src.sum(axis=1), "=",
                     ctx.fac + ctx.ops, "yuan")
    written = ctx.plan.summary.get("money_by_source")
    if isinstance(written, dict):  # summary.json's money by source, recomputed from sources.csv
        for j, name in enumerate(NAMES):
            value = written.get(name)
            ctx.col.compare(cid, "paid", None, f"summary.json money_by_source.{name} as sources.csv gives it",
                            float(value) if isinstance(value, (int, float)) else float("nan"), "=",
                            float(src[:, j].sum()), "yuan", only_failures=True)


def split(cid: str, ctx: Context) -> None:
    """[split]: each share's sources within (share -/+ tolerance) x all the money the sources pay."""
    src = _src(ctx)
    tol = ctx.fig(cid, "tolerance", 0.0)
    whole = float(src.sum())
    for q, members in SHARES[cid]:
        money = float(src[:, [NAMES.index(m) for m in members]].sum())
        share = ctx.fig(cid, q)
        ctx.row(cid, "split", None, f"{q} money >= (share - tolerance) x all money", money, ">=",
                (share - tol) * whole, "yuan")
        ctx.row(cid, "split", None, f"{q} money <= (share + tolerance) x all money", money, "<=",
                (share + tol) * whole, "yuan")


def available(cid: str, ctx: Context) -> None:
    """[available]: a capped source's yuan within its cap."""
    src = _src(ctx)
    c = ctx.inst.clause(cid)
    for name, source in CAPS[cid]:
        if c is not None and name in c.figures:
            ctx.row(cid, "available", source, f"{source} money <= {name}", float(src[:, NAMES.index(source)].sum()),
                    "<=", ctx.fig(cid, name), "yuan")


def city(ctx: Context) -> None:
    """F-OPS-SUBSIDY [city]: city yuan = per_worker x social workers + facilities of new/upgrade stations."""
    due = ctx.fig("F-OPS-SUBSIDY", "per_worker") * ctx.sw
    if ctx.inst.clause("F-BUILD-SUBSIDY") is not None:  # the building subsidy: facilities of new/upgrade stations
        due = due + np.where(np.isin(ctx.status, ("new", "upgrade")), ctx.fac, 0.0)
    ctx.station_rows("F-OPS-SUBSIDY", "city", "city money = per_worker x social workers + building subsidy",
                     _src(ctx)[:, 0], "=", due, "yuan")


def county_match(ctx: Context) -> None:
    """F-OPS-SUBSIDY [county_match]: per county, county yuan >= match x per_worker x social workers."""
    src = _src(ctx)
    k = ctx.fig("F-OPS-SUBSIDY", "county_match") * ctx.fig("F-OPS-SUBSIDY", "per_worker")
    for name in sorted(set(ctx.county.tolist())):
        m = ctx.county == name
        ctx.row("F-OPS-SUBSIDY", "county_match", name, "county money >= match x city operating subsidy",
                float(src[m, 1].sum()), ">=", k * float(ctx.sw[m].sum()), "yuan")


def _in(cid: str, *figs: str, owner: bool = False, any_of: tuple[str, ...] = ()) -> object:
    def applies(inst: Instance) -> bool:
        c = inst.clause(cid)
        if c is None or any(f not in c.figures for f in figs):
            return False
        if any_of and not any(f in c.figures for f in any_of):
            return False
        return not owner or _owner(inst) == cid
    return applies


def _subsidy(*figs: str) -> object:
    def applies(inst: Instance) -> bool:
        c = inst.clause("F-OPS-SUBSIDY")
        return c is not None and all(f in c.figures for f in figs) and _owner(inst) is not None
    return applies


def _fams() -> tuple[CheckFamily, ...]:
    from functools import partial
    out: list[CheckFamily] = []
    for cid in ("A-SOURCES", "F-SOURCES"):
        shares = tuple(q for q, _ in SHARES[cid])
        out += [CheckFamily(cid, "paid", _in(cid, owner=True), partial(paid, cid),  # type: ignore[arg-type]
                            "the clause in force (A-SOURCES owns the identity when both are)"),
                CheckFamily(cid, "split", _in(cid, *shares), partial(split, cid),  # type: ignore[arg-type]
                            "figures " + ", ".join(shares)),
                CheckFamily(cid, "available", _in(cid, any_of=tuple(n for n, _ in CAPS[cid])),  # type: ignore[arg-type]
                            partial(available, cid), "a cap on a source")]
    out += [CheckFamily("F-OPS-SUBSIDY", "city", _subsidy("per_worker"), city,  # type: ignore[arg-type]
                        "figure per_worker and A-SOURCES or F-SOURCES in force"),
            CheckFamily("F-OPS-SUBSIDY", "county_match", _subsidy("per_worker", "county_match"),  # type: ignore[arg-type]
                        county_match, "figures per_worker, county_match and A-SOURCES or F-SOURCES in force")]
    return tuple(out)


FAMILIES: tuple[CheckFamily, ...] = _fams()
