"""``verify_assignment``: re-check what ``allocator assign --out DIR`` wrote (roster, hires, packages).

It shares no code with :mod:`allocator.assign`: the roster, the hiring list and the package placements
are read here and held against the instance and the plan (read by :mod:`allocator.verify.reader`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance import Instance, Table
from allocator.verify.assignment_year import LEVEL_RANK, check_year_staff, json_or_empty
from allocator.verify.reader import PlanData, read_plan_folder
from allocator.verify.report import Check, Collector, VerifyReport, fmt, verdict_text
from allocator.verify.tolerance import Tolerance, shortfall

__all__ = ["verify_assignment"]

ASSIGNMENT_FILES = ("roster.csv", "hires.csv", "packages.csv")
ROSTER_COLUMNS = ("worker_id", "type", "from_station", "to_station", "from_level", "to_level", "moved", "upgrade")
HIRES_COLUMNS = ("station_id", "post", "hires", "local_required", "annual_cost")
PACKAGE_COLUMNS = ("package_id", "copy", "department_id", "station_id")
# post kind: (staff type, level) and the plan's staff.csv column
POST_KINDS: dict[str, tuple[str, int, str]] = {
    "admin": ("admin", 0, "admin"),
    "sw_uncertified": ("social_worker", 0, "sw_uncertified"),
    "sw_certified_assistant": ("social_worker", 1, "sw_certified_assistant"),
    "sw_certified_intermediate": ("social_worker", 2, "sw_certified_intermediate"),
    "volunteer": ("volunteer", 0, "volunteers"),
}


def _steps(a: int, b: int) -> set[str]:
    """The upgrade steps from level a to level b."""
    return ({"certify"} if a == 0 and b >= 1 else set()) | ({"promote"} if a <= 1 and b == 2 else set())


def _listed(upgrade: object) -> set[str]:
    return {x.strip() for x in str(upgrade).replace(",", "+").split("+") if x.strip()}


def _hire_unit(inst: Instance) -> dict[str, float]:
    """Annual cost of one hire per post: the salary floor in force for social workers."""
    a_sal, f_sal = inst.clause("A-SALARY"), inst.clause("F-SALARY")
    if a_sal is not None and "monthly_min" in a_sal.figures:
        sw = 12.0 * float(a_sal.figures["monthly_min"])
    elif f_sal is not None and "annual_average" in f_sal.figures:
        sw = float(f_sal.figures["annual_average"])
    else:
        sw = float(inst.staff_type("social_worker").annual_cost)
    return {"admin": float(inst.staff_type("admin").annual_cost), "sw_uncertified": sw,
            "sw_certified_assistant": sw, "sw_certified_intermediate": sw,
            "volunteer": float(inst.staff_type("volunteer").annual_cost)}


def _read_table(col: Collector, path: Path, columns: tuple[str, ...], str_cols: tuple[str, ...]
                ) -> pd.DataFrame | None:
    if not path.is_file():
        col.fail("E-FILES", "files", None, f"{path.name} is present", f"FAIL: {path} is missing")
        return None
    try:
        df = pd.read_csv(path, dtype={c: str for c in str_cols}, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        df = pd.DataFrame(columns=list(columns))
    missing = [c for c in columns if c not in df.columns]
    if missing:
        col.fail("E-FILES", "columns", None, f"{path.name} has every column",
                 f"FAIL: {path.name} lacks column(s) {', '.join(missing)}")
        return None
    for c in str_cols:
        if c in df.columns:
            df[c] = df[c].fillna("").astype(str)
    return df


def _ints(col: Collector, df: pd.DataFrame, name: str, file: str) -> np.ndarray:
    v = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) | (np.abs(v - np.round(v)) > col.tol.integrality)
    if bad.any():
        col.fail("E-INTEGER", name, None, f"{file}.{name} is a whole number",
                 f"FAIL: {file} column {name} is not a whole number in {int(bad.sum())} row(s) (read as 0)")
    return np.where(bad, 0, np.round(np.nan_to_num(v))).astype(np.int64)


class _AssignmentVerifier:
    """Checks the roster, the hiring list and the package placements against the instance and the plan."""

    def __init__(self, inst: Instance, plan: PlanData, adir: Path, col: Collector):
        self.inst, self.plan, self.adir, self.col = inst, plan, adir, col
        st = inst.stations
        self.ids = np.asarray(st["station_id"], dtype=object).astype(str)
        self.sidx = pd.Index(self.ids)
        self.S = len(self.ids)
        self.urban = np.asarray(st["area_type"]).astype(str) == "urban"
        self.county = np.asarray(st["county"]).astype(str)
        status = np.asarray(st["status"]).astype(str)
        self.active = np.where(status == "new", np.round(plan.st["built"]), 1.0) > 0.5
        sf = inst.staff
        self.wid = np.asarray(sf["worker_id"]).astype(str)
        self.w_station = np.asarray(sf["station_id"]).astype(str)
        self.w_type = np.asarray(sf["type"]).astype(str)
        self.w_level = np.asarray(sf["level"]).astype(str)
        self.w_local = np.asarray(sf["local_registration"], dtype=bool)
        self.years = np.asarray(sf["years_of_service"], dtype=float)
        self.year: int | None = None      # the horizon year the assignment staffs (None: a one-year plan)
        self.extra_years = 0.0            # a horizon: the years after this one that protection looks ahead
        self.summary: dict[str, Any] = {}
        if (adir / "assignment.json").is_file():
            try:
                self.summary = json.loads((adir / "assignment.json").read_text(encoding="utf-8"))
            except ValueError:
                col.fail("E-FILES", "files", None, "assignment.json is JSON", "FAIL: assignment.json is not JSON")
        else:
            col.notes.append("no assignment.json: the move limit and the totals are not checked")
        got = self.summary.get("roster")
        self.rs: dict[str, Any] = got if isinstance(got, dict) else {}

    # --- roster ----------------------------------------------------------------
    def roster(self) -> None:
        """Every check of the roster and the hiring list."""
        ro = _read_table(self.col, self.adir / "roster.csv", ROSTER_COLUMNS,
                         ("worker_id", "type", "from_station", "to_station", "from_level", "to_level", "upgrade"))
        hi = _read_table(self.col, self.adir / "hires.csv", HIRES_COLUMNS, ("station_id", "post"))
        if ro is None or hi is None:
            return
        self._workers_once(ro)
        self._origins_and_levels()
        self._upgrades()
        self._moves()
        self._hires(hi)
        self._posts()
        self._local_hire()

    def _workers_once(self, ro: pd.DataFrame) -> None:
        """E1 / E-ROSTER: every worker in post exactly once, nobody else."""
        col, wid = self.col, self.wid
        W = len(wid)
        wi = pd.Index(wid).get_indexer(ro["worker_id"])
        for r in np.flatnonzero(wi < 0).tolist():
            col.fail("E-ROSTER", "worker", None, "roster.csv lists only workers in post",
                     f"FAIL: roster.csv row {r + 2}: worker {ro['worker_id'].iat[r]!r} is not in the staff table")
        seen = np.bincount(wi[wi >= 0], minlength=W)
        for w in np.flatnonzero(seen > 1).tolist():
            col.fail("E-ROSTER", "worker", self.w_station[w], "each worker appears once on the roster",
                     f"FAIL: worker {wid[w]} appears {seen[w]} times", float(seen[w]), "=", 1.0, "workers")
        for w in np.flatnonzero(seen == 0).tolist():
            col.fail("E1", "roster", self.w_station[w], "every worker in post is on the roster (nobody dismissed)",
                     f"FAIL: worker {wid[w]} ({self.w_type[w]}) in post at {self.w_station[w]} is not on the roster",
                     0.0, ">=", 1.0, "workers")
        col.compare("E1", "roster", None, "workers in post on the roster exactly once", float((seen == 1).sum()),
                    "=", float(W), "workers")
        keep = (wi >= 0) & ~pd.Series(wi).duplicated().to_numpy()
        self.ro = ro[keep].reset_index(drop=True)
        self.w = wi[keep]
        self.to_s = self.sidx.get_indexer(self.ro["to_station"])
        for r in np.flatnonzero(self.to_s < 0).tolist():
            col.fail("E-ROSTER", "station", None, "a worker goes to a station of the instance",
                     f"FAIL: worker {wid[self.w[r]]} goes to unknown station {self.ro['to_station'].iat[r]!r}")

    def _where(self, r: int) -> str | None:
        return self.ids[self.to_s[r]] if self.to_s[r] >= 0 else None

    def _origins_and_levels(self) -> None:
        """E-ROSTER: type, station and level of origin as the staff table says; nobody below their level."""
        col, ro, w, wid = self.col, self.ro, self.w, self.wid
        for name, written, truth in (("type", ro["type"].to_numpy(), self.w_type[w]),
                                     ("from_station", ro["from_station"].to_numpy(), self.w_station[w]),
                                     ("from_level", ro["from_level"].to_numpy(), self.w_level[w])):
            for r in np.flatnonzero(written != truth).tolist():
                col.fail("E-ROSTER", name, self.w_station[w[r]], f"roster {name} = the staff table's",
                         f"FAIL: worker {wid[w[r]]}: {name} written {written[r]!r}, the staff table says "
                         f"{truth[r]!r}" + (" (a worker keeps their type)" if name == "type" else ""))
        to_level = ro["to_level"].to_numpy()
        self.to_rank = np.array([LEVEL_RANK.get(x, -1) for x in to_level])
        self.from_rank = np.array([LEVEL_RANK.get(x, 0) for x in self.w_level[w]])
        self.is_sw = self.w_type[w] == "social_worker"
        for r in np.flatnonzero((self.to_rank < 0) | (~self.is_sw & (self.to_rank != 0))).tolist():
            col.fail("E-ROSTER", "to_level", self._where(r),
                     "to_level is none/assistant/intermediate ('none' for admin staff and volunteers)",
                     f"FAIL: worker {wid[w[r]]} ({self.w_type[w[r]]}): to_level {to_level[r]!r}")
        below = self.is_sw & (self.to_rank >= 0) & (self.to_rank < self.from_rank)
        for r in np.flatnonzero(below).tolist():
            col.fail("E-ROSTER", "to_level", self._where(r), "nobody takes a post below their certificate level",
                     f"FAIL: worker {wid[w[r]]} ({self.w_level[w[r]]}) placed at level {to_level[r]}",
                     float(self.to_rank[r]), ">=", float(self.from_rank[r]), "workers")

    def _upgrades(self) -> None:
        """A certified / intermediate post needs the certificate or the listed upgrade (and nothing else listed)."""
        col, ro, w, wid, inst = self.col, self.ro, self.w, self.wid, self.inst
        cert_id = next((c for c in ("F-CERT-RATE", "A-CERT-RATE", "A-CERT-MIN") if inst.any_clause(c) is not None),
                       "E-ROSTER")
        ups = ro["upgrade"].to_numpy()
        to_level = ro["to_level"].to_numpy()
        for r in np.flatnonzero(self.is_sw & (self.to_rank > self.from_rank)).tolist():
            listed = _listed(ups[r])
            for step, fam, what in (("certify", "certified", "a certified post"),
                                    ("promote", "intermediate", "an intermediate post")):
                if step in _steps(int(self.from_rank[r]), int(self.to_rank[r])) and step not in listed:
                    col.fail(cert_id, fam, self._where(r),
                             f"a worker in {what} holds the level or is listed to {step}",
                             f"FAIL: worker {wid[w[r]]} ({self.w_level[w[r]]}) in {what} without the upgrade "
                             f"'{step}' (upgrade written: {ups[r]!r})", 0.0, ">=", 1.0, "workers")
        for r in range(len(ro)):
            need = (_steps(int(self.from_rank[r]), int(self.to_rank[r]))
                    if self.is_sw[r] and self.to_rank[r] >= 0 else set())
            if _listed(ups[r]) - need:
                col.fail("E-TABLES", "upgrade", None, "the upgrade listed is the one the levels need",
                         f"FAIL: worker {wid[w[r]]} {self.w_level[w[r]]} -> {to_level[r]} lists {ups[r]!r}")

    def _moves(self) -> None:
        """E-TABLES [moved], X-MOVES [roster] / [protected] and E-MOVES.

        A worker moved as the plan's ``moves.csv`` says (from, to, level; up to its count) is the plan's
        move; every other move is the roster's own and counts against the limit in assignment.json
        (``--max-moves``, 0 by default: then any move the plan does not make fails E-MOVES).  Each of the
        plan's moves is made, and nobody X-MOVES protects (years of service reaching ``protected_years``)
        is moved.
        """
        col, ro, w = self.col, self.ro, self.w
        moved_written = _ints(col, ro, "moved", "roster.csv")
        self.moved = moved = ro["to_station"].to_numpy() != self.w_station[w]
        for r in np.flatnonzero(moved_written != moved.astype(int)).tolist():
            col.fail("E-TABLES", "moved", None, "moved = 1 exactly when the station changes",
                     f"FAIL: worker {self.wid[w[r]]}: moved {moved_written[r]}, {self.w_station[w[r]]} -> "
                     f"{ro['to_station'].iat[r]}")
        quota: dict[tuple[str, str, str], int] = {}
        mv = self.plan.moves
        if mv is not None and len(mv):
            if "year" in mv.columns and self.year is not None:
                mv = mv[pd.to_numeric(mv["year"], errors="coerce") == self.year]
            for r in mv.itertuples(index=False):
                key = (str(r.from_station), str(r.to_station), str(r.level))
                quota[key] = quota.get(key, 0) + int(round(float(r.count)))
        planned = dict.fromkeys(quota, 0)
        own = np.zeros(len(ro), bool)
        lvl = np.where(np.isin(self.w_level[w], list(LEVEL_RANK)), self.w_level[w], "none")
        for r in np.flatnonzero(moved).tolist():
            key = (self.w_station[w[r]], str(ro["to_station"].iat[r]), str(lvl[r]))
            if self.is_sw[r] and key in quota and planned[key] < quota[key]:
                planned[key] += 1
            else:
                own[r] = True
        for key, n in quota.items():
            col.compare("X-MOVES", "roster", key[0], f"workers moved {key[0]} -> {key[1]} ({key[2]}) as the "
                        "plan's moves.csv says", float(planned[key]), "=", float(n), "workers", only_failures=True)
        if quota:
            col.compare("X-MOVES", "roster", None, "workers moved as the plan's moves.csv says, all moves",
                        float(sum(planned.values())), "=", float(sum(quota.values())), "workers")
        self.own = own
        prot = self._protected()
        for r in np.flatnonzero(moved & prot[w]).tolist():
            col.fail("X-MOVES", "protected", self.w_station[w[r]], "nobody protected by seniority is moved",
                     f"FAIL: worker {self.wid[w[r]]} ({self.years[w[r]]:g} years of service) moved "
                     f"{self.w_station[w[r]]} -> {ro['to_station'].iat[r]}: X-MOVES protects them", 1.0, "<=", 0.0,
                     "workers")
        if "max_moves" in self.rs:
            if self.rs["max_moves"] is None:
                col.notes.append(f"E-MOVES: no move limit recorded; {int(moved.sum())} worker(s) moved, "
                                 f"{int(own.sum())} of them not by the plan's moves")
            else:
                for r in np.flatnonzero(own).tolist()[:5] if self.rs["max_moves"] == 0 else []:
                    col.fail("E-MOVES", "roster", self.w_station[w[r]], "a worker moves only as the plan's "
                             "moves.csv says (no move limit given)",
                             f"FAIL: worker {self.wid[w[r]]} moved {self.w_station[w[r]]} -> "
                             f"{ro['to_station'].iat[r]} without a move of the plan")
                col.compare("E-MOVES", "roster", None, "workers moved other than by the plan's moves.csv <= "
                            "max_moves", float(own.sum()), "<=", float(self.rs["max_moves"]), "workers")

    def _protected(self) -> np.ndarray:
        """X-MOVES protection per worker: years of service (+ the horizon's remaining years) >= protected_years;
        the horizon's placeholder hires (``hire-...``) are new and never protected."""
        c = self.inst.clause("X-MOVES")
        if c is None or "protected_years" not in c.figures:
            return np.zeros(len(self.wid), bool)
        hire = np.char.startswith(self.wid.astype(str), "hire-")
        return ~hire & (self.years + self.extra_years >= float(c.figures["protected_years"]))

    def _hires(self, hi: pd.DataFrame) -> None:
        """hires.csv: known stations and posts, 0 <= local <= hires, one row per post, costs at the floor."""
        col = self.col
        post_names = list(POST_KINDS)
        hs = self.sidx.get_indexer(hi["station_id"])
        hk = np.array([post_names.index(p) if p in POST_KINDS else -1 for p in hi["post"]], dtype=np.int64)
        bad = (hs < 0) | (hk < 0)
        for r in np.flatnonzero(bad).tolist():
            col.fail("E-FILES", "rows", None, "hires.csv names stations of the instance and known posts",
                     f"FAIL: hires.csv row {r + 2}: station {hi['station_id'].iat[r]!r}, post {hi['post'].iat[r]!r}")
        n_h = _ints(col, hi, "hires", "hires.csv")
        n_l = _ints(col, hi, "local_required", "hires.csv")
        for r in np.flatnonzero((n_h < 0) | (n_l < 0) | (n_l > n_h)).tolist():
            col.fail("E-BOUNDS", "hires", hi["station_id"].iat[r], "0 <= local_required <= hires",
                     f"FAIL: hires.csv row {r + 2}: hires {n_h[r]}, local_required {n_l[r]}")
        dup = pd.Series(list(zip(hs, hk, strict=True))).duplicated().to_numpy() & ~bad
        for r in np.flatnonzero(dup).tolist():
            col.fail("E-FILES", "rows", hi["station_id"].iat[r], "hires.csv: one row per station and post",
                     f"FAIL: hires.csv repeats {hi['station_id'].iat[r]} {hi['post'].iat[r]}")
        unit = _hire_unit(self.inst)
        cost_w = pd.to_numeric(hi["annual_cost"], errors="coerce").to_numpy(dtype=float)
        for r in np.flatnonzero(~bad).tolist():
            col.compare("E-TABLES", "annual_cost", hi["station_id"].iat[r],
                        f"hires.csv annual_cost = hires x the salary floor in force ({hi['post'].iat[r]})",
                        cost_w[r], "=", n_h[r] * unit[hi["post"].iat[r]], "yuan", only_failures=True)
        K = len(post_names)
        self.hires = np.zeros((self.S, K), np.int64)
        self.local_req = np.zeros((self.S, K), np.int64)
        good = ~bad
        np.add.at(self.hires, (hs[good], hk[good]), n_h[good])
        np.add.at(self.local_req, (hs[good], hk[good]), n_l[good])
        self.n_hires, self.n_local = float(n_h[good].sum()), float(n_l[good].sum())

    def _posts(self) -> None:
        """F-HIRING [posts]: placed + hires = posts; E2 [roster]; assignment.json's totals."""
        col, ids = self.col, self.ids
        post_names = list(POST_KINDS)
        K = len(post_names)
        k_of = np.full(len(self.ro), -1)
        for i, (t, lvl, _) in enumerate(POST_KINDS.values()):
            k_of[(self.w_type[self.w] == t) & (self.to_rank == lvl)] = i
        okp = (k_of >= 0) & (self.to_s >= 0)
        placed = np.zeros((self.S, K), np.int64)
        np.add.at(placed, (self.to_s[okp], k_of[okp]), 1)
        self.posts = posts = np.column_stack([np.round(self.plan.staff[c]) for _, _, c in POST_KINDS.values()])
        hires = self.hires
        for k, name in enumerate(post_names):
            for s in np.flatnonzero((posts[:, k] > 0) | (placed[:, k] + hires[:, k] > 0)).tolist():
                col.compare("F-HIRING", "posts", ids[s], f"{name}: workers placed + hires = posts in the plan",
                            placed[s, k] + hires[s, k], "=", posts[s, k], "staff", only_failures=True)
            col.compare("F-HIRING", "posts", None, f"{name}: workers placed + hires = posts, all stations",
                        float(placed[:, k].sum() + hires[:, k].sum()), "=", float(posts[:, k].sum()), "staff")
        for s in np.flatnonzero(~self.active & (placed.sum(1) > 0)).tolist():
            col.fail("E2", "roster", ids[s], "nobody is placed at a station the plan does not open",
                     f"FAIL: {int(placed[s].sum())} worker(s) placed at {ids[s]}, not active in the plan")
        if self.rs:
            for key, mine in (("moved", float(self.moved.sum())), ("hires", self.n_hires),
                              ("local_required", self.n_local)):
                if key in self.rs:
                    col.compare("E-TOTALS", f"roster.{key}", None, f"assignment.json roster.{key} = the tables'",
                                float(self.rs[key]), "=", mine, "workers")

    def _local_hire(self) -> None:
        """F-LOCAL-HIRE [hires] and [station] at rural stations; a shortfall forced by staff in post passes."""
        col, ids, w, to_s = self.col, self.ids, self.w, self.to_s
        c = self.inst.clause("F-LOCAL-HIRE")
        if c is None or "share" not in c.figures:
            return
        share = float(c.figures["share"])
        sw_k = np.array([t == "social_worker" for t, _, _ in POST_KINDS.values()])
        sw_posts = self.posts[:, sw_k].sum(1)
        sw_hires = self.hires[:, sw_k].sum(1)
        sw_local = self.local_req[:, sw_k].sum(1)
        home = self.sidx.get_indexer(self.w_station[w])
        sw_row = self.is_sw & (to_s >= 0) & (home >= 0)
        local_there = np.zeros(len(self.ro), bool)
        local_there[sw_row] = self.w_local[w][sw_row] & (self.county[to_s[sw_row]] == self.county[home[sw_row]])
        local_staff = np.bincount(to_s[sw_row & local_there], minlength=self.S)
        # the plan's own moves (moves.csv) are the station model's, made without registrations: only the
        # roster's own moves count against a shortfall being forced
        own = self.moved & self.own
        in_nonlocal = np.bincount(to_s[sw_row & ~local_there & own], minlength=self.S)
        out_local = np.bincount(home[sw_row & self.w_local[w] & own], minlength=self.S)
        forced_short: list[float] = []
        for s in np.flatnonzero(~self.urban & (sw_posts > 0)).tolist():
            col.compare("F-LOCAL-HIRE", "hires", ids[s], "local hires >= share x social-worker hires (rural)",
                        float(sw_local[s]), ">=", share * sw_hires[s], "workers")
            value, limit = float(local_staff[s] + sw_local[s]), share * float(sw_posts[s])
            short = shortfall(value, ">=", limit)
            desc = "local social workers in post + local hires >= share x social workers (rural)"
            if short <= col.tol.of("workers", limit):
                col.compare("F-LOCAL-HIRE", "station", ids[s], desc, value, ">=", limit, "workers")
                continue
            forced = sw_local[s] == sw_hires[s] and in_nonlocal[s] == 0 and out_local[s] == 0
            msg = verdict_text(value, ">=", limit, short, "workers", forced)
            if forced:
                msg += (" -- forced by staff in post who are not local (IN-POST keeps them): every hire is local "
                        "and nobody was moved in or out")
            else:
                why = []
                if sw_local[s] < sw_hires[s]:
                    why.append(f"{sw_hires[s] - sw_local[s]} hire(s) not required local")
                if in_nonlocal[s]:
                    why.append(f"{in_nonlocal[s]} non-local worker(s) moved in")
                if out_local[s]:
                    why.append(f"{out_local[s]} local worker(s) moved out")
                msg += " -- " + "; ".join(why)
            col.checks.append(Check("F-LOCAL-HIRE", "station", ids[s], desc, value, ">=", limit, None, forced, msg,
                                    "workers", "hard", short, False))
            if forced:
                forced_short.append(math.ceil(limit - 1e-9) - value)  # in whole workers
        if forced_short:
            col.notes.append(f"F-LOCAL-HIRE [station]: {len(forced_short)} rural station(s) short of the local share "
                             f"by {fmt(sum(forced_short))} social worker(s) in all, forced by staff in post who are "
                             "not local (every hire there is local; IN-POST keeps them; `allocator assign "
                             "--max-moves N` lets the roster move them)")

    # --- packages ---------------------------------------------------------------
    def packages(self) -> None:
        """E-PACKAGES, E4 [packages] and E-DEPT."""
        pl = _read_table(self.col, self.adir / "packages.csv", PACKAGE_COLUMNS,
                         ("package_id", "department_id", "station_id"))
        if pl is None:
            return
        j, s, good = self._placements(pl)
        self._package_hours(j, s, good)
        self._departments(j, good)

    def _placements(self, pl: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        col, ids, pk = self.col, self.ids, self.inst.packages
        pids = np.asarray(pk["package_id"]).astype(str)
        j = pd.Index(pids).get_indexer(pl["package_id"])
        s = self.sidx.get_indexer(pl["station_id"])
        copy = _ints(col, pl, "copy", "packages.csv")
        bad = (j < 0) | (s < 0)
        for r in np.flatnonzero(bad).tolist():
            col.fail("E-PACKAGES", "rows", None, "packages.csv names packages and stations of the instance",
                     f"FAIL: packages.csv row {r + 2}: package {pl['package_id'].iat[r]!r} at "
                     f"{pl['station_id'].iat[r]!r}")
        copies = np.asarray(pk["copies"], dtype=np.int64) if "copies" in pk else np.ones(len(pids), np.int64)
        dep_of = np.asarray(pk["department_id"]).astype(str)
        good = np.flatnonzero(~bad)
        for r in good.tolist():
            if not 1 <= copy[r] <= copies[j[r]]:
                col.fail("E-PACKAGES", "copies", ids[s[r]], "a copy number between 1 and the package's copies",
                         f"FAIL: {pids[j[r]]} copy {copy[r]}: the package has {copies[j[r]]} copies")
            if pl["department_id"].iat[r] != dep_of[j[r]]:
                col.fail("E-TABLES", "department_id", ids[s[r]], "a package's department is the instance's",
                         f"FAIL: {pids[j[r]]} written for {pl['department_id'].iat[r]}, the instance says "
                         f"{dep_of[j[r]]}")
        key = pd.Series([f"{a}#{b}" for a, b in zip(pl["package_id"], copy, strict=True)])
        for r in np.flatnonzero(key.duplicated().to_numpy()).tolist():
            col.fail("E-PACKAGES", "copies", pl["station_id"].iat[r], "each package copy is placed at most once",
                     f"FAIL: {pl['package_id'].iat[r]} copy {copy[r]} is placed more than once")
        n_copies = np.bincount(j[good], minlength=len(pids))
        for q in np.flatnonzero(n_copies > copies).tolist():
            col.fail("E-PACKAGES", "copies", None, "copies placed <= the package's copies",
                     f"FAIL: {pids[q]} placed {n_copies[q]} times, it has {copies[q]} copies",
                     float(n_copies[q]), "<=", float(copies[q]), "packages")
        rules = np.asarray(pk["eligible"]).astype(str)
        for r in good.tolist():
            rule = rules[j[r]].strip()
            ok = (rule == "all" or (rule == "urban" and self.urban[s[r]]) or (rule == "rural" and not self.urban[s[r]])
                  or ids[s[r]] in {x.strip() for x in rule.split(";")})
            if not ok:
                col.fail("E-PACKAGES", "eligible", ids[s[r]], "a package goes only where it is eligible",
                         f"FAIL: {pids[j[r]]} at {ids[s[r]]}, eligible: {rule}")
            if not self.active[s[r]]:
                col.fail("E-PACKAGES", "active", ids[s[r]], "a package goes only to a station the plan opens",
                         f"FAIL: {pids[j[r]]} at {ids[s[r]]}, not active in the plan")
        col.compare("E-PACKAGES", "copies", None, "package copies placed <= copies offered", float(len(good)), "<=",
                    float(copies.sum()), "packages")
        return j, s, good

    def _package_hours(self, j: np.ndarray, s: np.ndarray, good: np.ndarray) -> None:
        """E4 HOURS [packages]: the packages' staff hours within the hours the plan leaves spare."""
        inst, p = self.inst, self.plan
        train = inst.clause("A-TRAINING")
        h_train = float(train.figures.get("hours_per_worker", 0.0)) if train is not None else 0.0
        sw = np.round(p.staff["sw_certified_assistant"]) + np.round(p.staff["sw_certified_intermediate"]) \
            + np.round(p.staff["sw_uncertified"])
        have = ((inst.staff_type("social_worker").hours_per_year - h_train) * sw
                + inst.staff_type("admin").hours_per_year * np.round(p.staff["admin"])
                + inst.staff_type("volunteer").hours_per_year * np.round(p.staff["volunteers"]))
        used = p.covered @ np.array([g.hours_per_resident for g in inst.groups]) \
            + np.round(p.offered) @ np.asarray(inst.services["staff_hours"], dtype=float)
        pk_hours = np.zeros(self.S)
        np.add.at(pk_hours, s[good], np.asarray(inst.packages["staff_hours"], dtype=float)[j[good]])
        for st in np.flatnonzero(pk_hours > 0).tolist():
            self.col.compare("E4", "packages", self.ids[st], "package hours <= staff hours left after coverage and "
                             "services", pk_hours[st], "<=", max(0.0, have[st] - used[st]), "hours")

    def _departments(self, j: np.ndarray, good: np.ndarray) -> None:
        """E-DEPT: department budget and number of packages."""
        pk, deps = self.inst.packages, self.inst.departments
        dep_of = np.asarray(pk["department_id"]).astype(str)
        d_ids = np.asarray(deps["department_id"]).astype(str)
        d_of = pd.Index(d_ids).get_indexer(dep_of[j[good]])
        spent = np.zeros(len(d_ids))
        count = np.zeros(len(d_ids))
        okd = d_of >= 0
        np.add.at(spent, d_of[okd], np.asarray(pk["cost"], dtype=float)[j[good]][okd])
        np.add.at(count, d_of[okd], 1.0)
        for d, dep in enumerate(d_ids):
            self.col.compare("E-DEPT", "budget", dep, "cost of the department's packages placed <= its budget",
                             spent[d], "<=", float(deps["budget"][d]), "yuan")
            self.col.compare("E-DEPT", "count", dep, "the department's packages placed <= max_packages", count[d],
                             "<=", float(deps["max_packages"][d]), "packages")


def verify_assignment(instance: Instance, plan_dir: str | os.PathLike[str], assignment_dir: str | os.PathLike[str],
                      tol: Tolerance | None = None) -> VerifyReport:
    """Re-check what ``allocator assign --out DIR`` wrote against the instance and the plan it was made for.

    Roster (``roster.csv``, ``hires.csv``): every worker in post appears exactly once (E1, E-ROSTER) with
    their own type, station and level; nobody takes a post below their level; a worker in a certified or
    intermediate post holds that level already or is listed with the upgrade (``certify`` / ``promote``;
    failures carry the certification clause in force: F-CERT-RATE, A-CERT-RATE or A-CERT-MIN); at every
    station and post, workers placed + hires = posts of the plan (F-HIRING [posts]: nothing left open
    unlisted, nothing overfilled); the plan's moves (``moves.csv``, X-MOVES [roster]) made, nobody protected
    by seniority moved (X-MOVES [protected]), other moves within the limit in ``assignment.json`` (E-MOVES);
    F-LOCAL-HIRE at rural stations: local hires >= share x hires [hires], and local social workers + local
    hires >= share x social workers [station] -- a shortfall there passes only where every hire is local
    and nobody was moved in or out (forced by staff in post, whom IN-POST keeps).  Packages
    (``packages.csv``): each copy at most once, only where eligible and at stations the plan opens
    (E-PACKAGES), within the staff hours the plan leaves spare (E4 [packages]), department budgets and
    counts (E-DEPT).  On a horizon plan the year of ``assignment.json`` (default the first) is checked on
    that year's slice of the plan, against the staff in post that year (``staff_in_post.csv``: E1
    [in_post] holds it to the plan's stock at the start of the year less its leavers, per station and
    category, today's workers and earlier years' ``hire-...`` placeholders only).

    Parameters
    ----------
    instance : Instance
    plan_dir : path-like
        The plan the assignment was made for.
    assignment_dir : path-like
        A directory written by ``allocator assign --out DIR``.
    tol : Tolerance, optional

    Returns
    -------
    VerifyReport
        Its checks only (the plan's own clauses are :func:`allocator.verify.verify_plan`'s).
    """
    tol = tol or Tolerance()
    col = Collector(tol)
    adir = Path(assignment_dir)
    report = VerifyReport(instance.name, str(adir))
    quiet = Collector(tol)      # the plan's own file problems are verify_plan's to report
    if not adir.is_dir():
        col.fail("E-FILES", "files", None, "the assignment directory exists", f"FAIL: no directory {adir}")
    elif instance.horizon is not None and Path(plan_dir).is_dir():
        _verify_year(instance, Path(plan_dir), adir, col, quiet)
    else:
        plan = read_plan_folder(instance, Path(plan_dir), quiet) if Path(plan_dir).is_dir() else None
        if plan is None:
            col.fail("E-FILES", "files", None, "the plan can be read",
                     f"FAIL: the plan {plan_dir} cannot be read; the assignment is not checked")
        else:
            v = _AssignmentVerifier(instance, plan, adir, col)
            v.roster()
            v.packages()
    report.checks, report.notes = col.checks, col.notes
    return report


def _verify_year(instance: Instance, plan_dir: Path, adir: Path, col: Collector, quiet: Collector) -> None:
    """One year of a horizon plan: the year of assignment.json (default the first), that year's slice of the
    plan, and the staff in post that year (``staff_in_post.csv``, cross-checked by :func:`_check_year_staff`)."""
    import tempfile

    doc = json_or_empty(adir / "assignment.json")
    year = int(doc.get("year", instance.years[0]))
    if year not in instance.years:
        col.fail("E-FILES", "year", None, "assignment.json's year is a year of the horizon",
                 f"FAIL: assignment.json year {year}; the instance plans {list(instance.years)}")
        return
    sp_path = adir / "staff_in_post.csv"
    if not sp_path.is_file():
        col.fail("E-FILES", "files", None, "a horizon assignment has staff_in_post.csv",
                 f"FAIL: {sp_path} is missing: the staff in post in {year} cannot be checked")
        return
    sip = pd.read_csv(sp_path, dtype={"worker_id": str, "station_id": str, "type": str, "level": str},
                      keep_default_na=False)
    with tempfile.TemporaryDirectory(prefix=f"verify-assign-{year}-") as tmp:
        d = Path(tmp)
        for f in ("staff", "budget", "services", "coverage", "stations", "clauses", "moves"):
            if not (plan_dir / f"{f}.csv").is_file():
                continue
            df = pd.read_csv(plan_dir / f"{f}.csv", dtype=str, keep_default_na=False)
            df = df[df["year"] == str(year)].drop(columns=["year"] + (["built_year"] if f == "stations" else []))
            if f == "stations":  # the one-year reader takes ``built`` for a new station as in operation
                df["built"] = df["active"]
            df.to_csv(d / f"{f}.csv", index=False)
        (d / "summary.json").write_text('{"status": "optimal"}\n')
        plan = read_plan_folder(instance.for_year(year), d, quiet)
    if plan is None:
        col.fail("E-FILES", "files", None, "the plan can be read",
                 f"FAIL: the plan {plan_dir} ({year}) cannot be read; the assignment is not checked")
        return
    check_year_staff(instance, plan_dir, year, sip, col)
    cols = {c: sip[c].to_numpy() for c in sip.columns if c != "protected"}
    cols["local_registration"] = sip["local_registration"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    cols["years_of_service"] = pd.to_numeric(sip["years_of_service"], errors="coerce").fillna(0).to_numpy()
    inst_y = dataclasses.replace(instance.for_year(year), staff=Table(instance.staff.name, cols))
    v = _AssignmentVerifier(inst_y, plan, adir, col)
    v.year, v.extra_years = year, float(len(instance.years) - 1)
    col.notes.append(f"assignment of {year} of the horizon: checked against the staff in post that year "
                     f"(staff_in_post.csv, {len(sip)} worker(s), cross-checked with the plan's tables)")
    v.roster()
    v.packages()
