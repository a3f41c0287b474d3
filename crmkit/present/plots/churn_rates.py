"""Charts of the churn report's rates and retention cohorts: the monthly churn rate and the
signup-cohort heatmap.

Every word comes from the catalogue (``churn_rates.*``) or the glossary, in the report's
language; every number and month from :mod:`crmkit.present.format`. A chart without data to
draw says so inside it instead of vanishing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from crmkit.core.periods import Period
from crmkit.present.format import day, month, num, pct
from crmkit.present.language import term, words
from crmkit.present.plots.theme import (
    PALETTE,
    legend_beside,
    month_axis,
    monthly_line,
    shade_period,
    share_axis,
)

COHORT_MONTHS = 24  # signup months the cohort table keeps (crmkit.metrics.churn_rates)


def _w(key: str, /, **values) -> str:
    return words(f"churn_rates.{key}", **values)


def _note(ax: Axes, text: str, *, y: float = 0.97) -> None:
    """A sentence inside the chart saying what is not drawn."""
    ax.text(0.01, y, text, transform=ax.transAxes, ha="left", va="top", fontsize=9, color="#666")


def _floor(value: float) -> float:
    """The colour scale's low end: the lowest share shown, down to a step of 5 percent (0
    when nothing is shown), so high retention still shows its differences; at most 95%, so
    a table of 100% cells keeps a scale that ends at 100% (equal ends would stretch it to
    110%)."""
    return 0.0 if pd.isna(value) else min(float(np.floor(value * 20) / 20), 0.95)


def _month_runs(months: pd.Series) -> str:
    """Months named for a note, consecutive ones as one span: "Oct 2025–Jul 2026, Sep 2026"
    (a young unit's twelve empty months would otherwise run off the chart)."""
    runs: list[list[pd.Period]] = []
    for m in sorted(pd.Timestamp(v).to_period("M") for v in months):
        if runs and (m - runs[-1][1]).n == 1:
            runs[-1][1] = m
        else:
            runs.append([m, m])
    return words("report.list_separator").join(
        month(a.start_time) if a == b else f"{month(a.start_time)}–{month(b.start_time)}"
        for a, b in runs
    )


def plot_churn_trend(trend: pd.DataFrame, *, period: Period, ax: Axes | None = None) -> Axes:
    """The churn rate of each month with its 95% band, the reporting period shaded.

    ``trend`` is ``ChurnRates.trend`` (``month, month_end, complete, active_at_start,
    churned, churn_rate, low, high``). A month cut short at the period's end is drawn hollow
    and named in a note; months without customers active at their start are named in a note
    instead of a point.
    """
    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    ax.set_title(_w("trend_title"))
    drawn = trend.loc[trend["active_at_start"] > 0]
    if drawn.empty:
        ax.set_axis_off()
        _note(ax, _w("no_trend", months=num(len(trend))), y=0.6)
        return ax
    shade_period(ax, period)
    ax.fill_between(
        drawn["month"],
        drawn["low"],
        drawn["high"],
        color=PALETTE[0],
        alpha=0.15,
        linewidth=0,
        label=_w("interval"),
    )
    monthly_line(ax, trend, "churn_rate", period=period, label=term("churn_rate"), drawn=drawn)
    partial = drawn.loc[~drawn["complete"].astype(bool)]
    ax.set_ylim(bottom=0)
    share_axis(ax.yaxis)
    ax.set_ylabel(term("churn_rate"))
    ax.set_xlabel(_w("month"))
    month_axis(ax)
    notes = []
    empty = trend.loc[trend["active_at_start"] <= 0, "month"]
    if len(empty):
        notes.append(_w("months_without_customers", months=_month_runs(empty)))
    notes += [
        _w("partial_month", month=month(row.month), day=day(row.month_end))
        for row in partial.itertuples()
    ]
    if notes:
        _note(ax, "\n".join(notes))
    legend_beside(ax)
    return ax


def plot_cohort_heatmap(cohorts: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The share of each signup month's customers retained at the end of each month since
    signup, as a heatmap with the percentages written in; cells whose month has not ended
    are hatched and left blank, and each row names its signup month and customers.

    ``cohorts`` is ``ChurnRates.cohorts`` (``signup_month, months_since_signup, customers,
    retention, complete``); months after the last one with an ended cell are left out.
    """
    if cohorts.empty:
        ax = ax or plt.subplots(figsize=(9, 2.5))[1]
        ax.set_axis_off()
        ax.set_title(_w("cohort_title"))
        _note(ax, _w("no_cohorts", months=num(COHORT_MONTHS)), y=0.6)
        return ax
    shown = cohorts.loc[
        cohorts["months_since_signup"]
        <= cohorts.loc[cohorts["complete"], "months_since_signup"].max()
    ]
    table = shown.pivot(index="signup_month", columns="months_since_signup", values="retention")
    done = shown.pivot(index="signup_month", columns="months_since_signup", values="complete")
    sizes = shown.groupby("signup_month")["customers"].first().reindex(table.index)
    rows, columns = table.shape
    ax = ax or plt.subplots(figsize=(max(6.0, 0.46 * columns + 3), 0.34 * rows + 1.9))[1]
    labels = table.map(lambda v: "" if pd.isna(v) else pct(v, 0))
    sns.heatmap(
        table.astype(float),
        annot=labels.to_numpy(),
        fmt="",
        cmap="Blues",
        vmin=_floor(table.min().min()),
        vmax=1,
        linewidths=0.5,
        linecolor="white",
        annot_kws={"fontsize": 7 if columns > 12 else 8},
        cbar_kws={
            "format": FuncFormatter(lambda v, _: pct(v, 0)),
            "label": term("cohort_retention"),
        },
        ax=ax,
    )
    for r, c in zip(*np.nonzero(~done.to_numpy(dtype=bool)), strict=True):
        ax.add_patch(
            Rectangle((c, r), 1, 1, fill=False, hatch="///", edgecolor="#C8C8C8", linewidth=0)
        )
    ax.set_xticks(np.arange(columns) + 0.5, [num(k) for k in table.columns], rotation=0)
    ax.set_yticks(
        np.arange(rows) + 0.5,
        [_w("cohort_row", month=month(m), customers=num(n)) for m, n in sizes.items()],
        rotation=0,
    )
    ax.set_xlabel(term("months_since_signup"))
    ax.set_ylabel(term("signup_month"))
    ax.set_title(_w("cohort_title"))
    ax.annotate(
        _w("cohort_incomplete"),
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -38),
        textcoords="offset points",
        va="top",
        fontsize=9,
        color="#666",
    )
    return ax
