"""The typed backend contract: features, the shared status mapping, named model files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from solvers import (
    Feature,
    FeatureUnavailableError,
    MilpProblem,
    SolveOptions,
    Status,
    backend_names,
    get_backend,
    require,
)
from solvers.base import Termination, confirm_optimal, map_status
from solvers.writers import file_names

INF = np.inf
BUILTIN = [n for n in backend_names() if not n.startswith("test-")]  # not the guard's test doubles
NAMES = [n for n in BUILTIN if get_backend(n).available()]


def named_problem() -> MilpProblem:
    """max x + 2y, x + y <= 4 (F-SW-RURAL[F012]), x >= 1, x <= 3: optimum 7 at x=1, y=3.

    Row names hold what a file cannot: a blank, a tab, a duplicate, one clashing with the objective.
    """
    A = sp.csr_array(np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    return MilpProblem(
        np.array([1.0, 2.0]), A, np.array([-INF, 1.0, -INF, -INF]), np.array([4.0, INF, 3.0, 10.0]),
        np.zeros(2), np.array([5.0, 5.0]), np.array([True, True]), "max",
        row_names=("F-SW-RURAL[F012]", "A-SPLIT low\tx", "A-SPLIT low x", "Obj"),
        col_names=("sw[F012]", "adm[F012]"),
    )


def _read(path: Path) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) != highspy.HighsStatus.kError
    return h


# --------------------------------------------------------------------------- features


@pytest.mark.parametrize("name", BUILTIN)
def test_features_are_typed(name: str):
    b = get_backend(name)
    assert isinstance(b.features, frozenset) and b.features
    assert all(isinstance(f, Feature) for f in b.features), b.features
    for f in Feature:
        assert b.supports(f) is (f in b.features)
    assert callable(b.write) and callable(b.solve)


def test_cpsat_declares_integer_only_not_milp():
    cp = get_backend("cpsat")
    assert cp.supports(Feature.INTEGER_ONLY)
    assert not cp.supports(Feature.MILP) and not cp.supports(Feature.LP)
    assert {f.value for f in cp.features} <= {f.value for f in Feature}  # no free string such as "ip"
    for name in ("highs", "cbc", "ortools-scip"):
        assert get_backend(name).supports(Feature.MILP) and not get_backend(name).supports(Feature.INTEGER_ONLY)


def test_duals_only_where_a_backend_gives_them():
    assert get_backend("highs").supports(Feature.DUALS)
    for name in ("cbc", "ortools-scip", "cpsat"):
        assert not get_backend(name).supports(Feature.DUALS), name
    require(get_backend("highs"), Feature.DUALS)
    with pytest.raises(FeatureUnavailableError, match=r"'cbc' does not provide duals for rule prices.*highs"):
        require(get_backend("cbc"), Feature.DUALS, "rule prices")


@pytest.mark.parametrize("name", [n for n in NAMES if get_backend(n).supports(Feature.DUALS)])
def test_a_backend_declaring_duals_returns_them(name: str):
    # min 2x + 3y, x + y >= 4, x - y <= 2: optimum 9 at x=3, y=1; duals 2.5 and -0.5 (either sign convention).
    p = MilpProblem(np.array([2.0, 3.0]), sp.csr_array(np.array([[1.0, 1.0], [1.0, -1.0]])),
                    np.array([4.0, -INF]), np.array([INF, 2.0]), np.zeros(2), np.full(2, INF),
                    np.zeros(2, dtype=bool), "min")
    r = get_backend(name).solve(p, SolveOptions())
    assert r.status == Status.OPTIMAL and r.row_duals is not None
    assert np.abs(r.row_duals) == pytest.approx([2.5, 0.5])


def test_milp_problem_names_are_the_last_two_fields():
    fields = [f.name for f in dataclasses.fields(MilpProblem)]
    assert fields[-2:] == ["row_names", "col_names"]
    p = named_problem()
    with pytest.raises(ValueError, match="row_names has 1 names, expected 4"):
        dataclasses.replace(p, row_names=("one",))
    assert p.relaxed().row_names == p.row_names and p.relaxed().col_names == p.col_names


# --------------------------------------------------------------------------- status mapping


@pytest.mark.parametrize(("termination", "has_plan", "status"), [
    (Termination.OPTIMAL, True, Status.OPTIMAL),
    (Termination.OPTIMAL, False, Status.ERROR),  # an optimum claimed with no solution is not believed
    (Termination.LIMIT, True, Status.FEASIBLE),
    (Termination.LIMIT, False, Status.NO_SOLUTION),
    (Termination.NOT_SOLVED, True, Status.NO_SOLUTION),
    (Termination.INFEASIBLE, False, Status.INFEASIBLE),
    (Termination.UNBOUNDED, False, Status.UNBOUNDED),
    (Termination.INFEASIBLE_OR_UNBOUNDED, False, Status.ERROR),
    (Termination.ERROR, True, Status.ERROR),
])
def test_status_mapping(termination: Termination, has_plan: bool, status: Status):
    assert map_status(termination, has_plan) is status


def test_optimal_needs_its_bound_to_confirm_the_gap():
    p = named_problem()
    opts = SolveOptions(mip_gap=1e-4)
    assert confirm_optimal(Status.OPTIMAL, p, opts, 100.0, 100.005)[0] is Status.OPTIMAL
    status, note = confirm_optimal(Status.OPTIMAL, p, opts, 100.0, 101.0)
    assert status is Status.FEASIBLE and "gap 0.01" in note
    assert confirm_optimal(Status.OPTIMAL, p, opts, 100.0, None)[0] is Status.FEASIBLE
    # CBC prints its bound to 3 decimals: a difference within that rounding is not a gap.
    assert confirm_optimal(Status.OPTIMAL, p, opts, 0.5, 0.5009, bound_abs_tol=1e-3)[0] is Status.OPTIMAL


def test_time_limited_cbc_run_with_a_plan_is_feasible_not_optimal():
    from test_solver_backends import HARD

    p = HARD["type-d-gap-20x200"]
    r = get_backend("cbc").solve(p, SolveOptions(time_limit=2.0))
    # PuLP's own status for this run is "Optimal" (1); the shared mapping reads the solution status.
    assert r.raw_status.startswith("Optimal/sol_status=2"), r.raw_status
    assert r.status is Status.FEASIBLE, r.message
    assert r.x is not None and r.gap is not None and r.gap > 0


# --------------------------------------------------------------------------- named model files


@pytest.mark.parametrize("name", [n for n in NAMES if get_backend(n).supports(Feature.WRITE_MPS)])
def test_written_mps_has_named_rows(name: str, tmp_path: Path):
    p = named_problem()
    path = tmp_path / "model.mps"
    get_backend(name).write(p, path)
    text = path.read_text()
    rows = [r.rstrip() for r in text.split("\nROWS\n", 1)[1].split("\nCOLUMNS\n", 1)[0].splitlines()]
    assert " L  F-SW-RURAL[F012]" in rows
    assert " G  A-SPLIT_low_x" in rows and " L  A-SPLIT_low_x#2" in rows  # blanks gone, then unique
    assert " L  Obj#2" in rows  # the objective keeps its own name
    assert "sw[F012]" in text and "adm[F012]" in text
    h = _read(path)
    lp = h.getLp()
    assert list(lp.row_names_) == ["F-SW-RURAL[F012]", "A-SPLIT_low_x", "A-SPLIT_low_x#2", "Obj#2"]
    assert list(lp.col_names_) == ["sw[F012]", "adm[F012]"]
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(7.0)


@pytest.mark.parametrize("name", [n for n in NAMES if get_backend(n).supports(Feature.WRITE_LP)])
def test_written_lp_keeps_readable_names(name: str, tmp_path: Path):
    path = tmp_path / "model.lp"
    get_backend(name).write(named_problem(), path)
    h = _read(path)
    lp = h.getLp()
    # The LP format has no '-' or '[' in names: the nearest legal spelling, not HiGHS' r0/c0.
    assert list(lp.row_names_)[0] == "F_SW_RURAL(F012)"
    assert list(lp.col_names_) == ["sw(F012)", "adm(F012)"]
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(7.0)


def test_write_refuses_what_it_cannot_write(tmp_path: Path):
    b = get_backend("highs")
    with pytest.raises(ValueError, match=r"must end in \.mps or \.lp"):
        b.write(named_problem(), tmp_path / "model.txt")
    with pytest.raises(OSError, match="does not exist"):
        b.write(named_problem(), tmp_path / "nodir" / "x.mps")
    assert list(tmp_path.iterdir()) == []


def test_file_names_are_safe_and_unique():
    names = file_names(["a b", "a_b", "", "Obj", "x" * 300, "x" * 300], 6, "r")
    assert names[:4] == ["a_b", "a_b#2", "r2", "Obj#2"]
    assert len(names[4]) == 255 and names[5].endswith("#2") and len(names[5]) <= 255
    assert len(set(names)) == 6 and not any(re.search(r"\s", n) for n in names)
    lp = file_names(["1st", "e5", "F-SW[F1]"], 3, "c", "lp")
    assert lp == ["_1st", "_e5", "F_SW(F1)"]
    with pytest.raises(ValueError, match="2 names for 3 columns"):
        file_names(["a", "b"], 3, "c")
