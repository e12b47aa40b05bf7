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
build   binary, new and upgrade stations only (0 for existing).  Rows that need a station in operation read
    ``build`` (``open``); construction rows (E7's new-station cost, F-BUILD, F-BUILD-SUBSIDY) read ``built``,
    the same column here and a column of its own per year in a horizon (:mod:`allocator.station.horizon`).
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
                 With X-MOVES in force: SW[s] - sum_l (mv_in - mv_out)[s,l] >= SW in post, the same for CERT
                 (levels assistant, intermediate) and swi (intermediate), whose column bound then keeps only
                 the intermediates who may not move (:mod:`allocator.station.families.moves`).
E2  OPEN         adm+SW+vol <= cap[s] * act[s];  y[s,k] <= act[s]   (a station not built has nothing).
E3  PAYROLL      m_sal[s] >= base[sw]*SW + base[admin]*adm + base[volunteer]*vol (+ cost_per_move * moves in).
E4  HOURS        sum_g h[g] x + sum_k hours[k] y <= (H[sw]-training hours) SW + H[admin] adm + H[vol] vol.
E5  SERVICE-GATE x[s,g] <= demand[s,g] * sum_{k serves g} y[s,k].
E6  SERVICE-COST m_svc[s] >= sum_g cpr[g] x + sum_k cost[k] y.
E7  FACILITY-COST m_fac[s] >= build_per_m2*expand + refit_per_m2*(inc_adm+inc_svc+inc_act+inc_flex-expand)
                 + renovation*reno + one_stop_upgrade*onestop + new_station*build(new) + access_retrofit*access.
E8  TRAINING-COST m_trn[s] >= training_per_worker * SW.
E9  ZONES-SUM    z_adm+z_svc+z_act+z_flex = floor_area[s] + expand;  z_adm - inc_adm <= admin area today, same
                 for service, activity and flex (today 0).   (only when a zoning clause is in force)
E12 MOVES        (X-MOVES) per county c and level l: sum_{s in c} (mv_in - mv_out)[s,l] = 0 (nobody created,
                 lost or moved across a county line); mv_out[s,l] <= movable[s,l] (below protected_years).
E13 SERVICE-LINES (A-SOCIAL-SUBSIDY, A-MEAL, A-CATCHMENT points) m_svc[s] >= the service costs of E6 + the
                 subsidy, meal and service-point lines (allocator.station.families.services_policy).

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
                             (C6 and C12 with X-MOVES: m_sal less cost_per_move * moves in, i.e. pay only)
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
Moves
C37 X-MOVES [cap]            sum mv_out <= max_per_year                                  (workers)
Equity (objective option ``worst_county``): eq <= sum_{s in c,g} x / sum_{s in c,g} demand for every county.

A clause family whose mode is ``soft`` gets ``dev >= 0`` on each of its rows (added to a >= row,
subtracted from a <= row, both ways on an equality), priced in the objective by its penalty per
unit (per yuan for money rows).  ``strict=True`` makes every family hard.

Code layout
-----------
This module holds the blocks (:class:`ColumnBlock`, :class:`RowBlock`, :class:`Model`), the
low-level :class:`_Builder` and :func:`build`: the columns, then the engine rules E1-E9
(:mod:`allocator.station.families.engine`), then every clause family of
:data:`allocator.station.families.REGISTRY` that applies to the instance, then the equity term
(:mod:`allocator.station.families.equity`).  Each row and column has a name (``F-SW-RURAL[F012]``,
``A-SPLIT[salaries]``, ``E3-PAYROLL[A01]``, ``swu[F012]``) passed to the backend for exported models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from allocator.instance import Instance
from allocator.station.context import Context, bracket, join_keys, name_part
from allocator.station.families import REGISTRY
from allocator.station.families.engine import engine_rules
from allocator.station.families.equity import equity
from solvers.base import MilpProblem

MONEY = 1000.0  # money columns and rows are in thousands of yuan
_INF = np.inf

# Row names of the engine rules carry their number in the formulation above.
ENGINE_CODES = {"IN-POST": "E1-IN-POST", "OPEN": "E2-OPEN", "PAYROLL": "E3-PAYROLL", "HOURS": "E4-HOURS",
                "SERVICE-GATE": "E5-SERVICE-GATE", "SERVICE-COST": "E6-SERVICE-COST",
                "FACILITY-COST": "E7-FACILITY-COST", "TRAINING-COST": "E8-TRAINING-COST",
                "ZONES-SUM": "E9-ZONES-SUM", "EQUITY": "EQUITY",
                "BENEFIT": "BENEFIT", "SERVED-BY": "E10-SERVED-BY", "SERVICE-GATE-K": "E11-SERVICE-GATE-K",
                "MOVES": "E12-MOVES", "H9-POOL": "H9-POOL", "SERVICE-LINES": "E13-SERVICE-LINES"}


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
    """Accumulates column and row blocks as COO triplets (no per-coefficient Python objects).

    ``station_ids`` names the rows and columns that belong to a station; ``names=False`` names nothing
    (the problem then carries no names: a solve does not need them, an exported model does).
    """

    def __init__(self, strict: bool, drop: frozenset[tuple[str, str]] = frozenset(), elastic: bool = False,
                 station_ids: np.ndarray | None = None, names: bool = True):
        self.strict = strict
        self.drop = drop
        self.elastic = elastic
        self.named = names
        self.station_ids = name_part(np.zeros(0, dtype=str) if station_ids is None else station_ids)
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.obj: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.money: list[np.ndarray] = []
        self.col_names: list[np.ndarray] = []
        self.names: dict[str, ColumnBlock] = {}
        self.n = 0
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rhi: list[np.ndarray] = []
        self.row_names: list[np.ndarray] = []
        self.m = 0
        self.blocks: list[RowBlock] = []
        self.lower_override: list[tuple[np.ndarray, np.ndarray]] = []

    def cols(self, name: str, shape: tuple[int, ...], lb: object = 0.0, ub: object = _INF,
             integer: bool = False, obj: object = 0.0, money: bool = False,
             keys: np.ndarray | None = None, full_names: np.ndarray | None = None) -> np.ndarray:
        """Add a block of columns and return their indices (shape ``shape``).

        Columns are named ``name[key]``: ``keys`` (one string per column, shape ``shape``) defaults
        to the station id for a block of one column per station, else the position; ``full_names``
        gives the names whole instead.
        """
        size = int(np.prod(shape))
        blk = ColumnBlock(name, self.n, shape)
        self.names[name] = blk
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), shape).ravel().copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), shape).ravel().copy())
        self.obj.append(np.broadcast_to(np.asarray(obj, dtype=float), shape).ravel().copy())
        self.integer.append(np.full(size, integer))
        self.money.append(np.full(size, money))
        if self.named:
            if full_names is None:
                if keys is None:
                    keys = self.station_ids if shape == self.station_ids.shape else np.arange(size).astype(str)
                full_names = bracket(name, np.asarray(keys).ravel())
            self.col_names.append(np.asarray(full_names, dtype=str).ravel())
        self.n += size
        return blk.index()

    def set_lower(self, idx: np.ndarray, lb: np.ndarray) -> None:
        """Replace the lower bounds of columns already made (``idx``: their indices; X-MOVES lowers E1's)."""
        self.lower_override.append((np.asarray(idx).ravel(), np.asarray(lb, dtype=float).ravel()))

    def _row_names(self, clause: str, family: str, tag: str, st: np.ndarray, labels: tuple[str, ...],
                   keys: np.ndarray | None, R: int) -> np.ndarray:
        """Names of R rows: ``CLAUSE[family,tag,station]`` (``station`` family and empty parts left out)."""
        engine = clause == "ENGINE"
        head = ENGINE_CODES.get(family, family) if engine else clause
        lead = [p for p in ((() if engine or family == "station" else (family,)) + ((tag,) if tag else ())) if p]
        if keys is None:
            if labels:
                keys = name_part(np.asarray(labels, dtype=str))
            elif (st >= 0).any():
                keys = np.where(st >= 0, self.station_ids[np.maximum(st, 0)] if len(self.station_ids) else "", "")
            elif lead:
                return np.full(R, f"{head}[{','.join(lead)}]")
            else:
                keys = np.full(R, family)
        keys = np.broadcast_to(np.asarray(keys, dtype=str), (R,))
        return bracket(head, join_keys(*lead, keys) if lead else keys)

    def rows(self, name: str, clause: str, family: str, terms: list[tuple[np.ndarray, object]],
             lo: object, hi: object, stations: np.ndarray | None = None, unit: str = "",
             mode: str = "hard", penalty: float = 0.0, mask: np.ndarray | None = None,
             labels: tuple[str, ...] = (), tag: str = "", keys: np.ndarray | None = None) -> None:
        """Add R rows: row i = sum over terms of coef[i, j] * x[cols[i, j]], lo[i] <= row <= hi[i].

        ``terms`` is a list of (cols, coefs) with cols of shape (R,) or (R, k) and coefs broadcastable
        to it.  ``mask`` (R,) keeps only some rows.  Money rows (unit ``yuan``) are given in yuan and
        stored in thousands.  ``tag`` tells apart two blocks of one family in the row names, ``keys``
        (R,) overrides the per-row part of the names (station id or label by default).
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
        row_names = self._row_names(clause, family, tag, st, labels, keys, R)[keep] if self.named else None
        soft = mode == "soft" and (self.elastic or not self.strict)
        dplus = np.full(count, -1)
        dminus = np.full(count, -1)
        rows_idx = self.m + np.arange(count)
        if soft:
            obj_pen = -penalty * scale
            if np.isfinite(lo_k).any():  # a >= side: a positive deviation helps reach lo
                need = np.isfinite(lo_k)
                idx = self.cols(f"dev:{name}:+", (count,), 0.0, _INF, False, np.where(need, obj_pen, 0.0),
                                full_names=None if row_names is None else np.char.add("dev+", row_names))
                dplus = np.where(need, idx, -1)
                self.r.append(rows_idx[need])
                self.c.append(idx[need])
                self.v.append(np.ones(int(need.sum())))
            if np.isfinite(hi_k).any():
                need = np.isfinite(hi_k)
                idx = self.cols(f"dev:{name}:-", (count,), 0.0, _INF, False, np.where(need, obj_pen, 0.0),
                                full_names=None if row_names is None else np.char.add("dev-", row_names))
                dminus = np.where(need, idx, -1)
                self.r.append(rows_idx[need])
                self.c.append(idx[need])
                self.v.append(-np.ones(int(need.sum())))
        self.rlo.append(lo_k)
        self.rhi.append(hi_k)
        if row_names is not None:
            self.row_names.append(row_names)
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
        col_lower = np.concatenate(self.lb)
        for idx, lb in self.lower_override:
            col_lower[idx] = lb
        problem = MilpProblem(
            c=np.concatenate(self.obj), A=A,
            row_lower=np.concatenate(self.rlo) if self.rlo else np.zeros(0),
            row_upper=np.concatenate(self.rhi) if self.rhi else np.zeros(0),
            col_lower=col_lower, col_upper=np.concatenate(self.ub),
            integrality=np.concatenate(self.integer), sense="max", offset=offset,
            row_names=_names(self.row_names) if self.named else None,
            col_names=_names(self.col_names) if self.named else None,
        )
        return problem, self.names, tuple(self.blocks)


def _names(parts: list[np.ndarray]) -> tuple[str, ...]:
    # Unique by construction: one key per row of a block (station ids are unique, labels too), and a
    # tag where a family has two blocks; tests/station checks it on the seeds.
    return tuple(np.concatenate(parts).tolist()) if parts else ()


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


def _in_post(inst: Instance) -> dict[str, np.ndarray]:
    """Staff in post per station: admin, volunteer, sw, cert, inter, senior (F-SALARY's seniority)."""
    st, sf = inst.stations, inst.staff
    S = len(st)
    sids = np.asarray(st["station_id"], dtype=str)
    order = np.argsort(sids)
    at = np.searchsorted(sids, np.asarray(sf["station_id"], dtype=str), sorter=order)
    at = order[at] if len(sf) else at

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(at[mask], minlength=S).astype(float) if len(sf) else np.zeros(S)

    sw_mask = sf["type"] == "social_worker"
    fsal = inst.clause("F-SALARY")
    senior_years = fsal.figure("seniority_years", 3.0) if fsal else 3.0
    return {"admin": count(sf["type"] == "admin"), "volunteer": count(sf["type"] == "volunteer"),
            "sw": count(sw_mask), "cert": count(sw_mask & sf["certified"]),
            "inter": count(sw_mask & (sf["level"] == "intermediate")),
            "senior": count(sw_mask & (sf["years_of_service"] >= senior_years))}


def _context(inst: Instance, b: _Builder, shared: dict[str, np.ndarray] | None = None,
             floors: bool = True) -> Context:
    """The parameters per station and the columns of the formulation (in the model's column order).

    ``shared`` gives column blocks to reuse instead of making them (a horizon's later years share the
    first year's works: expansion, renovation, one-stop, access); ``floors=False`` drops the lower
    bounds from today's staff in post (a horizon's stock identity holds the staff instead).
    """
    st = inst.stations
    S, G, K = len(st), len(inst.groups), len(inst.services)
    pop = st["population"].astype(float)
    status = st["status"]
    is_new = status == "new"
    buildable = is_new | (status == "upgrade")
    need = np.array([g.need_share for g in inst.groups])
    demand = inst.residents.astype(float) * need[None, :]
    weights = np.array([g.weight for g in inst.groups])
    ip = _in_post(inst)
    cap = np.ceil(pop / 250.0) + ip["admin"] + ip["sw"] + ip["volunteer"] + 10.0
    cols: dict[str, np.ndarray] = {}
    low = ip if floors else {k: np.zeros(S) for k in ip}
    reuse = shared or {}
    cols["adm"] = b.cols("adm", (S,), low["admin"], cap, True)
    # A tie-break of 1e-3 objective units per certified post (2e-3 intermediate): among plans equal in
    # everything the policy values, ask for no more certification than the clauses need.
    cols["swa"] = b.cols("swa", (S,), 0.0, cap, True, -1e-3)
    cols["swi"] = b.cols("swi", (S,), low["inter"], cap, True, -2e-3)
    cols["swu"] = b.cols("swu", (S,), 0.0, cap, True)
    cols["vol"] = b.cols("vol", (S,), low["volunteer"], cap, True)
    money_obj = -inst.objective.cost_weight * MONEY
    for m in ("m_fac", "m_sal", "m_svc", "m_trn"):
        cols[m] = b.cols(m, (S,), 0.0, _INF, False, money_obj, money=True)
    cols["build"] = b.cols("build", (S,), 0.0, buildable.astype(float), True)
    # One year: the station built is the station open.  A horizon gives each year its own ``built``.
    cols["built"] = cols["build"]
    cols["onestop"] = reuse["onestop"] if "onestop" in reuse else b.cols(
        "onestop", (S,), 0.0, ((status == "existing") & ~st["one_stop"]).astype(float), True)
    ren = inst.clause("A-RENOVATE")
    old = (np.nan_to_num(st["building_age_years"], nan=-1.0) > ren.figures["age_years"]) if ren else np.zeros(S, bool)
    cols["reno"] = reuse["reno"] if "reno" in reuse else b.cols("reno", (S,), 0.0, old.astype(float), True)
    not_acc = ~st["accessible"] if inst.clause("F-ACCESS") else np.zeros(S, bool)
    cols["access"] = reuse["access"] if "access" in reuse else b.cols("access", (S,), 0.0, not_acc.astype(float),
                                                                       True)
    cols["demo"] = b.cols("demo", (S,), 0.0, 1.0 if inst.clause("F-DEMO") else 0.0, True)
    cols["expand"] = reuse["expand"] if "expand" in reuse else b.cols("expand", (S,), 0.0, _INF)
    sids = b.station_ids
    svc_ids = name_part(inst.services["service_id"])
    cols["y"] = b.cols("y", (S, K), 0.0, 1.0, True, keys=join_keys(sids[:, None], svc_ids[None, :]))
    cols["x"] = b.cols("x", (S, G), 0.0, demand, False, np.broadcast_to(weights, (S, G)),
                       keys=join_keys(sids[:, None], name_part(np.asarray(inst.group_ids))[None, :]))
    return Context(
        inst=inst, b=b, notes=[], S=S, G=G, K=K, sidx=np.arange(S), station_ids=sids, pop=pop,
        hh=np.maximum(st["households"].astype(float), 1.0), urban=st["area_type"] == "urban", status=status,
        is_new=is_new, buildable=buildable, area0=st["floor_area_m2"].astype(float), demand=demand,
        kind=inst.services["kind"], base={t: inst.staff_type(t) for t in ("admin", "social_worker", "volunteer")},
        in_post=ip, cap=cap, old=old, not_acc=not_acc,
        zoning=any(inst.clause(c) for c in ("A-ZONES", "A-FLEX", "F-AREA")), cols=cols)


def build(instance: Instance, strict: bool = False, drop: frozenset[tuple[str, str]] = frozenset(),
          elastic: bool = False, feasibility: bool = False, names: bool = True) -> Model:
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
    names : bool
        Name every row and column (``F-SW-RURAL[F012]``, ``swu[F012]``) for an exported model.  Off, the
        problem carries no names and builds in about half the time (10,000 stations: 0.8 s against 1.7 s).

    Returns
    -------
    Model
        The solver-neutral problem with its named column and row blocks.
    """
    b = _Builder(strict, drop, elastic, np.asarray(instance.stations["station_id"], dtype=str), names)
    ctx = _context(instance, b)
    engine_rules(ctx)
    for fam in REGISTRY.values():
        if fam.applies(instance):
            fam.build(ctx)
        elif fam.why_not is not None and (note := fam.why_not(instance)) and note not in ctx.notes:
            ctx.notes.append(note)
    equity(ctx)
    problem, cols, rows = b.finish()
    if elastic or feasibility:
        keep = np.zeros(problem.num_cols, dtype=bool)
        if elastic:
            for rb in rows:
                for dev in (rb.dev_plus, rb.dev_minus):
                    keep[dev[dev >= 0]] = True
        problem = MilpProblem(np.where(keep, problem.c, 0.0), problem.A, problem.row_lower, problem.row_upper,
                              problem.col_lower, problem.col_upper, problem.integrality, problem.sense,
                              row_names=problem.row_names, col_names=problem.col_names)
    return Model(problem, cols, rows, strict, tuple(ctx.notes))
