"""The CLV models on distinct purchase histories give lifetimes' answers on per-customer rows.

Stated tolerance: fitted parameters within a relative 1e-4 of lifetimes' fit on one row per
customer (both optimisers stop at about that precision); forecasts per customer, which use the
same formulas, within a relative 1e-9.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_clv import cdnow_transactions

import crmkit.metrics.clv as clv
from crmkit.metrics import clv_histories as ch
from crmkit.metrics.clv_models import _lifetimes_sandbox

PARAMETER_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return clv.rfm_summary(cdnow_transactions(), observation_end="1997-09-30")


def simulated_base(n: int, seed: int = 7) -> pd.DataFrame:
    """A BG/NBD customer base (Fader, Hardie & Lee 2005a: Poisson purchases at a gamma rate,
    dropout after each with a beta probability) over 78 weeks, purchases on whole days as
    rfm_summary counts them, and gamma-gamma spend per repeat purchase."""
    rng = np.random.default_rng(seed)
    age = np.floor(rng.uniform(1, 78, n) * 7) / 7
    rate, dropout = rng.gamma(0.8, 1 / 6.0, n), rng.beta(0.7, 2.5, n)
    frequency, recency, clock = np.zeros(n, int), np.zeros(n), np.zeros(n)
    active = np.ones(n, bool)
    while active.any():
        who = np.flatnonzero(active)
        clock[who] += rng.exponential(1 / rate[who])
        bought = clock[who] < age[who]
        active[who[~bought]] = False
        buyers = who[bought]
        frequency[buyers] += 1
        recency[buyers] = np.floor(clock[buyers] * 7) / 7
        active[buyers[rng.random(len(buyers)) < dropout[buyers]]] = False
    spend_rate = rng.gamma(6.0, 1 / 20.0, n)
    monetary = np.where(
        frequency > 0, rng.gamma(4.0 * np.maximum(frequency, 1), 1) / spend_rate / 4, 0.0
    )
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in range(n)],
            "frequency": frequency,
            "recency": recency,
            "T": age,
            "monetary_value": np.round(monetary, 2),
        }
    )


def test_histories_group_customers_by_hand():
    summary = pd.DataFrame(
        {
            "frequency": [0, 2, 0, 2, 2],
            "recency": [0.0, 3.0, 0.0, 3.0, 1.0],
            "T": [5.0, 6.0, 5.0, 6.0, 6.0],
        }
    )
    grouped = ch.histories(summary)
    assert grouped.n_customers == 5 and len(grouped.frequency) == 3
    rows = {
        (int(x), r, t): int(w)
        for x, r, t, w in zip(
            grouped.frequency, grouped.recency, grouped.T, grouped.customers, strict=True
        )
    }
    assert rows == {(0, 0.0, 5.0): 2, (2, 3.0, 6.0): 2, (2, 1.0, 6.0): 1}
    back = grouped.per_customer(grouped.recency)
    assert back.tolist() == summary["recency"].tolist()
    assert len(grouped.age_pairs[0]) == 2 and len(grouped.recency_pairs[0]) == 3
    draw = grouped.thinned(3, random_state=1)
    assert draw.n_customers == 3 and np.all(draw.customers >= 1)


def test_forecasts_match_lifetimes_per_customer(cdnow_summary):
    summary = cdnow_summary
    grouped = ch.histories(summary)
    x, tx, age = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    with _lifetimes_sandbox() as lifetimes:
        references = {
            "bgnbd": lifetimes.BetaGeoFitter().fit(x, tx, age),
            "pareto_nbd": lifetimes.ParetoNBDFitter().fit(x, tx, age, initial_params=np.ones(4)),
        }
        for model, fitter in references.items():
            forecast = ch.forecast(model, fitter.params_.to_dict(), grouped)
            alive = fitter.conditional_probability_alive(x, tx, age)
            expected = fitter.conditional_expected_number_of_purchases_up_to_time(10.0, x, tx, age)
            assert grouped.per_customer(forecast.p_alive) == pytest.approx(alive, rel=1e-9)
            assert grouped.per_customer(forecast.expected(10.0)) == pytest.approx(
                expected, rel=1e-9
            )
            assert forecast.expected_total(10.0) == pytest.approx(expected.sum(), rel=1e-9)
        log_likelihood = references["pareto_nbd"]._conditional_log_likelihood(
            references["pareto_nbd"].params_.to_numpy(), x, tx, age
        )
    params = references["pareto_nbd"].params_.to_numpy()
    assert ch.pareto_log_likelihood(params, grouped) == pytest.approx(
        log_likelihood.sum(), rel=1e-12
    )


@pytest.mark.slow
def test_fits_on_histories_equal_lifetimes_fits_per_customer(monkeypatch):
    """15,000 simulated customers (above the warm start's draw of 10,000, so the fits take
    the large-base path): each parameter within a relative 1e-4 of lifetimes' fit on one row
    per customer, Pareto/NBD's reference run to a tolerance of 1e-9."""
    summary = simulated_base(15_000)
    grouped = ch.histories(summary)
    assert grouped.n_customers > ch.WARM_START_CUSTOMERS
    assert len(grouped.frequency) < 0.8 * len(summary)  # whole days: histories repeat
    x, tx, age = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    buyers = summary.loc[summary["frequency"] > 0]
    with _lifetimes_sandbox() as lifetimes:
        bgnbd = lifetimes.BetaGeoFitter().fit(x, tx, age).params_
        pareto = (
            lifetimes.ParetoNBDFitter()
            .fit(x, tx, age, initial_params=np.ones(4), tol=1e-9, maxiter=20000)
            .params_
        )
        spend = (
            lifetimes.GammaGammaFitter().fit(buyers["frequency"], buyers["monetary_value"]).params_
        )
    fits = {
        "bgnbd": clv.fit_purchase_model(summary, model="bgnbd"),
        "pareto_nbd": clv.fit_purchase_model(summary, model="pareto_nbd"),
        "gamma_gamma": clv.fit_spend_model(summary),
    }
    for name, reference in (("bgnbd", bgnbd), ("pareto_nbd", pareto), ("gamma_gamma", spend)):
        assert fits[name].ok and fits[name].penalizer == 0.0, name
        assert fits[name].params == pytest.approx(reference.to_dict(), rel=PARAMETER_TOLERANCE), (
            name
        )


def test_small_bases_search_as_lifetimes_does(cdnow_summary):
    """At or below the warm start's size the search is lifetimes' own: Nelder-Mead from all
    ones for Pareto/NBD, BFGS from 0.1 for BG/NBD; the published CDNOW estimates."""
    grouped = ch.histories(cdnow_summary)
    assert grouped.n_customers <= ch.WARM_START_CUSTOMERS
    assert ch.fit_pareto_nbd(grouped) == pytest.approx(
        {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}, abs=0.01
    )
    assert ch.fit_bgnbd(grouped) == pytest.approx(
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=0.002
    )


def test_the_warm_start_reaches_the_optimum_of_all_customers(cdnow_summary, monkeypatch):
    """With the draw made smaller than the base, Pareto/NBD and BG/NBD still end at the
    maximum of all customers' likelihood: the same estimates as the plain search, within
    the stated tolerance."""
    grouped = ch.histories(cdnow_summary)
    plain = {"pareto": ch.fit_pareto_nbd(grouped), "bgnbd": ch.fit_bgnbd(grouped)}
    monkeypatch.setattr(ch, "WARM_START_CUSTOMERS", 800)
    warm = {"pareto": ch.fit_pareto_nbd(grouped), "bgnbd": ch.fit_bgnbd(grouped)}
    assert warm["bgnbd"] == pytest.approx(plain["bgnbd"], rel=PARAMETER_TOLERANCE)
    # lifetimes' Nelder-Mead stops within about 1e-4; the warm start's Newton steps go on
    # to 1e-6, so the two agree to the plain search's precision
    assert warm["pareto"] == pytest.approx(plain["pareto"], rel=1e-3)
    scale = 1 / grouped.T.max()
    value = {
        name: ch._pareto_objective(
            [fit["r"], fit["alpha"] * scale, fit["s"], fit["beta"] * scale],
            grouped.scaled(scale),
            0.0,
        )
        for name, fit in (("plain", plain["pareto"]), ("warm", warm["pareto"]))
    }
    assert value["warm"] <= value["plain"] + 1e-12


def test_a_draw_bfgs_cannot_solve_starts_from_nelder_mead_to_the_same_optimum(
    cdnow_summary, monkeypatch
):
    grouped = ch.histories(cdnow_summary)
    monkeypatch.setattr(ch, "WARM_START_CUSTOMERS", 800)
    quick = ch.fit_pareto_nbd(grouped)
    searches = []
    real = ch.minimize

    def minimize(objective, start, **options):
        searches.append(options["method"])
        if options["method"] == "BFGS":  # as if it ended where the likelihood overflows
            return SimpleNamespace(fun=np.inf, x=np.full(4, np.nan))
        return real(objective, start, **options)

    monkeypatch.setattr(ch, "minimize", minimize)
    fallback = ch.fit_pareto_nbd(grouped)
    assert searches == ["BFGS", "Nelder-Mead"]  # then Newton on all customers
    assert fallback == pytest.approx(quick, rel=1e-6)


def test_mean_interval_above_the_bootstrap_limit_matches_the_bootstrap():
    """25,000 right-skewed values: the Cornish-Fisher interval is within 0.2 standard errors
    of a 4,000-resample percentile bootstrap at both ends (the bootstrap's own Monte-Carlo
    error there is about 0.04), and leans right as the bootstrap does."""
    rng = np.random.default_rng(3)
    values = rng.lognormal(3.0, 1.2, 25_000)
    assert len(values) > clv.BOOTSTRAP_LIMIT
    low, high = clv.mean_interval(values)
    boot = np.array([rng.choice(values, len(values)).mean() for _ in range(4000)])
    se = values.std() / np.sqrt(len(values))
    assert abs(low - np.percentile(boot, 2.5)) < 0.2 * se
    assert abs(high - np.percentile(boot, 97.5)) < 0.2 * se
    mean = values.mean()
    assert high - mean > mean - low
    assert clv.mean_interval(np.full(30_000, 5.0)) == (5.0, 5.0)
