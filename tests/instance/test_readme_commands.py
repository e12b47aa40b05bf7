"""Every `allocator ...` command line README.md shows in a fenced code block runs and exits as it should.

The command lines are read from the README itself, so an example that stops working fails the suite.
Outputs (``--out DIR``, ``convert``'s target) go to a temporary folder; a later command naming an output
(``verify ... plan-fuzhou``) gets the same folder, and runs after the command that writes it.  A line may
end with ``# exit N`` when N, not 0, is what it should give.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PREFIXES = (".venv/bin/allocator ", "allocator ")


def readme_command_lines() -> list[str]:
    lines = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", README, flags=re.S | re.M):
        for ln in block.splitlines():
            ln = ln.strip()
            if ln.startswith(PREFIXES):
                lines.append(ln)
    return lines


def _split(line: str) -> tuple[list[str], int]:
    code = 0
    m = re.search(r"\s#\s*exit\s+(\d+)\s*$", line)
    if m:
        code = int(m.group(1))
        line = line[: m.start()]
    words = shlex.split(line, comments=True)  # a trailing "# what it writes" is a comment
    words = words[1:]  # the program itself
    return words, code


def outputs(words: list[str]) -> list[str]:
    """The output paths a command line writes (``--out``, ``--mps``, ``--report``, ``--xlsx``, ``--html``, and
    ``convert``'s TARGET): the test sends them to a temporary folder, never into the checkout."""
    out = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--out", "--mps", "--report", "--xlsx", "--html")]
    if words and words[0] == "convert" and len(words) >= 3:
        out.append(words[2])
    return out


COMMANDS = readme_command_lines()
PRODUCER = {o: i for i, ln in enumerate(COMMANDS) for o in outputs(_split(ln)[0])}


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 5, COMMANDS
    assert any(c.split()[1] == "whatif" for c in COMMANDS)


class _Runner:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.done: dict[int, int] = {}

    def args(self, words: list[str]) -> list[str]:
        return [str(self.tmp / w) if w in PRODUCER else w for w in words]

    def run(self, index: int) -> tuple[int, str]:
        words, _ = _split(COMMANDS[index])
        for w in words:  # run first what writes an output this line reads
            if w in PRODUCER and PRODUCER[w] != index and PRODUCER[w] not in self.done:
                self.run(PRODUCER[w])
        result = CliRunner().invoke(main, self.args(words))
        self.done[index] = result.exit_code
        out = result.stderr + result.stdout
        assert result.exception is None or isinstance(result.exception, SystemExit), out
        return result.exit_code, out


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> _Runner:
    return _Runner(tmp_path_factory.mktemp("readme"))


@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[c.removeprefix(".venv/bin/") for c in COMMANDS])
def test_readme_command_exits_as_shown(index: int, runner: _Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, expected = _split(COMMANDS[index])
    if index in runner.done:  # already run as the producer of a later line's input
        assert runner.done[index] == expected
        return
    code, out = runner.run(index)
    assert code == expected, f"{COMMANDS[index]} exited {code}, not {expected}:\n{out[-2000:]}"
    assert "Traceback" not in out
