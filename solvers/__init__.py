"""Solver backends behind one small interface, chosen by name.

>>> from solvers import get_backend, SolveOptions
>>> backend = get_backend("highs")

The registry maps a name to a backend instance; every backend declares the
features it supports (``backend.supports(Feature.DUALS)``, :func:`require`) and
maps its solver's own status into :class:`solvers.base.Status` through the one
shared mapping (:func:`solvers.base.map_status`).  A :class:`Deadline` in the
options makes a time limit cover the whole command (:mod:`solvers.deadline`).
"""

from __future__ import annotations

import contextlib

from solvers.base import (
    Backend,
    Feature,
    FeatureUnavailableError,
    MilpProblem,
    SolveOptions,
    SolverResult,
    Status,
    relative_gap,
    require,
)
from solvers.deadline import Deadline

_REGISTRY: dict[str, Backend] = {}


def register(backend: Backend) -> Backend:
    """Add a backend to the registry under ``backend.name``."""
    _REGISTRY[backend.name] = backend
    return backend


def get_backend(name: str) -> Backend:
    """Return the backend registered as ``name``.

    Raises
    ------
    KeyError
        If no backend has that name; the message lists the known ones.
    """
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown solver {name!r}; known solvers: {known}") from None


def backend_names() -> list[str]:
    """Names of all registered backends, sorted."""
    _load_builtin()
    return sorted(_REGISTRY)


_loaded = False


def _load_builtin() -> None:
    # Imported lazily so that `import solvers` stays cheap and a missing
    # optional solver library never breaks the others.  A flag, not the
    # registry's emptiness: importing one backend module registers it alone.
    global _loaded
    if _loaded:
        return
    _loaded = True
    from solvers import highs_backend  # noqa: F401

    for module in ("solvers.cbc_backend", "solvers.ortools_backend"):
        with contextlib.suppress(ImportError):  # a missing optional solver library
            __import__(module)


__all__ = [
    "Backend",
    "Deadline",
    "Feature",
    "FeatureUnavailableError",
    "MilpProblem",
    "SolveOptions",
    "SolverResult",
    "Status",
    "backend_names",
    "get_backend",
    "register",
    "relative_gap",
    "require",
]
