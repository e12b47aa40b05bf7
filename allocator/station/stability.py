"""Stability against a previous plan (``solve --baseline PLAN_DIR``): changes priced or limited.

Against the baseline plan's staff, budget, services and demonstration stations (matched by station
id; a station the baseline does not hold starts from nothing), the problem gains per station:

* ``stab_staff+/-[s,t]`` >= 0 with ``staff_t[s] - plus + minus = baseline staff_t[s]`` for
  t in admin, social workers, volunteers (posts added and removed);
* ``stab_money+/-[s,u]`` >= 0 (thousands of yuan) with ``m_u[s] - plus + minus = baseline m_u[s]`` for
  the four uses (money moved);
* ``stab_drop[s,k]`` >= 0 with ``y[s,k] + drop >= 1`` where the baseline offered k at s (dropped);
* ``stab_demo[s]`` >= 0 with ``demo + ch >= 1`` (baseline demonstration station) or ``ch - demo >= 0``.

Each family's columns are priced in the objective (``[objective] baseline_staff`` per post,
``baseline_money`` per yuan, ``baseline_service`` per service dropped, ``baseline_demo`` per station) and
summed in a limit row when the instance sets one (``baseline_max_*``).  The columns bound the changes from
above, so a limit row holds the plan's true changes; the changes reported (:func:`changes_table`) are
counted from the plan's tables, not read from the columns.  Columns and rows go after the model's own, so
the model's blocks keep their indices.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.instance import Instance
from allocator.station.builder import MONEY, Model
from allocator.station.plan import Plan
from solvers.base import MilpProblem

STAFF_TYPES = (("admin", ("adm",)), ("social_workers", ("swa", "swi", "swu")), ("volunteers", ("vol",)))
USES = (("facilities", "m_fac"), ("salaries", "m_sal"), ("services", "m_svc"), ("training", "m_trn"))
CHANGE_COLUMNS = ["station_id", "item", "detail", "baseline", "plan", "change", "unit"]


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The baseline's figures per station of the instance (its order), and what it holds beyond it."""

    staff: dict[str, np.ndarray]
    money: dict[str, np.ndarray]
    offered: np.ndarray
    demo: np.ndarray
    gone: pd.DataFrame

    @classmethod
    def of(cls, instance: Instance, plan: Plan) -> Baseline:
        """The baseline ``plan``'s figures on the stations of ``instance`` (missing stations: nothing)."""
        t = plan.tables
        for name in ("staff", "budget", "services", "stations"):
            if name not in t:
                raise ValueError(f"the baseline plan has no {name}.csv: not a plan written by `allocator solve`")
        ids = pd.Index(np.asarray(instance.stations["station_id"], dtype=str))

        def last_year(df: pd.DataFrame) -> pd.DataFrame:
            # A horizon plan carries a year column: last year's plan is its last year.
            return df[df["year"] == df["year"].max()] if "year" in df.columns else df

        staff = last_year(t["staff"]).set_index("station_id")
        budget = last_year(t["budget"]).set_index("station_id")
        st = last_year(t["stations"]).set_index("station_id")
        svc = last_year(t["services"])

        def per_station(df: pd.DataFrame, col: str) -> np.ndarray:
            return df[col].reindex(ids).fillna(0).to_numpy(dtype=float)

        svc_ids = list(instance.services["service_id"])
        off = svc[svc["offered"] > 0.5]
        offered = np.zeros((len(ids), len(svc_ids)), dtype=bool)
        si = ids.get_indexer(off["station_id"].astype(str))
        ki = pd.Index(svc_ids).get_indexer(off["service_id"].astype(str))
        ok = (si >= 0) & (ki >= 0)
        offered[si[ok], ki[ok]] = True
        gone = staff.loc[~staff.index.isin(ids)]
        return cls({k: per_station(staff, k) for k, _ in STAFF_TYPES},
                   {k: per_station(budget, k) for k, _ in USES}, offered,
                   per_station(st, "demo") > 0.5 if "demo" in st.columns else np.zeros(len(ids), bool), gone)


@dataclasses.dataclass(frozen=True)
class Stability:
    """The columns added: their indices by family (for the objective's parts and the limits)."""

    columns: dict[str, np.ndarray]

    def all(self) -> np.ndarray:
        return np.concatenate([v.ravel() for v in self.columns.values()]) if self.columns else np.zeros(0, int)


def add_baseline(instance: Instance, model: Model, problem: MilpProblem, base: Baseline) -> tuple[MilpProblem,
                                                                                               Stability]:
    """``problem`` with the baseline's change columns, rows, prices and limits appended."""
    obj = instance.objective
    S = len(instance.stations)
    n0 = problem.num_cols
    cols: list[tuple[str, int, float]] = []  # (family, count, price); rows: (row, col, coef, lo, hi)
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    new_c: list[np.ndarray] = []
    families: dict[str, np.ndarray] = {}
    nxt = n0
    m = problem.num_rows

    def add_cols(name: str, count: int, price: float) -> np.ndarray:
        nonlocal nxt
        idx = nxt + np.arange(count)
        nxt += count
        new_c.append(np.full(count, -price))
        families[name] = idx
        cols.append((name, count, price))
        return idx

    def add_rows(r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        nonlocal m
        rows.append((m + r, c, v, lo, hi))
        m += len(lo)

    sidx = np.arange(S)
    staff_cols = []
    for t, names in STAFF_TYPES:
        plus, minus = add_cols(f"staff+:{t}", S, obj.baseline_staff), add_cols(f"staff-:{t}", S, obj.baseline_staff)
        src = np.stack([model.col(n) for n in names], 1)
        r = np.concatenate([np.repeat(sidx, src.shape[1]), sidx, sidx])
        c = np.concatenate([src.ravel(), plus, minus])
        v = np.concatenate([np.ones(src.size), -np.ones(S), np.ones(S)])
        add_rows(r, c, v, base.staff[t], base.staff[t])
        staff_cols += [plus, minus]
    money_cols = []
    for u, col in USES:
        price = obj.baseline_money * MONEY
        plus, minus = add_cols(f"money+:{u}", S, price), add_cols(f"money-:{u}", S, price)
        b0 = base.money[u] / MONEY
        add_rows(np.concatenate([sidx, sidx, sidx]), np.concatenate([model.col(col), plus, minus]),
                 np.concatenate([np.ones(S), -np.ones(S), np.ones(S)]), b0, b0)
        money_cols += [plus, minus]
    si, ki = np.nonzero(base.offered)
    drop = add_cols("dropped", len(si), obj.baseline_service)
    if len(si):
        y = model.col("y")
        n = len(si)
        add_rows(np.concatenate([np.arange(n), np.arange(n)]), np.concatenate([y[si, ki], drop]),
                 np.ones(2 * n), np.ones(n), np.full(n, np.inf))
    ch = add_cols("demo", S, obj.baseline_demo)
    was = base.demo
    add_rows(np.concatenate([sidx, sidx]), np.concatenate([model.col("demo"), ch]),
             np.concatenate([np.where(was, 1.0, -1.0), np.ones(S)]), np.where(was, 1.0, 0.0), np.full(S, np.inf))
    for limit, group, scale in ((obj.baseline_max_staff, staff_cols, 1.0),
                                (obj.baseline_max_money, money_cols, MONEY), (obj.baseline_max_services, [drop], 1.0),
                                (obj.baseline_max_demo, [ch], 1.0)):
        if limit is None:
            continue
        cc = np.concatenate(group)
        add_rows(np.zeros(len(cc), dtype=np.int64), cc, np.ones(len(cc)), np.array([-np.inf]),
                 np.array([limit / scale]))
    n_new = nxt - n0
    A = problem.A
    r_all = np.concatenate([r for r, *_ in rows])
    c_all = np.concatenate([c for _, c, *_ in rows])
    v_all = np.concatenate([r[2] for r in rows])
    extra = sp.coo_array((v_all, (r_all - problem.num_rows, c_all)), shape=(m - problem.num_rows, nxt))
    top = sp.hstack([A, sp.csr_array((problem.num_rows, n_new))])
    A2 = sp.csr_array(sp.vstack([top, extra]))
    lo = np.concatenate([problem.row_lower, *[np.asarray(r[3], float) for r in rows]])
    hi = np.concatenate([problem.row_upper, *[np.asarray(r[4], float) for r in rows]])
    names_c = None
    if problem.col_names is not None:
        names_c = (*problem.col_names, *(f"stab_{f}[{i}]" for f, cnt, _ in cols for i in range(cnt)))
    names_r = None
    if problem.row_names is not None:
        names_r = (*problem.row_names, *(f"STABILITY[{i}]" for i in range(m - problem.num_rows)))
    p2 = MilpProblem(np.concatenate([problem.c, *new_c]), A2, lo, hi,
                     np.concatenate([problem.col_lower, np.zeros(n_new)]),
                     np.concatenate([problem.col_upper, np.full(n_new, np.inf)]),
                     np.concatenate([problem.integrality, np.zeros(n_new, dtype=bool)]), problem.sense,
                     problem.offset, col_names=names_c, row_names=names_r)
    return p2, Stability(families)


def changes_table(instance: Instance, tables: dict[str, pd.DataFrame], base: Baseline) -> pd.DataFrame:
    """One row per change against the baseline, counted from the plan's tables (``changes.csv``)."""
    ids = np.asarray(instance.stations["station_id"], dtype=str)
    out: list[pd.DataFrame] = []

    def rows(item: str, detail: Any, before: np.ndarray, after: np.ndarray, unit: str,
             station: np.ndarray = ids) -> None:
        d = np.round(after - before, 6)
        keep = d != 0
        if keep.any():
            out.append(pd.DataFrame({"station_id": station[keep], "item": item,
                                     "detail": np.broadcast_to(np.asarray(detail, dtype=object), d.shape)[keep],
                                     "baseline": before[keep], "plan": after[keep], "change": d[keep],
                                     "unit": unit}))

    staff = tables["staff"]
    for t, _ in STAFF_TYPES:
        rows("staff", t, base.staff[t], staff[t].to_numpy(dtype=float), "workers")
    budget = tables["budget"]
    for u, _ in USES:
        rows("money", u, base.money[u], budget[u].to_numpy(dtype=float), "yuan")
    offered = tables["services"]["offered"].to_numpy(dtype=float).reshape(base.offered.shape)
    svc = np.asarray(instance.services["service_id"], dtype=object)
    S, K = base.offered.shape
    rows("service", np.tile(svc, S), base.offered.ravel().astype(float), offered.ravel(), "services",
         np.repeat(ids, K))
    rows("demo", "demonstration station", base.demo.astype(float),
         tables["stations"]["demo"].to_numpy(dtype=float), "stations")
    for sid, r in base.gone.iterrows():
        for t, _ in STAFF_TYPES:
            if float(r.get(t, 0) or 0):
                out.append(pd.DataFrame({"station_id": [sid], "item": ["staff"], "detail": [t],
                                         "baseline": [float(r[t])], "plan": [0.0], "change": [-float(r[t])],
                                         "unit": ["workers (station not in this instance)"]}))
    if not out:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    return pd.concat(out, ignore_index=True)[CHANGE_COLUMNS]


def changes_summary(instance: Instance, changes: pd.DataFrame, contribution: float) -> dict[str, Any]:
    """Totals of ``changes.csv``: staff added and removed, yuan moved, services dropped, demo changes."""
    obj = instance.objective

    def total(item: str, sign: int = 0) -> float:
        ch = changes.loc[changes["item"] == item, "change"].astype(float)
        if sign > 0:
            ch = ch[ch > 0]
        elif sign < 0:
            ch = -ch[ch < 0]
        else:
            ch = ch.abs()
        return round(float(ch.sum()), 6)

    return {
        "staff_added": total("staff", 1), "staff_removed": total("staff", -1),
        "money_moved": total("money"), "services_dropped": total("service", -1),
        "services_added": total("service", 1),
        "demo_changes": total("demo"),
        "prices": {"staff": obj.baseline_staff, "money": obj.baseline_money, "service": obj.baseline_service,
                   "demo": obj.baseline_demo},
        "limits": {"staff": obj.baseline_max_staff, "money": obj.baseline_max_money,
                   "services": obj.baseline_max_services, "demo": obj.baseline_max_demo},
        "contribution": round(contribution, 6),
    }
