"""The service charts draw the numbers they are given, say what they leave out, and write
every word in the report's language."""

import numpy as np
import pandas as pd
import pytest
from language_check import english_words

from crmkit import plots
from crmkit.core.periods import parse_period
from crmkit.metrics.service import service_analysis
from crmkit.present.language import language
from crmkit.present.plots.funnel import omitted_notes

Q3 = parse_period("2026-Q3")


def _service():
    """Q2 tickets resolved in 10, 20, 30 h; Q3 in 10 and 40 h and one open; a 'returns'
    ticket in Q3 never resolved; months July (complete) and September cut short."""
    rows = [
        ("p1", "2026-05-01", "2026-05-01 10:00", "billing"),
        ("p2", "2026-05-02", "2026-05-02 20:00", "billing"),
        ("p3", "2026-05-03", "2026-05-04 06:00", "billing"),
        ("t1", "2026-07-01", "2026-07-01 10:00", "billing"),
        ("t2", "2026-07-02", "2026-07-03 16:00", "billing"),
        ("t3", "2026-07-03", None, "returns"),
    ]
    tickets = pd.DataFrame(rows, columns=["ticket_id", "opened_at", "resolved_at", "category"])
    tickets["customer_id"] = "a"
    tickets["opened_at"] = pd.to_datetime(tickets["opened_at"])
    tickets["resolved_at"] = pd.to_datetime(tickets["resolved_at"])
    monthly = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-09-01"]),
            "month_end": pd.to_datetime(["2026-07-31", "2026-08-31", "2026-09-20"]),
            "complete": [True, True, False],
            "active": [50, 50, 50],
        }
    )
    return service_analysis(
        tickets, period=Q3, active=50, previous_active=50, monthly_active=monthly
    )


@pytest.fixture(scope="module")
def service():
    return _service()


def _texts(ax):
    found = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    found += [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend:
        found += [t.get_text() for t in legend.get_texts()]
    return [t for t in found if t]


def test_curves_draw_the_share_still_unresolved(service):
    with language("en"):
        ax = plots.plot_resolution_curves(
            service.resolution.curve, service.resolution.previous_curve, sla_hours=72
        )
    lines = {line.get_label(): line for line in ax.get_lines()}
    now = lines["this period (3 tickets)"]
    # 10 h: 2/3 left; 40 h: 1/3 left (the open one)
    assert now.get_xdata().tolist() == [0, 10, 40]
    assert now.get_ydata().tolist() == pytest.approx([1, 2 / 3, 1 / 3])
    before = lines["previous period (3 tickets)"]
    assert before.get_ydata().tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])
    assert any("SLA: 72 hours" in t for t in _texts(ax))


def test_an_empty_period_is_named(service):
    empty = service_analysis(None, period=Q3, active=1, previous_active=1, monthly_active=None)
    with language("zh"):
        ax = plots.plot_resolution_curves(
            service.resolution.curve, empty.resolution.previous_curve, sla_hours=72
        )
    assert omitted_notes(ax) == ["上期没有可绘制的工单。"]


def test_trend_bars_are_tickets_per_100_and_name_the_cut_month(service):
    with language("en"):
        ax = plots.plot_service_trend(service.trend, period=Q3)
    heights = [bar.get_height() for bar in ax.containers[0]]
    assert heights == pytest.approx([6.0, 0.0, 0.0])  # 3 July tickets ÷ 50 × 100
    assert any("up to" in note for note in omitted_notes(ax))


def test_category_bars_and_a_category_never_half_resolved(service):
    with language("zh"):
        ax = plots.plot_category_resolution(service.by_category)
        texts = _texts(ax)
    widths = [p.get_width() for p in ax.patches]
    # billing: 10 h and 40 h → half resolved at 10 h; returns never resolved
    assert widths[0] == pytest.approx(service.by_category["median_resolution_hours"].iloc[0])
    assert widths[0] == pytest.approx(10.0)
    assert omitted_notes(ax) == ["returns：截至期末解决的不足半数。"]
    assert english_words(texts, allowed={"returns", "billing"}) == []


def test_no_data_draws_a_note():
    empty = service_analysis(None, period=Q3, active=1, previous_active=1, monthly_active=None)
    with language("en"):
        assert omitted_notes(plots.plot_category_resolution(None))
        assert omitted_notes(plots.plot_service_trend(empty.trend, period=Q3))
    assert np.isnan(empty.resolution.median)
