"""Interactions of the health review, each figure computed by hand on small frames."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_rates import customer_month_rate, rate_change
from crmkit.metrics.interactions import (
    DAYS_PER_MONTH,
    dispersion,
    interactions_analysis,
    poisson_rate_change,
)

Q2 = parse_period("2026-Q2")  # 1 Apr – 30 Jun 2026, 91 days; previous: Q1, 90 days
E1, E0 = 5 * 91 / DAYS_PER_MONTH, 4 * 90 / DAYS_PER_MONTH  # active × months


def _frame(rows, columns, dates):
    frame = pd.DataFrame(rows, columns=columns)
    for column in dates:
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    return frame


def touches(*, kind: bool = True):
    """Q2: a email ×2, a phone, b chat on the last evening; Q1: a email, c phone ×2, e chat;
    d after the period; f before the 12 months followed."""
    rows = [
        ("a", "2026-04-02", "email", "sales"),
        ("a", "2026-04-10", "email", "complaint"),
        ("a", "2026-05-01", " phone ", "sales"),
        ("b", "2026-06-30 23:00", "chat", ""),
        ("a", "2026-01-10", "email", "sales"),
        ("c", "2026-02-01", "phone", "sales"),
        ("e", "2026-02-10", "chat", "service"),
        ("c", "2026-03-15", "phone", "service"),
        ("d", "2026-07-01", "email", "sales"),
        ("f", "2025-06-15", "email", "sales"),
    ]
    frame = _frame(rows, ["customer_id", "occurred_at", "channel", "kind"], ["occurred_at"])
    return frame if kind else frame.drop(columns="kind")


def orders():
    """a: the day before its 2 Apr touch, the day of its 10 Apr touch, the 30th day after its
    1 May touch; c: the day of its 15 Mar touch; e: the 31st day after its 10 Feb touch."""
    rows = [
        ("a", "2026-04-01"),
        ("a", "2026-04-10"),
        ("a", "2026-05-31"),
        ("c", "2026-03-15"),
        ("e", "2026-03-13"),
    ]
    return _frame(rows, ["customer_id", "order_date"], ["order_date"])


def months(active=(3, 4, 5, 5)):
    starts = pd.to_datetime(["2025-12-01", "2026-04-01", "2026-05-01", "2026-06-01"])
    return pd.DataFrame(
        {
            "month": starts,
            "month_end": starts + pd.offsets.MonthEnd(0),
            "complete": [True, True, True, True],
            "active": list(active),
        }
    )


def analyse(interactions="sample", **kwargs):
    values = {"active": 5, "previous_active": 4, "monthly_active": months()}
    values.update(kwargs)
    table = touches() if isinstance(interactions, str) else interactions
    return interactions_analysis(table, orders(), period=Q2, **values)


def test_frequency_is_interactions_per_active_customer_per_month_against_the_previous():
    a = analyse()
    assert (a.interactions, a.previous_interactions) == (4, 4)
    assert a.frequency == pytest.approx(4 / E1)
    assert a.previous_frequency == pytest.approx(4 / E0)
    assert a.frequency == pytest.approx(0.26758, abs=1e-5)


def test_frequency_change_is_the_quasi_poisson_score_test_of_two_rates():
    a = analyse()
    # now: a 3, b 1, three active without any; m = 0.8: X² = (2.2² + 0.2²)/0.8 + 3·0.8 = 8.5
    # before: a 1, c 2, e 1, one without; m = 1: X² = 0 + 1 + 0 + 1 = 2; φ = 10.5 / 7
    assert a.dispersion == pytest.approx(1.5)
    delta = 4 / E1 - 4 / E0
    se0 = math.sqrt(1.5 * (8 / (E1 + E0)) * (1 / E1 + 1 / E0))
    assert a.frequency_change.delta == pytest.approx(delta)
    assert a.frequency_change.p_value == pytest.approx(2 * stats.norm.sf(abs(delta) / se0))
    half = 1.959964 * math.sqrt(1.5 * (4 / E1**2 + 4 / E0**2))
    assert a.frequency_change.low == pytest.approx(delta - half, rel=1e-5)


def test_the_rate_test_without_overdispersion_is_the_churn_reports_poisson_test():
    plain = poisson_rate_change((30, 20), (10.0, 10.0))
    assert plain.p_value == pytest.approx(2 * stats.norm.sf(1 / math.sqrt(2.5 * 0.2)))
    same = rate_change(
        customer_month_rate(30, 10 * DAYS_PER_MONTH), customer_month_rate(20, 10 * DAYS_PER_MONTH)
    )
    assert (plain.delta, plain.low, plain.high, plain.p_value) == pytest.approx(
        (same.delta, same.low, same.high, same.p_value)
    )
    wide = poisson_rate_change((30, 20), (10.0, 10.0), dispersion=4.0)
    assert wide.p_value == pytest.approx(2 * stats.norm.sf(1 / math.sqrt(2.5 * 0.2) / 2))
    assert math.isnan(poisson_rate_change((3, 0), (1.0, 0.0)).delta)


def test_dispersion_is_pearson_over_degrees_of_freedom_and_never_below_one():
    assert dispersion([(np.array([4, 1]), 4), (np.array([1]), 2)]) == pytest.approx(9.6 / 4)
    assert dispersion([(np.array([1, 1]), 2)]) == 1.0  # no spread at all
    assert dispersion([(np.array([], dtype=int), 5)]) == 1.0


def test_per_customer_distribution_counts_active_customers_without_interactions_as_zeros():
    a = analyse()
    table = a.per_customer.set_index("interactions")
    assert table["customers"].tolist() == [3, 1, 0, 1] + [0] * 7
    assert table["share"].sum() == pytest.approx(1)
    assert table.loc[0, "share"] == pytest.approx(3 / 5)
    assert table["open_ended"].tolist() == [False] * 10 + [True]
    assert a.customers_interacting == 2


def test_the_last_bin_holds_ten_or_more():
    many = _frame(
        [("a", f"2026-04-{d:02d}", "email") for d in range(1, 13)],
        ["customer_id", "occurred_at", "channel"],
        ["occurred_at"],
    )
    a = analyse(many, active=2)
    assert a.per_customer["customers"].tolist() == [1] + [0] * 9 + [1]


def test_channel_mix_shares_and_their_change_with_holm():
    a = analyse()
    table = a.by_channel.set_index("channel")
    assert table.index.tolist() == ["email", "chat", "phone"]  # most first, ties by name
    assert table.loc["email", "share"] == pytest.approx(0.5)
    assert table.loc["phone", "previous_share"] == pytest.approx(0.5)  # " phone " stripped
    assert table.loc["email", "frequency"] == pytest.approx(2 / E1)
    p1, p0 = 0.5, 0.25
    pooled = 3 / 8
    z = (p1 - p0) / math.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 4))
    assert table.loc["email", "p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert table.loc["chat", "p_value"] == pytest.approx(1.0)
    # Holm: the two equal smallest p × 3, the last stays 1
    assert table.loc["email", "p_holm"] == pytest.approx(min(1, 3 * table.loc["email", "p_value"]))
    assert (a.top_channel, a.top_channel_share, a.top_channel_previous_share) == (
        "email",
        0.5,
        0.25,
    )
    assert a.top_channel_change.p_value == pytest.approx(table.loc["email", "p_value"])


def test_kind_mix_counts_blank_kinds_as_not_recorded_and_no_kind_column_gives_none():
    table = analyse().by_kind.set_index("kind")
    assert table.loc["sales", "interactions"] == 2
    assert table["interactions"].sum() == 4
    assert table.index.isna().sum() == 1  # b's blank kind
    bare = analyse(touches(kind=False))
    assert bare.by_kind is None and "interactions.kind" in bare.missing


def test_trend_per_month_of_the_churn_trend_and_nan_before_the_first_record():
    late = touches().loc[lambda t: t["customer_id"] != "f"]  # records from 10 Jan 2026
    a = analyse(late)
    trend = a.trend.set_index("month")
    assert trend["interactions"].tolist()[1:] == [2.0, 1.0, 1.0]
    assert trend["per_customer"].tolist()[1:] == pytest.approx([2 / 4, 1 / 5, 1 / 5])
    assert math.isnan(trend["per_customer"].iloc[0])  # December: before the records
    assert analyse().trend["interactions"].iloc[0] == 0  # records from June 2025: a real 0


def test_purchase_after_follows_each_touch_for_30_days_and_censors_at_the_period_end():
    a = analyse(purchase_days=30)
    # eligible: 1 Jul 2025 – 31 May 2026 (b's 30 June and d's July are censored, f's too old)
    # email: a 2 Apr ✓ (order 10 Apr), a 10 Apr ✓ (same day), a 10 Jan ✗ → 2/3
    # phone: a 1 May ✓ (30th day), c 15 Mar ✓ (same day), c 1 Feb ✗ → 2/3
    # chat: e 10 Feb ✗ (the order is on the 31st day) → 0/1
    overall = a.purchase_after_overall
    assert (overall.successes, overall.trials) == (4, 7)
    table = a.purchase_after.set_index("channel")
    assert table.index.tolist() == ["email", "phone", "chat"]
    assert table[["followed", "interactions"]].to_numpy().tolist() == [[2, 3], [2, 3], [0, 1]]
    assert table.loc["chat", "rest_share"] == pytest.approx(4 / 6)
    pooled = 4 / 7
    z = (4 / 6) / math.sqrt(pooled * (1 - pooled) * (1 + 1 / 6))
    assert table.loc["chat", "p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert table.loc["email", "low"] == pytest.approx(0.2077, abs=1e-4)  # Wilson 2/3


def test_a_shorter_window_and_an_order_before_the_touch_time_do_not_count():
    short = analyse(purchase_days=7)  # a 2 Apr: its order on 10 Apr is the 8th day
    assert short.purchase_after_overall.successes == 2  # the two same-day orders only
    timed = touches()
    timed.loc[7, "occurred_at"] = pd.Timestamp("2026-03-15 14:00")  # after c's order (00:00)
    assert analyse(timed).purchase_after_overall.successes == 3


def test_degenerate_inputs_give_nan_and_say_what_is_missing():
    for table in (None, touches().iloc[0:0]):
        a = analyse(table)
        assert a.missing == ("interactions",)
        assert math.isnan(a.frequency) and math.isnan(a.frequency_change.delta)
        assert a.by_channel.empty and a.by_kind is None and a.purchase_after.empty
        assert a.top_channel is None and a.trend["per_customer"].isna().all()
    nobody = analyse(active=0)
    assert math.isnan(nobody.frequency) and nobody.per_customer.empty
    assert math.isnan(nobody.frequency_change.delta)
    new = analyse(touches().loc[lambda t: t["occurred_at"] >= "2026-04-01"])
    assert "interactions_previous_period" in new.missing
    assert math.isnan(new.previous_frequency) and new.frequency == pytest.approx(4 / E1)
    assert new.by_channel["previous_share"].isna().all()
    stopped = analyse(touches().loc[lambda t: t["occurred_at"] < "2026-04-01"])
    assert "interactions_in_period" in stopped.missing and math.isnan(stopped.frequency)


def test_bad_arguments_are_refused_with_the_fix():
    with pytest.raises(ParameterError, match="purchase_days"):
        analyse(purchase_days=2.5)
    with pytest.raises(ParameterError, match="≥ 0"):
        analyse(active=-1)
    with pytest.raises(ParameterError, match="channel"):
        analyse(touches().drop(columns="channel"))
    with pytest.raises(ParameterError, match="Period"):
        interactions_analysis(
            touches(),
            orders(),
            period="2026-Q2",
            active=1,
            previous_active=1,
            monthly_active=months(),
        )
