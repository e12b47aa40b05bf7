"""Lagrangian decomposition of the station model, for national instances.

Why
---
Stations interact only through a few *coupling rows*: city totals and shares (budgets, density,
coverage, build counts, F-DEMO count) and the worst-county equity rows, which tie every county to the
one global ``eq`` column.  Everything else -- staff, money, services, floor area, the per-county
F-DEMO rows -- belongs to one station or one county.  The monolithic MIP does not see this; at 40,000
stations HiGHS cannot even finish the LP relaxation in the time the target allows.

Formulation
-----------
The built model is ``max c x  s.t.  lo <= A x <= hi,  l <= x <= u,  x_j integer (j in I)``.

Sets
    S stations, each in a county; B *batches*: whole counties grouped to about ``batch_size``
    stations.  Every column belongs to one batch (through its station, or through the only batch its
    rows touch) or is *global* (``eq``; the deviation columns of soft total rows).
Rows
    *local* rows touch the columns of one batch only (engine rules, per-station clauses, per-county
    F-DEMO rows); *coupling* rows R touch several batches or a global column.
Lagrangian (multipliers pi_r, r in R; pi_r >= 0 needs hi_r finite, pi_r <= 0 needs lo_r finite)
    L(pi) = sum_b max{ (c_b - pi A_Rb) x_b : x_b in X_b }  +  max{ (c_g - pi A_Rg) x_g : l_g <= x_g <= u_g }
            + sum_r max(pi_r hi_r, pi_r lo_r)
    where X_b is batch b's local polytope with its integrality.  For every feasible x,
    c x = c x - pi (A_R x - r) <= L(pi) with r = A_R x in [lo, hi]: **L(pi) is a valid upper bound**
    whenever each batch term is itself an upper bound -- we use the batch MIP's *dual bound*, never
    its incumbent.  The global term is in closed form; a global column with an infinite bound caps
    pi (a soft row's multiplier never exceeds its penalty).
Multipliers
    pi_0 from the LP relaxation (interior point) of a *sample* of batches (all of them when the model
    is small, which makes pi_0 the exact LP duals and L(pi_0) at least as tight as the LP bound), each
    coupling row's range scaled by the sample's share of the row's coefficients (a row the sample does
    not touch stays free; the equity rows of counties outside the sample are therefore unpriced at
    first); then Polyak subgradient steps ``pi <- pi - t g`` with g_r = r_r - A_R x(pi) (r the
    projection of A_R x(pi) on [lo, hi]).
Primal plan (resource split)
    Global columns are fixed (deviations become one copy per batch, with the same penalty;
    ``eq`` the largest value the batch solutions allow), and each coupling row's range is split into
    one range per batch: the batch's usage in the Lagrangian solution plus a share of what the row
    still has (or lacks), in proportion to the batch's usage; a row whose activity is always an
    integer (stations built, demonstration stations) is split into integers that add up to its range.
    Each batch MIP is then solved with its ranges as hard rows; as the ranges add up to the row's
    range, the union of the batch plans is feasible for the coupled model, which is checked row by
    row on the whole model before it counts.  The split is tried *partially* first: only the batches
    that use a broken row most get its shortfall (for a hard row, enough of them that none changes its
    usage by more than :data:`SPLIT_CHANGE`); the others keep their Lagrangian solution, which meets
    its range exactly.  Then an LP polish (integers fixed) and Gauss-Seidel sweeps improve the plan.
Status
    OPTIMAL when (best bound - best plan) / |best bound| <= the gap asked, FEASIBLE with the gap
    otherwise, INFEASIBLE when a batch's local rows have no solution or a hard coupling row cannot
    be met even by each batch pushing that row alone to its limit (LP bounds), NO_SOLUTION when no
    plan was found in the time given.

Time limit
    ``time_limit`` of the solve options, or :data:`DEFAULT_TIME_LIMIT` (300 s) when none is given: the
    run stops at its gap or at the limit, never unbounded.

Batches are solved in this process, on a process pool (``workers``) or on Dask (``dask``: an
address or a ``Client``) through :class:`allocator.executor.Executor`; the batch problems are sent to
the workers once, each pass sends only the objective (or the row ranges) of each batch.

Modules: :mod:`~allocator.decompose.partition` (batches, coupling rows), :mod:`~allocator.decompose.batches`
(batch tasks and their runner), :mod:`~allocator.decompose.bound` (Lagrangian bound, multipliers),
:mod:`~allocator.decompose.primal` (plans, repair, local search, infeasibility check),
:mod:`~allocator.decompose.solve` (the entry point and its result).
"""

from allocator.decompose.batches import BatchResult, BatchTask, Runner, solve_batch
from allocator.decompose.bound import _global_term
from allocator.decompose.options import DEFAULT_TIME_LIMIT, DecomposeOptions
from allocator.decompose.partition import Batch, Structure, partition
from allocator.decompose.primal import _round_parts
from allocator.decompose.solve import DecomposeResult, solve_decomposed

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "Batch",
    "BatchResult",
    "BatchTask",
    "DecomposeOptions",
    "DecomposeResult",
    "Runner",
    "Structure",
    "_global_term",
    "_round_parts",
    "partition",
    "solve_batch",
    "solve_decomposed",
]
