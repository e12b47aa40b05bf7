"""The shipped seeds solved by the engine: their plans verify, and a plan broken on purpose, one clause
family (or engine rule) at a time, fails with that clause id."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.instance import Instance
from allocator.verify import Tolerance, format_report, verify_plan
from tests.verify.helpers import SEEDS, Plan, failed, figure, room


@pytest.mark.parametrize("seed", SEEDS)
def test_solved_seed_verifies(seeds: dict[str, tuple[Instance, Path]], seed: str) -> None:
    inst, plan_dir = seeds[seed]
    report = verify_plan(inst, plan_dir)
    assert report.ok, format_report(report)
    written = pd.read_csv(plan_dir / "clauses.csv")
    assert set(written.clause_id) <= report.clause_ids()


def _soft_or(edit: Callable[[Plan], None], cid: str, fam: str, can: Callable[[Plan], bool]) -> Callable[[Plan], None]:
    """The table edit when it applies to this plan, else misreport the family's most deviated row."""
    def run(p: Plan) -> None:
        if can(p):
            edit(p)
        else:
            p.misreport(p.pick(cid, fam))
    return run


def _served(p: Plan, service: str) -> list[str]:
    v = p.t["services"]
    return list(v.station_id[(v.service_id == service) & (v.offered == 1)])


def _area(p: Plan, cid: str, fam: str) -> None:
    r = p.pick(cid, fam)
    p.area_add(r.station_id, -(room(r) + 1.0))


def _zone(cid: str, fam: str, zone: str, sign: float) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        p.zone_add(r.station_id, zone, sign * (room(r) + 1.0))
    return run


def _money_up(cid: str, fam: str, use: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        p.money_add(p.richest(use), use, room(r) + 1000.0)
    return run


def _money_down(cid: str, fam: str, use: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        def fits(r: pd.Series) -> bool:
            b = p.t["budget"]
            return bool(r.station_id) and float(b.loc[b.station_id == r.station_id, use].iloc[0]) > room(r) + 1e3
        r = p.pick(cid, fam, fits)
        p.money_add(r.station_id, use, -(room(r) + 1000.0))
    return run


def _sw_down(cid: str, fam: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        def n(r: pd.Series) -> int:
            return int(math.floor(room(r) + 1e-9)) + 1
        r = p.pick(cid, fam, lambda r: p.staff_at(r.station_id, "social_workers") >= n(r))
        p.remove_sw(r.station_id, n(r))
    return run


def _sw_total_down(cid: str, fam: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        p.remove_total(("sw_uncertified", "sw_certified_assistant", "sw_certified_intermediate"),
                       int(math.floor(room(r) + 1e-9)) + 1)
    return run


def _unbuild(status: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        s = p.t["stations"]
        sid = next(x for x in s.station_id[s.built == 1] if p.info.at[x, "status"] == status)
        p.station_set(sid, "built", 0)
        if status == "new":
            p.station_set(sid, "active", 0)
    return run


def _demo_off_in_county(p: Plan) -> None:
    r = p.pick("F-DEMO", "per_county")
    s = p.t["stations"]
    sid = next(x for x in s.station_id[s.demo == 1] if p.info.at[x, "county"] == r.station_id)
    p.station_set(sid, "demo", 0)


def _demo_station(p: Plan) -> str:
    s = p.t["stations"]
    return str(s.station_id[s.demo == 1].iloc[0])


def _canteen_coverage(p: Plan) -> None:
    """Open the canteen at the active station with the least elderly coverage and cover none of its elderly."""
    c = p.t["coverage"]
    eld = c[(c.group == "elderly") & c.station_id.isin(p.active()) & (c.demand > 0)]
    i = (eld.covered / eld.demand).idxmin()
    sid = str(c.at[i, "station_id"])
    if sid not in _served(p, "elderly_meals"):
        p.offer(sid, service="elderly_meals", on=True)
    c.loc[i, "covered"] = 0.0


def _staff_mix(t: str) -> Callable[[Plan], None]:
    col = {"admin": "admin", "social_worker": "sw_uncertified", "volunteer": "volunteers"}[t]

    def run(p: Plan) -> None:
        p.staff_add(p.active()[0], col, int(10 * p.t["staff"].total_staff.sum()))
    return run


def _variety(p: Plan) -> None:
    r = p.pick("A-VARIETY", "station", lambda r: r.station_id in p.active())
    p.offer(r.station_id, n=int(math.floor(room(r) + 1e-9)) + 1)


def _basic(cid: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        sid = next(s for s in p.active())
        p.offer(sid, "basic")
    return run


def _construction(p: Plan) -> None:
    b = p.t["budget"]
    sid = str(b.station_id[b.facilities >= 1000].iloc[0])
    p.money_add(sid, "facilities", -1000.0)


def _caseload(p: Plan) -> None:
    hpw = float(figure(p.inst, "A-CASELOAD", "households_per_worker"))

    def n(r: pd.Series) -> int:
        return int(math.floor(room(r) / hpw)) + 1
    r = p.pick("A-CASELOAD", "station", lambda r: p.staff_at(r.station_id, "social_workers") >= n(r))
    p.remove_sw(r.station_id, n(r))


def _cert_min(p: Plan) -> None:
    r = p.pick("A-CERT-MIN", "station", lambda r: r.station_id in p.active())
    sid = r.station_id
    n = int(p.staff_at(sid, "certified"))
    for col in ("sw_certified_assistant", "sw_certified_intermediate"):
        k = int(p.staff_at(sid, col))
        p.staff_add(sid, col, -k)
        p.staff_add(sid, "sw_uncertified", k)
    assert n > 0


def _no_profile_hires(p: Plan, col: str) -> None:
    """F-DEGREE / F-YOUNG: no hire has the mark, clauses.csv still counts them (its deviation is understated)."""
    s = p.t["staff"]
    assert s[col].sum() > 0
    s[col] = 0


def _all_uncertified(p: Plan) -> None:
    p.convert(("sw_certified_assistant", "sw_certified_intermediate"), "sw_uncertified")


def _no_intermediate(p: Plan) -> None:
    p.convert(("sw_certified_intermediate",), "sw_certified_assistant")


def _one_stop(p: Plan) -> None:
    s = p.t["stations"]
    sid = str(s.station_id[s.one_stop_upgrade == 1].iloc[0])
    p.station_set(sid, "one_stop_upgrade", 0)
    p.station_set(sid, "one_stop", 0)


def _direct_min(p: Plan) -> None:
    r = p.pick("A-DIRECT-MIN", "total")
    p.money_take(p.t["budget"].station_id, "services", 2 * room(r) + 10000.0)


def _renovate(p: Plan) -> None:
    p.station_set(p.pick("A-RENOVATE", "station").station_id, "renovated", 0)


def _access(p: Plan) -> None:
    p.station_set(p.pick("F-ACCESS", "station", lambda r: r.station_id in p.active()).station_id,
                  "access_retrofit", 0)


def _demo_standard_workers(p: Plan) -> None:
    sid = _demo_station(p)
    keep = int(figure(p.inst, "F-DEMO", "min_social_workers")) - 1
    p.remove_sw(sid, int(p.staff_at(sid, "social_workers")) - keep)


def _demo_standard_services(p: Plan) -> None:
    sid = _demo_station(p)
    keep = int(figure(p.inst, "F-DEMO", "min_featured")) - 1
    v = p.t["services"]
    n = int(v[(v.station_id == sid) & (v.kind == "featured")].offered.sum())
    p.offer(sid, "featured", n=n - keep)


def _feature(cid: str) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        v = p.t["services"]
        sid = p.active()[0]
        n = int(v[(v.station_id == sid) & (v.kind == "featured")].offered.sum())
        p.offer(sid, "featured", n=n)
    return run


def _cover_down(cid: str, fam: str, special: bool = False) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        r = p.pick(cid, fam)
        groups = {g.id for g in p.inst.groups if g.special} if special else None
        p.cover_reduce(room(r) + 100.0, groups)
    return run


def _staff_total_down(p: Plan) -> None:
    r = p.pick("A-STAFF-DENSITY", "total")
    p.remove_total(("volunteers", "admin"), int(math.floor(room(r) + 1e-9)) + 1)


def _volunteers_down(p: Plan) -> None:
    r = p.pick("A-VOLUNTEER", "total")
    p.remove_total(("volunteers",), int(math.floor(room(r) + 1e-9)) + 1)


def _coverage_share(p: Plan) -> None:
    s = p.t["stations"]
    sid = next(x for x in s.station_id[s.built == 1] if p.info.at[x, "status"] == "new")
    p.station_set(sid, "built", 0)
    p.station_set(sid, "active", 0)


def _group_down(cid: str) -> Callable[[Plan], None]:
    """Issue 15 floors (X-FLOOR / F-SPECIAL [group]): the first group's coverage cut below its floor."""
    def run(p: Plan) -> None:
        r = p.pick(cid, "group")
        p.cover_reduce(room(r) + 100.0, {str(r.station_id)})
    return run


def _serve_nobody(p: Plan) -> None:
    """X-MIN-SERVED: an offered service reported as serving nobody."""
    v = p.t["services"]
    v.loc[v.index[v.offered == 1][0], "served"] = 0.0


def _line_short(column: str) -> Callable[[Plan], None]:
    """A-SOCIAL-SUBSIDY / A-MEAL: the station paying the most for the line pays 100 yuan less than it owes (or,
    where the plan pays the line nowhere, 100 yuan at the first station that owes nothing)."""
    def run(p: Plan) -> None:
        b = p.t["budget"]
        i = b[column].idxmax()
        b.at[i, column] += -100.0 if b.at[i, column] > 100.0 else 100.0
    return run


def _too_many_points(p: Plan) -> None:
    """A-CATCHMENT [min]: ten more service points than the station's residents allow."""
    sid = p.pick("A-CATCHMENT", "min").station_id
    s = p.t["stations"]
    s.loc[s.station_id == sid, "service_points"] += 10


def _sources(p: Plan, edit: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    """Funding sources (issue 15): edit sources.csv (the break helpers leave it as copied)."""
    df = pd.read_csv(p.dir / "sources.csv", dtype={"station_id": str})
    out = edit(df)
    (df if out is None else out).to_csv(p.dir / "sources.csv", index=False)


def _source_move(frm: str, to: str, amount: float) -> Callable[[Plan], None]:
    """``amount`` yuan moved from source ``frm`` to ``to`` at the first station with that much from ``frm``."""
    def edit(df: pd.DataFrame) -> None:
        at = df.index[(df.source == frm) & (df.yuan >= amount)][0]
        sid = df.at[at, "station_id"]
        df.loc[at, "yuan"] -= amount
        df.loc[(df.station_id == sid) & (df.source == to), "yuan"] += amount
    return lambda p: _sources(p, edit)


def _social_over_cap(p: Plan) -> None:
    """F-SOURCES [available]: social funds raised past the cap (the yuan taken from the city at one station)."""
    def edit(df: pd.DataFrame) -> None:
        over = figure(p.inst, "F-SOURCES", "social_max") - float(df.yuan[df.source == "social"].sum()) + 1000.0
        for at in df.index[df.source == "city"]:  # station by station: each stays fully paid
            take = min(over, float(df.at[at, "yuan"]))
            df.loc[at, "yuan"] -= take
            df.loc[(df.station_id == df.at[at, "station_id"]) & (df.source == "social"), "yuan"] += take
            over -= take
            if over <= 0:
                break
    _sources(p, edit)


def _source_drop_station(p: Plan) -> None:
    """A yuan with no source: the first station's rows left out of sources.csv."""
    _sources(p, lambda df: df[df.station_id != df.station_id.iloc[0]])


# One break per clause family the seed plans contain: (seed, clause id, family) -> edit.
def _moves_over_cap(p: Plan) -> None:
    """X-MOVES [cap]: moves.csv gains a move of max_per_year + 1 workers (two stations of one county)."""
    cap = int(p.inst.clause("X-MOVES").figures["max_per_year"])  # type: ignore[union-attr]
    county = p.info.groupby("county").filter(lambda d: len(d) > 1).index
    a, b = county[0], county[1]
    mv = pd.read_csv(p.dir / "moves.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame([{"from_station": a, "to_station": b, "county": p.info.loc[a, "county"],
                           "type": "social_worker", "level": "none", "count": cap + 1, "cost": 0}])
    pd.concat([mv, extra], ignore_index=True).to_csv(p.dir / "moves.csv", index=False)


BREAKS: dict[tuple[str, str, str], Callable[[Plan], None]] = {
    ("a-district-2026", "X-MOVES", "cap"): _moves_over_cap,
    ("fuzhou-2026", "X-MOVES", "cap"): _moves_over_cap,
    # --- a-district ---
    ("a-district-2026", "A-AREA", "station"): lambda p: _area(p, "A-AREA", "station"),
    ("a-district-2026", "A-BASIC", "station"): _basic("A-BASIC"),
    ("a-district-2026", "A-BUDGET-PERCAP", "total"): _money_up("A-BUDGET-PERCAP", "total", "services"),
    ("a-district-2026", "A-CANTEEN", "count"): _soft_or(lambda p: p.offer(_served(p, "elderly_meals")[0],
                                                                     service="elderly_meals"),
                                                   "A-CANTEEN", "count", lambda p: bool(_served(p, "elderly_meals"))),
    ("a-district-2026", "A-CANTEEN", "coverage"): _canteen_coverage,
    ("a-district-2026", "A-CASELOAD", "station"): _caseload,
    ("a-district-2026", "A-CERT-MIN", "station"): _cert_min,
    ("a-district-2026", "A-CERT-RATE", "total"): _all_uncertified,
    ("a-district-2026", "A-COVERAGE", "one_stop"): _soft_or(_one_stop, "A-COVERAGE", "one_stop",
                                                       lambda p: bool((p.t["stations"].one_stop_upgrade == 1).any())),
    ("a-district-2026", "A-COVERAGE", "rural"): lambda p: p.misreport(p.pick("A-COVERAGE", "rural")),
    ("a-district-2026", "A-COVERAGE", "urban"): lambda p: p.misreport(p.pick("A-COVERAGE", "urban")),
    ("a-district-2026", "A-DIRECT-MIN", "total"): _direct_min,
    ("a-district-2026", "A-FEATURE", "station"): _feature("A-FEATURE"),
    ("a-district-2026", "A-FLEX", "station"): _zone("A-FLEX", "station", "flex", -1.0),
    ("a-district-2026", "A-MATCH", "total"): _cover_down("A-MATCH", "total"),
    ("a-district-2026", "A-RENOVATE", "station"): _renovate,
    ("a-district-2026", "A-SALARY", "station"): _money_down("A-SALARY", "station", "salaries"),
    ("a-district-2026", "A-SPLIT", "facilities"): _money_up("A-SPLIT", "facilities", "facilities"),
    ("a-district-2026", "A-SPLIT", "salaries"): _money_up("A-SPLIT", "salaries", "salaries"),
    ("a-district-2026", "A-SPLIT", "services"): _money_up("A-SPLIT", "services", "services"),
    ("a-district-2026", "A-STAFF-DENSITY", "total"): _staff_total_down,
    ("a-district-2026", "A-STAFF-MIX", "admin"): _staff_mix("admin"),
    ("a-district-2026", "A-STAFF-MIX", "social_worker"): _staff_mix("social_worker"),
    ("a-district-2026", "A-STAFF-MIX", "volunteer"): _staff_mix("volunteer"),
    ("a-district-2026", "A-VARIETY", "station"): _variety,
    ("a-district-2026", "A-VOLUNTEER", "total"): _volunteers_down,
    ("a-district-2026", "A-ZONES", "activity"): _zone("A-ZONES", "activity", "activity", -1.0),
    ("a-district-2026", "A-ZONES", "admin"): _zone("A-ZONES", "admin", "admin", 1.0),
    ("a-district-2026", "A-ZONES", "service"): _zone("A-ZONES", "service", "service", -1.0),
    # --- fuzhou ---
    ("fuzhou-2026", "F-ACCESS", "station"): _access,
    ("fuzhou-2026", "F-AREA", "area"): lambda p: _area(p, "F-AREA", "area"),
    ("fuzhou-2026", "F-AREA", "display"): _zone("F-AREA", "display", "activity", -1.0),
    ("fuzhou-2026", "F-AREA", "office"): _zone("F-AREA", "office", "admin", 1.0),
    ("fuzhou-2026", "F-AREA", "service"): _zone("F-AREA", "service", "service", -1.0),
    ("fuzhou-2026", "F-BUILD", "new"): _unbuild("new"),
    ("fuzhou-2026", "F-BUILD", "upgraded"): _unbuild("upgrade"),
    ("fuzhou-2026", "F-BUILD-SUBSIDY", "station"):
        lambda p: p.money_add(p.pick("F-BUILD-SUBSIDY", "station").station_id, "facilities", 1000.0),
    ("fuzhou-2026", "F-CERT-RATE", "certified"): _all_uncertified,
    ("fuzhou-2026", "F-CERT-RATE", "intermediate"): _no_intermediate,
    ("fuzhou-2026", "F-COVERAGE", "total"): _coverage_share,
    ("fuzhou-2026", "F-DEMO", "count"): lambda p: p.station_set(_demo_station(p), "demo", 0),
    ("fuzhou-2026", "F-DEMO", "per_county"): _demo_off_in_county,
    ("fuzhou-2026", "F-DEMO", "standard"): _demo_standard_workers,
    ("fuzhou-2026", "F-DEMO", "standard/services"): _demo_standard_services,
    ("fuzhou-2026", "F-FEATURE", "station"): _feature("F-FEATURE"),
    ("fuzhou-2026", "F-HIRING", "in_post"): _sw_total_down("F-HIRING", "in_post"),
    ("fuzhou-2026", "F-OPS-STATION", "station"): _money_down("F-OPS-STATION", "station", "salaries"),
    ("fuzhou-2026", "F-OPS-SUBSIDY", "station"): _money_down("F-OPS-SUBSIDY", "station", "salaries"),
    ("fuzhou-2026", "F-SALARY", "station"): _money_down("F-SALARY", "station", "salaries"),
    ("fuzhou-2026", "F-SPECIAL", "total"): _cover_down("F-SPECIAL", "total", special=True),
    ("fuzhou-2026", "F-SW-DENSITY", "per_10k"): _sw_total_down("F-SW-DENSITY", "per_10k"),
    ("fuzhou-2026", "F-SW-DENSITY", "stated_total"): _sw_total_down("F-SW-DENSITY", "stated_total"),
    ("fuzhou-2026", "F-SW-RURAL", "station"): _sw_down("F-SW-RURAL", "station"),
    ("fuzhou-2026", "F-SW-URBAN", "station"): _sw_down("F-SW-URBAN", "station"),
    ("fuzhou-2026", "F-TOTAL", "construction"): _construction,
    ("fuzhou-2026", "F-TOTAL", "operations"): _money_up("F-TOTAL", "operations", "services"),
    ("fuzhou-2026", "F-USES", "salaries"): _money_up("F-USES", "salaries", "salaries"),
    ("fuzhou-2026", "F-USES", "services"): _money_up("F-USES", "services", "services"),
    ("fuzhou-2026", "F-USES", "training"): _money_up("F-USES", "training", "training"),
    # --- issue 15 families (both seeds) ---
    ("a-district-2026", "X-FLOOR", "group"): _group_down("X-FLOOR"),
    ("a-district-2026", "X-MIN-SERVED", "station"): _serve_nobody,
    ("fuzhou-2026", "X-FLOOR", "group"): _group_down("X-FLOOR"),
    ("fuzhou-2026", "X-MIN-SERVED", "station"): _serve_nobody,
    ("fuzhou-2026", "F-SPECIAL", "group"): _group_down("F-SPECIAL"),
    ("fuzhou-2026", "F-USES", "split"): _money_up("F-USES", "split", "services"),
    # --- issue 15 services clauses (services_policy) ---
    ("a-district-2026", "A-CATCHMENT", "max"): lambda p: p.misreport(p.pick("A-CATCHMENT", "max")),
    ("a-district-2026", "A-CATCHMENT", "min"): _too_many_points,
    ("a-district-2026", "A-SOCIAL-SUBSIDY", "station"): _line_short("social_subsidy"),
    ("a-district-2026", "A-MEAL", "station"): _line_short("meal_subsidy"),
    ("fuzhou-2026", "F-PRO-SHARE", "share"): lambda p: p.misreport(p.pick("F-PRO-SHARE", "share")),
    # --- funding sources (issue 15) ---
    ("a-district-2026", "A-SOURCES", "paid"): _source_drop_station,
    ("a-district-2026", "A-SOURCES", "split"): _source_move("county", "social", 100000.0),
    ("fuzhou-2026", "F-SOURCES", "paid"): _source_drop_station,
    ("fuzhou-2026", "F-SOURCES", "split"): lambda p: p.misreport(p.pick("F-SOURCES", "split")),
    ("fuzhou-2026", "F-SOURCES", "available"): _social_over_cap,
    ("fuzhou-2026", "F-OPS-SUBSIDY", "city"): _source_move("city", "fees", 1000.0),
    ("fuzhou-2026", "F-OPS-SUBSIDY", "county_match"): lambda p: p.misreport(p.pick("F-OPS-SUBSIDY",
                                                                                 "county_match")),
    ("fuzhou-2026", "F-DEGREE", "share"): lambda p: _no_profile_hires(p, "sw_hires_bachelor"),
    ("fuzhou-2026", "F-YOUNG", "share"): lambda p: _no_profile_hires(p, "sw_hires_young"),
}


@pytest.mark.parametrize("seed", SEEDS)
def test_every_family_in_the_plan_has_a_break(seeds: dict[str, tuple[Instance, Path]], seed: str) -> None:
    written = pd.read_csv(seeds[seed][1] / "clauses.csv")
    families = set(zip(written.clause_id, written.family, strict=True))
    covered = {(c, f.split("/")[0]) for s, c, f in BREAKS if s == seed}
    assert families <= covered, f"no break case for {sorted(families - covered)}"


@pytest.mark.parametrize("key", list(BREAKS), ids=[f"{s}:{c}:{f}" for s, c, f in BREAKS])
def test_a_broken_family_is_caught(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path,
                                   key: tuple[str, str, str]) -> None:
    seed, cid, fam = key
    inst, plan_dir = seeds[seed]
    p = Plan(plan_dir, tmp_path / "broken", inst)
    BREAKS[key](p)
    report = verify_plan(inst, p.save())
    bad = [c for c in report.failures if c.clause_id == cid and c.family == fam.split("/")[0]]
    assert bad, f"{cid} [{fam}] not caught:\n{format_report(report)}"


@pytest.mark.parametrize("seed", SEEDS)
def test_every_understated_soft_deviation_is_caught(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path,
                                                    seed: str) -> None:
    inst, plan_dir = seeds[seed]
    written = pd.read_csv(plan_dir / "clauses.csv", dtype={"station_id": str})
    tol = Tolerance()
    big = [d > 4 * tol.of(u, lim) for d, u, lim in zip(written.deviation, written.unit, written.limit, strict=True)]
    soft = written[(written["mode"] == "soft") & np.array(big, dtype=bool)]
    # Both seeds' plans carry soft deviations (the documents' conflicts): a plan without any would mean the
    # test no longer tests anything, so it fails rather than skips.
    assert not soft.empty, "no soft deviation in this seed plan"
    for n, (i, row) in enumerate(soft.drop_duplicates(["clause_id", "family"]).iterrows()):
        d = tmp_path / f"p{n}"
        shutil.copytree(plan_dir, d)
        df = written.copy()
        df.loc[i, "deviation"] = row.deviation / 2
        df.to_csv(d / "clauses.csv", index=False)
        report = verify_plan(inst, d)
        assert failed(report) == {row.clause_id}, (row.clause_id, row.family, format_report(report))


def _station_with(p: Plan, table: str, col: str) -> str:
    t = p.t[table]
    return str(t.station_id[t[col].idxmax()])


def _e1(p: Plan) -> None:
    sid = str(p.inst.staff["station_id"][np.asarray(p.inst.staff["type"]) == "social_worker"][0])
    p.remove_sw(sid, int(p.staff_at(sid, "social_workers")))


def _e2(p: Plan) -> None:
    """Staff at a new station not built: add some to an unbuilt one, or unbuild a staffed one."""
    s = p.t["stations"]
    new = [x for x in s.station_id if p.info.at[x, "status"] == "new"]
    unbuilt = [x for x in new if int(s.loc[s.station_id == x, "built"].iloc[0]) == 0]
    if unbuilt:
        p.staff_add(unbuilt[0], "admin", 1)
    else:
        sid = max(new, key=lambda x: p.staff_at(x, "social_workers"))
        p.station_set(sid, "built", 0)
        p.station_set(sid, "active", 0)


def _e4(p: Plan) -> None:
    sid = _station_with(p, "staff", "social_workers")
    for col in ("admin", "volunteers"):
        p.staff_add(sid, col, -int(p.staff_at(sid, col)))
    p.remove_sw(sid, int(p.staff_at(sid, "social_workers")))


def _e5(p: Plan) -> None:
    c = p.t["coverage"]
    sid = str(c.station_id[c.covered.idxmax()])
    p.t["services"].loc[p.t["services"].station_id == sid, "offered"] = 0


def _money_zero(use: str, table: str = "budget", col: str | None = None) -> Callable[[Plan], None]:
    def run(p: Plan) -> None:
        sid = _station_with(p, table, col or use)
        b = p.t["budget"]
        p.money_add(sid, use, -float(b.loc[b.station_id == sid, use].iloc[0]))
    return run


def _e9(p: Plan) -> None:
    p.zone_add(p.active()[0], "service", 10.0)


def _bounds(p: Plan) -> None:
    c = p.t["coverage"]
    i = c.index[c.demand > 0][0]
    c.loc[i, "covered"] = c.loc[i, "demand"] + 10.0


# Engine rules broken on a solved seed: (seed, rule, family) -> edit.
ENGINE_BREAKS: dict[tuple[str, str, str], Callable[[Plan], None]] = {
    ("a-district-2026", "E1", "social_worker"): _e1,
    ("a-district-2026", "E2", "staff"): _e2,
    ("a-district-2026", "E3", "station"): _money_zero("salaries", "staff", "social_workers"),
    ("a-district-2026", "E4", "station"): _e4,
    ("a-district-2026", "E5", "*"): _e5,
    ("a-district-2026", "E6", "station"): _money_zero("services"),
    ("a-district-2026", "E7", "station"): _money_zero("facilities"),
    ("fuzhou-2026", "E8", "station"): _money_zero("training", "staff", "social_workers"),
    ("fuzhou-2026", "E9", "station"): _e9,
    ("fuzhou-2026", "E-BOUNDS", "*"): _bounds,
}


@pytest.mark.parametrize("key", list(ENGINE_BREAKS), ids=[f"{s}:{c}" for s, c, _ in ENGINE_BREAKS])
def test_a_broken_engine_rule_is_caught(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path,
                                        key: tuple[str, str, str]) -> None:
    seed, rule, fam = key
    inst, plan_dir = seeds[seed]
    p = Plan(plan_dir, tmp_path / "broken", inst)
    ENGINE_BREAKS[key](p)
    report = verify_plan(inst, p.save())
    assert [c for c in report.failures if c.clause_id == rule and fam in ("*", c.family)], format_report(report)


def test_summary_totals_of_a_solved_plan_are_checked(seeds: dict[str, tuple[Instance, Path]],
                                                     tmp_path: Path) -> None:
    inst, plan_dir = seeds["fuzhou-2026"]
    d = tmp_path / "p"
    shutil.copytree(plan_dir, d)
    data = json.loads((d / "summary.json").read_text())
    data["totals"]["money"]["salaries"] += 1000.0
    (d / "summary.json").write_text(json.dumps(data))
    r = verify_plan(inst, d)
    assert failed(r) == {"E-TOTALS"} and [c.family for c in r.failures] == ["money.salaries"]


