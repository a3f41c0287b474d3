"""Charts of the satisfaction and NPS report."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from crmkit.core.periods import Period
from crmkit.present.plots.theme import (
    PALETTE,
    label_points,
    legend_beside,
    plot_group_intervals,
    shade_period,
)

NPS_COLOURS = {"detractor": "#C2474F", "passive": "#B8B8B8", "promoter": "#3E9B6F"}


def plot_nps_distribution(distribution: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Responses per likelihood-to-recommend score, coloured detractor/passive/promoter."""
    ax = ax or plt.subplots(figsize=(9, 3.6))[1]
    colours = [
        NPS_COLOURS["detractor"]
        if s <= 6
        else NPS_COLOURS["passive"]
        if s <= 8
        else NPS_COLOURS["promoter"]
        for s in distribution["score"]
    ]
    ax.bar(distribution["score"], distribution["share"], color=colours)
    ax.set_xticks(range(11))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("likelihood to recommend (0–10): detractors 0–6, passives 7–8, promoters 9–10")
    ax.set_ylabel("share of responses")
    ax.set_title("How likely to recommend us")
    return ax


def plot_csat_distribution(distribution: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Responses per CSAT score (1–5), the satisfied 4–5 in green."""
    ax = ax or plt.subplots(figsize=(9, 3.2))[1]
    colours = [PALETTE[2] if s >= 4 else "#B8B8B8" for s in distribution["score"]]
    ax.bar(distribution["score"], distribution["share"], color=colours)
    ax.set_xticks(range(1, 6))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("satisfaction score (1–5): 4 and 5 count as satisfied")
    ax.set_ylabel("share of responses")
    ax.set_title("Satisfaction scores")
    return ax


def plot_score_trend(
    trend: pd.DataFrame,
    *,
    metric: str,
    period: Period,
    ax: Axes | None = None,
) -> Axes:
    """Monthly NPS or CSAT with its 95% band, the period shaded."""
    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    shade_period(ax, period)
    ax.fill_between(
        trend["month"],
        trend[f"{metric}_low"],
        trend[f"{metric}_high"],
        color=PALETTE[0],
        alpha=0.15,
        linewidth=0,
        label="95% interval",
    )
    ax.plot(trend["month"], trend[metric], marker="o", color=PALETTE[0], label=metric.upper())
    if metric == "csat":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel("share scoring 4–5")
    else:
        ax.axhline(0, color="#999", linewidth=0.8)
        ax.set_ylabel("NPS (−100 to 100)")
    ax.set_xlabel("month")
    ax.set_title(f"{metric.upper()} by month")
    legend_beside(ax)
    return ax


def plot_nps_breakdown(table: pd.DataFrame, *, title: str, ax: Axes | None = None) -> Axes:
    """NPS per group with its 95% interval; groups too small to judge in grey."""
    data = table.sort_values("nps", ascending=False)
    ax = plot_group_intervals(
        data,
        value="nps",
        low="nps_low",
        high="nps_high",
        notes=[f"{n:,} responses" for n in data["responses"]],
        ax=ax,
    )
    ax.axvline(0, color="#999", linewidth=0.8)
    ax.set_xlabel("NPS with 95% interval")
    ax.set_title(title)
    return ax


def plot_importance_performance(quadrants: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Importance (share of explained NPS variance) against performance (mean score), split
    at the means: the top-left quadrant is what to fix first."""
    ax = ax or plt.subplots(figsize=(8, 5.5))[1]
    x_mid, y_mid = quadrants["performance"].mean(), quadrants["importance"].mean()
    ax.axvline(x_mid, color="#999", linewidth=0.8, linestyle="--")
    ax.axhline(y_mid, color="#999", linewidth=0.8, linestyle="--")
    colours = {
        "fix first": PALETTE[3],
        "keep it up": PALETTE[2],
        "low priority": "#999",
        "possible overkill": PALETTE[1],
    }
    for row in quadrants.itertuples():
        ax.scatter(row.performance, row.importance, s=80, color=colours[row.quadrant], zorder=3)
    pad_x = max(0.15, 0.2 * (quadrants["performance"].max() - quadrants["performance"].min()))
    ax.set_xlim(quadrants["performance"].min() - pad_x, quadrants["performance"].max() + pad_x)
    top = max(quadrants["importance"].max() * 1.2, y_mid * 2)
    ax.set_ylim(-0.04 * top, top)  # points of ~0 importance sit clear of the axis
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    for text, x, y, ha, va in [
        ("fix first", 0.02, 0.98, "left", "top"),
        ("keep it up", 0.98, 0.98, "right", "top"),
        ("low priority", 0.02, 0.02, "left", "bottom"),
        ("possible overkill", 0.98, 0.02, "right", "bottom"),
    ]:
        ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, color=colours[text], fontsize=10)
    label_points(
        ax,
        quadrants["performance"],
        quadrants["importance"],
        [d.removeprefix("dim_").replace("_", " ") for d in quadrants["dimension"]],
    )
    ax.set_xlabel("performance: mean score (1–5)")
    ax.set_ylabel("importance: share of explained NPS variance")
    ax.set_title("Importance against performance of each dimension")
    return ax
