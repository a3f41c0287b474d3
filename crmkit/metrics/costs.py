"""Costs of the relationship health review: what winning, keeping and serving a customer cost
this period, against the previous one.

Three ratios from the ``costs`` table (one row per business unit, month, category and
optionally channel): the period CAC (acquisition spend ÷ customers who signed up in the
period, by acquisition channel), the retention cost per retained customer and the service
cost per ticket. The period CAC is *not* the CLV report's lifetime CAC (what a channel spent
on all its customers ÷ its customers who have bought): it is the spend of one period over the
customers that period brought in. The words that describe these figures are in the health
topic (``topics/health_interactions.py``), never here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, day_after, require_period
from crmkit.core.schema import TABLES
from crmkit.metrics.stats import Change

_CATEGORY = TABLES["costs"].column("category")
CATEGORIES: tuple[str, ...] = _CATEGORY.values
CATEGORY_NAMES: dict[str, str] = {**{c: c for c in CATEGORIES}, **dict(_CATEGORY.synonyms)}
"""Category values understood (compared stripped and in lower case): the contract's names
and their other names in the contract (获客, 维系, 服务 ... of Chinese exports), which the
loader already reads as them. Other rows are left out."""
SPEND_MONTHS = 12
"""Months up to the period end in the monthly spend chart."""

CHANNEL_COLUMNS = [
    "acquisition_channel",
    "spend",
    "new_customers",
    "cac",
    "previous_spend",
    "previous_new_customers",
    "previous_cac",
]
SPEND_COLUMNS = ["month", "category", "amount"]


@dataclass(frozen=True)
class CostsAnalysis:
    """What :func:`costs_analysis` returns.

    ``cac`` / ``previous_cac``: acquisition spend of each period ÷ customers who signed up in
    it, from ``cac_source`` (``"costs"``, ``"customers"``, or None when neither holds
    acquisition spend); ``cac_by_channel`` one row per acquisition channel
    (``CHANNEL_COLUMNS``). ``retention_cost_per_customer`` = retention spend ÷ ``retained``,
    ``service_cost_per_ticket`` = service spend ÷ tickets opened; each with its previous value.
    The ``*_change`` are this minus the previous value, untested (``low``, ``high``,
    ``p_value`` NaN). ``spend`` is the tidy monthly spend (``month, category, amount``) of the
    12 months to the period end. ``missing`` names what is absent: ``costs`` (no table or no
    rows), ``costs.acquisition``, ``costs.retention``, ``costs.service`` (no such rows in the
    period), ``costs.channel``, ``customers.acquisition_cost``, ``tickets``.
    """

    period: Period
    cac: float
    previous_cac: float
    cac_change: Change
    cac_source: str | None
    acquisition_spend: float
    previous_acquisition_spend: float
    new_customers: int
    previous_new_customers: int
    cac_by_channel: pd.DataFrame
    retention_spend: float
    previous_retention_spend: float
    retained: int
    previous_retained: int
    retention_cost_per_customer: float
    previous_retention_cost_per_customer: float
    retention_cost_change: Change
    service_spend: float
    previous_service_spend: float
    tickets_opened: int | None
    previous_tickets_opened: int | None
    service_cost_per_ticket: float
    previous_service_cost_per_ticket: float
    service_cost_change: Change
    spend: pd.DataFrame
    missing: tuple[str, ...]


_NAN = float("nan")


def _ratio(spend: float, count: int | None) -> float:
    """``spend ÷ count``; NaN without spend (NaN) or without a positive count."""
    if count is None or not count > 0 or not np.isfinite(spend):
        return _NAN
    return float(spend) / count


def _delta(now: float, before: float) -> Change:
    """This minus the previous value, without a test."""
    return Change(float(now - before), _NAN, _NAN, _NAN)


def spend_rows(costs: pd.DataFrame | None) -> pd.DataFrame:
    """The costs rows crmkit reads: ``month`` as the first day of its month, ``category`` one
    of :data:`CATEGORIES` (read through :data:`CATEGORY_NAMES`; others left out), ``amount``
    known, ``channel`` stripped text (missing where absent or blank).

    Examples
    --------
    >>> rows = spend_rows(pd.DataFrame({"month": pd.to_datetime(["2026-07-15"]),
    ...     "category": [" 获客 "], "amount": [10.0]}))
    >>> rows.loc[0, "month"].day, rows.loc[0, "category"]
    (1, 'acquisition')
    """
    if costs is None or costs.empty:
        return pd.DataFrame(
            {
                "month": pd.Series(dtype="datetime64[ns]"),
                "category": pd.Series(dtype="string"),
                "amount": pd.Series(dtype=float),
                "channel": pd.Series(dtype="string"),
            }
        )
    category = costs["category"].astype("string").str.strip().str.lower().map(CATEGORY_NAMES)
    channel = (
        costs["channel"].astype("string").str.strip()
        if "channel" in costs.columns
        else pd.Series(pd.NA, index=costs.index, dtype="string")
    )
    rows = pd.DataFrame(
        {
            "month": pd.to_datetime(costs["month"]).dt.to_period("M").dt.start_time,
            "category": category.astype("string"),
            "amount": pd.to_numeric(costs["amount"], errors="coerce"),
            "channel": channel.mask(channel == ""),
        }
    )
    keep = rows["category"].notna() & rows["amount"].notna() & rows["month"].notna()
    return rows.loc[keep].reset_index(drop=True)


def _in(rows: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Rows whose month's first day lies in ``period``."""
    return rows.loc[period.contains(rows["month"])]


def _spend(rows: pd.DataFrame, category: str) -> float:
    """The category's spend, NaN when it has no row (not recorded, unlike a recorded 0)."""
    chosen = rows.loc[rows["category"] == category, "amount"]
    return float(chosen.sum()) if len(chosen) else _NAN


def _key(values: pd.Series) -> pd.Series:
    """Channel names compared stripped and case-folded."""
    return values.astype("string").str.strip().str.casefold()


def _new_customers(customers: pd.DataFrame, period: Period) -> pd.DataFrame:
    return customers.loc[period.contains(customers["signup_date"])]


def _channel_table(
    customers: pd.DataFrame, rows: pd.DataFrame, period: Period, previous: Period, source: str
) -> pd.DataFrame:
    """Spend, new customers and CAC per acquisition channel, this period and the previous."""
    parts = {}
    for name, when in (("", period), ("previous_", previous)):
        joined = _new_customers(customers, when)
        label = joined["acquisition_channel"].astype("string").str.strip()
        joined = pd.DataFrame({"key": _key(label), "label": label})
        if source == "customers":
            cost = _new_customers(customers, when)["acquisition_cost"].to_numpy(float)
            joined["cost"] = cost
            grouped = joined.groupby("key", dropna=False)
            spend = grouped["cost"].sum(min_count=1)
            known = grouped["cost"].count()
            counts = grouped.size()
            # the mean recorded cost × the channel's new customers: a customer without a
            # recorded cost is not counted as free
            spend = (spend / known.where(known > 0)) * counts
        else:
            acquisition = _in(rows, when)
            acquisition = acquisition.loc[acquisition["category"] == "acquisition"]
            by_channel = acquisition.groupby(_key(acquisition["channel"]), dropna=False)
            spend = by_channel["amount"].sum()
            if not len(acquisition):
                spend = spend.astype(float)
            counts = joined.groupby("key", dropna=False).size()
        labels = joined.dropna(subset=["key"]).groupby("key")["label"].first()
        parts[name] = (spend, counts, labels)
    keys = pd.Index([])
    for spend, counts, _ in parts.values():
        keys = keys.union(spend.index, sort=False).union(counts.index, sort=False)
    if source == "costs":  # channels only in costs keep their own spelling
        channel_labels = rows.dropna(subset=["channel"]).assign(key=lambda r: _key(r["channel"]))
        fallback = channel_labels.groupby("key")["channel"].first()
    else:
        fallback = pd.Series(dtype="string")
    label = pd.concat([parts[""][2], parts["previous_"][2], fallback])
    label = label[~label.index.duplicated()]
    frame = pd.DataFrame({"acquisition_channel": [label.get(k, pd.NA) for k in keys]})
    for prefix, (spend, counts, _) in parts.items():
        frame[f"{prefix}spend"] = spend.reindex(keys).to_numpy(float)
        frame[f"{prefix}new_customers"] = counts.reindex(keys, fill_value=0).to_numpy(int)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame[f"{prefix}cac"] = np.where(
                frame[f"{prefix}new_customers"] > 0,
                frame[f"{prefix}spend"] / frame[f"{prefix}new_customers"],
                np.nan,
            )
    if source == "costs":
        for prefix, when in (("", period), ("previous_", previous)):
            if not (_in(rows, when)["category"] == "acquisition").any():
                frame[f"{prefix}cac"] = np.nan  # a period without acquisition rows: unknown
        # spend without a channel against customers without one is no channel's CAC
        frame.loc[frame["acquisition_channel"].isna(), ["cac", "previous_cac"]] = np.nan
    frame["acquisition_channel"] = frame["acquisition_channel"].astype("string")
    frame = frame[CHANNEL_COLUMNS]
    return frame.sort_values(
        ["spend", "new_customers"], ascending=False, na_position="last"
    ).reset_index(drop=True)


def _monthly(rows: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Spend per month and category over the :data:`SPEND_MONTHS` months to the period end."""
    stop = day_after(period.end)
    start = stop - pd.DateOffset(months=SPEND_MONTHS)
    inside = rows.loc[(rows["month"] >= start) & (rows["month"] < stop)]
    table = inside.groupby(["month", "category"], as_index=False)["amount"].sum()
    table["category"] = pd.Categorical(table["category"], categories=CATEGORIES)
    return table.sort_values(["month", "category"]).reset_index(drop=True)[SPEND_COLUMNS]


def costs_analysis(
    costs: pd.DataFrame | None,
    customers: pd.DataFrame,
    *,
    period: Period,
    retained: int,
    previous_retained: int,
    tickets_opened: int | None,
    previous_tickets_opened: int | None,
) -> CostsAnalysis:
    """The period CAC by acquisition channel, the retention cost per retained customer and the
    service cost per ticket, this period against the previous one.

    A month's spend counts in a period when the first day of its month lies in the period (a
    custom period from 15 July to 14 October holds August, September and October). Categories
    are read stripped and in lower case, in English or Chinese (:data:`CATEGORY_NAMES`). A
    category without any row in a period is *not recorded* there (NaN), unlike a row of 0.

    * **Period CAC** (customer acquisition cost, e.g. Kotler & Keller, *Marketing
      Management*, 15th ed., ch. 5): acquisition spend in the period ÷ customers whose
      ``signup_date`` lies in it; per channel, ``costs.channel`` matched to
      ``customers.acquisition_channel`` (stripped, case-folded). Source ``"costs"`` when the
      costs hold acquisition rows in this period; else ``"customers"``: each new customer's
      recorded ``acquisition_cost`` (the mean of those recorded, times the new customers, so a
      customer without one is not counted as free); else None (NaN). The previous period uses
      the same source. Not the CLV report's lifetime CAC.
    * **Retention cost per retained customer** (客户维系成本): retention spend in the period ÷
      ``retained``, the customers active at its start who did not churn in it (the churn
      report's ``trials − successes``).
    * **Service cost per ticket**: service spend in the period ÷ tickets opened in it (NaN
      without tickets).

    Their changes are differences without a test: spend is not a sample.

    Parameters
    ----------
    costs
        ``month, category, amount`` (``channel`` optional), or None.
    customers
        ``customer_id, signup_date`` (``acquisition_channel``, ``acquisition_cost`` optional).
    period
        The reporting period.
    retained, previous_retained
        Customers active at the start who did not churn, this and the previous period.
    tickets_opened, previous_tickets_opened
        Tickets opened in this and the previous period; None without a tickets table.

    Returns
    -------
    CostsAnalysis

    Raises
    ------
    ParameterError
        ``period`` is not a Period, a count is negative, or a required column is missing.

    Examples
    --------
    >>> from crmkit.core.periods import parse_period
    >>> spend = pd.DataFrame({"month": pd.to_datetime(["2026-07-01", "2026-08-01"]),
    ...     "category": ["acquisition", "retention"], "amount": [300.0, 80.0]})
    >>> people = pd.DataFrame({"customer_id": ["a", "b"],
    ...     "signup_date": pd.to_datetime(["2026-07-03", "2026-09-09"])})
    >>> c = costs_analysis(spend, people, period=parse_period("2026-Q3"), retained=4,
    ...     previous_retained=3, tickets_opened=None, previous_tickets_opened=None)
    >>> c.cac, c.retention_cost_per_customer, c.cac_source
    (150.0, 20.0, 'costs')
    """
    require_period(period, caller="costs_analysis")
    counts = {
        "retained": retained,
        "previous_retained": previous_retained,
        "tickets_opened": tickets_opened,
        "previous_tickets_opened": previous_tickets_opened,
    }
    for name, value in counts.items():
        if value is not None and not value >= 0:
            raise ParameterError(f"costs_analysis() needs {name} ≥ 0; got {value!r}.")
    require_columns(customers, ["customer_id", "signup_date"], "customers", "costs_analysis")
    if costs is not None and not costs.empty:
        require_columns(costs, ["month", "category", "amount"], "costs", "costs_analysis")
    previous = period.previous()
    rows = spend_rows(costs)
    now, before = _in(rows, period), _in(rows, previous)
    missing: list[str] = []
    if costs is None or costs.empty:
        missing.append("costs")
    else:
        missing += [f"costs.{c}" for c in CATEGORIES if not (now["category"] == c).any()]
        if "channel" not in costs.columns or rows["channel"].isna().all():
            missing.append("costs.channel")
    has_cost = (
        "acquisition_cost" in customers.columns and customers["acquisition_cost"].notna().any()
    )
    if not has_cost:
        missing.append("customers.acquisition_cost")
    if tickets_opened is None:
        missing.append("tickets")

    new_now = len(_new_customers(customers, period))
    new_before = len(_new_customers(customers, previous))
    source: str | None = None
    if (now["category"] == "acquisition").any():
        source = "costs"
        spent_now, spent_before = _spend(now, "acquisition"), _spend(before, "acquisition")
    elif has_cost:
        source = "customers"
        spent_now, spent_before = (
            _customer_spend(_new_customers(customers, p)) for p in (period, previous)
        )
    else:
        spent_now = spent_before = _NAN
    by_channel = pd.DataFrame(columns=CHANNEL_COLUMNS)
    if source is not None and "acquisition_channel" in customers.columns:
        by_channel = _channel_table(customers, rows, period, previous, source)
    cac, cac_before = _ratio(spent_now, new_now), _ratio(spent_before, new_before)
    kept_now, kept_before = _spend(now, "retention"), _spend(before, "retention")
    per_kept = _ratio(kept_now, retained)
    per_kept_before = _ratio(kept_before, previous_retained)
    served_now, served_before = _spend(now, "service"), _spend(before, "service")
    per_ticket = _ratio(served_now, tickets_opened)
    per_ticket_before = _ratio(served_before, previous_tickets_opened)
    return CostsAnalysis(
        period=period,
        cac=cac,
        previous_cac=cac_before,
        cac_change=_delta(cac, cac_before),
        cac_source=source,
        acquisition_spend=spent_now,
        previous_acquisition_spend=spent_before,
        new_customers=new_now,
        previous_new_customers=new_before,
        cac_by_channel=by_channel,
        retention_spend=kept_now,
        previous_retention_spend=kept_before,
        retained=int(retained),
        previous_retained=int(previous_retained),
        retention_cost_per_customer=per_kept,
        previous_retention_cost_per_customer=per_kept_before,
        retention_cost_change=_delta(per_kept, per_kept_before),
        service_spend=served_now,
        previous_service_spend=served_before,
        tickets_opened=None if tickets_opened is None else int(tickets_opened),
        previous_tickets_opened=(
            None if previous_tickets_opened is None else int(previous_tickets_opened)
        ),
        service_cost_per_ticket=per_ticket,
        previous_service_cost_per_ticket=per_ticket_before,
        service_cost_change=_delta(per_ticket, per_ticket_before),
        spend=_monthly(rows, period),
        missing=tuple(missing),
    )


def _customer_spend(joined: pd.DataFrame) -> float:
    """Acquisition spend from the new customers' recorded costs: their mean recorded cost ×
    their number (NaN when none is recorded)."""
    cost = joined["acquisition_cost"]
    return float(cost.mean() * len(joined)) if cost.notna().any() else _NAN
