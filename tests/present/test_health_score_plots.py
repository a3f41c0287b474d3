"""The health-score charts draw the numbers they are given, say when there is nothing to
draw, and write every word in the report's language."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from language_check import english_words
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from crmkit import plots
from crmkit.present.language import language


def _texts(ax) -> list[str]:
    fig = ax.figure
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0]


SCORES = pd.DataFrame(
    {
        "score": [10.0, 12.0, 49.9, 50.0, 60.0, 74.9, 75.0, 80.0, 95.0, 96.0],
        "band": ["red"] * 3 + ["amber"] * 3 + ["green", "amber", "green", "green"],
    }
)
TABLE = pd.DataFrame(
    {
        "band": ["red", "amber", "green"],
        "customers": [10, 20, 30],
        "churned": [4, 3, 1],
        "rate": [0.4, 0.15, 1 / 30],
        "low": [0.17, 0.05, 0.006],
        "high": [0.69, 0.36, 0.17],
    }
)
WEIGHTS = {"engagement": 20, "value": 20, "sentiment": 20, "service": 15, "purchasing": 25}


@pytest.mark.parametrize("code", ["en", "zh"])
def test_distribution_counts_customers_per_band(code):
    with language(code), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_health_distribution(SCORES, red_below=50, green_from=75, as_of="2026-09-30")
        texts = _texts(ax)
    heights = {}
    for bar in _bars(ax):
        colour = bar.get_facecolor()[:3]
        heights[colour] = heights.get(colour, 0) + bar.get_height()
    assert sorted(heights.values()) == [3, 3, 4]  # red 3, amber 4 (one capped at 80), green 3
    lines = [line.get_xdata()[0] for line in ax.lines]
    assert lines == [50, 75]
    if code == "zh":
        assert english_words(texts) == []
        assert any("健康度评分分布" in t for t in texts)


@pytest.mark.parametrize("code", ["en", "zh"])
def test_churn_by_band_draws_rates_with_intervals(code):
    with language(code), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_churn_by_band(TABLE)
        texts = _texts(ax)
    assert [round(b.get_height(), 4) for b in _bars(ax)] == [0.4, 0.15, 0.0333]
    assert "40.0%" in texts
    if code == "zh":
        assert english_words(texts) == []
        assert any("10 位客户" in t for t in texts)


def test_churn_by_band_without_churn_says_so():
    with language("en"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_churn_by_band(TABLE.assign(churned=0))
        assert "Too few churns to show churn by band." in _texts(ax)
    assert _bars(ax) == []


@pytest.mark.parametrize("code", ["en", "zh"])
def test_weights_configured_beside_suggested(code):
    suggested = {"engagement": 27, "value": 0, "sentiment": 18, "service": 55, "purchasing": 0}
    with language(code), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_health_weights(WEIGHTS, suggested)
        texts = _texts(ax)
    widths = sorted(round(p.get_width()) for p in ax.patches if p.get_width() > 0)
    assert widths == sorted([20, 20, 20, 15, 25, 27, 18, 55])
    if code == "zh":
        assert english_words(texts) == [] and "服务体验" in texts


def test_weights_without_suggestion_say_so():
    with language("en"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_health_weights(WEIGHTS, None)
        assert "No suggested weights: too few churns to fit." in _texts(ax)
    assert len([p for p in ax.patches if p.get_width() > 0]) == 5


def test_band_moves_counts_customers():
    change = pd.DataFrame(
        {
            "previous_band": ["red", "amber", "amber", "green"],
            "band": ["red", "red", "green", "green"],
        }
    )
    with language("en"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_band_moves(change)
        texts = _texts(ax)
    matrix = ax.collections[0].get_array().reshape(3, 3)
    assert np.array_equal(matrix, [[1, 0, 0], [1, 0, 1], [0, 0, 1]])
    assert "band at the previous period end" in texts


def test_no_scores_say_so():
    with language("zh"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_health_distribution(
            SCORES.iloc[:0], red_below=50, green_from=75, as_of="2026-09-30"
        )
        assert "没有客户有健康度评分。" in _texts(ax)
    plt.close("all")
