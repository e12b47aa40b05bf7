"""The instance format: every file, every column, its type, unit and rule.

This module is the single source of the format: the loader checks against
it and ``python -m allocator.instance.schema`` rewrites the README's reference section from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """A CSV column (or worksheet column).

    ``kind``: ``str``, ``int``, ``float``, ``bool``, ``enum`` (one of
    ``choices``), ``list`` (``;``-separated ids), ``share`` (float in 0..1).
    ``ref``: ``"table.column"`` the value (or each list item) must exist in;
    ``"groups"`` refers to the ``[groups]`` of instance.toml.
    """

    name: str
    kind: str
    unit: str = ""
    doc: str = ""
    required: bool = True      # the column must be present
    blank_ok: bool = False     # a cell may be empty
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None
    default: object = None     # value used when an optional column is absent


@dataclass(frozen=True)
class TableSpec:
    """A table of an instance: ``<name>.csv`` in a folder, sheet ``<name>`` in a workbook."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column
AREA_TYPES = ("urban", "rural")
STATUSES = ("existing", "new", "upgrade")
STAFF_TYPES = ("admin", "social_worker", "volunteer")
LEVELS = ("none", "assistant", "intermediate")
SERVICE_KINDS = ("basic", "featured", "personalised")

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "stations",
        "One row per station (community workstation or township social-work station).",
        (
            C("station_id", "str", doc="unique id"),
            C("name", "str", doc="name as the documents or the office write it"),
            C("county", "str", doc="county, district or street the station belongs to"),
            C("area_type", "enum", choices=AREA_TYPES, doc="urban or rural"),
            C("status", "enum", choices=STATUSES,
              doc="existing (in operation), new (to be built: building it is a decision), "
                  "upgrade (in operation, to be upgraded)"),
            C("one_stop", "bool", required=False, default=False, doc="already a one-stop service station"),
            C("population", "int", "residents", minimum=0, maximum=1e8, doc="residents served by the station's area"),
            C("households", "int", "households", minimum=0, maximum=1e8),
            C("floor_area_m2", "float", "m2", minimum=0, maximum=1e6,
              doc="floor area today; 0 if there is no building"),
            C("building_age_years", "float", "years", minimum=0, maximum=1000, blank_ok=True, required=False,
              doc="age of the building; blank if there is none"),
            C("zone_admin", "share", "share of floor area", required=False, default=0.0,
              doc="admin/office share of the floor area today"),
            C("zone_service", "share", "share of floor area", required=False, default=0.0,
              doc="service share today"),
            C("zone_activity", "share", "share of floor area", required=False, default=0.0,
              doc="activity/display share today; the three zone shares sum to 1 (or are all 0 without a building)"),
            C("accessible", "bool", required=False, default=True, doc="barrier-free today (F-ACCESS)"),
        ),
        key=("station_id",),
    ),
    TableSpec(
        "groups",
        "Residents of each population group per station (long form; a missing pair means 0).",
        (
            C("station_id", "str", ref="stations.station_id"),
            C("group", "str", ref="groups", doc="a group defined under [groups] in instance.toml"),
            C("residents", "int", "residents", minimum=0, maximum=1e8),
        ),
        key=("station_id", "group"),
    ),
    TableSpec(
        "services",
        "The service catalogue.",
        (
            C("service_id", "str", doc="unique id"),
            C("name", "str"),
            C("kind", "enum", choices=SERVICE_KINDS,
              doc="basic (mandatory, A-BASIC), featured (chosen, A-FEATURE/F-FEATURE), personalised"),
            C("groups", "list", ref="groups", doc="groups it serves, ';'-separated, or 'all'"),
            C("annual_cost", "float", "yuan per station per year", minimum=0, maximum=1e9,
              doc="running cost at a station offering it, from direct-service money"),
            C("staff_hours", "float", "social-worker hours per station per year", minimum=0, maximum=1e6),
            C("min_served", "float", "residents per station per year", minimum=0, maximum=1e8, required=False,
              default=0.0, doc="least residents a station offering it serves, else it is not offered (X-MIN-SERVED)"),
            C("professional", "bool", required=False, default=False,
              doc="a long-term professional service (case management, community development: F-PRO-SHARE)"),
            C("social_provider", "bool", required=False, default=False,
              doc="run by a social provider, paid A-SOCIAL-SUBSIDY per resident served"),
            C("meals_per_resident", "float", "meals per resident served per year", minimum=0, maximum=1000,
              required=False, default=0.0, doc="meals a resident it serves takes in a year (A-MEAL's cost)"),
        ),
        key=("service_id",),
    ),
    TableSpec(
        "departments",
        "Departments supplying resource packages (F5.4).",
        (
            C("department_id", "str"),
            C("name", "str"),
            C("budget", "float", "yuan per year", minimum=0, maximum=1e12),
            C("max_packages", "int", "packages", minimum=0, maximum=1e6),
        ),
        key=("department_id",),
    ),
    TableSpec(
        "packages",
        "Department resource packages to place onto stations (F5.4, F6.1).",
        (
            C("package_id", "str"),
            C("department_id", "str", ref="departments.department_id"),
            C("name", "str"),
            C("groups", "list", ref="groups"),
            C("residents_served", "int", "residents", minimum=0, maximum=1e8),
            C("cost", "float", "yuan per year", minimum=0, maximum=1e9),
            C("staff_hours", "float", "social-worker hours per year", minimum=0, maximum=1e6),
            C("eligible", "str", doc="'all', 'urban', 'rural' or ';'-separated station ids"),
            C("copies", "int", "packages", minimum=1, maximum=1e4, required=False, default=1),
        ),
        key=("package_id",),
    ),
    TableSpec(
        "staff",
        "The staff in post today, one row per person.",
        (
            C("worker_id", "str"),
            C("station_id", "str", ref="stations.station_id"),
            C("type", "enum", choices=STAFF_TYPES),
            C("certified", "bool", doc="holds the national social-work certificate (social workers only)"),
            C("level", "enum", choices=LEVELS, doc="certificate level; 'none' when not certified"),
            C("local_registration", "bool", doc="household registration in the station's county"),
            C("years_of_service", "int", "years", minimum=0, maximum=60),
            C("bachelor", "bool", required=False, default=False, doc="bachelor's degree or above"),
            C("age", "int", "years", minimum=16, maximum=80, required=False, default=35),
        ),
        key=("worker_id",),
    ),
    TableSpec(
        "travel",
        "Optional travel times between places (station ids).",
        (
            C("from_id", "str", ref="stations.station_id"),
            C("to_id", "str", ref="stations.station_id"),
            C("minutes", "float", "minutes", minimum=0, maximum=1e4),
        ),
        key=("from_id", "to_id"),
        required=False,
    ),
)

TABLE_BY_NAME = {t.name: t for t in TABLES}

# instance.toml sections other than [clauses]: key -> (kind, unit, doc)
TOML_SECTIONS: dict[str, dict[str, tuple[str, str, str]]] = {
    "instance": {
        "name": ("str", "", "instance name"),
        "year": ("int", "year", "plan year; selects figures from a clause's year path"),
        "years": ("list of int", "years", "a horizon: consecutive plan years planned in one model ([horizon] rules)"),
        "currency": ("str", "", "currency of every money figure (CNY)"),
        "description": ("str", "", "free text"),
    },
    "horizon": {
        "weights": ("list of number", "", "objective weight per year of [instance] years (default 1 each)"),
        "upgrades_per_year": ("int", "workers", "certification upgrades of staff in post per year (default 0)"),
        "survival": ("share", "share per year", "today's senior workers still in post per year (F-SALARY's "
                     "bonus; default 1 - F-TURNOVER)"),
        "rules": ("table", "", "\"CLAUSE.figure\" = carry, interpolate, flow or absent, for a year its path does "
                  "not state"),
        "in_force": ("table", "", "CLAUSE = [years]: the clause holds only in those years"),
    },
    "objective": {
        "cost_weight": ("number", "objective units per yuan", "penalty on total spending (0 = none)"),
        "equity": ("str", "", "none | worst_county | urban_rural_gap"),
        "equity_weight": ("number", "objective units per coverage point", "weight of the equity term"),
        "mode": ("str", "", "weighted (one objective: need less penalties) | lexicographic (stage 1 the least "
                 "weighted deviation, stage 2 the most need covered with it held)"),
        "deviation_tolerance": ("share", "", "lexicographic: stage 2 may exceed stage 1's weighted deviation by "
                                "this share of it (default 0.001)"),
        "deviation_tolerance_abs": ("number", "objective units", "lexicographic: and by this much (default 1)"),
        "baseline_staff": ("number", "objective units per worker", "solve --baseline: price of each staff post "
                           "added or removed at a station against the baseline plan (default 0)"),
        "baseline_money": ("number", "objective units per yuan", "solve --baseline: price of each yuan moved "
                           "(a station's money by use, up or down; default 0)"),
        "baseline_service": ("number", "objective units per service", "solve --baseline: price of each service "
                             "the baseline offered at a station and the plan drops (default 0)"),
        "baseline_demo": ("number", "objective units per station", "solve --baseline: price of each station "
                          "whose demonstration status changes (default 0)"),
        "baseline_max_staff": ("number", "workers", "solve --baseline: most staff posts changed (no key: no limit)"),
        "baseline_max_money": ("number", "yuan", "solve --baseline: most yuan moved (no key: no limit)"),
        "baseline_max_services": ("number", "services", "solve --baseline: most services dropped (no key: no limit)"),
        "baseline_max_demo": ("number", "stations", "solve --baseline: most demonstration changes (no key: no "
                              "limit)"),
    },
    "staff_types": {
        "hours_per_year": ("number", "hours", "service hours one person gives per year"),
        "annual_cost": ("number", "yuan per year", "cost to this budget (0 = paid elsewhere / unpaid)"),
    },
    "groups": {
        "label": ("str", "", "readable name"),
        "weight": ("number", "objective units per resident", "value of covering one resident's need"),
        "need_share": ("share", "", "share of the group's residents who need a service (A-NEEDS)"),
        "special": ("bool", "", "a special group (F-SPECIAL)"),
        "hours_per_resident": ("number", "hours per year", "social-worker time per resident served"),
        "cost_per_resident": ("number", "yuan per year", "direct-service money per resident served"),
    },
    "costs": {
        "build_per_m2": ("number", "yuan per m2", "building or extending floor area"),
        "refit_per_m2": ("number", "yuan per m2", "re-zoning existing floor area"),
        "renovation": ("number", "yuan per station", "structural/electrical renovation (A-RENOVATE)"),
        "one_stop_upgrade": ("number", "yuan per station", "turning a station one-stop (A-COVERAGE)"),
        "new_station": ("number", "yuan per station", "fixed cost of opening a new station"),
        "access_retrofit": ("number", "yuan per station", "barrier-free retrofit (F-ACCESS)"),
        "training_per_worker": ("number", "yuan per worker per year", "training & supervision"),
    },
}

# Largest value of each instance.toml number (the least is 0; a share lies in 0..1).  Far above any real
# instance and far below what a solver treats as infinite, so a typo like 1e300 is an input error, not a
# solver failure.
TOML_MAX: dict[str, dict[str, float]] = {
    "objective": {"cost_weight": 1e3, "equity_weight": 1e7, "deviation_tolerance": 1,
                  "deviation_tolerance_abs": 1e9, "baseline_staff": 1e7, "baseline_money": 1e3, "baseline_service": 1e7,
                  "baseline_demo": 1e7, "baseline_max_staff": 1e9, "baseline_max_money": 1e12,
                  "baseline_max_services": 1e9, "baseline_max_demo": 1e9},
    "staff_types": {"hours_per_year": 8784, "annual_cost": 1e8},
    "groups": {"weight": 1e6, "need_share": 1, "hours_per_resident": 1e4, "cost_per_resident": 1e7},
    "costs": dict.fromkeys(("build_per_m2", "refit_per_m2", "renovation", "one_stop_upgrade", "new_station",
                            "access_retrofit", "training_per_worker"), 1e8),
}
STATED_MAX = 1e12            # [stated] and [documents] aggregates
PENALTY_MAX = 1e7            # a soft clause's penalty, objective units per clause unit
FIGURE_MAX: dict[str, float] = {"share": 1.0, "count": 1e9, "money": 1e12, "number": 1e9}  # clause figures by kind

# Size limits on the files themselves, checked before (or, for the nesting depth, while) they are parsed.
LIMITS: dict[str, tuple[int, str]] = {
    "toml_bytes": (1 << 20, "bytes of instance.toml"),
    "csv_bytes": (512 << 20, "bytes of one CSV table"),
    "xlsx_bytes": (256 << 20, "bytes of an .xlsx workbook"),
    "rows": (5_000_000, "rows of one table (CSV or sheet)"),
    "columns": (64, "columns of one table"),
    "toml_depth": (16, "nesting depth of tables and arrays in instance.toml"),
    "text_chars": (1_000, "characters of one text cell or TOML text (a note or description: 10 times that)"),
    "shown_chars": (80, "characters of a value repeated in an error message (longer ones are cut)"),
}


def limit(name: str) -> int:
    """The size limit ``name`` of :data:`LIMITS`."""
    return LIMITS[name][0]


STATED_KEYS: dict[str, str] = {
    "stations": "number of stations",
    "population": "residents, all stations",
    "households": "households, all stations",
    "existing": "stations in operation",
    "new": "stations to build",
    "upgrade": "stations to upgrade",
    "one_stop": "one-stop stations today",
    "floor_area_m2": "total floor area today",
    "old_buildings": "buildings older than A-RENOVATE's age",
    "staff": "staff in post",
    "admin": "admin staff in post",
    "social_worker": "social workers in post",
    "volunteer": "volunteers in post",
    "certified": "certified social workers in post",
    "counties": "counties/districts",
}


def format_reference() -> str:
    """Markdown reference of the instance format (pasted into README.md; a test keeps them equal)."""
    out: list[str] = []
    for t in TABLES:
        req = "required" if t.required else "optional"
        out.append(f"#### `{t.file}` ({req})\n\n{t.doc}" + (f" Key: {', '.join(t.key)}." if t.key else "") + "\n")
        out.append("| column | type | unit | required | rule |")
        out.append("|---|---|---|---|---|")
        for c in t.columns:
            rule = []
            if c.kind == "share":
                rule.append("0 to 1")
            if c.minimum is not None:
                rule.append(f">= {c.minimum:g}")
            if c.maximum is not None:
                rule.append(f"<= {c.maximum:g}")
            if c.choices:
                rule.append("one of " + ", ".join(c.choices))
            if c.ref:
                rule.append("must exist in " + ("[groups]" if c.ref == "groups" else c.ref))
            if c.blank_ok:
                rule.append("may be blank")
            if c.doc:
                rule.append(c.doc)
            required = "yes" if c.required else f"no (default {c.default!r})"
            out.append(f"| `{c.name}` | {c.kind} | {c.unit} | {required} | {'; '.join(rule)} |")
        out.append("")
    out.append("#### `instance.toml`\n")
    out.append("| section / key | type | unit | meaning |")
    out.append("|---|---|---|---|")
    for sec, keys in TOML_SECTIONS.items():
        prefix = f"[{sec}.<id>]" if sec in ("groups", "staff_types") else f"[{sec}]"
        for k, (kind, unit, doc) in keys.items():
            hi = TOML_MAX.get(sec, {}).get(k)
            rng = f" (0 to {hi:g})" if hi is not None and kind in ("number", "share") else ""
            out.append(f"| `{prefix}` `{k}` | {kind} | {unit} | {doc}{rng} |")
    out.append("| `[stated]` `<key>` | number | | an aggregate the documents state; the tables must agree: "
               + ", ".join(f"`{k}` ({v})" for k, v in STATED_KEYS.items()) + f" (0 to {STATED_MAX:g}) |")
    out.append("| `[documents]` `<key>` | number | | an aggregate as a document states it where it contradicts the "
               "data (same keys as [stated]); reported as a warning, not an error |")
    out.append("| `[clauses.<ID>]` `<figure>` | number or {year = number} | per clause | a figure of a POLICY.md "
               "clause (see `allocator clauses`); by kind: "
               + ", ".join(f"{k} 0 to {v:g}" for k, v in FIGURE_MAX.items()) + " |")
    out.append("| `[clauses.<ID>]` `in_force` | bool | | default true |")
    out.append("| `[clauses.<ID>]` `mode` | `hard`/`soft` or {family = mode} | | soft: a deviation in the "
               "clause's own unit, penalised in the objective |")
    out.append("| `[clauses.<ID>]` `penalty` | number or {family = number} | objective units per clause unit | "
               f"weight of a soft clause's deviation (0 to {PENALTY_MAX:g}) |")
    out.append("| `[clauses.<ID>]` `note` | text | | provenance or remark |")
    out.append("\n#### Limits\n")
    out.append("Every file is checked against these before it is used; a file over a limit is an input error "
               "(exit 2) naming the file and the limit. Files are read only from inside the instance folder (a "
               "symbolic link that leads outside it is an error). Text may not hold control characters (a NUL "
               "byte, ...); a UTF-8 byte-order mark at the start of any file is accepted.\n")
    out.append("| limit | value |")
    out.append("|---|---|")
    for value, doc in LIMITS.values():
        out.append(f"| {doc} | {value:,} |")
    return "\n".join(out) + "\n"


def _update_readme(path: str = "README.md") -> None:
    """Rewrite the format reference between the README's markers."""
    import re
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    new = re.sub(r"(<!-- format:start -->\n).*?(<!-- format:end -->)",
                 lambda m: m.group(1) + format_reference() + m.group(2), text, flags=re.S)
    p.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    _update_readme()
