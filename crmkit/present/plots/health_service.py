"""Charts of the health review's service part: how fast tickets were resolved this period
against the previous one (Kaplan–Meier), the monthly trend of tickets per 100 active
customers and median resolution time, and median resolution time by ticket category.

Every word comes from the catalogue (``health_service.*``) or the glossary, in the report's
language; every number and month from :mod:`crmkit.present.format`. A chart without data to
draw says so inside it instead of vanishing.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmkit.core.periods import Period
from crmkit.present.format import day, month, num
from crmkit.present.language import term, words
from crmkit.present.plots.funnel import note
from crmkit.present.plots.theme import (
    PALETTE,
    legend_beside,
    month_axis,
    period_label,
    shade_period,
    share_axis,
    thousands,
)

SLA_COLOUR = "#C2474F"


def _w(key: str, /, **values) -> str:
    return words(f"health_service.{key}", **values)


def plot_resolution_curves(
    curve: Any,
    previous_curve: Any,
    *,
    sla_hours: float,
    ax: Axes | None = None,
) -> Axes:
    """The share of tickets still unresolved against hours since opening, this period and
    the previous one (Kaplan–Meier, 95% bands; tickets open at a period's end censored
    there), with the service level as a vertical line.

    ``curve`` and ``previous_curve`` are ``ServiceAnalysis.resolution.curve`` and
    ``.previous_curve`` (Kaplan–Meier curves: ``table`` with ``days`` — here hours —
    ``survival, low, high``, and ``n``). The x-axis ends at the later of
    twice the SLA and the 95th percentile of the longer curve, so a long tail does not
    squeeze the part that matters. A period without tickets is named in a note.
    """
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    ax.set_title(_w("curve_title"))
    notes, right = [], 2.0 * sla_hours
    drawn = (
        (previous_curve, period_label(previous=True), "#8C8C8C"),
        (curve, period_label(), PALETTE[0]),
    )
    for found, label, colour in drawn:
        table = found.table
        if table.empty:
            notes.append(_w("no_curve", label=label))
            continue
        hours = np.concatenate([[0.0], table["days"].to_numpy(float)])
        ax.step(
            hours,
            np.concatenate([[1.0], table["survival"]]),
            where="post",
            color=colour,
            label=_w("curve_label", label=label, n=num(found.n)),
        )
        ax.fill_between(
            hours,
            np.concatenate([[1.0], table["low"]]),
            np.concatenate([[1.0], table["high"]]),
            step="post",
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
        most = table.loc[table["survival"] <= 0.05, "days"]
        right = max(right, float(most.iloc[0]) if len(most) else float(table["days"].max()))
    ax.axvline(sla_hours, color=SLA_COLOUR, linestyle="--", linewidth=1.2)
    ax.annotate(
        _w("sla_line", hours=num(sla_hours)),
        xy=(sla_hours, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -4),
        textcoords="offset points",
        va="top",
        fontsize=9,
        color=SLA_COLOUR,
    )
    ax.set_xlim(0, right)
    ax.set_ylim(0, 1.02)
    share_axis(ax.yaxis)
    thousands(ax, "x")
    ax.set_xlabel(_w("hours_since_opened"))
    ax.set_ylabel(_w("share_unresolved"))
    if ax.get_legend_handles_labels()[0]:
        legend_beside(ax)
    if notes:
        note(ax, "\n".join(notes))
    return ax


def plot_service_trend(trend: pd.DataFrame, *, period: Period, ax: Axes | None = None) -> Axes:
    """Tickets per 100 active customers per month as bars, and the month's median
    resolution hours as a line on a second axis; the reporting period shaded, a month cut at
    the period's end drawn lighter and named in a note, months before the first ticket
    counted in a note.

    ``trend`` is ``ServiceAnalysis.trend`` (``month, month_end, complete, per_100,
    median_resolution_hours``).
    """
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    ax.set_title(_w("trend_title"))
    drawn = trend.loc[trend["per_100"].notna()] if len(trend) else trend
    if drawn.empty:
        ax.set_axis_off()
        note(ax, _w("skipped_trend"))
        return ax
    shade_period(ax, period)
    complete = drawn["complete"].astype(bool).to_numpy()
    ax.bar(  # each bar spans its month from the tick on its first day
        drawn["month"] + pd.Timedelta(days=2),
        drawn["per_100"],
        width=26,
        align="edge",
        color=[PALETTE[0] if c else "#A9BCD0" for c in complete],
        label=term("tickets_per_100"),
    )
    ax.set_ylim(bottom=0)
    ax.set_ylabel(term("tickets_per_100"))
    ax.set_xlabel(_w("month"))
    line = ax.twinx()
    line.plot(
        drawn["month"] + pd.Timedelta(days=14),
        drawn["median_resolution_hours"],
        marker="o",
        color=PALETTE[1],
        label=term("median_resolution_hours"),
    )
    line.set_ylim(bottom=0)
    line.set_ylabel(term("median_resolution_hours"))
    line.grid(False)
    line.spines["right"].set_visible(True)
    margin = pd.Timedelta(days=6)
    ax.set_xlim(trend["month"].min() - margin, trend["month"].max() + pd.Timedelta(days=36))
    month_axis(ax)
    handles, labels = [], []
    for axis in (ax, line):
        h, lab = axis.get_legend_handles_labels()
        handles, labels = handles + h, labels + lab
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.08, 1.0))
    notes = [
        _w("partial_month", month=month(row.month), day=day(row.month_end))
        for row in drawn.loc[~complete].itertuples()
    ]
    empty = int(trend["per_100"].isna().sum())
    if empty:
        notes.append(_w("months_without_tickets", months=num(empty)))
    if notes:
        note(ax, "\n".join(notes))
    return ax


def plot_category_resolution(by_category: pd.DataFrame | None, *, ax: Axes | None = None) -> Axes:
    """Median resolution hours per ticket category as bars (most tickets on top), the
    previous period's median as a mark on each bar; categories whose median is not reached
    (fewer than half resolved by the period's end) are named in a note.

    ``by_category`` is ``ServiceAnalysis.by_category``; None draws a note.
    """
    rows = 0 if by_category is None else len(by_category)
    ax = ax or plt.subplots(figsize=(9, 0.45 * rows + 1.6))[1]
    ax.set_title(_w("category_title"))
    if not rows:
        ax.set_axis_off()
        note(ax, _w("skipped_category"))
        return ax
    names = by_category["category"].astype(str).tolist()
    now = by_category["median_resolution_hours"].to_numpy(float)
    before = by_category["previous_median_resolution_hours"].to_numpy(float)
    positions = np.arange(rows)
    ax.barh(positions, np.nan_to_num(now), color=PALETTE[0], height=0.6, label=period_label())
    ax.plot(
        before,
        positions,
        linestyle="none",
        marker="|",
        markersize=18,
        markeredgewidth=2.5,
        color="#333",
        label=period_label(previous=True),
    )
    for y, value in zip(positions, now, strict=True):
        if np.isfinite(value):
            ax.annotate(
                num(value, 1),
                (value, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
    ax.set_yticks(positions, names)
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    thousands(ax, "x")
    ax.set_xlabel(term("median_resolution_hours"))
    ax.set_ylabel(term("ticket_category"))
    legend_beside(ax)
    missing = [name for name, value in zip(names, now, strict=True) if not np.isfinite(value)]
    if missing:
        note(ax, _w("not_reached", categories=_w("list_separator").join(missing)))
    return ax
