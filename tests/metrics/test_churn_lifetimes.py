"""Customer lifetimes: the log-rank test and the restricted mean against published and
hand-computed values, and lifetimes by group counted by hand on small frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_lifetimes import (
    MONTH_DAYS,
    NONE,
    OTHER,
    group_lifetimes,
    lifetime_months,
    lifetimes_analysis,
    segment_start,
)
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.metrics.segmentation import rfm, rfm_scores
from crmkit.metrics.survival import kaplan_meier, logrank_test, restricted_mean

Q3 = parse_period("2026-Q3")
EVENTS = ChurnDefinition("events", None, "events")

# Freireich et al. (1963), remission weeks (Gehan 1965; Kleinbaum & Klein 2012, chapter 2)
SIX_MP = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_RELAPSED = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


# ----------------------------------------------------------------------------- log-rank


def test_logrank_matches_the_published_six_mp_against_placebo_test():
    groups = ["6-MP"] * 21 + ["placebo"] * 21
    test = logrank_test(SIX_MP + PLACEBO, SIX_MP_RELAPSED + [1] * 21, groups)
    # Kleinbaum & Klein (2012), table 2.4: O = 9 and 21, E = 19.25 and 10.75, chi² = 16.79
    assert round(test.chi_square, 2) == 16.79 and test.df == 1
    assert test.p_value == pytest.approx(stats.chi2.sf(16.7929, 1), rel=1e-3)
    assert test.table["observed"].tolist() == [9, 21]
    assert test.table["expected"].round(2).tolist() == [19.25, 10.75]
    assert test.table["n"].tolist() == [21, 21]


def _textbook_logrank(times, events, groups) -> float:
    """The k-group log-rank statistic, one event time at a time, as Klein & Moeschberger
    (2003, section 7.3) write it: an independent check of the vectorised one."""
    times, events, groups = map(np.asarray, (times, events, groups))
    names = sorted(set(groups))
    k = len(names)
    o_minus_e, v = np.zeros(k), np.zeros((k, k))
    for t in sorted(set(times[events.astype(bool)])):
        at_risk = times >= t
        n = at_risk.sum()
        d = (events.astype(bool) & (times == t)).sum()
        n_j = np.array([(at_risk & (groups == g)).sum() for g in names])
        d_j = np.array([(events.astype(bool) & (times == t) & (groups == g)).sum() for g in names])
        o_minus_e += d_j - d * n_j / n
        if n > 1:
            for a in range(k):
                for b in range(k):
                    same = n_j[a] * (n - n_j[a]) if a == b else -n_j[a] * n_j[b]
                    v[a, b] += d * (n - d) / (n - 1) * same / n**2
    keep = slice(0, k - 1)
    return float(o_minus_e[keep] @ np.linalg.inv(v[keep, keep]) @ o_minus_e[keep])


def test_logrank_across_three_groups_matches_the_textbook_computation():
    rng = np.random.default_rng(3)
    times = rng.integers(1, 15, 90)  # many ties
    events = rng.random(90) < 0.7
    groups = np.repeat(["a", "b", "c"], 30)
    times[groups == "c"] += 4  # group c lasts longer
    test = logrank_test(times, events, groups)
    assert test.df == 2
    assert test.chi_square == pytest.approx(_textbook_logrank(times, events, groups), rel=1e-9)
    assert test.p_value == pytest.approx(stats.chi2.sf(test.chi_square, 2))
    assert test.table["observed"].sum() == events.sum()
    assert test.table["expected"].sum() == pytest.approx(events.sum())


def test_logrank_of_two_groups_is_the_square_of_scipys_z():
    rng = np.random.default_rng(11)
    first, second = rng.exponential(10, 40).round(), rng.exponential(16, 35).round()
    seen = rng.random(75) < 0.8
    test = logrank_test(
        np.r_[first, second], seen, ["x"] * 40 + ["y"] * 35
    )  # scipy's logrank takes censored data objects
    x = stats.CensoredData(uncensored=first[seen[:40]], right=first[~seen[:40]])
    y = stats.CensoredData(uncensored=second[seen[40:]], right=second[~seen[40:]])
    assert test.chi_square == pytest.approx(stats.logrank(x, y).statistic ** 2, rel=1e-9)


def test_logrank_without_events_or_a_second_group_is_not_tested_and_misuse_is_refused():
    none = logrank_test([1, 2, 3, 4], [0, 0, 0, 0], ["a", "a", "b", "b"])
    assert math.isnan(none.chi_square) and math.isnan(none.p_value) and none.df == 1
    one = logrank_test([1, 2], [1, 1], ["a", "a"])
    assert math.isnan(one.p_value) and one.df == 0
    with pytest.raises(ValueError, match="same length"):
        logrank_test([1, 2], [1, 0], ["a"])
    with pytest.raises(ValueError, match="must not be missing"):
        logrank_test([1, 2], [1, 0], ["a", None])
    with pytest.raises(ValueError, match="non-negative"):
        logrank_test([1, -2], [1, 0], ["a", "b"])


# ----------------------------------------------------------------------------- restricted mean


def test_restricted_mean_of_a_tiny_case_by_hand():
    # events at 2 and 4, censored at 3, 5, 6: S = 1 on [0,2), 4/5 on [2,4), 8/15 on [4,5)
    curve = kaplan_meier([2, 3, 4, 5, 6], [1, 0, 1, 0, 0])
    result = restricted_mean(curve, horizon=5)
    assert result.value == pytest.approx(2 + 2 * 4 / 5 + 1 * 8 / 15)
    # Klein & Moeschberger: A at 2 = 8/5 + 8/15 (area from 2 to 5), at 4 = 8/15;
    # var = A(2)² · 1/(5·4) + A(4)² · 1/(3·2)
    a2, a4 = 8 / 5 + 8 / 15, 8 / 15
    assert result.se == pytest.approx(math.sqrt(a2**2 / 20 + a4**2 / 6))
    assert result.low == pytest.approx(result.value - 1.959964 * result.se, rel=1e-6)
    # to a horizon before the first event the mean is the horizon itself, without error
    early = restricted_mean(curve, horizon=1.5)
    assert (early.value, early.se) == (1.5, 0.0)


def test_restricted_mean_of_uncensored_times_is_their_mean_with_the_plain_standard_error():
    # the placebo arm relapsed every one: the area to the last time is the mean remission,
    # and its variance is Σ(x − x̄)² / n²
    curve = kaplan_meier(PLACEBO, [1] * 21)
    result = restricted_mean(curve, horizon=30)  # past the curve's zero: still known
    x = np.array(PLACEBO, dtype=float)
    assert result.value == pytest.approx(x.mean())
    assert result.se == pytest.approx(math.sqrt(((x - x.mean()) ** 2).sum()) / 21)


def test_restricted_mean_beyond_the_follow_up_is_not_estimable_and_misuse_is_refused():
    curve = kaplan_meier(SIX_MP, SIX_MP_RELAPSED)  # longest 35, censored
    assert math.isnan(restricted_mean(curve, horizon=40).value)
    assert restricted_mean(curve, horizon=35).value == pytest.approx(23.2874, abs=1e-4)
    assert math.isnan(restricted_mean(kaplan_meier([], []), horizon=5).value)
    with pytest.raises(ValueError, match="positive"):
        restricted_mean(curve, horizon=0)
    with pytest.raises(ValueError, match="min_at_risk=1"):
        restricted_mean(kaplan_meier(SIX_MP, SIX_MP_RELAPSED, min_at_risk=5), horizon=10)


# ----------------------------------------------------------------------------- lifetimes


def _four_customers():
    """Four customers signed up on 1 Jan 2026: c1 churned 2 Mar (60 days), c2 1 Jul (181
    days), c3 never (censored at 30 Sep, 272 days), c4 churned 1 May but ordered on 1 Jun
    (won back: censored, 272 days). East: c1, c2; West: c3, c4."""
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "signup_date": pd.to_datetime(["2026-01-01"] * 4),
            "region": ["East", "East", "West", "West"],
            "plan": ["basic"] * 4,
        }
    )
    transactions = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "order_date": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-02-01", "2026-06-01"]),
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c4"],
            "churned_at": pd.to_datetime(["2026-03-02", "2026-07-01", "2026-05-01"]),
        }
    )
    return customers, transactions, events


def test_lifetimes_by_hand_on_four_customers():
    customers, transactions, events = _four_customers()
    result = lifetimes_analysis(
        customers,
        transactions,
        events,
        period=Q3,
        definition=EVENTS,
        breakdowns=["plan", "contract_type"],
        horizon_months=6,
        min_group=2,
    )
    assert (result.customers, result.churned) == (4, 2)
    # S = 3/4 after 60 days, 3/4 · 2/3 = 1/2 after 181 days: the median is 181 days
    assert result.median_months == pytest.approx(181 / MONTH_DAYS)
    assert result.overall.table["survival"].tolist() == pytest.approx([0.75, 0.5])
    # area to 6 months: 60 days at 1, then at 3/4 to 181 days, then at 1/2 to the horizon
    horizon_days = 6 * MONTH_DAYS
    area = (60 + 0.75 * 121 + 0.5 * (horizon_days - 181)) / MONTH_DAYS
    assert result.restricted_mean.value == pytest.approx(area)
    region = result.breakdowns["region"]
    assert region.table["group"].tolist() == ["East", "West"]
    assert region.table["churned"].tolist() == [2, 0]
    # by hand: at 60 days E(East) = 1 · 2/4, V = 1 · 3/3 · (2/4)(2/4); at 181 days
    # E(East) = 1 · 1/3, V = 1 · 2/2 · (1/3)(2/3)
    expected, variance = 0.5 + 1 / 3, 0.25 + 2 / 9
    assert region.logrank.chi_square == pytest.approx((2 - expected) ** 2 / variance)
    assert region.horizon_months == 6 and region.as_of is None
    assert result.skipped == {
        "acquisition_channel": "missing",
        "plan": "one_group",
        "contract_type": "missing",
        "segment": "no_history",  # nobody had signed up a year before the period end
    }
    assert result.one_group == {"plan": "basic"}
    assert result.segment_as_of is None


def test_lifetime_months_count_whole_days_from_signup_or_a_given_start():
    status = pd.DataFrame(
        {
            "signup_date": [pd.Timestamp("2026-01-01 09:30"), pd.Timestamp("2026-03-01")],
            "churned_at": [pd.Timestamp("2026-01-31 18:00"), pd.NaT],
        }
    )
    months, churned = lifetime_months(status, end=Q3.end)
    assert (months * MONTH_DAYS).round(9).tolist() == [30, 213]
    assert churned.tolist() == [True, False]
    start = pd.Series(pd.to_datetime(["2026-02-01", "2026-04-01"]))
    months, _ = lifetime_months(status, end=Q3.end, start=start)
    assert (months * MONTH_DAYS).round(9).tolist() == [0, 182]  # churn before start: 0


def test_small_groups_are_merged_into_other_or_left_out():
    rng = np.random.default_rng(5)
    months = rng.exponential(12, 100)
    churned = rng.random(100) < 0.6
    # 40 a, 35 b, 15 c, 10 d: c and d (25 together) are merged, and left out under 30
    groups = np.repeat(["a", "b", "c", "d"], [40, 35, 15, 10])
    result = group_lifetimes(months, churned, groups, column="plan", horizon_months=12)
    assert result.merged == ["c", "d"] and result.left_out == ["c", "d"]
    assert result.left_out_customers == 25
    assert result.table["group"].tolist() == ["a", "b"]
    assert result.table["customers"].tolist() == [40, 35]
    # 40 a, 35 b, 20 c, 15 d: merged into "other" (35 customers), last
    groups = np.repeat(["a", "b", "c", "d"], [40, 25, 20, 15])
    result = group_lifetimes(months, churned, groups, column="plan", horizon_months=12)
    assert result.table["group"].tolist() == ["a", OTHER]
    assert result.table["customers"].tolist() == [40, 60] and result.left_out == []
    assert result.logrank.df == 1
    # each group's curve is the curve of its own customers
    solo = kaplan_meier(months[:40], churned[:40])
    assert result.curves["a"].median == solo.median
    assert result.table.loc[0, "rmst_months"] == restricted_mean(solo, horizon=12).value
    # missing values are a group; one value is no breakdown; too few groups none either
    with_missing = np.array(["a"] * 60 + [None] * 40, dtype=object)
    result = group_lifetimes(months, churned, with_missing, column="plan", horizon_months=12)
    assert result.table["group"].tolist() == ["a", NONE]
    assert group_lifetimes(months, churned, ["a"] * 100, column="x", horizon_months=12) == (
        "one_group"
    )
    few = np.repeat(["a", "b"], [90, 10])
    assert group_lifetimes(months, churned, few, column="x", horizon_months=12) == "too_few"


def _segment_unit():
    """Customers signed up in 2024 and ordering before the segment day (30 Sep 2025): s1-s3
    often (recent), s4-s6 once long ago; s7 churned in Aug 2025, before the segment day;
    s1 and s4 churn after it."""
    ids = [f"s{k}" for k in range(1, 8)]
    customers = pd.DataFrame(
        {"customer_id": ids, "signup_date": pd.to_datetime(["2024-01-01"] * 7)}
    )
    frequent = [(c, d) for c in ("s1", "s2", "s3") for d in ("2025-07-01", "2025-08-01")]
    frequent += [(c, "2025-09-15") for c in ("s1", "s2", "s3")]
    rare = [(c, "2024-02-01") for c in ("s4", "s5", "s6", "s7")]
    orders = pd.DataFrame(frequent + rare, columns=["customer_id", "order_date"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["amount"] = 10.0
    events = pd.DataFrame(
        {
            "customer_id": ["s7", "s1", "s4"],
            "churned_at": pd.to_datetime(["2025-08-01", "2025-12-30", "2026-03-30"]),
        }
    )
    return customers, orders, events


def test_the_segment_is_scored_a_year_before_and_lifetime_counts_from_that_day():
    customers, orders, events = _segment_unit()
    day = segment_start(Q3)
    assert str(day) == "2025-09-30"
    result = lifetimes_analysis(
        customers, orders, events, period=Q3, definition=EVENTS, min_group=1
    )
    segment = result.breakdowns["segment"]
    assert segment.as_of == result.segment_as_of == day
    scores = rfm_scores(rfm(orders, as_of=day)).set_index("customer_id")["segment"]
    # s7 had left before the segment day: not in the breakdown
    assert segment.table["customers"].sum() == 6
    groups = {g: sorted(c.index) for g, c in scores.drop("s7").groupby(scores.drop("s7"))}
    assert set(segment.table["group"]) == set(groups)
    # remaining lifetimes from 30 Sep 2025: s1 churned 91 days later, s4 181 days later
    recent = segment.curves[scores["s1"]]
    assert recent.table["days"].tolist() == pytest.approx([91 / MONTH_DAYS])
    rare = segment.curves[scores["s4"]]
    assert rare.table["days"].tolist() == pytest.approx([181 / MONTH_DAYS])
    # its restricted means are within the year observed, not the 24-month horizon
    assert segment.horizon_months == pytest.approx(365 / MONTH_DAYS)
    assert segment.table["rmst_months"].notna().all()


def test_the_segment_knows_nothing_of_orders_after_its_day():
    customers, orders, events = _segment_unit()
    later = pd.DataFrame(
        {
            "customer_id": ["s5", "s6", "s5"],
            "order_date": pd.to_datetime(["2026-01-10", "2026-02-10", "2026-03-10"]),
            "amount": [500.0, 900.0, 700.0],
        }
    )
    kwargs = {"period": Q3, "definition": EVENTS, "min_group": 1}
    before = lifetimes_analysis(customers, orders, events, **kwargs).breakdowns["segment"]
    after = lifetimes_analysis(
        customers, pd.concat([orders, later], ignore_index=True), events, **kwargs
    ).breakdowns["segment"]
    pd.testing.assert_frame_equal(before.table, after.table)


def test_a_given_rfm_scoring_and_status_are_used_as_given():
    customers, orders, events = _segment_unit()
    scored = pd.DataFrame({"customer_id": [f"s{k}" for k in range(1, 8)], "segment": ["x"] * 7})
    scored.loc[scored["customer_id"].isin(["s4", "s5", "s6"]), "segment"] = "y"
    result = lifetimes_analysis(
        customers, orders, events, period=Q3, definition=EVENTS, rfm=scored, min_group=1
    )
    segment = result.breakdowns["segment"]
    assert segment.table.set_index("group")["customers"].to_dict() == {"x": 3, "y": 3}
    with pytest.raises(ParameterError, match="'segment'"):
        lifetimes_analysis(
            customers,
            orders,
            events,
            period=Q3,
            definition=EVENTS,
            rfm=scored.drop(columns="segment"),
        )


def test_degenerate_units_give_empty_results_not_errors():
    customers, orders, events = _four_customers()
    silence = ChurnDefinition("inactivity", 30, "parameter")
    nobody = lifetimes_analysis(
        customers.iloc[:0], orders.iloc[:0], None, period=Q3, definition=silence
    )
    assert nobody.customers == 0 and math.isnan(nobody.median_months)
    assert math.isnan(nobody.restricted_mean.value) and nobody.breakdowns == {}
    everyone = lifetimes_analysis(
        customers,
        orders,
        None,
        period=Q3,
        definition=silence,
    )
    assert everyone.churned == 4  # every customer silent for over 30 days: all churned
    with pytest.raises(ParameterError, match="churn_horizon_months"):
        lifetimes_analysis(
            customers, orders, events, period=Q3, definition=EVENTS, horizon_months=0
        )
    with pytest.raises(ParameterError, match="Period"):
        lifetimes_analysis(customers, orders, events, period="2026-Q3", definition=EVENTS)


def test_columns_as_a_file_writes_them_are_grouped_as_meant():
    """Columns beyond the contract arrive as text: a blank plan is a missing plan, not a
    nameless group, and a number column is compared in quartile bands, lowest first, not as
    hundreds of one-customer groups merged into "other"."""
    rng = np.random.default_rng(3)
    n = 200
    ids = [f"c{k}" for k in range(n)]
    score = [f"{v:.2f}" for v in rng.normal(50, 10, n)]
    score[:40] = [""] * 40
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": pd.Timestamp("2024-01-01"),
            "plan": ["pro"] * 80 + ["basic"] * 80 + [""] * 20 + ["  "] * 20,
            "score": score,
        }
    )
    orders = pd.DataFrame(
        {"customer_id": ids, "order_date": pd.Timestamp("2024-02-01"), "amount": 10.0}
    )
    silence = ChurnDefinition("inactivity", 400, "parameter")
    found = lifetimes_analysis(
        customers, orders, None, period=Q3, definition=silence, breakdowns=["plan", "score"]
    )
    plan = found.breakdowns["plan"].table
    assert plan["group"].tolist() == ["basic", "pro", NONE]
    assert plan["customers"].tolist() == [80, 80, 40]
    bands = found.breakdowns["score"]
    values = pd.to_numeric(pd.Series(score[40:]))
    quartile = values.groupby(pd.qcut(values, 4, labels=False))
    expected = [f"{lo:g}–{hi:g}" for lo, hi in zip(quartile.min(), quartile.max(), strict=True)]
    assert bands.table["group"].tolist() == [*expected, NONE]
    assert bands.table["customers"].tolist() == [*quartile.size().tolist(), 40]
    assert bands.merged == []
