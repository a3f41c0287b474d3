"""The chart frame every report shares speaks the report's language: the shaded period and
its legend, months, thousands, and the verdict beside a group's interval."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from crmkit import plots
from crmkit.core.periods import parse_period
from crmkit.present.language import language
from crmkit.present.plots.theme import month_axis, period_label, verdict_kind, verdict_words


@pytest.mark.parametrize(
    "code, this, previous", [("en", "this period", "previous period"), ("zh", "本期", "上期")]
)
def test_shaded_period_and_its_legend(code, this, previous):
    period = parse_period("2026-Q3")
    with language(code):
        _, ax = plt.subplots()
        months = pd.date_range("2026-01-01", periods=9, freq="MS")
        ax.plot(months, range(9), label=period_label(previous=True))
        plots.shade_period(ax, period)
        plots.legend_beside(ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [previous, this]
    band = ax.patches[0].get_x(), ax.patches[0].get_x() + ax.patches[0].get_width()
    assert band == pytest.approx(
        (plt.matplotlib.dates.date2num(pd.Timestamp("2026-07-01")),
         plt.matplotlib.dates.date2num(pd.Timestamp("2026-09-30")))
    )  # fmt: skip


def test_month_axis_names_months_in_the_report_language():
    with plt.rc_context(plots.theme_rc()):
        fig, ax = plt.subplots()
        ax.plot(pd.date_range("2026-01-01", periods=7, freq="MS"), range(7))
        with language("zh"):
            month_axis(ax)
            fig.canvas.draw()
            labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels == [f"2026年{m}月" for m in range(1, 8)]
        with language("en"):
            fig.canvas.draw()
            labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [f"{m} 2026" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul")]


def test_long_windows_get_fewer_month_ticks():
    fig, ax = plt.subplots()
    ax.plot(pd.date_range("2024-10-01", periods=24, freq="MS"), range(24))
    with language("en"):
        month_axis(ax, most=8)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels()]
    # Oct 2024 – Sep 2026 and matplotlib's margins (late Aug 2024 – early Nov 2026): 26
    # months, too many for every 3rd (9 ticks); every 4th month from January
    assert labels == [
        "Sep 2024", "Jan 2025", "May 2025", "Sep 2025", "Jan 2026", "May 2026", "Sep 2026"
    ]  # fmt: skip


def test_thousands_follow_the_locale():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 12000])
    plots.thousands(ax)
    with language("zh"):
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "12,000" in labels


def test_verdicts_in_either_language_keep_their_colour():
    assert verdict_kind("NPS above the rest") == "above"
    assert verdict_kind("too few to judge") == "too_few"
    assert verdict_kind("低于其余") == "below"  # a verdict a report already translated
    assert verdict_kind("no_difference") == "no_difference"  # a code
    assert verdict_kind("something else") == ""
    with language("zh"):
        assert verdict_words("NPS below the rest") == "低于其余"
        assert verdict_words("no clear difference") == "无明显差异"
    table = pd.DataFrame(
        {
            "group": ["web", "store", "phone"],
            "value": [0.6, 0.2, 0.4],
            "low": [0.5, 0.1, 0.1],
            "high": [0.7, 0.3, 0.7],
            "verdict": ["高于其余", "below the rest", "too few to judge"],
        }
    )
    with language("zh"):
        ax = plots.plot_group_intervals(
            table, value="value", low="low", high="high", notes=["a", "b", "c"], ax=None
        )
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert [p.get_color() for p in points] == [plots.PALETTE[2], plots.PALETTE[3], "#999"]
    assert [t.get_text() for t in ax.texts] == [
        "a · 高于其余",
        "b · 低于其余",
        "c · 样本太少，无法判断",
    ]
