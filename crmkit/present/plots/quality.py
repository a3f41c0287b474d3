"""Charts of the data-quality report."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from crmkit.core.periods import Period
from crmkit.present.plots.theme import (
    PALETTE,
    PERIOD_COLOUR,
    thousands,
)


def plot_monthly_volume(
    volume: pd.DataFrame,
    *,
    period: Period,
    columns: int = 3,
) -> Figure:
    """Small multiples of rows per month, one panel per table, the period shaded.

    Parameters
    ----------
    volume
        Output of :func:`crmkit.metrics.quality.monthly_volume`: table, month, rows.
    period
        The reporting period, shaded in every panel.
    """
    tables = list(dict.fromkeys(volume["table"]))
    months = pd.DatetimeIndex(sorted(volume["month"].unique()))
    # Months are drawn at integer positions with fixed labels: matplotlib's date locators
    # cost most of the drawing time on a grid of small panels.
    position = pd.Series(range(len(months)), index=months)
    ticks = [k for k, m in enumerate(months) if m.month in (1, 7)]
    first = position.get(pd.Timestamp(period.start).replace(day=1), 0)
    last = position.get(pd.Timestamp(period.end).replace(day=1), len(months) - 1)
    rows = max(1, -(-len(tables) // columns))
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(3.6 * columns, 2.2 * rows + 0.5),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    for ax, table in zip(axes.flat, tables, strict=False):
        data = volume.loc[volume["table"] == table]
        ax.axvspan(first - 0.5, last + 0.5, color=PERIOD_COLOUR, alpha=0.5, zorder=0)
        ax.plot(
            position[data["month"]].to_numpy(),
            data["rows"].to_numpy(),
            color=PALETTE[0],
            linewidth=1.6,
        )
        ax.set_title(table, fontsize=11)
        ax.set_ylim(bottom=0)
        ax.set_xticks(ticks, [f"{months[k]:%Y-%m}" for k in ticks])
        thousands(ax)
    for ax in axes[:, 0]:
        ax.set_ylabel("rows per month")
    for ax in list(axes.flat)[len(tables) :]:
        ax.set_visible(False)
    fig.suptitle(
        "Records per month, by table (reporting period shaded)", x=0.01, ha="left", fontsize=13
    )
    return fig


def plot_missing_share(missing: pd.DataFrame, *, top: int = 15, ax: Axes | None = None) -> Axes:
    """Horizontal bars: share of missing values for the columns with the most gaps.

    Parameters
    ----------
    missing
        Output of :func:`crmkit.metrics.quality.missing_values`.
    """
    ax = ax or plt.subplots(figsize=(8, 0.35 * min(top, len(missing)) + 1.2))[1]
    data = missing.head(top).assign(label=lambda d: d["table"] + "." + d["column"])
    sns.barplot(data=data, y="label", x="share", color=PALETTE[0], ax=ax)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of rows missing a value")
    ax.set_ylabel("")
    ax.set_title("Columns with missing values")
    return ax
