"""Charts of the data-quality report; every word from the catalogue (``data_quality.*``), in
the report's language."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from crmkit.core.periods import Period
from crmkit.present.format import month, pct
from crmkit.present.language import UnknownWords, column_name, term, words
from crmkit.present.plots.theme import (
    PALETTE,
    PERIOD_COLOUR,
    thousands,
)


def table_name(table: str) -> str:
    """A contract table as the report names it ("transactions" / "订单")."""
    try:
        return words(f"data_quality.table_{table}")
    except UnknownWords:
        return table.replace("_", " ")


def plot_monthly_volume(
    volume: pd.DataFrame,
    *,
    period: Period,
    columns: int = 3,
) -> Figure:
    """Small multiples of rows per month, one panel per table (named in the report's
    language), this period shaded.

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
    # A labelled tick each January (the first month when none is shown), a bare one each
    # other quarter: month names such as "2026年7月" are too wide for more on a small panel.
    ticks = [k for k, m in enumerate(months) if m.month == 1] or [0]
    quarters = [k for k, m in enumerate(months) if m.month in (4, 7, 10)]
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
        ax.set_title(table_name(table), fontsize=11)
        ax.set_ylim(bottom=0, top=None if data["rows"].max() > 0 else 1)  # no rows: 0 to 1
        ax.set_xticks(ticks, [month(months[k]) for k in ticks])
        ax.set_xticks(quarters, minor=True)
        ax.grid(True, which="minor", axis="x", color="#EEEEEE", linewidth=0.8)
        thousands(ax)
    for ax in axes[:, 0]:
        ax.set_ylabel(words("data_quality.volume_axis"))
    for ax in list(axes.flat)[len(tables) :]:
        ax.set_visible(False)
    fig.suptitle(words("data_quality.volume_title"), x=0.01, ha="left", fontsize=13)
    return fig


def plot_missing_share(missing: pd.DataFrame, *, top: int = 15, ax: Axes | None = None) -> Axes:
    """Horizontal bars: share of missing values for the columns with the most gaps, each
    named by its table and column.

    Parameters
    ----------
    missing
        Output of :func:`crmkit.metrics.quality.missing_values`.
    """
    ax = ax or plt.subplots(figsize=(8, 0.35 * min(top, len(missing)) + 1.2))[1]
    data = missing.head(top).assign(
        label=lambda d: [
            words("data_quality.missing_label", table=table_name(t), column=column_name(c))
            for t, c in zip(d["table"], d["column"], strict=True)
        ]
    )
    sns.barplot(data=data, y="label", x="share", color=PALETTE[0], ax=ax)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: pct(v, 0)))
    ax.set_xlabel(term("missing_share"))
    ax.set_ylabel("")
    ax.set_title(words("data_quality.missing_title"))
    return ax
