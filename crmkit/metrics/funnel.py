"""The sales funnel: how far each opportunity got, step conversion, and its change.

An opportunity counts at the furthest stage it reached by the day the funnel is taken
(reaching a later stage implies the earlier ones: stages may be skipped). A won opportunity
reached the last stage. Opportunities still open are not yet finished: they are left out of
the conversion of the step they are sitting at, never counted as lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError, require_columns
from crmkit.metrics.stats import holm, two_proportion_test, verdicts, wilson_interval
from crmkit.present.format import p_text


def _stage_positions(stage_names: pd.Series, stages: list[str]) -> np.ndarray:
    """Each row's index in ``stages`` (case-insensitive, spaces trimmed); -1 where unknown."""
    index = {name.strip().casefold(): k for k, name in enumerate(stages)}
    codes, uniques = pd.factorize(stage_names)
    lookup = np.array([index.get(str(u).strip().casefold(), -1) for u in uniques] + [-1])
    return lookup[codes]  # code -1 (missing) picks the trailing -1


def unknown_stages(stage_history: pd.DataFrame, *, stages: list[str]) -> pd.DataFrame:
    """Stage-history rows naming a stage that is not in ``stages``: ``stage, rows``.

    The funnel ignores them; the report counts them so nothing disappears unseen.
    """
    unknown = stage_history.loc[_stage_positions(stage_history["stage"], stages) < 0, "stage"]
    counts = unknown.astype("string").fillna("(blank)").value_counts()
    return counts.rename_axis("stage").reset_index(name="rows")


@dataclass(frozen=True)
class _History:
    """Stage history as arrays, read once: each row's opportunity (row number in the
    opportunities frame, -1 if unknown), stage index (-1 if not a funnel stage) and entry."""

    row: np.ndarray
    position: np.ndarray
    entered: np.ndarray


def _index_history(
    opportunities: pd.DataFrame, stage_history: pd.DataFrame, stages: list[str]
) -> _History:
    n = len(opportunities)
    # One factorize over both id columns: far cheaper than an index lookup on text ids.
    codes, uniques = pd.factorize(
        pd.concat([opportunities["opportunity_id"], stage_history["opportunity_id"]]),
        use_na_sentinel=True,
    )
    row_of_code = np.full(len(uniques) + 1, -1, dtype=np.int64)  # last slot: missing id
    row_of_code[codes[:n][::-1]] = np.arange(n)[::-1]  # a repeated id keeps its first row
    row_of_code[-1] = -1
    return _History(
        row=row_of_code[codes[n:]],
        position=_stage_positions(stage_history["stage"], stages),
        entered=stage_history["entered_at"].to_numpy(dtype="datetime64[ns]"),
    )


def _check_funnel_input(
    opportunities: pd.DataFrame, stage_history: pd.DataFrame, stages: list[str], caller: str
) -> None:
    if len(stages) < 2:
        raise ParameterError(f"funnel stages must name at least two stages; got {stages}.")
    require_columns(
        opportunities, ["opportunity_id", "created_at", "outcome"], "opportunities", caller
    )
    require_columns(
        stage_history, ["opportunity_id", "stage", "entered_at"], "stage_history", caller
    )


def _day_after(as_of: date | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)


def furthest_stage(
    opportunities: pd.DataFrame,
    stage_history: pd.DataFrame,
    *,
    stages: list[str],
    as_of: date | str | pd.Timestamp,
) -> pd.DataFrame:
    """Each opportunity's furthest stage and its outcome on ``as_of``.

    Stage names match the unit's ``stages`` case-insensitively; history rows of other stages
    are ignored (:func:`unknown_stages` counts them). An opportunity with no history row
    is at the first stage. Outcomes closed after ``as_of`` count as ``open``.

    Returns
    -------
    pandas.DataFrame
        One row per opportunity created by ``as_of``: ``opportunity_id, created_at, outcome,
        closed_at`` (blank while open), ``stage_index`` (0 = the first stage), ``stage``, and
        ``source, owner, amount`` and any other opportunity columns, carried along for
        breakdowns.

    Raises
    ------
    ParameterError
        Fewer than two stages, or a required column missing.
    """
    _check_funnel_input(opportunities, stage_history, stages, "furthest_stage")
    history = _index_history(opportunities, stage_history, stages)
    return _furthest(opportunities, history, stages=stages, as_of=as_of)


def _furthest(
    opportunities: pd.DataFrame,
    history: _History,
    *,
    stages: list[str],
    as_of: date | str | pd.Timestamp,
    created_from: date | str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    end = _day_after(as_of)
    reached = np.zeros(len(opportunities), dtype=np.int64)
    use = (history.row >= 0) & (history.position >= 0) & (history.entered < end.to_datetime64())
    np.maximum.at(reached, history.row[use], history.position[use])
    keep = opportunities["created_at"] < end
    if created_from is not None:
        keep &= opportunities["created_at"] >= pd.Timestamp(created_from)
    keep = keep.to_numpy()
    opps = opportunities.loc[keep].copy()
    outcome = opps["outcome"].astype("string").str.lower()
    closed = opps["closed_at"] if "closed_at" in opps.columns else pd.Series(pd.NaT, opps.index)
    later = closed.notna() & (closed >= end)
    opps["outcome"] = outcome.mask(later, "open").astype(object)
    opps["closed_at"] = closed.mask(later | (opps["outcome"] == "open"))
    stage_index = np.where(opps["outcome"] == "won", len(stages) - 1, reached[keep])
    opps["stage_index"] = stage_index
    opps["stage"] = np.array(stages, dtype=object)[stage_index]
    first = ["opportunity_id", "created_at", "outcome", "closed_at", "stage_index", "stage"]
    return opps[first + [c for c in opps.columns if c not in first]].reset_index(drop=True)


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
    stage an opportunity is still in have ``moved_on = False`` and count days to ``as_of``
    (for an opportunity lost there, too: use :func:`stuck_open` for the open ones).
    The last stage is an outcome, not a stage to wait in, and has no rows.

    Returns
    -------
    pandas.DataFrame
        One row per (opportunity, stage entered): ``opportunity_id, stage, entered_at,
        days, moved_on``.
    """
    codes, ids = pd.factorize(stage_history["opportunity_id"])
    history = _History(
        row=codes,
        position=_stage_positions(stage_history["stage"], stages),
        entered=stage_history["entered_at"].to_numpy(dtype="datetime64[ns]"),
    )
    return _time_in_stage(history, np.asarray(ids, dtype=object), stages=stages, as_of=as_of)


def _time_in_stage(
    history: _History, ids: np.ndarray, *, stages: list[str], as_of: date | str | pd.Timestamp
) -> pd.DataFrame:
    end = _day_after(as_of).to_datetime64()
    keep = (history.row >= 0) & (history.position >= 0) & (history.entered < end)
    columns = ["opportunity_id", "stage", "entered_at", "days", "moved_on"]
    if not keep.any():
        return pd.DataFrame(columns=columns)
    width = len(stages)
    key = history.row[keep].astype(np.int64) * width + history.position[keep]
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    # The first entry into each (opportunity, stage); later re-entries do not restart it.
    entered = np.minimum.reduceat(history.entered[keep][order].view(np.int64), starts).view(
        "datetime64[ns]"
    )
    row, position = key[starts] // width, key[starts] % width
    moved_on = np.zeros(len(row), dtype=bool)
    moved_on[:-1] = row[1:] == row[:-1]
    following = np.empty_like(entered)
    following[:-1] = entered[1:]
    until = np.where(moved_on, following, end - np.timedelta64(1, "D"))
    # The last stage (won) is an end, not a place to wait.
    waiting = position < len(stages) - 1
    return pd.DataFrame(
        {
            "opportunity_id": ids[row[waiting]],
            "stage": np.array(stages, dtype=object)[position[waiting]],
            "entered_at": entered[waiting],
            "days": ((until - entered)[waiting] // np.timedelta64(1, "D")).astype(np.int64),
            "moved_on": moved_on[waiting],
        }
    )


def stage_durations(durations: pd.DataFrame, *, stages: list[str]) -> pd.DataFrame:
    """Median, 75th and 90th percentile days per stage, over opportunities that moved on.

    Returns
    -------
    pandas.DataFrame
        One row per stage but the last: ``stage, moved_on, median, p75, p90``.
    """
    movers = durations.loc[durations["moved_on"]]
    table = movers.groupby("stage")["days"].quantile([0.5, 0.75, 0.9]).unstack()
    table.columns = ["median", "p75", "p90"]
    table.insert(0, "moved_on", movers.groupby("stage").size())
    table = table.reindex(stages[:-1])
    table["moved_on"] = table["moved_on"].fillna(0).astype(int)
    return table.rename_axis("stage").reset_index()


def stuck_open(
    durations: pd.DataFrame, positions: pd.DataFrame, *, stages: list[str]
) -> pd.DataFrame:
    """Open opportunities that have sat in their stage longer than the stage's p90 of past
    movers (stage aging).

    Returns
    -------
    pandas.DataFrame
        ``opportunity_id, stage, days, p90`` plus ``owner`` and ``amount`` where the
        opportunities carry them; longest first.
    """
    limits = stage_durations(durations, stages=stages).set_index("stage")["p90"]
    is_open = positions.loc[positions["outcome"] == "open"].set_index("opportunity_id")
    current = durations.loc[
        ~durations["moved_on"] & durations["opportunity_id"].isin(is_open.index)
    ]
    current = current.assign(p90=current["stage"].map(limits))
    stuck = current.loc[
        current["days"] > current["p90"], ["opportunity_id", "stage", "days", "p90"]
    ]
    for column in ("owner", "amount"):
        if column in is_open.columns:
            stuck[column] = stuck["opportunity_id"].map(is_open[column]).to_numpy()
    return stuck.sort_values("days", ascending=False, ignore_index=True)


def conversion_window(
    positions: pd.DataFrame,
    *,
    window_days: int,
    as_of: date | str | pd.Timestamp,
    months: int = 18,
) -> pd.DataFrame:
    """Share of each creation month's opportunities won within ``window_days`` of creation.

    A month is ``complete`` once its last opportunity's window has passed by ``as_of``;
    later months can still rise and are drawn apart.

    Returns
    -------
    pandas.DataFrame
        One row per creation month (the last ``months`` to ``as_of``): ``month, created,
        won_in_window, conversion, low, high, complete``.
    """
    if window_days <= 0:
        raise ParameterError(
            f"conversion_window_days must be a positive number; got {window_days}."
        )
    last_day = pd.Timestamp(as_of).normalize()
    first_month = (last_day.to_period("M") - (months - 1)).start_time
    cohort_rows = positions.loc[positions["created_at"] >= first_month]
    month = cohort_rows["created_at"].dt.to_period("M")
    won_days = (cohort_rows["closed_at"] - cohort_rows["created_at"]).dt.days
    in_window = (cohort_rows["outcome"] == "won") & (won_days <= window_days)
    grouped = pd.DataFrame({"month": month, "won": in_window}).groupby("month")["won"]
    rows = []
    for period, won in grouped:
        share = wilson_interval(int(won.sum()), len(won))
        complete = period.end_time.normalize() + pd.Timedelta(days=window_days) <= last_day
        rows.append(
            {
                "month": period.start_time,
                "created": len(won),
                "won_in_window": int(won.sum()),
                "conversion": share.value,
                "low": share.low,
                "high": share.high,
                "complete": bool(complete),
            }
        )
    columns = ["month", "created", "won_in_window", "conversion", "low", "high", "complete"]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan–Meier curve: ``table`` has one row per event time (``days, at_risk, events,
    censored, survival, low, high``); ``median`` is NaN until the curve falls to one half."""

    table: pd.DataFrame
    median: float
    n: int
    events: int


def kaplan_meier(
    durations: pd.Series | np.ndarray,
    observed: pd.Series | np.ndarray,
    *,
    level: float = 0.95,
    min_at_risk: int = 1,
) -> SurvivalCurve:
    """The Kaplan–Meier estimate of the share still without the event after t days.

    Censored cases (``observed`` False) leave the risk set after their time; ties put events
    before censorings (Kaplan & Meier 1958). The interval is Greenwood's variance on the
    log(−log) scale (Kalbfleisch & Prentice 2002), which stays within 0..1. The median is the
    first time the curve is at or below one half. The curve stops where fewer than
    ``min_at_risk`` cases remain at risk: its tail then rests on a handful of cases.

    Examples
    --------
    The 6-MP arm of Freireich et al. (1963), as tabulated by Kleinbaum & Klein (2012):

    >>> t = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    >>> e = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    >>> curve = kaplan_meier(t, e)
    >>> curve.table["survival"].round(4).tolist()
    [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482]
    >>> curve.median
    23.0
    """
    times = np.asarray(durations, dtype=float)
    events = np.asarray(observed, dtype=bool)
    if times.shape != events.shape:
        raise ValueError("durations and observed must have the same length.")
    if np.isnan(times).any() or (times < 0).any():
        raise ValueError("durations must be non-negative numbers without gaps.")
    columns = ["days", "at_risk", "events", "censored", "survival", "low", "high"]
    if not len(times):
        return SurvivalCurve(pd.DataFrame(columns=columns), float("nan"), 0, 0)
    order = np.unique(times)
    event_counts = np.bincount(np.searchsorted(order, times[events]), minlength=len(order))
    all_counts = np.bincount(np.searchsorted(order, times), minlength=len(order))
    at_risk = len(times) - np.concatenate([[0], np.cumsum(all_counts)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - event_counts / at_risk)
        greenwood = np.cumsum(event_counts / (at_risk * (at_risk - event_counts)))
        z = stats.norm.ppf(0.5 + level / 2)
        log_log_se = np.sqrt(greenwood) / np.abs(np.log(survival))
        low = survival ** np.exp(z * log_log_se)
        high = survival ** np.exp(-z * log_log_se)
    table = pd.DataFrame(
        {
            "days": order,
            "at_risk": at_risk,
            "events": event_counts,
            "censored": all_counts - event_counts,
            "survival": survival,
            "low": np.where(survival > 0, low, 0.0),
            "high": np.where(survival > 0, high, 0.0),
        }
    )
    table = table.loc[(table["events"] > 0) & (table["at_risk"] >= min_at_risk)]
    table = table.reset_index(drop=True)
    below = table.loc[table["survival"] <= 0.5, "days"]
    median = float(below.iloc[0]) if len(below) else float("nan")
    return SurvivalCurve(table[columns], median, len(times), int(events.sum()))


def cycle_curve(
    positions: pd.DataFrame, *, as_of: date | str | pd.Timestamp, min_at_risk: int = 10
) -> SurvivalCurve:
    """Kaplan–Meier curve of days from creation to won, open opportunities censored at their
    age on ``as_of``; lost ones never finish a cycle to won and are left out. The curve stops
    where fewer than ``min_at_risk`` deals remain at risk."""
    day = pd.Timestamp(as_of).normalize()
    alive = positions.loc[positions["outcome"].isin(["won", "open"])]
    until = alive["closed_at"].where(alive["outcome"] == "won", day)
    days = (until - alive["created_at"]).dt.days.clip(lower=0)
    return kaplan_meier(
        days.to_numpy(), (alive["outcome"] == "won").to_numpy(), min_at_risk=min_at_risk
    )


def won_cycles(
    positions: pd.DataFrame, start: date | str | pd.Timestamp, end: date | str | pd.Timestamp
) -> pd.Series:
    """Days from creation to won for the opportunities won between ``start`` and ``end``."""
    won = positions.loc[positions["outcome"] == "won"]
    last = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    won = won.loc[(won["closed_at"] >= pd.Timestamp(start)) & (won["closed_at"] < last)]
    days = (won["closed_at"] - won["created_at"]).dt.days
    return pd.Series(days.to_numpy(), index=won["opportunity_id"].to_numpy(), name="cycle_days")


@dataclass(frozen=True)
class CycleChange:
    """Median days to won for deals won this period and the previous one, and a two-sided
    Mann–Whitney test of the difference; ``lengthened`` when longer with p < 0.05."""

    median: float
    previous_median: float
    n: int
    previous_n: int
    p_value: float

    @property
    def lengthened(self) -> bool:
        return bool(self.p_value < 0.05 and self.median > self.previous_median)

    @property
    def shortened(self) -> bool:
        return bool(self.p_value < 0.05 and self.median < self.previous_median)


def cycle_change(current: pd.Series, previous: pd.Series) -> CycleChange:
    """Compare the cycle lengths of deals won in two periods (Mann & Whitney 1947)."""
    p_value = float("nan")
    if len(current) and len(previous):
        p_value = float(stats.mannwhitneyu(current, previous, alternative="two-sided").pvalue)
    return CycleChange(
        float(np.median(current)) if len(current) else float("nan"),
        float(np.median(previous)) if len(previous) else float("nan"),
        len(current),
        len(previous),
        p_value,
    )


def cycle_trend(positions: pd.DataFrame, *, as_of: date | str | pd.Timestamp, months: int = 18):
    """Median, 25th and 75th percentile days to won, by the month deals were won.

    Returns
    -------
    pandas.DataFrame
        One row per month with a won deal: ``month, won, median, p25, p75``.
    """
    last_day = pd.Timestamp(as_of).normalize()
    first = (last_day.to_period("M") - (months - 1)).start_time
    won = positions.loc[(positions["outcome"] == "won") & (positions["closed_at"] >= first)]
    days = (won["closed_at"] - won["created_at"]).dt.days
    grouped = days.groupby(won["closed_at"].dt.to_period("M"))
    table = pd.DataFrame(
        {
            "won": grouped.size(),
            "median": grouped.median(),
            "p25": grouped.quantile(0.25),
            "p75": grouped.quantile(0.75),
        }
    )
    table.index = table.index.to_timestamp()
    return table.rename_axis("month").reset_index()


@dataclass(frozen=True)
class Velocity:
    """Pipeline velocity = open opportunities × win rate × mean won amount ÷ median cycle."""

    open_opportunities: int
    win_rate: float
    mean_won_amount: float
    median_cycle_days: float

    @property
    def per_day(self) -> float:
        if not self.median_cycle_days or np.isnan(self.median_cycle_days):
            return float("nan")
        return (
            self.open_opportunities * self.win_rate * self.mean_won_amount / self.median_cycle_days
        )


def velocity(
    positions: pd.DataFrame,
    *,
    win_rate: float,
    start: date | str | pd.Timestamp,
    end: date | str | pd.Timestamp,
) -> Velocity:
    """Pipeline velocity on ``end`` (money per day), in the HubSpot/Salesforce form.

    Open opportunities: the whole open pipeline on ``end``. Win rate: given (the period
    cohort's). Mean won amount and median cycle: the deals won between ``start`` and ``end``.
    """
    cycles = won_cycles(positions, start, end)
    mean_amount = float("nan")
    if "amount" in positions.columns and len(cycles):
        last = _day_after(end)
        won = (positions["outcome"] == "won") & positions["closed_at"].between(
            pd.Timestamp(start), last, inclusive="left"
        )
        mean_amount = float(positions.loc[won, "amount"].mean())
    return Velocity(
        int((positions["outcome"] == "open").sum()),
        win_rate,
        mean_amount,
        float(cycles.median()) if len(cycles) else float("nan"),
    )


def breakdown(
    positions: pd.DataFrame, *, by: str, stages: list[str], min_group: int = 30
) -> pd.DataFrame:
    """Step conversion and win rate per group of ``by``, each tested against the rest.

    Each group's conversion (Wilson 95% interval) is compared with all other opportunities
    by a two-proportion z test; p-values are Holm-adjusted over every test in the table.
    Groups with fewer than ``min_group`` opportunities are shown but not tested
    (``verdict`` "too few to judge"). Opportunities without a value are grouped as "(none)".

    Returns
    -------
    pandas.DataFrame
        One row per (group, metric): ``group, metric`` ("lead->intent", ..., "win rate"),
        ``opportunities, trials, successes, conversion, low, high, rest, p_value, p_adjusted,
        verdict``.

    Raises
    ------
    ColumnMissing
        ``by`` is not a column of ``positions``.
    """
    require_columns(positions, [by], "opportunities", "breakdown")
    groups = positions[by].astype("string").fillna("(none)")
    k = positions["stage_index"].to_numpy()
    is_open = (positions["outcome"] == "open").to_numpy()
    outcome = positions["outcome"].to_numpy()
    metrics = {}
    for step in range(1, len(stages)):
        # decided at step-1: reached it and not still open there
        trials = (k >= step - 1) & ~((k == step - 1) & is_open)
        metrics[step_name(stages, step)] = (trials, k >= step)
    metrics["win rate"] = (np.isin(outcome, ["won", "lost"]), outcome == "won")
    rows = []
    for group in sorted(groups.unique(), key=str):
        member = (groups == group).to_numpy()
        for metric, (trials, success) in metrics.items():
            n, x = int((trials & member).sum()), int((success & trials & member).sum())
            n_rest = int((trials & ~member).sum())
            x_rest = int((success & trials & ~member).sum())
            share = wilson_interval(x, n)
            test = two_proportion_test(x, n, x_rest, n_rest)
            rows.append(
                {
                    "group": group,
                    "metric": metric,
                    "opportunities": int(member.sum()),
                    "trials": n,
                    "successes": x,
                    "conversion": share.value,
                    "low": share.low,
                    "high": share.high,
                    "rest": x_rest / n_rest if n_rest else float("nan"),
                    "p_value": test.p_value if member.sum() >= min_group else float("nan"),
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adjusted"] = holm(table["p_value"].to_numpy())
    table["verdict"] = verdicts(
        table["opportunities"],
        table["conversion"],
        table["rest"],
        table["p_adjusted"],
        min_group=min_group,
    )
    return table


def breakdown_view(table: pd.DataFrame, *, by: str = "group") -> pd.DataFrame:
    """A breakdown for reading: one row per group, a column per metric ("55% (48–61%)"), and
    the groups that differ from the rest named in ``differs``."""
    from crmkit.present.format import pct

    cells = table.assign(
        text=[
            "–"
            if not row.trials
            else f"{pct(row.conversion, 0)} ({pct(row.low, 0)}–{pct(row.high, 0)})"
            for row in table.itertuples()
        ]
    )
    view = cells.pivot(index="group", columns="metric", values="text")
    view = view[list(dict.fromkeys(table["metric"]))]
    view.columns = [_step_text(c) for c in view.columns]
    sizes = table.groupby("group")["opportunities"].first()
    notes = {}
    for group, rows in table.groupby("group"):
        if (rows["verdict"] == "too few to judge").all():
            notes[group] = "too few to judge"
            continue
        flagged = rows.loc[rows["verdict"].isin(["above the rest", "below the rest"])]
        notes[group] = (
            "; ".join(f"{_step_text(r.metric)}: {r.verdict}" for r in flagged.itertuples())
            or "no clear difference"
        )
    view.insert(0, "opportunities", sizes)
    view["verdict"] = pd.Series(notes)
    return view.rename_axis(None, axis=1).rename_axis(by).reset_index()


@dataclass(frozen=True)
class Bottleneck:
    """The step whose conversion fell most against the previous period.

    ``p_adjusted`` is Holm-adjusted over all steps, because the step was picked after
    looking at every step; ``significant`` uses it.
    """

    step: str
    now: float
    before: float
    delta: float
    p_value: float
    p_adjusted: float

    @property
    def significant(self) -> bool:
        return bool(self.p_adjusted < 0.05)


def find_bottleneck(comparison: pd.DataFrame) -> Bottleneck | None:
    """The step that fell most (:func:`compare_steps` output); None when no step fell."""
    adjusted = holm(comparison["p_value"].to_numpy())
    fell = comparison.assign(p_adjusted=adjusted).loc[comparison["delta"] < 0]
    if fell.empty:
        return None
    row = fell.loc[fell["delta"].idxmin()]
    return Bottleneck(
        row["step"], row["now"], row["before"], row["delta"], row["p_value"], row["p_adjusted"]
    )


def source_roi(
    positions: pd.DataFrame,
    costs: pd.DataFrame,
    *,
    start: date | str | pd.Timestamp,
    end: date | str | pd.Timestamp,
) -> pd.DataFrame:
    """Acquisition spend per source against the leads and won deals it brought in a period.

    Leads: opportunities created in the period by ``source``; won: opportunities of the source
    won in the period, whenever created (a period's deals are mostly won later, so the
    period's own leads would undercount). Spend: ``costs`` rows of category *acquisition* in
    the period's months whose ``channel`` names the source (case and spaces ignored).

    Returns
    -------
    pandas.DataFrame
        One row per source or channel: ``source, leads, won, won_amount, spend,
        cost_per_lead, cost_per_won, return_on_spend`` (won amount ÷ spend); blank where a
        source has no spend line or a channel no leads.
    """
    require_columns(positions, ["source"], "opportunities", "source_roi")
    require_columns(costs, ["month", "category", "amount", "channel"], "costs", "source_roi")
    first_day = pd.Timestamp(start)
    last = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    created = (positions["created_at"] >= first_day) & (positions["created_at"] < last)
    won = (positions["outcome"] == "won") & positions["closed_at"].between(
        first_day, last, inclusive="left"
    )
    involved = positions.loc[created | won]
    won = won[created | won]
    amount = involved["amount"] if "amount" in involved.columns else np.nan
    source = involved["source"].astype("string")
    leads = pd.DataFrame(
        {
            "source": source,
            "key": source.str.strip().str.casefold(),
            "lead": created[created | won],
            "won": won,
            "won_amount": np.where(won, amount, 0.0),
        }
    )
    leads = leads.groupby("key", dropna=True).agg(
        source=("source", "first"),
        leads=("lead", "sum"),
        won=("won", "sum"),
        won_amount=("won_amount", "sum"),
    )
    first_month = first_day.to_period("M").start_time
    spend_rows = costs.loc[
        costs["category"].astype("string").str.casefold().eq("acquisition")
        & (costs["month"] >= first_month)
        & (costs["month"] < last)
        & costs["channel"].notna()
    ]
    spend = spend_rows.groupby(
        spend_rows["channel"].astype("string").str.strip().str.casefold()
    ).agg(channel=("channel", "first"), spend=("amount", "sum"))
    table = leads.join(spend, how="outer")
    table["source"] = table["source"].fillna(table["channel"])
    table[["leads", "won"]] = table[["leads", "won"]].fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["cost_per_lead"] = table["spend"] / table["leads"].where(table["leads"] > 0)
        table["cost_per_won"] = table["spend"] / table["won"].where(table["won"] > 0)
        table["return_on_spend"] = table["won_amount"] / table["spend"].where(table["spend"] > 0)
    columns = ["source", "leads", "won", "won_amount", "spend", "cost_per_lead", "cost_per_won"]
    return (
        table[[*columns, "return_on_spend"]]
        .sort_values(["leads", "source"], ascending=[False, True])
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class FunnelAnalysis:
    """Everything the funnel report shows, for one unit and period."""

    stages: list[str]
    positions: pd.DataFrame  # every opportunity created by the period end, as of that day
    cohort: pd.DataFrame  # those created in the period
    current: pd.DataFrame  # funnel_table of the period's cohort
    previous: pd.DataFrame  # funnel_table of the previous period's cohort, at its own end
    comparison: pd.DataFrame  # compare_steps(current, previous)
    bottleneck: Bottleneck | None
    win_rate: float
    previous_win_rate: float
    overall_conversion: float
    previous_overall_conversion: float
    window: pd.DataFrame
    window_days: int
    durations: pd.DataFrame  # stage_durations over all movers to the period end
    stuck: pd.DataFrame
    cycle_curves: dict[str, SurvivalCurve]  # "this period" / "previous period" cohorts
    cycle: CycleChange
    cycle_trend: pd.DataFrame
    velocity: Velocity
    breakdowns: dict[str, pd.DataFrame]
    roi: pd.DataFrame | None
    unknown_stages: pd.DataFrame
    notes: list[str]


def analyse(
    opportunities: pd.DataFrame,
    stage_history: pd.DataFrame,
    *,
    stages: list[str],
    period_start: date | str,
    period_end: date | str,
    previous_start: date | str,
    previous_end: date | str,
    window_days: int = 90,
    breakdown_columns: list[str] | tuple[str, ...] = ("source", "owner"),
    costs: pd.DataFrame | None = None,
    min_group: int = 30,
) -> FunnelAnalysis:
    """The whole funnel for one period: the cohort created in it against the previous one.

    Each cohort is taken at its own period end, so both had the same time to move.
    Breakdown columns that the opportunities do not carry are skipped with a note.
    """
    notes: list[str] = []
    stages = list(stages)
    _check_funnel_input(opportunities, stage_history, stages, "analyse")
    history = _index_history(opportunities, stage_history, stages)
    positions = _furthest(opportunities, history, stages=stages, as_of=period_end)
    previous_cohort = _furthest(
        opportunities, history, stages=stages, as_of=previous_end, created_from=previous_start
    )
    this_cohort = cohort(positions, period_start, period_end)
    current = funnel_table(this_cohort, stages=stages)
    previous = funnel_table(previous_cohort, stages=stages)
    comparison = compare_steps(current, previous, stages=stages)
    comparison["p_adjusted"] = holm(comparison["p_value"].to_numpy())
    ids = opportunities["opportunity_id"].to_numpy(dtype=object)
    timings = _time_in_stage(history, ids, stages=stages, as_of=period_end)
    rate = win_rate(this_cohort)
    breakdowns = {}
    for column in breakdown_columns:
        if column in positions.columns and this_cohort[column].notna().any():
            breakdowns[column] = breakdown(
                this_cohort, by=column, stages=stages, min_group=min_group
            )
        else:
            notes.append(f"Breakdown by {column} skipped: opportunities carry no {column}.")
    roi = None
    if costs is not None and not costs.empty and "source" in positions.columns:
        if "channel" in costs.columns:
            roi = source_roi(positions, costs, start=period_start, end=period_end)
        else:
            notes.append("Source ROI skipped: the costs table has no channel column.")
    unknown = unknown_stages(stage_history, stages=stages)
    if len(unknown):
        notes.append(
            f"{int(unknown['rows'].sum()):,} stage-history rows name a stage outside this unit's "
            f"funnel ({', '.join(map(str, unknown['stage'].head(5)))}) and were ignored; set "
            "funnel_stages in the unit's parameters if they belong to it."
        )
    if this_cohort.empty:
        notes.append("No opportunities were created in this period.")
    return FunnelAnalysis(
        stages=stages,
        positions=positions,
        cohort=this_cohort,
        current=current,
        previous=previous,
        comparison=comparison,
        bottleneck=find_bottleneck(comparison),
        win_rate=rate,
        previous_win_rate=win_rate(previous_cohort),
        overall_conversion=overall_conversion(this_cohort),
        previous_overall_conversion=overall_conversion(previous_cohort),
        window=conversion_window(positions, window_days=window_days, as_of=period_end),
        window_days=window_days,
        durations=stage_durations(timings, stages=stages),
        stuck=stuck_open(timings, positions, stages=stages),
        cycle_curves={
            "this period": cycle_curve(this_cohort, as_of=period_end),
            "previous period": cycle_curve(previous_cohort, as_of=previous_end),
        },
        cycle=cycle_change(
            won_cycles(positions, period_start, period_end),
            won_cycles(positions, previous_start, previous_end),
        ),
        cycle_trend=cycle_trend(positions, as_of=period_end),
        velocity=velocity(positions, win_rate=rate, start=period_start, end=period_end),
        breakdowns=breakdowns,
        roi=roi,
        unknown_stages=unknown,
        notes=notes,
    )


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _step_text(step: str) -> str:
    return step.replace("->", " → ")


def bottleneck_sentence(analysis: FunnelAnalysis) -> str:
    """The headline: the step that fell most, with its numbers and whether the fall is real."""
    from crmkit.present.format import pct

    b = analysis.bottleneck
    if b is None:
        if analysis.comparison["delta"].isna().all():
            return "No step can be compared with the previous period (no decided opportunities)."
        return "No step's conversion fell against the previous period."
    verdict = (
        "a significant fall"
        if b.significant
        else "not a significant fall: no step changed significantly"
    )
    return (
        f"Bottleneck: {_step_text(b.step)} conversion fell from {pct(b.before)} to {pct(b.now)} "
        f"({(b.delta) * 100:+.1f} points, {p_text(b.p_adjusted)} after Holm's correction over "
        f"{len(analysis.comparison)} steps) — {verdict}."
    )


def cycle_sentence(analysis: FunnelAnalysis) -> str:
    """The sales cycle in words, with the early warning when it lengthened significantly."""
    c = analysis.cycle
    if not c.n:
        return "No deal was won in this period, so there is no sales cycle to report."
    text = (
        f"Deals won in this period took a median of {c.median:.0f} days from creation "
        f"({c.n:,} deals)"
    )
    if not c.previous_n:
        return text + "; no deal was won in the previous period to compare with."
    text += f", against {c.previous_median:.0f} days in the previous period ({p_text(c.p_value)})"
    if c.lengthened:
        return text + ": the cycle has lengthened significantly — an early warning for revenue."
    if c.shortened:
        return text + ": the cycle has shortened significantly."
    return text + ": no significant change."


def breakdown_sentences(analysis: FunnelAnalysis) -> list[str]:
    """One sentence per group that differs from the rest after Holm's correction."""
    from crmkit.present.format import pct

    found = []
    for column, table in analysis.breakdowns.items():
        flagged = table.loc[table["verdict"].isin(["above the rest", "below the rest"])]
        for row in flagged.itertuples():
            found.append(
                f"{column.capitalize()} {row.group}: {_step_text(row.metric)} "
                f"{pct(row.conversion)} against {pct(row.rest)} for the rest — "
                f"{row.verdict} ({p_text(row.p_adjusted)}, Holm)."
            )
    return found


def key_findings(analysis: FunnelAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the funnel report, each with its number."""
    from crmkit.present.format import change, money, pct

    created = len(analysis.cohort)
    previous_created = int(analysis.previous["reached"].iloc[0])
    is_open = int((analysis.cohort["outcome"] == "open").sum())
    found = [bottleneck_sentence(analysis)]
    found.append(
        f"{created:,} opportunities were created in the period "
        f"({change(created, previous_created)}); {is_open:,} are still open. Win rate "
        f"{pct(analysis.win_rate)} (previous period {pct(analysis.previous_win_rate)}), "
        f"overall conversion {pct(analysis.overall_conversion)} "
        f"(previous {pct(analysis.previous_overall_conversion)})."
    )
    found.append(cycle_sentence(analysis))
    v = analysis.velocity
    if np.isfinite(v.per_day):
        found.append(
            f"Pipeline velocity: {money(v.per_day, currency)} a day ({v.open_opportunities:,} "
            f"open × {pct(v.win_rate)} win rate × {money(v.mean_won_amount, currency)} mean won "
            f"deal ÷ {v.median_cycle_days:.0f} days)."
        )
    if len(analysis.stuck):
        found.append(
            f"{len(analysis.stuck):,} open opportunities have sat in their stage longer than "
            "90% of past deals did (listed under Time in stage)."
        )
    found += breakdown_sentences(analysis)
    found += analysis.notes
    return found


def results(analysis: FunnelAnalysis) -> dict:
    """The funnel's key results for ``<notebook>.json`` (keys as in issue #4)."""
    stages = analysis.stages
    b = analysis.bottleneck

    def rates(table: pd.DataFrame) -> dict[str, float]:
        return {
            step_name(stages, k): table["step_conversion"].iloc[k] for k in range(1, len(stages))
        }

    return {
        "stages": stages,
        "stage_counts": dict(zip(stages, analysis.current["reached"].astype(int), strict=True)),
        "stage_conversion": rates(analysis.current),
        "previous_stage_conversion": rates(analysis.previous),
        "overall_conversion": analysis.overall_conversion,
        "win_rate": analysis.win_rate,
        "median_cycle_days": analysis.cycle.median,
        "velocity_per_day": analysis.velocity.per_day,
        "bottleneck": b.step if b else None,
        "bottleneck_p_value": b.p_adjusted if b else None,
        "bottleneck_significant": b.significant if b else False,
        "bottleneck_summary": (
            f"{_step_text(b.step)} {b.delta * 100:+.1f} pts, "
            f"{'significant' if b.significant else 'not significant'}"
            if b
            else "no step fell"
        ),
        "stuck_open": len(analysis.stuck),
        "opportunities_created": len(analysis.cohort),
        "cycle_lengthened": analysis.cycle.lengthened,
        "cycle_p_value": analysis.cycle.p_value,
    }


def stuck_table(analysis: FunnelAnalysis, *, salt: str = "", top: int = 25) -> pd.DataFrame:
    """The longest-waiting open opportunities, by pseudonymous id, for the report."""
    import hashlib

    stuck = analysis.stuck.head(top).copy()
    stuck.insert(
        0,
        "opportunity",
        [
            "O-" + hashlib.sha256(f"{salt}:{i}".encode()).hexdigest()[:8]
            for i in stuck.pop("opportunity_id")
        ],
    )
    return stuck.rename(columns={"days": "days_in_stage", "p90": "p90_of_movers"})


def comparison_view(analysis: FunnelAnalysis) -> pd.DataFrame:
    """Step conversion now against the previous period, for reading."""
    view = analysis.comparison.rename(
        columns={"now": "this_period", "before": "previous_period", "delta": "change"}
    )
    view["step"] = view["step"].map(_step_text)
    view["interval"] = [
        "–" if np.isnan(lo) else f"{lo * 100:+.1f} to {hi * 100:+.1f} points"
        for lo, hi in zip(view.pop("low"), view.pop("high"), strict=True)
    ]
    view["change"] = [f"{d * 100:+.1f} points" if np.isfinite(d) else "–" for d in view["change"]]
    return view[
        ["step", "this_period", "previous_period", "change", "interval", "p_value", "p_adjusted"]
    ]


def funnel_view(analysis: FunnelAnalysis) -> pd.DataFrame:
    """The funnel table for reading, this period beside the previous one."""
    now, before = analysis.current, analysis.previous
    return pd.DataFrame(
        {
            "stage": now["stage"],
            "reached": now["reached"],
            "still_open_here": now["open_here"],
            "dropped_off": now["drop_off"],
            "step_conversion": now["step_conversion"],
            "interval": [
                "–" if np.isnan(lo) else f"{lo * 100:.0f}–{hi * 100:.0f}%"
                for lo, hi in zip(now["low"], now["high"], strict=True)
            ],
            "cumulative_conversion": now["cumulative_conversion"],
            "previous_reached": before["reached"],
            "previous_step_conversion": before["step_conversion"],
        }
    )


def section_findings(analysis: FunnelAnalysis, *, currency: str = "") -> dict[str, str]:
    """One sentence with its number for each section of the funnel report."""
    from crmkit.present.format import money, pct

    text: dict[str, str] = {}
    current = analysis.current
    drops = current.iloc[1:].dropna(subset=["step_conversion"])
    if len(drops):
        worst = drops.loc[drops["step_conversion"].idxmin()]
        k = int(worst.name)
        text["funnel"] = (
            f"Of the {int(current['reached'].iloc[0]):,} opportunities created in the period, "
            f"{_count(int(current['reached'].iloc[-1]), 'has', 'have')} been won so far. "
            "The weakest step is "
            f"{_step_text(step_name(analysis.stages, k))}: {pct(worst['step_conversion'])} of "
            f"the opportunities decided at {analysis.stages[k - 1]} moved on."
        )
    else:
        text["funnel"] = "No opportunity of this period has been decided yet."
    done = analysis.window.loc[analysis.window["complete"]]
    if len(done):
        last = done.iloc[-1]
        text["window"] = (
            f"Of the opportunities created in {last['month']:%Y-%m}, the latest month whose "
            f"{analysis.window_days}-day window has passed, {pct(last['conversion'])} were won "
            f"within it (95% interval {pct(last['low'])}–{pct(last['high'])}); the average over "
            f"the {len(done)} complete months shown is "
            f"{pct(done['won_in_window'].sum() / done['created'].sum())}."
        )
    else:
        text["window"] = (
            f"No creation month shown has had its full {analysis.window_days} days yet."
        )
    durations = analysis.durations.dropna(subset=["median"])
    if len(durations):
        slow = durations.loc[durations["median"].idxmax()]
        text["durations"] = (
            f"Deals wait longest at {slow['stage']}: a median of {slow['median']:.0f} days, "
            f"one in ten more than {slow['p90']:.0f} days."
        )
    else:
        text["durations"] = "No opportunity has moved between stages yet."
    stuck = analysis.stuck
    text["stuck"] = (
        f"{len(stuck):,} open opportunities have waited in their stage longer than 90% of "
        f"past deals did (worth {money(stuck['amount'].sum(), currency)}); the longest "
        "waiting are listed by pseudonymous id."
        if len(stuck) and "amount" in stuck.columns
        else f"{len(stuck):,} open opportunities have waited longer than 90% of past deals."
        if len(stuck)
        else "No open opportunity has waited longer than 90% of past deals did."
    )
    curve = analysis.cycle_curves["this period"]
    text["cycle_curve"] = (
        f"Half of this period's won-or-open deals were won by day {curve.median:.0f}."
        if np.isfinite(curve.median)
        else "Fewer than half of this period's won-or-open deals have been won so far, so the "
        "curve has no median yet."
    )
    if analysis.roi is not None:
        priced = analysis.roi.dropna(subset=["cost_per_won"])
        if len(priced):
            best = priced.loc[priced["cost_per_won"].idxmin()]
            worst = priced.loc[priced["cost_per_won"].idxmax()]
            text["roi"] = (
                f"Only {best['source']} has both acquisition spend and deals won in the period: "
                f"{money(best['cost_per_won'], currency)} of spend per won deal."
                if len(priced) == 1
                else f"Cheapest won deals came from {best['source']} "
                f"({money(best['cost_per_won'], currency)} of acquisition spend per won deal); "
                f"the dearest from {worst['source']} ({money(worst['cost_per_won'], currency)})."
            )
        else:
            text["roi"] = "No source with acquisition spend won a deal in this period."
    return text


def velocity_table(analysis: FunnelAnalysis) -> pd.DataFrame:
    """The parts of pipeline velocity, for reading."""
    v = analysis.velocity
    return pd.DataFrame(
        {
            "part": [
                "open opportunities (whole pipeline at the period end)",
                "win rate (period cohort: won ÷ won + lost)",
                "mean amount of deals won in the period",
                "median days from creation to won (deals won in the period)",
                "pipeline velocity (money per day)",
            ],
            "value": [
                f"{v.open_opportunities:,}",
                f"{v.win_rate:.1%}" if np.isfinite(v.win_rate) else "–",
                f"{v.mean_won_amount:,.0f}" if np.isfinite(v.mean_won_amount) else "–",
                f"{v.median_cycle_days:.0f}" if np.isfinite(v.median_cycle_days) else "–",
                f"{v.per_day:,.0f}" if np.isfinite(v.per_day) else "–",
            ],
        }
    )
