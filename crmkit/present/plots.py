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
        Output of :func:`crmkit.metrics.quality.monthly_volume`: table, month, rows.
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


def plot_holdout_by_frequency(by_frequency: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean actual against predicted holdout purchases per calibration frequency."""
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    labels = [
        f"{int(f)}+" if f >= 7 else str(int(f)) for f in by_frequency["calibration_frequency"]
    ]
    ax.plot(labels, by_frequency["actual"], marker="o", label="actual", color=PALETTE[0])
    ax.plot(
        labels,
        by_frequency["predicted"],
        marker="s",
        linestyle="--",
        label="predicted",
        color=PALETTE[1],
    )
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout")
    ax.set_title("Holdout purchases by calibration frequency: actual vs predicted")
    ax.legend()
    return ax


def plot_tracking(tracking: pd.DataFrame, *, calibration_end, ax: Axes | None = None) -> Axes:
    """Cumulative repeat purchases per week, actual and expected, calibration end marked."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    ax.plot(tracking["week_ending"], tracking["actual"], label="actual", color=PALETTE[0])
    ax.plot(
        tracking["week_ending"],
        tracking["expected"],
        linestyle="--",
        label="model",
        color=PALETTE[1],
    )
    ax.axvline(pd.Timestamp(calibration_end), color="#777", linewidth=1)
    ax.text(
        pd.Timestamp(calibration_end),
        ax.get_ylim()[1] * 0.95,
        "  holdout →",
        va="top",
        color="#555",
    )
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_xlabel("week")
    thousands(ax)
    ax.set_title("Weekly tracking: cumulative repeat purchases")
    ax.legend()
    return ax


def plot_value_distribution(
    values: pd.Series, *, currency: str = "", ax: Axes | None = None
) -> Axes:
    """Histogram of predicted CLV on a log scale (values under 1 shown at 1)."""
    import numpy as np

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    data = np.clip(values.to_numpy(dtype=float), 1, None)
    bins = np.logspace(0, np.log10(max(data.max(), 10)), 40)
    ax.hist(data, bins=bins, color=PALETTE[0])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(f"predicted CLV ({currency})" if currency else "predicted CLV")
    ax.set_ylabel("customers")
    ax.set_title("Distribution of predicted customer lifetime value")
    return ax


def plot_cohort_curves(
    cohorts: pd.DataFrame, *, currency: str = "", ax: Axes | None = None
) -> Axes:
    """Cumulative revenue per customer by months since signup, one line per cohort."""
    ax = ax or plt.subplots(figsize=(9, 4.5))[1]
    names = list(dict.fromkeys(cohorts["cohort"]))
    colours = sns.color_palette("viridis", len(names))
    for colour, name in zip(colours, names, strict=True):
        part = cohorts.loc[cohorts["cohort"] == name]
        ax.plot(
            part["months_since_signup"],
            part["revenue_per_customer"],
            color=colour,
            label=name,
            linewidth=1.4,
        )
    ax.set_xlabel("months since signup")
    ax.set_ylabel(
        f"cumulative revenue per customer ({currency})"
        if currency
        else "cumulative revenue per customer"
    )
    thousands(ax)
    ax.set_title("Revenue per customer by signup cohort")
    legend_beside(ax, fontsize=8, title="signup quarter")
    return ax


def plot_ltv_cac(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """LTV:CAC per acquisition channel, with the break-even (1) and healthy (3) lines."""
    ax = ax or plt.subplots(figsize=(8, 0.5 * len(table) + 1.5))[1]
    data = table.sort_values("ltv_cac", ascending=False)
    sns.barplot(data=data, y="acquisition_channel", x="ltv_cac", color=PALETTE[0], ax=ax)
    ax.axvline(1, color=PALETTE[3], linewidth=1)
    ax.axvline(3, color=PALETTE[2], linewidth=1, linestyle="--")
    ax.set_xlabel("LTV : CAC (1 = break-even, 3 = healthy)")
    ax.set_ylabel("")
    ax.set_title("Lifetime value against acquisition cost, by channel")
    return ax


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


def plot_funnel(current: pd.DataFrame, previous: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Opportunities reaching each stage, this period beside the previous one, with the step
    conversion written on each bar (tables from :func:`crmkit.metrics.funnel.funnel_table`)."""
    stages = list(current["stage"])
    ax = ax or plt.subplots(figsize=(9, 0.75 * len(stages) + 1.4))[1]
    rows = range(len(stages))
    height = 0.38
    ax.barh(
        [r - height / 2 for r in rows],
        current["reached"],
        height,
        color=PALETTE[0],
        label="this period",
    )
    ax.barh(
        [r + height / 2 for r in rows],
        previous["reached"],
        height,
        color="#A9BFD4",
        label="previous period",
    )
    widest = max(current["reached"].max(), previous["reached"].max(), 1)
    for r, (reached, rate) in enumerate(
        zip(current["reached"], current["step_conversion"], strict=True)
    ):
        step = "" if pd.isna(rate) else f"  ({rate:.0%} of those decided at the stage before)"
        ax.text(
            reached + widest * 0.01, r - height / 2, f"{reached:,}{step}", va="center", fontsize=9.5
        )
    for r, reached in enumerate(previous["reached"]):
        ax.text(
            reached + widest * 0.01,
            r + height / 2,
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
    ax.legend(loc="upper left")
    return ax


def plot_cycle_trend(
    trend: pd.DataFrame,
    *,
    period_start: date | str,
    period_end: date | str,
    ax: Axes | None = None,
) -> Axes:
    """Median days to won by the month deals were won, the middle half shaded."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    shade_period(ax, period_start, period_end)
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


def _plot_group_intervals(
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


def plot_breakdown(table: pd.DataFrame, *, metric: str, title: str, ax: Axes | None = None) -> Axes:
    """One metric of :func:`crmkit.metrics.funnel.breakdown` per group: point and 95% interval;
    groups too small to judge in grey."""
    data = table.loc[(table["metric"] == metric) & (table["trials"] > 0)]
    data = data.sort_values("conversion", ascending=False)
    ax = _plot_group_intervals(
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
    period_start: date | str,
    period_end: date | str,
    ax: Axes | None = None,
) -> Axes:
    """Monthly NPS or CSAT with its 95% band, the period shaded."""
    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    shade_period(ax, period_start, period_end)
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
    ax = _plot_group_intervals(
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
