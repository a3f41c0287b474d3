"""Charts of the sales-funnel report, every word from the report's catalogue
(``present/words/funnel.yaml``) and every number formatted by its locale.

A series with too little data to draw is never dropped in silence: the chart says what it
left out, in a note inside the plot.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmkit.core.periods import Period
from crmkit.present.format import month, num, pct
from crmkit.present.language import is_term, term, words
from crmkit.present.plots.theme import PALETTE, legend_beside, shade_period

NOTE_COLOUR = "#7A4A12"
VERDICT_COLOURS = {"above": PALETTE[2], "below": PALETTE[3], "too_few": "#999"}


def _w(key: str, **values) -> str:
    return words(f"funnel.{key}", **values)


def note(ax: Axes, text: str) -> Axes:
    """Write what a chart leaves out under its x-axis label, where it can never cover a
    point, a bar or the legend: part of the chart's image, read with it."""
    ax.annotate(
        text,
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -44),
        textcoords="offset points",
        va="top",
        ha="left",
        fontsize=9.5,
        color=NOTE_COLOUR,
        gid="omitted",
    )
    return ax


def omitted_notes(ax: Axes) -> list[str]:
    """The notes :func:`note` wrote on ``ax`` (for tests and checks)."""
    return [t.get_text() for t in ax.texts if t.get_gid() == "omitted"]


def _percent_axis(axis) -> None:
    """Percent ticks, with a decimal only where a tick needs one (2.5%, never "2%")."""

    def text(value: float, _) -> str:
        whole = abs(value * 100 - round(value * 100)) < 1e-9
        return pct(value, 0 if whole else 1)

    axis.set_major_formatter(FuncFormatter(text))


def _count_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: num(v)))


def _month_axis(ax: Axes) -> None:
    """Month ticks in the report's language (``2026年9月``, ``Sep 2026``)."""
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: month(mdates.num2date(v))))


def _missing_months(months: pd.Series, last: pd.Timestamp | None = None) -> int:
    """Months between the first of ``months`` and ``last`` (or their last) with no row."""
    if months.empty:
        return 0
    span = pd.period_range(months.min(), last or months.max(), freq="M")
    return len(set(span) - set(pd.to_datetime(months).dt.to_period("M")))


def plot_funnel(
    current: pd.DataFrame, previous: pd.DataFrame | None, *, ax: Axes | None = None
) -> Axes:
    """Opportunities reaching each stage, this period beside the previous one, with the step
    conversion written on each bar (tables from :func:`crmkit.metrics.funnel.funnel_table`).
    ``previous`` None: no comparable previous cohort, this period's bars alone, and a note
    saying so."""
    stages = list(current["stage"])
    ax = ax or plt.subplots(figsize=(9, 0.75 * len(stages) + 1.4))[1]
    rows = range(len(stages))
    height = 0.38 if previous is not None else 0.6
    shift = height / 2 if previous is not None else 0.0
    ax.barh(
        [r - shift for r in rows],
        current["reached"],
        height,
        color=PALETTE[0],
        label=_w("this_period"),
    )
    widest = max(current["reached"].max(), 1 if previous is None else previous["reached"].max(), 1)
    for r, (reached, rate) in enumerate(
        zip(current["reached"], current["step_conversion"], strict=True)
    ):
        text = num(reached)
        if not pd.isna(rate):
            text += "  " + _w("chart_step_rate", rate=pct(rate, 0))
        ax.text(reached + widest * 0.01, r - shift, text, va="center", fontsize=9.5)
    if previous is not None:
        ax.barh(
            [r + shift for r in rows],
            previous["reached"],
            height,
            color="#A9BFD4",
            label=_w("previous_period"),
        )
        for r, reached in enumerate(previous["reached"]):
            ax.text(
                reached + widest * 0.01,
                r + shift,
                num(reached),
                va="center",
                fontsize=9,
                color="#555",
            )
    ax.set_yticks(list(rows), stages)
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.55)
    ax.set_xlabel(term("reached"))
    _count_axis(ax.xaxis)
    ax.set_title(_w("chart_funnel_title"))
    ax.legend(loc="lower right")
    if previous is None:
        note(ax, _w("chart_no_previous"))
    return ax


def plot_conversion_window(
    window: pd.DataFrame, *, window_days: int, ax: Axes | None = None
) -> Axes:
    """Conversion within the window by creation month, with its 95% band; months whose
    window has not yet passed are hollow; months without a new opportunity are noted."""
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
        label=_w("chart_interval"),
    )
    ax.plot(
        done["month"],
        done["conversion"],
        marker="o",
        color=PALETTE[0],
        label=_w("chart_won_within", days=num(window_days)),
    )
    if len(maturing):
        ax.plot(
            maturing["month"],
            maturing["conversion"],
            marker="o",
            linestyle="",
            markerfacecolor="white",
            color=PALETTE[0],
            label=_w("chart_window_open"),
        )
    _percent_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_w("chart_created_month"))
    ax.set_ylabel(term("window_conversion"))
    ax.set_title(_w("chart_window_title", days=num(window_days)))
    if len(window):
        _month_axis(ax)
        legend_beside(ax)
    gaps = _missing_months(window["month"])
    if gaps:
        note(ax, _w("chart_months_without_opportunities", n=num(gaps)))
    return ax


def plot_stage_durations(durations: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Median, 75th and 90th percentile days in each stage (movers only); a stage no deal
    has left yet is named in a note."""
    names = {
        "median": term("median_days_in_stage"),
        "p75": term("p75_days_in_stage"),
        "p90": term("p90_days_in_stage"),
    }
    data = durations.melt(
        id_vars="stage", value_vars=list(names), var_name="statistic", value_name="days"
    )
    data["statistic"] = data["statistic"].map(names)
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
    ax.set_xlabel(_w("chart_days_in_stage"))
    ax.set_ylabel("")
    ax.set_title(_w("chart_durations_title"))
    legend_beside(ax, title="")
    unmoved = durations.loc[durations["median"].isna(), "stage"].astype(str).tolist()
    if unmoved:
        note(ax, _w("chart_no_movers", stages=_w("list_sep").join(unmoved)))
    return ax


def plot_cycle_curves(curves: dict, *, ax: Axes | None = None) -> Axes:
    """Kaplan–Meier curves drawn as the share won by day t (1 − survival), with bands,
    keyed by their legend label; a cohort with too few won deals for a curve is named in a
    note with its count, never dropped in silence."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    left_out = []
    for k, (label, curve) in enumerate(curves.items()):
        table = curve.table
        if table.empty:
            text = _w("chart_curve_omitted", label=label, n=num(curve.events))
            left_out.append(text[:1].upper() + text[1:])
            continue
        days = [0.0, *table["days"]]
        won = [0.0, *(1 - table["survival"])]
        colour = PALETTE[k % len(PALETTE)]
        ax.step(
            days,
            won,
            where="post",
            color=colour,
            label=_w("chart_curve_label", label=label, n=num(curve.n)),
        )
        ax.fill_between(
            days,
            [0.0, *(1 - table["high"])],
            [0.0, *(1 - table["low"])],
            step="post",
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
    _percent_axis(ax.yaxis)
    ax.set_ylim(0, 1)
    ax.set_xlim(left=0)
    ax.set_xlabel(_w("chart_days_since_created"))
    ax.set_ylabel(_w("chart_share_won"))
    ax.set_title(_w("chart_cycle_title"))
    if ax.get_legend_handles_labels()[0]:  # no curve to draw: no legend either
        ax.legend(loc="upper left")
    if left_out:
        note(ax, "\n".join(left_out))
    return ax


def plot_cycle_trend(
    trend: pd.DataFrame,
    *,
    period: Period,
    ax: Axes | None = None,
) -> Axes:
    """Median days to won by the month deals were won, the middle half shaded; months
    without a won deal are counted in a note."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    shade_period(ax, period, label=_w("chart_report_period"))
    ax.fill_between(
        trend["month"],
        trend["p25"],
        trend["p75"],
        color=PALETTE[0],
        alpha=0.15,
        linewidth=0,
        label=_w("chart_middle_half"),
    )
    ax.plot(
        trend["month"],
        trend["median"],
        marker="o",
        color=PALETTE[0],
        label=term("median_cycle_days"),
    )
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_w("chart_won_month"))
    ax.set_ylabel(_w("chart_days_to_won"))
    ax.set_title(_w("chart_trend_title"))
    _month_axis(ax)
    legend_beside(ax)
    gaps = _missing_months(trend["month"], pd.Timestamp(period.end))
    if gaps:
        note(ax, _w("chart_months_without_won", n=num(gaps)))
    return ax


def _metric_name(metric: str) -> str:
    if metric == "win_rate":
        return term("win_rate")
    return _w("step_conversion_of", step=metric.replace("->", " → "))


def plot_breakdown(
    table: pd.DataFrame, *, metric: str, by: str = "", title: str = "", ax: Axes | None = None
) -> Axes:
    """One metric of :func:`crmkit.metrics.funnel_compare.breakdown` per group: point and 95%
    interval, coloured by the group's verdict against the rest (green above, red below,
    grey too few to judge); groups with no decided opportunity are named in a note."""
    rows = table.loc[table["metric"] == metric]
    data = rows.loc[rows["trials"] > 0].sort_values("conversion", ascending=False)
    ax = ax or plt.subplots(figsize=(9, 0.45 * len(data) + 1.5))[1]
    for r, row in enumerate(data.itertuples()):
        colour = VERDICT_COLOURS.get(row.verdict, PALETTE[0])
        ax.plot([row.low, row.high], [r, r], color=colour, linewidth=2.5, alpha=0.6)
        ax.plot(row.conversion, r, "o", color=colour)
        ax.text(
            1.01,
            r,
            _w("chart_group_note", n=num(row.trials), verdict=_w(f"verdict_{row.verdict}")),
            va="center",
            fontsize=9,
            color=colour,
            transform=ax.get_yaxis_transform(),
        )
    ax.set_yticks(range(len(data)), [str(g) for g in data["group"]])
    ax.invert_yaxis()
    ax.set_xlim(0, min(1.0, float(data["high"].max()) + 0.05) if len(data) else 1.0)
    _percent_axis(ax.xaxis)
    ax.set_xlabel(_w("chart_breakdown_axis", metric=_metric_name(metric)))
    column = term(by) if is_term(by) else by
    ax.set_title(title or _w("chart_breakdown_title", metric=_metric_name(metric), by=column))
    undecided = rows.loc[rows["trials"] == 0, "group"].astype(str).tolist()
    if undecided:
        groups = _w("list_sep").join(undecided)
        note(ax, _w("chart_groups_undecided", groups=groups))
    return ax
