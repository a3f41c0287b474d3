"""The funnel report in words and reading tables: key findings, one sentence per section,
the tables a stakeholder reads, the flags it raises, and the published results.

Numbers come from :func:`crmkit.metrics.funnel.analyse`; nothing here computes a statistic.
Every word is in the report's language, from ``present/words/funnel.yaml``; every table
column is named by its glossary key, so its header is the figure's one name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.funnel import FunnelAnalysis
from crmkit.metrics.funnel_compare import (
    ABOVE,
    BELOW,
    NO_DIFFERENCE,
    TOO_FEW,
    WIN_RATE,
    step_name,
)
from crmkit.metrics.sales_cycle import MONTHS_SHOWN
from crmkit.metrics.survival import SurvivalCurve
from crmkit.present.format import change, money, month, num, p_text, pct, shown_difference, signed
from crmkit.present.language import column_name, definition, term, words
from crmkit.topics.flags import Flag, alert_flag, change_flag

TOPIC = "funnel"

STUCK_ALERT_SHARE = 0.2
"""Alert level for stalled deals: more than a fifth of the open pipeline has waited in its
stage longer than nine in ten past deals did (the stage's 90th percentile). Were waiting
times as in the past, about one open deal in ten would be past it."""

VERDICTS = {
    ABOVE: "funnel.verdict_above",
    BELOW: "funnel.verdict_below",
    NO_DIFFERENCE: "funnel.verdict_no_difference",
    TOO_FEW: "funnel.verdict_too_few",
}
"""The catalogue's words for each breakdown verdict code."""

DEFINED = ["step_conversion", "cumulative_conversion", "overall_conversion", "win_rate"]
"""The conversion figures the report defines under the funnel chart, in that order."""


def _w(key: str, **values) -> str:
    return words(f"funnel.{key}", **values)


def step_text(step: str) -> str:
    """``"lead->intent"`` → ``"lead → intent"`` (the unit's own stage names)."""
    return step.replace("->", " → ")


def metric_text(metric: str) -> str:
    """A breakdown metric's name: "win rate", or "step conversion lead → intent"."""
    if metric == WIN_RATE:
        return term("win_rate")
    return _w("step_conversion_of", step=step_text(metric))


def points_text(delta: float) -> str:
    """A change of a rate in percentage points: ``-0.419`` → ``"−41.9 points"``."""
    return _w("points", points=signed(delta * 100, 1))


def shown_points_text(now: float, before: float) -> str:
    """The change between two rates written beside it, in percentage points: the difference
    of the two as written (:func:`~crmkit.present.format.shown_difference`)."""
    return _w("points", points=signed(shown_difference(now * 100, before * 100, 1), 1))


def _named(key: str) -> str:
    """A figure's glossary name to open a sentence with (first letter capitalised)."""
    name = term(key)
    return name[:1].upper() + name[1:]


def _or_list(names: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b or c"`` in the report's language."""
    names = [str(n) for n in names]
    if len(names) == 1:
        return names[0]
    return _w("or", first=_w("list_sep").join(names[:-1]), last=names[-1])


def _either(columns: list[str]) -> str:
    """Breakdown columns by their glossary names, ``"lead source or owner"``."""
    return _or_list([column_name(c) for c in columns])


def skipped(analysis: FunnelAnalysis) -> dict[str, str]:
    """One sentence for each section of the funnel report that cannot run, naming what is
    missing: keys ``funnel``, ``comparison`` (with the previous period), ``window``,
    ``durations`` (with stalled deals), ``cycle``, ``cycle_curve``, ``cycle_trend``,
    ``velocity``, ``breakdowns``, ``roi``; a section that runs has no key."""
    missing = set(analysis.missing)
    text: dict[str, str] = {}
    no_cohort = analysis.cohort.empty
    if no_cohort and not int(analysis.previous["reached"].iloc[0]):
        text["funnel"] = _w("skip_funnel")
    if "opportunities.closed_at" in missing:
        for key in ("comparison", "window", "cycle"):
            text[key] = _w(f"skip_{key}_no_closed")
        if analysis.positions.empty:
            text["comparison"] = _w("skip_comparison_nothing_created")
    else:
        if analysis.window.empty:
            text["window"] = _w("skip_window_no_months", months=num(MONTHS_SHOWN))
        if all(curve.table.empty for curve in cycle_curves(analysis).values()):
            text["cycle_curve"] = _w("skip_cycle_curve")
        if analysis.cycle_trend.empty:
            text["cycle_trend"] = _w("skip_cycle_trend", months=num(MONTHS_SHOWN))
    if not analysis.durations["moved_on"].sum():
        text["durations"] = _w("skip_durations")
    if "opportunities.amount" in missing:
        text["velocity"] = _w("skip_velocity_no_amount")
    elif "opportunities.closed_at" in missing:
        text["velocity"] = _w("skip_velocity_no_closed")
    breakdowns = []
    if no_cohort and (analysis.skipped_breakdowns or analysis.one_group):
        columns = [*analysis.skipped_breakdowns, *analysis.one_group]
        breakdowns.append(_w("skip_breakdowns_no_cohort", columns=_either(columns)))
    elif analysis.skipped_breakdowns:
        breakdowns.append(
            _w("skip_breakdowns_missing", columns=_either(analysis.skipped_breakdowns))
        )
    for column, value in analysis.one_group.items():
        breakdowns.append(_w("skip_breakdown_one_group", column=column_name(column), value=value))
    if not breakdowns and not analysis.breakdowns:
        breakdowns.append(_w("skip_breakdowns_none_asked"))
    if breakdowns:
        text["breakdowns"] = _w("sentence_sep").join(breakdowns)
    reasons = ["costs", "costs.channel", "opportunities.source"]
    lacking = [_w(f"roi_lacks_{need.replace('.', '_')}") for need in reasons if need in missing]
    if lacking:
        text["roi"] = _w("skip_roi", reasons=_w("and_sep").join(lacking))
    return text


def notes(analysis: FunnelAnalysis) -> list[str]:
    """What the analysis had to leave out or ignore, one sentence each."""
    found = [
        _w("note_breakdown_missing", column=column_name(column))
        for column in analysis.skipped_breakdowns
        if not analysis.cohort.empty  # else the last note says why
    ]
    if analysis.costs_without_channel:
        found.append(_w("note_roi_no_channel"))
    for column in ("closed_at", "amount"):
        if f"opportunities.{column}" in analysis.missing and len(analysis.positions):
            found.append(_w(f"note_no_{column}"))
    unknown = analysis.unknown_stages
    if len(unknown):
        found.append(
            _w(
                "note_unknown_stages",
                rows=num(int(unknown["rows"].sum())),
                stages=_w("list_sep").join(map(str, unknown["stage"].head(5))),
            )
        )
    if analysis.unrecorded_stages:
        found.append(
            _w(
                "note_unrecorded_stages",
                stages=_or_list(analysis.unrecorded_stages),
                funnel=" → ".join(analysis.stages),
            )
        )
    if analysis.cohort.empty:
        found.append(_w("note_no_cohort"))
    return found


def bottleneck_sentence(analysis: FunnelAnalysis) -> str:
    """The headline: the step whose step conversion fell most, with its numbers and whether
    the fall is real (its p-value allows for all the steps compared)."""
    b = analysis.bottleneck
    if b is None:
        if "opportunities.closed_at" in analysis.missing:
            return skipped(analysis)["comparison"]
        if analysis.comparison["delta"].isna().all():
            return _w("bottleneck_none_comparable")
        return _w("bottleneck_none_fell")
    steps = len(analysis.comparison)
    return _w(
        "bottleneck_significant" if b.significant else "bottleneck_not_significant",
        step=step_text(b.step),
        before=pct(b.before),
        now=pct(b.now),
        points=shown_points_text(b.now, b.before),
        p=p_text(b.p_adjusted),
        adjusted=_w("steps_adjusted", n=num(steps)) if steps > 1 else "",
    )


def cycle_sentence(analysis: FunnelAnalysis) -> str:
    """The median days to win (deals won in the period) in words, with the early warning
    when it lengthened significantly."""
    c = analysis.cycle
    if not c.n:
        return _w("cycle_none")
    values = {"name": _named("median_cycle_days"), "days": num(c.median), "n": num(c.n)}
    if not c.previous_n:
        return _w("cycle_no_previous", **values)
    values.update(before=num(c.previous_median), p=p_text(c.p_value))
    if c.lengthened:
        return _w("cycle_lengthened", **values)
    if c.shortened:
        return _w("cycle_shortened", **values)
    return _w("cycle_unchanged", **values)


def win_rate_sentence(analysis: FunnelAnalysis) -> str:
    """The win rate (won ÷ (won + lost)) against the previous period, with the size and
    significance of the change."""
    w = analysis.win_rate_change
    if not np.isfinite(w.now):
        return _w("win_rate_unknown")
    values = {"now": pct(w.now), "won": num(w.won), "decided": num(w.decided)}
    if not np.isfinite(w.before):
        return _w("win_rate_no_previous", **values)
    values.update(
        before=pct(w.before), points=shown_points_text(w.now, w.before), p=p_text(w.p_value)
    )
    if not w.significant:
        return _w("win_rate_unchanged", **values)
    return _w("win_rate_fell" if w.delta < 0 else "win_rate_rose", **values)


def overall_sentence(analysis: FunnelAnalysis) -> str:
    """Overall conversion (won ÷ created), and why it sits under the win rate."""
    if not np.isfinite(analysis.overall_conversion):
        return _w("overall_none")
    values = {
        "now": pct(analysis.overall_conversion),
        "open": num(int((analysis.cohort["outcome"] == "open").sum())),
    }
    if not np.isfinite(analysis.previous_overall_conversion):
        return _w("overall_no_previous", **values)
    return _w("overall", before=pct(analysis.previous_overall_conversion), **values)


def breakdown_sentences(analysis: FunnelAnalysis) -> list[str]:
    """One sentence per group that differs from the rest (p-values allow for every test of
    the table)."""
    found = []
    for column, table in analysis.breakdowns.items():
        flagged = table.loc[table["verdict"].isin([ABOVE, BELOW])]
        for row in flagged.itertuples():
            found.append(
                _w(
                    "breakdown_differs",
                    column=column_name(column),
                    group=row.group,
                    metric=metric_text(row.metric),
                    value=pct(row.conversion),
                    rest=pct(row.rest),
                    verdict=words(VERDICTS[row.verdict]),
                    p=p_text(row.p_adjusted),
                )
            )
    return found


def key_findings(analysis: FunnelAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the funnel report, each with its number."""
    created = len(analysis.cohort)
    previous_created = int(analysis.previous["reached"].iloc[0])
    found = [] if "comparison" in skipped(analysis) else [bottleneck_sentence(analysis)]
    found.append(
        _w(
            "created",
            created=num(created),
            change=change(created, previous_created),
            open=num(int((analysis.cohort["outcome"] == "open").sum())),
        )
    )
    found += [win_rate_sentence(analysis), overall_sentence(analysis)]
    if "opportunities.closed_at" not in analysis.missing:  # else a note says so
        found.append(cycle_sentence(analysis))
    v = analysis.velocity
    if np.isfinite(v.per_day):
        found.append(
            _w(
                "velocity",
                per_day=money(v.per_day, currency),
                open=num(v.open_opportunities),
                win_rate=pct(v.win_rate),
                amount=money(v.mean_won_amount, currency),
                days=num(v.median_cycle_days),
            )
        )
    if len(analysis.stuck):
        found.append(_w("stuck_finding", n=num(len(analysis.stuck))))
    found += breakdown_sentences(analysis)
    found += notes(analysis)
    return found


def _funnel_text(analysis: FunnelAnalysis) -> str:
    current = analysis.current
    drops = current.iloc[1:].dropna(subset=["step_conversion"])
    if not len(drops):
        return _w("funnel_no_cohort" if analysis.cohort.empty else "funnel_undecided")
    worst = drops.loc[drops["step_conversion"].idxmin()]
    k = int(worst.name)
    return _w(
        "funnel_text",
        created=num(int(current["reached"].iloc[0])),
        won=num(int(current["reached"].iloc[-1])),
        cumulative=pct(current["cumulative_conversion"].iloc[-1]),
        step=step_text(step_name(analysis.stages, k)),
        rate=pct(worst["step_conversion"]),
        stage=analysis.stages[k - 1],
    )


def _roi_text(analysis: FunnelAnalysis, currency: str) -> str:
    priced = analysis.roi.dropna(subset=["cost_per_won"])
    per_lead = analysis.roi.dropna(subset=["cost_per_lead"])
    if "opportunities.closed_at" in analysis.missing and len(per_lead):
        best = per_lead.loc[per_lead["cost_per_lead"].idxmin()]
        return _w(
            "roi_per_lead", source=best["source"], cost=money(best["cost_per_lead"], currency)
        )
    if not len(priced):
        return _w("roi_none")
    best = priced.loc[priced["cost_per_won"].idxmin()]
    worst = priced.loc[priced["cost_per_won"].idxmax()]
    if len(priced) == 1:
        return _w("roi_one", source=best["source"], cost=money(best["cost_per_won"], currency))
    return _w(
        "roi_many",
        best=best["source"],
        best_cost=money(best["cost_per_won"], currency),
        worst=worst["source"],
        worst_cost=money(worst["cost_per_won"], currency),
    )


def section_findings(analysis: FunnelAnalysis, *, currency: str = "") -> dict[str, str]:
    """One sentence with its number for each section of the funnel report: ``funnel``,
    ``window``, ``durations``, ``stuck``, ``cycle_curve`` and, with costs, ``roi``."""
    text = {"funnel": _funnel_text(analysis)}
    done = analysis.window.loc[analysis.window["complete"]]
    if len(done):
        last = done.iloc[-1]
        text["window"] = _w(
            "window_text",
            month=month(last["month"]),
            days=num(analysis.window_days),
            rate=pct(last["conversion"]),
            low=pct(last["low"]),
            high=pct(last["high"]),
            months=num(len(done)),
            average=pct(done["won_in_window"].sum() / done["created"].sum()),
        )
    else:
        text["window"] = _w("window_none", days=num(analysis.window_days))
    durations = analysis.durations.dropna(subset=["median"])
    if len(durations):
        slow = durations.loc[durations["median"].idxmax()]
        text["durations"] = _w(
            "durations_text", stage=slow["stage"], median=num(slow["median"]), p90=num(slow["p90"])
        )
    else:
        text["durations"] = _w("durations_none")
    stuck = analysis.stuck
    if len(stuck) and "amount" in stuck.columns:
        text["stuck"] = _w(
            "stuck_amount", n=num(len(stuck)), amount=money(stuck["amount"].sum(), currency)
        )
    else:
        text["stuck"] = _w("stuck_plain", n=num(len(stuck))) if len(stuck) else _w("stuck_none")
    text["cycle_curve"] = cycle_curve_sentence(analysis)
    if analysis.roi is not None:
        text["roi"] = _roi_text(analysis, currency)
    return text


def cycle_curve_sentence(analysis: FunnelAnalysis) -> str:
    """The sentence under the sales-cycle chart: the days until half of this period's
    won-or-open deals are won (read off its curve), or, when the chart leaves this period's
    curve out, the chart's own reason (too few won deals)."""
    curve = analysis.cycle_curve
    if curve.table.empty and analysis.previous_cycle_curve.table.empty:
        return _w("skip_cycle_curve")  # no chart at all
    if curve.table.empty:
        return _w("cycle_curve_too_few", n=num(curve.events))
    name = _named("half_won_days")
    if np.isfinite(curve.median):
        return _w("cycle_curve_median", name=name, days=num(curve.median))
    return _w("cycle_curve_no_median", name=name)


def definitions() -> str:
    """The conversion figures of the report, each with its one definition (Markdown)."""
    return "\n".join(f"- **{term(key)}**: {definition(key)}" for key in DEFINED)


# ----------------------------------------------------------------------------- flags


def flags(analysis: FunnelAnalysis) -> list[Flag]:
    """The funnel's flags for "what changed and what to do" (registry: ``Topic.flags``):
    the win rate's significant change, the bottleneck step's significant fall, stalled deals
    past :data:`STUCK_ALERT_SHARE` of the open pipeline, a significantly longer cycle."""
    found = [win_rate_flag(analysis), bottleneck_flag(analysis), stuck_flag(analysis)]
    found.append(cycle_flag(analysis))
    return [flag for flag in found if flag is not None]


def win_rate_flag(analysis: FunnelAnalysis) -> Flag | None:
    """The win rate changed significantly against the previous period (good when up)."""
    w = analysis.win_rate_change
    direction = "fell" if w.delta < 0 else "rose"
    return change_flag(
        TOPIC,
        "win_rate_change",
        delta=float(w.delta),
        low=float(w.low),
        high=float(w.high),
        p_value=float(w.p_value),
        good_when="up",
        message=f"funnel.flag_win_rate_{direction}",
        action=f"funnel.action_win_rate_{direction}",
        section="funnel.velocity_heading",
        values={
            "before": lambda: pct(w.before),
            "now": lambda: pct(w.now),
            "points": lambda: shown_points_text(w.now, w.before),
            "p": lambda: p_text(w.p_value),
        },
        raw={"now": float(w.now), "before": float(w.before)},
    )


def bottleneck_flag(analysis: FunnelAnalysis) -> Flag | None:
    """The step that fell most, when the fall is significant after allowing for every step
    compared (its Bonferroni-adjusted p-value; its interval is adjusted alike)."""
    b = analysis.bottleneck
    if b is None or not b.significant:
        return None
    return change_flag(
        TOPIC,
        "bottleneck_fall",
        delta=float(b.delta),
        low=float(b.low),
        high=float(b.high),
        p_value=float(b.p_adjusted),
        good_when="up",
        message="funnel.flag_bottleneck",
        action="funnel.action_bottleneck",
        section="funnel.comparison_heading",
        values={
            "step": step_text(b.step),
            "before": lambda: pct(b.before),
            "now": lambda: pct(b.now),
            "p": lambda: p_text(b.p_adjusted),
        },
        raw={"step": b.step, "now": float(b.now), "before": float(b.before)},
    )


def stuck_share(analysis: FunnelAnalysis) -> float:
    """Stalled open opportunities ÷ all open opportunities at the period end (NaN when none
    is open, or no stage has past movers to compare with)."""
    is_open = int((analysis.positions["outcome"] == "open").sum())
    if not is_open or analysis.durations["p90"].isna().all():
        return float("nan")
    return len(analysis.stuck) / is_open


def stuck_flag(analysis: FunnelAnalysis) -> Flag | None:
    """More than :data:`STUCK_ALERT_SHARE` of the open pipeline has stalled."""
    share = stuck_share(analysis)
    if not share > STUCK_ALERT_SHARE:
        return None
    return alert_flag(
        TOPIC,
        "stuck_open",
        excess=share / STUCK_ALERT_SHARE - 1,
        message="funnel.flag_stuck",
        action="funnel.action_stuck",
        section="funnel.durations_heading",
        values={
            "n": lambda: num(len(analysis.stuck)),
            "share": lambda: pct(share),
            "level": lambda: pct(STUCK_ALERT_SHARE, 0),
        },
        raw={"stuck": len(analysis.stuck), "share": share, "level": STUCK_ALERT_SHARE},
    )


def cycle_flag(analysis: FunnelAnalysis) -> Flag | None:
    """The median days to win lengthened significantly (Mann–Whitney p < 0.05); its size is
    the Hodges–Lehmann shift in days, with its interval."""
    c = analysis.cycle
    if not c.lengthened:
        return None
    return change_flag(
        TOPIC,
        "cycle_lengthened",
        delta=c.shift,
        low=c.low,
        high=c.high,
        p_value=c.p_value,
        good_when="down",
        message="funnel.flag_cycle",
        action="funnel.action_cycle",
        section="funnel.cycle_heading",
        values={
            "before": lambda: num(c.previous_median),
            "now": lambda: num(c.median),
            "p": lambda: p_text(c.p_value),
        },
        raw={"median": c.median, "previous_median": c.previous_median},
    )


# ----------------------------------------------------------------------------- results


def results(analysis: FunnelAnalysis) -> dict:
    """The funnel's key results for ``<notebook>.json`` (keys as in issue #4, and
    ``win_rate_change`` for the portfolio).

    Where a figure cannot be known it is null, never 0 or false: the bottleneck's
    significance when no step can be compared, the cycle's lengthening without two periods'
    won deals, and the stalled count while no stage has past movers to compare with.
    """
    stages = analysis.stages
    b = analysis.bottleneck
    comparable = bool(analysis.comparison["delta"].notna().any())
    is_open = int((analysis.positions["outcome"] == "open").sum())
    stuck_known = analysis.durations["p90"].notna().any() or not is_open

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
        "win_rate_change": analysis.win_rate_change.as_dict(),
        "median_cycle_days": analysis.cycle.median,
        "velocity_per_day": analysis.velocity.per_day,
        "bottleneck": b.step if b else None,
        "bottleneck_p_value": b.p_adjusted if b else None,
        "bottleneck_significant": b.significant if b else (False if comparable else None),
        "bottleneck_summary": (
            f"{step_text(b.step)} {b.delta * 100:+.1f} pts, "
            f"{'significant' if b.significant else 'not significant'}"
            if b
            else "no step fell"
            if comparable
            else "no comparison"
        ),
        "stuck_open": len(analysis.stuck) if stuck_known else None,
        "opportunities_created": len(analysis.cohort),
        "cycle_lengthened": (
            analysis.cycle.lengthened if np.isfinite(analysis.cycle.p_value) else None
        ),
        "cycle_p_value": analysis.cycle.p_value,
    }


def cycle_curves(analysis: FunnelAnalysis) -> dict[str, SurvivalCurve]:
    """Both cohorts' sales-cycle curves under the legend's words for them."""
    return {
        _w("this_period"): analysis.cycle_curve,
        _w("previous_period"): analysis.previous_cycle_curve,
    }
