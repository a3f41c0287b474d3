"""The CLV report's words, views and results, on hand-built fits and a unit too small to model."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import crmkit.metrics.clv as clv
import crmkit.topics.clv as report
from crmkit.core.periods import parse_period
from crmkit.topics.registry import TOPICS

CLV_SETTINGS = {"horizon_months": 12, "monthly_discount_rate": 0.01, "holdout_weeks": 4}


def tiny_unit() -> tuple[pd.DataFrame, pd.DataFrame]:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "order_date": pd.to_datetime(["2026-01-05", "2026-03-01", "2026-02-01", "2026-05-01"]),
            "amount": [10.0, 20.0, 5.0, 8.0],
        }
    )
    people = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "signup_date": pd.to_datetime(["2026-01-05", "2026-02-01", "2026-05-01", "2026-06-01"]),
            "acquisition_channel": ["web", "web", "store", "store"],
        }
    )
    return orders, people


def holdout(**changes) -> clv.HoldoutCheck:
    """A hand-built holdout check: BG/NBD 5% high in total, off by 0.1 per customer;
    Pareto/NBD off by 0.2."""
    bgnbd = clv.ModelFit("bgnbd", {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4}, fitter=object())
    pareto = clv.ModelFit("pareto_nbd", {"r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 11.0})
    values = {
        "weeks": 26.0,
        "calibration_end": pd.Timestamp("2026-04-01"),
        "actual": 1000,
        "predicted": 1050.0,
        "mae_per_customer": 0.1,
        "bgnbd": bgnbd,
        "pareto_nbd": pareto,
        "pareto_mae_per_customer": 0.2,
        "model_selected": "bgnbd",
        "by_frequency": pd.DataFrame(),
        "tracking": pd.DataFrame(),
    }
    return clv.HoldoutCheck(**{**values, **changes})


def test_analyse_a_unit_too_small_to_model():
    orders, people = tiny_unit()
    analysis = clv.analyse(orders, people, period=parse_period("2026-Q3"), **CLV_SETTINGS)
    notes = report.notes(analysis)
    assert notes == [
        "Too few customers to fit BG/NBD or Pareto/NBD: 3 customers, 1 of them repeat buyers; "
        "they need at least 30 customers and 10 repeat buyers.",
        "Too few repeat buyers to fit Gamma-Gamma: 1; it needs at least 10.",
        "Holdout check skipped: with the last 4 weeks held out, neither purchase model could "
        "be fitted on the history before them (3 customers, 1 of them repeat buyers, where "
        "the models need at least 30 and 10).",
        "Predicted CLV skipped: neither a purchase model (BG/NBD, Pareto/NBD) nor the spend "
        "model (Gamma-Gamma) could be fitted on this unit.",
    ]
    results = report.results(analysis)
    assert set(results) == set(TOPICS["clv"].results)  # exactly the registry's keys
    assert results["horizon_months"] == analysis.horizon_months
    assert results["bgnbd"] == {} and results["holdout"] is None
    findings = report.key_findings(analysis)
    assert findings and all(isinstance(f, str) for f in findings)
    assert findings == notes  # nothing to report but what was skipped
    assert report.holdout_summary(analysis) == notes[2]  # only why the holdout did not run
    assert report.prediction_note(analysis) == notes[3]
    assert report.acquisition_note(analysis) == (
        "LTV:CAC skipped: it needs predicted CLV, which could not be computed."
    )
    assert report.top_customers(analysis).empty
    assert report.parameter_table(analysis).empty


def test_fit_notes_say_what_went_wrong():
    summary = pd.DataFrame(
        {
            "frequency": [1] * 5 + [0] * 15,
            "recency": [2.0] * 5 + [0.0] * 15,
            "T": [10.0] * 20,
            "monetary_value": [5.0] * 5 + [0.0] * 15,
        }
    )
    tiny = clv.fit_purchase_model(summary)
    assert report.fit_note(tiny) == (
        "Too few customers to fit BG/NBD: 20 customers, 5 of them repeat buyers; it needs at "
        "least 30 customers and 10 repeat buyers."
    )
    clean = clv.ModelFit("bgnbd", {"r": 0.2}, 0.0, fitter=object())
    assert report.fit_note(clean) == ""
    retried = clv.ModelFit(
        "gamma_gamma",
        {"p": 6.0},
        0.01,
        failures=((0.0, "ConvergenceError"), (0.001, "implausible parameters")),
        fitter=object(),
    )
    assert report.fit_note(retried) == (
        "The unpenalised Gamma-Gamma fit failed (penalizer 0: ConvergenceError; "
        "penalizer 0.001: implausible parameters); refitted with a penalizer of 0.01, which "
        "shrinks the parameters slightly."
    )
    failed = clv.ModelFit("pareto_nbd", {}, float("nan"), failures=((0.0, "ValueError"),))
    assert report.fit_note(failed) == (
        "The Pareto/NBD model could not be fitted (penalizer 0: ValueError)."
    )


def test_holdout_reason_and_summary():
    check = holdout()
    assert "holdout error" in report.holdout_reason(check)
    assert report.holdout_reason(check) == (
        "BG/NBD has the lower holdout error per customer (0.100 against 0.200 for Pareto/NBD)"
    )
    only = holdout(pareto_mae_per_customer=float("nan"))
    assert report.holdout_reason(only) == "only BG/NBD could be fitted"
    pareto = holdout(model_selected="pareto_nbd", pareto_mae_per_customer=0.05)
    assert report.holdout_reason(pareto).startswith("Pareto/NBD has the lower holdout error")
    orders, people = tiny_unit()
    analysis = clv.analyse(orders, people, period=parse_period("2026-Q3"), **CLV_SETTINGS)
    with_check = replace(analysis, holdout=check)
    assert report.holdout_summary(with_check) == (
        "Calibrated to 2026-04-01, BG/NBD predicted 1,050 repeat purchases in the following "
        "26 weeks; customers made 1,000 (mean absolute error 0.10 purchases per customer; "
        "Pareto/NBD 0.20). BG/NBD has the lower holdout error per customer (0.100 against "
        "0.200 for Pareto/NBD), so CLV uses it."
    )
    found = report.key_findings(with_check)
    assert (
        "Tested on the last 26 weeks it did not see, the model predicted 1,050 repeat "
        "purchases against 1,000 actual (5.0% off): it fits well. BG/NBD has the lower "
        "holdout error per customer (0.100 against 0.200 for Pareto/NBD)." in found
    )
    assert report.results(with_check)["holdout"]["calibration_end"] == "2026-04-01"


def test_top_customers_by_salted_pseudonym_only():
    orders, people = tiny_unit()
    analysis = clv.analyse(orders, people, period=parse_period("2026-Q3"), **CLV_SETTINGS)
    values = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "p_alive": [0.9, 0.5, 0.1],
            "expected_purchases": [3.0, 1.0, 0.2],
            "expected_order_value": [10.0, 10.0, 10.0],
            "clv": [30.0, 10.0, 2.0],
        }
    )
    valued = replace(analysis, values=values)
    top = report.top_customers(valued, n=2, salt="east")
    # the same pseudonym as before the move: "C-" and 8 hex of sha256("<salt>:<id>")
    expected = ["C-" + hashlib.sha256(f"east:{c}".encode()).hexdigest()[:8] for c in "ab"]
    assert top["customer"].tolist() == expected
    assert top["clv"].tolist() == [30.0, 10.0]
    assert not top.isin(["a", "b"]).any().any()


def test_parameter_table_uses_published_model_names():
    orders, people = tiny_unit()
    analysis = clv.analyse(orders, people, period=parse_period("2026-Q3"), **CLV_SETTINGS)
    fitted = replace(
        analysis,
        bgnbd=clv.ModelFit("bgnbd", {"r": 0.25, "alpha": 4.4}),
        gamma_gamma=clv.ModelFit("gamma_gamma", {"p": 6.25}),
    )
    table = report.parameter_table(fitted)
    assert table.values.tolist() == [
        ["BG/NBD", "r", 0.25],
        ["BG/NBD", "alpha", 4.4],
        ["Gamma-Gamma", "p", 6.25],
    ]


def test_key_findings_name_channels_and_the_spend_assumption():
    orders, people = tiny_unit()
    analysis = clv.analyse(orders, people, period=parse_period("2026-Q3"), **CLV_SETTINGS)
    table = pd.DataFrame(
        {"acquisition_channel": ["web", "store", "ads"], "ltv_cac": [4.04, 0.5, np.nan]}
    )
    values = pd.DataFrame({"customer_id": ["a", "b"], "clv": [1500.0, 500.0]})
    found = report.key_findings(
        replace(
            analysis,
            ltv_cac=table,
            values=values,
            mean_clv=1000.0,
            mean_clv_ci=(800.0, 1200.5),
            total_clv=2000.0,
            frequency_spend_correlation=0.45,
            gamma_gamma=clv.ModelFit("gamma_gamma", {"p": 6.25}, fitter=object()),
        ),
        currency="CNY",
    )
    assert found[:3] == [
        "Expected value over the next 12 months: 1,000 CNY per customer (95% interval 800–"
        "1,200), 2,000 CNY for all 2 customers who have bought.",
        "Best acquisition channel: web (LTV:CAC 4.0); weakest: store (0.5).",
        "Gamma-Gamma assumes order value does not depend on purchase frequency; here they "
        "correlate at 0.45, so predicted spend of frequent buyers is likely understated.",
    ]
    results = report.results(replace(analysis, ltv_cac=table))
    assert results["ltv_cac"]["web"] == pytest.approx(4.04)


def valued(**changes) -> clv.CLVAnalysis:
    """The tiny unit's analysis with predicted values, as if the models had been fitted."""
    orders, people = tiny_unit()
    analysis = clv.analyse(orders, people, period=parse_period("2026-Q3"), **CLV_SETTINGS)
    values = pd.DataFrame({"customer_id": ["a", "b", "c"], "clv": [30.0, 10.0, 2.0]})
    return replace(analysis, values=values, **changes)


def ltv_table(cac: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "acquisition_channel": ["web", "store"],
            "customers": [2, 1],
            "ltv": [20.0, 2.0],
            "cac": cac,
            "ltv_cac": [20.0 / c for c in cac],
            "payback_months": [c / (20.0 / 12) for c in cac],
        }
    )


def test_acquisition_sentences_name_what_is_missing():
    no_channel = valued(missing=("customers.acquisition_channel",), ltv_cac=None, by_channel=None)
    skipped = (
        "Skipped: no `acquisition_channel` on customers, so value by channel and LTV:CAC "
        "cannot be computed."
    )
    assert report.acquisition_note(no_channel) == skipped
    assert report.channel_note(no_channel) == (
        "Value by channel skipped: no `acquisition_channel` on customers."
    )
    assert report.notes(no_channel)[-1] == (
        "Acquisition economics skipped: no `acquisition_channel` on customers, so value by "
        "channel and LTV:CAC cannot be computed."
    )
    no_cost = valued(missing=("customers.acquisition_cost", "costs"), ltv_cac=None)
    assert report.acquisition_note(no_cost) == (
        "LTV:CAC skipped: no acquisition cost is known: customers carry no `acquisition_cost`, "
        "and there is no `costs` table."
    )
    assert report.notes(no_cost)[-1] == report.acquisition_note(no_cost)
    no_spend_channel = valued(missing=("customers.acquisition_cost", "costs.channel"), ltv_cac=None)
    assert report.acquisition_note(no_spend_channel).endswith(
        "and `costs` has no `channel` column."
    )
    own = valued(missing=("costs",), ltv_cac=ltv_table([10.0, 1.0]))
    assert report.acquisition_note(own) == (
        "CAC is the mean `acquisition_cost` of each channel's customers (there is no `costs` "
        "table to fill gaps)."
    )
    assert report.notes(own) == report.notes(valued(ltv_cac=ltv_table([10.0, 1.0])))
    both = valued(missing=(), ltv_cac=ltv_table([10.0, float("nan")]))
    assert report.acquisition_note(both) == (
        "CAC is the mean `acquisition_cost` of each channel's customers; where they carry "
        "none, the channel's acquisition spend in `costs` divided by its new customers. No "
        "acquisition cost is known for store."
    )
    spend = valued(missing=("customers.acquisition_cost",), ltv_cac=ltv_table([10.0, 1.0]))
    assert report.acquisition_note(spend) == (
        "CAC is each channel's acquisition spend in `costs` divided by its new customers "
        "(customers carry no `acquisition_cost`)."
    )
    assert report.channel_note(valued()) == ""


def test_prediction_note_names_the_model_that_failed():
    fitted = clv.ModelFit("bgnbd", {"r": 0.2}, fitter=object())
    orders, people = tiny_unit()
    analysis = clv.analyse(orders, people, period=parse_period("2026-Q3"), **CLV_SETTINGS)
    assert report.prediction_note(replace(analysis, bgnbd=fitted)) == (
        "Predicted CLV skipped: the spend model (Gamma-Gamma) could not be fitted on this unit."
    )
    spend = clv.ModelFit("gamma_gamma", {"p": 1.0}, fitter=object())
    assert report.prediction_note(replace(analysis, gamma_gamma=spend)) == (
        "Predicted CLV skipped: no purchase model (BG/NBD or Pareto/NBD) could be fitted on "
        "this unit."
    )
    assert report.prediction_note(valued()) == ""


def test_ltv_cac_view_leaves_a_payback_never_reached_blank():
    table = ltv_table([10.0, 1.0]).assign(
        ltv=[20.0, 0.0], ltv_cac=[2.0, 0.0], payback_months=[6.0, np.inf]
    )
    view = report.ltv_cac_view(valued(ltv_cac=table))
    assert view["payback_months"].tolist()[0] == 6.0 and np.isnan(view["payback_months"][1])
    assert np.isinf(table["payback_months"][1])  # the analysis itself is left alone
    assert report.ltv_cac_view(valued(ltv_cac=None)).empty


def test_key_findings_one_channel_and_an_unfitted_spend_model():
    table = ltv_table([10.0, float("nan")])
    found = report.key_findings(valued(ltv_cac=table, frequency_spend_correlation=0.9))
    assert "The one acquisition channel with a known cost: web (LTV:CAC 2.0)." in found
    # Gamma-Gamma was not fitted here: its assumption is not worth a sentence
    assert not any("Gamma-Gamma assumes" in f for f in found)
