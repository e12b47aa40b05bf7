"""Options of the decomposition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Seconds the decomposition runs when no time limit is given (issue 17, item 22: without a limit the
#: 150-station Fuzhou seed ran over 13 minutes; a run stops at its gap or at this limit).
DEFAULT_TIME_LIMIT = 300.0


@dataclass(frozen=True)
class DecomposeOptions:
    """Options of the decomposition.

    Parameters
    ----------
    batch_size : int
        Stations per batch (whole counties; a county larger than this is one batch).
    workers : int
        Worker processes for the batches (1: in this process).
    dask : object
        A Dask scheduler address or ``distributed.Client``; overrides ``workers``.
    max_iterations : int
        Lagrangian passes at most.
    sample_stations : int
        Stations in the sample whose LP gives the first multipliers.
    stall : int
        Stop when the bound moved less than 1 % of the gap asked over this many passes.
    split_picks : tuple of float
        Partial splits tried in turn for a plan (share of the batches re-solved per broken coupling
        row; 1.0 re-solves every batch).
    polish : bool
        After a plan is found, fix its integer columns and re-solve the whole model's LP (money,
        coverage, deviations and ``eq`` re-balanced across batches at once).
    default_time_limit : float
        Wall-clock seconds when the solve options give no time limit (:data:`DEFAULT_TIME_LIMIT`): the
        decomposition stops at its gap or at this limit, never unbounded.
    """

    batch_size: int = 300
    workers: int = 1
    dask: Any = None
    max_iterations: int = 30
    sample_stations: int = 1500
    polish: bool = True
    stall: int = 3
    split_picks: tuple[float, ...] = (0.1, 0.35, 1.0)
    default_time_limit: float = DEFAULT_TIME_LIMIT
