"""Satisfaction metrics by hand, relative weights on cases with a known answer, and the
period cut of the whole analysis."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics import satisfaction as sat
from crmkit.metrics.respondent_spend import spend_within
from crmkit.metrics.stats import two_proportion_test, wilson_interval

Z = 1.959963984540054


def test_nps_and_its_adjusted_wald_interval_by_hand():
    # 6 promoters, 2 passives, 2 detractors: NPS = 60% - 20% = 40.
    # Rocks (2016): n' = 13, p' = 6.75/13, d' = 2.75/13, NPS' = 4/13,
    # Var = (p' + d' - NPS'^2) / n' = (9.5/13 - 16/169) / 13.
    result = sat.nps(pd.Series([10, 9, 10, 9, 10, 9, 8, 7, 3, 6]))
    assert (result.promoters, result.passives, result.detractors) == (6, 2, 2)
    assert result.score == 40.0
    half = Z * np.sqrt((9.5 / 13 - 16 / 169) / 13)
    assert result.low == pytest.approx(100 * (4 / 13 - half))
    assert result.high == pytest.approx(100 * (4 / 13 + half))
    assert round(result.low, 1) == -12.6 and round(result.high, 1) == 74.1
    assert result.share("promoters") == 0.6
    # all promoters: the interval is clipped to 100
    assert sat.nps(pd.Series([10] * 5)).high == 100.0
    assert np.isnan(sat.nps(pd.Series([], dtype=float)).score)


def test_nps_change_by_hand():
    now = sat.nps(pd.Series([10] * 6 + [8] * 2 + [3] * 2))  # 40
    before = sat.nps(pd.Series([10] * 2 + [8] * 2 + [3] * 6))  # -40
    change = sat.nps_change(now, before)
    assert change.delta == 80.0
    a, b = 4 / 13, -4 / 13  # adjusted NPS' of each (mirror images)
    variance = (9.5 / 13 - 16 / 169) / 13  # the same for both
    se = np.sqrt(2 * variance)
    assert change.low == pytest.approx(100 * (a - b - Z * se))
    assert change.p_value == pytest.approx(
        2 * (1 - __import__("scipy").stats.norm.cdf((a - b) / se))
    )
    assert change.as_dict()["ci"] == [change.low, change.high]


def test_csat_is_the_top_two_box_share_with_wilson():
    scores = pd.Series([5, 4, 3, 2, 1, 5, 4, 4, 5, 1, None])
    result = sat.csat(scores)
    assert (result.n, result.satisfied, result.value) == (10, 6, 0.6)
    assert result.mean == pytest.approx(3.4)
    expected = wilson_interval(6, 10)
    assert (result.low, result.high) == (expected.low, expected.high)
    before = sat.csat(pd.Series([5, 1, 1, 1, 4, 2, 2, 2, 3, 3]))
    change = sat.csat_change(result, before)
    assert change.delta == pytest.approx(0.6 - 0.2)
    assert change.p_value == two_proportion_test(6, 10, 2, 10).p_value


def test_relative_weights_equal_squared_correlations_for_uncorrelated_drivers():
    # Two exactly uncorrelated, centred predictors: raw weights are r^2 (Johnson 2000).
    x1 = np.array([1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1], dtype=float)
    x2 = np.array([1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1], dtype=float)
    noise = np.array([0.3, -0.2, 0.1, 0.4, -0.5, 0.2, -0.1, 0.3, -0.4, 0.1, 0.2, -0.4])
    y = 2 * x1 + x2 + noise
    frame = pd.DataFrame({"nps": y, "dim_a": x1, "dim_b": x2})
    weights = sat.relative_weights(frame, outcome="nps").table.set_index("dimension")
    for column, x in (("dim_a", x1), ("dim_b", x2)):
        assert weights.loc[column, "raw_weight"] == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2)
    assert weights.index[0] == "dim_a"


def test_relative_weights_sum_to_the_regression_r_squared():
    rng = np.random.default_rng(7)
    base = rng.normal(size=(500, 1))
    x = base + rng.normal(scale=[0.5, 0.8, 1.5], size=(500, 3))  # correlated drivers
    y = x @ np.array([0.2, 0.5, 0.1]) + rng.normal(size=500)
    frame = pd.DataFrame(x, columns=["dim_a", "dim_b", "dim_c"]).assign(nps=y)
    drivers = sat.relative_weights(frame, outcome="nps")
    r2 = LinearRegression().fit(x, y).score(x, y)
    assert drivers.r_squared == pytest.approx(r2)
    assert drivers.table["raw_weight"].sum() == pytest.approx(r2)
    assert drivers.table["weight"].sum() == pytest.approx(1.0)
    assert drivers.top == "dim_b"
    with pytest.raises(ParameterError, match="complete responses"):
        sat.relative_weights(frame.head(5), outcome="nps")
    with pytest.raises(ParameterError, match="no variance"):
        sat.relative_weights(frame.assign(dim_c=1.0), outcome="nps")


def test_importance_performance_quadrants():
    drivers = sat.DriverWeights(
        "nps",
        pd.DataFrame({"dimension": ["a", "b", "c", "d"], "weight": [0.4, 0.3, 0.2, 0.1]}),
        0.5,
        100,
    )
    scores = pd.DataFrame(
        {"dimension": ["a", "b", "c", "d"], "mean": [3.0, 4.5, 3.1, 4.4], "satisfied": 0.5}
    )
    table = sat.importance_performance(drivers, scores).set_index("dimension")
    # weights' mean 0.25, scores' mean 3.75
    assert table["quadrant"].to_dict() == {
        "a": "fix first",
        "b": "keep it up",
        "c": "low priority",
        "d": "possible overkill",
    }


def _tiny_surveys() -> tuple[pd.DataFrame, pd.DataFrame]:
    responses = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3", "r4"],
            "customer_id": ["a", "b", "c", "a"],
            "responded_at": pd.to_datetime(
                ["2026-01-10", "2026-02-01", "2026-03-01", "2026-03-20"]
            ),
            "nps": [10, 3, 8, 9],
            "csat": [5, 1, 4, 5],
        }
    )
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "a"],
            "order_date": pd.to_datetime(
                ["2025-12-01", "2026-02-15", "2026-02-20", "2026-01-01", "2026-06-01", "2026-07-01"]
            ),
            "amount": [10.0, 40.0, 7.0, 5.0, 99.0, 1.0],
        }
    )
    return responses, transactions


def test_loyalty_and_repeat_rate_by_hand():
    responses, transactions = _tiny_surveys()
    table = sat.loyalty(responses, transactions, as_of="2026-03-31").set_index("customer_id")
    # a: latest response r4 (9, 5), orders before April 2 → repeat;
    # b: (3, 1), one order; c: (8, 4), one order by 31 March
    assert table["orders"].to_dict() == {"a": 2, "b": 1, "c": 1}
    assert table.loc["a", "nps_group"] == "promoter" and table.loc["b", "nps_group"] == "detractor"
    assert table.loc["a", "loyalty_score"] == pytest.approx(100 * (1 + 0.9 + 1) / 3)
    assert table.loc["b", "loyalty_score"] == pytest.approx(100 * (0 + 0.3 + 0) / 3)
    assert table.loc["c", "loyalty_score"] == pytest.approx(100 * (0.75 + 0.8 + 0) / 3)
    assert sat.repeat_rate(table) == pytest.approx(1 / 3)


def test_spend_after_responding_by_hand():
    responses, transactions = _tiny_surveys()
    table = sat.spend_after(
        responses, transactions, as_of="2026-07-31", days=90, lookback_days=365
    ).set_index("nps_group")
    # responses up to 2 May: r1 a (10) → 40 on 15 Feb; r4 a (9) → nothing by 18 June (1 July is
    # 103 days later); r2 b (3) → 7 on 20 Feb; r3 c (8) → 99 on 1 June (92 days: outside)
    assert table.loc["promoter", ["responses", "mean_spend"]].tolist() == [2, 20.0]
    assert table.loc["detractor", "mean_spend"] == 7.0
    assert table.loc["passive", ["mean_spend", "buying_share"]].tolist() == [0.0, 0.0]


def _spend_by_joining_ids(responses, transactions, *, days):
    """Spend after each response as spend_after computed it before it joined on integer
    codes: a merge on the text ids and a grouped sum by response id."""
    joined = responses[["response_id", "customer_id", "responded_at"]].merge(
        transactions[["customer_id", "order_date", "amount"]], on="customer_id", how="left"
    )
    within = (joined["order_date"] > joined["responded_at"]) & (
        joined["order_date"] <= joined["responded_at"] + pd.Timedelta(days=days)
    )
    spend = joined["amount"].where(within, 0.0).groupby(joined["response_id"]).sum()
    return responses["response_id"].map(spend).fillna(0.0).to_numpy()


def test_spend_within_matches_the_join_on_ids_on_the_sample_unit():
    from crmkit.load.unit import load_unit

    root = Path(__file__).resolve().parents[2]
    unit = load_unit("north", data_source=root / "sample_data", period="2026-Q3",
                     as_of="2026-10-15")  # fmt: skip
    responses, transactions = unit["surveys"], unit["transactions"]
    new = spend_within(responses, transactions, days=90)
    old = _spend_by_joining_ids(responses, transactions, days=90)
    assert (old > 0).sum() > 100  # the sample's respondents do buy after responding
    # orders added in date order, not table order: the last bit of a sum may differ
    np.testing.assert_allclose(new, old, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(new == 0, old == 0)


def test_spend_within_matches_the_join_on_ids_on_random_rows():
    rng = np.random.default_rng(7)
    customers = np.array([f"c{k}" for k in range(300)])
    days = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 365, 3000), unit="D")
    transactions = pd.DataFrame(
        {
            "customer_id": pd.array(rng.choice(customers, 3000), dtype="string"),
            "order_date": days,
            "amount": rng.gamma(2.0, 30.0, 3000).round(2),
        }
    )
    responses = pd.DataFrame(
        {
            "response_id": [f"r{k}" for k in range(800)],
            "customer_id": pd.array(rng.choice([*customers, "nobody"], 800), dtype="string"),
            "responded_at": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 365, 800), unit="D"),
        }
    ).sample(frac=1.0, random_state=1)  # rows out of date and id order, index shuffled
    new = spend_within(responses, transactions, days=60)
    old = _spend_by_joining_ids(responses, transactions, days=60)
    # the last bit of a sum may differ (date order), never whether a response found spend
    np.testing.assert_allclose(new, old, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(new > 0, old > 0)
    nameless = responses.assign(customer_id=pd.array([None] * len(responses), dtype="string"))
    np.testing.assert_array_equal(
        spend_within(nameless, transactions, days=60), np.zeros(len(responses))
    )


def test_breakdown_marks_small_groups():
    responses = pd.DataFrame(
        {
            "nps": [10] * 40 + [0] * 40 + [9] * 5,
            "csat": [5] * 40 + [1] * 40 + [5] * 5,
            "touchpoint": ["web"] * 40 + ["store"] * 40 + ["phone"] * 5,
        }
    )
    table = sat.breakdown(responses, by="touchpoint").set_index("group")
    assert table.loc["web", "nps"] == 100 and table.loc["store", "nps"] == -100
    assert table.loc["web", "verdict"] == "NPS above the rest"
    assert table.loc["store", "verdict"] == "NPS below the rest"
    assert table.loc["phone", "verdict"] == "too few to judge"
    assert np.isnan(table.loc["phone", "p_adjusted"])


def test_loyalty_by_group_by_hand():
    responses, transactions = _tiny_surveys()
    table = sat.loyalty(responses, transactions, as_of="2026-03-31")
    groups = sat.loyalty_by_group(table).set_index("nps_group")
    # a promoter (repeat), b detractor (one order), c passive (one order)
    assert list(groups.index) == ["detractor", "passive", "promoter"]
    assert groups["customers"].tolist() == [1, 1, 1]
    assert groups["repeat_rate"].tolist() == [0.0, 0.0, 1.0]
    assert groups.loc["promoter", "loyalty_score"] == pytest.approx(100 * (1 + 0.9 + 1) / 3)


def test_loyalty_counts_orders_late_on_the_as_of_day():
    responses, transactions = _tiny_surveys()
    late = pd.concat(
        [
            transactions,
            pd.DataFrame(
                {
                    "customer_id": ["b"],
                    "order_date": [pd.Timestamp("2026-03-31 23:10")],
                    "amount": [3.0],
                }
            ),
        ],
        ignore_index=True,
    )
    table = sat.loyalty(responses, late, as_of="2026-03-31").set_index("customer_id")
    assert table.loc["b", ["orders", "repeat"]].tolist() == [2, True]
    before = sat.loyalty(responses, late, as_of="2026-03-30 12:00").set_index("customer_id")
    assert before.loc["b", "orders"] == 1


def _quarter_surveys() -> pd.DataFrame:
    """Q2: 10 responses (NPS 40 - 20 = 20); Q3: 10 responses, the last at 23:30 on its last
    day (NPS 60 - 10 = 50); one on 1 October, outside both."""
    nps_q2 = [10] * 4 + [8] * 4 + [3] * 2
    nps_q3 = [10] * 6 + [7] * 3 + [2]
    days_q2 = pd.date_range("2026-04-02", periods=10, freq="7D")
    days_q3 = [*pd.date_range("2026-07-02", periods=9, freq="9D"), pd.Timestamp("2026-09-30 23:30")]
    return pd.DataFrame(
        {
            "response_id": [f"r{k}" for k in range(21)],
            "customer_id": [f"c{k % 7}" for k in range(21)],
            "responded_at": [*days_q2, *days_q3, pd.Timestamp("2026-10-01")],
            "nps": [*nps_q2, *nps_q3, 0],
            "csat": [5] * 8 + [2] * 2 + [5] * 9 + [1] + [1],
            "touchpoint": ["web", "store"] * 10 + ["web"],
        }
    )


def test_analyse_cuts_both_periods_from_one_period():
    analysis = sat.analyse(
        _quarter_surveys(),
        period=parse_period("2026-Q3"),
        breakdown_columns=["region", "segment", "touchpoint"],
    )
    assert analysis.period.label == "2026-Q3"
    assert analysis.n_responses == 10  # the 23:30 response on 30 September is in
    assert (analysis.nps.score, analysis.previous_nps.score) == (50.0, 20.0)
    assert analysis.nps_change.delta == 30.0
    assert (analysis.csat.satisfied, analysis.previous_csat.satisfied) == (9, 8)
    assert analysis.missing_scores == []
    assert analysis.skipped_breakdowns == ["region", "segment"]  # no customers, no orders
    assert list(analysis.breakdowns) == ["touchpoint"]
    assert analysis.dimensions.empty and analysis.drivers_error is None
    assert analysis.themes.empty and analysis.loyalty is None
    with pytest.raises(ParameterError, match=r"needs period as a crmkit\.core\.periods\.Period"):
        sat.analyse(_quarter_surveys(), period="2026-Q3")


def test_analyse_says_why_key_drivers_could_not_run():
    surveys = _quarter_surveys().drop(columns="csat").assign(dim_speed=3.0, dim_price=4.0)
    analysis = sat.analyse(surveys, period=parse_period("2026-Q3"))
    assert analysis.missing_scores == ["csat"] and np.isnan(analysis.csat.value)
    assert "have no variance" in analysis.drivers_error  # every response scored them alike
    assert analysis.nps_drivers is None and len(analysis.dimensions) == 2


# ----------------------------------------------------------------------------- degenerate shapes

Q3 = parse_period("2026-Q3")


def test_monthly_trend_is_typed_even_without_a_month():
    # was: object columns, and matplotlib's "ufunc 'isfinite' not supported" when drawn
    trend = sat.monthly(_quarter_surveys().iloc[:0], as_of="2026-09-30")
    assert trend.empty
    assert (trend.dtypes.drop(["month", "responses"]) == "float64").all()
    # without an nps column the months are there, their NPS blank
    trend = sat.monthly(_quarter_surveys().iloc[:20].drop(columns="nps"), as_of="2026-09-30")
    assert trend["nps"].isna().all() and trend["csat"].notna().all()
    assert trend["responses"].sum() == 20  # Q2 and Q3


def test_analyse_a_header_only_survey_table():
    analysis = sat.analyse(_quarter_surveys().iloc[:0], period=Q3, breakdown_columns=["touchpoint"])
    assert (analysis.n_responses, analysis.previous_responses) == (0, 0)
    assert np.isnan(analysis.nps.score) and np.isnan(analysis.csat.value)
    assert analysis.trend.empty and analysis.breakdowns == {}
    assert analysis.skipped_breakdowns == ["touchpoint"] and analysis.comments is None


def test_analyse_without_nps_or_csat():
    # was: KeyError 'score' when the notebook drew the missing score's distribution
    no_nps = sat.analyse(
        _quarter_surveys().drop(columns="nps"), period=Q3, breakdown_columns=["touchpoint"]
    )
    assert no_nps.missing_scores == ["nps"] and no_nps.nps_distribution.empty
    assert no_nps.csat.satisfied == 9 and list(no_nps.breakdowns) == ["touchpoint"]
    assert no_nps.spend_after is None and no_nps.themes.empty
    neither = sat.analyse(
        _quarter_surveys().drop(columns=["nps", "csat"]),
        period=Q3,
        breakdown_columns=["touchpoint"],
    )
    assert neither.missing_scores == ["nps", "csat"]
    assert neither.breakdowns == {} and neither.skipped_breakdowns == []  # no score to split


def test_analyse_counts_comments_and_single_groups():
    surveys = _quarter_surveys().assign(touchpoint="web")
    surveys["comment"] = [None] * 11 + ["", "  ", "Great", None, "ok"] + [None] * 5
    analysis = sat.analyse(surveys, period=Q3, breakdown_columns=["touchpoint"])
    assert analysis.comments == 2  # "Great" and "ok"; blank and whitespace are no comment
    assert analysis.one_group == {"touchpoint": "web"} and analysis.breakdowns == {}
    assert sat.analyse(_quarter_surveys(), period=Q3).comments is None  # no comment column


def test_no_orders_of_any_respondent_is_unknown_loyalty_not_zero():
    surveys = _quarter_surveys()
    strangers = pd.DataFrame(
        {
            "customer_id": ["x9"],
            "order_date": pd.to_datetime(["2026-08-01"]),
            "amount": [5.0],
        }
    )
    analysis = sat.analyse(surveys, period=Q3, transactions=strangers)
    assert analysis.respondents_with_orders == 0
    assert analysis.loyalty is None and analysis.spend_after is None
    c1 = strangers.assign(customer_id="c1")  # r8 and r15 in Q3 are c1's
    analysis = sat.analyse(surveys, period=Q3, transactions=c1)
    assert analysis.respondents_with_orders == 1
    assert sat.repeat_rate(analysis.loyalty) == 0  # c1 bought once; 6 other respondents none
    assert sat.analyse(surveys, period=Q3).respondents_with_orders is None  # no transactions


def test_a_period_without_responses_keeps_the_previous_count():
    surveys = _quarter_surveys()
    analysis = sat.analyse(surveys.loc[surveys["responded_at"] < "2026-07-01"], period=Q3)
    assert (analysis.n_responses, analysis.previous_responses) == (0, 10)
    assert np.isnan(analysis.nps_change.delta)
    assert analysis.trend["responses"].sum() == 10  # the history is still drawn


def test_spend_within_by_hand_at_the_window_edges():
    responses = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", None],
            "responded_at": pd.to_datetime(
                ["2026-01-01", None, "2026-01-01", "2026-01-01", "2026-01-01"]
            ),
        }
    )
    # a: on the day itself (not after), one day and 90 days after (in), 91 days (out)
    order_days = ["2026-01-01", "2026-01-02", "2026-04-01", "2026-04-02", "2026-01-03", None]
    order_days.append("2026-01-02")
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", None],
            "order_date": pd.to_datetime(order_days),
            "amount": [1.0, 2.0, 4.0, 8.0, np.nan, 16.0, 32.0],
        }
    )
    found = spend_within(responses, transactions, days=90)
    # a: 2 + 4; a without a date: 0; b: a missing amount counts 0, an undated order never;
    # c has no orders; a response without a customer: 0
    assert found.tolist() == [6.0, 0.0, 0.0, 0.0, 0.0]
