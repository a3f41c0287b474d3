"""Interactions of the relationship health review: how often the company and its active
customers are in touch, through which channels and about what, the monthly trend, and which
channels are followed by a purchase.

Every per-customer figure stands on ONE base, the customers *active in the period* of the
churn report (:attr:`crmkit.metrics.churn_rates.PeriodRates.active_customers`: active at its
start or joined during it; per calendar month ``ChurnRates.trend["active"]``). This module
takes those counts as arguments and never recomputes them, so the health review and the
churn report divide by the same number. The words that describe these figures are in the
health topic (``topics/health_interactions.py``), never here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, day_after, require_period
from crmkit.metrics.stats import (
    Change,
    Proportion,
    holm,
    two_proportion_test,
    wilson_interval,
    z_value,
)

DAYS_PER_MONTH = 365.25 / 12  # 30.4375: the average calendar month
TOP_BIN = 10
"""The per-customer distribution's last bin: customers with this many interactions or more."""
FOLLOW_MONTHS = 12
"""Months up to the period end whose interactions are followed to a purchase."""
_SECOND = 10**9
_DAY_S = 86_400

MIX_COLUMNS = [
    "interactions",
    "share",
    "previous_interactions",
    "previous_share",
    "frequency",
    "change",
    "low",
    "high",
    "p_value",
    "p_holm",
]
"""The columns of ``by_channel`` / ``by_kind`` after the group's own (``channel`` / ``kind``)."""
FOLLOW_COLUMNS = [
    "channel",
    "interactions",
    "followed",
    "share",
    "low",
    "high",
    "rest_share",
    "difference",
    "p_value",
    "p_holm",
]
TREND_COLUMNS = ["month", "month_end", "complete", "interactions", "active", "per_customer"]
DISTRIBUTION_COLUMNS = ["interactions", "open_ended", "customers", "share"]


@dataclass(frozen=True)
class InteractionsAnalysis:
    """What :func:`interactions_analysis` returns.

    ``frequency`` is interactions per active customer per month (NaN without active
    customers; ``previous_frequency`` also NaN when the interactions on record start after
    the previous period); ``frequency_change`` is this minus the previous one (quasi-Poisson
    test, ``dispersion`` its scale). ``per_customer`` has one row per number of interactions
    0 … ``TOP_BIN`` (the last open-ended); ``by_channel`` / ``by_kind`` one row per channel /
    kind; ``trend`` one row per calendar month; ``purchase_after`` one row per channel of the
    interactions that could be followed for ``purchase_days`` days, ``purchase_after_overall``
    all of them together. ``missing`` names what is absent: ``interactions`` (no table or no
    rows), ``interactions_in_period``, ``interactions_previous_period`` (records start after
    it), ``interactions.kind``.
    """

    period: Period
    active: int
    previous_active: int
    interactions: int
    previous_interactions: int
    customers_interacting: int
    frequency: float
    previous_frequency: float
    frequency_change: Change
    dispersion: float
    per_customer: pd.DataFrame
    by_channel: pd.DataFrame
    by_kind: pd.DataFrame | None
    trend: pd.DataFrame
    purchase_days: int
    purchase_after: pd.DataFrame
    purchase_after_overall: Proportion
    top_channel: str | None
    top_channel_share: float
    top_channel_previous_share: float
    top_channel_change: Change
    records_from: pd.Timestamp | None
    missing: tuple[str, ...]


_NO_CHANGE = Change(float("nan"), float("nan"), float("nan"), float("nan"))


# ----------------------------------------------------------------------------- formulas


def poisson_rate_change(
    counts: tuple[int, int],
    exposures: tuple[float, float],
    *,
    dispersion: float = 1.0,
    level: float = 0.95,
) -> Change:
    """``k₁/E₁ − k₀/E₀`` of two event rates, with a Wald interval and the score test of equal
    rates, both scaled by a quasi-Poisson ``dispersion`` φ ≥ 1.

    Interval ``± z·√(φ·(k₁/E₁² + k₀/E₀²))``; p-value from ``|Δ| / √(φ·r̂·(1/E₁ + 1/E₀))``
    with the pooled rate ``r̂ = (k₁+k₀)/(E₁+E₀)``. With φ = 1 this is
    :func:`crmkit.metrics.churn_rates.rate_change` (the score test of two Poisson rates for
    person-time data, Rothman, Greenland & Lash, *Modern Epidemiology*, 3rd ed., ch. 14);
    φ > 1 widens both for counts more spread out than Poisson (McCullagh & Nelder,
    *Generalized Linear Models*, 2nd ed., §4.5). NaN without exposure in either period.

    Examples
    --------
    >>> c = poisson_rate_change((30, 20), (10.0, 10.0))
    >>> round(c.delta, 2), round(c.p_value, 4)
    (1.0, 0.1573)
    """
    (k1, k0), (e1, e0) = counts, exposures
    if not (e1 > 0 and e0 > 0) or not np.isfinite(e1 + e0):
        return _NO_CHANGE
    phi = max(float(dispersion), 1.0) if np.isfinite(dispersion) else 1.0
    delta = k1 / e1 - k0 / e0
    half = z_value(level) * np.sqrt(phi * (k1 / e1**2 + k0 / e0**2))
    pooled = (k1 + k0) / (e1 + e0)
    se0 = np.sqrt(phi * pooled * (1 / e1 + 1 / e0))
    p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(delta) / se0))
    return Change(float(delta), float(delta - half), float(delta + half), p_value)


def dispersion(per_customer: list[tuple[np.ndarray, int]]) -> float:
    """The quasi-Poisson scale φ of per-customer counts, one group per period: Pearson's
    ``X² = Σ (x − m)² / m`` over every customer of each group (``m`` its mean, customers
    without an event counted as zeros) ÷ the degrees of freedom ``Σ (n − 1)``; at least 1.

    ``per_customer`` holds, per group, the counts of the customers with at least one event
    and the group's size ``n`` (zeros = ``n`` − those customers). A group without events
    adds nothing.

    Examples
    --------
    >>> round(dispersion([(np.array([4, 1]), 4), (np.array([1]), 2)]), 3)
    2.4
    """
    chi2, df = 0.0, 0
    for counts, size in per_customer:
        n = max(int(size), len(counts))
        total = float(np.sum(counts))
        if n < 2 or total <= 0:
            continue
        m = total / n
        chi2 += float(np.sum((counts - m) ** 2) / m) + (n - len(counts)) * m
        df += n - 1
    return max(chi2 / df, 1.0) if df else 1.0


# ----------------------------------------------------------------------------- helpers


def _ns(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy("datetime64[ns]").view(np.int64)


def _labels(values: pd.Series) -> pd.Series:
    """Group labels as text, stripped; blanks missing."""
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _counts(labels: pd.Series) -> pd.Series:
    return labels.value_counts(dropna=False, sort=False)


def _mix(
    now: pd.Series,
    before: pd.Series | None,
    *,
    name: str,
    exposure: float,
    level: float,
) -> pd.DataFrame:
    """One row per value of ``now`` ∪ ``before``: its interactions and share this period and
    the previous one (``before`` None: not measured), per active customer per month, and the
    share's change (pooled two-proportion z test, Holm over the rows)."""
    k1 = _counts(now)
    k0 = _counts(before) if before is not None else pd.Series(dtype=float)
    values = k1.index.union(k0.index, sort=False) if len(k0) else k1.index
    k1 = k1.reindex(values, fill_value=0).astype(int)
    n1, n0 = int(k1.sum()), len(before) if before is not None else 0
    rows = []
    for value, count in k1.items():
        if before is None:
            rows.append((value, count, np.nan, np.nan, _NO_CHANGE))
            continue
        previous = int(k0.get(value, 0))
        test = two_proportion_test(count, n1, previous, n0, level=level)
        shares = previous / n0 if n0 else np.nan
        rows.append(
            (value, count, previous, shares, Change(test.delta, test.low, test.high, test.p_value))
        )
    frame = pd.DataFrame(
        {
            name: pd.array([r[0] for r in rows], dtype="string"),
            "interactions": [r[1] for r in rows],
            "share": [r[1] / n1 if n1 else np.nan for r in rows],
            "previous_interactions": [r[2] for r in rows],
            "previous_share": [r[3] for r in rows],
            "frequency": [r[1] / exposure if exposure > 0 else np.nan for r in rows],
            "change": [r[4].delta for r in rows],
            "low": [r[4].low for r in rows],
            "high": [r[4].high for r in rows],
            "p_value": [r[4].p_value for r in rows],
        },
        columns=[name, *MIX_COLUMNS[:-1]],
    )
    frame["p_holm"] = holm(frame["p_value"].to_numpy(float))
    frame = frame.astype({"interactions": int, "previous_interactions": float})
    return frame.sort_values(["interactions", name], ascending=[False, True]).reset_index(drop=True)


def _distribution(counts: np.ndarray, active: int) -> pd.DataFrame:
    """Customers by their number of interactions, 0 … ``TOP_BIN`` (open-ended)."""
    if active <= 0:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(DISTRIBUTION_COLUMNS, (int, bool, int, float), strict=True)
            }
        )
    zeros = max(active - len(counts), 0)
    binned = np.bincount(np.minimum(counts, TOP_BIN), minlength=TOP_BIN + 1)
    binned[0] += zeros
    total = binned.sum()
    return pd.DataFrame(
        {
            "interactions": np.arange(TOP_BIN + 1),
            "open_ended": np.arange(TOP_BIN + 1) == TOP_BIN,
            "customers": binned.astype(int),
            "share": binned / total,
        }
    )


def _trend(times: np.ndarray, monthly_active: pd.DataFrame, first: int | None) -> pd.DataFrame:
    """Interactions per calendar month of ``monthly_active`` and per active customer; months
    wholly before the month of the first record are not measured (NaN)."""
    months = pd.to_datetime(monthly_active["month"])
    ends = pd.to_datetime(monthly_active["month_end"])
    starts = months.to_numpy("datetime64[ns]").view(np.int64)
    bounds = np.array([day_after(e).value for e in ends], dtype=np.int64)
    counts = (np.searchsorted(times, bounds) - np.searchsorted(times, starts)).astype(float)
    if first is None:
        counts[:] = np.nan
    else:
        first_month = pd.Timestamp(first).to_period("M").start_time.value
        counts[starts < first_month] = np.nan
    active = monthly_active["active"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(active > 0, counts / active, np.nan)
    return pd.DataFrame(
        {
            "month": months.to_numpy(),
            "month_end": ends.to_numpy(),
            "complete": monthly_active["complete"].astype(bool).to_numpy(),
            "interactions": counts,
            "active": active.astype(int),
            "per_customer": per,
        },
        columns=TREND_COLUMNS,
    )


def _followed(
    codes: np.ndarray,
    uniques: pd.Index,
    when: np.ndarray,
    transactions: pd.DataFrame,
    *,
    start: pd.Timestamp,
    stop: pd.Timestamp,
    days: int,
) -> np.ndarray:
    """Whether each interaction (customer code into ``uniques``, time in ns) is followed by an
    order of the same customer at or after its time and on or before the ``days``-th day
    after its day. Orders read: dated in ``[start, stop)``. Vectorised: one sorted key per
    order (customer, second), two binary searches per interaction (in key order, which keeps
    the searches cache-friendly)."""
    order_ns = _ns(transactions["order_date"])
    keep = (order_ns >= start.value) & (order_ns < stop.value)
    order_codes, order_ids = pd.factorize(transactions["customer_id"][keep])
    found = np.zeros(len(when), dtype=bool)
    if not len(order_ids) or not len(when):
        return found
    translate = pd.Index(order_ids).get_indexer(uniques)  # interaction code -> order code
    mine = np.where(codes >= 0, translate[np.maximum(codes, 0)], -1).astype(np.int64)
    base, span = start.value // _SECOND, (stop.value - start.value) // _SECOND + 1
    valid = order_codes >= 0
    keys = np.sort(order_codes[valid].astype(np.int64) * span + order_ns[keep][valid] // _SECOND)
    keys -= base
    lo = mine * span + when // _SECOND - base
    hi = mine * span + (when // (_DAY_S * _SECOND)) * _DAY_S - base + (days + 1) * _DAY_S
    order = np.argsort(lo, kind="stable")
    found[order] = np.searchsorted(keys, hi[order]) > np.searchsorted(keys, lo[order])
    return found & (mine >= 0)


def _purchase_after(
    interactions: pd.DataFrame,
    transactions: pd.DataFrame,
    times: np.ndarray,
    codes: tuple[np.ndarray, pd.Index],
    *,
    period: Period,
    days: int,
    level: float,
) -> tuple[pd.DataFrame, Proportion]:
    """Per channel, the share of the interactions that could be followed for ``days`` days
    that were followed by an order (see :func:`interactions_analysis`)."""
    stop = day_after(period.end)
    start = stop - pd.DateOffset(months=FOLLOW_MONTHS)
    last = day_after(pd.Timestamp(period.end) - pd.Timedelta(days=days))
    eligible = (times >= start.value) & (times < last.value)
    rows = interactions.loc[eligible]
    hit = _followed(
        codes[0][eligible], codes[1], times[eligible], transactions, start=start, stop=stop,
        days=days,
    )  # fmt: skip
    channel = _labels(rows["channel"]).reset_index(drop=True)
    total = wilson_interval(int(hit.sum()), len(hit), level=level)
    if not len(hit):
        return pd.DataFrame(columns=FOLLOW_COLUMNS), total
    table = (
        pd.DataFrame({"channel": channel, "hit": hit})
        .groupby("channel", dropna=False, sort=False)["hit"]
        .agg(["size", "sum"])
    )
    records = []
    for value, (n, k) in table.iterrows():
        share = wilson_interval(int(k), int(n), level=level)
        rest_n, rest_k = total.trials - int(n), total.successes - int(k)
        test = two_proportion_test(int(k), int(n), rest_k, rest_n, level=level)
        rest = rest_k / rest_n if rest_n else np.nan
        records.append(
            (value, int(n), int(k), share.value, share.low, share.high, rest, test.delta,
             test.p_value)
        )  # fmt: skip
    frame = pd.DataFrame(records, columns=FOLLOW_COLUMNS[:-1])
    frame["channel"] = frame["channel"].astype("string")
    frame["p_holm"] = holm(frame["p_value"].to_numpy(float))
    frame = frame.sort_values(["share", "channel"], ascending=[False, True])
    return frame.reset_index(drop=True), total


def _empty_mix(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[name, *MIX_COLUMNS]).astype({name: "string"})


# ----------------------------------------------------------------------------- the analysis


def interactions_analysis(
    interactions: pd.DataFrame | None,
    transactions: pd.DataFrame,
    *,
    period: Period,
    active: int,
    previous_active: int,
    monthly_active: pd.DataFrame,
    purchase_days: int = 30,
    level: float = 0.95,
) -> InteractionsAnalysis:
    """Interaction frequency, its distribution over customers, channel and kind mix, monthly
    trend and the channels followed by a purchase.

    * **Interaction frequency** (互动次数 ÷ 客户数 per month): interactions dated in the period
      ÷ ``active`` ÷ months, months = days in the period ÷ 30.4375. Every interaction dated in
      the period counts, whoever it was with (a customer who churned before the period too).
      The previous period's is computed the same way with ``previous_active``. NaN without
      active customers; NaN too when no interaction is dated in the period (records that stop
      before it are not read as a fall to zero), and the previous one when none is dated
      before the period start (records that begin in this period cannot be compared).
      **Change**: the difference of the two rates with exposures ``active × months``
      (:func:`poisson_rate_change`), scaled by the quasi-Poisson dispersion of the
      per-customer counts of both periods (:func:`dispersion`), because some customers are
      in touch far more often than others.
    * **Per-customer distribution**: customers by their number of interactions in the period
      (0, 1, …, 9, 10 or more). Only the count of active customers is known, not who they are:
      customers with none = ``active`` − customers with at least one (never below 0).
    * **Channel and kind mix**: per ``channel`` (and ``kind`` where the table has one) the
      interactions, their share of the period's interactions, the previous share, per active
      customer per month, and the share's change (pooled two-proportion z test, Holm-adjusted
      over the rows, Holm 1979).
    * **Trend**: per calendar month of ``monthly_active`` (``ChurnRates.trend``), interactions
      dated in it ÷ that month's active customers (a month cut at the period end keeps
      ``complete`` False); months before the month of the first record are NaN.
    * **Followed by a purchase**: of the interactions dated in the 12 months to the period end
      and on or before its last day minus ``purchase_days`` (so each could be followed for
      the whole window), the share after which the same customer ordered *at or after the
      interaction's time and on or before the ``purchase_days``-th day after its day* — an
      order the same day counts (dates without a time cannot be ordered within a day, and a
      store visit's purchase is usually that day). Wilson interval (Wilson 1927); each channel
      against all others by the pooled two-proportion z test, Holm-adjusted. This is an
      association: customers who buy often are in touch often; it does not show that the
      channel causes the purchase.
    * **Top channel**: the channel with the most interactions this period, its share now and
      before and the change (two-proportion z test): the scorecard's channel-mix row.

    Parameters
    ----------
    interactions
        ``customer_id, occurred_at, channel`` (``kind`` optional), or None.
    transactions
        ``customer_id, order_date``.
    period
        The reporting period.
    active, previous_active
        ``PeriodRates.active_customers`` of this and the previous period (churn report).
    monthly_active
        ``ChurnRates.trend``: ``month, month_end, complete, active``.
    purchase_days
        Days after an interaction in which an order counts as following it.
    level
        Confidence level of the intervals.

    Returns
    -------
    InteractionsAnalysis

    Raises
    ------
    ParameterError
        ``period`` is not a Period, ``purchase_days`` is not a whole number ≥ 0, ``active``
        is negative, or a required column is missing.

    Examples
    --------
    >>> from crmkit.core.periods import parse_period
    >>> touches = pd.DataFrame({"customer_id": ["a", "a", "b"], "channel": ["email"] * 3,
    ...     "occurred_at": pd.to_datetime(["2026-01-05", "2026-02-01", "2026-02-10"])})
    >>> orders = pd.DataFrame({"customer_id": ["a"], "order_date": pd.to_datetime(["2026-01-20"])})
    >>> months = pd.DataFrame({"month": [pd.Timestamp("2026-03-01")], "active": [4],
    ...     "month_end": [pd.Timestamp("2026-03-31")], "complete": [True]})
    >>> result = interactions_analysis(touches, orders, period=parse_period("2026-Q1"),
    ...     active=4, previous_active=4, monthly_active=months)
    >>> round(result.frequency, 4), result.purchase_after_overall.successes
    (0.2536, 1)
    """
    require_period(period, caller="interactions_analysis")
    if isinstance(purchase_days, bool) or not isinstance(purchase_days, (int, np.integer)):
        raise ParameterError(
            f"interactions_analysis() needs purchase_days as a whole number of days ≥ 0 "
            f"(30 by default); got {purchase_days!r}."
        )
    if purchase_days < 0 or active < 0 or previous_active < 0:
        raise ParameterError(
            "interactions_analysis() needs purchase_days, active and previous_active ≥ 0; got "
            f"{purchase_days}, {active} and {previous_active}."
        )
    require_columns(
        transactions, ["customer_id", "order_date"], "transactions", "interactions_analysis"
    )
    require_columns(
        monthly_active,
        ["month", "month_end", "complete", "active"],
        "monthly_active",
        "interactions_analysis",
    )
    active, previous_active, purchase_days = int(active), int(previous_active), int(purchase_days)
    previous = period.previous()
    months_now, months_before = period.days / DAYS_PER_MONTH, previous.days / DAYS_PER_MONTH
    missing: list[str] = []
    if interactions is None or interactions.empty:
        interactions = pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="string"),
                "occurred_at": pd.Series(dtype="datetime64[ns]"),
                "channel": pd.Series(dtype="string"),
            }
        )
        missing.append("interactions")
    require_columns(
        interactions,
        ["customer_id", "occurred_at", "channel"],
        "interactions",
        "interactions_analysis",
    )
    times_all = _ns(interactions["occurred_at"])
    known = times_all != np.iinfo(np.int64).min
    first = int(times_all[known].min()) if known.any() else None
    now = period.contains(interactions["occurred_at"]).to_numpy()
    before = previous.contains(interactions["occurred_at"]).to_numpy()
    measured_before = first is not None and first < pd.Timestamp(period.start).value
    if "interactions" not in missing and not now.any():
        missing.append("interactions_in_period")
    if "interactions" not in missing and not measured_before:
        missing.append("interactions_previous_period")
    kinds = None
    if "kind" in interactions.columns:
        kinds = _labels(interactions["kind"])
        if not kinds.notna().any():
            kinds = None
    if kinds is None and "interactions" not in missing:
        missing.append("interactions.kind")

    # ids read only where used: the two periods and the months followed to a purchase
    since = min(
        pd.Timestamp(previous.start), day_after(period.end) - pd.DateOffset(months=FOLLOW_MONTHS)
    )
    used = (times_all >= since.value) & (times_all < day_after(period.end).value)
    codes = np.full(len(interactions), -1, dtype=np.int64)
    codes[used], uniques = pd.factorize(interactions["customer_id"][used])
    per_now = np.bincount(codes[now & (codes >= 0)])
    per_now = per_now[per_now > 0]
    per_before = np.bincount(codes[before & (codes >= 0)])
    per_before = per_before[per_before > 0]
    k1, k0 = int(now.sum()), int(before.sum())
    e1, e0 = active * months_now, previous_active * months_before
    measured_now = k1 > 0  # none dated in the period: records that stop before it
    frequency = k1 / e1 if e1 > 0 and measured_now else float("nan")
    previous_frequency = k0 / e0 if e0 > 0 and measured_before else float("nan")
    phi = dispersion([(per_now, active), (per_before, previous_active)])
    change = (
        poisson_rate_change((k1, k0), (e1, e0), dispersion=phi, level=level)
        if measured_before and measured_now
        else _NO_CHANGE
    )
    channels = _labels(interactions["channel"])
    by_channel = (
        _mix(
            channels[now],
            channels[before] if measured_before else None,
            name="channel",
            exposure=e1,
            level=level,
        )
        if k1
        else _empty_mix("channel")
    )
    by_kind = None
    if kinds is not None:
        by_kind = (
            _mix(
                kinds[now],
                kinds[before] if measured_before else None,
                name="kind",
                exposure=e1,
                level=level,
            )
            if k1
            else _empty_mix("kind")
        )
    top, top_share, top_before, top_change = None, float("nan"), float("nan"), _NO_CHANGE
    if len(by_channel):
        row = by_channel.iloc[0]
        top, top_share = row["channel"], float(row["share"])
        top = None if pd.isna(top) else str(top)
        top_before = float(row["previous_share"])
        top_change = Change(*(float(row[c]) for c in ("change", "low", "high", "p_value")))
    times_sorted = np.sort(times_all[known])
    follow, overall = _purchase_after(
        interactions.loc[known],
        transactions,
        times_all[known],
        (codes[known], pd.Index(uniques)),
        period=period,
        days=purchase_days,
        level=level,
    )
    return InteractionsAnalysis(
        period=period,
        active=active,
        previous_active=previous_active,
        interactions=k1,
        previous_interactions=k0,
        customers_interacting=len(per_now),
        frequency=frequency,
        previous_frequency=previous_frequency,
        frequency_change=change,
        dispersion=phi,
        per_customer=_distribution(per_now, active),
        by_channel=by_channel,
        by_kind=by_kind,
        trend=_trend(times_sorted, monthly_active, first),
        purchase_days=purchase_days,
        purchase_after=follow,
        purchase_after_overall=overall,
        top_channel=top,
        top_channel_share=top_share,
        top_channel_previous_share=top_before,
        top_channel_change=top_change,
        records_from=pd.Timestamp(first) if first is not None else None,
        missing=tuple(missing),
    )
