"""Make ``instances/fuzhou-circle/``: a synthetic 15-minute service circle for 10 pilot townships of Fuzhou.

F-CIRCLE (document F §7.3) plans 30 extension service points in pilot townships; the documents give no map.
This script makes a plausible one, seeded and deterministic (same files byte for byte on every run):

* **pilot townships**: 10 stations of ``instances/fuzhou-2026`` already in operation (status existing or upgrade),
  one per county for 10 of the 11 counties/districts, 2 of them urban streets;
* **places**: residential communities (urban, 30-40 per street) or villages (rural, 20-30 per township)
  scattered over the township (2.4 km square urban, 10 km rural); each township's residents and each group's
  residents are split over its places so that they sum *exactly* to the station's figures in the instance;
* **roads**: a jittered grid of junctions (300 m urban, 1 km rural) with some links removed (the grid stays
  connected), a detour factor of 1.1-1.3 on straight-line length; walking at 70-85 m/min in urban streets,
  15 km/h on village roads and 30 km/h on every fourth line (county roads) in rural townships; each place is
  joined to its nearest junction;
* **sites**: the township's station at its seat (existing; capacity 10,000 urban / 6,000 rural residents),
  candidate extension points (14 per urban street, 9 per rural township: 100 in all), spread over the
  township and favouring populous places (capacity 5,000 urban / 3,000 rural residents,
  A-CATCHMENT; opening cost 60,000-90,000 yuan urban, 30,000-60,000 rural, synthetic).

Usage::

    python instances/make_circle.py [--out instances/fuzhou-circle] [--seed 20240703]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 20240703
PILOTS = 10
URBAN_PILOTS = 2
# side (km), grid spacing (km), places (lo, hi), speed m/min (road; main road), capacities, candidates, cost range
SPEC: dict[str, dict[str, Any]] = {
    "urban": {"side": 2.4, "spacing": 0.3, "places": (30, 40), "speed": (70.0, 85.0), "main": None,
              "existing_cap": 10000, "cand_cap": 5000, "candidates": 14, "cost": (60000, 90000), "word": "community"},
    "rural": {"side": 10.0, "spacing": 1.0, "places": (20, 30), "speed": (250.0, 250.0), "main": 500.0,
              "existing_cap": 6000, "cand_cap": 3000, "candidates": 9, "cost": (30000, 60000), "word": "village"},
}


def split_exact(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(np.int64)
    rest = int(total - out.sum())
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:rest]] += 1
    return out


def pick_pilots(inst, rng: np.random.Generator) -> list[int]:  # type: ignore[no-untyped-def]
    """10 operating stations, one per county for 10 counties, the first 2 drawn counties urban streets."""
    st = inst.stations
    counties = sorted(set(st["county"]))
    chosen = rng.choice(len(counties), size=PILOTS, replace=False)
    pilots = []
    for n, ci in enumerate(chosen):
        county = counties[int(ci)]
        want = "urban" if n < URBAN_PILOTS else "rural"
        ok = [k for k in range(len(st)) if st["county"][k] == county and st["status"][k] != "new"]
        pref = [k for k in ok if st["area_type"][k] == want] or ok
        pilots.append(int(pref[int(rng.integers(len(pref)))]))
    return sorted(pilots)


def township(inst, k: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """Places, sites and edges of one pilot township."""
    st = inst.stations
    sid, sname, county, area = st["station_id"][k], st["name"][k], st["county"][k], st["area_type"][k]
    spec = SPEC[area]
    side, h = spec["side"], spec["spacing"]
    n = int(round(side / h)) + 1
    # junctions on a jittered grid
    gx, gy = np.meshgrid(np.arange(n) * h, np.arange(n) * h, indexing="ij")
    jx = gx + rng.uniform(-0.25, 0.25, gx.shape) * h
    jy = gy + rng.uniform(-0.25, 0.25, gy.shape) * h
    jid = np.array([[f"J{sid}_{r:02d}_{c:02d}" for c in range(n)] for r in range(n)], dtype=object)
    links = [((r, c), (r + 1, c)) for r in range(n - 1) for c in range(n)] + \
            [((r, c), (r, c + 1)) for r in range(n) for c in range(n - 1)]
    # keep a random spanning tree (Kruskal on random order) plus 85 % of the other links
    parent = {(r, c): (r, c) for r in range(n) for c in range(n)}

    def find(u):  # type: ignore[no-untyped-def]
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    order = rng.permutation(len(links))
    keep = np.zeros(len(links), dtype=bool)
    for li in order:
        a, b = links[li]
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            keep[li] = True
    keep |= rng.random(len(links)) < 0.85
    rows = []
    for li in np.flatnonzero(keep):
        (r1, c1), (r2, c2) = links[li]
        length = float(np.hypot(jx[r1, c1] - jx[r2, c2], jy[r1, c1] - jy[r2, c2])) * rng.uniform(1.1, 1.3)
        if spec["main"] is not None and (r1 == r2 and r1 % 4 == 0 or c1 == c2 and c1 % 4 == 0):
            speed = spec["main"]
        else:
            speed = rng.uniform(*spec["speed"])
        rows.append((jid[r1, c1], jid[r2, c2], round(length * 1000.0 / speed, 2)))
    # places
    n_places = int(rng.integers(spec["places"][0], spec["places"][1] + 1))
    px = rng.uniform(0, side, n_places)
    py = rng.uniform(0, side, n_places)
    seat = int(np.argmin(np.hypot(px - side / 2, py - side / 2)))
    pids = [f"{sid}-P{i + 1:02d}" for i in range(n_places)]
    names = [f"{sname} seat" if i == seat else f"{sname} {spec['word']} {i + 1}" for i in range(n_places)]
    for i in range(n_places):
        d = np.hypot(jx - px[i], jy - py[i])
        r, c = np.unravel_index(int(np.argmin(d)), d.shape)
        length = float(d[r, c]) * 1.2 + 0.02
        rows.append((pids[i], jid[r, c], round(length * 1000.0 / spec["speed"][0], 2)))
    weight = rng.gamma(2.0, 1.0, n_places)
    weight[seat] *= 3.0
    pop = split_exact(int(st["population"][k]), weight)
    places = pd.DataFrame({"place_id": pids, "name": names, "township": sid, "county": county,
                           "area_type": area, "population": pop})
    for gi, g in enumerate(inst.group_ids):
        total = int(inst.residents[k, gi])
        counts = split_exact(total, pop * rng.lognormal(0.0, 0.15, n_places))
        over = counts > pop
        while over.any():  # never more of a group than residents in a place
            i = int(np.flatnonzero(over)[0])
            excess = int(counts[i] - pop[i])
            counts[i] -= excess
            counts[int(np.argmax(pop - counts))] += excess
            over = counts > pop
        places[g] = counts
    # sites: the station at the seat, candidates at populous places
    # spread out, favouring populous places: each pick maximises sqrt(population) x distance to the points so
    # far (the seat included), jittered; a planner lists premises across the township, not all in one spot
    chosen = [seat]
    for _ in range(min(spec["candidates"], n_places - 1)):
        dist = np.min(np.hypot(px[:, None] - px[chosen][None, :], py[:, None] - py[chosen][None, :]), axis=1)
        score = np.sqrt(pop) * dist * rng.uniform(0.7, 1.3, n_places)
        score[chosen] = -1.0
        chosen.append(int(np.argmax(score)))
    cand = np.sort(np.array(chosen[1:], dtype=np.int64))
    lo, hi = spec["cost"]
    sites = [{"site_id": f"S{sid}", "name": f"{sname} social-work station", "place_id": pids[seat],
              "kind": "existing", "opening_cost": 0, "capacity": spec["existing_cap"]}]
    for m, i in enumerate(cand):
        sites.append({"site_id": f"X{sid}-{m + 1:02d}", "name": f"Extension point at {names[i]}",
                      "place_id": pids[i], "kind": "candidate",
                      "opening_cost": int(rng.integers(lo // 1000, hi // 1000 + 1)) * 1000,
                      "capacity": spec["cand_cap"]})
    return {"places": places, "sites": pd.DataFrame(sites),
            "edges": pd.DataFrame(rows, columns=["from_id", "to_id", "minutes"])}


def circle_toml(inst) -> str:  # type: ignore[no-untyped-def]
    lines = [
        "# 15-minute service circle of 10 pilot townships (F-CIRCLE); synthetic: see README.md.",
        "[circle]",
        'name = "Fuzhou pilot townships, 15-minute circle (synthetic)"',
        'instance = "../fuzhou"',
        "minutes = 15",
        "points = 30",
        "directed = false",
        "",
        "[coverage]  # LSCP targets: urban 95 % (A-COVERAGE), rural 80 % (F-COVERAGE)",
        "urban = 0.95",
        "rural = 0.80",
        "",
        "[pmedian]",
        "radius = 45",
        "",
        "# weight of one resident = the instance's group weight x need_share",
    ]
    for g in inst.groups:
        lines += ["", f"[groups.{g.id}]", f'label = "{g.label}"', f"weight = {round(g.weight * g.need_share, 6)}"]
    return "\n".join(lines) + "\n"


README_HEAD = """# Fuzhou pilot townships: the 15-minute service circle (synthetic)

Made by `python instances/make_circle.py` (seed {seed}; deterministic). **Everything below the township level is
synthetic**: the documents name no villages, roads or sites. Only the townships, their residents and their
groups' residents come from `instances/fuzhou-2026` (each township's places sum exactly to its station's figures).

Run: `allocator circle instances/fuzhou-circle --points 30` (or `--model cmclp|lscp|pmedian`, `--budget Y`).

| file | content | source |
|---|---|---|
"""
README_ROWS = [
    ("circle.toml", "T = 15 minutes, p = 30 points (F-CIRCLE); LSCP shares 95 % urban (A-COVERAGE), 80 % rural "
     "(F-COVERAGE); p-median radius 45 minutes; group weights = instance weight × need_share",
     "POLICY.md, instance"),
    ("places.csv", "{places} places in {pilots} pilot townships: communities (urban streets) and villages (rural "
     "townships)", "generator: positions uniform, sizes gamma-distributed, the seat 3×"),
    ("places.csv", "population, elderly ... low_income",
     "`instances/fuzhou-2026` stations.csv / groups.csv, split over places (largest remainder; exact sums)"),
    ("sites.csv", "{existing} existing township stations (at the seat) and {candidates} candidate extension points",
     "instance stations; candidates spread out, favouring populous places (generator)"),
    ("sites.csv", "capacity",
     "A-CATCHMENT: 5,000 residents urban, 3,000 rural per point; stations 10,000 / 6,000 (generator)"),
    ("sites.csv", "opening_cost", "synthetic: 60,000-90,000 yuan urban, 30,000-60,000 rural"),
    ("edges.csv", "{edges} road links, minutes", "generator: jittered grid (300 m urban, 1 km rural), detour "
     "1.1-1.3; walking 70-85 m/min urban; 15 km/h village roads, 30 km/h every fourth line rural"),
]
README = README_HEAD + "".join(f"| {a} | {b} | {c} |\n" for a, b, c in README_ROWS) + """
Pilot townships: {names}.
"""


def make(out: Path, seed: int = SEED) -> None:
    from allocator.instance import load

    inst = load(ROOT / "instances" / "fuzhou-2026")
    rng = np.random.default_rng(seed)
    pilots = pick_pilots(inst, rng)
    parts = [township(inst, k, rng) for k in pilots]
    places = pd.concat([p["places"] for p in parts], ignore_index=True)
    sites = pd.concat([p["sites"] for p in parts], ignore_index=True)
    edges = pd.concat([p["edges"] for p in parts], ignore_index=True)
    st = inst.stations
    names = ", ".join(f"{st['station_id'][k]} {st['name'][k]} ({st['county'][k]}, {st['area_type'][k]})"
                      for k in pilots)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "circle.toml").write_text(circle_toml(inst), encoding="utf-8")
        places.to_csv(tmp / "places.csv", index=False, lineterminator="\n")
        sites.to_csv(tmp / "sites.csv", index=False, lineterminator="\n")
        edges.to_csv(tmp / "edges.csv", index=False, lineterminator="\n", float_format="%.2f")
        (tmp / "README.md").write_text(README.format(
            seed=seed, places=len(places), pilots=len(pilots), existing=int((sites["kind"] == "existing").sum()),
            candidates=int((sites["kind"] == "candidate").sum()), edges=len(edges), names=names), encoding="utf-8")
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "instances" / "fuzhou-circle")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    make(args.out, args.seed)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
