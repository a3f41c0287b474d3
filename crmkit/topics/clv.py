"""The CLV report's words and views: flags, key findings, notes, the fit verdict in sentences,
the reading tables and the published results.

Numbers come from :mod:`crmkit.metrics.clv`; nothing here is computed that a test of the
statistics would need. Every word comes from the ``clv`` catalogue
(``crmkit/present/words/clv.yaml``) in the report's language; every table column is named by
its glossary key, so its header is the figure's glossary name.

For the manager: :func:`flags`, :func:`key_findings` (with :func:`notes`, the sections that
could not run), :func:`fit_sentence`, :func:`value_explained`, :func:`ltv_explained` and the
views. For the analyst notes: :func:`analyst_notes` (model fits, Gamma-Gamma's independence
check), :func:`holdout_summary`, :func:`fit_rule`, :func:`cac_note`,
:func:`parameter_table`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from babel.lists import format_list

from crmkit.metrics.clv import (
    MIN_CUSTOMERS,
    MIN_REPEAT_BUYERS,
    CLVAnalysis,
    HoldoutCheck,
    ModelFit,
)
from crmkit.present.format import day, money, num, pct, pseudonym
from crmkit.present.language import all_languages, current, is_term, locale, term, words
from crmkit.topics.flags import Flag, alert_flag

MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}
FLAG_NOT_PAYING_BACK = "channels_not_paying_back"
INDEPENDENCE_LIMIT = 0.3
"""Gamma-Gamma's frequency-spend correlation beyond which its assumption is called broken."""


def _joined(sentences: list[str]) -> str:
    """Sentences one after another: a space between them in English, none in Chinese."""
    return ("" if current() == "zh" else " ").join(s for s in sentences if s)


def _capitalised(sentence: str) -> str:
    """A sentence that opens with a glossary name (``margin LTV is ...``) with a capital."""
    return sentence[:1].upper() + sentence[1:]


def _listed(items: list[str]) -> str:
    """Items as a list in the report's language: ``a, b, and c`` / ``a、b和c``."""
    return format_list([str(i) for i in items], locale=locale())


# ----------------------------------------------------------------------------- notes


def _problems(fit: ModelFit) -> str:
    problems = [
        words(
            "clv.fit_problem",
            penalizer=f"{penalizer:g}",  # a tuning constant, as the code spells it
            problem=words("clv.implausible_parameters")
            if problem == "implausible parameters"
            else problem,
        )
        for penalizer, problem in fit.failures
    ]
    return ("；" if current() == "zh" else "; ").join(problems)


def fit_note(fit: ModelFit) -> str:
    """What went wrong with a model fit and how it was handled; empty for a clean fit."""
    name = MODEL_NAMES[fit.model]
    if fit.ok:
        if not fit.failures:
            return ""
        return words(
            "clv.fit_retried", model=name, problems=_problems(fit), penalizer=f"{fit.penalizer:g}"
        )
    if fit.failures:
        return words("clv.fit_failed", model=name, problems=_problems(fit))
    counts = {
        "customers": num(fit.customers),
        "repeaters": num(fit.repeat_buyers),
        "min_customers": MIN_CUSTOMERS,
        "min_repeaters": MIN_REPEAT_BUYERS,
    }
    if fit.model == "gamma_gamma":
        return words("clv.too_few_for_spend", model=name, **counts)
    return words("clv.too_few_for_purchase", model=name, **counts)


def holdout_note(analysis: CLVAnalysis) -> str:
    """Why the holdout check did not run, in one sentence; empty when it ran."""
    failure = analysis.holdout_failure
    if analysis.holdout is not None or failure is None:
        return ""
    if failure.too_small:
        why = words(
            "clv.why_too_small",
            customers=num(failure.customers),
            repeaters=num(failure.repeat_buyers),
            min_customers=MIN_CUSTOMERS,
            min_repeaters=MIN_REPEAT_BUYERS,
        )
    else:
        why = words("clv.why_failed", problems=_problems(failure))
    return words("clv.holdout_skipped", weeks=analysis.holdout_weeks, why=why)


def prediction_note(analysis: CLVAnalysis) -> str:
    """Why there is no predicted CLV, in one sentence; empty when there is."""
    if analysis.values is not None:
        return ""
    fits = [analysis.bgnbd, analysis.pareto_nbd]
    purchase = any(f.ok for f in fits)
    if not purchase and all(f.too_small for f in fits):
        why = words(
            "clv.why_too_few",
            customers=num(fits[0].customers),
            repeaters=num(fits[0].repeat_buyers),
            min_customers=MIN_CUSTOMERS,
            min_repeaters=MIN_REPEAT_BUYERS,
        )
    elif not purchase and not analysis.gamma_gamma.ok:
        why = words("clv.why_no_models")
    elif not purchase:
        why = words("clv.why_no_purchase_model")
    else:
        why = words("clv.why_no_spend_model")
    return words("clv.prediction_skipped", why=why)


def channel_note(analysis: CLVAnalysis) -> str:
    """Why there is no value by acquisition channel; empty when there is."""
    return "" if analysis.by_channel is not None else words("clv.channel_skipped")


def _no_spend(missing: set[str]) -> str:
    if "costs" in missing:
        return words("clv.no_costs_table")
    if "costs.channel" in missing:
        return words("clv.no_costs_channel")
    return ""


def acquisition_note(analysis: CLVAnalysis) -> str:
    """Why the acquisition-economics section (LTV:CAC) is skipped; empty when it runs."""
    missing = set(analysis.missing)
    if analysis.ltv_cac is not None:
        return ""
    if "customers.acquisition_channel" in missing:
        return words("clv.acquisition_skipped")
    if analysis.values is None:
        return words("clv.ltv_cac_no_clv")
    return words("clv.ltv_cac_no_cost", no_spend=_no_spend(missing) or words("clv.no_costs_spend"))


def cac_note(analysis: CLVAnalysis) -> str:
    """Where the acquisition cost (CAC) comes from, and the channels without one (for the
    analyst notes); empty without an LTV:CAC table."""
    if analysis.ltv_cac is None:
        return ""
    missing = set(analysis.missing)
    no_spend = _no_spend(missing)
    if "customers.acquisition_cost" in missing:
        source = words("clv.cac_spend")
    elif no_spend:
        source = words("clv.cac_own_no_spend", no_spend=no_spend)
    else:
        source = words("clv.cac_own")
    unknown = analysis.ltv_cac.loc[analysis.ltv_cac["cac"].isna(), "acquisition_channel"]
    if len(unknown):
        source = _joined([source, words("clv.cac_unknown", channels=_listed(list(unknown)))])
    return source


def notes(analysis: CLVAnalysis) -> list[str]:
    """One sentence per section of the report that could not run, saying why."""
    found = [holdout_note(analysis), prediction_note(analysis)]
    if analysis.values is not None or "customers.acquisition_channel" in analysis.missing:
        found.append(acquisition_note(analysis))
    return [note for note in found if note]


def analyst_notes(analysis: CLVAnalysis) -> list[str]:
    """The model fits that needed help or failed, and Gamma-Gamma's independence check."""
    fits = [analysis.bgnbd, analysis.pareto_nbd]
    if all(f.too_small for f in fits) and fits[0].customers == fits[1].customers:
        found = [
            words(
                "clv.too_few_for_both",
                customers=num(fits[0].customers),
                repeaters=num(fits[0].repeat_buyers),
                min_customers=MIN_CUSTOMERS,
                min_repeaters=MIN_REPEAT_BUYERS,
            )
        ]
    else:
        found = [note for fit in fits if (note := fit_note(fit))]
    if note := fit_note(analysis.gamma_gamma):
        found.append(note)
    correlation = analysis.frequency_spend_correlation
    if analysis.gamma_gamma.ok and np.isfinite(correlation):
        if abs(correlation) > INDEPENDENCE_LIMIT:
            direction = words("clv.understated" if correlation > 0 else "clv.overstated")
            found.append(
                words("clv.independence_broken", r=num(correlation, 2), direction=direction)
            )
        else:
            found.append(words("clv.independence_holds", r=num(correlation, 2)))
    return found


# ----------------------------------------------------------------------------- the fit


def holdout_reason(holdout: HoldoutCheck) -> str:
    """Why the holdout selected the model it did, with both errors."""
    selected = holdout.model_selected
    other = "pareto_nbd" if selected == "bgnbd" else "bgnbd"
    errors = {"bgnbd": holdout.mae_per_customer, "pareto_nbd": holdout.pareto_mae_per_customer}
    if not np.isfinite(errors[other]):
        return words("clv.reason_only_fit", model=MODEL_NAMES[selected])
    return words(
        "clv.reason_lower_error",
        model=MODEL_NAMES[selected],
        selected=num(errors[selected], 3),
        other=num(errors[other], 3),
        other_model=MODEL_NAMES[other],
    )


def _direction(fit) -> str:
    """Which way the errors of a judged model lie: ``high`` (none below actual), ``low``
    (none above) or ``across``."""
    errors = (fit.total_error, fit.curve_low, fit.curve_high)
    if all(e >= 0 for e in errors):
        return "high"
    if all(e <= 0 for e in errors):
        return "low"
    return "across"


def fit_sentence(analysis: CLVAnalysis) -> str:
    """The verdict on the forecast, in one sentence for the manager: how far off it was on
    the holdout, which way, and what that means for reading predicted CLV. It follows
    :func:`crmkit.metrics.clv.fit_check`, whose two figures (the holdout total and the
    weekly curve on the chart beside it) measure the same forecast, so they point the same
    way; the figures themselves are in :func:`fit_rule`. Empty without a holdout check."""
    h, fit = analysis.holdout, analysis.fit
    if h is None or fit is None:
        return ""
    weeks = num(h.weeks)
    if fit.verdict == "not_judged":
        return words("clv.fit_not_judged", weeks=weeks)
    values = {
        "weeks": weeks,
        "bound": pct(fit.bound, 0),
        "repeat_purchases": term("repeat_purchases"),
        "size": pct(fit.largest),
        "below": pct(-min(fit.total_error, fit.curve_low)),
        "above": pct(max(fit.total_error, fit.curve_high)),
    }
    if fit.fits_well:
        return words(f"clv.fit_well_{_direction(fit)}", **values)
    key = {
        "under_predicts": "clv.fit_under",
        "over_predicts": "clv.fit_over",
        "both_ways": "clv.fit_both",
    }[fit.verdict]
    return words(key, **values)


def _signed_pct(value: float) -> str:
    return ("−" if value < 0 else "+") + pct(abs(value))


def fit_rule(analysis: CLVAnalysis) -> str:
    """The rule behind the verdict, with the errors it was judged on (for the analyst)."""
    fit = analysis.fit
    if fit is None or fit.verdict == "not_judged":
        return ""
    return words(
        "clv.fit_rule",
        bound=pct(fit.bound, 0),
        first=day(fit.judged_from),
        least=num(fit.min_purchases),
        total=_signed_pct(fit.total_error),
        low=_signed_pct(fit.curve_low),
        high=_signed_pct(fit.curve_high),
    )


def holdout_summary(analysis: CLVAnalysis) -> str:
    """The holdout check in figures (for the analyst notes)."""
    h = analysis.holdout
    if h is None:
        return holdout_note(analysis)
    return words(
        "clv.holdout_summary",
        date=day(h.calibration_end),
        model=MODEL_NAMES[h.model_selected],
        predicted=num(h.predicted),
        weeks=num(h.weeks),
        actual=num(h.actual),
        bgnbd=num(h.mae_per_customer, 2),
        pareto=num(h.pareto_mae_per_customer, 2),
        reason=holdout_reason(h),
    )


# ----------------------------------------------------------------------------- channels


def channel_ratios(analysis: CLVAnalysis) -> pd.DataFrame:
    """The channels with a known LTV:CAC, highest first: ``acquisition_channel, ltv_cac``."""
    if analysis.ltv_cac is None:
        return pd.DataFrame(columns=["acquisition_channel", "ltv_cac"])
    table = analysis.ltv_cac[["acquisition_channel", "ltv_cac"]]
    table = table.loc[np.isfinite(table["ltv_cac"].astype(float))]
    return table.sort_values("ltv_cac", ascending=False).reset_index(drop=True)


def not_paying_back(analysis: CLVAnalysis) -> pd.DataFrame:
    """The channels whose LTV:CAC is below 1, weakest first."""
    ratios = channel_ratios(analysis)
    return ratios.loc[ratios["ltv_cac"] < 1].sort_values("ltv_cac").reset_index(drop=True)


def _ratio_list(channels: pd.DataFrame) -> str:
    return _listed(
        [
            words("clv.channel_ratio", channel=row.acquisition_channel, ratio=num(row.ltv_cac, 2))
            for row in channels.itertuples()
        ]
    )


def _not_paying_back_values(analysis: CLVAnalysis) -> tuple[str, dict]:
    weak, known = not_paying_back(analysis), channel_ratios(analysis)
    key = "clv.not_paying_back_one" if len(weak) == 1 else "clv.not_paying_back"
    return key, {
        "count": lambda: num(len(weak)),
        "total": lambda: num(len(known)),
        "months": lambda: num(analysis.horizon_months),
        "channels": lambda: _ratio_list(weak),
    }


def _budget_action(analysis: CLVAnalysis) -> tuple[str, dict]:
    """Away from the channels that do not pay back, towards the healthy ones (LTV:CAC 3 or
    more), or the best one that pays back; when none pays back, cut the weakest first."""
    weak, known = not_paying_back(analysis), channel_ratios(analysis)
    paying = known.loc[known["ltv_cac"] >= 1]
    if paying.empty:
        return "clv.cut_budget", {"weak": lambda: _listed(list(weak["acquisition_channel"]))}
    healthy = paying.loc[paying["ltv_cac"] >= 3]
    strong = healthy if len(healthy) else paying.head(1)
    return "clv.shift_budget", {
        "weak": lambda: _listed(list(weak["acquisition_channel"])),
        "strong": lambda: _ratio_list(strong),
    }


def flags(analysis: CLVAnalysis) -> list[Flag]:
    """The CLV report's flags: ``channels_not_paying_back`` when a channel's LTV:CAC is below
    1, naming them all; its strength (``excess``) is how far the weakest is below 1."""
    weak = not_paying_back(analysis)
    if weak.empty:
        return []
    message, values = _not_paying_back_values(analysis)
    action, action_values = _budget_action(analysis)
    flag = alert_flag(
        "clv",
        FLAG_NOT_PAYING_BACK,
        excess=float(1 - weak["ltv_cac"].min()),
        message=message,
        action=action,
        section="clv.acquisition_heading",
        values=values,
        raw={"ltv_cac": dict(zip(weak["acquisition_channel"], weak["ltv_cac"], strict=True))},
    )
    # The action names the channels too: fill its placeholders in each language.
    return [replace(flag, action=all_languages(action, **action_values))]


# ----------------------------------------------------------------------------- findings


def key_findings(analysis: CLVAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the CLV report, each with its number: predicted CLV, the
    verdict on the model, the channels, and the sections that could not run."""
    found = []
    if analysis.values is not None:
        lo, hi = analysis.mean_clv_ci
        found.append(
            words(
                "clv.value_found",
                months=num(analysis.horizon_months),
                predicted_clv=term("predicted_clv"),
                mean=money(analysis.mean_clv, currency),
                low=money(lo, currency),
                high=money(hi, currency),
                total=money(analysis.total_clv, currency),
                customers=num(len(analysis.values)),
            )
        )
    if sentence := fit_sentence(analysis):
        found.append(sentence)
    ratios = channel_ratios(analysis)
    if len(ratios) == 1:
        only = ratios.iloc[0]
        found.append(
            words(
                "clv.channel_one",
                channel=only["acquisition_channel"],
                ratio=num(only["ltv_cac"], 2),
            )
        )
    elif len(ratios):
        best, worst = ratios.iloc[0], ratios.iloc[-1]
        found.append(
            words(
                "clv.channel_best",
                best=best["acquisition_channel"],
                best_ratio=num(best["ltv_cac"], 2),
                worst=worst["acquisition_channel"],
                worst_ratio=num(worst["ltv_cac"], 2),
            )
        )
    if not not_paying_back(analysis).empty:
        key, values = _not_paying_back_values(analysis)
        found.append(words(key, **{k: v() for k, v in values.items()}))
    return found + notes(analysis)


# ----------------------------------------------------------------------------- views


VALUE_COLUMNS = {
    "customers": "customers_who_bought",
    "revenue_to_date": "lifetime_revenue_per_customer",
    "predicted_clv": "predicted_clv",
}


def value_view(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`crmkit.metrics.clv.value_by` table with its columns named by glossary key;
    RFM segments (by their code, ``at_risk``) by their glossary name in the report's
    language."""
    view = table.rename(columns=VALUE_COLUMNS)
    if "segment" in view.columns:
        view["segment"] = [
            term(f"rfm_{code}") if is_term(f"rfm_{code}") else code for code in view["segment"]
        ]
    return view


def value_explained(analysis: CLVAnalysis, *, end) -> str:
    """The one sentence under a table showing lifetime revenue per customer beside predicted
    CLV: what each is."""
    return _capitalised(
        words(
            "clv.value_vs_predicted",
            lifetime_revenue_per_customer=term("lifetime_revenue_per_customer"),
            predicted_clv=term("predicted_clv"),
            end=day(end),
            months=num(analysis.horizon_months),
        )
    )


def top_customers(analysis: CLVAnalysis, *, n: int = 10, salt: str = "") -> pd.DataFrame:
    """The ``n`` customers with the highest predicted CLV, by pseudonymous id only
    (:func:`crmkit.present.format.pseudonym`, salted with ``salt``: reports use the unit id).

    One row per customer, highest CLV first: ``customer_pseudonym, probability_active,
    expected_purchases, predicted_clv``.
    """
    columns = ["customer_pseudonym", "probability_active", "expected_purchases", "predicted_clv"]
    if analysis.values is None:
        return pd.DataFrame(columns=columns)
    top = analysis.values.nlargest(n, "clv")
    return pd.DataFrame(
        {
            "customer_pseudonym": [pseudonym(c, salt=salt, prefix="C") for c in top["customer_id"]],
            "probability_active": top["p_alive"].to_numpy(),
            "expected_purchases": top["expected_purchases"].to_numpy(),
            "predicted_clv": top["clv"].to_numpy(),
        }
    )


def margin_known(analysis: CLVAnalysis) -> bool:
    """Whether LTV:CAC counts margin (orders carry margins) or predicted CLV itself."""
    return bool(np.isfinite(analysis.margin_rate))


def ltv_cac_view(analysis: CLVAnalysis) -> pd.DataFrame:
    """The LTV:CAC table for reading, columns by glossary key: ``acquisition_channel,
    customers_who_bought, predicted_clv, margin_ltv`` (only where margins are known: else
    the LTV is predicted CLV itself) ``, cac, ltv_cac, payback_months``. A payback that never
    comes within reach (the expected margin per month is nil) is left blank rather than
    shown as infinite."""
    if analysis.ltv_cac is None:
        return pd.DataFrame()
    table = analysis.ltv_cac
    view = pd.DataFrame({"acquisition_channel": table["acquisition_channel"]})
    view["customers_who_bought"] = table["customers"]
    if margin_known(analysis):
        view["predicted_clv"] = table["ltv"] / analysis.margin_rate
        view["margin_ltv"] = table["ltv"]
    else:
        view["predicted_clv"] = table["ltv"]
    view["cac"] = table["cac"]
    for column in ("ltv_cac", "payback_months"):
        view[column] = table[column].where(np.isfinite(table[column].astype(float)))
    return view.sort_values("ltv_cac", ascending=False, na_position="last").reset_index(drop=True)


def ltv_explained(analysis: CLVAnalysis) -> str:
    """The one sentence under the LTV:CAC table: how margin LTV follows from predicted CLV
    (or that LTV is predicted CLV itself without margins)."""
    if analysis.ltv_cac is None:
        return ""
    if margin_known(analysis):
        return _capitalised(
            words(
                "clv.ltv_vs_clv",
                margin_ltv=term("margin_ltv"),
                predicted_clv=term("predicted_clv"),
                rate=pct(analysis.margin_rate),
            )
        )
    return words("clv.ltv_no_margin", predicted_clv=term("predicted_clv"))


SYMBOLS = {"alpha": "α", "beta": "β"}
"""Parameters by the symbol their papers give them (lifetimes spells the Greek ones out)."""


def parameter_table(analysis: CLVAnalysis) -> pd.DataFrame:
    """One row per fitted parameter: ``clv_model`` (by its published name),
    ``clv_parameter`` (by its published symbol: r, α, a, b ...), ``clv_estimate``."""
    rows = [
        (MODEL_NAMES[fit.model], SYMBOLS.get(name, name), value)
        for fit in (analysis.bgnbd, analysis.pareto_nbd, analysis.gamma_gamma)
        for name, value in fit.params.items()
    ]
    return pd.DataFrame(rows, columns=["clv_model", "clv_parameter", "clv_estimate"])


# ----------------------------------------------------------------------------- results


def results(analysis: CLVAnalysis) -> dict:
    """The CLV report's machine-readable results (``clv.json``)."""
    holdout, fit = analysis.holdout, analysis.fit
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
            "fit": None
            if fit is None
            else {
                "verdict": fit.verdict,
                "bound": fit.bound,
                "total_error": fit.total_error,
                "curve_error": [fit.curve_low, fit.curve_high],
                "size": fit.size,
            },
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
