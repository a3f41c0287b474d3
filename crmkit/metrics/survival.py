"""Time to an event with cases still waiting: the Kaplan–Meier estimator and its interval.

Used for the sales cycle (days from creation to won, open deals censored) and for churn
(days to leaving, active customers censored). One estimator for the package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.metrics.stats import z_value

CURVE_COLUMNS = ["days", "at_risk", "events", "censored", "survival", "low", "high"]


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan–Meier curve: ``table`` has one row per event time (``days, at_risk, events,
    censored, survival, low, high``); ``median`` is NaN until the curve falls to one half."""

    table: pd.DataFrame
    median: float
    n: int
    events: int


def kaplan_meier(
    durations: pd.Series | np.ndarray | list,
    observed: pd.Series | np.ndarray | list,
    *,
    level: float = 0.95,
    min_at_risk: int = 1,
) -> SurvivalCurve:
    """The Kaplan–Meier estimate of the share still without the event after t days.

    Censored cases (``observed`` False) leave the risk set after their time; ties put events
    before censorings (Kaplan & Meier 1958). The interval is Greenwood's variance on the
    log(−log) scale (Kalbfleisch & Prentice 2002), which stays within 0..1. The median is the
    first time the curve is at or below one half. The curve stops where fewer than
    ``min_at_risk`` cases remain at risk: its tail then rests on a handful of cases.

    Parameters
    ----------
    durations
        Time to the event, or to censoring, per case (non-negative, no gaps).
    observed
        Per case, whether the event happened (True) or the case is censored (False).
    level
        Confidence level of the pointwise interval.
    min_at_risk
        Fewest cases at risk for a time to be shown.

    Returns
    -------
    SurvivalCurve
        The curve's table (one row per time with an event), median, cases and events.

    Raises
    ------
    ValueError
        ``durations`` and ``observed`` differ in length, or a duration is negative or missing.

    Examples
    --------
    The 6-MP arm of Freireich et al. (1963), as tabulated by Kleinbaum & Klein (2012):

    >>> t = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    >>> e = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    >>> curve = kaplan_meier(t, e)
    >>> curve.table["survival"].round(4).tolist()
    [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482]
    >>> curve.median
    23.0
    """
    times = np.asarray(durations, dtype=float)
    events = np.asarray(observed, dtype=bool)
    if times.shape != events.shape:
        raise ValueError(
            f"durations and observed must have the same length; got {times.size} durations "
            f"and {events.size} observed flags."
        )
    if np.isnan(times).any() or (times < 0).any():
        raise ValueError("durations must be non-negative numbers without gaps.")
    if not len(times):
        return SurvivalCurve(pd.DataFrame(columns=CURVE_COLUMNS), float("nan"), 0, 0)
    order = np.unique(times)
    event_counts = np.bincount(np.searchsorted(order, times[events]), minlength=len(order))
    all_counts = np.bincount(np.searchsorted(order, times), minlength=len(order))
    at_risk = len(times) - np.concatenate([[0], np.cumsum(all_counts)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - event_counts / at_risk)
        greenwood = np.cumsum(event_counts / (at_risk * (at_risk - event_counts)))
        z = z_value(level)
        log_log_se = np.sqrt(greenwood) / np.abs(np.log(survival))
        low = survival ** np.exp(z * log_log_se)
        high = survival ** np.exp(-z * log_log_se)
    table = pd.DataFrame(
        {
            "days": order,
            "at_risk": at_risk,
            "events": event_counts,
            "censored": all_counts - event_counts,
            "survival": survival,
            "low": np.where(survival > 0, low, 0.0),
            "high": np.where(survival > 0, high, 0.0),
        }
    )
    table = table.loc[(table["events"] > 0) & (table["at_risk"] >= min_at_risk)]
    table = table.reset_index(drop=True)
    below = table.loc[table["survival"] <= 0.5, "days"]
    median = float(below.iloc[0]) if len(below) else float("nan")
    return SurvivalCurve(table[CURVE_COLUMNS], median, len(times), int(events.sum()))
