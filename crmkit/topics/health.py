"""The health review's words: the KPI scorecard, key findings, flags and published results.

Each part's sentences and tables are in its own module (:mod:`crmkit.topics.health_interactions`,
:mod:`crmkit.topics.health_service`, :mod:`crmkit.topics.health_score`); this one puts the
report together.

Flags (registry ``health.flags``):

``kpi_act``                a scorecard KPI is at or past its 'act' level: an alert, ranked by
                           how far past the level it is, as a fraction of it (of the distance
                           between the good and act levels where the act level is 0).
``service_slower``         see :func:`crmkit.topics.health_service.service_flags`.
``health_not_predictive``, ``red_share_rising``
                           see :func:`crmkit.topics.health_score.score_flags`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
from babel.lists import format_list

from crmkit.metrics.health import HealthAnalysis
from crmkit.metrics.scorecard import ACT, KPI, WATCH, as_results, merge_thresholds
from crmkit.present.format import money, num, pct, shown_difference, signed, signed_money
from crmkit.present.language import UnknownWords, locale, term, words
from crmkit.topics import churn_rates, health_interactions, health_score, health_service
from crmkit.topics.flags import Flag, alert_flag

TOPIC = "health"


def _w(key: str, /, **values) -> str:
    return words(f"health.{key}", **values)


def _listed(items: list[str]) -> str:
    return format_list(items, locale=locale())


def kpi_name(row: KPI, details: dict[str, Callable[[], str]] | None = None) -> str:
    """The KPI's glossary name, with what it is about where it needs one: the top channel,
    or (``details``, by KPI key) how churn is counted where it is inferred."""
    counted = (details or {}).get(row.key)
    about = row.detail or (counted() if counted else "")
    return _w("kpi_about", kpi=term(row.key), about=about) if about else term(row.key)


DIGITS = {"share": 1, "money": 0, "points": 0, "hours": 1, "per_100": 1}
"""Decimals a KPI is shown with, by unit (shares in percent); days: 1 below 10, else 0;
anything else 2. A change is the difference of the two values as shown, so the three
numbers of a row always agree."""


def _digits(row: KPI, value: float) -> int:
    if row.unit == "days":
        return 1 if abs(value) < 10 else 0
    return DIGITS.get(row.unit, 2)


def format_value(row: KPI, value: float | None, *, currency: str = "") -> str:
    """A KPI's value for reading, by its unit; "no data" where it has none."""
    if value is None or not math.isfinite(value):
        return _w("no_data")
    digits = _digits(row, value)
    if row.unit == "share":
        return pct(value, digits)
    if row.unit == "money":
        return money(value, currency, digits=digits)
    if row.unit == "points":
        return signed(value, digits)
    if row.unit in ("hours", "days", "per_100", "per_customer"):
        return _w(row.unit, n=num(value, digits))
    return num(value, digits)


def shown_change(row: KPI) -> float | None:
    """The change as the two shown values differ (shares in fractions)."""
    if row.change is None:
        return None
    scale = 100 if row.unit == "share" else 1
    digits = max(_digits(row, row.value), _digits(row, row.previous))
    return shown_difference(row.value * scale, row.previous * scale, digits) / scale


def format_change(row: KPI, *, currency: str = "") -> str:
    """The change on the previous period in the KPI's unit (shares in percentage points)."""
    delta = shown_change(row)
    if delta is None:
        return "–"
    digits = max(_digits(row, row.value), _digits(row, row.previous))
    if row.unit == "share":
        return _w("points", n=signed(delta * 100, digits))
    if row.unit == "money":
        return signed_money(delta, currency, digits)
    if row.unit in ("hours", "days", "per_100", "per_customer"):
        return _w(row.unit, n=signed(delta, digits))
    return signed(delta, digits)


def band_label(band: str | None) -> str:
    return _w(f"band_{band}") if band else "–"


def scorecard_view(
    rows: list[KPI], *, currency: str = "", details: dict[str, Callable[[], str]] | None = None
) -> pd.DataFrame:
    """The scorecard for reading: KPI, this and the previous period, the change, its p-value
    (blank without a test) and the band."""
    return pd.DataFrame(
        {
            "kpi": [kpi_name(r, details) for r in rows],
            "value_this_period": [format_value(r, r.value, currency=currency) for r in rows],
            "value_previous_period": [format_value(r, r.previous, currency=currency) for r in rows],
            "change_on_previous": [format_change(r, currency=currency) for r in rows],
            "p_value": [r.change.p_value if r.tested else math.nan for r in rows],
            "kpi_band": [band_label(r.band) for r in rows],
        }
    )


MIRRORED = {"retention_rate": "churn_rate"}
"""KPIs that are another's complement: flagged only where the other is not."""

BAND_COLOURS = {"good": "#d9f0d3", "watch": "#fff2cc", "act": "#f4cccc"}
"""Background of a band's cell in the scorecard table (green, amber, red tints)."""


def band_styles(rows: list[KPI]) -> list[str]:
    """CSS per scorecard row for its band cell."""
    return [f"background-color: {BAND_COLOURS[r.band]}" if r.band else "" for r in rows]


def scorecard_sentences(
    rows: list[KPI], *, currency: str = "", details: dict[str, Callable[[], str]] | None = None
) -> list[str]:
    """How many KPIs need action and which, which to watch, which have no data."""
    known = [r for r in rows if r.value is not None]
    acts = [r for r in known if r.band == ACT]
    watch = [r for r in known if r.band == WATCH]
    empty = [r for r in rows if r.value is None]

    def named(items):
        return _listed(
            [_w("kpi_value", kpi=kpi_name(r, details),
                value=format_value(r, r.value, currency=currency)) for r in items]
        )  # fmt: skip

    found = [
        _w("acts_found", n=num(len(acts)), m=num(len(known)), kpis=named(acts))
        if acts
        else _w("acts_none", m=num(len(known)))
    ]
    if watch:
        found.append(_w("watch_found", n=num(len(watch)), kpis=named(watch)))
    if empty:
        found.append(_w("no_data_found", kpis=_listed([kpi_name(r, details) for r in empty])))
    return found


def _excess(row: KPI, levels: dict) -> float:
    """How far past its act level a KPI is, as a fraction of the level (of the distance
    between the good and act levels where the act level is 0)."""
    act = levels["act"]
    scale = abs(act) or abs(levels.get("good", 1.0) - act) or 1.0
    return abs(row.value - act) / scale


def kpi_flags(
    rows: list[KPI],
    *,
    thresholds: dict | None = None,
    currency: str = "",
    details: dict[str, Callable[[], str]] | None = None,
) -> list[Flag]:
    """``kpi_act``: one alert per KPI at or past its act level, with the action that KPI
    calls for (a general one where the catalogue has none for it)."""
    levels = merge_thresholds(thresholds)
    found = []
    for row in rows:
        if row.band != ACT or row.key not in levels or "act" not in levels[row.key]:
            continue
        if row.key in MIRRORED and any(r.key == MIRRORED[row.key] and r.band == ACT for r in rows):
            continue  # the same news as the KPI it mirrors, told once
        if row.key == "nps" and row.value < 0 <= levels["nps"]["act"]:
            continue  # the satisfaction report's own flag says NPS is below zero
        action = f"health.action_act_{row.key}"
        try:
            words(action)
        except UnknownWords:
            action = "health.action_kpi_act"
        level = levels[row.key]["act"]
        found.append(
            alert_flag(
                TOPIC,
                "kpi_act",
                excess=_excess(row, levels[row.key]),
                message="health.flag_kpi_act_" + ("below" if row.good_when == "up" else "above"),
                action=action,
                section="health.scorecard_heading",
                values={
                    "kpi": lambda r=row: kpi_name(r, details),
                    "value": lambda r=row: format_value(r, r.value, currency=currency),
                    "level": lambda r=row, v=level: format_value(r, v, currency=currency),
                },
                raw={"kpi": row.key, "value": row.value, "act": level},
            )
        )
    return found


def details(analysis: HealthAnalysis) -> dict[str, Callable[[], str]]:
    """What the churn KPIs count where churn is inferred: "134 days without an order" (the
    same words as the portfolio's), so they are not read as recorded cancellations. Worded
    when shown, in the language then active: a flag is worded in every language."""
    days = analysis.definition.inactivity_days
    if analysis.definition.kind != "inactivity" or days is None:
        return {}

    def counted() -> str:
        return words("churn.portfolio_inactivity", inactivity_days=num(days))

    return {"churn_rate": counted, "retention_rate": counted}


def flags(analysis: HealthAnalysis, *, thresholds: dict | None = None, currency: str = "") -> list:
    """What a manager should know first: see the module's table of flags."""
    slower = health_service.service_flags(analysis.service)
    acts = kpi_flags(
        analysis.scorecard, thresholds=thresholds, currency=currency, details=details(analysis)
    )
    if slower:  # fewer tickets within the SLA is the slow-down's news, told once
        acts = [f for f in acts if f.values.get("kpi") != "sla_share"]
    return [*health_score.score_flags(analysis.score), *slower, *acts]


def key_findings(analysis: HealthAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top: whether the score can be trusted (first when it does not
    predict churn, or churn does not fall from red to green), the scorecard's act items, the
    score's bands, service, interactions and the alerts."""
    score = analysis.score
    validation = score.validation
    verdict = health_score.verdict_sentence(score)
    doubtful = validation.verdict != "predictive" or validation.falls_red_to_green is False
    found = [
        verdict if doubtful else "",
        scorecard_sentences(analysis.scorecard, currency=currency, details=details(analysis))[0],
        health_score.summary_sentence(score),
        "" if doubtful else verdict,
        health_service.resolution_sentence(analysis.service),
        health_interactions.frequency_sentence(analysis.interactions),
        health_score.alerts_sentence(score),
    ]
    return [sentence for sentence in found if sentence]


def results(analysis: HealthAnalysis) -> dict:
    """The registry's results keys for ``health``, from each part."""
    return {
        "scorecard": as_results(analysis.scorecard),
        **health_score.results_part(analysis.score),
        **health_interactions.results_part(analysis.interactions, analysis.costs),
        **health_service.results_part(analysis.service),
    }


def methods(analysis: HealthAnalysis) -> list[str]:
    """The analyst notes' methods: where each KPI comes from, then each part's methods."""
    return [
        _w("methods_scorecard", definition=churn_rates.definition_sentence(analysis.rates)),
        *health_interactions.methods(analysis.interactions, analysis.costs),
        *health_service.methods(analysis.service),
        *health_score.methods(analysis.score),
    ]
