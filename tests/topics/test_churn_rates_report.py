"""The churn rates' words (en and zh) say what the numbers say, and the published results
hold the registry's keys."""

import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from language_check import english_words

from crmkit.core.periods import parse_period
from crmkit.metrics.churn_rates import churn_rates_analysis
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.present.format import money, pct
from crmkit.present.language import language
from crmkit.topics import churn_rates as report
from crmkit.topics.registry import TOPICS

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))
from test_churn_rates import events_unit, inactivity_unit

Q2 = parse_period("2026-Q2")
EVENTS = ChurnDefinition("events", None, "events")
KEYS = {
    "churn_definition",
    "inactivity_days",
    "churn_rate",
    "churn_rate_ci",
    "previous_churn_rate",
    "churn_change",
    "annual_churn_rate",
    "retention_rate",
    "gross_revenue_retention",
    "net_revenue_retention",
}


def _by_events():
    people, orders, lost = events_unit()
    return churn_rates_analysis(people, orders, lost, period=Q2, definition=EVENTS)


def _by_silence(basis="parameter", days=30):
    people, orders = inactivity_unit()
    definition = ChurnDefinition("inactivity", days, basis)
    return churn_rates_analysis(people, orders, None, period=Q2, definition=definition)


def _steady(lost_q1: int, lost_q2: int, n: int = 200, definition=EVENTS):
    """``n`` customers signed up in 2025, each ordering on 1 Oct 2025; ``lost_q1`` churn in
    February, ``lost_q2`` of the rest in May."""
    ids = [f"k{i}" for i in range(n)]
    people = pd.DataFrame({"customer_id": ids, "signup_date": pd.Timestamp("2025-01-01")})
    orders = pd.DataFrame(
        {"customer_id": ids, "order_date": pd.Timestamp("2025-10-01"), "amount": 10.0}
    )
    lost = pd.DataFrame(
        {
            "customer_id": ids[: lost_q1 + lost_q2],
            "churned_at": [pd.Timestamp("2026-02-10")] * lost_q1
            + [pd.Timestamp("2026-05-10")] * lost_q2,
        }
    )
    return churn_rates_analysis(people, orders, lost, period=Q2, definition=definition)


def _empty():
    people = pd.DataFrame({"customer_id": pd.Series([], dtype=str)})
    people["signup_date"] = pd.to_datetime([])
    orders = pd.DataFrame(
        {"customer_id": pd.Series([], dtype=str), "order_date": pd.to_datetime([]), "amount": []}
    )
    return churn_rates_analysis(
        people, orders, None, period=Q2, definition=ChurnDefinition("inactivity", 180, "fallback")
    )


def test_definition_says_which_and_why():
    with language("en"):
        assert "cancellation the business records" in report.definition_sentence(_by_events())
        assert "after 30 days without an order, as set in the unit's parameters" in (
            report.definition_sentence(_by_silence())
        )
        gaps = report.definition_sentence(_by_silence("gaps", 47))
        assert "after 47 days" in gaps and "90% of the gaps" in gaps
        fallback = report.definition_sentence(_by_silence("fallback", 180))
        assert "180 days" in fallback and "too few repeat orders" in fallback
    with language("zh"):
        assert "解约" in report.definition_sentence(_by_events())
        assert "连续 30 天未下单" in report.definition_sentence(_by_silence())
        assert "90%" in report.definition_sentence(_by_silence("gaps", 47))
        assert "复购订单太少" in report.definition_sentence(_by_silence("fallback", 180))


def test_records_that_stop_before_the_period_are_said_with_the_definition():
    """Every cancellation on record predates the period (an export made too early): the
    period's 0% churn stands on no record, and the report says so first."""
    stale = ChurnDefinition("events", None, "events", events_until=date(2026, 2, 10))
    rates = _steady(60, 0, definition=stale)
    assert rates.churn.value == 0 and rates.churn_change.p_value < 0.001
    with language("en"):
        text = report.definition_sentence(rates)
        assert text.startswith("Churn is the cancellation the business records")
        assert "No cancellation is recorded in this period: the latest on record is dated " in (
            text
        )
        assert "Feb 10, 2026" in text and "understated" in text
    with language("zh"):
        text = report.definition_sentence(rates)
        assert "本期没有任何解约记录，最近一条记录的日期为 2026年2月10日" in text
        assert english_words([text], allowed=set()) == []
    with language("en"):
        assert "No cancellation" not in report.definition_sentence(_steady(60, 14))


def test_churn_rate_sentence_says_the_counts_rate_interval_and_change():
    rates = _by_events()  # 2 of 4 (50%) against 1 of 4 (25%), p = 0.465
    with language("en"):
        text = report.churn_rate_sentence(rates)
        assert text.startswith("Of the 4 customers active at the start of the period, 2 churned")
        assert f"a churn rate of 50.0% (95% interval {pct(rates.churn.low)}–" in text
        assert f"{pct(rates.current.annual.value)} a year at this pace" in text
        assert "It rose 25.0 percentage points on the previous period's 25.0%" in text
        assert "not a significant change (p = 0.465)" in text
    with language("zh"):
        text = report.churn_rate_sentence(rates)
        assert "期初活跃客户 4 位，本期流失 2 位，客户流失率为 50.0%" in text
        assert "较上期（25.0%）上升 25.0 个百分点，变化不显著（p = 0.465）" in text
        assert "。较上期" in text  # no space between Chinese sentences


def test_a_significant_fall_and_a_rate_that_held():
    fell = _steady(60, 14)  # Q1 60/200 = 30%; Q2 14/140 = 10%
    assert fell.churn_change.p_value < 0.001
    with language("en"):
        text = report.change_sentence(fell)
        assert text == (
            "It fell 20.0 percentage points from the previous period's 30.0%: "
            "a significant change (p < 0.001)."
        )
    held = _steady(20, 18)  # 10% and 18/180 = 10%
    with language("en"):
        assert report.change_sentence(held).startswith("It held at the previous period's 10.0%")
    with language("zh"):
        assert report.change_sentence(held).startswith("与上期（10.0%）持平")


def test_customer_month_and_revenue_sentences():
    rates = _by_events()
    with language("en"):
        text = report.customer_month_sentence(rates)
        assert text.startswith("Counting the 1 customers who joined during the period")
        assert "3 churns over 11 customer-months at risk" in text
        assert f"make {pct(3 * 30.4375 / 335)} per customer-month" in text
        text = report.revenue_retention_sentence(rates, currency="CNY")
        assert f"spent {money(200, 'CNY')} this period against {money(390, 'CNY')}" in text
        assert f"net revenue retention {pct(200 / 390)}" in text
        assert f"{pct(140 / 390)}." in text
    with language("zh"):
        text = report.revenue_retention_sentence(rates, currency="CNY")
        assert f"净收入留存率 {pct(200 / 390)}" in text and "¥200" in text


def test_nothing_to_measure_is_said():
    empty = _empty()
    with language("en"):
        assert report.churn_rate_sentence(empty) == (
            "No customer was active at the start of the period, so there is no churn rate."
        )
        assert report.revenue_retention_sentence(empty) == (
            "No customer was active at the start of the period, so there is no revenue "
            "retention to measure."
        )
        # customers at the start who bought nothing in the previous period
        idle = _steady(0, 10)
        assert "bought nothing in the previous period" in report.revenue_retention_sentence(idle)
        skipped = report.skipped(empty)
        assert set(skipped) == {"churn_rate", "revenue_retention", "trend", "cohorts"}
        assert "last 12" in skipped["trend"] and "24 months" in skipped["cohorts"]
    assert report.skipped(_by_events()) == {}


@pytest.mark.parametrize("build", [_by_events, _by_silence, _empty, lambda: _steady(60, 14)])
def test_chinese_sentences_hold_no_english(build):
    rates = build()
    with language("zh"):
        texts = [
            report.definition_sentence(rates),
            report.churn_rate_sentence(rates),
            report.customer_month_sentence(rates),
            report.revenue_retention_sentence(rates, currency="CNY"),
            *report.skipped(rates).values(),
            *report.rates_view(rates).drop(columns="p_value").to_numpy().ravel(),
        ]
    assert english_words(texts) == []


def test_rates_view_rows_and_changes_as_written():
    rates = _by_events()
    with language("en"):
        view = report.rates_view(rates).set_index("period_figure")
    assert list(view.index) == [
        "churn rate",
        "churn per customer-month",
        "monthly churn rate",
        "annual churn rate",
        "retention rate",
        "gross revenue retention (GRR)",
        "net revenue retention (NRR)",
    ]
    assert list(view.columns) == [
        "value_this_period",
        "value_previous_period",
        "change_on_previous",
        "p_value",
    ]
    assert view.loc["churn rate"].tolist()[:3] == ["50.0%", "25.0%", "+25.0 percentage points"]
    assert view.loc["retention rate", "change_on_previous"] == "−25.0 percentage points"
    assert view.loc["churn rate", "p_value"] == pytest.approx(rates.churn_change.p_value)
    assert np.isnan(view.loc["annual churn rate", "p_value"])
    nrr = view.loc["net revenue retention (NRR)"]
    assert (nrr["value_this_period"], nrr["value_previous_period"]) == (
        pct(200 / 390),
        pct(380 / 30),
    )
    for row in view.itertuples():  # the change is the difference of the rates as written
        if row.change_on_previous != "–":
            now, before = (float(v.rstrip("%").replace(",", "")) for v in row[1:3])
            size = float(row.change_on_previous.split()[0].replace("−", "-").replace(",", ""))
            assert size == pytest.approx(now - before), row.Index


def test_counts_view():
    with language("en"):
        view = report.counts_view(_by_events())
    assert view.to_dict("list") == {
        "period_figure": ["customers active at the start", "churned customers"],
        "value_this_period": [4, 2],
        "value_previous_period": [4, 1],
    }


def test_results_part_holds_the_registry_keys():
    registry = TOPICS["churn"].results
    assert set(registry) >= KEYS
    rates = _by_events()
    found = report.results_part(rates)
    assert set(found) == KEYS
    json.dumps(found)
    assert found["churn_definition"] == "events" and found["inactivity_days"] is None
    assert found["churn_rate"] == 0.5 and found["previous_churn_rate"] == 0.25
    assert found["churn_rate_ci"] == pytest.approx([rates.churn.low, rates.churn.high])
    assert found["churn_change"]["delta"] == pytest.approx(0.25)
    assert found["churn_change"]["p_value"] == pytest.approx(rates.churn_change.p_value)
    assert found["annual_churn_rate"] == pytest.approx(1 - 0.5 ** (365 / 91))
    assert found["retention_rate"] == 0.5
    assert found["net_revenue_retention"] == pytest.approx(200 / 390)
    assert found["gross_revenue_retention"] == pytest.approx(140 / 390)
    silent = report.results_part(_by_silence())
    assert (silent["churn_definition"], silent["inactivity_days"]) == ("inactivity", 30)


def test_results_part_without_customers_is_null_not_nan():
    found = report.results_part(_empty())
    json.dumps(found, allow_nan=False)
    assert found["churn_rate"] is None and found["churn_rate_ci"] is None
    assert found["churn_change"] == {"delta": None, "ci": None, "p_value": None}
    assert found["net_revenue_retention"] is None and found["inactivity_days"] == 180


def test_cohort_view_holds_the_heatmap_numbers():
    rates = _by_events()
    with language("zh"):
        view = report.cohort_view(rates)
    assert list(view.columns[:4]) == ["signup_month", "customers", "0", "1"]
    assert view["signup_month"].iloc[0] == "2025年10月"
    october = view.iloc[0]
    assert october["customers"] == 3
    assert [october[str(k)] for k in range(3)] == pytest.approx([1, 1, 2 / 3])
    assert np.isnan(october["9"])  # July 2026: not over at the period's end
