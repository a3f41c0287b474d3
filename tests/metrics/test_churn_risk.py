import math

import numpy as np
import pandas as pd
import pytest
from test_churn_drivers import analyse, planted

from crmkit.core.errors import ParameterError
from crmkit.metrics.churn_risk import (
    auc_interval,
    calibration,
    fit_churn_model,
    risk_analysis,
    top_decile_lift,
)
from crmkit.metrics.stats import wilson_interval


@pytest.fixture(scope="module")
def world():
    tables = planted(2000, seed=7)
    return tables, analyse(tables)


# ----------------------------------------------------------------------------- judging scores


def test_auc_and_its_delong_interval_by_hand():
    # churned score 0.35 and 0.8, kept 0.1 and 0.4: 3 of the 4 pairs in order, AUC 3/4.
    # V10 (kept below each churned one) = 1/2, 2/2; V01 (churned above each kept one) =
    # 2/2, 1/2; Var = s²(V10)/2 + s²(V01)/2 = 0.125/2 + 0.125/2 = 0.125.
    auc = auc_interval([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    assert auc.value == 0.75
    assert auc.se == pytest.approx(math.sqrt(0.125))
    assert auc.low == pytest.approx(0.75 - 1.959964 * math.sqrt(0.125))
    assert auc.high == 1.0  # clipped
    tie = auc_interval([0.5, 0.5, 0.2], [True, False, False])  # a tie counts half
    assert tie.value == pytest.approx(0.75)


def test_delong_against_the_pairwise_definition():
    rng = np.random.default_rng(0)
    y = rng.random(60) < 0.3
    s = np.round(rng.random(60) + 0.4 * y, 1)  # rounded: many ties
    pos, neg = s[y], s[~y]
    kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = kernel.mean(axis=1), kernel.mean(axis=0)
    variance = v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)
    auc = auc_interval(s, y)
    assert auc.value == pytest.approx(kernel.mean())
    assert auc.se == pytest.approx(math.sqrt(variance))


def test_auc_without_both_outcomes_is_missing():
    assert np.isnan(auc_interval([0.1, 0.2], [True, True]).value)


def test_top_decile_lift_by_hand():
    scores = np.linspace(1, 0, 20)  # the first two are the riskiest tenth
    churned = np.zeros(20, dtype=bool)
    churned[[0, 1, 7, 15]] = True
    # both of the riskiest two churned (100%) against 4 of 20 (20%) overall
    assert top_decile_lift(scores, churned) == pytest.approx(5.0)
    assert top_decile_lift(scores[:11], churned[:11]) == pytest.approx((2 / 2) / (3 / 11))
    assert np.isnan(top_decile_lift(scores, np.zeros(20, dtype=bool)))


def test_calibration_by_hand():
    scores = np.array([0.05, 0.1, 0.15, 0.2, 0.3, 0.35, 0.6, 0.7, 0.8, 0.9])
    churned = np.array([0, 0, 0, 1, 0, 0, 1, 0, 1, 1], dtype=bool)
    table = calibration(scores, churned, bins=5)
    assert table["customers"].tolist() == [2] * 5
    assert table["predicted"].tolist() == pytest.approx([0.075, 0.175, 0.325, 0.65, 0.85])
    assert table["observed"].tolist() == [0, 0.5, 0, 0.5, 1]
    assert table.loc[4, "observed_low"] == pytest.approx(wilson_interval(2, 2).low)
    assert len(calibration(scores[:3], churned[:3])) == 3  # fewer customers than deciles


# ----------------------------------------------------------------------------- the model


def test_model_standardises_and_its_impact_is_the_change_at_the_mean(world):
    _, found = world
    model = found.model
    x = model.design(found.training)
    if model.rows == len(found.training):  # fitted on everyone: columns centred exactly
        assert np.abs(x.mean(axis=0)).max() < 1e-9
    k = model.terms.index("complaints_90d")
    expected = 1 / (1 + np.exp(-(model.intercept + model.coef[k]))) - 1 / (
        1 + np.exp(-model.intercept)
    )
    assert model.retention_impact()[k] == pytest.approx(expected)
    # liblinear's intercept is barely penalised: the mean prediction is the churn rate
    assert model.predict(found.training).mean() == pytest.approx(found.churn_rate, abs=0.01)


def test_models_fit_on_a_stratified_sample_beyond_max_rows(world):
    _, found = world
    model = fit_churn_model(
        found.training, numeric=["complaints_90d"], categorical=["plan"], max_rows=500
    )
    assert model.rows == 500
    assert model.terms[0] == "complaints_90d" and model.coef[0] > 0
    assert sorted(model.terms[1:]) == ["plan=basic", "plan=pro"]  # each value its own column
    from crmkit.metrics.churn_risk import stratified_sample

    y = found.training["churned"].to_numpy()
    sample = stratified_sample(y, size=500, rng=np.random.default_rng(0))
    assert len(sample) == 500 and y[sample].sum() == round(y.sum() * 500 / len(y))


def test_fitting_without_both_outcomes_is_refused(world):
    _, found = world
    kept = found.training.assign(churned=False)
    with pytest.raises(ParameterError, match="needs churned and kept customers"):
        fit_churn_model(kept, numeric=["complaints_90d"], categorical=[])
    with pytest.raises(ParameterError, match="'churned' column"):
        fit_churn_model(kept.drop(columns="churned"), numeric=[], categorical=[])


# ----------------------------------------------------------------------------- at risk


def test_customers_at_risk_by_trailing_revenue(world):
    tables, found = world
    risk = risk_analysis(found, top=10)
    assert risk.value_basis == "trailing_revenue" and risk.state is None
    scores = risk.scores
    assert risk.active == len(found.current) == len(scores)
    assert scores["priority"].to_numpy() == pytest.approx(
        (scores["churn_risk"] * scores["expected_value"]).to_numpy()
    )
    assert scores["priority"].is_monotonic_decreasing
    assert risk.value_at_risk == pytest.approx(scores["priority"].sum())
    assert risk.expected_churn == pytest.approx(scores["churn_risk"].sum())
    # trailing revenue by hand for the first listed customer: 1 Oct 2025 – 30 Sep 2026
    first = risk.at_risk.iloc[0]
    orders = tables["transactions"]
    mine = orders.loc[
        (orders["customer_id"] == first["customer_id"])
        & orders["order_date"].between("2025-10-01", "2026-09-30 23:59")
    ]
    assert first["expected_value"] == pytest.approx(mine["amount"].sum())
    assert len(risk.at_risk) == 10


def test_complainers_lead_the_list_and_their_complaints_are_named(world):
    _, found = world
    risk = risk_analysis(found, top=20)
    current = found.current.set_index("customer_id")
    listed = risk.at_risk
    complained = current.loc[listed["customer_id"], "complaints_90d"].to_numpy() > 0
    assert complained.mean() > 0.8  # the planted risk
    for reasons, values, had in zip(
        listed["reasons"], listed["reason_values"], complained, strict=True
    ):
        assert 1 <= len(reasons) <= 3 and len(values) == len(reasons)
        if had:
            assert reasons[0] == "complaints_90d" and values[0] >= 1
    everyone = risk.scores.set_index("customer_id")["churn_risk"]
    by_complaint = everyone.groupby(current.loc[everyone.index, "complaints_90d"] > 0).mean()
    assert by_complaint[True] > by_complaint[False] + 0.2


def test_a_given_value_is_used_and_customers_without_one_counted(world):
    _, found = world
    ids = found.current["customer_id"]
    value = pd.Series(100.0, index=ids.iloc[1:].to_numpy())  # the first has no value
    risk = risk_analysis(found, value=value, top=5)
    assert risk.value_basis == "clv" and risk.without_value == 1
    scores = risk.scores.set_index("customer_id")
    assert np.isnan(scores.loc[ids.iloc[0], "priority"])
    assert risk.value_at_risk == pytest.approx(100 * scores["churn_risk"].drop(ids.iloc[0]).sum())
    assert scores["priority"].iloc[-1] != scores["priority"].iloc[-1]  # the missing one last


def test_no_model_no_scores_and_a_negative_top_is_refused(world):
    _, found = world
    none = risk_analysis(analyse(planted(150, base=0.0, lift=0.05, seed=9)))
    assert none.state == "no model" and none.scores.empty and np.isnan(none.value_at_risk)
    with pytest.raises(ParameterError, match="top >= 0"):
        risk_analysis(found, top=-1)
    twice = pd.Series([1.0, 2.0], index=["C00001", "C00001"])
    with pytest.raises(ParameterError, match=r"one value per customer_id; \['C00001'\]"):
        risk_analysis(found, value=twice)


def _design_by_comparing_every_row(model, features):
    """ChurnModel.design as first written: each row's category compared with every level."""
    from crmkit.metrics.churn_risk import OTHER_VALUE, _categories

    columns, names = [], []
    for name, median in zip(model.numeric, model.medians, strict=True):
        values = pd.to_numeric(features[name], errors="coerce").to_numpy(float)
        missing = np.isnan(values)
        columns.append(np.where(missing, median, values))
        names.append(name)
        if name in model.indicators:
            columns.append(missing.astype(float))
            names.append(f"{name}:missing")
    for name, levels in model.levels.items():
        values = _categories(features[name])
        values = values.where(values.isin(levels), OTHER_VALUE).to_numpy()
        for level in levels:
            columns.append((values == level).astype(float))
            names.append(f"{name}={level}")
    raw = np.column_stack(columns)
    keep = [names.index(t) for t in model.terms]
    return (raw[:, keep] - model.mean) / model.scale


def test_design_equals_comparing_every_row_with_every_level(world):
    _, found = world
    training = found.training.copy()
    rng = np.random.default_rng(5)
    rare = rng.random(len(training)) < 0.005  # a handful: merged into "other"
    training.loc[rare, "region"] = "Rare"
    training.loc[rng.random(len(training)) < 0.05, "region"] = None  # "(none)"
    numeric = ["complaints_90d", "tenure_months"]
    model = fit_churn_model(training, numeric=numeric, categorical=["region", "plan"], C=0.1)
    assert "region=other" in model.terms and "region=(none)" in model.terms
    unseen = training.assign(region=training["region"].where(~rare, "Never seen"))
    for features in (training, unseen, training.iloc[:0]):
        found_design = model.design(features)
        if len(features):
            np.testing.assert_array_equal(
                found_design, _design_by_comparing_every_row(model, features)
            )
        else:
            assert found_design.shape == (0, len(model.terms))


def test_a_model_fitted_on_fit_rows_matches_the_fit_on_every_row():
    # FIT_ROWS' stated tolerance, on 200,000 customers with planted coefficients per SD
    from crmkit.metrics.churn_risk import FIT_ROWS

    rng = np.random.default_rng(11)
    n = 200_000
    x = rng.normal(size=(n, 4))
    plan = rng.choice(["basic", "pro", "team"], size=n, p=[0.6, 0.3, 0.1])
    planted_coef = np.array([0.8, -0.5, 0.3, 0.0])
    logit = -2.0 + x @ planted_coef + 0.4 * (plan == "team")
    training = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(
        plan=plan, churned=rng.random(n) < 1 / (1 + np.exp(-logit))
    )
    options = {"numeric": ["a", "b", "c", "d"], "categorical": ["plan"], "C": 0.1}
    every = fit_churn_model(training, max_rows=n, **options)
    sampled = fit_churn_model(training, **options)
    assert sampled.rows == FIT_ROWS and every.rows == n and sampled.terms == every.terms
    # coefficients per SD: within 0.06 of the full fit (about 4 standard errors at 50k rows)
    assert np.abs(sampled.coef - every.coef).max() < 0.06
    assert np.abs(sampled.coef[:4] - planted_coef).max() < 0.08
    p_every, p_sampled = every.predict(training), sampled.predict(training)
    y = training["churned"].to_numpy()
    assert abs(auc_interval(p_sampled, y).value - auc_interval(p_every, y).value) < 0.002
    assert np.abs(p_sampled - p_every).mean() < 0.01
    assert abs(p_sampled.mean() - y.mean()) < 0.005  # the churn rate is kept


def test_the_penalty_search_at_its_looser_tolerance_loses_and_chooses_as_at_liblinears_own(
    monkeypatch,
):
    # SEARCH_TOLERANCE's stated claim, on planted data: 4 real and 40 noise features, where
    # the weak penalties (the slow fits) are close to the best.
    from crmkit.metrics import churn_risk

    rng = np.random.default_rng(5)
    x = rng.normal(size=(30_000, 44))
    logit = -2.0 + x[:, :4] @ np.array([0.8, -0.5, 0.3, 0.15])
    y = rng.random(len(x)) < 1 / (1 + np.exp(-logit))
    searched, chosen = churn_risk.search_losses(x, y), churn_risk.choose_c(x, y)
    monkeypatch.setattr(churn_risk, "SEARCH_TOLERANCE", 1e-4)
    exact = churn_risk.search_losses(x, y)
    assert np.abs(searched - exact).max() < 3e-4  # of summed losses near 1.1
    assert chosen == churn_risk.choose_c(x, y) == churn_risk.C_GRID[int(np.argmin(exact))]
    assert chosen in churn_risk.C_GRID[2:5]  # neither end of the grid: a real choice
