"""A-CANTEEN [coverage] (C35): where a canteen is offered, the canteen itself serves its share of the elderly.

Parameters: ``meal_coverage`` (A-CANTEEN figure), demand[s, elderly]; k the service ``elderly_meals``.
Columns: xs[s,p], the need covered split by service pair p = (k, g) (:mod:`.serving`, rows E10 SERVED-BY and
E11 SERVICE-GATE-K; built by :mod:`.services_policy` when X-MIN-SERVED does not apply), and y[s,k].
served[s,k] = sum_{p: k_p = k} xs[s,p], the residents the canteen serves at station s (services.csv ``served``).

Row (one per station, unit residents):

* C35 A-CANTEEN [coverage]: ``sum_{p: k_p = k} xs[s,p] - meal_coverage * demand[s, elderly] * y[s,k] >= 0``.

Why the served figure and not x[s, elderly]: the elderly covered at a station may be covered by any service
that serves them (social security, health promotion, mutual aid ...).  Read on x, the 80 % meal coverage was
met by those other services while each canteen served only its X-MIN-SERVED minimum (30 residents): the
clause asks for meals.  This module runs after :mod:`.serving` so that it reads the split X-MIN-SERVED
built rather than building a second one.
"""

from __future__ import annotations

import numpy as np

from allocator.station.context import INF, Context
from allocator.station.families.registry import family
from allocator.station.families.services import _canteen_applies, _canteen_why_not, _meals
from allocator.station.families.serving import pairs, served_split


@family("A-CANTEEN", "coverage", applies=_canteen_applies, why_not=_canteen_why_not)
def canteen_coverage(ctx: Context) -> None:
    """C35 A-CANTEEN [coverage]: served[s, elderly_meals] - meal_coverage * demand[s, elderly] * y >= 0."""
    k, g = _meals(ctx)
    cover = ctx.clause("A-CANTEEN").figures["meal_coverage"]
    xs = served_split(ctx)
    mine = np.flatnonzero(pairs(ctx.inst)[:, 0] == k)  # the canteen's pairs (k, g') in xs column order
    ctx.fam("A-CANTEEN", "coverage", [(xs[:, mine], 1.0), (ctx.y[:, k], -cover * ctx.demand[:, g])], 0.0, INF,
            ctx.sidx, "residents")
