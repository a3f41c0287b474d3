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
    name = MODEL_NAMES[fit.model]
    problems = "; ".join(
        f"penalizer {penalizer:g}: {problem}" for penalizer, problem in fit.failures
    )
    if fit.ok:
        if not fit.failures:
            return ""
        return (
            f"The unpenalised {name} fit failed ({problems}); refitted with a penalizer of "
            f"{fit.penalizer:g}, which shrinks the parameters slightly."
        )
    if fit.failures:
        return f"The {name} model could not be fitted ({problems})."
    if fit.model == "gamma_gamma":
        return (
            f"Too few repeat buyers to fit {name}: {fit.repeat_buyers:,}; it needs at least "
            f"{MIN_REPEAT_BUYERS}."
        )
    return (
        f"Too few customers to fit {name}: {fit.customers:,} customers, "
        f"{fit.repeat_buyers:,} of them repeat buyers; it needs at least {MIN_CUSTOMERS} "
        f"customers and {MIN_REPEAT_BUYERS} repeat buyers."
    )


def holdout_note(analysis: CLVAnalysis) -> str:
    """Why the holdout check did not run, in one sentence; empty when it ran."""
    failure = analysis.holdout_failure
    if analysis.holdout is not None or failure is None:
        return ""
    if failure.too_small:
        why = (
            f"{failure.customers:,} customers, {failure.repeat_buyers:,} of them repeat "
            f"buyers, where the models need at least {MIN_CUSTOMERS} and {MIN_REPEAT_BUYERS}"
        )
    else:
        why = "; ".join(f"penalizer {p:g}: {problem}" for p, problem in failure.failures)
    return (
        f"Holdout check skipped: with the last {analysis.holdout_weeks} weeks held out, "
        f"neither purchase model could be fitted on the history before them ({why})."
    )


def prediction_note(analysis: CLVAnalysis) -> str:
    """Why there is no predicted CLV, in one sentence; empty when there is."""
    if analysis.values is not None:
        return ""
    purchase = analysis.bgnbd.ok or analysis.pareto_nbd.ok
    if not purchase and not analysis.gamma_gamma.ok:
        why = (
            "neither a purchase model (BG/NBD, Pareto/NBD) nor the spend model (Gamma-Gamma) "
            "could be fitted on this unit"
        )
    elif not purchase:
        why = "no purchase model (BG/NBD or Pareto/NBD) could be fitted on this unit"
    else:
        why = "the spend model (Gamma-Gamma) could not be fitted on this unit"
    return f"Predicted CLV skipped: {why}."


def channel_note(analysis: CLVAnalysis) -> str:
    """Why there is no value by acquisition channel; empty when there is."""
    if analysis.by_channel is not None:
        return ""
    return "Value by channel skipped: no `acquisition_channel` on customers."


def acquisition_note(analysis: CLVAnalysis) -> str:
    """The acquisition-economics section's sentence: why LTV:CAC is skipped, or where its
    acquisition cost (CAC) comes from, and the channels without one."""
    missing = set(analysis.missing)
    if "customers.acquisition_channel" in missing:
        return (
            "Skipped: no `acquisition_channel` on customers, so value by channel and LTV:CAC "
            "cannot be computed."
        )
    if analysis.values is None:
        return "LTV:CAC skipped: it needs predicted CLV, which could not be computed."
    no_spend = (
        "there is no `costs` table"
        if "costs" in missing
        else "`costs` has no `channel` column"
        if "costs.channel" in missing
        else ""
    )
    own_cost = "customers.acquisition_cost" not in missing
    if analysis.ltv_cac is None:
        return (
            "LTV:CAC skipped: no acquisition cost is known: customers carry no "
            f"`acquisition_cost`, and {no_spend or '`costs` has no acquisition spend by channel'}."
        )
    if own_cost and no_spend:
        source = (
            f"CAC is the mean `acquisition_cost` of each channel's customers ({no_spend} to "
            "fill gaps)."
        )
    elif own_cost:
        source = (
            "CAC is the mean `acquisition_cost` of each channel's customers; where they carry "
            "none, the channel's acquisition spend in `costs` divided by its new customers."
        )
    else:
        source = (
            "CAC is each channel's acquisition spend in `costs` divided by its new customers "
            "(customers carry no `acquisition_cost`)."
        )
    unknown = analysis.ltv_cac.loc[analysis.ltv_cac["cac"].isna(), "acquisition_channel"]
    if len(unknown):
        source += f" No acquisition cost is known for {', '.join(map(str, unknown))}."
    return source


def notes(analysis: CLVAnalysis) -> list[str]:
    """One sentence per model that needed help or failed, and per section skipped."""
    fits = [analysis.bgnbd, analysis.pareto_nbd]
    if all(f.too_small for f in fits) and fits[0].customers == fits[1].customers:
        found = [
            f"Too few customers to fit BG/NBD or Pareto/NBD: {fits[0].customers:,} customers, "
            f"{fits[0].repeat_buyers:,} of them repeat buyers; they need at least "
            f"{MIN_CUSTOMERS} customers and {MIN_REPEAT_BUYERS} repeat buyers."
        ]
    else:
        found = [note for fit in fits if (note := fit_note(fit))]
    if note := fit_note(analysis.gamma_gamma):
        found.append(note)
    found += [note for note in (holdout_note(analysis), prediction_note(analysis)) if note]
    if analysis.ltv_cac is None and analysis.values is not None:
        note = acquisition_note(analysis)
        if note.startswith("Skipped: "):
            note = f"Acquisition economics skipped: {note.removeprefix('Skipped: ')}"
        found.append(note)
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
    table = analysis.ltv_cac
    if table is not None:
        table = table.loc[np.isfinite(table["ltv_cac"].astype(float))]
    if table is not None and len(table) == 1:
        only = table.iloc[0]
        found.append(
            f"The one acquisition channel with a known cost: {only['acquisition_channel']} "
            f"(LTV:CAC {only['ltv_cac']:.1f})."
        )
    elif table is not None and len(table):
        best = table.loc[table["ltv_cac"].idxmax()]
        worst = table.loc[table["ltv_cac"].idxmin()]
        found.append(
            f"Best acquisition channel: {best['acquisition_channel']} (LTV:CAC "
            f"{best['ltv_cac']:.1f}); weakest: {worst['acquisition_channel']} "
            f"({worst['ltv_cac']:.1f})."
        )
    correlation = analysis.frequency_spend_correlation
    if analysis.gamma_gamma.ok and np.isfinite(correlation) and abs(correlation) > 0.3:
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
        return holdout_note(analysis) or "Holdout check skipped."
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


def ltv_cac_view(analysis: CLVAnalysis) -> pd.DataFrame:
    """The LTV:CAC table for reading: a payback that never comes within reach (the expected
    margin per month is nil) is left blank rather than shown as infinite."""
    if analysis.ltv_cac is None:
        return pd.DataFrame()
    view = analysis.ltv_cac.copy()
    for column in ("ltv_cac", "payback_months"):
        view[column] = view[column].where(np.isfinite(view[column].astype(float)))
    return view


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
