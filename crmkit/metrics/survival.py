"""Time to an event with cases still waiting: the Kaplan–Meier estimator and its interval,
the log-rank test across groups, and the restricted mean survival time.

Used for the sales cycle (days from creation to won, open deals censored) and for churn
(months to leaving, active customers censored). One estimator for the package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.metrics.stats import z_value

CURVE_COLUMNS = ["days", "at_risk", "events", "censored", "survival", "low", "high"]


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan–Meier curve: ``table`` has one row per event time (``days, at_risk, events,
    censored, survival, low, high``); ``median`` is NaN until the curve falls to one half.

    ``longest`` is the longest time observed (event or censored; NaN without cases): the
    curve is known up to there, flat after its last event. ``min_at_risk`` is the cut the
    table was made with (see :func:`kaplan_meier`). The ``days`` column holds whatever unit
    the durations were given in (churn gives months).
    """

    table: pd.DataFrame
    median: float
    n: int
    events: int
    longest: float = float("nan")
    min_at_risk: int = 1


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
    return SurvivalCurve(
        table[CURVE_COLUMNS],
        median,
        len(times),
        int(events.sum()),
        float(times.max()),
        int(min_at_risk),
    )


@dataclass(frozen=True)
class LogRank:
    """The log-rank test of equal survival across groups.

    ``table`` has one row per group (``group, n, observed, expected``: events seen, and
    expected were every group's hazard the same); ``chi_square`` on ``df`` = groups − 1
    degrees of freedom, and its ``p_value`` (NaN where it cannot be tested: under two groups
    with cases, or no event at all).
    """

    chi_square: float
    df: int
    p_value: float
    table: pd.DataFrame


def logrank_test(
    durations: pd.Series | np.ndarray | list,
    observed: pd.Series | np.ndarray | list,
    groups: pd.Series | np.ndarray | list,
) -> LogRank:
    """The k-group log-rank test (Mantel 1966; Peto & Peto 1972), Mantel–Haenszel form.

    At each distinct event time t, with n_t cases at risk of whom d_t have the event, group
    j (n_tj at risk) expects E_tj = d_t · n_tj / n_t events. With O − E summed over times,
    and its hypergeometric covariance V_jl = Σ_t d_t (n_t − d_t) / (n_t − 1) ·
    n_tj (δ_jl n_t − n_tl) / n_t², the statistic is (O − E)′ V⁻ (O − E) over the first k − 1
    groups (V has rank k − 1), chi-square with k − 1 degrees of freedom under equal survival
    (Klein & Moeschberger 2003, section 7.3). Ties are counted at their time, as above; a
    censoring at t is still at risk at t.

    Parameters
    ----------
    durations, observed
        As for :func:`kaplan_meier`.
    groups
        The group of each case (any hashable values; missing values are a group of their own
        only if the caller makes them one: cases with a missing group are refused).

    Returns
    -------
    LogRank
        Groups sorted by value.

    Raises
    ------
    ValueError
        Inputs of different lengths, negative or missing durations, or missing groups.

    Examples
    --------
    Freireich et al. (1963): 6-MP against placebo, remission weeks (Kleinbaum & Klein 2012,
    chapter 2: log-rank chi-square 16.79, p < 0.0001):

    >>> six_mp = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    >>> relapsed = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    >>> placebo = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
    >>> arm = ["6-MP"] * 21 + ["placebo"] * 21
    >>> test = logrank_test(six_mp + placebo, relapsed + [1] * 21, arm)
    >>> round(test.chi_square, 2), test.df
    (16.79, 1)
    """
    times = np.asarray(durations, dtype=float)
    events = np.asarray(observed, dtype=bool)
    labels = pd.Series(np.asarray(groups, dtype=object))
    if not (times.shape == events.shape == (len(labels),)):
        raise ValueError(
            f"durations, observed and groups must have the same length; got {times.size}, "
            f"{events.size} and {len(labels)}."
        )
    if np.isnan(times).any() or (times < 0).any():
        raise ValueError("durations must be non-negative numbers without gaps.")
    if labels.isna().any():
        raise ValueError("groups must not be missing; name a group for the missing values.")
    codes, names = pd.factorize(labels, sort=True)
    k = len(names)
    order = np.unique(times)
    at_time = np.searchsorted(order, times)
    # cases leaving the risk set (all) and events, per time and group: T × k
    cells = at_time * k + codes
    leaving = np.bincount(cells, minlength=len(order) * k).reshape(len(order), k).astype(float)
    died = np.bincount(cells[events], minlength=len(order) * k).reshape(len(order), k)
    died = died.astype(float)
    at_risk = leaving[::-1].cumsum(axis=0)[::-1]  # at risk at t: those leaving at t or later
    n_t, d_t = at_risk.sum(axis=1), died.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (d_t / n_t)[:, None] * at_risk
        weight = np.where(n_t > 1, d_t * (n_t - d_t) / (n_t - 1) / n_t**2, 0.0)
    variance = np.diag((weight * n_t) @ at_risk) - at_risk.T @ (weight[:, None] * at_risk)
    observed_j, expected_j = died.sum(axis=0), np.nan_to_num(expected).sum(axis=0)
    table = pd.DataFrame(
        {
            "group": names,
            "n": leaving.sum(axis=0).astype(int),
            "observed": observed_j.astype(int),
            "expected": expected_j,
        }
    )
    tested = table["n"].to_numpy() > 0
    if tested.sum() < 2 or d_t.sum() == 0:
        return LogRank(float("nan"), max(int(tested.sum()) - 1, 0), float("nan"), table)
    keep = np.flatnonzero(tested)[:-1]
    difference = (observed_j - expected_j)[keep]
    chi_square = float(difference @ np.linalg.pinv(variance[np.ix_(keep, keep)]) @ difference)
    df = int(tested.sum()) - 1
    return LogRank(chi_square, df, float(stats.chi2.sf(chi_square, df)), table)


@dataclass(frozen=True)
class RestrictedMean:
    """The mean time to the event within ``horizon`` (the area under the curve up to it),
    its standard error and ``level`` interval; NaN where the curve does not reach the
    horizon."""

    horizon: float
    value: float
    se: float
    low: float
    high: float


def restricted_mean(curve: SurvivalCurve, *, horizon: float, level: float = 0.95) -> RestrictedMean:
    """The restricted mean survival time: the area under the Kaplan–Meier curve from 0 to
    ``horizon`` — the mean time without the event within the horizon (Irwin 1949; Royston &
    Parmar 2013).

    With event times t_1 < … < t_m ≤ τ, S(t_0 = 0) = 1:
    μ(τ) = Σ_i S(t_{i−1}) (t_i − t_{i−1}) + S(t_m)(τ − t_m). Its variance (Klein &
    Moeschberger 2003, eq. 4.5.2) is Σ_i A_i² d_i / (Y_i (Y_i − d_i)), with A_i the area
    under the curve from t_i to τ, d_i the events and Y_i the cases at risk at t_i. The
    interval is μ ± z·SE, clipped to [0, τ].

    The curve must be uncut (made with ``min_at_risk=1``) and must be known up to the
    horizon: when the longest time observed is under ``horizon`` and the curve has not
    reached zero, the area is not estimable and the result is NaN.

    Raises
    ------
    ValueError
        ``horizon`` is not positive, or the curve was cut by ``min_at_risk``.

    Examples
    --------
    Five cases, events at 2 and 4, censored at 3, 5 and 6; to τ = 5 the curve is 1 on
    [0, 2), 4/5 on [2, 4) and 4/5 · 2/3 = 8/15 on [4, 5): μ = 2 + 8/5 + 8/15 = 62/15.

    >>> result = restricted_mean(kaplan_meier([2, 3, 4, 5, 6], [1, 0, 1, 0, 0]), horizon=5)
    >>> round(result.value, 6), round(62 / 15, 6)
    (4.133333, 4.133333)
    """
    if not horizon > 0:
        raise ValueError(f"horizon must be a positive time; got {horizon}.")
    if curve.min_at_risk > 1:
        raise ValueError(
            "restricted_mean needs the whole curve: make it with kaplan_meier(..., "
            f"min_at_risk=1); this one was cut at {curve.min_at_risk}."
        )
    nan = RestrictedMean(float(horizon), float("nan"), float("nan"), float("nan"), float("nan"))
    table = curve.table
    if not curve.n:
        return nan
    reached_zero = len(table) and table["survival"].iloc[-1] == 0
    if curve.longest < horizon and not reached_zero:
        return nan
    table = table.loc[table["days"] <= horizon]
    times = table["days"].to_numpy(dtype=float)
    survival = table["survival"].to_numpy(dtype=float)
    starts = np.concatenate([[0.0], times])
    ends = np.concatenate([times, [float(horizon)]])
    levels = np.concatenate([[1.0], survival])
    pieces = levels * (ends - starts)
    value = float(pieces.sum())
    after = pieces[::-1].cumsum()[::-1][1:]  # A_i: the area from t_i to the horizon
    events = table["events"].to_numpy(dtype=float)
    at_risk = table["at_risk"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > events, after**2 * events / (at_risk * (at_risk - events)), 0.0)
    se = float(np.sqrt(terms.sum()))
    half = z_value(level) * se
    return RestrictedMean(
        float(horizon), value, se, max(0.0, value - half), min(float(horizon), value + half)
    )
