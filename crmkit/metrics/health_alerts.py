"""Customers to act on now, and why: the health review's alerts.

Reasons, in priority order (a customer may have several; each has its action):

``high_value_at_risk``
    In the top CLV tier (:func:`crmkit.metrics.health_score.clv_tiers`) and amber or red.
``turned_red``
    Red now, scored and not red at the previous period end.
``complained_recently``
    A complaint in the last ``recent_complaints_days`` days (the one-source complaint rule).
``cycle_lengthened``
    Days since the last order at least :data:`CYCLE_FACTOR` × the customer's own expected
    purchase cycle, measured on 3 order days or more (two gaps: a rhythm, not one interval).

Urgency order of the list: high value at risk first, then the lowest score, then the first
reason's priority. The action per reason is the topic's treatment table (words, overridable
by the parameter ``health_treatments``); this module only finds the customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.metrics.health_score import HealthSettings, clv_tiers

REASONS: tuple[str, ...] = (
    "high_value_at_risk",
    "turned_red",
    "complained_recently",
    "cycle_lengthened",
)
"""Alert reasons, highest priority first."""

CYCLE_FACTOR = 1.5
MIN_CYCLE_ORDER_DAYS = 3


def alerts(
    now: pd.DataFrame,
    before: pd.DataFrame | None,
    *,
    clv: pd.Series | None = None,
    settings: HealthSettings | None = None,
    recent_complaints_days: int = 30,
) -> pd.DataFrame:
    """The customers scored ``now`` with at least one alert reason (module text).

    Parameters
    ----------
    now
        :func:`crmkit.metrics.health_score.health_scores` at the period end (with the inputs of
        :func:`~crmkit.metrics.health_score.component_points`).
    before
        The same at the previous period end (None: no one can have turned red).
    clv
        Predicted CLV per customer (Series indexed by ``customer_id``); None: no
        ``high_value_at_risk``.
    settings
        Unused for now beyond documentation of the bands the frames were scored with.
    recent_complaints_days
        The window of ``complained_recently``.

    Returns
    -------
    pandas.DataFrame
        One row per alerted customer: ``customer_id, score, previous_score, band, reasons``
        (a list, in :data:`REASONS` order), ``reason`` (the first) and ``clv``; most urgent
        first: high value at risk first, then lowest score, then the first reason's priority.

    Raises
    ------
    ParameterError
        ``recent_complaints_days`` is not a positive whole number, or a column is missing.
    """
    del settings
    days = recent_complaints_days
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise ParameterError(
            f"recent_complaints_days must be a whole number of days, 1 or more; got {days!r}."
        )
    require_columns(now, ["customer_id", "score", "band"], "now", "alerts")
    scored = now.loc[now["score"].notna()].reset_index(drop=True)
    ids = scored["customer_id"]
    band = scored["band"].astype("string").fillna("").to_numpy(dtype=object)
    previous_score = np.full(len(scored), np.nan)
    previous_band = np.full(len(scored), "", dtype=object)
    if before is not None and len(before):
        prior = before.loc[before["score"].notna()].drop_duplicates("customer_id")
        prior = prior.set_index("customer_id")
        previous_score = prior["score"].reindex(ids).to_numpy(dtype=float)
        previous_band = prior["band"].astype("string").reindex(ids).fillna("").to_numpy(object)
    tier = clv_tiers(clv, ids).fillna("").to_numpy(dtype=object)
    value = np.full(len(scored), np.nan)
    if clv is not None and len(clv):
        values = pd.to_numeric(clv, errors="coerce")
        value = values[~values.index.duplicated()].reindex(ids).to_numpy(dtype=float)

    def column(name: str) -> np.ndarray:
        if name not in scored.columns:
            return np.full(len(scored), np.nan)
        return scored[name].to_numpy(dtype=float)

    found = {
        "turned_red": (band == "red") & (previous_band != "") & (previous_band != "red"),
        "high_value_at_risk": (tier == "top") & np.isin(band, ["amber", "red"]),
        "cycle_lengthened": (column("order_days") >= MIN_CYCLE_ORDER_DAYS)
        & (column("cycle_ratio") >= CYCLE_FACTOR),
        "complained_recently": column("days_since_complaint") < recent_complaints_days,
    }
    flags = np.column_stack([found[r] for r in REASONS])
    any_reason = flags.any(axis=1)
    first = np.argmax(flags, axis=1)
    rows = np.flatnonzero(any_reason)
    names = np.array(REASONS, dtype=object)
    reasons = [list(names[flags[i]]) for i in rows]  # only the alerted customers
    table = pd.DataFrame(
        {
            "customer_id": ids.take(rows).reset_index(drop=True),
            "score": scored["score"].to_numpy(float)[rows],
            "previous_score": previous_score[rows],
            "band": pd.array(band[rows], dtype="string"),
            "reasons": reasons,
            "reason": names[first[rows]],
            "clv": value[rows],
            "_high": ~found["high_value_at_risk"][rows],
            "_priority": first[rows],
        }
    )
    order = ["_high", "score", "_priority"]
    table = table.sort_values(order, kind="stable").drop(columns=["_high", "_priority"])
    return table.reset_index(drop=True)
