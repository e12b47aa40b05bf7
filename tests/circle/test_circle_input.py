"""Bad circle input and usage: exit 2 with file, row, column and rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cli import EXIT_INPUT
from tests.circle.helpers import FUZHOU_CIRCLE, run, tiny, write_folder
from tests.conftest import ROOT


# ---------------------------------------------------------------------------
# bad input: exit 2 with file, row, column
# ---------------------------------------------------------------------------
def _edit(folder: Path, file: str, row: int, column: str, value: str) -> None:
    df = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    df.loc[row - 2, column] = value  # spreadsheet row: header = 1
    df.to_csv(folder / file, index=False)


MALFORMED = [
    # file            row  column          value        rule
    ("places.csv",    3,   "elderly",      "-4",        "out_of_range"),
    ("places.csv",    4,   "population",   "many",      "wrong_type"),
    ("places.csv",    5,   "area_type",    "suburb",    "bad_choice"),
    ("places.csv",    6,   "place_id",     "F020-P01",  "duplicate_id"),
    ("places.csv",    7,   "township",     "F999",      "unknown_reference"),
    ("places.csv",    8,   "county",       "Nowhere",   "county_mismatch"),
    ("sites.csv",     2,   "kind",         "maybe",     "bad_choice"),
    ("sites.csv",     4,   "place_id",     "nowhere",   "unknown_reference"),
    ("sites.csv",     5,   "capacity",     "-1",        "out_of_range"),
    ("edges.csv",     5,   "minutes",      "abc",       "wrong_type"),
    ("edges.csv",     9,   "from_id",      "",          "missing_value"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "row", "column", "value", "rule"), MALFORMED,
                         ids=[f"{m[0]}-{m[2]}-{m[4]}" for m in MALFORMED])
def test_malformed_input_exits_2_naming_file_row_column(tmp_path: Path, file: str, row: int, column: str,
                                                        value: str, rule: str) -> None:
    folder = tmp_path / "fuzhou-circle"
    shutil.copytree(FUZHOU_CIRCLE, folder)
    (folder / "circle.toml").write_text((folder / "circle.toml").read_text().replace(
        'instance = "../fuzhou"', f'instance = "{ROOT / "instances" / "fuzhou-2026"}"'))
    _edit(folder, file, row, column, value)
    r = run("circle", folder, "--json")
    assert r.exit_code == EXIT_INPUT, r.output
    errors = json.loads(r.stdout)["errors"]
    assert any(e["file"] == file and e["row"] == row and e["column"] == column and e["rule"] == rule
               for e in errors), errors


def test_malformed_settings_and_files(tmp_path: Path) -> None:
    t = tiny(1)
    f = write_folder(tmp_path / "a", t)
    (f / "circle.toml").write_text((f / "circle.toml").read_text().replace("minutes = 15.0", "minutes = -5"))
    r = run("circle", f, "--json")
    assert r.exit_code == EXIT_INPUT
    e = json.loads(r.stdout)["errors"]
    assert e[0]["file"] == "circle.toml" and e[0]["row"] == 3 and e[0]["column"] == "circle.minutes"
    f = write_folder(tmp_path / "b", {**t, "places": t["places"].drop(columns="area_type")})
    e = json.loads(run("circle", f, "--json").stdout)["errors"]
    assert (e[0]["file"], e[0]["row"], e[0]["column"], e[0]["rule"]) == ("places.csv", 1, "area_type",
                                                                         "missing_column")
    f = write_folder(tmp_path / "c", {**t, "travel": pd.DataFrame({"place_id": ["N00"], "site_id": ["E1"],
                                                                   "minutes": [1]})})
    r = run("circle", f, "--json")
    assert r.exit_code == EXIT_INPUT
    assert json.loads(r.stdout)["errors"][0]["rule"] == "ambiguous_travel"
    assert run("circle", tmp_path / "nowhere").exit_code == EXIT_INPUT


@pytest.mark.parametrize("args", [["--points", "3", "--budget", "100"], ["--model", "lscp", "--points", "3"],
                                  ["--solver", "nosuch"], ["--minutes", "0"], ["--model", "nosuch"]])
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert run("circle", FUZHOU_CIRCLE, *args).exit_code == EXIT_INPUT
