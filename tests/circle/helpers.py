"""Helpers of the circle tests: a tiny random circle, an independent Dijkstra and brute-force evaluation.

The brute force and the travel times here are independent of ``allocator/circle/``: a heapq Dijkstra over
the edge list, plain enumeration of the candidate subsets, and (capacitated MCLP) one small
``scipy.optimize.linprog`` per subset for the assignment.
"""

from __future__ import annotations

import heapq
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner
from scipy.optimize import linprog

from allocator.circle import CircleData
from cli import main
from tests.conftest import ROOT

FUZHOU_CIRCLE = ROOT / "instances" / "fuzhou-circle"
WEIGHTS = {"elderly": 1.0, "children": 0.5}
T = 15.0


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# ---------------------------------------------------------------------------
# a tiny random circle, written as a folder
# ---------------------------------------------------------------------------
def tiny(seed: int, n_nodes: int = 16, n_places: int = 10, n_cand: int = 6) -> dict[str, pd.DataFrame]:
    """Random road graph (k-nearest links plus a chain: connected), places on some nodes, 1 existing site."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1, (n_nodes, 2))
    ids = [f"N{k:02d}" for k in range(n_nodes)]
    links = {(k, k + 1) for k in range(n_nodes - 1)}
    for k in range(n_nodes):
        d = np.hypot(*(xy - xy[k]).T)
        for m in np.argsort(d)[1:3]:
            links.add((min(k, int(m)), max(k, int(m))))
    edges = pd.DataFrame([(ids[a], ids[b], round(float(np.hypot(*(xy[a] - xy[b]))) * 40.0, 2))
                          for a, b in sorted(links)], columns=["from_id", "to_id", "minutes"])
    pnodes = sorted(rng.choice(n_nodes, n_places, replace=False).tolist())
    places = pd.DataFrame({"place_id": [ids[k] for k in pnodes], "name": [f"place {k}" for k in pnodes],
                           "township": "T1", "county": "C1",
                           "area_type": rng.choice(["urban", "rural"], n_places),
                           "elderly": rng.integers(0, 200, n_places), "children": rng.integers(0, 200, n_places)})
    places["population"] = places["elderly"] + places["children"] + rng.integers(0, 100, n_places)
    at = rng.choice(n_places, n_cand + 1, replace=False)
    sites = pd.DataFrame({
        "site_id": ["E1"] + [f"X{k}" for k in range(1, n_cand + 1)],
        "name": ["existing"] + [f"candidate {k}" for k in range(1, n_cand + 1)],
        "place_id": [places["place_id"].iloc[i] for i in at],
        "kind": ["existing"] + ["candidate"] * n_cand,
        "opening_cost": [0] + (rng.integers(10, 60, n_cand) * 1000).tolist(),
        "capacity": rng.integers(100, 400, n_cand + 1),
    })
    return {"places": places, "sites": sites, "edges": edges}


def write_folder(path: Path, t: dict[str, pd.DataFrame], toml_extra: str = "", points: int = 2) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "circle.toml").write_text(
        f'[circle]\nname = "tiny"\nminutes = {T}\npoints = {points}\n{toml_extra}\n'
        "[groups.elderly]\nweight = 1.0\n\n[groups.children]\nweight = 0.5\n")
    for name, df in t.items():
        df.to_csv(path / f"{name}.csv", index=False)
    return path


def dijkstra_all(edges: pd.DataFrame) -> dict[str, dict[str, float]]:
    """All-pairs shortest minutes by repeated heapq Dijkstra (tiny graphs only)."""
    adj: dict[str, list[tuple[str, float]]] = {}
    for a, b, m in edges[["from_id", "to_id", "minutes"]].itertuples(index=False):
        adj.setdefault(a, []).append((b, float(m)))
        adj.setdefault(b, []).append((a, float(m)))
    out = {}
    for s in adj:
        dist = {s: 0.0}
        heap = [(0.0, s)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, w in adj[u]:
                if d + w < dist.get(v, math.inf):
                    dist[v] = d + w
                    heapq.heappush(heap, (d + w, v))
        out[s] = dist
    return out


class Brute:
    """Independent evaluation of a tiny circle: times, need, and each model's value for a set of open sites."""

    def __init__(self, t: dict[str, pd.DataFrame]):
        self.places, self.sites = t["places"], t["sites"]
        dist = dijkstra_all(t["edges"])
        self.t = np.array([[dist.get(s, {}).get(p, math.inf) if s != p else 0.0 for s in self.sites["place_id"]]
                           for p in self.places["place_id"]])
        self.a = self.places["elderly"].to_numpy() * 1.0 + self.places["children"].to_numpy() * 0.5
        self.pop = self.places["population"].to_numpy(float)
        self.ex = (self.sites["kind"] == "existing").to_numpy()
        self.cand = np.flatnonzero(~self.ex)
        self.cost = self.sites["opening_cost"].to_numpy(float)
        self.cap = self.sites["capacity"].to_numpy(float)

    def subsets(self, points: int | None = None, budget: float | None = None):  # type: ignore[no-untyped-def]
        for r in range(len(self.cand) + 1):
            if points is not None and r > points:
                break
            for S in itertools.combinations(self.cand, r):
                if budget is not None and self.cost[list(S)].sum() > budget + 1e-9:
                    continue
                o = self.ex.copy()
                o[list(S)] = True
                yield S, o

    def covered(self, o: np.ndarray) -> np.ndarray:
        return np.asarray((self.t[:, o] <= T + 1e-9).any(axis=1))

    def mclp(self, o: np.ndarray) -> float:
        return float(self.a[self.covered(o)].sum())

    def cmclp(self, o: np.ndarray) -> float:
        pairs = [(i, j) for i in range(len(self.a)) for j in np.flatnonzero(o) if self.t[i, j] <= T + 1e-9
                 and self.pop[i] > 0]
        if not pairs:
            return 0.0
        v = np.array([self.a[i] / self.pop[i] for i, _ in pairs])
        A, b = [], []
        for i in range(len(self.a)):
            A.append([1.0 if p == i else 0.0 for p, _ in pairs])
            b.append(self.pop[i])
        for j in np.flatnonzero(o):
            A.append([1.0 if q == j else 0.0 for _, q in pairs])
            b.append(self.cap[j])
        res = linprog(-v, A_ub=np.array(A), b_ub=np.array(b), bounds=(0, None), method="highs")
        assert res.status == 0
        return float(-res.fun)

    def pmedian(self, o: np.ndarray, radius: float = math.inf) -> float:
        tt = np.where(self.t[:, o] <= radius + 1e-9, self.t[:, o], math.inf).min(axis=1)
        reach = (self.t <= radius + 1e-9).any(axis=1)
        return float((self.a * np.minimum(tt, radius))[reach].sum())

    def shares_met(self, o: np.ndarray, shares: dict[str, float]) -> bool:
        cov = self.covered(o)
        for t in ("urban", "rural"):
            m = (self.places["area_type"] == t).to_numpy()
            if self.pop[m].sum() > 0 and self.pop[m & cov].sum() < shares[t] * self.pop[m].sum() - 1e-6:
                return False
        return True


def open_mask(plan, data: CircleData) -> np.ndarray:  # type: ignore[no-untyped-def]
    return data.sites["site_id"].isin(plan.summary["open_sites"]).to_numpy() | data.existing
