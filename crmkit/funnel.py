"""The sales funnel: how far each opportunity got, step conversion, and its change.

An opportunity counts at the furthest stage it reached by the day the funnel is taken
(reaching a later stage implies the earlier ones: stages may be skipped). A won opportunity
reached the last stage. Opportunities still open are not yet finished: they are left out of
the conversion of the step they are sitting at, never counted as lost.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from crmkit.errors import ParameterError, require_columns
from crmkit.stats import two_proportion_test, wilson_interval


def furthest_stage(
    opportunities: pd.DataFrame,
    stage_history: pd.DataFrame,
    *,
    stages: list[str],
    as_of: date | str | pd.Timestamp,
) -> pd.DataFrame:
    """Each opportunity's furthest stage and its outcome on ``as_of``.

    Stage names match the unit's ``stages`` case-insensitively; history rows of other stages
    are ignored. Outcomes closed after ``as_of`` count as ``open``.

    Returns
    -------
    pandas.DataFrame
        One row per opportunity created by ``as_of``: ``opportunity_id, created_at, outcome,
        stage_index`` (0 = the first stage), ``stage``.
    """
    if len(stages) < 2:
        raise ParameterError(f"funnel stages must name at least two stages; got {stages}.")
    require_columns(
        opportunities,
        ["opportunity_id", "created_at", "outcome"],
        "opportunities",
        "furthest_stage",
    )
    require_columns(
        stage_history, ["opportunity_id", "stage", "entered_at"], "stage_history", "furthest_stage"
    )
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    opps = opportunities.loc[opportunities["created_at"] < end].copy()
    outcome = opps["outcome"].astype("string").str.lower()
    if "closed_at" in opps.columns:
        outcome = outcome.mask(opps["closed_at"].notna() & (opps["closed_at"] >= end), "open")
    opps["outcome"] = outcome
    index = {name.casefold(): k for k, name in enumerate(stages)}
    history = stage_history.loc[stage_history["entered_at"] < end]
    position = history["stage"].astype("string").str.casefold().map(index)
    reached = (
        history.assign(position=position)
        .dropna(subset=["position"])
        .groupby("opportunity_id")["position"]
        .max()
    )
    stage_index = opps["opportunity_id"].map(reached).fillna(0).astype(int)
    stage_index = stage_index.where(opps["outcome"] != "won", len(stages) - 1)
    return pd.DataFrame(
        {
            "opportunity_id": opps["opportunity_id"].to_numpy(),
            "created_at": opps["created_at"].to_numpy(),
            "outcome": opps["outcome"].to_numpy(),
            "stage_index": stage_index.to_numpy(),
            "stage": np.array(stages, dtype=object)[stage_index.to_numpy()],
        }
    )


def funnel_table(positions: pd.DataFrame, *, stages: list[str]) -> pd.DataFrame:
    """Counts and conversion per stage for a cohort (output of :func:`furthest_stage`).

    ``reached``: opportunities that got to the stage. ``open_here``: still open at it.
    ``step_conversion`` (stage k): reached k ÷ (reached k-1 − open at k-1), with its Wilson
    95% interval; ``cumulative_conversion``: the product of step conversions to k;
    ``drop_off``: finished at k-1 without reaching k.

    Returns
    -------
    pandas.DataFrame
        One row per stage in order.
    """
    k = positions["stage_index"].to_numpy()
    is_open = (positions["outcome"] == "open").to_numpy()
    rows = []
    cumulative = 1.0
    for i, name in enumerate(stages):
        reached = int((k >= i).sum())
        open_here = int(((k == i) & is_open).sum())
        row = {"stage": name, "reached": reached, "open_here": open_here}
        if i == 0:
            row.update(
                step_conversion=np.nan,
                low=np.nan,
                high=np.nan,
                drop_off=0,
                cumulative_conversion=1.0 if reached else np.nan,
            )
        else:
            previous = rows[-1]
            decided = previous["reached"] - previous["open_here"]
            share = wilson_interval(reached, decided)
            cumulative = cumulative * share.value if decided else np.nan
            row.update(
                step_conversion=share.value,
                low=share.low,
                high=share.high,
                drop_off=decided - reached,
                cumulative_conversion=cumulative,
            )
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "stage",
            "reached",
            "open_here",
            "step_conversion",
            "low",
            "high",
            "drop_off",
            "cumulative_conversion",
        ],
    )


def step_name(stages: list[str], k: int) -> str:
    """``"lead->intent"`` for the step into stage ``k``."""
    return f"{stages[k - 1]}->{stages[k]}"


def compare_steps(
    current: pd.DataFrame, previous: pd.DataFrame, *, stages: list[str]
) -> pd.DataFrame:
    """Step conversion now against the previous cohort: difference, interval, p-value.

    One row per step: ``step, now, before, delta, low, high, p_value``.
    """
    rows = []
    for k in range(1, len(stages)):
        now, before = current.iloc[k], previous.iloc[k]
        n_now = current.iloc[k - 1]["reached"] - current.iloc[k - 1]["open_here"]
        n_before = previous.iloc[k - 1]["reached"] - previous.iloc[k - 1]["open_here"]
        test = two_proportion_test(
            int(now["reached"]), int(n_now), int(before["reached"]), int(n_before)
        )
        rows.append(
            {
                "step": step_name(stages, k),
                "now": now["step_conversion"],
                "before": before["step_conversion"],
                "delta": test.delta,
                "low": test.low,
                "high": test.high,
                "p_value": test.p_value,
            }
        )
    return pd.DataFrame(rows)


def win_rate(positions: pd.DataFrame) -> float:
    """Won ÷ (won + lost): open opportunities are not yet decided."""
    won = (positions["outcome"] == "won").sum()
    lost = (positions["outcome"] == "lost").sum()
    return float(won / (won + lost)) if won + lost else float("nan")


def overall_conversion(positions: pd.DataFrame) -> float:
    """Won ÷ all opportunities created in the cohort."""
    return float((positions["outcome"] == "won").mean()) if len(positions) else float("nan")


def cohort(positions: pd.DataFrame, start: date | str, end: date | str) -> pd.DataFrame:
    """The opportunities created between ``start`` and ``end`` (inclusive)."""
    created = positions["created_at"]
    last = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    return positions.loc[(created >= pd.Timestamp(start)) & (created < last)]


def time_in_stage(
    stage_history: pd.DataFrame,
    *,
    stages: list[str],
    as_of: date | str | pd.Timestamp,
) -> pd.DataFrame:
    """Days each opportunity spent in each stage it left, and days in its current stage.

    Time in stage k = the first entry into any later stage − the entry into k. Rows for the
    stage an opportunity is still in have ``moved_on = False`` and count days to ``as_of``.
    The last stage is an outcome, not a stage to wait in, and has no rows.

    Returns
    -------
    pandas.DataFrame
        One row per (opportunity, stage entered): ``opportunity_id, stage, entered_at,
        days, moved_on``.
    """
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    index = {name.casefold(): k for k, name in enumerate(stages)}
    history = stage_history.loc[stage_history["entered_at"] < end].copy()
    history["position"] = history["stage"].astype("string").str.casefold().map(index)
    history = (
        history.dropna(subset=["position"])
        .sort_values(["opportunity_id", "position", "entered_at"])
        .drop_duplicates(["opportunity_id", "position"])
    )
    following = history.groupby("opportunity_id")["entered_at"].shift(-1)
    # The last stage (won) is an end, not a place to wait.
    keep = history["position"] < len(stages) - 1
    history, following = history.loc[keep], following.loc[keep]
    moved_on = following.notna()
    until = following.fillna(end - pd.Timedelta(days=1))
    return pd.DataFrame(
        {
            "opportunity_id": history["opportunity_id"].to_numpy(),
            "stage": np.array(stages, dtype=object)[history["position"].astype(int).to_numpy()],
            "entered_at": history["entered_at"].to_numpy(),
            "days": (until - history["entered_at"]).dt.days.to_numpy(),
            "moved_on": moved_on.to_numpy(),
        }
    )


def stage_durations(durations: pd.DataFrame, *, stages: list[str]) -> pd.DataFrame:
    """Median, 75th and 90th percentile days per stage, over opportunities that moved on."""
    movers = durations.loc[durations["moved_on"]]
    table = movers.groupby("stage")["days"].agg(
        moved_on="size",
        median="median",
        p75=lambda d: d.quantile(0.75),
        p90=lambda d: d.quantile(0.90),
    )
    return table.reindex(stages[:-1]).reset_index()


def stuck_open(
    durations: pd.DataFrame, positions: pd.DataFrame, *, stages: list[str]
) -> pd.DataFrame:
    """Open opportunities that have sat in their stage longer than the stage's p90 of past
    movers: ``opportunity_id, stage, days, p90``, longest first."""
    limits = stage_durations(durations, stages=stages).set_index("stage")["p90"]
    open_ids = positions.loc[positions["outcome"] == "open", "opportunity_id"]
    current = durations.loc[~durations["moved_on"] & durations["opportunity_id"].isin(open_ids)]
    current = current.assign(p90=current["stage"].map(limits))
    stuck = current.loc[current["days"] > current["p90"]]
    return stuck[["opportunity_id", "stage", "days", "p90"]].sort_values(
        "days", ascending=False, ignore_index=True
    )


def velocity_per_day(positions: pd.DataFrame, opportunities: pd.DataFrame) -> float:
    """Pipeline velocity = open opportunities × win rate × mean won amount ÷ median days from
    creation to won (money per day)."""
    opps = opportunities.set_index("opportunity_id")
    won = positions.loc[positions["outcome"] == "won", "opportunity_id"]
    if not len(won) or "amount" not in opps.columns or "closed_at" not in opps.columns:
        return float("nan")
    cycle = (opps.loc[won, "closed_at"] - opps.loc[won, "created_at"]).dt.days.median()
    open_count = int((positions["outcome"] == "open").sum())
    amount = float(opps.loc[won, "amount"].mean())
    if not cycle or np.isnan(cycle):
        return float("nan")
    return open_count * win_rate(positions) * amount / float(cycle)
