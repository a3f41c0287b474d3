"""The health review on the sample: every scorecard figure is its owning report's, the score
predicts next-period churn in every unit, the planted service slow-down and the quiet before
leaving are found, and a unit without interactions, tickets or costs still gets its review."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_same_result

from crmkit.load.unit import load_unit
from crmkit.metrics import clv, funnel, health, satisfaction
from crmkit.metrics.churn_rates import churn_rates_analysis
from crmkit.metrics.churn_status import churn_dates
from crmkit.present.language import language
from crmkit.topics import clv as clv_report
from crmkit.topics import funnel as funnel_report
from crmkit.topics import health as report
from crmkit.topics import satisfaction as satisfaction_report
from crmkit.topics.registry import TOPICS, parameter_defaults

UNITS = ("north", "south", "east", "west")
DEFAULTS = parameter_defaults()


def analyse(unit, **drop):
    tables = {name: None if drop.get(name) else unit.tables.get(name) for name in unit.tables}
    return health.analyse(
        unit["customers"],
        unit["transactions"],
        period=unit.period,
        churn_events=tables.get("churn_events"),
        interactions=tables.get("interactions"),
        tickets=tables.get("tickets"),
        surveys=tables.get("surveys"),
        costs=tables.get("costs"),
        opportunities=tables.get("opportunities"),
        stage_history=tables.get("stage_history"),
    )


@pytest.fixture(scope="module")
def sample() -> dict:
    found = {}
    for name in UNITS:
        unit = load_unit(name, data_source=ROOT / "sample_data", period="2026-Q3")
        found[name] = (unit, analyse(unit))
    return found


def test_the_review_computes_the_same_from_only_the_columns_it_declares(sample):
    unit, analysis = sample["north"]
    read = unit.read(health.READS, required=health.REQUIRED)
    assert "order_id" not in read["transactions"] and "comment" not in read["surveys"]
    assert_same_result(health.analyse(**read, period=unit.period), analysis)


def rows(analysis) -> dict:
    return {row.key: row for row in analysis.scorecard}


def test_every_scorecard_figure_is_its_owning_reports(sample):
    unit, analysis = sample["north"]
    card = rows(analysis)
    customers, orders = unit["customers"], unit["transactions"]
    rates = churn_rates_analysis(
        customers, orders, unit["churn_events"], period=unit.period, definition=analysis.definition
    )
    assert card["churn_rate"].value == rates.current.churn.value
    assert card["retention_rate"].previous == rates.previous.retention.value
    # satisfaction as its report runs it (with its breakdowns): NPS and CSAT are its results
    sat = satisfaction.analyse(
        unit["surveys"],
        period=unit.period,
        customers=customers,
        transactions=orders,
        breakdown_columns=DEFAULTS["satisfaction_breakdowns"],
    )
    published = satisfaction_report.results(sat)
    assert card["nps"].value == published["nps"]
    assert card["csat"].value == published["csat"]
    assert card["nps"].change.p_value == published["nps_change"]["p_value"]
    fitted = clv.analyse(
        orders,
        customers,
        period=unit.period,
        horizon_months=DEFAULTS["clv_horizon_months"],
        monthly_discount_rate=DEFAULTS["clv_discount_rate"],
        holdout_weeks=DEFAULTS["clv_holdout_weeks"],
        costs=unit["costs"],
    )
    # the same fit; its optimiser may differ in the last bits from run to run
    assert card["predicted_clv"].value == pytest.approx(clv_report.results(fitted)["mean_clv"])
    table = fitted.ltv_cac
    by_hand = (table["ltv"] * table["customers"]).sum() / (table["cac"] * table["customers"]).sum()
    assert card["ltv_cac"].value == pytest.approx(by_hand)
    pipeline = funnel.analyse(
        unit["opportunities"],
        unit["stage_history"],
        stages=DEFAULTS["funnel_stages"],
        period=unit.period,
        window_days=DEFAULTS["conversion_window_days"],
        breakdown_columns=DEFAULTS["funnel_breakdowns"],
        costs=unit["costs"],
    )
    funnel_results = funnel_report.results(pipeline)
    assert card["overall_conversion"].value == funnel_results["overall_conversion"]
    assert card["median_cycle_days"].value == funnel_results["median_cycle_days"]
    # this report's own figures are its published results
    results = report.results(analysis)
    assert results["interaction_frequency"] == card["interaction_frequency"].value
    assert results["sla_share"] == card["sla_share"].value
    assert results["cac"] == card["period_cac"].value
    assert results["scorecard"]["churn_rate"]["value"] == rates.current.churn.value


def test_results_are_the_registrys_keys_and_plain_json(sample):
    for name, (_, analysis) in sample.items():
        results = report.results(analysis)
        assert set(results) == set(TOPICS["health"].results), name
        json.dumps(results, allow_nan=False)
        shares = results["health_bands"]
        assert sum(shares.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("name", UNITS)
def test_the_score_predicts_next_period_churn(sample, name):
    """The issue's proof: on the sample the score at the previous period end ranks this
    period's leavers below its stayers (AUC ≥ 0.70) and churn falls red → amber → green."""
    validation = sample[name][1].score.validation
    assert validation.auc.value >= 0.70, (name, validation.auc)
    assert validation.auc.low > 0.5
    by_band = validation.churn_by_band.set_index("band")["rate"]
    assert by_band["red"] > by_band["amber"] > by_band["green"], (name, by_band.to_dict())
    assert validation.falls_red_to_green and validation.verdict == "predictive"


@pytest.mark.parametrize("name", ["north", "south", "east"])
def test_customers_go_quiet_before_they_leave(sample, name):
    """Planted: in the 120 days before leaving, three interactions in four do not happen; the
    engagement of those who leave this period was lower at the previous period end."""
    unit, analysis = sample[name]
    before = analysis.score.previous_scores
    status = churn_dates(
        unit["customers"],
        unit["transactions"],
        unit["churn_events"],
        analysis.definition,
        as_of=unit.period.end,
    ).set_index("customer_id")["churned_at"]
    churned_at = status.reindex(before["customer_id"]).to_numpy()
    left = unit.period.contains(churned_at)
    engaged = before["engagement"].to_numpy()
    known = ~np.isnan(engaged)
    assert engaged[known & left].mean() < engaged[known & ~left].mean() - 15, name
    ratio = before["engagement_ratio"].to_numpy()
    assert np.median(ratio[known & left]) < 0.5 < np.median(ratio[known & ~left])


def test_easts_service_slowdown_is_found_and_flagged(sample):
    service = sample["east"][1].service
    resolution = service.resolution
    assert resolution.median > 1.5 * resolution.previous_median
    assert resolution.change.p_value < 0.001
    flags = {f.key for f in report.flags(sample["east"][1])}
    assert "service_slower" in flags
    for name in ("north", "south", "west"):
        assert "service_slower" not in {f.key for f in report.flags(sample[name][1])}, name
        other = sample[name][1].service.resolution
        assert other.median < 1.3 * other.previous_median, name


def test_act_items_are_flagged_once_with_their_action(sample):
    east = sample["east"][1]
    keys = [(f.key, f.values.get("kpi")) for f in report.flags(east)]
    # east's SLA share is in its act band, but that is the slow-down's news, told once
    assert next(r for r in east.scorecard if r.key == "sla_share").band == "act"
    assert ("service_slower", None) in keys and ("kpi_act", "sla_share") not in keys
    south = sample["south"][1]
    acts = [f for f in report.flags(south) if f.key == "kpi_act"]
    kpis = [f.values["kpi"] for f in acts]
    assert kpis == [r.key for r in south.scorecard if r.band == "act" and r.key in kpis]
    assert "churn_rate" in kpis and "retention_rate" not in kpis  # one fact, told once
    assert "nps" not in kpis  # below zero: the satisfaction report's own flag says so
    with language("zh"):
        zh = {f.values["kpi"]: f for f in report.flags(south) if f.key == "kpi_act"}
    assert zh["churn_rate"].message["zh"].startswith("客户流失率为")
    assert "高于“行动”线" in zh["churn_rate"].message["zh"]


def test_inferred_churns_flag_reads_in_each_language_whatever_language_made_it(sample):
    # west infers churn from inactivity and is an English unit: its flags are made in
    # English and shown on the portfolio in every language
    west = sample["west"][1]
    days = west.definition.inactivity_days
    assert west.definition.kind == "inactivity" and days
    churn = next(
        f for f in report.flags(west) if f.key == "kpi_act" and f.values["kpi"] == "churn_rate"
    )
    assert f"({days} days without an order)" in churn.message["en"]
    assert f"按 {days} 天未购买计" in churn.message["zh"]
    assert "without" not in churn.message["zh"]


def test_a_unit_without_interactions_tickets_or_costs(sample):
    unit = sample["north"][0]
    analysis = analyse(unit, interactions=True, tickets=True, costs=True)
    card = rows(analysis)
    for key in (
        "interaction_frequency",
        "interaction_share",
        "complaint_rate",
        "median_resolution_hours",
        "sla_share",
        "retention_cost_per_customer",
        "service_cost_per_ticket",
    ):
        assert card[key].value is None and card[key].band is None, key
    # without the costs table, CAC is what the period's new customers cost
    new = unit["customers"].loc[unit.period.contains(unit["customers"]["signup_date"])]
    assert analysis.costs.cac_source == "customers"
    assert card["period_cac"].value == pytest.approx(new["acquisition_cost"].sum() / len(new))
    # the other figures are unchanged
    full = rows(sample["north"][1])
    assert card["churn_rate"].value == full["churn_rate"].value
    assert card["nps"].value == full["nps"].value
    scores = analysis.score.scores
    assert scores["engagement"].isna().all() and scores["service"].isna().all()
    # scored over what they have: everyone with a component has a score, and nobody has more
    # than value, sentiment and purchasing
    assert (scores["score"].notna() == (scores["components_used"] > 0)).all()
    assert scores["score"].notna().mean() > 0.85
    assert scores["components_used"].max() == 3
    with language("en"):
        view = report.scorecard_view(analysis.scorecard)
    shown = view.set_index("kpi")["value_this_period"]
    assert shown["service cost per ticket"] == "no data"
    results = report.results(analysis)
    json.dumps(results, allow_nan=False)
    assert results["interaction_frequency"] is None and results["sla_share"] is None
    assert not math.isnan(results["mean_health"])


def test_a_unit_whose_orders_begin_in_the_period_is_reviewed(sample):
    """A unit launched this period has no order by the previous period's end: the previous
    CLV has no data (the cohort curve met no order there and raised a TypeError)."""
    unit, _ = sample["north"]
    orders = unit["transactions"]
    launched = orders.loc[orders["order_date"] >= pd.Timestamp(unit.period.start)]
    review = health.analyse(unit["customers"], launched, period=unit.period)
    card = {row.key: row for row in review.scorecard}
    assert card["predicted_clv"].value > 0 and card["predicted_clv"].previous is None
    assert clv.cohort_revenue(orders.iloc[:0], unit["customers"], through=unit.period.end).empty
