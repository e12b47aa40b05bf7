"""The clauses of the two planning documents, by their POLICY.md ids.

Each :class:`ClauseSpec` lists the figures a clause carries (with unit and
range), where the station model uses it (``families``: the constraint
families that carry the id) or why it does not (``scope``).  The instance
file gives each clause's figures; this registry is what loading checks them
against, and what reports use to speak in the documents' terms.

Scopes
------
``model``     constraint families in the station model (:mod:`allocator.station`);
``data``      figures that parametrise the model (need shares, group counts);
``roster``    checked on individual workers (the roster assignment);
``packages``  department resource packages (the assignment layer);
``circle``    the 15-minute service circle (travel times);
``info``      recorded and reported; no allocation decision can break it
              (satisfaction, response times, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """A figure of a clause.

    ``kind`` is ``share`` (0..1), ``count`` (integer >= 0), ``money`` (yuan,
    >= 0), ``number`` (>= 0) or ``age``.  ``path`` allows a table of
    figures by year (``{"2024" = 0.18, "2026" = 0.35}``).
    """

    name: str
    kind: str
    unit: str
    required: bool = True
    path: bool = False
    doc: str = ""


@dataclass(frozen=True)
class ClauseSpec:
    """A clause of POLICY.md."""

    id: str
    title: str
    section: str
    fields: tuple[FieldSpec, ...]
    scope: str
    families: tuple[str, ...] = ()
    sums_to_one: tuple[str, ...] = ()

    def field(self, name: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


def _f(name: str, kind: str, unit: str, **kw: object) -> FieldSpec:
    return FieldSpec(name, kind, unit, **kw)  # type: ignore[arg-type]


def _c(cid: str, title: str, section: str, scope: str, fields: list[FieldSpec],
       families: tuple[str, ...] = (), sums_to_one: tuple[str, ...] = ()) -> ClauseSpec:
    return ClauseSpec(cid, title, section, tuple(fields), scope, families, sums_to_one)


_opt = {"required": False}
_path = {"path": True}

CLAUSES: tuple[ClauseSpec, ...] = (
    # --- staffing -------------------------------------------------------
    _c("A-STAFF-DENSITY", "community staff per 10,000 residents", "A4.1, A6.1", "model",
       [_f("per_10k", "number", "staff per 10,000 residents")], ("total",)),
    _c("A-STAFF-MIX", "admin : social worker : volunteer mix", "A4.1, A6.1", "model",
       [_f("admin", "share", "share of staff"), _f("social_worker", "share", "share of staff"),
        _f("volunteer", "share", "share of staff"),
        _f("tolerance", "share", "share points either side (default 0: the document gives none)", **_opt)],
       ("admin", "social_worker", "volunteer"), ("admin", "social_worker", "volunteer")),
    _c("A-CERT-MIN", "certified social workers per community", "A3.2", "model",
       [_f("per_station", "count", "certified social workers")], ("station",)),
    _c("A-CERT-RATE", "certified share of professional social workers", "A4.1, A4.3", "model",
       [_f("share", "share", "share of social workers"), _f("today", "share", "share", **_opt)], ("total",)),
    _c("A-CASELOAD", "households one social worker can serve", "A2.2", "model",
       [_f("households_per_worker", "number", "households per social worker")], ("station",)),
    _c("A-SALARY", "social-worker monthly salary floor", "A4.1, A6.1", "model",
       [_f("monthly_min", "money", "yuan per month"), _f("today", "money", "yuan per month", **_opt)],
       ("station",)),
    _c("A-VOLUNTEER", "volunteer corps multiplied", "A3.2, A6.1", "model",
       [_f("multiplier", "number", "times today's corps"), _f("baseline", "count", "volunteers today")],
       ("total",)),
    _c("A-TRAINING", "training hours per worker per year", "A4.3", "data",
       [_f("hours_per_worker", "number", "hours per year")]),
    _c("F-SW-DENSITY", "professional social workers per 10,000 residents", "F2.2, F3.4", "model",
       [_f("per_10k", "number", "social workers per 10,000 residents"),
        _f("stated_total", "count", "social workers city-wide", **_opt)], ("per_10k", "stated_total")),
    _c("F-SW-URBAN", "professional social workers per urban station", "F3.2, F7.1", "model",
       [_f("per_station", "count", "social workers")], ("station",)),
    _c("F-SW-RURAL", "professional social workers per rural station", "F3.2, F5.1, F7.1", "model",
       [_f("per_station", "count", "social workers")], ("station",)),
    _c("F-CERT-RATE", "certified share of social workers; intermediate level", "F3.2, F6.2, F7.1", "model",
       [_f("share", "share", "share of social workers", **_path),
        _f("intermediate_share", "share", "share of social workers", **_opt)], ("certified", "intermediate")),
    _c("F-DEGREE", "bachelor's degree or above", "F3.2, F7.1", "model",
       [_f("share", "share", "share of social workers", **_path), _f("today", "share", "share", **_opt),
        _f("hire_premium", "money", "yuan per year more for a hire with a bachelor's degree or above", **_opt)],
       ("share",)),
    _c("F-YOUNG", "social workers under 35", "F7.1", "model",
       [_f("share", "share", "share of social workers", **_path), _f("age_below", "number", "years"),
        _f("today", "share", "share", **_opt)], ("share",)),
    _c("F-LOCAL-HIRE", "rural hires with local household registration", "F5.3, F7.1", "roster",
       [_f("share", "share", "share of rural hires"), _f("local_hires", "count", "hires", **_opt, **_path)]),
    _c("F-TURNOVER", "yearly staff turnover ceiling", "F3.2, F6.2", "info",
       [_f("rate", "share", "share per year", **_path)]),
    _c("F-HIRING", "social workers recruited and in post", "F3.3, F5.3, F8.2", "model",
       [_f("recruited", "count", "hires in the year", **_opt, **_path),
        _f("in_post", "count", "social workers in post at year end", **_opt, **_path)],
       ("recruited", "in_post")),
    _c("F-SUPERVISION", "provincial supervisors visiting quarterly", "F7.1", "info",
       [_f("supervisors", "count", "supervisors")]),
    _c("F-SALARY", "average social-worker pay", "F6.2, F7.2", "model",
       [_f("annual_average", "money", "yuan per year"), _f("monthly_min", "money", "yuan per month", **_opt),
        _f("monthly_max", "money", "yuan per month", **_opt),
        _f("seniority_bonus_monthly", "money", "yuan per month", **_opt),
        _f("seniority_years", "number", "years", **_opt)], ("station",)),
    # --- budget ---------------------------------------------------------
    _c("A-BUDGET-PERCAP", "fiscal funding per resident per year", "A2.2, A6.3", "model",
       [_f("per_capita", "money", "yuan per resident per year"),
        _f("today", "money", "yuan per resident per year", **_opt)], ("total",)),
    _c("A-SPLIT", "use of funds: facilities : salaries : direct services", "A6.3", "model",
       [_f("facilities", "share", "share of the budget"), _f("salaries", "share", "share of the budget"),
        _f("services", "share", "share of the budget")], ("facilities", "salaries", "services"),
       ("facilities", "salaries", "services")),
    _c("A-DIRECT-MIN", "share of spending going straight to residents' services", "A6.3", "model",
       [_f("share", "share", "share of spending")], ("total",)),
    _c("A-SOURCES", "sources of funds: fiscal : donations : fees", "A2.2, A3.2, A6.3", "model",
       [_f("fiscal", "share", "share"), _f("donations", "share", "share"), _f("fees", "share", "share"),
        _f("social_target", "share", "share by 2028", **_opt),
        _f("tolerance", "share", "share points either side of the split", **_opt),
        _f("donations_max", "money", "yuan per year available", **_opt),
        _f("fees_max", "money", "yuan per year available", **_opt)],
       ("paid", "split", "available"), ("fiscal", "donations", "fees")),
    # Issue 15: cost lines paid from the services money (allocator/station/families/services_policy.py).
    _c("A-MEAL", "elderly meal price split: the government's part paid per meal served", "A6.3", "model",
       [_f("government_share", "share", "share of the meal price"),
        _f("government_per_meal", "money", "yuan per meal"), _f("resident_per_meal", "money", "yuan per meal")],
       ("station",)),
    _c("A-SOCIAL-SUBSIDY", "subsidy to social providers per person served", "A4.2, A6.3", "model",
       [_f("per_person", "money", "yuan per person served per year"),
        _f("rent_relief", "share", "share of rent (recorded; the model has no rent)")], ("station",)),
    _c("F-BUILD-SUBSIDY", "one-off city subsidy per new / upgraded station", "F2.4, F7.2", "model",
       [_f("new_station", "money", "yuan"), _f("upgraded_station", "money", "yuan")], ("station",)),
    _c("F-OPS-SUBSIDY", "operating subsidy per social worker per year", "F5.2", "model",
       [_f("per_worker", "money", "yuan per social worker per year"),
        _f("county_match", "number", "county yuan per city yuan")], ("station", "city", "county_match")),
    _c("F-OPS-STATION", "operating funds per station per year", "F2.3, F2.4", "model",
       [_f("rural_min", "money", "yuan per year"), _f("rural_max", "money", "yuan per year", **_opt),
        _f("urban_min", "money", "yuan per year")], ("station",)),
    _c("F-TOTAL", "2024-2026 total: construction and operations", "F7.2", "model",
       [_f("total", "money", "yuan over 2024-2026"), _f("construction", "money", "yuan over 2024-2026"),
        _f("operations_per_year", "money", "yuan per year", **_path)], ("operations", "construction")),
    _c("F-USES", "uses of operating funds: salaries : services : training & supervision", "F7.2", "model",
       [_f("salaries", "share", "share of operating funds"), _f("services", "share", "share of operating funds"),
        _f("training", "share", "share of operating funds"),
        _f("tolerance", "share", "share points either side of the split", **_opt)],
       ("salaries", "services", "training", "split"), ("salaries", "services", "training")),
    _c("F-SOURCES", "sources: fiscal : social : service revenue", "F2.3, F5.2, F7.2, F8.2", "model",
       [_f("fiscal", "share", "share", **_path), _f("social", "share", "share", **_path),
        _f("revenue", "share", "share", **_path),
        _f("tolerance", "share", "share points either side of the split", **_opt),
        _f("social_max", "money", "yuan per year available", **_opt, **_path),
        _f("revenue_max", "money", "yuan per year available", **_opt, **_path)],
       ("paid", "split", "available"), ("fiscal", "social", "revenue")),
    _c("F-FISCAL-FLOOR", "fiscal input as a share of livelihood spending", "F6.1", "info",
       [_f("share", "share", "share of livelihood spending")]),
    # --- stations, space, coverage ---------------------------------------
    _c("A-AREA", "floor area per station", "A4.1, A6.2", "model",
       [_f("urban_min_m2", "number", "m2"), _f("rural_min_m2", "number", "m2")], ("station",)),
    _c("A-ZONES", "floor zoning: admin max, service min, activity min", "A4.1, A6.2", "model",
       [_f("admin_max", "share", "share of floor area"), _f("service_min", "share", "share of floor area"),
        _f("activity_min", "share", "share of floor area")], ("admin", "service", "activity")),
    _c("A-FLEX", "flexible space kept free", "A6.2", "model",
       [_f("share", "share", "share of floor area")], ("station",)),
    _c("A-RENOVATE", "centres older than N years renovated", "A2.2, A6.2", "model",
       [_f("age_years", "number", "years"), _f("stated_count", "count", "centres", **_opt)], ("station",)),
    _c("A-COVERAGE", "workstation coverage of residents; one-stop stations", "A2.1, A3.1", "model",
       [_f("urban", "share", "share of urban residents"), _f("rural", "share", "share of rural residents"),
        _f("one_stop", "share", "share of communities"), _f("urban_today", "share", "share", **_opt),
        _f("rural_today", "share", "share", **_opt), _f("one_stop_today", "share", "share", **_opt)],
       ("urban", "rural", "one_stop")),
    _c("A-CATCHMENT", "residents per service centre (the station and its extra service points)", "A2.1", "model",
       [_f("min_residents", "count", "residents"), _f("max_residents", "count", "residents"),
        _f("point_cost", "money", "yuan per extra service point per year (from the services money)", **_opt)],
       ("max", "min")),
    _c("F-AREA", "station floor area and its zoning", "F5.1, F7.3", "model",
       [_f("min_m2", "number", "m2"), _f("service_share", "share", "share of floor area"),
        _f("office_share", "share", "share of floor area"), _f("display_share", "share", "share of floor area")],
       ("area", "service", "office", "display"), ("service_share", "office_share", "display_share")),
    _c("F-COVERAGE", "township stations in operation", "F3.2, F3.3", "model",
       [_f("share", "share", "share of townships", **_path), _f("urban", "share", "share", **_opt),
        _f("rural", "share", "share", **_opt)], ("total",)),
    _c("F-BUILD", "stations built and upgraded", "F3.3, F8.1", "model",
       [_f("new", "count", "stations"), _f("upgraded", "count", "stations"), _f("total", "count", "stations")],
       ("new", "upgraded")),
    _c("F-DEMO", "provincial demonstration stations", "F3.1, F3.3", "model",
       [_f("count", "count", "stations", **_path), _f("per_county_min", "count", "stations per county"),
        _f("min_social_workers", "count", "social workers at a demonstration station"),
        _f("min_featured", "count", "featured services at a demonstration station")],
       ("count", "per_county", "standard")),
    _c("F-CIRCLE", "15-minute service circle: extension points", "F7.3", "circle",
       [_f("extension_points", "count", "points"), _f("minutes", "number", "minutes")]),
    _c("F-ACCESS", "barrier-free facilities", "F7.3", "model",
       [_f("share", "share", "share of stations")], ("station",)),
    # --- services and needs ----------------------------------------------
    _c("A-BASIC", "basic services every station offers", "A4.3", "model",
       [_f("count", "count", "services")], ("station",)),
    _c("A-FEATURE", "featured services per community", "A4.3", "model",
       [_f("min_per_station", "count", "services"), _f("catalogue", "count", "services", **_opt)], ("station",)),
    _c("A-VARIETY", "service types per station", "A3.1", "model",
       [_f("min_per_station", "count", "services"), _f("today", "number", "services", **_opt)], ("station",)),
    _c("A-NEEDS", "share of residents wanting a service", "A2.1, A2.3", "data",
       [_f("elderly_meals", "share", "share of elderly"), _f("child_care", "share", "share"),
        _f("employment", "share", "share"), _f("skills", "share", "share"), _f("health", "share", "share")]),
    _c("A-MATCH", "supply-demand match", "A3.1", "model",
       [_f("share", "share", "share of demand met"), _f("today", "share", "share", **_opt)], ("total",)),
    _c("A-SUPPLY", "services offered today (share of centres)", "A2.1", "info",
       [_f("social_security", "share", "share"), _f("policy_publicity", "share", "share"),
        _f("culture_sport", "share", "share"), _f("counselling", "share", "share"),
        _f("employment", "share", "share")]),
    _c("A-CANTEEN", "community elderly canteens", "A7.2", "model",
       [_f("stations", "count", "communities"), _f("meal_coverage", "share", "share of meal need")],
       ("count", "coverage")),
    _c("F-GROUPS", "target groups", "F3.2", "data",
       [_f("elderly_share", "share", "share of residents"), _f("rural_elderly_share", "share", "share"),
        _f("left_behind_children", "count", "children"), _f("disabled", "count", "people"),
        _f("migrants", "count", "people")]),
    _c("F-PRO-SHARE", "long-term professional services among all services offered", "F3.2, F9.1", "model",
       [_f("share", "share", "share of the services offered (services.csv professional)", **_path),
        _f("case_management", "share", "share (recorded; not modelled)", **_opt)], ("share",)),
    _c("F-FEATURE", "featured projects per station per year", "F6.3", "model",
       [_f("min_per_station", "count", "projects")], ("station",)),
    _c("F-SPECIAL", "coverage of special groups", "F9.1", "model",
       [_f("share", "share", "share of special groups' need"), _f("today", "share", "share", **_opt)],
       ("total", "group")),
    # --- fairness (issue 15): instance figures no document clause carries --------------------------
    _c("X-FLOOR", "coverage floor of every group (the instance's figure)", "instance", "model",
       [_f("share", "share", "share of each group's need covered", **_path)], ("group",)),
    _c("X-BENEFIT", "diminishing returns within a group: a concave benefit of the need covered", "instance", "data",
       [_f("first", "share", "share of a group's need counted at full weight"),
        _f("second", "share", "share of a group's need up to which the second weight holds"),
        _f("second_weight", "share", "weight of the second segment (of the group's weight)"),
        _f("rest_weight", "share", "weight of the need covered beyond the second breakpoint")]),
    _c("X-MIN-SERVED", "a service offered serves at least its minimum (services.csv min_served)", "instance",
       "model", [], ("station",)),
    # --- costed moves (issue 15): social workers between stations of one county -----------------------
    _c("X-MOVES", "costed moves of social workers between stations of a county (the instance's figures)",
       "instance", "model",
       [_f("cost_per_move", "money", "yuan per worker moved (charged to salaries at the receiving station)"),
        _f("max_per_year", "count", "workers moved per year, all counties together", **_path),
        _f("protected_years", "number", "years of service from which a worker is not moved")],
       ("cap",)),
    _c("F-RESPONSE", "response time to a need", "F5.4, F9.1", "info",
       [_f("days", "number", "days"), _f("today_days", "number", "days", **_opt)]),
    _c("F-DEPT-LINK", "stations cooperating with >= 3 departments", "F2.3", "packages",
       [_f("departments", "count", "departments"), _f("today", "share", "share of stations", **_opt)]),
    _c("F-SOCIAL-ORG", "projects run by social organisations", "F3.2, F8.3", "info",
       [_f("share", "share", "share of projects", **_path)]),
    # --- evaluation -------------------------------------------------------
    _c("A-BOTTOM10", "bottom share of stations rectified after evaluation", "A4.3, A7.3", "info",
       [_f("share", "share", "share of stations")]),
    _c("F-SATISFACTION", "residents' satisfaction; complaints", "F3.3, F3.4", "info",
       [_f("share", "share", "share", **_path), _f("complaints_max", "share", "share", **_opt)]),
)

BY_ID: dict[str, ClauseSpec] = {c.id: c for c in CLAUSES}


def clause_spec(clause_id: str) -> ClauseSpec:
    """The registry entry of ``clause_id`` (KeyError if unknown)."""
    return BY_ID[clause_id]
