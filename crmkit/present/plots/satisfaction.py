"""Charts of the satisfaction and NPS report.

Every word comes from the satisfaction catalogue (``satisfaction.*``) or the glossary, in the
report's language; every number and month from :mod:`crmkit.present.format`. A series with
too little data to draw says so in the chart instead of vanishing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from crmkit.core.periods import Period
from crmkit.present.format import month, num
from crmkit.present.language import is_term, term, words
from crmkit.present.plots.theme import (
    PALETTE,
    legend_beside,
    month_axis,
    plot_group_intervals,
    shade_period,
    share_axis,
)

NPS_COLOURS = {"detractor": "#C2474F", "passive": "#B8B8B8", "promoter": "#3E9B6F"}
QUADRANT_COLOURS = {
    "fix first": PALETTE[3],
    "keep it up": PALETTE[2],
    "low priority": "#999",
    "possible overkill": PALETTE[1],
}
"""The quadrants of the importance–performance chart, by the codes
:func:`crmkit.metrics.satisfaction.importance_performance` gives them."""


def dimension_name(column: str) -> str:
    """A ``dim_*`` column's name for reading: its glossary name (``dim_delivery_speed`` →
    "delivery speed" / "配送速度"), or, for a dimension the glossary does not know, the
    column's own name without the prefix (``dim_packaging`` → "packaging")."""
    if is_term(column):
        return term(column)
    return column.removeprefix("dim_").replace("_", " ")


def quadrant_name(code: str) -> str:
    """A quadrant code ("fix first") in the report's language ("优先改进")."""
    return words(f"satisfaction.{code.replace(' ', '_')}")


def _note(ax: Axes, text: str, *, y: float = 0.97) -> None:
    """A sentence inside the chart saying what is not drawn."""
    ax.text(0.01, y, text, transform=ax.transAxes, ha="left", va="top", fontsize=9, color="#666")


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
    share_axis(ax.yaxis)
    ax.set_xlabel(words("satisfaction.nps_distribution_axis"))
    ax.set_ylabel(term("share_of_responses"))
    ax.set_title(words("satisfaction.nps_distribution_title"))
    return ax


def plot_csat_distribution(distribution: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Responses per CSAT score (1–5), the satisfied 4–5 in green."""
    ax = ax or plt.subplots(figsize=(9, 3.2))[1]
    colours = [PALETTE[2] if s >= 4 else "#B8B8B8" for s in distribution["score"]]
    ax.bar(distribution["score"], distribution["share"], color=colours)
    ax.set_xticks(range(1, 6))
    share_axis(ax.yaxis)
    ax.set_xlabel(words("satisfaction.csat_distribution_axis"))
    ax.set_ylabel(term("share_of_responses"))
    ax.set_title(words("satisfaction.csat_distribution_title"))
    return ax


def missing_months(trend: pd.DataFrame, *, metric: str, period: Period) -> list[pd.Timestamp]:
    """The months from the trend's first to the period's last without a ``metric`` value
    (no responses, or none with that score): the ones the line skips."""
    if trend.empty:
        return []
    months = pd.date_range(
        trend["month"].min(), pd.Timestamp(period.end).to_period("M").start_time, freq="MS"
    )
    drawn = set(trend.loc[trend[metric].notna(), "month"])
    return [m for m in months if m not in drawn]


def plot_score_trend(
    trend: pd.DataFrame,
    *,
    metric: str,
    period: Period,
    ax: Axes | None = None,
) -> Axes:
    """Monthly NPS or CSAT with its 95% band, the period shaded; months without a score
    are named in a note in the chart."""
    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    shade_period(ax, period)
    ax.fill_between(
        trend["month"],
        trend[f"{metric}_low"],
        trend[f"{metric}_high"],
        color=PALETTE[0],
        alpha=0.15,
        linewidth=0,
        label=words("satisfaction.interval"),
    )
    ax.plot(trend["month"], trend[metric], marker="o", color=PALETTE[0], label=term(metric))
    if metric == "csat":
        share_axis(ax.yaxis)
    else:
        ax.axhline(0, color="#999", linewidth=0.8)
    ax.set_ylabel(term(metric))
    ax.set_xlabel(words("satisfaction.month"))
    ax.set_title(words("satisfaction.trend_title", name=term(metric)))
    month_axis(ax)
    missing = missing_months(trend, metric=metric, period=period)
    if missing:
        names = words("report.list_separator").join(month(m) for m in missing)
        _note(ax, words("satisfaction.no_months", months=names))
    legend_beside(ax)
    return ax


def plot_nps_breakdown(table: pd.DataFrame, *, title: str, ax: Axes | None = None) -> Axes:
    """NPS per group with its 95% interval; groups too small to judge in grey, and a group
    without NPS scores named with a note instead of a point."""
    data = table.sort_values("nps", ascending=False, na_position="last")
    notes = [
        words(
            "satisfaction.responses_note" if np.isfinite(score) else "satisfaction.group_no_score",
            n=num(n),
        )
        for n, score in zip(data["responses"], data["nps"].astype(float), strict=True)
    ]
    ax = plot_group_intervals(data, value="nps", low="nps_low", high="nps_high", notes=notes, ax=ax)
    ax.axvline(0, color="#999", linewidth=0.8)
    ax.set_xlabel(words("satisfaction.with_interval", name=term("nps")))
    ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- drivers

_NEAR = [(7, 4, "left", "bottom"), (7, -4, "left", "top"), (-7, 4, "right", "bottom")]
_NEAR += [(-7, -4, "right", "top"), (0, 8, "center", "bottom"), (0, -8, "center", "top")]
_NEAR += [(9, 0, "left", "center"), (-9, 0, "right", "center")]
_FAR = [(dx * 3, dy * 3, ha, va) for dx, dy, ha, va in _NEAR]
"""Where a point's name may go, in points from the point: beside it, or, where every spot
beside it is taken, further out with a line to it."""


def label_dimensions(ax: Axes, xs, ys, names, *, fontsize: float = 10) -> list:
    """Name each point beside it, so that the name is nearer its own point than any other
    (close points otherwise read as each other's), keeps inside the plot and covers no
    other name, text or point; where no spot beside the point does, the name goes further
    out with a line to its point. Crowded points are named first. Call it after the axis
    limits and any fixed texts are set. Returns the annotations, in the order of ``names``;
    each one's anchor ``xy`` is its point."""
    from matplotlib.transforms import Bbox

    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = [text.get_window_extent(renderer) for text in ax.texts]
    radius = 5 * ax.figure.dpi / 72  # a scatter marker of s=80 is ~9 points across
    centres = ax.transData.transform(np.column_stack([xs, ys]).astype(float))
    markers = [
        Bbox.from_extents(x - radius, y - radius, x + radius, y + radius) for x, y in centres
    ]
    gaps = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)

    def distance(box: Bbox, point: np.ndarray) -> float:
        dx = max(box.x0 - point[0], 0.0, point[0] - box.x1)
        dy = max(box.y0 - point[1], 0.0, point[1] - box.y1)
        return float(np.hypot(dx, dy))

    def cost(box: Bbox, own: int, line: bool) -> float:
        others = taken + [m for j, m in enumerate(markers) if j != own]
        overlap = sum(
            max(0.0, min(box.x1, o.x1) - max(box.x0, o.x0))
            * max(0.0, min(box.y1, o.y1) - max(box.y0, o.y0))
            for o in others
        )
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1
        inside = inside and frame.y0 <= box.y0 and box.y1 <= frame.y1
        own_distance = distance(box, centres[own])
        clear = own_distance + max(radius, 0.5 * own_distance)  # plainly nearer its own point
        nearer = any(distance(box, centres[j]) < clear for j in range(len(centres)) if j != own)
        # a name beside a point nearer another point reads as the other's: never, if avoidable
        ambiguous = 0.0 if line else 1e6 * nearer
        return overlap + ambiguous + (0.0 if inside else 1e7) + (50.0 if line else 0.0)

    annotations: list = [None] * len(names)
    for i in np.argsort(gaps.min(axis=1), kind="stable"):
        text = ax.annotate(
            names[i], (xs[i], ys[i]), xytext=(0, 0), textcoords="offset points", fontsize=fontsize
        )
        best = None
        for spots, line in ((_NEAR, False), (_FAR, True)):
            for dx, dy, ha, va in spots:
                text.set(position=(dx, dy), ha=ha, va=va)
                found = cost(text.get_window_extent(renderer), i, line)
                if best is None or found < best[0]:
                    best = (found, dx, dy, ha, va, line)
            if best[0] == 0:
                break
        _, dx, dy, ha, va, line = best
        text.set(position=(dx, dy), ha=ha, va=va)
        if line:
            text.remove()
            text = ax.annotate(
                names[i],
                (xs[i], ys[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=fontsize,
                arrowprops={"arrowstyle": "-", "color": "#888", "linewidth": 0.8, "shrinkB": 6},
            )
        taken.append(text.get_window_extent(renderer))
        annotations[i] = text
    return annotations


def plot_importance_performance(quadrants: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Each dimension's weight in NPS against its mean score, split at the means: the
    top-left quadrant is what to fix first. Each point's collection carries its dimension
    as ``gid``; its name is an annotation anchored on it (:func:`label_dimensions`)."""
    ax = ax or plt.subplots(figsize=(8, 5.5))[1]
    x_mid, y_mid = quadrants["performance"].mean(), quadrants["importance"].mean()
    ax.axvline(x_mid, color="#999", linewidth=0.8, linestyle="--")
    ax.axhline(y_mid, color="#999", linewidth=0.8, linestyle="--")
    for row in quadrants.itertuples():
        ax.scatter(
            row.performance,
            row.importance,
            s=80,
            color=QUADRANT_COLOURS[row.quadrant],
            zorder=3,
            gid=row.dimension,
        )
    pad_x = max(0.15, 0.2 * (quadrants["performance"].max() - quadrants["performance"].min()))
    ax.set_xlim(quadrants["performance"].min() - pad_x, quadrants["performance"].max() + pad_x)
    top = max(quadrants["importance"].max() * 1.2, y_mid * 2)
    # a strip under zero for the bottom quadrants' names, so no point sits on them
    ax.set_ylim(-0.14 * top, top)
    share_axis(ax.yaxis)
    for code, x, y, ha, va in [
        ("fix first", 0.02, 0.98, "left", "top"),
        ("keep it up", 0.98, 0.98, "right", "top"),
        ("low priority", 0.02, 0.02, "left", "bottom"),
        ("possible overkill", 0.98, 0.02, "right", "bottom"),
    ]:
        ax.text(
            x,
            y,
            quadrant_name(code),
            transform=ax.transAxes,
            ha=ha,
            va=va,
            color=QUADRANT_COLOURS[code],
            fontsize=10,
        )
    label_dimensions(
        ax,
        quadrants["performance"].to_numpy(),
        quadrants["importance"].to_numpy(),
        [dimension_name(d) for d in quadrants["dimension"]],
    )
    ax.set_xlabel(term("dimension_mean"))
    ax.set_ylabel(term("nps_weight"))
    ax.set_title(words("satisfaction.drivers_title"))
    return ax
