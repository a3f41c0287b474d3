"""The health score judged against churn: AUC sign, churn by band, suggested weights."""

import numpy as np
import pandas as pd
import pytest

from crmkit.metrics.health_score import COMPONENTS, HealthSettings, health_scores
from crmkit.metrics.health_validation import (
    churn_by_band,
    component_gaps,
    falls_red_to_green,
    validate,
    whole_points,
)
from crmkit.metrics.stats import wilson_interval


def _flat(scores, ids=None):
    """Customers whose five components all equal their score (so the score is that value)."""
    ids = ids or [f"c{k}" for k in range(len(scores))]
    frame = pd.DataFrame({"customer_id": ids})
    for name in COMPONENTS:
        frame[name] = np.asarray(scores, dtype=float)
    return health_scores(frame)


def _pairwise(kept_scores, churned_scores):
    """P(a kept customer scores above a churned one), ties half: by brute force."""
    kept, gone = np.asarray(kept_scores)[:, None], np.asarray(churned_scores)[None, :]
    return float(((kept > gone) + 0.5 * (kept == gone)).mean())


def test_auc_is_the_chance_a_kept_customer_scores_higher():
    rng = np.random.default_rng(3)
    scores = np.round(rng.uniform(0, 100, 200))
    churned = rng.random(200) < 0.6 - scores / 200  # lower scores churn more
    scored = _flat(scores)
    result = validate(scored, set(scored["customer_id"][churned]))
    expected = _pairwise(scores[~churned], scores[churned])
    assert result.auc.value == pytest.approx(expected)
    assert result.auc.value > 0.5  # healthier customers stay: above 0.5, not below
    assert result.auc.low < result.auc.value < result.auc.high
    assert result.customers == 200 and result.churned == int(churned.sum())


def test_churned_as_boolean_series():
    scored = _flat(list(range(40)))
    flags = pd.Series(np.arange(40) < 12, index=scored["customer_id"])
    result = validate(scored, flags)
    assert result.auc.value == 1.0  # every churned customer scored below every kept one
    assert result.predictive and result.verdict == "predictive"


def test_churn_by_band_and_its_order():
    # red: 10 customers (scores 10), 4 churned; amber: 20 (60), 3; green: 30 (90), 1
    scores = [10] * 10 + [60] * 20 + [90] * 30
    churned = np.array([1] * 4 + [0] * 6 + [1] * 3 + [0] * 17 + [1] + [0] * 29, dtype=bool)
    table = churn_by_band(_flat(scores), churned).set_index("band")
    assert table["customers"].tolist() == [10, 20, 30]
    assert table["churned"].tolist() == [4, 3, 1]
    assert table.loc["amber", "rate"] == pytest.approx(0.15)
    wilson = wilson_interval(3, 20)
    assert (table.loc["amber", "low"], table.loc["amber", "high"]) == pytest.approx(
        (wilson.low, wilson.high)
    )
    assert falls_red_to_green(table.reset_index()) is True
    flipped = churn_by_band(_flat(scores), churned[::-1])
    assert falls_red_to_green(flipped) is False


def test_component_gaps_compare_leavers_with_stayers_who_have_the_component():
    frame = pd.DataFrame(
        {
            "engagement": [10.0, 20.0, np.nan, 70.0, 90.0, np.nan],
            "value": [50.0, 50.0, 50.0, 40.0, 40.0, 40.0],
            "service": [np.nan, np.nan, np.nan, 60.0, 80.0, 100.0],
        }
    )
    churned = np.array([True, True, True, False, False, False])
    table = component_gaps(frame, churned).set_index("component")
    assert table.index.tolist() == list(COMPONENTS)
    # engagement: left (10 + 20) / 2 = 15 of 2 with data, stayed (70 + 90) / 2 = 80
    assert table.loc["engagement"].tolist() == [4, 2, 15.0, 80.0, 65.0]
    assert table.loc["value", "gap"] == -10.0  # the leavers scored higher
    assert table.loc["service", "left_with_data"] == 0
    assert np.isnan(table.loc["service", "mean_points_left"])
    assert table.loc["service", "mean_points_stayed"] == 80.0
    assert table.loc["sentiment", "customers_with_data"] == 0  # absent column


def test_validate_carries_the_gaps_of_the_customers_judged():
    scored = _flat([20] * 12 + [80] * 28)
    result = validate(scored, set(scored["customer_id"][:12]))
    gaps = result.component_gaps.set_index("component")
    assert gaps.loc["purchasing", ["customers_with_data", "left_with_data", "gap"]].tolist() == [
        40, 12, 60.0
    ]  # fmt: skip


def test_falls_needs_two_bands():
    table = churn_by_band(_flat([90] * 5), np.array([True, False, False, False, False]))
    assert falls_red_to_green(table) is None


def test_a_score_that_does_not_predict_is_called_so():
    rng = np.random.default_rng(5)
    scores = rng.uniform(0, 100, 400)
    churned = rng.random(400) < 0.2  # unrelated to the score
    result = validate(_flat(scores), set(_flat(scores)["customer_id"][churned]))
    assert result.auc.low < 0.5 < result.auc.high
    assert result.predictive is False and result.verdict == "not_predictive"


@pytest.mark.parametrize(
    ("churn", "state"), [(5, "too_few_churns"), (40, "no_kept"), (0, "too_few_churns")]
)
def test_too_few_churns_or_no_kept_customers(churn, state):
    scored = _flat(list(range(40)))
    result = validate(scored, set(scored["customer_id"][:churn]))
    assert result.state == state and result.verdict == state
    assert np.isnan(result.auc.value) and result.predictive is None
    assert result.falls_red_to_green is None


def test_no_customers():
    result = validate(_flat([]), set())
    assert result.state == "no_customers" and result.customers == 0


def _planted(n, rng, *, strong="service"):
    """Five components uniform 0–100, a third of engagement missing; churn depends on one
    component only: logit = −2 − 0.06 × (points − 50)."""
    points = pd.DataFrame({"customer_id": [f"c{k}" for k in range(n)]})
    for name in COMPONENTS:
        points[name] = rng.uniform(0, 100, n)
    points.loc[rng.random(n) < 1 / 3, "engagement"] = np.nan
    risk = 1 / (1 + np.exp(2 + 0.06 * (points[strong] - 50)))
    churned = rng.random(n) < risk
    return health_scores(points), set(points["customer_id"][churned])


def test_suggested_weights_recover_a_planted_component():
    scored, churned = _planted(6000, np.random.default_rng(11))
    result = validate(scored, churned)
    weights = result.suggested_weights
    assert sum(weights.values()) == 100
    assert weights["service"] >= 85
    assert result.suggested_basis == "this_period"
    assert result.suggested_auc.value > result.auc.value  # configured weights dilute service


def test_suggested_weights_fitted_out_of_sample_when_possible():
    rng = np.random.default_rng(12)
    previous, previous_churned = _planted(6000, rng, strong="purchasing")
    scored, churned = _planted(3000, rng, strong="purchasing")
    result = validate(scored, churned, training=(previous, previous_churned))
    assert result.suggested_basis == "previous"
    assert result.suggested_weights["purchasing"] >= 85
    few = list(previous_churned)[:19]  # fewer than 20 churns there: fit on this period
    assert validate(scored, churned, training=(previous, few)).suggested_basis == "this_period"


def test_configured_weights_reported_as_set():
    settings = HealthSettings.from_parameters(weights={"service": 60, "purchasing": 40})
    scored, churned = _planted(2000, np.random.default_rng(2))
    result = validate(health_scores(scored[["customer_id", *COMPONENTS]], settings), churned,
                      settings=settings)  # fmt: skip
    assert result.configured_weights["service"] == 60
    assert result.configured_weights["engagement"] == 0


def test_whole_points_sum_to_one_hundred():
    assert whole_points({"a": 2.0, "b": 1.0, "c": 0.0}) == {"a": 67, "b": 33, "c": 0}
    assert whole_points({"a": 0.0, "b": 0.0}) is None
    assert sum(whole_points(dict(zip("abcde", [3, 3, 3, 3, 1], strict=True))).values()) == 100


def test_whole_part_on_minimal_messy_data():
    """Three customers, no interactions, surveys or churn events, every ticket unresolved
    (and nobody active at the end of 2026-Q1): scores over the components that exist, no test
    of the score, no exception."""
    from crmkit.core.periods import parse_period
    from crmkit.metrics.churn_status import ChurnDefinition
    from crmkit.metrics.health_validation import health_score_analysis

    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2026-07-01"]),
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_date": pd.to_datetime(["2026-05-01", "2026-09-01", "2026-08-01"]),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    tickets = pd.DataFrame(
        {
            "customer_id": ["a"],
            "opened_at": pd.to_datetime(["2026-09-10"]),
            "resolved_at": pd.to_datetime([None]),
        }
    )
    result = health_score_analysis(
        customers,
        orders,
        period=parse_period("2026-Q3"),
        definition=ChurnDefinition("inactivity", 365, "parameter"),
        tickets=tickets,
    )
    scores = result.scores.set_index("customer_id")
    assert sorted(scores.index) == ["a", "b", "c"]
    assert scores["engagement"].isna().all() and scores["sentiment"].isna().all()
    assert scores["service"].isna().all()  # no resolution times, no complaint source
    # 29 days since, its cycle 123 days: ratio 29/123 on the grid 0 → 100, 0.5 → 90
    assert scores.loc["a", "purchasing"] == pytest.approx(100 - 10 * (29 / 123) / 0.5)
    assert np.isnan(scores.loc["c", "score"])  # nothing known of c
    assert result.validation.state == "too_few_churns"
    assert result.validation.suggested_weights is None
    assert result.bands["customers"].sum() == 2
