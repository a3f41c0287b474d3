"""Speed of crmkit.metrics.clv on a large synthetic history.

    python benchmarks/clv_speed.py [--orders 10000000] [--customers 1000000]

1. ``rfm_summary`` on N orders of M customers, against a plain DuckDB GROUP BY over the
   same frame in the same process (the reference; issue #3 aims for ≤ 1.2×), and against
   the same summary in plain pandas.
2. BG/NBD, Pareto/NBD and Gamma-Gamma fits on the summary (fitted once per distinct
   (frequency, recency, T) history, weighted by its customers; see
   crmkit.metrics.clv_histories), with how many distinct histories and pairs there are.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crmkit.metrics import clv, clv_histories
from crmkit.topics.clv import fit_note


def synthetic_orders(n_orders: int, n_customers: int, seed: int = 0) -> pd.DataFrame:
    """Orders over three years: customer ids as text, a skewed number of orders each."""
    rng = np.random.default_rng(seed)
    names = pd.Index([f"C{i:07d}" for i in range(n_customers)])
    weights = rng.gamma(0.6, 1.0, n_customers)
    codes = rng.choice(n_customers, size=n_orders, p=weights / weights.sum())
    codes[:n_customers] = np.arange(n_customers)  # every customer orders at least once
    start = np.datetime64("2023-10-01")
    days = rng.integers(0, 1096, n_orders).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(codes, categories=names).astype(str),
            "order_date": (start + days).astype("datetime64[ns]"),
            "amount": np.round(rng.gamma(2.0, 40.0, n_orders), 2),
        }
    )


def simulate_bgnbd(n: int, *, r=0.6, alpha=5.0, a=0.6, b=2.5, weeks=156.0, seed=0):
    """A BG/NBD customer base (Fader, Hardie & Lee 2005) as an rfm summary: births uniform
    over the history, purchases by each customer's rate, dropout after repeat purchases."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(1, weeks, n)
    rate = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    t = np.zeros(n)
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1 / rate[idx])
        bought = t[idx] < T[idx]
        done = idx[~bought]
        active[done] = False
        buyers = idx[bought]
        frequency[buyers] += 1
        recency[buyers] = t[buyers]
        active[buyers[rng.random(len(buyers)) < p[buyers]]] = False
    days = np.floor(recency * 7) / 7  # purchases on whole days, as rfm_summary counts them
    return pd.DataFrame({"frequency": frequency, "recency": days, "T": np.floor(T * 7) / 7})


def duckdb_reference(orders: pd.DataFrame, end: str) -> pd.DataFrame:
    """The reference: one DuckDB GROUP BY per customer over the same frame."""
    connection = duckdb.connect()
    connection.register("orders", orders)
    result = connection.execute(f"""
        SELECT customer_id, COUNT(DISTINCT CAST(order_date AS DATE)) - 1 AS frequency,
               MIN(order_date) AS first, MAX(order_date) AS last, SUM(amount) AS total
        FROM orders WHERE order_date <= TIMESTAMP '{end}' GROUP BY customer_id""").df()
    connection.close()
    return result


def pandas_summary(orders: pd.DataFrame, end: str) -> pd.DataFrame:
    end_ts = pd.Timestamp(end)
    daily = (
        orders.loc[orders["order_date"] <= end_ts]
        .groupby(["customer_id", "order_date"], as_index=False)["amount"]
        .sum()
    )
    grouped = daily.groupby("customer_id")
    first, last = grouped["order_date"].min(), grouped["order_date"].max()
    count, total = grouped.size(), grouped["amount"].sum()
    first_amount = grouped["amount"].first()
    frequency = count - 1
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days / 7,
            "T": (end_ts - first).dt.days / 7,
            "monetary_value": ((total - first_amount) / frequency).where(frequency > 0, 0.0),
        }
    )


def timed(function, *args, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    end = "2026-09-30"
    started = time.perf_counter()
    orders = synthetic_orders(args.orders, args.customers)
    print(
        f"{len(orders):,} orders of {orders['customer_id'].nunique():,} customers "
        f"(made in {time.perf_counter() - started:.1f} s)"
    )

    reference, _ = timed(duckdb_reference, orders, end)
    ours, summary = timed(lambda o: clv.rfm_summary(o, observation_end=end), orders)
    plain, _ = timed(pandas_summary, orders, end, repeat=1)
    print(f"DuckDB GROUP BY (reference): {reference:6.2f} s")
    print(f"crmkit rfm_summary:          {ours:6.2f} s  ({ours / reference:.2f}× the reference)")
    print(f"plain pandas summary:        {plain:6.2f} s  ({plain / reference:.2f}×)")

    grouped = clv_histories.histories(summary)
    print(
        f"{len(summary):,} customers: {len(grouped.frequency):,} distinct histories, "
        f"{len(grouped.recency_pairs[0]):,} (frequency, recency) and "
        f"{len(grouped.age_pairs[0]):,} (frequency, T) pairs"
    )
    for name, fit_model in (
        ("BG/NBD", lambda: clv.fit_purchase_model(summary, model="bgnbd")),
        ("Pareto/NBD", lambda: clv.fit_purchase_model(summary, model="pareto_nbd")),
        ("Gamma-Gamma", lambda: clv.fit_spend_model(summary)),
    ):
        started = time.perf_counter()
        fit = fit_model()
        seconds = time.perf_counter() - started
        print(
            f"{name} fit: {seconds:.1f} s, params "
            f"{ ({k: round(v, 4) for k, v in fit.params.items()}) }"
            + (f"; {fit_note(fit)}" if fit_note(fit) else "")
        )


if __name__ == "__main__":
    main()
