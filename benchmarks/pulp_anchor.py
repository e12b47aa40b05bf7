"""The naive anchor: the station model written the way a typical PuLP user would write it.

One ``pulp.LpVariable`` per column (held in dictionaries keyed by station, group and service), one
``lpSum`` per constraint row added with ``prob += expression >= rhs, name``, Python loops over stations,
groups, services and counties.  It follows the formulation in the docstring of :mod:`allocator.station.builder`
(the same variables, the same rows, money in thousands of yuan, a deviation column on every row of a
soft clause family), reading the same :class:`allocator.instance.Instance`, so that it builds the same
MILP as :func:`allocator.station.build` (``strict=False``, no family dropped): ``benchmarks/build_bench.py``
checks the row, column and nonzero counts and the optimal objective.

It is a benchmark anchor, not a second engine: it exists to be timed against the vectorised builder.
"""

from __future__ import annotations

import math
import warnings

import pulp
from pulp.v4_migration import set_v4_migration_warnings

K = 1000.0  # money columns and money rows are in thousands of yuan, as in the engine

# PuLP 3.3 warns on every ``LpVariable(...)`` (its 4.0 migration); a user would switch that off.
set_v4_migration_warnings(False)
warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulp")


class _Model:
    """The problem being built and its soft-row helper."""

    def __init__(self, inst):  # type: ignore[no-untyped-def]
        self.inst = inst
        self.prob = pulp.LpProblem("stations", pulp.LpMaximize)
        self.penalties: list[tuple[float, pulp.LpVariable]] = []

    def add(self, name: str, lhs, sense: str, rhs: float, cid: str = "", family: str = "",  # type: ignore[no-untyped-def]
            money: bool = False) -> None:
        """Add ``lhs sense rhs``; a deviation variable (priced in the objective) if the family is soft."""
        scale = K if money else 1.0
        c = self.inst.clause(cid) if cid else None
        if c is not None and c.mode(family) == "soft":
            pen = c.penalty(family) * scale
            if sense in (">=", "=="):
                d = pulp.LpVariable(f"devp_{name}", lowBound=0)
                lhs = lhs + d
                self.penalties.append((pen, d))
            if sense in ("<=", "=="):
                d = pulp.LpVariable(f"devm_{name}", lowBound=0)
                lhs = lhs - d
                self.penalties.append((pen, d))
        if sense == ">=":
            self.prob += lhs >= rhs, name
        elif sense == "<=":
            self.prob += lhs <= rhs, name
        else:
            self.prob += lhs == rhs, name


def build_pulp(inst) -> pulp.LpProblem:  # type: ignore[no-untyped-def]  # noqa: C901
    """Build the station MILP of ``inst`` with PuLP, one variable and one constraint at a time.

    Parameters
    ----------
    inst : allocator.instance.Instance
        A validated instance.

    Returns
    -------
    pulp.LpProblem
        The maximisation problem (money in thousands of yuan).
    """
    M = _Model(inst)
    prob = M.prob
    st = inst.stations
    S = len(st)
    sid = [str(v) for v in st["station_id"]]
    pop = [float(v) for v in st["population"]]
    hh = [max(float(v), 1.0) for v in st["households"]]
    urban = [v == "urban" for v in st["area_type"]]
    status = [str(v) for v in st["status"]]
    is_new = [v == "new" for v in status]
    buildable = [v in ("new", "upgrade") for v in status]
    one_stop = [bool(v) for v in st["one_stop"]]
    area0 = [float(v) for v in st["floor_area_m2"]]
    age = [float(v) for v in st["building_age_years"]]
    accessible = [bool(v) for v in st["accessible"]]
    county = [str(v) for v in st["county"]]
    groups = inst.groups
    G = len(groups)
    svc = inst.services
    K_ = len(svc)
    kinds = [str(v) for v in svc["kind"]]
    svc_cost = [float(v) for v in svc["annual_cost"]]
    svc_hours = [float(v) for v in svc["staff_hours"]]
    serves = inst.serves.tolist()
    residents = inst.residents.tolist()
    demand = [[residents[s][g] * groups[g].need_share for g in range(G)] for s in range(S)]
    costs = inst.costs
    base = {t: inst.staff_type(t) for t in ("admin", "social_worker", "volunteer")}

    # staff in post, counted station by station
    adm0 = [0] * S
    vol0 = [0] * S
    sw0 = [0] * S
    cert0 = [0] * S
    inter0 = [0] * S
    senior0 = [0] * S
    where = {s_id: s for s, s_id in enumerate(sid)}
    fsal = inst.clause("F-SALARY")
    senior_years = fsal.figure("seniority_years", 3.0) if fsal else 3.0
    sf = inst.staff
    for t, s_id, cert, lev, yrs in zip(sf["type"], sf["station_id"], sf["certified"], sf["level"],
                                       sf["years_of_service"], strict=True):
        s = where[s_id]
        if t == "admin":
            adm0[s] += 1
        elif t == "volunteer":
            vol0[s] += 1
        elif t == "social_worker":
            sw0[s] += 1
            if cert:
                cert0[s] += 1
            if lev == "intermediate":
                inter0[s] += 1
            if yrs >= senior_years:
                senior0[s] += 1
    cap = [math.ceil(pop[s] / 250.0) + adm0[s] + sw0[s] + vol0[s] + 10.0 for s in range(S)]

    # --- variables ------------------------------------------------------------------------------
    ren = inst.clause("A-RENOVATE")
    old = [ren is not None and not math.isnan(age[s]) and age[s] > ren.figures["age_years"] for s in range(S)]
    acc_cl = inst.clause("F-ACCESS")
    demo_cl = inst.clause("F-DEMO")
    zoning = any(inst.clause(c) for c in ("A-ZONES", "A-FLEX", "F-AREA"))
    V = pulp.LpVariable
    adm, swa, swi, swu, vol = {}, {}, {}, {}, {}
    m_fac, m_sal, m_svc, m_trn = {}, {}, {}, {}
    build, onestop, reno, access, demo, expand = {}, {}, {}, {}, {}, {}
    y, x = {}, {}
    z_adm, z_svc, z_act, z_flex, inc_adm, inc_svc, inc_act, inc_flex = {}, {}, {}, {}, {}, {}, {}, {}
    for s in range(S):
        n = sid[s]
        adm[s] = V(f"adm_{n}", adm0[s], cap[s], pulp.LpInteger)
        swa[s] = V(f"swa_{n}", 0, cap[s], pulp.LpInteger)
        swi[s] = V(f"swi_{n}", inter0[s], cap[s], pulp.LpInteger)
        swu[s] = V(f"swu_{n}", 0, cap[s], pulp.LpInteger)
        vol[s] = V(f"vol_{n}", vol0[s], cap[s], pulp.LpInteger)
        m_fac[s] = V(f"m_fac_{n}", 0)
        m_sal[s] = V(f"m_sal_{n}", 0)
        m_svc[s] = V(f"m_svc_{n}", 0)
        m_trn[s] = V(f"m_trn_{n}", 0)
        build[s] = V(f"build_{n}", 0, 1 if buildable[s] else 0, pulp.LpInteger)
        onestop[s] = V(f"onestop_{n}", 0, 1 if status[s] == "existing" and not one_stop[s] else 0, pulp.LpInteger)
        reno[s] = V(f"reno_{n}", 0, 1 if old[s] else 0, pulp.LpInteger)
        access[s] = V(f"access_{n}", 0, 1 if acc_cl and not accessible[s] else 0, pulp.LpInteger)
        demo[s] = V(f"demo_{n}", 0, 1 if demo_cl else 0, pulp.LpInteger)
        expand[s] = V(f"expand_{n}", 0)
        for k in range(K_):
            y[s, k] = V(f"y_{n}_{k}", 0, 1, pulp.LpInteger)
        for g in range(G):
            x[s, g] = V(f"x_{n}_{g}", 0, demand[s][g])
        if zoning:
            z_adm[s], z_svc[s] = V(f"z_adm_{n}", 0), V(f"z_svc_{n}", 0)
            z_act[s], z_flex[s] = V(f"z_act_{n}", 0), V(f"z_flex_{n}", 0)
            inc_adm[s], inc_svc[s] = V(f"inc_adm_{n}", 0), V(f"inc_svc_{n}", 0)
            inc_act[s], inc_flex[s] = V(f"inc_act_{n}", 0), V(f"inc_flex_{n}", 0)

    def sw_tot(s: int):  # type: ignore[no-untyped-def]
        return swa[s] + swi[s] + swu[s]

    def cert_tot(s: int):  # type: ignore[no-untyped-def]
        return swa[s] + swi[s]

    def staff(s: int):  # type: ignore[no-untyped-def]
        return adm[s] + swa[s] + swi[s] + swu[s] + vol[s]

    def act(s: int):  # type: ignore[no-untyped-def]
        return build[s] if is_new[s] else 1

    def ops(s: int):  # type: ignore[no-untyped-def]
        return m_sal[s] + m_svc[s] + m_trn[s]

    def area(s: int):  # type: ignore[no-untyped-def]
        return area0[s] + expand[s]

    add = M.add
    # --- engine rules (always hard) ---------------------------------------------------------------
    for s in range(S):
        n = sid[s]
        add(f"in_post_sw_{n}", sw_tot(s), ">=", sw0[s])
        add(f"in_post_cert_{n}", cert_tot(s), ">=", cert0[s])
        add(f"open_staff_{n}", staff(s) - cap[s] * act(s), "<=", 0)
        if is_new[s]:
            for k in range(K_):
                add(f"open_service_{n}_{k}", y[s, k] - build[s], "<=", 0)
        add(f"payroll_{n}", m_sal[s] - base["social_worker"].annual_cost / K * sw_tot(s)
            - base["admin"].annual_cost / K * adm[s] - base["volunteer"].annual_cost / K * vol[s], ">=", 0)
    train = inst.clause("A-TRAINING")
    h_sw = base["social_worker"].hours_per_year - (train.figures["hours_per_worker"] if train else 0.0)
    for s in range(S):
        add(f"hours_{sid[s]}", lpsum([groups[g].hours_per_resident * x[s, g] for g in range(G)])
            + lpsum([svc_hours[k] * y[s, k] for k in range(K_)])
            - h_sw * sw_tot(s) - base["admin"].hours_per_year * adm[s] - base["volunteer"].hours_per_year * vol[s],
            "<=", 0)
    for g in range(G):
        ks = [k for k in range(K_) if serves[k][g]]
        for s in range(S):
            if demand[s][g] > 0:
                add(f"gate_{sid[s]}_{g}", x[s, g] - demand[s][g] * lpsum([y[s, k] for k in ks]), "<=", 0)
    for s in range(S):
        add(f"service_cost_{sid[s]}", m_svc[s] - lpsum([groups[g].cost_per_resident / K * x[s, g] for g in range(G)])
            - lpsum([svc_cost[k] / K * y[s, k] for k in range(K_)]), ">=", 0)
    for s in range(S):
        n = sid[s]
        fac = (m_fac[s] - costs["build_per_m2"] / K * expand[s] - costs["renovation"] / K * reno[s]
               - costs["one_stop_upgrade"] / K * onestop[s] - access[s] * costs["access_retrofit"] / K)
        if is_new[s]:
            fac = fac - costs["new_station"] / K * build[s]
        if zoning:
            add(f"zones_sum_{n}", z_adm[s] + z_svc[s] + z_act[s] + z_flex[s] - expand[s], "==", area0[s])
            add(f"refit_adm_{n}", z_adm[s] - inc_adm[s], "<=", area0[s] * float(st["zone_admin"][s]))
            add(f"refit_svc_{n}", z_svc[s] - inc_svc[s], "<=", area0[s] * float(st["zone_service"][s]))
            add(f"refit_act_{n}", z_act[s] - inc_act[s], "<=", area0[s] * float(st["zone_activity"][s]))
            add(f"refit_flex_{n}", z_flex[s] - inc_flex[s], "<=", 0.0)
            # refitting is paid on the increases less the area built
            fac = fac - costs["refit_per_m2"] / K * (inc_adm[s] + inc_svc[s] + inc_act[s] + inc_flex[s] - expand[s])
        add(f"facility_cost_{n}", fac, ">=", 0)
    if costs["training_per_worker"] > 0:
        for s in range(S):
            add(f"training_cost_{sid[s]}", m_trn[s] - costs["training_per_worker"] / K * sw_tot(s), ">=", 0)

    # --- staffing clauses ------------------------------------------------------------------------
    pop_total = sum(pop)
    every = range(S)
    if c := inst.clause("A-STAFF-DENSITY"):
        add("A_STAFF_DENSITY", lpsum([staff(s) for s in every]), ">=", c.figures["per_10k"] * pop_total / 1e4,
            "A-STAFF-DENSITY", "total")
    if c := inst.clause("A-STAFF-MIX"):
        tol = c.figures["tolerance"]
        total_staff = lpsum([staff(s) for s in every])
        for t, part in (("admin", lpsum([adm[s] for s in every])), ("social_worker", lpsum([sw_tot(s) for s in every])),
                        ("volunteer", lpsum([vol[s] for s in every]))):
            share = c.figures[t]
            add(f"A_STAFF_MIX_{t}_lo", part - (share - tol) * total_staff, ">=", 0, "A-STAFF-MIX", t)
            add(f"A_STAFF_MIX_{t}_hi", part - (share + tol) * total_staff, "<=", 0, "A-STAFF-MIX", t)
    if c := inst.clause("A-CERT-MIN"):
        for s in every:
            add(f"A_CERT_MIN_{sid[s]}", cert_tot(s) - c.figures["per_station"] * act(s), ">=", 0, "A-CERT-MIN",
                "station")
    if c := inst.clause("A-CERT-RATE"):
        sh = c.figures["share"]
        add("A_CERT_RATE", lpsum([cert_tot(s) for s in every]) - sh * lpsum([sw_tot(s) for s in every]), ">=", 0,
            "A-CERT-RATE", "total")
    if c := inst.clause("A-CASELOAD"):
        for s in every:
            add(f"A_CASELOAD_{sid[s]}", lpsum([x[s, g] * (hh[s] / pop[s]) for g in range(G)])
                - c.figures["households_per_worker"] * sw_tot(s), "<=", 0, "A-CASELOAD", "station")
    if c := inst.clause("A-SALARY"):
        for s in every:
            add(f"A_SALARY_{sid[s]}", m_sal[s] - 12 * c.figures["monthly_min"] / K * sw_tot(s)
                - base["admin"].annual_cost / K * adm[s], ">=", 0, "A-SALARY", "station", money=True)
    if c := inst.clause("A-VOLUNTEER"):
        add("A_VOLUNTEER", lpsum([vol[s] for s in every]), ">=", c.figures["multiplier"] * c.figures["baseline"],
            "A-VOLUNTEER", "total")
    if c := inst.clause("F-SW-DENSITY"):
        add("F_SW_DENSITY_per_10k", lpsum([sw_tot(s) for s in every]), ">=", c.figures["per_10k"] * pop_total / 1e4,
            "F-SW-DENSITY", "per_10k")
        if "stated_total" in c.figures:
            add("F_SW_DENSITY_stated", lpsum([sw_tot(s) for s in every]), ">=", c.figures["stated_total"],
                "F-SW-DENSITY", "stated_total")
    for cid, want_urban in (("F-SW-URBAN", True), ("F-SW-RURAL", False)):
        if c := inst.clause(cid):
            for s in every:
                if urban[s] == want_urban:
                    add(f"{cid}_{sid[s]}", sw_tot(s) - c.figures["per_station"] * act(s), ">=", 0, cid, "station")
    if c := inst.clause("F-CERT-RATE"):
        if "share" in c.figures:
            sh = c.figures["share"]
            add("F_CERT_RATE_certified", lpsum([cert_tot(s) for s in every]) - sh * lpsum([sw_tot(s) for s in every]),
                ">=", 0, "F-CERT-RATE", "certified")
        if "intermediate_share" in c.figures:
            sh = c.figures["intermediate_share"]
            add("F_CERT_RATE_intermediate", lpsum([swi[s] for s in every]) - sh * lpsum([sw_tot(s) for s in every]),
                ">=", 0, "F-CERT-RATE", "intermediate")
    if c := inst.clause("F-HIRING"):
        if "in_post" in c.figures:
            add("F_HIRING_in_post", lpsum([sw_tot(s) for s in every]), ">=", c.figures["in_post"], "F-HIRING",
                "in_post")
        if "recruited" in c.figures:
            add("F_HIRING_recruited", lpsum([sw_tot(s) for s in every]) - sum(sw0), "<=", c.figures["recruited"],
                "F-HIRING", "recruited")
    if c := inst.clause("F-SALARY"):
        bonus = 12 * c.figures.get("seniority_bonus_monthly", 0.0)
        for s in every:
            add(f"F_SALARY_{sid[s]}", m_sal[s] - c.figures["annual_average"] / K * sw_tot(s), ">=",
                bonus * senior0[s] / K, "F-SALARY", "station", money=True)

    # --- budget clauses --------------------------------------------------------------------------
    money = lpsum([m_fac[s] + m_sal[s] + m_svc[s] + m_trn[s] for s in every])
    if c := inst.clause("A-BUDGET-PERCAP"):
        budget = c.figures["per_capita"] * pop_total
        add("A_BUDGET_PERCAP", money, "<=", budget / K, "A-BUDGET-PERCAP", "total", money=True)
        if sp_ := inst.clause("A-SPLIT"):
            for f, cols in (("facilities", m_fac), ("salaries", m_sal), ("services", m_svc)):
                add(f"A_SPLIT_{f}", lpsum([cols[s] for s in every]), "<=", sp_.figures[f] * budget / K, "A-SPLIT", f,
                    money=True)
    if c := inst.clause("A-DIRECT-MIN"):
        add("A_DIRECT_MIN", lpsum([m_svc[s] for s in every]) - c.figures["share"] * money, ">=", 0,
            "A-DIRECT-MIN", "total", money=True)
    if c := inst.clause("F-BUILD-SUBSIDY"):
        for s in every:
            if buildable[s]:
                sub = c.figures["new_station"] if is_new[s] else c.figures["upgraded_station"]
                add(f"F_BUILD_SUBSIDY_{sid[s]}", m_fac[s] - sub / K * build[s], "==", 0, "F-BUILD-SUBSIDY", "station",
                    money=True)
    if c := inst.clause("F-OPS-SUBSIDY"):
        for s in every:
            add(f"F_OPS_SUBSIDY_{sid[s]}", ops(s) - c.figures["per_worker"] / K * sw_tot(s), ">=", 0, "F-OPS-SUBSIDY",
                "station", money=True)
    if c := inst.clause("F-OPS-STATION"):
        for s in every:
            floor = c.figures["urban_min"] if urban[s] else c.figures["rural_min"]
            add(f"F_OPS_STATION_{sid[s]}", ops(s) - floor / K * act(s), ">=", 0, "F-OPS-STATION", "station",
                money=True)
    if c := inst.clause("F-TOTAL"):
        opb = c.figures["operations_per_year"]
        add("F_TOTAL_operations", lpsum([ops(s) for s in every]), "<=", opb / K, "F-TOTAL", "operations", money=True)
        add("F_TOTAL_construction", lpsum([m_fac[s] for s in every]), "==", c.figures["construction"] / K,
            "F-TOTAL", "construction", money=True)
        if u := inst.clause("F-USES"):
            for f, cols in (("salaries", m_sal), ("services", m_svc), ("training", m_trn)):
                add(f"F_USES_{f}", lpsum([cols[s] for s in every]), "<=", u.figures[f] * opb / K, "F-USES", f,
                    money=True)

    # --- space and coverage ----------------------------------------------------------------------
    if c := inst.clause("A-AREA"):
        for s in every:
            need = c.figures["urban_min_m2"] if urban[s] else c.figures["rural_min_m2"]
            add(f"A_AREA_{sid[s]}", area(s) - need * act(s), ">=", 0, "A-AREA", "station")
    if zoning:
        if c := inst.clause("A-ZONES"):
            f_ = c.figures
            for s in every:
                add(f"A_ZONES_admin_{sid[s]}", z_adm[s] - f_["admin_max"] * area(s), "<=", 0, "A-ZONES", "admin")
                add(f"A_ZONES_service_{sid[s]}", z_svc[s] - f_["service_min"] * area(s), ">=", 0, "A-ZONES", "service")
                add(f"A_ZONES_activity_{sid[s]}", z_act[s] - f_["activity_min"] * area(s), ">=", 0, "A-ZONES",
                    "activity")
        if c := inst.clause("A-FLEX"):
            for s in every:
                add(f"A_FLEX_{sid[s]}", z_flex[s] - c.figures["share"] * area(s), ">=", 0, "A-FLEX", "station")
        if c := inst.clause("F-AREA"):
            f_ = c.figures
            for s in every:
                add(f"F_AREA_area_{sid[s]}", area(s) - f_["min_m2"] * act(s), ">=", 0, "F-AREA", "area")
            for s in every:
                add(f"F_AREA_service_{sid[s]}", z_svc[s] - f_["service_share"] * area(s), ">=", 0, "F-AREA", "service")
            for s in every:
                add(f"F_AREA_office_{sid[s]}", z_adm[s] - f_["office_share"] * area(s), "<=", 0, "F-AREA", "office")
            for s in every:
                add(f"F_AREA_display_{sid[s]}", z_act[s] - f_["display_share"] * area(s), ">=", 0, "F-AREA", "display")
    if c := inst.clause("A-RENOVATE"):
        for s in every:
            if old[s]:
                add(f"A_RENOVATE_{sid[s]}", reno[s] + 0, ">=", 1, "A-RENOVATE", "station")
    if c := inst.clause("A-COVERAGE"):
        for f, want_urban in (("urban", True), ("rural", False)):
            mine = [s for s in every if urban[s] == want_urban]
            if mine:
                add(f"A_COVERAGE_{f}", lpsum([pop[s] * act(s) for s in mine]), ">=",
                    c.figures[f] * sum(pop[s] for s in mine), "A-COVERAGE", f)
        add("A_COVERAGE_one_stop", lpsum([onestop[s] for s in every]) + sum(one_stop), ">=",
            c.figures["one_stop"] * S, "A-COVERAGE", "one_stop")
    if (c := inst.clause("F-COVERAGE")) and "share" in c.figures:
        add("F_COVERAGE", lpsum([act(s) for s in every]), ">=", c.figures["share"] * S, "F-COVERAGE", "total")
    if c := inst.clause("F-BUILD"):
        add("F_BUILD_new", lpsum([build[s] for s in every if is_new[s]]), "==", c.figures["new"], "F-BUILD", "new")
        add("F_BUILD_upgraded", lpsum([build[s] for s in every if status[s] == "upgrade"]), "==",
            c.figures["upgraded"], "F-BUILD", "upgraded")
    featured = [k for k in range(K_) if kinds[k] == "featured"]
    if c := demo_cl:
        if "count" in c.figures:
            add("F_DEMO_count", lpsum([demo[s] for s in every]), ">=", c.figures["count"], "F-DEMO", "count")
        for cty in sorted(set(county)):
            add(f"F_DEMO_county_{cty}", lpsum([demo[s] for s in every if county[s] == cty]), ">=",
                c.figures["per_county_min"], "F-DEMO", "per_county")
        for s in every:
            add(f"F_DEMO_sw_{sid[s]}", sw_tot(s) - c.figures["min_social_workers"] * demo[s], ">=", 0, "F-DEMO",
                "standard")
        for s in every:
            add(f"F_DEMO_featured_{sid[s]}", lpsum([y[s, k] for k in featured]) - c.figures["min_featured"] * demo[s],
                ">=", 0, "F-DEMO", "standard")
        for s in every:
            add(f"demo_open_{sid[s]}", demo[s] - act(s), "<=", 0)
    if c := acc_cl:
        for s in every:
            if not accessible[s]:
                add(f"F_ACCESS_{sid[s]}", access[s] - c.figures["share"] * act(s), ">=", 0, "F-ACCESS", "station")

    # --- services and needs ----------------------------------------------------------------------
    basic = [k for k in range(K_) if kinds[k] == "basic"]
    if (c := inst.clause("A-BASIC")) and basic:
        n_b = min(c.figures["count"], len(basic))
        for s in every:
            add(f"A_BASIC_{sid[s]}", lpsum([y[s, k] for k in basic]) - n_b * act(s), ">=", 0, "A-BASIC", "station")
    for cid in ("A-FEATURE", "F-FEATURE"):
        if c := inst.clause(cid):
            for s in every:
                add(f"{cid}_{sid[s]}", lpsum([y[s, k] for k in featured]) - c.figures["min_per_station"] * act(s),
                    ">=", 0, cid, "station")
    if c := inst.clause("A-VARIETY"):
        for s in every:
            add(f"A_VARIETY_{sid[s]}", lpsum([y[s, k] for k in range(K_)]) - c.figures["min_per_station"] * act(s),
                ">=", 0, "A-VARIETY", "station")
    if c := inst.clause("A-MATCH"):
        add("A_MATCH", lpsum([x[s, g] for s in every for g in range(G)]), ">=",
            c.figures["share"] * sum(sum(d) for d in demand), "A-MATCH", "total")
    if c := inst.clause("A-CANTEEN"):
        ids = [str(v) for v in svc["service_id"]]
        gids = list(inst.group_ids)
        if "elderly_meals" in ids and "elderly" in gids:
            k, g = ids.index("elderly_meals"), gids.index("elderly")
            add("A_CANTEEN_count", lpsum([y[s, k] for s in every]), ">=", c.figures["stations"], "A-CANTEEN", "count")
            for s in every:
                add(f"A_CANTEEN_{sid[s]}", x[s, g] - c.figures["meal_coverage"] * demand[s][g] * y[s, k], ">=", 0,
                    "A-CANTEEN", "coverage")
    if c := inst.clause("F-SPECIAL"):
        special = [g for g in range(G) if groups[g].special]
        if special:
            add("F_SPECIAL", lpsum([x[s, g] for s in every for g in special]), ">=",
                c.figures["share"] * sum(demand[s][g] for s in every for g in special), "F-SPECIAL", "total")

    # --- equity and objective --------------------------------------------------------------------
    obj = []
    ob = inst.objective
    if ob.equity == "worst_county" and ob.equity_weight > 0:
        eq = V("eq", 0, 1)
        obj.append(ob.equity_weight * 100 * eq)
        for cty in sorted(set(county)):
            mine = [s for s in every if county[s] == cty]
            d = sum(demand[s][g] for s in mine for g in range(G))
            if d > 0:
                add(f"equity_{cty}", lpsum([x[s, g] / d for s in mine for g in range(G)]) - eq, ">=", 0)
    elif ob.equity == "urban_rural_gap" and ob.equity_weight > 0:
        gap = V("eq", 0, 1)
        obj.append(-ob.equity_weight * 100 * gap)
        du = sum(demand[s][g] for s in every if urban[s] for g in range(G))
        dr = sum(demand[s][g] for s in every if not urban[s] for g in range(G))
        if du > 0 and dr > 0:
            share_u = lpsum([x[s, g] for s in every if urban[s] for g in range(G)]) / du
            share_r = lpsum([x[s, g] for s in every if not urban[s] for g in range(G)]) / dr
            add("equity_urban_ahead", gap - share_u + share_r, ">=", 0)
            add("equity_rural_ahead", gap + share_u - share_r, ">=", 0)
    obj.append(lpsum([groups[g].weight * x[s, g] for s in every for g in range(G)]))
    if ob.cost_weight:
        obj.append(-ob.cost_weight * K * money)
    obj.append(lpsum([-0.001 * swa[s] - 0.002 * swi[s] for s in every]))
    obj.append(lpsum([-pen * d for pen, d in M.penalties]))
    prob += lpsum(obj)
    return prob


def lpsum(terms):  # type: ignore[no-untyped-def]
    """``pulp.lpSum`` (named here so the builder reads like user code)."""
    return pulp.lpSum(terms)


def stats(prob: pulp.LpProblem) -> dict[str, int]:
    """Size of a PuLP problem: rows, columns, nonzeros (zero coefficients not counted).

    ``columns`` counts the variables PuLP hands to a solver (those in the objective or a row);
    ``active_columns`` those with a nonzero coefficient somewhere, comparable with the engine's.
    """
    cons = prob.constraints()
    nnz = 0
    active: set[str] = set()
    for c in cons:
        for v, a in c.items():
            if a != 0:
                nnz += 1
                active.add(v.name)
    for v, a in prob.objective.items():
        if a != 0:
            active.add(v.name)
    variables = prob.variables()
    ints = {v.name for v in variables if v.cat == pulp.LpInteger}
    return {"rows": len(cons), "columns": len(variables), "active_columns": len(active), "nonzeros": nnz,
            "active_integer_columns": len(active & ints)}
