"""The 15-minute service circle (F-CIRCLE): where to open extension service points.

Document F (§7.3) plans "30 extension service points in pilot townships" so that residents reach a point within
15 minutes.  This module chooses those points.  Inputs live in a *circle folder*:

``circle.toml``
    ``[circle]`` name, ``instance`` (an instance folder, relative to the circle folder, whose stations are the
    townships and whose group weights × need_share weigh the residents), ``minutes`` (T, default 15),
    ``points`` (p, default 30), ``budget`` (yuan, optional), ``directed`` (default false: roads run both ways);
    ``[coverage]`` ``urban`` / ``rural`` shares for LSCP (defaults 0.95 from A-COVERAGE and 0.80 from
    F-COVERAGE); ``[pmedian]`` ``radius`` (minutes, default 3 T); ``[groups.<id>]`` ``weight`` (stated weights
    win over the instance's).
``places.csv``
    Demand places (villages, residential areas): ``place_id``, ``name``, ``township`` (a station id of the
    instance), ``county``, ``area_type`` (urban|rural), optional ``population`` (all residents; default the sum
    of the group columns) and one column of residents per group (``elderly``, ``children``, ...).
``sites.csv``
    Candidate and existing points: ``site_id``, ``name``, ``place_id`` (where it sits), ``kind``
    (existing|candidate), ``opening_cost`` (yuan; blank = 0), ``capacity`` (residents; blank = no limit).
``edges.csv`` *or* ``travel.csv``
    A road/path network (``from_id``, ``to_id``, ``minutes``; node ids are place ids or junction ids), or a
    ready travel-time table (``place_id``, ``site_id``, ``minutes``; an unlisted pair is out of reach, a site
    reaches its own place in 0 minutes).

Travel times come from one cut-off Dijkstra per site node (networkx), never an all-pairs matrix: only the
pairs within the radius are kept, as a sparse structure (:class:`Reach`).  Each model is exact, built with
scipy.sparse as a :class:`solvers.MilpProblem` and solved by any registered backend; the status is the
backend's normalised one (OPTIMAL only when proven within the gap).

Notation
--------
``I`` places, ``J = E ∪ C`` sites (existing ``E``, always open; candidates ``C``), ``t_ij`` minutes,
``N_i = {j : t_ij <= T}``, ``r_ig`` residents of group ``g``, ``w_g`` group weight, ``a_i = Σ_g w_g r_ig`` the
need-weighted residents, ``P_i`` population, ``c_j`` opening cost, ``u_j`` capacity, ``p`` points, ``Y`` budget.
The model formulations are in the docstrings of :func:`build_mclp`, :func:`build_cmclp`, :func:`build_lscp`
and :func:`build_pmedian`.

Exact reductions before the solve (MCLP, LSCP): places already within T of an existing site are a constant;
places out of reach of every candidate are dropped; places with the same set of candidates (and, for LSCP, the
same area type) are merged, their demand summed; a candidate whose places are a subset of another candidate's
(no cheaper, when a budget applies) is dropped -- any plan using it can use the other instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.atomic import write_dir_atomically
from allocator.instance import InputIssue, InstanceError, IssueLog
from solvers import MilpProblem, SolveOptions, SolverResult, Status, get_backend

CIRCLE_TOML = "circle.toml"
MODELS = ("mclp", "cmclp", "lscp", "pmedian")
DEFAULT_MINUTES = 15.0
DEFAULT_POINTS = 30
DEFAULT_SHARES = {"urban": 0.95, "rural": 0.80}  # A-COVERAGE urban; F-COVERAGE rural
DEFAULT_GAP = 1e-4
MONEY = 1000.0  # budget rows in thousands of yuan (SOLVER-NOTES: HiGHS dislikes huge right-hand sides)
EPS = 1e-9
PLACE_BASE = ("place_id", "name", "township", "county", "area_type")
SITE_COLUMNS = ("site_id", "name", "place_id", "kind", "opening_cost", "capacity")
EDGE_COLUMNS = ("from_id", "to_id", "minutes")
TRAVEL_COLUMNS = ("place_id", "site_id", "minutes")
MODEL_TITLES = {
    "mclp": "maximal covering (MCLP)",
    "cmclp": "capacitated maximal covering (CMCLP)",
    "lscp": "location set covering (LSCP)",
    "pmedian": "p-median",
}


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CircleData:
    """A validated circle: places, sites, travel input and settings.

    Attributes
    ----------
    name : str
        Readable name.
    places : pandas.DataFrame
        ``place_id, name, township, county, area_type, population`` and one int column per group.
    sites : pandas.DataFrame
        ``site_id, name, place_id, kind, opening_cost, capacity`` (capacity ``inf`` = no limit).
    groups : tuple of str
        Group ids (columns of ``places``).
    weights : numpy.ndarray
        Weight of one resident of each group (objective units per resident).
    minutes : float
        Travel-time limit T.
    points : int or None
        At most this many new points (None: no count limit).
    budget : float or None
        Opening costs of the new points at most this (yuan; None: no budget row).
    shares : dict
        LSCP coverage targets by area type (share of residents within T).
    radius : float or None
        p-median radius (minutes); None = 3 T.
    edges, travel : pandas.DataFrame or None
        Exactly one is given.
    directed : bool
        Edges are one-way ``from_id -> to_id`` (residents travel place -> site).
    source : str
        Folder (or ``"memory"``).
    input_hash : str
        Hash of the input files' bytes (or of the frames).
    notes : tuple of str
        Facts the loader wants reported (defaults taken, weights' origin).
    """

    name: str
    places: pd.DataFrame
    sites: pd.DataFrame
    groups: tuple[str, ...]
    weights: np.ndarray
    minutes: float = DEFAULT_MINUTES
    points: int | None = DEFAULT_POINTS
    budget: float | None = None
    shares: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SHARES))
    radius: float | None = None
    edges: pd.DataFrame | None = None
    travel: pd.DataFrame | None = None
    directed: bool = False
    source: str = "memory"
    input_hash: str = ""
    notes: tuple[str, ...] = ()
    group_labels: dict[str, str] = field(default_factory=dict)

    @property
    def need(self) -> np.ndarray:
        """Need-weighted residents per place, ``a_i = Σ_g w_g r_ig``."""
        return self.places[list(self.groups)].to_numpy(dtype=np.float64) @ np.asarray(self.weights, float)

    @property
    def population(self) -> np.ndarray:
        return self.places["population"].to_numpy(dtype=np.float64)

    @property
    def existing(self) -> np.ndarray:
        return (self.sites["kind"] == "existing").to_numpy()

    def radius_for(self, minutes: float) -> float:
        """The p-median / reporting radius for a time limit (stated radius, else 3 T; never below T)."""
        r = self.radius if self.radius is not None else 3.0 * minutes
        return max(float(r), float(minutes))

    @classmethod
    def from_frames(cls, places: pd.DataFrame, sites: pd.DataFrame, weights: dict[str, float],
                    edges: pd.DataFrame | None = None, travel: pd.DataFrame | None = None,
                    **settings: Any) -> CircleData:
        """A circle from frames already in memory (tests, benchmarks); light checks only.

        ``places`` needs ``place_id`` and one column per key of ``weights``; the other place columns default
        (``township``/``county`` ``"-"``, ``area_type`` ``urban``, ``population`` the sum of the groups);
        ``sites`` needs ``site_id`` and ``place_id`` (``kind`` defaults to candidate, cost 0, no capacity limit).
        """
        places = places.copy()
        groups = tuple(weights)
        for c, d in (("name", None), ("township", "-"), ("county", "-"), ("area_type", "urban")):
            if c not in places:
                places[c] = places["place_id"] if d is None else d
        if "population" not in places:
            places["population"] = places[list(groups)].sum(axis=1)
        sites = sites.copy()
        site_defaults: tuple[tuple[str, object], ...] = (("name", None), ("kind", "candidate"),
                                                         ("opening_cost", 0.0), ("capacity", np.inf))
        for c, dv in site_defaults:
            if c not in sites:
                sites[c] = sites["site_id"] if dv is None else dv
        places = places[[*PLACE_BASE, "population", *groups]].reset_index(drop=True)
        sites = sites[list(SITE_COLUMNS)].reset_index(drop=True)
        sites["opening_cost"] = sites["opening_cost"].astype(float)
        sites["capacity"] = sites["capacity"].astype(float)
        if edges is not None and travel is not None:
            raise ValueError("give at most one of edges and travel (neither: pass a Reach to solve_circle)")
        if not set(sites["place_id"]) <= set(places["place_id"]):
            raise ValueError("every site's place_id must be a place")
        h = hashlib.sha256()
        for df in (places, sites, edges, travel):
            if df is not None:
                h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        return cls(name=settings.pop("name", "circle"), places=places, sites=sites, groups=groups,
                   weights=np.array([weights[g] for g in groups], dtype=np.float64), edges=edges, travel=travel,
                   input_hash=h.hexdigest()[:16], **settings)


@dataclass(frozen=True, eq=False)
class Reach:
    """Place -> site travel times within a radius, as sparse pairs (never a dense matrix).

    Attributes
    ----------
    place, site : numpy.ndarray
        Row indices into ``places`` and ``sites`` (int64), one per pair.
    minutes : numpy.ndarray
        Travel time of each pair (<= ``radius``).
    n_places, n_sites : int
        Shape of the implied places × sites matrix.
    radius : float
        Pairs beyond it were not kept.
    seconds : float
        Time spent computing the pairs.
    """

    place: np.ndarray
    site: np.ndarray
    minutes: np.ndarray
    n_places: int
    n_sites: int
    radius: float
    seconds: float = 0.0

    @classmethod
    def from_pairs(cls, place: np.ndarray, site: np.ndarray, minutes: np.ndarray, n_places: int, n_sites: int,
                   radius: float = math.inf) -> Reach:
        """Pairs from arrays; those beyond ``radius`` are dropped, duplicates keep the shortest time."""
        place = np.asarray(place, dtype=np.int64)
        site = np.asarray(site, dtype=np.int64)
        minutes = np.asarray(minutes, dtype=np.float64)
        keep = minutes <= radius + EPS
        place, site, minutes = place[keep], site[keep], minutes[keep]
        order = np.lexsort((minutes, site, place))
        place, site, minutes = place[order], site[order], minutes[order]
        first = np.ones(len(place), dtype=bool)
        first[1:] = (place[1:] != place[:-1]) | (site[1:] != site[:-1])
        return cls(place[first], site[first], minutes[first], int(n_places), int(n_sites), float(radius))

    @property
    def nnz(self) -> int:
        return len(self.place)

    def matrix(self, within: float, sites: np.ndarray | None = None) -> sp.csr_array:
        """Boolean coverage matrix places × sites (1 where ``t_ij <= within``), optionally of some columns."""
        m = self.minutes <= within + EPS
        A = sp.csr_array((np.ones(int(m.sum()), dtype=np.int32), (self.place[m], self.site[m])),
                         shape=(self.n_places, self.n_sites))
        A.sum_duplicates()
        return A if sites is None else A[:, sites]


# ---------------------------------------------------------------------------
# loading and validation
# ---------------------------------------------------------------------------
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


def _check_settings(d: Path, text: str, s: dict[str, Any], log: IssueLog) -> dict[str, Any]:
    """Settings of circle.toml with defaults; group weights from [groups] or the named instance."""
    out: dict[str, Any] = {"name": "", "minutes": DEFAULT_MINUTES, "points": DEFAULT_POINTS, "budget": None,
                           "directed": False, "shares": dict(DEFAULT_SHARES), "radius": None, "groups": [],
                           "weights": {}, "labels": {}, "notes": [], "instance": None}

    def add(section: str, key: str | None, value: object, rule: str, message: str, severity: str = "error") -> None:
        dotted = section if key is None else f"{section}.{key}"
        log.add(CIRCLE_TOML, _toml_line(text, section, key), dotted, value, rule, message, severity)

    def num(section: str, key: str, lo: float, hi: float = math.inf, integer: bool = False,
            strict_lo: bool = False, table: dict[str, Any] | None = None) -> float | None:
        v = (s.get(section, {}) if table is None else table).get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            add(section, key, v, "wrong_type", "must be an integer" if integer else "must be a number")
            return None
        if not math.isfinite(v) or v < lo or (strict_lo and v <= lo) or v > hi:
            add(section, key, v, "out_of_range",
                f"must be {'>' if strict_lo else '>='} {lo:g}" + ("" if math.isinf(hi) else f" and <= {hi:g}"))
            return None
        return v

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
    if "points" not in c and "budget" not in c:
        out["notes"].append(f"p = {DEFAULT_POINTS} new points (F-CIRCLE; circle.toml states none)")
    return out


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


# ---------------------------------------------------------------------------
# travel times
# ---------------------------------------------------------------------------
def travel_reach(data: CircleData, radius: float) -> Reach:
    """Place -> site travel times within ``radius`` minutes, as sparse pairs.

    With a network: one ``networkx.single_source_dijkstra_path_length(G, node, cutoff=radius)`` per distinct
    site node (on the reversed graph when edges are one-way, so that times run place -> site); parallel edges
    keep the fastest.  With a travel table: its pairs within the radius, plus each site's own place at 0
    minutes unless listed.
    """
    start = time.perf_counter()
    pid = data.places["place_id"].to_numpy(dtype=object)
    index = {p: i for i, p in enumerate(pid)}
    site_place = np.array([index[p] for p in data.sites["place_id"]], dtype=np.int64)
    n_i, n_j = len(pid), len(data.sites)
    if data.travel is None and data.edges is None:
        raise ValueError("this circle has no edges or travel table: pass a Reach to solve_circle")
    if data.travel is not None:
        sidx = {s: j for j, s in enumerate(data.sites["site_id"])}
        tr = data.travel
        pi = np.array([index[p] for p in tr["place_id"]], dtype=np.int64)
        sj = np.array([sidx[s] for s in tr["site_id"]], dtype=np.int64)
        mins = tr["minutes"].to_numpy(dtype=np.float64)
        listed = set(zip(pi.tolist(), sj.tolist(), strict=True))
        own = np.array([(site_place[j], j) for j in range(n_j) if (int(site_place[j]), j) not in listed],
                       dtype=np.int64).reshape(-1, 2)
        r = Reach.from_pairs(np.concatenate([pi, own[:, 0]]), np.concatenate([sj, own[:, 1]]),
                             np.concatenate([mins, np.zeros(len(own))]), n_i, n_j, radius)
    else:
        import networkx as nx

        assert data.edges is not None
        e = data.edges.sort_values("minutes", ascending=False, kind="stable")  # the fastest parallel edge wins
        G = nx.DiGraph() if data.directed else nx.Graph()
        G.add_nodes_from(pid)
        G.add_weighted_edges_from(zip(e["from_id"], e["to_id"], e["minutes"].astype(float), strict=True),
                                  weight="minutes")
        H = G.reverse(copy=False) if data.directed else G
        nodes, inverse = np.unique(site_place, return_inverse=True)
        ps, ns, ms = [], [], []
        for k, node in enumerate(nodes):
            dist = nx.single_source_dijkstra_path_length(H, pid[node], cutoff=radius, weight="minutes")
            hit = [(index[n], dd) for n, dd in dist.items() if n in index]
            ps.append(np.fromiter((h[0] for h in hit), dtype=np.int64, count=len(hit)))
            ms.append(np.fromiter((h[1] for h in hit), dtype=np.float64, count=len(hit)))
            ns.append(np.full(len(hit), k, dtype=np.int64))
        pp = np.concatenate(ps) if ps else np.zeros(0, np.int64)
        nn = np.concatenate(ns) if ns else np.zeros(0, np.int64)
        mm = np.concatenate(ms) if ms else np.zeros(0)
        # expand node pairs to the sites sitting at each node
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(nodes))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rep = counts[nn]
        pair_of = np.repeat(np.arange(len(nn)), rep)
        offs = np.arange(len(pair_of)) - np.repeat(np.cumsum(rep) - rep, rep)
        sites_of = order[starts[nn[pair_of]] + offs]
        r = Reach.from_pairs(pp[pair_of], sites_of, mm[pair_of], n_i, n_j, radius)
    return Reach(r.place, r.site, r.minutes, n_i, n_j, float(radius), time.perf_counter() - start)


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------
@dataclass(eq=False)
class Built:
    """A model ready for a backend, with what is needed to read its solution back.

    Attributes
    ----------
    problem : MilpProblem
        The MILP.
    y_sites : numpy.ndarray
        Site index of each ``y`` column (columns ``0 .. len(y_sites)-1``).
    x_place, x_site : numpy.ndarray
        Place and site of each assignment column (CMCLP, p-median), starting at column ``x_start``.
    x_start : int
        First assignment column.
    stats : dict
        Sizes before and after the reductions.
    notes : list of str
        What the reader must know about the model (approximations, penalties, infeasibility evidence).
    """

    problem: MilpProblem
    y_sites: np.ndarray
    x_place: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_site: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_start: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _aggregate(B: sp.csr_array, key: np.ndarray | None = None) -> tuple[sp.csr_array, np.ndarray]:
    """Merge rows of ``B`` with the same pattern (and ``key``): (unique rows, group of each original row)."""
    B = B.tocsr()
    B.sort_indices()
    ip, ix = B.indptr, B.indices
    seen: dict[tuple[int, bytes], int] = {}
    group = np.empty(B.shape[0], dtype=np.int64)
    kk = key if key is not None else np.zeros(B.shape[0], dtype=np.int64)
    for r in range(B.shape[0]):
        group[r] = seen.setdefault((int(kk[r]), ix[ip[r]:ip[r + 1]].tobytes()), len(seen))
    first = np.full(len(seen), -1, dtype=np.int64)
    first[group[::-1]] = np.arange(B.shape[0])[::-1]
    return B[first], group


def _dominated(B: sp.csr_array, cost: np.ndarray | None, limit: int = 20000) -> np.ndarray:
    """Columns of ``B`` whose row set is inside another column's (no cheaper; lower index among equals)."""
    J = B.shape[1]
    s = np.asarray(B.sum(axis=0)).ravel()
    dom = s == 0
    if limit < J or J < 2:
        return dom
    Bi = B.astype(np.int32)
    overlap = (Bi.T @ Bi).tocoo()
    j, k, v = overlap.row, overlap.col, overlap.data
    m = (j != k) & (v == s[j])
    equiv = s[k] == s[j]
    if cost is not None:
        m &= cost[k] <= cost[j] + EPS
        equiv &= np.abs(cost[k] - cost[j]) <= EPS
    m &= ~equiv | (k < j)
    dom[j[m]] = True
    return dom


def _limit_rows(cols: np.ndarray, cost: np.ndarray, points: int | None, budget: float | None,
                ncols: int) -> tuple[list[sp.csr_array], list[float], list[str]]:
    """The ``Σ y <= p`` and ``Σ c y <= Y`` rows over the ``y`` columns ``cols`` (money in thousands)."""
    rows, ups, names = [], [], []
    if points is not None:
        rows.append(sp.csr_array((np.ones(len(cols)), (np.zeros(len(cols), np.int64), cols)), shape=(1, ncols)))
        ups.append(float(points))
        names.append("points")
    if budget is not None:
        rows.append(sp.csr_array((cost / MONEY, (np.zeros(len(cols), np.int64), cols)), shape=(1, ncols)))
        ups.append(float(budget) / MONEY)
        names.append("budget")
    return rows, ups, names


def _covering_core(data: CircleData, reach: Reach, minutes: float, value: np.ndarray, cost_matters: bool,
                   key: np.ndarray | None = None) -> dict[str, Any]:
    """Shared reductions of MCLP and LSCP: constant places, merged places, dominated candidates."""
    ex = data.existing
    cand_idx = np.flatnonzero(~ex)
    W = reach.matrix(minutes)
    pre = np.asarray(W[:, np.flatnonzero(ex)].sum(axis=1)).ravel() > 0 if ex.any() else np.zeros(W.shape[0], bool)
    B = W[:, cand_idx]
    reachable = np.asarray(B.sum(axis=1)).ravel() > 0
    rows = np.flatnonzero(~pre & reachable & (value > 0))
    B = B[rows]
    Bg, group = _aggregate(B, None if key is None else key[rows])
    vg = np.bincount(group, weights=value[rows], minlength=Bg.shape[0])
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)[cand_idx]
    dom = _dominated(Bg, cost if cost_matters else None)
    keep_cols = np.flatnonzero(~dom)
    Bk = Bg[:, keep_cols]
    Bk2, group2 = _aggregate(Bk, None if key is None else np.asarray(key[rows])[_first_of(group)])
    vg2 = np.bincount(group2, weights=vg, minlength=Bk2.shape[0])
    return {"pre": pre, "rows": rows, "B": Bk2, "value": vg2, "cols": cand_idx[keep_cols],
            "group_of_place": group2[group], "stats": {
                "places": int(W.shape[0]), "candidates": int(len(cand_idx)), "pairs_within_T": int(W.nnz),
                "places_constant": int(pre.sum()), "places_unreachable": int((~pre & ~reachable).sum()),
                "place_classes": int(Bk2.shape[0]), "candidates_kept": int(len(keep_cols)),
                "candidates_dominated": int(dom.sum())}}


def _first_of(group: np.ndarray) -> np.ndarray:
    first = np.full(int(group.max()) + 1 if len(group) else 0, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return first


def build_mclp(data: CircleData, reach: Reach, minutes: float, points: int | None,
               budget: float | None) -> Built:
    r"""The maximal covering location problem (Church & ReVelle), existing sites open.

    .. math::

        \max \; \sum_{k} a_k z_k + \sum_{i \in I_E} a_i
        \quad\text{s.t.}\quad
        z_k \le \sum_{j \in N_k \cap C} y_j \;(k),\qquad
        \sum_{j \in C} y_j \le p,\qquad
        \sum_{j \in C} c_j y_j \le Y,\qquad
        y_j \in \{0,1\},\; 0 \le z_k \le 1.

    ``I_E`` are the places within T of an existing site (covered whatever is chosen: a constant); ``k`` runs
    over classes of the remaining places that share the same candidate set ``N_k`` (their ``a`` summed);
    dominated candidates are dropped (module docstring).  ``z`` may be continuous: for binary ``y`` the
    optimum has ``z_k = min(1, Σ y)`` in {0, 1}.  Either limit row is left out when its limit is None.
    """
    need = data.need
    core = _covering_core(data, reach, minutes, need, cost_matters=budget is not None)
    B, a, cols = core["B"], core["value"], core["cols"]
    J, K = len(cols), B.shape[0]
    n = J + K
    cover = sp.hstack([-B, sp.eye_array(K, format="csr")], format="csr") if K else sp.csr_array((0, n))
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)[cols]
    lim, ups, names = _limit_rows(np.arange(J), cost, points, budget, n)
    A = sp.vstack([cover, *lim], format="csr") if lim else cover
    offset = float(need[core["pre"]].sum())
    problem = MilpProblem(
        c=np.concatenate([np.zeros(J), a]), A=A,
        row_lower=np.full(A.shape[0], -np.inf), row_upper=np.concatenate([np.zeros(K), ups]),
        col_lower=np.zeros(n), col_upper=np.ones(n),
        integrality=np.concatenate([np.ones(J, bool), np.zeros(K, bool)]), sense="max", offset=offset,
        col_names=tuple([f"y_{s}" for s in data.sites["site_id"].to_numpy()[cols]] + [f"z_{k}" for k in range(K)]),
        row_names=tuple([f"cover_{k}" for k in range(K)] + names),
    )
    return Built(problem, cols, stats=core["stats"])


def build_lscp(data: CircleData, reach: Reach, minutes: float, shares: dict[str, float]) -> Built:
    r"""The location set covering problem with coverage shares (Toregas et al.), existing sites open.

    .. math::

        \min \; \sum_{j \in C} y_j
        \quad\text{s.t.}\quad
        z_k \le \sum_{j \in N_k \cap C} y_j \;(k),\qquad
        \sum_{k \in K_t} P_k z_k \ge s_t P_t - P_t^E \;(t \in \{\text{urban}, \text{rural}\}),\qquad
        y_j \in \{0,1\},\; 0 \le z_k \le 1.

    ``P_t`` is the population of the places of area type ``t``, ``P_t^E`` the part within T of an existing site,
    ``s_t`` the share asked for (defaults: 95 % urban, A-COVERAGE; 80 % rural, F-COVERAGE); classes ``k`` are
    places with the same candidate set and area type.  For an area type with ``s_t = 1`` this is the classic
    LSCP: its ``z`` and share row are replaced by ``Σ_{j ∈ N_k ∩ C} y_j >= 1`` for each of its classes.  When
    even every site open cannot reach a share, the backend proves the model INFEASIBLE and a note gives the
    share that every site together reaches.
    """
    pop = data.population
    area = (data.places["area_type"] == "rural").to_numpy().astype(np.int64)
    core = _covering_core(data, reach, minutes, pop, cost_matters=False, key=area)
    B, P, cols = core["B"], core["value"], core["cols"]
    J, K = len(cols), B.shape[0]
    cls_area = np.zeros(K, dtype=np.int64)
    cls_area[core["group_of_place"]] = area[core["rows"]]
    any_site = np.asarray(reach.matrix(minutes).sum(axis=1)).ravel() > 0
    full = {code: float(shares.get(t, DEFAULT_SHARES[t])) >= 1.0 - 1e-12 for code, t in ((0, "urban"), (1, "rural"))}
    zcls = np.flatnonzero(~np.array([full[int(c)] for c in cls_area], dtype=bool)) if K else np.zeros(0, np.int64)
    ccls = np.setdiff1d(np.arange(K), zcls)
    zcol = np.full(K, -1, dtype=np.int64)
    zcol[zcls] = J + np.arange(len(zcls))
    n = J + len(zcls)
    blocks, lows, ups, names, notes = [], [], [], [], []
    if len(zcls):
        Bz = B[zcls]
        blocks.append(sp.hstack([-Bz, sp.eye_array(len(zcls), format="csr")], format="csr"))
        lows += [-np.inf] * len(zcls)
        ups += [0.0] * len(zcls)
        names += [f"cover_{k}" for k in zcls]
    if len(ccls):
        blocks.append(sp.hstack([B[ccls], sp.csr_array((len(ccls), len(zcls)))], format="csr"))
        lows += [1.0] * len(ccls)
        ups += [np.inf] * len(ccls)
        names += [f"cover_{k}" for k in ccls]
    for code, t in ((0, "urban"), (1, "rural")):
        mask = area == code
        P_t = float(pop[mask].sum())
        if P_t <= 0:
            continue
        s_t = float(shares.get(t, DEFAULT_SHARES[t]))
        best = float(pop[mask & any_site].sum()) / P_t
        if best + 1e-12 < s_t:
            notes.append(f"{t}: even with every site open only {best:.1%} of residents are within "
                         f"{minutes:g} minutes, below the {s_t:.0%} asked for")
        if full[code]:
            if best + 1e-12 < 1.0:  # a place no site reaches: an empty covering row, proven infeasible
                blocks.append(sp.csr_array((1, n)))
                lows.append(1.0)
                ups.append(np.inf)
                names.append(f"unreachable_{t}")
            continue
        P_e = float(pop[mask & core["pre"]].sum())
        sel = np.flatnonzero(cls_area == code)
        blocks.append(sp.csr_array((P[sel], (np.zeros(len(sel), np.int64), zcol[sel])), shape=(1, n)))
        lows.append(s_t * P_t - P_e)
        ups.append(np.inf)
        names.append(f"share_{t}")
    A = sp.vstack(blocks, format="csr") if blocks else sp.csr_array((1, n))
    if not blocks:
        lows, ups, names = [-np.inf], [np.inf], ["empty"]
    problem = MilpProblem(
        c=np.concatenate([np.ones(J), np.zeros(len(zcls))]), A=A,
        row_lower=np.array(lows, dtype=np.float64), row_upper=np.array(ups, dtype=np.float64),
        col_lower=np.zeros(n), col_upper=np.ones(n),
        integrality=np.concatenate([np.ones(J, bool), np.zeros(len(zcls), bool)]), sense="min",
        col_names=tuple([f"y_{s}" for s in data.sites["site_id"].to_numpy()[cols]] + [f"z_{k}" for k in zcls]),
        row_names=tuple(names),
    )
    return Built(problem, cols, stats=core["stats"], notes=notes)


def build_cmclp(data: CircleData, reach: Reach, minutes: float, points: int | None,
                budget: float | None) -> Built:
    r"""The capacitated maximal covering problem: each open point serves at most its capacity.

    .. math::

        \max \sum_{(i,j): t_{ij} \le T} v_i x_{ij}
        \quad\text{s.t.}\quad
        \sum_j x_{ij} \le P_i \;(i),\qquad
        \sum_i x_{ij} \le u_j y_j \;(j: u_j < \infty),\qquad
        x_{ij} \le P_i y_j \;(j \in C),\qquad
        \sum_{j \in C} y_j \le p,\qquad \sum_{j \in C} c_j y_j \le Y,

    ``y_j \in \{0,1\}`` for candidates and ``y_j = 1`` for existing sites, ``x_{ij} \ge 0`` residents of place
    ``i`` served by point ``j``, ``v_i = a_i / P_i`` the need weight of one resident of place ``i``.  A place's
    residents may be split between several points (fractional assignment; every resident of a place counts
    alike).  The ``x <= P y`` rows are implied by the capacity rows but tighten the LP relaxation.
    """
    need, pop = data.need, data.population
    ex = data.existing
    cap = data.sites["capacity"].to_numpy(dtype=np.float64)
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)
    m = (reach.minutes <= minutes + EPS) & (pop[reach.place] > 0) & (need[reach.place] > 0) & (cap[reach.site] > 0)
    xp, xs = reach.place[m], reach.site[m]
    used = np.unique(xs)
    ysites = np.concatenate([used[~ex[used]], used[ex[used]]])  # candidates first, then existing
    ycol = np.full(len(ex), -1, dtype=np.int64)
    ycol[ysites] = np.arange(len(ysites))
    J, X = len(ysites), len(xp)
    n = J + X
    xc = J + np.arange(X)
    places = np.unique(xp)
    prow = np.full(len(pop), -1, dtype=np.int64)
    prow[places] = np.arange(len(places))
    r_place = sp.csr_array((np.ones(X), (prow[xp], xc)), shape=(len(places), n))
    finite = ysites[np.isfinite(cap[ysites])]
    srow = np.full(len(ex), -1, dtype=np.int64)
    srow[finite] = np.arange(len(finite))
    fx = np.isfinite(cap[xs])
    r_cap = sp.csr_array((np.concatenate([np.ones(int(fx.sum())), -cap[finite]]),
                          (np.concatenate([srow[xs[fx]], np.arange(len(finite))]),
                           np.concatenate([xc[fx], ycol[finite]]))), shape=(len(finite), n))
    cx = ~ex[xs]
    k = int(cx.sum())
    r_vub = sp.csr_array((np.concatenate([np.ones(k), -pop[xp[cx]]]),
                          (np.concatenate([np.arange(k), np.arange(k)]),
                           np.concatenate([xc[cx], ycol[xs[cx]]]))), shape=(k, n))
    ncand = int((~ex[ysites]).sum())
    lim, ups, names = _limit_rows(np.arange(ncand), cost[ysites[:ncand]], points, budget, n)
    A = sp.vstack([r_place, r_cap, r_vub, *lim], format="csr")
    if A.shape[0] == 0:
        A = sp.csr_array((1, n))
        ups = [np.inf]
    v = np.divide(need, pop, out=np.zeros_like(need), where=pop > 0)
    col_lower = np.concatenate([ex[ysites].astype(float), np.zeros(X)])
    col_upper = np.concatenate([np.ones(J), pop[xp]])
    problem = MilpProblem(
        c=np.concatenate([np.zeros(J), v[xp]]), A=A,
        row_lower=np.full(A.shape[0], -np.inf),
        row_upper=np.concatenate([pop[places], np.zeros(len(finite)), np.zeros(k), ups]),
        col_lower=col_lower, col_upper=col_upper,
        integrality=np.concatenate([~ex[ysites], np.zeros(X, bool)]), sense="max",
    )
    stats = {"places": int(len(pop)), "candidates": int((~ex).sum()), "pairs_within_T": int(X),
             "places_modelled": int(len(places)), "sites_modelled": int(J)}
    notes = ["capacitated MCLP: a place's residents may be split between points (fractional assignment); "
             "coverage by group assumes every resident of a place is served alike"]
    return Built(problem, ysites[:ncand], xp, xs, J, stats, notes, {"existing_y": ysites[ncand:]})


def build_pmedian(data: CircleData, reach: Reach, points: int | None, budget: float | None,
                  radius: float) -> Built:
    r"""The p-median problem on pairs within a radius R, in the radius formulation, existing sites open.

    Minimise the need-weighted travel time ``Σ_i a_i min_{j open} t_ij`` with at most p new points (or within
    the budget).  The model is the radius formulation of García, Labbé & Marín (2011), which has the LP bound
    of the classic assignment formulation (Hakimi; ReVelle & Swain) with one row per distinct distance level
    instead of one column and one row per pair.  For place ``i`` let ``D_i1 < ... < D_iG`` be the distinct times
    to candidates within R and faster than ``e_i``, the time to its nearest existing site within R (always
    open), and ``g_i = min(e_i, R)``, ``D_i,G+1 = g_i``:

    .. math::

        \min \sum_i a_i \Big(D_{i1} + \sum_{k=2}^{G+1} (D_{ik} - D_{i,k-1})\, z_{ik}\Big)
        \quad\text{s.t.}\quad
        z_{ik} \ge z_{i,k-1} - \sum_{j \in C: t_{ij} = D_{i,k-1}} y_j \;(k = 2..G+1,\ z_{i1} \equiv 1),\qquad
        \sum_{j \in C} y_j \le p,\qquad \sum_{j \in C} c_j y_j \le Y,

    ``y`` binary, ``z \in [0, 1]``: ``z_ik = 1`` when no open point is faster than ``D_ik``; for binary ``y`` the
    optimal ``z_ik = max(0, 1 - Σ_{j: t_ij < D_ik} y_j)`` is integral.  A place with no open point within R
    and no existing site within R is charged ``g_i = R`` -- the *unreachable* penalty, never more than its true
    time, so the model is a relaxation of the unrestricted p-median over the same places: when its optimum
    charges no place the penalty, that plan is optimal for the unrestricted p-median too (``radius_exact``).
    A place with no candidate faster than ``e_i`` is a constant ``a_i e_i``; places with no site at all within
    R are left out and listed.
    """
    need = data.need
    ex = data.existing
    cost = data.sites["opening_cost"].to_numpy(dtype=np.float64)
    n_i = len(need)
    m = reach.minutes <= radius + EPS
    pp, ss, tt = reach.place[m], reach.site[m], reach.minutes[m]
    e = np.full(n_i, np.inf)
    em = ex[ss]
    np.minimum.at(e, pp[em], tt[em])
    has_any = np.zeros(n_i, dtype=bool)
    has_any[pp] = True
    g = np.minimum(e, radius)
    cm = ~em & (tt < e[pp] - EPS) & (need[pp] > 0)
    xp, xs, xt = pp[cm], ss[cm], tt[cm]
    const = has_any.copy()
    const[xp] = False
    offset = float((need * g)[const].sum())
    ysites = np.unique(xs)
    ycol = np.full(len(ex), -1, dtype=np.int64)
    ycol[ysites] = np.arange(len(ysites))
    J = len(ysites)
    # distance levels: distinct (place, time) among candidate pairs, sorted by place then time
    order = np.lexsort((xt, xp))
    xp, xs, xt = xp[order], xs[order], xt[order]
    new_level = np.ones(len(xp), dtype=bool)
    new_level[1:] = (xp[1:] != xp[:-1]) | (xt[1:] - xt[:-1] > EPS)
    level = np.cumsum(new_level) - 1  # level of each pair
    lp_, lt = xp[new_level], xt[new_level]  # place and time of each level
    L = len(lp_)
    last = np.ones(L, dtype=bool)
    last[:-1] = lp_[1:] != lp_[:-1]
    first = np.ones(L, dtype=bool)
    first[1:] = lp_[1:] != lp_[:-1]
    nxt = np.where(last, g[lp_], np.roll(lt, -1))  # D_{i,k+1} (the cap after the last level)
    # z column q for level q means "no open point at time <= lt[q]": z_{i,k+1} in the docstring's numbering
    zc = J + np.arange(L)
    n = J + L
    # row of level q: z_q - z_{q-1} (same place, q not first) + Σ_{j at level q} y_j >= 1 if first else 0
    rows = np.concatenate([np.arange(L), np.flatnonzero(~first), level])
    colv = np.concatenate([zc, zc[np.flatnonzero(~first) - 1], ycol[xs]])
    vals = np.concatenate([np.ones(L), -np.ones(int((~first).sum())), np.ones(len(xs))])
    r_levels = sp.csr_array((vals, (rows, colv)), shape=(L, n))
    lim, ups, names = _limit_rows(np.arange(J), cost[ysites], points, budget, n)
    A = sp.vstack([r_levels, *lim], format="csr")
    if A.shape[0] == 0:
        A = sp.csr_array((1, n))
        ups = [np.inf]
    lo = np.concatenate([first.astype(np.float64), np.full(len(lim), -np.inf)]) if L or lim else np.array([-np.inf])
    up = np.concatenate([np.full(L, np.inf), ups]) if L or lim else np.array([np.inf])
    places_m = lp_[first]
    offset += float((need[places_m] * lt[first]).sum())  # a_i D_i1
    problem = MilpProblem(
        c=np.concatenate([np.zeros(J), need[lp_] * (nxt - lt)]), A=A,
        row_lower=lo, row_upper=up, col_lower=np.zeros(n), col_upper=np.ones(n),
        integrality=np.concatenate([np.ones(J, bool), np.zeros(L, bool)]), sense="min", offset=offset,
    )
    unreachable = int((~has_any & (need > 0)).sum())
    notes = [f"p-median over pairs within R = {radius:g} minutes; a place with no open point within R is "
             f"charged R minutes (a lower bound on its true time)"]
    if unreachable:
        notes.append(f"{unreachable} place(s) with need have no site within {radius:g} minutes: left out of the "
                     "p-median objective and listed as unreachable")
    stats = {"places": n_i, "candidates": int((~ex).sum()), "pairs_within_R": int(m.sum()),
             "places_modelled": int(len(places_m)), "places_constant": int(const.sum()),
             "places_unreachable": unreachable, "distance_levels": int(L)}
    # the penalty column of a place: its last level, when no existing site is within R
    pen_cols = zc[last & ~np.isfinite(e[lp_])]
    return Built(problem, ysites, stats=stats, notes=notes, extra={"penalty_cols": pen_cols, "penalty": radius})


# ---------------------------------------------------------------------------
# solve and report
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CirclePlan:
    """The outcome of a circle solve: status, objective and (when there is a plan) its tables."""

    status: Status
    model: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    solver_version: str
    seconds: float
    message: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def solve_circle(data: CircleData, model: str = "mclp", minutes: float | None = None, points: int | None = -1,
                 budget: float | None = -1.0, solver: str = "highs", options: SolveOptions | None = None,
                 reach: Reach | None = None, guard: bool = True, tables: bool = True) -> CirclePlan:
    """Choose the points of the circle with ``model`` and report coverage.

    Parameters
    ----------
    data : CircleData
        The circle.
    model : {"mclp", "cmclp", "lscp", "pmedian"}
        Which model.
    minutes : float, optional
        T; default ``data.minutes``.
    points, budget : optional
        Limits on the new points; the sentinel ``-1`` means "as the circle states"; None means no such limit.
    solver : str
        Registered backend name.
    options : SolveOptions, optional
        Default: gap 1e-4, no time limit.
    reach : Reach, optional
        Ready travel pairs (must reach at least ``max(T, radius)`` for p-median, T otherwise).
    guard : bool
        With a time limit, solve in a child process stopped after the limit plus grace (solvers.guard).
    tables : bool
        Build the plan's tables (False: objective and open points only, for benchmarks).

    Returns
    -------
    CirclePlan
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; one of {', '.join(MODELS)}")
    options = options or SolveOptions(mip_gap=DEFAULT_GAP)
    T = float(data.minutes if minutes is None else minutes)
    p = data.points if points == -1 else points
    Y = data.budget if budget == -1.0 else budget
    if model == "lscp":
        p, Y = None, None
    R = data.radius_for(T)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if reach is None:
        reach = travel_reach(data, R if model == "pmedian" or tables else T)
    timings["travel"] = reach.seconds if reach.seconds else time.perf_counter() - t0
    t1 = time.perf_counter()
    if model == "mclp":
        built = build_mclp(data, reach, T, p, Y)
    elif model == "lscp":
        built = build_lscp(data, reach, T, data.shares)
    elif model == "cmclp":
        built = build_cmclp(data, reach, T, p, Y)
    else:
        built = build_pmedian(data, reach, p, Y, R)
    timings["build"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    prob = built.problem
    if prob.num_cols == 0:
        result = SolverResult(Status.OPTIMAL, x=np.zeros(0), objective=prob.offset, bound=prob.offset, gap=0.0,
                              solver=solver, message="solved by the reductions (no decision left)")
    elif guard and options.time_limit is not None:
        from solvers.guard import solve_guarded

        result = solve_guarded(solver, prob, options)
    else:
        result = get_backend(solver).solve(prob, options)
    timings["solve"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    ex = data.existing
    open_ = ex.copy()
    x = result.x if result.status.has_solution else None
    if x is not None:
        open_[built.y_sites[np.asarray(x[:len(built.y_sites)]) > 0.5]] = True
    manifest = _manifest(data, model, solver, result, options, built, T, p, Y, R)
    notes = list(data.notes) + list(built.notes)
    summary: dict[str, Any] = {
        "circle": data.name, "model": model, "status": result.status.value, "objective": result.objective,
        "bound": result.bound, "gap": result.gap, "solver": solver, "message": result.message,
        "minutes": T, "points_limit": p, "budget_limit": Y, "radius": R if model == "pmedian" else None,
        "shares": dict(data.shares) if model == "lscp" else None, "model_size": built.stats,
    }
    out_tables: dict[str, pd.DataFrame] = {}
    if x is not None:
        served = None
        if model == "cmclp":
            xv = np.asarray(x[built.x_start:built.x_start + len(built.x_place)])
            served = (built.x_place, built.x_site, xv)
        check = _objective_check(data, reach, model, open_, T, R, served, built)
        summary["objective_recomputed"] = check
        if result.objective is not None and abs(check - result.objective) > 1e-6 * max(1.0, abs(check)):
            notes.append(f"the objective recomputed from the plan ({check:,.3f}) differs from the solver's "
                         f"({result.objective:,.3f}): within the solver's tolerances")
        if model == "pmedian":
            pen = np.asarray(x)[built.extra["penalty_cols"]] > 0.5
            exact = not bool(pen.any())
            summary["radius_exact"] = exact
            notes.append(("no place is charged the R penalty: the plan is optimal for the unrestricted p-median "
                          "over these places") if exact else
                         (f"{int(pen.sum())} place(s) are charged the R penalty: the plan is optimal for the "
                          f"radius-restricted model; the unrestricted optimum may differ"))
        if tables:
            out_tables = _tables(data, reach, model, open_, T, R, served)
            summary.update(_summary(data, out_tables, open_, model))
    summary["open_sites"] = sorted(data.sites["site_id"].to_numpy()[open_ & ~ex].tolist()) if x is not None else []
    summary["notes"] = notes
    timings["report"] = time.perf_counter() - t3
    return CirclePlan(result.status, model, result.objective, result.bound, result.gap, solver,
                      result.solver_version, result.seconds, result.message, out_tables, summary, manifest, timings)


def _manifest(data: CircleData, model: str, solver: str, result: SolverResult, options: SolveOptions, built: Built,
              T: float, p: int | None, Y: float | None, R: float) -> dict[str, Any]:
    import platform

    from allocator import __version__

    pr = built.problem
    return {"engine": "allocator", "engine_version": __version__, "command": "circle", "circle": data.name,
            "input_hash": data.input_hash, "model": model, "solver": solver,
            "solver_version": result.solver_version,
            "options": {"time_limit": options.time_limit, "gap": options.mip_gap, "threads": options.threads,
                        "seed": options.seed, "minutes": T, "points": p, "budget": Y,
                        "radius": R if model == "pmedian" else None},
            "python": platform.python_version(),
            "problem": {"rows": pr.num_rows, "columns": pr.num_cols, "integer_columns": int(pr.integrality.sum()),
                        "nonzeros": int(pr.A.nnz)}}


def _nearest_open(reach: Reach, open_: np.ndarray, within: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per place: nearest open site (-1), its minutes (inf), and the number of open sites within ``within``."""
    m = open_[reach.site]
    pp, ss, tt = reach.place[m], reach.site[m], reach.minutes[m]
    order = np.lexsort((ss, tt, pp))
    pp, ss, tt = pp[order], ss[order], tt[order]
    first = np.ones(len(pp), dtype=bool)
    first[1:] = pp[1:] != pp[:-1]
    site = np.full(reach.n_places, -1, dtype=np.int64)
    mins = np.full(reach.n_places, np.inf)
    site[pp[first]] = ss[first]
    mins[pp[first]] = tt[first]
    count = np.bincount(pp[tt <= within + EPS], minlength=reach.n_places)
    return site, mins, count


def _objective_check(data: CircleData, reach: Reach, model: str, open_: np.ndarray, T: float, R: float,
                     served: tuple[np.ndarray, np.ndarray, np.ndarray] | None, built: Built) -> float:
    """The model's objective recomputed from the open points on the full (unreduced) data."""
    _, mins, _ = _nearest_open(reach, open_, T)
    need = data.need
    if model == "mclp":
        return float(need[mins <= T + EPS].sum())
    if model == "lscp":
        return float((open_ & ~data.existing).sum())
    if model == "cmclp":
        assert served is not None
        xp, _, xv = served
        pop = data.population
        v = np.divide(need, pop, out=np.zeros_like(need), where=pop > 0)
        return float((v[xp] * xv).sum())
    has_any = np.zeros(len(need), dtype=bool)
    has_any[reach.place[reach.minutes <= R + EPS]] = True
    t = np.minimum(np.where(np.isfinite(mins), mins, R), R)
    return float((need * t)[has_any].sum())


def _tables(data: CircleData, reach: Reach, model: str, open_: np.ndarray, T: float, R: float,
            served: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> dict[str, pd.DataFrame]:
    pl, st = data.places, data.sites
    pop = data.population
    need = data.need
    site_ids = st["site_id"].to_numpy(dtype=object)
    near, mins, count = _nearest_open(reach, open_, T)
    within = mins <= T + EPS
    if served is not None:
        xp, xs, xv = served
        sv = np.bincount(xp, weights=xv, minlength=len(pop))
        frac = np.divide(sv, pop, out=np.zeros_like(pop), where=pop > 0)
    else:
        frac = within.astype(float)
        sv = pop * frac
    places = pd.DataFrame({
        "place_id": pl["place_id"], "name": pl["name"], "township": pl["township"], "county": pl["county"],
        "area_type": pl["area_type"], "population": pl["population"], "need": np.round(need, 6),
        "within_T": within.astype(int), "nearest_point": np.where(near >= 0, site_ids[np.maximum(near, 0)], ""),
        "minutes": np.where(np.isfinite(mins), np.round(mins, 3), np.nan), "open_points_within_T": count,
        "served": np.round(sv, 6),
    })
    if served is not None:
        keep = xv > 1e-6
        assign = pd.DataFrame({"place_id": pl["place_id"].to_numpy()[xp[keep]], "site_id": site_ids[xs[keep]],
                               "minutes": np.round(_pair_minutes(reach, xp[keep], xs[keep]), 3),
                               "residents": np.round(xv[keep], 6)})
    else:
        lim = R if model == "pmedian" else T
        has = (near >= 0) & (mins <= lim + EPS)
        assign = pd.DataFrame({"place_id": pl["place_id"].to_numpy()[has], "site_id": site_ids[near[has]],
                               "minutes": np.round(mins[has], 3), "residents": pop[has].astype(np.int64)})
    assign = assign.sort_values(["place_id", "site_id"], kind="stable").reset_index(drop=True)
    # points
    Wt = reach.matrix(T)
    wcount = np.asarray(Wt.sum(axis=0)).ravel()
    wpop = Wt.T @ pop
    wneed = Wt.T @ need
    sidx = {s: j for j, s in enumerate(site_ids)}
    load = np.bincount([sidx[s] for s in assign["site_id"]], weights=assign["residents"].to_numpy(float),
                       minlength=len(st))
    pidx = {p: i for i, p in enumerate(pl["place_id"])}
    sp_ = np.array([pidx[p] for p in st["place_id"]], dtype=np.int64)
    points = pd.DataFrame({
        "site_id": st["site_id"], "name": st["name"], "place_id": st["place_id"],
        "township": pl["township"].to_numpy()[sp_], "county": pl["county"].to_numpy()[sp_], "kind": st["kind"],
        "open": open_.astype(int), "new": (open_ & ~data.existing).astype(int),
        "opening_cost": np.round(st["opening_cost"].to_numpy(float), 2),
        "capacity": st["capacity"].to_numpy(float),
        "places_within_T": wcount, "residents_within_T": np.round(wpop).astype(np.int64),
        "need_within_T": np.round(wneed, 6),
        "assigned_residents": np.round(load, 6),
    })
    # coverage by group, township, county
    G = pl[list(data.groups)].to_numpy(dtype=np.float64)
    gtab = pd.DataFrame({"group": list(data.groups), "label": [data.group_labels.get(g, g) for g in data.groups],
                         "weight": data.weights, "residents": G.sum(axis=0),
                         "within_T": (G * within[:, None]).sum(axis=0)})
    if served is not None:
        gtab["served"] = (G * frac[:, None]).sum(axis=0)
    gtab = _shares(gtab, served is not None)
    base = pd.DataFrame({"township": pl["township"], "county": pl["county"], "population": pop,
                         "within_T": pop * within, "need": need, "need_within_T": need * within, "served": sv})
    new_at = points[points["new"] == 1].groupby("township").size()
    tw = base.groupby(["township", "county"], sort=True).sum(numeric_only=True).reset_index()
    tw["new_points"] = tw["township"].map(new_at).fillna(0).astype(int)
    co = base.drop(columns="township").groupby("county", sort=True).sum(numeric_only=True).reset_index()
    co["new_points"] = co["county"].map(points[points["new"] == 1].groupby("county").size()).fillna(0).astype(int)
    tw, co = (_shares(t.rename(columns={"population": "residents"}), served is not None) for t in (tw, co))
    unc = places[places["within_T"] == 0][["place_id", "name", "township", "county", "area_type", "population",
                                           "need", "nearest_point", "minutes"]].reset_index(drop=True)
    return {"points": points, "places": places, "assignment": assign, "coverage_group": gtab,
            "coverage_township": tw, "coverage_county": co, "uncovered": unc}


def _pair_minutes(reach: Reach, p: np.ndarray, s: np.ndarray) -> np.ndarray:
    key = reach.place * reach.n_sites + reach.site
    order = np.argsort(key)
    pos = np.searchsorted(key[order], p * reach.n_sites + s)
    return reach.minutes[order][pos]


def _shares(t: pd.DataFrame, served: bool) -> pd.DataFrame:
    t = t.copy()
    for c in ("residents", "within_T"):  # whole residents (population x 0/1)
        t[c] = np.round(t[c].to_numpy(dtype=np.float64)).astype(np.int64)
    t["share_within_T"] = np.round(t["within_T"] / t["residents"].where(t["residents"] > 0), 6)
    if "need" in t:
        t["need_share_within_T"] = np.round(t["need_within_T"] / t["need"].where(t["need"] > 0), 6)
    if served:
        t["share_served"] = np.round(t["served"] / t["residents"].where(t["residents"] > 0), 6)
    elif "served" in t:
        t = t.drop(columns="served")
    for c in t.columns:
        if t[c].dtype.kind == "f" and not c.startswith(("share", "need_share", "weight")):
            t[c] = np.round(t[c], 6)
    return t


def _summary(data: CircleData, t: dict[str, pd.DataFrame], open_: np.ndarray, model: str) -> dict[str, Any]:
    pts, pl = t["points"], t["places"]
    pop = float(pl["population"].sum())
    need = float(pl["need"].sum())
    within = float((pl["population"] * pl["within_T"]).sum())
    need_w = float((pl["need"] * pl["within_T"]).sum())
    new = pts[pts["new"] == 1]
    out: dict[str, Any] = {
        "totals": {
            "places": len(pl), "residents": pop, "residents_within_T": within,
            "share_within_T": round(within / pop, 6) if pop else None, "need": round(need, 6),
            "need_within_T": round(need_w, 6), "need_share_within_T": round(need_w / need, 6) if need else None,
            "existing_points": int((pts["kind"] == "existing").sum()), "candidates": int((pts["kind"] ==
                                                                                        "candidate").sum()),
            "new_points": len(new), "opening_cost": round(float(new["opening_cost"].sum()), 2),
            "places_uncovered": len(t["uncovered"]),
            "residents_uncovered": float(t["uncovered"]["population"].sum()),
        },
        "coverage_by_group": {r.group: {"residents": float(r.residents), "within_T": round(float(r.within_T), 6),
                                        "share": r.share_within_T} for r in t["coverage_group"].itertuples()},
        "coverage_by_township": {r.township: {"county": r.county, "residents": float(r.residents),
                                              "within_T": float(r.within_T), "share": r.share_within_T,
                                              "new_points": int(r.new_points)}
                                 for r in t["coverage_township"].itertuples()},
        "coverage_by_county": {r.county: {"residents": float(r.residents), "within_T": float(r.within_T),
                                          "share": r.share_within_T, "new_points": int(r.new_points)}
                               for r in t["coverage_county"].itertuples()},
        "uncovered": t["uncovered"]["place_id"].tolist(),
    }
    if model == "cmclp":
        served = float(pl["served"].sum())
        out["totals"]["residents_served"] = round(served, 6)
        out["totals"]["share_served"] = round(served / pop, 6) if pop else None
    if model == "pmedian":
        a = pl[np.isfinite(pl["minutes"])]
        out["totals"]["mean_minutes_need_weighted"] = (round(float((a["need"] * a["minutes"]).sum() /
                                                                   a["need"].sum()), 6) if len(a) else None)
    return out


def write_circle(plan: CirclePlan, out: str | os.PathLike[str]) -> None:
    """Write the plan's tables, ``summary.json`` and ``manifest.json`` into ``out``, whole or not at all."""

    def fill(tmp: Path) -> None:
        for name, df in plan.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        (tmp / "summary.json").write_text(json.dumps(_jsonable(plan.summary), indent=2, sort_keys=True) + "\n")
        (tmp / "manifest.json").write_text(json.dumps(_jsonable(plan.manifest), indent=2, sort_keys=True) + "\n")

    write_dir_atomically(out, fill)


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float):
        return None if not math.isfinite(o) else round(o, 6)
    return o


def summary_json(plan: CirclePlan) -> dict[str, Any]:
    """What ``allocator circle --json`` prints: the summary, the manifest and the timings."""
    return _jsonable({**plan.summary, "manifest": plan.manifest,
                      "timings": {k: round(v, 4) for k, v in plan.timings.items()}})


def format_circle(plan: CirclePlan, data: CircleData, limit: int = 15) -> str:
    """A short readable report: status, points, coverage by group, township and county, uncovered places."""
    s = plan.summary
    lim = []
    if s.get("points_limit") is not None:
        lim.append(f"at most {s['points_limit']} new points")
    if s.get("budget_limit") is not None:
        lim.append(f"budget {s['budget_limit']:,.0f} yuan")
    if plan.model == "lscp":
        lim.append("shares " + ", ".join(f"{k} {v:.0%}" for k, v in (s.get("shares") or {}).items()))
    lines = [f"{data.name} -- {MODEL_TITLES[plan.model]}, {s['minutes']:g} minutes"
             + (f", {'; '.join(lim)}" if lim else "") + f" -- {plan.status.value.upper()}"]
    if plan.objective is not None:
        unit = {"mclp": "need-weighted residents within T", "cmclp": "need-weighted residents served",
                "lscp": "new points", "pmedian": "need-weighted minutes"}[plan.model]
        gap = f"{plan.gap:.3%}" if plan.gap is not None else "unknown"
        bound = f"{plan.bound:,.1f}" if plan.bound is not None else "unknown"
        lines.append(f"objective {plan.objective:,.1f} ({unit})  bound {bound}  gap {gap}  "
                     f"({plan.solver} {plan.solver_version}, {plan.seconds:.2f} s)")
    if not plan.tables:
        lines.append(plan.message)
        lines += [f"note: {n}" for n in s.get("notes", [])]
        return "\n".join(lines)
    t = s["totals"]
    pts = plan.tables["points"]
    new = pts[pts["new"] == 1]
    lines += ["", f"Points: {t['existing_points']} existing + {t['new_points']} new of {t['candidates']} "
              f"candidates; opening cost {t['opening_cost']:,.0f} yuan"]
    for tw, grp in new.groupby("township", sort=True):
        lines.append(f"  {tw:<10}{', '.join(grp['site_id'])}")
    lines += ["", f"Within {s['minutes']:g} minutes: {t['residents_within_T']:,.0f} of {t['residents']:,.0f} "
              f"residents ({t['share_within_T']:.1%}); need-weighted {t['need_share_within_T']:.1%}"]
    if plan.model == "cmclp":
        lines.append(f"Served within capacity: {t['residents_served']:,.0f} ({t['share_served']:.1%})")
    if plan.model == "pmedian" and t.get("mean_minutes_need_weighted") is not None:
        lines.append(f"Mean time to the nearest open point (need-weighted): {t['mean_minutes_need_weighted']:.1f} "
                     "minutes")
    lines.append("By group:")
    for r in plan.tables["coverage_group"].itertuples():
        lines.append(f"  {r.label:<28}{r.within_T:>12,.0f} / {r.residents:>10,.0f}  {r.share_within_T:>7.1%}")
    lines.append("By township:")
    for r in plan.tables["coverage_township"].itertuples():
        lines.append(f"  {r.township:<8}{r.county:<12}{r.within_T:>10,.0f} / {r.residents:>8,.0f}  "
                     f"{r.share_within_T:>7.1%}  new points {r.new_points}")
    lines.append("By county:")
    for r in plan.tables["coverage_county"].itertuples():
        lines.append(f"  {r.county:<20}{r.within_T:>10,.0f} / {r.residents:>8,.0f}  {r.share_within_T:>7.1%}")
    unc = plan.tables["uncovered"]
    lines += ["", f"Uncovered places: {len(unc)} ({t['residents_uncovered']:,.0f} residents)"]
    for r in unc.head(limit).itertuples():
        near = f"nearest open point {r.nearest_point} at {r.minutes:.1f} min" if r.nearest_point else \
            "no open point within reach"
        lines.append(f"  {r.place_id:<10} {r.name:<34} {r.township:<6}{r.population:>7,}  {near}")
    if len(unc) > limit:
        lines.append(f"  ... and {len(unc) - limit} more (uncovered.csv)")
    lines += [f"note: {n}" for n in s.get("notes", [])]
    return "\n".join(lines)
