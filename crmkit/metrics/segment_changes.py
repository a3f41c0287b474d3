"""The segmentation's this-period-against-the-previous figures: customers moving between RFM
segments (into a worse one or back out), and buying customers and period revenue with their
changes, intervals and tests.

Numbers only, on the frames :mod:`crmkit.metrics.segmentation` scores; the segmentation
topic puts them in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.core.periods import Period, rows_through
from crmkit.metrics.customer_orders import Orders, order_totals
from crmkit.metrics.stats import Change

LAPSE_LEVEL: dict[str, int] = {"at_risk": 1, "cant_lose": 1, "hibernating": 2}
"""How far an RFM segment has lapsed; the segments not listed are 0 (an order lately: R 3-5).
1: gone quiet after buying often (at_risk, cant_lose: R 1-2, F 3-5); 2: gone quiet after
buying little (hibernating: R 1-2, F 1-2). A customer whose level rose between two period
ends moved into a worse segment: into one of these three, or from the first two into
hibernating (so customers leaving at_risk for hibernating count as a worsening, never as
"fewer at risk")."""
LAPSED_SEGMENTS = tuple(LAPSE_LEVEL)


def segment_moves(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Customers moving between RFM segments from one scoring to the next, and whether each
    move is into a worse segment (:data:`LAPSE_LEVEL` rose), a better one (it fell) or level.

    Only customers scored at both dates count (a first order in between is no move).

    Parameters
    ----------
    current, previous
        :func:`~crmkit.metrics.segmentation.rfm_scores` tables at this and at the previous
        period end (``previous`` may be ``None``: no orders before).

    Returns
    -------
    pandas.DataFrame
        One row per (previous_segment, segment) pair with customers, most customers first:
        ``previous_segment, segment, customers, direction`` (``worse``, ``better``, ``level``).
    """
    columns = ["previous_segment", "segment", "customers", "direction"]
    if previous is None or previous.empty or current.empty:
        return pd.DataFrame(columns=columns)
    before = previous.set_index("customer_id")["segment"].rename("previous_segment")
    joined = current.set_index("customer_id")[["segment"]].join(before, how="inner")
    table = joined.groupby(["previous_segment", "segment"]).size().rename("customers")
    table = table.reset_index()
    rise = table["segment"].map(LAPSE_LEVEL).fillna(0) - table["previous_segment"].map(
        LAPSE_LEVEL
    ).fillna(0)
    table["direction"] = np.select([rise > 0, rise < 0], ["worse", "better"], default="level")
    table = table.sort_values(["customers", "previous_segment"], ascending=[False, True])
    return table[columns].reset_index(drop=True)


@dataclass(frozen=True)
class Movement:
    """How many customers scored at both period ends moved into a worse RFM segment
    (:data:`LAPSE_LEVEL`), how many moved back to a better one, out of how many; and the
    customers in the lapsed segments (:data:`LAPSED_SEGMENTS`) at each end."""

    worse: int
    better: int
    scored_before: int
    lapsed_now: int
    lapsed_before: int

    @property
    def worse_share(self) -> float:
        """Moves into a worse segment as a share of the customers scored at both ends."""
        return self.worse / self.scored_before if self.scored_before else float("nan")

    def as_dict(self) -> dict:
        return {
            "worse": self.worse,
            "better": self.better,
            "scored_before": self.scored_before,
            "worse_share": self.worse_share,
            "lapsed_now": self.lapsed_now,
            "lapsed_before": self.lapsed_before,
        }


def movement(moves: pd.DataFrame, current: pd.DataFrame, previous: pd.DataFrame | None) -> Movement:
    """The :class:`Movement` of :func:`segment_moves`' table and the two scorings."""

    def lapsed(scored: pd.DataFrame | None) -> int:
        return 0 if scored is None else int(scored["segment"].isin(LAPSED_SEGMENTS).sum())

    by_direction = moves.groupby("direction")["customers"].sum()
    return Movement(
        worse=int(by_direction.get("worse", 0)),
        better=int(by_direction.get("better", 0)),
        scored_before=int(moves["customers"].sum()),
        lapsed_now=lapsed(current),
        lapsed_before=lapsed(previous),
    )


# ----------------------------------------------------------------------------- this period


def buying_customers(transactions: Orders, *, period: Period) -> int:
    """Customers with at least one order dated in ``period``."""
    return len(period_totals(transactions, period=period))


def period_totals(transactions: Orders, *, period: Period) -> pd.DataFrame:
    """:func:`~crmkit.metrics.customer_orders.order_totals` of the orders dated in
    ``period``: one row per customer who bought in it."""
    return order_totals(transactions, since=period.start, through=period.end)


def count_change(current: int, previous: int, *, level: float = 0.95) -> Change:
    """The change of a count between two periods of equal length, as two Poisson counts.

    p-value: the exact conditional test of two Poisson means (Przyborowski and Wilenski
    1940): given ``current + previous``, ``current`` is binomial with p = 0.5 when nothing
    changed (``scipy.stats.binomtest``). Interval: ``delta ± z·√(current + previous)``, the
    normal approximation of the difference of two Poisson counts. Distinct buying
    customers vary less than Poisson counts, so both are on the cautious side.

    Examples
    --------
    >>> round(count_change(30, 10).p_value, 4)
    0.0022
    """
    from scipy.stats import binomtest

    from crmkit.metrics.stats import z_value

    total = current + previous
    if total == 0:
        return Change(0.0, float("nan"), float("nan"), float("nan"))
    delta = float(current - previous)
    half = z_value(level) * float(np.sqrt(total))
    p_value = float(binomtest(int(current), int(total), 0.5).pvalue)
    return Change(delta, delta - half, delta + half, p_value)


def period_spend(customers: pd.DataFrame, transactions: Orders, *, period: Period) -> pd.Series:
    """Each customer's revenue from orders dated in ``period``: every customer signed up by
    the period end (0 when they did not buy) and any buyer not in ``customers``. One value
    per customer, indexed by ``customer_id``."""
    return spend_of(customers, period_totals(transactions, period=period), period=period)


def spend_of(customers: pd.DataFrame, totals: pd.DataFrame, *, period: Period) -> pd.Series:
    """:func:`period_spend` from the period's :func:`period_totals`."""
    spend = totals.set_index("customer_id")["revenue"]
    people = rows_through(customers, "signup_date", period.end)["customer_id"]
    index = pd.Index(people.unique(), name="customer_id").union(spend.index)
    return spend.reindex(index, fill_value=0.0).astype(float).rename("period_spend")


def total_change(current: pd.Series, previous: pd.Series, *, level: float = 0.95) -> Change:
    """The change of a total (period revenue) between two periods, each the sum of
    independent per-customer amounts (``current``, ``previous``: one value per customer on
    record, zeros included).

    p-value: a two-sided z-test of the difference in totals with
    ``se² = n₁·s₁² + n₀·s₀²`` (s²: the per-customer sample variance) — Welch's unequal-
    variance test applied to the totals rather than the means (identical to it when the
    customer counts are equal), so more customers on record count as more revenue, not as
    noise. Interval: ``delta ± z·se``, from the same standard error as the test (no
    bootstrap), so interval and p-value agree. NaN without two customers in each period.
    """
    from scipy import stats

    from crmkit.metrics.stats import z_value

    delta = float(current.sum() - previous.sum())
    if len(current) < 2 or len(previous) < 2:
        return Change(delta, float("nan"), float("nan"), float("nan"))
    se = float(np.sqrt(len(current) * current.var() + len(previous) * previous.var()))
    if se == 0:
        return Change(delta, float("nan"), float("nan"), float("nan"))
    half = z_value(level) * se
    p_value = float(2 * stats.norm.sf(abs(delta) / se))
    return Change(delta, delta - half, delta + half, p_value)
