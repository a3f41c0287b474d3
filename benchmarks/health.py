"""Speed of the health review's parts on a large unit.

    python benchmarks/health.py [--customers 1000000] [--orders 10000000]

The synthetic unit of ``benchmarks/churn.py`` (sign-ups over three years, orders until a
dropout, cancellations, tickets with complaints before leaving, interactions, surveys), with
ticket response and resolution times, interaction channels and a monthly ``costs`` table
added. Timed in the same process, each against the reference:

1. reference: one pandas ``groupby("customer_id")["amount"].sum()`` over the orders;
2. the churn rates the review's per-customer figures divide by (``churn_rates_analysis``);
3. interactions: frequency, mix, trend, followed by a purchase (``interactions_analysis``);
4. service: tickets, Kaplan–Meier response and resolution times, SLA, complaints
   (``service_analysis``);
5. costs (``costs_analysis``);
6. the health score at three period ends, its validation with the L1 suggested weights, and
   the alerts (``health_score_analysis``, without the CLV tier: the CLV fit is the clv
   report's and is timed in ``benchmarks/clv_speed.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from churn import IDS, synthetic_unit, timed

from crmkit.core.periods import parse_period
from crmkit.metrics.churn_rates import churn_rates_analysis
from crmkit.metrics.churn_status import choose_definition
from crmkit.metrics.costs import costs_analysis
from crmkit.metrics.health_validation import health_score_analysis
from crmkit.metrics.interactions import interactions_analysis
from crmkit.metrics.service import service_analysis


def with_health_columns(unit: dict[str, pd.DataFrame], seed: int = 1) -> dict:
    """Response and resolution times on the tickets, channels on the interactions and a
    monthly costs table."""
    rng = np.random.default_rng(seed)
    tickets = unit["tickets"]
    k = len(tickets)
    answered = tickets["opened_at"] + pd.to_timedelta(rng.gamma(2.0, 5.0, k), unit="h")
    resolved = answered + pd.to_timedelta(rng.gamma(2.0, 30.0, k), unit="h")
    unit["tickets"] = tickets.assign(first_response_at=answered, resolved_at=resolved)
    touches = unit["interactions"]
    channels = rng.choice(
        ["email", "phone", "chat", "visit"], len(touches), p=[0.4, 0.25, 0.25, 0.1]
    )
    unit["interactions"] = touches.assign(channel=pd.array(channels, dtype=IDS))
    months = pd.date_range("2023-10-01", "2026-09-01", freq="MS")
    channels = ["search ads", "social", "referral", "partner", "store", "email"]
    rows = [(m, "acquisition", c, 1000.0 * (1 + i)) for m in months for i, c in enumerate(channels)]
    rows += [(m, kind, None, 50_000.0) for m in months for kind in ("retention", "service")]
    unit["costs"] = pd.DataFrame(rows, columns=["month", "category", "channel", "amount"]).assign(
        business_unit="big"
    )
    return unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    args = parser.parse_args()
    unit, _ = timed(
        "generating the unit (not counted)",
        lambda: with_health_columns(synthetic_unit(args.customers, args.orders)),
    )
    print("rows: " + ", ".join(f"{name} {len(frame):,}" for name, frame in unit.items()))
    period = parse_period("2026-Q3")
    orders = unit["transactions"]
    _, reference = timed(
        "reference: groupby(customer_id).amount.sum() over the orders",
        lambda: orders.groupby("customer_id")["amount"].sum(),
    )
    definition = choose_definition(orders, unit["churn_events"], period=period)
    rates, t_rates = timed(
        "churn rates (the base of every per-customer figure)",
        lambda: churn_rates_analysis(
            unit["customers"], orders, unit["churn_events"], period=period, definition=definition
        ),
    )
    now, before = rates.current, rates.previous
    _, t_contacts = timed(
        "interactions (interactions_analysis)",
        lambda: interactions_analysis(
            unit["interactions"],
            orders,
            period=period,
            active=now.active_customers,
            previous_active=before.active_customers,
            monthly_active=rates.trend,
        ),
    )
    service, t_service = timed(
        "service (service_analysis)",
        lambda: service_analysis(
            unit["tickets"],
            period=period,
            active=now.active_customers,
            previous_active=before.active_customers,
            monthly_active=rates.trend,
        ),
    )
    _, t_costs = timed(
        "costs (costs_analysis)",
        lambda: costs_analysis(
            unit["costs"],
            unit["customers"],
            period=period,
            retained=now.churn.trials - now.churn.successes,
            previous_retained=before.churn.trials - before.churn.successes,
            tickets_opened=service.tickets,
            previous_tickets_opened=service.previous_tickets,
        ),
    )
    _, t_score = timed(
        "health score at 3 period ends, validation, L1 weights, alerts",
        lambda: health_score_analysis(
            unit["customers"],
            orders,
            period=period,
            definition=definition,
            churn_events=unit["churn_events"],
            interactions=unit["interactions"],
            tickets=unit["tickets"],
            surveys=unit["surveys"],
        ),
    )
    total = t_rates + t_contacts + t_service + t_costs + t_score
    print(f"{'the review without the CLV fits':64s} {total:6.2f} s")
    print(f"{'ratio to the reference groupby':64s} {total / reference:6.1f} ×")


if __name__ == "__main__":
    main()
