"""Speed of the churn drivers, model, risk list and lifetime curves on a large unit.

    python benchmarks/churn.py [--customers 1000000] [--orders 10000000]

A synthetic unit generated with numpy (no loop over customers): sign-ups over three years,
orders at each customer's own rate until they drop out, recorded cancellations
(``churn_events``), tickets with complaints that come before dropping out, interactions and
surveys; ids are Arrow-backed strings as :func:`crmkit.load_unit` gives them. Timed in the
same process, each against the reference:

1. reference: one pandas ``groupby("customer_id")["amount"].sum()`` over the orders;
2. the churn definition and the features at one cut day (:func:`features_at`);
3. drivers: features at three cut days, labels, metric cohorts, the L1 logistic model with
   C chosen by cross-validation, the gradient-boosted model with permutation importance and
   the backtest (models fitted on a stratified sample of at most 200,000 customers; every
   customer is scored);
4. the customers at risk (every active customer scored);
5. Kaplan–Meier lifetime curves by channel, region and RFM segment
   (:mod:`crmkit.metrics.churn_lifetimes`);
6. the whole report's analysis, :func:`crmkit.metrics.churn.analyse` (adds the rates, the
   stated reasons and the predicted CLV behind the value at risk).

Issue #13 asks for features, model and curves on 1 million customers and 10 million orders
in under a minute.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crmkit.core.periods import parse_period
from crmkit.metrics import churn
from crmkit.metrics.churn_drivers import drivers_analysis
from crmkit.metrics.churn_features import features_at
from crmkit.metrics.churn_lifetimes import lifetimes_analysis
from crmkit.metrics.churn_risk import risk_analysis
from crmkit.metrics.churn_status import choose_definition

START = np.datetime64("2023-10-01", "D")
HORIZON = 1095  # days: to 2026-09-30, the end of 2026-Q3
IDS = pd.StringDtype("pyarrow")


def _days(offsets: np.ndarray) -> np.ndarray:
    return (START + np.floor(offsets).astype("timedelta64[D]")).astype("datetime64[ns]")


def _pick(rng, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` customers drawn in proportion to ``weights`` (inverse CDF, no big p= vector)."""
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")


def synthetic_unit(n_customers: int, n_orders: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """One unit's tables, churn more likely after a complaint and a low score."""
    rng = np.random.default_rng(seed)
    n = n_customers
    ids = pd.array(np.char.add("C", np.char.zfill(np.arange(n).astype(str), 7)), dtype=IDS)
    signup = rng.uniform(0, HORIZON - 30, n)
    dropout = signup + rng.exponential(600, n)
    stop = np.minimum(dropout, HORIZON + 0.999)
    span = np.maximum(stop - signup, 1.0)
    rate = rng.gamma(1.5, 1.0, n)
    who = _pick(rng, rate * span, n_orders)
    who[:n] = np.arange(n)  # everyone orders at least once
    order_day = signup[who] + rng.random(n_orders) * span[who]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "business_unit": "big",
            "signup_date": _days(signup),
            "region": pd.array(rng.choice(["North", "South", "East", "West", "Central"], n),
                               dtype=IDS),
            "acquisition_channel": pd.array(
                rng.choice(["search ads", "social", "referral", "partner", "store", "email"], n),
                dtype=IDS,
            ),
            "plan": pd.array(rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
                             dtype=IDS),
            "age": rng.integers(18, 80, n).astype(float),
        }
    )  # fmt: skip
    transactions = pd.DataFrame(
        {
            "order_id": pd.array(np.arange(n_orders).astype(str), dtype=IDS),
            "customer_id": ids.take(who),
            "order_date": _days(order_day),
            "amount": np.round(rng.gamma(2.0, 40.0, n_orders), 2),
        }
    )
    left = dropout <= HORIZON
    churn_events = pd.DataFrame(
        {
            "customer_id": ids[left],
            "churned_at": _days(np.minimum(dropout[left] + rng.uniform(0, 30, left.sum()),
                                           HORIZON)),
        }
    )  # fmt: skip
    # tickets: a base rate, and a complaint in the 60 days before half the dropouts
    n_base = n // 2
    base_who = _pick(rng, span, n_base)
    warned = np.flatnonzero(left & (rng.random(n) < 0.5))
    ticket_who = np.concatenate([base_who, warned])
    ticket_day = np.concatenate(
        [signup[base_who] + rng.random(n_base) * span[base_who],
         np.maximum(dropout[warned] - rng.uniform(0, 60, len(warned)), signup[warned])]
    )  # fmt: skip
    complaint = np.concatenate([rng.random(n_base) < 0.12, np.ones(len(warned), dtype=bool)])
    tickets = pd.DataFrame(
        {
            "ticket_id": pd.array(np.arange(len(ticket_who)).astype(str), dtype=IDS),
            "customer_id": ids.take(ticket_who),
            "opened_at": _days(ticket_day),
            "is_complaint": pd.array(complaint, dtype="boolean"),
        }
    )
    n_touch = 2 * n
    touch_who = _pick(rng, span, n_touch)
    interactions = pd.DataFrame(
        {
            "interaction_id": pd.array(np.arange(n_touch).astype(str), dtype=IDS),
            "customer_id": ids.take(touch_who),
            "occurred_at": _days(signup[touch_who] + rng.random(n_touch) * span[touch_who]),
            "kind": pd.array(rng.choice(["sales", "support", "marketing", "complaint"], n_touch,
                                        p=[0.4, 0.3, 0.25, 0.05]), dtype=IDS),
        }
    )  # fmt: skip
    survey_who = who[rng.random(n_orders) < 0.1]
    survey_day = signup[survey_who] + rng.random(len(survey_who)) * span[survey_who]
    near_exit = (dropout[survey_who] - survey_day) < 120
    mood = rng.normal(0, 1, len(survey_who)) - 1.5 * near_exit
    surveys = pd.DataFrame(
        {
            "response_id": pd.array(np.arange(len(survey_who)).astype(str), dtype=IDS),
            "customer_id": ids.take(survey_who),
            "responded_at": _days(survey_day),
            "nps": np.clip(np.round(7.5 + 1.8 * mood), 0, 10),
            "csat": np.clip(np.round(4.0 + 0.8 * mood), 1, 5),
        }
    )
    return {
        "customers": customers,
        "transactions": transactions,
        "churn_events": churn_events,
        "tickets": tickets,
        "interactions": interactions,
        "surveys": surveys,
    }


def timed(label: str, work):
    began = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - began
    print(f"{label:64s} {seconds:6.2f} s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    args = parser.parse_args()
    unit, _ = timed(
        "generating the unit (not counted)",
        lambda: synthetic_unit(args.customers, args.orders),
    )
    sizes = ", ".join(f"{name} {len(frame):,}" for name, frame in unit.items())
    print(f"rows: {sizes}")
    period = parse_period("2026-Q3")
    orders = unit["transactions"]
    _, reference = timed(
        "reference: groupby(customer_id).amount.sum() over the orders",
        lambda: orders.groupby("customer_id")["amount"].sum(),
    )
    optional = {k: unit[k] for k in ("interactions", "tickets", "surveys")}
    definition, t_definition = timed(
        "churn definition (choose_definition)",
        lambda: choose_definition(orders, unit["churn_events"], period=period),
    )
    _, t_features = timed(
        "features at one cut day (features_at)",
        lambda: features_at(unit["customers"], orders, cut=period.previous_end, **optional),
    )
    drivers, t_drivers = timed(
        "drivers: 3 cuts, labels, cohorts, L1 + boosted models, backtest",
        lambda: drivers_analysis(
            unit["customers"],
            orders,
            unit["churn_events"],
            period=period,
            definition=definition,
            **optional,
        ),
    )
    risk, t_risk = timed(
        "customers at risk: every active customer scored",
        lambda: risk_analysis(drivers, top=20),
    )
    _, t_curves = timed(
        "Kaplan–Meier lifetimes by channel, region, RFM segment",
        lambda: lifetimes_analysis(
            unit["customers"],
            orders,
            unit["churn_events"],
            period=period,
            definition=definition,
            breakdowns=["acquisition_channel", "region"],
        ),
    )
    _, t_report = timed(
        "the whole report: churn.analyse (adds rates, reasons, CLV)",
        lambda: churn.analyse(
            unit["customers"],
            orders,
            period=period,
            churn_events=unit["churn_events"],
            breakdowns=["acquisition_channel", "region"],
            **optional,
        ),
    )
    total = t_definition + t_drivers + t_risk + t_curves
    e = drivers.evaluation
    print(
        f"active at the cut {drivers.customers:,}, churned {drivers.churned:,}; models fitted "
        f"on {drivers.fit_rows:,}; {e.method}: AUC {e.auc.value:.3f} "
        f"[{e.auc.low:.3f}, {e.auc.high:.3f}], top-decile lift {e.top_decile_lift:.2f}, "
        f"boosted AUC {e.boosting_auc:.3f}"
    )
    print("top drivers:", ", ".join(drivers.top_drivers[:5]))
    print(f"scored {risk.active:,} active customers; value at risk {risk.value_at_risk:,.0f}")
    print(
        f"definition + drivers + risk + curves: {total:.1f} s "
        f"({total / reference:.0f}× the reference); features at one cut "
        f"{t_features / reference:.1f}×, drivers {t_drivers / reference:.1f}×, "
        f"risk {t_risk / reference:.1f}×, curves {t_curves / reference:.1f}×; the whole "
        f"report's analysis {t_report:.1f} s ({t_report / reference:.0f}×)"
    )


if __name__ == "__main__":
    main()
