"""Charts of the relationship health review's interactions and costs: active customers by
their number of interactions, interactions per active customer by month, the channels
followed by an order, and spend by month and category.

Every word comes from the catalogue (``health_interactions.*``) or the glossary, in the
report's language; every number and month from :mod:`crmkit.present.format`. A chart
without data to draw says so inside it instead of vanishing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmkit.core.periods import Period
from crmkit.present.format import day, money, month, num, pct
from crmkit.present.language import term, words
from crmkit.present.plots.funnel import note
from crmkit.present.plots.theme import (
    PALETTE,
    legend_beside,
    month_axis,
    monthly_line,
    shade_period,
    share_axis,
)

CATEGORIES = ("acquisition", "retention", "service")  # crmkit.metrics.costs.CATEGORIES


def _w(key: str, /, **values) -> str:
    return words(f"health_interactions.{key}", **values)


def _empty(ax: Axes, title: str, text: str) -> Axes:
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.01, 0.6, text, transform=ax.transAxes, ha="left", va="top", fontsize=9, color="#666")
    return ax


def _label(value: object) -> str:
    return _w("unknown_value") if value is None or pd.isna(value) else str(value)


def plot_interactions_per_customer(per_customer: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Active customers by their number of interactions this period (0, 1, …, 10+) as bars of
    their share, the count of customers written on each bar.

    ``per_customer`` is ``InteractionsAnalysis.per_customer`` (``interactions, open_ended,
    customers, share``); empty when no customer was active.
    """
    ax = ax or plt.subplots(figsize=(8, 3.6))[1]
    if per_customer.empty:
        return _empty(ax, _w("distribution_title"), _w("no_active"))
    labels = [
        _w("or_more", n=num(n)) if open_ else num(n)
        for n, open_ in zip(per_customer["interactions"], per_customer["open_ended"], strict=True)
    ]
    x = np.arange(len(per_customer))
    shares = per_customer["share"].to_numpy(float)
    bars = ax.bar(x, shares, color=PALETTE[0], width=0.7)
    for bar, count in zip(bars, per_customer["customers"], strict=True):
        ax.annotate(
            num(count),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color="#444",
        )
    ax.set_xticks(x, labels)
    ax.set_xlabel(term("interactions_per_customer"))
    ax.set_ylabel(_w("share_of_active"))
    ax.set_ylim(0, max(shares.max() * 1.12, 0.05))
    share_axis(ax.yaxis)
    ax.grid(axis="x", visible=False)
    ax.set_title(_w("distribution_title"))
    return ax


def plot_interaction_trend(trend: pd.DataFrame, *, period: Period, ax: Axes | None = None) -> Axes:
    """Interactions per active customer in each calendar month, the reporting period shaded;
    a month cut at the period end is drawn hollow and named in a note.

    ``trend`` is ``InteractionsAnalysis.trend`` (``month, month_end, complete, interactions,
    active, per_customer``); months without a value (no records yet, no active customers) are
    left out.
    """
    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    drawn = trend.loc[np.isfinite(trend["per_customer"].to_numpy(float))]
    if drawn.empty:
        return _empty(ax, _w("trend_title"), _w("no_trend"))
    shade_period(ax, period)
    label = _w("per_active_customer")
    monthly_line(ax, trend, "per_customer", period=period, label=label, drawn=drawn)
    partial = drawn.loc[~drawn["complete"].astype(bool)]
    ax.set_ylim(0, float(drawn["per_customer"].max()) * 1.15 or 1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: num(v, 2)))
    ax.set_ylabel(_w("per_active_customer"))
    ax.set_xlabel(_w("month"))
    month_axis(ax)
    ax.set_title(_w("trend_title"))
    notes = [
        _w("partial_month", month=month(row.month), day=day(row.month_end))
        for row in partial.itertuples()
    ]
    if notes:
        note(ax, "\n".join(notes))
    legend_beside(ax)
    return ax


def plot_purchase_after(
    purchase_after: pd.DataFrame,
    *,
    overall: float,
    days: int,
    ax: Axes | None = None,
) -> Axes:
    """Per channel, the share of interactions followed by an order of the same customer within
    ``days`` days, as horizontal bars with their 95% (Wilson) intervals, and the share over
    all channels as a vertical line; each row names its interactions that could be followed.

    ``purchase_after`` is ``InteractionsAnalysis.purchase_after``; ``overall`` is
    ``InteractionsAnalysis.purchase_after_overall.value``.
    """
    title = _w("purchase_after_title", days=num(days))
    if purchase_after.empty:
        ax = ax or plt.subplots(figsize=(8, 2.5))[1]
        return _empty(ax, title, _w("purchase_after_none", days=num(days)))
    rows = len(purchase_after)
    ax = ax or plt.subplots(figsize=(8, 0.5 * rows + 1.8))[1]
    y = np.arange(rows)
    share = purchase_after["share"].to_numpy(float)
    errors = np.vstack(
        [
            share - purchase_after["low"].to_numpy(float),
            purchase_after["high"].to_numpy(float) - share,
        ]
    )
    errors = np.clip(np.nan_to_num(errors), 0, None)  # a share at 0% or 100%: no bar below
    ax.barh(y, share, color=PALETTE[0], height=0.6, label=term("purchase_after_share"))
    ax.errorbar(
        share, y, xerr=errors, fmt="none", ecolor="#333", elinewidth=1.2, capsize=3,
        label=_w("interval"),
    )  # fmt: skip
    ax.axvline(overall, color=PALETTE[3], linestyle="--", linewidth=1.3)
    ax.text(
        overall,
        -0.75,
        " " + _w("all_channels", share=pct(overall)),
        color=PALETTE[3],
        fontsize=9,
        va="bottom",
        ha="left",
    )
    ax.set_yticks(
        y,
        [
            _w("channel_row", channel=_label(c), n=num(n))
            for c, n in zip(purchase_after["channel"], purchase_after["interactions"], strict=True)
        ],
    )
    ax.set_ylim(rows - 0.4, -1.0)
    ax.set_xlim(0, min(1.0, max(float(np.nanmax(purchase_after["high"])), overall) * 1.15))
    share_axis(ax.xaxis)
    ax.set_xlabel(term("purchase_after_share"))
    ax.set_ylabel(term("interaction_channel"))
    ax.grid(axis="y", visible=False)
    ax.set_title(title)
    note(ax, _w("bar_note"))
    legend_beside(ax)
    return ax


def plot_spend_by_category(
    spend: pd.DataFrame,
    *,
    period: Period,
    currency: str = "",
    ax: Axes | None = None,
) -> Axes:
    """Spend per month as bars stacked by category (acquisition, retention, service), the
    reporting period shaded, the axis in ``currency``.

    ``spend`` is ``CostsAnalysis.spend`` (``month, category, amount``).
    """
    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    if spend.empty:
        return _empty(ax, _w("spend_title"), _w("no_spend"))
    table = spend.pivot_table(
        index="month", columns="category", values="amount", aggfunc="sum", observed=False
    ).reindex(columns=list(CATEGORIES), fill_value=0.0)
    table = table.fillna(0.0)
    shade_period(ax, period)
    bottom = np.zeros(len(table))
    for colour, category in zip(PALETTE, CATEGORIES, strict=False):
        values = table[category].to_numpy(float)
        ax.bar(
            table.index,
            values,
            bottom=bottom,
            width=22,
            color=colour,
            label=_w(f"category_{category}"),
            align="edge",
        )
        bottom += values
    ax.set_xlim(
        table.index.min() - pd.Timedelta(days=8),
        max(table.index.max() + pd.Timedelta(days=31), pd.Timestamp(period.end)),
    )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v, currency)))
    ax.set_ylabel(_w("spend_axis", currency=currency) if currency else _w("spend_axis_plain"))
    ax.set_xlabel(_w("month"))
    month_axis(ax)
    ax.grid(axis="x", visible=False)
    ax.set_title(_w("spend_title"))
    legend_beside(ax)
    return ax
