"""The written circle plan re-derived from the network, and the shipped Fuzhou circle."""

from __future__ import annotations

import filecmp
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.circle import load_circle
from cli import EXIT_INFEASIBLE, EXIT_OK
from tests.circle.helpers import FUZHOU_CIRCLE, WEIGHTS, Brute, run, tiny, write_folder
from tests.conftest import ROOT


# ---------------------------------------------------------------------------
# the written plan, re-derived from the network
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["mclp", "cmclp", "pmedian"])
def test_written_plan_coverage_matches_an_independent_dijkstra(tmp_path: Path, model: str) -> None:
    t = tiny(11, n_nodes=24, n_places=16, n_cand=8)
    folder = write_folder(tmp_path / "c", t, points=3)
    out = tmp_path / "plan"
    r = run("circle", folder, "--model", model, "--out", out)
    assert r.exit_code == EXIT_OK, r.output
    b = Brute(t)
    points = pd.read_csv(out / "points.csv")
    places = pd.read_csv(out / "places.csv", keep_default_na=False)
    o = points["open"].to_numpy() == 1
    assert (points["new"].sum()) <= 3
    cov = b.covered(o)
    assert places["within_T"].tolist() == cov.astype(int).tolist()
    near = np.where(o[None, :], b.t, math.inf).min(axis=1)
    for i, row in places.iterrows():
        if row["minutes"] != "":
            assert float(row["minutes"]) == pytest.approx(near[i], abs=1e-3)
    groups = pd.read_csv(out / "coverage_group.csv").set_index("group")
    for g in WEIGHTS:
        assert groups.loc[g, "within_T"] == pytest.approx(float(t["places"][g][cov].sum()))
    a = pd.read_csv(out / "assignment.csv")
    sid = {s: j for j, s in enumerate(t["sites"]["site_id"])}
    pid = {p: i for i, p in enumerate(t["places"]["place_id"])}
    for row in a.itertuples():
        assert o[sid[row.site_id]]
        assert row.minutes == pytest.approx(b.t[pid[row.place_id], sid[row.site_id]], abs=1e-3)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["model"] == model
    if model == "mclp":
        assert summary["objective"] == pytest.approx(b.mclp(o), rel=1e-6)


def test_an_infeasible_lscp_writes_nothing_and_exits_3(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "c", tiny(2), toml_extra="[coverage]\nurban = 1.0\nrural = 1.0\n")
    b = Brute(tiny(2))
    assert not b.covered(np.ones(len(b.ex), bool)).all()  # some place is beyond every site
    r = run("circle", folder, "--model", "lscp", "--out", tmp_path / "plan")
    assert r.exit_code == EXIT_INFEASIBLE, r.output
    assert "INFEASIBLE" in r.output
    assert not (tmp_path / "plan").exists()


# ---------------------------------------------------------------------------
# the shipped Fuzhou circle
# ---------------------------------------------------------------------------
def test_fuzhou_circle_with_30_points_is_optimal(tmp_path: Path) -> None:
    r = run("circle", FUZHOU_CIRCLE, "--points", "30", "--json", "--out", tmp_path / "plan")
    assert r.exit_code == EXIT_OK, r.output
    s = json.loads(r.stdout)
    assert s["status"] == "optimal" and s["totals"]["new_points"] == 30
    assert s["objective"] == pytest.approx(s["objective_recomputed"], rel=1e-6)
    assert 0.5 < s["totals"]["share_within_T"] < 1.0
    assert set(s["coverage_by_group"]) == {"elderly", "children", "left_behind_children", "disabled", "migrants",
                                           "low_income"}
    assert len(s["coverage_by_township"]) == 10
    files = {p.name for p in (tmp_path / "plan").iterdir()}
    assert files == {"points.csv", "places.csv", "assignment.csv", "coverage_group.csv", "coverage_township.csv",
                     "coverage_county.csv", "uncovered.csv", "summary.json", "manifest.json"}
    # an instance folder finds its circle beside it
    r2 = run("circle", ROOT / "instances" / "fuzhou", "--points", "30", "--out", tmp_path / "plan2")
    assert r2.exit_code == EXIT_OK
    for f in files:
        assert (tmp_path / "plan" / f).read_bytes() == (tmp_path / "plan2" / f).read_bytes(), f


def test_fuzhou_circle_places_sum_to_the_instance_townships() -> None:
    from allocator.instance import load

    inst = load(ROOT / "instances" / "fuzhou")
    d = load_circle(FUZHOU_CIRCLE)
    st = list(inst.stations["station_id"])
    sums = d.places.groupby("township")[["population", *inst.group_ids]].sum()
    assert len(sums) == 10 and (d.sites["kind"] == "candidate").sum() == 100
    for tw, row in sums.iterrows():
        k = st.index(tw)
        assert row["population"] == inst.stations["population"][k]
        assert row[list(inst.group_ids)].tolist() == inst.residents[k].tolist()


def test_make_circle_reproduces_the_shipped_folder(tmp_path: Path) -> None:
    out = tmp_path / "fc"
    subprocess.run([sys.executable, str(ROOT / "instances" / "make_circle.py"), "--out", str(out)], check=True,
                   capture_output=True)
    cmp = filecmp.dircmp(out, FUZHOU_CIRCLE)
    assert not cmp.left_only and not cmp.right_only
    for f in cmp.common_files:
        assert (out / f).read_bytes() == (FUZHOU_CIRCLE / f).read_bytes(), f


def test_time_limit_runs_under_the_guard_and_other_models_run(tmp_path: Path) -> None:
    r = run("circle", FUZHOU_CIRCLE, "--model", "pmedian", "--time-limit", "60", "--json")
    assert r.exit_code == EXIT_OK, r.output
    assert json.loads(r.stdout)["radius_exact"] is True
    r = run("circle", FUZHOU_CIRCLE, "--model", "lscp", "--json")
    assert r.exit_code == EXIT_OK and json.loads(r.stdout)["totals"]["share_within_T"] >= 0.8
