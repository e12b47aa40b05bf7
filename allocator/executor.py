"""The one place work is spread over processes or a Dask cluster (sweeps and the decomposition).

An :class:`Executor` runs plain module-level functions on plain data in one of three ways:

* ``in-process`` -- one worker, or one task: nothing to spread;
* ``processes(N)`` -- a ``concurrent.futures.ProcessPoolExecutor`` started with ``forkserver``
  (``spawn`` where there is none), so a worker never inherits a solver's threads or locks;
  ``initializer``/``initargs`` ship shared data to every worker once;
* ``dask(ADDRESS)`` -- a ``distributed.Client`` on a scheduler address (or a client given), connected
  with a short timeout (:data:`CONNECT_TIMEOUT`), so a wrong or unreachable address fails in seconds
  with a message naming it rather than after a silent wait; :meth:`Executor.scatter` ships shared data
  to the workers once.

Two ways to run: :meth:`Executor.map` (every call, results in order; the decomposition's passes) and
:meth:`Executor.as_completed` (a generator of ``(key, result, error)`` as calls finish; sweeps, which
write each row as it comes).  An executor failure (a worker that died, a lost cluster) is returned as
the ``error`` of its call by :meth:`as_completed`, and raised by :meth:`map`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any

#: Seconds to reach a Dask scheduler before giving up.
CONNECT_TIMEOUT = 5.0


class ExecutorError(Exception):
    """The executor cannot be started as asked (e.g. the Dask scheduler cannot be reached)."""


def mp_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where it exists, else ``spawn`` (never ``fork``: solvers hold threads)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def connect_dask(address: Any, timeout: float | None = None) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``address`` (or the client given) and whether we own it.

    Raises
    ------
    ExecutorError
        The scheduler did not answer within ``timeout`` seconds (default :data:`CONNECT_TIMEOUT`).
    """
    from distributed import Client

    if isinstance(address, Client):
        return address, False
    wait = CONNECT_TIMEOUT if timeout is None else timeout
    try:
        return Client(address, timeout=f"{wait}s"), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {address} within {wait:g} s: "
                            f"{_one_line(str(exc))}") from None


class Executor:
    """Runs calls here, on a local process pool, or on Dask (see the module docstring).

    Parameters
    ----------
    workers : int
        Local processes; 1 runs in this process.
    dask : str or distributed.Client, optional
        A scheduler address or client; overrides ``workers``.
    initializer, initargs : optional
        Run once in every pool worker (shared data, shipped once).
    connect_timeout : float, optional
        Seconds to reach the Dask scheduler (default :data:`CONNECT_TIMEOUT`).

    Raises
    ------
    ExecutorError
        When the Dask scheduler cannot be reached.
    """

    def __init__(self, workers: int = 1, dask: Any = None, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), connect_timeout: float | None = None):
        self.workers = max(1, workers)
        self.pool: cf.ProcessPoolExecutor | None = None
        self.client: Any = None
        self.own_client = False
        self.slots = 1  # calls run at once
        self.label = "in-process"
        if dask is not None:
            self.client, self.own_client = connect_dask(dask, connect_timeout)
            self.slots = max(1, sum(int(n) for n in self.client.nthreads().values()))
            self.label = f"dask({dask if isinstance(dask, str) else 'client'})"
        elif self.workers > 1:
            self.pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=mp_context(),
                                               initializer=initializer, initargs=initargs)
            self.slots = self.workers
            self.label = f"processes({self.workers})"

    @property
    def kind(self) -> str:
        """``dask``, ``processes`` or ``in-process``."""
        return "dask" if self.client is not None else "processes" if self.pool is not None else "in-process"

    def scatter(self, items: Sequence[Any]) -> list[Any]:
        """Ship ``items`` to the Dask workers once (handles to pass to calls); as they are elsewhere."""
        if self.client is None:
            return list(items)
        return list(self.client.scatter(list(items), broadcast=False))

    def map(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``[fn(*args) for args in calls]``, spread over the workers; results in the order of ``calls``."""
        if not calls:
            return []
        if self.client is not None:
            futs = [self.client.submit(fn, *args, pure=False) for args in calls]
            return list(self.client.gather(futs))
        if self.pool is not None:
            chunk = max(1, len(calls) // (8 * self.workers))
            return list(self.pool.map(fn, *zip(*calls, strict=True), chunksize=chunk))
        return [fn(*args) for args in calls]

    def as_completed(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, tuple[Any, ...]]]
                     ) -> Iterator[tuple[Any, Any, BaseException | None]]:
        """``(key, fn(*args), None)`` for each ``(key, args)`` as calls finish, ``(key, None, error)`` when the
        executor (not the call) failed.  Closing the generator early stops the calls under way."""
        if self.client is not None:
            yield from self._dask_completed(fn, calls)
        elif self.pool is not None:
            yield from self._pool_completed(fn, calls)
        else:
            for key, args in calls:
                yield key, fn(*args), None

    def _pool_completed(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, tuple[Any, ...]]]
                        ) -> Iterator[tuple[Any, Any, BaseException | None]]:
        assert self.pool is not None
        finished = False
        try:
            futures = {self.pool.submit(fn, *args): key for key, args in calls}
            for fut in cf.as_completed(futures):
                try:
                    yield futures[fut], fut.result(), None
                except Exception as exc:  # BrokenProcessPool: the worker died, not the call
                    yield futures[fut], None, exc
            finished = True
        finally:
            if not finished:  # interrupted: stop the calls under way rather than wait for them
                self.terminate()

    def _dask_completed(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, tuple[Any, ...]]]
                        ) -> Iterator[tuple[Any, Any, BaseException | None]]:
        from distributed import as_completed

        futures: dict[Any, Any] = {}
        try:
            for key, args in calls:
                futures[self.client.submit(fn, *args, pure=False)] = key
            for fut in as_completed(list(futures)):
                try:
                    yield futures[fut], fut.result(), None
                except Exception as exc:  # KilledWorker, CancelledError, a worker without the package ...
                    yield futures[fut], None, exc
        finally:
            with contextlib.suppress(Exception):
                self.client.cancel(list(futures))

    def terminate(self) -> None:
        """Stop the pool's worker processes now (calls under way are lost)."""
        if self.pool is not None:
            for proc in list(getattr(self.pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.terminate()

    def close(self) -> None:
        """Shut the pool down and close a client we opened."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self.client is not None and self.own_client:
            with contextlib.suppress(Exception):
                self.client.close()
        self.client = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
