"""The sales cycle and what the pipeline is worth: conversion within a window of creation, days
to won (Kaplan–Meier curve, change, monthly trend), pipeline velocity, and acquisition spend
per source against its leads and wins.

Every function takes opportunity positions, the output of
:func:`crmkit.metrics.funnel.furthest_stage`: one row per opportunity with ``outcome``
(``won``, ``lost`` or ``open`` on the day the funnel is taken), ``created_at`` and ``closed_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, day_after
from crmkit.metrics.stats import wilson_interval
from crmkit.metrics.survival import SurvivalCurve, kaplan_meier

MONTHS_SHOWN = 18  # months to the period end that the window and the cycle trend show


def missing_inputs(opportunities: pd.DataFrame, costs: pd.DataFrame | None) -> list[str]:
    """The optional inputs of this module's measures that are absent or hold no value.

    ``opportunities.closed_at`` (window, cycle: absent, or blank on every won or lost
    opportunity, or no opportunity at all), ``opportunities.amount`` (velocity),
    ``opportunities.source``, ``costs`` (absent or without rows) and ``costs.channel`` (source
    ROI), in that order.
    """
    closed = opportunities["outcome"].astype("string").str.lower().isin(["won", "lost"])
    missing = [
        f"opportunities.{column}"
        for column in ("closed_at", "amount", "source")
        if column not in opportunities.columns
        or (
            opportunities[column].isna().all()
            and (column != "closed_at" or closed.any() or opportunities.empty)
        )
    ]
    if costs is None or costs.empty:
        missing.append("costs")
    elif "channel" not in costs.columns:
        missing.append("costs.channel")
    return missing


def conversion_window(
    positions: pd.DataFrame,
    *,
    window_days: int,
    as_of: date | str | pd.Timestamp,
    months: int = MONTHS_SHOWN,
) -> pd.DataFrame:
    """Share of each creation month's opportunities won within ``window_days`` of creation.

    A month is ``complete`` once its last opportunity's window has passed by ``as_of``;
    later months can still rise and are drawn apart.

    Returns
    -------
    pandas.DataFrame
        One row per creation month (the last ``months`` to ``as_of``): ``month, created,
        won_in_window, conversion, low, high, complete``.
    """
    if window_days <= 0:
        raise ParameterError(
            f"conversion_window_days must be a positive number; got {window_days}."
        )
    last_day = pd.Timestamp(as_of).normalize()
    first_month = (last_day.to_period("M") - (months - 1)).start_time
    cohort_rows = positions.loc[positions["created_at"] >= first_month]
    month = cohort_rows["created_at"].dt.to_period("M")
    won_days = (cohort_rows["closed_at"] - cohort_rows["created_at"]).dt.days
    in_window = (cohort_rows["outcome"] == "won") & (won_days <= window_days)
    grouped = pd.DataFrame({"month": month, "won": in_window}).groupby("month")["won"]
    rows = []
    for period, won in grouped:
        share = wilson_interval(int(won.sum()), len(won))
        complete = period.end_time.normalize() + pd.Timedelta(days=window_days) <= last_day
        rows.append(
            {
                "month": period.start_time,
                "created": len(won),
                "won_in_window": int(won.sum()),
                "conversion": share.value,
                "low": share.low,
                "high": share.high,
                "complete": bool(complete),
            }
        )
    types = {"month": "datetime64[ns]", "created": int, "won_in_window": int, "conversion": float}
    types.update(low=float, high=float, complete=bool)  # typed even without a month
    return pd.DataFrame(rows, columns=list(types)).astype(types)


def cycle_curve(
    positions: pd.DataFrame, *, as_of: date | str | pd.Timestamp, min_at_risk: int = 10
) -> SurvivalCurve:
    """Kaplan–Meier curve of days from creation to won, open opportunities censored at their
    age on ``as_of``; lost ones never finish a cycle to won and are left out, as are won ones
    without a ``closed_at`` (their cycle is unknown). The curve stops where fewer than
    ``min_at_risk`` deals remain at risk.

    Returns
    -------
    SurvivalCurve
        See :func:`crmkit.metrics.survival.kaplan_meier`.
    """
    day = pd.Timestamp(as_of).normalize()
    won = positions["outcome"] == "won"
    alive = positions.loc[(won & positions["closed_at"].notna()) | (positions["outcome"] == "open")]
    until = alive["closed_at"].where(alive["outcome"] == "won", day)
    days = (until - alive["created_at"]).dt.days.clip(lower=0)
    return kaplan_meier(
        days.to_numpy(), (alive["outcome"] == "won").to_numpy(), min_at_risk=min_at_risk
    )


def won_cycles(positions: pd.DataFrame, *, period: Period) -> pd.Series:
    """Days from creation to won for the opportunities won in ``period``.

    Returns
    -------
    pandas.Series
        ``cycle_days``, indexed by opportunity id.

    Examples
    --------
    >>> from crmkit.core.periods import parse_period
    >>> positions = pd.DataFrame({
    ...     "opportunity_id": ["a", "b"], "outcome": ["won", "won"],
    ...     "created_at": pd.to_datetime(["2026-06-01", "2026-07-01"]),
    ...     "closed_at": pd.to_datetime(["2026-06-20", "2026-09-30 18:00"])})
    >>> won_cycles(positions, period=parse_period("2026-Q3")).to_dict()
    {'b': 91}
    """
    won = period.rows(positions.loc[positions["outcome"] == "won"], "closed_at")
    days = (won["closed_at"] - won["created_at"]).dt.days
    return pd.Series(days.to_numpy(), index=won["opportunity_id"].to_numpy(), name="cycle_days")


@dataclass(frozen=True)
class CycleChange:
    """Median days to won for deals won this period and the previous one, and a two-sided
    Mann–Whitney test of the difference; ``lengthened`` when longer with p < 0.05.

    ``shift`` is the Hodges–Lehmann estimate of how many days longer this period's cycles
    are (the median of all pairwise differences), ``low``–``high`` its 95% interval (Moses'
    distribution-free interval, the one that goes with the Mann–Whitney test).
    """

    median: float
    previous_median: float
    n: int
    previous_n: int
    p_value: float
    shift: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")

    @property
    def lengthened(self) -> bool:
        return bool(self.p_value < 0.05 and self.median > self.previous_median)

    @property
    def shortened(self) -> bool:
        return bool(self.p_value < 0.05 and self.median < self.previous_median)


def shift_interval(
    current: pd.Series | np.ndarray, previous: pd.Series | np.ndarray, *, level: float = 0.95
) -> tuple[float, float, float]:
    """The Hodges–Lehmann shift (current − previous) and its distribution-free interval
    (Hollander, Wolfe & Chicken 2014, section 4.3; normal approximation for the ranks):
    NaN where either sample is empty or too small for the interval.

    Examples
    --------
    >>> shift_interval([5, 6, 7, 8, 9, 10, 11, 12], [1, 2, 3, 4, 5, 6, 7, 8])
    (4.0, 1.0, 7.0)
    """
    x, y = np.asarray(current, dtype=float), np.asarray(previous, dtype=float)
    if not len(x) or not len(y):
        return float("nan"), float("nan"), float("nan")
    ranked = _pairwise_differences(x, y)
    pairs = len(x) * len(y)
    middle = ranked(pairs // 2)
    shift = float(middle if pairs % 2 else np.mean([ranked(pairs // 2 - 1), middle]))
    z = float(stats.norm.ppf(0.5 + level / 2))
    count = int(np.floor(pairs / 2 - z * np.sqrt(pairs * (len(x) + len(y) + 1) / 12)))
    if count < 1:
        return shift, float("nan"), float("nan")
    return shift, float(ranked(count - 1)), float(ranked(pairs - count))


DISTINCT_PAIRS = 20_000_000
"""Most pairs of distinct values :func:`_pairwise_differences` sorts; beyond, every pair."""


def _pairwise_differences(x: np.ndarray, y: np.ndarray):
    """The k-th smallest (from 0) of all ``len(x) × len(y)`` differences x − y, as a function
    of k. Differences are formed between distinct values, each weighted by how many pairs
    share it: cycle lengths are whole days, so 10k deals a quarter make a few thousand
    distinct values instead of 10⁸ pairs (all the pairs grew with the square of the deals).
    The values are the same floats the full list of pairs holds."""
    x_values, x_counts = np.unique(x, return_counts=True)
    y_values, y_counts = np.unique(y, return_counts=True)
    unusual = np.isnan(x_values[-1]) or np.isnan(y_values[-1])  # NaN: np.median's NaN rules
    if unusual or len(x_values) * len(y_values) > DISTINCT_PAIRS:  # every pair
        every = np.sort(np.subtract.outer(x, y).ravel())
        return lambda k: every[k]
    differences = np.subtract.outer(x_values, y_values).ravel()
    order = np.argsort(differences, kind="stable")
    values = differences[order]
    up_to = np.cumsum(np.multiply.outer(x_counts, y_counts).ravel()[order])
    return lambda k: values[np.searchsorted(up_to, k, side="right")]


def cycle_change(current: pd.Series, previous: pd.Series) -> CycleChange:
    """Compare the cycle lengths of deals won in two periods (Mann & Whitney 1947), with the
    Hodges–Lehmann shift and its interval (:func:`shift_interval`)."""
    p_value = float("nan")
    if len(current) and len(previous):
        p_value = float(stats.mannwhitneyu(current, previous, alternative="two-sided").pvalue)
    return CycleChange(
        float(np.median(current)) if len(current) else float("nan"),
        float(np.median(previous)) if len(previous) else float("nan"),
        len(current),
        len(previous),
        p_value,
        *shift_interval(current, previous),
    )


def cycle_trend(
    positions: pd.DataFrame, *, as_of: date | str | pd.Timestamp, months: int = MONTHS_SHOWN
) -> pd.DataFrame:
    """Median, 25th and 75th percentile days to won, by the month deals were won.

    Returns
    -------
    pandas.DataFrame
        One row per month with a won deal: ``month, won, median, p25, p75``.
    """
    last_day = pd.Timestamp(as_of).normalize()
    first = (last_day.to_period("M") - (months - 1)).start_time
    won = positions.loc[(positions["outcome"] == "won") & (positions["closed_at"] >= first)]
    days = (won["closed_at"] - won["created_at"]).dt.days
    grouped = days.groupby(won["closed_at"].dt.to_period("M"))
    table = pd.DataFrame(
        {
            "won": grouped.size(),
            "median": grouped.median(),
            "p25": grouped.quantile(0.25),
            "p75": grouped.quantile(0.75),
        }
    )
    table.index = table.index.to_timestamp()
    return table.rename_axis("month").reset_index()


@dataclass(frozen=True)
class Velocity:
    """Pipeline velocity = open opportunities × win rate × mean won amount ÷ median cycle."""

    open_opportunities: int
    win_rate: float
    mean_won_amount: float
    median_cycle_days: float

    @property
    def per_day(self) -> float:
        if not self.median_cycle_days or np.isnan(self.median_cycle_days):
            return float("nan")
        return (
            self.open_opportunities * self.win_rate * self.mean_won_amount / self.median_cycle_days
        )


def velocity(positions: pd.DataFrame, *, win_rate: float, period: Period) -> Velocity:
    """Pipeline velocity at the end of ``period`` (money per day), in the HubSpot/Salesforce
    form.

    Open opportunities: the whole open pipeline at the period end (``positions`` taken then).
    Win rate: given (the period cohort's). Mean won amount and median cycle: the deals won in
    ``period``.
    """
    cycles = won_cycles(positions, period=period)
    mean_amount = float("nan")
    if "amount" in positions.columns and len(cycles):
        won = (positions["outcome"] == "won") & period.contains(positions["closed_at"])
        mean_amount = float(positions.loc[won, "amount"].mean())
    return Velocity(
        int((positions["outcome"] == "open").sum()),
        win_rate,
        mean_amount,
        float(cycles.median()) if len(cycles) else float("nan"),
    )


def source_roi(positions: pd.DataFrame, costs: pd.DataFrame, *, period: Period) -> pd.DataFrame:
    """Acquisition spend per source against the leads and won deals it brought in a period.

    Leads: opportunities created in ``period`` by ``source``; won: opportunities of the source
    won in the period, whenever created (a period's deals are mostly won later, so the
    period's own leads would undercount). Spend: ``costs`` rows of category *acquisition* in
    the period's months whose ``channel`` names the source (case and spaces ignored). When no
    won opportunity has a ``closed_at``, won deals cannot be placed in the period: ``won`` and
    what depends on it are blank, not 0; so are won amounts without an ``amount`` column.

    Returns
    -------
    pandas.DataFrame
        One row per source or channel: ``source, leads, won, won_amount, spend,
        cost_per_lead, cost_per_won, return_on_spend`` (won amount ÷ spend); blank where a
        source has no spend line or a channel no leads.

    Raises
    ------
    ParameterError
        ``positions`` has no ``source``, or ``costs`` lacks a column it needs.
    """
    require_columns(positions, ["source"], "opportunities", "source_roi")
    require_columns(costs, ["month", "category", "amount", "channel"], "costs", "source_roi")
    created = period.contains(positions["created_at"])
    won = (positions["outcome"] == "won") & period.contains(positions["closed_at"])
    involved = positions.loc[created | won]
    won = won[created | won]
    amount = involved["amount"] if "amount" in involved.columns else np.nan
    source = involved["source"].astype("string")
    leads = pd.DataFrame(
        {
            "source": source,
            "key": source.str.strip().str.casefold(),
            "lead": created[created | won],
            "won": won,
            "won_amount": np.where(won, amount, 0.0),
        }
    )
    leads = leads.groupby("key", dropna=True).agg(
        source=("source", "first"),
        leads=("lead", "sum"),
        won=("won", "sum"),
        won_amount=("won_amount", "sum"),
    )
    first_month = pd.Timestamp(period.start).to_period("M").start_time
    spend_rows = costs.loc[
        costs["category"].astype("string").str.casefold().eq("acquisition")
        & (costs["month"] >= first_month)
        & (costs["month"] < day_after(period.end))
        & costs["channel"].notna()
    ]
    spend = spend_rows.groupby(
        spend_rows["channel"].astype("string").str.strip().str.casefold()
    ).agg(channel=("channel", "first"), spend=("amount", "sum"))
    table = leads.join(spend, how="outer")
    table["source"] = table["source"].fillna(table["channel"])
    table[["leads", "won"]] = table[["leads", "won"]].fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["cost_per_lead"] = table["spend"] / table["leads"].where(table["leads"] > 0)
        table["cost_per_won"] = table["spend"] / table["won"].where(table["won"] > 0)
        table["return_on_spend"] = table["won_amount"] / table["spend"].where(table["spend"] > 0)
    unknown = []  # blank, not 0: no won deal can be placed in time, or no amount recorded
    if (positions["outcome"] == "won").any() and positions["closed_at"].isna().all():
        unknown += ["won", "cost_per_won"]
    if "won" in unknown or "amount" not in positions.columns or positions["amount"].isna().all():
        unknown += ["won_amount", "return_on_spend"]
    if unknown:
        table[unknown] = np.nan
    columns = ["source", "leads", "won", "won_amount", "spend", "cost_per_lead", "cost_per_won"]
    return (
        table[[*columns, "return_on_spend"]]
        .sort_values(["leads", "source"], ascending=[False, True])
        .reset_index(drop=True)
    )
