"""allocator: allocate social workers, money and department resources to community service stations.

The flow runs one way: ``load`` (files -> validated, frozen :class:`Instance`)
-> ``build`` (Instance -> solver-neutral model) -> ``solve`` (a backend from
:mod:`solvers`) -> :class:`Plan` -> ``verify`` / report.
"""

__version__ = "0.1.0"
