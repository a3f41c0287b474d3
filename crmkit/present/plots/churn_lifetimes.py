"""Charts of customer lifetimes and stated churn reasons.

Every word comes from the ``churn_lifetimes`` catalogue or the glossary, in the report's
language; every number and day from :mod:`crmkit.present.format`. A curve without customers
is named in a note in the chart instead of vanishing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmkit.present.format import day, num, pct
from crmkit.present.language import term, words
from crmkit.present.plots.funnel import note
from crmkit.present.plots.theme import PALETTE, legend_beside, share_axis

NOTE_COLOUR = "#666"
LINE_STYLES = ["-", "--", "-."]
"""Line styles of the curves once the palette's colours come round again."""


def _w(key: str, /, **values) -> str:
    return words(f"churn_lifetimes.{key}", **values)


def _steps(curve: Any) -> tuple[list[float], list[float], list[float], list[float]]:
    """The curve as steps from month 0 (all still customers) to the longest time observed:
    times, survival, band low, band high."""
    table = curve.table
    times = [0.0, *table["days"].astype(float)]
    survival = [1.0, *table["survival"].astype(float)]
    low = [1.0, *table["low"].astype(float)]
    high = [1.0, *table["high"].astype(float)]
    if np.isfinite(curve.longest) and curve.longest > times[-1]:
        times.append(float(curve.longest))
        survival.append(survival[-1])
        low.append(low[-1])
        high.append(high[-1])
    return times, survival, low, high


def plot_lifetime_curves(
    curves: Mapping[str, Any],
    *,
    by: str = "",
    as_of: date | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Kaplan–Meier curves of the share still a customer by month, one per group, with
    their 95% bands; each group's legend entry gives its customers (n) and its median
    lifetime, which is marked on the half line. Where no curve comes near one half, the
    share axis starts just under the lowest band, so curves that stay high are told apart.

    Parameters
    ----------
    curves
        :class:`crmkit.metrics.survival.SurvivalCurve` by legend label, already named for
        reading (the churn topic's ``named_curves``).
    by
        The breakdown's name for the title (``region`` → "地区"); empty for all customers.
    as_of
        The day lifetimes count from (the RFM segment's scoring day), None for signup.
    """
    ax = ax or plt.subplots(figsize=(9, 4.4))[1]
    left_out, lowest, medians = [], 1.0, False
    shade = 0.15 if len(curves) <= 4 else 0.07  # many bands over each other turn to mud
    for k, (label, curve) in enumerate(curves.items()):
        if not curve.n:
            left_out.append(_w("chart_curve_empty", label=label))
            continue
        colour = PALETTE[k % len(PALETTE)]
        style = LINE_STYLES[(k // len(PALETTE)) % len(LINE_STYLES)]  # colours come round again
        times, survival, low, high = _steps(curve)
        lowest = min(lowest, *low)
        name = _w("chart_curve_label", label=label, n=num(curve.n))
        if np.isfinite(curve.median):
            name += " · " + _w("chart_median", months=num(curve.median, 1))
        ax.step(
            times, survival, where="post", color=colour, linestyle=style, linewidth=1.8,
            label=name,
        )  # fmt: skip
        ax.fill_between(times, low, high, step="post", color=colour, alpha=shade, linewidth=0)
        if np.isfinite(curve.median):
            medians = True
            ax.plot([curve.median] * 2, [0, 0.5], color=colour, linestyle=":", linewidth=1.2)
            ax.plot(curve.median, 0.5, "o", color=colour, markersize=5)
    share_axis(ax.yaxis)
    # the whole scale where a median is marked; else from just under the lowest band, so
    # curves that all stay high are told apart (the ticks say where the axis starts)
    bottom = 0.0 if medians or lowest <= 0.5 else math.floor(lowest * 10 - 0.5) / 10
    ax.set_ylim(bottom, 1.02)
    ax.set_xlim(left=0)
    if bottom < 0.5:
        ax.axhline(0.5, color="#999", linewidth=0.8, linestyle="--", zorder=1)
        ax.text(
            1.0, 0.5, _w("chart_half"), transform=ax.get_yaxis_transform(), fontsize=9,
            color="#999", ha="right", va="bottom",
        )  # fmt: skip
    xlabel = _w("chart_curves_segment_axis", day=day(as_of)) if as_of else term("lifetime_months")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(term("still_customers"))
    ax.set_title(_w("chart_curves_title", by=by) if by else _w("chart_curves_title_overall"))
    if ax.get_legend_handles_labels()[0]:
        legend_beside(ax)
    if not curves:
        left_out.append(_w("chart_no_curves"))
    if left_out:
        note(ax, "\n".join(left_out))
    return ax


def plot_reason_pareto(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The stated reasons as a Pareto chart: each reason's share of the stated reasons as a
    bar, most frequent first, and the cumulative share as a line.

    Parameters
    ----------
    table
        :attr:`crmkit.metrics.churn_reasons.ChurnReasons.table` (``reason, churns, share,
        cumulative_share``); reasons without churn this period are not drawn.
    """
    rows = table.loc[table["churns"] > 0]
    width = max(6.0, min(12.0, 1.0 + 0.9 * len(rows)))
    ax = ax or plt.subplots(figsize=(width, 4.2))[1]
    if rows.empty:
        ax.set_xticks([])
        share_axis(ax.yaxis)
        ax.set_title(_w("chart_pareto_title"))
        ax.text(
            0.5, 0.5, _w("chart_pareto_none"), transform=ax.transAxes, ha="center",
            va="center", color=NOTE_COLOUR,
        )  # fmt: skip
        return ax
    at = np.arange(len(rows))
    ax.bar(at, rows["share"], color=PALETTE[0], label=term("reason_share"))
    for x, share in zip(at, rows["share"].astype(float), strict=True):
        inside = share >= 0.08  # inside the bar's top, clear of the cumulative line's point
        ax.annotate(
            pct(share),
            (x, share),
            xytext=(0, -4 if inside else 3),
            textcoords="offset points",
            ha="center",
            va="top" if inside else "bottom",
            fontsize=9,
            color="white" if inside else "#333",
        )
    ax.plot(
        at,
        rows["cumulative_share"],
        color=PALETTE[1],
        marker="o",
        label=term("reason_cumulative_share"),
    )
    names = [str(r) for r in rows["reason"]]
    long = max(len(n) for n in names) > 8 or len(names) > 6
    ax.set_xticks(at, names, rotation=30 if long else 0, ha="right" if long else "center")
    share_axis(ax.yaxis)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel(term("reason"), labelpad=10)
    ax.set_ylabel(term("reason_share"))
    ax.set_title(_w("chart_pareto_title"))
    legend_beside(ax)
    return ax
