"""The relationship health review's numbers in one call: the KPI scorecard, interactions,
service, costs, the customer health score, its validation against churn, and the alerts.

Each part has its own module. :func:`analyse` takes every figure another report shows from
that report's own analysis (churn rates, the CLV fit, satisfaction, the funnel), decides the
churn definition once as the churn report does (:func:`~crmkit.metrics.churn_status.
choose_definition` with the same ``churn_inactivity_days``), and hands the customers active
in each period to every per-customer figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from crmkit.core.errors import CrmkitError
from crmkit.core.periods import Period, require_period
from crmkit.metrics import churn, clv, funnel, satisfaction
from crmkit.metrics import scorecard as cards
from crmkit.metrics.churn_rates import ChurnRates, churn_rates_analysis
from crmkit.metrics.churn_status import ChurnDefinition, choose_definition
from crmkit.metrics.costs import CostsAnalysis, costs_analysis
from crmkit.metrics.health_score import HealthSettings
from crmkit.metrics.health_validation import HealthScoreAnalysis, health_score_analysis
from crmkit.metrics.interactions import InteractionsAnalysis, interactions_analysis
from crmkit.metrics.scorecard import KPI
from crmkit.metrics.service import SLA_HOURS, ServiceAnalysis, service_analysis


@dataclass(frozen=True)
class HealthAnalysis:
    """Everything the health review shows for one unit and period.

    ``score`` holds the health score at the period end and at the previous period end, its
    validation against this period's churn and the alerts; the CLV fits' figures are the
    scorecard's (a million customers' fits at two days would hold ~0.3 GB, so they are not
    kept); ``funnel_missing`` why the funnel's figures are absent ("" when present).
    """

    period: Period
    definition: ChurnDefinition
    rates: ChurnRates
    scorecard: list[KPI]
    interactions: InteractionsAnalysis
    service: ServiceAnalysis
    costs: CostsAnalysis
    score: HealthScoreAnalysis
    funnel_missing: str = ""


def _clv_figures(transactions, customers, costs, *, period, settings: dict):
    """The scorecard's CLV rows, and each customer's predicted CLV at the period end and at
    the previous period end (None where not fitted): all the review uses of the two fits.
    The period end's is the clv report's own fit (shared in a run); the previous end's needs
    only its predicted values (:func:`crmkit.metrics.clv.predicted_values`)."""
    fit = _fitted(clv.analyse, transactions, customers, costs, period=period, settings=settings)
    previous = _fitted(
        clv.predicted_values, transactions, customers, costs, period=period.previous(),
        settings=settings,
    )  # fmt: skip
    return cards.clv_rows(fit, previous), _values(fit), _values(previous)


def _fitted(fit, transactions, customers, costs, *, period, settings: dict):
    """``fit``'s result at ``period``'s end, or None where it cannot be fitted (the clv report
    says why; here the value parts show "no data")."""
    try:
        fitted = fit(transactions, customers, period=period, costs=costs, **settings)
    except CrmkitError:
        return None
    return None if fitted.values is None or fitted.values.empty else fitted


def _values(fit) -> pd.Series | None:
    return None if fit is None else fit.values.set_index("customer_id")["clv"]


def _funnel_figures(opportunities, stage_history, *, stages, period, window_days):
    """The scorecard's funnel rows, and why they are empty ("" when not)."""
    if opportunities is None or not len(opportunities) or stage_history is None:
        return cards.funnel_rows(None), "opportunities"
    try:
        pipeline = funnel.analyse(
            opportunities, stage_history, stages=list(stages), period=period,
            window_days=window_days,
        )  # fmt: skip
    except CrmkitError as error:  # the funnel report says the same, in full
        return cards.funnel_rows(None), str(error)
    return cards.funnel_rows(pipeline), ""


REQUIRED = ("customers", "transactions")
READS: dict[str, tuple[str, ...] | None] = {
    **churn.READS,
    "opportunities": None,
    "stage_history": None,
}
"""The columns :func:`analyse` reads of each table (None: all of them), for
:meth:`crmkit.load.unit.CRMData.read`: the churn report's (the review's churn, CLV and score
parts read what it reads), and the funnel's tables whole."""


def analyse(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    period: Period,
    churn_events: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    costs: pd.DataFrame | None = None,
    opportunities: pd.DataFrame | None = None,
    stage_history: pd.DataFrame | None = None,
    settings: HealthSettings | None = None,
    sla_hours: float = SLA_HOURS,
    purchase_days: int = 30,
    thresholds: dict | None = None,
    inactivity_days: int = 0,
    funnel_stages: list[str] | tuple[str, ...] = ("lead", "intent", "negotiation", "won"),
    conversion_window_days: int = 90,
    clv_horizon_months: int = 12,
    clv_discount_rate: float = 0.01,
    clv_holdout_weeks: int = 26,
) -> HealthAnalysis:
    """The health review of one unit: see each part's module for its definitions.

    Parameters
    ----------
    customers, transactions
        The unit's tables up to the period end.
    period
        The reporting period, compared with the one before it.
    churn_events, interactions, tickets, surveys, costs, opportunities, stage_history
        Optional tables (None when absent); a part without its table shows "no data".
    settings
        The health score's weights, grids, bands and cap rule (defaults when None).
    sla_hours
        Hours within which a ticket should be resolved.
    purchase_days
        Days after an interaction in which an order counts as following it.
    thresholds
        The unit's scorecard levels over :data:`~crmkit.metrics.scorecard.DEFAULT_THRESHOLDS`.
    inactivity_days, funnel_stages, conversion_window_days, clv_*
        The churn, funnel and clv reports' settings, so every figure here is theirs.
    """
    require_period(period, caller="health.analyse")
    settings = settings or HealthSettings()
    events = churn_events if churn_events is not None and len(churn_events) else None
    definition = choose_definition(
        transactions, events, period=period, inactivity_days=inactivity_days
    )
    rates = churn_rates_analysis(
        customers, transactions, events, period=period, definition=definition
    )
    now, before = rates.current, rates.previous
    contacts = interactions_analysis(
        interactions,
        transactions,
        period=period,
        active=now.active_customers,
        previous_active=before.active_customers,
        monthly_active=rates.trend,
        purchase_days=purchase_days,
    )
    service = service_analysis(
        tickets,
        period=period,
        active=now.active_customers,
        previous_active=before.active_customers,
        monthly_active=rates.trend,
        sla_hours=sla_hours,
        interactions=interactions,
    )
    spend = costs_analysis(
        costs,
        customers,
        period=period,
        retained=now.churn.trials - now.churn.successes,
        previous_retained=before.churn.trials - before.churn.successes,
        tickets_opened=service.tickets,
        previous_tickets_opened=service.previous_tickets,
    )
    clv_settings = {
        "horizon_months": clv_horizon_months,
        "monthly_discount_rate": clv_discount_rate,
        "holdout_weeks": clv_holdout_weeks,
    }
    clv_rows, clv_values, previous_clv_values = _clv_figures(
        transactions, customers, costs, period=period, settings=clv_settings
    )
    sat = None
    if surveys is not None and len(surveys):
        sat = satisfaction.period_scores(surveys, period=period)
    funnel_rows, funnel_missing = _funnel_figures(
        opportunities, stage_history, stages=funnel_stages, period=period,
        window_days=conversion_window_days,
    )  # fmt: skip

    rows = [
        *cards.churn_rows(rates),
        *clv_rows,
        *cards.satisfaction_rows(sat),
        *funnel_rows,
        *cards.interaction_rows(contacts),
        *cards.service_rows(service),
        *cards.cost_rows(spend),
    ]
    rows = cards.scorecard(rows, thresholds=thresholds)

    score = health_score_analysis(
        customers,
        transactions,
        period=period,
        definition=definition,
        churn_events=events,
        interactions=interactions,
        tickets=tickets,
        surveys=surveys,
        clv=clv_values,
        previous_clv=previous_clv_values,
        settings=settings,
    )
    return HealthAnalysis(
        period=period,
        definition=definition,
        rates=rates,
        scorecard=rows,
        interactions=contacts,
        service=service,
        costs=spend,
        score=score,
        funnel_missing=funnel_missing,
    )
