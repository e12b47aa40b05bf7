"""Re-checks of a horizon plan (``[instance] years``), from the plan files and the instance only.

Written apart from the builder (it imports nothing from :mod:`allocator.station`): the stock identity
per station, year and level; leavers against F-TURNOVER; stations staffed or serving only when open and
open only once built; the subsidy paid in the year built; the per-year clause figures (F-HIRING,
F-CERT-RATE, F-COVERAGE, F-DEMO, F-TOTAL operations, F-USES) and the horizon totals (F-TOTAL
construction and total); ``path.csv`` against the tables.  Every failure names clause, station and year
(the station field reads ``F001 2025``; a total row ``2025``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.verify.report import Collector

CATS = {"admin": "admin", "none": "sw_uncertified", "assistant": "sw_certified_assistant",
        "intermediate": "sw_certified_intermediate", "volunteer": "volunteers"}
FILES = ("staff", "budget", "stations", "hires", "leavers", "upgrades", "path", "clauses")


def _where(station: str | None, year: int | str) -> str:
    return f"{station} {year}" if station else str(year)


def _today(inst: Instance) -> pd.DataFrame:
    sf = inst.staff
    typ = np.asarray(sf["type"], dtype=str)
    lev = np.asarray(sf["level"], dtype=str)
    cat = np.where(typ == "social_worker", np.where(np.isin(lev, ("assistant", "intermediate")), lev, "none"), typ)
    df = pd.DataFrame({"station_id": np.asarray(sf["station_id"], dtype=str), "cat": cat})
    counts = df.groupby(["station_id", "cat"]).size().unstack(fill_value=0)
    ids = np.asarray(inst.stations["station_id"], dtype=str)
    return counts.reindex(index=ids, columns=list(CATS), fill_value=0).astype(float)


def read_horizon(plan_dir: Path, col: Collector) -> dict[str, pd.DataFrame] | None:
    """The horizon plan's tables (ids as text); a missing file is a failure."""
    out = {}
    for f in FILES:
        p = plan_dir / f"{f}.csv"
        if not p.exists():
            col.fail("E-FILES", "files", None, f"{f}.csv exists", f"FAIL: a horizon plan has {f}.csv; none here")
            return None
        out[f] = pd.read_csv(p, dtype={"station_id": str, "year": str, "clause_id": str, "family": str},
                             keep_default_na=False)
    p = plan_dir / "moves.csv"  # X-MOVES: transfers per year (checked per year and in the stock identity)
    if p.exists():
        out["moves"] = pd.read_csv(p, dtype={"from_station": str, "to_station": str, "year": str, "level": str,
                                             "county": str, "type": str}, keep_default_na=False)
    return out


def _moves_of(t: dict[str, pd.DataFrame], y: int, ids: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Workers moved in and out per station and category in year ``y`` (moves.csv; zeros without it)."""
    zero = pd.DataFrame(0.0, index=ids, columns=list(CATS))
    mv = t.get("moves")
    if mv is None or not len(mv):
        return zero, zero.copy()
    mv = mv[mv["year"].astype(str) == str(y)].assign(count=lambda d: pd.to_numeric(d["count"], errors="coerce"))
    inn = mv.groupby(["to_station", "level"])["count"].sum().unstack(fill_value=0)
    out = mv.groupby(["from_station", "level"])["count"].sum().unstack(fill_value=0)
    return (inn.reindex(index=ids, columns=list(CATS), fill_value=0).astype(float),
            out.reindex(index=ids, columns=list(CATS), fill_value=0).astype(float))


def check_pool(inst: Instance, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """H9 POOL (X-MOVES): moves out of a station so far, less moves in before, within today's movable workers
    (years of service + plan years - 1 below protected_years) and the hires of years still below it at the end."""
    c = inst.clause("X-MOVES")
    if c is None or "moves" not in t:
        return
    ids = np.asarray(inst.stations["station_id"], dtype=str)
    years = list(inst.years)
    K, prot = len(years), float(c.figures["protected_years"])
    sf = inst.staff
    young = ((np.asarray(sf["type"]) == "social_worker")
             & (np.asarray(sf["years_of_service"], dtype=float) + K - 1 < prot))
    pool = pd.Series(np.asarray(sf["station_id"], dtype=str)[young]).value_counts().reindex(ids).fillna(0.0)
    hires = t["hires"].assign(year=t["hires"]["year"].astype(int))
    sw_levels = ["none", "assistant", "intermediate"]
    gone = pd.Series(0.0, index=ids)
    for k, y in enumerate(years):
        inn, out = _moves_of(t, y, ids)
        gone = gone + out[sw_levels].sum(axis=1)
        for sid in ids[(gone > pool + 1e-9).to_numpy()]:
            col.compare("X-MOVES", "seniority", _where(sid, y), "workers moved out so far <= movable today + hires "
                        "below protected_years + moved in before", float(gone[sid]), "<=", float(pool[sid]), "workers")
        gone = gone - inn[sw_levels].sum(axis=1)
        if K - 1 - k < prot:
            hy = hires[(hires["year"] == y) & (hires["type"] == "social_worker")]
            pool = pool + hy.groupby("station_id")["hires"].sum().reindex(ids).fillna(0.0)


def check_stock(inst: Instance, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """H1 and F-TURNOVER: the stock identity per station, year and level; leavers within 1 of rate x stock."""
    years = list(inst.years)
    ids = np.asarray(inst.stations["station_id"], dtype=str)
    prev = _today(inst)
    staff = t["staff"].assign(year=t["staff"]["year"].astype(int)).set_index(["year", "station_id"])
    hires = t["hires"].assign(year=t["hires"]["year"].astype(int))
    hires["cat"] = np.where(hires["type"] == "social_worker", hires["level"], hires["type"])
    leav = t["leavers"].assign(year=t["leavers"]["year"].astype(int))
    ups = t["upgrades"].assign(year=t["upgrades"]["year"].astype(int))
    for y in years:
        inst_y = inst.for_year(y)
        turn = inst_y.any_clause("F-TURNOVER")
        rate = float(turn.figures.get("rate", 0.0)) if turn is not None else 0.0
        now = pd.DataFrame({c: staff.loc[y][f].reindex(ids).fillna(0).astype(float) for c, f in CATS.items()})
        h = hires[hires["year"] == y].groupby(["station_id", "cat"])["hires"].sum().unstack(fill_value=0)
        h = h.reindex(index=ids, columns=list(CATS), fill_value=0).astype(float)
        lv = leav[leav["year"] == y].groupby(["station_id", "level"])["leavers"].sum().unstack(fill_value=0)
        lv = lv.reindex(index=ids, columns=list(CATS), fill_value=0).astype(float)
        uy = ups[ups["year"] == y]
        up_out = uy.groupby(["station_id", "from_level"])["upgrades"].sum().unstack(fill_value=0)
        up_in = uy.groupby(["station_id", "to_level"])["upgrades"].sum().unstack(fill_value=0)
        up_out = up_out.reindex(index=ids, columns=list(CATS), fill_value=0).astype(float)
        up_in = up_in.reindex(index=ids, columns=list(CATS), fill_value=0).astype(float)
        mv_in, mv_out = _moves_of(t, y, ids)
        expect = prev - lv + h + up_in - up_out + mv_in - mv_out
        bad = (np.abs(expect.values - now.values) > 1e-6)
        for i, j in zip(*np.nonzero(bad), strict=True):
            c = list(CATS)[j]
            col.compare("H1-STOCK", c, _where(ids[i], y),
                        f"stock[{c}] = stock[{y - 1}] - leavers + hires + upgrades in - upgrades out + moved in - "
                        "moved out",
                        float(now.values[i, j]), "=", float(expect.values[i, j]), "staff")
        # leavers against F-TURNOVER: stock_start is the previous year's stock; |leavers - rate*stock| < 1
        lvy = leav[leav["year"] == y]
        start = lvy.groupby("station_id")["stock_start"].sum().reindex(ids, fill_value=0).astype(float)
        sw_prev = prev[["none", "assistant", "intermediate"]].sum(axis=1)
        for s in ids[np.abs(start.values - sw_prev.values) > 1e-6]:
            col.compare("F-TURNOVER", "leavers", _where(s, y), "leavers.csv stock_start = stock at the end of the "
                        "previous year", float(start[s]), "=", float(sw_prev[s]), "workers")
        total = lv[["none", "assistant", "intermediate"]].sum(axis=1)
        off = np.abs(total.values - rate * sw_prev.values)
        for i in np.flatnonzero(off >= 1.0 - 1e-9):
            col.compare("F-TURNOVER", "leavers", _where(ids[i], y), f"leavers within 1 of {rate:g} x stock at the "
                        "start of the year", float(total.values[i]), "=", float(rate * sw_prev.values[i]), "workers",
                        slack=0.999)
        col.compare("F-TURNOVER", "total", _where(None, y), f"leavers over all stations within 1 of {rate:g} x stock "
                    "at the start of the year", float(total.sum()), "=", rate * float(sw_prev.sum()), "workers",
                    slack=0.999)
        prev = now
    col.compare("H1-STOCK", "identity", None, "stock identity checked for every station, year and level",
                0.0, "=", 0.0, "staff")


def check_schedule(inst: Instance, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """H6 and E2: open only once built and monotone; staff and services only when open; subsidy in the year built."""
    st = t["stations"].assign(year=t["stations"]["year"].astype(int))
    status = dict(zip(np.asarray(inst.stations["station_id"], dtype=str), inst.stations["status"], strict=True))
    staff = t["staff"].assign(year=t["staff"]["year"].astype(int)).set_index(["year", "station_id"])
    budget = t["budget"].assign(year=t["budget"]["year"].astype(int)).set_index(["year", "station_id"])
    sub = inst.clause("F-BUILD-SUBSIDY")
    for sid, part in st.groupby("station_id"):
        part = part.sort_values("year")
        by = str(part["built_year"].iloc[0]).split(".")[0]
        built_years = part.loc[part["built"] > 0, "year"].tolist()
        if len(built_years) > 1 or (built_years and str(built_years[0]) != by) or (not built_years and by):
            col.fail("F-BUILD", "schedule", _where(sid, by or "-"), "built in at most one year, as built_year says",
                     f"FAIL: built in {built_years or 'no year'}, built_year '{by}'")
        for y, active, built in part[["year", "active", "built"]].itertuples(index=False):
            is_new = status[sid] == "new"
            should = 1 if not is_new else int(bool(by) and int(by) <= y)
            if int(active) != should:
                col.compare("E2-OPEN", "open", _where(sid, y), "a new station is open from the year it is built",
                            float(active), "=", float(should), "stations")
            people = float(staff.loc[(y, sid), "total_staff"])
            if not should and people > 0:
                col.compare("E2-OPEN", "staff", _where(sid, y), "no staff before the station is built", people,
                            "<=", 0.0, "staff")
            if sub is not None and status[sid] in ("new", "upgrade"):
                rate = sub.figures["new_station" if is_new else "upgraded_station"]
                paid = float(budget.loc[(y, sid), "facilities"])
                col.compare("F-BUILD-SUBSIDY", "station", _where(sid, y),
                            "the subsidy is paid in the year the station is built", paid, "=",
                            rate * float(built), "yuan", only_failures=True)


def _year_total(col: Collector, cid: str, fam: str, y: int | str, desc: str, value: float, sense: str, limit: float,
                unit: str, mode: str) -> None:
    if mode == "soft":
        short = max(0.0, (limit - value) if sense == ">=" else (value - limit) if sense == "<=" else abs(value - limit))
        col.notes.append(f"{cid} {fam} {y}: {desc}: {value:,.2f} {sense} {limit:,.2f} {unit}"
                         + (f" (soft, short by {short:,.2f})" if short > 1e-6 else ""))
        return
    col.compare(cid, fam, _where(None, y), desc, value, sense, limit, unit)


def check_years(inst: Instance, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """Each year's clause figures and the horizon totals, recomputed from the tables."""
    staff = t["staff"].assign(year=t["staff"]["year"].astype(int))
    st = t["stations"].assign(year=t["stations"]["year"].astype(int))
    bud = t["budget"].assign(year=t["budget"]["year"].astype(int))
    hires = t["hires"].assign(year=t["hires"]["year"].astype(int))
    for y in inst.years:
        iy = inst.for_year(y)
        sy, ty, by = staff[staff["year"] == y], st[st["year"] == y], bud[bud["year"] == y]
        sw = float(sy["social_workers"].sum())
        if (c := iy.clause("F-HIRING")) is not None:
            if "in_post" in c.figures:
                _year_total(col, "F-HIRING", "in_post", y, "social workers in post at year end", sw, ">=",
                            c.figures["in_post"], "workers", c.mode("in_post"))
            if "recruited" in c.figures:
                hy = hires[(hires["year"] == y) & (hires["type"] == "social_worker")]["hires"].sum()
                _year_total(col, "F-HIRING", "recruited", y, "social workers hired in the year", float(hy), "<=",
                            c.figures["recruited"], "workers", c.mode("recruited"))
        if (c := iy.clause("F-CERT-RATE")) is not None and "share" in c.figures:
            _year_total(col, "F-CERT-RATE", "certified", y, "certified social workers", float(sy["certified"].sum()),
                        ">=", c.figures["share"] * sw, "workers", c.mode("certified"))
        if (c := iy.clause("F-COVERAGE")) is not None and "share" in c.figures:
            _year_total(col, "F-COVERAGE", "total", y, "stations open", float(ty["active"].sum()), ">=",
                        c.figures["share"] * len(inst.stations), "stations", c.mode("total"))
        if (c := iy.clause("F-DEMO")) is not None and "count" in c.figures:
            _year_total(col, "F-DEMO", "count", y, "demonstration stations", float(ty["demo"].sum()), ">=",
                        c.figures["count"], "stations", c.mode("count"))
        elif iy.clause("F-DEMO") is None:
            col.compare("F-DEMO", "count", _where(None, y), "no demonstration station in a year F-DEMO does not plan",
                        float(ty["demo"].sum()), "<=", 0.0, "stations", only_failures=True)
        if (c := iy.clause("F-TOTAL")) is not None and "operations_per_year" in c.figures:
            ops = float(by[["salaries", "services", "training"]].sum().sum())
            _year_total(col, "F-TOTAL", "operations", y, "operating money of the year", ops, "<=",
                        c.figures["operations_per_year"], "yuan", c.mode("operations"))
            if (u := iy.clause("F-USES")) is not None:
                for use in ("salaries", "services", "training"):
                    if use in u.figures:
                        _year_total(col, "F-USES", use, y, f"{use} of the year", float(by[use].sum()), "<=",
                                    u.figures[use] * c.figures["operations_per_year"], "yuan", u.mode(use))
    span = f"{min(inst.years)}-{max(inst.years)}"
    if (c := inst.clause("F-TOTAL")) is not None:
        if "construction" in c.figures:
            _year_total(col, "F-TOTAL", "construction", span, "facilities over the horizon",
                        float(bud["facilities"].sum()), "=", c.figures["construction"], "yuan", c.mode("construction"))
        if "total" in c.figures:
            _year_total(col, "F-TOTAL", "total", span, "all money over the horizon",
                        float(bud["total"].sum()), "<=", c.figures["total"], "yuan", c.mode("total"))


def check_salary_and_local(inst: Instance, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """F-SALARY per station and year (seniority: today's workers reaching the threshold that year, times the
    share still in post) and F-LOCAL-HIRE per year, from staff.csv, budget.csv, hires.csv and the instance."""
    hz = inst.horizon
    assert hz is not None
    ids = np.asarray(inst.stations["station_id"], dtype=str)
    staff = t["staff"].assign(year=t["staff"]["year"].astype(int)).set_index(["year", "station_id"])
    bud = t["budget"].assign(year=t["budget"]["year"].astype(int)).set_index(["year", "station_id"])
    hires = t["hires"].assign(year=t["hires"]["year"].astype(int))
    rural = set(ids[np.asarray(inst.stations["area_type"]) == "rural"])
    sf = inst.staff
    keep = 1.0
    for k, y in enumerate(inst.years):
        iy = inst.for_year(y)
        if k:
            turn = inst.for_year(inst.years[k - 1]).any_clause("F-TURNOVER")
            rate = float(turn.figures.get("rate", 0.0)) if turn is not None else 0.0
            keep *= hz.survival if hz.survival is not None else 1.0 - rate
        if (c := iy.clause("F-SALARY")) is not None:
            thr = c.figures.get("seniority_years", 3.0)
            senior_mask = (np.asarray(sf["type"]) == "social_worker") & (np.asarray(sf["years_of_service"]) + k >= thr)
            senior = pd.Series(np.asarray(sf["station_id"], dtype=str)[senior_mask]).value_counts()
            need = (c.figures["annual_average"] * staff.loc[y]["social_workers"].reindex(ids).astype(float)
                    + 12 * c.figures.get("seniority_bonus_monthly", 0.0) * keep * senior.reindex(ids).fillna(0))
            paid = bud.loc[y]["salaries"].reindex(ids).astype(float)
            short = (need - paid).clip(lower=0)
            if c.mode("station") == "soft":
                if short.sum() > 1e-6:
                    col.notes.append(f"F-SALARY station {y}: {int((short > 1e-6).sum())} station(s) below the "
                                     f"average pay, short by {short.sum():,.2f} yuan in all (soft)")
            else:
                for sid in ids[short.values > 1e-6]:
                    col.compare("F-SALARY", "station", _where(sid, y), "salaries >= average pay and seniority bonus",
                                float(paid[sid]), ">=", float(need[sid]), "yuan")
        if (c := iy.clause("F-LOCAL-HIRE")) is not None:
            hy = hires[(hires["year"] == y) & (hires["type"] == "social_worker")]
            is_local = hy["local"].astype(str).str.lower() == "true"
            local = float(hy.loc[is_local, "hires"].sum())
            if (hy.loc[is_local, "station_id"].astype(str).isin(rural) == False).any():  # noqa: E712
                col.fail("F-LOCAL-HIRE", "share", _where(None, y), "local hires are rural social-worker hires",
                         "FAIL: hires.csv marks an urban hire local")
            rural_h = float(hy.loc[hy["station_id"].astype(str).isin(rural), "hires"].sum())
            _year_total(col, "F-LOCAL-HIRE", "share", y, "local share of rural social-worker hires", local, ">=",
                        c.figures["share"] * rural_h, "workers", c.mode("share"))
            if "local_hires" in c.figures:
                _year_total(col, "F-LOCAL-HIRE", "count", y, "local hires", local, ">=", c.figures["local_hires"],
                            "workers", c.mode("count"))


def check_path(inst: Instance, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """path.csv states each year's totals as the tables give them."""
    path = t["path"].assign(year=t["path"]["year"].astype(int)).set_index("year")
    staff = t["staff"].assign(year=t["staff"]["year"].astype(int))
    st = t["stations"].assign(year=t["stations"]["year"].astype(int))
    bud = t["budget"].assign(year=t["budget"]["year"].astype(int))
    for y in inst.years:
        if y not in path.index:
            col.fail("E-PATH", "path", _where(None, y), "path.csv has the year", f"FAIL: no row for {y} in path.csv")
            continue
        row = path.loc[y]
        for name, value in (("sw_in_post", staff[staff["year"] == y]["social_workers"].sum()),
                            ("stations_open", st[st["year"] == y]["active"].sum()),
                            ("demo_stations", st[st["year"] == y]["demo"].sum()),
                            ("money_total", bud[bud["year"] == y]["total"].sum())):
            col.compare("E-PATH", name, _where(None, y), f"path.csv {name} as the tables give it", float(row[name]),
                        "=", float(value), "yuan" if name.startswith("money") else "stations", only_failures=True)


def check_summary(plan_dir: Path, t: dict[str, pd.DataFrame], col: Collector) -> None:
    """summary.json's horizon figures (money by use and by source, moves) as budget.csv, sources.csv and
    moves.csv give them, summed over every year."""
    import json

    try:
        summ = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        col.fail("E-FILES", "summary", None, "summary.json reads", f"FAIL: {e}")
        return
    mine: dict[str, dict[str, float]] = {
        "horizon_money": {k: float(pd.to_numeric(t["budget"][k]).sum())
                          for k in ("facilities", "salaries", "services", "training", "total")}}
    if (plan_dir / "sources.csv").is_file():
        src = pd.read_csv(plan_dir / "sources.csv", dtype={"source": str}, keep_default_na=False)
        mine["horizon_money_by_source"] = {str(k): float(v) for k, v in src.groupby("source")["yuan"].sum().items()}
    if "moves" in t:
        mv = t["moves"]
        mine["horizon_moves"] = {"workers": float(pd.to_numeric(mv["count"]).sum()),
                                 "cost": float(pd.to_numeric(mv["cost"]).sum())}
    for key, figures in mine.items():
        written = summ.get(key)
        if not isinstance(written, dict):
            col.fail("E-TOTALS", key, None, f"summary.json has {key}", f"FAIL: summary.json has no {key}")
            continue
        for name, value in figures.items():
            got = written.get(name)
            col.compare("E-TOTALS", key, None, f"summary.json {key}.{name} as the plan's tables sum it over the years",
                        float(got) if isinstance(got, (int, float)) else float("nan"), "=", value,
                        "workers" if name == "workers" else "yuan", slack=0.01)


def verify_horizon(inst: Instance, plan_dir: Path, col: Collector) -> None:
    """Every horizon check (the plan folder's tables read here, apart from the one-year reader)."""
    t = read_horizon(plan_dir, col)
    if t is None:
        return
    check_each_year(inst, plan_dir, col)
    for check in (check_stock, check_pool, check_schedule, check_years, check_salary_and_local, check_path):
        try:
            check(inst, t, col)
        except (KeyError, ValueError) as e:  # a table without the columns or rows a horizon plan has
            col.fail("E-TABLES", check.__name__, None, "the horizon tables are complete", f"FAIL: {e!r}")
    from allocator.verify.checks.profile import check_profile_horizon

    check_profile_horizon(inst, plan_dir, t, col)  # F-DEGREE, F-YOUNG over the years
    check_summary(plan_dir, t, col)


# One-year checks that a horizon replaces with its own (above) or that differ by design in a horizon:
# E1 (the stock identity replaces IN-POST), E7 after the first year (works are paid in the first year),
# F-TOTAL construction (over the horizon), F-HIRING recruited (the year's hires, from hires.csv), and the
# summary/objective checks (summary.json describes the horizon, not one year).
# F-SALARY's seniority count moves with the year (check_salary); F-LOCAL-HIRE and F-TURNOVER are horizon rows.
# X-MOVES seniority: a later year's movable workers include hires, so the horizon's pool (check_pool) replaces it.
_NOT_PER_YEAR = {("X-MOVES", "seniority"), ("F-TOTAL", "construction"), ("F-HIRING", "recruited"),
                 ("F-SALARY", "station"),
                 ("F-LOCAL-HIRE", "share"), ("F-LOCAL-HIRE", "count"), ("F-TURNOVER", "leavers"),
                 ("F-TURNOVER", "total")} | {(c, f) for c in ("F-DEGREE", "F-YOUNG")  # profile.py's horizon check
                                             for f in ("share", "hires", "payroll", "profile")}


def check_each_year(inst: Instance, plan_dir: Path, col: Collector) -> None:
    """Each year's clause rows: the one-year verifier on that year's slice of the plan files."""
    import tempfile

    from allocator.verify.run import verify_plan

    for k, y in enumerate(inst.years):
        with tempfile.TemporaryDirectory(prefix=f"verify-{y}-") as tmp:
            d = Path(tmp)
            for f in ("staff", "budget", "services", "coverage", "stations", "clauses", "sources"):
                if f == "sources" and not (plan_dir / "sources.csv").is_file():
                    continue  # written only where A-SOURCES or F-SOURCES is in force
                df = pd.read_csv(plan_dir / f"{f}.csv", dtype=str, keep_default_na=False)
                df = df[df["year"] == str(y)].drop(columns=["year"] + (["built_year"] if f == "stations" else []))
                if f == "stations":  # the one-year reader takes ``built`` for a new station as in operation
                    df["built"] = df["active"]
                df.to_csv(d / f"{f}.csv", index=False)
            if (plan_dir / "moves.csv").exists():  # X-MOVES: the year's moves (county, cost, cap, budget, E3)
                mv = pd.read_csv(plan_dir / "moves.csv", dtype=str, keep_default_na=False)
                mv[mv["year"] == str(y)].drop(columns=["year"]).to_csv(d / "moves.csv", index=False)
            (d / "summary.json").write_text('{"status": "optimal"}\n')
            report = verify_plan(inst.for_year(y), d, col.tol)
        for c in report.checks:
            engine = not c.clause_id[:2].startswith(("A-", "F-"))
            if engine and (c.clause_id.startswith(("E1", "E-", "OBJ")) or (k and c.clause_id.startswith("E7"))):
                continue
            if (c.clause_id, c.family) in _NOT_PER_YEAR or (k and c.clause_id in ("F-BUILD-SUBSIDY", "F-BUILD")):
                continue  # later years: built (this year) is not open (so far); check_schedule checks them
            c.station_id = _where(c.station_id, y)
            col.checks.append(c)
