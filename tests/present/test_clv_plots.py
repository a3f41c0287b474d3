"""The CLV charts speak the report's language and show what the sentences say: the tracking
chart draws the fit bound, the LTV:CAC chart names the channels it cannot draw."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from language_check import english_words

from crmkit.present.language import language
from crmkit.present.plots import clv as plots
from crmkit.present.plots import theme_rc


@pytest.fixture(autouse=True)
def _theme():
    with plt.rc_context(theme_rc()):  # the report's font, which has the Chinese glyphs
        yield


def chart_texts(ax) -> list[str]:
    """Every text of a chart: title, axis labels, tick labels, legend, annotations."""
    ax.figure.canvas.draw()
    texts = [ax.get_title(loc=loc) for loc in ("left", "center", "right")]
    texts += [ax.get_xlabel(), ax.get_ylabel()]
    texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    texts += [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [legend.get_title().get_text()] + [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]


def tracking() -> pd.DataFrame:
    weeks = pd.date_range("2025-10-05", periods=40, freq="7D")
    actual = np.arange(1, 41) * 50.0
    return pd.DataFrame({"week_ending": weeks, "actual": actual, "expected": actual * 0.85})


def test_tracking_chart_draws_the_bound_around_actual_over_the_holdout():
    frame = tracking()
    end = pd.Timestamp("2026-04-01")
    with language("zh"):
        ax = plots.plot_tracking(frame, calibration_end=end, bound=0.1, model="BG/NBD")
        texts = chart_texts(ax)
    assert "逐周跟踪：累计复购次数，实际与模型" in texts
    assert {"实际", "模型（BG/NBD）", "实际 ±10%（带内为拟合良好）"} <= set(texts)
    assert english_words(texts) == []
    (band,) = ax.collections
    top = band.get_paths()[0].vertices[:, 1].max()
    held = frame.loc[frame["week_ending"] > end]
    assert top == held["actual"].max() * 1.1  # the band is actual ± 10% over the holdout
    # the model's curve is drawn beneath the band's floor in every holdout week
    assert (held["expected"] < held["actual"] * 0.9).all()


def test_ltv_cac_chart_names_the_channels_it_cannot_draw():
    view = pd.DataFrame(
        {"acquisition_channel": ["转介绍", "搜索广告", "门店"], "ltv_cac": [3.1, 0.42, np.nan]}
    )
    with language("zh"):
        ax = plots.plot_ltv_cac(view)
        texts = chart_texts(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["转介绍", "搜索广告"]
    assert "无获客成本数据，未绘制：门店" in texts
    assert english_words(texts, allowed={"LTV", "CAC"}) == []
    bars = sorted(ax.patches, key=lambda p: p.get_width())
    assert [round(b.get_width(), 2) for b in bars] == [0.42, 3.1]
    assert bars[0].get_facecolor() != bars[1].get_facecolor()  # below 1 is marked


def test_cohort_and_distribution_charts_in_each_language():
    cohorts = pd.DataFrame(
        {
            "cohort": ["2025Q4", "2025Q4", "2026Q1"],
            "months_since_signup": [0, 1, 0],
            "customers": [10, 10, 5],
            "revenue_per_customer": [5.0, 9.0, 4.0],
        }
    )
    with language("zh"):
        ax = plots.plot_cohort_curves(cohorts, currency="CNY")
        texts = chart_texts(ax)
    assert {"2025年第4季度", "2026年第1季度", "注册季度"} <= set(texts)
    assert english_words(texts) == []
    with language("en"):
        ax = plots.plot_cohort_curves(cohorts, currency="USD")
        assert "Q4 2025" in chart_texts(ax)
        assert ax.get_ylabel() == "cumulative revenue per signed-up customer (USD)"
        ax = plots.plot_value_distribution(pd.Series([0.5, 20.0, 300.0, 4000.0]), currency="USD")
        assert ax.get_xlabel() == "predicted CLV (USD, log scale)"
        assert ax.get_ylabel() == "customers who have bought"
