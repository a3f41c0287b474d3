"""The CLV report's words and views: key findings, notes, the holdout in sentences, the
reading tables and the published results.

Numbers come from :mod:`crmkit.metrics.clv`; nothing here is computed that a test of the
statistics would need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.clv import (
    MIN_CUSTOMERS,
    MIN_REPEAT_BUYERS,
    CLVAnalysis,
    HoldoutCheck,
    ModelFit,
)
from crmkit.present.format import money, pct, pseudonym

MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}


def fit_note(fit: ModelFit) -> str:
    """What went wrong with a model fit and how it was handled; empty for a clean fit."""
    problems = "; ".join(
        f"penalizer {penalizer:g}: {problem}" for penalizer, problem in fit.failures
    )
    if fit.ok:
        if not fit.failures:
            return ""
        return (
            f"The unpenalised fit failed ({problems}); refitted with a penalizer of "
            f"{fit.penalizer:g}, which shrinks the parameters slightly."
        )
    if fit.failures:
        return f"The {fit.model} model could not be fitted ({problems})."
    if fit.model == "gamma_gamma":
        return f"Too few repeat buyers to fit Gamma-Gamma: {fit.repeat_buyers}."
    return (
        f"Too few customers to fit {fit.model}: {fit.customers} customers, "
        f"{fit.repeat_buyers} with repeat purchases (needs {MIN_CUSTOMERS} and "
        f"{MIN_REPEAT_BUYERS})."
    )


def notes(analysis: CLVAnalysis) -> list[str]:
    """One sentence per model that needed help or failed, and per section skipped."""
    found = [
        note
        for fit in (analysis.bgnbd, analysis.pareto_nbd, analysis.gamma_gamma)
        if (note := fit_note(fit))
    ]
    if analysis.holdout_failure is not None:
        found.append(
            "Holdout check skipped: Neither purchase model could be fitted on the calibration "
            f"period: {fit_note(analysis.holdout_failure)}"
        )
    if analysis.values is None:
        found.append("Predicted CLV skipped: the models could not be fitted on this unit.")
    return found


def holdout_reason(holdout: HoldoutCheck) -> str:
    """Why the holdout selected the model it did, with both errors."""
    selected = holdout.model_selected
    other = "pareto_nbd" if selected == "bgnbd" else "bgnbd"
    errors = {"bgnbd": holdout.mae_per_customer, "pareto_nbd": holdout.pareto_mae_per_customer}
    if not np.isfinite(errors[other]):
        return f"only {MODEL_NAMES[selected]} could be fitted"
    return (
        f"{MODEL_NAMES[selected]} has the lower holdout error per customer "
        f"({errors[selected]:.3f} against {errors[other]:.3f} for {MODEL_NAMES[other]})"
    )


def key_findings(analysis: CLVAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the CLV report, each with its number."""
    found = []
    if analysis.values is not None:
        lo, hi = analysis.mean_clv_ci
        found.append(
            f"Expected value over the next {analysis.horizon_months} months: "
            f"{money(analysis.mean_clv, currency)} per customer (95% interval {money(lo)}–"
            f"{money(hi)}), {money(analysis.total_clv, currency)} for all "
            f"{len(analysis.values):,} customers who have bought."
        )
    if analysis.holdout is not None:
        h = analysis.holdout
        verdict = (
            "fits well"
            if abs(h.relative_error) <= 0.1
            else "fits acceptably"
            if abs(h.relative_error) <= 0.2
            else "fits badly"
        )
        found.append(
            f"Tested on the last {h.weeks:.0f} weeks it did not see, the model predicted "
            f"{h.predicted:,.0f} repeat purchases against {h.actual:,} actual "
            f"({pct(h.relative_error)} off): it {verdict}. {holdout_reason(h)}."
        )
    if analysis.ltv_cac is not None and analysis.ltv_cac["ltv_cac"].notna().any():
        table = analysis.ltv_cac.dropna(subset=["ltv_cac"])
        best = table.loc[table["ltv_cac"].idxmax()]
        worst = table.loc[table["ltv_cac"].idxmin()]
        found.append(
            f"Best acquisition channel: {best['acquisition_channel']} (LTV:CAC "
            f"{best['ltv_cac']:.1f}); weakest: {worst['acquisition_channel']} "
            f"({worst['ltv_cac']:.1f})."
        )
    correlation = analysis.frequency_spend_correlation
    if np.isfinite(correlation) and abs(correlation) > 0.3:
        found.append(
            f"Gamma-Gamma assumes order value does not depend on purchase frequency; here they "
            f"correlate at {correlation:.2f}, so predicted spend of frequent buyers is likely "
            f"{'understated' if correlation > 0 else 'overstated'}."
        )
    return found + notes(analysis)


def holdout_summary(analysis: CLVAnalysis) -> str:
    """The holdout check in two sentences."""
    h = analysis.holdout
    if h is None:
        return "The holdout check was skipped: " + "; ".join(notes(analysis))
    return (
        f"Calibrated to {h.calibration_end:%Y-%m-%d}, BG/NBD predicted {h.predicted:,.0f} "
        f"repeat purchases in the following {h.weeks:.0f} weeks; customers made {h.actual:,} "
        f"(mean absolute error {h.mae_per_customer:.2f} purchases per customer; Pareto/NBD "
        f"{h.pareto_mae_per_customer:.2f}). {holdout_reason(h)}, so CLV uses it."
    )


def top_customers(analysis: CLVAnalysis, *, n: int = 10, salt: str = "") -> pd.DataFrame:
    """The ``n`` customers with the highest predicted CLV, by pseudonymous id only
    (:func:`crmkit.present.format.pseudonym`, salted with ``salt``: reports use the unit id).

    One row per customer, highest CLV first: ``customer, p_alive, expected_purchases, clv``.
    """
    if analysis.values is None:
        return pd.DataFrame(columns=["customer", "p_alive", "expected_purchases", "clv"])
    top = analysis.values.nlargest(n, "clv")
    return pd.DataFrame(
        {
            "customer": [pseudonym(c, salt=salt, prefix="C") for c in top["customer_id"]],
            "p_alive": top["p_alive"].to_numpy(),
            "expected_purchases": top["expected_purchases"].to_numpy(),
            "clv": top["clv"].to_numpy(),
        }
    )


def parameter_table(analysis: CLVAnalysis) -> pd.DataFrame:
    """One row per fitted parameter: model (by its published name), parameter, value."""
    rows = [
        (MODEL_NAMES[fit.model], name, value)
        for fit in (analysis.bgnbd, analysis.pareto_nbd, analysis.gamma_gamma)
        for name, value in fit.params.items()
    ]
    return pd.DataFrame(rows, columns=["model", "parameter", "value"])


def results(analysis: CLVAnalysis) -> dict:
    """The CLV report's machine-readable results (``clv.json``)."""
    holdout = analysis.holdout
    table = analysis.ltv_cac
    return {
        "bgnbd": analysis.bgnbd.params,
        "pareto_nbd": analysis.pareto_nbd.params,
        "gamma_gamma": analysis.gamma_gamma.params,
        "model_selected": analysis.model_selected,
        "holdout": None
        if holdout is None
        else {
            "weeks": holdout.weeks,
            "calibration_end": holdout.calibration_end.date().isoformat(),
            "actual": holdout.actual,
            "predicted": holdout.predicted,
            "mae_per_customer": holdout.mae_per_customer,
            "bgnbd": holdout.bgnbd.params,
        },
        "horizon_months": analysis.horizon_months,
        "mean_clv": analysis.mean_clv,
        "mean_clv_ci": list(analysis.mean_clv_ci),
        "total_clv": analysis.total_clv,
        "frequency_spend_correlation": analysis.frequency_spend_correlation,
        "ltv_cac": {}
        if table is None
        else dict(zip(table["acquisition_channel"], table["ltv_cac"], strict=True)),
    }
