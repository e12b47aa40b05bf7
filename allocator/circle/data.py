"""The circle's data: settings and defaults, the validated :class:`CircleData`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
