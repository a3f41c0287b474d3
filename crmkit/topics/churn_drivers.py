"""The churn report's drivers, model and customers at risk in words and reading tables.

Numbers come from :func:`crmkit.metrics.churn_drivers.drivers_analysis` and
:func:`crmkit.metrics.churn_risk.risk_analysis`; nothing here computes a statistic. Words come
from the catalogue ``present/words/churn_drivers.yaml``. Drivers are said to be *associated
with* churn, never to cause it; a weak model is said to be weak; customer ids reach a reader
only as pseudonyms (:func:`crmkit.present.format.pseudonym`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmkit.metrics.churn_drivers import (
    MIN_BACKTEST_CHURNS,
    MIN_GROUP,
    MIN_MODEL_CHURNS,
    ChurnDrivers,
)
from crmkit.metrics.churn_risk import ChurnRisk
from crmkit.present.format import money, num, pct, pseudonym
from crmkit.present.language import term, words
from crmkit.present.plots.churn_drivers import (
    driver_name,
    feature_name,
    feature_value,
    value_name,
)

NAMED = 3
"""Drivers named in the finding."""

MIN_IMPACT = 0.001
"""Smallest change in churn risk per SD (a tenth of a point) for a driver to be named."""


def _w(key: str, /, **values) -> str:
    return words(f"churn_drivers.{key}", **values)


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return _w("list_separator").join(names[:-1]) + _w("last_separator") + names[-1]


def _number(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _row(drivers: ChurnDrivers, term: str) -> pd.Series:
    return drivers.coefficients.set_index("term").loc[term]


def driver_label(drivers: ChurnDrivers, term: str) -> str:
    """A model term (``complaints_90d``, ``latest_nps:missing``, ``region=South``) for
    reading, from the model's own table of terms."""
    row = _row(drivers, term)
    return driver_name(row["feature"], row["kind"], row["level"])


def direction_words(kind: str, direction: str) -> str:
    """ "higher, more churn" for a number that goes with more churn; "more churn" for a group
    (a category's value, a missing record) whose members churn more."""
    shape = "number" if kind == "number" else "group"
    return _w(f"{'raises' if direction == 'raises' else 'lowers'}_{shape}")


def named_drivers(drivers: ChurnDrivers, most: int = NAMED) -> list[str]:
    """The strongest drivers worth naming: non-zero, at least :data:`MIN_IMPACT`."""
    table = drivers.coefficients
    strong = table.loc[table["driver"] & (table["retention_impact"].abs() >= MIN_IMPACT)]
    return list(strong["term"].head(most))


COHORT_PANELS = 6  # metric-cohort panels drawn: two rows of three
CATEGORY_CHARTS = 2  # customer attributes drawn as cohorts


def cohort_features(drivers: ChurnDrivers, most: int = COHORT_PANELS) -> list[str]:
    """The number features drawn as metric cohorts: those of the model's drivers first
    (strongest first), then the other behaviour features in their order; at most ``most``."""
    drawn = set(drivers.cohorts["feature"]) if len(drivers.cohorts) else set()
    table = drivers.coefficients
    ranked = [f for f in table.loc[table["driver"], "feature"] if f in drawn]
    behaviour = [f for f in drivers.features if f in drawn]
    return list(dict.fromkeys(ranked + behaviour + sorted(drawn)))[:most]


def category_features(drivers: ChurnDrivers, most: int = CATEGORY_CHARTS) -> list[str]:
    """The customer attributes drawn as cohorts: those with a value among the drivers the
    report names (:func:`named_drivers`), strongest first; at most ``most``."""
    drawn = set(drivers.categories["feature"]) if len(drivers.categories) else set()
    table = drivers.coefficients.set_index("term")
    named = [t for t in named_drivers(drivers) if table.loc[t, "kind"] == "category"]
    return list(
        dict.fromkeys(table.loc[t, "feature"] for t in named if table.loc[t, "feature"] in drawn)
    )[:most]


# ----------------------------------------------------------------------------- sentences


def _too_few(drivers: ChurnDrivers, part: str) -> str:
    """Why ``part`` (``drivers`` or ``model``) is missing: no customer at the start, none of
    them churned, or too few churned."""
    if not drivers.customers:
        return _w(f"{part}_no_customers")
    if not drivers.churned:
        return _w(f"{part}_no_churn", customers=num(drivers.customers))
    return _w(
        f"{part}_too_few",
        churned=num(drivers.churned),
        customers=num(drivers.customers),
        needed=num(MIN_MODEL_CHURNS),
    )


def drivers_sentence(drivers: ChurnDrivers) -> str:
    """The strongest drivers of the period, each with the way it goes, as associations."""
    if drivers.model is None:
        return _too_few(drivers, "drivers")
    terms = named_drivers(drivers)
    if not terms:
        return _w("drivers_none_stand_out")
    named = []
    for t in terms:
        row = _row(drivers, t)
        named.append(
            _w(
                "driver_with_direction",
                name=driver_label(drivers, t),
                direction=direction_words(row["kind"], row["direction"]),
            )
        )
    return _w("drivers_finding", drivers=_join(named))


def inactivity_note(drivers: ChurnDrivers) -> str | None:
    """Where churn is inferred from inactivity, days since the last purchase decide it by
    definition (a customer silent long enough at the start churns unless they order), so the
    model's strength and that driver say little; None where churn is recorded."""
    if drivers.definition.kind != "inactivity":
        return None
    days = num(drivers.definition.inactivity_days)
    return _w("inactivity_note", days=days, recency=term("recency_days"))


def silent_note(drivers: ChurnDrivers) -> str | None:
    """Where churn is recorded and the model links a longer silence to *less* churn, the
    longest-silent customers rarely cancel: some may have left without telling us. Says so;
    None otherwise."""
    if drivers.definition.kind != "events" or drivers.model is None:
        return None
    table = drivers.coefficients.set_index("term")
    if "recency_days" not in table.index or table.loc["recency_days", "direction"] != "lowers":
        return None
    return _w("silent_note", recency=term("recency_days"))


def cohort_sentence(drivers: ChurnDrivers) -> str | None:
    """The strongest number driver's cohorts in one sentence: the churn rate at the risky
    end of the feature (its highest cohort for a driver that raises churn, its lowest for one
    that lowers it) against the other end; None without such a driver or with one cohort."""
    table = drivers.coefficients
    numbers = table.loc[table["driver"] & (table["kind"] == "number")]
    if numbers.empty:
        return None
    top = numbers.iloc[0]
    cohorts = drivers.cohorts.loc[(drivers.cohorts["feature"] == top["feature"])]
    cohorts = cohorts.loc[~cohorts["missing"]]
    if len(cohorts) < 2:
        return None
    raises = top["direction"] == "raises"
    ends = (cohorts.iloc[-1], cohorts.iloc[0])
    risky, other = ends if raises else ends[::-1]
    bound = risky["low"] if raises else risky["high"]
    return _w(
        "cohort_finding_high" if raises else "cohort_finding_low",
        name=feature_name(top["feature"]),
        value=feature_value(top["feature"], bound),
        rate=pct(risky["churn_rate"]),
        low=pct(risky["churn_low"]),
        high=pct(risky["churn_high"]),
        base=pct(other["churn_rate"]),
    )


def _quality(auc: float) -> str:
    return _w(
        "quality_strong" if auc >= 0.8 else "quality_fair" if auc >= 0.7 else "quality_modest"
    )


def model_sentence(drivers: ChurnDrivers) -> str:
    """How well the model told leavers from stayers, how it was tested (backtest or
    cross-validation, said plainly) and, for a weak model (AUC under 0.6 or its interval
    holding 0.5), that its scores are not to be relied on."""
    e = drivers.evaluation
    if e.method == "too few churns":
        return _too_few(drivers, "model")
    method = "backtest" if e.method == "backtest" else "cross_validation"
    figures = {"auc": num(e.auc.value, 2), "low": num(e.auc.low, 2), "high": num(e.auc.high, 2)}
    if e.weak:
        return _w("model_weak", test=_w(f"weak_{method}"), **figures)
    return _w(
        f"model_{method}",
        quality=_quality(e.auc.value),
        lift=num(e.top_decile_lift, 1),
        **figures,
    )


def calibration_sentence(drivers: ChurnDrivers) -> str | None:
    """Predicted against observed churn of the riskiest tenth; None without a model."""
    table = drivers.evaluation.calibration
    if table.empty:
        return None
    last = table.iloc[-1]
    return _w(
        "calibration_finding",
        predicted=pct(last["predicted"]),
        observed=pct(last["observed"]),
        low=pct(last["observed_low"]),
        high=pct(last["observed_high"]),
    )


def value_at_risk_sentence(risk: ChurnRisk, *, currency: str = "") -> str:
    """The customers active at the period end, how many are expected to leave within a
    period's length, and the value at risk with what it is counted in."""
    if risk.state == "no model":
        return _w("at_risk_no_model")
    if risk.state == "no active customers":
        return _w("at_risk_no_customers")
    found = _w(
        "value_at_risk_finding",
        active=num(risk.active),
        expected=num(risk.expected_churn),
        days=num(risk.horizon_days),
        value=money(risk.value_at_risk, currency),
        basis=_w(f"basis_{risk.value_basis}"),
    )
    if risk.without_value:
        if risk.without_value == 1:
            note = _w("without_value_note_one")
        else:
            note = _w("without_value_note", n=num(risk.without_value))
        found = _w("two_sentences", first=found, second=note)
    return found


def at_risk_sentence(risk: ChurnRisk) -> str | None:
    """The listed customers' share of the value at risk; None without a list."""
    listed = risk.at_risk
    if listed.empty or not risk.value_at_risk:
        return None
    share = float(np.nansum(listed["priority"])) / risk.value_at_risk
    return _w("at_risk_finding", n=num(len(listed)), share=pct(share))


def methods(drivers: ChurnDrivers) -> list[str]:
    """The analyst notes' paragraphs: features, cohorts, the models, the evaluation."""
    found = [_w("features_method"), _w("cohorts_method", min_group=num(MIN_GROUP))]
    if drivers.model is not None:
        sampled = ""
        if drivers.fit_rows < drivers.customers:
            sampled = _w("sampled_note", customers=num(drivers.customers))
        found.append(_w("model_method", rows=num(drivers.fit_rows), sampled=sampled))
        boosting = drivers.evaluation.boosting_auc
        found.append(
            _w(
                "evaluation_method",
                needed=num(MIN_BACKTEST_CHURNS),
                boosting_auc=num(boosting, 2) if math.isfinite(boosting) else num(None),
            )
        )
    return found


# ----------------------------------------------------------------------------- tables


def drivers_view(drivers: ChurnDrivers, *, top: int = 10) -> pd.DataFrame:
    """The model's drivers for reading, strongest first: ``churn_driver, driver_direction,
    retention_impact`` (change in churn probability per +1 SD, in percentage points, as the
    drivers chart draws it), ``permutation_importance``."""
    table = drivers.coefficients
    kept = table.loc[table["driver"]].head(top)
    return pd.DataFrame(
        {
            "churn_driver": [driver_label(drivers, t) for t in kept["term"]],
            "driver_direction": [
                direction_words(k, d) for k, d in zip(kept["kind"], kept["direction"], strict=True)
            ],
            "retention_impact": kept["retention_impact"].to_numpy(float) * 100,
            "permutation_importance": kept["permutation_importance"].to_numpy(float),
        }
    )


def categories_view(drivers: ChurnDrivers, *, feature: str) -> pd.DataFrame:
    """One customer attribute's churn rates for reading: ``churn_driver`` (the value),
    ``customers``, ``observed_churn`` and its interval in words ``observed_churn_ci``."""
    rows = drivers.categories.loc[drivers.categories["feature"] == feature]
    return pd.DataFrame(
        {
            "churn_driver": [value_name(v) for v in rows["value"]],
            "customers": rows["customers"].to_numpy(),
            "observed_churn": rows["churn_rate"].to_numpy(float),
            "observed_churn_ci": [
                f"{pct(lo)}–{pct(hi)}"
                for lo, hi in zip(rows["churn_low"], rows["churn_high"], strict=True)
            ],
        }
    )


def reasons_words(reasons: tuple, values: tuple) -> str:
    """The features raising one customer's risk, with the customer's values ("complaints in
    the last 90 days: 2; plan: pro")."""
    parts = [
        _w("driver_level", name=feature_name(f), value=feature_value(f, v))
        for f, v in zip(reasons, values, strict=True)
    ]
    return _w("reason_separator").join(parts)


def at_risk_view(risk: ChurnRisk, *, salt: str = "") -> pd.DataFrame:
    """The customers most worth keeping, riskiest value first, by pseudonymous id only
    (salted with ``salt``: reports use the unit id): ``customer_pseudonym, churn_risk,
    expected_value, risk_reasons``."""
    listed = risk.at_risk
    return pd.DataFrame(
        {
            "customer_pseudonym": [
                pseudonym(c, salt=salt, prefix="C") for c in listed["customer_id"]
            ],
            "churn_risk": listed["churn_risk"].to_numpy(float),
            "expected_value": listed["expected_value"].to_numpy(float),
            "risk_reasons": [
                reasons_words(r, v)
                for r, v in zip(listed["reasons"], listed["reason_values"], strict=True)
            ],
        }
    )


def results_part(drivers: ChurnDrivers, risk: ChurnRisk) -> dict:
    """The registry's results keys this part owns: ``top_drivers`` (model terms, strongest
    first), ``model_auc`` and ``model_auc_ci`` (out of sample), ``top_decile_lift``,
    ``at_risk_customers`` (how many are listed) and ``value_at_risk``."""
    auc = drivers.evaluation.auc
    interval = [_number(auc.low), _number(auc.high)]
    return {
        "top_drivers": list(drivers.top_drivers),
        "model_auc": _number(auc.value),
        "model_auc_ci": interval if None not in interval else None,
        "top_decile_lift": _number(drivers.evaluation.top_decile_lift),
        "at_risk_customers": len(risk.at_risk),
        "value_at_risk": _number(risk.value_at_risk),
    }
