"""An independent check of a plan a solver returned: rows, bounds, integrality.

Every backend returns a plan only after it passed :func:`plan_is_valid` (CBC has
been seen writing a plan other than the one it reports; a recorded HiGHS
incumbent is checked before it is handed back).
"""

from __future__ import annotations

import math

import numpy as np

from solvers.base import MilpProblem

# Tolerances of the independent check of a returned plan; CBC's own primal
# and integer tolerances are 1e-7 and 1e-6 (absolute).
_FEAS_TOL = 1e-5  # relative; solvers' MIP feasibility tolerances are about 1e-6
_INT_TOL = 1e-5


def max_violation(problem: MilpProblem, x: np.ndarray) -> tuple[float, str]:
    """Largest violation of ``problem``'s rows, bounds or integrality by ``x``.

    Integrality is checked on ``x`` as given; rows and bounds on ``x`` with its
    integer columns rounded (the plan a backend returns).  A row violation is
    relative to ``max(1, |bound|, sum_j |a_ij x_j|)``, a bound violation to
    ``max(1, |bound|)``.

    Parameters
    ----------
    problem : MilpProblem
        The problem the plan claims to solve.
    x : numpy.ndarray
        Column values, shape (n,).

    Returns
    -------
    tuple of (float, str)
        The worst violation and a short description of where it is (empty
        when there is none).
    """
    worst, where = 0.0, ""
    if x.shape != (problem.num_cols,) or not np.all(np.isfinite(x)):
        return math.inf, "plan has the wrong shape or non-finite values"
    frac = np.where(problem.integrality, np.abs(x - np.round(x)), 0.0)
    # Rows and bounds are checked on the plan as returned: integer columns rounded.
    x = np.where(problem.integrality, np.round(x), x)
    checks = []
    act = problem.A @ x
    # A row's error scales with the size of its terms (solvers print about 8 significant
    # digits), not only with its right-hand side.
    size = np.maximum(1.0, abs(problem.A) @ np.abs(x))
    with np.errstate(invalid="ignore"):
        checks.append(("row", (problem.row_lower - act) / np.maximum(size, np.abs(problem.row_lower))))
        checks.append(("row", (act - problem.row_upper) / np.maximum(size, np.abs(problem.row_upper))))
        checks.append(("column", (problem.col_lower - x) / np.maximum(1.0, np.abs(problem.col_lower))))
        checks.append(("column", (x - problem.col_upper) / np.maximum(1.0, np.abs(problem.col_upper))))
    for kind, v in checks:
        v = np.nan_to_num(v, nan=0.0, neginf=0.0)  # infinite bounds never bind
        if v.size and v.max() > worst:
            k = int(v.argmax())
            worst, where = float(v[k]), f"{kind} {k} violated by {v[k]:.3g} (relative)"
    if frac.size and frac.max() > _INT_TOL and frac.max() > worst:
        k = int(frac.argmax())
        worst, where = float(frac[k]), f"integer column {k} has value {x[k]!r}"
    return worst, where


def plan_is_valid(problem: MilpProblem, x: np.ndarray) -> tuple[bool, str]:
    """Whether ``x`` satisfies ``problem`` within the check tolerances.

    Parameters
    ----------
    problem : MilpProblem
        The problem.
    x : numpy.ndarray
        Column values.

    Returns
    -------
    tuple of (bool, str)
        Validity and, when invalid, where the worst violation is.
    """
    worst, where = max_violation(problem, x)
    limit = _INT_TOL if where.startswith("integer") else _FEAS_TOL
    return worst <= limit, where
