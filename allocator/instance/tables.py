"""Checking the tables: each column parsed whole (types, ranges, choices, text), references, cross-table rules.

Numbers are checked against the ranges of :mod:`allocator.instance.schema`; text cells may hold no control
character and no more than the text limit.  At most 50 issues per rule and column are logged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator.instance.errors import IssueLog
from allocator.instance.read import Source
from allocator.instance.schema import STATED_KEYS, TABLES, Column, TableSpec, limit
from allocator.instance.settings import CONTROL, TomlChecker
from allocator.instance.values import Table

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_INT_MAX = 2**53  # largest whole number a table cell may hold (exact as a float; sums fit in int64)
_SHARE_NOTE = " (a share lies between 0 and 1)"

# ---------------------------------------------------------------------------
# table checks (vectorised per column)
# ---------------------------------------------------------------------------
def _parse_column(spec: TableSpec, col: Column, raw: pd.Series, label: str, log: IssueLog,
                  group_ids: set[str] | None) -> np.ndarray:
    text = raw.astype(str).str.strip()
    rows = np.arange(len(text)) + 2  # header is row 1
    blank = (text == "").to_numpy()
    if not col.blank_ok and blank.any():
        for r in rows[blank][:50]:
            log.add(label, int(r), col.name, "", "missing_value", f"{col.name} must not be blank")
    kind = col.kind
    if kind not in ("int", "float", "share", "bool"):
        _check_text_cells(col, text, rows, label, log)
    if kind in ("int", "float", "share"):
        num = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype=float)
        bad = ~blank & ~np.isfinite(num)
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "wrong_type",
                    f"{col.name} must be a {'whole ' if kind == 'int' else ''}number"
                    + (f" ({col.unit})" if col.unit else ""))
        ok = ~blank & ~bad
        if kind == "int":
            frac = ok & (num != np.round(num))
            for r, v in zip(rows[frac][:50], text[frac][:50], strict=False):
                log.add(label, int(r), col.name, v, "wrong_type", f"{col.name} must be a whole number")
            huge = ok & (np.abs(num) > _INT_MAX)  # beyond exact integers: would wrap around in int64
            for r, v in zip(rows[huge][:50], text[huge][:50], strict=False):
                log.add(label, int(r), col.name, v, "out_of_range", f"{col.name} must be at most {_INT_MAX:,}")
        lo = 0.0 if kind == "share" else col.minimum
        hi = 1.0 if kind == "share" else col.maximum
        if lo is not None:
            low = ok & (num < lo)
            for r, v in zip(rows[low][:50], text[low][:50], strict=False):
                log.add(label, int(r), col.name, v, "out_of_range",
                        f"{col.name} must be >= {lo:g}" + (_SHARE_NOTE if kind == "share" else ""))
        if hi is not None:
            high = ok & (num > hi)
            for r, v in zip(rows[high][:50], text[high][:50], strict=False):
                log.add(label, int(r), col.name, v, "out_of_range",
                        f"{col.name} must be <= {hi:g}" + (_SHARE_NOTE if kind == "share" else
                                                            f" (the range of {col.name} is {lo or 0:g} to {hi:g})"))
        if kind == "int":
            return np.where(np.isfinite(num) & (np.abs(num) <= _INT_MAX), np.round(num), 0).astype(np.int64)
        return num
    if kind == "bool":
        low = text.str.lower()
        t = low.isin(_TRUE).to_numpy()
        f = low.isin(_FALSE).to_numpy()
        bad = ~blank & ~t & ~f
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "wrong_type", f"{col.name} must be true or false")
        return t
    if kind == "enum":
        bad = ~blank & ~text.isin(col.choices).to_numpy()
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "bad_choice",
                    f"{col.name} must be one of {', '.join(col.choices)}")
        return text.to_numpy(dtype=object)
    if kind == "str" and col.ref == "groups" and group_ids is not None:
        bad = ~blank & ~text.isin(group_ids).to_numpy()
        for r, v in zip(rows[bad][:50], text[bad][:50], strict=False):
            log.add(label, int(r), col.name, v, "unknown_reference", f"'{v}' is not a group of instance.toml [groups]")
    if kind == "list":
        if col.ref == "groups" and group_ids is not None:
            for r, v in zip(rows, text, strict=False):
                items = [x.strip() for x in v.split(";") if x.strip()]
                if v and v != "all":
                    for it in items:
                        if it not in group_ids:
                            log.add(label, int(r), col.name, it, "unknown_reference",
                                    f"'{it}' is not a group of instance.toml [groups]")
        return text.to_numpy(dtype=object)
    return text.to_numpy(dtype=object)


def check_table(src: Source, spec: TableSpec, log: IssueLog, group_ids: set[str] | None) -> Table | None:
    label = src.table_label(spec.name)
    if spec.name in src.unreadable:
        return None
    df = src.tables.get(spec.name)
    if df is None:
        if spec.required:
            what = "sheet" if "[" in label else "file"
            log.add(label, None, None, None, "missing_file" if what == "file" else "missing_sheet",
                    f"the {what} '{spec.name}' is required ({spec.doc})")
        return None
    if df.empty and len(df.columns) == 0:
        if spec.required:
            log.add(label, 1, None, None, "missing_column", "the table has no header row")
        return None
    header = [str(c).strip() for c in df.columns]
    df.columns = header
    seen: set[str] = set()
    for i, h in enumerate(header):
        if h in seen:
            log.add(label, 1, h, h, "duplicate_column", f"column '{h}' appears twice")
        seen.add(h)
        if h not in {c.name for c in spec.columns}:
            if h.startswith("Unnamed") or h == "":
                log.add(label, 1, f"#{i + 1}", h, "missing_column", "a column has no name in the header")
            else:
                log.add(label, 1, h, h, "unknown_column",
                        f"'{h}' is not a column of {spec.name} (it is ignored)", severity="warning")
    cols: dict[str, np.ndarray] = {}
    for col in spec.columns:
        if col.name not in df.columns:
            if col.required:
                log.add(label, 1, col.name, None, "missing_column", f"the column '{col.name}' is required")
                continue
            cols[col.name] = default_column(col, len(df))
            continue
        series = df[col.name]
        if isinstance(series, pd.DataFrame):  # duplicated header
            series = series.iloc[:, 0]
        cols[col.name] = _parse_column(spec, col, series, label, log, group_ids)
    if spec.key and all(k in cols for k in spec.key):
        keyframe = pd.DataFrame({k: cols[k] for k in spec.key})
        dup = keyframe.duplicated(keep="first").to_numpy()
        for r in (np.flatnonzero(dup) + 2)[:50]:
            vals = " / ".join(str(keyframe.iloc[r - 2][k]) for k in spec.key)
            log.add(label, int(r), "/".join(spec.key), vals, "duplicate_id",
                    f"{' + '.join(spec.key)} must be unique; this repeats an earlier row")
    return Table(spec.name, {c.name: cols[c.name] for c in spec.columns if c.name in cols})


def default_column(col: Column, n: int) -> np.ndarray:
    if col.kind == "bool":
        return np.full(n, bool(col.default))
    if col.kind == "int":
        return np.full(n, int(col.default or 0), dtype=np.int64)  # type: ignore[call-overload]
    if col.kind in ("float", "share"):
        return np.full(n, np.nan if col.default is None else float(col.default))  # type: ignore[arg-type]
    return np.full(n, "" if col.default is None else str(col.default), dtype=object)


def check_refs(src: Source, tables: dict[str, Table | None], log: IssueLog) -> None:
    for spec in TABLES:
        t = tables.get(spec.name)
        if t is None:
            continue
        for col in spec.columns:
            if not col.ref or col.ref == "groups" or col.name not in t:
                continue
            tname, cname = col.ref.split(".")
            target = tables.get(tname)
            if target is None or cname not in target:
                continue
            known = set(target[cname].tolist())
            vals = t[col.name]
            bad = ~pd.Series(vals).isin(known).to_numpy() & (pd.Series(vals) != "").to_numpy()
            for r in (np.flatnonzero(bad) + 2)[:50]:
                log.add(src.table_label(spec.name), int(r), col.name, vals[r - 2], "unknown_reference",
                        f"'{vals[r - 2]}' is not a {cname} of {tname}")


# ---------------------------------------------------------------------------
# cross-table rules
# ---------------------------------------------------------------------------
def cross_checks(src: Source, parsed: dict[str, Any], tables: dict[str, Table | None], log: IssueLog,
                  ck: TomlChecker) -> None:
    st = tables.get("stations")
    if st is not None and all(k in st for k in ("zone_admin", "zone_service", "zone_activity", "floor_area_m2")):
        z = np.nan_to_num(st["zone_admin"]) + np.nan_to_num(st["zone_service"]) + np.nan_to_num(st["zone_activity"])
        has_building = st["floor_area_m2"] > 0
        bad = (has_building & (np.abs(z - 1) > 1e-3)) | (~has_building & (z > 1e-9))
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("stations"), int(r), "zone_admin+zone_service+zone_activity",
                    f"{z[r - 2]:g}", "shares_sum",
                    "the zone shares of a station with a building must sum to 1 (all 0 without one)")
    sf = tables.get("staff")
    if sf is not None and all(k in sf for k in ("type", "certified", "level")):
        bad = (sf["level"] != "none") & ~sf["certified"]
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("staff"), int(r), "level", sf["level"][r - 2], "level_needs_certificate",
                    "a certificate level other than 'none' needs certified = true")
        bad = sf["certified"] & (sf["type"] != "social_worker")
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("staff"), int(r), "certified", "true", "certified_not_social_worker",
                    "only social workers hold the social-work certificate")
        bad = sf["certified"] & (sf["level"] == "none")
        for r in (np.flatnonzero(bad) + 2)[:50]:
            log.add(src.table_label("staff"), int(r), "level", "none", "level_needs_certificate",
                    "a certified social worker has a level (assistant or intermediate)")
    pk = tables.get("packages")
    if pk is not None and st is not None and "eligible" in pk and "station_id" in st:
        known = set(st["station_id"].tolist())
        for r, rule in enumerate(pk["eligible"], start=2):
            if rule in ("all", "urban", "rural", ""):
                continue
            for sid in (x.strip() for x in str(rule).split(";") if x.strip()):
                if sid not in known:
                    log.add(src.table_label("packages"), r, "eligible", sid, "unknown_reference",
                            f"'{sid}' is not 'all', 'urban', 'rural' nor a station_id of stations")
    stated = parsed.get("stated", {})
    actual = _aggregates(tables, parsed)
    for k, v in stated.items():
        if k in actual and abs(actual[k] - v) > 1e-6 * max(1.0, abs(v)):
            ck.add(f"stated.{k}", v, "stated_total",
                   f"the tables give {actual[k]:,.10g} for {STATED_KEYS[k]}, but [stated] says {v:,.10g}")
    for k, v in parsed.get("documents", {}).items():
        if k in actual and abs(actual[k] - v) > 1e-6 * max(1.0, abs(v)):
            ck.add(f"documents.{k}", v, "document_inconsistent",
                   f"the document states {v:,.10g} for {STATED_KEYS[k]}, the tables have {actual[k]:,.10g}",
                   severity="warning")
    # Figures inside the policy that disagree with the tables are reported, not
    # rejected: the documents contradict themselves and later steps diagnose it.
    sw = _clause_figure(parsed, "F-SW-DENSITY", "per_10k")
    stated_total = _clause_figure(parsed, "F-SW-DENSITY", "stated_total")
    if sw is not None and stated_total is not None and "population" in actual:
        implied = sw * actual["population"] / 10_000
        if abs(implied - stated_total) > 0.05 * stated_total:
            ck.add("clauses.F-SW-DENSITY.stated_total", stated_total, "figure_inconsistent",
                   f"{sw:g} per 10,000 of {actual['population']:,.0f} residents is {implied:,.0f}, "
                   f"not the stated {stated_total:,.0f} (POLICY.md known conflict 4)", severity="warning")


def _clause_figure(parsed: dict[str, Any], cid: str, name: str) -> float | None:
    for c in parsed.get("clauses", []):
        if c.id == cid and c.in_force:
            return c.figures.get(name)
    return None


def _aggregates(tables: dict[str, Table | None], parsed: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    st = tables.get("stations")
    if st is not None:
        out["stations"] = len(st)
        if "population" in st:
            out["population"] = float(st["population"].sum())
        if "households" in st:
            out["households"] = float(st["households"].sum())
        if "status" in st:
            for s in ("existing", "new", "upgrade"):
                out[s] = float((st["status"] == s).sum())
        if "one_stop" in st:
            out["one_stop"] = float(st["one_stop"].sum())
        if "floor_area_m2" in st:
            out["floor_area_m2"] = float(st["floor_area_m2"].sum())
        if "county" in st:
            out["counties"] = float(len(set(st["county"].tolist())))
        age = _clause_figure(parsed, "A-RENOVATE", "age_years")
        if age is not None and "building_age_years" in st:
            out["old_buildings"] = float(np.nansum(st["building_age_years"] > age))
    sf = tables.get("staff")
    if sf is not None and "type" in sf:
        out["staff"] = float(len(sf))
        for t in ("admin", "social_worker", "volunteer"):
            out[t] = float((sf["type"] == t).sum())
        if "certified" in sf:
            out["certified"] = float(sf["certified"].sum())
    return out


def _check_text_cells(col: Column, text: pd.Series, rows: np.ndarray, label: str, log: IssueLog) -> None:
    cap = limit("text_chars")
    ctrl = text.str.contains(CONTROL, regex=True).to_numpy(dtype=bool)
    for r, v in zip(rows[ctrl][:50], text[ctrl][:50], strict=False):
        log.add(label, int(r), col.name, v.encode("unicode_escape").decode("ascii"), "control_character",
                f"{col.name} holds a control character (NUL, ESC, ...), not allowed in text")
    long = (text.str.len() > cap).to_numpy(dtype=bool)
    for r, v in zip(rows[long][:50], text[long][:50], strict=False):
        log.add(label, int(r), col.name, v, "too_long",
                f"{col.name} has {len(v):,} characters, over the limit of {cap:,}")


def frames(instance: Any) -> dict[str, pd.DataFrame]:
    gids = instance.group_ids
    s_idx, g_idx = np.nonzero(instance.residents)
    groups = pd.DataFrame({
        "station_id": instance.stations["station_id"][s_idx],
        "group": np.asarray(gids, dtype=object)[g_idx] if len(gids) else np.array([], dtype=object),
        "residents": instance.residents[s_idx, g_idx],
    })
    out = {
        "stations": instance.stations.to_frame(),
        "groups": groups,
        "services": instance.services.to_frame(),
        "departments": instance.departments.to_frame(),
        "packages": instance.packages.to_frame(),
        "staff": instance.staff.to_frame(),
    }
    if instance.travel is not None:
        out["travel"] = instance.travel.to_frame()
    return out


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == bool:
            df[c] = np.where(df[c], "true", "false")
    return df
