"""The health review's customer health score in words, reading tables, flags and results:
what the score is, how the customers stand and moved, whether the score predicts churn (said
plainly when it does not), the suggested weights, and the alerts with their actions.

Numbers come from :func:`crmkit.metrics.health_validation.health_score_analysis`; nothing
here computes a statistic. Words come from the catalogue ``present/words/health_score.yaml``;
figures are named by the glossary; customers are shown by pseudonymous ids only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError
from crmkit.metrics.health_alerts import REASONS
from crmkit.metrics.health_score import BANDS, COMPONENTS
from crmkit.metrics.health_validation import HealthScoreAnalysis, HealthValidation
from crmkit.present.format import day, money, num, p_text, pct, pseudonym, signed
from crmkit.present.language import term, words
from crmkit.topics.flags import Flag, alert_flag, change_flag

TOPIC = "health"


def _w(key: str, /, **values) -> str:
    return words(f"health_score.{key}", **values)


def _number(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _listed(parts: list[str]) -> str:
    """Parts joined as a reader lists them: "a, b and c" / "a、b和c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return _w("list_and", first=_w("list_separator").join(parts[:-1]), last=parts[-1])


def _sentences(parts: list[str]) -> str:
    """Sentences in a row, spaced as the language spaces them."""
    text = parts[0]
    for part in parts[1:]:
        text = _w("two_sentences", first=text, second=part)
    return text


def band_name(band: str) -> str:
    """The colour band in the report's language."""
    return _w(f"band_{band}")


def component_name(component: str) -> str:
    """The component's glossary name."""
    return term(f"health_{component}")


# ----------------------------------------------------------------------------- sentences


def intro_sentence(analysis: HealthScoreAnalysis) -> str:
    """What the score is: 0–100, higher is healthier, its weighted components, the
    renormalisation over missing ones, the bands and (when on) the cap rule."""
    s = analysis.settings
    parts = [
        _w("weight_part", component=component_name(c), weight=num(s.weights[c]))
        for c in COMPONENTS
        if s.weights[c] > 0
    ]
    first = _w(
        "intro",
        components=_listed(parts),
        red_below=num(s.red_below),
        green_from=num(s.green_from),
    )
    if not s.cap_at_amber:
        return first
    return _w("two_sentences", first=first, second=_w("cap_rule", poor=num(s.poor_below)))


def summary_sentence(analysis: HealthScoreAnalysis) -> str:
    """Customers scored at the period end, their mean score and the share per band."""
    bands = analysis.bands.set_index("band")
    customers = int(bands["customers"].sum())
    if not customers:
        return _w("summary_none", day=day(analysis.period.end))
    return _w(
        "summary",
        day=day(analysis.period.end),
        customers=num(customers),
        mean=num(analysis.mean_score, 1),
        **{b: pct(bands.loc[b, "share"]) for b in BANDS},
    )


def change_sentence(analysis: HealthScoreAnalysis) -> str:
    """Two sentences on two populations, each named: the customers scored at both period ends
    (the band-moves chart's: how many turned red, how many left red, their mean change), then
    all customers scored at each date (the red share then and now, pooled two-proportion
    test)."""
    previous_day, end_day = day(analysis.period.previous_end), day(analysis.period.end)
    if analysis.change.empty:
        first = _w("change_none")
    else:
        first = _w(
            "change",
            customers=num(len(analysis.change)),
            before_day=previous_day,
            day=end_day,
            turned=num(analysis.turned_red),
            left=num(analysis.left_red),
            change=signed(analysis.mean_change, 1),
        )
    before, after = analysis.previous_bands.iloc[0]["share"], analysis.bands.iloc[0]["share"]
    if not (np.isfinite(before) and np.isfinite(after)):
        return first
    test = analysis.red_share_change
    if np.isfinite(test.p_value):
        verdict = _w("significant" if test.significant else "not_significant",
                     p=p_text(test.p_value))  # fmt: skip
    else:
        verdict = "–"
    second = _w(
        "red_share",
        before_day=previous_day,
        day=end_day,
        before=pct(before),
        after=pct(after),
        verdict=verdict,
    )
    return _w("two_sentences", first=first, second=second)


def _rates(validation: HealthValidation) -> str:
    table = validation.churn_by_band.loc[validation.churn_by_band["customers"] > 0]
    return _w("list_separator").join(
        _w("band_rate", band=band_name(row.band), rate=pct(row.rate)) for row in table.itertuples()
    )


def _inferred(analysis: HealthScoreAnalysis, inferred_churn: bool | None) -> bool:
    return analysis.inferred_churn if inferred_churn is None else bool(inferred_churn)


def verdict_sentence(analysis: HealthScoreAnalysis, *, inferred_churn: bool | None = None) -> str:
    """Whether the score at the previous period end predicted this period's churn, the
    verdict first in plain words (predictive, weak, or not predictive — then: do not act on
    the colours as they stand — or why it could not be tested), the AUC in brackets; then
    whether churn falls from red to green; then, when churn is inferred from days without an
    order (``inferred_churn``; None: from the analysis's churn definition), that the
    purchasing rhythm predicts it partly by definition."""
    v = analysis.validation
    sentences = [
        _w(
            f"verdict_{v.verdict}",
            day=day(analysis.period.previous_end),
            auc=pct(v.auc.value),
            low=pct(v.auc.low),
            high=pct(v.auc.high),
            churned=num(v.churned),
            customers=num(v.customers),
        )
    ]
    if v.falls_red_to_green is not None:
        sentences.append(_w("falls" if v.falls_red_to_green else "does_not_fall", rates=_rates(v)))
    if v.state == "ok" and _inferred(analysis, inferred_churn):
        sentences.append(_w("inferred_churn"))
    return _sentences(sentences)


def suggested_sentence(analysis: HealthScoreAnalysis) -> str:
    """Whether weights fitted on churn would rank this period's leavers better than the
    configured ones, in plain words: suggest them only when their AUC on this period is
    higher, else say to keep the configured weights (how they were fitted: :func:`methods`)."""
    v = analysis.validation
    if v.suggested_weights is None:
        return _w("suggested_none")
    basis = _w(f"basis_{v.suggested_basis}")
    if not (np.isfinite(v.suggested_auc.value) and np.isfinite(v.auc.value)):
        return _w("suggested_untested", basis=basis)
    values = {
        "basis": basis,
        "suggested": pct(v.suggested_auc.value),
        "configured": pct(v.auc.value),
    }
    if v.suggested_auc.value <= v.auc.value:
        key = "suggested_worse" if v.suggested_auc.value < v.auc.value else "suggested_same"
        return _w(key, **values)
    parts = [
        _w("weight_part", component=component_name(c), weight=num(v.suggested_weights[c]))
        for c in COMPONENTS
        if v.suggested_weights[c] > 0
    ]
    return _w(f"suggested_better_{v.suggested_basis}", weights=_listed(parts), **values)


_GAP_MIN_POINTS = 10.0
"""Smallest gap (points) said as "already told the leavers apart"."""


def gaps_sentence(analysis: HealthScoreAnalysis, *, inferred_churn: bool | None = None) -> str:
    """The component whose points at the previous period end differed most between the
    customers who left this period and those who stayed, in plain words (e.g. "had already
    gone quiet"). Only when the score could be tested (enough churn) and over components with
    leavers and stayers; when churn is inferred from days without an order the purchasing
    rhythm is left out (it tells them apart by definition) and the sentence says so."""
    v = analysis.validation
    gaps = v.component_gaps
    if v.state != "ok" or gaps is None:
        return _w("gaps_none")
    inferred = _inferred(analysis, inferred_churn)
    usable = gaps.loc[
        (gaps["left_with_data"] > 0)
        & (gaps["customers_with_data"] > gaps["left_with_data"])
        & ~(inferred & (gaps["component"] == "purchasing"))
    ]
    if usable.empty:
        return _w("gaps_none")
    top = usable.loc[usable["gap"].idxmax()]
    values = {
        "day": day(analysis.period.previous_end),
        "component": component_name(top["component"]),
        "left": num(top["mean_points_left"]),
        "stayed": num(top["mean_points_stayed"]),
    }
    if top["gap"] >= _GAP_MIN_POINTS:
        text = _w("gaps_lead", lead=_w(f"gap_{top['component']}"), **values)
    else:
        text = _w("gaps_small", **values)
    if inferred and "purchasing" in set(gaps["component"]):
        text = _w("two_sentences", first=text, second=_w("gaps_purchasing_left_out"))
    return text


def alerts_sentence(analysis: HealthScoreAnalysis) -> str:
    """How many customers need attention, by their first reason."""
    table = analysis.alerts
    if table.empty:
        return _w("alerts_none")
    counts = table["reason"].value_counts()
    parts = [
        _w("alerts_part", count=num(counts[r]), reason=_w(f"reason_{r}"))
        for r in REASONS
        if r in counts.index
    ]
    return _w("alerts_summary", count=num(len(table)), parts=_listed(parts))


def alerts_listed_sentence(analysis: HealthScoreAnalysis, top: int | None) -> str:
    """Which alerted customers the table lists and in what order ("" when none are
    alerted): the ``top`` most urgent, or all of them."""
    count = len(analysis.alerts)
    if not count:
        return ""
    if top is None or top >= count:
        return _w("alerts_listed_all", count=num(count))
    return _w("alerts_listed", top=num(top), count=num(count))


# ----------------------------------------------------------------------------- tables


def treatments(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The action per alert reason: the catalogue's defaults, each replaced by the
    parameter ``health_treatments`` where it gives one ({reason: action text})."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(REASONS))
    if unknown:
        raise ParameterError(
            f"health_treatments names unknown reason(s) {unknown}; the reasons are {list(REASONS)}."
        )
    return {r: str(overrides.get(r) or _w(f"treatment_{r}")) for r in REASONS}


def treatment_view(overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The treatment table: one row per alert reason and its action."""
    actions = treatments(overrides)
    return pd.DataFrame(
        {
            "alert_reason": [_w(f"reason_{r}") for r in REASONS],
            "suggested_action": [actions[r] for r in REASONS],
        }
    )


def _joined_actions(reasons: list[str], actions: Mapping[str, str]) -> str:
    """The actions of a customer's reasons in one cell, in reason order: end marks dropped,
    each after the first starting lower case (unless it starts with an abbreviation),
    joined as the language joins clauses ("A; b" / "甲；乙"); repeated actions once."""
    texts: list[str] = []
    for r in reasons:
        text = str(actions[r]).strip().rstrip(".。;；")
        if text and text not in texts:
            texts.append(text)
    tail = [t if t[1:2].isupper() else t[:1].lower() + t[1:] for t in texts[1:]]
    return _w("actions_separator").join(texts[:1] + tail)


def alerts_view(
    analysis: HealthScoreAnalysis,
    *,
    unit: str,
    overrides: Mapping[str, str] | None = None,
    currency: str = "",
    top: int | None = 50,
) -> pd.DataFrame:
    """The most urgent ``top`` alerted customers (None: all; high value at risk first, then
    the lowest score — the alerts' own order) for reading: pseudonymous id (salted with the
    unit), score now and at the previous period end, band, reasons, the action of each
    reason (joined) and the predicted CLV. Say what is listed with
    :func:`alerts_listed_sentence`."""
    table = analysis.alerts if top is None else analysis.alerts.head(top)
    actions = treatments(overrides)
    separator = _w("list_separator")
    return pd.DataFrame(
        {
            "customer_pseudonym": [pseudonym(c, salt=unit) for c in table["customer_id"]],
            "health_score": [num(v) for v in table["score"]],
            "health_previous_score": [num(v) for v in table["previous_score"]],
            "health_band": [band_name(b) for b in table["band"]],
            "alert_reason": [
                separator.join(_w(f"reason_{r}") for r in rs) for rs in table["reasons"]
            ],
            "suggested_action": [_joined_actions(rs, actions) for rs in table["reasons"]],
            "predicted_clv": [money(v, currency) for v in table["clv"]],
        }
    )


def gaps_view(analysis: HealthScoreAnalysis) -> pd.DataFrame:
    """Per component, the customers scored at the previous period end with data for it and
    the mean points then of those who left this period and of those who stayed."""
    gaps = analysis.validation.component_gaps
    if gaps is None:
        gaps = pd.DataFrame(
            {"component": list(COMPONENTS), "customers_with_data": 0,
             "mean_points_left": np.nan, "mean_points_stayed": np.nan}
        )  # fmt: skip
    return pd.DataFrame(
        {
            "health_component": [component_name(c) for c in gaps["component"]],
            "health_customers_with_data": gaps["customers_with_data"].to_numpy(dtype=int),
            "health_points_left": [num(v, 1) for v in gaps["mean_points_left"]],
            "health_points_stayed": [num(v, 1) for v in gaps["mean_points_stayed"]],
        }
    )


def bands_view(analysis: HealthScoreAnalysis) -> pd.DataFrame:
    """Customers and their share per colour band, now and at the previous period end."""
    now, before = analysis.bands, analysis.previous_bands
    return pd.DataFrame(
        {
            "health_band": [band_name(b) for b in now["band"]],
            "customers": now["customers"].to_numpy(),
            "share_of_customers": [pct(v) for v in now["share"]],
            "value_previous_period": [pct(v) for v in before["share"]],
        }
    )


def churn_band_view(analysis: HealthScoreAnalysis) -> pd.DataFrame:
    """Churn during this period per band at the previous period end, with Wilson
    intervals."""
    table = analysis.validation.churn_by_band
    return pd.DataFrame(
        {
            "health_band": [band_name(b) for b in table["band"]],
            "customers": table["customers"].to_numpy(),
            "churned_customers": table["churned"].to_numpy(),
            "band_churn_rate": [pct(v) for v in table["rate"]],
            "band_churn_ci": [
                "–" if not np.isfinite(lo) else f"{pct(lo)}–{pct(hi)}"
                for lo, hi in zip(table["low"], table["high"], strict=True)
            ],
        }
    )


def weights_view(analysis: HealthScoreAnalysis) -> pd.DataFrame:
    """The configured and the suggested weight of each component (suggested blank when
    none could be fitted)."""
    v = analysis.validation
    suggested = v.suggested_weights or {}
    return pd.DataFrame(
        {
            "health_component": [component_name(c) for c in COMPONENTS],
            "configured_weight": [num(v.configured_weights[c]) for c in COMPONENTS],
            "suggested_weight": [num(suggested[c]) if suggested else "–" for c in COMPONENTS],
        }
    )


# ----------------------------------------------------------------------------- flags


def score_flags(analysis: HealthScoreAnalysis) -> list[Flag]:
    """``health_not_predictive`` (the score at the previous period end does not predict
    this period's churn: its AUC interval reaches 0.5; strength: how far the interval's low
    end falls below 0.5, as a fraction of it) and ``red_share_rising`` (the red share rose
    significantly, pooled two-proportion test)."""
    found: list[Flag] = []
    v = analysis.validation
    heading = "health_score.heading_validation"
    if v.verdict == "not_predictive":
        found.append(
            alert_flag(
                TOPIC,
                "health_not_predictive",
                excess=max(0.0, 0.5 - v.auc.low) / 0.5,
                message="health_score.flag_not_predictive",
                action="health_score.action_not_predictive",
                section=heading,
                values={"auc": lambda: pct(v.auc.value)},
                raw={"auc": v.auc.value, "low": v.auc.low, "high": v.auc.high},
            )
        )
    c = analysis.red_share_change
    before, after = analysis.previous_bands.iloc[0]["share"], analysis.bands.iloc[0]["share"]
    rising = change_flag(
        TOPIC,
        "red_share_rising",
        delta=c.delta,
        low=c.low,
        high=c.high,
        p_value=c.p_value,
        good_when="down",
        message="health_score.flag_red_rising",
        action="health_score.action_red_rising",
        section="health_score.heading",
        values={"before": lambda: pct(before), "after": lambda: pct(after)},
        raw={"before": before, "after": after},
    )
    if rising is not None and rising.bad:
        found.append(rising)
    return found


# ----------------------------------------------------------------------------- results


def results_part(analysis: HealthScoreAnalysis) -> dict:
    """The registry's results keys this part owns."""
    v = analysis.validation
    interval = [_number(v.auc.low), _number(v.auc.high)]
    bands = analysis.bands.set_index("band")["share"]
    rates = v.churn_by_band.set_index("band")["rate"]
    return {
        "health_bands": {b: _number(bands[b]) for b in BANDS},
        "mean_health": _number(analysis.mean_score),
        "health_auc": _number(v.auc.value),
        "health_auc_ci": interval if None not in interval else None,
        "churn_by_band": {b: _number(rates[b]) for b in BANDS},
        "suggested_weights": dict(v.suggested_weights) if v.suggested_weights else None,
        "alerts": len(analysis.alerts),
    }


def methods(analysis: HealthScoreAnalysis, *, recent_complaints_days: int = 30) -> list[str]:
    """The methods paragraphs of this part, in the report's language."""
    s = analysis.settings
    v = analysis.validation
    cap = _w("method_cap_on", poor=num(s.poor_below)) if s.cap_at_amber else _w("method_cap_off")
    suggested = _w("method_suggested")
    if v.suggested_basis is not None:
        suggested = _w(
            "two_sentences", first=suggested, second=_w(f"method_basis_{v.suggested_basis}")
        )
    return [
        _w("method_score", red_below=num(s.red_below), green_from=num(s.green_from), cap=cap),
        _w("two_sentences", first=_w("method_validation"), second=_w("method_gaps")),
        suggested,
        _w("method_alerts", days=num(recent_complaints_days)),
    ]
