"""The CLV charts speak the report's language and show what the sentences say: the tracking
chart draws the forecast the verdict judges and its bound, the LTV:CAC chart names the
channels it cannot draw."""

from __future__ import annotations

import matplotlib.dates as mdates
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
    """26 weeks after the calibration end (1 April 2026), 100 purchases a week; the forecast
    5% high."""
    weeks = pd.date_range("2026-04-01", periods=27, freq="7D")
    actual = np.arange(27) * 100.0
    return pd.DataFrame({"week_ending": weeks, "actual": actual, "expected": actual * 1.05})


def test_tracking_chart_draws_the_forecast_and_the_bound_it_is_judged_by():
    """Issue 12 (review): the chart shows what the verdict judges (the forecast week by
    week after the calibration end), its legend says "model forecast", not the model's
    name, and the band starts at the first judged week."""
    frame = tracking()
    end, judged = pd.Timestamp("2026-04-01"), pd.Timestamp("2026-04-29")
    with language("zh"):
        ax = plots.plot_tracking(frame, calibration_end=end, bound=0.1, judged_from=judged)
        texts = chart_texts(ax)
    assert "检验的 26 周：累计复购次数，实际与模型预测" in texts
    assert {"实际", "模型预测", "2026年4月29日 起实际 ±10%（带内为拟合良好）"} <= set(texts)
    assert ax.get_ylabel() == "2026年4月1日 之后的累计复购次数"
    assert english_words(texts) == [] and not any("BG/NBD" in t for t in texts)
    (band,) = ax.collections
    corners = band.get_paths()[0].vertices
    assert corners[:, 0].min() == pytest.approx(mdates.date2num(judged))
    assert corners[:, 1].max() == pytest.approx(frame["actual"].max() * 1.1)
    forecast = ax.get_lines()[1]
    assert forecast.get_ydata()[-1] == frame["expected"].iloc[-1]  # 5% high: in the band
    with language("en"):
        ax = plots.plot_tracking(frame, calibration_end=end, bound=0.1)
        texts = chart_texts(ax)
    assert {"actual", "model forecast", "±10% of actual (fits well inside)"} <= set(texts)
    assert "The 26 test weeks: cumulative repeat purchases, actual and forecast" in texts


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
    # values under 1 stand in a bar of their own, labelled, not on the bar at 1
    values = pd.Series([0.01, 0.2, 0.7, 1.0, 1.1, 50.0, 900.0])
    ax = plots.plot_value_distribution(values)
    bars = [(p.get_x(), p.get_x() + p.get_width(), p.get_height()) for p in ax.patches]
    first = [h for left, right, h in bars if left <= 1 < right]
    assert first == [2.0]  # 1.0 and 1.1
    assert [h for left, right, h in bars if right <= 1] == [3.0]
    assert "<1" in chart_texts(ax)
    assert sum(h for *_, h in bars) == len(values)
