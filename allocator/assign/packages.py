"""Department packages onto a plan's stations: an exact GAP with the departments' side rows and F-DEPT-LINK.

Solved as a **second stage** after the station model, on the plan's tables: packages arrive quarterly
from the departments after the yearly budget plan is set, and the staff time that runs them is the
time the plan leaves spare.  Solving them jointly would add a binary per (station, package copy) to
the station model and make the yearly plan hinge on quarterly offers; as a second stage the station
model stays small and the package problem is an exact generalized assignment problem
(:mod:`allocator.assign.gap`) with the departments' side constraints:

    agents   stations s (active in the plan);  capacity b[s] = spare social-worker hours
             = (hours per worker - training) * SW[s] + admin and volunteer hours - hours used by
             coverage and services
    jobs     package copies j (optional: a copy may stay with its department)
    value    c[s,j] = round(sum over the package's groups of weight[g] * share of the residents served)
             with residents served = min(residents_served[j], need left uncovered at s for its groups)
    use      a[s,j] = staff_hours[j]
    eligible j's ``eligible`` rule (all / urban / rural / station ids) and need left > 0
    extra    per department d: sum cost[j] x <= budget[d];  sum x <= max_packages[d]

F-DEPT-LINK (§F2.3: stations cooperating with at least ``departments`` = k departments; 35 % of
stations today).  Modelled here, in the package assignment, because the packages are what links a
station to a department: the station model has no department in it.  A station is *linked* when it
receives packages of at least k distinct departments:

    z[s,d] in {0,1}   z[s,d] <= sum of x[s,j] over the copies j of department d
    y[s]   in {0,1}   k y[s] <= sum_d z[s,d]
    short  >= 0       sum_s y[s] + short >= T = ceil(share * active stations)
    objective         value - w * short

with ``share`` the clause's ``share`` figure when the instance gives one, else ``today`` (a plan no
worse than today).  Soft (the instance's mode): ``w`` is the clause's penalty per station short.
Hard: ``w`` is more than all the package value together, so the plan links as many stations as the
packages can (up to T) before any value counts; ``short`` is then what even that leaves missing -- the
packages offered (the departments' ``max_packages`` and budgets) cannot link more -- and is reported as
a shortfall rather than as no plan, as F-LOCAL-HIRE's unavoidable shortfall is in the roster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.assign.gap import GapInstance, GapProblem
from allocator.instance import Instance
from allocator.outcome import Outcome, WithOutcome
from solvers import MilpProblem, SolveOptions, Status, get_backend

PLACEMENT_COLUMNS = ["package_id", "copy", "department_id", "station_id", "value", "staff_hours", "cost"]


@dataclass(frozen=True)
class DeptLink:
    """F-DEPT-LINK as the plan meets it.

    Attributes
    ----------
    departments : int
        Departments a station needs to count as linked (k).
    share : float
        Share of active stations asked to be linked.
    mode : str
        ``hard`` or ``soft``.
    target : int
        Stations asked: ceil(share * active stations).
    linked : int
        Active stations receiving packages of >= k departments.
    shortfall : int
        ``max(0, target - linked)``.
    """

    departments: int
    share: float
    mode: str
    target: int
    linked: int
    shortfall: int


@dataclass(frozen=True, eq=False)
class PackageResult(WithOutcome):
    """Packages placed: the outcome, the placements, per station packages and departments, F-DEPT-LINK."""

    outcome: Outcome
    placements: pd.DataFrame
    stations: pd.DataFrame
    dept_link_share: float | None
    dept_link: DeptLink | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def spare_hours(instance: Instance, plan: Any) -> np.ndarray:
    """Social-worker hours the plan leaves unused, per station (instance order).

    ``plan`` is a :class:`~allocator.station.Plan` (its ``tables``) or the tables dict itself.
    """
    tables = _tables(plan)
    ids = pd.Index(instance.stations["station_id"])
    staff = tables["staff"].set_index("station_id").reindex(ids).fillna(0)
    train = instance.clause("A-TRAINING")
    h_sw = instance.staff_type("social_worker").hours_per_year - (train.figures["hours_per_worker"] if train else 0)
    have = (h_sw * staff["social_workers"] + instance.staff_type("admin").hours_per_year * staff["admin"]
            + instance.staff_type("volunteer").hours_per_year * staff["volunteers"]).to_numpy(float)
    hours_g = {g.id: g.hours_per_resident for g in instance.groups}
    cov = tables["coverage"]
    used = (cov["covered"] * cov["group"].map(hours_g)).groupby(cov["station_id"]).sum().reindex(ids).fillna(0)
    svc_hours = dict(zip(instance.services["service_id"], instance.services["staff_hours"], strict=True))
    sv = tables["services"]
    used_s = (sv["offered"] * sv["service_id"].map(svc_hours)).groupby(sv["station_id"]).sum().reindex(ids).fillna(0)
    return np.maximum(have - used.to_numpy(float) - used_s.to_numpy(float), 0.0)


def _tables(plan: Any) -> dict[str, pd.DataFrame]:
    tables = plan.tables if hasattr(plan, "tables") else plan
    out = {}
    for name, t in tables.items():
        if isinstance(t, pd.DataFrame) and "station_id" in t.columns:
            t = t.assign(station_id=t["station_id"].astype(str))
        out[name] = t
    return out


def dept_link_rule(instance: Instance) -> tuple[int, float, str, float] | None:
    """F-DEPT-LINK's (departments k, share asked, mode, penalty) when it applies (in force, k and a share
    figure -- ``share``, else ``today`` -- present), else None."""
    c = instance.clause("F-DEPT-LINK")
    if c is None or not c.in_force:
        return None
    k = c.figures.get("departments")
    share = c.figures.get("share", c.figures.get("today"))
    if k is None or share is None or k < 1 or share <= 0:
        return None
    return int(k), float(share), c.mode("*"), float(c.penalty("*"))


def _values(instance: Instance, tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value (S x P, integer units), eligibility (S x P) and active stations of the plan."""
    st = instance.stations
    ids = np.asarray(st["station_id"]).astype(str)
    S, pk = len(ids), instance.packages
    gids = list(instance.group_ids)
    weight = np.array([g.weight for g in instance.groups])
    cov = tables["coverage"].pivot(index="station_id", columns="group", values=["demand", "covered"]).reindex(ids)
    left = (cov["demand"][gids] - cov["covered"][gids]).fillna(0).to_numpy(float)  # S x G
    active = tables["stations"].set_index("station_id")["active"].reindex(ids).fillna(0).to_numpy(bool)
    serves = np.zeros((len(pk), len(gids)), dtype=bool)
    for j, gs in enumerate(pk["groups"]):
        for g in str(gs).split(";"):
            if g.strip() == "all":
                serves[j, :] = True
            elif g.strip() in gids:
                serves[j, gids.index(g.strip())] = True
    need_left = left @ serves.T  # S x P
    wmean = (serves * weight).sum(1) / np.maximum(serves.sum(1), 1)
    served = np.minimum(np.asarray(pk["residents_served"], float)[None, :], need_left)
    value_p = np.round(served * wmean[None, :])  # S x P, integer objective units
    urban = np.asarray(st["area_type"]) == "urban"
    elig_p = np.zeros((S, len(pk)), dtype=bool)
    for j, rule in enumerate(pk["eligible"]):
        rule = str(rule).strip()
        if rule == "all":
            elig_p[:, j] = True
        elif rule == "urban":
            elig_p[:, j] = urban
        elif rule == "rural":
            elig_p[:, j] = ~urban
        else:
            elig_p[:, j] = np.isin(ids, [x.strip() for x in rule.split(";")])
    elig_p &= active[:, None] & (value_p > 0)
    return value_p, elig_p, active


def assign_packages(instance: Instance, plan: Any, solver: str = "highs",
                    options: SolveOptions | None = None) -> PackageResult:
    """Place the department packages onto the plan's stations (see the module docstring).

    Parameters
    ----------
    instance : Instance
    plan : Plan
        The solved plan (:class:`allocator.station.Plan`; its ``tables``: staff, coverage, services, stations).
    solver : str
        MILP backend.
    options : SolveOptions, optional
        Default gap 1e-6.

    Returns
    -------
    PackageResult
    """
    tables = _tables(plan)
    ids = np.asarray(instance.stations["station_id"]).astype(str)
    S = len(ids)
    pk = instance.packages
    job_pkg = np.repeat(np.arange(len(pk)), np.asarray(pk["copies"], dtype=int))
    empty = pd.DataFrame(columns=PLACEMENT_COLUMNS)
    if len(job_pkg) == 0 or S == 0:
        return PackageResult(Outcome(Status.OPTIMAL, 0.0, 0.0, 0.0, solver, 0.0, "no packages"), empty,
                             pd.DataFrame(), None)
    value_p, elig_p, active = _values(instance, tables)
    hours = np.asarray(pk["staff_hours"], float)
    cap = np.floor(spare_hours(instance, tables))
    gi = GapInstance("packages", value_p[:, job_pkg].astype(np.int64), np.repeat(hours[None, job_pkg], S, 0)
                     .astype(np.int64), cap.astype(np.int64))
    gp = GapProblem(gi, "max", optional=True, eligible=elig_p[:, job_pkg])
    agents, jobs = gp.columns()
    rule = dept_link_rule(instance)
    if len(agents) == 0:   # no copy fits anywhere (no need left, or no spare hours): nothing to solve
        none = pd.DataFrame({"station_id": ids, "packages": 0, "departments": 0})
        link = _dept_link(rule, active, none) if rule else None
        return PackageResult(Outcome(Status.OPTIMAL, 0.0, 0.0, 0.0, solver, 0.0, "no package fits any station"),
                             empty, none, 0.0, link)
    deps = list(instance.departments["department_id"])
    dep_of = np.array([deps.index(d) for d in pk["department_id"]])[job_pkg][jobs]
    prob, n_x = _package_milp(instance, gp, agents, dep_of, np.asarray(pk["cost"], float)[job_pkg][jobs], rule,
                              active)
    res = get_backend(solver).solve(prob, options or SolveOptions(mip_gap=1e-6))
    if not res.status.has_solution or res.x is None:
        return PackageResult(Outcome(res.status, None, None, None, solver, res.seconds, res.message), empty,
                             pd.DataFrame(), None)
    chosen = res.x[:n_x] > 0.5
    a_c, j_c = agents[chosen], jobs[chosen]
    p_c = job_pkg[j_c]
    copy_no = j_c - np.searchsorted(job_pkg, p_c)
    placements = pd.DataFrame({
        "package_id": np.asarray(pk["package_id"], dtype=object)[p_c], "copy": copy_no + 1,
        "department_id": np.asarray(pk["department_id"], dtype=object)[p_c], "station_id": ids[a_c],
        "value": value_p[a_c, p_c], "staff_hours": hours[p_c], "cost": np.asarray(pk["cost"], float)[p_c],
    }).sort_values(["station_id", "package_id", "copy"], kind="stable").reset_index(drop=True)
    per = placements.groupby("station_id").agg(packages=("package_id", "size"),
                                               departments=("department_id", "nunique"))
    per = per.reindex(ids).fillna(0).astype(int).reset_index().rename(columns={"index": "station_id"})
    k = rule[0] if rule else 3
    share = float((per["departments"] >= k).sum() / max(1, int(active.sum())))
    link = _dept_link(rule, active, per) if rule else None
    # The objective reported is the package value; the F-DEPT-LINK shortfall is reported on its own.
    priced = float(prob.c[-1] * res.x[-1]) if rule else 0.0
    obj = None if res.objective is None else res.objective - priced
    bound = None if res.bound is None else res.bound - priced
    return PackageResult(Outcome(res.status, obj, bound, res.gap, solver, res.seconds, res.message),
                         placements, per, share, link)


def _dept_link(rule: tuple[int, float, str, float] | None, active: np.ndarray, per: pd.DataFrame) -> DeptLink:
    assert rule is not None
    k, share, mode, _ = rule
    target = int(math.ceil(share * int(active.sum()) - 1e-9))
    linked = int(((per["departments"].to_numpy() >= k) & active).sum())
    return DeptLink(k, share, mode, target, linked, max(0, target - linked))


def _package_milp(instance: Instance, gp: GapProblem, agents: np.ndarray, dep_of: np.ndarray, cost: np.ndarray,
                  rule: tuple[int, float, str, float] | None, active: np.ndarray) -> tuple[MilpProblem, int]:
    """The GAP with the departments' budget and count rows, and the F-DEPT-LINK columns and rows when the
    clause applies; returns the problem and the number of placement columns (first)."""
    base = gp.to_milp()
    k = len(agents)
    D = len(instance.departments)
    extra = sp.csr_array(sp.coo_array((np.concatenate([cost / 1000.0, np.ones(k)]),
                                       (np.concatenate([dep_of, D + dep_of]), np.tile(np.arange(k), 2))),
                                      shape=(2 * D, k)))
    A = sp.csr_array(sp.vstack([base.A, extra]))
    hi = np.concatenate([base.row_upper, np.asarray(instance.departments["budget"], float) / 1000.0,
                         np.asarray(instance.departments["max_packages"], float)])
    lo = np.concatenate([base.row_lower, np.full(2 * D, -np.inf)])
    c, cl, cu, ig = base.c, base.col_lower, base.col_upper, base.integrality
    if rule is None:
        return MilpProblem(c, A, lo, hi, cl, cu, ig, "max"), k
    need, share, mode, penalty = rule
    # z[s,d] for the (station, department) pairs some column reaches; y[s] for stations with >= k of them.
    pair, pair_of_col = np.unique(agents * D + dep_of, return_inverse=True)
    pz_s = pair // D
    nz = len(pair)
    cand = np.unique(pz_s)
    cand = cand[np.bincount(pz_s, minlength=int(active.size))[cand] >= need]
    ny = len(cand)
    y_of = np.full(active.size, -1)
    y_of[cand] = np.arange(ny)
    target = math.ceil(share * int(active.sum()) - 1e-9)
    weight = penalty if mode == "soft" else float(np.abs(c).sum()) + 1.0
    m0 = A.shape[0]
    # rows: z - sum x <= 0 (nz rows); k y - sum z <= 0 (ny rows); sum y + short >= target (1 row)
    zc, yc, sc = k, k + nz, k + nz + ny
    has_y = y_of[pz_s] >= 0
    rows = np.concatenate([pair_of_col, np.arange(nz), nz + y_of[cand], nz + y_of[pz_s[has_y]],
                           np.full(ny, nz + ny), [nz + ny]])
    cols = np.concatenate([np.arange(k), zc + np.arange(nz), yc + np.arange(ny), zc + np.flatnonzero(has_y),
                           yc + np.arange(ny), [sc]])
    vals = np.concatenate([-np.ones(k), np.ones(nz), np.full(ny, float(need)), -np.ones(int(has_y.sum())),
                           np.ones(ny), [1.0]])
    B = sp.csr_array(sp.coo_array((vals, (rows, cols)), shape=(nz + ny + 1, sc + 1)))
    A2 = sp.csr_array(sp.vstack([sp.hstack([A, sp.csr_array((m0, nz + ny + 1))]), B]))
    lo2 = np.concatenate([lo, np.full(nz + ny, -np.inf), [float(target)]])
    hi2 = np.concatenate([hi, np.zeros(nz + ny), [np.inf]])
    c2 = np.concatenate([c, np.zeros(nz + ny), [-weight]])
    cl2 = np.concatenate([cl, np.zeros(nz + ny + 1)])
    cu2 = np.concatenate([cu, np.ones(nz + ny), [np.inf]])
    ig2 = np.concatenate([ig, np.ones(nz + ny, dtype=bool), [False]])
    return MilpProblem(c2, A2, lo2, hi2, cl2, cu2, ig2, "max"), k
