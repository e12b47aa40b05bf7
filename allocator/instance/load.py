"""Loading an instance: read its raw content, check everything, assemble the frozen :class:`Instance`.

Both forms (a folder of instance.toml + CSV, or one .xlsx workbook) load through the same checks to equal
values.  Every problem found is collected (file, row, column, value, rule) and raised together as one
:class:`InstanceError`; nothing downstream sees a half-checked instance.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.instance.errors import InputIssue, InstanceError, IssueLog
from allocator.instance.read import Source, read_folder, read_xlsx
from allocator.instance.schema import TABLES
from allocator.instance.settings import TomlChecker, check_settings
from allocator.instance.tables import check_refs, check_table, cross_checks, csv_frame, default_column, frames
from allocator.instance.values import GroupType, Instance, Table


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def check(path: str | os.PathLike[str]) -> tuple[Instance | None, list[InputIssue]]:
    """Load and check an instance; return it (or None) with every issue found.

    Parameters
    ----------
    path : path-like
        An instance folder or an ``.xlsx`` workbook.

    Returns
    -------
    (Instance or None, list of InputIssue)
        The instance is None when any issue is an error.
    """
    p = Path(path)
    log = IssueLog()
    if p.is_dir():
        src = read_folder(p, log)
    elif p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm"):
        src = read_xlsx(p, log)
    elif p.exists():
        log.add(p.name, None, None, None, "bad_path",
                "an instance is a folder (instance.toml + CSV tables) or an .xlsx workbook")
        return None, log.items
    else:
        log.add(str(p), None, None, None, "missing_file", "no such folder or file")
        return None, log.items
    return _check_source(src, log)


def _check_source(src: Source, log: IssueLog) -> tuple[Instance | None, list[InputIssue]]:
    if src.settings is None:
        # Tables can still be checked for their own errors.
        src.settings = {}
        skip_settings = True
    else:
        skip_settings = False
    ck = TomlChecker(src, log)
    parsed = check_settings(src, log) if not skip_settings else {"group_ids": [], "clauses": []}
    group_ids = None if skip_settings else set(parsed.get("group_ids", []))  # unknown if unreadable
    tables = {spec.name: check_table(src, spec, log, group_ids) for spec in TABLES}
    check_refs(src, tables, log)
    if not skip_settings:
        cross_checks(src, parsed, tables, log, ck)
    if log.errors:
        return None, log.items
    instance = _assemble(src, parsed, tables)
    return instance, log.items


def with_settings(instance: Instance, settings: dict[str, Any], label: str = "changed instance") -> Instance:
    """The instance with new instance.toml content, checked exactly as a file would be.

    Used by what-if and sweeps: a change that breaks a rule raises :class:`InstanceError`.
    """
    tables: dict[str, pd.DataFrame | None] = {spec.name: None for spec in TABLES}
    for name, df in frames(instance).items():
        df = csv_frame(df)
        tables[name] = df.astype(object).where(df.notna(), "").astype(str)
    src = Source(label, settings, "", tables, lambda name: f"{label}[{name}]", f"{label}[settings]")
    log = IssueLog()
    inst, issues = _check_source(src, log)
    if inst is None:
        raise InstanceError(issues)
    return inst


def load(path: str | os.PathLike[str]) -> Instance:
    """Load an instance folder or workbook; raise :class:`InstanceError` listing every error."""
    instance, issues = check(path)
    if instance is None:
        raise InstanceError(issues)
    return instance


def _assemble(src: Source, parsed: dict[str, Any], tables: dict[str, Table | None]) -> Instance:
    st = tables["stations"]
    assert st is not None
    groups: list[GroupType] = parsed["groups"]
    gids = [g.id for g in groups]
    gt = tables["groups"]
    assert gt is not None
    residents = np.zeros((len(st), len(gids)), dtype=np.int64)
    if len(gt):
        s_index = pd.Index(st["station_id"]).get_indexer(gt["station_id"])
        g_index = pd.Index(gids).get_indexer(gt["group"])
        residents[s_index, g_index] = gt["residents"]
    sv = tables["services"]
    assert sv is not None
    serves = np.zeros((len(sv), len(gids)), dtype=bool)
    for i, v in enumerate(sv["groups"]):
        if v.strip() == "all":
            serves[i, :] = True
        else:
            for it in v.split(";"):
                it = it.strip()
                if it in gids:
                    serves[i, gids.index(it)] = True
    inst = parsed["instance"]
    empty = {spec.name: Table(spec.name, {c.name: default_column(c, 0) for c in spec.columns})
             for spec in TABLES}
    return Instance(
        name=str(inst["name"]),
        year=int(parsed["year"]),
        currency=str(inst["currency"]),
        description=str(inst.get("description", "")),
        objective=parsed["objective"],
        groups=tuple(groups),
        staff_types=tuple(parsed["staff_types"]),
        costs=parsed["costs"],
        stated=parsed["stated"],
        clauses=tuple(sorted(parsed["clauses"], key=lambda c: c.id)),
        stations=st,
        residents=residents,
        services=sv,
        serves=serves,
        departments=tables["departments"] or empty["departments"],
        packages=tables["packages"] or empty["packages"],
        staff=tables["staff"] or empty["staff"],
        travel=tables["travel"],
        settings=json.dumps(src.settings),
    )


def instance_hash(instance: Instance) -> str:
    """A hash of the instance's content (settings and every table), independent of its file form."""
    h = hashlib.sha256()
    h.update(instance.settings.encode())
    for t in (instance.stations, instance.services, instance.departments, instance.packages, instance.staff):
        h.update(t.to_frame().to_csv(index=False).encode())
    h.update(np.ascontiguousarray(instance.residents).tobytes())
    return h.hexdigest()[:16]
