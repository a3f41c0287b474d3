"""Charts of the segmentation report."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from crmkit.present.plots.theme import (
    PALETTE,
    thousands,
)


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
    """Horizontal bars of ``x`` per ``y`` category, largest first (readable long labels)."""
    data = table.sort_values(x, ascending=False).head(top)
    ax = ax or plt.subplots(figsize=(8, 0.42 * len(data) + 1.3))[1]
    sns.barplot(data=data, y=data[y].astype(str), x=x, color=PALETTE[0], ax=ax)
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    else:
        thousands(ax, "x")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    ax.set_title(title)
    return ax


def plot_lorenz(curve: pd.DataFrame, *, top_share: float, ax: Axes | None = None) -> Axes:
    """Cumulative share of revenue against share of customers, best customers first."""
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    ax.plot(curve["customer_share"], curve["value_share"], color=PALETTE[0], linewidth=2)
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="equal value")
    ax.axvline(0.2, color=PALETTE[1], linewidth=1)
    ax.annotate(
        f"top 20% → {top_share:.0%} of revenue",
        (0.2, top_share),
        xytext=(0.3, top_share - 0.15),
        arrowprops={"arrowstyle": "->"},
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of customers (most valuable first)")
    ax.set_ylabel("share of revenue")
    ax.set_title("Revenue concentration (Pareto curve)")
    ax.legend(loc="lower right")
    return ax


def plot_transitions(matrix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heatmap of customers moving between lifecycle stages."""
    ax = ax or plt.subplots(figsize=(8, 4.5))[1]
    sns.heatmap(matrix, annot=True, fmt=",d", cmap="Blues", cbar=False, ax=ax)
    ax.set_xlabel("stage at this period end")
    ax.set_ylabel("stage at the previous period end")
    ax.set_title("Lifecycle transitions")
    return ax


def plot_silhouettes(silhouettes: dict[int, float], *, chosen: int, ax: Axes | None = None) -> Axes:
    """Silhouette score per number of clusters, the chosen k marked."""
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
    ax.set_xlabel("number of clusters (k)")
    ax.set_ylabel("silhouette (higher = better separated)")
    ax.set_title("Choosing the number of clusters")
    return ax
