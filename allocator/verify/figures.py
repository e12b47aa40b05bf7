"""What the plan says about itself, held against the verifier's own recomputation.

* ``clauses.csv``: every row the verifier derives is paired with the plan's row of the same clause,
  family, station, sense and unit.  The deviation must equal the shortfall computed here (soft rows;
  0 on hard rows), the mode the instance's, and the figures the plan states must be the verifier's:
  the margin ``value - limit`` and ``slack`` always, within tolerance.  The formulation writes some rows
  with terms moved across the sense (C2 A-STAFF-MIX: ``staff_t - share x all staff >= 0``), so a value
  and a limit that both differ from the verifier's by the same amount are that row's form; a value or a
  limit that differs alone is a false figure and fails.  Families the formulation writes as stated
  (``CheckFamily.as_stated``: the totals A-STAFF-DENSITY, A-SPLIT, F-TOTAL, ...) have value and limit
  each compared.
* ``summary.json``: the totals (staff, money by use, coverage, demand, stations), coverage by group and
  by county, staff in post, the deviation total of every soft family, and the objective.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from allocator.verify.checks import REGISTRY
from allocator.verify.context import Context, Row
from allocator.verify.report import Check, fmt
from allocator.verify.tolerance import shortfall

__all__ = ["judge", "objective", "summary_breakdowns", "totals"]

Key = tuple[str, str, str, str, str]

# Families reported in clauses.csv but priced by no penalty of their own.  F-SPECIAL [total]: its [group]
# family (checked whenever [total] is: both need a special group) asks every special group for its share,
# which implies the total, and prices each group's shortfall; the total's is the same residents again.
UNPRICED: frozenset[tuple[str, str]] = frozenset({("F-SPECIAL", "total")})


def _num(v: Any) -> float:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return float(x) if pd.notna(x) else math.nan


def _key_text(key: Key) -> str:
    cid, fam, station, sense, unit = key
    return f"{cid} [{fam}]{' at ' + station if station else ''} ({sense}, {unit})"


def _written(cl: pd.DataFrame) -> dict[Key, list[dict[str, Any]]]:
    out: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    has_slack = "slack" in cl.columns
    for r in cl.to_dict("records"):
        station = "" if pd.isna(r["station_id"]) else str(r["station_id"])
        key = (str(r["clause_id"]), str(r["family"]), station, str(r["sense"]), str(r["unit"]))
        out[key].append({"deviation": _num(r["deviation"]), "mode": str(r["mode"]), "value": _num(r["value"]),
                         "limit": _num(r["limit"]), "slack": _num(r["slack"]) if has_slack else None})
    return out


def judge(ctx: Context) -> dict[Key, float]:
    """Turn the derived rows into checks against ``clauses.csv``; return the shortfall per row key."""
    col, tol = ctx.col, ctx.tol
    cl = ctx.plan.clauses
    written = _written(cl)
    mine: dict[Key, list[Row]] = defaultdict(list)
    for r in ctx.rows:
        mine[(r.clause_id, r.family, r.station or "", r.sense, r.unit)].append(r)
    shortfalls: dict[Key, float] = {}
    missing_rows: dict[tuple[str, str], int] = defaultdict(int)
    families_written = {(str(a), str(b)) for a, b in zip(cl["clause_id"], cl["family"], strict=True)}
    for key, rows in mine.items():
        written_rows = written.pop(key, [])
        rows_short = [(r, shortfall(r.value, r.sense, r.limit)) for r in rows]
        reps: list[dict[str, Any] | None] = list(written_rows)
        if len(rows) > 1 or len(written_rows) > 1:   # several rows share a key: pair them by deviation and margin
            reps = _pair(rows_short, written_rows)
        if len(written_rows) > len(rows):
            col.notes.append(f"clauses.csv has {len(written_rows)} rows for {_key_text(key)}, the verifier derives "
                             f"{len(rows)}")
        shortfalls[key] = sum(s for _, s in rows_short)
        if not written_rows:
            missing_rows[(key[0], key[1])] += len(rows)
        for i, (r, short) in enumerate(rows_short):
            col.checks.append(_assess(ctx, r, short, reps[i] if i < len(reps) else None))
    for (cid, fam), n in sorted(missing_rows.items()):
        if (cid, fam) not in families_written:
            col.notes.append(f"clauses.csv reports no row of {cid} [{fam}] ({n} row(s) derived and checked here)")
    for key, extra in written.items():
        devs = [d["deviation"] for d in extra]
        big = [d for d in devs if not (math.isfinite(d) and abs(d) <= tol.of(key[4], 0.0))]
        text = (f"clauses.csv reports {len(extra)} row(s) {_key_text(key)} that the verifier does not derive "
                f"(deviation {', '.join(fmt(d) for d in devs)})")
        if big:
            col.fail(key[0], key[1], key[2] or None, "a row the verifier does not derive", "FAIL: " + text,
                     unit=key[4])
        else:
            col.notes.append(text)
    return shortfalls


def _pair(rows_short: list[tuple[Row, float]], reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """``reps`` reordered so that ``reps[i]`` is the written row closest to ``rows_short[i]``.

    Rows that share a key (F-USES [split]: six rows per year, no station) differ by their shortfall and
    their margin ``value - limit``; pairing in order of shortfall alone mixes up the rows whose shortfall
    ties (several 0s).  An assignment on |deviation - shortfall| + |margin - margin| pairs each with its
    own; a derived row left without a partner gets ``None``.
    """
    from scipy.optimize import linear_sum_assignment

    if not reps:
        return []

    def num(x: float) -> float:
        return x if math.isfinite(x) else 1e18

    cost = np.array([[abs(num(rep["deviation"]) - short)
                      + abs(num(rep["value"]) - num(rep["limit"]) - (r.value - r.limit))
                      for rep in reps] for r, short in rows_short])
    out: list[dict[str, Any] | None] = [None] * len(rows_short)
    for i, j in zip(*linear_sum_assignment(cost), strict=True):
        out[int(i)] = reps[int(j)]
    return out


def _my_slack(r: Row) -> float:
    if r.sense == ">=":
        return r.value - r.limit
    if r.sense == "<=":
        return r.limit - r.value
    return -abs(r.value - r.limit)


def _figure_problems(ctx: Context, r: Row, rep: dict[str, Any]) -> list[str]:
    """The figures clauses.csv states on the row (value, limit, slack) against the recomputation."""
    mag = max(1.0, abs(r.value), abs(r.limit))
    # written to 6 decimals from a solver's values (feasibility ~1e-6 relative): forgiven on top
    t = ctx.tol.of(r.unit, mag) + 1e-6 * mag
    out: list[str] = []
    v, lim = rep["value"], rep["limit"]
    where = f"clauses.csv {r.clause_id} [{r.family}]" + (f" at {r.station}" if r.station else "")
    if not (math.isfinite(v) and math.isfinite(lim)):
        return [f"{where} value/limit is not a number"]
    dv, dl = v - r.value, lim - r.limit
    entry = REGISTRY.get((r.clause_id, r.family))
    if entry is not None and entry.as_stated and (abs(dv) > t or abs(dl) > t):
        out.append(f"{where} states value {fmt(v)} and limit {fmt(lim)} {r.unit}, the plan's tables give "
                   f"{fmt(r.value)} and {fmt(r.limit)}")
    elif abs(dv - dl) > t:
        out.append(f"{where} states value {fmt(v)} and limit {fmt(lim)} {r.unit}: a margin of {fmt(v - lim)}, "
                   f"the plan's tables give {fmt(r.value)} against {fmt(r.limit)} (margin {fmt(r.value - r.limit)})")
    slack = rep.get("slack")
    if slack is not None and not (math.isfinite(slack) and abs(slack - _my_slack(r)) <= t):
        out.append(f"{where} states slack {fmt(slack)} {r.unit}, recomputed {fmt(_my_slack(r))}")
    return out


def _assess(ctx: Context, r: Row, short: float, rep: dict[str, Any] | None) -> Check:
    t = ctx.tol.of(r.unit, r.limit)
    dev = rep["deviation"] if rep is not None else None
    problems: list[str] = []
    if rep is not None and rep["mode"] != r.mode:
        problems.append(f"plan says mode {rep['mode']}, the instance says {r.mode}")
    if r.mode == "soft":
        d = 0.0 if dev is None or not math.isfinite(dev) else dev
        if dev is not None and not math.isfinite(dev):
            problems.append("deviation is not a number")
        if d < short - t:
            problems.append(f"deviation understated: reported {fmt(d)}, actual shortfall {fmt(short)} {r.unit}")
        elif d > short + t:
            problems.append(f"deviation overstated: reported {fmt(d)}, actual shortfall {fmt(short)} {r.unit}")
    else:
        if short > t:
            problems.append(f"hard row broken by {fmt(short)} {r.unit}")
        if dev is not None and math.isfinite(dev) and abs(dev) > t:
            problems.append(f"a deviation of {fmt(dev)} is reported on a hard row")
    if rep is not None:
        problems += _figure_problems(ctx, r, rep)
    ok, held = not problems, short <= t
    head = "FAIL" if not ok else ("met" if held else "broken (soft)")
    msg = f"{head}: {fmt(r.value)} {r.sense} {fmt(r.limit)} {r.unit}"
    if short > 0:
        msg += f"; shortfall {fmt(short)}"
    if r.mode == "soft":
        msg += f"; reported deviation {fmt(dev if dev is not None else 0.0)}"
    if problems:
        msg += " -- " + "; ".join(problems)
    return Check(r.clause_id, r.family, r.station, r.description, r.value, r.sense, r.limit, dev, ok, msg,
                 r.unit, r.mode, short, held)


def totals(ctx: Context) -> None:
    """E-TOTALS: summary.json's totals = the tables' sums."""
    col, p = ctx.col, ctx.plan
    tot = p.summary.get("totals")
    if not isinstance(tot, dict):
        col.fail("E-TOTALS", "totals", None, "summary.json has totals", "FAIL: summary.json has no 'totals'")
        return
    mine: dict[str, tuple[float, str]] = {
        "staff": (ctx.total_staff.sum(), "staff"), "social_workers": (ctx.sw.sum(), "staff"),
        "certified": (ctx.cert.sum(), "staff"), "admin": (ctx.adm.sum(), "staff"),
        "volunteers": (ctx.vol.sum(), "staff"), "covered": (ctx.x.sum(), "residents"),
        "demand": (ctx.demand.sum(), "residents"),
    }
    if "stations_active" in tot:
        mine["stations_active"] = (ctx.act.sum(), "stations")
    for k, (v, unit) in mine.items():
        if k not in tot:
            col.fail("E-TOTALS", k, None, f"summary.json totals.{k}", f"FAIL: summary.json totals lack {k}")
            continue
        col.compare("E-TOTALS", k, None, f"summary.json totals.{k} = the tables' sum", _num(tot[k]), "=", v, unit)
    money = tot.get("money")
    if not isinstance(money, dict):
        col.fail("E-TOTALS", "money", None, "summary.json totals.money", "FAIL: summary.json totals lack money")
        return
    sums = {"facilities": ctx.fac.sum(), "salaries": ctx.sal.sum(), "services": ctx.svc.sum(),
            "training": ctx.trn.sum()}
    sums["total"] = sum(sums.values())
    for k, v in sums.items():
        if k not in money:
            col.fail("E-TOTALS", f"money.{k}", None, f"summary.json totals.money.{k}",
                     f"FAIL: summary.json totals.money lacks {k}")
            continue
        col.compare("E-TOTALS", f"money.{k}", None, f"summary.json totals.money.{k} = budget.csv's sum",
                    _num(money[k]), "=", v, "yuan")


def _coverage_part(ctx: Context, name: str, parts: dict[str, tuple[float, float]]) -> None:
    """summary.json's coverage_by_group / coverage_by_county (written to 0.1 resident)."""
    stated = ctx.plan.summary.get(name)
    if stated is None:
        return
    if not isinstance(stated, dict):
        ctx.col.fail("E-TOTALS", name, None, f"summary.json {name}", f"FAIL: summary.json {name} is not a table")
        return
    for key in sorted(set(stated) | set(parts)):
        entry = stated.get(key)
        if key not in parts or not isinstance(entry, dict):
            ctx.col.fail("E-TOTALS", name, key, f"summary.json {name} names the instance's {name[12:]}s",
                         f"FAIL: summary.json {name} {'lacks' if key in parts else 'names unknown'} {key!r}")
            continue
        demand, covered = parts[key]
        for what, mine in (("demand", demand), ("covered", covered)):
            ctx.col.compare("E-TOTALS", f"{name}.{what}", key, f"summary.json {name}.{key}.{what} = the tables'",
                            _num(entry.get(what)), "=", float(mine), "residents", slack=0.051)


def _deviations(ctx: Context, shortfalls: dict[Key, float]) -> None:
    """summary.json's deviations: the total deviation of each soft family, in its unit."""
    stated = ctx.plan.summary.get("deviations")
    if not isinstance(stated, list):
        return
    mine: dict[tuple[str, str, str], tuple[float, int]] = defaultdict(lambda: (0.0, 0))
    for r in ctx.rows:
        if r.mode == "soft":
            k = (r.clause_id, r.family, r.unit)
            s, n = mine[k]
            mine[k] = (s + shortfall(r.value, r.sense, r.limit), n + 1)
    said = {(str(d.get("clause_id")), str(d.get("family")), str(d.get("unit"))): _num(d.get("total"))
            for d in stated if isinstance(d, dict)}
    for k in sorted(set(said) | set(mine)):
        total, n = mine.get(k, (0.0, 1))
        allowed = n * ctx.tol.of(k[2], total) + 5e-4          # written to 3 decimals
        if k not in said and total <= allowed:
            continue
        ctx.col.compare("E-TOTALS", "deviations", None, f"summary.json deviations {k[0]} [{k[1]}] = the shortfall "
                        f"recomputed, in {k[2]}", said.get(k, 0.0), "=", total, k[2], slack=allowed)
        if k not in said:
            ctx.col.checks[-1].message += " (summary.json does not list this family's deviation)"


def summary_breakdowns(ctx: Context, shortfalls: dict[Key, float]) -> None:
    """E-TOTALS: coverage by group and county, staff in post and the soft deviations summary.json states."""
    gids = list(ctx.inst.group_ids)
    _coverage_part(ctx, "coverage_by_group", {g: (float(ctx.demand[:, i].sum()), float(ctx.x[:, i].sum()))
                                              for i, g in enumerate(gids)})
    _coverage_part(ctx, "coverage_by_county", {c: (float(ctx.demand[ctx.county == c].sum()),
                                                   float(ctx.x[ctx.county == c].sum()))
                                               for c in sorted(set(ctx.county))})
    in_post = ctx.plan.summary.get("staff_in_post")
    if isinstance(in_post, dict):
        for t, n in in_post.items():
            ctx.col.compare("E-TOTALS", "staff_in_post", t, f"summary.json staff_in_post.{t} = the staff table's",
                            _num(n), "=", float((ctx.staff_types == t).sum()), "staff")
    _deviations(ctx, shortfalls)


def objective(ctx: Context, shortfalls: dict[Key, float]) -> None:
    """E-OBJECTIVE: recompute the objective where the formulation defines it (equity none or worst_county)."""
    inst, p, col = ctx.inst, ctx.plan, ctx.col
    reported = p.summary.get("objective")
    if reported is None or not isinstance(reported, (int, float)):
        return
    obj = inst.objective
    if obj.equity not in ("none", "worst_county"):
        col.notes.append(f"objective not recomputed: the formulation does not define equity '{obj.equity}'")
        return
    w = np.array([g.weight for g in inst.groups])
    value = float((ctx.x @ w).sum()) - obj.cost_weight * ctx.money_total
    if obj.equity == "worst_county" and obj.equity_weight:
        shares = []
        for county in sorted(set(ctx.county)):
            m = ctx.county == county
            d = ctx.demand[m].sum()
            if d > 0:
                shares.append(ctx.x[m].sum() / d)
        value += obj.equity_weight * 100 * (min(shares) if shares else 0.0)
    pen = 0.0
    for key, short in shortfalls.items():
        c = inst.clause(key[0])
        if c is not None and c.mode(key[1]) == "soft" and not ctx.strict and key[:2] not in UNPRICED:
            pen += c.penalty(key[1]) * short
    value -= pen
    rep = float(reported)
    t = 1e-5 * max(1.0, abs(value), abs(rep))
    ok = rep <= value + t
    text = f"summary.json objective {fmt(rep)}, recomputed from the tables {fmt(value)} (penalties {fmt(pen)})"
    if ok and rep < value - t:
        col.notes.append(f"E-OBJECTIVE: {text}: the plan is better than reported (a slack equity or deviation "
                         "variable in the solver's incumbent)")
    col.checks.append(Check(
        "E-OBJECTIVE", "objective", None,
        "objective = sum w x - cost_weight x yuan + equity term - penalties x shortfalls", rep, "<=", value, None,
        ok, f"{'ok' if ok else 'FAIL'}: {text}" + ("" if ok else " -- the summary claims more than the plan has"),
        "objective units", "hard", max(0.0, rep - value), ok))
