"""The chart theme every report shares (a font that renders Chinese) and drawing helpers.

Call :func:`use_theme` once at the top of a notebook. Chart functions follow seaborn's shape:
data first, keyword-only options, an ``ax`` to draw on, and they return what they drew on;
nothing is saved or shown from here.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmkit.core.periods import Period
from crmkit.present.fonts import cjk_font_path

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


def shade_period(ax: Axes, period: Period, *, label: str = "period") -> Axes:
    """Shade the reporting period on a time axis."""
    ax.axvspan(
        pd.Timestamp(period.start),
        pd.Timestamp(period.end),
        color=PERIOD_COLOUR,
        alpha=0.5,
        label=label,
        zorder=0,
    )
    return ax


def legend_beside(ax: Axes, **kwargs) -> Axes:
    """The legend to the right of the plot, where it can never cover a point or a band."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), **kwargs)
    return ax


def label_points(ax: Axes, xs, ys, labels, *, fontsize: float = 10) -> Axes:
    """Name each point beside it, in the spot around it that keeps the name inside the plot
    and covers the least of the other names, texts and points (close points otherwise print
    their names over each other). Call it after the axis limits and any fixed texts are set."""
    from matplotlib.transforms import Bbox

    spots = [(7, 5, "left", "bottom"), (7, -5, "left", "top"), (-7, 5, "right", "bottom")]
    spots += [(-7, -5, "right", "top"), (0, 9, "center", "bottom"), (0, -9, "center", "top")]
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = [text.get_window_extent(renderer) for text in ax.texts]
    radius = 5 * ax.figure.dpi / 72  # a scatter marker of s=80 is ~9 points across
    centres = ax.transData.transform(list(zip(xs, ys, strict=True)))
    markers = [
        Bbox.from_extents(x - radius, y - radius, x + radius, y + radius) for x, y in centres
    ]

    def covered(box: Bbox, own: int) -> float:
        others = taken + [m for i, m in enumerate(markers) if i != own]
        area = sum(
            max(0.0, min(box.x1, o.x1) - max(box.x0, o.x0))
            * max(0.0, min(box.y1, o.y1) - max(box.y0, o.y0))
            for o in others
        )
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1
        inside = inside and frame.y0 <= box.y0 and box.y1 <= frame.y1
        return area + (0.0 if inside else box.width * box.height)

    for i, (x, y, label) in enumerate(zip(xs, ys, labels, strict=True)):
        text = ax.annotate(
            label, (x, y), xytext=spots[0][:2], textcoords="offset points", fontsize=fontsize
        )
        best = None
        for dx, dy, ha, va in spots:
            text.set(position=(dx, dy), ha=ha, va=va)
            cost = covered(text.get_window_extent(renderer), i)
            if best is None or cost < best[0]:
                best = (cost, dx, dy, ha, va)
            if cost == 0:
                break
        _, dx, dy, ha, va = best
        text.set(position=(dx, dy), ha=ha, va=va)
        taken.append(text.get_window_extent(renderer))
    return ax


def thousands(ax: Axes, axis: str = "y") -> Axes:
    """Format an axis with thousands separators."""
    formatter = FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)
    return ax


def plot_group_intervals(
    data: pd.DataFrame,
    *,
    value: str,
    low: str,
    high: str,
    notes: list[str],
    ax: Axes | None,
) -> Axes:
    """One row per group: the value as a point, its interval as a bar, a note on the right;
    coloured by the group's verdict (:func:`crmkit.metrics.stats.verdicts`)."""
    ax = ax or plt.subplots(figsize=(9, 0.45 * len(data) + 1.5))[1]
    for r, (row, note) in enumerate(zip(data.itertuples(), notes, strict=True)):
        verdict = row.verdict
        colour = (
            "#999"
            if verdict == "too few to judge"
            else PALETTE[2]
            if verdict.endswith("above the rest")
            else PALETTE[3]
            if verdict.endswith("below the rest")
            else PALETTE[0]
        )
        ax.plot(
            [getattr(row, low), getattr(row, high)], [r, r], color=colour, linewidth=2.5, alpha=0.6
        )
        ax.plot(getattr(row, value), r, "o", color=colour)
        ax.text(
            1.01,
            r,
            f"{note} · {verdict}",
            va="center",
            fontsize=9,
            color=colour,
            transform=ax.get_yaxis_transform(),
        )
    ax.set_yticks(range(len(data)), [str(g) for g in data["group"]])
    ax.invert_yaxis()
    return ax
