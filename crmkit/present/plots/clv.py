"""Charts of the customer-lifetime-value report."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmkit.present.plots.theme import (
    PALETTE,
    legend_beside,
    thousands,
)


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
