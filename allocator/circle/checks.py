"""Loading and checking a circle folder: every problem named by file, row, column, value and rule."""

from __future__ import annotations

import hashlib
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.circle.data import (
    CIRCLE_TOML,
    DEFAULT_MINUTES,
    DEFAULT_POINTS,
    DEFAULT_SHARES,
    EDGE_COLUMNS,
    PLACE_BASE,
    TRAVEL_COLUMNS,
    CircleData,
)
from allocator.instance import InputIssue, InstanceError, IssueLog


def find_circle_dir(path: str | os.PathLike[str]) -> Path | None:
    """The circle folder for PATH: PATH itself (has circle.toml), PATH/circle, or the sibling PATH-circle."""
    p = Path(path)
    if p.is_dir() and (p / CIRCLE_TOML).is_file():
        return p
    candidates = []
    if p.is_dir():
        candidates.append(p / "circle")
    stem = p.name if p.is_dir() else p.stem
    candidates.append(p.parent / f"{stem}-circle")
    for c in candidates:
        if (c / CIRCLE_TOML).is_file():
            return c
    return None


def _toml_line(text: str, section: str, key: str | None = None) -> int | None:
    """Line of ``key`` under ``[section]`` (or of the section header) in TOML text."""
    cur = ""
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"^\[\s*([^\]]+?)\s*\]", s)
        if m:
            cur = m.group(1).replace('"', "")
            if key is None and cur == section:
                return n
            continue
        if key is not None and cur == section and re.match(rf'^"?{re.escape(key)}"?\s*=', s):
            return n
    return None


def _read_csv(path: Path, log: IssueLog, required: bool = True) -> pd.DataFrame | None:
    if not path.is_file():
        if required:
            log.add(path.name, None, None, None, "missing_file", f"{path.name} not found in {path.parent}")
        return None
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        log.add(path.name, None, None, None, "encoding", f"not UTF-8 text ({exc.reason})")
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        m = re.search(r"line (\d+)", str(exc))
        log.add(path.name, int(m.group(1)) if m else None, None, None, "csv_syntax",
                f"cannot be read as CSV: {str(exc).strip()}")
        return None
    df.columns = [str(c).strip() for c in df.columns]
    return df.map(lambda v: v.strip() if isinstance(v, str) else v)


class _Table:
    """Column checks of one CSV table; every problem goes to the log with file, row and column."""

    def __init__(self, file: str, df: pd.DataFrame, log: IssueLog):
        self.file, self.df, self.log = file, df, log
        self.ok = True

    def has(self, columns: tuple[str, ...] | list[str]) -> bool:
        missing = [c for c in columns if c not in self.df.columns]
        for c in missing:
            self.log.add(self.file, 1, c, None, "missing_column", f"required column {c!r} is missing")
        self.ok &= not missing
        return not missing

    def _bad(self, mask: np.ndarray, col: str, rule: str, message: str) -> None:
        for k in np.flatnonzero(mask):
            self.log.add(self.file, int(k) + 2, col, self.df[col].iloc[k], rule, message)

    def text(self, col: str) -> np.ndarray:
        v = self.df[col].astype(str).to_numpy(dtype=object)
        self._bad(v == "", col, "missing_value", "a value is required")
        return v

    def choice(self, col: str, allowed: tuple[str, ...]) -> np.ndarray:
        v = self.df[col].astype(str).str.lower().to_numpy(dtype=object)
        self._bad(~np.isin(v, allowed), col, "bad_choice", f"must be one of {', '.join(allowed)}")
        return v

    def number(self, col: str, integer: bool = False, minimum: float = 0.0, blank: float | None = None,
               maximum: float = math.inf) -> np.ndarray:
        raw = self.df[col].astype(str)
        blank_mask = (raw == "").to_numpy()
        num = pd.to_numeric(raw.where(~blank_mask, None), errors="coerce").to_numpy(dtype=np.float64)
        if blank is None:
            self._bad(blank_mask, col, "missing_value", "a value is required")
        else:
            num[blank_mask] = blank
        wrong = ~blank_mask & (np.isnan(num) | ~np.isfinite(num))
        kind = "an integer" if integer else "a finite number"
        self._bad(wrong, col, "wrong_type", f"must be {kind}")
        okv = ~wrong & ~blank_mask
        if integer:
            frac = okv & (np.abs(num - np.round(num)) > 1e-9)
            self._bad(frac, col, "wrong_type", "must be an integer")
            okv &= ~frac
        rng = okv & ((num < minimum) | (num > maximum))
        self._bad(rng, col, "out_of_range", f"must be >= {minimum:g}" +
                  ("" if math.isinf(maximum) else f" and <= {maximum:g}"))
        return num

    def unique(self, col: str, values: np.ndarray) -> None:
        dup = pd.Series(values).duplicated().to_numpy() & (values != "")
        self._bad(dup, col, "duplicate_id", "must be unique; this value appeared on an earlier row")

    def refs(self, col: str, values: np.ndarray, known: set[str], what: str) -> None:
        bad = np.array([v != "" and v not in known for v in values], dtype=bool)
        self._bad(bad, col, "unknown_reference", f"must be {what}")


def check_circle(path: str | os.PathLike[str]) -> tuple[CircleData | None, list[InputIssue]]:
    """Load and check a circle folder (or an instance whose circle is PATH/circle or PATH-circle).

    Returns
    -------
    (CircleData or None, list of InputIssue)
        None when any issue is an error; every issue names file, row (header = row 1; TOML: the line),
        column (or dotted key), value and rule.
    """
    log = IssueLog()
    d = find_circle_dir(path)
    if d is None:
        log.add(str(path), None, None, None, "missing_file",
                f"no {CIRCLE_TOML} in {path}, {Path(path) / 'circle'} or {Path(path).parent}/"
                f"{Path(path).name if Path(path).is_dir() else Path(path).stem}-circle")
        return None, log.items
    text = ""
    settings: dict[str, Any] = {}
    try:
        text = (d / CIRCLE_TOML).read_text(encoding="utf-8")
        settings = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        log.add(CIRCLE_TOML, None, None, None, "encoding", f"not UTF-8 text ({exc.reason})")
    except ValueError as exc:
        m = re.search(r"line (\d+)", str(exc))
        log.add(CIRCLE_TOML, int(m.group(1)) if m else None, None, None, "toml_syntax", f"not valid TOML: {exc}")
    cfg = _check_settings(d, text, settings, log)

    places_df = _read_csv(d / "places.csv", log)
    sites_df = _read_csv(d / "sites.csv", log)
    edges_df = _read_csv(d / "edges.csv", log, required=False)
    travel_df = _read_csv(d / "travel.csv", log, required=False)
    if not (d / "edges.csv").is_file() and not (d / "travel.csv").is_file():
        log.add("edges.csv", None, None, None, "missing_file",
                "a circle needs a road network (edges.csv) or a travel-time table (travel.csv)")
    elif (d / "edges.csv").is_file() and (d / "travel.csv").is_file():
        log.add("travel.csv", None, None, None, "ambiguous_travel",
                "give edges.csv or travel.csv, not both: which travel times count would be a guess")

    groups: list[str] = cfg["groups"]
    places = _check_places(places_df, groups, cfg, log) if places_df is not None else None
    place_ids = set(places["place_id"]) if places is not None else None
    sites = _check_sites(sites_df, place_ids, log) if sites_df is not None else None
    edges = travel = None
    if edges_df is not None:
        edges = _check_edges(edges_df, log)
        if edges is not None and places is not None:
            nodes = set(edges["from_id"]) | set(edges["to_id"])
            off = [p for p in places["place_id"] if p not in nodes]
            if off:
                shown = ", ".join(off[:5]) + (" ..." if len(off) > 5 else "")
                log.add("places.csv", None, "place_id", shown, "not_on_network",
                        f"{len(off)} place(s) appear in no edge: only a point at the place itself reaches them",
                        severity="warning")
    if travel_df is not None:
        travel = _check_travel(travel_df, place_ids, set(sites["site_id"]) if sites is not None else None, log)
    if log.errors:
        return None, log.items
    assert places is not None and sites is not None
    h = hashlib.sha256()
    for f in (CIRCLE_TOML, "places.csv", "sites.csv", "edges.csv", "travel.csv"):
        if (d / f).is_file():
            h.update(f.encode() + b"\0" + (d / f).read_bytes())
    data = CircleData(
        name=cfg["name"] or d.name, places=places, sites=sites, groups=tuple(groups),
        weights=np.array([cfg["weights"][g] for g in groups], dtype=np.float64), minutes=cfg["minutes"],
        points=cfg["points"], budget=cfg["budget"], shares=cfg["shares"], radius=cfg["radius"], edges=edges,
        travel=travel, directed=cfg["directed"], source=str(d), input_hash=h.hexdigest()[:16],
        notes=tuple(cfg["notes"]), group_labels=cfg["labels"],
    )
    return data, log.items


def load_circle(path: str | os.PathLike[str]) -> CircleData:
    """Load a circle folder; raise :class:`allocator.instance.InstanceError` listing every error."""
    data, issues = check_circle(path)
    if data is None:
        raise InstanceError(issues)
    return data


_KNOWN = {
    "circle": {"name", "instance", "minutes", "points", "budget", "directed", "description"},
    "coverage": {"urban", "rural"},
    "pmedian": {"radius"},
}


class _Toml:
    """Issues of circle.toml, each at the line of its key."""

    def __init__(self, text: str, s: dict[str, Any], log: IssueLog):
        self.text, self.s, self.log = text, s, log

    def add(self, section: str, key: str | None, value: object, rule: str, message: str,
            severity: str = "error") -> None:
        dotted = section if key is None else f"{section}.{key}"
        self.log.add(CIRCLE_TOML, _toml_line(self.text, section, key), dotted, value, rule, message, severity)

    def num(self, section: str, key: str, lo: float, hi: float = math.inf, integer: bool = False,
            strict_lo: bool = False, table: dict[str, Any] | None = None) -> float | None:
        v = (self.s.get(section, {}) if table is None else table).get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            self.add(section, key, v, "wrong_type", "must be an integer" if integer else "must be a number")
            return None
        if not math.isfinite(v) or v < lo or (strict_lo and v <= lo) or v > hi:
            self.add(section, key, v, "out_of_range",
                     f"must be {'>' if strict_lo else '>='} {lo:g}" + ("" if math.isinf(hi) else f" and <= {hi:g}"))
            return None
        return v


def _check_settings(d: Path, text: str, s: dict[str, Any], log: IssueLog) -> dict[str, Any]:
    """Settings of circle.toml with defaults; group weights from [groups] or the named instance."""
    out: dict[str, Any] = {"name": "", "minutes": DEFAULT_MINUTES, "points": DEFAULT_POINTS, "budget": None,
                           "directed": False, "shares": dict(DEFAULT_SHARES), "radius": None, "groups": [],
                           "weights": {}, "labels": {}, "notes": [], "instance": None}
    toml = _Toml(text, s, log)
    add, num = toml.add, toml.num

    for sec, val in s.items():
        if sec not in (*_KNOWN, "groups"):
            add(sec, None, None, "unknown_key", "unknown section (ignored)", "warning")
        elif not isinstance(val, dict):
            add(sec, None, val, "wrong_type", "must be a table")
        elif sec in _KNOWN:
            for k in val:
                if k not in _KNOWN[sec]:
                    add(sec, k, val[k], "unknown_key", "unknown key (ignored)", "warning")
    for sec in list(s):
        if sec in (*_KNOWN, "groups") and not isinstance(s[sec], dict):
            s = {k: v for k, v in s.items() if k != sec}
    toml.s = s  # the number checks read the settings without the sections that are not tables
    c = s.get("circle", {})
    if isinstance(c.get("name", ""), str):
        out["name"] = c.get("name", "")
    else:
        add("circle", "name", c["name"], "wrong_type", "must be a string")
    if "directed" in c:
        if isinstance(c["directed"], bool):
            out["directed"] = c["directed"]
        else:
            add("circle", "directed", c["directed"], "wrong_type", "must be true or false")
    v = num("circle", "minutes", 0.0, strict_lo=True)
    if v is not None:
        out["minutes"] = float(v)
    elif "minutes" not in c:
        out["notes"].append(f"T = {DEFAULT_MINUTES:g} minutes (F-CIRCLE; circle.toml states none)")
    v = num("circle", "points", 0, integer=True)
    if v is not None:
        out["points"] = int(v)
    v = num("circle", "budget", 0.0)
    if v is not None:
        out["budget"] = float(v)
    for t in ("urban", "rural"):
        v = num("coverage", t, 0.0, 1.0, strict_lo=True)
        if v is not None:
            out["shares"][t] = float(v)
    v = num("pmedian", "radius", 0.0, strict_lo=True)
    if v is not None:
        if v < out["minutes"]:
            add("pmedian", "radius", v, "out_of_range", f"must be >= circle.minutes ({out['minutes']:g})")
        else:
            out["radius"] = float(v)

    _settings_groups(d, c, s, out, toml)
    if "points" not in c and "budget" not in c:
        out["notes"].append(f"p = {DEFAULT_POINTS} new points (F-CIRCLE; circle.toml states none)")
    return out


def _settings_groups(d: Path, c: dict[str, Any], s: dict[str, Any], out: dict[str, Any], toml: _Toml) -> None:
    """The [circle] instance and the [groups.<id>] weights and labels (from the instance when not stated)."""
    add, num = toml.add, toml.num
    inst = None
    if "instance" in c:
        if not isinstance(c["instance"], str):
            add("circle", "instance", c["instance"], "wrong_type", "must be a path (string)")
        else:
            from allocator.instance import check

            ipath = (d / c["instance"]).resolve()
            inst, issues = check(ipath)
            if inst is None:
                errs = [i for i in issues if i.severity == "error"]
                add("circle", "instance", c["instance"], "bad_instance",
                    f"the instance does not load ({len(errs)} error(s); run `allocator validate {ipath}`)")
            out["instance"] = inst
    gsec = s.get("groups", {})
    if gsec:
        groups = list(gsec)
    elif inst is not None:
        groups = list(inst.group_ids)
    else:
        groups = []
        add("groups", None, None, "missing_section",
            "no [groups.<id>] weights and no [circle] instance to take them from")
    by_id = {g.id: g for g in inst.groups} if inst is not None else {}
    from_instance = []
    for g in groups:
        spec = gsec.get(g, {})
        if not isinstance(spec, dict):
            add("groups", g, spec, "wrong_type", "must be a table with weight (and label)")
            continue
        for k in spec:
            if k not in ("weight", "label"):
                add(f"groups.{g}", k, spec[k], "unknown_key", "unknown key (ignored)", "warning")
        w = num(f"groups.{g}", "weight", 0.0, table=spec)
        if w is None and "weight" not in spec:
            if g in by_id:
                w = by_id[g].weight * by_id[g].need_share
                from_instance.append(g)
            else:
                add(f"groups.{g}", None, None, "missing_value",
                    "no weight: state weight, or name an instance that defines this group")
        if w is not None:
            out["weights"][g] = float(w)
        label = spec.get("label") or (by_id[g].label if g in by_id else g)
        out["labels"][g] = str(label)
    if from_instance:
        out["notes"].append("group weights = the instance's weight × need_share for " + ", ".join(from_instance))
    out["groups"] = [g for g in groups if g in out["weights"]]


def _check_places(df: pd.DataFrame, groups: list[str], cfg: dict[str, Any], log: IssueLog) -> pd.DataFrame | None:
    t = _Table("places.csv", df, log)
    if not t.has([*PLACE_BASE, *groups]):
        return None
    known = {*PLACE_BASE, "population", *groups}
    for c in df.columns:
        if c not in known:
            log.add("places.csv", 1, c, None, "unknown_column", "not a place column or a group (ignored)",
                    severity="warning")
    out = pd.DataFrame({c: t.text(c) for c in ("place_id", "name", "township", "county")})
    t.unique("place_id", out["place_id"].to_numpy())
    out["area_type"] = t.choice("area_type", ("urban", "rural"))
    g = {c: t.number(c, integer=True) for c in groups}
    if "population" in df.columns:
        out["population"] = t.number("population", integer=True)
    else:
        out["population"] = np.nansum(np.column_stack([g[c] for c in groups]), axis=1) if groups else 0.0
        cfg["notes"].append("places.csv has no population column: residents counted as the sum of the groups")
    for c in groups:
        out[c] = g[c]
    inst = cfg.get("instance")
    if inst is not None:
        st = inst.stations
        county = dict(zip(st["station_id"], st["county"], strict=True))
        t.refs("township", out["township"].to_numpy(), set(county), "a station_id of the instance")
        wrong = np.array([tw in county and county[tw] != co for tw, co in zip(out["township"], out["county"],
                                                                               strict=True)])
        for k in np.flatnonzero(wrong):
            log.add("places.csv", int(k) + 2, "county", out["county"].iloc[k], "county_mismatch",
                    f"township {out['township'].iloc[k]} is in {county[out['township'].iloc[k]]} in the instance")
    if not t.ok or log.errors:
        return None
    pop = out["population"].to_numpy()
    for c in groups:
        over = out[c].to_numpy() > pop
        for k in np.flatnonzero(over):
            log.add("places.csv", int(k) + 2, c, int(out[c].iloc[k]), "group_exceeds_population",
                    "more residents in the group than in the place", severity="warning")
    for c in ("population", *groups):
        out[c] = out[c].astype(np.int64)
    return out


def _check_sites(df: pd.DataFrame, place_ids: set[str] | None, log: IssueLog) -> pd.DataFrame | None:
    t = _Table("sites.csv", df, log)
    if not t.has(("site_id", "name", "place_id", "kind")):
        return None
    out = pd.DataFrame({c: t.text(c) for c in ("site_id", "name", "place_id")})
    t.unique("site_id", out["site_id"].to_numpy())
    if place_ids is not None:
        t.refs("place_id", out["place_id"].to_numpy(), place_ids, "a place_id of places.csv")
    out["kind"] = t.choice("kind", ("existing", "candidate"))
    out["opening_cost"] = t.number("opening_cost", blank=0.0) if "opening_cost" in df else 0.0
    out["capacity"] = t.number("capacity", blank=math.inf) if "capacity" in df else math.inf
    return out if t.ok else None


def _check_edges(df: pd.DataFrame, log: IssueLog) -> pd.DataFrame | None:
    t = _Table("edges.csv", df, log)
    if not t.has(EDGE_COLUMNS):
        return None
    out = pd.DataFrame({"from_id": t.text("from_id"), "to_id": t.text("to_id"), "minutes": t.number("minutes")})
    loops = (out["from_id"] == out["to_id"]).to_numpy()
    for k in np.flatnonzero(loops):
        log.add("edges.csv", int(k) + 2, "to_id", out["to_id"].iloc[k], "self_loop",
                "an edge from a node to itself (ignored)", severity="warning")
    return out[~loops].reset_index(drop=True) if t.ok else None


def _check_travel(df: pd.DataFrame, place_ids: set[str] | None, site_ids: set[str] | None,
                  log: IssueLog) -> pd.DataFrame | None:
    t = _Table("travel.csv", df, log)
    if not t.has(TRAVEL_COLUMNS):
        return None
    out = pd.DataFrame({"place_id": t.text("place_id"), "site_id": t.text("site_id"),
                        "minutes": t.number("minutes")})
    if place_ids is not None:
        t.refs("place_id", out["place_id"].to_numpy(), place_ids, "a place_id of places.csv")
    if site_ids is not None:
        t.refs("site_id", out["site_id"].to_numpy(), site_ids, "a site_id of sites.csv")
    dup = out.duplicated(["place_id", "site_id"]).to_numpy()
    for k in np.flatnonzero(dup):
        log.add("travel.csv", int(k) + 2, "site_id", out["site_id"].iloc[k], "duplicate_id",
                f"the pair ({out['place_id'].iloc[k]}, {out['site_id'].iloc[k]}) appeared on an earlier row")
    return out if t.ok else None
