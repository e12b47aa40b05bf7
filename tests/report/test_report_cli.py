"""The CLI's output: strict UTF-8 JSON on every command, tables aligned by display width, the report command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from wcwidth import wcswidth

from cli import main

ROOT = Path(__file__).resolve().parents[2]


def _strict(text: str) -> Any:
    def bad(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=bad)


def _run(args: list[str], ok: tuple[int, ...] = (0,)) -> str:
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code in ok, (args, res.exit_code, res.output)
    return res.stdout


@pytest.fixture(scope="module")
def mini_plan(mini_cjk_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan = tmp_path_factory.mktemp("mini-plan") / "plan"
    _run(["solve", str(mini_cjk_dir), "--out", str(plan)])
    return plan


def _args(name: str, m: str, plan: Path, tmp: Path) -> list[str]:
    scen = tmp / "scen.toml"
    scen.write_text('[[scenario]]\nname = "baseline"\nset = {}\n\n[[scenario]]\nname = "three"\n'
                    'set = {"F-SW-URBAN.per_station" = 3}\n', encoding="utf-8")
    return {
        "validate": ["validate", m, "--json"],
        "show": ["show", m, "--json"],
        "convert": ["convert", m, str(tmp / "mini.xlsx"), "--json"],
        "solve": ["solve", m, "--json"],
        "verify": ["verify", m, str(plan), "--json"],
        "diagnose": ["diagnose", m, "--json", "--time-limit", "10"],
        "whatif": ["whatif", m, "--set", "F-SW-URBAN.per_station=3", "--json"],
        "prices": ["prices", m, "--json"],
        "assign": ["assign", m, str(plan), "--json"],
        "sweep": ["sweep", m, str(scen), "--workers", "1", "--out", str(tmp / "sweep"), "--json"],
        "circle": ["circle", str(ROOT / "instances" / "fuzhou-circle"), "--json", "--time-limit", "20"],
        "clauses": ["clauses", "--json"],
        "report": ["report", str(plan), "--instance", m, "--xlsx", str(tmp / "p.xlsx"), "--html", str(tmp / "r.html"),
                   "--json"],
    }[name]


COMMANDS = ["validate", "show", "convert", "solve", "verify", "diagnose", "whatif", "prices", "assign", "sweep",
            "circle", "clauses", "report"]


def test_every_command_is_checked() -> None:
    assert set(COMMANDS) == set(main.commands)  # a new command must add its --json run below


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_writes_strict_utf8_json(name: str, mini_cjk_dir: Path, mini_plan: Path,
                                               tmp_path: Path) -> None:
    out = _run(_args(name, str(mini_cjk_dir), mini_plan, tmp_path), ok=(0, 1, 3, 7))
    data = _strict(out)
    assert "\\u" not in out  # UTF-8 text, not escapes
    if name == "show":
        assert data["counties"][0]["county"] == "东乡区"
    if name == "solve":
        assert data["coverage_by_county"].keys() == {"东乡区"}
    if name == "whatif":
        # the "change" of the status row is not a number: null, not NaN
        assert next(r for r in data["totals"] if r["figure"] == "status")["change"] is None
    if name == "report":
        assert Path(data["xlsx"]).is_file() and Path(data["html"]).is_file()


def _tables(text: str) -> list[list[str]]:
    """The blocks of a text that are rich tables: header, rule (─) and the rows up to a blank line."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line and set(line) == {"─"} and i > 0:
            j = i + 1
            while j < len(lines) and lines[j].strip():
                j += 1
            blocks.append(lines[i - 1:j])
    return blocks


def test_chinese_names_align_by_display_width(cjk_instance_dir: Path, cjk_solved) -> None:  # type: ignore[no-untyped-def]
    from allocator.report.text import format_plan_text

    inst, plan, _ = cjk_solved
    for text in (_run(["show", str(cjk_instance_dir)]), format_plan_text(plan, inst)):
        blocks = _tables(text)
        county_blocks = [b for b in blocks if b[0].startswith("county")]
        assert county_blocks
        assert any("东乡区" in line for b in county_blocks for line in b)
        for b in county_blocks:
            # the last column is right-aligned: every line of the table ends at the same screen column
            widths = {wcswidth(line) for line in b}
            assert len(widths) == 1, b
            # and the counties' column is padded by screen width, not by characters
            header_col = b[0].index("stations") if "stations" in b[0] else b[0].index("covered")
            for line in b[2:]:
                name = line.split("  ")[0]
                assert wcswidth(name) <= header_col


def test_report_directory_on_solve_and_never_over_a_foreign_file(mini_cjk_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    _run(["solve", str(mini_cjk_dir), "--report", str(out)])
    assert (out / "plan.xlsx").stat().st_size > 0 and (out / "report.html").stat().st_size > 0
    _run(["solve", str(mini_cjk_dir), "--report", str(out)])  # our own files are replaced
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "plan.xlsx").write_bytes(b"a budget officer's own workbook")
    res = CliRunner().invoke(main, ["solve", str(mini_cjk_dir), "--report", str(foreign)])
    assert res.exit_code == 2, res.output
    assert "not written by allocator" in res.output
    assert (foreign / "plan.xlsx").read_bytes() == b"a budget officer's own workbook"
    assert not (foreign / "report.html").exists()
    assert [p.name for p in foreign.iterdir()] == ["plan.xlsx"]  # no temporary left behind


def test_whatif_report_has_a_diff(mini_cjk_dir: Path, tmp_path: Path) -> None:
    import openpyxl

    out = tmp_path / "rep"
    _run(["whatif", str(mini_cjk_dir), "--set", "F-SW-URBAN.per_station=3", "--report", str(out)])
    wb = openpyxl.load_workbook(out / "plan.xlsx")
    assert "Diff" in wb.sheetnames
    assert "What changed" in (out / "report.html").read_text(encoding="utf-8")


def test_verbose_and_log_file(mini_cjk_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    res = CliRunner().invoke(main, ["-v", "--log-file", str(log), "validate", str(mini_cjk_dir)])
    assert res.exit_code == 0, res.output
    assert "DEBUG allocator" in log.read_text(encoding="utf-8")


@pytest.mark.parametrize("cmd", ["prices", "diagnose", "whatif"])
def test_no_progress_when_not_a_terminal(mini_cjk_dir: Path, cmd: str) -> None:
    args = {"prices": ["prices", str(mini_cjk_dir)], "diagnose": ["diagnose", str(mini_cjk_dir)],
            "whatif": ["whatif", str(mini_cjk_dir), "--set", "F-SW-URBAN.per_station=3"]}[cmd]
    res = CliRunner().invoke(main, args)
    assert "\r" not in res.output and "⠋" not in res.output
