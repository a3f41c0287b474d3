"""The sales funnel: how far each opportunity got, step conversion, and its change.

An opportunity counts at the furthest stage it reached by the day the funnel is taken
(reaching a later stage implies the earlier ones: stages may be skipped). A won opportunity
reached the last stage. Opportunities still open are not yet finished: they are left out of
the conversion of the step they are sitting at, never counted as lost.

Also here: time in stage and stalled deals, and :func:`analyse`, the whole funnel of one
period. Comparisons (each step and the win rate against the previous period, breakdowns by
source or owner) are in :mod:`crmkit.metrics.funnel_compare`; conversion within a window,
the sales cycle, velocity and source ROI in :mod:`crmkit.metrics.sales_cycle`; the words
that describe it all are in the funnel topic (``topics/funnel.py``), never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, day_after, require_period, rows_through
from crmkit.metrics.funnel_compare import (
    Bottleneck,
    RateChange,
    breakdown,
    compare_steps,
    find_bottleneck,
    win_rate_change,
)
from crmkit.metrics.sales_cycle import (
    CycleChange,
    Velocity,
    conversion_window,
    cycle_change,
    cycle_curve,
    cycle_trend,
    missing_inputs,
    source_roi,
    velocity,
    won_cycles,
)
from crmkit.metrics.stats import wilson_interval
from crmkit.metrics.survival import SurvivalCurve


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
    end = day_after(as_of)
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
    95% interval; ``cumulative_conversion``: reached k ÷ created (at the last stage, the
    overall conversion: won ÷ created; open opportunities count as not reached yet);
    ``drop_off``: finished at k-1 without reaching k.

    Returns
    -------
    pandas.DataFrame
        One row per stage in order.
    """
    k = positions["stage_index"].to_numpy()
    is_open = (positions["outcome"] == "open").to_numpy()
    rows = []
    created = len(positions)
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
                cumulative_conversion=1.0 if created else np.nan,
            )
        else:
            previous = rows[-1]
            decided = previous["reached"] - previous["open_here"]
            share = wilson_interval(reached, decided)
            row.update(
                step_conversion=share.value,
                low=share.low,
                high=share.high,
                drop_off=decided - reached,
                cumulative_conversion=reached / created if created else np.nan,
            )
        rows.append(row)
    columns = ["stage", "reached", "open_here", "step_conversion", "low", "high", "drop_off"]
    return pd.DataFrame(rows, columns=[*columns, "cumulative_conversion"])


def win_rate(positions: pd.DataFrame) -> float:
    """Won ÷ (won + lost): open opportunities are not yet decided."""
    won = (positions["outcome"] == "won").sum()
    lost = (positions["outcome"] == "lost").sum()
    return float(won / (won + lost)) if won + lost else float("nan")


def overall_conversion(positions: pd.DataFrame) -> float:
    """Won ÷ all opportunities created in the cohort."""
    return float((positions["outcome"] == "won").mean()) if len(positions) else float("nan")


def cohort(positions: pd.DataFrame, *, period: Period) -> pd.DataFrame:
    """The opportunities created in ``period`` (any time on its last day)."""
    return period.rows(positions, "created_at")


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
    end = day_after(as_of).to_datetime64()
    keep = (history.row >= 0) & (history.position >= 0) & (history.entered < end)
    columns = ["opportunity_id", "stage", "entered_at", "days", "moved_on"]
    if not keep.any():  # typed, so the quantiles of no movers are blank, not an error
        types = [object, object, "datetime64[ns]", np.int64, bool]
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, types, strict=True)})
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
    quantiles = [0.5, 0.75, 0.9]
    table = movers.groupby("stage")["days"].quantile(quantiles).unstack()
    table = table.reindex(columns=quantiles)  # no movers at all: the columns still exist
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
    # float whatever the stages' dtype: with nothing open, map() keeps the text dtype
    current = current.assign(p90=current["stage"].map(limits).astype(float))
    stuck = current.loc[
        current["days"] > current["p90"], ["opportunity_id", "stage", "days", "p90"]
    ]
    for column in ("owner", "amount"):
        if column in is_open.columns:
            stuck[column] = stuck["opportunity_id"].map(is_open[column]).to_numpy()
    return stuck.sort_values("days", ascending=False, ignore_index=True)


@dataclass(frozen=True)
class FunnelAnalysis:
    """Everything the funnel report shows, for one unit and period: numbers and tables only
    (the funnel topic puts them into words)."""

    stages: list[str]
    period: Period
    positions: pd.DataFrame  # every opportunity created by the period end, as of that day
    cohort: pd.DataFrame  # those created in the period
    current: pd.DataFrame  # funnel_table of the period's cohort
    previous: pd.DataFrame  # funnel_table of the previous period's cohort, at its own end
    comparison: pd.DataFrame  # compare_steps(current, previous): Bonferroni p, same-level intervals
    bottleneck: Bottleneck | None
    win_rate: float
    previous_win_rate: float
    win_rate_change: RateChange  # this cohort's win rate against the previous cohort's
    overall_conversion: float
    previous_overall_conversion: float
    window: pd.DataFrame
    window_days: int
    durations: pd.DataFrame  # stage_durations over all movers to the period end
    stuck: pd.DataFrame
    cycle_curve: SurvivalCurve  # this period's cohort at the period end
    previous_cycle_curve: SurvivalCurve  # the previous period's cohort at its own end
    cycle: CycleChange
    cycle_trend: pd.DataFrame
    velocity: Velocity
    breakdowns: dict[str, pd.DataFrame]
    roi: pd.DataFrame | None
    unknown_stages: pd.DataFrame
    skipped_breakdowns: list[str]  # breakdown columns the opportunities do not carry
    costs_without_channel: bool  # costs were given, but without the channel ROI needs
    unrecorded_stages: list[str] = field(default_factory=list)  # left out: no row names them
    one_group: dict[str, str] = field(default_factory=dict)  # breakdown column: its one value
    missing: list[str] = field(default_factory=list)  # optional inputs absent, as "table.column"


def analyse(
    opportunities: pd.DataFrame,
    stage_history: pd.DataFrame,
    *,
    stages: list[str],
    period: Period,
    window_days: int,
    breakdown_columns: list[str] | tuple[str, ...] = (),
    costs: pd.DataFrame | None = None,
    min_group: int = 30,
) -> FunnelAnalysis:
    """The whole funnel for one period: the cohort created in it against the previous one.

    Each cohort is taken at its own period end, so both had the same time to move.
    Breakdown columns that the opportunities do not carry are skipped and listed in
    ``skipped_breakdowns``, those with one value in the cohort in ``one_group``. A middle
    stage no stage-history row names by the period end is not recorded in the data: it is
    left out of ``stages`` and listed in ``unrecorded_stages`` (no step into or out of it is
    reported as 0% or 100%). ``missing``: see :func:`~crmkit.metrics.sales_cycle.missing_inputs`;
    without ``closed_at`` the window, the cycle and the previous cohort are empty, never 0.

    Parameters
    ----------
    opportunities, stage_history
        The unit's tables (contract columns; see :func:`furthest_stage`).
    stages
        The unit's funnel stages in order; the last is won.
    period
        The reporting period; its ``previous_start``/``previous_end`` give the comparison.
    window_days
        Days after creation within which a won deal counts for :func:`conversion_window`.
    breakdown_columns
        Opportunity columns to break conversion down by.
    costs
        The ``costs`` table, for source ROI (needs ``channel``); None to skip it.
    min_group
        Smallest group a breakdown tests against the rest.

    Raises
    ------
    ParameterError
        ``period`` is not a Period, fewer than two stages, or a required column missing.
    """
    require_period(period, caller="funnel.analyse")
    if isinstance(stages, str):
        raise ParameterError(f"funnel stages must be a list of stage names; got {stages!r}.")
    stages = list(stages)
    _check_funnel_input(opportunities, stage_history, stages, "analyse")
    previous_period = period.previous()
    unrecorded = _unrecorded_stages(stage_history, stages=stages, as_of=period.end)
    configured, stages = stages, [s for s in stages if s not in unrecorded]
    missing = missing_inputs(opportunities, costs)
    if "opportunities.closed_at" in missing:  # a won deal's close date, unknown: not a cycle
        opportunities = opportunities.assign(closed_at=pd.NaT)
    history = _index_history(opportunities, stage_history, stages)
    positions = _furthest(opportunities, history, stages=stages, as_of=period.end)
    previous_cohort = _furthest(
        opportunities,
        history,
        stages=stages,
        as_of=previous_period.end,
        created_from=previous_period.start,
    )
    if "opportunities.closed_at" in missing:  # outcomes at the previous end unknown: no cohort
        previous_cohort = previous_cohort.iloc[:0]
    this_cohort = cohort(positions, period=period)
    current = funnel_table(this_cohort, stages=stages)
    previous = funnel_table(previous_cohort, stages=stages)
    comparison = compare_steps(current, previous, stages=stages)
    ids = opportunities["opportunity_id"].to_numpy(dtype=object)
    timings = _time_in_stage(history, ids, stages=stages, as_of=period.end)
    rate = win_rate(this_cohort)
    breakdowns, skipped, one_group = {}, [], {}
    for column in breakdown_columns:
        values = this_cohort[column].dropna().unique() if column in positions.columns else []
        if len(values) == 1:
            one_group[column] = str(values[0])
        elif len(values):
            breakdowns[column] = breakdown(
                this_cohort, by=column, stages=stages, min_group=min_group
            )
        else:
            skipped.append(column)
    roi, costs_without_channel = None, False
    if costs is not None and not costs.empty and "source" in positions.columns:
        if "channel" in costs.columns:
            roi = source_roi(positions, costs, period=period)
        else:
            costs_without_channel = True
    return FunnelAnalysis(
        stages=stages,
        period=period,
        positions=positions,
        cohort=this_cohort,
        current=current,
        previous=previous,
        comparison=comparison,
        bottleneck=find_bottleneck(comparison),
        win_rate=rate,
        previous_win_rate=win_rate(previous_cohort),
        win_rate_change=win_rate_change(this_cohort, previous_cohort),
        overall_conversion=overall_conversion(this_cohort),
        previous_overall_conversion=overall_conversion(previous_cohort),
        window=conversion_window(
            positions.iloc[:0] if "opportunities.closed_at" in missing else positions,
            window_days=window_days,
            as_of=period.end,
        ),
        window_days=window_days,
        durations=stage_durations(timings, stages=stages),
        stuck=stuck_open(timings, positions, stages=stages),
        cycle_curve=cycle_curve(this_cohort, as_of=period.end),
        previous_cycle_curve=cycle_curve(previous_cohort, as_of=previous_period.end),
        cycle=cycle_change(
            won_cycles(positions, period=period), won_cycles(positions, period=previous_period)
        ),
        cycle_trend=cycle_trend(positions, as_of=period.end),
        velocity=velocity(positions, win_rate=rate, period=period),
        breakdowns=breakdowns,
        roi=roi,
        unknown_stages=unknown_stages(stage_history, stages=configured),
        skipped_breakdowns=skipped,
        costs_without_channel=costs_without_channel,
        unrecorded_stages=unrecorded,
        one_group=one_group,
        missing=missing,
    )


def _unrecorded_stages(
    stage_history: pd.DataFrame, *, stages: list[str], as_of: date | str | pd.Timestamp
) -> list[str]:
    """The middle stages (neither the first, where every opportunity starts, nor won) that
    no stage-history row names by ``as_of``."""
    history = rows_through(stage_history, "entered_at", as_of)
    named = set(_stage_positions(history["stage"], stages))
    return [name for k, name in enumerate(stages[1:-1], start=1) if k not in named]
