"""Speed of crmkit.metrics.funnel on a large synthetic pipeline.

    python benchmarks/funnel_speed.py [--opportunities 1000000]

One million opportunities over three years with four stage rows each on average (lead →
intent → negotiation → won, lost at any step, 5% skipping intent, and stages re-entered as
exports log every update: the first entry counts), string ids as exports give them.
Times the whole funnel computation of one quarter against the previous one —
``crmkit.metrics.funnel.analyse``: furthest stage as of two period ends, step conversion and its
comparison, conversion window by month, time in stage over all history, stage aging,
Kaplan–Meier cycle curves, cycle change, velocity, breakdowns by source and owner, source
ROI — and, as the reference run in the same process, the least work any funnel needs: one
pandas ``groupby().max()`` of stage positions over all stage rows (issue #4 asks for "a few
seconds").
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
from crmkit.metrics import funnel
from crmkit.topics import funnel as report

STAGES = ["lead", "intent", "negotiation", "won"]
STEP_RATES = [0.7, 0.65, 0.6]
MEAN_DAYS = [10.0, 16.0, 24.0]


def synthetic_pipeline(
    n: int, *, rows_per_opportunity: float = 4.0, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Opportunities, stage history and monthly acquisition costs."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-10-01")
    end_day = 1095.0
    created = np.sort(rng.uniform(0, end_day, n))
    ids = np.array([f"OPP{i:08d}" for i in range(n)], dtype=object)
    sources = np.array(["search ads", "social media", "referral", "store", "partner"])
    owners = np.array([f"owner {k:02d}" for k in range(40)])
    t = created.copy()
    alive = np.ones(n, dtype=bool)
    outcome = np.full(n, "open", dtype=object)
    closed = np.full(n, np.nan)
    rows_id, rows_stage, rows_day = [ids], [np.full(n, "lead", dtype=object)], [created]
    for k, (rate, mean) in enumerate(zip(STEP_RATES, MEAN_DAYS, strict=True), start=1):
        t = t + rng.gamma(2.0, mean / 2.0, n)
        moving = alive & (t <= end_day)
        alive &= moving  # those past the end stay open
        passed = moving & (rng.random(n) < rate)
        lost = moving & ~passed
        outcome[lost], closed[lost] = "lost", t[lost]
        alive &= passed
        written = passed & ~((k == 1) & (rng.random(n) < 0.05))
        rows_id.append(ids[written])
        rows_stage.append(np.full(written.sum(), STAGES[k], dtype=object))
        rows_day.append(t[written])
    outcome[alive], closed[alive] = "won", t[alive]
    to_time = lambda days: start + (np.asarray(days) * 86400).astype("timedelta64[s]")  # noqa: E731
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ids,
            "created_at": to_time(created).astype("datetime64[ns]"),
            "outcome": outcome,
            "source": sources[rng.integers(0, 5, n)],
            "owner": owners[rng.integers(0, 40, n)],
            "amount": np.round(rng.lognormal(8, 0.6, n), 2),
            "closed_at": pd.to_datetime(
                np.where(np.isnan(closed), np.datetime64("NaT"), to_time(np.nan_to_num(closed)))
            ),
        }
    )
    rows_id, rows_stage = np.concatenate(rows_id), np.concatenate(rows_stage)
    rows_day = np.concatenate(rows_day)
    again = rng.integers(0, len(rows_id), max(0, int(n * rows_per_opportunity) - len(rows_id)))
    history = pd.DataFrame(
        {
            "opportunity_id": np.concatenate([rows_id, rows_id[again]]),
            "stage": np.concatenate([rows_stage, rows_stage[again]]),
            "entered_at": to_time(
                np.concatenate(
                    [
                        rows_day,
                        np.minimum(rows_day[again] + rng.gamma(1.0, 3.0, len(again)), end_day),
                    ]
                )
            ).astype("datetime64[ns]"),
        }
    ).sample(frac=1.0, random_state=seed, ignore_index=True)  # exports are not sorted
    months = pd.date_range("2023-10-01", "2026-09-01", freq="MS")
    costs = pd.DataFrame(
        {
            "month": np.repeat(months, len(sources)),
            "category": "acquisition",
            "amount": rng.uniform(1e4, 5e4, len(months) * len(sources)).round(2),
            "channel": np.tile(sources, len(months)),
        }
    )
    return opportunities, history, costs


def reference(history: pd.DataFrame) -> float:
    """The floor: furthest stage per opportunity by one groupby over the stage rows."""
    began = time.perf_counter()
    position = history["stage"].map({s: k for k, s in enumerate(STAGES)})
    position.groupby(history["opportunity_id"]).max()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    args = parser.parse_args()
    began = time.perf_counter()
    opportunities, history, costs = synthetic_pipeline(args.opportunities)
    print(
        f"{len(opportunities):,} opportunities, {len(history):,} stage rows "
        f"(built in {time.perf_counter() - began:.1f} s)"
    )
    floor = min(reference(history) for _ in range(2))
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        analysis = funnel.analyse(
            opportunities,
            history,
            stages=STAGES,
            period=parse_period("2026-Q3"),  # against 2026-Q2
            window_days=90,
            breakdown_columns=["source", "owner"],
            costs=costs,
        )
        timings.append(time.perf_counter() - began)
    best = min(timings)
    results = report.results(analysis)
    print(f"reference groupby-max over the stage rows: {floor:.2f} s")
    print(
        f"crmkit.metrics.funnel.analyse (whole funnel):      {best:.2f} s "
        f"({best / floor:.1f}× reference)"
    )
    print(
        f"cohort {results['opportunities_created']:,} opportunities; win rate "
        f"{results['win_rate']:.3f}; bottleneck {results['bottleneck']} "
        f"(p {results['bottleneck_p_value']}); stuck open {results['stuck_open']:,}"
    )


if __name__ == "__main__":
    main()
