"""Issue 15's services clauses, checked from the plan files and the instance alone.

Written from POLICY.md and the formulation's text (:mod:`allocator.station.families.services_policy`
docstring); nothing is imported from :mod:`allocator.station`.

* F-PRO-SHARE [share] (§F3.2, F9.1): professional services offered (services.csv ``professional``) >= the
  year's share x all services offered, counted over station x service pairs of services.csv ``offered``.
* A-CATCHMENT [max] (§A2.1): residents of an operating station's area <= max_residents x its service centres
  (the station and stations.csv ``service_points``); [min]: min_residents x points <= max(residents -
  min_residents, 0) when operating, no point at a station not in operation.
* A-SOCIAL-SUBSIDY [station] (§A4.2, A6.3): budget.csv ``social_subsidy`` = per_person x the residents the
  services run by social providers serve there (services.csv ``served``).
* A-MEAL [station] (§A6.3): budget.csv ``meal_subsidy`` = government_per_meal x meals_per_resident x the
  residents each meal service serves there.
* E13 SERVICE-LINES (engine, whenever one of the cost lines applies): services money >= residents served x
  cost + services run + social_subsidy + meal_subsidy + point_cost x service points; budget.csv
  ``service_points`` = point_cost x points; points whole and >= 0; the residents the services serve add up to
  the need covered at the station and no service serves more than its groups' need covered.
"""

from __future__ import annotations

import numpy as np

from allocator.instance import Instance
from allocator.verify.checks.base import CheckFamily
from allocator.verify.context import Context

__all__ = ["FAMILIES", "service_lines"]


def _services_flag(inst: Instance, name: str) -> np.ndarray:
    sv = inst.services
    return np.asarray(sv[name], dtype=bool) if name in sv.columns else np.zeros(len(sv), dtype=bool)


def _meals(inst: Instance) -> np.ndarray:
    sv = inst.services
    if "meals_per_resident" not in sv.columns:
        return np.zeros(len(sv))
    return np.asarray(sv["meals_per_resident"], dtype=float)


def _stated(inst: Instance, cid: str, names: tuple[str, ...]) -> bool:
    c = inst.clause(cid)
    return c is not None and all(n in c.figures for n in names)


def _pro(inst: Instance) -> bool:
    return _stated(inst, "F-PRO-SHARE", ("share",)) and len(inst.services) > 0


def _catch(inst: Instance) -> bool:
    return _stated(inst, "A-CATCHMENT", ("min_residents", "max_residents", "point_cost"))


def _subsidy(inst: Instance) -> bool:
    return _stated(inst, "A-SOCIAL-SUBSIDY", ("per_person",)) and bool(_services_flag(inst, "social_provider").any())


def _meal(inst: Instance) -> bool:
    return _stated(inst, "A-MEAL", ("government_per_meal",)) and bool((_meals(inst) > 0).any())


def pro_share(ctx: Context) -> None:
    """F-PRO-SHARE [share]: professional services offered >= share x services offered."""
    prof = _services_flag(ctx.inst, "professional")
    ctx.row("F-PRO-SHARE", "share", None, "professional services offered >= share x services offered",
            ctx.y[:, prof].sum(), ">=", ctx.fig("F-PRO-SHARE", "share") * ctx.y.sum(), "services")


def _column(ctx: Context, key: str, cid: str, fam: str) -> np.ndarray | None:
    """An optional plan column (``file:column``); a missing one fails the clause."""
    got = (ctx.plan.optional or {}).get(key)
    if got is None:
        ctx.col.fail(cid, fam, None, f"{key.replace(':', ' has ')}",
                     f"FAIL: {key.split(':')[0]} has no column '{key.split(':')[1]}' ({cid}'s figure)")
        return None
    return np.nan_to_num(got, nan=np.inf)  # a blank cell fails the comparison


def _points(ctx: Context, fam: str) -> np.ndarray | None:
    return _column(ctx, "stations.csv:service_points", "A-CATCHMENT", fam)


def catchment_max(ctx: Context) -> None:
    """A-CATCHMENT [max]: residents of an operating station's area <= max_residents x (1 + service points)."""
    pts = _points(ctx, "max")
    if pts is None:
        return
    hi = ctx.fig("A-CATCHMENT", "max_residents")
    ctx.station_rows("A-CATCHMENT", "max", "residents of the area <= max_residents x service centres",
                     ctx.pop * ctx.act, "<=", hi * (ctx.act + pts), "residents")


def catchment_min(ctx: Context) -> None:
    """A-CATCHMENT [min]: min_residents x service points <= max(residents - min_residents, 0) x operating."""
    pts = _points(ctx, "min")
    if pts is None:
        return
    lo = ctx.fig("A-CATCHMENT", "min_residents")
    ctx.station_rows("A-CATCHMENT", "min", "every centre keeps min_residents: min_residents x points <= "
                     "(residents - min_residents) x operating", lo * pts, "<=",
                     np.maximum(ctx.pop - lo, 0.0) * ctx.act, "residents")


def _served(ctx: Context, cid: str) -> np.ndarray | None:
    if ctx.plan.served is None:
        ctx.col.fail(cid, "station", None, "services.csv has a served column",
                     f"FAIL: services.csv has no column 'served' (the residents each service serves: {cid}'s base)")
        return None
    return np.nan_to_num(ctx.plan.served, nan=np.inf)


def social_subsidy(ctx: Context) -> None:
    """A-SOCIAL-SUBSIDY [station]: social_subsidy = per_person x residents served by social providers' services."""
    paid, served = _column(ctx, "budget.csv:social_subsidy", "A-SOCIAL-SUBSIDY", "station"), _served(
        ctx, "A-SOCIAL-SUBSIDY")
    if paid is None or served is None:
        return
    soc = _services_flag(ctx.inst, "social_provider")
    owed = ctx.fig("A-SOCIAL-SUBSIDY", "per_person") * served[:, soc].sum(axis=1)
    ctx.station_rows("A-SOCIAL-SUBSIDY", "station", "subsidy paid = per_person x residents social providers serve",
                     paid, "=", owed, "yuan")


def meal_cost(ctx: Context) -> None:
    """A-MEAL [station]: meal_subsidy = government_per_meal x meals_per_resident x residents the meals serve."""
    paid, served = _column(ctx, "budget.csv:meal_subsidy", "A-MEAL", "station"), _served(ctx, "A-MEAL")
    if paid is None or served is None:
        return
    owed = ctx.fig("A-MEAL", "government_per_meal") * (served @ _meals(ctx.inst))
    ctx.station_rows("A-MEAL", "station", "meal subsidy paid = government_per_meal x meals served", paid, "=", owed,
                     "yuan")


def _line(ctx: Context, key: str) -> np.ndarray:
    got = (ctx.plan.optional or {}).get(key)
    return np.zeros(ctx.S) if got is None else np.nan_to_num(got, nan=np.inf)


def service_lines(ctx: Context) -> None:
    """E13 SERVICE-LINES and the figures it reads (see the module docstring); nothing when no line applies."""
    inst, col = ctx.inst, ctx.col
    catch, sub, meal = _catch(inst), _subsidy(inst), _meal(inst)
    if not (catch or sub or meal):
        return
    cpr = np.array([g.cost_per_resident for g in inst.groups])
    cost = ctx.x @ cpr + ctx.y @ np.asarray(inst.services["annual_cost"], dtype=float)
    if sub:
        cost = cost + _line(ctx, "budget.csv:social_subsidy")
    if meal:
        cost = cost + _line(ctx, "budget.csv:meal_subsidy")
    if catch:
        pts = _line(ctx, "stations.csv:service_points")
        money = ctx.fig("A-CATCHMENT", "point_cost") * pts
        cost = cost + money
        written = (ctx.plan.optional or {}).get("budget.csv:service_points")
        for s in range(ctx.S):
            if abs(pts[s] - np.round(pts[s])) > ctx.tol.integrality or pts[s] < 0:
                col.fail("E-INTEGER", "service_points", ctx.ids[s], "stations.csv service_points is a whole number "
                         ">= 0", f"FAIL: service_points {pts[s]}")
            if written is None:
                continue
            col.compare("E13", "service_points", ctx.ids[s], "budget.csv service_points = point_cost x points",
                        float(np.nan_to_num(written[s], nan=np.inf)), "=", float(money[s]), "yuan",
                        only_failures=True)
    for s in range(ctx.S):
        col.compare("E13", "station", ctx.ids[s], "services money >= residents served x cost + services run + "
                    "social subsidy + meal subsidy + service points", ctx.svc[s], ">=", cost[s], "yuan")
    if (sub or meal) and ctx.plan.served is not None:
        served = np.nan_to_num(ctx.plan.served, nan=np.inf)
        reach = ctx.x @ np.asarray(inst.serves, dtype=float).T
        for s in range(ctx.S):
            col.compare("E10", "station", ctx.ids[s], "the residents the services serve add up to the need covered",
                        float(served[s].sum()), "=", float(ctx.x[s].sum()), "residents", only_failures=True)
            for k in np.flatnonzero(served[s] > reach[s] + 1e-6 * np.maximum(1.0, reach[s])):
                col.compare("E11", "station", f"{ctx.ids[s]} {ctx.service_ids[k]}", "a service serves no more than "
                            "its groups' need covered", float(served[s, k]), "<=", float(reach[s, k]), "residents")


_CATCH_NEEDS = "figures min_residents, max_residents and point_cost"
FAMILIES: tuple[CheckFamily, ...] = (
    CheckFamily("F-PRO-SHARE", "share", _pro, pro_share, "figure share and a service catalogue"),
    CheckFamily("A-CATCHMENT", "max", _catch, catchment_max, _CATCH_NEEDS),
    CheckFamily("A-CATCHMENT", "min", _catch, catchment_min, _CATCH_NEEDS),
    CheckFamily("A-SOCIAL-SUBSIDY", "station", _subsidy, social_subsidy,
                "figure per_person and a service with social_provider true"),
    CheckFamily("A-MEAL", "station", _meal, meal_cost, "figure government_per_meal and a service with "
                "meals_per_resident > 0"),
)
