"""F-DEGREE and F-YOUNG re-checked from the plan's files: hires by profile, the stock's shares, the premium.

Written apart from the builder (nothing from :mod:`allocator.station`): the verifier reads staff.csv's
``sw_hires_bachelor`` / ``sw_hires_young``, a horizon's hires.csv ``bachelor`` / ``young`` and profile.csv,
and recomputes with the rules the formulation states (``allocator/station/families/profile.py``):

* one year: hires at a station = social workers - social workers in post today - net moves in (moves.csv);
  profile hires <= hires;
  stock = today's (staff.csv: ``bachelor``; ``age`` < ``age_below``) + the profile's hires;
* horizon: each profile loses the year's F-TURNOVER rate of its stock at the start of the year; today's
  workers are under ``age_below`` in year index k while age + k < age_below; hired young workers leave the
  band at the share of today's young workers aged age_below - 1, each year after the one they are hired in;
* a hire with a bachelor's degree costs F-DEGREE ``hire_premium`` a year more while in post (salaries >= the
  base pay of the staff plus the premium of the bachelor hires still in post).

Every failure names the clause and the year (station field ``F012 2025``; ``2025`` for a total).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.verify.checks.base import family, in_force
from allocator.verify.context import Context
from allocator.verify.report import Collector

PREFIX = {"F-DEGREE": "bachelor", "F-YOUNG": "young"}
STAFF_COL = {"F-DEGREE": "sw_hires_bachelor", "F-YOUNG": "sw_hires_young"}


def _where(station: str | None, year: int | str) -> str:
    return f"{station} {year}" if station else str(year)


def _today(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's social workers: station position, bachelor flag, age (staff.csv)."""
    sf = inst.staff
    ids = pd.Index(np.asarray(inst.stations["station_id"]).astype(str))
    typ = np.asarray(sf["type"]).astype(str)
    keep = typ == "social_worker"
    pos = ids.get_indexer(np.asarray(sf["station_id"]).astype(str)[keep])
    bach = np.asarray(sf["bachelor"], dtype=bool)[keep] if "bachelor" in sf else np.zeros(int(keep.sum()), bool)
    age = np.asarray(sf["age"], dtype=float)[keep] if "age" in sf else np.full(int(keep.sum()), 35.0)
    return pos, bach, age


def _marked_today(inst: Instance, cid: str, k: int) -> np.ndarray:
    """Per station: today's social workers with the clause's mark in year index ``k`` (before leavers)."""
    pos, bach, age = _today(inst)
    if cid == "F-DEGREE":
        mark = bach
    else:
        c = inst.any_clause("F-YOUNG")
        mark = age + k < (float(c.figures.get("age_below", 35.0)) if c is not None else 35.0)
    out = np.zeros(len(inst.stations))
    np.add.at(out, pos[mark & (pos >= 0)], 1.0)
    return out


def _edge(inst: Instance) -> float:
    """Share of today's young social workers aged age_below - 1 (they leave the band within a year)."""
    c = inst.any_clause("F-YOUNG")
    below = float(c.figures.get("age_below", 35.0)) if c is not None else 35.0
    _, _, age = _today(inst)
    young = age < below
    return float(np.sum(np.floor(age[young]) == below - 1) / np.sum(young)) if young.any() else 0.0


def _read(folder: Path | None, name: str) -> pd.DataFrame | None:
    if folder is None or not (folder / name).is_file():
        return None
    return pd.read_csv(folder / name, dtype={"station_id": str}, keep_default_na=False)


def _by_station(df: pd.DataFrame, column: str, ids: np.ndarray) -> np.ndarray:
    s = pd.to_numeric(df[column], errors="coerce").fillna(0.0)
    return s.groupby(df["station_id"].astype(str)).sum().reindex(ids, fill_value=0.0).to_numpy(dtype=float)


def _profile_row(col: Collector, cid: str, prof: pd.DataFrame | None, year: int, figures: dict[str, float]) -> None:
    """profile.csv's row of ``year`` states the figures the verifier computed."""
    if prof is None:
        col.fail(cid, "profile", _where(None, year), "the plan has profile.csv", "FAIL: no profile.csv")
        return
    row = prof[pd.to_numeric(prof["year"], errors="coerce") == year] if "year" in prof.columns else prof.iloc[:0]
    if len(row) != 1:
        col.fail(cid, "profile", _where(None, year), "profile.csv has one row for the year",
                 f"FAIL: profile.csv has {len(row)} row(s) for {year}")
        return
    for name, want in figures.items():
        got = pd.to_numeric(row[name], errors="coerce").iloc[0] if name in row.columns else np.nan
        if np.isnan(got):
            col.fail(cid, "profile", _where(None, year), f"profile.csv states {name}",
                     f"FAIL: profile.csv has no {name} for {year}")
            continue
        col.compare(cid, "profile", _where(None, year), f"profile.csv {name} as the plan's tables give it",
                    float(got), "=", float(want), "share" if name.endswith(("_share", "_target")) else "workers",
                    only_failures=True, slack=1e-5)


def _net_moves_in(ctx: Context) -> np.ndarray:
    """Social workers moved in less moved out per station (moves.csv, X-MOVES): posts filled by no hire."""
    net = np.zeros(ctx.S)
    mv = ctx.plan.moves
    if mv is None or not len(mv):
        return net
    at = {s: i for i, s in enumerate(ctx.ids)}
    count = pd.to_numeric(mv["count"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    for frm, to, n in zip(mv["from_station"].astype(str), mv["to_station"].astype(str), count, strict=True):
        if to in at:
            net[at[to]] += n
        if frm in at:
            net[at[frm]] -= n
    return net


def _one_year(ctx: Context, cid: str) -> None:
    col, y, p = ctx.col, ctx.inst.year, PREFIX[cid]
    folder = ctx.plan.folder
    staff = _read(folder, "staff.csv")
    if staff is None or STAFF_COL[cid] not in staff.columns:
        col.fail(cid, "hires", _where(None, y), f"staff.csv states {STAFF_COL[cid]}",
                 f"FAIL: staff.csv has no column {STAFF_COL[cid]} (the hires by profile {cid} needs)")
        n = np.zeros(ctx.S)
    else:
        n = _by_station(staff, STAFF_COL[cid], ctx.ids)
    hires = ctx.sw - ctx.post_sw - _net_moves_in(ctx)
    for s in range(ctx.S):
        col.compare(cid, "hires", _where(ctx.ids[s], y), f"{p} hires <= social-worker hires (in post - today)",
                    n[s], "<=", max(hires[s], 0.0), "workers", only_failures=True)
        col.compare(cid, "hires", _where(ctx.ids[s], y), f"{p} hires >= 0", n[s], ">=", 0.0, "workers",
                    only_failures=True)
    today = float(_marked_today(ctx.inst, cid, 0).sum())
    share = ctx.fig(cid, "share")
    sw = float(ctx.sw.sum())
    ctx.row(cid, "share", None, f"{p} social workers (today's {today:g} + {n.sum():g} hired) >= {share:g} x "
            f"social workers", float(n.sum()) - share * sw, ">=", -today, "workers")
    premium = ctx.fig(cid, "hire_premium", 0.0) if cid == "F-DEGREE" else 0.0
    if premium > 0:
        pay = ctx.base("social_worker") * ctx.sw + ctx.base("admin") * ctx.adm + ctx.base("volunteer") * ctx.vol
        for s in range(ctx.S):
            col.compare(cid, "payroll", _where(ctx.ids[s], y), f"salaries >= base pay + {premium:,.0f} per bachelor "
                        "hire", ctx.sal[s], ">=", pay[s] + premium * n[s], "yuan", only_failures=True)
    stock = today + float(n.sum())
    _profile_row(col, cid, _read(folder, "profile.csv"), y, {
        "social_workers": sw, "sw_hires": float(ctx.sw.sum() - ctx.post_sw.sum()), f"{p}_hires": float(n.sum()),
        p: stock, f"{p}_share": stock / sw if sw else 0.0, f"{p}_target": share})


@family("F-DEGREE", "share", in_force("F-DEGREE", "share"), "its share")
def degree_share(ctx: Context) -> None:
    """F-DEGREE [share]: bachelor hires within the hires; today's bachelors plus them >= share x social workers."""
    _one_year(ctx, "F-DEGREE")


@family("F-YOUNG", "share", in_force("F-YOUNG", "share"), "its share")
def young_share(ctx: Context) -> None:
    """F-YOUNG [share]: young hires within the hires; today's young plus them >= share x social workers."""
    _one_year(ctx, "F-YOUNG")


FAMILIES = (degree_share, young_share)


def _hire_marks(col: Collector, cid: str, hires: pd.DataFrame, y: int, ids: np.ndarray) -> np.ndarray:
    """hires.csv's profile column of year ``y`` per station (each row's mark within its hires, 0 off social workers)."""
    name = PREFIX[cid]
    h = hires[hires["year"] == y]
    mark = pd.to_numeric(h[name], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    n = pd.to_numeric(h["hires"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    sw = (h["type"].astype(str) == "social_worker").to_numpy()
    for i in np.flatnonzero((mark > n + 1e-9) | (mark < -1e-9) | (~sw & (mark > 1e-9))):
        col.compare(cid, "hires", _where(str(h["station_id"].iloc[i]), y), f"hires.csv {name} within the row's "
                    "social-worker hires", float(mark[i]), "<=", float(n[i]) if sw[i] else 0.0, "workers")
    return _by_station(h.assign(**{name: np.where(sw, mark, 0.0)}), name, ids)


def check_profile_horizon(inst: Instance, plan_dir: Path, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """F-DEGREE and F-YOUNG over a horizon: hires.csv's marks, the stock per year, clauses.csv, profile.csv."""
    years = list(inst.years)
    cids = [c for c in PREFIX if any(inst.for_year(y).clause(c) is not None for y in years)]
    if not cids:
        return
    ids = np.asarray(inst.stations["station_id"]).astype(str)
    hires = t["hires"].assign(year=pd.to_numeric(t["hires"]["year"]).astype(int))
    staff = t["staff"].assign(year=pd.to_numeric(t["staff"]["year"]).astype(int))
    bud = t["budget"].assign(year=pd.to_numeric(t["budget"]["year"]).astype(int))
    cl = t["clauses"]
    prof = _read(plan_dir, "profile.csv")
    for cid in cids:
        p = PREFIX[cid]
        if p not in hires.columns:
            col.fail(cid, "hires", _where(None, years[0]), f"hires.csv states {p}", f"FAIL: hires.csv has no {p}")
            continue
        g = _edge(inst) if cid == "F-YOUNG" else 0.0
        kept_today, hired, in_post = 1.0, 0.0, np.zeros(len(ids))
        for k, y in enumerate(years):
            iy = inst.for_year(y)
            turn = iy.any_clause("F-TURNOVER")
            r = float(turn.figures.get("rate", 0.0)) if turn is not None else 0.0
            n = _hire_marks(col, cid, hires, y, ids)
            st = staff[staff["year"] == y]
            if STAFF_COL[cid] in st.columns and st[STAFF_COL[cid]].astype(str).str.len().gt(0).any():
                written = _by_station(st, STAFF_COL[cid], ids)
                for i in np.flatnonzero(np.abs(written - n) > 1e-6):
                    col.compare(cid, "hires", _where(ids[i], y), f"staff.csv {STAFF_COL[cid]} = hires.csv {p} "
                                "summed", float(written[i]), "=", float(n[i]), "workers")
            kept_today *= 1.0 - r
            hired = hired * (1.0 - r - g) + float(n.sum())
            in_post = in_post * (1.0 - r) + n  # bachelor hires still in post, per station (the premium)
            stock = float(_marked_today(inst, cid, k).sum()) * kept_today + hired
            sw = float(pd.to_numeric(st["social_workers"]).sum())
            sw_h = hires[(hires["year"] == y) & (hires["type"].astype(str) == "social_worker")]
            c = iy.clause(cid)
            if c is None or "share" not in c.figures:
                continue
            share = float(c.figures["share"])
            margin = stock - share * sw
            _horizon_row(col, cl, cid, y, c.mode("share"), margin, f"{p} {stock:,.2f} >= {share:g} x {sw:g} social "
                         "workers")
            if cid == "F-DEGREE" and (prem := float(c.figures.get("hire_premium", 0.0))) > 0:
                b = bud[bud["year"] == y]
                sal = _by_station(b, "salaries", ids)
                base = {tp: float(inst.staff_type(tp).annual_cost) for tp in ("social_worker", "admin", "volunteer")}
                pay = np.zeros(len(ids))
                for tp, column in (("social_worker", "social_workers"), ("admin", "admin"),
                                   ("volunteer", "volunteers")):
                    pay += base[tp] * _by_station(st, column, ids)
                for i in np.flatnonzero(sal < pay + prem * in_post - 1e-3):
                    col.compare(cid, "payroll", _where(ids[i], y), f"salaries >= base pay + {prem:,.0f} per bachelor "
                                "hire in post", float(sal[i]), ">=", float(pay[i] + prem * in_post[i]), "yuan")
            _profile_row(col, cid, prof, y, {
                "social_workers": sw, "sw_hires": float(pd.to_numeric(sw_h["hires"]).sum()), f"{p}_hires": n.sum(),
                p: stock, f"{p}_share": stock / sw if sw else 0.0, f"{p}_target": share})


def _horizon_row(col: Collector, cl: pd.DataFrame, cid: str, y: int, mode: str, margin: float, desc: str) -> None:
    """The year's share row: clauses.csv's margin and deviation against the verifier's; hard rows must hold."""
    rows = cl[(cl["clause_id"].astype(str) == cid) & (cl["family"].astype(str) == "share")
              & (pd.to_numeric(cl["year"], errors="coerce") == y)]
    if len(rows) != 1:
        col.fail(cid, "share", _where(None, y), "clauses.csv has the year's share row",
                 f"FAIL: clauses.csv has {len(rows)} {cid} [share] row(s) for {y}")
    else:
        r = rows.iloc[0]
        written = float(pd.to_numeric(r["value"])) - float(pd.to_numeric(r["limit"]))
        col.compare(cid, "share", _where(None, y), "clauses.csv value - limit = the stock's margin over the share",
                    written, "=", margin, "workers", slack=1e-5)
        dev = float(pd.to_numeric(r["deviation"]))
        col.compare(cid, "share", _where(None, y), "clauses.csv deviation = the shortfall", dev, "=",
                    max(0.0, -margin) if mode == "soft" else 0.0, "workers", only_failures=True, slack=1e-5)
    if mode == "soft":
        if margin < -1e-6:
            col.notes.append(f"{cid} share {y}: {desc} (soft, short by {-margin:,.2f} workers)")
    else:
        col.compare(cid, "share", _where(None, y), desc, margin, ">=", 0.0, "workers")
