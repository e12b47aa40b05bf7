"""The horizon model: one year-slice per plan year, linked by the staff stock, the build schedule and money.

Formulation (in addition to the one-year formulation of :mod:`allocator.station.builder`)
=========================================================================================
Every year ``t`` of ``instance.years`` is a *slice* built by the same engine rules and registered clause
families as the one-year model, on ``instance.for_year(t)`` (each clause figure resolved from its path by
the instance's rule).  Its blocks carry the year (``adm@2025``, row names ``F-SW-RURAL[F012]@2025``); its
objective terms are multiplied by the year's weight (``[horizon] weights``, default 1).

Per year the slice's ``build`` column is ``open[s,t]`` (the station in operation in year ``t``: every
staffing, service and coverage row reads it) and a new column ``built[s,t]`` is the construction or
upgrade done in year ``t`` (E7's new-station cost, F-BUILD-SUBSIDY and F-BUILD read it).

Differences from stacking independent one-year models:

* E1 IN-POST and the staff floors from today's staff.csv are replaced by the stock identity (H1).
* F-HIRING ``recruited`` counts the year's social-worker hires (H5), not the rise over today's stock.
* F-TOTAL ``construction`` and ``total`` are horizon rows (H8); ``operations`` and F-USES stay per year.
* F-SALARY's seniority bonus counts today's workers whose service reaches the threshold in year ``t``,
  times the share still in post (``[horizon] survival`` per year, default ``1 - F-TURNOVER`` of each
  earlier year): a parameter, not a decision, so the bonus stays linear.
* Works (floor area added, zones, renovation, one-stop, access) are decided once and paid in the first
  year (the documents plan space and refits in 2024 H1); later years' E7 rows charge only new stations.

Linking rows (engine rules H1-H7 are always hard; H5, H8 and F-LOCAL-HIRE are clause rows with the
clause's mode):

H1 STOCK     per station, year and level c (admin, sw none / assistant / intermediate, volunteer):
             stock[c,t] = stock[c,t-1] - leave[c,t] + hire[c,t] + up_in[c,t] - up_out[c,t]
             (stock[c, first-1] = today's staff.csv; admin and volunteers have no leavers, level none).
H2 LEAVERS   F-TURNOVER per station: rate(t) * SW[t-1] - 0.999 <= sum_c leave[c,t] <= rate(t) * SW[t-1] + 0.999,
             leave integer.  Why a band of width 1.998: it always holds an integer, so the leavers are the
             expected turnover rounded (either way) per station: nobody is dismissed beyond turnover (the
             upper side) and turnover is not understated (the lower side).  leave[c] + up_out[c] <= stock[c,t-1].
             The same band over all stations (F-TURNOVER [total]): each station rounding down would understate
             the year's turnover by up to one worker per station.
H3 UPGRADES  up(none->assistant) and up(assistant->intermediate) per station; sum over stations and both
             steps <= ``[horizon] upgrades_per_year``.
H4 LOCAL     local[s,c,t] <= hire[s,c,t] for rural social-worker hires (0 on urban stations).
H5 F-HIRING [recruited] sum_s social-worker hires[t] <= recruited(t) (a flow figure: its year only).
   F-LOCAL-HIRE [share] sum local[t] >= share * rural social-worker hires[t];
                [count] sum local[t] >= local_hires(t) (flow).
H6 BUILD     sum_t built[s,t] <= 1; open[s,t] = sum_{u<=t} built[s,u] (monotone: a station opened stays open).
H7 DEMO      demo[s,t] >= demo[s,t-1] in years both plan demonstration stations.
H8 F-TOTAL [construction] sum_t sum_s m_fac[s,t] = construction;
           [total] sum_t all money <= total.
X-MOVES (:mod:`allocator.station.families.moves`): H1 gains ``+ mv_in[c,t] - mv_out[c,t]`` on the social-worker
   levels, H2-OUTFLOW ``+ mv_out``; E12 per county, year and level: moves in = moves out;
H9 POOL    sum_{u<=t} mv_out[s,u] - sum_{u<t} mv_in[s,u] - sum_{u<t, hires below P at the end} hire_sw[s,u]
           <= movable[s] (today's workers with years + plan years - 1 < protected_years): a worker reaching P
           within the plan is never moved, so F-SALARY's bonus (today's workers, at their station) stays right.
P1 PROFILE-HIRES (F-DEGREE, F-YOUNG; :mod:`allocator.station.families.profile`) hires by profile <= the year's
           social-worker hires; the slices hold the stock's shares with turnover and ageing (P2, P3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.instance import Instance
from allocator.station.builder import Model, RowBlock, _Builder, _context
from allocator.station.context import INF, Context
from allocator.station.families import REGISTRY, moves
from allocator.station.families import engine as eng
from allocator.station.families.equity import equity
from solvers.base import MilpProblem

# Families a horizon builds over the years instead of in each slice.
SLICE_DROPS = frozenset({("F-HIRING", "recruited"), ("F-TOTAL", "construction")})
WORKS = ("expand", "reno", "onestop", "access")


class _YearBuilder(_Builder):
    """A builder whose blocks carry the current year: names ``name@year``, weighted objective."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.year: int | None = None
        self.weight = 1.0
        self.base_drop = self.drop
        self.block_years: list[int | None] = []
        self.col_years: dict[str, int | None] = {}

    def cols(self, name: str, shape: tuple[int, ...], lb: object = 0.0, ub: object = INF,  # type: ignore[override]
             integer: bool = False, obj: object = 0.0, money: bool = False,
             keys: np.ndarray | None = None, full_names: np.ndarray | None = None) -> np.ndarray:
        full = name if self.year is None else f"{name}@{self.year}"
        if full_names is not None:
            full_names = np.char.add(np.asarray(full_names, dtype=str), f"@{self.year}")
        elif self.named:
            keys_ = keys
            if keys_ is None:
                size = int(np.prod(shape))
                keys_ = self.station_ids if shape == self.station_ids.shape else np.arange(size).astype(str)
            full_names = np.char.add(np.char.add(np.char.add(f"{name}[", np.asarray(keys_, dtype=str).ravel()), "]"),
                                     f"@{self.year}" if self.year is not None else "")
        self.col_years[full] = self.year
        return super().cols(full, shape, lb, ub, integer, np.asarray(obj, dtype=float) * self.weight, money,
                            keys, full_names)

    def rows(self, name: str, clause: str, family: str, *args: object, **kw: object) -> None:  # type: ignore[override]
        before, names_before = len(self.blocks), len(self.row_names)
        super().rows(f"{name}@{self.year}" if self.year is not None else name, clause, family, *args, **kw)  # type: ignore[arg-type]
        if len(self.blocks) > before:
            self.block_years.append(self.year)
            if self.named and len(self.row_names) > names_before and self.year is not None:
                self.row_names[-1] = np.char.add(self.row_names[-1], f"@{self.year}")


@dataclass(frozen=True, eq=False)
class HorizonModel(Model):
    """A horizon model: the problem, the year of each row block and the per-year slices' column blocks."""

    years: tuple[int, ...] = ()
    block_years: tuple[int | None, ...] = ()
    link: dict[str, np.ndarray] | None = None

    def year_view(self, year: int | None) -> Model:
        """The blocks of one year (or, with ``None``, the horizon rows) as a one-year :class:`Model`."""
        suffix = "" if year is None else f"@{year}"
        cols = {n[: len(n) - len(suffix)]: b for n, b in self.columns.items() if suffix and n.endswith(suffix)}
        if year is not None and year != self.years[0]:
            first = f"@{self.years[0]}"
            for n, b in self.columns.items():  # works and zones are shared with the first year
                base = n[: len(n) - len(first)]
                if n.endswith(first) and (base in WORKS or base.startswith(("z_", "inc_"))):
                    cols[base] = b
        rows = tuple(rb for rb, y in zip(self.rows, self.block_years, strict=True) if y == year)
        return Model(self.problem, cols, rows, self.strict, self.notes)


def _senior(inst: Instance, k: int, rates: list[float], survival: float | None) -> np.ndarray:
    """F-SALARY's senior workers per station in the k-th year: today's staff reaching the threshold, survived."""
    st, sf = inst.stations, inst.staff
    fsal = inst.clause("F-SALARY")
    thr = fsal.figure("seniority_years", 3.0) if fsal else 3.0
    sids = np.asarray(st["station_id"], dtype=str)
    at = {s: i for i, s in enumerate(sids)}
    mask = (sf["type"] == "social_worker") & (sf["years_of_service"] + k >= thr)
    idx = np.array([at[s] for s in np.asarray(sf["station_id"], dtype=str)[mask]], dtype=int)
    count = np.bincount(idx, minlength=len(sids)).astype(float)
    keep = float(np.prod([(survival if survival is not None else 1.0 - r) for r in rates[:k]])) if k else 1.0
    return count * keep


def _slice(inst_t: Instance, b: _YearBuilder, first: Context | None, senior: np.ndarray) -> Context:
    """One year's slice: the columns, the engine rules (E1 aside) and every family that applies."""
    shared = {w: first.cols[w] for w in WORKS} if first is not None else None
    ctx = _context(inst_t, b, shared=shared, floors=False)
    ctx.in_post = {**ctx.in_post, "senior": senior}
    ctx.cols["built"] = b.cols("built", (ctx.S,), 0.0, ctx.buildable.astype(float), True)
    if moves.moves_clause(inst_t) is not None:  # X-MOVES: the year's moves; H1 and H9 bound them (path.py)
        moves.add_move_columns(ctx, ctx.cap[:, None])
        moves.balance(ctx)
    eng.open_station(ctx)
    eng.payroll(ctx)
    eng.hours(ctx)
    eng.service_gate(ctx)
    eng.service_cost(ctx)
    if first is None:
        eng.facility_cost(ctx, eng.zones(ctx))
    else:
        ctx.zone_cols.update(first.zone_cols)
        for z, c in first.cols.items():
            if z.startswith(("z_", "inc_")):
                ctx.cols[z] = c
        b.rows("facility_cost", "ENGINE", "FACILITY-COST",
               [(ctx.m_fac, 1.0), (ctx.built, -inst_t.costs["new_station"] * ctx.is_new)], 0.0, INF, ctx.sidx, "yuan")
    eng.training_cost(ctx)
    for fam in REGISTRY.values():
        if fam.applies(inst_t):
            fam.build(ctx)
        elif fam.why_not is not None and (note := fam.why_not(inst_t)) and note not in ctx.notes:
            ctx.notes.append(f"{inst_t.year}: {note}")
    equity(ctx)
    return ctx


def build_horizon(instance: Instance, strict: bool = False, drop: frozenset[tuple[str, str]] = frozenset(),
                  elastic: bool = False, feasibility: bool = False, names: bool = True) -> HorizonModel:
    """Build the MILP of a horizon instance (parameters as :func:`allocator.station.builder.build`)."""
    from allocator.station.families.path import link_years
    from allocator.station.families.profile import link_profile

    hz = instance.horizon
    assert hz is not None, "build_horizon needs an instance with [instance] years"
    b = _YearBuilder(strict, drop, elastic, np.asarray(instance.stations["station_id"], dtype=str), names)
    rates: list[float] = []
    ctxs: list[Context] = []
    notes: list[str] = []
    for k, t in enumerate(hz.years):
        inst_t = instance.for_year(t)
        b.year, b.weight = t, hz.weight(t)
        b.drop = drop | SLICE_DROPS
        turn = inst_t.any_clause("F-TURNOVER")
        rates.append(float(turn.figures.get("rate", 0.0)) if turn is not None else 0.0)
        ctx = _slice(inst_t, b, ctxs[0] if ctxs else None, _senior(inst_t, k, rates, hz.survival))
        ctxs.append(ctx)
        notes += [n for n in ctx.notes if n not in notes]
    b.drop = drop
    link = link_years(instance, b, ctxs, rates)
    link_profile(ctxs, link, hz.years)  # F-DEGREE / F-YOUNG hires within each year's hires (profile.py P1)
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
    return HorizonModel(problem, cols, rows, strict, tuple(notes), years=hz.years,
                        block_years=tuple(b.block_years), link=link)


__all__ = ["HorizonModel", "RowBlock", "build_horizon"]


def build_model(instance: Instance, **kw: bool | frozenset[tuple[str, str]]) -> Model:
    """:func:`build_horizon` for a horizon instance, :func:`allocator.station.builder.build` otherwise."""
    from allocator.station.builder import build

    return build_horizon(instance, **kw) if instance.horizon is not None else build(instance, **kw)  # type: ignore[arg-type]
