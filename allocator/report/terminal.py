"""Terminal and machine output of the CLI: strict JSON, tables measured by display width, progress, logging.

* :func:`to_json` writes strict JSON: NaN and infinities become ``null`` (``allow_nan=False`` then
  guarantees none slipped through), numpy and pandas values become plain ones, and text stays UTF-8
  (``ensure_ascii=False``: a Chinese county name is written as itself).
* :func:`table` renders rows with ``rich``, which pads by the screen width of each character (a Chinese
  character takes two columns), so columns line up whatever the names are.
* :func:`progress` shows a spinner with elapsed time on stderr, and only when stderr is a terminal.
* :func:`setup_logging` configures the standard :mod:`logging` for ``--verbose`` / ``--log-file``.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import json
import logging
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger("allocator")


def jsonable(o: Any) -> Any:
    """``o`` as plain JSON data: NaN and infinities as None, numpy/pandas values as Python ones."""
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, list | tuple | set | frozenset):
        return [jsonable(v) for v in o]
    if isinstance(o, pd.DataFrame):
        return [jsonable(r) for r in o.to_dict(orient="records")]
    if isinstance(o, pd.Series):
        return jsonable(o.to_dict())
    if isinstance(o, np.ndarray):
        return [jsonable(v) for v in o.tolist()]
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, enum.Enum):
        return jsonable(o.value)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return jsonable(dataclasses.asdict(o))
    if o is None or isinstance(o, str | int | bool):
        return o
    if o is pd.NaT or o is pd.NA:
        return None
    return str(o)


def to_json(o: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``o`` (see :func:`jsonable`)."""
    return json.dumps(jsonable(o), indent=indent, allow_nan=False, ensure_ascii=False)


def _console(width: int | None = None) -> Any:
    from rich.console import Console

    # Not a terminal (a pipe, a file, a test): a wide fixed width, no colours, no wrapping surprises.
    tty = sys.stdout.isatty()
    return Console(file=io.StringIO(), width=width or (None if tty else 200), force_terminal=False,
                   color_system=None, highlight=False, soft_wrap=False)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None,
          right: Sequence[bool] | None = None) -> str:
    """Rows as a plain-text table whose columns line up by display width (CJK counts two)."""
    from rich import box
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_edge=False, pad_edge=False)
    for j, h in enumerate(header):
        t.add_column(str(h), justify="right" if right and right[j] else "left", no_wrap=True, overflow="fold")
    for r in rows:
        t.add_row(*[str(v) for v in r])
    c = _console()
    c.print(t)
    return "\n".join(line.rstrip() for line in c.file.getvalue().splitlines())


@contextmanager
def progress(label: str, enabled: bool = True) -> Iterator[Any]:
    """A spinner with elapsed time on stderr while the block runs; nothing unless stderr is a terminal.

    Yields a callable ``update(text)`` that changes the spinner's text (a no-op when not shown).
    """
    if not (enabled and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"):
        yield lambda _text: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as p:
        task = p.add_task(label, total=None)
        yield lambda text: p.update(task, description=f"{label}: {text}")


def setup_logging(verbose: int = 0, log_file: str | None = None) -> None:
    """``-v``: INFO, ``-vv``: DEBUG (and the solver's own log, see :func:`solver_log_wanted`); a log file
    gets DEBUG whatever the verbosity."""
    root = logging.getLogger("allocator")
    root.handlers.clear()
    root.propagate = False
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    h = logging.StreamHandler(sys.stderr)
    h.setLevel(level)
    h.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(h)
    root.setLevel(level)
    if log_file:
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
        root.setLevel(logging.DEBUG)
    _STATE["solver_log"] = verbose >= 2
    log.debug("logging at %s%s", logging.getLevelName(level), f", to {log_file}" if log_file else "")


_STATE = {"solver_log": False}


def solver_log_wanted() -> bool:
    """Whether ``-vv`` asked for the solver's own log."""
    return bool(_STATE["solver_log"])
