"""``allocator verify`` on folders that are not plans (exit 2, issue 17 item 11) and on a plan made for another
instance (issue 17 item 17): a usage error, exit 2, unless ``--allow-other-instance``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.instance import Instance
from tests.verify.helpers import ROOT

A = ROOT / "instances" / "a-district-2026"


def _missing(tmp: Path) -> Path:
    return tmp / "nowhere"


def _empty(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def _a_file(tmp: Path) -> Path:
    (tmp / "plan.txt").write_text("not a plan\n")
    return tmp / "plan.txt"


def _an_instance(tmp: Path) -> Path:
    return A


def _no_plan(tmp: Path) -> Path:
    d = tmp / "infeasible"
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"status": "infeasible"}))
    (d / "manifest.json").write_text(json.dumps({"engine": "allocator"}))
    return d


# (name, folder maker, words the message must hold; the folder's path is always named)
NOT_A_PLAN: list[tuple[str, Callable[[Path], Path], tuple[str, ...]]] = [
    ("missing", _missing, ("does not exist",)),
    ("empty", _empty, ("empty", "summary.json")),
    ("a file", _a_file, ("is a file",)),
    ("an instance folder", _an_instance, ("not a plan folder", "summary.json", "manifest.json")),
    ("a solve with no plan", _no_plan, ("no plan", "infeasible")),
]


@pytest.mark.parametrize("name, make, words", NOT_A_PLAN, ids=[c[0] for c in NOT_A_PLAN])
def test_verify_on_a_folder_that_is_not_a_plan_exits_2(tmp_path: Path, name: str, make: Callable[[Path], Path],
                                                        words: tuple[str, ...]) -> None:
    from cli import main

    folder = make(tmp_path)
    r = CliRunner().invoke(main, ["verify", str(A), str(folder)])
    assert r.exit_code == 2, r.output
    assert str(folder) in r.output and all(w in r.output for w in words), r.output
    assert "Traceback" not in r.output
    j = CliRunner().invoke(main, ["verify", str(A), str(folder), "--json"])
    assert j.exit_code == 2
    assert json.loads(j.stdout)["input_error"]


def test_a_plan_missing_a_table_still_fails_as_a_plan(seeds: dict[str, tuple[Instance, Path]],
                                                      tmp_path: Path) -> None:
    from cli import main

    d = tmp_path / "p"
    shutil.copytree(seeds["a-district-2026"][1], d)
    (d / "coverage.csv").unlink()
    r = CliRunner().invoke(main, ["verify", str(A), str(d)])
    assert r.exit_code == 7 and "coverage.csv" in r.output


def _other_instance(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path) -> Path:
    d = tmp_path / "p"
    shutil.copytree(seeds["a-district-2026"][1], d)
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["instance_hash"] = "0000000000000000"
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


def test_a_plan_for_another_instance_is_refused(seeds: dict[str, tuple[Instance, Path]], tmp_path: Path) -> None:
    from cli import main

    d = _other_instance(seeds, tmp_path)
    r = CliRunner().invoke(main, ["verify", str(A), str(d)])
    assert r.exit_code == 2, r.output
    assert "instance_hash" in r.output and "0000000000000000" in r.output and "--allow-other-instance" in r.output
    j = CliRunner().invoke(main, ["verify", str(A), str(d), "--json"])
    assert j.exit_code == 2 and json.loads(j.stdout)["instance_check"]["match"] is False


def test_allow_other_instance_checks_it_with_a_warning(seeds: dict[str, tuple[Instance, Path]],
                                                       tmp_path: Path) -> None:
    from cli import main

    d = _other_instance(seeds, tmp_path)
    r = CliRunner().invoke(main, ["verify", str(A), str(d), "--allow-other-instance"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1].startswith("WARNING: this plan was not made for this instance")
    j = CliRunner().invoke(main, ["verify", str(A), str(d), "--allow-other-instance", "--json"])
    data = json.loads(j.stdout)
    assert j.exit_code == 0 and data["instance_check"] == {"plan": "0000000000000000",
                                                           "instance": data["instance_check"]["instance"],
                                                           "match": False}
    assert any("instance_hash" in w for w in data["warnings"])


def test_the_plan_of_this_instance_matches(seeds: dict[str, tuple[Instance, Path]]) -> None:
    from cli import main

    j = CliRunner().invoke(main, ["verify", str(A), str(seeds["a-district-2026"][1]), "--json"])
    data = json.loads(j.stdout)
    assert j.exit_code == 0 and data["instance_check"]["match"] is True and data["warnings"] == []
    assert data["instance_check"]["plan"] == data["instance_check"]["instance"]
