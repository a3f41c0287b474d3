"""Who has churned, and when: the one definition of churn behind every churn figure.

Two definitions, chosen per unit:

* **events** — the business records cancellations (``churn_events``). A customer has churned
  at their latest ``churned_at`` unless they ordered after it (a customer won back counts as
  active again).
* **inactivity** — no ``churn_events`` rows for the unit (a non-contractual business). A
  customer has churned ``inactivity_days`` after their last activity (their last order, or
  their sign-up if they never ordered), once that day has passed. ``inactivity_days`` is the
  unit's parameter ``churn_inactivity_days`` or, when that is 0, the 90th percentile of the
  unit's own gaps between consecutive orders before the period: nine gaps in ten between
  orders are shorter, so a customer silent for longer has most likely left.

Everything is *point in time*: :func:`churn_dates` at a day uses only rows dated on or before
that day, so features and labels computed at a past period end never see later data.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError
from crmkit.core.periods import Period, day_after
from crmkit.metrics.customer_orders import Orders, order_day_gaps
from crmkit.metrics.customer_positions import NAT, latest_per_customer, nanoseconds, positions

GAP_QUANTILE = 0.9
MIN_INACTIVITY_DAYS = 30  # a month: shorter gaps say more about the calendar than about leaving
FALLBACK_INACTIVITY_DAYS = 180  # too few repeat orders to measure gaps (fewer than 20)
MIN_GAPS = 20
_DAY_NS = 86_400_000_000_000


@dataclass(frozen=True)
class ChurnDefinition:
    """How churn is decided for a unit.

    ``kind`` is ``"events"`` or ``"inactivity"``; ``inactivity_days`` the silence that counts as
    churn (None for events); ``basis`` why: ``"events"``, ``"parameter"`` (set by the unit),
    ``"gaps"`` (the 90th percentile of gaps between orders, ``gap_quantile``) or
    ``"fallback"`` (too few repeat orders to measure gaps: 180 days). ``events_until`` is the
    latest ``churned_at`` on record (events only): records that stop before a period cannot
    count its churn (:meth:`records_stop_before`).
    """

    kind: str
    inactivity_days: int | None
    basis: str
    gap_quantile: float = GAP_QUANTILE
    events_until: date | None = None

    def records_stop_before(self, period: Period) -> bool:
        """Whether the cancellations on record all predate ``period``: its churn then rests
        on no record at all, so a low churn rate may only mean the records were exported
        before the period's cancellations were entered."""
        return self.events_until is not None and self.events_until < period.start


def default_inactivity_days(
    transactions: Orders, *, before: pd.Timestamp | str, quantile: float = GAP_QUANTILE
) -> tuple[int, str]:
    """The unit's own inactivity threshold: the ``quantile`` of the days between a customer's
    consecutive orders (distinct days), over orders dated before ``before``; rounded up to whole
    days, at least 30.

    Returns
    -------
    (days, basis)
        ``basis`` is ``"gaps"``, or ``"fallback"`` (180 days) with fewer than 20 gaps.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a"] * 3 + ["b"] * 2,
    ...     "order_date": pd.to_datetime(["2026-01-01", "2026-02-10", "2026-04-01",
    ...                                   "2026-01-05", "2026-03-06"])})
    >>> default_inactivity_days(orders, before="2026-06-01")
    (180, 'fallback')
    """
    gaps = order_day_gaps(transactions, before=before)
    if len(gaps) < MIN_GAPS:
        return FALLBACK_INACTIVITY_DAYS, "fallback"
    value = math.ceil(float(np.quantile(gaps, quantile)))
    return max(value, MIN_INACTIVITY_DAYS), "gaps"


def choose_definition(
    transactions: Orders,
    churn_events: pd.DataFrame | None,
    *,
    period: Period,
    inactivity_days: int = 0,
) -> ChurnDefinition:
    """Events where the unit has ``churn_events`` rows, else inactivity: ``inactivity_days``
    when positive, else :func:`default_inactivity_days` over orders before the period.

    Raises
    ------
    ParameterError
        ``inactivity_days`` is negative or not a number.
    """
    if isinstance(inactivity_days, bool) or not isinstance(inactivity_days, numbers.Real):
        raise ParameterError(
            "churn_inactivity_days must be a whole number of days (0: the unit's own gaps "
            f"between orders); got {inactivity_days!r}."
        )
    if inactivity_days < 0:
        raise ParameterError(
            "churn_inactivity_days must be 0 (the unit's own gaps between orders) or a "
            f"positive number of days; got {inactivity_days}."
        )
    if churn_events is not None and len(churn_events):
        latest = pd.Timestamp(churn_events["churned_at"].max())
        until = None if pd.isna(latest) else latest.date()
        return ChurnDefinition("events", None, "events", events_until=until)
    if inactivity_days > 0:
        return ChurnDefinition("inactivity", int(inactivity_days), "parameter")
    days, basis = default_inactivity_days(transactions, before=pd.Timestamp(period.start))
    return ChurnDefinition("inactivity", days, basis)


def churn_dates(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    definition: ChurnDefinition,
    *,
    as_of: pd.Timestamp | str,
) -> pd.DataFrame:
    """Each customer's churn date as known at the end of day ``as_of``.

    Only rows dated on or before ``as_of`` are read. Customers who signed up after ``as_of``
    are left out.

    Returns
    -------
    DataFrame
        One row per customer: ``customer_id``, ``signup_date``, ``last_order`` (NaT if none)
        and ``churned_at`` (NaT while the customer is active at ``as_of``).
    """
    if definition.kind == "events" and churn_events is None:
        raise ValueError(
            "churn_dates() with an events definition needs the churn_events table; got None "
            "(use choose_definition(), which picks inactivity when there are no events)."
        )
    bound = day_after(as_of).value
    people = customers.loc[customers["signup_date"] < pd.Timestamp(bound),
                           ["customer_id", "signup_date"]]  # fmt: skip
    people = people.drop_duplicates("customer_id").reset_index(drop=True)
    signup = nanoseconds(people["signup_date"])
    last_order = _latest_before(people, transactions, "order_date", bound)
    if definition.kind == "events":
        last_event = _latest_before(people, churn_events, "churned_at", bound)
        won_back = (last_order != NAT) & (last_order > last_event)
        churned_at = np.where(won_back, NAT, last_event)
    else:
        last_activity = np.where(last_order > signup, last_order, signup)
        churn_day = last_activity // _DAY_NS * _DAY_NS + definition.inactivity_days * _DAY_NS
        churned_at = np.where(churn_day < bound, churn_day, NAT)
    return people.assign(
        last_order=last_order.view("datetime64[ns]"), churned_at=churned_at.view("datetime64[ns]")
    )


def _latest_before(people: pd.DataFrame, rows: pd.DataFrame, column: str, bound: int) -> np.ndarray:
    """Each person's latest ``column`` before ``bound`` (ns) among ``rows`` (int64 ns, NAT
    without one): ids looked up once as positions, no grouping by text."""
    (at,) = positions(people["customer_id"], rows["customer_id"])
    times = nanoseconds(rows[column])
    return latest_per_customer(np.where(times < bound, at, -1), times, len(people))
