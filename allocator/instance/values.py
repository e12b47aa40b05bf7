"""The Instance: a typed, frozen value checked at the boundary.

Everything the model builder, the verifier and the reports need comes from an
:class:`Instance`; nothing downstream reads files.  Tables hold read-only
numpy arrays (one per column) so that the builder can work on whole columns.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance.horizon import Horizon, clauses_for_year


def _frozen(arr: np.ndarray) -> np.ndarray:
    # A read-only view of a read-only copy: numpy refuses to make such a view writeable again.
    base = np.array(arr, copy=True)
    base.flags.writeable = False
    return base.view()


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


@dataclass(frozen=True, eq=False)
class Table:
    """A column table: name -> read-only numpy array, all of one length.

    String columns are object arrays of ``str``; booleans are ``bool``;
    integers ``int64``; reals ``float64`` (``nan`` where blank is allowed).
    """

    name: str
    columns: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        frozen = {k: _frozen(v) for k, v in self.columns.items()}
        lengths = {len(v) for v in frozen.values()}
        if len(lengths) > 1:
            raise ValueError(f"table {self.name}: columns of different lengths {lengths}")
        object.__setattr__(self, "columns", MappingProxyType(frozen))

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def __len__(self) -> int:
        for v in self.columns.values():
            return len(v)
        return 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return (
            self.name == other.name
            and list(self.columns) == list(other.columns)
            and all(_values_equal(self.columns[k], other.columns[k]) for k in self.columns)
        )

    __hash__ = None  # type: ignore[assignment]

    def to_frame(self) -> pd.DataFrame:
        """A pandas copy of the table (writable)."""
        return pd.DataFrame({k: np.array(v) for k, v in self.columns.items()})


@dataclass(frozen=True)
class GroupType:
    """A population group (``[groups.<id>]`` in instance.toml)."""

    id: str
    label: str
    weight: float
    need_share: float
    special: bool
    hours_per_resident: float
    cost_per_resident: float


@dataclass(frozen=True)
class StaffType:
    """A staff type (``[staff_types.<id>]``): service hours and cost per person-year."""

    id: str
    hours_per_year: float
    annual_cost: float


@dataclass(frozen=True)
class Objective:
    """Objective settings (``[objective]``)."""

    cost_weight: float = 0.0
    equity: str = "none"
    equity_weight: float = 0.0
    mode: str = "weighted"
    deviation_tolerance: float = 1e-3
    deviation_tolerance_abs: float = 1.0
    baseline_staff: float = 0.0
    baseline_money: float = 0.0
    baseline_service: float = 0.0
    baseline_demo: float = 0.0
    baseline_max_staff: float | None = None
    baseline_max_money: float | None = None
    baseline_max_services: float | None = None
    baseline_max_demo: float | None = None


@dataclass(frozen=True)
class Clause:
    """A clause as the instance states it.

    ``figures`` holds each figure resolved for the instance's year; ``paths``
    the year paths as written.  ``modes`` and ``penalties`` are per family
    (see :mod:`allocator.instance.policy`).
    """

    id: str
    in_force: bool
    figures: Mapping[str, float]
    paths: Mapping[str, tuple[tuple[int, float], ...]]
    modes: Mapping[str, str]
    penalties: Mapping[str, float]
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("figures", "paths", "modes", "penalties"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def __hash__(self) -> int:
        return hash(self.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Clause):
            return NotImplemented
        return (self.id, self.in_force, dict(self.figures), dict(self.paths), dict(self.modes),
                dict(self.penalties), self.note) == (
            other.id, other.in_force, dict(other.figures), dict(other.paths), dict(other.modes),
            dict(other.penalties), other.note)

    def figure(self, name: str, default: float | None = None) -> float | None:
        """The figure ``name`` for the plan year, or ``default``."""
        return self.figures.get(name, default)

    def mode(self, family: str) -> str:
        """``hard`` or ``soft`` for a constraint family of this clause."""
        return self.modes.get(family, self.modes.get("*", "hard"))

    def penalty(self, family: str) -> float:
        """Objective units lost per unit of deviation of a soft family."""
        return self.penalties.get(family, self.penalties.get("*", 0.0))


@dataclass(frozen=True, eq=False)
class Instance:
    """A validated instance: policy, parameters and tables.

    Build one with :func:`allocator.instance.load`; it is immutable.

    Attributes
    ----------
    residents : numpy.ndarray
        Residents per station (rows, ``stations`` order) and group (columns,
        ``groups`` order).
    serves : numpy.ndarray
        Boolean services x groups: which groups each service reaches.
    settings : str
        The instance.toml content, normalised, as JSON (for round trips).
    """

    name: str
    year: int
    currency: str
    description: str
    objective: Objective
    groups: tuple[GroupType, ...]
    staff_types: tuple[StaffType, ...]
    costs: Mapping[str, float]
    stated: Mapping[str, float]
    clauses: tuple[Clause, ...]
    stations: Table
    residents: np.ndarray
    services: Table
    serves: np.ndarray
    departments: Table
    packages: Table
    staff: Table
    travel: Table | None
    settings: str = field(repr=False, default="{}")
    horizon: Horizon | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "residents", _frozen(self.residents))
        object.__setattr__(self, "serves", _frozen(self.serves))
        object.__setattr__(self, "costs", MappingProxyType(dict(self.costs)))
        object.__setattr__(self, "stated", MappingProxyType(dict(self.stated)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, Mapping):
                a, b = dict(a), dict(b) if isinstance(b, Mapping) else b
            if f.name == "settings":
                a, b = json.loads(a), json.loads(b)
            if not _values_equal(a, b):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    # --- convenient views --------------------------------------------------
    @property
    def num_stations(self) -> int:
        return len(self.stations)

    @property
    def group_ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.groups)

    def clause(self, clause_id: str) -> Clause | None:
        """The clause ``clause_id`` if the instance states it and it is in force."""
        for c in self.clauses:
            if c.id == clause_id:
                return c if c.in_force else None
        return None

    def any_clause(self, clause_id: str) -> Clause | None:
        """The clause ``clause_id`` as stated, in force or not."""
        for c in self.clauses:
            if c.id == clause_id:
                return c
        return None

    def staff_type(self, type_id: str) -> StaffType:
        for s in self.staff_types:
            if s.id == type_id:
                return s
        return StaffType(type_id, 0.0, 0.0)

    def settings_dict(self) -> dict[str, Any]:
        """A fresh copy of the normalised instance.toml content."""
        return json.loads(self.settings)

    @property
    def years(self) -> tuple[int, ...]:
        """The plan years: the horizon's, or the one year."""
        return self.horizon.years if self.horizon is not None else (self.year,)

    def for_year(self, year: int) -> Instance:
        """The one-year instance of ``year`` of a horizon: each clause figure resolved by its rule."""
        if self.horizon is None:
            if year != self.year:
                raise ValueError(f"{self.name} plans {self.year} only, not {year}")
            return self
        if year not in self.horizon.years:
            raise ValueError(f"{year} is not a year of the horizon {list(self.horizon.years)}")
        return dataclasses.replace(self, year=year, clauses=clauses_for_year(self.clauses, self.horizon, year),
                                   horizon=None)

    def iter_clauses_in_force(self) -> Iterator[Clause]:
        return (c for c in self.clauses if c.in_force)
