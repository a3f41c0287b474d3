"""Charts of the sales-funnel report."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from crmkit.core.periods import Period
from crmkit.present.plots.theme import (
    PALETTE,
    legend_beside,
    plot_group_intervals,
    shade_period,
    thousands,
)


def plot_funnel(
    current: pd.DataFrame, previous: pd.DataFrame | None, *, ax: Axes | None = None
) -> Axes:
    """Opportunities reaching each stage, this period beside the previous one, with the step
    conversion written on each bar (tables from :func:`crmkit.metrics.funnel.funnel_table`).
    ``previous`` None: no comparable previous cohort, this period's bars alone."""
    stages = list(current["stage"])
    ax = ax or plt.subplots(figsize=(9, 0.75 * len(stages) + 1.4))[1]
    rows = range(len(stages))
    height = 0.38 if previous is not None else 0.6
    shift = height / 2 if previous is not None else 0.0
    ax.barh(
        [r - shift for r in rows], current["reached"], height, color=PALETTE[0], label="this period"
    )
    widest = max(current["reached"].max(), 1 if previous is None else previous["reached"].max(), 1)
    for r, (reached, rate) in enumerate(
        zip(current["reached"], current["step_conversion"], strict=True)
    ):
        step = "" if pd.isna(rate) else f"  ({rate:.0%} of those decided at the stage before)"
        ax.text(reached + widest * 0.01, r - shift, f"{reached:,}{step}", va="center", fontsize=9.5)
    if previous is not None:
        ax.barh(
            [r + shift for r in rows],
            previous["reached"],
            height,
            color="#A9BFD4",
            label="previous period",
        )
        for r, reached in enumerate(previous["reached"]):
            ax.text(
                reached + widest * 0.01,
                r + shift,
                f"{reached:,}",
                va="center",
                fontsize=9,
                color="#555",
            )
    ax.set_yticks(list(rows), stages)
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.55)
    ax.set_xlabel("opportunities reaching the stage")
    thousands(ax, "x")
    ax.set_title("Funnel: opportunities created in the period, by the furthest stage reached")
    ax.legend(loc="lower right")
    return ax


def plot_conversion_window(
    window: pd.DataFrame, *, window_days: int, ax: Axes | None = None
) -> Axes:
    """Share won within the window, by creation month, with its 95% band; months whose
    window has not yet passed are hollow."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    done = window.loc[window["complete"]]
    maturing = window.loc[~window["complete"]]
    ax.fill_between(
        done["month"],
        done["low"],
        done["high"],
        color=PALETTE[0],
        alpha=0.15,
        linewidth=0,
        label="95% interval",
    )
    ax.plot(
        done["month"],
        done["conversion"],
        marker="o",
        color=PALETTE[0],
        label=f"won within {window_days} days",
    )
    if len(maturing):
        ax.plot(
            maturing["month"],
            maturing["conversion"],
            marker="o",
            linestyle="",
            markerfacecolor="white",
            color=PALETTE[0],
            label="window still open",
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("month the opportunity was created")
    ax.set_ylabel("share won")
    ax.set_title(f"Conversion to won within {window_days} days of creation, by creation month")
    legend_beside(ax)
    return ax


def plot_stage_durations(durations: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Median, 75th and 90th percentile days in each stage (movers only)."""
    data = durations.melt(
        id_vars="stage",
        value_vars=["median", "p75", "p90"],
        var_name="statistic",
        value_name="days",
    )
    data["statistic"] = data["statistic"].map(
        {"median": "median", "p75": "75th percentile", "p90": "90th percentile"}
    )
    ax = ax or plt.subplots(figsize=(9, 0.7 * len(durations) + 1.6))[1]
    sns.barplot(
        data=data,
        y="stage",
        x="days",
        hue="statistic",
        orient="h",
        palette=[PALETTE[0], "#6F93B8", "#A9BFD4"],
        ax=ax,
    )
    ax.set_xlabel("days in the stage before moving on")
    ax.set_ylabel("")
    ax.set_title("Time in stage, opportunities that moved on")
    ax.legend(title="")
    return ax


def plot_cycle_curves(curves: dict, *, ax: Axes | None = None) -> Axes:
    """Kaplan–Meier curves drawn as the share won by day t (1 − survival), with bands."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    for k, (label, curve) in enumerate(curves.items()):
        table = curve.table
        if table.empty:
            continue
        days = [0.0, *table["days"]]
        won = [0.0, *(1 - table["survival"])]
        colour = PALETTE[k % len(PALETTE)]
        ax.step(days, won, where="post", color=colour, label=f"{label} ({curve.n:,} deals)")
        ax.fill_between(
            days,
            [0.0, *(1 - table["high"])],
            [0.0, *(1 - table["low"])],
            step="post",
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.set_xlim(left=0)
    ax.set_xlabel("days since the opportunity was created")
    ax.set_ylabel("share won (Kaplan–Meier)")
    ax.set_title("Sales cycle: share of won-or-open deals won by each day (open deals censored)")
    if ax.get_legend_handles_labels()[0]:  # no curve to draw: no legend either
        ax.legend(loc="upper left")
    return ax


def plot_cycle_trend(
    trend: pd.DataFrame,
    *,
    period: Period,
    ax: Axes | None = None,
) -> Axes:
    """Median days to won by the month deals were won, the middle half shaded."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    shade_period(ax, period)
    ax.fill_between(
        trend["month"],
        trend["p25"],
        trend["p75"],
        color=PALETTE[0],
        alpha=0.15,
        linewidth=0,
        label="middle half of deals",
    )
    ax.plot(trend["month"], trend["median"], marker="o", color=PALETTE[0], label="median")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("month the deal was won")
    ax.set_ylabel("days from creation to won")
    ax.set_title("Sales cycle by month won")
    legend_beside(ax)
    return ax


def plot_breakdown(table: pd.DataFrame, *, metric: str, title: str, ax: Axes | None = None) -> Axes:
    """One metric of :func:`crmkit.metrics.funnel.breakdown` per group: point and 95% interval;
    groups too small to judge in grey."""
    data = table.loc[(table["metric"] == metric) & (table["trials"] > 0)]
    data = data.sort_values("conversion", ascending=False)
    ax = plot_group_intervals(
        data,
        value="conversion",
        low="low",
        high="high",
        notes=[f"{n:,} decided" for n in data["trials"]],
        ax=ax,
    )
    ax.set_xlim(0, min(1.0, float(data["high"].max()) + 0.05) if len(data) else 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"{metric.replace('->', ' → ')} with 95% interval")
    ax.set_title(title)
    return ax
