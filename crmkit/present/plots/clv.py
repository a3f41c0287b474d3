"""Charts of the customer-lifetime-value report.

Every title, axis label, legend entry and tick label is in the report's language: words from
the ``clv`` catalogue, figure names from the glossary, numbers and dates from
:mod:`crmkit.present.format`.
"""

from __future__ import annotations

from datetime import date

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from babel.dates import format_skeleton
from babel.lists import format_list
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from crmkit.present.format import day, month, num, pct
from crmkit.present.language import locale, term, words
from crmkit.present.plots.theme import PALETTE, legend_beside


def _counts(ax: Axes, axis: str = "y") -> None:
    formatter = FuncFormatter(lambda v, _: num(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _with_currency(label: str, currency: str) -> str:
    return words("clv.with_currency", label=label, currency=currency) if currency else label


def quarter_label(cohort: str) -> str:
    """A signup cohort such as ``2023Q4`` in the report's language (``2023年第4季度``,
    ``Q4 2023``); any other label as it is."""
    try:
        quarter = pd.Period(cohort, freq="Q")
    except (ValueError, TypeError):
        return str(cohort)
    if str(quarter) != str(cohort):
        return str(cohort)
    return format_skeleton("yQQQ", date(quarter.year, quarter.month, 1), locale=locale())


def plot_holdout_by_frequency(by_frequency: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean actual against predicted holdout purchases per calibration frequency."""
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    labels = [
        f"{int(f)}+" if f >= 7 else str(int(f)) for f in by_frequency["calibration_frequency"]
    ]
    ax.plot(labels, by_frequency["actual"], marker="o", label=words("clv.actual"), color=PALETTE[0])
    ax.plot(
        labels,
        by_frequency["predicted"],
        marker="s",
        linestyle="--",
        label=words("clv.predicted"),
        color=PALETTE[1],
    )
    ax.set_xlabel(term("calibration_frequency"))
    ax.set_ylabel(words("clv.by_frequency_y"))
    ax.set_title(words("clv.by_frequency_title"))
    ax.legend()
    return ax


def plot_tracking(
    tracking: pd.DataFrame,
    *,
    calibration_end,
    bound: float | None = None,
    judged_from=None,
    ax: Axes | None = None,
) -> Axes:
    """Week by week over the holdout, cumulative repeat purchases after the calibration end:
    actual and the model's forecast (:attr:`crmkit.metrics.clv.HoldoutCheck.tracking`, the
    forecast the holdout total and the verdict judge). With ``bound``, the band of
    ±``bound`` around actual within which the model fits well, from ``judged_from`` (the
    first week the verdict judges; all weeks when not given)."""
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    end = pd.Timestamp(calibration_end)
    tracking = tracking.loc[tracking["week_ending"] >= end]
    ax.plot(
        tracking["week_ending"], tracking["actual"], label=words("clv.actual"), color=PALETTE[0]
    )
    ax.plot(
        tracking["week_ending"],
        tracking["expected"],
        linestyle="--",
        label=words("clv.forecast_line"),
        color=PALETTE[1],
    )
    if bound is not None:
        start = pd.Timestamp(judged_from) if judged_from is not None else end
        band = tracking.loc[tracking["week_ending"] >= max(start, end + pd.Timedelta(days=1))]
        later = len(band) < (tracking["week_ending"] > end).sum()
        ax.fill_between(
            band["week_ending"],
            band["actual"] * (1 - bound),
            band["actual"] * (1 + bound),
            color=PALETTE[0],
            alpha=0.15,
            linewidth=0,
            label=words("clv.bound_band_from", bound=pct(bound, 0), date=day(start))
            if later
            else words("clv.bound_band", bound=pct(bound, 0)),
        )
    weeks = (tracking["week_ending"].max() - end).days / 7
    ax.set_ylabel(words("clv.tracking_y", repeat_purchases=term("repeat_purchases"), date=day(end)))
    ax.set_xlabel(words("clv.tracking_x"))
    ax.set_ylim(bottom=0)
    _counts(ax)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: month(mdates.num2date(v))))
    ax.set_title(words("clv.tracking_title", weeks=num(weeks)))
    ax.legend(loc="upper left")
    return ax


def plot_value_distribution(
    values: pd.Series, *, currency: str = "", ax: Axes | None = None
) -> Axes:
    """Histogram of predicted CLV on a log scale; values under 1 (a log scale has no 0) in a
    bar of their own left of it, labelled "<1", not piled onto the bar at 1."""
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    data = values.to_numpy(dtype=float)
    data = data[np.isfinite(data)]
    above = data[data >= 1]
    bins = np.logspace(0, np.log10(max(above.max(initial=10), 10)), 40)
    bins[-1] = max(bins[-1], above.max(initial=0))  # 10**log10(900) can fall short of 900
    ax.hist(above, bins=bins, color=PALETTE[0])
    under = int((data < 1).sum())
    if under:
        ax.bar(0.35, under, width=0.5, align="edge", color=PALETTE[0], alpha=0.45)
        ax.annotate("<1", (0.6, under), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=9)  # fmt: skip
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: num(v)))
    name = term("predicted_clv")
    ax.set_xlabel(
        words("clv.distribution_x", predicted_clv=name, currency=currency)
        if currency
        else words("clv.distribution_x_plain", predicted_clv=name)
    )
    ax.set_ylabel(term("customers_who_bought"))
    _counts(ax)
    ax.set_title(words("clv.distribution_title"))
    return ax


def plot_cohort_curves(
    cohorts: pd.DataFrame, *, currency: str = "", ax: Axes | None = None
) -> Axes:
    """Cumulative revenue per signed-up customer by months since signup, one line per
    signup cohort."""
    ax = ax or plt.subplots(figsize=(9, 4.5))[1]
    names = list(dict.fromkeys(cohorts["cohort"]))
    colours = sns.color_palette("viridis", len(names))
    for colour, name in zip(colours, names, strict=True):
        part = cohorts.loc[cohorts["cohort"] == name]
        ax.plot(
            part["months_since_signup"],
            part["revenue_per_customer"],
            color=colour,
            label=quarter_label(name),
            linewidth=1.4,
            marker="o" if len(part) == 1 else None,  # a cohort of one month is a point
        )
    ax.set_xlabel(words("clv.cohort_x"))
    ax.set_ylabel(_with_currency(term("cohort_revenue_per_customer"), currency))
    _counts(ax)
    ax.set_title(words("clv.cohort_title"))
    legend_beside(ax, fontsize=8, title=words("clv.cohort_legend"))
    return ax


def plot_ltv_cac(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """LTV:CAC per acquisition channel (a :func:`crmkit.topics.clv.ltv_cac_view`), channels
    that do not pay back in red, with the break-even (1) and healthy (3) lines; channels
    without a known cost are named in a note rather than left out unseen."""
    known = table.loc[table["ltv_cac"].notna()].sort_values("ltv_cac", ascending=False)
    unknown = table.loc[table["ltv_cac"].isna(), "acquisition_channel"]
    ax = ax or plt.subplots(figsize=(8, 0.5 * max(len(known), 1) + 1.8))[1]
    colours = [PALETTE[3] if r < 1 else PALETTE[0] for r in known["ltv_cac"]]
    positions = np.arange(len(known))
    ax.barh(positions, known["ltv_cac"], color=colours)
    ax.set_yticks(positions, [str(c) for c in known["acquisition_channel"]])
    ax.invert_yaxis()
    ax.axvline(1, color=PALETTE[3], linewidth=1)
    ax.axvline(3, color=PALETTE[2], linewidth=1, linestyle="--")
    ax.set_xlabel(term("ltv_cac"))
    ax.set_ylabel("")
    ax.set_title(words("clv.ltv_cac_title"))
    ratios = known["ltv_cac"]
    handles = []  # a colour in the legend only when a bar has it
    if (ratios >= 1).any():
        handles.append(Patch(color=PALETTE[0], label=words("clv.pays_back")))
    if (ratios < 1).any():
        handles.append(Patch(color=PALETTE[3], label=words("clv.does_not_pay_back")))
    handles += [
        Line2D([], [], color=PALETTE[3], linewidth=1, label=words("clv.break_even")),
        Line2D([], [], color=PALETTE[2], linewidth=1, linestyle="--", label=words("clv.healthy")),
    ]
    if len(unknown):
        names = format_list([str(c) for c in unknown], locale=locale())
        handles.append(Patch(color="none", label=words("clv.no_cost_known", channels=names)))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
