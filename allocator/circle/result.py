"""The result of a circle solve: :class:`CirclePlan` and the tables derived from the open points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.circle.data import EPS, CircleData
from allocator.circle.reach import Reach
from allocator.outcome import Outcome, WithOutcome


@dataclass(frozen=True, eq=False)
class CirclePlan(WithOutcome):
    """The result of a circle solve: how it ended (``outcome``) and, when there is a plan, its tables.

    Attributes
    ----------
    outcome : Outcome
        Status, objective, bound, gap, solver, seconds and message (the one outcome every result carries).
    model : str
        ``mclp``, ``cmclp``, ``lscp`` or ``pmedian``.
    solver_version : str
        Version of the solver that produced the plan.
    tables : dict of str to pandas.DataFrame
        ``points``, ``places``, ``assignment``, ``coverage_group``, ``coverage_township``,
        ``coverage_county``, ``uncovered`` (empty without a plan).
    summary, manifest : dict
        What ``summary.json`` and ``manifest.json`` hold.
    timings : dict of str to float
        Seconds spent on travel times, building, solving and reporting.

    ``status``, ``objective``, ``bound``, ``gap``, ``solver``, ``seconds`` and ``message`` read the outcome.
    """

    outcome: Outcome
    model: str
    solver_version: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def nearest_open(reach: Reach, open_: np.ndarray, within: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per place: nearest open site (-1), its minutes (inf), and the number of open sites within ``within``."""
    m = open_[reach.site]
    pp, ss, tt = reach.place[m], reach.site[m], reach.minutes[m]
    order = np.lexsort((ss, tt, pp))
    pp, ss, tt = pp[order], ss[order], tt[order]
    first = np.ones(len(pp), dtype=bool)
    first[1:] = pp[1:] != pp[:-1]
    site = np.full(reach.n_places, -1, dtype=np.int64)
    mins = np.full(reach.n_places, np.inf)
    site[pp[first]] = ss[first]
    mins[pp[first]] = tt[first]
    count = np.bincount(pp[tt <= within + EPS], minlength=reach.n_places)
    return site, mins, count


def objective_of(data: CircleData, reach: Reach, model: str, open_: np.ndarray, T: float, R: float,
                     served: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> float:
    """The model's objective recomputed from the open points on the full (unreduced) data."""
    _, mins, _ = nearest_open(reach, open_, T)
    need = data.need
    if model == "mclp":
        return float(need[mins <= T + EPS].sum())
    if model == "lscp":
        return float((open_ & ~data.existing).sum())
    if model == "cmclp":
        assert served is not None
        xp, _, xv = served
        pop = data.population
        v = np.divide(need, pop, out=np.zeros_like(need), where=pop > 0)
        return float((v[xp] * xv).sum())
    has_any = np.zeros(len(need), dtype=bool)
    has_any[reach.place[reach.minutes <= R + EPS]] = True
    t = np.minimum(np.where(np.isfinite(mins), mins, R), R)
    return float((need * t)[has_any].sum())


def plan_tables(data: CircleData, reach: Reach, model: str, open_: np.ndarray, T: float, R: float,
            served: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> dict[str, pd.DataFrame]:
    pl, st = data.places, data.sites
    pop = data.population
    need = data.need
    site_ids = st["site_id"].to_numpy(dtype=object)
    near, mins, count = nearest_open(reach, open_, T)
    within = mins <= T + EPS
    if served is not None:
        xp, xs, xv = served
        sv = np.bincount(xp, weights=xv, minlength=len(pop))
        frac = np.divide(sv, pop, out=np.zeros_like(pop), where=pop > 0)
    else:
        frac = within.astype(float)
        sv = pop * frac
    places = pd.DataFrame({
        "place_id": pl["place_id"], "name": pl["name"], "township": pl["township"], "county": pl["county"],
        "area_type": pl["area_type"], "population": pl["population"], "need": np.round(need, 6),
        "within_T": within.astype(int), "nearest_point": np.where(near >= 0, site_ids[np.maximum(near, 0)], ""),
        "minutes": np.where(np.isfinite(mins), np.round(mins, 3), np.nan), "open_points_within_T": count,
        "served": np.round(sv, 6),
    })
    if served is not None:
        keep = xv > 1e-6
        assign = pd.DataFrame({"place_id": pl["place_id"].to_numpy()[xp[keep]], "site_id": site_ids[xs[keep]],
                               "minutes": np.round(_pair_minutes(reach, xp[keep], xs[keep]), 3),
                               "residents": np.round(xv[keep], 6)})
    else:
        lim = R if model == "pmedian" else T
        has = (near >= 0) & (mins <= lim + EPS)
        assign = pd.DataFrame({"place_id": pl["place_id"].to_numpy()[has], "site_id": site_ids[near[has]],
                               "minutes": np.round(mins[has], 3), "residents": pop[has].astype(np.int64)})
    assign = assign.sort_values(["place_id", "site_id"], kind="stable").reset_index(drop=True)
    # points
    Wt = reach.matrix(T)
    wcount = np.asarray(Wt.sum(axis=0)).ravel()
    wpop = Wt.T @ pop
    wneed = Wt.T @ need
    sidx = {s: j for j, s in enumerate(site_ids)}
    load = np.bincount([sidx[s] for s in assign["site_id"]], weights=assign["residents"].to_numpy(float),
                       minlength=len(st))
    pidx = {p: i for i, p in enumerate(pl["place_id"])}
    sp_ = np.array([pidx[p] for p in st["place_id"]], dtype=np.int64)
    points = pd.DataFrame({
        "site_id": st["site_id"], "name": st["name"], "place_id": st["place_id"],
        "township": pl["township"].to_numpy()[sp_], "county": pl["county"].to_numpy()[sp_], "kind": st["kind"],
        "open": open_.astype(int), "new": (open_ & ~data.existing).astype(int),
        "opening_cost": np.round(st["opening_cost"].to_numpy(float), 2),
        "capacity": st["capacity"].to_numpy(float),
        "places_within_T": wcount, "residents_within_T": np.round(wpop).astype(np.int64),
        "need_within_T": np.round(wneed, 6),
        "assigned_residents": np.round(load, 6),
    })
    # coverage by group, township, county
    G = pl[list(data.groups)].to_numpy(dtype=np.float64)
    gtab = pd.DataFrame({"group": list(data.groups), "label": [data.group_labels.get(g, g) for g in data.groups],
                         "weight": data.weights, "residents": G.sum(axis=0),
                         "within_T": (G * within[:, None]).sum(axis=0)})
    if served is not None:
        gtab["served"] = (G * frac[:, None]).sum(axis=0)
    gtab = _shares(gtab, served is not None)
    base = pd.DataFrame({"township": pl["township"], "county": pl["county"], "population": pop,
                         "within_T": pop * within, "need": need, "need_within_T": need * within, "served": sv})
    new_at = points[points["new"] == 1].groupby("township").size()
    tw = base.groupby(["township", "county"], sort=True).sum(numeric_only=True).reset_index()
    tw["new_points"] = tw["township"].map(new_at).fillna(0).astype(int)
    co = base.drop(columns="township").groupby("county", sort=True).sum(numeric_only=True).reset_index()
    co["new_points"] = co["county"].map(points[points["new"] == 1].groupby("county").size()).fillna(0).astype(int)
    tw, co = (_shares(t.rename(columns={"population": "residents"}), served is not None) for t in (tw, co))
    unc = places[places["within_T"] == 0][["place_id", "name", "township", "county", "area_type", "population",
                                           "need", "nearest_point", "minutes"]].reset_index(drop=True)
    return {"points": points, "places": places, "assignment": assign, "coverage_group": gtab,
            "coverage_township": tw, "coverage_county": co, "uncovered": unc}


def _pair_minutes(reach: Reach, p: np.ndarray, s: np.ndarray) -> np.ndarray:
    key = reach.place * reach.n_sites + reach.site
    order = np.argsort(key)
    pos = np.searchsorted(key[order], p * reach.n_sites + s)
    return reach.minutes[order][pos]


def _shares(t: pd.DataFrame, served: bool) -> pd.DataFrame:
    t = t.copy()
    for c in ("residents", "within_T"):  # whole residents (population x 0/1)
        t[c] = np.round(t[c].to_numpy(dtype=np.float64)).astype(np.int64)
    t["share_within_T"] = np.round(t["within_T"] / t["residents"].where(t["residents"] > 0), 6)
    if "need" in t:
        t["need_share_within_T"] = np.round(t["need_within_T"] / t["need"].where(t["need"] > 0), 6)
    if served:
        t["share_served"] = np.round(t["served"] / t["residents"].where(t["residents"] > 0), 6)
    elif "served" in t:
        t = t.drop(columns="served")
    for c in t.columns:
        if t[c].dtype.kind == "f" and not c.startswith(("share", "need_share", "weight")):
            t[c] = np.round(t[c], 6)
    return t


def plan_summary(data: CircleData, t: dict[str, pd.DataFrame], open_: np.ndarray, model: str) -> dict[str, Any]:
    pts, pl = t["points"], t["places"]
    pop = float(pl["population"].sum())
    need = float(pl["need"].sum())
    within = float((pl["population"] * pl["within_T"]).sum())
    need_w = float((pl["need"] * pl["within_T"]).sum())
    new = pts[pts["new"] == 1]
    out: dict[str, Any] = {
        "totals": {
            "places": len(pl), "residents": pop, "residents_within_T": within,
            "share_within_T": round(within / pop, 6) if pop else None, "need": round(need, 6),
            "need_within_T": round(need_w, 6), "need_share_within_T": round(need_w / need, 6) if need else None,
            "existing_points": int((pts["kind"] == "existing").sum()), "candidates": int((pts["kind"] ==
                                                                                        "candidate").sum()),
            "new_points": len(new), "opening_cost": round(float(new["opening_cost"].sum()), 2),
            "places_uncovered": len(t["uncovered"]),
            "residents_uncovered": float(t["uncovered"]["population"].sum()),
        },
        "coverage_by_group": {r.group: {"residents": float(r.residents), "within_T": round(float(r.within_T), 6),
                                        "share": r.share_within_T} for r in t["coverage_group"].itertuples()},
        "coverage_by_township": {r.township: {"county": r.county, "residents": float(r.residents),
                                              "within_T": float(r.within_T), "share": r.share_within_T,
                                              "new_points": int(r.new_points)}
                                 for r in t["coverage_township"].itertuples()},
        "coverage_by_county": {r.county: {"residents": float(r.residents), "within_T": float(r.within_T),
                                          "share": r.share_within_T, "new_points": int(r.new_points)}
                               for r in t["coverage_county"].itertuples()},
        "uncovered": t["uncovered"]["place_id"].tolist(),
    }
    if model == "cmclp":
        served = float(pl["served"].sum())
        out["totals"]["residents_served"] = round(served, 6)
        out["totals"]["share_served"] = round(served / pop, 6) if pop else None
    if model == "pmedian":
        a = pl[np.isfinite(pl["minutes"])]
        out["totals"]["mean_minutes_need_weighted"] = (round(float((a["need"] * a["minutes"]).sum() /
                                                                   a["need"].sum()), 6) if len(a) else None)
    return out
