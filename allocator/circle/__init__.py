"""The 15-minute service circle (F-CIRCLE): where to open extension service points.

Document F (§7.3) plans "30 extension service points in pilot townships" so that residents reach a point within
15 minutes.  This package chooses those points.  Inputs live in a *circle folder*:

``circle.toml``
    ``[circle]`` name, ``instance`` (an instance folder, relative to the circle folder, whose stations are the
    townships and whose group weights × need_share weigh the residents), ``minutes`` (T, default 15),
    ``points`` (p, default 30), ``budget`` (yuan, optional), ``directed`` (default false: roads run both ways);
    ``[coverage]`` ``urban`` / ``rural`` shares for LSCP (defaults 0.95 from A-COVERAGE and 0.80 from
    F-COVERAGE); ``[pmedian]`` ``radius`` (minutes, default 3 T); ``[groups.<id>]`` ``weight`` (stated weights
    win over the instance's).
``places.csv``
    Demand places (villages, residential areas): ``place_id``, ``name``, ``township`` (a station id of the
    instance), ``county``, ``area_type`` (urban|rural), optional ``population`` (all residents; default the sum
    of the group columns) and one column of residents per group (``elderly``, ``children``, ...).
``sites.csv``
    Candidate and existing points: ``site_id``, ``name``, ``place_id`` (where it sits), ``kind``
    (existing|candidate), ``opening_cost`` (yuan; blank = 0), ``capacity`` (residents; blank = no limit).
``edges.csv`` *or* ``travel.csv``
    A road/path network (``from_id``, ``to_id``, ``minutes``; node ids are place ids or junction ids), or a
    ready travel-time table (``place_id``, ``site_id``, ``minutes``; an unlisted pair is out of reach, a site
    reaches its own place in 0 minutes).

Travel times come from one cut-off Dijkstra per site node (networkx), never an all-pairs matrix: only the
pairs within the radius are kept, as a sparse structure (:class:`Reach`).  Each model is exact, built with
scipy.sparse as a :class:`solvers.MilpProblem` and solved by any registered backend; the status is the
backend's normalised one (OPTIMAL only when proven within the gap).

Notation
--------
``I`` places, ``J = E ∪ C`` sites (existing ``E``, always open; candidates ``C``), ``t_ij`` minutes,
``N_i = {j : t_ij <= T}``, ``r_ig`` residents of group ``g``, ``w_g`` group weight, ``a_i = Σ_g w_g r_ig`` the
need-weighted residents, ``P_i`` population, ``c_j`` opening cost, ``u_j`` capacity, ``p`` points, ``Y`` budget.
The model formulations are in the docstrings of :func:`build_mclp`, :func:`build_cmclp`, :func:`build_lscp`
and :func:`build_pmedian`.

Exact reductions before the solve (MCLP, LSCP): places already within T of an existing site are a constant;
places out of reach of every candidate are dropped; places with the same set of candidates (and, for LSCP, the
same area type) are merged, their demand summed; a candidate whose places are a subset of another candidate's
(no cheaper, when a budget applies) is dropped -- any plan using it can use the other instead.

Package
-------
One direction of flow, read -> data -> reach -> build -> solve -> result -> report / write:

``checks``     loading and checking a circle folder (file, row, column, value, rule)
``data``       :class:`CircleData`, the settings' defaults
``reach``      :class:`Reach` and :func:`travel_reach` (cut-off Dijkstra, sparse pairs)
``models``     the four builders (:func:`build_mclp`, :func:`build_cmclp`, :func:`build_lscp`,
               :func:`build_pmedian`) and :class:`Built`
``solve``      :func:`solve_circle`; limits ``points`` / ``budget`` as given, None (no limit) or :data:`STATED`
``limited``    a solve under a time limit that keeps its best plan (``heuristic``: greedy / interchange
               incumbent; ``bounds``: Lagrangian bounds for its gap)
``result``     :class:`CirclePlan` (one ``outcome``) and its tables
``report``     :func:`format_circle`, :func:`summary_json`;  ``write``: :func:`write_circle`
"""
from allocator.circle.checks import check_circle, find_circle_dir, load_circle
from allocator.circle.data import (
    CIRCLE_TOML,
    DEFAULT_GAP,
    DEFAULT_MINUTES,
    DEFAULT_POINTS,
    DEFAULT_SHARES,
    MODEL_TITLES,
    MODELS,
    CircleData,
)
from allocator.circle.models import Built, build_cmclp, build_lscp, build_mclp, build_pmedian
from allocator.circle.reach import Reach, travel_reach
from allocator.circle.report import format_circle, summary_json
from allocator.circle.result import CirclePlan
from allocator.circle.solve import STATED, Stated, solve_circle
from allocator.circle.write import write_circle

__all__ = [
    "CIRCLE_TOML", "DEFAULT_GAP", "DEFAULT_MINUTES", "DEFAULT_POINTS", "DEFAULT_SHARES", "MODELS", "MODEL_TITLES",
    "STATED", "Built", "CircleData", "CirclePlan", "Reach", "Stated", "build_cmclp", "build_lscp", "build_mclp",
    "build_pmedian", "check_circle", "find_circle_dir", "format_circle", "load_circle", "solve_circle",
    "summary_json", "travel_reach", "write_circle",
]
