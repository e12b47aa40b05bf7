"""Model files (free MPS, CPLEX LP) with the rows and columns named as the model names them.

One writer serves every backend (a model file does not depend on the solver that will read it):
HiGHS' own writer, handed the problem's arrays and names.  An exported row then reads
``F-SW-RURAL[F012]`` rather than ``r1234``.

Names are made file-safe first (:func:`file_names`): MPS cannot hold blanks or control
characters; the LP format allows letters, digits and ``!"#$%&()/,.;?@_`'{}|~`` only, must not
start with a digit, a period or the letter e/E (read as an exponent), so there ``-`` becomes
``_`` and brackets become parentheses (``F_SW_RURAL(F012)``).  Names that clash after that,
or clash with the objective row, are made unique with ``#2``, ``#3``, ...; missing names are
``r<i>`` / ``c<j>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from solvers.base import MilpProblem

FORMATS = {".mps": "mps", ".lp": "lp"}

_MPS_BAD = re.compile(r"[\s\x00-\x1f\x7f]")
_LP_BAD = re.compile(r"[^A-Za-z0-9!\"#$%&()/,.;?@_`'{}|~]")
_LP_BRACKETS = str.maketrans("[]<>", "()()")
_LP_BAD_START = re.compile(r"^[0-9.eE]")
_OBJECTIVE = "Obj"  # HiGHS' name for the objective row
_MAX_LEN = 255  # the LP format's limit; MPS readers vary, this is within all of them


def format_of(path: str | Path) -> str:
    """``"mps"`` or ``"lp"`` from the file's suffix.

    Raises
    ------
    ValueError
        For any other suffix (nothing is written then).
    """
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ValueError(f"cannot write a model to {str(path)!r}: the file name must end in .mps or .lp") from None


def _one(name: str, fmt: str) -> str:
    if fmt == "lp":
        name = _LP_BAD.sub("_", name.translate(_LP_BRACKETS))
        if _LP_BAD_START.match(name):
            name = "_" + name
    else:
        name = _MPS_BAD.sub("_", name)
    return name[:_MAX_LEN]


def file_names(names: Sequence[str] | None, count: int, prefix: str, fmt: str = "mps") -> list[str]:
    """File-safe, unique names for ``count`` rows or columns.

    Parameters
    ----------
    names : sequence of str or None
        The model's names (``MilpProblem.row_names`` / ``col_names``).
    count : int
        How many there must be.
    prefix : str
        ``"r"`` or ``"c"``: the default name of a missing or empty one is ``prefix + index``.
    fmt : str
        ``"mps"`` or ``"lp"``.

    Returns
    -------
    list of str
        One name each, file-safe for ``fmt``, all different (and none ``Obj``).
    """
    if names is None:
        names = [""] * count
    if len(names) != count:
        raise ValueError(f"{len(names)} names for {count} {'rows' if prefix == 'r' else 'columns'}")
    seen: set[str] = {_OBJECTIVE}
    out = []
    for k, raw in enumerate(names):
        base = _one(str(raw), fmt) if raw else f"{prefix}{k}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base[:_MAX_LEN - 8]}#{n}"
        seen.add(name)
        out.append(name)
    return out


def write_model(problem: MilpProblem, path: str | Path) -> None:
    """Write ``problem`` as free MPS (``.mps``, with OBJSENSE) or CPLEX LP (``.lp``), names kept.

    Parameters
    ----------
    problem : MilpProblem
        The problem; its ``row_names`` and ``col_names`` name the rows and columns.
    path : str or Path
        Target file; its suffix chooses the format.

    Raises
    ------
    ValueError
        For a suffix other than ``.mps`` / ``.lp``.
    OSError
        When the file could not be written (a missing folder, no permission).
    """
    import highspy

    from solvers.base import SolveOptions
    from solvers.highs_backend import _new_highs, _pass

    fmt = format_of(path)
    target = Path(path)
    if not target.parent.is_dir():
        raise OSError(f"cannot write {str(path)!r}: folder {str(target.parent)!r} does not exist")
    h = _new_highs(SolveOptions())
    _pass(h, problem)
    for j, name in enumerate(file_names(problem.col_names, problem.num_cols, "c", fmt)):
        h.passColName(j, name)
    for i, name in enumerate(file_names(problem.row_names, problem.num_rows, "r", fmt)):
        h.passRowName(i, name)
    status = h.writeModel(str(target))
    if status == highspy.HighsStatus.kError or not target.is_file():
        raise OSError(f"HiGHS could not write {str(path)!r}")
