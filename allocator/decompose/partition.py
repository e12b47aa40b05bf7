"""Partition of the station model into county batches, coupling rows and global columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.station import Model


@dataclass(frozen=True, eq=False)
class Batch:
    """One batch: its columns and local rows (a small MILP), and its part of the coupling rows."""

    cols: np.ndarray
    A: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    c: np.ndarray
    AR: sp.csr_array  # coupling rows x batch columns
    stations: int


@dataclass(frozen=True, eq=False)
class Structure:
    """The block structure of a model: batches, global columns and coupling rows."""

    batches: tuple[Batch, ...]
    coupling: np.ndarray  # row indices
    global_cols: np.ndarray
    AR_global: sp.csr_array  # coupling rows x global columns
    col_batch: np.ndarray  # batch of each column, -1 global


def partition(model: Model, county: np.ndarray, batch_size: int = 300) -> Structure:
    """Split ``model`` into batches of whole counties, coupling rows and global columns.

    Parameters
    ----------
    model : Model
        The built station model.
    county : ndarray
        County of each station (instance order).
    batch_size : int
        Stations per batch, about.

    Returns
    -------
    Structure
    """
    p = model.problem
    S = len(county)
    station_of = np.full(p.num_cols, -1)
    for name, blk in model.columns.items():
        if name.startswith("dev:") or not blk.shape or blk.shape[0] != S:
            continue
        station_of[blk.index().ravel()] = np.repeat(np.arange(S), blk.size // S)
    for rb in model.rows:
        for dev in (rb.dev_plus, rb.dev_minus):
            ok = (dev >= 0) & (rb.stations >= 0)
            station_of[dev[ok]] = rb.stations[ok]
    # Whole counties per batch, counties in sorted order, about batch_size stations each.
    names, inv = np.unique(np.asarray(county, dtype=str), return_inverse=True)
    sizes = np.bincount(inv, minlength=len(names))
    county_batch = np.zeros(len(names), dtype=np.int64)
    b, filled = 0, 0
    for i, n in enumerate(sizes):
        if filled and filled + n > batch_size:
            b, filled = b + 1, 0
        county_batch[i] = b
        filled += int(n)
    station_batch = county_batch[inv]
    col_batch = np.where(station_of >= 0, station_batch[np.maximum(station_of, 0)], -1)

    A = sp.csr_array(p.A)
    A.sort_indices()

    def row_span(cb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vals = cb[A.indices]
        nnz = np.diff(A.indptr)
        has = nnz > 0
        starts = A.indptr[:-1][has]
        big = np.iinfo(np.int64).max
        lo = np.full(A.shape[0], -1)
        hi = np.full(A.shape[0], -1)
        unassigned = np.zeros(A.shape[0], dtype=np.int64)
        if len(vals):
            lo[has] = np.minimum.reduceat(np.where(vals >= 0, vals, big), starts)
            hi[has] = np.maximum.reduceat(vals, starts)
            unassigned[has] = np.add.reduceat((vals < 0).astype(np.int64), starts)
        lo[lo == big] = -1
        return lo, hi, unassigned

    # A column of no station whose rows all lie in one batch belongs to that batch (e.g. the
    # deviation column of a soft per-county row).
    lo, hi, _ = row_span(col_batch)
    single = np.where((lo >= 0) & (lo == hi), lo, -2)
    free = np.flatnonzero(col_batch < 0)
    if len(free):
        Ac = sp.csc_array(A[:, free])
        Ac.sort_indices()
        rb_of = single[Ac.indices]
        nnz = np.diff(Ac.indptr)
        has = nnz > 0
        if has.any():
            starts = Ac.indptr[:-1][has]
            mn = np.minimum.reduceat(rb_of, starts)
            mx = np.maximum.reduceat(rb_of, starts)
            own = np.full(len(free), -1)
            own[has] = np.where((mn == mx) & (mn >= 0), mn, -1)
            col_batch[free] = own
    lo, hi, unassigned = row_span(col_batch)
    coupling_mask = (lo != hi) | (unassigned > 0) | (lo < 0)
    row_batch = np.where(coupling_mask, -1, lo)
    coupling = np.flatnonzero(coupling_mask & (np.diff(A.indptr) > 0))
    global_cols = np.flatnonzero(col_batch < 0)
    nb = int(station_batch.max()) + 1 if S else 0

    col_order = np.argsort(col_batch, kind="stable")
    col_starts = np.searchsorted(col_batch[col_order], np.arange(nb + 1))
    row_order = np.argsort(row_batch, kind="stable")
    row_starts = np.searchsorted(row_batch[row_order], np.arange(nb + 1))
    P = sp.csr_array(A[row_order][:, col_order])
    AR = sp.csc_array(A[coupling][:, col_order])
    batches = []
    for k in range(nb):
        c0, c1 = col_starts[k], col_starts[k + 1]
        r0, r1 = row_starts[k], row_starts[k + 1]
        cols = col_order[c0:c1]
        rows = row_order[r0:r1]
        batches.append(Batch(
            cols=cols, A=sp.csr_array(P[r0:r1][:, c0:c1]), row_lower=p.row_lower[rows], row_upper=p.row_upper[rows],
            col_lower=p.col_lower[cols], col_upper=p.col_upper[cols], integrality=p.integrality[cols],
            c=p.c[cols], AR=sp.csr_array(AR[:, c0:c1]), stations=int((station_batch == k).sum())))
    AR_global = sp.csr_array(A[coupling][:, global_cols])
    return Structure(tuple(batches), coupling, global_cols, AR_global, col_batch)
