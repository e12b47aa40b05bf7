"""The decomposition against the monolithic MIP (the oracle), on small generated national instances.

Instances come from ``benchmarks/national.py`` (the national generator, Fuzhou's policy scaled): 30
stations in 2-3 counties, split into batches of about 15 stations so that every county group is a
separate batch problem and the coupling rows (city totals, worst-county equity) really couple.  The
oracle is HiGHS on the whole model at a 0.1 % gap; both methods must bracket the same optimum.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from allocator.decompose import DecomposeOptions, partition, solve_decomposed
from allocator.instance import Instance, load
from allocator.scenario import apply_changes
from allocator.station import build, solve_instance, write_plan
from allocator.verify import verify_plan
from solvers import SolveOptions, Status, get_backend
from solvers.base import relative_gap

ROOT = Path(__file__).resolve().parents[2]
GAP = 0.01


def _national():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("allocator_national_bench", ROOT / "benchmarks" / "national.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, int], Instance]:
    nat = _national()
    out = {}
    for n, seed in ((30, 4), (30, 5), (30, 6)):
        d = tmp_path_factory.mktemp(f"nat{n}s{seed}")
        nat.write(d, stations=n, seed=seed, check=False)
        out[(n, seed)] = load(d)
    return out


def _oracle(inst: Instance, strict: bool = False):  # type: ignore[no-untyped-def]
    return get_backend("highs").solve(build(inst, strict=strict).problem, SolveOptions(mip_gap=1e-3, time_limit=120))


def _decompose(inst: Instance, strict: bool = False, gap: float = GAP, **kw):  # type: ignore[no-untyped-def]
    model = build(inst, strict=strict)
    county = np.asarray(inst.stations["county"], dtype=str)
    return model, solve_decomposed(model, county, SolveOptions(mip_gap=gap, time_limit=120), "highs",
                                   DecomposeOptions(batch_size=15, **kw))


def _assert_is_plan(model, res) -> None:  # type: ignore[no-untyped-def]
    """The plan satisfies every row, bound and integrality of the whole model, at the objective reported."""
    p = model.problem
    x = res.x
    act = p.A @ x
    assert np.all(act >= p.row_lower - 1e-6 * (1 + np.abs(p.row_lower)))
    assert np.all(act <= p.row_upper + 1e-6 * (1 + np.abs(p.row_upper)))
    assert np.all(x >= p.col_lower - 1e-9) and np.all(x <= p.col_upper + 1e-9)
    ints = p.integrality.astype(bool)
    assert np.allclose(x[ints], np.round(x[ints]))
    assert p.objective_value(x) == pytest.approx(res.objective, rel=1e-9)


def test_partition_keeps_counties_whole_and_finds_the_coupling_rows(instances: dict) -> None:
    inst = instances[(30, 5)]
    model = build(inst)
    county = np.asarray(inst.stations["county"], dtype=str)
    st = partition(model, county, batch_size=15)
    assert len(st.batches) >= 2
    # every station column is in exactly one batch, and a county never spans two batches
    x = model.col("x")
    batch_of_station = st.col_batch[x[:, 0]]
    for c in np.unique(county):
        assert len(set(batch_of_station[county == c].tolist())) == 1
    assert sorted(np.concatenate([b.cols for b in st.batches] + [st.global_cols]).tolist()) == \
        list(range(model.problem.num_cols))
    # coupling: the city totals and the equity rows; per-county F-DEMO rows stay inside their batch
    names = {}
    for rb in model.rows:
        for i in range(rb.start, rb.start + rb.count):
            names[i] = (rb.clause, rb.family)
    kinds = {names[r] for r in st.coupling}
    assert ("F-TOTAL", "operations") in kinds and ("ENGINE", "EQUITY") in kinds
    assert ("F-DEMO", "per_county") not in kinds
    assert all(names[r][1] != "station" for r in st.coupling)


# Proving an infeasible coupled instance infeasible takes the decomposition about 100 s (its Lagrangian
# iterations run before it concludes): those cases are run by benchmarks/slow_cases.py (which sets
# ALLOCATOR_SLOW_CASES=1); the suite checks on the same instances that a short limit never yields a plan.
RUN_SLOW = os.environ.get("ALLOCATOR_SLOW_CASES") == "1"
slow = pytest.mark.skipif(not RUN_SLOW, reason="slow case: run by benchmarks/slow_cases.py")
ORACLE_CASES = [
    ((30, 4), 1.0, False), ((30, 4), 0.95, False), ((30, 5), 1.0, False), ((30, 6), 1.0, False),
    ((30, 6), 0.95, False), ((30, 5), 1.0, True),
]


@pytest.fixture(scope="module")
def oracles(instances: dict) -> dict:  # type: ignore[type-arg]
    """The oracle's result per (instance, budget share, strict), solved once for the module's tests."""

    class _Cache(dict):  # type: ignore[type-arg]
        def __missing__(self, k):  # type: ignore[no-untyped-def]
            key, budget, strict = k
            self[k] = res = _oracle(_binding(instances[key], budget), strict=strict)
            return res

    return _Cache()


def _binding(inst: Instance, budget: float) -> Instance:
    if budget == 1.0:
        return inst
    clause = inst.clause("F-TOTAL")
    assert clause is not None
    return apply_changes(inst, {"F-TOTAL.operations_per_year": round(clause.figures["operations_per_year"] * budget)})


@pytest.mark.parametrize(("key", "budget", "strict"), [
    c if not c[2] else pytest.param(*c, marks=slow) for c in ORACLE_CASES
])
def test_agrees_with_the_monolithic_oracle(instances: dict, oracles: dict, key: tuple[int, int], budget: float,
                                          strict: bool) -> None:
    """Three seeds; binding (0.95 x F-TOTAL operations) and as generated; the instance's mix of hard
    clauses (F-USES, F-BUILD, F-DEMO, F-COVERAGE totals) and soft ones, or every clause hard (``strict``):
    the decomposition's plan and bound bracket the oracle's optimum, and its plan is a plan of the whole
    model.  Every clause hard is infeasible on these instances (the documents contradict each other, as
    POLICY.md records), and the decomposition must then say INFEASIBLE."""
    inst = _binding(instances[key], budget)
    oracle = oracles[key, budget, strict]
    if strict:
        assert oracle.status == Status.INFEASIBLE
        assert _decompose(inst, strict=True)[1].status == Status.INFEASIBLE
        return
    assert oracle.status == Status.OPTIMAL
    model, res = _decompose(inst, strict=strict)
    assert res.status in (Status.OPTIMAL, Status.FEASIBLE), res.message
    tol = 1e-6 * max(1.0, abs(oracle.objective))
    # the bound is valid: never below a plan the oracle found (maximisation) ...
    assert res.bound >= oracle.objective - tol
    # ... and the plan never above the oracle's bound
    assert res.objective <= oracle.bound + tol
    assert res.gap == pytest.approx(relative_gap(res.objective, res.bound), rel=1e-12)
    if res.status == Status.OPTIMAL:
        assert res.gap <= GAP + 1e-12
    # within 3 % on these small instances (the bound is the Lagrangian dual, about the LP bound here)
    assert res.gap <= 0.03
    _assert_is_plan(model, res)


@pytest.mark.parametrize(("budget", "strict"), [(0.8, False), (1.0, True)], ids=["coupled-80%", "strict"])
def test_an_infeasible_instance_under_a_short_limit_gets_no_plan(instances: dict, budget: float,
                                                                 strict: bool) -> None:
    """F-TOTAL operations at 80 % (each batch alone has plans), or every clause hard: the oracle proves
    it infeasible in a second; the decomposition, stopped after 15 s, must not present a plan."""
    inst = _binding(instances[(30, 4)], budget)
    assert _oracle(inst, strict=strict).status == Status.INFEASIBLE
    model = build(inst, strict=strict)
    res = solve_decomposed(model, np.asarray(inst.stations["county"], dtype=str),
                           SolveOptions(mip_gap=GAP, time_limit=15), "highs", DecomposeOptions(batch_size=15))
    assert res.status in (Status.INFEASIBLE, Status.NO_SOLUTION), res.message
    assert res.x is None and res.objective is None


@slow
def test_an_infeasible_coupled_instance_is_reported_infeasible(instances: dict) -> None:
    """Each batch alone has plans; together they cannot stay under F-TOTAL operations at 80 %."""
    inst = instances[(30, 4)]
    ops = inst.clause("F-TOTAL").figures["operations_per_year"]
    bad = apply_changes(inst, {"F-TOTAL.operations_per_year": round(ops * 0.8)})
    assert _oracle(bad).status == Status.INFEASIBLE
    _, res = _decompose(bad)
    assert res.status == Status.INFEASIBLE
    assert res.x is None and res.objective is None


def test_plan_through_solve_instance_passes_verify(instances: dict, tmp_path: Path) -> None:
    inst = instances[(30, 5)]
    plan = solve_instance(inst, options=SolveOptions(mip_gap=GAP, time_limit=120), method="decompose",
                          decompose=DecomposeOptions(batch_size=15))
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert plan.summary["method"] == "decompose" and plan.summary["decomposition"]["batches"] >= 2
    write_plan(plan, tmp_path / "plan")
    report = verify_plan(inst, tmp_path / "plan")
    assert report.ok, [c.message for c in report.failures][:5]


@pytest.fixture(scope="module")
def in_process(instances: dict):  # type: ignore[no-untyped-def]
    return _decompose(instances[(30, 4)])[1]


def test_process_pool_gives_the_same_answer(instances: dict, in_process) -> None:  # type: ignore[no-untyped-def]
    _, two = _decompose(instances[(30, 4)], workers=2)
    assert two.status == in_process.status
    assert two.objective == pytest.approx(in_process.objective, rel=1e-9)
    assert two.bound == pytest.approx(in_process.bound, rel=1e-9)


def test_dask_local_cluster_gives_the_same_answer(instances: dict, in_process) -> None:  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        _, dk = _decompose(instances[(30, 4)], dask=client)
    assert dk.status == in_process.status
    assert dk.objective == pytest.approx(in_process.objective, rel=1e-9)
    assert dk.bound == pytest.approx(in_process.bound, rel=1e-9)


def test_auto_picks_the_method_by_size(instances: dict) -> None:
    from allocator.station import AUTO_DECOMPOSE_STATIONS, choose_method

    inst = instances[(30, 4)]
    assert len(inst.stations) < AUTO_DECOMPOSE_STATIONS
    assert choose_method(inst, "auto") == "monolithic"
    assert choose_method(inst, "decompose") == "decompose"
    with pytest.raises(ValueError):
        choose_method(inst, "magic")


def test_first_multipliers_from_a_sample_price_the_coupling_rows(instances: dict, oracles: dict) -> None:
    """With a sample smaller than the instance, the sample's coupling rows are scaled to it; a row the
    sample does not touch must stay free (a nan row bound once made the sample LP fail and every
    multiplier 0, which left the bound at the sum of unpriced batch optima: 190 % gaps at 5,000
    stations).  The sample's bound is valid and closes most of the distance from the unpriced bound
    L(0) to the oracle; not all of it, as the equity rows of counties outside the sample are unpriced."""
    from allocator.decompose import BatchTask, _global_term, solve_batch

    inst = instances[(30, 5)]
    oracle = oracles[(30, 5), 1.0, False]
    model, sampled = _decompose(inst, max_iterations=1, sample_stations=10)
    p = model.problem
    st = partition(model, np.asarray(inst.stations["county"], dtype=str), batch_size=15)
    unpriced = 0.0
    for k, b in enumerate(st.batches):
        bound = solve_batch(BatchTask(k, c=b.c, gap=1e-6), b).bound
        assert bound is not None, f"batch {k} has no bound"
        unpriced += bound
    unpriced += _global_term(st, p, np.zeros(len(st.coupling)))[0] + p.offset
    first = sampled.extra["history"][0]["lagrangian"]
    assert first >= oracle.objective - 1e-6 * abs(oracle.objective)
    assert (unpriced - first) >= 0.8 * (unpriced - oracle.objective), (unpriced, first, oracle.objective)


@pytest.mark.parametrize(("v", "total", "expected"), [
    ([1.5, 1.5, 0.0], 3, [2, 1, 0]),       # the larger remainder first, ties in order
    ([0.2, 0.7, 2.1], 3, [0, 1, 2]),
    ([2.0, 3.0, 1.0], 6, [2, 3, 1]),       # integers are kept
    ([-0.5, 1.5, 2.0], 3, [0, 1, 2]),      # a negative part rounds like any other
    ([4.4, 4.3, 4.3], 13, [5, 4, 4]),
    ([2.6, 2.7, 2.7], 8, [2, 3, 3]),       # floors add up to 6 < 8: the two largest remainders go up
    ([0.1 + 0.2, 0.7, 2.0], 3, [0, 1, 2]),  # float noise (0.1 + 0.2 > 0.3) does not break the sum
])
def test_split_of_an_integer_row_rounds_to_parts_that_add_up(v: list, total: int, expected: list) -> None:
    from allocator.decompose import _round_parts

    out = _round_parts(np.asarray(v, dtype=float), float(total))
    assert out.tolist() == expected
    assert out.sum() == total
    assert np.all(np.abs(out - np.asarray(v)) < 1.0)


def test_with_only_a_partial_split_the_plan_still_brackets_the_oracle(instances: dict, oracles: dict) -> None:
    """Binding budget, only the partial split tried (a tenth of the batches per broken row, then the hard
    rows' reach rule).  On this instance it does not give the plan by itself (the elastic repair takes
    over); the run must still end with a plan of the whole model that brackets the oracle's optimum."""
    inst = _binding(instances[(30, 4)], 0.95)
    oracle = oracles[(30, 4), 0.95, False]
    model, res = _decompose(inst, split_picks=(0.1,), max_iterations=2)
    assert res.status in (Status.OPTIMAL, Status.FEASIBLE), res.message
    tol = 1e-6 * max(1.0, abs(oracle.objective))
    assert res.bound >= oracle.objective - tol and res.objective <= oracle.bound + tol
    _assert_is_plan(model, res)


# Fuzhou's seed with issue 15's city-wide shares (F-SOURCES, F-DEGREE, F-YOUNG, F-PRO-SHARE) gets no plan from the
# decomposition within 120 s on this machine: a slow case (benchmarks/slow_cases.py).
@pytest.mark.parametrize("name", ["a-district-2026", pytest.param("fuzhou-2026", marks=slow)])
def test_seed_instances_bracket_the_monolithic_optimum(name: str) -> None:
    """The shipped seeds, cut into batches of about 20 stations of whole counties (streets in A): the
    decomposition's plan is a plan and its bound a bound of the monolithic MIP's optimum.  (That the two
    plans agree within the gap is a target not met on A: see benchmarks/decompose_seeds.py.)"""
    inst = load(ROOT / "instances" / name)
    model = build(inst)
    opts = SolveOptions(mip_gap=GAP, time_limit=120)
    mono = get_backend("highs").solve(model.problem, opts)
    assert mono.status == Status.OPTIMAL
    assert mono.objective is not None and mono.bound is not None
    res = solve_decomposed(model, np.asarray(inst.stations["county"], dtype=str), opts, "highs",
                           DecomposeOptions(batch_size=20))
    assert cast(int, res.extra["batches"]) >= 2  # solve_decomposed stores len(batches)
    assert res.status in (Status.OPTIMAL, Status.FEASIBLE), res.message
    assert res.objective is not None and res.bound is not None
    tol = 1e-6 * max(1.0, abs(mono.objective))
    assert res.bound >= mono.objective - tol and res.objective <= mono.bound + tol
    _assert_is_plan(model, res)
