"""Travel times: place -> site pairs within a radius, as sparse pairs (never an all-pairs matrix)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.circle.data import EPS, CircleData


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
