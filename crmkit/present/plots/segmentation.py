"""Charts of the segmentation report; every title, axis label, legend entry and tick label in
the report's language (:mod:`crmkit.present.language`, :mod:`crmkit.present.format`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmkit.present.format import num, pct
from crmkit.present.language import words
from crmkit.present.plots.theme import PALETTE


def _numbers(ax: Axes, axis: str, *, percent: bool = False) -> None:
    """Tick labels by the report's locale: thousands separated, or percentages."""
    formatter = FuncFormatter(lambda v, _: pct(v, 0) if percent else num(v))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def plot_bars(
    table: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    xlabel: str,
    percent: bool = False,
    top: int = 12,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of ``x`` per ``y`` category, largest first (readable long labels).
    ``title`` and ``xlabel`` are the caller's words, in the report's language."""
    data = table.sort_values(x, ascending=False).head(top)
    ax = ax or plt.subplots(figsize=(8, 0.42 * len(data) + 1.3))[1]
    sns.barplot(data=data, y=data[y].astype(str), x=x, color=PALETTE[0], ax=ax)
    _numbers(ax, "x", percent=percent)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    ax.set_title(title)
    return ax


def plot_lorenz(curve: pd.DataFrame, *, top_share: float, ax: Axes | None = None) -> Axes:
    """Cumulative share of lifetime revenue against share of customers, most valuable first,
    the top 20% marked."""
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    ax.plot(curve["customer_share"], curve["value_share"], color=PALETTE[0], linewidth=2)
    ax.plot(
        [0, 1],
        [0, 1],
        color="#999",
        linestyle="--",
        linewidth=1,
        label=words("segmentation.chart_lorenz_equal"),
    )
    ax.axvline(0.2, color=PALETTE[1], linewidth=1)
    ax.annotate(
        words("segmentation.chart_lorenz_top", share=pct(top_share, 0)),
        (0.2, top_share),
        xytext=(0.3, top_share - 0.15),
        arrowprops={"arrowstyle": "->"},
    )
    _numbers(ax, "x", percent=True)
    _numbers(ax, "y", percent=True)
    ax.set_xlabel(words("segmentation.chart_lorenz_x"))
    ax.set_ylabel(words("segmentation.chart_lorenz_y"))
    ax.set_title(words("segmentation.chart_lorenz_title"))
    ax.legend(loc="lower right")
    return ax


def plot_transitions(matrix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heatmap of customers moving between lifecycle stages (rows: the previous period end;
    columns: this period end), stages already named by the caller, counts by locale."""
    ax = ax or plt.subplots(figsize=(9.5, 4.8))[1]
    labels = matrix.map(num)
    sns.heatmap(matrix, annot=labels, fmt="", cmap="Blues", cbar=False, ax=ax)
    ax.set_xlabel(words("segmentation.chart_transitions_x"))
    ax.set_ylabel(words("segmentation.chart_transitions_y"))
    ax.set_title(words("segmentation.chart_transitions_title"))
    ax.tick_params(axis="y", rotation=0)
    return ax


def plot_silhouettes(silhouettes: dict[int, float], *, chosen: int, ax: Axes | None = None) -> Axes:
    """Silhouette score per number of groups, the chosen k marked."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    ks = list(silhouettes)
    ax.plot(ks, [silhouettes[k] for k in ks], marker="o", color=PALETTE[0])
    ax.scatter(
        [chosen],
        [silhouettes[chosen]],
        s=120,
        facecolors="none",
        edgecolors=PALETTE[1],
        linewidths=2,
        zorder=3,
    )
    ax.set_xticks(ks)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: num(v, 2)))
    ax.set_xlabel(words("segmentation.chart_silhouette_x"))
    ax.set_ylabel(words("segmentation.chart_silhouette_y"))
    ax.set_title(words("segmentation.chart_silhouette_title"))
    return ax
