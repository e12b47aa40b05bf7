"""Checking instance.toml (or a workbook's policy sheet): sections, keys, numbers and clauses.

Every number is checked against its range (:mod:`allocator.instance.schema`), every text for control
characters and length; each problem is logged with the dotted key and the line (or policy-sheet row).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from allocator.instance.errors import IssueLog
from allocator.instance.horizon import check_horizon
from allocator.instance.policy import BY_ID as CLAUSE_SPECS
from allocator.instance.read import Source
from allocator.instance.schema import (
    FIGURE_MAX,
    PENALTY_MAX,
    STATED_KEYS,
    STATED_MAX,
    TOML_MAX,
    TOML_SECTIONS,
    limit,
)
from allocator.instance.values import Clause, GroupType, Objective, StaffType

SUM_TOL = 1e-6
DATES = (dt.date, dt.time)  # TOML / workbook date values: not text, and not JSON-serialisable
# Flow figures count events of one year (hires in 2024); other path figures are
# targets that hold from their year on.
_FLOW_FIELDS = {("F-HIRING", "recruited"), ("F-LOCAL-HIRE", "local_hires")}
# Control characters (NUL, ESC, DEL, ...): never part of a name, and refused by the .xlsx format.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONG_TEXT = {"description", "note"}  # free text: ten times the text limit

# ---------------------------------------------------------------------------
# TOML checks
# ---------------------------------------------------------------------------
def _toml_locator(text: str) -> Callable[[str], int | None]:
    """Line of a dotted key in the TOML text (best effort; None if not found)."""
    lines = text.splitlines()

    def find(dotted: str) -> int | None:
        parts = dotted.split(".")
        for cut in range(len(parts), -1, -1):
            header, rest = parts[:cut], parts[cut:]
            start = 0
            if header:
                pat = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(
                    r'(?:"?' + re.escape(h) + r'"?)' for h in header) + r"\s*\]")
                start = next((i for i, ln in enumerate(lines) if pat.match(ln)), -1)
                if start < 0:
                    continue
                start += 1
            key = rest[0] if rest else None
            if key is None:
                return start
            kp = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
            for i in range(start, len(lines)):
                if i > start and lines[i].lstrip().startswith("["):
                    break
                if kp.match(lines[i]):
                    return i + 1
            if header:
                return start
        return None

    return find


def _policy_locator(rows: dict[str, int]) -> Callable[[str], int | None]:
    """Row of a dotted key in a workbook's policy sheet (a table key: its first row; None if absent)."""

    def find(dotted: str) -> int | None:
        if dotted in rows:
            return rows[dotted]
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut]) + "."
            hits = [r for k, r in rows.items() if k.startswith(prefix)]
            if hits:
                return min(hits)
        return None

    return find


class TomlChecker:
    def __init__(self, src: Source, log: IssueLog):
        self.src = src
        self.log = log
        self.locate = _toml_locator(src.toml_text) if src.toml_text else _policy_locator(src.policy_rows)

    def add(self, key: str, value: object, rule: str, message: str, severity: str = "error") -> None:
        self.log.add(self.src.settings_label, self.locate(key), key, value, rule, message, severity)

    def number(self, key: str, value: object, *, maximum: float, share: bool = False, integer: bool = False,
               minimum: float = 0.0) -> float | None:
        """The number at ``key`` if it is one and lies in [minimum, maximum] (else logged, None)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(key, value, "wrong_type", "must be a number")
            return None
        try:
            x = float(value)
        except OverflowError:  # a TOML integer beyond any float
            x = math.inf
        if not math.isfinite(x):
            self.add(key, value, "out_of_range", "must be a finite number")
            return None
        if integer and not x.is_integer():
            self.add(key, value, "wrong_type", "must be a whole number")
            return None
        if share and not 0.0 <= x <= 1.0:
            self.add(key, value, "out_of_range", "a share must lie between 0 and 1")
            return None
        if x < minimum:
            self.add(key, value, "out_of_range", f"must be >= {minimum:g}")
            return None
        if x > maximum:
            self.add(key, value, "out_of_range",
                     f"must be <= {maximum:g} (the range of this figure is {minimum:g} to {maximum:g})")
            return None
        return x

    def section(self, name: str, required: bool = True) -> dict[str, Any]:
        settings = self.src.settings or {}
        sec = settings.get(name)
        if sec is None:
            if required:
                self.add(name, None, "missing_section", f"[{name}] is required")
            return {}
        if not isinstance(sec, dict):
            self.add(name, sec, "wrong_type", f"{name} must be a table")
            return {}
        return sec


def check_settings(src: Source, log: IssueLog) -> dict[str, Any]:
    """Check instance.toml; return the parsed pieces (possibly partial)."""
    ck = TomlChecker(src, log)
    settings = src.settings or {}
    out: dict[str, Any] = {}
    known = {"instance", "objective", "groups", "staff_types", "costs", "stated", "documents", "clauses", "horizon"}
    for k in settings:
        if k not in known:
            ck.add(k, None, "unknown_key", f"unknown section '{k}' (known: {', '.join(sorted(known))})")

    inst = ck.section("instance")
    for k in inst:
        if k not in TOML_SECTIONS["instance"]:
            ck.add(f"instance.{k}", inst[k], "unknown_key", "unknown key in [instance]")
    for k in ("name", "currency"):
        v = inst.get(k)
        if not isinstance(v, str) or not v.strip():
            ck.add(f"instance.{k}", v, "missing_value" if v is None else "wrong_type", "must be a non-empty text")
    if isinstance(inst.get("description"), DATES):
        ck.add("instance.description", inst["description"], "wrong_type", "must be text, not a date")
    out["horizon"] = check_horizon(ck, inst, ck.section("horizon", required=False))
    year = inst.get("year")
    if year is None and out["horizon"] is not None:
        year = out["horizon"].years[0]  # a horizon instance: its first year is the year of one-year views
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        ck.add("instance.year", year, "wrong_type" if not isinstance(year, int) else "out_of_range",
               "must be a whole year between 1990 and 2100")
        year = None
    out["year"] = year
    out["instance"] = inst

    obj = ck.section("objective", required=False)
    cost_weight = ck.number("objective.cost_weight", obj.get("cost_weight", 0.0),
                            maximum=TOML_MAX["objective"]["cost_weight"]) or 0.0
    equity = obj.get("equity", "none")
    if equity not in ("none", "worst_county", "urban_rural_gap"):
        ck.add("objective.equity", equity, "bad_choice", "must be none, worst_county or urban_rural_gap")
        equity = "none"
    eq_w = ck.number("objective.equity_weight", obj.get("equity_weight", 0.0),
                      maximum=TOML_MAX["objective"]["equity_weight"]) or 0.0
    for k in obj:
        if k not in TOML_SECTIONS["objective"]:
            ck.add(f"objective.{k}", obj[k], "unknown_key", "unknown key in [objective]")
    out["objective"] = Objective(cost_weight, equity, eq_w, **_objective_mode(ck, obj))

    out["groups"], out["group_ids"] = _check_groups(ck, settings)
    out.update(_check_staff_and_costs(ck))
    _check_text(ck, settings)
    out["clauses"] = _check_clauses(ck, ck.section("clauses"), year)
    _check_moves(ck, out)
    return out


def _check_moves(ck: TomlChecker, out: dict[str, Any]) -> None:
    """X-MOVES against the rest of the instance: a move costs less than a hire; seniority stays put.

    ``move_cost``: a move must cost less than a social worker's year (``[staff_types.social_worker]
    annual_cost``), else moving is no cheaper than hiring and "moves before hires" means nothing.
    ``moves_seniority``: ``protected_years`` at most F-SALARY's ``seniority_years`` (when it pays a bonus),
    so every worker who earns the seniority bonus stays at the station whose pay row counts it.
    """
    mv = next((c for c in out["clauses"] if c.id == "X-MOVES" and c.in_force), None)
    if mv is None:
        return
    sw = next((t for t in out.get("staff_types", []) if t.id == "social_worker"), None)
    cost = mv.figures.get("cost_per_move")
    if sw is not None and cost is not None and cost >= sw.annual_cost > 0:
        ck.add("clauses.X-MOVES.cost_per_move", cost, "move_cost",
               f"a move costs {cost:,.0f} yuan, not below a social worker's year ({sw.annual_cost:,.0f}): "
               "a move must cost less than a hire")
    fsal = next((c for c in out["clauses"] if c.id == "F-SALARY" and c.in_force), None)
    prot = mv.figures.get("protected_years")
    if fsal is not None and prot is not None and fsal.figures.get("seniority_bonus_monthly", 0.0) > 0:
        thr = fsal.figures.get("seniority_years", 3.0)
        if prot > thr:
            ck.add("clauses.X-MOVES.protected_years", prot, "moves_seniority",
                   f"protected_years {prot:g} is above F-SALARY's seniority_years {thr:g}: a worker earning the "
                   "seniority bonus could be moved while the bonus stays with the station in post")


def _objective_mode(ck: TomlChecker, obj: dict[str, Any]) -> dict[str, Any]:
    """``[objective]`` mode, the lexicographic tolerance and the baseline prices and limits (issue 15)."""
    mode = obj.get("mode", "weighted")
    if mode not in ("weighted", "lexicographic"):
        ck.add("objective.mode", mode, "bad_choice", "must be weighted or lexicographic")
        mode = "weighted"
    out: dict[str, Any] = {"mode": mode}
    defaults = {"deviation_tolerance": 1e-3, "deviation_tolerance_abs": 1.0}
    for k in ("deviation_tolerance", "deviation_tolerance_abs", "baseline_staff", "baseline_money",
              "baseline_service", "baseline_demo", "baseline_max_staff", "baseline_max_money",
              "baseline_max_services", "baseline_max_demo"):
        if k in obj:
            x = ck.number(f"objective.{k}", obj[k], share=k == "deviation_tolerance",
                          maximum=TOML_MAX["objective"][k])
            if x is not None:
                out[k] = x
        elif k in defaults:
            out[k] = defaults[k]
    return out


def _check_groups(ck: TomlChecker, settings: dict[str, Any]) -> tuple[list[GroupType], list[str]]:
    groups: list[GroupType] = []
    gsec = ck.section("groups")
    if not gsec and "groups" in settings:
        ck.add("groups", None, "missing_value", "at least one population group is needed")
    for gid, g in gsec.items():
        if not isinstance(g, dict):
            ck.add(f"groups.{gid}", g, "wrong_type", "each group is a table")
            continue
        vals: dict[str, Any] = {}
        ok = True
        for k, (kind, _u, _d) in TOML_SECTIONS["groups"].items():
            key = f"groups.{gid}.{k}"
            if k not in g:
                if k == "label":
                    vals[k] = gid
                    continue
                if k == "special":
                    vals[k] = False
                    continue
                ck.add(key, None, "missing_value", f"group '{gid}' needs '{k}'")
                ok = False
                continue
            if kind == "str":
                if isinstance(g[k], DATES):
                    ck.add(key, g[k], "wrong_type", "must be text, not a date")
                    ok = False
                vals[k] = str(g[k])
            elif kind == "bool":
                if not isinstance(g[k], bool):
                    ck.add(key, g[k], "wrong_type", "must be true or false")
                    ok = False
                vals[k] = bool(g[k])
            else:
                x = ck.number(key, g[k], share=kind == "share", maximum=TOML_MAX["groups"][k])
                ok = ok and x is not None
                vals[k] = x
        for k in g:
            if k not in TOML_SECTIONS["groups"]:
                ck.add(f"groups.{gid}.{k}", g[k], "unknown_key", "unknown key for a group")
        if ok:
            groups.append(GroupType(gid, vals["label"], vals["weight"], vals["need_share"], vals["special"],
                                    vals["hours_per_resident"], vals["cost_per_resident"]))
    return groups, list(gsec)


def _check_staff_and_costs(ck: TomlChecker) -> dict[str, Any]:
    out: dict[str, Any] = {}

    staff_types: list[StaffType] = []
    ssec = ck.section("staff_types")
    for sid in ("admin", "social_worker", "volunteer"):
        s = ssec.get(sid)
        if not isinstance(s, dict):
            ck.add(f"staff_types.{sid}", s, "missing_value", f"[staff_types.{sid}] is required")
            continue
        h = ck.number(f"staff_types.{sid}.hours_per_year", s.get("hours_per_year"),
                      maximum=TOML_MAX["staff_types"]["hours_per_year"])
        c = ck.number(f"staff_types.{sid}.annual_cost", s.get("annual_cost"),
                      maximum=TOML_MAX["staff_types"]["annual_cost"])
        if h is not None and c is not None:
            staff_types.append(StaffType(sid, h, c))
    for sid in ssec:
        if sid not in ("admin", "social_worker", "volunteer"):
            ck.add(f"staff_types.{sid}", None, "unknown_key", "staff types are admin, social_worker, volunteer")
    out["staff_types"] = staff_types

    costs: dict[str, float] = {}
    csec = ck.section("costs")
    for k in TOML_SECTIONS["costs"]:
        if k not in csec:
            ck.add(f"costs.{k}", None, "missing_value", f"costs.{k} is required")
            continue
        x = ck.number(f"costs.{k}", csec[k], maximum=TOML_MAX["costs"][k])
        if x is not None:
            costs[k] = x
    for k in csec:
        if k not in TOML_SECTIONS["costs"]:
            ck.add(f"costs.{k}", csec[k], "unknown_key", "unknown cost")
    out["costs"] = costs

    stated: dict[str, float] = {}
    for k, v in ck.section("stated", required=False).items():
        if k not in STATED_KEYS:
            ck.add(f"stated.{k}", v, "unknown_key",
                   f"unknown stated aggregate (known: {', '.join(STATED_KEYS)})")
            continue
        x = ck.number(f"stated.{k}", v, maximum=STATED_MAX)
        if x is not None:
            stated[k] = x
    out["stated"] = stated

    # Aggregates as a document states them when the document contradicts itself or the data:
    # reported as warnings (data inconsistencies), never rejected.
    documents: dict[str, float] = {}
    for k, v in ck.section("documents", required=False).items():
        if k not in STATED_KEYS:
            ck.add(f"documents.{k}", v, "unknown_key", f"unknown aggregate (known: {', '.join(STATED_KEYS)})")
            continue
        x = ck.number(f"documents.{k}", v, maximum=STATED_MAX)
        if x is not None:
            documents[k] = x
    out["documents"] = documents

    return out


def _check_text(ck: TomlChecker, settings: dict[str, Any]) -> None:
    """Every key and text value: no control characters, not over the text limit."""
    cap = limit("text_chars")
    stack: list[tuple[str, Any]] = [("", settings)]
    while stack:
        prefix, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, (dict, list)):
                stack.append((key, v))
            for what, text in (("key", str(k)), ("value", v)):
                if not isinstance(text, str):
                    continue
                if CONTROL.search(text):
                    ck.add(key, text.encode("unicode_escape").decode("ascii"), "control_character",
                           f"the {what} holds a control character (NUL, ESC, ...), not allowed in text")
                most = cap * 10 if what == "value" and str(k) in _LONG_TEXT else cap
                if len(text) > most:
                    ck.add(key, text, "too_long", f"the {what} has {len(text):,} characters, over the limit "
                           f"of {most:,}")


def _check_clauses(ck: TomlChecker, sec: dict[str, Any], year: int | None) -> list[Clause]:
    clauses: list[Clause] = []
    for cid, body in sec.items():
        key = f"clauses.{cid}"
        spec = CLAUSE_SPECS.get(cid)
        if spec is None:
            close = [k for k in CLAUSE_SPECS if k.split("-")[0] == cid.split("-")[0]]
            ck.add(key, cid, "unknown_clause",
                   f"'{cid}' is not a clause of POLICY.md" + (f" (same prefix: {', '.join(close[:6])}, ...)"
                                                               if close else ""))
            continue
        if not isinstance(body, dict):
            ck.add(key, body, "wrong_type", "a clause is a table")
            continue
        in_force = body.get("in_force", True)
        if not isinstance(in_force, bool):
            ck.add(f"{key}.in_force", in_force, "wrong_type", "must be true or false")
            in_force = True
        families = spec.families or ("*",)
        modes: dict[str, str] = {}
        raw_mode = body.get("mode", "hard")
        mode_items = raw_mode.items() if isinstance(raw_mode, dict) else [("*", raw_mode)]
        for fam, m in mode_items:
            if fam != "*" and fam not in families:
                ck.add(f"{key}.mode.{fam}", m, "unknown_key",
                       f"{cid} has the families {', '.join(families)}")
            elif m not in ("hard", "soft"):
                ck.add(f"{key}.mode" + ("" if fam == "*" else f".{fam}"), m, "bad_choice",
                       "mode must be 'hard' or 'soft'")
            else:
                modes[fam] = m
        penalties: dict[str, float] = {}
        raw_pen = body.get("penalty", 0.0)
        pen_items = raw_pen.items() if isinstance(raw_pen, dict) else [("*", raw_pen)]
        for fam, p in pen_items:
            pkey = f"{key}.penalty" + ("" if fam == "*" else f".{fam}")
            if fam != "*" and fam not in families:
                ck.add(pkey, p, "unknown_key", f"{cid} has the families {', '.join(families)}")
                continue
            x = ck.number(pkey, p, maximum=PENALTY_MAX)
            if x is not None:
                penalties[fam] = x
        figures: dict[str, float] = {}
        paths: dict[str, tuple[tuple[int, float], ...]] = {}
        for fspec in spec.fields:
            fkey = f"{key}.{fspec.name}"
            if fspec.name not in body:
                if fspec.required:
                    ck.add(fkey, None, "missing_value", f"{cid} needs its figure '{fspec.name}' ({fspec.unit})")
                continue
            raw = body[fspec.name]
            integer = fspec.kind == "count"
            share = fspec.kind == "share"
            if isinstance(raw, dict):
                if not fspec.path:
                    ck.add(fkey, raw, "wrong_type", f"{cid}.{fspec.name} is one figure, not a path by year")
                    continue
                pts: list[tuple[int, float]] = []
                for y, v in raw.items():
                    if not re.fullmatch(r"\d{4}", str(y)):
                        ck.add(f"{fkey}.{y}", v, "wrong_type", "path keys are years like \"2025\"")
                        continue
                    x = ck.number(f"{fkey}.{y}", v, share=share, integer=integer,
                                  maximum=FIGURE_MAX.get(fspec.kind, 1e9))
                    if x is not None:
                        pts.append((int(y), x))
                pts.sort()
                paths[fspec.name] = tuple(pts)
                value = _resolve_path(pts, year, (cid, fspec.name) in _FLOW_FIELDS)
                if value is not None:
                    figures[fspec.name] = value
            else:
                x = ck.number(fkey, raw, share=share, integer=integer, maximum=FIGURE_MAX.get(fspec.kind, 1e9))
                if x is not None:
                    figures[fspec.name] = x
        for k in body:
            if k not in ("in_force", "mode", "penalty", "note") and spec.field(k) is None:
                ck.add(f"{key}.{k}", body[k], "unknown_key",
                       f"{cid} has the figures {', '.join(f.name for f in spec.fields)}")
        if spec.sums_to_one and all(n in figures for n in spec.sums_to_one):
            total = sum(figures[n] for n in spec.sums_to_one)
            if abs(total - 1.0) > SUM_TOL:
                terms = " + ".join(f"{n} {figures[n]:g}" for n in spec.sums_to_one)
                ck.add(key, f"{total:g}", "shares_sum",
                       f"{cid} shares {terms} sum to {total:g}, not 1 (change them together so they still "
                       "sum to 1)")
        _path_shares_sum(ck, key, cid, spec.sums_to_one, figures, paths, year)
        note = body.get("note", "")
        if isinstance(note, DATES):
            ck.add(f"{key}.note", note, "wrong_type", "must be text, not a date")
        clauses.append(Clause(cid, in_force, figures, paths, modes or {"*": "hard"}, penalties,
                              str(note)))
    return clauses


def _path_shares_sum(ck: TomlChecker, key: str, cid: str, names: tuple[str, ...], figures: dict[str, float],
                     paths: dict[str, tuple[tuple[int, float], ...]], year: int | None) -> None:
    """Shares that must sum to 1 and move by year (F-SOURCES) sum to 1 in every year a path states.

    The check above sees the plan year only (and no year at all in a horizon instance); a path that sums to
    1 in 2026 but not in 2025 would reach the 2025 slice unchecked.
    """
    if not names or not any(n in paths for n in names):
        return
    for y in sorted({y for n in names for y, _ in paths.get(n, ())}):
        if y == year:
            continue  # checked on the plan year's figures
        vals = [_resolve_path(list(paths[n]), y, False) if n in paths else figures.get(n) for n in names]
        if any(v is None for v in vals):
            continue
        total = sum(v for v in vals if v is not None)
        if abs(total - 1.0) > SUM_TOL:
            terms = " + ".join(f"{n} {v:g}" for n, v in zip(names, vals, strict=True))
            ck.add(key, f"{total:g}", "shares_sum",
                   f"{cid} shares in {y}: {terms} sum to {total:g}, not 1 (each year's shares must sum to 1)")
            return


def _resolve_path(points: list[tuple[int, float]], year: int | None, flow: bool) -> float | None:
    if not points or year is None:
        return None
    if flow:
        return next((v for y, v in points if y == year), None)
    earlier = [v for y, v in points if y <= year]
    return earlier[-1] if earlier else None


