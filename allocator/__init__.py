"""allocator: allocate social workers, money and department resources to community service stations.

The flow runs one way: ``load`` (files -> validated, frozen :class:`Instance`)
-> ``build`` (Instance -> solver-neutral model) -> ``solve`` (a backend from
:mod:`solvers`) -> :class:`Plan` -> ``verify`` / report.

From Python (see README "Use from Python")::

    import allocator as al
    inst = al.load("instances/fuzhou-2026")
    plan = al.solve(inst, solver="highs", time_limit=60)
    plan.staff                      # DataFrame with station name and county
    al.verify(inst, plan).ok
    plan.to_excel("plan.xlsx"); plan.to_html("report.html")
"""

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

__all__ = ["PlanView", "__version__", "load", "read", "solve", "verify"]

# The API is imported on first use: every submodule imports this package (for __version__), and the
# CLI should not pay for pandas and the solvers before it needs them.
_API = {"load", "solve", "read", "PlanView"}


class _Verify:
    """``al.verify(instance, plan)``, which is also the ``allocator.verify`` module.

    Importing the submodule ``allocator.verify`` sets the package's ``verify`` attribute to the module,
    which would hide the API function; the package's ``verify`` is therefore this object: called, it
    verifies a plan (:func:`allocator.api.verify`); any attribute is the submodule's (``verify_plan``, ...).
    """

    def __call__(self, instance: Any, plan: Any) -> Any:
        from allocator.api import verify

        return verify(instance, plan)

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("allocator.verify"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(importlib.import_module("allocator.verify"), name, value)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module("allocator.verify"))

    def __repr__(self) -> str:
        return "<allocator.verify: call verify(instance, plan), or use the module's names>"


_VERIFY = _Verify()


class _Package(types.ModuleType):
    @property
    def verify(self) -> Any:
        return _VERIFY

    @verify.setter
    def verify(self, module: Any) -> None:
        # The import system binds the submodule here; the module stays reachable through _VERIFY.
        self.__dict__["_verify_module"] = module


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _API:
        from allocator import api

        return getattr(api, name)
    raise AttributeError(f"module 'allocator' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API | {"verify"})
