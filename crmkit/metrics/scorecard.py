"""The health review's KPI scorecard: each figure this period against the previous one.

Every KPI is taken from the analysis of the topic that owns it (the churn rates, the CLV fit,
the satisfaction scores, the funnel, the interactions, service and costs of this review), so
the scorecard shows the same number, under the same definition, as that topic's report.
This module only lines them up and bands them.

**Bands.** A KPI with thresholds (:data:`DEFAULT_THRESHOLDS`, overridden per unit by the
``health_thresholds`` parameter) is *good* at or past its ``good`` level, *act* at or past
its ``act`` level and *watch* between. A significant change for the worse (p < 0.05) is never
*good*: it is at least *watch*. A KPI without thresholds is *act* when it worsened
significantly (the change is the only standard it has) and unbanded otherwise: the scorecard
does not call a figure good on no standard. A KPI without data is ``no data``, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crmkit.core.errors import ParameterError
from crmkit.metrics.stats import Change, two_proportion_test

GOOD, WATCH, ACT = "good", "watch", "act"
BANDS = (GOOD, WATCH, ACT)

DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    # Rules of thumb for a quarterly review; each unit can set its own (health_thresholds).
    "churn_rate": {"good": 0.05, "act": 0.15},
    "retention_rate": {"good": 0.95, "act": 0.85},
    "nps": {"good": 30.0, "act": 0.0},
    "csat": {"good": 0.80, "act": 0.60},
    "sla_share": {"good": 0.90, "act": 0.75},
    "complaint_rate": {"good": 2.0, "act": 5.0},
    "ltv_cac": {"good": 3.0, "act": 1.0},
}
"""Default ``good`` and ``act`` levels per KPI (see the module's text)."""


@dataclass(frozen=True)
class KPI:
    """One row of the scorecard.

    ``key`` is the figure's glossary key, ``source`` the topic that owns its definition,
    ``unit`` how to read it (``share``, ``money``, ``points``, ``hours``, ``days``, ``ratio``,
    ``per_customer``, ``per_100``), ``good_when`` which way is good news (``up``, ``down``, or
    ``neither`` for a mix). ``change`` is None
    when either period has no value; its ``p_value`` is NaN where no test exists.
    ``missing`` says why there is no value (a table or column absent).
    """

    key: str
    source: str
    unit: str
    good_when: str
    value: float | None
    previous: float | None
    change: Change | None
    band: str | None = None
    missing: str = ""
    detail: str = ""  # what the value is about where it needs a name (the top channel)

    @property
    def tested(self) -> bool:
        return self.change is not None and math.isfinite(self.change.p_value)

    @property
    def worsened(self) -> bool:
        """Significantly worse than the previous period."""
        if self.change is None or not self.change.significant or self.good_when == "neither":
            return False
        return (self.change.delta < 0) == (self.good_when == "up")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def kpi(
    key: str,
    *,
    source: str,
    unit: str,
    good_when: str,
    value: Any,
    previous: Any,
    change: Change | None = None,
    missing: str = "",
    detail: str = "",
) -> KPI:
    """A scorecard row; without a test the change is the difference alone (p NaN)."""
    now, before = _number(value), _number(previous)
    if now is None or before is None:
        change = None
    elif change is None:
        change = Change(now - before, math.nan, math.nan, math.nan)
    return KPI(key, source, unit, good_when, now, before, change, missing=missing, detail=detail)


def merge_thresholds(overrides: Mapping[str, Mapping[str, float]] | None) -> dict:
    """The default thresholds with a unit's ``health_thresholds`` over them.

    Raises
    ------
    ParameterError
        A threshold is not a number, or names neither ``good`` nor ``act``.
    """
    merged = {key: dict(levels) for key, levels in DEFAULT_THRESHOLDS.items()}
    for key, levels in dict(overrides or {}).items():
        if not isinstance(levels, Mapping) or not set(levels) <= {"good", "act"} or not levels:
            raise ParameterError(
                f"health_thresholds['{key}'] must be {{good: number, act: number}}; got {levels!r}."
            )
        for name, level in levels.items():
            if isinstance(level, bool) or not isinstance(level, int | float):
                raise ParameterError(
                    f"health_thresholds['{key}']['{name}'] must be a number; got {level!r}."
                )
        merged[key] = {**merged.get(key, {}), **{k: float(v) for k, v in levels.items()}}
    return merged


def band(row: KPI, thresholds: Mapping[str, Mapping[str, float]]) -> str | None:
    """The row's band under ``thresholds`` (see the module's text)."""
    if row.value is None:
        return None
    levels = thresholds.get(row.key, {})
    up = row.good_when == "up"
    found = None
    if levels:
        found = WATCH
        good, act = levels.get("good"), levels.get("act")
        if act is not None and (row.value <= act if up else row.value >= act):
            found = ACT
        elif good is not None and (row.value >= good if up else row.value <= good):
            found = GOOD
    if row.worsened and found == GOOD:
        found = WATCH
    elif row.worsened and found is None:
        found = ACT  # without levels, a significant worsening is the one standard there is
    return found


def scorecard(rows: list[KPI], *, thresholds: Mapping | None = None) -> list[KPI]:
    """The rows with their bands (``thresholds``: a unit's overrides of the defaults)."""
    levels = merge_thresholds(thresholds)
    return [KPI(**{**row.__dict__, "band": band(row, levels)}) for row in rows]


def as_results(rows: list[KPI]) -> dict[str, dict]:
    """``{kpi: {value, previous, change, band}}`` as published (``change``: {delta, ci,
    p_value} or None)."""
    return {
        row.key: {
            "value": row.value,
            "previous": row.previous,
            "change": row.change.as_dict() if row.change is not None else None,
            "band": row.band,
        }
        for row in rows
    }


# ------------------------------------------------------------------ rows from each topic


def churn_rows(rates) -> list[KPI]:
    """Churn and retention rate from :func:`crmkit.metrics.churn_rates.churn_rates_analysis`."""
    now, before = rates.current, rates.previous
    return [
        kpi(
            "churn_rate",
            source="churn",
            unit="share",
            good_when="down",
            value=now.churn.value,
            previous=before.churn.value,
            change=rates.churn_change,
        ),
        kpi(
            "retention_rate",
            source="churn",
            unit="share",
            good_when="up",
            value=now.retention.value,
            previous=before.retention.value,
            change=rates.retention_change,
        ),
    ]


def clv_rows(now, before) -> list[KPI]:
    """Mean predicted CLV and LTV:CAC from :func:`crmkit.metrics.clv.analyse` at this and at
    the previous period end (``None`` where the CLV models could not be fitted)."""
    from crmkit.metrics.clv import overall_ltv_cac

    def mean(fit):
        return None if fit is None or fit.values is None else fit.mean_clv

    def ratio(fit):
        return None if fit is None or fit.ltv_cac is None else overall_ltv_cac(fit.ltv_cac)

    missing = "" if mean(now) is not None else "clv"
    return [
        kpi(
            "predicted_clv",
            source="clv",
            unit="money",
            good_when="up",
            value=mean(now),
            previous=mean(before),
            missing=missing,
        ),
        kpi(
            "ltv_cac",
            source="clv",
            unit="ratio",
            good_when="up",
            value=ratio(now),
            previous=ratio(before),
            missing=missing or ("" if ratio(now) is not None else "customers.acquisition_cost"),
        ),
    ]


def satisfaction_rows(analysis) -> list[KPI]:
    """NPS and CSAT from :func:`crmkit.metrics.satisfaction.period_scores`, the figures the
    satisfaction report shows (None: no surveys)."""
    if analysis is None:
        return [
            kpi(key, source="satisfaction", unit=unit, good_when="up", value=None,
                previous=None, missing="surveys")
            for key, unit in (("nps", "points"), ("csat", "share"))
        ]  # fmt: skip
    return [
        kpi(
            "nps",
            source="satisfaction",
            unit="points",
            good_when="up",
            value=analysis.nps.score if analysis.nps.n else None,
            previous=analysis.previous_nps.score if analysis.previous_nps.n else None,
            change=analysis.nps_change,
            missing="" if analysis.nps.n else "surveys.nps",
        ),
        kpi(
            "csat",
            source="satisfaction",
            unit="share",
            good_when="up",
            value=analysis.csat.value if analysis.csat.n else None,
            previous=analysis.previous_csat.value if analysis.previous_csat.n else None,
            change=analysis.csat_change,
            missing="" if analysis.csat.n else "surveys.csat",
        ),
    ]


def funnel_rows(analysis) -> list[KPI]:
    """Overall conversion and the median sales cycle from
    :func:`crmkit.metrics.funnel.analyse` (None: no opportunities)."""
    if analysis is None:
        return [
            kpi(key, source="funnel", unit=unit, good_when=good, value=None, previous=None,
                missing="opportunities")
            for key, unit, good in (
                ("overall_conversion", "share", "up"), ("median_cycle_days", "days", "down")
            )
        ]  # fmt: skip
    change = None
    now, before = analysis.current, analysis.previous
    if len(now) and len(before):
        test = two_proportion_test(
            int(now["reached"].iloc[-1]),
            int(now["reached"].iloc[0]),
            int(before["reached"].iloc[-1]),
            int(before["reached"].iloc[0]),
        )
        change = Change(test.delta, test.low, test.high, test.p_value)
    cycle = analysis.cycle
    return [
        kpi(
            "overall_conversion",
            source="funnel",
            unit="share",
            good_when="up",
            value=analysis.overall_conversion,
            previous=analysis.previous_overall_conversion,
            change=change,
        ),
        kpi(
            "median_cycle_days",
            source="funnel",
            unit="days",
            good_when="down",
            value=cycle.median,
            previous=cycle.previous_median,
            # The funnel's test of the cycle is Mann–Whitney's; its interval is of the shift,
            # not of this difference of medians, so none is shown.
            change=Change(cycle.median - cycle.previous_median, math.nan, math.nan, cycle.p_value),
            missing="" if math.isfinite(cycle.median) else "opportunities.closed_at",
        ),
    ]


def table(rows: list[KPI]) -> pd.DataFrame:
    """The scorecard as a frame: one row per KPI (for tests and the analyst notes)."""
    return pd.DataFrame(
        {
            "kpi": [r.key for r in rows],
            "source": [r.source for r in rows],
            "value": [r.value for r in rows],
            "previous": [r.previous for r in rows],
            "delta": [r.change.delta if r.change else None for r in rows],
            "p_value": [r.change.p_value if r.change else None for r in rows],
            "band": [r.band for r in rows],
            "missing": [r.missing for r in rows],
        }
    )


def service_rows(service) -> list[KPI]:
    """Complaint rate, first-response and resolution times (median and p90) and the SLA share
    from :func:`crmkit.metrics.service.service_analysis`."""
    no_tickets = "tickets" if "tickets" in service.missing else ""
    rows = [
        kpi(
            "complaint_rate",
            source="health",
            unit="per_100",
            good_when="down",
            value=service.complaint_rate.value,
            previous=service.previous_complaint_rate.value,
            change=service.complaint_change,
            missing="" if service.complaint_source else "tickets.is_complaint",
        )
    ]
    for name, times, column in (
        ("first_response", service.first_response, "first_response_at"),
        ("resolution", service.resolution, "resolved_at"),
    ):
        absent = no_tickets or (f"tickets.{column}" if column in service.missing else "")
        rows += [
            kpi(
                f"median_{name}_hours",
                source="health",
                unit="hours",
                good_when="down",
                value=times.median,
                previous=times.previous_median,
                change=times.change,
                missing=absent,
            ),
            kpi(
                f"p90_{name}_hours",
                source="health",
                unit="hours",
                good_when="down",
                value=times.p90,
                previous=times.previous_p90,
                missing=absent,
            ),
        ]
    rows.append(
        kpi(
            "sla_share",
            source="health",
            unit="share",
            good_when="up",
            value=service.sla_share.value if service.sla_share.trials else None,
            previous=service.previous_sla_share.value
            if service.previous_sla_share.trials
            else None,
            change=service.sla_change,
            missing=no_tickets,
        )
    )
    return rows


def interaction_rows(contacts) -> list[KPI]:
    """Interaction frequency and the channel mix (the top channel's share of interactions)
    from :func:`crmkit.metrics.interactions.interactions_analysis`."""
    missing = "interactions" if "interactions" in contacts.missing else ""
    return [
        kpi(
            "interaction_frequency",
            source="health",
            unit="per_customer",
            good_when="up",
            value=contacts.frequency,
            previous=contacts.previous_frequency,
            change=contacts.frequency_change,
            missing=missing,
        ),
        kpi(
            "interaction_share",
            source="health",
            unit="share",
            good_when="neither",  # a mix is neither better nor worse for moving
            value=contacts.top_channel_share if contacts.top_channel else None,
            previous=contacts.top_channel_previous_share if contacts.top_channel else None,
            change=contacts.top_channel_change,
            missing=missing,
            detail=str(contacts.top_channel or ""),
        ),
    ]


def cost_rows(spend) -> list[KPI]:
    """Period CAC, retention cost per kept customer and service cost per ticket from
    :func:`crmkit.metrics.costs.costs_analysis` (differences only: no test)."""
    rows = []
    for key, value, previous in (
        ("period_cac", spend.cac, spend.previous_cac),
        (
            "retention_cost_per_customer",
            spend.retention_cost_per_customer,
            spend.previous_retention_cost_per_customer,
        ),
        (
            "service_cost_per_ticket",
            spend.service_cost_per_ticket,
            spend.previous_service_cost_per_ticket,
        ),
    ):
        rows.append(
            kpi(
                key,
                source="health",
                unit="money",
                good_when="down",
                value=value,
                previous=previous,
                missing="costs" if "costs" in spend.missing and _number(value) is None else "",
            )
        )
    return rows
