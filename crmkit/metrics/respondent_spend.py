"""What each survey respondent spent in the days after responding, at any size of unit.

One call, :func:`spend_within`, used by :func:`crmkit.metrics.satisfaction.spend_after`.
Pairing every response with every order of its customer (a join on the ids) made tens of
millions of pairs on a unit of a million customers; here each customer's orders are sorted
once and each response finds the run of its customer's orders inside its window by binary
search, so the work grows with the orders and the responses, not with their product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.customer_positions import NAT, nanoseconds, positions


def spend_within(responses: pd.DataFrame, transactions: pd.DataFrame, *, days: int) -> np.ndarray:
    """Each response's spend: the sum of ``amount`` over its customer's orders dated after
    ``responded_at`` and no more than ``days`` days after it (missing amounts count 0).

    Parameters
    ----------
    responses
        ``customer_id, responded_at``; a response without either spends 0.
    transactions
        ``customer_id, order_date, amount``.
    days
        Length of the window after each response, in days.

    Returns
    -------
    numpy.ndarray
        One float per row of ``responses``, in their order (0 where no order falls inside).

    The sums add a customer's orders in date order, so a sum may differ in its last bit
    (about 1e-16 of it) from one that adds them in table order; a response without an order
    in its window is exactly 0.

    Examples
    --------
    >>> responses = pd.DataFrame({"customer_id": ["a", "b"],
    ...                           "responded_at": pd.to_datetime(["2026-01-01", "2026-01-01"])})
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                        "order_date": pd.to_datetime(["2026-01-05", "2026-05-01",
    ...                                                      "2025-12-01"]),
    ...                        "amount": [10.0, 99.0, 5.0]})
    >>> spend_within(responses, orders, days=90).tolist()
    [10.0, 0.0]
    """
    codes, respondents = pd.factorize(responses["customer_id"])
    if not len(respondents):  # no response names a customer
        return np.zeros(len(responses))
    responded = nanoseconds(responses["responded_at"])
    asked = (codes >= 0) & (responded != NAT)
    start = np.where(asked, responded, 0)
    end = start + np.int64(days) * 86_400_000_000_000
    order_codes = positions(pd.Series(respondents), transactions["customer_id"])[0]
    when = nanoseconds(transactions["order_date"])
    theirs = (order_codes >= 0) & (when != NAT)
    if asked.any():  # orders outside every window count for no one: most of a long history
        theirs &= (when > start[asked].min()) & (when <= end[asked].max())
    theirs = np.flatnonzero(theirs)
    amounts = pd.to_numeric(transactions["amount"], errors="coerce").to_numpy(float)[theirs]
    code, when = order_codes[theirs], when[theirs]
    # one sorted key per order: its customer, then the rank of its time among all order times
    times, rank = np.unique(when, return_inverse=True)
    span = len(times) + 1
    key = code.astype(np.int64) * span + rank.reshape(-1)
    by_customer_then_day = np.argsort(key, kind="stable")
    key, amounts = key[by_customer_then_day], np.nan_to_num(amounts[by_customer_then_day])
    base = np.maximum(codes, 0).astype(np.int64) * span
    first = _sorted_search(key, base + np.searchsorted(times, start, side="right"))
    last = _sorted_search(key, base + np.searchsorted(times, end, side="right"))
    first, last = np.where(asked, first, 0), np.where(asked, last, 0)
    # sums of amounts[first:last] per response, by reduceat over the bounds in order of
    # ``first`` (unordered bounds would sum the long stretches between runs too); an empty
    # run reads one element and is set to 0
    ordered = np.argsort(first, kind="stable")
    bounds = np.column_stack([first[ordered], last[ordered]]).ravel()
    sums = np.empty(len(first))
    sums[ordered] = np.add.reduceat(np.append(amounts, 0.0), bounds)[::2]
    return np.where(last > first, sums, 0.0)


def _sorted_search(keys: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """``np.searchsorted(keys, needles)``, searched in sorted order (each search starts
    where the last ended, instead of a random walk through ten million keys)."""
    order = np.argsort(needles, kind="stable")
    found = np.empty(len(needles), dtype=np.int64)
    found[order] = np.searchsorted(keys, needles[order])
    return found
