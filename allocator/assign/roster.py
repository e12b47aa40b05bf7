"""Worker roster (issue 6; F-HIRING, F-LOCAL-HIRE, IN-POST).

Every person in post (the instance's ``staff`` table) is placed onto one post of the plan
(``staff.csv``: per station ``admin``, ``sw_uncertified``, ``sw_certified_assistant``,
``sw_certified_intermediate``, ``volunteers``); the posts nobody fills are the hiring list.

    workers  w, with type t[w], level l[w] (0 none, 1 assistant, 2 intermediate; 0 for admin and
             volunteers), home station a[w], local registration, years of service
    posts    (s, k) with P[s,k] posts; k has a type and a level
    x[w,s,k] = 1 when w takes a post k at s; allowed when type(k) = t[w] and level(k) >= l[w]
             (nobody loses a certificate; a higher post needs the upgrade), and s = a[w] unless w may move
    cost     c[w,s,k] = move(w, s) + upgrade(l[w] -> level(k)), whole yuan, one-off:
             move = round((1 + years[w] / seniority_years) * (base + per_travel_minute * minutes(a[w], s)))
             with base = move_within_county, or move_county_change when s lies in another county, and
             minutes from travel.csv when it lists the pair (0 otherwise); the seniority weight makes
             long-serving staff the last to move; upgrade = certify (0 -> 1) + promote (1 -> 2) per step
    hires    P[s,k] - sum_w x[w,s,k] >= 0, each at the annual cost of the post: the salary floor in force
             for social workers (12 x A-SALARY monthly_min, else F-SALARY annual_average, else the staff
             type's annual_cost), the staff type's annual_cost for admin staff and volunteers
    rows     sum_{s,k} x[w,s,k] = 1 for every w (IN-POST: nobody is dismissed);
             sum_w x[w,s,k] <= P[s,k];  sum of x over moves <= max_moves;
             F-LOCAL-HIRE at a rural station s (share f, R[s] = ceil(f * social-worker posts)):
             local social workers placed there + local hires + short[s] >= R[s], local hires <= hires, so
             non-local social workers placed at s - short[s] <= SW posts[s] - R[s]
    minimise sum c x + sum hire costs + local_shortfall * sum short

A worker is *local* at s when registered locally and s lies in the county of the worker's station
today (registration is by county: a move across counties loses it).  Every worker must take a post
(IN-POST), so posts are filled from the staff first by construction -- no hire can displace a worker
in post, whatever the costs -- and the number of hires of each type is fixed by the plan; hiring costs
only weigh where the hires go.  The local hires the hiring list asks for at a rural station are
max(ceil(f x its social-worker hires), R[s] - local social workers placed), capped at its hires: the
first term is the clause as written (of the rural hires, the share f local), the second the station
share.  ``short[s]`` is what even all-local hiring leaves missing, which only staff in post who are
not local can cause (IN-POST keeps them; with moves allowed the roster moves them away first,
``local_shortfall`` outweighing any move).  The verifier accepts such a shortfall only where every
hire is local and no non-local worker was moved in nor local one moved out.

The plan's moves (X-MOVES, ``moves.csv``: from_station, to_station, level, count) are made first, by
:func:`plan_moves`: per row the least senior social workers of that level at the sending station who are
not protected (years of service reaching ``protected_years``) move to the receiving one, at the plan's
cost per move, and take posts there as if in post there; they are ``moved`` on the roster but do not count
against ``max_moves``, which limits the roster's own moves beyond the plan's (nobody protected, nobody
the plan moved).

Moves: ``max_moves`` (CLI ``--max-moves``) defaults to 0, consistent with IN-POST: the station model
assumes that nobody moves, and its posts always fit everyone in post at their own station (E1 keeps
every station's social workers, certified and intermediate workers, admin staff and volunteers), so
the roster with no moves always exists.  ``None`` (CLI ``-1``) means no limit.  With a limit N only
the N least senior workers of each group of interchangeable workers (same station, type, level and
registration) are offered moves: any optimal roster moving a more senior one can swap the two at no
extra cost (same options, cost weighted by seniority), so the cut is exact.

The network.  A move's cost depends on the worker and the destination's county only (unless
travel.csv prices the trip), so moves are not arcs to every post: a worker either *stays* (arcs to the
posts of their own station, at the upgrade cost) or *moves* to a destination hub (one per county; one
per station when travel minutes are priced) at the move cost, into a class node (hub, type, level,
local at the hub) whose arcs reach the hub's posts at the upgrade cost.  Workers of one class are
interchangeable from there on, so any split of the class's placements among its movers is optimal
(fuzhou with moves: about 8,000 arcs instead of 110,000 for every worker x station x level).  Hire
sources, one per staff type with supply posts - staff in post, feed the posts at the hiring cost.

Method.  Without side rows this network is a transportation problem, solved exactly as a **min-cost
flow** (OR-Tools ``SimpleMinCostFlow``, integral by total unimodularity, milliseconds on the seeds).
That is the case with ``max_moves = 0`` (no move arcs; F-LOCAL-HIRE has nothing left to decide and is
computed afterwards) and with no move limit where F-LOCAL-HIRE does not apply (not in force, or no
rural station).  A finite move limit (one row across every move arc) or F-LOCAL-HIRE with moves (a cap
on the non-local social workers per station, cutting across its per-level post rows) breaks the
network structure; then the same network plus those rows is an exact **MILP** solved by a registry
backend (``solvers.get_backend``, HiGHS by default, gap 1e-9 on whole-yuan costs; its LP relaxation
is nearly totally unimodular, a fraction of a second on the seeds).

Cost defaults (:class:`RosterCosts`; the instance schema has no roster costs yet): a move within the
county 2,000 yuan, a county change 6,000 yuan, 100 yuan per minute of travel, seniority weight
1 + years / 5; an upgrade step costs one more year of training and supervision: the instance's
``costs.training_per_worker`` when > 0, else A-TRAINING's hours at the social worker's hourly cost
(annual_cost / hours_per_year), else 3,000 yuan; a missing local worker weighs 1,000,000 yuan.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.assign.moves import LEVELS, plan_moves, protected
from allocator.instance import Instance
from allocator.outcome import Outcome, WithOutcome
from solvers import MilpProblem, SolveOptions, Status, get_backend

POSTS = ("admin", "sw_uncertified", "sw_certified_assistant", "sw_certified_intermediate", "volunteer")
"""Post kinds, in the roster's column order (``volunteer`` is the plan's ``volunteers`` column)."""
POST_TYPE = ("admin", "social_worker", "social_worker", "social_worker", "volunteer")
POST_LEVEL = np.array([0, 0, 1, 2, 0])
STAFF_TYPES = ("admin", "social_worker", "volunteer")
_PLAN_COLUMN = {"admin": "admin", "sw_uncertified": "sw_uncertified",
                "sw_certified_assistant": "sw_certified_assistant",
                "sw_certified_intermediate": "sw_certified_intermediate", "volunteer": "volunteers"}
_UPGRADE = {(0, 1): "certify", (1, 2): "promote", (0, 2): "certify+promote"}


@dataclass(frozen=True)
class RosterCosts:
    """What the roster weighs, in yuan (see the module docstring for the defaults' reasons).

    Parameters
    ----------
    move_within_county, move_county_change : float
        One-off cost of moving a worker to another station of the same county / of another county.
    per_travel_minute : float
        Added per minute of travel between the two stations when travel.csv lists the pair.
    seniority_years : float
        A move costs ``1 + years_of_service / seniority_years`` times the base: long-serving staff move last.
    certify, promote : float or None
        Cost of an upgrade step (uncertified -> assistant, assistant -> intermediate); None: from the
        instance (costs.training_per_worker, else A-TRAINING hours at the hourly cost, else 3,000).
    local_shortfall : float
        Weight of one local social worker missing at a rural station (F-LOCAL-HIRE); above any move.
    """

    move_within_county: float = 2000.0
    move_county_change: float = 6000.0
    per_travel_minute: float = 100.0
    seniority_years: float = 5.0
    certify: float | None = None
    promote: float | None = None
    local_shortfall: float = 1_000_000.0


DEFAULT_UPGRADE_COST = 3000.0


@dataclass(frozen=True, eq=False)
class RosterResult(WithOutcome):
    """The roster, the hiring list and how they were found.

    ``outcome``: status, objective (one-off roster cost + annual hiring cost + weighted local shortfall),
    bound and gap (exact methods: equal to the objective, 0), the method, seconds, message;
    ``roster``: worker_id, type, from_station, to_station, from_level, to_level, moved, upgrade, cost;
    ``hires``: station_id, post, hires, local_required, annual_cost (posts left open, one row per
    station and post with hires > 0); ``local``: per rural station the F-LOCAL-HIRE arithmetic.
    """

    outcome: Outcome
    method: str
    why: str
    roster: pd.DataFrame
    hires: pd.DataFrame
    local: pd.DataFrame
    max_moves: int | None
    costs: RosterCosts
    summary: dict[str, object] = field(default_factory=dict)


def upgrade_costs(instance: Instance, costs: RosterCosts) -> tuple[float, float]:
    """Cost of one certification and one promotion (see the module docstring)."""
    step = float(instance.costs.get("training_per_worker", 0.0) or 0.0)
    if step <= 0:
        train = instance.clause("A-TRAINING")
        sw = instance.staff_type("social_worker")
        if train is not None and "hours_per_worker" in train.figures and sw.hours_per_year > 0:
            step = float(train.figures["hours_per_worker"]) * sw.annual_cost / sw.hours_per_year
    if step <= 0:
        step = DEFAULT_UPGRADE_COST
    return (costs.certify if costs.certify is not None else step,
            costs.promote if costs.promote is not None else step)


def hire_unit_costs(instance: Instance) -> np.ndarray:
    """Annual cost of one hire per post kind (:data:`POSTS` order): the salary floor in force."""
    a_sal, f_sal = instance.clause("A-SALARY"), instance.clause("F-SALARY")
    if a_sal is not None and "monthly_min" in a_sal.figures:
        sw = 12 * float(a_sal.figures["monthly_min"])
    elif f_sal is not None and "annual_average" in f_sal.figures:
        sw = float(f_sal.figures["annual_average"])
    else:
        sw = float(instance.staff_type("social_worker").annual_cost)
    return np.array([instance.staff_type("admin").annual_cost, sw, sw, sw,
                     instance.staff_type("volunteer").annual_cost], dtype=float)


def _posts(instance: Instance, plan: Any) -> np.ndarray:
    """Posts per station (instance order) and post kind (:data:`POSTS` order), integers, from the plan's
    ``staff`` table."""
    tables = plan.tables if hasattr(plan, "tables") else plan
    staff = tables["staff"].assign(station_id=lambda t: t["station_id"].astype(str)).set_index("station_id")
    ids = pd.Index(np.asarray(instance.stations["station_id"]).astype(str))
    cols = [_PLAN_COLUMN[k] for k in POSTS]
    return np.rint(staff[cols].reindex(ids).fillna(0).to_numpy(float)).astype(np.int64)


@dataclass
class _Graph:
    """The roster network: workers -> (stay) posts at their station, or (move) a class node of a
    destination hub -> posts in that hub; hire sources feed the posts at the hiring cost."""

    W: int
    Q: int
    S: int
    K: int
    P: np.ndarray            # S x K posts
    hire_c: np.ndarray       # K, whole yuan per hire
    hire_supply: np.ndarray  # per staff type: posts - staff in post
    # stay arcs: worker -> post (home station)
    st_w: np.ndarray
    st_s: np.ndarray
    st_k: np.ndarray
    st_c: np.ndarray
    st_nonlocal: np.ndarray  # counts against F-LOCAL-HIRE at its station
    # move arcs: worker -> class node
    mv_w: np.ndarray
    mv_q: np.ndarray
    mv_c: np.ndarray
    # place arcs: class node -> post
    pl_q: np.ndarray
    pl_s: np.ndarray
    pl_k: np.ndarray
    pl_c: np.ndarray
    pl_nonlocal: np.ndarray
    local_rows: np.ndarray   # S: rural stations with the F-LOCAL-HIRE row
    local_cap: np.ndarray    # S: social-worker posts - R[s]


def solve_roster(instance: Instance, plan: Any, max_moves: int | None = 0,
                 costs: RosterCosts | None = None, solver: str = "highs",
                 options: SolveOptions | None = None) -> RosterResult:
    """Place every worker in post onto the plan's posts; the posts left open are the hiring list.

    Parameters
    ----------
    instance : Instance
    plan : Plan
        The solved plan (:class:`allocator.station.Plan`); only its ``staff`` table is read.
    max_moves : int or None
        Most workers moved to another station; 0 (default) keeps everyone at their station (IN-POST),
        None sets no limit.
    costs : RosterCosts, optional
    solver, options
        MILP backend and options, used only when the side rows need a MILP.

    Returns
    -------
    RosterResult
        ``status`` INFEASIBLE (with a message) when the posts cannot hold the staff in post.
    """
    t0 = time.perf_counter()
    costs = costs or RosterCosts()
    if max_moves is not None and max_moves < 0:
        raise ValueError("max_moves must be >= 0 (None: no limit)")
    net = _network(instance, plan, max_moves, costs)
    if isinstance(net, RosterResult):
        return net
    return _solve_network(net, max_moves, costs, solver, options, t0)


def _failed(status: Status, message: str, max_moves: int | None, costs: RosterCosts, method: str = "",
            why: str = "", t0: float | None = None) -> RosterResult:
    """A roster result without a roster."""
    seconds = 0.0 if t0 is None else time.perf_counter() - t0
    return RosterResult(Outcome(status, None, None, None, method, seconds, message), method, why, pd.DataFrame(),
                        pd.DataFrame(), pd.DataFrame(), max_moves, costs)


def _network(instance: Instance, plan: Any, max_moves: int | None, costs: RosterCosts
             ) -> SimpleNamespace | RosterResult:
    """The roster network of the module docstring (workers, class nodes, posts, hire sources) and the
    arrays the decoding needs; a result without a roster when the plan's posts cannot hold the staff."""
    st = instance.stations
    ids = np.asarray(st["station_id"]).astype(str)
    S, K = len(ids), len(POSTS)
    county = pd.factorize(np.asarray(st["county"]).astype(str))[0]
    rural = np.asarray(st["area_type"]).astype(str) == "rural"
    P = _posts(instance, plan)                                         # S x K
    sf = instance.staff
    W = len(sf)
    wid = np.asarray(sf["worker_id"]).astype(str)
    wtype = np.asarray(sf["type"]).astype(str)
    wt = np.array([STAFF_TYPES.index(t) for t in wtype], dtype=np.int64)
    home = pd.Index(ids).get_indexer(np.asarray(sf["station_id"]).astype(str))
    lvl_name = np.asarray(sf["level"]).astype(str)
    wl = np.where(wtype != "social_worker", 0,
                  np.where(lvl_name == "intermediate", 2,
                           np.where(np.asarray(sf["certified"], bool) | (lvl_name == "assistant"), 1, 0)))
    years = np.asarray(sf["years_of_service"], float)
    registered = np.asarray(sf["local_registration"], bool)
    origin = home.copy()
    moved_by_plan = plan_moves(instance, plan, wid, home, wtype, wl, years)
    if isinstance(moved_by_plan, str):
        return _failed(Status.INFEASIBLE, moved_by_plan, max_moves, costs)
    home, plan_move_c = moved_by_plan
    weight = 1.0 + years / costs.seniority_years
    cert_c, prom_c = upgrade_costs(instance, costs)
    H = hire_unit_costs(instance)
    hire_c = np.rint(H).astype(np.int64)
    local_clause = instance.clause("F-LOCAL-HIRE")
    share = float(local_clause.figures.get("share", 0.0)) if local_clause is not None else 0.0
    k_type = np.array([STAFF_TYPES.index(t) for t in POST_TYPE])
    sw_k = k_type == STAFF_TYPES.index("social_worker")
    sw_posts = P[:, sw_k].sum(1)
    local_rows = rural & (share > 0) & (sw_posts > 0)
    R = np.where(local_rows, np.ceil(share * sw_posts - 1e-9), 0).astype(np.int64)

    def upgrade(level: np.ndarray, k: np.ndarray) -> np.ndarray:
        lk = POST_LEVEL[k]
        c = cert_c * ((level == 0) & (lk >= 1)) + prom_c * ((level <= 1) & (lk == 2))
        return np.where(sw_k[k], np.rint(c), 0).astype(np.int64)

    hire_supply = np.array([int(P[:, k_type == i].sum()) - int((wt == i).sum()) for i in range(len(STAFF_TYPES))])
    if (hire_supply < 0).any():
        i = int(np.flatnonzero(hire_supply < 0)[0])
        t = STAFF_TYPES[i]
        return _failed(Status.INFEASIBLE, f"the plan has {int(P[:, k_type == i].sum())} {t} posts for "
                       f"{int((wt == i).sum())} {t} staff in post (IN-POST: nobody is dismissed)", max_moves, costs)

    # Which workers may move: with a limit N, the N least senior of each interchangeable group.
    # X-MOVES: a protected worker never moves (nor twice: a worker the plan moves stays there).
    if max_moves == 0:
        movable = np.zeros(W, bool)
    elif max_moves is None:
        movable = ~protected(instance, years) & (home == origin)
    else:
        grp = pd.DataFrame({"h": home, "t": wt, "l": wl, "r": registered, "y": years, "i": np.arange(W)})
        rank = grp.sort_values(["y", "i"], kind="stable").groupby(["h", "t", "l", "r"], sort=False).cumcount()
        movable = (rank.sort_index().to_numpy() < max_moves) & ~protected(instance, years) & (home == origin)

    k_ok = (k_type[None, :] == wt[:, None]) & (POST_LEVEL[None, :] >= wl[:, None])        # W x K
    # stay arcs
    st_w, st_k = np.nonzero(k_ok & (P[home] > 0))
    st_s = home[st_w]
    st_nonlocal = sw_k[st_k] & local_rows[st_s] & ~registered[st_w]
    # Destination hubs: one per county when a move's cost depends on the county only; one per station
    # when travel.csv prices the trip.
    minutes = _travel_minutes(instance, ids) if costs.per_travel_minute else None
    if minutes is None:
        hub_of, hub_county = county, np.arange(county.max() + 1 if S else 0)
    else:
        hub_of, hub_county = np.arange(S), county
    Hn = len(hub_county)
    hub_has = np.zeros((Hn, K), bool)                                                    # hub x K: posts there
    np.logical_or.at(hub_has, hub_of, P > 0)
    usable = (k_ok.astype(np.int64) @ hub_has.T.astype(np.int64)) > 0                       # W x hub
    if minutes is not None:
        usable[np.arange(W), home] = False                # a station hub: moving "to" one's own station
    mv_w, mv_h = np.nonzero(usable & movable[:, None])
    same = hub_county[mv_h] == county[home[mv_w]]
    base = np.where(same, costs.move_within_county, costs.move_county_change)
    if minutes is not None:
        base = base + costs.per_travel_minute * minutes[home[mv_w], mv_h]
    mv_c = np.rint(weight[mv_w] * base).astype(np.int64)
    lam = registered[mv_w] & same
    # class nodes: (hub, type, level, local at the hub)
    key = ((mv_h * len(STAFF_TYPES) + wt[mv_w]) * 3 + wl[mv_w]) * 2 + lam
    mv_q, q_keys = pd.factorize(key, sort=True)
    q_keys = np.asarray(q_keys, dtype=np.int64)
    Q = len(q_keys)
    q_lam, rest = q_keys % 2, q_keys // 2
    q_l, rest = rest % 3, rest // 3
    q_t, q_h = rest % len(STAFF_TYPES), rest // len(STAFF_TYPES)
    pm = ((hub_of[None, :] == q_h[:, None])[:, :, None]
          & ((k_type[None, :] == q_t[:, None]) & (POST_LEVEL[None, :] >= q_l[:, None]))[:, None, :]
          & (P > 0)[None, :, :])
    pl_q, pl_s, pl_k = np.nonzero(pm)
    g = _Graph(W, Q, S, K, P, hire_c, hire_supply, st_w, st_s, st_k, upgrade(wl[st_w], st_k), st_nonlocal,
               mv_w, mv_q.astype(np.int64), mv_c, pl_q, pl_s, pl_k, upgrade(q_l[pl_q], pl_k),
               sw_k[pl_k] & local_rows[pl_s] & (q_lam[pl_q] == 0), local_rows, sw_posts - R)
    reach = np.zeros(W, bool)
    reach[st_w] = True
    reach[mv_w] = True
    if not reach.all():
        w = int(np.flatnonzero(~reach)[0])
        return _failed(Status.INFEASIBLE, f"{int((~reach).sum())} worker(s) have no post they may take, e.g. "
                       f"{wid[w]} ({wtype[w]}, {LEVELS[wl[w]]}) at {ids[home[w]]}: allow moves (--max-moves)",
                       max_moves, costs)

    return SimpleNamespace(K=K, P=P, R=R, S=S, W=W, cert_c=cert_c, costs=costs, county=county, g=g,
                           hire_c=hire_c, home=home, origin=origin, plan_move_c=plan_move_c,
                           ids=ids, local_rows=local_rows, max_moves=max_moves,
                           minutes=minutes, mv_q=mv_q, mv_w=mv_w, pl_k=pl_k, pl_q=pl_q, pl_s=pl_s,
                           prom_c=prom_c, registered=registered, share=share, st=st, st_k=st_k, st_s=st_s,
                           st_w=st_w, sw_k=sw_k, sw_posts=sw_posts, upgrade=upgrade, weight=weight, wid=wid,
                           wl=wl, wt=wt, wtype=wtype)


def _solve_network(n: SimpleNamespace, max_moves: int | None, costs: RosterCosts, solver: str,
                   options: SolveOptions | None, t0: float) -> RosterResult:
    """Solve the network (min-cost flow, or MILP with side rows), decode the flows into the roster, the
    hiring list and the F-LOCAL-HIRE table."""
    (K, P, R, S, W, cert_c, costs, county, g, hire_c, home, ids, local_rows, max_moves, minutes, mv_q, mv_w,
     pl_k, pl_q, pl_s, prom_c, registered, share, st, st_k, st_s, st_w, sw_k, sw_posts, upgrade, weight,
     wid, wl, wt, wtype) = (
        n.K, n.P, n.R, n.S, n.W, n.cert_c, n.costs, n.county, n.g, n.hire_c, n.home, n.ids, n.local_rows,
        n.max_moves, n.minutes, n.mv_q, n.mv_w, n.pl_k, n.pl_q, n.pl_s, n.prom_c, n.registered, n.share,
        n.st, n.st_k, n.st_s, n.st_w, n.sw_k, n.sw_posts, n.upgrade, n.weight, n.wid, n.wl, n.wt, n.wtype)
    if max_moves == 0 or (max_moves is None and not local_rows.any()):
        method = "min-cost flow"
        why = ("no move allowed: each worker only chooses a post level at their own station, a transportation "
               "problem" if max_moves == 0 else
               "no move limit and no F-LOCAL-HIRE row: workers -> posts is a transportation problem")
        status, flows, msg = _roster_flow(g)
    else:
        method = "MILP"
        reasons = (["a move limit adds one row across every moving arc"] if max_moves is not None else []) + \
            (["F-LOCAL-HIRE caps the non-local social workers of each rural station across its post levels"]
             if local_rows.any() else [])
        why = " and ".join(reasons) + ": side rows that break the network structure"
        status, flows, msg = _roster_milp(g, max_moves, costs.local_shortfall, solver,
                                          options or SolveOptions(mip_gap=1e-9))
    if flows is None:
        if status is Status.INFEASIBLE:
            msg = (_crowded(ids, P, home, wt, wl) if max_moves == 0 else
                   _crowded(np.array(["all stations"]), P.sum(0, keepdims=True), np.zeros(W, np.int64), wt, wl,
                            pooled=True)
                   or f"the posts cannot hold the staff in post with at most {max_moves} move(s)") or msg
        return _failed(status, msg, max_moves, costs, method, why, t0)

    # Decode: stays directly; movers of a class take the class's placements in order.
    f_st, f_mv, f_pl = flows
    to_s = np.full(W, -1)
    to_k = np.full(W, -1)
    ch = f_st > 0
    to_s[st_w[ch]], to_k[st_w[ch]] = st_s[ch], st_k[ch]
    ch = f_mv > 0
    movers = pd.DataFrame({"w": mv_w[ch], "q": mv_q[ch]}).sort_values(["q", "w"], kind="stable")
    slots_q = np.repeat(pl_q, f_pl)
    order = np.argsort(slots_q, kind="stable")
    slots_q, slots_s, slots_k = slots_q[order], np.repeat(pl_s, f_pl)[order], np.repeat(pl_k, f_pl)[order]
    if len(movers) != len(slots_q) or not (movers["q"].to_numpy() == slots_q).all():
        return _failed(Status.ERROR, "roster: flows do not balance at the class nodes", max_moves, costs, method,
                       why, t0)
    to_s[movers["w"].to_numpy()], to_k[movers["w"].to_numpy()] = slots_s, slots_k
    if (to_s < 0).any():
        return _failed(Status.ERROR, "roster: a worker was left without a post", max_moves, costs, method, why, t0)

    # moved: away from the station in post today, by the plan's moves.csv (cost: the plan's per move) or
    # by the roster itself (``own``, within max_moves, at the roster's move cost from where the plan put them)
    origin, plan_move_c = n.origin, n.plan_move_c
    own = to_s != home
    moved = to_s != origin
    same = county[to_s] == county[origin]
    base = np.where(county[to_s] == county[home], costs.move_within_county, costs.move_county_change)
    if minutes is not None:
        base = base + costs.per_travel_minute * minutes[home, to_s]
    w_cost = np.where(own, np.rint(weight * base), 0).astype(np.int64) + plan_move_c + upgrade(wl, to_k)
    to_level = np.where(sw_k[to_k], POST_LEVEL[to_k], 0)
    roster = pd.DataFrame({
        "worker_id": wid, "type": wtype, "from_station": ids[origin], "to_station": ids[to_s],
        "from_level": np.asarray(LEVELS, dtype=object)[wl], "to_level": np.asarray(LEVELS, dtype=object)[to_level],
        "moved": moved.astype(int),
        "upgrade": [_UPGRADE.get((int(a), int(b)), "") for a, b in zip(wl, to_level, strict=True)],
        "cost": w_cost})
    placed = np.zeros((S, K), np.int64)
    np.add.at(placed, (to_s, to_k), 1)
    open_posts = P - placed
    # F-LOCAL-HIRE per rural station
    sw_placed = placed[:, sw_k].sum(1)
    sw_hires = open_posts[:, sw_k].sum(1)
    is_local = registered & same & sw_k[to_k]
    local_placed = np.bincount(to_s[is_local], minlength=S)
    need = np.maximum(np.ceil(share * sw_hires - 1e-9).astype(np.int64), R - local_placed)
    local_hires = np.where(local_rows, np.clip(need, 0, sw_hires), 0)
    short = np.where(local_rows, np.maximum(0, R - local_placed - sw_hires), 0)
    local = pd.DataFrame({"station_id": ids, "county": np.asarray(st["county"]).astype(str),
                          "social_workers": sw_posts, "required": R, "local_staff": local_placed,
                          "staff": sw_placed, "hires": sw_hires, "local_hires": local_hires,
                          "shortfall": short})[local_rows].reset_index(drop=True)
    # Hiring list: one row per station and post with hires; a station's local hires go to its
    # uncertified, then assistant, then intermediate hires.
    local_k = np.zeros((S, K), np.int64)
    left = local_hires.copy()
    for k in (POSTS.index("sw_uncertified"), POSTS.index("sw_certified_assistant"),
              POSTS.index("sw_certified_intermediate")):
        local_k[:, k] = np.minimum(left, open_posts[:, k])
        left -= local_k[:, k]
    si, ki = np.nonzero(open_posts > 0)
    hires = pd.DataFrame({"station_id": ids[si], "post": np.asarray(POSTS, dtype=object)[ki],
                          "hires": open_posts[si, ki], "local_required": local_k[si, ki],
                          "annual_cost": open_posts[si, ki] * hire_c[ki]})
    roster_cost = int(w_cost.sum())
    hiring_cost = int(hires["annual_cost"].sum())
    objective = float(roster_cost + hiring_cost + costs.local_shortfall * short.sum())
    ups = roster["upgrade"]
    seconds = time.perf_counter() - t0
    summary: dict[str, object] = {
        "status": status.value, "method": method, "why": why, "max_moves": max_moves,
        "workers": W, "moved": int(moved.sum()), "moved_county": int((moved & ~same).sum()),
        "plan_moves": int((home != origin).sum()), "roster_moves": int(own.sum()),
        "certified": int(ups.str.contains("certify").sum()), "promoted": int(ups.str.contains("promote").sum()),
        "roster_cost": roster_cost, "hires": int(open_posts.sum()), "hiring_cost": hiring_cost,
        "local_required": int(local_hires.sum()), "local_shortfall": int(short.sum()),
        "local_shortfall_stations": int((short > 0).sum()), "objective": objective,
        "upgrade_costs": {"certify": cert_c, "promote": prom_c}, "costs": asdict(costs),
    }  # no timings: assignment.json is byte-for-byte reproducible
    return RosterResult(Outcome(status, objective, objective if status is Status.OPTIMAL else None,
                                0.0 if status is Status.OPTIMAL else None, method, seconds, msg),
                        method, why, roster, hires, local, max_moves, costs, summary)


def _crowded(ids: np.ndarray, P: np.ndarray, home: np.ndarray, wt: np.ndarray, wl: np.ndarray,
             pooled: bool = False) -> str:
    """Why there is no roster: stations (or, pooled, all of them) with fewer posts at a level and above
    than staff in post at that level and above."""
    out = []
    for i, t in enumerate(STAFF_TYPES):
        ks = [k for k, x in enumerate(POST_TYPE) if x == t]
        for lvl in sorted({int(POST_LEVEL[k]) for k in ks}):
            posts = P[:, [k for k in ks if POST_LEVEL[k] >= lvl]].sum(1)
            staff = np.bincount(home[(wt == i) & (wl >= lvl)], minlength=len(ids))
            for s in np.flatnonzero(staff > posts)[:3].tolist():
                what = (f"{t} staff" if t != "social_worker" else "social workers" if lvl == 0
                        else f"social workers at level {LEVELS[lvl]} or above")
                out.append(f"{ids[s]}: {staff[s]} {what} in post, {posts[s]} posts for them")
    if not out:
        return ""
    if pooled:
        return "(IN-POST: nobody is dismissed) the posts cannot hold the staff in post: " + "; ".join(out[:5])
    return ("with nobody moving (IN-POST) the posts cannot hold the staff in post: " + "; ".join(out[:5])
            + "; allow moves (--max-moves)")


def _travel_minutes(instance: Instance, ids: np.ndarray) -> np.ndarray | None:
    """Station x station minutes from travel.csv (either direction; 0 where it is silent), or None."""
    tr = instance.travel
    if tr is None or len(tr) == 0:
        return None
    S = len(ids)
    idx = pd.Index(ids)
    a = idx.get_indexer(np.asarray(tr["from_id"]).astype(str))
    b = idx.get_indexer(np.asarray(tr["to_id"]).astype(str))
    m = np.asarray(tr["minutes"], float)
    ok = (a >= 0) & (b >= 0)
    out = np.full((S, S), np.nan)
    out[b[ok], a[ok]] = m[ok]
    out[a[ok], b[ok]] = m[ok]          # the direction given wins over its reverse
    return np.nan_to_num(out)


def _roster_flow(g: _Graph) -> tuple[Status, tuple[np.ndarray, np.ndarray, np.ndarray] | None, str]:
    """The roster network as a min-cost flow (OR-Tools); flows on the stay, move and place arcs."""
    from ortools.graph.python import min_cost_flow

    W, Q, S, K = g.W, g.Q, g.S, g.K
    post = W + Q + np.arange(S * K).reshape(S, K)
    hire = W + Q + S * K + np.arange(len(STAFF_TYPES))
    k_type = np.array([STAFF_TYPES.index(t) for t in POST_TYPE])
    ps, pk = np.nonzero(g.P > 0)
    tails = np.concatenate([g.st_w, g.mv_w, W + g.pl_q, hire[k_type[pk]]])
    heads = np.concatenate([post[g.st_s, g.st_k], W + g.mv_q, post[g.pl_s, g.pl_k], post[ps, pk]])
    caps = np.concatenate([np.ones(len(g.st_w) + len(g.mv_w), np.int64), g.P[g.pl_s, g.pl_k], g.P[ps, pk]])
    unit = np.concatenate([g.st_c, g.mv_c, g.pl_c, g.hire_c[pk]])
    supply = np.zeros(W + Q + S * K + len(STAFF_TYPES), np.int64)
    supply[:W] = 1
    supply[post.ravel()] = -g.P.ravel()
    supply[hire] = g.hire_supply
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, unit)
    mcf.set_nodes_supplies(np.arange(len(supply), dtype=np.int32), supply)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        return (Status.INFEASIBLE if status == mcf.INFEASIBLE else Status.ERROR), None, f"min-cost flow: {status}"
    f = mcf.flows(np.arange(len(tails), dtype=np.int32))
    n1, n2, n3 = len(g.st_w), len(g.mv_w), len(g.pl_q)
    return Status.OPTIMAL, (f[:n1], f[n1:n1 + n2], f[n1 + n2:n1 + n2 + n3]), ""


def _roster_milp(g: _Graph, max_moves: int | None, penalty: float, solver: str, options: SolveOptions
                 ) -> tuple[Status, tuple[np.ndarray, np.ndarray, np.ndarray] | None, str]:
    """The roster network with its side rows (move limit, F-LOCAL-HIRE) as a MILP.

    Columns: stay arcs, move arcs (binary), place arcs (integer), short[s] (rural stations).  Rows:
    each worker once; balance at each class node; posts at most P[s,k]; non-local social workers at a
    rural station - short <= its social-worker posts - R; moves <= max_moves.
    """
    W, Q, S, K = g.W, g.Q, g.S, g.K
    n1, n2, n3 = len(g.st_w), len(g.mv_w), len(g.pl_q)
    loc = np.flatnonzero(g.local_rows)
    L = len(loc)
    loc_row = np.full(S, -1)
    loc_row[loc] = np.arange(L)
    c_st, c_mv, c_pl, c_sh = 0, n1, n1 + n2, n1 + n2 + n3
    n = c_sh + L
    r_w, r_q, r_p, r_l = 0, W, W + Q, W + Q + S * K
    m = r_l + L + (max_moves is not None)
    st_nl, pl_nl = np.flatnonzero(g.st_nonlocal), np.flatnonzero(g.pl_nonlocal)
    parts = [  # (rows, cols, values)
        (r_w + g.st_w, c_st + np.arange(n1), 1.0), (r_w + g.mv_w, c_mv + np.arange(n2), 1.0),
        (r_q + g.mv_q, c_mv + np.arange(n2), 1.0), (r_q + g.pl_q, c_pl + np.arange(n3), -1.0),
        (r_p + g.st_s * K + g.st_k, c_st + np.arange(n1), 1.0), (r_p + g.pl_s * K + g.pl_k, c_pl + np.arange(n3), 1.0),
        (r_l + loc_row[g.st_s[st_nl]], c_st + st_nl, 1.0), (r_l + loc_row[g.pl_s[pl_nl]], c_pl + pl_nl, 1.0),
        (r_l + np.arange(L), c_sh + np.arange(L), -1.0),
    ]
    if max_moves is not None:
        parts.append((np.full(n2, m - 1), c_mv + np.arange(n2), 1.0))
    rows = np.concatenate([np.asarray(p[0], np.int64) for p in parts])
    cols = np.concatenate([np.asarray(p[1], np.int64) for p in parts])
    vals = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    A = sp.csr_array(sp.coo_array((vals, (rows, cols)), shape=(m, n)))
    lo = np.concatenate([np.ones(W), np.zeros(Q), np.full(S * K, -np.inf), np.full(m - r_l, -np.inf)])
    hi = np.concatenate([np.ones(W), np.zeros(Q), g.P.ravel().astype(float), g.local_cap[loc].astype(float),
                         [float(max_moves)] if max_moves is not None else []])
    c = np.concatenate([g.st_c - g.hire_c[g.st_k], g.mv_c, g.pl_c - g.hire_c[g.pl_k], np.full(L, penalty)])
    col_hi = np.concatenate([np.ones(n1 + n2), g.P[g.pl_s, g.pl_k].astype(float), np.full(L, np.inf)])
    prob = MilpProblem(c.astype(float), A, lo, hi, np.zeros(n), col_hi, np.ones(n, bool), "min",
                       float((g.P * g.hire_c[None, :]).sum()))
    res = get_backend(solver).solve(prob, options)
    if not res.status.has_solution or res.x is None:
        return res.status, None, res.message
    x = np.rint(res.x).astype(np.int64)
    return res.status, (x[c_st:c_mv], x[c_mv:c_pl], x[c_pl:c_sh]), res.message


def hiring_list(instance: Instance, plan: Any, max_moves: int | None = 0,
                costs: RosterCosts | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roster and the posts to fill per station, type and certification level (see :func:`solve_roster`).

    Raises
    ------
    ValueError
        When there is no roster (more people in post than posts, see the message).
    """
    res = solve_roster(instance, plan, max_moves=max_moves, costs=costs)
    if not res.status.has_solution:
        raise ValueError(f"no roster: {res.status.value}: {res.message}")
    return res.roster, res.hires


