"""Second-stage assignments on a solved plan: department resource packages and the worker roster.

Department packages (F5.4, F6.1, A4.2)
--------------------------------------
Solved as a **second stage** after the station model, on the plan's tables: packages arrive quarterly
from the departments after the yearly budget plan is set, and the staff time that runs them is the
time the plan leaves spare.  Solving them jointly would add a binary per (station, package copy) to
the station model and make the yearly plan hinge on quarterly offers; as a second stage the station
model stays small and the package problem is an exact generalized assignment problem
(:mod:`allocator.gap`) with the departments' side constraints:

    agents   stations s (active in the plan);  capacity b[s] = spare social-worker hours
             = (hours per worker - training) * SW[s] + admin and volunteer hours - hours used by
             coverage and services
    jobs     package copies j (optional: a copy may stay with its department)
    value    c[s,j] = round(sum over the package's groups of weight[g] * share of the residents served)
             with residents served = min(residents_served[j], need left uncovered at s for its groups)
    use      a[s,j] = staff_hours[j]
    eligible j's ``eligible`` rule (all / urban / rural / station ids) and need left > 0
    extra    per department d: sum cost[j] x <= budget[d];  sum x <= max_packages[d]

The plan reports package -> station and, per station, packages and departments linked (F-DEPT-LINK:
the share of stations cooperating with at least 3 departments).

Worker roster
-------------
The station model keeps everyone in post where they are (engine rule IN-POST: nobody dismissed or
moved by the yearly plan), so the exact roster is "everyone stays", at zero cost -- found by a linear
assignment only when a post type changes (none here).  The posts left open are the hiring list per
station, type and certification level (F-HIRING), with the cost of filling them (the salary floor in
force) and, at rural stations, the number of local hires F-LOCAL-HIRE asks for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.atomic import write_dir_atomically
from allocator.gap import GapInstance, GapProblem
from allocator.instance import Instance
from solvers import MilpProblem, SolveOptions, Status, get_backend


@dataclass
class PackageResult:
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    placements: pd.DataFrame
    stations: pd.DataFrame
    dept_link_share: float | None
    message: str = ""


def _read_plan(plan_dir: str | os.PathLike[str]) -> dict[str, pd.DataFrame]:
    d = Path(plan_dir)
    return {n: pd.read_csv(d / f"{n}.csv", dtype={"station_id": str}) for n in ("staff", "coverage", "services",
                                                                                "stations")}


def spare_hours(instance: Instance, plan: dict[str, pd.DataFrame]) -> np.ndarray:
    """Social-worker hours the plan leaves unused, per station (instance order)."""
    ids = pd.Index(instance.stations["station_id"])
    staff = plan["staff"].set_index("station_id").reindex(ids).fillna(0)
    train = instance.clause("A-TRAINING")
    h_sw = instance.staff_type("social_worker").hours_per_year - (train.figures["hours_per_worker"] if train else 0)
    have = (h_sw * staff["social_workers"] + instance.staff_type("admin").hours_per_year * staff["admin"]
            + instance.staff_type("volunteer").hours_per_year * staff["volunteers"]).to_numpy(float)
    hours_g = {g.id: g.hours_per_resident for g in instance.groups}
    cov = plan["coverage"]
    used = (cov["covered"] * cov["group"].map(hours_g)).groupby(cov["station_id"]).sum().reindex(ids).fillna(0)
    svc_hours = dict(zip(instance.services["service_id"], instance.services["staff_hours"], strict=True))
    sv = plan["services"]
    used_s = (sv["offered"] * sv["service_id"].map(svc_hours)).groupby(sv["station_id"]).sum().reindex(ids).fillna(0)
    return np.maximum(have - used.to_numpy(float) - used_s.to_numpy(float), 0.0)


def assign_packages(instance: Instance, plan_dir: str | os.PathLike[str], solver: str = "highs",
                    options: SolveOptions | None = None) -> PackageResult:
    """Place the department packages onto the plan's stations (see the module docstring)."""
    plan = _read_plan(plan_dir)
    st = instance.stations
    ids = np.asarray(st["station_id"], dtype=object)
    S = len(ids)
    pk = instance.packages
    copies = np.asarray(pk["copies"], dtype=int)
    job_pkg = np.repeat(np.arange(len(pk)), copies)
    n = len(job_pkg)
    empty = pd.DataFrame(columns=["package_id", "copy", "department_id", "station_id", "value", "staff_hours",
                                  "cost"])
    if n == 0 or S == 0:
        return PackageResult(Status.OPTIMAL, 0.0, 0.0, 0.0, empty, pd.DataFrame(), None, "no packages")
    gids = list(instance.group_ids)
    weight = np.array([g.weight for g in instance.groups])
    cov = plan["coverage"].pivot(index="station_id", columns="group", values=["demand", "covered"]).reindex(ids)
    left = (cov["demand"][gids] - cov["covered"][gids]).fillna(0).to_numpy(float)  # S x G
    active = plan["stations"].set_index("station_id")["active"].reindex(ids).fillna(0).to_numpy(bool)
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
    urban = st["area_type"] == "urban"
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
    hours = np.asarray(pk["staff_hours"], float)
    cap = np.floor(spare_hours(instance, plan))
    gi = GapInstance("packages", value_p[:, job_pkg].astype(np.int64), np.repeat(hours[None, job_pkg], S, 0)
                     .astype(np.int64), cap.astype(np.int64))
    gp = GapProblem(gi, "max", optional=True, eligible=elig_p[:, job_pkg])
    base = gp.to_milp()
    agents, jobs = gp.columns()
    # Department side constraints: budget and number of packages.
    deps = list(instance.departments["department_id"])
    dep_of = np.array([deps.index(d) for d in pk["department_id"]])[job_pkg][jobs]
    cost = np.asarray(pk["cost"], float)[job_pkg][jobs]
    k = len(agents)
    D = len(deps)
    extra = sp.csr_array(sp.coo_array((np.concatenate([cost / 1000.0, np.ones(k)]),
                                       (np.concatenate([dep_of, D + dep_of]), np.tile(np.arange(k), 2))),
                                      shape=(2 * D, k)))
    A = sp.csr_array(sp.vstack([base.A, extra]))
    hi = np.concatenate([base.row_upper, np.asarray(instance.departments["budget"], float) / 1000.0,
                         np.asarray(instance.departments["max_packages"], float)])
    lo = np.concatenate([base.row_lower, np.full(2 * D, -np.inf)])
    prob = MilpProblem(base.c, A, lo, hi, base.col_lower, base.col_upper, base.integrality, "max")
    res = get_backend(solver).solve(prob, options or SolveOptions(mip_gap=1e-6))
    if not res.status.has_solution or res.x is None:
        return PackageResult(res.status, None, None, None, empty, pd.DataFrame(), None, res.message)
    chosen = res.x > 0.5
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
    link = float((per["departments"] >= 3).sum() / max(1, int(active.sum())))
    return PackageResult(res.status, res.objective, res.bound, res.gap, placements, per, link, res.message)


def hiring_list(instance: Instance, plan_dir: str | os.PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roster (everyone stays) and the posts to fill, per station, type and certification level."""
    plan = _read_plan(plan_dir)
    sf = instance.staff.to_frame()
    roster = pd.DataFrame({"worker_id": sf["worker_id"], "from_station": sf["station_id"],
                           "to_station": sf["station_id"], "type": sf["type"], "level": sf["level"], "moved": 0})
    kind = np.where(sf["type"] != "social_worker", sf["type"],
                    np.where(sf["level"] == "intermediate", "sw_certified_intermediate",
                             np.where(sf["certified"], "sw_certified_assistant", "sw_uncertified")))
    have = pd.crosstab(sf["station_id"], kind)
    posts = plan["staff"].set_index("station_id")[["admin", "sw_certified_assistant", "sw_certified_intermediate",
                                                   "sw_uncertified", "volunteers"]].rename(
        columns={"volunteers": "volunteer"})
    have = have.reindex(index=posts.index, columns=posts.columns).fillna(0).astype(int)
    # Social workers keep their station; a worker fills a post of their own level or, once certified /
    # promoted, a higher one (IN-POST guarantees a post for everyone).  Fill level by level, highest first.
    p_i, p_a, p_u = (posts[c].to_numpy() for c in ("sw_certified_intermediate", "sw_certified_assistant",
                                                  "sw_uncertified"))
    n_i, n_a, n_u = (have[c].to_numpy() for c in ("sw_certified_intermediate", "sw_certified_assistant",
                                                 "sw_uncertified"))
    i_left = p_i - np.minimum(n_i, p_i)
    a_fill = np.minimum(n_a, p_a)
    a_up = np.minimum(n_a - a_fill, i_left)          # assistants promoted to intermediate posts
    i_left -= a_up
    a_left = p_a - a_fill
    u_fill = np.minimum(n_u, p_u)
    u_to_a = np.minimum(n_u - u_fill, a_left)         # uncertified workers to certify
    a_left -= u_to_a
    u_to_i = np.minimum(n_u - u_fill - u_to_a, i_left)
    i_left -= u_to_i
    hires = pd.DataFrame({"admin": (posts["admin"] - have["admin"]).clip(lower=0),
                          "sw_certified_assistant": a_left, "sw_certified_intermediate": i_left,
                          "sw_uncertified": p_u - u_fill,
                          "volunteer": (posts["volunteer"] - have["volunteer"]).clip(lower=0)}, index=posts.index)
    upgrades = pd.DataFrame({"station_id": posts.index, "promote_to_intermediate": a_up,
                             "certify": u_to_a + u_to_i})
    roster.attrs["upgrades"] = upgrades
    a_sal = instance.clause("A-SALARY")
    f_sal = instance.clause("F-SALARY")
    sw_cost = (12 * a_sal.figures["monthly_min"] if a_sal else f_sal.figures["annual_average"] if f_sal
               else instance.staff_type("social_worker").annual_cost)
    unit = {"admin": instance.staff_type("admin").annual_cost, "volunteer": 0.0,
            "sw_certified_assistant": sw_cost, "sw_certified_intermediate": sw_cost, "sw_uncertified": sw_cost}
    long = hires.reset_index().melt(id_vars="station_id", var_name="post", value_name="hires")
    long = long[long["hires"] > 0].copy()
    long["annual_cost"] = long["post"].map(unit) * long["hires"]
    local = instance.clause("F-LOCAL-HIRE")
    rural = dict(zip(instance.stations["station_id"], instance.stations["area_type"] == "rural", strict=True))
    share = local.figures["share"] if local else 0.0
    long["local_required"] = np.where(long["station_id"].map(rural) & long["post"].str.startswith("sw"),
                                      np.ceil(share * long["hires"] - 1e-9), 0).astype(int)
    return roster, long.sort_values(["station_id", "post"], kind="stable").reset_index(drop=True)


def write_assignment(res: PackageResult, roster: pd.DataFrame, hires: pd.DataFrame,
                     out: str | os.PathLike[str]) -> None:
    """Write packages.csv, package_stations.csv, roster.csv and hires.csv, whole or not at all."""
    def fill(tmp: Path) -> None:
        res.placements.to_csv(tmp / "packages.csv", index=False, lineterminator="\n")
        res.stations.to_csv(tmp / "package_stations.csv", index=False, lineterminator="\n")
        roster.to_csv(tmp / "roster.csv", index=False, lineterminator="\n")
        hires.to_csv(tmp / "hires.csv", index=False, lineterminator="\n")

    write_dir_atomically(out, fill)
