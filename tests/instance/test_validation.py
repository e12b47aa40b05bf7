"""`allocator validate`: every rule names its file, row, column and rule id; nothing escapes.

The fixtures are small folders under ``tests/instance/fixtures/malformed/`` written by
``tests/instance/fixtures/make_fixtures.py``: each is the valid ``tiny`` instance broken
in one place.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from allocator.instance import InputIssue
from cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MALFORMED = FIXTURES / "malformed"
TINY = FIXTURES / "tiny"
INSTANCES = Path(__file__).resolve().parents[2] / "instances"

# One row per rule: the fixture folder under malformed/ (an .xlsx or .txt in it is the path validated) and
# where the error must point: file, row (spreadsheet row with the header as row 1, or the TOML line; None
# where there is none), column (or dotted TOML key) and rule id.
ZONES = "zone_admin+zone_service+zone_activity"
CASES = [
    # case                    file                   row   column                       rule
    ("missing_file",          "stations.csv",        None, None,                        "missing_file"),
    ("missing_sheet",         "book.xlsx[stations]", None, None,                        "missing_sheet"),
    ("missing_column",        "stations.csv",        1,    "households",                "missing_column"),
    ("duplicate_column",      "stations.csv",        1,    "one_stop",                  "duplicate_column"),
    ("wrong_type",            "stations.csv",        3,    "population",                "wrong_type"),
    ("toml_wrong_type",       "instance.toml",       4,    "instance.year",             "wrong_type"),
    ("toml_date",             "instance.toml",       6,    "instance.description",      "wrong_type"),
    ("negative_population",   "stations.csv",        4,    "population",                "out_of_range"),
    ("zone_share_too_big",    "stations.csv",        2,    "zone_admin",                "out_of_range"),
    ("huge_integer",          "stations.csv",        2,    "households",                "out_of_range"),
    ("toml_out_of_range",     "instance.toml",       82,   "clauses.A-CERT-RATE.share", "out_of_range"),
    ("toml_huge_number",      "instance.toml",       60,   "stated.population",         "out_of_range"),
    ("xlsx_out_of_range",     "book.xlsx[policy]",   59,   "clauses.A-CERT-RATE.share", "out_of_range"),
    ("duplicate_id",          "staff.csv",           6,    "worker_id",                 "duplicate_id"),
    ("duplicate_key",         "book.xlsx[policy]",   85,   "key",                       "duplicate_key"),
    ("unknown_reference",     "staff.csv",           7,    "station_id",                "unknown_reference"),
    ("unknown_group",         "groups.csv",          9,    "group",                     "unknown_reference"),
    ("unknown_eligible_station", "packages.csv",     2,    "eligible",                  "unknown_reference"),
    ("shares_sum_a_split",    "instance.toml",       89,   "clauses.A-SPLIT",           "shares_sum"),
    ("shares_sum_f_uses",     "instance.toml",       106,  "clauses.F-USES",            "shares_sum"),
    ("shares_sum_f_sources_path", "instance.toml",   106,  "clauses.F-SOURCES",         "shares_sum"),
    ("zone_shares_sum",       "stations.csv",        3,    ZONES,                       "shares_sum"),
    ("unknown_clause",        "instance.toml",       103,  "clauses.A-TRAINNG",         "unknown_clause"),
    ("unknown_key",           "instance.toml",       6,    "instance.descripton",       "unknown_key"),
    ("stated_total",          "instance.toml",       60,   "stated.population",         "stated_total"),
    ("bad_choice",            "stations.csv",        4,    "area_type",                 "bad_choice"),
    ("missing_value",         "stations.csv",        3,    "name",                      "missing_value"),
    ("missing_clause_figure", "instance.toml",       89,   "clauses.A-SPLIT.services",  "missing_value"),
    ("missing_section",       "instance.toml",       None, "costs",                     "missing_section"),
    ("toml_syntax",           "instance.toml",       4,    None,                        "toml_syntax"),
    ("csv_syntax",            "staff.csv",           6,    None,                        "csv_syntax"),
    ("encoding",              "stations.csv",        None, None,                        "encoding"),
    ("level_without_cert",    "staff.csv",           4,    "level",                     "level_needs_certificate"),
    ("certified_not_sw",      "staff.csv",           7,    "certified",                 "certified_not_social_worker"),
    ("xlsx_unreadable",       "book.xlsx",           None, None,                        "xlsx_unreadable"),
    ("bad_path",              "instance.txt",        None, None,                        "bad_path"),
    ("moves_cost",            "instance.toml",       124,  "clauses.X-MOVES.cost_per_move", "move_cost"),
    ("moves_seniority",       "instance.toml",       132,  "clauses.X-MOVES.protected_years", "moves_seniority"),
    ("service_flag_not_bool", "services.csv",        4,    "professional",              "wrong_type"),
    ("meals_negative",        "services.csv",        4,    "meals_per_resident",        "out_of_range"),
]  # fmt: skip

# Further rules the same one edit may rightly cause (a broken population cell changes the total that
# [stated] population checks; a missing [costs] section misses each cost).  Nothing else may appear.
ALSO = {
    "wrong_type": {"stated_total"},
    "negative_population": {"stated_total"},
    "zone_share_too_big": {"shares_sum"},
    "certified_not_sw": {"stated_total"},
    "missing_section": {"missing_value"},
}

VALID = [
    TINY,
    INSTANCES / "a-district-2026",
    INSTANCES / "fuzhou-2026",
    INSTANCES / "a-district-2026.xlsx",
    INSTANCES / "fuzhou-2026.xlsx",
]

ISSUE_FIELDS = {"file", "row", "column", "value", "rule", "message", "severity"}


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    no_traceback(result)
    return result


def no_traceback(result: Result) -> None:
    """The command ended by exiting (never by an exception) and printed no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr


def error_lines(stderr: str) -> list[str]:
    return [ln.strip()[len("error: "):] for ln in stderr.splitlines() if ln.strip().startswith("error: ")]


def where(file: str, row: int | None, column: str | None) -> str:
    parts = [file]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column}")
    return ", ".join(parts)


def fixture_path(case: str) -> Path:
    folder = MALFORMED / case
    assert folder.is_dir(), f"fixture {folder} is missing: run tests/instance/fixtures/make_fixtures.py"
    return next((p for p in folder.iterdir() if p.suffix in (".xlsx", ".txt")), folder)


@pytest.mark.parametrize(("case", "file", "row", "column", "rule"), CASES, ids=[c[0] for c in CASES])
def test_rule_is_reported_with_file_row_column(case: str, file: str, row: int | None, column: str | None,
                                               rule: str) -> None:
    path = fixture_path(case)

    plain = run("validate", str(path))
    assert plain.exit_code == 2, plain.output
    lines = error_lines(plain.stderr)
    loc = where(file, row, column)
    hits = [ln for ln in lines if (ln.startswith(loc + ":") or ln.startswith(loc + " --")) and ln.endswith(f"[{rule}]")]
    assert hits, f"no stderr line names {loc} [{rule}]:\n{plain.stderr}"

    js = run("validate", "--json", str(path))
    assert js.exit_code == 2, js.output
    report = json.loads(js.stdout)
    assert report["valid"] is False
    errors = report["errors"]
    assert all(set(e) == ISSUE_FIELDS and e["severity"] == "error" for e in errors)
    assert {"file": file, "row": row, "column": column, "rule": rule} in [
        {k: e[k] for k in ("file", "row", "column", "rule")} for e in errors]
    # the JSON list and the stderr listing are the same errors
    assert sorted(str(InputIssue(**e)) for e in errors) == sorted(lines)
    # nothing unrelated to the one broken place
    assert {e["rule"] for e in errors} <= {rule, *ALSO.get(case, ())}, errors


def test_every_error_is_collected_not_just_the_first() -> None:
    result = run("validate", "--json", str(MALFORMED / "several_errors"))
    assert result.exit_code == 2
    found = {(e["file"], e["row"], e["column"], e["rule"]) for e in json.loads(result.stdout)["errors"]}
    expected = {
        ("stations.csv", 3, "population", "wrong_type"),
        ("stations.csv", 4, "area_type", "bad_choice"),
        ("staff.csv", 7, "station_id", "unknown_reference"),
        ("instance.toml", 106, "clauses.F-USES", "shares_sum"),
    }
    assert expected <= found, found
    plain = run("validate", str(MALFORMED / "several_errors"))
    assert plain.exit_code == 2
    assert len(error_lines(plain.stderr)) == len(found)
    assert plain.stderr.splitlines()[0].startswith(f"{len(found)} error(s)")


def test_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run("validate", "--json", str(missing))
    assert result.exit_code == 2
    (err,) = json.loads(result.stdout)["errors"]
    assert (err["file"], err["rule"]) == (str(missing), "missing_file")


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_instances_pass(path: Path) -> None:
    plain = run("validate", str(path))
    assert plain.exit_code == 0, plain.stderr
    assert "valid" in plain.stdout
    js = run("validate", "--json", str(path))
    assert js.exit_code == 0, js.stderr
    report = json.loads(js.stdout)
    assert report["valid"] is True and report["errors"] == []
    assert all(w["severity"] == "warning" for w in report["warnings"])


def test_a_known_conflict_is_a_warning_not_an_error() -> None:
    # POLICY.md known conflict 4 (F-SW-DENSITY vs its stated total) is encoded as written.
    report = json.loads(run("validate", "--json", str(INSTANCES / "fuzhou-2026")).stdout)
    assert report["valid"] is True
    assert ("instance.toml", "clauses.F-SW-DENSITY.stated_total", "figure_inconsistent") in [
        (w["file"], w["column"], w["rule"]) for w in report["warnings"]]


def _make_fixtures_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fixtures_are_what_make_fixtures_writes() -> None:
    mk = _make_fixtures_module()
    folders = {"tiny": dict(mk.TINY)} | {f"malformed/{c}": mk.folder_case_files(c) for c in mk.FOLDER_CASES}
    for rel, files in folders.items():
        folder = FIXTURES / rel
        expected = {n: c for n, c in files.items() if c is not None}
        assert sorted(p.name for p in folder.iterdir()) == sorted(expected), rel
        for name, content in expected.items():
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            assert (folder / name).read_bytes() == data, f"{rel}/{name} is stale: run make_fixtures.py"
    cases = {c[0] for c in CASES} | {"several_errors"}
    assert {p.name for p in MALFORMED.iterdir()} == cases, "a fixture without a row in CASES (or vice versa)"


def test_malformed_fixtures_differ_from_tiny_in_one_place() -> None:
    mk = _make_fixtures_module()
    for case in mk.FOLDER_CASES:
        if case == "several_errors":
            continue
        files = mk.folder_case_files(case)
        changed = [n for n in mk.TINY if files.get(n) != mk.TINY[n]]
        assert len(changed) == 1, (case, changed)
