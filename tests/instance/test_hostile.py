"""Hostile input (issue 17): every hole a hostile test found, one row each, held closed.

Each row of CASES is: the case (``item<N>_...``: the issue's item), how its input is made in a fresh
folder, the command line, the exit code it must give and the words its output must hold.  Every row also
checks that no traceback escapes and, when the command is refused (exit 2), that it changed nothing: every
file that was there before is still there, byte for byte, and nothing was added.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from allocator.instance import load, write_folder, write_xlsx
from cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "instance" / "fixtures" / "tiny"
A_BOOK = ROOT / "instances" / "a-district-2026.xlsx"
FUZHOU = ROOT / "instances" / "fuzhou-2026"


# ---------------------------------------------------------------------------
# inputs: each maker fills the case's folder and returns the names the command line uses
# ---------------------------------------------------------------------------
def _copy_tiny(tmp: Path, name: str = "inst") -> Path:
    folder = tmp / name
    folder.mkdir()
    for f in TINY.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _csv_cell(folder: Path, table: str, column: str, value: str, row: int = 0) -> None:
    import pandas as pd

    f = folder / f"{table}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df.loc[row, column] = value
    df.to_csv(f, index=False)


def user_folder(tmp: Path) -> dict[str, Path]:
    (tmp / "dir").mkdir()
    (tmp / "dir" / "keep.txt").write_text("the user's own file\n")
    return {}


def engine_folder_with_user_file(tmp: Path) -> dict[str, Path]:
    write_folder(load(TINY), tmp / "dir")
    (tmp / "dir" / "keep.txt").write_text("the user's own file\n")
    return {}


def engine_folder(tmp: Path) -> dict[str, Path]:
    write_folder(load(TINY), tmp / "dir")
    return {}


def user_workbook(tmp: Path) -> dict[str, Path]:
    wb = openpyxl.Workbook()
    wb.active.append(["the user's", "own", "workbook"])
    wb.save(tmp / "existing.xlsx")
    return {}


def engine_workbook(tmp: Path) -> dict[str, Path]:
    write_xlsx(load(TINY), tmp / "existing.xlsx")
    return {}


def stale_temporary(tmp: Path) -> dict[str, Path]:
    """A run killed (SIGKILL) while it wrote ``tmp/new``, and a hidden folder of the user's like it."""
    code = ("import os, signal, sys; from allocator.atomic import write_dir_atomically; "
            "write_dir_atomically(sys.argv[1], lambda t: os.kill(os.getpid(), signal.SIGKILL))")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp / "new")], cwd=ROOT, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    (stale,) = [p for p in tmp.iterdir() if p.name.startswith(".new.")]
    assert stale.is_dir()
    (tmp / ".mine.abcdefgh").mkdir()  # the naming pattern but no engine marker: the user's, kept
    return {}


def huge(table: str, column: str) -> Callable[[Path], dict[str, Path]]:
    def make(tmp: Path) -> dict[str, Path]:
        _csv_cell(_copy_tiny(tmp), table, column, "1e300")
        return {}
    return make


def toml_edit(old: str, new: str) -> Callable[[Path], dict[str, Path]]:
    def make(tmp: Path) -> dict[str, Path]:
        _edit(_copy_tiny(tmp) / "instance.toml", old, new)
        return {}
    return make


def nul_in_package_name(tmp: Path) -> dict[str, Path]:
    _csv_cell(_copy_tiny(tmp), "packages", "name", "Meals\x00on wheels")
    return {}


def toml_bom(tmp: Path) -> dict[str, Path]:
    f = _copy_tiny(tmp) / "instance.toml"
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    return {}


def csv_link_outside(tmp: Path) -> dict[str, Path]:
    folder = _copy_tiny(tmp)
    (tmp / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (folder / "stations.csv").unlink()
    (folder / "stations.csv").symlink_to(tmp / "passwd")
    return {}


def toml_link_outside(tmp: Path) -> dict[str, Path]:
    folder = _copy_tiny(tmp)
    (tmp / "secret.toml").write_text('api_token_name = "x"\n[database_password_key]\nvalue = 1\n')
    (folder / "instance.toml").unlink()
    (folder / "instance.toml").symlink_to(tmp / "secret.toml")
    return {}


def toml_deep(tmp: Path) -> dict[str, Path]:
    f = _copy_tiny(tmp) / "instance.toml"
    f.write_text(f.read_text() + "\nx = " + "[" * 200_000 + "]" * 200_000 + "\n")
    return {}


def toml_big_unknown_array(tmp: Path) -> dict[str, Path]:
    f = _copy_tiny(tmp) / "instance.toml"
    big = "[" + "1234567, " * 57_000 + "1]"  # twice: about 1 MB
    _edit(f, "[instance]\n", f"unknown_thing = {big}\n[instance]\nextra_thing = {big}\n")
    assert 1_000_000 < f.stat().st_size < 1 << 20
    return {}


def toml_too_big(tmp: Path) -> dict[str, Path]:
    f = _copy_tiny(tmp) / "instance.toml"
    f.write_text(f.read_text() + "#" * (1 << 20) + "\n")
    return {}


def many_columns(tmp: Path) -> dict[str, Path]:
    f = _copy_tiny(tmp) / "services.csv"
    lines = f.read_text().splitlines()
    extra = [f"x{i}" for i in range(70)]
    f.write_text("\n".join([lines[0] + "," + ",".join(extra)] + [ln + "," * 70 for ln in lines[1:]]) + "\n")
    return {}


def long_name(tmp: Path) -> dict[str, Path]:
    _csv_cell(_copy_tiny(tmp), "stations", "name", "N" * 5000)
    return {}


def nothing(tmp: Path) -> dict[str, Path]:
    return {}


IN = "{tmp}/inst"
# case, input, command, exit code, words the output must hold (stderr + stdout)
CASES: list[tuple[str, Callable[[Path], dict[str, Path]], list[str], int, list[str]]] = [
    ("item1_convert_into_user_folder", user_folder, ["convert", str(A_BOOK), "{tmp}/dir"], 2,
     ["dir already exists", "--force"]),
    ("item1_convert_force_into_user_folder", user_folder, ["convert", str(A_BOOK), "{tmp}/dir", "--force"], 2,
     ["not written by the engine", "not replaced"]),
    ("item1_convert_force_over_user_file_in_engine_folder", engine_folder_with_user_file,
     ["convert", str(A_BOOK), "{tmp}/dir", "--force"], 2, ["files the engine did not write", "keep.txt"]),
    ("item1_convert_over_engine_folder_needs_force", engine_folder, ["convert", str(A_BOOK), "{tmp}/dir"], 2,
     ["already exists", "--force"]),
    ("item1_convert_force_over_engine_folder", engine_folder, ["convert", str(A_BOOK), "{tmp}/dir", "--force"], 0,
     ["wrote"]),
    ("item1_convert_over_user_workbook", user_workbook, ["convert", str(TINY), "{tmp}/existing.xlsx"], 2,
     ["already exists"]),
    ("item1_convert_force_over_user_workbook", user_workbook,
     ["convert", str(TINY), "{tmp}/existing.xlsx", "--force"], 2, ["not written by the engine"]),
    ("item1_convert_force_over_engine_workbook", engine_workbook,
     ["convert", str(TINY), "{tmp}/existing.xlsx", "--force"], 0, ["wrote"]),
    ("item2_solve_out_over_a_workbook", user_workbook,
     ["solve", str(TINY), "--time-limit", "5", "--out", "{tmp}/existing.xlsx"], 2, ["already exists"]),
    ("item2_solve_out_force_over_a_workbook", engine_workbook,
     ["solve", str(TINY), "--time-limit", "5", "--out", "{tmp}/existing.xlsx", "--force"], 2,
     ["is a file", "not replaced"]),
    ("item3_convert_to_a_csv_name", nothing, ["convert", str(FUZHOU), "{tmp}/out.csv"], 2,
     ["folder", ".xlsx", "'.csv'"]),
    ("item4_stale_temporary_removed", stale_temporary, ["convert", str(TINY), "{tmp}/other"], 0, ["wrote"]),
    ("item5_annual_cost_1e300", huge("services", "annual_cost"), ["validate", IN], 2,
     ["services.csv, row 2, column annual_cost", "<= 1e+09", "range"]),
    ("item5_staff_hours_1e300", huge("services", "staff_hours"), ["validate", IN], 2,
     ["services.csv, row 2, column staff_hours", "<= 1e+06"]),
    ("item5_floor_area_1e300", huge("stations", "floor_area_m2"), ["validate", IN], 2,
     ["stations.csv, row 2, column floor_area_m2", "<= 1e+06"]),
    ("item5_build_per_m2_1e300", toml_edit("build_per_m2 = 3000.0", "build_per_m2 = 1e300"), ["validate", IN], 2,
     ["instance.toml", "column costs.build_per_m2", "<= 1e+08", "range"]),
    ("item5_penalty_1e300", toml_edit("penalty = 2000.0", "penalty = 1e300"), ["validate", IN], 2,
     ["instance.toml", ".penalty", "<= 1e+07"]),
    ("item6_nul_in_a_name", nul_in_package_name, ["validate", IN], 2,
     ["packages.csv, row 2, column name", "control character", "\\x00"]),
    ("item6_nul_in_a_name_convert", nul_in_package_name, ["convert", IN, "{tmp}/book.xlsx"], 2,
     ["control character"]),
    ("item7_bom_on_instance_toml", toml_bom, ["validate", IN], 0, ["valid"]),
    ("item8_csv_linked_outside", csv_link_outside, ["validate", IN], 2,
     ["stations.csv", "outside the instance folder"]),
    ("item8_toml_linked_outside", toml_link_outside, ["validate", IN], 2,
     ["instance.toml", "outside the instance folder"]),
    ("item9_toml_nested_200000_deep", toml_deep, ["validate", IN], 2, ["instance.toml", "deeper than the limit"]),
    ("item10_1mb_array_under_unknown_key", toml_big_unknown_array, ["validate", IN], 2,
     ["unknown section 'unknown_thing'", "column instance.extra_thing: value '[1234567, 1234567",
      "characters, shown up to 80"]),
    ("item10_toml_over_byte_limit", toml_too_big, ["validate", IN], 2,
     ["instance.toml", "over the limit of 1,048,576 bytes"]),
    ("item10_too_many_columns", many_columns, ["validate", IN], 2, ["services.csv", "over the limit of 64"]),
    ("item10_long_text_cut", long_name, ["validate", IN], 2,
     ["stations.csv, row 2, column name", "over the limit of 1,000", "5,000 characters, shown up to 80"]),
    ("item13_out_in_proc", nothing, ["solve", str(TINY), "--time-limit", "5", "--out", "/proc/forbidden/plan"], 2,
     ["cannot write /proc/forbidden/plan"]),
    ("item14_mps_in_missing_folder", nothing, ["solve", str(TINY), "--mps", "{tmp}/nodir/x.mps"], 2,
     ["does not exist"]),
    ("item14_mps_wrong_suffix", nothing, ["solve", str(TINY), "--mps", "{tmp}/model.txt"], 2, [".mps or .lp"]),
    ("item14_mps_written", nothing, ["solve", str(TINY), "--time-limit", "5", "--mps", "{tmp}/model.lp"], 0,
     ["OPTIMAL"]),
    *[(f"item15_{opt.strip('-')}_{value}", nothing, ["solve", str(TINY), opt, value], 2, ["Invalid value", opt])
      for opt, value in (("--time-limit", "-1"), ("--time-limit", "0"), ("--time-limit", "nan"),
                         ("--time-limit", "inf"), ("--gap", "nan"), ("--gap", "-1"), ("--gap", "1"),
                         ("--threads", "0"), ("--threads", "-4"), ("--seed", "-1"))],
    ("item15_diagnose_time_limit_nan", nothing, ["diagnose", str(TINY), "--time-limit", "nan"], 2,
     ["Invalid value", "--time-limit"]),
    ("item15_whatif_gap_inf", nothing, ["whatif", str(TINY), "--set", "A-SPLIT.salaries=0.5", "--gap", "inf"], 2,
     ["Invalid value", "--gap"]),
    ("item18_one_share_changed", nothing,
     ["whatif", str(ROOT / "instances" / "a-district-2026"), "--set", "A-SPLIT.salaries=0.30"], 2,
     ["A-SPLIT shares", "salaries 0.3", "sum to 1.05, not 1"]),
]


def _snapshot(tmp: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(tmp):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), tmp) + "/"] = None
        for f in filenames:
            p = Path(dirpath) / f
            out[os.path.relpath(p, tmp)] = p.read_bytes() if not p.is_symlink() else os.readlink(p).encode()
    return out


@pytest.mark.parametrize(("case", "make", "command", "code", "words"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input(case: str, make: Callable[[Path], dict[str, Path]], command: list[str], code: int,
                       words: list[str], tmp_path: Path) -> None:
    make(tmp_path)
    before = _snapshot(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = CliRunner().invoke(main, args)
    output = result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{type(result.exception).__name__}: {result.exception}"
    assert "Traceback" not in output
    assert result.exit_code == code, output[-3000:]
    for w in words:
        assert w in output, f"{w!r} not in:\n{output[-3000:]}"
    assert len(output) < 20_000, "the output echoes the input"
    after = _snapshot(tmp_path)
    if code == 2:
        assert after == before, "a refused command changed files"
    if case.startswith("item4"):
        hidden = sorted(k for k in after if k.startswith("."))
        assert hidden == [".mine.abcdefgh/"], hidden  # the killed run's temporary is gone, the user's kept
    if case.startswith("item8"):
        assert "root:x" not in output and "api_token_name" not in output and "database_password" not in output
    if case == "item1_convert_force_over_engine_folder":
        assert load(tmp_path / "dir") == load(A_BOOK)
    if case == "item14_mps_written":
        assert (tmp_path / "model.lp").read_text().startswith("\\ File written by HiGHS")


def test_rows_over_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The row limit (5,000,000) checked with a lowered limit: the same code path, a small file."""
    from allocator.instance import schema

    monkeypatch.setitem(schema.LIMITS, "rows", (2, "rows of one table (CSV or sheet)"))
    folder = _copy_tiny(tmp_path)
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "more than the limit of 2 rows" in result.stderr
    book = tmp_path / "book.xlsx"
    monkeypatch.setitem(schema.LIMITS, "rows", (5_000_000, "rows"))
    write_xlsx(load(folder), book)
    monkeypatch.setitem(schema.LIMITS, "rows", (2, "rows"))
    result = CliRunner().invoke(main, ["validate", str(book)])
    assert result.exit_code == 2
    assert "more than the limit of 2 rows" in result.stderr
