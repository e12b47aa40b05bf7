"""`allocator circle`: each model against brute-force enumeration, coverage re-derived from the network.

The brute force and the travel times here are independent of ``allocator/circle.py``: a heapq Dijkstra over
the edge list, plain enumeration of the candidate subsets, and (capacitated MCLP) one small
``scipy.optimize.linprog`` per subset for the assignment.
"""

from __future__ import annotations

import filecmp
import heapq
import itertools
import json
import math
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.optimize import linprog

from allocator.circle import CircleData, load_circle, solve_circle, travel_reach
from cli import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, main
from solvers import SolveOptions, Status
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


SEEDS = [1, 2, 3]


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed{s}")
def case(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = tiny(request.param)
    d = load_circle(write_folder(tmp_path / "c", t))
    return t, d, Brute(t)


# ---------------------------------------------------------------------------
# models against enumeration
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("points", [0, 1, 2, 3])
def test_mclp_matches_enumeration(case, points: int) -> None:  # type: ignore[no-untyped-def]
    t, d, b = case
    best = max(b.mclp(o) for _, o in b.subsets(points))
    plan = solve_circle(d, "mclp", points=points)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    o = open_mask(plan, d)
    assert (o & ~d.existing).sum() <= points
    assert b.mclp(o) == pytest.approx(best, rel=1e-6, abs=1e-6)  # the plan itself achieves it


def test_mclp_with_a_budget_matches_enumeration(case) -> None:  # type: ignore[no-untyped-def]
    t, d, b = case
    budget = float(np.sort(b.cost[b.cand])[:2].sum()) + 5000.0
    best = max(b.mclp(o) for _, o in b.subsets(budget=budget))
    plan = solve_circle(d, "mclp", points=None, budget=budget)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    o = open_mask(plan, d)
    assert b.cost[o & ~d.existing].sum() <= budget + 1e-6


@pytest.mark.parametrize("points", [1, 2])
def test_capacitated_mclp_matches_enumeration_with_an_lp_per_subset(case, points: int) -> None:  # type: ignore
    t, d, b = case
    best = max(b.cmclp(o) for _, o in b.subsets(points))
    plan = solve_circle(d, "cmclp", points=points)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-4, abs=1e-4)
    # the assignment written respects capacities and reach
    a = plan.tables["assignment"]
    load = a.groupby("site_id")["residents"].sum()
    cap = dict(zip(d.sites["site_id"], d.sites["capacity"], strict=True))
    assert all(load[s] <= cap[s] + 1e-6 for s in load.index)
    assert (a["minutes"] <= T + 1e-6).all()
    assert set(a["site_id"]) <= set(plan.summary["open_sites"]) | set(d.sites["site_id"][d.existing])


@pytest.mark.parametrize("shares", [{"urban": 0.7, "rural": 0.6}, {"urban": 1.0, "rural": 1.0},
                                    {"urban": 1.0, "rural": 0.5}], ids=["shares", "classic", "mixed"])
def test_lscp_matches_enumeration_and_says_infeasible(case, shares: dict[str, float]) -> None:  # type: ignore
    t, d, b = case
    feasible = [len(S) for S, o in b.subsets() if b.shares_met(o, shares)]
    d2 = replace(d, shares=shares)
    plan = solve_circle(d2, "lscp")
    if feasible:
        assert plan.status is Status.OPTIMAL
        assert plan.objective == pytest.approx(min(feasible))
        assert b.shares_met(open_mask(plan, d2), shares)
    else:
        assert plan.status is Status.INFEASIBLE
    # a share no set of sites reaches: proven infeasible, with the best share in a note
    all_open = b.ex | True
    cov = b.covered(all_open)
    urban = (b.places["area_type"] == "urban").to_numpy()
    if b.pop[urban].sum() > 0 and b.pop[urban & cov].sum() < b.pop[urban].sum():
        d3 = replace(d, shares={"urban": 1.0, "rural": 0.0001})
        p3 = solve_circle(d3, "lscp")
        assert p3.status is Status.INFEASIBLE
        assert any("even with every site open" in n for n in p3.summary["notes"])


@pytest.mark.parametrize("points", [1, 2])
def test_pmedian_matches_enumeration(case, points: int) -> None:  # type: ignore[no-untyped-def]
    t, d, b = case
    big = float(np.nanmax(np.where(np.isfinite(b.t), b.t, np.nan))) + 1.0
    best = min(b.pmedian(o) for _, o in b.subsets(points))
    d2 = replace(d, radius=big)
    plan = solve_circle(d2, "pmedian", points=points)
    assert plan.status is Status.OPTIMAL
    assert plan.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert plan.summary["radius_exact"] is True
    # a radius below the farthest trip: the restricted model is a relaxation of the full one
    small = replace(d, radius=T)
    ps = solve_circle(small, "pmedian", points=points)
    assert ps.status is Status.OPTIMAL
    assert ps.objective == pytest.approx(min(b.pmedian(o, T) for _, o in b.subsets(points)), rel=1e-6, abs=1e-6)
    if ps.summary["radius_exact"]:
        assert b.pmedian(open_mask(ps, small)) == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_a_travel_table_gives_the_same_plan_as_the_network(tmp_path: Path) -> None:
    t = tiny(5)
    b = Brute(t)
    rows = [(p, s, b.t[i, j]) for i, p in enumerate(t["places"]["place_id"])
            for j, s in enumerate(t["sites"]["site_id"]) if np.isfinite(b.t[i, j])]
    t2 = {"places": t["places"], "sites": t["sites"],
          "travel": pd.DataFrame(rows, columns=["place_id", "site_id", "minutes"])}
    p1 = solve_circle(load_circle(write_folder(tmp_path / "net", t)), "mclp")
    p2 = solve_circle(load_circle(write_folder(tmp_path / "tab", t2)), "mclp")
    assert p1.objective == pytest.approx(p2.objective)


def test_one_way_edges_count_from_place_to_site() -> None:
    places = pd.DataFrame({"place_id": ["A", "B"], "elderly": [10, 10]})
    sites = pd.DataFrame({"site_id": ["SA", "SB"], "place_id": ["A", "B"]})
    edges = pd.DataFrame({"from_id": ["A"], "to_id": ["B"], "minutes": [5.0]})
    d = CircleData.from_frames(places, sites, {"elderly": 1.0}, edges=edges, directed=True)
    r = travel_reach(d, 15.0)
    pairs = set(zip(r.place.tolist(), r.site.tolist(), strict=True))
    assert (0, 1) in pairs and (1, 0) not in pairs  # A reaches SB; B cannot reach SA
    d2 = CircleData.from_frames(places, sites, {"elderly": 1.0}, edges=edges)
    r2 = travel_reach(d2, 15.0)
    assert (1, 0) in set(zip(r2.place.tolist(), r2.site.tolist(), strict=True))


# ---------------------------------------------------------------------------
# the written plan, re-derived from the network
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["mclp", "cmclp", "pmedian"])
def test_written_plan_coverage_matches_an_independent_dijkstra(tmp_path: Path, model: str) -> None:
    t = tiny(11, n_nodes=24, n_places=16, n_cand=8)
    folder = write_folder(tmp_path / "c", t, points=3)
    out = tmp_path / "plan"
    r = run("circle", folder, "--model", model, "--out", out)
    assert r.exit_code == EXIT_OK, r.output
    b = Brute(t)
    points = pd.read_csv(out / "points.csv")
    places = pd.read_csv(out / "places.csv", keep_default_na=False)
    o = points["open"].to_numpy() == 1
    assert (points["new"].sum()) <= 3
    cov = b.covered(o)
    assert places["within_T"].tolist() == cov.astype(int).tolist()
    near = np.where(o[None, :], b.t, math.inf).min(axis=1)
    for i, row in places.iterrows():
        if row["minutes"] != "":
            assert float(row["minutes"]) == pytest.approx(near[i], abs=1e-3)
    groups = pd.read_csv(out / "coverage_group.csv").set_index("group")
    for g in WEIGHTS:
        assert groups.loc[g, "within_T"] == pytest.approx(float(t["places"][g][cov].sum()))
    a = pd.read_csv(out / "assignment.csv")
    sid = {s: j for j, s in enumerate(t["sites"]["site_id"])}
    pid = {p: i for i, p in enumerate(t["places"]["place_id"])}
    for row in a.itertuples():
        assert o[sid[row.site_id]]
        assert row.minutes == pytest.approx(b.t[pid[row.place_id], sid[row.site_id]], abs=1e-3)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["model"] == model
    if model == "mclp":
        assert summary["objective"] == pytest.approx(b.mclp(o), rel=1e-6)


def test_an_infeasible_lscp_writes_nothing_and_exits_3(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "c", tiny(2), toml_extra="[coverage]\nurban = 1.0\nrural = 1.0\n")
    b = Brute(tiny(2))
    assert not b.covered(np.ones(len(b.ex), bool)).all()  # some place is beyond every site
    r = run("circle", folder, "--model", "lscp", "--out", tmp_path / "plan")
    assert r.exit_code == EXIT_INFEASIBLE, r.output
    assert "INFEASIBLE" in r.output
    assert not (tmp_path / "plan").exists()


# ---------------------------------------------------------------------------
# the shipped Fuzhou circle
# ---------------------------------------------------------------------------
def test_fuzhou_circle_with_30_points_is_optimal(tmp_path: Path) -> None:
    r = run("circle", FUZHOU_CIRCLE, "--points", "30", "--json", "--out", tmp_path / "plan")
    assert r.exit_code == EXIT_OK, r.output
    s = json.loads(r.stdout)
    assert s["status"] == "optimal" and s["totals"]["new_points"] == 30
    assert s["objective"] == pytest.approx(s["objective_recomputed"], rel=1e-6)
    assert 0.5 < s["totals"]["share_within_T"] < 1.0
    assert set(s["coverage_by_group"]) == {"elderly", "children", "left_behind_children", "disabled", "migrants",
                                           "low_income"}
    assert len(s["coverage_by_township"]) == 10
    files = {p.name for p in (tmp_path / "plan").iterdir()}
    assert files == {"points.csv", "places.csv", "assignment.csv", "coverage_group.csv", "coverage_township.csv",
                     "coverage_county.csv", "uncovered.csv", "summary.json", "manifest.json"}
    # an instance folder finds its circle beside it
    r2 = run("circle", ROOT / "instances" / "fuzhou", "--points", "30", "--out", tmp_path / "plan2")
    assert r2.exit_code == EXIT_OK
    for f in files:
        assert (tmp_path / "plan" / f).read_bytes() == (tmp_path / "plan2" / f).read_bytes(), f


def test_fuzhou_circle_places_sum_to_the_instance_townships() -> None:
    from allocator.instance import load

    inst = load(ROOT / "instances" / "fuzhou")
    d = load_circle(FUZHOU_CIRCLE)
    st = list(inst.stations["station_id"])
    sums = d.places.groupby("township")[["population", *inst.group_ids]].sum()
    assert len(sums) == 10 and (d.sites["kind"] == "candidate").sum() == 100
    for tw, row in sums.iterrows():
        k = st.index(tw)
        assert row["population"] == inst.stations["population"][k]
        assert row[list(inst.group_ids)].tolist() == inst.residents[k].tolist()


def test_make_circle_reproduces_the_shipped_folder(tmp_path: Path) -> None:
    out = tmp_path / "fc"
    subprocess.run([sys.executable, str(ROOT / "instances" / "make_circle.py"), "--out", str(out)], check=True,
                   capture_output=True)
    cmp = filecmp.dircmp(out, FUZHOU_CIRCLE)
    assert not cmp.left_only and not cmp.right_only
    for f in cmp.common_files:
        assert (out / f).read_bytes() == (FUZHOU_CIRCLE / f).read_bytes(), f


def test_time_limit_runs_under_the_guard_and_other_models_run(tmp_path: Path) -> None:
    r = run("circle", FUZHOU_CIRCLE, "--model", "pmedian", "--time-limit", "60", "--json")
    assert r.exit_code == EXIT_OK, r.output
    assert json.loads(r.stdout)["radius_exact"] is True
    r = run("circle", FUZHOU_CIRCLE, "--model", "lscp", "--json")
    assert r.exit_code == EXIT_OK and json.loads(r.stdout)["totals"]["share_within_T"] >= 0.8


# ---------------------------------------------------------------------------
# bad input: exit 2 with file, row, column
# ---------------------------------------------------------------------------
def _edit(folder: Path, file: str, row: int, column: str, value: str) -> None:
    df = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    df.loc[row - 2, column] = value  # spreadsheet row: header = 1
    df.to_csv(folder / file, index=False)


MALFORMED = [
    # file            row  column          value        rule
    ("places.csv",    3,   "elderly",      "-4",        "out_of_range"),
    ("places.csv",    4,   "population",   "many",      "wrong_type"),
    ("places.csv",    5,   "area_type",    "suburb",    "bad_choice"),
    ("places.csv",    6,   "place_id",     "F020-P01",  "duplicate_id"),
    ("places.csv",    7,   "township",     "F999",      "unknown_reference"),
    ("places.csv",    8,   "county",       "Nowhere",   "county_mismatch"),
    ("sites.csv",     2,   "kind",         "maybe",     "bad_choice"),
    ("sites.csv",     4,   "place_id",     "nowhere",   "unknown_reference"),
    ("sites.csv",     5,   "capacity",     "-1",        "out_of_range"),
    ("edges.csv",     5,   "minutes",      "abc",       "wrong_type"),
    ("edges.csv",     9,   "from_id",      "",          "missing_value"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "row", "column", "value", "rule"), MALFORMED,
                         ids=[f"{m[0]}-{m[2]}-{m[4]}" for m in MALFORMED])
def test_malformed_input_exits_2_naming_file_row_column(tmp_path: Path, file: str, row: int, column: str,
                                                        value: str, rule: str) -> None:
    folder = tmp_path / "fuzhou-circle"
    shutil.copytree(FUZHOU_CIRCLE, folder)
    (folder / "circle.toml").write_text((folder / "circle.toml").read_text().replace(
        'instance = "../fuzhou"', f'instance = "{ROOT / "instances" / "fuzhou"}"'))
    _edit(folder, file, row, column, value)
    r = run("circle", folder, "--json")
    assert r.exit_code == EXIT_INPUT, r.output
    errors = json.loads(r.stdout)["errors"]
    assert any(e["file"] == file and e["row"] == row and e["column"] == column and e["rule"] == rule
               for e in errors), errors


def test_malformed_settings_and_files(tmp_path: Path) -> None:
    t = tiny(1)
    f = write_folder(tmp_path / "a", t)
    (f / "circle.toml").write_text((f / "circle.toml").read_text().replace("minutes = 15.0", "minutes = -5"))
    r = run("circle", f, "--json")
    assert r.exit_code == EXIT_INPUT
    e = json.loads(r.stdout)["errors"]
    assert e[0]["file"] == "circle.toml" and e[0]["row"] == 3 and e[0]["column"] == "circle.minutes"
    f = write_folder(tmp_path / "b", {**t, "places": t["places"].drop(columns="area_type")})
    e = json.loads(run("circle", f, "--json").stdout)["errors"]
    assert (e[0]["file"], e[0]["row"], e[0]["column"], e[0]["rule"]) == ("places.csv", 1, "area_type",
                                                                         "missing_column")
    f = write_folder(tmp_path / "c", {**t, "travel": pd.DataFrame({"place_id": ["N00"], "site_id": ["E1"],
                                                                   "minutes": [1]})})
    r = run("circle", f, "--json")
    assert r.exit_code == EXIT_INPUT
    assert json.loads(r.stdout)["errors"][0]["rule"] == "ambiguous_travel"
    assert run("circle", tmp_path / "nowhere").exit_code == EXIT_INPUT


@pytest.mark.parametrize("args", [["--points", "3", "--budget", "100"], ["--model", "lscp", "--points", "3"],
                                  ["--solver", "nosuch"], ["--minutes", "0"], ["--model", "nosuch"]])
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert run("circle", FUZHOU_CIRCLE, *args).exit_code == EXIT_INPUT


def test_from_frames_and_options() -> None:
    t = tiny(3)
    d = CircleData.from_frames(t["places"], t["sites"], WEIGHTS, edges=t["edges"], points=2)
    plan = solve_circle(d, "mclp", options=SolveOptions(mip_gap=0.0), tables=False)
    assert plan.status is Status.OPTIMAL and not plan.tables
    assert plan.objective == pytest.approx(max(Brute(t).mclp(o) for _, o in Brute(t).subsets(2)))
