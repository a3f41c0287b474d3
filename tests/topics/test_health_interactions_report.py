"""The health review's interactions and costs in words: the sentences say what the numbers
say, the views are named by the glossary, missing inputs are said, the results keys."""

import math

import pandas as pd
import pytest

from crmkit.core.periods import parse_period
from crmkit.metrics.costs import costs_analysis
from crmkit.metrics.interactions import interactions_analysis
from crmkit.present.language import is_term, language
from crmkit.topics import health_interactions as report

Q2 = parse_period("2026-Q2")


def _dates(values):
    return pd.to_datetime(values, format="ISO8601")


def touches():
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "a", "c"],
            "occurred_at": _dates(
                ["2026-04-02", "2026-04-03", "2026-05-01", "2026-06-01", "2026-01-10", "2026-02-02"]
            ),
            "channel": ["phone", "phone", "email", "phone", "email", "email"],
            "kind": ["sales", "complaint", "sales", "sales", "sales", "service"],
        }
    )


def orders():
    return pd.DataFrame(
        {"customer_id": ["a", "b"], "order_date": _dates(["2026-04-05", "2026-01-01"])}
    )


def months():
    return pd.DataFrame(
        {
            "month": _dates(["2026-04-01", "2026-05-01", "2026-06-01"]),
            "month_end": _dates(["2026-04-30", "2026-05-31", "2026-06-30"]),
            "complete": [True, True, True],
            "active": [4, 4, 4],
        }
    )


def interactions(table="sample", **kwargs):
    values = {"active": 4, "previous_active": 4, "monthly_active": months()}
    values.update(kwargs)
    frame = touches() if isinstance(table, str) else table
    return interactions_analysis(frame, orders(), period=Q2, **values)


def spend():
    return pd.DataFrame(
        {
            "month": _dates(["2026-04-01", "2026-05-01", "2026-06-01", "2026-01-01"]),
            "category": ["acquisition", "retention", "service", "acquisition"],
            "amount": [300.0, 90.0, 50.0, 100.0],
            "channel": ["web", None, None, "web"],
        }
    )


def people():
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "signup_date": _dates(["2026-04-01", "2026-05-01", "2026-02-01", "2026-06-10"]),
            "acquisition_channel": ["web", "web", "web", "shop"],
        }
    )


def costs(table="sample", **kwargs):
    values = dict(retained=3, previous_retained=2, tickets_opened=5, previous_tickets_opened=4)
    values.update(kwargs)
    frame = spend() if isinstance(table, str) else table
    return costs_analysis(frame, people(), period=Q2, **values)


def test_frequency_sentence_gives_the_rate_its_parts_and_the_previous_one():
    a = interactions()
    # 4 in Q2 over 4 active × 91/30.4375 months; 2 in Q1 over 4 × 90/30.4375
    assert a.frequency == pytest.approx(4 / (4 * 91 / 30.4375))
    with language("en"):
        text = report.frequency_sentence(a)
    assert "0.33 interactions a month" in text and "4 active customers" in text
    assert "up from 0.17" in text and "not a significant change" in text
    with language("zh"):
        text = report.frequency_sentence(a)
    assert "0.33" in text and "有所上升" in text


def test_top_channel_and_purchase_after_sentences_say_association():
    a = interactions()
    with language("en"):
        top = report.top_channel_sentence(a)
        after = report.purchase_after_sentence(a)
    assert top.startswith("The channel with the most interactions was phone: 75.0%")
    assert "against 0.0%" in top
    # followable: to 31 May; a 2 Apr, a 3 Apr (order 5 Apr) ✓✓, b 1 May ✗, a 10 Jan ✗, c 2 Feb ✗
    assert "Of the 5 interactions" in after and "40.0%" in after
    assert "association, not a cause" in after


def test_cost_sentences_give_ratios_and_their_change():
    c = costs()
    with language("en"):
        cac = report.cac_sentence(c, currency="USD")
        kept = report.retention_cost_sentence(c, currency="USD")
        served = report.service_cost_sentence(c, currency="USD")
    # Q2: 300 over a, b, d = $100; Q1: 100 over c
    assert "brought 3 new customers" in cac and "$100" in cac
    assert "it was $100 ($0)" in cac  # Q1: 100 over c alone; no change is unsigned
    assert "$30 per retained customer" in kept  # 90 ÷ 3
    assert "$10 per ticket" in served  # 50 ÷ 5
    with language("zh"):
        assert "上期为 ¥100（¥0）" in report.cac_sentence(c, currency="CNY")


def test_views_are_named_by_the_glossary():
    a, c = interactions(), costs()
    views = [
        report.by_channel_view(a),
        report.by_kind_view(a),
        report.purchase_after_view(a),
        report.cac_by_channel_view(c),
        report.costs_view(c, currency="USD"),
    ]
    for view in views:
        assert all(is_term(column) for column in view.columns), list(view.columns)
    channels = views[0].set_index("interaction_channel")
    assert channels.loc["phone", "interaction_share"] == pytest.approx(0.75)
    with language("en"):
        assert report.costs_view(c, currency="USD")["p_value"].tolist() == ["no test"] * 3


def test_results_part_holds_the_registry_keys():
    assert report.results_part(interactions(), costs()) == {
        "interaction_frequency": pytest.approx(4 / (4 * 91 / 30.4375)),
        "cac": pytest.approx(100.0),
        "retention_cost_per_customer": pytest.approx(30.0),
    }
    empty = report.results_part(interactions(None), costs(None, tickets_opened=None))
    assert empty == {
        "interaction_frequency": None,
        "cac": None,
        "retention_cost_per_customer": None,
    }


def test_missing_inputs_are_said_in_one_sentence_each():
    a, c = interactions(None), costs(None, tickets_opened=None)
    with language("en"):
        found = report.skipped(a, c)
        assert found["interactions"].startswith("No interactions table")
        assert found["costs"].startswith("No costs table")
        assert "cac" in found and "retention_cost" in found and "service_cost" in found
        assert report.frequency_sentence(interactions(active=0)).startswith("No customer")
        # without the table the review's findings say so, not that no customer was active
        assert report.frequency_sentence(a) == found["interactions"]
        assert report.purchase_after_sentence(a).startswith("No interaction")
        assert (
            "no kind"
            in report.skipped(interactions(touches().drop(columns="kind")), costs())["by_kind"]
        )
        assert report.skipped(interactions(), costs()) == {}
        assert report.methods(a, c) and len(report.methods(interactions(), costs())) == 3
    assert math.isnan(c.cac)
