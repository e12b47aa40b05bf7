"""allocator: allocate social workers, money and department resources to community service stations.

The flow runs one way: ``load`` (files -> validated, frozen :class:`Instance`)
-> ``build`` (Instance -> solver-neutral model) -> ``solve`` (a backend from
:mod:`solvers`) -> :class:`Plan` -> ``verify`` / report.

From Python (see README "Use from Python")::

    import allocator as al
    inst = al.load("instances/fuzhou")
    plan = al.solve(inst, solver="highs", time_limit=60)
    plan.staff                      # DataFrame with station name and county
    al.verify(inst, plan).ok
    plan.to_excel("plan.xlsx"); plan.to_html("report.html")
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["PlanView", "__version__", "load", "read", "solve", "verify"]

# The API is imported on first use: every submodule imports this package (for __version__), and the
# CLI should not pay for pandas and the solvers before it needs them.
_API = {"load", "solve", "verify", "read", "PlanView"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from allocator import api

        return getattr(api, name)
    raise AttributeError(f"module 'allocator' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)
