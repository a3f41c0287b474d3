"""The chart theme every report shares (a font that renders Chinese) and drawing helpers.

Call :func:`use_theme` once at the top of a notebook. Chart functions follow seaborn's shape:
data first, keyword-only options, an ``ax`` to draw on, and they return what they drew on;
nothing is saved or shown from here.

Every word these helpers draw comes from the catalogue in the report's language
(``common.this_period``, ``common.previous_period``, ``common.verdict_*``), and every number
and month from :mod:`crmkit.present.format`.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator

from crmkit.core.periods import Period
from crmkit.present.fonts import cjk_font_path
from crmkit.present.format import month, num, pct
from crmkit.present.language import all_languages, words

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


def period_label(*, previous: bool = False) -> str:
    """The legend entry of the reporting period ("this period" / "本期"), or of the previous
    one, in the report's language: one name for it on every chart."""
    return words("common.previous_period" if previous else "common.this_period")


def shade_period(ax: Axes, period: Period, *, label: str | None = None) -> Axes:
    """Shade the reporting period on a time axis; its legend entry is :func:`period_label`
    unless ``label`` says otherwise."""
    label = period_label() if label is None else label
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
    """A count axis: whole-number ticks with thousands separators, in the report's locale
    (a small range ticked at 0.5 steps read "0 0 1 1 2" once each was rounded)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))
    target.set_major_formatter(FuncFormatter(lambda v, _: num(v)))
    return ax


def month_axis(ax: Axes, axis: str = "x", *, most: int = 8) -> Axes:
    """Ticks on the first of a month, at most ``most`` of them (every month, or every 2nd,
    3rd, 4th or 6th counted from January, or each January), written by
    :func:`crmkit.present.format.month` in the report's language (``Sep 2026`` /
    ``2026年9月``) on a date axis. Call it after drawing the data."""
    import matplotlib.dates as mdates

    target = ax.xaxis if axis == "x" else ax.yaxis
    low, high = ax.get_xlim() if axis == "x" else ax.get_ylim()
    months = max(1, round((high - low) / 30.44))
    step = next((s for s in (1, 2, 3, 4, 6, 12, 24, 60) if months / s <= most), 120)
    locator = (
        mdates.MonthLocator(bymonth=range(1, 13, step), bymonthday=1)
        if step < 12
        else mdates.YearLocator(step // 12)
    )
    target.set_major_locator(locator)
    target.set_major_formatter(FuncFormatter(lambda v, _: month(mdates.num2date(v))))
    return ax


def monthly_line(
    ax: Axes, trend: pd.DataFrame, column: str, *, period: Period, label: str, drawn=None
) -> Axes:
    """A monthly figure as a line: a month cut at the period end (``complete`` False) drawn
    hollow, and the months framed with half a month either side, through the period end.

    ``trend`` holds every month (``month``, ``complete``); ``drawn`` the rows that have a
    value (all of ``trend`` when None)."""
    drawn = trend if drawn is None else drawn
    ax.plot(drawn["month"], drawn[column], marker="o", color=PALETTE[0], label=label)
    partial = drawn.loc[~drawn["complete"].astype(bool)]
    ax.plot(
        partial["month"],
        partial[column],
        "o",
        markerfacecolor="white",
        markeredgecolor=PALETTE[0],
        zorder=3,
    )
    margin = pd.Timedelta(days=15)
    right = max(trend["month"].max() + margin, pd.Timestamp(period.end) + pd.Timedelta(days=1))
    ax.set_xlim(trend["month"].min() - margin, right)
    return ax


VERDICTS = ("too_few", "above", "below", "no_difference")
"""The verdicts of :func:`crmkit.metrics.stats.verdicts`, by code (``common.verdict_<code>``)."""


def verdict_kind(verdict: str) -> str:
    """Which of :data:`VERDICTS` a group's verdict is: the code itself (``"above"``), the
    words of :func:`crmkit.metrics.stats.verdicts` ("NPS above the rest"), or the verdict
    already in a report language; ``""`` for anything else."""
    text = str(verdict)
    if text in VERDICTS:
        return text
    english = {
        "too_few": text == "too few to judge",
        "above": text.endswith("above the rest"),
        "below": text.endswith("below the rest"),
        "no_difference": text == "no clear difference",
    }
    for kind in VERDICTS:
        if english[kind] or text in all_languages(f"common.verdict_{kind}").values():
            return kind
    return ""


def verdict_words(verdict: str) -> str:
    """A group's verdict in the report's language (as given when it is no known verdict)."""
    kind = verdict_kind(verdict)
    return words(f"common.verdict_{kind}") if kind else str(verdict)


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
    coloured by the group's verdict (:func:`crmkit.metrics.stats.verdicts`), which is
    written in the report's language (:func:`verdict_words`)."""
    ax = ax or plt.subplots(figsize=(9, 0.45 * len(data) + 1.5))[1]
    colours = {"too_few": "#999", "above": PALETTE[2], "below": PALETTE[3]}
    for r, (row, note) in enumerate(zip(data.itertuples(), notes, strict=True)):
        colour = colours.get(verdict_kind(row.verdict), PALETTE[0])
        ax.plot(
            [getattr(row, low), getattr(row, high)], [r, r], color=colour, linewidth=2.5, alpha=0.6
        )
        ax.plot(getattr(row, value), r, "o", color=colour)
        ax.text(
            1.01,
            r,
            f"{note} · {verdict_words(row.verdict)}",
            va="center",
            fontsize=9,
            color=colour,
            transform=ax.get_yaxis_transform(),
        )
    ax.set_yticks(range(len(data)), [str(g) for g in data["group"]])
    ax.invert_yaxis()
    return ax


class ShareFormatter(Formatter):
    """Shares as percentages in the report's locale, with as few decimals as the ticks need
    for every label to be its tick's value exactly (ticks 1% apart: "87%"; 0.5% apart:
    "87.5%"); nothing below zero (the margin under a chart's zero line)."""

    digits = 0

    def set_locs(self, locs) -> None:
        self.digits = next(
            (d for d in range(4) if all(abs(v * 100 - round(v * 100, d)) < 1e-6 for v in locs)),
            4,
        )

    def __call__(self, value: float, pos: int | None = None) -> str:
        return pct(value, self.digits) if value > -1e-9 else ""


def share_axis(axis) -> None:
    """Shares as percentages, the ticks on whole steps of 1, 2 or 5 (× 10ⁿ) percent so a
    label never rounds its tick (no "88%" on 87.5%). The one share axis of every chart."""
    axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10]))
    axis.set_major_formatter(ShareFormatter())
