"""The churn report's numbers in one call: rates, lifetimes, stated reasons, drivers, risk.

Each part has its own module; :func:`analyse` decides the unit's churn definition once
(:func:`crmkit.metrics.churn_status.choose_definition`) and hands it to every part, so every
figure of the report counts the same customers as churned.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from crmkit.core.periods import Period, require_period
from crmkit.metrics import clv
from crmkit.metrics.churn_drivers import ChurnDrivers, drivers_analysis
from crmkit.metrics.churn_features import encode
from crmkit.metrics.churn_lifetimes import ChurnLifetimes, lifetimes_analysis
from crmkit.metrics.churn_rates import ChurnRates, churn_rates_analysis
from crmkit.metrics.churn_reasons import ChurnReasons, reasons_analysis
from crmkit.metrics.churn_risk import ChurnRisk, risk_analysis
from crmkit.metrics.churn_status import ChurnDefinition, choose_definition


@dataclass(frozen=True)
class ChurnAnalysis:
    """Everything the churn report shows for one unit and period.

    ``value_basis`` says what the value at risk is counted in: ``"clv"`` (predicted CLV over
    the clv report's horizon, the same figure that report shows) or ``"trailing_revenue"``
    (spend in the last 365 days, where the CLV models could not be fitted).
    """

    period: Period
    definition: ChurnDefinition
    rates: ChurnRates
    lifetimes: ChurnLifetimes
    reasons: ChurnReasons
    drivers: ChurnDrivers
    risk: ChurnRisk
    value_basis: str


def expected_value(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    period: Period,
    horizon_months: int,
    monthly_discount_rate: float,
    holdout_weeks: int,
    costs: pd.DataFrame | None = None,
) -> pd.Series | None:
    """Each customer's predicted CLV at the period end, exactly as the clv report computes it
    (:func:`crmkit.metrics.clv.analyse` with the unit's CLV settings), or None where the
    models cannot be fitted (the risk part then counts trailing revenue). ``costs`` does not
    change the values; given as the clv report gives it, a run shares that report's fit."""
    fitted = clv.analyse(
        transactions,
        customers,
        period=period,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
        holdout_weeks=holdout_weeks,
        costs=costs,
    )
    if fitted.values is None or fitted.values.empty:
        return None
    return fitted.values.set_index("customer_id")["clv"]


REQUIRED = ("customers", "transactions")
READS: dict[str, tuple[str, ...] | None] = {
    "customers": None,  # every column: any of them can be a driver or a breakdown
    "transactions": clv.ORDER_COLUMNS,  # the rates' columns, and the clv report's fit's
    "churn_events": None,
    "interactions": ("customer_id", "occurred_at", "channel", "direction", "kind"),
    "tickets": None,
    "surveys": ("customer_id", "responded_at", "nps", "csat"),
    "costs": None,
}
"""The columns :func:`analyse` reads of each table (None: all of them), for
:meth:`crmkit.load.unit.CRMData.read`: the report holds no order ids, survey comments ..."""


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
    inactivity_days: int = 0,
    breakdowns: tuple[str, ...] | list[str] = (),
    horizon_months: int = 24,
    at_risk_top: int = 20,
    clv_horizon_months: int = 12,
    clv_discount_rate: float = 0.01,
    clv_holdout_weeks: int = 26,
    random_state: int = 0,
) -> ChurnAnalysis:
    """The churn report for one unit: see each part's module for its definitions.

    Parameters
    ----------
    customers, transactions
        The unit's tables up to the period end.
    period
        The reporting period, compared with the one before it.
    churn_events, interactions, tickets, surveys, costs
        Optional tables (None when absent); ``costs`` only as the clv report's input, so the
        run shares its fit (:mod:`crmkit.core.shared`). Without ``churn_events`` rows churn
        is inferred from ``inactivity_days`` without an order (0: the unit's 90th-percentile
        gap).
    breakdowns
        Customer columns to compare lifetimes by, besides acquisition channel, region and
        the RFM segment.
    horizon_months
        Horizon of the restricted mean lifetime.
    at_risk_top
        How many of the customers most at risk to list.
    clv_horizon_months, clv_discount_rate, clv_holdout_weeks
        The clv report's settings, so a customer's value here is the CLV shown there.
    """
    require_period(period, caller="churn.analyse")
    events = churn_events if churn_events is not None and len(churn_events) else None
    definition = choose_definition(
        transactions, events, period=period, inactivity_days=inactivity_days
    )
    rates = churn_rates_analysis(
        customers, transactions, events, period=period, definition=definition
    )
    tables = encode(
        customers, transactions, interactions=interactions, tickets=tickets, surveys=surveys
    )
    at_end = tables.churn_status(events, definition, as_of=period.end)
    lifetimes = lifetimes_analysis(
        customers,
        transactions,
        events,
        period=period,
        definition=definition,
        breakdowns=breakdowns,
        horizon_months=horizon_months,
        status=at_end,
    )
    previous_end = tables.churn_status(events, definition, as_of=period.previous_end)
    reasons = reasons_analysis(events, period=period, churned=at_end, previous_churned=previous_end)
    drivers = drivers_analysis(
        customers,
        transactions,
        events,
        period=period,
        definition=definition,
        interactions=interactions,
        tickets=tickets,
        surveys=surveys,
        random_state=random_state,
        statuses={period.end: at_end, period.previous_end: previous_end},
        tables=tables,
    )
    value = None
    if drivers.model is not None and len(drivers.current):  # else nobody is scored
        value = expected_value(
            transactions,
            customers,
            period=period,
            horizon_months=clv_horizon_months,
            monthly_discount_rate=clv_discount_rate,
            holdout_weeks=clv_holdout_weeks,
            costs=costs,
        )
    risk = risk_analysis(drivers, value=value, top=at_risk_top)
    return ChurnAnalysis(
        period, definition, rates, lifetimes, reasons, drivers, risk, risk.value_basis
    )
