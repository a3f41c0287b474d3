"""The funnel's charts say what they leave out, and speak the report's language."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import sample_funnel
from language_check import english_words

from crmkit.core.periods import parse_period
from crmkit.metrics.survival import CURVE_COLUMNS, SurvivalCurve, kaplan_meier
from crmkit.present.language import language, words
from crmkit.present.plots import funnel as plots
from crmkit.present.plots import theme_rc


def _curve(days, won) -> SurvivalCurve:
    return kaplan_meier(days, won, min_at_risk=10)


def _too_few(events: int) -> SurvivalCurve:
    return SurvivalCurve(pd.DataFrame(columns=CURVE_COLUMNS), float("nan"), 40, events)


def _texts(ax) -> list[str]:
    """Every word a chart shows: title, axis labels, ticks, legend, texts and notes."""
    found = [ax.get_title(loc=where) for where in ("left", "center", "right")]
    found += [ax.get_xlabel(), ax.get_ylabel()]
    found += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    legend = ax.get_legend()
    found += [t.get_text() for t in legend.get_texts()] if legend else []
    return found + [t.get_text() for t in ax.texts]


def test_a_cycle_curve_with_too_few_won_deals_is_a_note_not_a_silent_gap():
    rng = np.random.default_rng(7)
    previous = _curve(rng.integers(5, 90, 60), rng.random(60) < 0.7)
    curves = {"this period": _too_few(3), "previous period": previous}
    with plt.rc_context(theme_rc()):
        ax = plots.plot_cycle_curves(curves)
        ax.figure.canvas.draw()
    assert plots.omitted_notes(ax) == ["This period: too few won deals (n = 3) to draw a curve"]
    assert ax.get_legend_handles_labels()[1] == ["previous period (60 won or open deals)"]
    with language("zh"):
        ax = plots.plot_cycle_curves({"本期": _too_few(3), "上期": previous})
    assert plots.omitted_notes(ax) == ["本期赢单太少（n = 3），未绘制曲线"]
    # both curves drawn: nothing to note
    ax = plots.plot_cycle_curves({"this period": previous, "previous period": previous})
    assert plots.omitted_notes(ax) == []


def test_the_note_sits_under_the_axis_where_it_covers_nothing():
    with plt.rc_context(theme_rc()):
        ax = plots.plot_cycle_curves({"this period": _too_few(1)})
        ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    note = next(t for t in ax.texts if t.get_gid() == "omitted")
    label = ax.xaxis.label.get_window_extent(renderer)
    assert note.get_window_extent(renderer).y1 < label.y0  # below the x-axis label


@pytest.mark.slow
def test_north_sales_cycle_chart_says_this_period_was_left_out():
    """North's funnel collapsed: one deal of this period's cohort won, too few for a curve.
    The chart must say so (the issue: its legend showed only "previous period")."""
    from crmkit.topics import funnel as report

    _, _, analysis = sample_funnel("north")
    assert analysis.cycle_curve.table.empty and analysis.cycle_curve.events == 1
    ax = plots.plot_cycle_curves(report.cycle_curves(analysis))
    assert plots.omitted_notes(ax) == ["This period: too few won deals (n = 1) to draw a curve"]
    # the sentence under the chart gives the same reason, not the undrawn curve's median
    assert report.section_findings(analysis)["cycle_curve"].startswith(plots.omitted_notes(ax)[0])
    with language("zh"):
        ax = plots.plot_cycle_curves(report.cycle_curves(analysis))
        assert report.section_findings(analysis)["cycle_curve"].startswith(
            "本期赢单太少（n = 1），未绘制曲线"
        )
    assert plots.omitted_notes(ax) == ["本期赢单太少（n = 1），未绘制曲线"]


def test_the_cycle_chart_axis_names_no_method():
    """Item 3 of the review: the y axis says what it shows; Kaplan–Meier stays in the
    analyst notes' methods."""
    rng = np.random.default_rng(3)
    curve = _curve(rng.integers(5, 90, 60), rng.random(60) < 0.7)
    for code, label in (("en", "share won"), ("zh", "累计赢单比例")):
        with language(code):
            ax = plots.plot_cycle_curves({"x": curve})
        assert ax.get_ylabel() == label
        assert "Kaplan" not in " ".join(_texts(ax))
    with language("en"):
        assert "Kaplan–Meier" in words("funnel.methods_heading_intro")


def test_other_funnel_charts_name_what_they_leave_out():
    current = pd.DataFrame(
        {"stage": ["a", "b", "c"], "reached": [100, 60, 20], "step_conversion": [np.nan, 0.6, 0.4]}
    )
    ax = plots.plot_funnel(current, None)
    assert plots.omitted_notes(ax) == ["No comparable previous period: this period's bars only"]
    assert plots.omitted_notes(plots.plot_funnel(current, current)) == []
    durations = pd.DataFrame(
        {
            "stage": ["a", "b"],
            "moved_on": [5, 0],
            "median": [3.0, np.nan],
            "p75": [4.0, np.nan],
            "p90": [6.0, np.nan],
        }
    )
    ax = plots.plot_stage_durations(durations)
    assert plots.omitted_notes(ax) == ["No deal has moved on from b yet: no bars drawn"]
    # June has no new opportunity: a gap, counted
    window = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-04-01", "2026-05-01", "2026-07-01"]),
            "created": [10, 12, 9],
            "won_in_window": [2, 3, 1],
            "conversion": [0.2, 0.25, 1 / 9],
            "low": [0.05, 0.1, 0.02],
            "high": [0.5, 0.5, 0.4],
            "complete": [True, True, False],
        }
    )
    ax = plots.plot_conversion_window(window, window_days=90)
    assert plots.omitted_notes(ax) == ["1 months without a new opportunity: no point drawn"]
    # months won: July and September of Q3, none in August, none before July shown
    trend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-09-01"]),
            "won": [3, 4],
            "median": [40.0, 50.0],
            "p25": [30.0, 35.0],
            "p75": [50.0, 60.0],
        }
    )
    ax = plots.plot_cycle_trend(trend, period=parse_period("2026-Q3"))
    assert plots.omitted_notes(ax) == ["1 months without a won deal: no point drawn"]
    breakdown = pd.DataFrame(
        {
            "group": ["x", "y"],
            "metric": ["win_rate", "win_rate"],
            "trials": [40, 0],
            "conversion": [0.3, np.nan],
            "low": [0.2, np.nan],
            "high": [0.45, np.nan],
            "verdict": ["no_difference", "too_few"],
        }
    )
    ax = plots.plot_breakdown(breakdown, metric="win_rate", by="source")
    assert plots.omitted_notes(ax) == ["No decided opportunity, not drawn: y"]
    assert "win rate by lead source" in _texts(ax)  # titled left or centre, by the theme
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x"]


def test_chinese_charts_hold_no_english_words_but_the_data():
    current = pd.DataFrame(
        {
            "stage": ["潜在客户", "意向客户", "成交客户"],
            "reached": [100, 60, 20],
            "step_conversion": [np.nan, 0.6, 0.4],
        }
    )
    rng = np.random.default_rng(3)
    previous = _curve(rng.integers(5, 90, 60), rng.random(60) < 0.7)
    trend = pd.DataFrame(
        {
            "month": pd.date_range("2025-10-01", "2026-09-01", freq="MS"),
            "won": 3,
            "median": 40.0,
            "p25": 30.0,
            "p75": 50.0,
        }
    )
    breakdown = pd.DataFrame(
        {
            "group": ["转介绍", "门店"],
            "metric": ["潜在客户->意向客户"] * 2,
            "trials": [40, 10],
            "conversion": [0.3, 0.5],
            "low": [0.2, 0.2],
            "high": [0.45, 0.8],
            "verdict": ["above", "too_few"],
        }
    )
    with language("zh"), plt.rc_context(theme_rc()):
        axes = [
            plots.plot_funnel(current, current),
            plots.plot_funnel(current, None),
            plots.plot_cycle_curves({"本期": _too_few(2), "上期": previous}),
            plots.plot_cycle_trend(trend, period=parse_period("2026-Q3")),
            plots.plot_breakdown(breakdown, metric="潜在客户->意向客户", by="source"),
        ]
        for ax in axes:
            ax.figure.canvas.draw()  # tick labels are made at drawing
        texts = [text for ax in axes for text in _texts(ax)]
    assert english_words(texts) == []
    assert "按线索来源分组的潜在客户 → 意向客户 阶段转化率" in texts
    assert "2026年7月" in texts  # months in the report's language


def test_every_count_label_sits_at_the_end_of_its_own_bar():
    current = pd.DataFrame(
        {
            "stage": ["潜在客户", "意向客户", "成交客户"],
            "reached": [253, 141, 26],
            "step_conversion": [np.nan, 0.62, 0.6],
        }
    )
    previous = current.assign(reached=[222, 111, 22])
    with language("zh"), plt.rc_context(theme_rc()):
        ax = plots.plot_funnel(current, previous)
    bars = [(p.get_y() + p.get_height() / 2, p.get_width()) for p in ax.patches]
    labels = [t for t in ax.texts if t.get_gid() != "omitted"]
    assert len(labels) == len(bars) == 6
    for text in labels:
        x, y = text.get_position()
        count = int(text.get_text().split()[0].replace(",", ""))
        centre, width = min(bars, key=lambda bar: abs(bar[0] - y))
        assert y == pytest.approx(centre)  # on its bar's row, not the neighbour's
        widest = max(width for _, width in bars)
        assert width == count and width <= x <= width + 0.02 * widest  # just past its end
