"""Property: whatever a hostile user does to a seed instance's files, the CLI answers 0/1/3/4 or a clear 2.

Over both seeds (District A, Fuzhou) and the tiny fixture: cells, types, rows, columns, encodings,
truncation, deleted files, symbolic links and absurd instance.toml values (see ``cli_fuzz.py``).  The suite
runs a small number of examples (``validate``, and a few ``solve --time-limit 5`` on the tiny fixture);
``benchmarks/fuzz_cli.py`` runs the same cases by the thousand.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.instance.cli_fuzz import make_case, outcome_problem, run


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.sampled_from(["a-district-2026", "fuzhou-2026", "tiny"]), n=st.integers(1, 3))
def test_validate_answers_cleanly(data: st.DataObject, seed: str, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder, done = make_case(Path(tmp), seed, n, data.draw)
        data.draw(st.just(done), label="mutations")
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a garbage value got through
            for args in (["validate", str(folder)], ["validate", "--json", str(folder)]):
                problem = outcome_problem(run(args))
                assert problem is None, (args, problem)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_solve_answers_cleanly(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder, done = make_case(Path(tmp), "tiny", 1, data.draw)
        data.draw(st.just(done), label="mutations")
        result = run(["solve", str(folder), "--time-limit", "5", "--out", str(Path(tmp) / "plan")])
        problem = outcome_problem(result)
        assert problem is None, problem
