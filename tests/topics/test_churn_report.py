"""The churn report on the sample: the planted effects are found and said, and nothing else;
its results keys and flags; the same customer value as the clv report."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_same_result
from language_check import english_words

from crmkit.core.periods import parse_period
from crmkit.load.unit import load_unit
from crmkit.metrics import churn, clv
from crmkit.metrics.churn_reasons import ChurnReasons
from crmkit.present.language import language
from crmkit.topics import churn as report
from crmkit.topics import churn_drivers
from crmkit.topics.flags import CHANGE
from crmkit.topics.registry import TOPICS

ROOT = Path(__file__).resolve().parents[2]
UNITS = ("north", "south", "east", "west")


@pytest.fixture(scope="module")
def sample() -> dict:
    found = {}
    for name in UNITS:
        unit = load_unit(name, data_source=ROOT / "sample_data", period="2026-Q3")
        found[name] = (
            unit,
            churn.analyse(
                unit["customers"],
                unit["transactions"],
                period=unit.period,
                churn_events=unit.tables.get("churn_events"),
                interactions=unit.tables.get("interactions"),
                tickets=unit.tables.get("tickets"),
                surveys=unit.tables.get("surveys"),
                breakdowns=["acquisition_channel", "region"],
            ),
        )
    return found


def test_the_report_computes_the_same_from_only_the_columns_it_declares(sample):
    unit, analysis = sample["north"]
    read = unit.read(churn.READS, required=churn.REQUIRED)
    assert "order_id" not in read["transactions"] and "comment" not in read["surveys"]
    again = churn.analyse(**read, period=unit.period, breakdowns=["acquisition_channel", "region"])
    assert_same_result(again, analysis)


@pytest.fixture(scope="module")
def planted() -> dict:
    return json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]


def test_the_planted_churn_rise_is_found_in_south_and_nowhere_else(sample, planted):
    for name, (_, analysis) in sample.items():
        change = analysis.rates.churn_change
        if planted[name]["churn"]["rise_last_quarter"]:
            assert change.delta > 0.03 and change.p_value < 0.001, name
        else:
            assert change.p_value >= 0.01, (name, change.p_value)


def test_souths_rise_is_a_bad_change_flag_with_its_figures(sample):
    analysis = sample["south"][1]
    (flag,) = [f for f in report.flags(analysis) if f.key == "churn_change"]
    assert (flag.kind, flag.bad) == (CHANGE, True)
    before, after = analysis.rates.previous.churn.value, analysis.rates.churn.value
    with language("en"):
        expected_size = f"{abs(round(after * 100, 1) - round(before * 100, 1)):.1f}"
    assert flag.message["en"].startswith(f"The churn rate rose {expected_size} percentage points")
    assert f"from {before:.1%} to {after:.1%}" in flag.message["en"]
    assert flag.section["en"] == "Churn rate"


def test_the_unit_without_churn_events_is_churned_by_inactivity_and_says_why(sample, planted):
    for name, (_, analysis) in sample.items():
        expected = planted[name]["churn"]["definition"]
        assert analysis.definition.kind == expected, name
    west = sample["west"][1]
    assert west.definition.basis == "gaps" and west.definition.inactivity_days >= 30
    with language("en"):
        first = report.key_findings(west)[0]
    assert f"{west.definition.inactivity_days} days" in first
    assert "90% of the gaps between a customer's consecutive orders" in first
    assert west.reasons.status == "no_events"
    assert report.results(west)["top_reasons"] == {}


def test_complaints_and_low_satisfaction_are_among_the_drivers(sample):
    """Planted: half of the customers who leave complain in the 60 days before, and their
    survey scores in the 120 days before are 3 points lower. (Their going quiet is found by
    the health review's engagement: tests/topics/test_health_report.py.)"""
    for name in ("north", "south", "east"):
        drivers = sample[name][1].drivers
        table = drivers.coefficients.set_index("term")
        assert "complaints_90d" in drivers.top_drivers[:5], (name, drivers.top_drivers)
        assert table.loc["complaints_90d", "direction"] == "raises"
        assert "latest_nps" in drivers.top_drivers, (name, drivers.top_drivers)
        assert table.loc["latest_nps", "direction"] == "lowers"
        cohorts = drivers.cohorts.loc[drivers.cohorts["feature"] == "complaints_90d"]
        complained = cohorts.query("mean > 0")
        quiet = cohorts.query("mean == 0 and not missing")
        assert complained["churn_low"].min() > quiet["churn_high"].max(), name


def test_the_model_ranks_leavers_out_of_sample(sample):
    for name, (_, analysis) in sample.items():
        evaluation = analysis.drivers.evaluation
        assert evaluation.method == "backtest", name
        assert evaluation.auc.low > 0.6, (name, evaluation.auc)
        assert evaluation.top_decile_lift > 2, (name, evaluation.top_decile_lift)


def test_value_at_risk_counts_the_clv_reports_value(sample):
    unit, analysis = sample["north"]
    fitted = clv.analyse(
        unit["transactions"],
        unit["customers"],
        period=unit.period,
        horizon_months=12,
        monthly_discount_rate=0.01,
        holdout_weeks=26,
    )
    assert analysis.value_basis == "clv"
    values = fitted.values.set_index("customer_id")["clv"]
    scores = analysis.risk.scores.dropna(subset=["expected_value"]).set_index("customer_id")
    assert np.allclose(scores["expected_value"], values.reindex(scores.index))
    expected = float((scores["churn_risk"] * scores["expected_value"]).sum())
    assert analysis.risk.value_at_risk == pytest.approx(expected)


def test_results_hold_exactly_the_registrys_keys_as_plain_json(sample):
    for _, analysis in sample.values():
        results = report.results(analysis)
        assert set(results) == set(TOPICS["churn"].results)
        json.dumps(results, allow_nan=False)
    south = report.results(sample["south"][1])
    assert south["churn_rate"] == pytest.approx(sample["south"][1].rates.churn.value)
    assert south["churn_change"]["p_value"] < 0.001
    assert sum(south["top_reasons"].values()) == pytest.approx(1.0)


def test_key_findings_in_chinese_hold_no_english(sample):
    unit, analysis = sample["east"]
    with language("zh"):
        findings = report.key_findings(analysis, currency=unit.currency)
        texts = findings + [f.message["zh"] for f in report.flags(analysis)]
    assert english_words(texts, allowed=set()) == []
    assert any("客户流失率" in text for text in findings)


def _reasons(shares_now: dict, shares_before: dict) -> pd.DataFrame:
    rows = []
    for when, shares in (("2026-08-01", shares_now), ("2026-05-01", shares_before)):
        for reason, count in shares.items():
            rows += [(f"{when}-{reason}-{k}", pd.Timestamp(when), reason) for k in range(count)]
    return pd.DataFrame(rows, columns=["customer_id", "churned_at", "reason"])


def test_a_reason_that_rose_significantly_is_flagged_and_one_that_did_not_is_not():
    from crmkit.metrics.churn_reasons import reasons_analysis

    period = parse_period("2026-Q3")
    events = _reasons({"price": 60, "service": 40}, {"price": 20, "service": 80})
    reasons: ChurnReasons = reasons_analysis(events, period=period)
    (flag,) = report.reason_flags(reasons)
    assert flag.key == "reason_rising" and flag.bad
    assert "price" in flag.message["en"] and "60.0%" in flag.message["en"]
    calm = reasons_analysis(
        _reasons({"price": 22, "service": 78}, {"price": 20, "service": 80}), period=period
    )
    assert report.reason_flags(calm) == []


def test_charts_show_the_named_drivers_first(sample):
    for name in UNITS:
        drivers = sample[name][1].drivers
        table = drivers.coefficients.set_index("term")
        named = churn_drivers.named_drivers(drivers)
        numbers = [table.loc[t, "feature"] for t in named if table.loc[t, "kind"] == "number"]
        drawn = churn_drivers.cohort_features(drivers)
        assert len(drawn) == min(churn_drivers.COHORT_PANELS, drivers.cohorts["feature"].nunique())
        assert drawn[: len(numbers)] == list(dict.fromkeys(numbers)), name
        named_categories = {table.loc[t, "feature"] for t in named if "=" in t}
        assert set(churn_drivers.category_features(drivers)) <= named_categories


def test_inactivity_churn_warns_that_recency_decides_it(sample):
    west, north = sample["west"][1].drivers, sample["north"][1].drivers
    assert churn_drivers.inactivity_note(north) is None
    with language("en"):
        note = churn_drivers.inactivity_note(west)
    assert f"{west.definition.inactivity_days} days without an order" in note
    assert "days since last purchase predicts it by definition" in note
    with language("zh"):
        assert english_words([churn_drivers.inactivity_note(west)], allowed=set()) == []


def test_recorded_churn_that_falls_with_silence_says_some_left_silently(sample):
    for name in UNITS:
        drivers = sample[name][1].drivers
        table = drivers.coefficients.set_index("term")
        lowers = (
            "recency_days" in table.index and table.loc["recency_days", "direction"] == "lowers"
        )
        expected = drivers.definition.kind == "events" and lowers
        assert (churn_drivers.silent_note(drivers) is not None) == expected, name
    # every leaver of the sample cancels, so no unit shows it: a unit that does is made so
    north = sample["north"][1].drivers
    table = north.coefficients.copy()
    table.loc[table["term"] == "recency_days", "direction"] = "lowers"
    with language("zh"):
        note = churn_drivers.silent_note(replace(north, coefficients=table))
    assert note and english_words([note], allowed=set()) == []


def _fell_to_nothing(events_until):
    """200 customers; 60 cancel in February (Q1), none in Q2: a significant fall."""
    from types import SimpleNamespace

    from crmkit.metrics.churn_rates import churn_rates_analysis
    from crmkit.metrics.churn_status import ChurnDefinition

    ids = [f"k{i}" for i in range(200)]
    people = pd.DataFrame({"customer_id": ids, "signup_date": pd.Timestamp("2025-01-01")})
    orders = pd.DataFrame(
        {"customer_id": ids, "order_date": pd.Timestamp("2025-10-01"), "amount": 10.0}
    )
    lost = pd.DataFrame({"customer_id": ids[:60], "churned_at": pd.Timestamp("2026-02-10")})
    definition = ChurnDefinition("events", None, "events", events_until=events_until)
    period = parse_period("2026-Q2")
    rates = churn_rates_analysis(people, orders, lost, period=period, definition=definition)
    return SimpleNamespace(rates=rates, definition=definition, period=period)


def test_a_fall_with_no_cancellation_recorded_in_the_period_asks_to_check_the_records():
    stale = _fell_to_nothing(pd.Timestamp("2026-02-10").date())
    assert stale.rates.churn_change.p_value < 0.001 and stale.rates.churn.value == 0
    flag = report.churn_flag(stale)
    assert flag.key == "churn_change"
    assert "check that the churn records are complete" in flag.action["en"]
    assert "make it the standard" not in flag.action["en"]
    assert english_words([flag.action["zh"]], allowed=set()) == []
    # The same fall with a cancellation recorded in the period's days: the usual action.
    current = report.churn_flag(_fell_to_nothing(pd.Timestamp("2026-06-30").date()))
    assert "make it the standard" in current.action["en"]


def test_no_clv_models_are_fitted_when_no_customer_is_scored(monkeypatch):
    """Without a churn model nobody gets a risk, so nobody needs a value: the CLV models
    (minutes on some shapes of data) are not fitted at all."""

    def refuse(*args, **kwargs):
        raise AssertionError("expected_value() called without a churn model")

    monkeypatch.setattr(churn, "expected_value", refuse)
    ids = [f"k{i}" for i in range(40)]
    customers = pd.DataFrame({"customer_id": ids, "signup_date": pd.Timestamp("2025-01-01")})
    days = pd.date_range("2025-01-15", "2026-09-15", freq="MS")
    transactions = pd.DataFrame(
        [(c, d, 10.0) for c in ids for d in days], columns=["customer_id", "order_date", "amount"]
    )
    analysis = churn.analyse(customers, transactions, period=parse_period("2026-Q3"))
    assert analysis.drivers.model is None and analysis.risk.state == "no model"
    assert analysis.value_basis == "trailing_revenue"
