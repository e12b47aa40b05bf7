"""Issue 17 regressions for sweeps and the executor: item 12 (invalid scenarios do not exit 0) and item
19 (an unreachable Dask scheduler fails fast, naming its address)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.executor import CONNECT_TIMEOUT, Executor, ExecutorError
from allocator.sweep import SweepError, load_scenarios, run_sweep
from cli import EXIT_INPUT, EXIT_OK, main
from tests.conftest import write_instance

ONLY_INVALID = '[[scenario]]\nname = "bad split"\nset = {"A-SPLIT.salaries" = 0.6}\n'
ONE_OF_TWO = '[[scenario]]\nname = "baseline"\n\n' + ONLY_INVALID
VALID = '[[scenario]]\nname = "baseline"\n\n[[scenario]]\nname = "low pay"\nset = {"A-SALARY.monthly_min" = 2500}\n'


@pytest.fixture
def mini(tmp_path: Path, mini_settings: dict) -> Path:
    return write_instance(tmp_path / "mini", mini_settings)


@pytest.mark.parametrize(("text", "code", "words"), [
    (ONLY_INVALID, EXIT_INPUT, ["every scenario is invalid", "bad split: ", "A-SPLIT"]),
    (ONE_OF_TWO, EXIT_INPUT, ["1 of 2 scenarios are invalid", "bad split: ", "A-SPLIT"]),
    (VALID, EXIT_OK, ["status: optimal 2"]),
])
def test_invalid_scenarios_do_not_exit_0(tmp_path: Path, mini: Path, text: str, code: int,
                                         words: list[str]) -> None:
    f = tmp_path / "s.toml"
    f.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["sweep", str(mini), str(f), "--workers", "1", "--out", str(tmp_path / "out")])
    assert r.exit_code == code, r.output
    for w in words:
        assert w in r.output
    if code == EXIT_INPUT:
        assert "invalid" in r.stderr and (tmp_path / "out" / "results.csv").exists()   # the rows are kept


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])   # closed again when the socket is: nothing listens there


def test_an_unreachable_dask_scheduler_fails_fast_naming_it(tmp_path: Path, mini: Path) -> None:
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    start = time.perf_counter()
    with pytest.raises(ExecutorError, match=address.replace(".", r"\.")):
        Executor(dask=address)
    assert time.perf_counter() - start < 10 and CONNECT_TIMEOUT <= 5
    f = tmp_path / "s.toml"
    f.write_text(VALID, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(SweepError, match="cannot reach the Dask scheduler"):
        run_sweep(mini, load_scenarios(f), tmp_path / "lib", dask=address, progress=False)
    start = time.perf_counter()
    r = CliRunner().invoke(main, ["sweep", str(mini), str(f), "--dask", address, "--out", str(tmp_path / "out")])
    assert time.perf_counter() - start < 10
    assert r.exit_code == EXIT_INPUT and address in r.stderr and "within 5 s" in r.stderr, r.output
