"""The service part's words say what its numbers say, in both languages; the slow-down flag
is raised only for a significant rise; the results keys hold the analysis's figures."""

import numpy as np
import pandas as pd
import pytest
from language_check import english_words

from crmkit.core.periods import parse_period
from crmkit.metrics.service import service_analysis
from crmkit.present.language import language
from crmkit.topics import health_service as report

Q3 = parse_period("2026-Q3")


def _tickets(hours_before: float, hours_now: float, n: int = 60) -> pd.DataFrame:
    """``n`` tickets a period, opened a day apart from the first of each quarter, resolved
    after ``hours_before`` (Q2) or ``hours_now`` (Q3) plus a spread of 0–9 hours; the first
    three customers complain twice each in Q3, categories alternate."""
    frames = []
    for start, hours, tag in (("2026-04-01", hours_before, "p"), ("2026-07-01", hours_now, "t")):
        opened = pd.Timestamp(start) + pd.to_timedelta(np.arange(n), unit="D")
        spread = pd.to_timedelta(np.arange(n) % 10, unit="h")
        frames.append(
            pd.DataFrame(
                {
                    "ticket_id": [f"{tag}{i}" for i in range(n)],
                    "customer_id": [f"c{i % 30}" for i in range(n)],
                    "opened_at": opened,
                    "first_response_at": opened + pd.Timedelta(hours=2),
                    "resolved_at": opened + pd.Timedelta(hours=hours) + spread,
                    "category": np.where(np.arange(n) % 2, "账单", "物流"),
                    "is_complaint": pd.array(
                        (tag == "t") & (np.arange(n) % 30 < 3), dtype="boolean"
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _analysis(before: float, now: float):
    return service_analysis(
        _tickets(before, now), period=Q3, active=300, previous_active=280, monthly_active=None
    )


@pytest.fixture(scope="module")
def slower():
    return _analysis(20, 50)


def test_a_significant_slow_down_raises_the_flag_with_its_numbers(slower):
    r = slower.resolution
    assert r.median > r.previous_median and r.change.p_value < 0.05
    flags = report.service_flags(slower)
    assert [f.key for f in flags] == ["service_slower"]
    flag = flags[0]
    assert flag.bad and flag.topic == "health" and flag.kind == "change"
    assert f"{r.previous_median:.1f}" in flag.message["en"]
    assert f"{r.median:.1f}" in flag.message["en"]
    assert "账单" in flag.message["en"] or "物流" in flag.message["en"]  # slowest categories
    assert flag.section["zh"] == "客户服务效率"
    assert english_words([flag.message["zh"], flag.action["zh"]]) == []


def test_a_speed_up_or_no_change_raises_no_flag():
    assert report.service_flags(_analysis(50, 20)) == []
    assert report.service_flags(_analysis(20, 20)) == []


def test_sentences_carry_the_figures(slower):
    with language("en"):
        tickets = report.tickets_sentence(slower)
        resolution = report.resolution_sentence(slower)
        repeat = report.repeat_sentence(slower)
        sla = report.sla_sentence(slower)
    assert "60 tickets" in tickets and "20.0 per 100" in tickets  # 60 ÷ 300 × 100
    assert "21.4 per 100" not in tickets and "up from" not in tickets  # 60/280 → down
    assert f"{slower.resolution.median:.1f} hours" in resolution and "slowed" in resolution
    assert "significant change" in resolution
    assert repeat.startswith("3 of the 3 customers")  # c0, c1, c2 complained twice each
    s = slower.sla_share
    assert f"{s.value:.1%}" in sla and "120 hours" in sla
    with language("zh"):
        text = report.sentences(slower)
    assert all(english_words([t.replace("p = ", "").replace("p < ", "")]) == [] for t in text)
    assert any("延长" in t for t in text)


def test_results_part_holds_the_analysis_figures(slower):
    part = report.results_part(slower)
    assert set(part) == {
        "complaint_rate",
        "median_first_response_hours",
        "median_resolution_hours",
        "sla_share",
    }
    assert part["complaint_rate"] == pytest.approx(6 / 300 * 100)
    assert part["median_first_response_hours"] == pytest.approx(2.0)
    assert part["median_resolution_hours"] == slower.resolution.median
    assert part["sla_share"] == slower.sla_share.value


def test_views_are_named_by_the_glossary(slower):
    with language("zh"):
        kpi = report.kpi_view(slower)
        categories = report.category_view(slower)
        complaints = report.complaint_category_view(slower)
    assert kpi.columns.tolist() == [
        "period_figure",
        "value_this_period",
        "value_previous_period",
        "change_on_previous",
        "p_value",
    ]
    row = kpi.set_index("period_figure").loc["服务时限达成率（SLA）"]
    assert row["value_this_period"].endswith("%")
    assert row["p_value"] == slower.sla_change.p_value
    assert categories["service_tickets"].sum() == 60
    assert complaints["period_complaints"].sum() == 6


def test_missing_tickets_say_so_and_publish_nothing():
    empty = service_analysis(None, period=Q3, active=10, previous_active=10, monthly_active=None)
    with language("en"):
        skipped = report.skipped(empty)
        assert report.tickets_sentence(empty).startswith("Skipped")
        assert report.kpi_view(empty).empty
    assert {"tickets", "complaints", "trend"} <= set(skipped)
    assert set(report.results_part(empty).values()) == {None}
    assert report.service_flags(empty) == []
    with language("zh"):
        assert report.methods(empty)


def test_open_tickets_make_the_median_unknown_not_zero():
    # one ticket resolved after the period end: the column is recorded, every ticket was
    # open at the period end (an empty column would be not recorded: no figure at all)
    tickets = _tickets(20, 20).assign(resolved_at=pd.NaT)
    tickets.loc[tickets.index[-1], "resolved_at"] = pd.Timestamp("2026-10-20")
    s = service_analysis(tickets, period=Q3, active=300, previous_active=280, monthly_active=None)
    with language("en"):
        assert "no median resolution time yet" in report.resolution_sentence(s)
    assert report.results_part(s)["median_resolution_hours"] is None
    assert report.results_part(s)["sla_share"] == 0.0  # every decided ticket missed it
