"""One chart theme for every report, with a font that renders Chinese, and chart helpers.

Call :func:`use_theme` once at the top of a notebook. Chart functions follow seaborn's shape:
data first, keyword-only options, an ``ax`` to draw on, and they return what they drew on;
nothing is saved or shown from here.
"""

from __future__ import annotations

from datetime import date

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from crmkit.fonts import cjk_font_path

CJK_FONT = "Noto Sans CJK SC"
PALETTE = ["#2F5D8A", "#E07B39", "#3E9B6F", "#C2474F", "#8A6BB8", "#8C7A5B", "#4FA3B8"]
PERIOD_COLOUR = "#F2D7B6"


def register_cjk_font() -> str:
    """Make Noto Sans CJK SC known to matplotlib; return its family name."""
    path = str(cjk_font_path())
    if path not in {f.fname for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(path)
    return CJK_FONT


def theme_rc() -> dict:
    """The rc settings of the crmkit theme (for ``plt.rc_context`` or :func:`use_theme`)."""
    family = register_cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "axes.titlesize": 13,
        "axes.titleweight": "normal",  # the bundled CJK font has no bold face
        "axes.titlelocation": "left",
        "axes.labelsize": 11,
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.figsize": (9, 4.2),
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "savefig.bbox": "tight",
        "legend.frameon": False,
    }


def use_theme() -> None:
    """Apply the crmkit theme to matplotlib for this session (a notebook's setup cell)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, rc=theme_rc())


def shade_period(ax: Axes, start: date | str, end: date | str, *, label: str = "period") -> Axes:
    """Shade the reporting period on a time axis."""
    ax.axvspan(
        pd.Timestamp(start),
        pd.Timestamp(end),
        color=PERIOD_COLOUR,
        alpha=0.5,
        label=label,
        zorder=0,
    )
    return ax


def thousands(ax: Axes, axis: str = "y") -> Axes:
    """Format an axis with thousands separators."""
    formatter = FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)
    return ax


def plot_monthly_volume(
    volume: pd.DataFrame,
    *,
    period_start: date | str,
    period_end: date | str,
    columns: int = 3,
) -> Figure:
    """Small multiples of rows per month, one panel per table, the period shaded.

    Parameters
    ----------
    volume
        Output of :func:`crmkit.quality.monthly_volume`: table, month, rows.
    period_start, period_end
        The reporting period, shaded in every panel.
    """
    tables = list(dict.fromkeys(volume["table"]))
    months = pd.DatetimeIndex(sorted(volume["month"].unique()))
    # Months are drawn at integer positions with fixed labels: matplotlib's date locators
    # cost most of the drawing time on a grid of small panels.
    position = pd.Series(range(len(months)), index=months)
    ticks = [k for k, m in enumerate(months) if m.month in (1, 7)]
    first = position.get(pd.Timestamp(period_start).replace(day=1), 0)
    last = position.get(pd.Timestamp(period_end).replace(day=1), len(months) - 1)
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
        Output of :func:`crmkit.quality.missing_values`.
    """
    ax = ax or plt.subplots(figsize=(8, 0.35 * min(top, len(missing)) + 1.2))[1]
    data = missing.head(top).assign(label=lambda d: d["table"] + "." + d["column"])
    sns.barplot(data=data, y="label", x="share", color=PALETTE[0], ax=ax)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of rows missing a value")
    ax.set_ylabel("")
    ax.set_title("Columns with missing values")
    return ax
