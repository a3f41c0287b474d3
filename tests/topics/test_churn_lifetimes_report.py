"""The churn report's lifetimes and reasons in words (en and zh), tables, charts and
published results say what the numbers say."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from language_check import english_words

from crmkit import plots
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_lifetimes import MONTH_DAYS, lifetimes_analysis
from crmkit.metrics.churn_reasons import reasons_analysis
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.metrics.survival import kaplan_meier
from crmkit.present.format import num, p_text, pct
from crmkit.present.language import is_term, language
from crmkit.topics import churn_lifetimes as report

Q3 = parse_period("2026-Q3")
EVENTS = ChurnDefinition("events", None, "events")
DATA_WORDS = {"East", "West", "web", "shop", "plan", "price", "service", "competitor"}


def _unit():
    """120 customers signed up on 1 Jan 2025 with one order the next day. The 60 in East
    all churn 60 to 118 days after signup; 6 of the 60 in West churn after 400 days. Each
    lifetime comes twice, once for each channel (web, shop): channels cannot differ."""
    n = 120
    region = np.repeat(["East", "West"], 60)
    days = np.r_[60 + 2 * (np.arange(60) // 2), np.full(60, 400)]
    churns = np.r_[np.ones(60, bool), np.arange(60) < 6]
    signup = pd.Timestamp("2025-01-01")
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{k:03d}" for k in range(n)],
            "signup_date": [signup] * n,
            "region": region,
            "acquisition_channel": np.tile(["web", "shop"], 60),
        }
    )
    transactions = pd.DataFrame(
        {
            "customer_id": customers["customer_id"],
            "order_date": [signup + pd.Timedelta(days=1)] * n,
            "amount": 10.0,
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": customers["customer_id"][churns],
            "churned_at": signup + pd.to_timedelta(days[churns], unit="D"),
        }
    )
    return customers, transactions, events


@pytest.fixture(scope="module")
def lifetimes():
    customers, transactions, events = _unit()
    return lifetimes_analysis(
        customers,
        transactions,
        events,
        period=Q3,
        definition=EVENTS,
        breakdowns=["plan"],
    )


def _reason_events(q2: list, q3: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"r{k}" for k in range(len(q2) + len(q3))],
            "churned_at": pd.to_datetime(["2026-05-10"] * len(q2) + ["2026-08-10"] * len(q3)),
            "reason": q2 + q3,
        }
    )


@pytest.fixture(scope="module")
def reasons():
    """Q2: price 5, service 45; Q3: price 26, service 24 and 10 blank."""
    events = _reason_events(
        ["price"] * 5 + ["service"] * 45, ["price"] * 26 + ["service"] * 24 + [""] * 10
    )
    return reasons_analysis(events, period=Q3)


# ----------------------------------------------------------------------------- lifetimes


def test_the_median_sentence_gives_the_kaplan_meier_median(lifetimes):
    # 60 of 120 churn before anyone else leaves: half are gone at the 60th churn, day 118
    assert lifetimes.median_months == pytest.approx(118 / MONTH_DAYS)
    with language("en"):
        text = report.median_sentence(lifetimes)
    assert "Half of the customers have left by 3.9 months after signup" in text
    assert "120 customers, 66 churned to date" in text
    with language("zh"):
        assert "半数客户在注册后 3.9 个月内流失" in report.median_sentence(lifetimes)


def test_over_half_remaining_says_the_median_cannot_be_measured_yet():
    customers, transactions, events = _unit()
    result = lifetimes_analysis(
        customers, transactions, events.iloc[10:], period=Q3, definition=EVENTS
    )
    assert math.isnan(result.median_months)
    with language("en"):
        text = report.median_sentence(result)
    longest = num((pd.Timestamp("2026-09-30") - pd.Timestamp("2025-01-01")).days / MONTH_DAYS, 1)
    assert "cannot be measured yet" in text and f"{longest} months" in text
    assert report.results_part(result, reasons_analysis(None, period=Q3)) == {
        "median_lifetime_months": None,
        "top_reasons": {},
    }


def test_a_breakdown_differs_only_when_the_logrank_p_is_under_005(lifetimes):
    region = lifetimes.breakdowns["region"]
    channel = lifetimes.breakdowns["acquisition_channel"]
    assert region.logrank.p_value < 0.001 and channel.logrank.p_value == pytest.approx(1.0)
    with language("en"):
        differs = report.breakdown_sentence(region)
        same = report.breakdown_sentence(channel)
    assert differs.startswith("Lifetimes differ by region (p < 0.001)")
    table = region.table.set_index("group")["rmst_months"]
    assert f"longest for West ({num(table['West'], 1)} months" in differs
    assert f"shortest for East ({num(table['East'], 1)})" in differs
    assert same == f"Lifetimes do not clearly differ by acquisition channel ({p_text(1.0)})."
    with language("en"):
        sentences = report.lifetime_sentences(lifetimes)
    assert sentences.index(differs) < sentences.index(same)  # the difference first


def test_notes_name_what_was_left_out(lifetimes):
    assert lifetimes.skipped == {"plan": "missing", "segment": "one_group"}
    # 637 days since the first signup: 20 whole months, under the 24 asked for
    assert (lifetimes.horizon_asked, lifetimes.horizon_months) == (24, 20)
    with language("en"):
        found = report.notes(lifetimes)
    assert found[0] == (
        "No customer has been followed for 24 months yet, so mean lifetimes are within "
        "20 months, the longest follow-up."
    )
    assert "No lifetimes by plan: the customers table has no such column." in found
    # West's customers alone were active a year before the end: one RFM segment
    assert any(text.startswith("No lifetimes by segment: every customer") for text in found)


def test_a_note_names_a_few_merged_groups_and_counts_the_rest():
    """A column of many small values (a customer reference kept by the user): the note
    names eight and counts the others instead of listing every one."""
    customers, transactions, events = _unit()
    customers["ref"] = [f"R{k % 20:02d}" for k in range(60)] + ["big"] * 60
    found = lifetimes_analysis(
        customers, transactions, events, period=Q3, definition=EVENTS, breakdowns=["ref"]
    )
    assert len(found.breakdowns["ref"].merged) == 20
    with language("en"):
        (note,) = [t for t in report.notes(found) if t.startswith("ref:")]
    assert note == (
        "ref: groups with fewer than 30 customers (R00, R01, R02, R03, R04, R05, R06, R07 "
        "and 12 more) are merged into other."
    )
    with language("zh"):
        (note,) = [t for t in report.notes(found) if t.startswith("ref：")]
    assert "R07等另外 12 组" in note


def test_an_empty_column_is_said_to_be_empty():
    customers, transactions, events = _unit()
    customers["note"] = ""  # a column the export keeps with nothing in it
    found = lifetimes_analysis(
        customers, transactions, events, period=Q3, definition=EVENTS, breakdowns=["note"]
    )
    with language("en"):
        assert "No lifetimes by note: the column holds no values." in report.notes(found)
    with language("zh"):
        assert "客户表中note字段没有任何取值，无法按其比较生命周期。" in report.notes(found)


def test_zh_sentences_hold_no_english_words(lifetimes, reasons):
    with language("zh"):
        texts = report.lifetime_sentences(lifetimes) + report.notes(lifetimes)
        texts += report.reason_sentences(reasons) + report.methods(lifetimes)
    assert english_words(texts, DATA_WORDS) == []
    assert all("（" in t or "，" in t or "。" in t for t in texts)


def test_lifetime_tables_are_named_by_the_glossary(lifetimes):
    region = lifetimes.breakdowns["region"]
    view = report.lifetime_view(region)
    assert all(is_term(c) for c in view.columns)
    assert view["region"].tolist() == ["East", "West"]
    assert view["lifetime_churned"].tolist() == [60, 6]
    assert view["median_lifetime_months"].iloc[0] == pytest.approx(
        kaplan_meier(np.r_[60 + 2 * (np.arange(60) // 2)] / MONTH_DAYS, [1] * 60).median
    )
    detail = report.lifetime_detail(region)
    assert all(is_term(c) for c in detail.columns)
    tests = report.logrank_view(lifetimes)
    assert all(is_term(c) for c in tests.columns)
    assert tests["logrank_df"].tolist() == [1, 1]


# ----------------------------------------------------------------------------- reasons


def test_reason_sentences_name_the_top_reason_and_the_one_that_rose(reasons):
    with language("en"):
        found = report.reason_sentences(reasons)
    low, high = reasons.table.loc[0, ["low", "high"]]
    assert found[0] == (
        f"The most frequent stated reason is price: 52.0% of the churned customers who gave "
        f"a reason (95% interval {pct(low)} to {pct(high)}; 26 of 50)."
    )
    assert found[1].startswith("price rose from 10.0% to 52.0% of stated reasons")
    assert "p < 0.001" in found[1]
    assert found[2].startswith("83.3% of the period's 60 churned customers gave a reason")
    rising = report.rising_reasons(reasons)
    assert [r["reason"] for r in rising] == ["price"]
    assert rising[0]["delta"] == pytest.approx(0.42) and rising[0]["p_value"] < 0.001
    assert rising[0]["low"] < 0.42 < rising[0]["high"]


def test_no_reasons_recorded_when_absent():
    with language("en"):
        assert report.reason_sentences(reasons_analysis(None, period=Q3))[0].startswith(
            "No reasons recorded"
        )
        blank = reasons_analysis(_reason_events([], ["", " "]), period=Q3)
        assert report.reason_sentences(blank) == [
            "No reasons recorded: none of the period's 2 churned customers gave one."
        ]
    with language("zh"):
        assert report.reason_sentences(reasons_analysis(None, period=Q3))[0].startswith(
            "未记录流失原因"
        )


def test_no_change_and_no_previous_reasons_are_said(reasons):
    steady = reasons_analysis(
        _reason_events(["price"] * 10 + ["service"] * 10, ["price"] * 10 + ["service"] * 10),
        period=Q3,
    )
    fresh = reasons_analysis(_reason_events([], ["price"] * 3), period=Q3)
    with language("en"):
        assert report.reason_sentences(steady)[1].startswith("No reason's share changed")
        assert report.reason_sentences(fresh)[1].startswith("The previous period has no")
    assert report.rising_reasons(steady) == []


def test_reason_table_and_results(lifetimes, reasons):
    view = report.reasons_view(reasons)
    assert all(is_term(c) for c in view.columns)
    assert view["reason"].tolist() == ["price", "service"]
    assert view["reason_share_change"].tolist() == ["+42.0", "−42.0"]
    manager = report.reasons_view(reasons, tested=False)
    assert list(manager.columns) == [c for c in view.columns if c != "reason_p_holm"]
    with language("en"):
        assert report.reasons_view(reasons)["reason_share_ci"].iloc[0].endswith("%")
    results = report.results_part(lifetimes, reasons)
    assert results["top_reasons"] == {"price": 0.52, "service": 0.48}


def test_results_publish_the_median_in_months(lifetimes, reasons):
    results = report.results_part(lifetimes, reasons)
    assert set(results) == {"median_lifetime_months", "top_reasons"}
    assert results["median_lifetime_months"] == pytest.approx(118 / MONTH_DAYS)


# ----------------------------------------------------------------------------- charts


def _texts(ax) -> list[str]:
    found = [ax.get_title(loc=where) for where in ("left", "center", "right")]
    found += [ax.get_xlabel(), ax.get_ylabel()]
    found += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    legend = ax.get_legend()
    found += [t.get_text() for t in legend.get_texts()] if legend else []
    return [t for t in found + [t.get_text() for t in ax.texts] if t]


def test_lifetime_curves_show_n_and_the_median_in_the_report_language(lifetimes):
    region = lifetimes.breakdowns["region"]
    with language("zh"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_lifetime_curves(report.named_curves(region), by="地区")
        ax.figure.canvas.draw()  # a glyph missing from the font would raise here
        texts = _texts(ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    east_median = num(region.curves["East"].median, 1)
    assert labels[0] == f"East（n = 60） · 中位数 {east_median}"
    assert labels[1] == "West（n = 60）"  # no median: over half remain
    medians = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(medians) == 1 and medians[0].get_ydata()[0] == 0.5
    assert ax.get_title(loc="left") == "按地区的仍在网客户占比"
    assert english_words(texts, DATA_WORDS) == []


def test_a_curve_without_customers_is_a_note_not_a_silent_gap(lifetimes):
    curves = {"A": lifetimes.overall, "B": kaplan_meier([], [])}
    with language("en"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_lifetime_curves(curves)
    assert "B: no customers" in _texts(ax)
    assert len(ax.get_legend().get_texts()) == 1


def test_the_pareto_chart_draws_each_reason_and_reads_in_chinese():
    events = _reason_events([], ["价格"] * 6 + ["服务态度差"] * 3 + ["竞争对手"] * 1)
    result = reasons_analysis(events, period=Q3)
    with language("zh"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_reason_pareto(result.table)
        ax.figure.canvas.draw()
        texts = _texts(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["价格", "服务态度差", "竞争对手"]
    assert [round(p.get_height(), 3) for p in ax.patches] == [0.6, 0.3, 0.1]
    line = next(line for line in ax.get_lines() if line.get_marker() == "o")
    assert list(line.get_ydata()) == pytest.approx([0.6, 0.9, 1.0])
    assert "60.0%" in texts and "流失原因帕累托图" in texts
    assert english_words(texts) == []
    with language("en"), plt.rc_context(plots.theme_rc()):
        empty = plots.plot_reason_pareto(reasons_analysis(None, period=Q3).table)
    assert "No stated reasons to draw." in _texts(empty)
