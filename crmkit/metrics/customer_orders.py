"""Per-customer order figures, computed by the engine where the orders are.

Each figure here has one SQL definition, run by DuckDB over the orders wherever they lie: a
frame in memory (a notebook opened alone, the tests), or the snapshot's Parquet file in
``crmkit run`` (:class:`~crmkit.core.on_disk.TableOnDisk`), which the engine reads column by
column without the orders ever becoming a pandas frame. pandas receives one row per customer
(or per cohort and month, or per customer and purchase day), not one per order: at a million
customers the clv report no longer holds ten million orders.

The engine runs on one thread. A sum of doubles then adds its terms in the order of the
rows, so the same orders give the same figures to the last bit, in every kernel and from
either place: a CLV fit once turned on the last bits of a sum taken in the order of DuckDB's
threads (#15). One thread takes 1.5 to 3.5 s for a figure of ten million orders, about what
the NumPy code it replaced took; what it saves is the orders' memory.

Missing amounts and margins count as 0, as everywhere in crmkit; orders without a day are
not in any figure cut at a day.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.on_disk import TableOnDisk

Orders = pd.DataFrame | TableOnDisk
"""Orders as a frame in memory or as a table the engine reads from disk."""


TIME_UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
"""Days per unit of recency and T in an RFM summary: days, weeks, months."""

NEEDED = ["customer_id", "order_date", "amount"]
"""The order columns every figure here reads."""


_IDLE: dict[int, list[duckdb.DuckDBPyConnection]] = {}
"""Idle one-thread connections of this process, reused: opening one takes 30 ms, longer
than a figure of a small unit (the pool is per process id, so a forked kernel opens its own)."""
REUSE_ROWS = 1_000_000
"""Orders up to which a figure's connection is kept for the next. A connection that has read
ten million orders holds ~130 MB after them (DuckDB's allocator keeps what it freed), which a
million-customer run's memory target has no room for; against such a figure 30 ms is nothing."""
_IDLE_LOCK = threading.Lock()


def _connection() -> duckdb.DuckDBPyConnection:
    with _IDLE_LOCK:
        idle = _IDLE.setdefault(os.getpid(), [])
        if idle:
            return idle.pop()
    return duckdb.connect(config={"threads": 1})


def _release(connection: duckdb.DuckDBPyConnection, names: list[str], *, keep: bool) -> None:
    """Drop the views of a figure (a registered frame is no longer held) and keep the
    connection for the next (``keep``), else close it."""
    if not keep:
        connection.close()
        return
    try:
        for name in names:
            connection.execute(f'DROP VIEW IF EXISTS "{name}"')
    except duckdb.Error:
        connection.close()
        return
    with _IDLE_LOCK:
        _IDLE.setdefault(os.getpid(), []).append(connection)


@contextlib.contextmanager
def engine(
    orders: Orders,
    *,
    caller: str,
    optional: tuple[str, ...] = (),
    needed: tuple[str, ...] = tuple(NEEDED),
    **frames: pd.DataFrame,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A one-thread DuckDB connection where the view ``orders`` holds the ``needed`` columns
    of ``orders`` (:data:`NEEDED`) and those of ``optional`` it has, and each of ``frames`` is
    a view of its name. Only those columns are read: a frame's other columns are never scanned.

    Raises
    ------
    ParameterError
        ``orders`` lacks a needed column (the message names ``caller``).
    """
    require_columns(orders, list(needed), "transactions", caller)
    columns = [*needed, *(c for c in optional if c in orders.columns)]
    connection = _connection()
    names = ["orders", *frames]
    try:
        if isinstance(orders, TableOnDisk):
            path = str(orders.path).replace("'", "''")
            listed = ", ".join(f'"{c}"' for c in columns)
            connection.execute(
                f"CREATE TEMP VIEW orders AS SELECT {listed} FROM read_parquet('{path}')"
            )
        else:
            connection.register("orders", orders[columns])
        for name, frame in frames.items():
            connection.register(name, frame)
        yield connection
    finally:
        small = not isinstance(orders, TableOnDisk) and len(orders) <= REUSE_ROWS
        _release(connection, names, keep=small)


def _through(day: date | str | pd.Timestamp) -> str:
    """The SQL condition "ordered on or before ``day``" (any time of that day)."""
    return f"CAST(order_date AS DATE) <= DATE '{pd.Timestamp(day):%Y-%m-%d}'"


def _since(day: date | str | pd.Timestamp | None) -> str:
    """The SQL condition "and ordered on or after ``day``" (nothing without a day)."""
    if day is None:
        return ""
    return f"AND CAST(order_date AS DATE) >= DATE '{pd.Timestamp(day):%Y-%m-%d}'"


def order_totals(
    orders: Orders,
    *,
    through: date | str | pd.Timestamp,
    since: date | str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Orders, revenue and margin per customer up to ``through`` (inclusive; from ``since``
    on, inclusive, when given), with the first and last order's moment.

    Returns
    -------
    pandas.DataFrame
        One row per customer with an order by then, sorted by id: ``customer_id, orders,
        revenue, margin, first_order, last_order`` (no ``margin`` where the orders carry
        none).

    Examples
    --------
    >>> days = pd.to_datetime(["2026-01-01", "2026-01-15", "2026-02-08"])
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_date": days,
    ...                        "amount": [10.0, 30.0, 5.0]})
    >>> order_totals(orders, through="2026-01-31")[["customer_id", "orders", "revenue"]]
      customer_id  orders  revenue
    0           a       2     40.0
    """
    margin = ", COALESCE(SUM(margin), 0)::DOUBLE AS margin" if "margin" in orders.columns else ""
    query = f"""
        SELECT customer_id::VARCHAR AS customer_id, COUNT(*) AS orders,
               COALESCE(SUM(amount), 0)::DOUBLE AS revenue{margin},
               MIN(order_date)::TIMESTAMP AS first_order,
               MAX(order_date)::TIMESTAMP AS last_order
        FROM orders
        WHERE customer_id IS NOT NULL AND {_through(through)} {_since(since)}
        GROUP BY 1 ORDER BY 1
    """
    with engine(orders, caller="order_totals", optional=("margin",)) as connection:
        totals = connection.execute(query).df()
    totals["customer_id"] = totals["customer_id"].astype("string")
    totals["orders"] = totals["orders"].astype("int64")
    for column in ("first_order", "last_order"):
        totals[column] = totals[column].astype("datetime64[ns]")
    return totals


def order_day_gaps(orders: Orders, *, before: date | str | pd.Timestamp) -> np.ndarray:
    """Days between each customer's consecutive order days (distinct calendar days), over
    the orders dated before the moment ``before``; the order of the gaps is unspecified."""
    query = f"""
        WITH days AS (
            SELECT DISTINCT customer_id, CAST(order_date AS DATE) AS day FROM orders
            WHERE customer_id IS NOT NULL
              AND order_date < TIMESTAMP '{pd.Timestamp(before):%Y-%m-%d %H:%M:%S.%f}'
        ), gaps AS (
            SELECT day - LAG(day) OVER (PARTITION BY customer_id ORDER BY day) AS gap FROM days
        )
        SELECT gap::DOUBLE AS gap FROM gaps WHERE gap IS NOT NULL
    """
    needed = ("customer_id", "order_date")
    with engine(orders, caller="order_day_gaps", needed=needed) as connection:
        return connection.execute(query).fetchnumpy()["gap"].astype(float)


def channel_orders(orders: Orders, *, through: date | str | pd.Timestamp) -> pd.DataFrame:
    """Orders per customer and channel up to ``through``, an order without a channel in
    ``"unknown"``: ``customer_id, channel, orders``, one row per pair that has orders."""
    query = f"""
        SELECT customer_id::VARCHAR AS customer_id,
               COALESCE(channel::VARCHAR, 'unknown') AS channel, COUNT(*) AS orders
        FROM orders
        WHERE customer_id IS NOT NULL AND {_through(through)}
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    with engine(orders, caller="channel_orders", optional=("channel",)) as connection:
        counts = connection.execute(query).df()
    counts["customer_id"] = counts["customer_id"].astype("string")
    counts["orders"] = counts["orders"].astype("int64")
    return counts


def cohort_month_revenue(
    orders: Orders, cohort_of: pd.DataFrame, *, cohorts: int, through: date | str | pd.Timestamp
) -> np.ndarray:
    """Revenue by cohort and month since signup, up to ``through``.

    ``cohort_of`` has one row per customer: ``customer_id``, ``cohort`` (an integer code,
    0 to ``cohorts`` - 1) and ``start`` (the signup's month, as months since January 1970).
    An order made before its customer's signup month counts in month 0.

    Returns
    -------
    numpy.ndarray
        ``revenue[cohort, month]``: ``cohorts`` rows, and as many months as the latest order
        reaches (at least one).
    """
    query = f"""
        SELECT c.cohort, GREATEST(
                   (year(o.order_date) - 1970) * 12 + month(o.order_date) - 1 - c.start, 0
               ) AS month,
               COALESCE(SUM(o.amount), 0)::DOUBLE AS revenue
        FROM orders o JOIN cohort_of c ON o.customer_id::VARCHAR = c.customer_id
        WHERE {_through(through)}
        GROUP BY 1, 2
    """
    keys = pd.DataFrame(
        {
            "customer_id": cohort_of["customer_id"].astype(str).to_numpy(dtype=object),
            "cohort": cohort_of["cohort"].to_numpy(dtype=np.int64),
            "start": cohort_of["start"].to_numpy(dtype=np.int64),
        }
    )
    with engine(orders, caller="cohort_month_revenue", cohort_of=keys) as connection:
        cells = connection.execute(query).df()
    width = int(cells["month"].max()) + 1 if len(cells) else 1
    revenue = np.zeros((cohorts, width))
    np.add.at(
        revenue,
        (cells["cohort"].to_numpy(dtype=np.int64), cells["month"].to_numpy(dtype=np.int64)),
        cells["revenue"].to_numpy(dtype=float),
    )
    return revenue


def last_order_day(orders: Orders, *, through: date | str | pd.Timestamp) -> pd.Timestamp:
    """The latest order's moment up to ``through`` (NaT without orders)."""
    with engine(orders, caller="last_order_day") as connection:
        (last,) = connection.execute(
            f"SELECT MAX(order_date)::TIMESTAMP FROM orders WHERE {_through(through)}"
        ).fetchone()
    return pd.Timestamp(last) if last is not None else pd.NaT


def purchase_days(
    orders: Orders, *, after: date | str | pd.Timestamp, through: date | str | pd.Timestamp
) -> pd.DataFrame:
    """The days each customer bought on after ``after`` up to ``through`` (inclusive, any
    time of day): one row per customer and day, ``customer_id, day``, sorted."""
    query = f"""
        SELECT DISTINCT customer_id::VARCHAR AS customer_id,
               CAST(order_date AS DATE)::TIMESTAMP AS day
        FROM orders
        WHERE customer_id IS NOT NULL AND {_through(through)}
              AND CAST(order_date AS DATE) > DATE '{pd.Timestamp(after):%Y-%m-%d}'
        ORDER BY 1, 2
    """
    with engine(orders, caller="purchase_days") as connection:
        days = connection.execute(query).df()
    days["customer_id"] = days["customer_id"].astype("string")
    days["day"] = days["day"].astype("datetime64[ns]")
    return days


def rfm_summaries(
    orders: Orders, *, observation_ends: list, time_unit: str = "W"
) -> list[pd.DataFrame]:
    """:func:`crmkit.metrics.clv_models.rfm_summary` at each of ``observation_ends``, in one
    pass over the orders (``customer_id, order_date, amount``): the clv report's summaries at
    the period end and at its holdout's calibration end read ten million orders once, not
    twice (3 s of 6).

    A customer is in the summary at an end where they bought on or before it; their first
    purchase day, and so its value, is the same at every end they are in.
    """
    if time_unit not in TIME_UNITS:
        raise ParameterError(f"time_unit must be one of {list(TIME_UNITS)}; got {time_unit!r}.")
    days = [f"DATE '{pd.Timestamp(end).normalize():%Y-%m-%d}'" for end in observation_ends]
    divisor = TIME_UNITS[time_unit]
    per_end = ",\n".join(
        f"""COUNT(*) FILTER (WHERE day <= {day}) - 1 AS frequency_{k},
            MAX(day) FILTER (WHERE day <= {day}) AS last_day_{k},
            SUM(amount) FILTER (WHERE day <= {day}) AS total_{k}"""
        for k, day in enumerate(days)
    )
    figures = ",\n".join(
        f"""frequency_{k},
            date_diff('day', first_day, last_day_{k}) / {divisor} AS recency_{k},
            date_diff('day', first_day, {day}) / {divisor} AS "T_{k}",
            CASE WHEN frequency_{k} > 0 THEN (total_{k} - first) / frequency_{k} ELSE 0 END
                AS monetary_value_{k}"""
        for k, day in enumerate(days)
    )
    query = f"""
        WITH daily AS (
            SELECT customer_id::VARCHAR AS customer_id, CAST(order_date AS DATE) AS day,
                   SUM(amount)::DOUBLE AS amount
            FROM orders
            WHERE CAST(order_date AS DATE) <= GREATEST({", ".join(days)})
                  AND customer_id IS NOT NULL
            GROUP BY 1, 2
        ), customers AS (
            SELECT customer_id, MIN(day) AS first_day, arg_min(amount, day) AS first,
                   {per_end}
            FROM daily GROUP BY 1
        )
        SELECT customer_id, {figures}
        FROM customers ORDER BY customer_id
    """
    with engine(orders, caller="rfm_summary") as connection:
        table = connection.execute(query).df()
    columns = ["frequency", "recency", "T", "monetary_value"]
    summaries = []
    for k in range(len(days)):
        summary = table[["customer_id", *(f"{c}_{k}" for c in columns)]]
        summary = summary.loc[summary[f"frequency_{k}"].to_numpy() >= 0]
        summary.columns = ["customer_id", *columns]
        summaries.append(summary.reset_index(drop=True).astype({"frequency": "int64"}))
    return summaries
