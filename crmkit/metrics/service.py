"""Service efficiency of a period: tickets and complaints per 100 active customers, how fast
tickets are answered and resolved, the share resolved within the service level (SLA), by
category and by month, and the customers who complain again and again.

Definitions (the words are in :mod:`crmkit.topics.health_service`; ``docs/methods.md``):

* **Tickets of a period**: tickets opened on a day of it (``opened_at``). Read *as known at the
  period's end*: a ticket answered or resolved after the period's last day counts as still
  open, so rerunning a report on a later export does not change it.
* **Per 100 active customers**: count ÷ the period's active customers × 100, where active
  customers is :attr:`crmkit.metrics.churn_rates.PeriodRates.active_customers` (active at the
  start or joined during it: the one base of every per-customer figure of the health
  review). The interval is the exact Poisson interval of the count (Garwood 1936) and the
  change is tested with the score test of two Poisson rates (each active customer one unit
  of exposure; :func:`crmkit.metrics.churn_rates.rate_change`). Counts per customer are
  overdispersed (some customers open many tickets), so the p-value is on the optimistic side.
* **Complaints**: the one rule of :mod:`crmkit.metrics.complaints`; the complaint rate is
  complaints (not complaining customers) per 100 active customers.
* **First-response and resolution time**: hours from ``opened_at`` to ``first_response_at``
  (or to ``resolved_at`` when that is earlier or the response is not recorded: a resolution
  answers the customer) and to ``resolved_at``. Tickets not answered or resolved by the
  period's end are *censored* there, and the median and 90th percentile are read off the
  Kaplan–Meier curve (:func:`crmkit.metrics.survival.kaplan_meier`): a plain median over the
  resolved tickets leaves out the slowest ones — those still open — and is biased low. The
  change is the difference of the medians; its p-value is the log-rank test of this period's
  tickets against the previous period's (:func:`crmkit.metrics.survival.logrank_test`) and
  its interval the test-based one (Miettinen 1976: se = |difference| ÷ z of the test), so the
  interval excludes zero exactly when the test is significant. A time before ``opened_at``
  is a data error: the ticket is left out of that time (still counted as a ticket) and
  counted in ``bad_times``.
* **SLA share** (resolution service level): of the period's tickets, the share resolved
  within ``sla_hours`` of opening. A ticket still open at the period's end counts as missed
  once it has been open longer than ``sla_hours``; one open for less is not decided yet and
  is left out (``sla_pending``). Wilson interval; the change is the pooled two-proportion
  test.
* **Repeat complainers**: customers with two complaints or more in the period.
* **Trend**: per calendar month of the churn trend (``ChurnRates.trend``), tickets, tickets
  per 100 of that month's active customers, complaints, and the Kaplan–Meier median
  resolution hours of the month's tickets censored at the month's end (or the period's end
  for a cut month): each month's figure is what a report of that month says.

A period before the first row of the source it is read from (the tickets, or the
interactions for complaints) has no figure (NaN), not zero: a table that starts this period
says nothing of the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, day_after, require_period
from crmkit.metrics.churn_rates import (
    DAYS_PER_MONTH,
    CustomerMonthRate,
    customer_month_rate,
    proportion_change,
    rate_change,
)
from crmkit.metrics.complaints import complaint_rows, complaint_source, complaint_tickets
from crmkit.metrics.stats import Change, Proportion, holm, wilson_interval, z_value
from crmkit.metrics.survival import SurvivalCurve, kaplan_meier, logrank_test

SLA_HOURS = 120.0
"""Default resolution service level: hours within which a ticket should be resolved."""

_NAT = np.iinfo(np.int64).min
_MINUTE_NS = 60 * 10**9
_NAN = float("nan")
_NO_CHANGE = Change(_NAN, _NAN, _NAN, _NAN)

MISSING_PARTS = ("tickets", "first_response_at", "resolved_at", "category", "is_complaint")
"""What :attr:`ServiceAnalysis.missing` may name, in this order."""

CATEGORY_COLUMNS = [
    "category",
    "tickets",
    "previous_tickets",
    "complaints",
    "median_first_response_hours",
    "median_resolution_hours",
    "previous_median_resolution_hours",
    "resolution_p_holm",
    "sla_share",
]
COMPLAINT_CATEGORY_COLUMNS = [
    "category",
    "complaints",
    "share",
    "previous_complaints",
    "previous_share",
]
TREND_COLUMNS = [
    "month",
    "month_end",
    "complete",
    "active",
    "tickets",
    "per_100",
    "complaints",
    "median_resolution_hours",
]
REPEATER_COLUMNS = ["customer_id", "complaints", "last_complaint"]
_NO_TICKETS = pd.DataFrame(
    {
        "customer_id": pd.Series([], dtype="string"),
        "opened_at": pd.Series([], dtype="datetime64[ns]"),
    }
)


@dataclass(frozen=True)
class Per100:
    """A count per 100 active customers with its exact Poisson 95% interval; ``value`` is
    NaN without active customers or without the source to count from."""

    count: int
    customers: int
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class TimeSummary:
    """Hours to first response or to resolution, this period against the previous one.

    ``median`` and ``p90`` are read off the Kaplan–Meier curve (NaN until it falls to one
    half, one tenth); ``n`` tickets of which ``events`` answered or resolved by the period's
    end; ``change`` is median − previous median with the log-rank p-value and the test-based
    interval. ``curve`` and ``previous_curve`` hold the share still waiting (``days`` holds
    hours).
    """

    median: float
    p90: float
    n: int
    events: int
    previous_median: float
    previous_p90: float
    previous_n: int
    previous_events: int
    change: Change
    curve: SurvivalCurve
    previous_curve: SurvivalCurve


@dataclass(frozen=True)
class ServiceAnalysis:
    """What :func:`service_analysis` returns (see the module's text for each definition).

    ``by_category`` (``CATEGORY_COLUMNS``, one row per ticket category, most tickets first)
    and ``complaint_categories`` (``COMPLAINT_CATEGORY_COLUMNS``) are None without a
    category; ``repeaters`` lists the repeat complainers (``REPEATER_COLUMNS``, most
    complaints first); ``trend`` has one row per month (``TREND_COLUMNS``). ``missing`` names
    the parts of :data:`MISSING_PARTS` the data lacks.
    """

    period: Period
    sla_hours: float
    active: int
    previous_active: int
    tickets: int
    previous_tickets: int
    tickets_per_100: Per100
    previous_tickets_per_100: Per100
    tickets_change: Change
    complaint_source: str | None
    complaints: int
    previous_complaints: int
    complaint_rate: Per100
    previous_complaint_rate: Per100
    complaint_change: Change
    first_response: TimeSummary
    resolution: TimeSummary
    sla_share: Proportion
    previous_sla_share: Proportion
    sla_change: Change
    sla_pending: int
    bad_times: int
    by_category: pd.DataFrame | None
    complaint_categories: pd.DataFrame | None
    complainers: int
    repeat_complainers: int
    previous_complainers: int
    previous_repeat_complainers: int
    repeaters: pd.DataFrame
    trend: pd.DataFrame
    missing: tuple[str, ...]

    @property
    def median_first_response_hours(self) -> float:
        return self.first_response.median

    @property
    def median_resolution_hours(self) -> float:
        return self.resolution.median


# ----------------------------------------------------------------------------- formulas


def per_100(count: int, customers: int, *, counted: bool = True, level: float = 0.95) -> Per100:
    """``count ÷ customers × 100`` with the exact Poisson interval of the count (Garwood
    1936); NaN without customers or when nothing could be ``counted``.

    Examples
    --------
    >>> r = per_100(3, 50)
    >>> r.value, round(r.low, 3), round(r.high, 3)
    (6.0, 1.237, 17.535)
    """
    rate = _poisson(count, customers, level=level)
    if not counted or not customers > 0:
        return Per100(int(count), int(customers), _NAN, _NAN, _NAN)
    return Per100(int(count), int(customers), 100 * rate.value, 100 * rate.low, 100 * rate.high)


def _poisson(count: int, customers: int, *, level: float = 0.95) -> CustomerMonthRate:
    """The count per active customer as a Poisson rate (each customer one unit of exposure),
    so the churn module's exact interval and score test apply unchanged."""
    return customer_month_rate(int(count), max(int(customers), 0) * DAYS_PER_MONTH, level=level)


def per_100_change(now: Per100, before: Per100, *, level: float = 0.95) -> Change:
    """``now − before`` per 100 active customers: Wald interval, score test of two Poisson
    rates (:func:`crmkit.metrics.churn_rates.rate_change`); NaN when either is NaN."""
    if not (np.isfinite(now.value) and np.isfinite(before.value)):
        return _NO_CHANGE
    change = rate_change(
        _poisson(now.count, now.customers, level=level),
        _poisson(before.count, before.customers, level=level),
        level=level,
    )
    return Change(100 * change.delta, 100 * change.low, 100 * change.high, change.p_value)


def curve_quantile(curve: SurvivalCurve, share_done: float) -> float:
    """The first time by which the curve says ``share_done`` of the cases had the event
    (survival at or below ``1 − share_done``); NaN when it never gets there."""
    below = curve.table.loc[curve.table["survival"] <= 1 - share_done + 1e-12, "days"]
    return float(below.iloc[0]) if len(below) else _NAN


def median_change(
    hours: np.ndarray,
    observed: np.ndarray,
    previous_hours: np.ndarray,
    previous_observed: np.ndarray,
    *,
    median: float,
    previous_median: float,
    level: float = 0.95,
) -> Change:
    """Median − previous median, the log-rank p-value of the two groups of tickets, and the
    test-based interval (Miettinen 1976): se = |difference| ÷ z, z the normal quantile of the
    p-value; NaN where a median or the test is missing."""
    delta = median - previous_median
    if not (np.isfinite(delta) and len(hours) and len(previous_hours)):
        return _NO_CHANGE
    test = logrank_test(
        np.concatenate([hours, previous_hours]),
        np.concatenate([observed, previous_observed]),
        np.repeat([1, 0], [len(hours), len(previous_hours)]),
    )
    p = test.p_value
    if not np.isfinite(p):
        return Change(float(delta), _NAN, _NAN, _NAN)
    z = float(stats.norm.isf(p / 2)) if p > 0 else np.inf
    half = z_value(level) * abs(delta) / z if z > 0 else np.inf
    return Change(float(delta), float(delta - half), float(delta + half), float(p))


# ----------------------------------------------------------------------------- tickets


def _ns(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy("datetime64[ns]").view(np.int64)


class _Tickets:
    """The tickets as arrays: opened, answered and resolved (int64 ns, ``_NAT`` when not
    recorded), category codes (−1 none) and complaint flags."""

    def __init__(self, tickets: pd.DataFrame, source: str | None) -> None:
        self.opened = _ns(tickets["opened_at"])
        n = len(self.opened)
        self.has_response = bool(tickets.get("first_response_at", pd.Series()).notna().any())
        self.has_resolution = bool(tickets.get("resolved_at", pd.Series()).notna().any())
        self.resolved = _ns(tickets["resolved_at"]) if self.has_resolution else np.full(n, _NAT)
        answered = _ns(tickets["first_response_at"]) if self.has_response else np.full(n, _NAT)
        earlier = (self.resolved != _NAT) & ((answered == _NAT) | (self.resolved < answered))
        self.answered = np.where(earlier, self.resolved, answered)
        self.has_category = "category" in tickets.columns and tickets["category"].notna().any()
        if self.has_category:
            text = tickets["category"].astype("string").str.strip()
            codes, names = pd.factorize(text.mask(text == ""))
            self.category, self.names = codes.astype(np.int64), [str(v) for v in names]
        else:
            self.category, self.names = np.full(n, -1, dtype=np.int64), []
        self.complaint = np.zeros(n, dtype=bool)
        if source == "tickets":
            self.complaint = complaint_tickets(tickets)
        known = self.opened[self.opened != _NAT]
        self.first = int(known.min()) if len(known) else None

    def window(self, start: pd.Timestamp, last_day) -> np.ndarray:
        """Positions of the tickets opened from ``start`` to the end of ``last_day``."""
        return np.flatnonzero(
            (self.opened != _NAT)
            & (self.opened >= start.value)
            & (self.opened < day_after(last_day).value)
        )

    def covers(self, last_day) -> bool:
        """Whether the tickets on record reach back to ``last_day`` (or before)."""
        return self.first is not None and self.first < day_after(last_day).value


@dataclass(frozen=True)
class _Times:
    """Hours from opening to the event (answer, resolution) or to the censoring bound."""

    hours: np.ndarray
    observed: np.ndarray
    curve: SurvivalCurve

    @property
    def median(self) -> float:
        return self.curve.median


def _times(opened: np.ndarray, done: np.ndarray, bound: int, *, usable: bool) -> _Times:
    """Hours from opening to ``done`` (an event when done before ``bound``) or to ``bound``
    (censored), to the minute, leaving out tickets with ``done`` before opening; none when not
    ``usable``."""
    keep = (done == _NAT) | (done >= opened) if usable else np.zeros(len(opened), dtype=bool)
    opened, done = opened[keep], done[keep]
    observed = (done != _NAT) & (done < bound)
    # to the minute, as tickets are stamped: far fewer distinct times for the curve to sort
    hours = np.round((np.where(observed, done, bound) - opened) / _MINUTE_NS) / 60
    return _Times(hours, observed, kaplan_meier(hours, observed))


def _summary(now: _Times, before: _Times, *, level: float) -> TimeSummary:
    return TimeSummary(
        median=now.curve.median,
        p90=curve_quantile(now.curve, 0.9),
        n=now.curve.n,
        events=now.curve.events,
        previous_median=before.curve.median,
        previous_p90=curve_quantile(before.curve, 0.9),
        previous_n=before.curve.n,
        previous_events=before.curve.events,
        change=median_change(
            now.hours,
            now.observed,
            before.hours,
            before.observed,
            median=now.curve.median,
            previous_median=before.curve.median,
            level=level,
        ),
        curve=now.curve,
        previous_curve=before.curve,
    )


def _sla_counts(times: _Times, sla_hours: float) -> tuple[int, int, int]:
    """(met, decided, pending): resolved within ``sla_hours``; decided = met + resolved later
    + still open past ``sla_hours``; pending = still open, not yet past it."""
    met = int((times.observed & (times.hours <= sla_hours)).sum())
    pending = int((~times.observed & (times.hours <= sla_hours)).sum())
    return met, len(times.hours) - pending, pending


def _by_category(
    t: _Tickets, now: np.ndarray, before: np.ndarray, bounds: tuple[int, int], sla_hours: float
) -> pd.DataFrame:
    """One row per category of the period's or the previous period's tickets."""
    rows = []
    for code, name in enumerate(t.names):
        mine = now[t.category[now] == code]
        theirs = before[t.category[before] == code]
        if not (len(mine) or len(theirs)):
            continue
        answer = _times(t.opened[mine], t.answered[mine], bounds[0], usable=t.has_response)
        solve = _times(t.opened[mine], t.resolved[mine], bounds[0], usable=t.has_resolution)
        earlier = _times(t.opened[theirs], t.resolved[theirs], bounds[1], usable=t.has_resolution)
        met, decided, _ = _sla_counts(solve, sla_hours)
        change = median_change(
            solve.hours,
            solve.observed,
            earlier.hours,
            earlier.observed,
            median=solve.median,
            previous_median=earlier.median,
        )
        rows.append(
            [
                name,
                len(mine),
                len(theirs),
                int(t.complaint[mine].sum()),
                answer.median,
                solve.median,
                earlier.median,
                change.p_value,
                met / decided if decided and t.has_resolution else _NAN,
            ]
        )
    frame = pd.DataFrame(rows, columns=CATEGORY_COLUMNS)
    frame["resolution_p_holm"] = holm(frame["resolution_p_holm"].to_numpy(dtype=float))
    frame = frame.astype({"tickets": int, "previous_tickets": int, "complaints": int})
    return frame.sort_values(["tickets", "category"], ascending=[False, True], ignore_index=True)


# ----------------------------------------------------------------------------- complaints


def _complaint_categories(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame | None:
    """Complaints per category: count and share of all the period's complaints (those
    without a category in the denominator too), and the previous period's."""
    if not (now["category"].notna().any() or before["category"].notna().any()):
        return None
    counts = now["category"].value_counts()
    earlier = before["category"].value_counts()
    frame = pd.DataFrame({"complaints": counts, "previous_complaints": earlier}).fillna(0)
    frame = frame.astype(int).rename_axis("category").reset_index()
    frame["category"] = frame["category"].astype(str)
    frame["share"] = frame["complaints"] / len(now) if len(now) else _NAN
    frame["previous_share"] = frame["previous_complaints"] / len(before) if len(before) else _NAN
    frame = frame.sort_values(["complaints", "category"], ascending=[False, True])
    return frame[COMPLAINT_CATEGORY_COLUMNS].reset_index(drop=True)


def _complainers(rows: pd.DataFrame) -> tuple[int, int]:
    counts = rows["customer_id"].value_counts()
    return len(counts), int((counts >= 2).sum())


def _repeaters(rows: pd.DataFrame) -> pd.DataFrame:
    grouped = rows.groupby("customer_id", observed=True)["at"].agg(["size", "max"])
    grouped = grouped.loc[grouped["size"] >= 2].reset_index()
    grouped.columns = REPEATER_COLUMNS
    return grouped.sort_values(
        ["complaints", "last_complaint", "customer_id"], ascending=[False, False, True]
    ).reset_index(drop=True)


# ----------------------------------------------------------------------------- the analysis


def _trend(
    t: _Tickets | None,
    complaints: pd.DataFrame,
    complaints_from: int | None,
    monthly_active: pd.DataFrame | None,
) -> pd.DataFrame:
    """Per month of ``monthly_active``: see the module's text."""
    if monthly_active is None or monthly_active.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    require_columns(monthly_active, ["month", "month_end", "active"], "monthly_active", "service")
    at = complaints["at"].to_numpy("datetime64[ns]").view(np.int64)
    rows = []
    for month in monthly_active.itertuples(index=False):
        start, bound = pd.Timestamp(month.month), day_after(month.month_end).value
        active = int(month.active)
        tickets = per = median = _NAN
        if t is not None and t.covers(month.month_end):
            inside = t.window(start, month.month_end)
            tickets = len(inside)
            per = 100 * tickets / active if active > 0 else _NAN
            median = _times(
                t.opened[inside], t.resolved[inside], bound, usable=t.has_resolution
            ).median
        counted = complaints_from is not None and complaints_from < bound
        lost = int(((at >= start.value) & (at < bound)).sum()) if counted else _NAN
        complete = bool(getattr(month, "complete", True))
        rows.append(
            [start, pd.Timestamp(month.month_end), complete, active, tickets, per, lost, median]
        )
    frame = pd.DataFrame(rows, columns=TREND_COLUMNS)
    return frame.astype({"complete": bool, "active": int, "tickets": float, "complaints": float})


def _check_count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ParameterError(
            f"service_analysis() needs {name} as a count of customers (an int ≥ 0, "
            f"PeriodRates.active_customers); got {type(value).__name__} {value!r}."
        )
    return int(value)


def service_analysis(
    tickets: pd.DataFrame | None,
    *,
    period: Period,
    active: int,
    previous_active: int,
    monthly_active: pd.DataFrame | None,
    sla_hours: float = SLA_HOURS,
    interactions: pd.DataFrame | None = None,
    level: float = 0.95,
) -> ServiceAnalysis:
    """Service efficiency of ``period`` against the previous one (module text).

    Parameters
    ----------
    tickets
        ``ticket_id, customer_id, opened_at``, optionally ``first_response_at``,
        ``resolved_at``, ``category``, ``is_complaint``; None or empty without tickets.
    period
        The reporting period.
    active, previous_active
        Active customers of the period and of the previous one
        (``ChurnRates.current.active_customers`` and ``ChurnRates.previous.active_customers``).
    monthly_active
        ``ChurnRates.trend``: ``month, month_end, complete, active`` per calendar month.
    sla_hours
        Hours within which a ticket should be resolved (parameter ``service_sla_hours``).
    interactions
        ``customer_id, occurred_at, kind``: the source of complaints where the tickets carry
        no ``is_complaint`` (:mod:`crmkit.metrics.complaints`).
    level
        Confidence level of the intervals.

    Returns
    -------
    ServiceAnalysis
        NaN figures and ``missing`` set for what the data lacks; never raises for lack of
        data.

    Raises
    ------
    ParameterError
        ``period`` is not a Period, a count is not a non-negative int, ``sla_hours`` is not
        positive, or a required column is missing.

    Examples
    --------
    >>> from crmkit.core.periods import parse_period
    >>> tickets = pd.DataFrame({"ticket_id": ["t1", "t2"], "customer_id": ["a", "b"],
    ...     "opened_at": pd.to_datetime(["2026-07-01 09:00", "2026-09-30 12:00"]),
    ...     "resolved_at": pd.to_datetime(["2026-07-02 09:00", None])})
    >>> s = service_analysis(tickets, period=parse_period("2026-Q3"), active=40,
    ...     previous_active=38, monthly_active=None)
    >>> s.tickets_per_100.value, s.resolution.median, s.sla_share.value
    (5.0, 24.0, 1.0)
    """
    require_period(period, caller="service_analysis")
    active = _check_count(active, "active")
    previous_active = _check_count(previous_active, "previous_active")
    if not (isinstance(sla_hours, int | float) and np.isfinite(sla_hours) and sla_hours > 0):
        raise ParameterError(
            f"service_sla_hours must be a positive number of hours; got {sla_hours!r}."
        )
    has_tickets = tickets is not None and len(tickets) > 0
    if has_tickets:
        require_columns(tickets, ["customer_id", "opened_at"], "tickets", "service_analysis")
    previous = period.previous()
    bounds = (day_after(period.end).value, day_after(previous.end).value)
    source = complaint_source(tickets, interactions)

    # complaints, from their one source
    rows = complaint_rows(tickets, interactions)
    dates = {"tickets": (tickets, "opened_at"), "interactions": (interactions, "occurred_at")}
    first = pd.to_datetime(dates[source][0][dates[source][1]]).min() if source else pd.NaT
    complaints_from = None if pd.isna(first) else pd.Timestamp(first).value
    counted = [complaints_from is not None and complaints_from < b for b in bounds]
    now_rows, before_rows = period.rows(rows, "at"), previous.rows(rows, "at")
    complaint_rate = per_100(len(now_rows), active, counted=counted[0], level=level)
    previous_rate = per_100(len(before_rows), previous_active, counted=counted[1], level=level)

    t = _Tickets(tickets if has_tickets else _NO_TICKETS, source)
    covered = [t.covers(p.end) for p in (period, previous)]
    now = t.window(pd.Timestamp(period.start), period.end)
    before = t.window(pd.Timestamp(previous.start), previous.end)[: None if covered[1] else 0]
    per = per_100(len(now), active, counted=covered[0], level=level)
    previous_per = per_100(len(before), previous_active, counted=covered[1], level=level)
    answer_now = _times(t.opened[now], t.answered[now], bounds[0], usable=t.has_response)
    answer_before = _times(t.opened[before], t.answered[before], bounds[1], usable=t.has_response)
    solve_now = _times(t.opened[now], t.resolved[now], bounds[0], usable=t.has_resolution)
    solve_before = _times(t.opened[before], t.resolved[before], bounds[1], usable=t.has_resolution)
    # a ticket answered or resolved before it was opened: one data error per ticket
    wrong = np.zeros(len(now), dtype=bool)
    for usable, done in ((t.has_response, t.answered), (t.has_resolution, t.resolved)):
        if usable:
            wrong |= (done[now] != _NAT) & (done[now] < t.opened[now])

    met, decided, pending = _sla_counts(solve_now, sla_hours)
    met_before, decided_before, _ = _sla_counts(solve_before, sla_hours)
    sla = wilson_interval(met, decided, level=level)
    sla_before = wilson_interval(met_before, decided_before, level=level)

    present = {
        "tickets": has_tickets,
        "first_response_at": t.has_response,
        "resolved_at": t.has_resolution,
        "category": t.has_category,
        "is_complaint": source == "tickets",
    }
    missing = ("tickets",) if not has_tickets else tuple(p for p in MISSING_PARTS if not present[p])

    complainers, repeat = _complainers(now_rows)
    previous_complainers, previous_repeat = _complainers(before_rows)
    return ServiceAnalysis(
        period=period,
        sla_hours=float(sla_hours),
        active=active,
        previous_active=previous_active,
        tickets=len(now),
        previous_tickets=len(before),
        tickets_per_100=per,
        previous_tickets_per_100=previous_per,
        tickets_change=per_100_change(per, previous_per, level=level),
        complaint_source=source,
        complaints=len(now_rows),
        previous_complaints=len(before_rows),
        complaint_rate=complaint_rate,
        previous_complaint_rate=previous_rate,
        complaint_change=per_100_change(complaint_rate, previous_rate, level=level),
        first_response=_summary(answer_now, answer_before, level=level),
        resolution=_summary(solve_now, solve_before, level=level),
        sla_share=sla,
        previous_sla_share=sla_before,
        sla_change=proportion_change(sla, sla_before)
        if sla.trials and sla_before.trials
        else _NO_CHANGE,
        sla_pending=pending,
        bad_times=int(wrong.sum()),
        by_category=_by_category(t, now, before, bounds, float(sla_hours))
        if t.has_category
        else None,
        complaint_categories=_complaint_categories(now_rows, before_rows)
        if source == "tickets"
        else None,
        complainers=complainers,
        repeat_complainers=repeat,
        previous_complainers=previous_complainers,
        previous_repeat_complainers=previous_repeat,
        repeaters=_repeaters(now_rows),
        trend=_trend(t if has_tickets else None, rows, complaints_from, monthly_active),
        missing=missing,
    )
