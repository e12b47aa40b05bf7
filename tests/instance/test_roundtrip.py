"""Folder -> .xlsx -> folder gives an equal Instance; the Instance cannot be changed."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.instance import Instance, load, write_folder, write_xlsx
from cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "instance" / "fixtures" / "tiny"
FOLDERS = [TINY, ROOT / "instances" / "a-district-2026", ROOT / "instances" / "fuzhou-2026"]
IDS = ["tiny", "a-district-2026", "fuzhou-2026"]


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_folder_xlsx_folder_is_equal(folder: Path, tmp_path: Path) -> None:
    original = load(folder)
    write_xlsx(original, tmp_path / "book.xlsx")
    from_book = load(tmp_path / "book.xlsx")
    assert from_book == original
    write_folder(from_book, tmp_path / "again")
    again = load(tmp_path / "again")
    assert again == original
    # and once more: the written forms are fixed points
    write_xlsx(again, tmp_path / "book2.xlsx")
    assert load(tmp_path / "book2.xlsx") == original


@pytest.mark.parametrize("folder", FOLDERS[1:], ids=IDS[1:])
def test_shipped_workbook_equals_shipped_folder(folder: Path) -> None:
    assert load(folder.with_suffix(".xlsx")) == load(folder)


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_cli_convert_both_ways(folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    book, back = tmp_path / "x.xlsx", tmp_path / "back"
    r1 = runner.invoke(main, ["convert", str(folder), str(book)])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(main, ["convert", str(book), str(back)])
    assert r2.exit_code == 0, r2.output
    assert "Traceback" not in r1.output + r2.output
    assert load(book) == load(folder)
    assert load(back) == load(folder)


def test_convert_refuses_a_bad_instance_and_writes_nothing(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "instance" / "fixtures" / "malformed" / "wrong_type"
    result = CliRunner().invoke(main, ["convert", str(bad), str(tmp_path / "out.xlsx")])
    assert result.exit_code == 2
    assert "[wrong_type]" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_equality_is_not_trivial(tmp_path: Path) -> None:
    copy = tmp_path / "tiny"
    shutil.copytree(TINY, copy)
    stations = copy / "stations.csv"
    stations.write_text(stations.read_text().replace("Riverside", "Riverbank"))
    assert load(copy) != load(TINY)
    assert load(TINY) == load(TINY)


def test_written_files_are_ordinary_files(tmp_path: Path) -> None:
    """Not private temp-file permissions: others may read what the tool writes (umask applies)."""
    mask = os.umask(0)
    os.umask(mask)
    inst = load(TINY)
    write_folder(inst, tmp_path / "folder")
    write_xlsx(inst, tmp_path / "book.xlsx")
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((tmp_path / "folder" / "stations.csv").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "book.xlsx").stat().st_mode) == 0o666 & ~mask


def test_write_folder_replaces_an_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    write_folder(load(ROOT / "instances" / "a-district-2026"), target)
    write_folder(load(TINY), target)
    assert load(target) == load(TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary leftovers


# ---------------------------------------------------------------------------
# the Instance is frozen
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny() -> Instance:
    return load(TINY)


@pytest.mark.parametrize("attr", ["name", "year", "stations", "residents", "clauses", "costs", "settings"])
def test_attributes_cannot_be_assigned(tiny: Instance, attr: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(tiny, attr, getattr(tiny, attr))


def test_arrays_are_read_only(tiny: Instance) -> None:
    arrays = [tiny.residents, tiny.serves]
    for table in (tiny.stations, tiny.services, tiny.departments, tiny.packages, tiny.staff):
        arrays += list(table.columns.values())
    assert tiny.travel is not None
    arrays += list(tiny.travel.columns.values())
    for arr in arrays:
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = arr[0]


def test_mappings_cannot_be_changed(tiny: Instance) -> None:
    with pytest.raises(TypeError):
        tiny.costs["renovation"] = 0.0  # type: ignore[index]
    with pytest.raises(TypeError):
        tiny.stated["population"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        tiny.stations.columns["population"] = tiny.stations["households"]  # type: ignore[index]
    split = tiny.clause("A-SPLIT")
    assert split is not None
    with pytest.raises(TypeError):
        split.figures["facilities"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.in_force = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.groups[0].weight = 9.0  # type: ignore[misc]


def test_settings_dict_is_a_copy(tiny: Instance) -> None:
    d = tiny.settings_dict()
    d["instance"]["name"] = "changed"
    assert tiny.settings_dict()["instance"]["name"] == "tiny"


def test_a_pandas_view_does_not_write_through(tiny: Instance) -> None:
    df = tiny.stations.to_frame()
    df.loc[0, "population"] = -1
    assert tiny.stations["population"][0] == 8000
