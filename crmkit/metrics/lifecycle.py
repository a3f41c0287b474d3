"""Lifecycle stages: each customer's stage on a day (prospect, new, active, repeat, lapsing,
churned) by days since their first and last order and the unit's churn definition, and the
transitions between the stages of two days.

Stages are codes; the segmentation topic names them.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError
from crmkit.core.periods import rows_through
from crmkit.load.lookups import is_in
from crmkit.metrics.churn_status import ChurnDefinition, churn_dates
from crmkit.metrics.customer_orders import order_totals
from crmkit.metrics.customer_positions import positions

LIFECYCLE_STAGES = ["prospect", "new", "active", "repeat", "lapsing", "churned"]
"""Lifecycle stage codes in order; the report names them (glossary terms ``stage_<code>``).
``lapsing`` is not the RFM segment ``at_risk``: one is days since the last order, the other
a rank among customers."""
LIFECYCLE_RULES = {"new_days": 90, "active_days": 180, "loyal_orders": 3}
"""The lifecycle stage rules and their defaults (see :func:`lifecycle_stages`). Churned is
not a rule of its own: it is the unit's churn definition, as in the churn report."""


def lifecycle_rules_with_defaults(rules: dict | None) -> dict[str, int]:
    """:data:`LIFECYCLE_RULES` overridden by ``rules``; an unknown rule is an error."""
    rules = dict(rules or {})
    if "churn_days" in rules:
        raise ParameterError(
            "lifecycle_rules: churn_days is no longer a lifecycle rule: a customer's stage is "
            "churned by the unit's churn definition, as in the churn report. Remove it, and "
            "set churn_inactivity_days for the days without an order that count as churn."
        )
    unknown = sorted(set(rules) - set(LIFECYCLE_RULES))
    if unknown:
        raise ParameterError(
            f"lifecycle_rules: unknown rule(s) {unknown}; the rules are {list(LIFECYCLE_RULES)}."
        )
    return {**LIFECYCLE_RULES, **rules}


def lifecycle_stages(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: date | str | pd.Timestamp,
    definition: ChurnDefinition,
    churn_events: pd.DataFrame | None = None,
    new_days: int = 90,
    active_days: int = 180,
    loyal_orders: int = 3,
) -> pd.Series:
    """Each customer's stage on ``as_of`` (customers signed up by then).

    churned: churned by ``as_of`` under the unit's churn ``definition``
    (:func:`~crmkit.metrics.churn_status.churn_dates`: a churn event not followed by an
    order, or silence past the inactivity days). prospect: no order yet. lapsing: last order
    more than ``active_days`` ago. new: first order within ``new_days``. repeat: at least
    ``loyal_orders`` orders and an order within ``active_days``. active: the rest (an order
    within ``active_days``).
    """
    rules = {"new_days": new_days, "active_days": active_days, "loyal_orders": loyal_orders}
    totals = order_totals(transactions, through=as_of)
    return stages_from_totals(
        customers, totals, rules, as_of=as_of, churn_events=churn_events, definition=definition
    )


def churned_by(
    customers: pd.DataFrame,
    totals: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    definition: ChurnDefinition,
    *,
    as_of: date | str | pd.Timestamp,
) -> pd.Series:
    """Ids of the customers churned by ``as_of`` under ``definition``, from the orders'
    :func:`~crmkit.metrics.customer_orders.order_totals` up to then (each one's last order
    is all :func:`~crmkit.metrics.churn_status.churn_dates` reads of the orders)."""
    last_orders = pd.DataFrame(
        {"customer_id": totals["customer_id"], "order_date": totals["last_order"]}
    )
    status = churn_dates(customers, last_orders, churn_events, definition, as_of=as_of)
    return status.loc[status["churned_at"].notna(), "customer_id"]


def stages_from_totals(
    customers: pd.DataFrame,
    totals: pd.DataFrame,
    rules: dict[str, int],
    *,
    as_of: date | str | pd.Timestamp,
    churn_events: pd.DataFrame | None,
    definition: ChurnDefinition,
) -> pd.Series:
    """:func:`lifecycle_stages` from the orders' :func:`~crmkit.metrics.customer_orders.
    order_totals` up to ``as_of``, for a caller that has them already; ``rules`` every rule
    (:func:`lifecycle_rules_with_defaults`)."""
    churned = churned_by(customers, totals, churn_events, definition, as_of=as_of)
    people = rows_through(customers[["customer_id", "signup_date"]], "signup_date", as_of)
    people = people["customer_id"]
    row = positions(totals["customer_id"], people)[0]  # each person's totals, −1: none
    bought = row >= 0
    today = np.datetime64(pd.Timestamp(as_of).normalize(), "D")

    def of_buyers(column: str, dtype: str) -> np.ndarray:
        return totals[column].to_numpy(dtype=dtype)[row[bought]]

    since_last, since_first, orders = (np.full(len(people), np.nan) for _ in range(3))
    for since, column in ((since_last, "last_order"), (since_first, "first_order")):
        since[bought] = today - of_buyers(column, "datetime64[ns]").astype("datetime64[D]")
    orders[bought] = of_buyers("orders", "float")
    stage = np.select(
        [
            is_in(people, churned),
            ~bought,
            since_last > rules["active_days"],
            since_first <= rules["new_days"],
            orders >= rules["loyal_orders"],
        ],
        ["churned", "prospect", "lapsing", "new", "repeat"],
        default="active",
    )
    stages = pd.Series(stage, index=people.to_numpy(), name="stage")
    stages.index.name = "customer_id"
    return stages


def transition_matrix(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """Customers moving from each stage (rows, at the previous period end) to each stage
    (columns, now). Customers who signed up in between appear in the row 'not yet signed up'."""
    joined = pd.DataFrame(
        {"from": before.reindex(after.index).fillna("not yet signed up"), "to": after}
    )
    table = pd.crosstab(joined["from"], joined["to"])
    rows = [s for s in [*LIFECYCLE_STAGES, "not yet signed up"] if s in table.index]
    columns = [s for s in LIFECYCLE_STAGES if s in table.columns]
    return table.reindex(index=rows, columns=columns, fill_value=0)
