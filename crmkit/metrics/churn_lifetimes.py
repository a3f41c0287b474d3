"""How long customers stay: Kaplan–Meier curves of customer lifetime, overall and by group,
with the log-rank test across groups, the median lifetime and the restricted mean lifetime.

A customer's **lifetime** runs from signup to churn, in months (a month is 365.25 / 12 =
30.4375 days), churn as :func:`crmkit.metrics.churn_status.churn_dates` decides it at the
period end; a customer still active then is censored at the period end. Every group of every
breakdown uses the one estimator, :func:`crmkit.metrics.survival.kaplan_meier`.

The **RFM segment** breakdown would be circular if scored at the period end: a customer who
left long ago scores low recency *because* they left. So segments are scored 12 months
before the period end, on orders up to that day, for the customers active that day who had
ordered by then (others have no segment), and their lifetime is counted from that day on
(the *remaining* lifetime, censored at the period end): the curve says how long customers
of each segment went on to stay.

The words that describe it all are in ``topics/churn_lifetimes.py``, never here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, day_after, require_period
from crmkit.metrics.churn_features import attribute_values
from crmkit.metrics.churn_status import ChurnDefinition, churn_dates
from crmkit.metrics.survival import (
    LogRank,
    RestrictedMean,
    SurvivalCurve,
    kaplan_meier,
    logrank_test,
    restricted_mean,
)

MONTH_DAYS = 365.25 / 12
"""Days in a month of lifetime: the mean Gregorian month."""
MIN_GROUP = 30
"""Fewest customers a group needs to get a curve of its own; smaller ones are merged."""
BANDS = 4
"""Bands (quartiles) a number column is cut into to compare lifetimes by it."""
RFM_LOOKBACK_MONTHS = 12
"""How long before the period end RFM segments are scored for the segment breakdown."""
STANDARD_BREAKDOWNS = ("acquisition_channel", "region")
SEGMENT = "segment"
OTHER = "(other)"
"""The group of a breakdown's small groups merged together."""
NONE = "(none)"
"""The group of customers without a value."""

GROUP_COLUMNS = [
    "group",
    "customers",
    "churned",
    "median_months",
    "rmst_months",
    "rmst_se",
    "rmst_low",
    "rmst_high",
]


@dataclass(frozen=True)
class LifetimeBreakdown:
    """Lifetimes by the groups of one column.

    ``table``: one row per group shown (``group, customers, churned, median_months,
    rmst_months, rmst_se, rmst_low, rmst_high``), largest first, :data:`OTHER` last;
    ``curves``: each group's Kaplan–Meier curve, by group; ``logrank``: the test across the
    groups shown; ``merged``: the groups under ``min_group`` customers merged into
    :data:`OTHER`; ``left_out``: those merged groups when even together they stay under
    ``min_group`` (not shown, not tested), with ``left_out_customers`` customers;
    ``as_of``: the day lifetimes are counted from (the segment's scoring day), None when
    they run from signup; ``horizon_months``: the horizon of the restricted means.
    """

    column: str
    table: pd.DataFrame
    curves: dict[str, SurvivalCurve]
    logrank: LogRank
    horizon_months: float
    merged: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    left_out_customers: int = 0
    as_of: date | None = None

    @property
    def differs(self) -> bool:
        """Whether lifetimes differ across the groups (log-rank p < 0.05)."""
        return bool(self.logrank.p_value < 0.05)


@dataclass(frozen=True)
class ChurnLifetimes:
    """Everything the report shows on customer lifetimes, for one unit at a period end.

    ``overall`` is the Kaplan–Meier curve of all customers signed up by the period end
    (months from signup), ``restricted_mean`` its mean lifetime within ``horizon_months``
    (the horizon asked for, or the whole months of the longest follow-up if shorter:
    :func:`used_horizon`); ``horizon_asked`` the horizon asked for;
    ``breakdowns`` by column (in report order, ``segment`` last); ``skipped``: the columns
    asked for but not broken down, by why: ``"missing"`` (not on customers),
    ``"one_group"`` (a single value, in ``one_group``), ``"too_few"`` (under two groups of
    ``min_group`` customers), ``"no_history"`` (segment: no customer active with orders
    :data:`RFM_LOOKBACK_MONTHS` before the period end).
    """

    period: Period
    definition: ChurnDefinition
    horizon_months: float
    horizon_asked: float
    overall: SurvivalCurve
    restricted_mean: RestrictedMean
    customers: int
    churned: int
    breakdowns: dict[str, LifetimeBreakdown]
    skipped: dict[str, str]
    one_group: dict[str, str]
    segment_as_of: date | None
    min_group: int = MIN_GROUP

    @property
    def median_months(self) -> float:
        """The Kaplan–Meier median lifetime in months; NaN while over half remain."""
        return self.overall.median


def lifetime_months(
    status: pd.DataFrame, *, end: date | str | pd.Timestamp, start: pd.Series | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Months from each customer's start (their ``signup_date``, or ``start``) to churn, or
    to ``end`` while they are active, and whether they churned.

    Parameters
    ----------
    status
        :func:`crmkit.metrics.churn_status.churn_dates` at ``end``.
    end
        The day active customers are censored at (the period end).
    start
        Per row of ``status``, the day to count from instead of the signup.

    Returns
    -------
    (months, churned)
        Arrays in the order of ``status``; whole days over :data:`MONTH_DAYS`, never below 0.

    Examples
    --------
    >>> status = pd.DataFrame({"signup_date": pd.to_datetime(["2026-01-01", "2026-01-01"]),
    ...     "churned_at": pd.to_datetime(["2026-03-02", None])})
    >>> months, churned = lifetime_months(status, end="2026-09-30")
    >>> (months * MONTH_DAYS).round().tolist(), churned.tolist()
    ([60.0, 272.0], [True, False])
    """
    first = (status["signup_date"] if start is None else start).dt.normalize()
    churned = status["churned_at"].notna().to_numpy()
    until = status["churned_at"].dt.normalize().fillna(pd.Timestamp(end).normalize())
    days = (until - first).dt.days.to_numpy(dtype=float)
    return np.clip(days, 0, None) / MONTH_DAYS, churned


def group_lifetimes(
    months: np.ndarray,
    churned: np.ndarray,
    groups: pd.Series | np.ndarray,
    *,
    column: str,
    horizon_months: float,
    min_group: int = MIN_GROUP,
    as_of: date | None = None,
    group_order: list[str] | None = None,
) -> LifetimeBreakdown | str:
    """Lifetimes by group: a Kaplan–Meier curve, median and restricted mean per group, and
    the log-rank test across them.

    Groups with fewer than ``min_group`` customers are merged into :data:`OTHER`; if the
    merged group is still under ``min_group``, it is left out (named in ``left_out``).
    Missing values are the group :data:`NONE`. Groups are listed largest first, or in
    ``group_order`` where given (bands of a number, lowest first).

    Returns
    -------
    LifetimeBreakdown or str
        The breakdown; or why there is none: ``"one_group"`` (one value only) or
        ``"too_few"`` (fewer than two groups of ``min_group`` customers).
    """
    labels = pd.Series(np.asarray(groups, dtype=object)).fillna(NONE).astype(str)
    counts = labels.value_counts()
    if len(counts) < 2:
        return "one_group"
    small = counts.index[counts < min_group]
    merged = sorted(small)
    if len(small):
        labels = labels.where(~labels.isin(small), OTHER)
    left_out, left_out_customers = [], 0
    if len(small) and counts[small].sum() < min_group:
        left_out, left_out_customers = merged, int(counts[small].sum())
    keep = (labels != OTHER).to_numpy() if left_out else np.ones(len(labels), dtype=bool)
    labels = labels[keep].reset_index(drop=True)
    months, churned = months[keep], churned[keep]
    sizes = labels.value_counts()
    if len(sizes) < 2:
        return "too_few"
    rank = {name: k for k, name in enumerate(group_order or [])}
    names = sorted(sizes.index, key=lambda g: (g == OTHER, rank.get(g, len(rank)), -sizes[g], g))
    codes = pd.Categorical(labels, categories=names).codes
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    rows, curves = [], {}
    for k, name in enumerate(names):
        members = order[bounds[k] : bounds[k + 1]]
        curve = kaplan_meier(months[members], churned[members])
        area = restricted_mean(curve, horizon=horizon_months)
        curves[name] = curve
        rows.append(
            [name, curve.n, curve.events, curve.median, area.value, area.se, area.low, area.high]
        )
    return LifetimeBreakdown(
        column=column,
        table=pd.DataFrame(rows, columns=GROUP_COLUMNS),
        curves=curves,
        logrank=logrank_test(months, churned, labels.to_numpy()),
        horizon_months=float(horizon_months),
        merged=merged,
        left_out=left_out,
        left_out_customers=left_out_customers,
        as_of=as_of,
    )


def _plain(value: float) -> str:
    """A band's end as data would write it: ``12``, ``48.5``, ``0.125``."""
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.4g}"
    return text if "e" not in text else f"{value:.2f}"


def value_bands(values: pd.Series, *, bands: int = BANDS) -> tuple[pd.Series, list[str]]:
    """A number column cut into ``bands`` groups of about equal size (quantiles; fewer where
    many customers share a value), each named by the lowest and highest value it holds
    (``"43.1–50.2"``); missing values stay missing.

    Returns
    -------
    (groups, order)
        Each customer's band name, and the band names lowest first.

    Examples
    --------
    >>> groups, order = value_bands(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, None]), bands=2)
    >>> order, groups.iloc[0], groups.iloc[-1]
    (['1–4', '5–8'], '1–4', nan)
    """
    codes = pd.qcut(values, bands, labels=False, duplicates="drop")
    lows, highs = values.groupby(codes).min(), values.groupby(codes).max()
    names = {
        k: _plain(lows[k]) if lows[k] == highs[k] else f"{_plain(lows[k])}–{_plain(highs[k])}"
        for k in sorted(lows.index)
    }
    return codes.map(names), list(names.values())


def used_horizon(horizon_months: float, overall: SurvivalCurve) -> float:
    """The horizon of the restricted means: ``horizon_months``, or the whole months the
    longest-followed customer has been seen where that is shorter (a unit younger than the
    horizon still gets a mean lifetime, within the time it has existed)."""
    seen = math.floor(overall.longest) if np.isfinite(overall.longest) else 0
    return float(min(horizon_months, seen)) if seen >= 1 else float(horizon_months)


def segment_start(period: Period, *, months: int = RFM_LOOKBACK_MONTHS) -> date:
    """The day RFM segments are scored for the segment breakdown: ``months`` before the
    period end (the same day of the month, or the month's last day)."""
    return (pd.Timestamp(period.end) - pd.DateOffset(months=months)).date()


def _segments(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    definition: ChurnDefinition,
    *,
    status: pd.DataFrame,
    as_of: date,
    end: date,
    rfm: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Remaining months from ``as_of``, churned flags and RFM segment (at ``as_of``) of the
    customers active on ``as_of`` who had ordered by then (the others have no segment)."""
    # only the columns read: cutting a wide order table by date copies every column
    transactions = transactions[
        [c for c in ("customer_id", "order_date", "amount") if c in transactions]
    ]
    then = churn_dates(customers, transactions, churn_events, definition, as_of=as_of)
    active = then.loc[then["churned_at"].isna(), "customer_id"]
    # Index look-ups: hashing a million string ids through isin/map is several times slower
    at = pd.Index(status["customer_id"]).get_indexer(active)
    rows = status.iloc[np.sort(at[at >= 0])].reset_index(drop=True)
    if rfm is None:
        from crmkit.metrics.segmentation import rfm as rfm_table
        from crmkit.metrics.segmentation import rfm_scores

        rfm = rfm_scores(rfm_table(transactions, as_of=as_of))
    else:
        require_columns(rfm, ["customer_id", "segment"], "rfm", "lifetimes_analysis")
    scored = rfm.drop_duplicates("customer_id")
    found = pd.Index(scored["customer_id"]).get_indexer(rows["customer_id"])
    rows = rows.loc[found >= 0].reset_index(drop=True)
    segment = pd.Series(scored["segment"].to_numpy(dtype=object)[found[found >= 0]], dtype=object)
    start = pd.Series(pd.Timestamp(as_of), index=rows.index)
    months, churned = lifetime_months(rows, end=end, start=start)
    return months, churned, segment


def lifetimes_analysis(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    *,
    period: Period,
    definition: ChurnDefinition,
    breakdowns: Iterable[str] = STANDARD_BREAKDOWNS,
    horizon_months: float = 24,
    rfm: pd.DataFrame | None = None,
    status: pd.DataFrame | None = None,
    min_group: int = MIN_GROUP,
) -> ChurnLifetimes:
    """Customer lifetimes at the period end: overall, by acquisition channel, region, each
    column of ``breakdowns`` and the RFM segment.

    Lifetime is months from signup to churn (:func:`lifetime_months`), censored at the
    period end; the curves are Kaplan–Meier (Kaplan & Meier 1958), groups compared by the
    k-group log-rank test (:func:`crmkit.metrics.survival.logrank_test`), the median
    lifetime is the curve's median (NaN while over half remain), the restricted mean
    lifetime the area under the curve up to ``horizon_months`` (or, in a unit younger than
    that, up to its longest follow-up in whole months: :func:`used_horizon`)
    (:func:`crmkit.metrics.survival.restricted_mean`, Klein & Moeschberger's standard
    error). The segment breakdown counts from :func:`segment_start` (see the module's
    note on circularity), so its restricted means are within the shorter of the horizon
    and the time from that day to the period end (:data:`RFM_LOOKBACK_MONTHS`): no
    remaining lifetime is observed for longer.

    Parameters
    ----------
    customers, transactions, churn_events
        The unit's tables (``churn_events`` None or empty for inactivity churn).
    period
        The reporting period: lifetimes are as known at its end.
    definition
        :func:`crmkit.metrics.churn_status.choose_definition`'s churn definition.
    breakdowns
        Customer columns to compare lifetimes by (the registry's ``churn_breakdowns``);
        acquisition channel and region are always tried, ``segment`` always means the RFM
        segment. Columns absent from ``customers`` are skipped (``skipped``); a number
        column with more than :data:`BANDS` values is cut into quartile bands
        (:func:`value_bands`).
    horizon_months
        Horizon of the restricted mean lifetime (``churn_horizon_months``).
    rfm
        RFM scores at :func:`segment_start` (``customer_id, segment``), if the caller has
        them; computed from ``transactions`` when None.
    status
        :func:`~crmkit.metrics.churn_status.churn_dates` at the period end, if the caller
        has it (saves a pass over the orders).
    min_group
        Fewest customers of a group with its own curve.

    Raises
    ------
    ParameterError
        ``period`` is not a Period, ``horizon_months`` not positive, or a column required
        is missing.
    """
    require_period(period, caller="lifetimes_analysis")
    require_columns(customers, ["customer_id", "signup_date"], "customers", "lifetimes_analysis")
    if not horizon_months > 0:
        raise ParameterError(
            f"churn_horizon_months must be a positive number of months; got {horizon_months}."
        )
    if status is None:
        status = churn_dates(customers, transactions, churn_events, definition, as_of=period.end)
    status = status.reset_index(drop=True)
    months, churned = lifetime_months(status, end=period.end)
    overall = kaplan_meier(months, churned)
    horizon = used_horizon(horizon_months, overall)
    people = customers.drop_duplicates("customer_id").set_index("customer_id")
    columns = list(dict.fromkeys([*STANDARD_BREAKDOWNS, *breakdowns]))
    columns = [c for c in columns if c != SEGMENT] + [SEGMENT]
    found, skipped, one_group = {}, {}, {}
    for column in columns[:-1]:
        if column not in people.columns:
            skipped[column] = "missing"
            continue
        values = status["customer_id"].map(attribute_values(people[column]))
        bands = None
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and values.nunique() > BANDS:
            values, bands = value_bands(values)
        result = group_lifetimes(
            months,
            churned,
            values,
            column=column,
            horizon_months=horizon,
            min_group=min_group,
            group_order=bands,
        )
        if result == "one_group":
            one_group[column] = str(values.dropna().iloc[0]) if values.notna().any() else NONE
        _keep(found, skipped, column, result)
    as_of = segment_start(period)
    segments = pd.Series(dtype=object)
    if len(transactions) and transactions["order_date"].min() < day_after(as_of):
        segment_months, segment_churned, segments = _segments(
            customers,
            transactions,
            churn_events,
            definition,
            status=status,
            as_of=as_of,
            end=period.end,
            rfm=rfm,
        )
    if segments.notna().any():
        follow_up = (pd.Timestamp(period.end) - pd.Timestamp(as_of)).days / MONTH_DAYS
        result = group_lifetimes(
            segment_months,
            segment_churned,
            segments,
            column=SEGMENT,
            horizon_months=min(horizon, follow_up),
            min_group=min_group,
            as_of=as_of,
        )
        if result == "one_group":
            one_group[SEGMENT] = str(segments.fillna(NONE).iloc[0])
        _keep(found, skipped, SEGMENT, result)
    else:
        skipped[SEGMENT] = "no_history"
    return ChurnLifetimes(
        period=period,
        definition=definition,
        horizon_months=horizon,
        horizon_asked=float(horizon_months),
        overall=overall,
        restricted_mean=restricted_mean(overall, horizon=horizon),
        customers=overall.n,
        churned=overall.events,
        breakdowns=found,
        skipped=skipped,
        one_group=one_group,
        segment_as_of=None if skipped.get(SEGMENT) == "no_history" else as_of,
        min_group=min_group,
    )


def _keep(found: dict, skipped: dict, column: str, result: LifetimeBreakdown | str) -> None:
    if isinstance(result, str):
        skipped[column] = result
    else:
        found[column] = result
