"""The churn report's words: key findings, flags and published results.

Each part's sentences and tables are in its own module (:mod:`crmkit.topics.churn_rates`,
:mod:`crmkit.topics.churn_lifetimes`, :mod:`crmkit.topics.churn_drivers`); this one puts the
report together: what a manager reads first, what is flagged, and the ``results`` keys the
registry lists.

Flags (registry ``churn.flags``):

``churn_change``   the churn rate changed significantly on the previous period (pooled
                   two-proportion test, p < 0.05); bad when it rose; ranked by z. A fall
                   with no cancellation recorded in the period asks to check the records.
``reason_rising``  a stated reason's share of the period's stated reasons rose significantly
                   (Holm-adjusted over the reasons, p < 0.05); ranked by z of the rise.
"""

from __future__ import annotations

from crmkit.metrics.churn import ChurnAnalysis
from crmkit.metrics.churn_reasons import ChurnReasons
from crmkit.present.format import num, p_text, pct, shown_difference
from crmkit.present.language import words
from crmkit.topics import churn_drivers, churn_lifetimes, churn_rates
from crmkit.topics.flags import Flag, change_flag

TOPIC = "churn"


def _w(key: str, /, **values) -> str:
    return words(f"churn.{key}", **values)


def _rate_change_values(analysis: ChurnAnalysis) -> dict[str, str]:
    """Size, before, after and p of the churn rate's change, as the rates part writes them:
    the size is the difference of the two rates as written, so the three agree."""
    rates = analysis.rates
    before, after = rates.previous.churn.value, rates.churn.value
    size = abs(shown_difference(after * 100, before * 100, 1))
    return {
        "size": words("churn_rates.points", n=num(size, 1)),
        "before": pct(before),
        "after": pct(after),
        "p": p_text(rates.churn_change.p_value),
    }


def flags(analysis: ChurnAnalysis) -> list[Flag]:
    """What a manager should know first: see the module's table of flags."""
    rise = churn_flag(analysis)
    return ([rise] if rise else []) + reason_flags(analysis.reasons)


def churn_flag(analysis: ChurnAnalysis) -> Flag | None:
    """``churn_change``: the churn rate's significant change on the previous period. Where a
    fall rests on no cancellation recorded in the period (records exported too early show
    the same fall), its action says to check the records first."""
    change = analysis.rates.churn_change
    direction = "up" if change.delta > 0 else "down"
    unrecorded = direction == "down" and analysis.definition.records_stop_before(analysis.period)
    return change_flag(
        TOPIC,
        "churn_change",
        delta=change.delta,
        low=change.low,
        high=change.high,
        p_value=change.p_value,
        good_when="down",
        message=f"churn.flag_churn_{direction}",
        action="churn.action_churn_down_unrecorded"
        if unrecorded
        else f"churn.action_churn_{direction}",
        section="churn.rate_heading",
        values={
            name: (lambda n=name: _rate_change_values(analysis)[n])
            for name in ("size", "before", "after", "p")
        },
        raw={"churn_rate": analysis.rates.churn.value},
    )


def reason_flags(reasons: ChurnReasons) -> list[Flag]:
    """``reason_rising``: each stated reason whose share of stated reasons rose
    significantly (Holm-adjusted over the reasons)."""
    found = []
    for rise in churn_lifetimes.rising_reasons(reasons):
        found.append(
            change_flag(
                TOPIC,
                "reason_rising",
                delta=rise["delta"],
                low=rise["low"],
                high=rise["high"],
                p_value=rise["p_value"],
                good_when="down",
                message="churn.flag_reason_rising",
                action="churn.action_reason_rising",
                section="churn.reasons_heading",
                values={
                    "reason": str(rise["reason"]),
                    "before": lambda r=rise: pct(r["previous_share"]),
                    "after": lambda r=rise: pct(r["share"]),
                    "p": lambda r=rise: p_text(r["p_value"]),
                },
                raw={"reason": str(rise["reason"])},
            )
        )
    return [flag for flag in found if flag is not None]


def key_findings(analysis: ChurnAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the report: the definition, the churn rate and its change,
    how long customers stay, the top stated reason, the strongest drivers and the value at
    risk."""
    found = [
        churn_rates.definition_sentence(analysis.rates),
        churn_rates.churn_rate_sentence(analysis.rates),
        churn_lifetimes.median_sentence(analysis.lifetimes),
        churn_lifetimes.reason_sentences(analysis.reasons)[0],
        churn_drivers.drivers_sentence(analysis.drivers),
        churn_drivers.value_at_risk_sentence(analysis.risk, currency=currency),
    ]
    return [sentence for sentence in found if sentence]


def results(analysis: ChurnAnalysis) -> dict:
    """The registry's results keys for ``churn``, from each part."""
    return {
        **churn_rates.results_part(analysis.rates),
        **churn_lifetimes.results_part(analysis.lifetimes, analysis.reasons),
        **churn_drivers.results_part(analysis.drivers, analysis.risk),
    }


def methods(analysis: ChurnAnalysis) -> list[str]:
    """The analyst notes' methods: the churn definition, then each part's methods."""
    return [
        churn_rates.definition_sentence(analysis.rates),
        *churn_lifetimes.methods(analysis.lifetimes),
        *churn_drivers.methods(analysis.drivers),
    ]
