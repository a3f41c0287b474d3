"""Seconds of clv.analyse and segmentation.analyse as a unit grows, and the growth exponent.

    python benchmarks/analyse_speed.py [--customers 10000 100000 1000000] [--only clv]

Each size is the sample's north unit tiled: every copy of a customer gets its own id and all
its dates moved back by 0-119 days (one draw per copy and customer), and every order a
second order 0-40 days either side with its amount scaled by 0.7-1.3, so a unit of N
customers has about 10·N orders and (frequency, recency, T) histories as varied as a real
base's. Run with OMP_NUM_THREADS=1 to time what one notebook kernel of a fleet gets.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmkit.load.unit import load_unit  # noqa: E402
from crmkit.metrics import clv, segmentation  # noqa: E402


def tiled_unit(customers: int, seed: int = 42):
    """North tiled to about ``customers`` customers (see the module docstring)."""
    unit = load_unit(
        "north", data_source=str(ROOT / "sample_data"), period="2026-Q3", as_of="2026-12-01"
    )
    people = unit.tables["customers"]
    ids = people["customer_id"].to_numpy()
    copies = math.ceil(customers / len(ids))
    rng = np.random.default_rng(seed)
    shifts = rng.integers(0, 120, size=(copies, len(ids)))

    def tile(frame: pd.DataFrame, dates: list[str], second_order: bool = False):
        position = pd.Index(ids).get_indexer(frame["customer_id"])
        frame, position = frame.loc[position >= 0], position[position >= 0]
        parts = []
        for copy in range(copies):
            part = frame.copy()
            part["customer_id"] = part["customer_id"].astype(str) + f"_{copy}"
            for column in dates:
                part[column] = part[column] - pd.to_timedelta(shifts[copy, position], unit="D")
            parts.append(part)
            if second_order:
                more = part.copy()
                more["order_date"] += pd.to_timedelta(rng.integers(-40, 40, len(more)), "D")
                more["amount"] = np.round(more["amount"] * rng.uniform(0.7, 1.3, len(more)), 2)
                parts.append(more)
        return pd.concat(parts, ignore_index=True)

    tables = {
        "customers": tile(people, ["signup_date"]),
        "transactions": tile(unit.tables["transactions"], ["order_date"], second_order=True),
        "interactions": tile(unit.tables["interactions"], ["occurred_at"]),
        "churn_events": tile(unit.tables["churn_events"], ["churned_at"]),
        "costs": unit.tables["costs"],
    }
    return tables, unit.period


def run_clv(tables, period):
    return clv.analyse(
        tables["transactions"],
        tables["customers"],
        period=period,
        horizon_months=12,
        monthly_discount_rate=0.01,
        holdout_weeks=26,
        costs=tables["costs"],
    )


def run_segmentation(tables, period):
    return segmentation.analyse(
        tables["customers"],
        tables["transactions"],
        period=period,
        interactions=tables["interactions"],
        churn_events=tables["churn_events"],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--only", choices=["clv", "segmentation"])
    args = parser.parse_args()
    analyses = {"clv": run_clv, "segmentation": run_segmentation}
    if args.only:
        analyses = {args.only: analyses[args.only]}
    seconds: dict[str, list[tuple[int, float]]] = {name: [] for name in analyses}
    for size in args.customers:
        tables, period = tiled_unit(size)
        n = len(tables["customers"])
        print(f"{n:,} customers, {len(tables['transactions']):,} orders")
        for name, analyse in analyses.items():
            started = time.perf_counter()
            analyse(tables, period)
            seconds[name].append((n, time.perf_counter() - started))
            print(f"  {name}.analyse: {seconds[name][-1][1]:.1f} s")
    for name, points in seconds.items():
        if len(points) > 1:
            (n0, t0), (n1, t1) = points[0], points[-1]
            print(f"{name}: time exponent {math.log(t1 / t0) / math.log(n1 / n0):.2f}")


if __name__ == "__main__":
    main()
