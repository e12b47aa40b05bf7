"""Mutating instance folders as a hostile user would, and what the CLI may answer (shared by the property
test ``test_cli_fuzz.py`` and the benchmark ``benchmarks/fuzz_cli.py``).

A case copies a seed folder (District A, Fuzhou or the tiny fixture), applies one to three mutations (a
cell, a column's type, a row or column deleted or duplicated, a file re-encoded, truncated, deleted or
replaced by a symbolic link, an instance.toml value replaced by an absurd one or the text garbled) and runs
one command.  The outcome must be an exit code of 0, 1, 3 or 4, or 2 with an error line; never 6, never
a traceback.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import strategies as st

from cli import main

ROOT = Path(__file__).resolve().parents[2]
SEEDS = {"a-district-2026": ROOT / "instances" / "a-district-2026", "fuzhou-2026": ROOT / "instances" / "fuzhou-2026",
         "tiny": ROOT / "tests" / "instance" / "fixtures" / "tiny"}
ENC = {"encoding": "utf-8", "errors": "surrogateescape"}
ALLOWED = {0, 1, 2, 3, 4}

CELL = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "true", "FALSE", "nan", "inf", "-0", "1e300", "1e308", "-1e300", "1e400", "0x10",
                     "1,5", "S1", "all", "none", "urban", "rural", "existing", "new", "social_worker", "elderly",
                     "elderly;kids", ";", '"', "\n", "=", "[x]", "a\x00b", "\x1b[31m", "x" * 3000, "１２", "٣"]),
)
TOML_VALUE = st.sampled_from(["1e300", "-1e300", "nan", "inf", "1e20", "0", "-1", '"text"', '"a\\u0000b"',
                              "true", "[]", "{}", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", "1979-05-27",
                              '"' + "y" * 20_000 + '"', "99999999999999999999999999", "{ 2024 = 1e300 }"])
KINDS = ["cell", "cell", "column_type", "delete_row", "duplicate_row", "delete_column", "duplicate_column",
         "truncate", "delete_file", "encoding", "symlink", "toml_value", "garble_toml"]
ENCODINGS = ["utf-16", "latin-1", "gbk", "utf-8-sig", "cp1252"]


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(**ENC), newline="")))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), **ENC)


def _file_mutation(kind: str, folder: Path, name: str, draw: Callable[..., Any]) -> str:
    path = folder / name
    if kind == "delete_file":
        path.unlink()
        return f"deleted {name}"
    if kind == "truncate":
        raw = path.read_bytes()
        cut = draw(st.integers(0, len(raw)), label="cut at byte")
        path.write_bytes(raw[:cut])
        return f"truncated {name} at byte {cut}"
    if kind == "encoding":
        enc = draw(st.sampled_from(ENCODINGS), label="encoding")
        text = path.read_text(**ENC)
        path.write_bytes(text.encode(enc, errors="replace"))
        return f"{name} re-encoded as {enc}"
    # a symbolic link: outside the folder, inside it, dangling, or to a device
    outside = folder.parent / f"outside-{name}"
    shutil.copyfile(path, outside)
    target = draw(st.sampled_from([str(outside), "stations.csv", "nowhere.csv", "/dev/zero", str(folder)]),
                  label="link to")
    path.unlink()
    os.symlink(target, path)
    return f"{name} -> symlink to {target}"


def _toml_mutation(kind: str, folder: Path, draw: Callable[..., Any]) -> str:
    path = folder / "instance.toml"
    if not path.exists() or path.is_symlink():
        return "no instance.toml"
    text = path.read_text(**ENC)
    if kind == "toml_value":
        values = [m.start(1) for m in re.finditer(r"^[\w-]+ *= *(\S)", text, flags=re.M)]
        if not values:
            return "no value in instance.toml"
        at = draw(st.sampled_from(values), label="value at")
        end = text.find("\n", at)
        value = draw(TOML_VALUE, label="value")
        path.write_text(text[:at] + value + text[end:], **ENC)
        return f"instance.toml value at {at} -> {value[:40]!r}"
    a = draw(st.integers(0, len(text)), label="from")
    b = draw(st.integers(a, min(len(text), a + 40)), label="to")
    junk = draw(st.one_of(st.text(max_size=10), st.sampled_from(["[", "]", "=", '"', "[clauses.X]",
                                                                 "\n[instance]\n", "x = 1\n", "{"])), label="junk")
    path.write_text(text[:a] + junk + text[b:], **ENC)
    return f"instance.toml[{a}:{b}] -> {junk!r}"


def mutate(folder: Path, draw: Callable[..., Any]) -> str:
    """Apply one random mutation to ``folder``; return what it did (hypothesis prints it on failure)."""
    kind = draw(st.sampled_from(KINDS), label="kind")
    present = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.is_symlink())
    if not present:
        return "nothing left"
    if kind in ("truncate", "delete_file", "encoding", "symlink"):
        return _file_mutation(kind, folder, draw(st.sampled_from(present), label="file"), draw)
    if kind in ("toml_value", "garble_toml"):
        return _toml_mutation(kind, folder, draw)
    csvs = [n for n in present if n.endswith(".csv")]
    if not csvs:
        return "no csv left"
    name = draw(st.sampled_from(csvs), label="csv")
    path = folder / name
    rows = read_rows(path)
    if not rows:
        return f"{name} is empty"
    width = max(len(r) for r in rows)
    if kind in ("delete_row", "duplicate_row"):
        i = draw(st.integers(0, len(rows) - 1), label="row index")
        if kind == "delete_row":
            del rows[i]
        else:
            rows.insert(i, list(rows[i]))
    elif kind in ("delete_column", "duplicate_column", "column_type"):
        j = draw(st.integers(0, max(width - 1, 0)), label="column index")
        value = draw(CELL, label="value") if kind == "column_type" else ""
        for r in rows:
            if j >= len(r):
                continue
            if kind == "delete_column":
                del r[j]
            elif kind == "duplicate_column":
                r.insert(j, r[j])
            elif r is not rows[0]:
                r[j] = value
    else:  # one cell, the header included
        i = draw(st.integers(0, len(rows) - 1), label="row index")
        if not rows[i]:
            return f"{name} row {i} is empty"
        j = draw(st.integers(0, len(rows[i]) - 1), label="column index")
        rows[i][j] = draw(CELL, label="value")
    write_rows(path, rows)
    return f"{kind} in {name}"


def make_case(tmp: Path, seed: str, n: int, draw: Callable[..., Any]) -> tuple[Path, list[str]]:
    """A mutated copy of ``seed`` under ``tmp``: its folder and what was done to it."""
    folder = tmp / seed
    shutil.copytree(SEEDS[seed], folder)
    return folder, [mutate(folder, draw) for _ in range(n)]


def run(args: list[str]) -> Result:
    return CliRunner().invoke(main, args)


def outcome_problem(r: Result) -> str | None:
    """Why the result ``r`` is not an acceptable outcome (None when it is)."""
    out = r.stdout + r.stderr
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        return f"exception {type(r.exception).__name__}: {r.exception}"
    if "Traceback" in out:
        return "a traceback was printed"
    if r.exit_code not in ALLOWED:
        return f"exit {r.exit_code}: {r.stderr[-500:]}"
    if r.exit_code == 2 and not any(ln.strip().startswith(("error: ", "Error: "))
                                    for ln in r.stderr.splitlines()):
        return f"exit 2 without an error line: {r.stderr[-500:]}"
    if len(out) > 200_000:
        return f"{len(out):,} characters of output: the input is echoed"
    return None
