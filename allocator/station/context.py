"""What the clause families share while the model is built: the instance's arrays and the columns.

:func:`allocator.station.builder.build` makes one :class:`Context` (parameters per station, the
column blocks of the formulation) and hands it to every family function in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from allocator.instance import Clause, Instance, StaffType

if TYPE_CHECKING:
    from allocator.station.builder import _Builder

INF = np.inf


@dataclass(eq=False)
class Context:
    """The instance's arrays and the model's columns, per station unless noted.

    ``act[s] = act_const[s] + act_coef[s] * build[s]`` (1 for existing and upgrade stations, the
    build decision for new ones).  ``SW``, ``CERT`` and ``staff`` stack the social-worker,
    certified and all staff columns (stations x types); ``ops`` the operating money columns.
    """

    inst: Instance
    b: _Builder
    notes: list[str]
    S: int
    G: int
    K: int
    sidx: np.ndarray
    station_ids: np.ndarray
    pop: np.ndarray
    hh: np.ndarray
    urban: np.ndarray
    status: np.ndarray
    is_new: np.ndarray
    buildable: np.ndarray
    area0: np.ndarray
    demand: np.ndarray
    kind: np.ndarray
    base: Mapping[str, StaffType]
    in_post: Mapping[str, np.ndarray]
    cap: np.ndarray
    old: np.ndarray
    not_acc: np.ndarray
    zoning: bool
    cols: dict[str, np.ndarray]
    zone_cols: dict[str, np.ndarray] = field(default_factory=dict)

    # --- column shorthands ---------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Column blocks by their model name (ctx.adm, ctx.m_sal, ctx.build, ctx.y, ...).
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name]
        raise AttributeError(name)

    @property
    def act_const(self) -> np.ndarray:
        return (~self.is_new).astype(float)

    @property
    def act_coef(self) -> np.ndarray:
        return self.is_new.astype(float)

    @property
    def SW(self) -> np.ndarray:  # noqa: N802  (the formulation's name)
        return np.stack([self.cols["swa"], self.cols["swi"], self.cols["swu"]], axis=1)

    @property
    def CERT(self) -> np.ndarray:  # noqa: N802
        return np.stack([self.cols["swa"], self.cols["swi"]], axis=1)

    @property
    def staff(self) -> np.ndarray:
        c = self.cols
        return np.stack([c["adm"], c["swa"], c["swi"], c["swu"], c["vol"]], axis=1)

    @property
    def money_all(self) -> np.ndarray:
        c = self.cols
        return np.concatenate([c["m_fac"], c["m_sal"], c["m_svc"], c["m_trn"]])

    @property
    def ops(self) -> np.ndarray:
        c = self.cols
        return np.stack([c["m_sal"], c["m_svc"], c["m_trn"]], axis=1)

    @property
    def pop_total(self) -> float:
        return float(self.pop.sum())

    # --- rows ------------------------------------------------------------------------------------
    def clause(self, cid: str) -> Clause:
        """The in-force clause ``cid`` (a family runs only when its clause applies)."""
        c = self.inst.clause(cid)
        assert c is not None, f"{cid} is not in force: its family should not have been applied"
        return c

    def fam(self, cid: str, family: str, terms: list[tuple[np.ndarray, Any]], lo: Any, hi: Any,
            stations: np.ndarray | None = None, unit: str = "", mask: np.ndarray | None = None,
            labels: tuple[str, ...] = (), tag: str = "") -> None:
        """Rows of the family ``(cid, family)`` with the instance's mode and penalty for it."""
        c = self.clause(cid)
        self.b.rows(f"{cid}:{family}", cid, family, terms, lo, hi, stations, unit, c.mode(family),
                    c.penalty(family), mask, labels, tag)


def name_part(values: np.ndarray) -> np.ndarray:
    """Ids as parts of row and column names: strings, blanks replaced (MPS fields are blank-separated)."""
    return np.char.replace(np.asarray(values, dtype=str), " ", "_")


def bracket(head: str, keys: np.ndarray) -> np.ndarray:
    """``head[key]`` for every key of a string array (vectorised)."""
    return np.char.add(np.char.add(f"{head}[", np.asarray(keys, dtype=str)), "]")


def join_keys(*parts: np.ndarray | str) -> np.ndarray:
    """``a,b,...`` elementwise over broadcast string arrays (or constant strings)."""
    out = np.asarray(parts[0], dtype=str)
    for p in parts[1:]:
        out = np.char.add(np.char.add(out, ","), np.asarray(p, dtype=str))
    return out


def total(cols: np.ndarray, coef: float | np.ndarray = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """One row over ``cols`` (a total across stations)."""
    cols = np.asarray(cols).reshape(1, -1)
    return cols, np.broadcast_to(np.asarray(coef, dtype=float), cols.shape)


def county_members(st: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sorted county names and a (counties x largest county) matrix of station indices, -1 padded."""
    names, inv = np.unique(np.asarray(st["county"], dtype=str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    sizes = np.bincount(inv, minlength=len(names))
    pos = np.arange(len(inv)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    members = np.full((len(names), int(sizes.max()) if len(sizes) else 0), -1)
    members[inv[order], pos] = order
    return names, members
