"""Issue 15, "clauses as written" on services: F-PRO-SHARE, A-CATCHMENT, A-SOCIAL-SUBSIDY and A-MEAL.

Parameters (from the instance)
------------------------------
prof[k], soc[k], meals[k]   services.csv ``professional``, ``social_provider``, ``meals_per_resident``;
pop[s] residents of the station's area; act[s] as in the one-year formulation; cpr[g], cost[k] as in E6.
served[s,k] = sum_{p: k_p = k} xs[s,p]: the residents service k serves at station s, from the split of the
need covered by service pair p = (k, g) that X-MIN-SERVED builds (:mod:`.serving`, rows E10 and E11).  When
X-MIN-SERVED does not apply and A-SOCIAL-SUBSIDY or A-MEAL does, this module builds the same split.

Columns
-------
pts[s]     integer >= 0, extra service points opened in the station's area (A-CATCHMENT); a point's yearly
           running cost ``point_cost`` (a clause figure) comes out of the station's services money.
m_soc[s]   yuan (thousands), the subsidy paid to social providers (A-SOCIAL-SUBSIDY), part of m_svc.
m_meal[s]  yuan (thousands), the government's part of the elderly meals served (A-MEAL), part of m_svc.

Rows (clause id, [family])
--------------------------
S1  F-PRO-SHARE [share] (total)        sum_{s,k} (prof[k] - share(year)) y[s,k] >= 0             (services)
S2  A-CATCHMENT [max] (station)        pop[s] act[s] - max_residents (act[s] + pts[s]) <= 0         (residents)
S3  A-CATCHMENT [min] (station)        min_residents pts[s] - max(pop[s] - min_residents, 0) act[s] <= 0
                                                                                                   (residents)
S4  A-SOCIAL-SUBSIDY [station]         m_soc[s] - per_person sum_{k: soc[k]} served[s,k] = 0         (yuan)
S5  A-MEAL [station]                   m_meal[s] - government_per_meal sum_k meals[k] served[s,k] = 0 (yuan)
E13 SERVICE-LINES (engine, station)    m_svc[s] - sum_g cpr[g] x[s,g] - sum_k cost[k] y[s,k]
                                       - m_soc[s] - m_meal[s] - point_cost pts[s] >= 0                (yuan)
    (built once, when any of S2, S4, S5 is; it is E6 with the new cost lines, so E6 becomes redundant).

Readings (why)
--------------
* F-PRO-SHARE: §F2.1 measures "of the services the stations carry out" (社工站开展的服务中) temporary activities
  at 60 % and long-term professional services (case management, community development) at 40 %; §F3.2 and
  §F8.2 raise "the share of professional services" to 55 % (2025) and 60 % (2026).  The document counts
  services, not residents or hours, so the share is taken over the services offered (station x service
  pairs).  Which services are professional is the instance's ``professional`` flag.  The figure is a path
  (``share.2025`` ...): a horizon builds this family per year-slice with that year's figure.  The
  ``case_management`` figure (deep-service coverage 70 %) is recorded, not modelled: the document does not
  say coverage of what.
* A-CATCHMENT: the residents a station's area holds are data, so the decision that meets the national standard
  of 3,000-5,000 residents per service centre is how many centres serve the area: the station and the extra
  service points the plan opens (``pts``).  [max] is the standard's upper side; [min] keeps every centre at or
  above its lower side (a point is opened only where the area has residents for it; a station whose area
  holds fewer than ``min_residents`` keeps its one centre).  In the seeds [max] is soft, priced per resident
  above the standard, because the services money cannot open every point (37 of 42 A stations serve over 5,000).
* A-SOCIAL-SUBSIDY: 200 yuan per person served per year to social providers (§A4.2, A6.3), paid from the services
  money for the residents the services run by social providers (services.csv ``social_provider``) serve.  The
  30 % rent relief is recorded only: the model has no rent line.
* A-MEAL: the government pays ``government_per_meal`` (8 yuan, 60 %) of each elderly meal (§A6.3); meals per
  resident served per year are the instance's ``meals_per_resident`` of the meal service; the resident's 5.3
  yuan is not the plan's money.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocator.instance import Instance
from allocator.station.context import INF, Context
from allocator.station.families.registry import family
from allocator.station.families.serving import served_split


def _flag(inst: Instance, name: str) -> np.ndarray:
    sv = inst.services
    return np.asarray(sv[name], dtype=bool) if name in sv.columns else np.zeros(len(sv), dtype=bool)


def meals(inst: Instance) -> np.ndarray:
    """services.csv ``meals_per_resident`` (0 where the column is absent)."""
    sv = inst.services
    return (np.asarray(sv["meals_per_resident"], dtype=float) if "meals_per_resident" in sv.columns
            else np.zeros(len(sv)))


def _has(inst: Instance, cid: str, *figures: str) -> bool:
    c = inst.clause(cid)
    return c is not None and all(f in c.figures for f in figures)


def pro_applies(inst: Instance) -> bool:
    return _has(inst, "F-PRO-SHARE", "share") and len(inst.services) > 0


def catchment_applies(inst: Instance) -> bool:
    return _has(inst, "A-CATCHMENT", "min_residents", "max_residents", "point_cost")


def subsidy_applies(inst: Instance) -> bool:
    return _has(inst, "A-SOCIAL-SUBSIDY", "per_person") and bool(_flag(inst, "social_provider").any())


def meal_applies(inst: Instance) -> bool:
    return _has(inst, "A-MEAL", "government_per_meal") and bool((meals(inst) > 0).any())


def _why_not(cid: str, needs: str) -> Callable[[Instance], str | None]:
    applies = {"A-CATCHMENT": catchment_applies, "A-SOCIAL-SUBSIDY": subsidy_applies, "A-MEAL": meal_applies}[cid]

    def why(inst: Instance) -> str | None:
        if inst.clause(cid) is not None and not applies(inst):
            return f"{cid} needs {needs}; not applied"
        return None
    return why


@family("F-PRO-SHARE", "share", applies=pro_applies)
def pro_share(ctx: Context) -> None:
    """S1: sum_{s,k} (prof[k] - share) y[s,k] >= 0 (one total row)."""
    share = ctx.clause("F-PRO-SHARE").figures["share"]
    coef = np.broadcast_to(_flag(ctx.inst, "professional").astype(float) - share, ctx.y.shape)
    ctx.fam("F-PRO-SHARE", "share", [(ctx.y.reshape(1, -1), coef.reshape(1, -1))], 0.0, INF, unit="services")


def _served_by(ctx: Context, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of sum_k weight[k] served[s,k], one row per station."""
    xs = served_split(ctx)
    k_of = np.argwhere(np.asarray(ctx.inst.serves, dtype=bool))[:, 0]
    return xs, np.broadcast_to(weight[k_of][None, :], xs.shape)


def _lines(ctx: Context) -> None:
    """The cost-line columns of every family of this module that applies, and E13 (once per model)."""
    if "m_lines" in ctx.cols:
        return
    b, inst, S = ctx.b, ctx.inst, ctx.S
    terms: list[tuple[np.ndarray, object]] = [(ctx.m_svc, 1.0)]
    cpr = np.array([g.cost_per_resident for g in inst.groups])
    terms += [(ctx.x, -cpr[None, :]), (ctx.y, -np.asarray(inst.services["annual_cost"], dtype=float)[None, :])]
    if catchment_applies(inst):
        pop, lo = ctx.pop, ctx.clause("A-CATCHMENT").figures["min_residents"]
        most = np.floor(np.maximum(pop - lo, 0.0) / max(lo, 1.0))
        ctx.cols["pts"] = b.cols("pts", (S,), 0.0, most, True)
        terms.append((ctx.pts, -ctx.clause("A-CATCHMENT").figures["point_cost"]))
    for name, applies in (("m_soc", subsidy_applies), ("m_meal", meal_applies)):
        if applies(inst):
            # no cost_weight term: the line is part of m_svc, which carries it
            ctx.cols[name] = b.cols(name, (S,), 0.0, INF, False, 0.0, money=True)
            terms.append((ctx.cols[name], -1.0))
    ctx.cols["m_lines"] = np.zeros(0, dtype=np.int64)
    b.rows("service_lines", "ENGINE", "SERVICE-LINES", terms, 0.0, INF, ctx.sidx, "yuan")


@family("A-CATCHMENT", "max", applies=catchment_applies,
        why_not=_why_not("A-CATCHMENT", "min_residents, max_residents and point_cost"))
def catchment_max(ctx: Context) -> None:
    """S2: pop[s] act[s] - max_residents (act[s] + pts[s]) <= 0."""
    _lines(ctx)
    hi = ctx.clause("A-CATCHMENT").figures["max_residents"]
    ctx.fam("A-CATCHMENT", "max", [(ctx.build, (ctx.pop - hi) * ctx.act_coef), (ctx.pts, -hi)], -INF,
            -(ctx.pop - hi) * ctx.act_const, ctx.sidx, "residents")


@family("A-CATCHMENT", "min", applies=catchment_applies,
        why_not=_why_not("A-CATCHMENT", "min_residents, max_residents and point_cost"))
def catchment_min(ctx: Context) -> None:
    """S3: min_residents pts[s] - max(pop[s] - min_residents, 0) act[s] <= 0."""
    _lines(ctx)
    lo = ctx.clause("A-CATCHMENT").figures["min_residents"]
    room = np.maximum(ctx.pop - lo, 0.0)
    ctx.fam("A-CATCHMENT", "min", [(ctx.pts, lo), (ctx.build, -room * ctx.act_coef)], -INF, room * ctx.act_const,
            ctx.sidx, "residents")


@family("A-SOCIAL-SUBSIDY", "station", applies=subsidy_applies,
        why_not=_why_not("A-SOCIAL-SUBSIDY", "per_person and a service with social_provider true"))
def social_subsidy(ctx: Context) -> None:
    """S4: m_soc[s] - per_person sum_{k: soc[k]} served[s,k] = 0."""
    _lines(ctx)
    per = ctx.clause("A-SOCIAL-SUBSIDY").figures["per_person"]
    xs, w = _served_by(ctx, _flag(ctx.inst, "social_provider").astype(float))
    ctx.fam("A-SOCIAL-SUBSIDY", "station", [(ctx.m_soc, 1.0), (xs, -per * w)], 0.0, 0.0, ctx.sidx, "yuan")


@family("A-MEAL", "station", applies=meal_applies,
        why_not=_why_not("A-MEAL", "government_per_meal and a service with meals_per_resident > 0"))
def meal_cost(ctx: Context) -> None:
    """S5: m_meal[s] - government_per_meal sum_k meals[k] served[s,k] = 0."""
    _lines(ctx)
    per = ctx.clause("A-MEAL").figures["government_per_meal"]
    xs, w = _served_by(ctx, meals(ctx.inst))
    ctx.fam("A-MEAL", "station", [(ctx.m_meal, 1.0), (xs, -per * w)], 0.0, 0.0, ctx.sidx, "yuan")
