"""The station allocation model: a MILP built with vectorised numpy/scipy code.

Formulation
===========
Sets
----
S stations (s), G population groups (g), K services (k; basic B, featured F, personalised),
C counties (c).  ``act[s]`` is 1 for existing and upgrade stations and the build decision
``build[s]`` for new ones.

Parameters (from the Instance)
------------------------------
pop[s], hh[s] (households), hhsize[s] = pop/hh; demand[s,g] = residents[s,g] * need_share[g];
w[g] group weight; h[g], cpr[g] staff hours and yuan per resident served; service running cost
cost[k] and staff hours hours[k]; serves[k,g]; staff in post by station and type; staff-type hours
H[t] and base annual cost base[t]; unit costs (build per m2, refit per m2, renovation, one-stop
upgrade, new station, access retrofit, training per worker); clause figures.

Money variables and money rows are in thousands of yuan (SOLVER-NOTES: yuan totals upset HiGHS);
reports convert back to yuan.

Variables (per station unless noted)
------------------------------------
adm, swa (certified, assistant level), swi (certified, intermediate), swu (uncertified), vol
    integer staff; SW = swa + swi + swu, CERT = swa + swi.  Lower bounds: admin and volunteers in
    post; swi >= intermediate in post.
m_fac, m_sal, m_svc, m_trn   money by use (facilities/construction, salaries, direct services,
    training & supervision), continuous >= 0.
build   binary, new and upgrade stations only (0 for existing).
onestop binary, existing stations not yet one-stop.     reno binary, buildings older than A-RENOVATE.
access  binary, stations not barrier-free.               demo binary (F-DEMO).
expand  floor area added (m2);  z_adm, z_svc, z_act, z_flex  floor area by zone after the plan;
    inc_adm, inc_svc, inc_act, inc_flex  zone area increases (refitted m2; the increases less the area
    built are the existing m2 that change zone).
y[s,k]  binary, service offered.      x[s,g]  need covered (residents), 0 <= x <= demand.
eq      (global) worst county coverage, when the objective asks for equity.
dev     one non-negative deviation per row of a soft clause family, in the clause's own unit.

Objective (maximise)
--------------------
    sum w[g] x[s,g]  -  cost_weight * total yuan  +  equity_weight * 100 * eq
    -  sum over soft rows of penalty(clause, family) * dev  -  0.001 * swa - 0.002 * swi
(the last two terms only break ties: no more certified posts than the clauses need).

Constraints (engine rules, always hard)
---------------------------------------
E1  IN-POST      SW[s] >= social workers in post; CERT[s] >= certified in post (nobody is dismissed).
E2  OPEN         adm+SW+vol <= cap[s] * act[s];  y[s,k] <= act[s]   (a station not built has nothing).
E3  PAYROLL      m_sal[s] >= base[sw]*SW + base[admin]*adm + base[volunteer]*vol.
E4  HOURS        sum_g h[g] x + sum_k hours[k] y <= (H[sw]-training hours) SW + H[admin] adm + H[vol] vol.
E5  SERVICE-GATE x[s,g] <= demand[s,g] * sum_{k serves g} y[s,k].
E6  SERVICE-COST m_svc[s] >= sum_g cpr[g] x + sum_k cost[k] y.
E7  FACILITY-COST m_fac[s] >= build_per_m2*expand + refit_per_m2*(inc_adm+inc_svc+inc_act+inc_flex-expand)
                 + renovation*reno + one_stop_upgrade*onestop + new_station*build(new) + access_retrofit*access.
E8  TRAINING-COST m_trn[s] >= training_per_worker * SW.
E9  ZONES-SUM    z_adm+z_svc+z_act+z_flex = floor_area[s] + expand;  z_adm - inc_adm <= admin area today, same
                 for service, activity and flex (today 0).   (only when a zoning clause is in force)

Constraints (clauses; family in brackets; every row carries clause id x station)
-------------------------------------------------------------------------------
Staffing
C1  A-STAFF-DENSITY [total]  sum(adm+SW+vol) >= per_10k * pop_total / 10,000            (staff)
C2  A-STAFF-MIX [t]          staff_t - (share_t - tol) * staff_total >= 0 and
                             staff_t - (share_t + tol) * staff_total <= 0, t in admin/SW/volunteer (staff)
C3  A-CERT-MIN [station]     CERT[s] >= per_station * act[s]                             (workers)
C4  A-CERT-RATE [total]      sum CERT - share * sum SW >= 0                              (workers)
C5  A-CASELOAD [station]     sum_g x[s,g] / hhsize[s] - households_per_worker * SW[s] <= 0 (households)
C6  A-SALARY [station]       m_sal - 12*monthly_min*SW - base[admin]*adm >= 0           (yuan)
C7  A-VOLUNTEER [total]      sum vol >= multiplier * baseline                            (volunteers)
C8  F-SW-DENSITY [per_10k]   sum SW >= per_10k * pop_total / 10,000;  [stated_total] sum SW >= stated_total
C9  F-SW-URBAN / F-SW-RURAL [station]  SW[s] >= per_station * act[s] on urban / rural stations (workers)
C10 F-CERT-RATE [certified]  sum CERT - share(year) * sum SW >= 0;
                [intermediate] sum swi - intermediate_share * sum SW >= 0               (workers)
C11 F-HIRING [in_post]       sum SW >= in_post(year);  [recruited] sum SW - in post today <= recruited(year)
C12 F-SALARY [station]       m_sal - annual_average*SW - 12*seniority_bonus*(workers in post with
                             >= seniority_years) >= 0                                   (yuan)
Budget
C13 A-BUDGET-PERCAP [total]  sum of all money <= per_capita * pop_total                  (yuan)
C14 A-SPLIT [facilities|salaries|services]  sum m_fac (m_sal, m_svc) <= share * per_capita * pop_total
C15 A-DIRECT-MIN [total]     sum m_svc - share * sum of all money >= 0                   (yuan)
C16 F-BUILD-SUBSIDY [station] m_fac[s] - subsidy(status) * build[s] = 0, new/upgrade stations (yuan)
C17 F-OPS-SUBSIDY [station]  m_sal+m_svc+m_trn - per_worker * SW >= 0                    (yuan)
C18 F-OPS-STATION [station]  m_sal+m_svc+m_trn >= (urban_min | rural_min) * act[s]       (yuan)
C19 F-TOTAL [operations]     sum (m_sal+m_svc+m_trn) <= operations_per_year;
            [construction]   sum m_fac = construction                                    (yuan)
C20 F-USES [salaries|services|training]  sum m_sal (m_svc, m_trn) <= share * operations_per_year
Space and coverage
C21 A-AREA [station]         floor_area + expand >= (urban_min_m2 | rural_min_m2) * act[s]   (m2)
C22 A-ZONES [admin] z_adm - admin_max*(area+expand) <= 0; [service] z_svc - service_min*(area+expand) >= 0;
            [activity] z_act - activity_min*(area+expand) >= 0                       (m2)
C23 A-FLEX [station]         z_flex - share*(area+expand) >= 0                           (m2)
C24 A-RENOVATE [station]     reno[s] >= 1 for buildings older than age_years             (stations)
C25 A-COVERAGE [urban|rural] sum pop[s]*act[s] over urban (rural) >= share * urban (rural) residents;
               [one_stop]    one-stop today + sum onestop >= share * |S|                 (residents; stations)
C26 F-AREA [area] area+expand >= min_m2*act; [service] z_svc >= service_share*(area+expand);
           [office] z_adm <= office_share*(area+expand); [display] z_act >= display_share*(area+expand)
C27 F-COVERAGE [total]       sum act >= share(year) * |S|                                (stations)
C28 F-BUILD [new|upgraded]   sum build over new (upgrade) stations = new (upgraded)      (stations)
C29 F-DEMO [count] sum demo >= count(year); [per_county] sum_{s in c} demo >= per_county_min;
           [standard] SW[s] - min_social_workers*demo >= 0 and featured(s) - min_featured*demo >= 0; demo <= act
C30 F-ACCESS [station]       access[s] >= share * act[s] on stations not barrier-free    (stations)
Services and needs
C31 A-BASIC [station]        sum_{k basic} y[s,k] >= min(count, |B|) * act[s]            (services)
C32 A-FEATURE / F-FEATURE [station]  sum_{k featured} y[s,k] >= min_per_station * act[s] (services)
C33 A-VARIETY [station]      sum_k y[s,k] >= min_per_station * act[s]                    (services)
C34 A-MATCH [total]          sum x - share * sum demand >= 0                             (residents)
C35 A-CANTEEN [count]        sum_s y[s,elderly_meals] >= stations;
              [coverage]     x[s,elderly] - meal_coverage*demand[s,elderly]*y[s,elderly_meals] >= 0 (residents)
C36 F-SPECIAL [total]        sum over special groups x - share * their demand >= 0      (residents)
Equity (objective option ``worst_county``): eq <= sum_{s in c,g} x / sum_{s in c,g} demand for every county.

A clause family whose mode is ``soft`` gets ``dev >= 0`` on each of its rows (added to a >= row,
subtracted from a <= row, both ways on an equality), priced in the objective by its penalty per
unit (per yuan for money rows).  ``strict=True`` makes every family hard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from allocator.instance import Instance
from solvers.base import MilpProblem

MONEY = 1000.0  # money columns and rows are in thousands of yuan
_INF = np.inf


@dataclass(frozen=True)
class ColumnBlock:
    """A block of columns: ``name``, first index, shape (stations x k, or a scalar block)."""

    name: str
    start: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def index(self) -> np.ndarray:
        return (self.start + np.arange(self.size)).reshape(self.shape)


@dataclass(frozen=True)
class RowBlock:
    """A block of rows of one constraint family.

    ``clause`` is a POLICY.md id (or ``ENGINE`` for the model's own bookkeeping rules), ``family``
    the family within it, ``stations`` the station index of each row (-1 for a total row),
    ``unit`` the unit of the row (money rows: ``yuan``, stored in thousands), ``soft`` whether
    deviation columns were added (``dev_plus``/``dev_minus``: column index per row or -1).
    """

    name: str
    clause: str
    family: str
    start: int
    count: int
    stations: np.ndarray
    unit: str
    sense: str
    soft: bool
    penalty: float
    dev_plus: np.ndarray
    dev_minus: np.ndarray
    labels: tuple[str, ...] = ()

    @property
    def scale(self) -> float:
        return MONEY if self.unit == "yuan" else 1.0


@dataclass(frozen=True, eq=False)
class Model:
    """A built model: the solver-neutral problem plus named blocks mapping back to the policy."""

    problem: MilpProblem
    columns: dict[str, ColumnBlock]
    rows: tuple[RowBlock, ...]
    strict: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    def col(self, name: str) -> np.ndarray:
        return self.columns[name].index()


# Penalty per unit used by the elastic model (diagnosis) for a family the instance marks hard: the
# same order of magnitude as the seed instances' own penalties for soft families of that unit.
UNIT_PENALTY = {"yuan": 0.01, "workers": 400.0, "staff": 400.0, "volunteers": 100.0, "residents": 2.0,
                "households": 2.0, "services": 500.0, "stations": 20000.0, "m2": 10.0}


class _Builder:
    """Accumulates column and row blocks as COO triplets (no per-coefficient Python objects)."""

    def __init__(self, strict: bool, drop: frozenset[tuple[str, str]] = frozenset(), elastic: bool = False):
        self.strict = strict
        self.drop = drop
        self.elastic = elastic
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.obj: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.money: list[np.ndarray] = []
        self.names: dict[str, ColumnBlock] = {}
        self.n = 0
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rhi: list[np.ndarray] = []
        self.m = 0
        self.blocks: list[RowBlock] = []

    def cols(self, name: str, shape: tuple[int, ...], lb: object = 0.0, ub: object = _INF,
             integer: bool = False, obj: object = 0.0, money: bool = False) -> np.ndarray:
        size = int(np.prod(shape))
        blk = ColumnBlock(name, self.n, shape)
        self.names[name] = blk
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), shape).ravel().copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), shape).ravel().copy())
        self.obj.append(np.broadcast_to(np.asarray(obj, dtype=float), shape).ravel().copy())
        self.integer.append(np.full(size, integer))
        self.money.append(np.full(size, money))
        self.n += size
        return blk.index()

    def rows(self, name: str, clause: str, family: str, terms: list[tuple[np.ndarray, object]],
             lo: object, hi: object, stations: np.ndarray | None = None, unit: str = "",
             mode: str = "hard", penalty: float = 0.0, mask: np.ndarray | None = None,
             labels: tuple[str, ...] = ()) -> None:
        """Add R rows: row i = sum over terms of coef[i, j] * x[cols[i, j]], lo[i] <= row <= hi[i].

        ``terms`` is a list of (cols, coefs) with cols of shape (R,) or (R, k) and coefs broadcastable
        to it.  ``mask`` (R,) keeps only some rows.  Money rows (unit ``yuan``) are given in yuan and
        stored in thousands.
        """
        R = None
        for cols, _ in terms:
            cols = np.asarray(cols)
            R = cols.shape[0] if cols.ndim else 1
            break
        if R is None:
            return
        if clause != "ENGINE":
            if (clause, family) in self.drop or (clause, "*") in self.drop:
                return
            if self.elastic:
                penalty = penalty if mode == "soft" and penalty > 0 else UNIT_PENALTY.get(unit, 1.0)
                mode = "soft"
        lo_a = np.broadcast_to(np.asarray(lo, dtype=float), (R,)).astype(float)
        hi_a = np.broadcast_to(np.asarray(hi, dtype=float), (R,)).astype(float)
        keep = np.ones(R, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if not keep.any():
            return
        st = np.full(R, -1) if stations is None else np.asarray(stations)
        new_index = np.cumsum(keep) - 1
        scale = MONEY if unit == "yuan" else 1.0
        for cols, coefs in terms:
            cols = np.asarray(cols)
            if cols.ndim == 0:
                cols = cols.reshape(1)
            if cols.ndim == 1:
                cols = cols[:, None]
            co = np.asarray(coefs, dtype=float)
            if co.ndim == 1 and cols.shape[1] == 1 and co.shape[0] == R:
                co = co[:, None]  # one coefficient per row
            co = np.broadcast_to(co, cols.shape)
            rr = np.broadcast_to(np.arange(R)[:, None], cols.shape)
            sel = keep[rr] & (co != 0)
            self.r.append(self.m + new_index[rr[sel]])
            self.c.append(cols[sel])
            if unit == "yuan":
                # Money columns hold thousands of yuan: their coefficient stays 1 per thousand; every
                # other coefficient (yuan per worker, ...) is divided by a thousand with the bounds.
                is_money = np.concatenate(self.money)[cols[sel]]
                self.v.append(np.where(is_money, co[sel], co[sel] / scale))
            else:
                self.v.append(co[sel])
        lo_k, hi_k = lo_a[keep] / scale, hi_a[keep] / scale
        count = int(keep.sum())
        soft = mode == "soft" and (self.elastic or not self.strict)
        dplus = np.full(count, -1)
        dminus = np.full(count, -1)
        rows_idx = self.m + np.arange(count)
        if soft:
            obj_pen = -penalty * scale
            if np.isfinite(lo_k).any():  # a >= side: a positive deviation helps reach lo
                need = np.isfinite(lo_k)
                idx = self.cols(f"dev:{name}:+", (count,), 0.0, _INF, False, np.where(need, obj_pen, 0.0))
                dplus = np.where(need, idx, -1)
                self.r.append(rows_idx[need])
                self.c.append(idx[need])
                self.v.append(np.ones(int(need.sum())))
            if np.isfinite(hi_k).any():
                need = np.isfinite(hi_k)
                idx = self.cols(f"dev:{name}:-", (count,), 0.0, _INF, False, np.where(need, obj_pen, 0.0))
                dminus = np.where(need, idx, -1)
                self.r.append(rows_idx[need])
                self.c.append(idx[need])
                self.v.append(-np.ones(int(need.sum())))
        self.rlo.append(lo_k)
        self.rhi.append(hi_k)
        lab = tuple(np.asarray(labels, dtype=object)[keep]) if labels else ()
        self.blocks.append(RowBlock(name, clause, family, self.m, count, st[keep], unit,
                                    _sense(lo_k, hi_k), soft, penalty, dplus, dminus, lab))
        self.m += count

    def finish(self, offset: float = 0.0) -> tuple[MilpProblem, dict[str, ColumnBlock], tuple[RowBlock, ...]]:
        r = np.concatenate(self.r) if self.r else np.zeros(0, dtype=np.int64)
        c = np.concatenate(self.c) if self.c else np.zeros(0, dtype=np.int64)
        v = np.concatenate(self.v) if self.v else np.zeros(0)
        A = sp.csr_array(sp.coo_array((v, (r, c)), shape=(self.m, self.n)))
        A.sum_duplicates()
        A.eliminate_zeros()  # terms that cancel (e.g. build and refit on expanded area) leave no entry
        problem = MilpProblem(
            c=np.concatenate(self.obj), A=A,
            row_lower=np.concatenate(self.rlo) if self.rlo else np.zeros(0),
            row_upper=np.concatenate(self.rhi) if self.rhi else np.zeros(0),
            col_lower=np.concatenate(self.lb), col_upper=np.concatenate(self.ub),
            integrality=np.concatenate(self.integer), sense="max", offset=offset,
        )
        return problem, self.names, tuple(self.blocks)


def _county_members(st) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Sorted county names and a (counties x largest county) matrix of station indices, -1 padded."""
    names, inv = np.unique(np.asarray(st["county"], dtype=str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    sizes = np.bincount(inv, minlength=len(names))
    pos = np.arange(len(inv)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    members = np.full((len(names), int(sizes.max()) if len(sizes) else 0), -1)
    members[inv[order], pos] = order
    return names, members


def _sense(lo: np.ndarray, hi: np.ndarray) -> str:
    if len(lo) == 0:
        return ">="
    if np.all(lo == hi):
        return "="
    if np.all(np.isinf(hi)):
        return ">="
    if np.all(np.isinf(lo)):
        return "<="
    return "range"


def build(instance: Instance, strict: bool = False, drop: frozenset[tuple[str, str]] = frozenset(),
          elastic: bool = False, feasibility: bool = False) -> Model:
    """Build the station allocation MILP of ``instance``.

    Parameters
    ----------
    instance : Instance
        A validated instance.
    strict : bool
        Make every clause family hard, whatever the instance says.
    drop : frozenset of (clause id, family)
        Families left out (family ``"*"``: the whole clause); used by the diagnosis.
    elastic : bool
        Every clause family soft (hard ones priced by :data:`UNIT_PENALTY`), and the objective is only
        to minimise the priced deviations: the smallest relaxation that makes a plan possible.
    feasibility : bool
        Zero objective: only ask whether a plan exists.

    Returns
    -------
    Model
        The solver-neutral problem with its named column and row blocks.
    """
    inst = instance
    b = _Builder(strict, drop, elastic)
    st = inst.stations
    S = len(st)
    G = len(inst.groups)
    K = len(inst.services)
    sidx = np.arange(S)
    pop = st["population"].astype(float)
    hh = np.maximum(st["households"].astype(float), 1.0)
    urban = st["area_type"] == "urban"
    status = st["status"]
    is_new = status == "new"
    buildable = is_new | (status == "upgrade")
    area0 = st["floor_area_m2"].astype(float)
    need = np.array([g.need_share for g in inst.groups])
    demand = inst.residents.astype(float) * need[None, :]
    weights = np.array([g.weight for g in inst.groups])
    hours_g = np.array([g.hours_per_resident for g in inst.groups])
    cpr = np.array([g.cost_per_resident for g in inst.groups])
    kind = inst.services["kind"]
    svc_cost = inst.services["annual_cost"].astype(float)
    svc_hours = inst.services["staff_hours"].astype(float)
    costs = inst.costs
    notes: list[str] = []

    def clause(cid: str):  # type: ignore[no-untyped-def]
        return inst.clause(cid)

    # --- staff in post, per station ---------------------------------------------------------------
    sf = inst.staff
    at = np.searchsorted(np.asarray(st["station_id"], dtype=str), np.asarray(sf["station_id"], dtype=str),
                         sorter=np.argsort(np.asarray(st["station_id"], dtype=str)))
    at = np.argsort(np.asarray(st["station_id"], dtype=str))[at] if len(sf) else at

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(at[mask], minlength=S).astype(float) if len(sf) else np.zeros(S)

    adm0 = count(sf["type"] == "admin")
    vol0 = count(sf["type"] == "volunteer")
    sw_mask = sf["type"] == "social_worker"
    sw0 = count(sw_mask)
    cert0 = count(sw_mask & sf["certified"])
    inter0 = count(sw_mask & (sf["level"] == "intermediate"))
    fsal = clause("F-SALARY")
    senior0 = count(sw_mask & (sf["years_of_service"] >= (fsal.figure("seniority_years", 3.0) if fsal else 3.0)))
    cap = np.ceil(pop / 250.0) + adm0 + sw0 + vol0 + 10.0

    # --- columns ------------------------------------------------------------------------------------
    base = {t: inst.staff_type(t) for t in ("admin", "social_worker", "volunteer")}
    adm = b.cols("adm", (S,), adm0, cap, True)
    # A tie-break of 1e-3 objective units per certified post (2e-3 intermediate): among plans equal in
    # everything the policy values, ask for no more certification than the clauses need.
    swa = b.cols("swa", (S,), 0.0, cap, True, -1e-3)
    swi = b.cols("swi", (S,), inter0, cap, True, -2e-3)
    swu = b.cols("swu", (S,), 0.0, cap, True)
    vol = b.cols("vol", (S,), vol0, cap, True)
    money_obj = -inst.objective.cost_weight * MONEY
    m_fac = b.cols("m_fac", (S,), 0.0, _INF, False, money_obj, money=True)
    m_sal = b.cols("m_sal", (S,), 0.0, _INF, False, money_obj, money=True)
    m_svc = b.cols("m_svc", (S,), 0.0, _INF, False, money_obj, money=True)
    m_trn = b.cols("m_trn", (S,), 0.0, _INF, False, money_obj, money=True)
    build_c = b.cols("build", (S,), 0.0, buildable.astype(float), True)
    onestop = b.cols("onestop", (S,), 0.0, ((status == "existing") & ~st["one_stop"]).astype(float), True)
    ren = clause("A-RENOVATE")
    old = (np.nan_to_num(st["building_age_years"], nan=-1.0) > ren.figures["age_years"]) if ren else np.zeros(S, bool)
    reno = b.cols("reno", (S,), 0.0, old.astype(float), True)
    acc_cl = clause("F-ACCESS")
    not_acc = ~st["accessible"] if acc_cl else np.zeros(S, bool)
    access = b.cols("access", (S,), 0.0, not_acc.astype(float), True)
    demo_cl = clause("F-DEMO")
    demo = b.cols("demo", (S,), 0.0, 1.0 if demo_cl else 0.0, True)
    expand = b.cols("expand", (S,), 0.0, _INF)
    zoning = any(clause(c) for c in ("A-ZONES", "A-FLEX", "F-AREA"))
    y = b.cols("y", (S, K), 0.0, 1.0, True)
    x = b.cols("x", (S, G), 0.0, demand, False, np.broadcast_to(weights, (S, G)))
    # act[s] = act_const[s] + act_coef[s] * build[s]
    act_const = (~is_new).astype(float)
    act_coef = is_new.astype(float)
    SW_cols = np.stack([swa, swi, swu], axis=1)
    CERT_cols = np.stack([swa, swi], axis=1)
    ALL_staff = np.stack([adm, swa, swi, swu, vol], axis=1)

    # --- engine rules -----------------------------------------------------------------------------------
    b.rows("in_post_sw", "ENGINE", "IN-POST", [(SW_cols, 1.0)], sw0, _INF, sidx, "workers")
    b.rows("in_post_cert", "ENGINE", "IN-POST", [(CERT_cols, 1.0)], cert0, _INF, sidx, "workers")
    b.rows("open_staff", "ENGINE", "OPEN", [(ALL_staff, 1.0), (build_c, -cap * act_coef)], -_INF,
           cap * act_const, sidx, "staff")
    # y[s,k] <= build[s] for new stations, one row per (station, service)
    if is_new.any() and K:
        rows_s = np.repeat(sidx[is_new], K)
        yk = y[is_new].ravel()
        b.rows("open_services", "ENGINE", "OPEN", [(np.stack([yk, build_c[rows_s]], 1), np.array([1.0, -1.0]))],
               -_INF, 0.0, rows_s, "services")
    b.rows("payroll", "ENGINE", "PAYROLL",
           [(m_sal, 1.0), (SW_cols, -base["social_worker"].annual_cost), (adm, -base["admin"].annual_cost),
            (vol, -base["volunteer"].annual_cost)], 0.0, _INF, sidx, "yuan")
    train = clause("A-TRAINING")
    h_sw = base["social_worker"].hours_per_year - (train.figures["hours_per_worker"] if train else 0.0)
    b.rows("hours", "ENGINE", "HOURS",
           [(x, hours_g[None, :]), (y, svc_hours[None, :]), (SW_cols, -h_sw), (adm, -base["admin"].hours_per_year),
            (vol, -base["volunteer"].hours_per_year)], -_INF, 0.0, sidx, "hours")
    # E5: x[s,g] - demand[s,g] * sum_{k serves g} y[s,k] <= 0, one row per (s, g)
    serves = inst.serves  # (K, G)
    for g in range(G):
        ks = np.flatnonzero(serves[:, g])
        cols_ = np.concatenate([x[:, g:g + 1], y[:, ks]], axis=1)
        coefs = np.concatenate([np.ones((S, 1)), -np.repeat(demand[:, g:g + 1], len(ks), 1)], axis=1)
        b.rows(f"gate:{inst.groups[g].id}", "ENGINE", "SERVICE-GATE", [(cols_, coefs)], -_INF, 0.0, sidx,
               "residents", mask=demand[:, g] > 0)
    b.rows("service_cost", "ENGINE", "SERVICE-COST", [(m_svc, 1.0), (x, -cpr[None, :]), (y, -svc_cost[None, :])],
           0.0, _INF, sidx, "yuan")
    zone_cols: dict[str, np.ndarray] = {}
    fac_terms = [(m_fac, 1.0), (expand, -costs["build_per_m2"]), (reno, -costs["renovation"]),
                 (onestop, -costs["one_stop_upgrade"]), (build_c, -costs["new_station"] * is_new),
                 (access, -costs["access_retrofit"])]
    if zoning:
        for z in ("z_adm", "z_svc", "z_act", "z_flex"):
            zone_cols[z] = b.cols(z, (S,), 0.0, _INF)
        incs = {z: b.cols(f"inc_{z[2:]}", (S,), 0.0, _INF) for z in ("z_adm", "z_svc", "z_act", "z_flex")}
        # Refitting is charged on existing floor area that changes zone: the increases minus the newly
        # built area (new area is fitted out as part of its build cost).
        fac_terms += [(incs[z], -costs["refit_per_m2"]) for z in incs] + [(expand, costs["refit_per_m2"])]
        b.rows("zones_sum", "ENGINE", "ZONES-SUM",
               [(np.stack([zone_cols[z] for z in zone_cols], 1), 1.0), (expand, -1.0)], area0, area0, sidx, "m2")
        today = {"z_adm": area0 * st["zone_admin"], "z_svc": area0 * st["zone_service"],
                 "z_act": area0 * st["zone_activity"], "z_flex": np.zeros(S)}
        for z, inc in incs.items():
            b.rows(f"refit_{z}", "ENGINE", "ZONES-SUM", [(zone_cols[z], 1.0), (inc, -1.0)], -_INF, today[z], sidx,
                   "m2")
    b.rows("facility_cost", "ENGINE", "FACILITY-COST", fac_terms, 0.0, _INF, sidx, "yuan")
    if costs["training_per_worker"] > 0:
        b.rows("training_cost", "ENGINE", "TRAINING-COST", [(m_trn, 1.0), (SW_cols, -costs["training_per_worker"])],
               0.0, _INF, sidx, "yuan")

    def fam(cid: str, family: str, terms, lo, hi, stations=None, unit="", mask=None, labels=()):  # type: ignore[no-untyped-def]
        c = inst.clause(cid)
        assert c is not None
        b.rows(f"{cid}:{family}", cid, family, terms, lo, hi, stations, unit, c.mode(family), c.penalty(family),
               mask, labels)

    def total(cols: np.ndarray, coef: float | np.ndarray = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """One row over ``cols`` (a total across stations)."""
        cols = np.asarray(cols).reshape(1, -1)
        return cols, np.broadcast_to(np.asarray(coef, dtype=float), cols.shape)

    pop_total = float(pop.sum())
    staff_all = ALL_staff.ravel()
    # --- staffing clauses -----------------------------------------------------------------------------------
    if c := clause("A-STAFF-DENSITY"):
        fam("A-STAFF-DENSITY", "total", [total(staff_all)], c.figures["per_10k"] * pop_total / 1e4, _INF,
            unit="staff")
    if c := clause("A-STAFF-MIX"):
        tol = c.figures["tolerance"]
        for t, cols_t in (("admin", adm), ("social_worker", SW_cols.ravel()), ("volunteer", vol)):
            share = c.figures[t]
            mine = np.isin(staff_all, np.asarray(cols_t).ravel())
            lo_coef = np.where(mine, 1.0 - (share - tol), -(share - tol))
            hi_coef = np.where(mine, 1.0 - (share + tol), -(share + tol))
            fam("A-STAFF-MIX", t, [total(staff_all, lo_coef)], 0.0, _INF, unit="staff")
            fam("A-STAFF-MIX", t, [total(staff_all, hi_coef)], -_INF, 0.0, unit="staff")
    if c := clause("A-CERT-MIN"):
        n = c.figures["per_station"]
        fam("A-CERT-MIN", "station", [(CERT_cols, 1.0), (build_c, -n * act_coef)], n * act_const, _INF, sidx,
            "workers")
    if c := clause("A-CERT-RATE"):
        share = c.figures["share"]
        fam("A-CERT-RATE", "total", [total(np.concatenate([swa, swi]), 1 - share), total(swu, -share)], 0.0, _INF,
            unit="workers")
    if c := clause("A-CASELOAD"):
        hhsize = pop / hh
        fam("A-CASELOAD", "station", [(x, 1.0 / hhsize[:, None]), (SW_cols, -c.figures["households_per_worker"])],
            -_INF, 0.0, sidx, "households")
    if c := clause("A-SALARY"):
        fam("A-SALARY", "station", [(m_sal, 1.0), (SW_cols, -12 * c.figures["monthly_min"]),
                                    (adm, -base["admin"].annual_cost)], 0.0, _INF, sidx, "yuan")
    if c := clause("A-VOLUNTEER"):
        fam("A-VOLUNTEER", "total", [total(vol)], c.figures["multiplier"] * c.figures["baseline"], _INF,
            unit="volunteers")
    sw_all = SW_cols.ravel()
    if c := clause("F-SW-DENSITY"):
        fam("F-SW-DENSITY", "per_10k", [total(sw_all)], c.figures["per_10k"] * pop_total / 1e4, _INF, unit="workers")
        if "stated_total" in c.figures:
            fam("F-SW-DENSITY", "stated_total", [total(sw_all)], c.figures["stated_total"], _INF, unit="workers")
    for cid, mask in (("F-SW-URBAN", urban), ("F-SW-RURAL", ~urban)):
        if c := clause(cid):
            n = c.figures["per_station"]
            fam(cid, "station", [(SW_cols, 1.0), (build_c, -n * act_coef)], n * act_const, _INF, sidx, "workers",
                mask=mask)
    if c := clause("F-CERT-RATE"):
        if "share" in c.figures:
            share = c.figures["share"]
            fam("F-CERT-RATE", "certified", [total(np.concatenate([swa, swi]), 1 - share), total(swu, -share)],
                0.0, _INF, unit="workers")
        if "intermediate_share" in c.figures:
            share = c.figures["intermediate_share"]
            fam("F-CERT-RATE", "intermediate", [total(swi, 1 - share), total(np.concatenate([swa, swu]), -share)],
                0.0, _INF, unit="workers")
    if c := clause("F-HIRING"):
        if "in_post" in c.figures:
            fam("F-HIRING", "in_post", [total(sw_all)], c.figures["in_post"], _INF, unit="workers")
        if "recruited" in c.figures:
            fam("F-HIRING", "recruited", [total(sw_all)], -_INF, c.figures["recruited"] + sw0.sum(), unit="workers")
    if c := clause("F-SALARY"):
        bonus = 12 * c.figures.get("seniority_bonus_monthly", 0.0) * senior0
        fam("F-SALARY", "station", [(m_sal, 1.0), (SW_cols, -c.figures["annual_average"])], bonus, _INF, sidx,
            "yuan")
    # --- budget clauses -------------------------------------------------------------------------------------
    money_all = np.concatenate([m_fac, m_sal, m_svc, m_trn])
    if c := clause("A-BUDGET-PERCAP"):
        budget = c.figures["per_capita"] * pop_total
        fam("A-BUDGET-PERCAP", "total", [total(money_all)], -_INF, budget, unit="yuan")
        if sp_ := clause("A-SPLIT"):
            for f, cols_f in (("facilities", m_fac), ("salaries", m_sal), ("services", m_svc)):
                b.rows(f"A-SPLIT:{f}", "A-SPLIT", f, [total(cols_f)], -_INF, sp_.figures[f] * budget, None, "yuan",
                       sp_.mode(f), sp_.penalty(f))
    elif clause("A-SPLIT"):
        notes.append("A-SPLIT needs A-BUDGET-PERCAP in force to size its lines; not applied")
    if c := clause("A-DIRECT-MIN"):
        share = c.figures["share"]
        fam("A-DIRECT-MIN", "total", [total(m_svc, 1 - share), total(np.concatenate([m_fac, m_sal, m_trn]), -share)],
            0.0, _INF, unit="yuan")
    if c := clause("F-BUILD-SUBSIDY"):
        subsidy = np.where(is_new, c.figures["new_station"], c.figures["upgraded_station"])
        fam("F-BUILD-SUBSIDY", "station", [(m_fac, 1.0), (build_c, -subsidy)], 0.0, 0.0, sidx, "yuan", mask=buildable)
    ops = np.stack([m_sal, m_svc, m_trn], axis=1)
    if c := clause("F-OPS-SUBSIDY"):
        fam("F-OPS-SUBSIDY", "station", [(ops, 1.0), (SW_cols, -c.figures["per_worker"])], 0.0, _INF, sidx, "yuan")
    if c := clause("F-OPS-STATION"):
        floor = np.where(urban, c.figures["urban_min"], c.figures["rural_min"])
        fam("F-OPS-STATION", "station", [(ops, 1.0), (build_c, -floor * act_coef)], floor * act_const, _INF, sidx,
            "yuan")
    if c := clause("F-TOTAL"):
        opb = c.figures["operations_per_year"]
        fam("F-TOTAL", "operations", [total(ops.ravel())], -_INF, opb, unit="yuan")
        fam("F-TOTAL", "construction", [total(m_fac)], c.figures["construction"], c.figures["construction"],
            unit="yuan")
        if u := clause("F-USES"):
            for f, cols_f in (("salaries", m_sal), ("services", m_svc), ("training", m_trn)):
                b.rows(f"F-USES:{f}", "F-USES", f, [total(cols_f)], -_INF, u.figures[f] * opb, None, "yuan",
                       u.mode(f), u.penalty(f))
    elif clause("F-USES"):
        notes.append("F-USES needs F-TOTAL in force to size its lines; not applied")
    # --- space and coverage ---------------------------------------------------------------------------------
    if c := clause("A-AREA"):
        need_m2 = np.where(urban, c.figures["urban_min_m2"], c.figures["rural_min_m2"])
        fam("A-AREA", "station", [(expand, 1.0), (build_c, -need_m2 * act_coef)], need_m2 * act_const - area0,
            _INF, sidx, "m2")
    if zoning:
        tot_terms = lambda share: [(expand, -share)]  # noqa: E731  (area0 goes to the bound)
        if c := clause("A-ZONES"):
            fam("A-ZONES", "admin", [(zone_cols["z_adm"], 1.0)] + tot_terms(c.figures["admin_max"]), -_INF,
                c.figures["admin_max"] * area0, sidx, "m2")
            fam("A-ZONES", "service", [(zone_cols["z_svc"], 1.0)] + tot_terms(c.figures["service_min"]),
                c.figures["service_min"] * area0, _INF, sidx, "m2")
            fam("A-ZONES", "activity", [(zone_cols["z_act"], 1.0)] + tot_terms(c.figures["activity_min"]),
                c.figures["activity_min"] * area0, _INF, sidx, "m2")
        if c := clause("A-FLEX"):
            fam("A-FLEX", "station", [(zone_cols["z_flex"], 1.0)] + tot_terms(c.figures["share"]),
                c.figures["share"] * area0, _INF, sidx, "m2")
        if c := clause("F-AREA"):
            fam("F-AREA", "area", [(expand, 1.0), (build_c, -c.figures["min_m2"] * act_coef)],
                c.figures["min_m2"] * act_const - area0, _INF, sidx, "m2")
            fam("F-AREA", "service", [(zone_cols["z_svc"], 1.0)] + tot_terms(c.figures["service_share"]),
                c.figures["service_share"] * area0, _INF, sidx, "m2")
            fam("F-AREA", "office", [(zone_cols["z_adm"], 1.0)] + tot_terms(c.figures["office_share"]), -_INF,
                c.figures["office_share"] * area0, sidx, "m2")
            fam("F-AREA", "display", [(zone_cols["z_act"], 1.0)] + tot_terms(c.figures["display_share"]),
                c.figures["display_share"] * area0, _INF, sidx, "m2")
    if c := clause("A-RENOVATE"):
        fam("A-RENOVATE", "station", [(reno, 1.0)], 1.0, _INF, sidx, "stations", mask=old)
    if c := clause("A-COVERAGE"):
        for f, mask in (("urban", urban), ("rural", ~urban)):
            if mask.any():
                covered_const = float((pop * act_const)[mask].sum())
                fam("A-COVERAGE", f, [total(build_c[mask], (pop * act_coef)[mask])],
                    c.figures[f] * float(pop[mask].sum()) - covered_const, _INF, unit="residents")
        fam("A-COVERAGE", "one_stop", [total(onestop)], c.figures["one_stop"] * S - float(st["one_stop"].sum()),
            _INF, unit="stations")
    if (c := clause("F-COVERAGE")) and "share" in c.figures:
        fam("F-COVERAGE", "total", [total(build_c, act_coef)], c.figures["share"] * S - act_const.sum(), _INF,
            unit="stations")
    if c := clause("F-BUILD"):
        for f, mask in (("new", is_new), ("upgraded", status == "upgrade")):
            n = c.figures["new" if f == "new" else "upgraded"]
            fam("F-BUILD", f, [total(build_c[mask])], n, n, unit="stations")
    featured = np.flatnonzero(kind == "featured")
    if c := demo_cl:
        if "count" in c.figures:
            fam("F-DEMO", "count", [total(demo)], c.figures["count"], _INF, unit="stations")
        names, members = _county_members(st)
        ok = members >= 0
        fam("F-DEMO", "per_county", [(demo[np.maximum(members, 0)], ok.astype(float))], c.figures["per_county_min"],
            _INF, unit="stations", labels=tuple(names))
        fam("F-DEMO", "standard", [(SW_cols, 1.0), (demo, -c.figures["min_social_workers"])], 0.0, _INF, sidx,
            "workers")
        fam("F-DEMO", "standard", [(y[:, featured], 1.0), (demo, -c.figures["min_featured"])], 0.0, _INF, sidx,
            "services")
        b.rows("demo_open", "ENGINE", "OPEN", [(demo, 1.0), (build_c, -act_coef)], -_INF, act_const, sidx, "stations")
    if c := acc_cl:
        share = c.figures["share"]
        fam("F-ACCESS", "station", [(access, 1.0), (build_c, -share * act_coef)], share * act_const, _INF, sidx,
            "stations", mask=not_acc)
    # --- services and needs ---------------------------------------------------------------------------------
    basic = np.flatnonzero(kind == "basic")
    if (c := clause("A-BASIC")) and len(basic):
        n = min(c.figures["count"], len(basic))
        fam("A-BASIC", "station", [(y[:, basic], 1.0), (build_c, -n * act_coef)], n * act_const, _INF, sidx,
            "services")
    for cid in ("A-FEATURE", "F-FEATURE"):
        if c := clause(cid):
            n = c.figures["min_per_station"]
            fam(cid, "station", [(y[:, featured], 1.0), (build_c, -n * act_coef)], n * act_const, _INF, sidx,
                "services")
    if c := clause("A-VARIETY"):
        n = c.figures["min_per_station"]
        fam("A-VARIETY", "station", [(y, 1.0), (build_c, -n * act_coef)], n * act_const, _INF, sidx, "services")
    if c := clause("A-MATCH"):
        fam("A-MATCH", "total", [total(x.ravel())], c.figures["share"] * float(demand.sum()), _INF, unit="residents")
    if c := clause("A-CANTEEN"):
        ids = list(inst.services["service_id"])
        gids = list(inst.group_ids)
        if "elderly_meals" in ids and "elderly" in gids:
            k = ids.index("elderly_meals")
            g = gids.index("elderly")
            fam("A-CANTEEN", "count", [total(y[:, k])], c.figures["stations"], _INF, unit="stations")
            fam("A-CANTEEN", "coverage", [(x[:, g], 1.0), (y[:, k], -c.figures["meal_coverage"] * demand[:, g])],
                0.0, _INF, sidx, "residents")
        else:
            notes.append("A-CANTEEN needs service 'elderly_meals' and group 'elderly'; not applied")
    if c := clause("F-SPECIAL"):
        special = np.array([g.special for g in inst.groups])
        if special.any():
            fam("F-SPECIAL", "total", [total(x[:, special].ravel())],
                c.figures["share"] * float(demand[:, special].sum()), _INF, unit="residents")
    # --- equity -----------------------------------------------------------------------------------------------
    if inst.objective.equity == "worst_county" and inst.objective.equity_weight > 0:
        eq = b.cols("eq", (1,), 0.0, 1.0, False, inst.objective.equity_weight * 100)
        names, members = _county_members(st)
        ok = members >= 0
        C = len(names)
        safe = np.maximum(members, 0)
        d = (demand[safe].sum(axis=2) * ok).sum(axis=1)
        inv_d = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
        cols_ = np.concatenate([x[safe].reshape(C, -1), np.broadcast_to(eq, (C, 1))], axis=1)
        coefs = np.concatenate([np.repeat(ok, G, axis=1) * inv_d[:, None], -np.ones((C, 1))], axis=1)
        b.rows("equity", "ENGINE", "EQUITY", [(cols_, coefs)], 0.0, _INF, None, "share", mask=d > 0,
               labels=tuple(names))
    elif inst.objective.equity == "urban_rural_gap" and inst.objective.equity_weight > 0:
        gap = b.cols("eq", (1,), 0.0, 1.0, False, -inst.objective.equity_weight * 100)
        du, dr = float(demand[urban].sum()), float(demand[~urban].sum())
        if du > 0 and dr > 0:
            xu, xr = x[urban].ravel(), x[~urban].ravel()
            for sign, tag in ((1.0, "urban_ahead"), (-1.0, "rural_ahead")):
                b.rows(f"equity:{tag}", "ENGINE", "EQUITY",
                       [total(np.concatenate([xu, xr, gap]), np.concatenate(
                           [np.full(xu.size, -sign / du), np.full(xr.size, sign / dr), [1.0]]))], 0.0, _INF, None,
                       "share")
    problem, cols, rows = b.finish()
    if elastic or feasibility:
        keep = np.zeros(problem.num_cols, dtype=bool)
        if elastic:
            for rb in rows:
                for dev in (rb.dev_plus, rb.dev_minus):
                    keep[dev[dev >= 0]] = True
        problem = MilpProblem(np.where(keep, problem.c, 0.0), problem.A, problem.row_lower, problem.row_upper,
                              problem.col_lower, problem.col_upper, problem.integrality, problem.sense)
    return Model(problem, cols, rows, strict, tuple(notes))
