"""Churn rates and retention cohorts: how many customers a unit lost, and how long each
signup month's customers stay.

Every figure here derives from the one definition of churn,
:func:`crmkit.metrics.churn_status.churn_dates`: a customer is *active at the start* of a
period when they signed up before it and had not churned by the day before it (their status
read at that day, from the rows dated up to it), and *churned in the period* when their churn
date as known at the period's last day falls within it. Definitions, formulas and sources are
in each function's docstring and in ``docs/methods.md``; the words that describe them are in
the churn topic (``topics/churn_rates.py``), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import (
    Period,
    day_after,
    month_period,
    period_from_dates,
    require_period,
)
from crmkit.metrics.churn_status import ChurnDefinition, churn_dates
from crmkit.metrics.customer_positions import NAT, nanoseconds, positions
from crmkit.metrics.stats import Change, Proportion, two_proportion_test, wilson_interval, z_value

DAYS_PER_MONTH = 365.25 / 12  # 30.4375: the average calendar month
DAYS_PER_YEAR = 365
TREND_MONTHS = 12
COHORT_MONTHS = 24
_DAY_NS = 86_400 * 10**9

TREND_COLUMNS = [
    "month",
    "month_end",
    "complete",
    "active_at_start",
    "active",
    "churned",
    "churn_rate",
    "low",
    "high",
]
COHORT_COLUMNS = [
    "signup_month",
    "months_since_signup",
    "month_end",
    "customers",
    "retained",
    "retention",
    "complete",
]


@dataclass(frozen=True)
class Rate:
    """A rate with its 95% interval (NaN where there is none)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class CustomerMonthRate:
    """Churns per customer-month at risk, with the exact Poisson (Garwood) interval."""

    churned: int
    customer_months: float
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class PeriodRates:
    """The churn figures of one period.

    ``churn`` is the logo churn rate (churned ÷ active at the start, Wilson interval) and
    ``retention`` its complement; ``customer_month`` counts every churn of the customers at risk
    (joiners included) per customer-month at risk; ``monthly`` and ``annual`` are the logo rate's
    equivalents over 30.4375 and 365 days; ``gross_revenue_retention`` and
    ``net_revenue_retention`` are NaN when the customers active at the start had no revenue in
    the period before (``revenue_base`` 0).
    """

    period: Period
    churn: Proportion
    retention: Proportion
    customer_month: CustomerMonthRate
    monthly: Rate
    annual: Rate
    new_customers: int
    revenue_base: float
    revenue_kept: float
    revenue_now: float
    gross_revenue_retention: float
    net_revenue_retention: float

    @property
    def active_at_start(self) -> int:
        return self.churn.trials

    @property
    def churned(self) -> int:
        return self.churn.successes

    @property
    def active_customers(self) -> int:
        """Customers active in the period: active at its start or joined during it (the base of
        every per-customer figure of the health review)."""
        return self.churn.trials + self.new_customers


@dataclass(frozen=True)
class ChurnRates:
    """Churn rates of a period against the previous one, the monthly trend and the signup
    cohorts: what :func:`churn_rates_analysis` returns.

    ``current`` and ``previous`` hold each period's figures (:class:`PeriodRates`);
    ``churn_change``, ``retention_change`` and ``customer_month_change`` are this period minus
    the previous one. ``trend`` has one row per calendar month (``TREND_COLUMNS``), ``cohorts``
    one row per signup month and months since signup (``COHORT_COLUMNS``); ``cohort_table`` is
    its pivot for the heatmap.
    """

    definition: ChurnDefinition
    period: Period
    current: PeriodRates
    previous: PeriodRates
    churn_change: Change
    retention_change: Change
    customer_month_change: Change
    trend: pd.DataFrame
    cohorts: pd.DataFrame

    @property
    def churn(self) -> Proportion:
        return self.current.churn

    @property
    def active_at_start(self) -> int:
        return self.current.active_at_start

    @property
    def churned(self) -> int:
        return self.current.churned

    @property
    def new_customers(self) -> int:
        return self.current.new_customers

    @property
    def customer_months(self) -> float:
        return self.current.customer_month.customer_months

    @property
    def cohort_table(self) -> pd.DataFrame:
        return cohort_pivot(self.cohorts)


# ----------------------------------------------------------------------------- formulas


def equivalent_churn(rate: float, *, days: float, horizon_days: float) -> float:
    """The churn rate over ``horizon_days`` that compounds to ``rate`` over ``days``, at a
    constant hazard: ``1 − (1 − rate)^(horizon_days / days)``.

    A quarter's 10% is a monthly 1 − 0.9^(30.4375/92) ≈ 3.4% and an annual 1 − 0.9^(365/92)
    ≈ 34.2% (the conversion between measurement windows of Gold 2020, *Fighting Churn with
    Data*, ch. 2).

    Examples
    --------
    >>> round(equivalent_churn(0.1, days=92, horizon_days=365), 4)
    0.3416
    """
    if days <= 0:
        raise ValueError(f"days must be positive; got {days}.")
    if not np.isfinite(rate):
        return float("nan")
    return float(1 - (1 - rate) ** (horizon_days / days))


def customer_month_rate(
    churned: int, days_at_risk: float, *, level: float = 0.95
) -> CustomerMonthRate:
    """Churns per customer-month at risk, ``churned ÷ (days_at_risk / 30.4375)``, with the exact
    Poisson interval of the count (Garwood 1936): ``χ²(α/2; 2k)/2`` to ``χ²(1−α/2; 2k+2)/2``,
    divided by the customer-months. NaN without time at risk.

    Examples
    --------
    >>> r = customer_month_rate(2, 304.375)
    >>> r.value, round(r.low, 4), round(r.high, 4)
    (0.2, 0.0242, 0.7225)
    """
    months = float(days_at_risk) / DAYS_PER_MONTH
    if months <= 0:
        nan = float("nan")
        return CustomerMonthRate(int(churned), max(months, 0.0), nan, nan, nan)
    alpha = 1 - level
    low = stats.chi2.ppf(alpha / 2, 2 * churned) / 2 if churned else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * churned + 2) / 2
    return CustomerMonthRate(
        int(churned), months, churned / months, float(low / months), float(high / months)
    )


def rate_change(
    now: CustomerMonthRate, before: CustomerMonthRate, *, level: float = 0.95
) -> Change:
    """The difference of two customer-month rates: Wald interval (``√(k₁/E₁² + k₂/E₂²)``) and
    the two-sided p-value of the score test of equal Poisson rates (pooled rate
    ``(k₁+k₂)/(E₁+E₂)``; the test for person-time data in Rothman, Greenland & Lash, *Modern
    Epidemiology*, 3rd ed., ch. 14)."""
    e1, e2 = now.customer_months, before.customer_months
    if e1 <= 0 or e2 <= 0:
        return Change(float("nan"), float("nan"), float("nan"), float("nan"))
    k1, k2 = now.churned, before.churned
    delta = k1 / e1 - k2 / e2
    half = z_value(level) * np.sqrt(k1 / e1**2 + k2 / e2**2)
    pooled = (k1 + k2) / (e1 + e2)
    se0 = np.sqrt(pooled * (1 / e1 + 1 / e2))
    p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(delta) / se0))
    return Change(float(delta), float(delta - half), float(delta + half), p_value)


def proportion_change(now: Proportion, before: Proportion) -> Change:
    """``now − before`` of two shares: Wald interval, pooled two-proportion z test
    (:func:`crmkit.metrics.stats.two_proportion_test`)."""
    test = two_proportion_test(now.successes, now.trials, before.successes, before.trials)
    return Change(test.delta, test.low, test.high, test.p_value)


# ----------------------------------------------------------------------------- status


class _Timeline:
    """The unit's tables with ids as integer codes and each customer's last order as of each
    day asked for, so :func:`churn_dates` can be read at many days cheaply.

    ``churn_dates`` reads the orders only through each customer's latest order dated on or
    before the day; the timeline hands it exactly that (one row per customer), so every status
    is the one :func:`churn_dates` gives on the full tables.
    """

    def __init__(
        self,
        customers: pd.DataFrame,
        transactions: pd.DataFrame,
        churn_events: pd.DataFrame | None,
        definition: ChurnDefinition,
        days: list[date],
    ) -> None:
        codes, uniques = pd.factorize(customers["customer_id"])
        self.n = len(uniques)
        self.definition = definition
        known = codes >= 0
        self.customers = pd.DataFrame(
            {"customer_id": codes[known], "signup_date": customers["signup_date"].to_numpy()[known]}
        )
        ids = pd.Series(uniques)
        tables = [transactions] + ([churn_events] if churn_events is not None else [])
        self.order_codes, *event_codes = positions(ids, *(t["customer_id"] for t in tables))
        self.events = None
        if churn_events is not None:
            self.events = pd.DataFrame(
                {"customer_id": event_codes[0], "churned_at": churn_events["churned_at"].to_numpy()}
            )
        self.days = sorted(set(days))
        bounds = np.array([_bound(d) for d in self.days], dtype=np.int64)
        when = transactions["order_date"].to_numpy("datetime64[ns]").view(np.int64)
        keep = (self.order_codes >= 0) & (when < bounds[-1]) & (when != NAT)
        first_bound = np.searchsorted(bounds, when[keep], side="right")  # read from this day on
        last = np.full((self.n, len(bounds)), NAT, dtype=np.int64)
        np.maximum.at(last, (self.order_codes[keep], first_bound), when[keep])
        self.last = np.maximum.accumulate(last, axis=1, out=last)
        self.order_days = transactions["order_date"]
        self.amounts = transactions["amount"].to_numpy(dtype=float)
        self._cache: dict[date, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def status(self, day: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(present, churned_at, signup)`` per customer code as of the end of ``day``:
        present = signed up by then; churned_at and signup as int64 nanoseconds (``NAT``)."""
        if day not in self._cache:
            column = self.last[:, self.days.index(day)]
            has = np.flatnonzero(column != NAT)
            orders = pd.DataFrame(
                {"customer_id": has, "order_date": column[has].view("datetime64[ns]")}
            )
            found = churn_dates(self.customers, orders, self.events, self.definition, as_of=day)
            present = np.zeros(self.n, dtype=bool)
            churned = np.full(self.n, NAT, dtype=np.int64)
            signup = np.full(self.n, NAT, dtype=np.int64)
            code = found["customer_id"].to_numpy(dtype=np.int64)
            present[code] = True
            churned[code] = nanoseconds(found["churned_at"])
            signup[code] = nanoseconds(found["signup_date"])
            self._cache[day] = (present, churned, signup)
        return self._cache[day]

    def revenue(self, period: Period) -> np.ndarray:
        """Each customer's revenue (sum of ``amount``) from orders dated in ``period``."""
        inside = period.contains(self.order_days).to_numpy() & (self.order_codes >= 0)
        weights = np.nan_to_num(self.amounts[inside])
        return np.bincount(self.order_codes[inside], weights=weights, minlength=self.n)


def _bound(day: date) -> int:
    return day_after(day).value


def _start(day: date) -> int:
    return pd.Timestamp(day).value


def _floor_day(ns: np.ndarray) -> np.ndarray:
    return (ns // _DAY_NS) * _DAY_NS


# ----------------------------------------------------------------------------- the figures


def _period_rates(timeline: _Timeline, period: Period, *, level: float) -> PeriodRates:
    """Logo churn, customer-month churn, their equivalents and revenue retention of one
    period (see :func:`churn_rates_analysis` for the definitions)."""
    present_before, churned_before, _ = timeline.status(period.previous_end)
    present, churned_at, signup = timeline.status(period.end)
    start, end_day = _start(period.start), _start(period.end)
    at_start = present_before & (churned_before == NAT)
    in_period = (churned_at >= start) & (churned_at < _bound(period.end))
    churn = wilson_interval(int((at_start & in_period).sum()), int(at_start.sum()), level=level)
    retention = wilson_interval(churn.trials - churn.successes, churn.trials, level=level)
    new = present & ~present_before
    at_risk = at_start | new
    entry = np.maximum(start, _floor_day(signup[at_risk]))
    leave = np.where(in_period[at_risk], _floor_day(churned_at[at_risk]), end_day)
    days = np.clip((leave - entry) // _DAY_NS + 1, 0, None)
    per_month = customer_month_rate(
        int((at_risk & in_period).sum()), float(days.sum()), level=level
    )
    before = period_from_dates(period.previous_start, period.previous_end)
    revenue_then = timeline.revenue(before)[at_start]
    revenue_now = timeline.revenue(period)[at_start]
    base = float(revenue_then.sum())
    kept = float(np.minimum(revenue_now, revenue_then).sum())
    now = float(revenue_now.sum())
    return PeriodRates(
        period=period,
        churn=churn,
        retention=retention,
        customer_month=per_month,
        monthly=_equivalent(churn, days=period.days, horizon_days=DAYS_PER_MONTH),
        annual=_equivalent(churn, days=period.days, horizon_days=DAYS_PER_YEAR),
        new_customers=int(new.sum()),
        revenue_base=base,
        revenue_kept=kept,
        revenue_now=now,
        gross_revenue_retention=kept / base if base > 0 else float("nan"),
        net_revenue_retention=now / base if base > 0 else float("nan"),
    )


def _equivalent(churn: Proportion, *, days: int, horizon_days: float) -> Rate:
    """The logo rate and its interval ends over another horizon (the map is increasing, so
    the interval's ends map to the equivalent's interval)."""
    values = (churn.value, churn.low, churn.high)
    return Rate(*(equivalent_churn(v, days=days, horizon_days=horizon_days) for v in values))


def _trend_months(period: Period) -> list[Period]:
    """The ``TREND_MONTHS`` calendar months up to the one holding the period's last day."""
    last = pd.Timestamp(period.end).to_period("M")
    return [
        month_period(m.year, m.month)
        for m in pd.period_range(last - (TREND_MONTHS - 1), last, freq="M")
    ]


def _trend(timeline: _Timeline, period: Period, *, level: float) -> pd.DataFrame:
    """Logo churn per calendar month (see :func:`churn_rates_analysis`)."""
    rows = []
    for month in _trend_months(period):
        last_day = min(month.end, period.end)
        present_before, churned_before, _ = timeline.status(month.previous_end)
        present, churned_at, _ = timeline.status(last_day)
        at_start = present_before & (churned_before == NAT)
        joined = present & ~present_before
        lost = at_start & (churned_at >= _start(month.start)) & (churned_at < _bound(last_day))
        share = wilson_interval(int(lost.sum()), int(at_start.sum()), level=level)
        rows.append(
            [
                pd.Timestamp(month.start),
                pd.Timestamp(last_day),
                last_day == month.end,
                share.trials,
                share.trials + int(joined.sum()),
                *(share.successes, share.value, share.low, share.high),
            ]
        )
    kinds = ["datetime64[ns]"] * 2 + [bool, int, int, int] + [float] * 3
    types = dict(zip(TREND_COLUMNS, kinds, strict=True))
    return pd.DataFrame(rows, columns=TREND_COLUMNS).astype(types)


def _cohorts(timeline: _Timeline, period: Period) -> pd.DataFrame:
    """The retention of each of the last ``COHORT_MONTHS`` signup months (see
    :func:`churn_rates_analysis`)."""
    present, churned_at, signup = timeline.status(period.end)
    last = pd.Timestamp(period.end).to_period("M")
    first = last - (COHORT_MONTHS - 1)
    months = signup[present].view("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    cohort = months - _month_number(first)
    lost = churned_at[present]
    lost_month = np.where(
        lost == NAT,
        np.iinfo(np.int64).max,
        lost.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64),
    )
    inside = (cohort >= 0) & (cohort < COHORT_MONTHS)
    # months from the signup month to the churn month (the customer counts as retained at
    # the end of every month before it); never churned: past the table's last column
    stay = np.clip(lost_month[inside] - months[inside], 0, COHORT_MONTHS)
    counts = np.zeros((COHORT_MONTHS, COHORT_MONTHS + 1), dtype=np.int64)
    np.add.at(counts, (cohort[inside], stay), 1)
    at_least = counts[:, ::-1].cumsum(axis=1)[:, ::-1]  # at_least[c, j]: stayed >= j months
    sizes, retained = at_least[:, 0], at_least[:, 1:]
    used = np.flatnonzero(sizes)
    if not len(used):
        return _empty_cohorts()
    grid = np.meshgrid(np.arange(used[0], COHORT_MONTHS), np.arange(COHORT_MONTHS), indexing="ij")
    row, k = (g.ravel() for g in grid)
    months_shown = pd.period_range(first, periods=2 * COHORT_MONTHS, freq="M")
    month_end = months_shown[row + k].to_timestamp(how="end").normalize()
    complete = np.asarray(month_end <= pd.Timestamp(period.end))
    size, kept = sizes[row], retained[row, k]
    frame = pd.DataFrame(
        {
            "signup_month": months_shown[row].to_timestamp(),
            "months_since_signup": k,
            "month_end": month_end,
            "customers": size,
            "retained": pd.array(kept, dtype="Int64"),
            "retention": np.where(complete & (size > 0), kept / np.maximum(size, 1), np.nan),
            "complete": complete,
        }
    )
    frame.loc[~complete, "retained"] = pd.NA
    return frame


def _month_number(month: pd.Period) -> int:
    return (month.year - 1970) * 12 + month.month - 1


def _empty_cohorts() -> pd.DataFrame:
    types = ["datetime64[ns]", int, "datetime64[ns]", int, "Int64", float, bool]
    return pd.DataFrame(columns=COHORT_COLUMNS).astype(
        dict(zip(COHORT_COLUMNS, types, strict=True))
    )


def cohort_pivot(cohorts: pd.DataFrame) -> pd.DataFrame:
    """The cohort frame as the heatmap reads it: one row per signup month, one column per
    month since signup, the share retained (NaN where the month has not ended yet)."""
    if cohorts.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="signup_month"), dtype=float)
    return cohorts.pivot(index="signup_month", columns="months_since_signup", values="retention")


# ----------------------------------------------------------------------------- the analysis


def churn_rates_analysis(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    *,
    period: Period,
    definition: ChurnDefinition,
    level: float = 0.95,
) -> ChurnRates:
    """Churn and retention rates of a period against the previous one, their monthly trend
    and the retention of each signup month.

    All from :func:`crmkit.metrics.churn_status.churn_dates` under ``definition``:

    * **Logo churn** (customer churn rate, Gold 2020 ch. 2): of the customers *active at the
      start* — signed up before the period and not churned as of the day before it — the share
      whose churn date as known at the period's last day falls within the period. Customers
      who signed up during the period are left out. Wilson interval (Wilson 1927). The
      previous period is computed the same way; the change is this minus previous with a Wald
      interval and the pooled two-proportion z test. **Retention rate** = 1 − logo churn.
    * **Customer-month churn rate**: churns in the period of every customer at risk in it (active
      at the start, or signed up during it) ÷ customer-months at risk, each customer at risk
      from the later of the period's first day and their signup day through the earlier of
      its last day and their churn day, both days counted; days ÷ 30.4375. Exact Poisson
      interval. For units where many customers join mid-period. A customer who churned before
      the period and is won back during it is not at risk in it (nor in the logo rate).
    * **Monthly and annual equivalents** of logo churn ``c`` over the period's ``days``:
      ``1 − (1 − c)^(30.4375 / days)`` and ``1 − (1 − c)^(365 / days)`` (constant hazard).
    * **Net and gross revenue retention** of the customers active at the start: base = their
      revenue (sum of ``amount``) in the period before; NRR = their revenue in this period ÷
      base; GRR = Σ per customer min(this period, period before) ÷ base, which counts no
      growth. The customer set is fixed at the start, so a customer who bought nothing in the
      period before and buys now adds to NRR (not to GRR). NaN when the base is 0.
    * **Trend**: logo churn of each of the 12 calendar months up to the period's last month,
      each month with its own base of customers active at its start (the last month cut at the
      period's last day when it ends earlier, ``complete`` False).
    * **Signup cohorts**: for each of the last 24 signup months, the share of its customers
      still not churned at the end of each month since signup (0 = the signup month itself).
      Each customer's churn date is read once, as known at the period's last day: a customer
      won back counts as retained throughout, including the months they were away (the table
      shows who was *eventually kept*, as cohort charts usually do, not a month-by-month
      snapshot). Cells whose month ends after the period are incomplete: ``retention`` NaN
      and ``complete`` False.

    Parameters
    ----------
    customers
        ``customer_id, signup_date``.
    transactions
        ``customer_id, order_date, amount``.
    churn_events
        ``customer_id, churned_at``; needed when ``definition.kind`` is ``"events"``.
    period
        The reporting period; the previous one is ``period.previous_start``..
        ``period.previous_end``.
    definition
        From :func:`crmkit.metrics.churn_status.choose_definition`.
    level
        Confidence level of the intervals.

    Returns
    -------
    ChurnRates

    Raises
    ------
    ParameterError
        ``period`` is not a Period, ``definition`` not a ChurnDefinition, a required column is
        missing, or the events definition is given without ``churn_events``.

    Examples
    --------
    >>> from crmkit.core.periods import parse_period
    >>> people = pd.DataFrame({"customer_id": ["a", "b"],
    ...     "signup_date": pd.to_datetime(["2026-01-05", "2026-02-01"])})
    >>> orders = pd.DataFrame({"customer_id": ["a", "b"], "amount": [10.0, 20.0],
    ...     "order_date": pd.to_datetime(["2026-03-01", "2026-03-02"])})
    >>> lost = pd.DataFrame({"customer_id": ["b"], "churned_at": pd.to_datetime(["2026-05-01"])})
    >>> rates = churn_rates_analysis(people, orders, lost, period=parse_period("2026-Q2"),
    ...     definition=ChurnDefinition("events", None, "events"))
    >>> rates.churn.successes, rates.churn.trials, rates.current.net_revenue_retention
    (1, 2, 0.0)
    """
    require_period(period, caller="churn_rates_analysis")
    if not isinstance(definition, ChurnDefinition):
        raise ParameterError(
            "churn_rates_analysis() needs definition as a ChurnDefinition (from "
            f"churn_status.choose_definition); got {type(definition).__name__} {definition!r}."
        )
    require_columns(customers, ["customer_id", "signup_date"], "customers", "churn_rates_analysis")
    require_columns(
        transactions,
        ["customer_id", "order_date", "amount"],
        "transactions",
        "churn_rates_analysis",
    )
    if definition.kind == "events":
        if churn_events is None:
            raise ParameterError(
                "churn_rates_analysis() got the events definition of churn without "
                "churn_events; pass the table, or choose_definition() to fall back to inactivity."
            )
        require_columns(
            churn_events, ["customer_id", "churned_at"], "churn_events", "churn_rates_analysis"
        )
    previous = period_from_dates(period.previous_start, period.previous_end)
    months = _trend_months(period)
    days = [period.previous_end, period.end, previous.previous_end, previous.end]
    days += [m.previous_end for m in months] + [min(m.end, period.end) for m in months]
    timeline = _Timeline(customers, transactions, churn_events, definition, days)
    now = _period_rates(timeline, period, level=level)
    before = _period_rates(timeline, previous, level=level)
    change = proportion_change(now.churn, before.churn)
    return ChurnRates(
        definition=definition,
        period=period,
        current=now,
        previous=before,
        churn_change=change,
        retention_change=Change(-change.delta, -change.high, -change.low, change.p_value),
        customer_month_change=rate_change(now.customer_month, before.customer_month, level=level),
        trend=_trend(timeline, period, level=level),
        cohorts=_cohorts(timeline, period),
    )
