"""Charts of the churn report's drivers and model: metric cohorts, the change in churn risk
per standard deviation, calibration, and churn by customer attribute.

Every word comes from the churn drivers catalogue (``churn_drivers.*``) or the glossary, in
the report's language; every number from :mod:`crmkit.present.format`. A chart without data
says so inside it instead of vanishing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from crmkit.present.format import num, pct
from crmkit.present.language import UnknownWords, attribute_name, is_term, term, words
from crmkit.present.plots.theme import share_axis

RAISES, LOWERS = "#C2474F", "#3E9B6F"
"""Colours of drivers that go with more churn and with less."""

NONE_VALUE, OTHER_VALUE = "(none)", "other"
"""How the drivers analysis names a missing category value and merged small ones."""

DIGITS = {"spend_trend": 2, "tenure_months": 1, "interactions_per_month": 1}
"""Decimals a feature's values are written with (whole numbers for the others)."""


def _w(key: str, /, **values) -> str:
    return words(f"churn_drivers.{key}", **values)


def feature_name(feature: str) -> str:
    """A feature or customer column for reading: its glossary name (``complaints_90d`` →
    "complaints in the last 90 days" / "近90天投诉次数"), else the column's own name
    (``psy_`` attributes as :func:`~crmkit.present.language.attribute_name` names them)."""
    return term(feature) if is_term(feature) else attribute_name(feature)


def value_name(value: object) -> str:
    """A category value for reading: a missing value and the merged small groups in words,
    the data's own values as they are."""
    text = str(value)
    if text == NONE_VALUE:
        return _w("value_none")
    if text == OTHER_VALUE:
        return _w("value_other")
    return text


def driver_name(feature: str, kind: str = "number", level: object = None) -> str:
    """One column of the churn model for reading: the feature (``number``), its being
    missing ("no latest recommend score on record"), or one value of a category ("plan:
    pro")."""
    name = feature_name(feature)
    if kind == "missing":
        if is_text(f"churn_drivers.missing_{feature}"):
            return _w(f"missing_{feature}")  # "no purchase yet", not "no recency on record"
        return _w("driver_missing", name=name)
    if kind == "category":
        return _w("driver_level", name=name, value=value_name(level))
    return name


def feature_value(feature: str, value: object) -> str:
    """A customer's value of a feature as a sentence writes it ("2", "0.35", "none")."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return _w("no_record")
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return num(float(value), DIGITS.get(feature, 0))
    return value_name(value)


def is_text(key: str) -> bool:
    """Whether a catalogue defines the text ``key``."""
    try:
        words(key)
    except UnknownWords:
        return False
    return True


def _note(ax: Axes, text: str, *, y: float = 0.97) -> None:
    ax.text(0.02, y, text, transform=ax.transAxes, ha="left", va="top", fontsize=9, color="#666")


def _error_bars(value: np.ndarray, low: pd.Series, high: pd.Series) -> np.ndarray:
    """Distances from a rate down to its interval's low end and up to its high end; never
    negative (a Wilson interval of a rate of 0 or 1 ends at the rate, give or take rounding)."""
    value = np.asarray(value, dtype=float)
    below = np.clip(value - np.asarray(low, dtype=float), 0, None)
    above = np.clip(np.asarray(high, dtype=float) - value, 0, None)
    return np.vstack([below, above])


def plot_metric_cohorts(
    cohorts: pd.DataFrame,
    *,
    features: list[str],
    overall: float | None = None,
    columns: int = 3,
) -> Figure:
    """Small multiples of Gold's metric cohorts: for each feature, the churn rate of each
    tenth of customers by the feature's value (the cohort's mean value on the axis) with its
    95% interval; the churn rate of all customers dashed; customers without a value in a
    note.

    Parameters
    ----------
    cohorts
        :func:`crmkit.metrics.churn_drivers.metric_cohorts`: ``feature, cohort, missing,
        mean, customers, churn_rate, churn_low, churn_high``.
    features
        The features to draw, in order (the strongest drivers first, say).
    overall
        The churn rate of all customers, drawn as a reference line.
    """
    shown = [f for f in features if f in set(cohorts["feature"])]
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(3.6 * columns, 2.6 * rows + 0.6),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    for ax, feature in zip(axes.flat, shown, strict=False):
        data = cohorts.loc[(cohorts["feature"] == feature) & ~cohorts["missing"]]
        at = np.arange(len(data))
        rate = data["churn_rate"].to_numpy(float)
        ax.errorbar(
            at,
            rate,
            yerr=_error_bars(rate, data["churn_low"], data["churn_high"]),
            fmt="o-",
            color="#2F5D8A",
            ecolor="#9DB3CC",
            markersize=4,
            linewidth=1.4,
            capsize=0,
        )
        if overall is not None and np.isfinite(overall):
            ax.axhline(overall, color="#999", linewidth=0.9, linestyle="--")
        step = 1 if len(at) <= 5 else 2
        digits = DIGITS.get(feature, 0)
        ax.set_xticks(at[::step], [num(v, digits) for v in data["mean"].to_numpy()[::step]])
        ax.set_xlim(-0.5, max(len(at) - 0.5, 0.5))
        ax.grid(False, axis="x")
        ax.set_title(feature_name(feature), fontsize=10.5)
        missing = cohorts.loc[(cohorts["feature"] == feature) & cohorts["missing"]]
        if len(missing):
            row = missing.iloc[0]
            text = _w("cohort_missing_note", rate=pct(row["churn_rate"]), n=num(row["customers"]))
            _note(ax, text)
        share_axis(ax.yaxis)
    for ax in axes[:, 0]:
        ax.set_ylabel(_w("cohorts_axis"))
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    if not shown:
        axes.flat[0].set_visible(True)
        axes.flat[0].set_axis_off()
        _note(axes.flat[0], _w("cohorts_none"), y=0.6)
    fig.suptitle(_w("cohorts_title"), x=0.01, ha="left", fontsize=13)
    if shown:
        fig.supxlabel(_w("cohorts_x_axis"), fontsize=10)
    if overall is not None and np.isfinite(overall) and shown:
        fig.legend(
            handles=[plt.Line2D([], [], color="#999", linestyle="--")],
            labels=[f"{_w('cohort_overall')} {pct(overall)}"],
            loc="outside lower left",
            frameon=False,
            fontsize=9,
        )
    return fig


def plot_retention_impact(
    coefficients: pd.DataFrame, *, top: int = 12, ax: Axes | None = None
) -> Axes:
    """Bars of the change in predicted churn probability per +1 SD of each driver the model
    kept (the strongest ``top``, strongest on top), red for more churn and green for less.

    Parameters
    ----------
    coefficients
        :func:`crmkit.metrics.churn_drivers.coefficient_table`: ``feature, kind, level,
        retention_impact, driver``, drivers first and strongest first.
    """
    drivers = coefficients.loc[coefficients["driver"].astype(bool)].head(top)
    ax = ax or plt.subplots(figsize=(9, 0.42 * max(len(drivers), 3) + 1.4))[1]
    ax.set_title(_w("impact_title"))
    ax.set_xlabel(_w("impact_axis"))
    if drivers.empty:
        ax.set_yticks([])
        _note(ax, _w("impact_none"), y=0.6)
        return ax
    impact = drivers["retention_impact"].to_numpy(float) * 100
    colours = [RAISES if v > 0 else LOWERS for v in impact]
    at = np.arange(len(drivers))
    ax.barh(at, impact, color=colours, height=0.6)
    names = [
        driver_name(f, k, lv)
        for f, k, lv in zip(drivers["feature"], drivers["kind"], drivers["level"], strict=True)
    ]
    ax.set_yticks(at, names)
    ax.invert_yaxis()
    ax.axvline(0, color="#666", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: num(v, 1) if v else "0"))
    ax.legend(
        handles=[Patch(color=RAISES), Patch(color=LOWERS)],
        labels=[_w("raises_legend"), _w("lowers_legend")],
        loc="lower right",
        fontsize=9,
    )
    return ax


def plot_calibration(calibration: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Observed churn (with its 95% interval) against the model's predicted churn for each
    tenth of customers by predicted risk; on the diagonal the two agree.

    Parameters
    ----------
    calibration
        :func:`crmkit.metrics.churn_risk.calibration`: ``predicted, observed, observed_low,
        observed_high``.
    """
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    ax.set_title(_w("calibration_title"))
    ax.set_xlabel(term("predicted_churn"))
    ax.set_ylabel(term("observed_churn"))
    if calibration.empty:
        _note(ax, _w("calibration_none"), y=0.6)
        return ax
    predicted = calibration["predicted"].to_numpy(float)
    observed = calibration["observed"].to_numpy(float)
    top = float(np.nanmax([predicted.max(), calibration["observed_high"].max()])) * 1.08
    ax.plot([0, top], [0, top], color="#999", linestyle="--", linewidth=0.9,
            label=_w("calibration_perfect"))  # fmt: skip
    ax.errorbar(
        predicted,
        observed,
        yerr=_error_bars(observed, calibration["observed_low"], calibration["observed_high"]),
        fmt="o",
        color="#2F5D8A",
        ecolor="#9DB3CC",
        capsize=0,
        label=term("observed_churn"),
    )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    share_axis(ax.xaxis)
    share_axis(ax.yaxis)
    ax.legend(loc="upper left", fontsize=9)
    return ax


def plot_category_cohorts(
    categories: pd.DataFrame,
    *,
    feature: str,
    overall: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The churn rate of each value of one customer attribute with its 95% interval, the
    group's size beside it, the churn rate of all customers dashed.

    Parameters
    ----------
    categories
        :func:`crmkit.metrics.churn_drivers.category_cohorts`: ``feature, value, customers,
        churn_rate, churn_low, churn_high``.
    """
    data = categories.loc[categories["feature"] == feature]
    ax = ax or plt.subplots(figsize=(9, 0.45 * max(len(data), 2) + 1.5))[1]
    ax.set_title(_w("categories_title", name=feature_name(feature)))
    ax.set_xlabel(_w("cohorts_axis"))
    if data.empty:
        ax.set_yticks([])
        _note(ax, _w("cohorts_none"), y=0.6)
        return ax
    for r, row in enumerate(data.itertuples()):
        ax.plot([row.churn_low, row.churn_high], [r, r], color="#2F5D8A", linewidth=2.5,
                alpha=0.5)  # fmt: skip
        ax.plot(row.churn_rate, r, "o", color="#2F5D8A")
        ax.text(1.01, r, _w("group_size_note", n=num(row.customers)), va="center", fontsize=9,
                color="#666", transform=ax.get_yaxis_transform())  # fmt: skip
    if overall is not None and np.isfinite(overall):
        ax.axvline(overall, color="#999", linestyle="--", linewidth=0.9)
    ax.set_yticks(range(len(data)), [value_name(v) for v in data["value"]])
    ax.set_ylim(len(data) - 0.4, -0.6)  # first on top, room above and below
    share_axis(ax.xaxis)
    return ax
