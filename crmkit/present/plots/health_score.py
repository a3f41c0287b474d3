"""Charts of the health review's customer health score: the score's distribution coloured by
band, churn by band with Wilson intervals, the configured against the suggested weights, and
the band moves since the previous period end.

Every word comes from the catalogue (``health_score.*``) or the glossary, in the report's
language; every number from :mod:`crmkit.present.format`. A chart without data to draw says
so inside it instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmkit.present.format import day, num, pct
from crmkit.present.language import term, words
from crmkit.present.plots.funnel import note
from crmkit.present.plots.theme import PALETTE, legend_beside, share_axis

BANDS = ("red", "amber", "green")
BAND_COLOURS = {"red": "#C2474F", "amber": "#E0A030", "green": "#3E9B6F"}
COMPONENTS = ("engagement", "value", "sentiment", "service", "purchasing")


def _w(key: str, /, **values) -> str:
    return words(f"health_score.{key}", **values)


def _empty(ax: Axes, title: str, text: str) -> Axes:
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    note(ax, text)
    return ax


def plot_health_distribution(
    scores: pd.DataFrame,
    *,
    red_below: float,
    green_from: float,
    as_of: object,
    ax: Axes | None = None,
) -> Axes:
    """Customers per 5 points of health score, each bar coloured by the band of its
    customers (a green-score customer held at amber by the cap rule counts amber), with the
    band thresholds drawn.

    ``scores`` holds ``score`` and ``band`` per customer
    (:func:`crmkit.metrics.health_score.health_scores`).
    """
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    title = _w("distribution_title", day=day(as_of))
    shown = scores.loc[scores["score"].notna()]
    if shown.empty:
        return _empty(ax, title, _w("no_scores"))
    edges = np.arange(0, 105, 5)
    bottom = np.zeros(len(edges) - 1)
    for band in BANDS:
        values = shown.loc[shown["band"] == band, "score"].clip(0, 99.999)
        counts, _ = np.histogram(values, bins=edges)
        ax.bar(edges[:-1], counts, width=5, align="edge", bottom=bottom,
               color=BAND_COLOURS[band], edgecolor="white", linewidth=0.5,
               label=_w(f"band_{band}"))  # fmt: skip
        bottom += counts
    for value, band in ((red_below, "amber"), (green_from, "green")):
        ax.axvline(value, color="#555", linestyle="--", linewidth=1)
        ax.annotate(
            _w("band_line", band=_w(f"band_{band}"), points=num(value)),
            xy=(value, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            fontsize=9,
            color="#555",
        )
    ax.set_xlim(0, 100)
    ax.set_xlabel(term("health_score"))
    ax.set_ylabel(term("customers"))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: num(v)))
    ax.set_title(title)
    legend_beside(ax)
    return ax


def plot_churn_by_band(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """This period's churn rate per health band at the previous period end, with 95% Wilson
    intervals and each band's customers under its bar; should fall from red to green.

    ``table`` is ``HealthValidation.churn_by_band`` (``band, customers, churned, rate, low,
    high``).
    """
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    title = _w("churn_band_title")
    shown = table.loc[table["customers"] > 0]
    if shown.empty or int(shown["churned"].sum()) == 0:
        return _empty(ax, title, _w("no_churn_test"))
    x = np.arange(len(shown))
    rates = shown["rate"].to_numpy(float)
    errors = np.vstack(
        [rates - shown["low"].to_numpy(float), shown["high"].to_numpy(float) - rates]
    )
    ax.bar(x, rates, color=[BAND_COLOURS[b] for b in shown["band"]], width=0.6)
    ax.errorbar(x, rates, yerr=errors, fmt="none", ecolor="#333", capsize=5, linewidth=1)
    for k, rate in enumerate(rates):
        ax.annotate(pct(rate), xy=(x[k], rate), xytext=(8, 2), textcoords="offset points",
                    fontsize=9, color="#333")  # fmt: skip
    labels = [
        f"{_w(f'band_{b}')}\n{_w('band_customers', n=num(n))}"
        for b, n in zip(shown["band"], shown["customers"], strict=True)
    ]
    ax.set_xticks(x, labels)
    ax.set_ylim(bottom=0)
    share_axis(ax.yaxis)
    ax.set_ylabel(term("band_churn_rate"))
    ax.set_xlabel(term("health_band"))
    ax.set_title(title)
    return ax


def plot_health_weights(
    configured: Mapping[str, float],
    suggested: Mapping[str, float] | None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Each component's configured weight beside its suggested weight (horizontal bars);
    a note instead of the suggested bars when none could be fitted."""
    ax = ax or plt.subplots(figsize=(8, 3.8))[1]
    y = np.arange(len(COMPONENTS))
    height = 0.38
    ax.barh(y - height / 2, [configured.get(c, 0) for c in COMPONENTS], height=height,
            color=PALETTE[0], label=term("configured_weight"))  # fmt: skip
    if suggested:
        ax.barh(y + height / 2, [suggested.get(c, 0) for c in COMPONENTS], height=height,
                color=PALETTE[1], label=term("suggested_weight"))  # fmt: skip
    else:
        note(ax, _w("no_suggestion"))
    ax.set_yticks(y, [term(f"health_{c}") for c in COMPONENTS])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: num(v)))
    ax.set_xlabel(_w("weight_axis"))
    ax.set_title(_w("weights_title"))
    legend_beside(ax)
    return ax


def plot_band_moves(change: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Customers by band at the previous period end (rows) and at the period end (columns),
    for customers scored at both (``score_change``'s ``previous_band`` and ``band``)."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    title = _w("moves_title")
    if change.empty:
        return _empty(ax, title, _w("no_scores"))
    table = pd.crosstab(change["previous_band"].astype(str), change["band"].astype(str))
    table = table.reindex(index=list(BANDS), columns=list(BANDS), fill_value=0)
    names = [_w(f"band_{b}") for b in BANDS]
    sns.heatmap(
        table.to_numpy(),
        annot=np.vectorize(num)(table.to_numpy()),
        fmt="",
        cmap="Blues",
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        xticklabels=names,
        yticklabels=names,
        ax=ax,
    )
    ax.tick_params(axis="y", rotation=0)
    ax.set_xlabel(_w("moves_to"))
    ax.set_ylabel(_w("moves_from"))
    ax.set_title(title)
    return ax
