"""Point-in-time behaviour of each customer at a cut day: the candidate drivers of churn.

Every feature at a cut day reads only rows dated on or before that day (through the end of
it), so features computed at a past day never see what came later: a model trained on them
and tested on a later period is a fair test (Gold 2020, *Fighting Churn with Data*, ch. 4:
"metrics at the observation date only"). Windows are whole calendar days ending on the cut
day: "the last 90 days" of a cut on 30 June are 2 April to 30 June.

Features (one row per customer signed up by the cut day):

``orders_last_year``
    Orders in the last 365 days.
``recency_days``
    Days from the last order to the cut day (missing for a customer who never ordered).
``spend_trend``
    Spend in the last 90 days ``s1`` against the 90 before ``s0``, as ``(s1 − s0) / (s1 + s0)``:
    bounded in −1 (stopped spending) … +1 (spending only lately), 0 for no change or no spend
    in either window, and free of the currency's scale.
``tenure_months``
    Days from sign-up to the cut day ÷ 30.4375.
``interactions_per_month``
    Interactions in the last 180 days ÷ months observed in them (days since sign-up + 1,
    at least 30 and at most 180, ÷ 30.4375), so recent joiners are not diluted.
``complaints_90d``
    Complaints opened in the last 90 days: tickets with ``is_complaint`` true where the
    tickets carry that column with values, else interactions whose ``kind`` is a complaint
    (``complaint``, ``投诉``) — one source, so one complaint logged twice is not counted
    twice; an empty column is no source (absent, not zero). The rule is
    :mod:`crmkit.metrics.complaints`, shared with the health review.
``tickets_90d``
    Service tickets opened in the last 90 days.
``latest_nps``, ``latest_csat``
    The customer's latest score on or before the cut day; missing when never scored.
``days_since_contact``
    Days from the latest interaction to the cut day; missing without one.

A feature whose table is absent or empty is left out (absent, not zero). Customer attribute
columns are kept as candidate drivers too: ``acquisition_channel``, ``region`` and any column
beyond the contract the unit keeps (a plan, a contract type), text columns with 2 to
:data:`MAX_LEVELS` values as categories and number columns as numbers; never ids, dates,
``business_unit`` or personal data (``name``, ``email``, ``phone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import require_columns
from crmkit.core.periods import day_after
from crmkit.core.schema import PII_COLUMNS, TABLES
from crmkit.metrics.churn_status import ChurnDefinition, churn_dates
from crmkit.metrics.complaints import (
    COMPLAINT_KINDS,  # noqa: F401  (re-exported: where it was defined before)
    complaint_interactions,
    complaint_source,
    complaint_tickets,
)
from crmkit.metrics.customer_positions import NAT, latest_per_customer, nanoseconds, positions

FEATURES: tuple[str, ...] = (
    "orders_last_year",
    "recency_days",
    "spend_trend",
    "tenure_months",
    "interactions_per_month",
    "complaints_90d",
    "tickets_90d",
    "latest_nps",
    "latest_csat",
    "days_since_contact",
)
"""The behavioural features, in the order the report lists them."""

MAX_LEVELS = 20
"""Most distinct values a text column of the customers may have to be a candidate driver."""

DAYS_PER_MONTH = 30.4375
_DAY = np.int64(86_400_000_000_000)  # nanoseconds
_NOT_ATTRIBUTES = {"customer_id", "business_unit", "signup_date", *PII_COLUMNS}


@dataclass(frozen=True)
class _Rows:
    """Rows of one table as arrays in time order: customer position, time (ns), a value.
    Sorted once, so the rows of any window of days are a slice (no copy)."""

    code: np.ndarray
    time: np.ndarray
    value: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, times: np.ndarray, values: np.ndarray, *, stable=False):
        """The rows of a known customer with a time (and a value, for numbers). Rows at the
        same time keep their order only when ``stable`` (needed where the last one counts:
        scores); counts and sums do not depend on it, and the faster sort is used."""
        keep = (codes >= 0) & (times != NAT)
        if values.dtype.kind == "f":
            keep &= ~np.isnan(values)
        if not keep.all():
            codes, times, values = codes[keep], times[keep], values[keep]
        if len(times) and not (times[1:] >= times[:-1]).all():
            order = np.argsort(times, kind="stable" if stable else "quicksort")
            codes, times, values = codes[order], times[order], values[order]
        return cls(codes, times, values)

    def where(self, keep: np.ndarray) -> _Rows:
        return _Rows(self.code[keep], self.time[keep], self.value[keep])

    def within(self, start: np.int64 | None, bound: np.int64) -> _Rows:
        """The rows dated from ``start`` (None: any time) up to before ``bound``."""
        first = 0 if start is None else int(np.searchsorted(self.time, start, side="left"))
        stop = int(np.searchsorted(self.time, bound, side="left"))
        first = min(first, stop)
        return _Rows(self.code[first:stop], self.time[first:stop], self.value[first:stop])


@dataclass(frozen=True)
class CustomerTables:
    """A unit's tables encoded once for features at several cut days: customers by position
    (``ids``, in the customers' order, each once), every dated row as (position, time, value)
    arrays. Build it with :func:`encode`; ``None`` marks an absent source."""

    ids: pd.Series
    signup: np.ndarray
    attributes: pd.DataFrame
    orders: _Rows
    tickets: _Rows | None
    complaints: _Rows | None
    interactions: _Rows | None
    nps: _Rows | None
    csat: _Rows | None

    def signed_up(self, day: date | str | pd.Timestamp) -> np.ndarray:
        """Positions of the customers signed up by the end of ``day``."""
        return np.flatnonzero((self.signup != NAT) & (self.signup < day_after(day).value))

    def _last_orders(self, day: date | str | pd.Timestamp) -> pd.DataFrame:
        """Each customer's last order up to the end of ``day`` (``customer_id`` as positions,
        ``order_date``): all :func:`crmkit.metrics.churn_status.churn_dates` reads of the
        orders."""
        orders = self.orders.within(None, np.int64(day_after(day).value))
        latest = _latest(orders, len(self.ids))
        some = np.flatnonzero(latest != NAT)
        return pd.DataFrame(
            {"customer_id": some, "order_date": latest[some].view("datetime64[ns]")}
        )

    def churn_status(
        self,
        churn_events: pd.DataFrame | None,
        definition: ChurnDefinition,
        *,
        as_of: date | str | pd.Timestamp,
    ) -> pd.DataFrame:
        """:func:`~crmkit.metrics.churn_status.churn_dates` at ``as_of`` for the customers
        these tables were encoded from, handed each customer's last order instead of every
        order: all it reads of the orders, so the frame is the same. Ids are
        handed over as positions and the frame's ids are the customers' own again."""
        people = pd.DataFrame(
            {
                "customer_id": np.arange(len(self.ids)),
                "signup_date": self.signup.view("datetime64[ns]"),
            }
        )
        events = churn_events
        if churn_events is not None:
            (at,) = positions(self.ids, churn_events["customer_id"])
            events = pd.DataFrame(
                {"customer_id": at, "churned_at": churn_events["churned_at"].to_numpy()}
            )
        found = churn_dates(people, self._last_orders(as_of), events, definition, as_of=as_of)
        return found.assign(customer_id=self.ids.take(found["customer_id"]).array)


def attribute_values(values: pd.Series) -> pd.Series:
    """A customer column beyond the contract as the report reads it: text trimmed with
    blanks missing, and text whose every value given is a number as numbers. Such a column
    arrives as the file wrote it (text, ``""`` where blank), so a plan with a few blanks
    would otherwise gain a nameless value and a score column would be a text of hundreds of
    values. A contract column (its name in :data:`crmkit.core.schema.TABLES`) is returned as
    loaded: loading already gave it its kind (``psy_*`` stay categories).

    Examples
    --------
    >>> attribute_values(pd.Series(["4.5", "", " 12 "], name="score")).tolist()
    [4.5, nan, 12.0]
    >>> attribute_values(pd.Series(["pro", " ", "basic "], name="plan")).tolist()
    ['pro', <NA>, 'basic']
    """
    if TABLES["customers"].column(str(values.name)) is not None or not (
        pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
    ):
        return values
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    given = text.notna()
    numbers = pd.to_numeric(text, errors="coerce")
    if given.any() and numbers[given].notna().all():
        return numbers.astype(float)
    return text


def attribute_columns(customers: pd.DataFrame) -> list[str]:
    """The customer columns that are candidate drivers: number columns with two values or
    more (text that holds only numbers included), text or yes/no columns with 2 to
    :data:`MAX_LEVELS` values; never ids (``*_id``), dates, ``business_unit``, personal data
    or a name shared with a feature."""
    found = []
    for column in customers.columns:
        if (
            column in _NOT_ATTRIBUTES
            or column in FEATURES
            or str(column).endswith("_id")
            or pd.api.types.is_datetime64_any_dtype(customers[column])
        ):
            continue
        values = attribute_values(customers[column])
        distinct = values.nunique(dropna=True)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if distinct >= 2 and (numeric or distinct <= MAX_LEVELS):
            found.append(column)
    return found


def _present(frame: pd.DataFrame | None, columns: list[str]) -> bool:
    return frame is not None and len(frame) > 0 and all(c in frame.columns for c in columns)


def encode(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    interactions: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
) -> CustomerTables:
    """Encode the tables for :func:`features_from`: ids hashed once, dates as integers."""
    require_columns(customers, ["customer_id", "signup_date"], "customers", "features_at")
    require_columns(
        transactions, ["customer_id", "order_date", "amount"], "transactions", "features_at"
    )
    people = customers.loc[customers["customer_id"].notna()]
    people = people.drop_duplicates("customer_id").reset_index(drop=True)
    has_tickets = _present(tickets, ["customer_id", "opened_at"])
    has_contacts = _present(interactions, ["customer_id", "occurred_at"])
    scores = [
        name
        for name in ("nps", "csat")
        if _present(surveys, ["customer_id", "responded_at", name]) and surveys[name].notna().any()
    ]
    sources = [transactions]
    sources += [tickets] if has_tickets else []
    sources += [interactions] if has_contacts else []
    sources += [surveys] if scores else []
    codes = iter(positions(people["customer_id"], *(t["customer_id"] for t in sources)))
    amounts = pd.to_numeric(transactions["amount"], errors="coerce").fillna(0.0).to_numpy(float)
    orders = _Rows.of(next(codes), nanoseconds(transactions["order_date"]), amounts)
    tickets_rows = complaints = contacts = nps = csat = None
    # One rule of what a complaint is, one source (crmkit.metrics.complaints).
    source = complaint_source(tickets, interactions)
    if has_tickets:
        flags = np.zeros(len(tickets), dtype=bool)
        if source == "tickets":
            flags = complaint_tickets(tickets)
        tickets_rows = _Rows.of(next(codes), nanoseconds(tickets["opened_at"]), flags)
        if source == "tickets":
            complaints = tickets_rows.where(tickets_rows.value)
    if has_contacts:
        kinds = np.zeros(len(interactions), dtype=bool)
        if source == "interactions":
            kinds = complaint_interactions(interactions)
        contacts = _Rows.of(next(codes), nanoseconds(interactions["occurred_at"]), kinds)
        if source == "interactions":
            complaints = contacts.where(contacts.value)
    if scores:
        where, times = next(codes), nanoseconds(surveys["responded_at"])
        found = {
            name: _Rows.of(
                where,
                times,
                pd.to_numeric(surveys[name], errors="coerce").to_numpy(float),
                stable=True,
            )
            for name in scores
        }
        nps, csat = found.get("nps"), found.get("csat")
    return CustomerTables(
        ids=people["customer_id"],
        signup=nanoseconds(people["signup_date"]),
        attributes=pd.DataFrame(
            {c: attribute_values(people[c]) for c in attribute_columns(people)},
            index=people.index,
        ),
        orders=orders,
        tickets=tickets_rows,
        complaints=complaints,
        interactions=contacts,
        nps=nps,
        csat=csat,
    )


def _count(rows: _Rows, n: int) -> np.ndarray:
    return np.bincount(rows.code, minlength=n).astype(float)


def _latest(rows: _Rows, n: int) -> np.ndarray:
    return latest_per_customer(rows.code, rows.time, n)


def _latest_value(rows: _Rows, n: int) -> np.ndarray:
    """Each customer's value at their latest time (rows in time order; ties: the last)."""
    latest = np.full(n, np.nan)
    if len(rows.code):
        codes, first = np.unique(rows.code[::-1], return_index=True)
        latest[codes] = rows.value[::-1][first]
    return latest


def _days_since(latest: np.ndarray, cut_day: np.int64) -> np.ndarray:
    days = (cut_day - np.floor_divide(latest, _DAY)).astype(float)
    days[latest == NAT] = np.nan
    return days


def features_from(tables: CustomerTables, *, cut: date | str | pd.Timestamp) -> pd.DataFrame:
    """:func:`features_at` on tables already encoded by :func:`encode` (for several cuts);
    the frame's index is each customer's position in ``tables.ids``."""
    bound = np.int64(day_after(cut).value)
    cut_day = bound // _DAY - 1
    n = len(tables.ids)
    tenure_days = (cut_day - np.floor_divide(tables.signup, _DAY)).astype(float)
    features: dict[str, np.ndarray] = {}

    orders = tables.orders.within(None, bound)
    features["orders_last_year"] = _count(orders.within(bound - 365 * _DAY, bound), n)
    features["recency_days"] = _days_since(_latest(orders, n), cut_day)
    recent = orders.within(bound - 90 * _DAY, bound)
    earlier = orders.within(bound - 180 * _DAY, bound - 90 * _DAY)
    s1 = np.bincount(recent.code, weights=recent.value, minlength=n)
    s0 = np.bincount(earlier.code, weights=earlier.value, minlength=n)
    total = s1 + s0
    features["spend_trend"] = np.divide(s1 - s0, total, out=np.zeros(n), where=total > 0)
    features["tenure_months"] = tenure_days / DAYS_PER_MONTH
    if tables.interactions is not None:
        contacts = tables.interactions.within(None, bound)
        months = np.clip(tenure_days + 1, 30, 180) / DAYS_PER_MONTH
        recent_contacts = contacts.within(bound - 180 * _DAY, bound)
        features["interactions_per_month"] = _count(recent_contacts, n) / months
    if tables.complaints is not None:
        features["complaints_90d"] = _count(tables.complaints.within(bound - 90 * _DAY, bound), n)
    if tables.tickets is not None:
        features["tickets_90d"] = _count(tables.tickets.within(bound - 90 * _DAY, bound), n)
    if tables.nps is not None:
        features["latest_nps"] = _latest_value(tables.nps.within(None, bound), n)
    if tables.csat is not None:
        features["latest_csat"] = _latest_value(tables.csat.within(None, bound), n)
    if tables.interactions is not None:
        features["days_since_contact"] = _days_since(_latest(contacts, n), cut_day)

    frame = pd.DataFrame({"customer_id": tables.ids.reset_index(drop=True)})
    for name in FEATURES:
        if name in features:
            frame[name] = features[name]
    frame = pd.concat([frame, tables.attributes], axis=1)
    return frame.iloc[tables.signed_up(cut)]  # indexed by position in tables.ids


def features_at(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    cut: date | str | pd.Timestamp,
    interactions: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each customer's behaviour as known at the end of day ``cut`` (see the module's text).

    Only rows dated on or before ``cut`` are read: deleting or changing any later row changes
    nothing. A feature whose table is None or empty is absent (not zero).

    Parameters
    ----------
    customers, transactions
        The unit's customers (``customer_id``, ``signup_date``, attribute columns) and orders
        (``customer_id``, ``order_date``, ``amount``).
    cut
        The observation day.
    interactions, tickets, surveys
        Optional sources of the contact, complaint, ticket and score features.

    Returns
    -------
    pandas.DataFrame
        One row per customer signed up by ``cut``: ``customer_id``, the :data:`FEATURES`
        present, then the attribute columns (:func:`attribute_columns`).

    Raises
    ------
    ParameterError
        A required column is missing.

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": ["a"],
    ...     "signup_date": pd.to_datetime(["2026-01-01"])})
    >>> orders = pd.DataFrame({"customer_id": ["a", "a"], "amount": [10.0, 30.0],
    ...     "order_date": pd.to_datetime(["2026-03-01", "2026-05-20"])})
    >>> row = features_at(customers, orders, cut="2026-06-30").iloc[0]
    >>> int(row["orders_last_year"]), int(row["recency_days"]), float(row["spend_trend"])
    (2, 41, 0.5)
    """
    tables = encode(
        customers, transactions, interactions=interactions, tickets=tickets, surveys=surveys
    )
    return features_from(tables, cut=cut).reset_index(drop=True)


def feature_kinds(features: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The number and the category columns of a features frame (``customer_id`` and a label
    column ``churned`` aside)."""
    numeric, categorical = [], []
    for column in features.columns:
        if column in ("customer_id", "churned"):
            continue
        values = features[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numeric.append(column)
        else:
            categorical.append(column)
    return numeric, categorical


def trailing_revenue(tables: CustomerTables, *, as_of: date | str | pd.Timestamp) -> np.ndarray:
    """Each customer's spend in the 365 days to the end of ``as_of``, by position."""
    bound = np.int64(day_after(as_of).value)
    orders = tables.orders.within(bound - 365 * _DAY, bound)
    return np.bincount(orders.code, weights=orders.value, minlength=len(tables.ids))
