"""README.md says what the code does: the format reference and the set-up/test commands."""

from __future__ import annotations

import re
from pathlib import Path

from allocator.instance import format_reference

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_format_reference_is_generated_from_the_schema() -> None:
    m = re.search(r"<!-- format:start -->\n(.*?)<!-- format:end -->", README, flags=re.S)
    assert m, "README.md lacks the <!-- format:start --> / <!-- format:end --> markers"
    assert m.group(1) == format_reference(), \
        "README's format reference is stale: run `.venv/bin/python -m allocator.instance.schema`"


def readme_commands() -> list[str]:
    section = README[README.index("## Set up and test"):]
    m = re.search(r"```(?:bash|sh)?\n(.*?)```", section, flags=re.S)
    assert m, "no code block under '## Set up and test'"
    return [ln.strip() for ln in m.group(1).splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_readme_gives_exactly_the_install_and_test_commands_ci_runs() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    install, test = commands
    assert "pip install" in install and "pytest" in test
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert install in ci, f"README's install command is not what .ci/run runs: {install!r}"
    assert test in ci, f"README's test command is not what .ci/run runs: {test!r}"
    assert ci.index(install) < ci.index(test)
