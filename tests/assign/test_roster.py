"""The worker roster (issue 6): exact against brute force, the F-LOCAL-HIRE rule, the seeds end to end.

Small generated cases (3 stations, at most 7 workers) are solved by :func:`allocator.assign.solve_roster`
and by enumerating every worker -> post assignment here, with this file's own cost arithmetic; the
optimal costs must agree exactly, with and without a move limit, with and without F-LOCAL-HIRE,
through both methods (min-cost flow and MILP) and both kinds of destination hub (county; station when
travel.csv prices the trip).  The seeds are solved once per module, assigned through the CLI and
verified with ``allocator verify --assignment``; a roster broken on purpose must fail with the
clause's id and exit code 7.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from allocator.assign import RosterCosts, solve_roster, upgrade_costs, write_assignment
from allocator.instance import Instance, load
from allocator.verify import verify_assignment
from cli import main
from solvers import Status
from tests.conftest import MINI_SETTINGS, MINI_TABLES, ROOT, write_instance

POSTS = ("admin", "sw_uncertified", "sw_certified_assistant", "sw_certified_intermediate", "volunteer")
POST_TYPE = ("admin", "social_worker", "social_worker", "social_worker", "volunteer")
POST_LEVEL = (0, 0, 1, 2, 0)
PLAN_COLUMN = {"admin": "admin", "sw_uncertified": "sw_uncertified",
               "sw_certified_assistant": "sw_certified_assistant",
               "sw_certified_intermediate": "sw_certified_intermediate", "volunteer": "volunteers"}
LEVELS = ("none", "assistant", "intermediate")
COSTS = RosterCosts(move_within_county=1000.0, move_county_change=2500.0, per_travel_minute=50.0,
                    seniority_years=4.0, certify=1800.0, promote=2600.0, local_shortfall=100000.0)
HIRE_SW = 12 * 3000.0          # MINI_SETTINGS: A-SALARY monthly_min 3,000
SHARE = 0.5


# ---------------------------------------------------------------------------
# generated cases
# ---------------------------------------------------------------------------
def tables(plan_dir: Path) -> dict[str, pd.DataFrame]:
    """A plan folder's tables: the plan value the roster takes (its ``tables``)."""
    return {p.stem: pd.read_csv(p, dtype={"station_id": str}) for p in sorted(Path(plan_dir).glob("*.csv"))}


def make_case(folder: Path, seed: int, *, local: bool, travel: bool) -> dict[str, Any]:
    """Three stations (two counties, rural ones among them), 4-7 workers, posts that fit them roughly."""
    rng = np.random.default_rng(seed)
    S = 3
    county = ["C1", "C1", "C2"]
    area = ["urban", "rural", "rural"] if seed % 2 else ["rural", "urban", "rural"]
    W = int(rng.integers(4, 8))
    wtype = np.where(rng.random(W) < 0.15, "admin", "social_worker")
    wl = np.where(wtype == "social_worker", rng.choice(3, W, p=[0.5, 0.3, 0.2]), 0)
    home = rng.integers(0, S, W)
    reg = rng.random(W) < 0.45
    years = rng.integers(0, 12, W)
    P = np.zeros((S, len(POSTS)), dtype=int)
    for w in range(W):   # a post for everyone at home, at their level or (sometimes) higher
        k = POSTS.index("admin") if wtype[w] == "admin" else 1 + min(2, int(wl[w]) + int(rng.random() < 0.3))
        s = int(home[w]) if rng.random() < 0.8 else int(rng.integers(0, S))
        P[s, k] += 1
    for _ in range(int(rng.integers(0, 3))):     # a few more posts, to hire
        P[int(rng.integers(0, S)), int(rng.integers(1, 4))] += 1
    settings = copy.deepcopy(MINI_SETTINGS)
    if local:
        settings["clauses"]["F-LOCAL-HIRE"] = {"share": SHARE}
    stations = pd.DataFrame([{**MINI_TABLES["stations"].iloc[0].to_dict(), "station_id": f"S{s + 1}",
                              "name": f"Station {s + 1}", "county": county[s], "area_type": area[s]}
                             for s in range(S)])
    staff = pd.DataFrame({"worker_id": [f"W{w + 1}" for w in range(W)], "station_id": [f"S{h + 1}" for h in home],
                          "type": wtype, "certified": wl > 0, "level": [LEVELS[x] for x in wl],
                          "local_registration": reg, "years_of_service": years})
    tables = {**MINI_TABLES, "stations": stations, "staff": staff}
    minutes = np.zeros((S, S))
    if travel:
        rows = []
        for a in range(S):
            for b in range(a + 1, S):
                m = int(rng.integers(5, 40))
                minutes[a, b] = minutes[b, a] = m
                rows.append({"from_id": f"S{a + 1}", "to_id": f"S{b + 1}", "minutes": m})
        tables["travel"] = pd.DataFrame(rows)
    inst_dir = write_instance(folder / "inst", settings, tables)
    plan = folder / "plan"
    plan.mkdir()
    pd.DataFrame({"station_id": stations["station_id"], **{PLAN_COLUMN[k]: P[:, i] for i, k in enumerate(POSTS)}}
                 ).to_csv(plan / "staff.csv", index=False)
    return {"inst": inst_dir, "plan": plan, "P": P, "home": home, "county": np.array(county),
            "rural": np.array(area) == "rural", "wtype": wtype, "wl": wl, "reg": reg, "years": years,
            "minutes": minutes, "local": local}


def worker_cost(c: dict[str, Any], w: int, s: int, k: int, costs: RosterCosts = COSTS) -> int:
    """This file's own arithmetic: move (seniority-weighted) + upgrade steps, whole yuan."""
    move = 0
    if s != c["home"][w]:
        base = costs.move_within_county if c["county"][s] == c["county"][c["home"][w]] else costs.move_county_change
        base += costs.per_travel_minute * c["minutes"][c["home"][w], s]
        move = round((1 + c["years"][w] / costs.seniority_years) * base)
    up = 0.0
    if c["wtype"][w] == "social_worker":
        if c["wl"][w] == 0 and POST_LEVEL[k] >= 1:
            up += costs.certify or 0.0
        if c["wl"][w] <= 1 and POST_LEVEL[k] == 2:
            up += costs.promote or 0.0
    return int(move + round(up))


def total_cost(c: dict[str, Any], placement: list[tuple[int, int]]) -> float:
    """Roster cost + hiring cost + local shortfall penalty of a complete placement."""
    P = c["P"]
    placed = np.zeros_like(P)
    local = np.zeros(len(P), dtype=int)
    cost = 0.0
    for w, (s, k) in enumerate(placement):
        placed[s, k] += 1
        cost += worker_cost(c, w, s, k)
        if POST_TYPE[k] == "social_worker" and c["reg"][w] and c["county"][s] == c["county"][c["home"][w]]:
            local[s] += 1
    hire = np.array([0.0, HIRE_SW, HIRE_SW, HIRE_SW, 0.0])
    cost += float(((P - placed) * hire).sum())
    if c["local"]:
        for s in range(len(P)):
            sw_posts = int(P[s, 1:4].sum())
            if c["rural"][s] and sw_posts:
                need = math.ceil(SHARE * sw_posts - 1e-9)
                short = max(0, need - local[s] - int((P[s, 1:4] - placed[s, 1:4]).sum()))
                cost += COSTS.local_shortfall * short
    return cost


def brute_force(c: dict[str, Any], max_moves: int | None) -> float | None:
    """The cheapest complete placement by enumeration (None: there is none)."""
    P, W = c["P"], len(c["home"])
    options = [[(s, k) for s in range(len(P)) for k in range(len(POSTS))
                if POST_TYPE[k] == c["wtype"][w] and POST_LEVEL[k] >= c["wl"][w] and P[s, k] > 0] for w in range(W)]
    cap = P.copy()
    best: list[float] = []
    chosen: list[tuple[int, int]] = []

    def go(w: int, moves: int) -> None:
        if w == W:
            best.append(total_cost(c, chosen))
            return
        for s, k in options[w]:
            m = moves + (s != c["home"][w])
            if cap[s, k] == 0 or (max_moves is not None and m > max_moves):
                continue
            cap[s, k] -= 1
            chosen.append((s, k))
            go(w + 1, m)
            chosen.pop()
            cap[s, k] += 1

    go(0, 0)
    return min(best) if best else None


def check_roster_against(c: dict[str, Any], res: Any, max_moves: int | None) -> None:
    """The returned roster is complete and within the limits, and costs what the solver says."""
    r = res.roster
    assert list(r["worker_id"]) == [f"W{w + 1}" for w in range(len(c["home"]))]
    placement = []
    for w, row in enumerate(r.itertuples(index=False)):
        s = int(row.to_station[1:]) - 1
        lvl = LEVELS.index(row.to_level)
        k = POSTS.index("admin") if row.type == "admin" else 1 + lvl
        placement.append((s, k))
        assert row.cost == worker_cost(c, w, s, k)
        assert row.moved == int(s != c["home"][w])
    if max_moves is not None:
        assert r["moved"].sum() <= max_moves
    assert res.objective == total_cost(c, placement)


@pytest.mark.parametrize("max_moves", [0, 1, 2, None])
@pytest.mark.parametrize(("local", "travel"), [(False, False), (True, False), (True, True), (False, True)])
@pytest.mark.parametrize("seed", range(6))
def test_roster_matches_brute_force(tmp_path: Path, seed: int, local: bool, travel: bool,
                                    max_moves: int | None) -> None:
    c = make_case(tmp_path, seed * 7 + 3, local=local, travel=travel)
    inst = load(c["inst"])
    res = solve_roster(inst, tables(c["plan"]), max_moves=max_moves, costs=COSTS)
    best = brute_force(c, max_moves)
    if best is None:
        assert res.status is Status.INFEASIBLE, res.summary
        assert "IN-POST" in res.message or "--max-moves" in res.message, res.message
        return
    assert res.status is Status.OPTIMAL, res.message
    assert res.objective == best
    check_roster_against(c, res, max_moves)
    flow = max_moves == 0 or (max_moves is None and not (local and c["rural"].any()))
    assert res.method == ("min-cost flow" if flow else "MILP")


def test_the_local_share_binds_and_moves_a_worker(tmp_path: Path) -> None:
    """A rural station whose two workers are not local: F-LOCAL-HIRE moves one to the urban station."""
    c = make_case(tmp_path, 0, local=True, travel=False)
    inst_dir = c["inst"]
    stations = pd.read_csv(inst_dir / "stations.csv")
    stations["area_type"] = ["urban", "rural", "urban"]
    stations["county"] = ["C1", "C1", "C2"]
    stations.to_csv(inst_dir / "stations.csv", index=False)
    staff = pd.DataFrame({"worker_id": ["W1", "W2", "W3", "W4"], "station_id": ["S2", "S2", "S1", "S3"],
                          "type": "social_worker", "certified": False, "level": "none",
                          "local_registration": [False, False, True, True], "years_of_service": [8, 2, 5, 1]})
    staff.to_csv(inst_dir / "stations.csv".replace("stations", "staff"), index=False)
    P = np.array([[0, 2, 0, 0, 0], [0, 2, 0, 0, 0], [0, 1, 0, 0, 0]])
    pd.DataFrame({"station_id": ["S1", "S2", "S3"], **{PLAN_COLUMN[k]: P[:, i] for i, k in enumerate(POSTS)}}
                 ).to_csv(c["plan"] / "staff.csv", index=False)
    c.update(P=P, home=np.array([1, 1, 0, 2]), county=np.array(["C1", "C1", "C2"]),
             rural=np.array([False, True, False]), wtype=np.array(["social_worker"] * 4), wl=np.zeros(4, int),
             reg=np.array([False, False, True, True]), years=np.array([8, 2, 5, 1]), minutes=np.zeros((3, 3)))
    inst = load(inst_dir)
    stay = solve_roster(inst, tables(c["plan"]), max_moves=0, costs=COSTS)
    assert stay.summary["local_shortfall"] == 1 and stay.objective == brute_force(c, 0)
    moved = solve_roster(inst, tables(c["plan"]), max_moves=1, costs=COSTS)
    assert moved.method == "MILP" and moved.summary["local_shortfall"] == 0
    assert moved.objective == brute_force(c, 1)
    r = moved.roster.set_index("worker_id")
    assert r.loc["W2", "moved"] == 1 and r.loc["W1", "moved"] == 0      # the junior one moves
    assert r.loc["W2", "to_station"] == "S1"                              # within the county
    # S2: 1 non-local worker + 1 local hire = 1 >= 0.5 x 2
    hires = moved.hires.set_index("station_id")
    assert hires.loc["S2", "hires"] == 1 and hires.loc["S2", "local_required"] == 1
    assert moved.local.set_index("station_id").loc["S2", "shortfall"] == 0


def test_no_roster_when_the_posts_cannot_hold_the_staff(tmp_path: Path) -> None:
    c = make_case(tmp_path, 1, local=False, travel=False)
    P = np.zeros_like(c["P"])
    pd.DataFrame({"station_id": ["S1", "S2", "S3"], **{PLAN_COLUMN[k]: P[:, i] for i, k in enumerate(POSTS)}}
                 ).to_csv(c["plan"] / "staff.csv", index=False)
    res = solve_roster(load(c["inst"]), tables(c["plan"]))
    assert res.status is Status.INFEASIBLE and "IN-POST" in res.message


def test_upgrade_costs_come_from_the_instance() -> None:
    tiny = load(ROOT / "tests" / "instance" / "fixtures" / "tiny")
    assert upgrade_costs(tiny, RosterCosts()) == (3000.0, 3000.0)          # costs.training_per_worker
    a = load(ROOT / "instances" / "a-district-2026")
    assert upgrade_costs(a, RosterCosts()) == pytest.approx((1050.0, 1050.0))  # 40 h x 42,000 / 1,600 h
    assert upgrade_costs(a, RosterCosts(certify=10.0)) == pytest.approx((10.0, 1050.0))


def test_travel_minutes_price_a_move(tmp_path: Path) -> None:
    """With travel.csv the destination hubs are stations and each move is priced by its minutes."""
    c = make_case(tmp_path, 2, local=False, travel=True)
    res = solve_roster(load(c["inst"]), tables(c["plan"]), max_moves=None, costs=COSTS)
    assert res.status is Status.OPTIMAL
    check_roster_against(c, res, None)


# ---------------------------------------------------------------------------
# the seeds, end to end through the CLI
# ---------------------------------------------------------------------------
SEEDS = ("a-district-2026", "fuzhou-2026")


@pytest.fixture(scope="module")
def seed_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Instance, Path]]:
    """Each seed solved once (default options) and written as a plan directory."""
    from allocator.station import solve_instance, write_plan

    base = tmp_path_factory.mktemp("roster-plans")
    out = {}
    for seed in SEEDS:
        inst = load(ROOT / "instances" / seed)
        write_plan(solve_instance(inst), base / seed)
        out[seed] = (inst, base / seed)
    return out


@pytest.fixture(scope="module")
def seed_assignments(seed_plans: dict[str, tuple[Instance, Path]], tmp_path_factory: pytest.TempPathFactory
                     ) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("roster-assign")
    out = {}
    for seed in SEEDS:
        r = CliRunner().invoke(main, ["assign", str(ROOT / "instances" / seed), str(seed_plans[seed][1]),
                                      "--out", str(base / seed)])
        assert r.exit_code == 0, r.output
        out[seed] = base / seed
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_assignment_verifies(seed_plans: dict[str, tuple[Instance, Path]], seed_assignments: dict[str, Path],
                                  seed: str) -> None:
    inst, plan = seed_plans[seed]
    adir = seed_assignments[seed]
    assert {p.name for p in adir.iterdir()} == {"packages.csv", "package_stations.csv", "roster.csv", "hires.csv",
                                                "local_hire.csv", "assignment.json"}
    roster = pd.read_csv(adir / "roster.csv")
    assert list(roster.columns) == ["worker_id", "type", "from_station", "to_station", "from_level", "to_level",
                                    "moved", "upgrade", "cost"]
    assert list(pd.read_csv(adir / "hires.csv").columns) == ["station_id", "post", "hires", "local_required",
                                                             "annual_cost"]
    # IN-POST with --max-moves 0: only the plan's own moves (moves.csv, X-MOVES) move anyone
    plan_moves = pd.read_csv(plan / "moves.csv")["count"].sum() if (plan / "moves.csv").is_file() else 0
    assert len(roster) == len(inst.staff) and roster["moved"].sum() == plan_moves
    summary = json.loads((adir / "assignment.json").read_text())["roster"]
    assert summary["method"] == "min-cost flow" and summary["max_moves"] == 0
    r = CliRunner().invoke(main, ["verify", str(ROOT / "instances" / seed), str(plan), "--assignment", str(adir)])
    assert r.exit_code == 0, r.output
    report = verify_assignment(inst, plan, adir)
    ids = report.clause_ids()
    assert {"E1", "F-HIRING", "E-MOVES", "E-DEPT", "E-PACKAGES"} <= ids
    if seed == "fuzhou-2026":
        assert "F-LOCAL-HIRE" in ids


def test_seed_roster_with_moves_verifies(seed_plans: dict[str, tuple[Instance, Path]], tmp_path: Path) -> None:
    """fuzhou with 20 moves: a MILP; the moves go to F-LOCAL-HIRE's shortfalls first."""
    inst, plan = seed_plans["fuzhou-2026"]
    stay = solve_roster(inst, tables(plan))
    res = solve_roster(inst, tables(plan), max_moves=20)
    assert res.status is Status.OPTIMAL and res.method == "MILP"
    # solve_roster's summary holds these counts as int
    # the limit is on the roster's own moves, beyond the plan's moves.csv (made in both)
    assert 0 < cast(int, res.summary["roster_moves"]) <= 20
    assert res.summary["plan_moves"] == stay.summary["plan_moves"] == stay.summary["moved"]
    assert res.summary["moved"] == cast(int, res.summary["plan_moves"]) + cast(int, res.summary["roster_moves"])
    assert cast(int, res.summary["local_shortfall"]) < cast(int, stay.summary["local_shortfall"])
    assert res.objective is not None and stay.objective is not None and res.objective < stay.objective
    r = CliRunner().invoke(main, ["assign", str(ROOT / "instances" / "fuzhou-2026"), str(plan), "--max-moves", "20",
                                  "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["verify", str(ROOT / "instances" / "fuzhou-2026"), str(plan), "--assignment",
                                  str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    # the same directory again, now claiming a limit of 5: E-MOVES fails
    doc = json.loads((tmp_path / "a" / "assignment.json").read_text())
    doc["roster"]["max_moves"] = 5
    (tmp_path / "a" / "assignment.json").write_text(json.dumps(doc))
    report = verify_assignment(inst, plan, tmp_path / "a")
    assert report.clause_ids(failed_only=True) == {"E-MOVES"}


def _broken(seed_assignments: dict[str, Path], tmp_path: Path, seed: str) -> Path:
    out = tmp_path / "broken"
    shutil.copytree(seed_assignments[seed], out)
    return out


def test_uncertified_worker_in_a_certified_post_is_caught(seed_plans: dict[str, tuple[Instance, Path]],
                                                          seed_assignments: dict[str, Path], tmp_path: Path) -> None:
    inst, plan = seed_plans["fuzhou-2026"]
    adir = _broken(seed_assignments, tmp_path, "fuzhou-2026")
    ro = pd.read_csv(adir / "roster.csv", keep_default_na=False)
    # an uncertified worker in an assistant post, the upgrade 'certify' left off the roster
    cand = ro.index[(ro["from_level"] == "none") & (ro["to_level"] == "assistant")][0]
    station = ro.at[cand, "to_station"]
    ro.at[cand, "upgrade"] = ""
    ro.to_csv(adir / "roster.csv", index=False)
    report = verify_assignment(inst, plan, adir)
    assert [(c.clause_id, c.family, c.station_id) for c in report.failures] == [("F-CERT-RATE", "certified", station)]
    r = CliRunner().invoke(main, ["verify", str(ROOT / "instances" / "fuzhou-2026"), str(plan),
                                  "--assignment", str(adir)])
    assert r.exit_code == 7 and "F-CERT-RATE" in r.output


def test_dropping_local_hires_at_a_rural_station_is_caught(seed_plans: dict[str, tuple[Instance, Path]],
                                                           seed_assignments: dict[str, Path], tmp_path: Path) -> None:
    inst, plan = seed_plans["fuzhou-2026"]
    adir = _broken(seed_assignments, tmp_path, "fuzhou-2026")
    hi = pd.read_csv(adir / "hires.csv", dtype={"station_id": str})
    station = hi.loc[hi["local_required"] > 0, "station_id"].iloc[0]
    hi.loc[hi["station_id"] == station, "local_required"] = 0
    hi.to_csv(adir / "hires.csv", index=False)
    report = verify_assignment(inst, plan, adir)
    fails = {(c.clause_id, c.station_id) for c in report.failures}
    assert ("F-LOCAL-HIRE", station) in fails
    assert {c.clause_id for c in report.failures} == {"F-LOCAL-HIRE", "E-TOTALS"}   # local_required total too
    r = CliRunner().invoke(main, ["verify", str(ROOT / "instances" / "fuzhou-2026"), str(plan),
                                  "--assignment", str(adir), "--json"])
    assert r.exit_code == 7
    doc = json.loads(r.output)
    assert any(f["clause_id"] == "F-LOCAL-HIRE" and f["station_id"] == station for f in doc["failures"])


def test_write_assignment_is_whole_or_nothing(seed_plans: dict[str, tuple[Instance, Path]], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from allocator.assign import assign_packages

    inst, plan = seed_plans["a-district-2026"]
    pk = assign_packages(inst, tables(plan))
    ro = solve_roster(inst, tables(plan))
    write_assignment(pk, ro, tmp_path / "a")
    before = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError):
        write_assignment(pk, ro, tmp_path / "a")
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["a"]
    write_assignment(pk, ro, tmp_path / "b")                                  # reproducible, byte for byte
    assert {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()} == before


def _staff(inst: Instance) -> pd.DataFrame:
    return inst.staff.to_frame().astype({"worker_id": str, "station_id": str}).set_index("worker_id")


def test_plan_moves_are_made_and_only_they(seed_plans: dict[str, tuple[Instance, Path]],
                                           seed_assignments: dict[str, Path], tmp_path: Path) -> None:
    """fuzhou-2026 moves social workers (X-MOVES, moves.csv): the roster makes exactly those moves, with
    unprotected workers of the move's level; a swap of two workers that stay becomes two moves the plan does
    not make (E-MOVES), a protected worker moved in place of the plan's mover fails X-MOVES [protected]."""
    inst, plan = seed_plans["fuzhou-2026"]
    adir = seed_assignments["fuzhou-2026"]
    moves = pd.read_csv(plan / "moves.csv", dtype={"from_station": str, "to_station": str})
    assert moves["count"].sum() > 0
    ro = pd.read_csv(adir / "roster.csv", dtype={"from_station": str, "to_station": str}, keep_default_na=False)
    mv = ro[ro["moved"] == 1]
    got = mv.groupby(["from_station", "to_station", "from_level"]).size()
    want = moves.groupby(["from_station", "to_station", "level"])["count"].sum()
    assert got.to_dict() == want.to_dict()
    staff = _staff(inst)
    protected_years = inst.clause("X-MOVES").figures["protected_years"]  # type: ignore[union-attr]
    assert (staff.loc[mv["worker_id"], "years_of_service"] < protected_years).all()
    summary = json.loads((adir / "assignment.json").read_text())["roster"]
    assert summary["plan_moves"] == moves["count"].sum() and summary["roster_moves"] == 0

    # two unprotected workers who stay, same type, level, post and registration, in two counties: swapped
    stay = ro[(ro["moved"] == 0) & (ro["type"] == "social_worker")].copy()
    stay["local"] = staff.loc[stay["worker_id"], "local_registration"].to_numpy()
    stay["county"] = pd.Series(np.asarray(inst.stations["county"]).astype(str),
                               index=np.asarray(inst.stations["station_id"]).astype(str)).loc[
        stay["to_station"]].to_numpy()
    young = staff.loc[stay["worker_id"], "years_of_service"].to_numpy() < protected_years
    stay = stay[~stay["local"] & young]
    a = stay.iloc[0]
    b = stay[(stay["from_level"] == a["from_level"]) & (stay["to_level"] == a["to_level"])
             & (stay["county"] != a["county"])].iloc[0]
    bad = tmp_path / "swap"
    shutil.copytree(adir, bad)
    r2 = ro.copy()
    ia, ib = ro.index[ro["worker_id"] == a["worker_id"]][0], ro.index[ro["worker_id"] == b["worker_id"]][0]
    r2.loc[ia, "to_station"], r2.loc[ib, "to_station"] = b["to_station"], a["to_station"]
    r2.loc[[ia, ib], "moved"] = 1
    r2.to_csv(bad / "roster.csv", index=False)
    doc = json.loads((bad / "assignment.json").read_text())
    doc["roster"]["moved"] += 2
    (bad / "assignment.json").write_text(json.dumps(doc))
    report = verify_assignment(inst, plan, bad)
    assert report.clause_ids(failed_only=True) == {"E-MOVES"}
    assert {c.station_id for c in report.failures if c.station_id} == {a["to_station"], b["to_station"]}

    # the plan's mover stays, a protected worker of the same station, level, post and registration goes instead
    sen = staff[staff["years_of_service"] >= protected_years]
    for row in mv.itertuples(index=False):
        cand = ro[(ro["moved"] == 0) & (ro["from_station"] == row.from_station) & (ro["from_level"] == row.from_level)
                  & (ro["to_level"] == row.to_level) & ro["worker_id"].isin(sen.index)]
        cand = cand[staff.loc[cand["worker_id"], "local_registration"].to_numpy()
                    == staff.loc[row.worker_id, "local_registration"]]
        if len(cand):
            break
    else:  # the Fuzhou seed has one (deterministic data): without it this check would prove nothing
        raise AssertionError("no protected worker to swap with: the seed no longer exercises X-MOVES [protected]")
    bad = tmp_path / "protected"
    shutil.copytree(adir, bad)
    r3 = ro.copy()
    im, ip = ro.index[ro["worker_id"] == row.worker_id][0], cand.index[0]
    r3.loc[im, ["to_station", "moved"]] = [row.from_station, 0]
    r3.loc[ip, ["to_station", "moved"]] = [row.to_station, 1]
    r3.to_csv(bad / "roster.csv", index=False)
    report = verify_assignment(inst, plan, bad)
    assert report.clause_ids(failed_only=True) == {"X-MOVES"}
    assert [c.family for c in report.failures] == ["protected"]
