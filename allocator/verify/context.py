"""What every check reads: the instance's arrays and the plan's decisions, rounded where they are integers.

A :class:`Context` is built once per plan; the check functions of :mod:`allocator.verify.checks` read
its arrays and add :class:`Row` objects (clause rows, judged later against ``clauses.csv``) or checks
(engine rules, straight to the collector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocator.instance import Instance
from allocator.verify.reader import PlanData
from allocator.verify.report import Collector

__all__ = ["Context", "Row"]


@dataclass
class Row:
    """A clause row as the verifier derives it: ``value sense limit`` in ``unit``."""

    clause_id: str
    family: str
    station: str | None
    description: str
    value: float
    sense: str
    limit: float
    unit: str
    mode: str


def _column(st: object, name: str, default: np.ndarray, dtype: type) -> np.ndarray:
    return np.asarray(st[name], dtype=dtype) if name in st else default  # type: ignore[operator, index]


class Context:
    """The instance and the plan as arrays, shared by every check."""

    def __init__(self, inst: Instance, plan: PlanData, col: Collector):
        self.inst, self.plan, self.col = inst, plan, col
        self.tol = col.tol
        st = inst.stations
        self.ids = np.asarray(st["station_id"], dtype=object).astype(str)
        self.S = S = len(self.ids)
        self.status = np.asarray(st["status"]).astype(str)
        self.urban = np.asarray(st["area_type"]).astype(str) == "urban"
        self.county = np.asarray(st["county"]).astype(str)
        self.pop = np.asarray(st["population"], dtype=float)
        self.pop_total = float(self.pop.sum())
        self.hh = np.asarray(st["households"], dtype=float)
        self.area = np.asarray(st["floor_area_m2"], dtype=float)
        self.age = _column(st, "building_age_years", np.full(S, np.nan), float)
        self.one_stop_today = _column(st, "one_stop", np.zeros(S, bool), bool)
        self.accessible = _column(st, "accessible", np.ones(S, bool), bool)
        self.zone_today = {z: self.area * _column(st, f"zone_{z}", np.zeros(S), float)
                           for z in ("admin", "service", "activity")}
        self.kinds = np.asarray(inst.services["kind"]).astype(str)
        self.service_ids = np.asarray(inst.services["service_id"]).astype(str)
        self.demand = np.asarray(inst.residents, dtype=float) * np.array([g.need_share for g in inst.groups])
        self.rows: list[Row] = []
        # strict=True (summary.json or the manifest's options) makes every family hard
        options = (plan.manifest or {}).get("options") or {}
        self.strict = bool(plan.summary.get("strict", options.get("strict", False)))
        self._decisions(plan)
        self._in_post(inst)

    def _decisions(self, p: PlanData) -> None:
        r = np.round
        self.adm = r(p.staff["admin"])
        self.swa = r(p.staff["sw_certified_assistant"])
        self.swi = r(p.staff["sw_certified_intermediate"])
        self.swu = r(p.staff["sw_uncertified"])
        self.vol = r(p.staff["volunteers"])
        self.sw = self.swa + self.swi + self.swu
        self.cert = self.swa + self.swi
        self.total_staff = self.adm + self.sw + self.vol
        self.fac, self.sal = p.money["facilities"], p.money["salaries"]
        self.svc, self.trn = p.money["services"], p.money["training"]
        self.ops = self.sal + self.svc + self.trn
        self.money_total = float((self.fac + self.ops).sum())
        self.y = r(p.offered)
        self.x = p.covered
        self.built = r(p.st["built"])
        self.is_new = self.status == "new"
        self.act = np.where(self.is_new, self.built, 1.0)
        self.onestop = r(p.st["one_stop_upgrade"])
        self.reno = r(p.st["renovated"])
        self.access = r(p.st["access_retrofit"])
        self.demo = r(p.st["demo"])
        self.expand = p.st["floor_area_added"]
        self.area_after = self.area + self.expand

    def _in_post(self, inst: Instance) -> None:
        sf = inst.staff
        self._s_index = pd.Index(self.ids).get_indexer(np.asarray(sf["station_id"]).astype(str))
        self.staff_types = types = np.asarray(sf["type"]).astype(str)
        cert = np.asarray(sf["certified"], dtype=bool)
        level = np.asarray(sf["level"]).astype(str)
        self.years = np.asarray(sf["years_of_service"], dtype=float)
        self.post_sw = self.count_in_post(types == "social_worker")
        self.post_cert = self.count_in_post((types == "social_worker") & cert)
        self.post_int = self.count_in_post((types == "social_worker") & (level == "intermediate"))
        self.post_adm = self.count_in_post(types == "admin")
        self.post_vol = self.count_in_post(types == "volunteer")

    def count_in_post(self, mask: np.ndarray) -> np.ndarray:
        """Workers in post today per station, among those where ``mask`` (over the staff table) is set."""
        out = np.zeros(self.S)
        np.add.at(out, self._s_index[mask & (self._s_index >= 0)], 1.0)
        return out

    # --- helpers for the check functions -------------------------------------
    def row(self, cid: str, family: str, station: str | None, description: str, value: float, sense: str,
            limit: float, unit: str) -> None:
        """Add one clause row; its mode is the instance's (every row hard for a strict plan)."""
        c = self.inst.clause(cid)
        mode = c.mode(family) if c is not None and not self.strict else "hard"
        self.rows.append(Row(cid, family, station, description, float(value), sense, float(limit), unit, mode))

    def station_rows(self, cid: str, family: str, description: str, value: np.ndarray, sense: str,
                     limit: np.ndarray | float, unit: str, mask: np.ndarray | None = None) -> None:
        """One row per station (where ``mask``)."""
        lim = np.broadcast_to(np.asarray(limit, dtype=float), (self.S,))
        for s in range(self.S):
            if mask is None or mask[s]:
                self.row(cid, family, self.ids[s], description, value[s], sense, lim[s], unit)

    def fig(self, cid: str, name: str, default: float | None = None) -> float:
        """Figure ``name`` of clause ``cid`` (in force); the check's ``applies`` made sure it is there."""
        c = self.inst.clause(cid)
        v = c.figures.get(name, default) if c is not None else default
        if v is None:
            raise KeyError(f"{cid}.{name}")
        return float(v)

    def base(self, t: str) -> float:
        """Base yearly cost of a staff type."""
        return float(self.inst.staff_type(t).annual_cost)

    def hours(self, t: str) -> float:
        """Yearly hours of a staff type."""
        return float(self.inst.staff_type(t).hours_per_year)
