"""The funnel report in words and reading tables: key findings, one sentence per section,
the tables a stakeholder reads, and the published results.

Numbers come from :func:`crmkit.metrics.funnel.analyse`; nothing here computes a statistic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.funnel import FunnelAnalysis, step_name
from crmkit.metrics.sales_cycle import MONTHS_SHOWN
from crmkit.metrics.survival import SurvivalCurve
from crmkit.present.format import change, money, p_text, pct, pseudonym

# The breakdown verdicts (crmkit.metrics.stats.verdicts) that name a real difference.
DIFFERS = ("above the rest", "below the rest")


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _step_text(step: str) -> str:
    """``"lead->intent"`` → ``"lead → intent"``."""
    return step.replace("->", " → ")


def _names(names: list[str], *, code: bool = True) -> str:
    """``["source", "owner"]`` → ```source` or `owner```."""
    quoted = [f"`{n}`" if code else str(n) for n in names]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def skipped(analysis: FunnelAnalysis) -> dict[str, str]:
    """One sentence for each section of the funnel report that cannot run, naming what is
    missing: keys ``funnel``, ``comparison`` (with the previous period), ``window``,
    ``durations`` (with stalled deals), ``cycle``, ``cycle_curve``, ``cycle_trend``,
    ``velocity``, ``breakdowns``, ``roi``; a section that runs has no key."""
    missing = set(analysis.missing)
    text: dict[str, str] = {}
    no_cohort = analysis.cohort.empty
    if no_cohort and not int(analysis.previous["reached"].iloc[0]):
        text["funnel"] = (
            "Skipped: no opportunities were created in this period or the previous one, so "
            "there is no funnel to draw."
        )
    if "opportunities.closed_at" in missing:
        for key, what in [
            ("comparison", "the previous period's cohort cannot be taken at its own end"),
            ("window", "conversion within the window cannot be measured"),
            ("cycle", "the sales cycle cannot be measured"),
        ]:
            text[key] = f"Skipped: no `closed_at` dates on opportunities, so {what}."
        if analysis.positions.empty:
            text["comparison"] = "Skipped: no opportunities were created by the period end."
    else:
        if analysis.window.empty:
            text["window"] = (
                f"Skipped: no opportunities were created in the {MONTHS_SHOWN} months to the "
                "period end."
            )
        if all(curve.table.empty for curve in cycle_curves(analysis).values()):
            text["cycle_curve"] = (
                "Skipped: too few deals of this period's or the previous period's cohort have "
                "been won to draw the curve."
            )
        if analysis.cycle_trend.empty:
            text["cycle_trend"] = (
                f"Skipped: no deal was won in the {MONTHS_SHOWN} months to the period end."
            )
    if not analysis.durations["moved_on"].sum():
        text["durations"] = (
            "Skipped: no opportunity had moved on from a stage of this funnel by the period end, "
            "so time in stage, and which deals have stalled, cannot be measured."
        )
    if "opportunities.amount" in missing:
        text["velocity"] = (
            "Pipeline velocity skipped: no `amount` values on opportunities, so the value of "
            "won deals is unknown."
        )
    elif "opportunities.closed_at" in missing:
        text["velocity"] = (
            "Pipeline velocity skipped: no `closed_at` dates on opportunities, so the sales "
            "cycle is unknown."
        )
    breakdowns = []
    if no_cohort and (analysis.skipped_breakdowns or analysis.one_group):
        columns = [*analysis.skipped_breakdowns, *analysis.one_group]
        breakdowns.append(
            "Skipped: no opportunities were created in this period, so there is nothing to "
            f"break down by {_names(columns, code=False)}."
        )
    elif analysis.skipped_breakdowns:
        breakdowns.append(
            f"Skipped: this period's opportunities carry no {_names(analysis.skipped_breakdowns)}."
        )
    for column, value in analysis.one_group.items():
        breakdowns.append(
            f"Breakdown by {column} skipped: every opportunity of this period has the same "
            f"{column} ({value}), so there is nothing to compare."
        )
    if not breakdowns and not analysis.breakdowns:
        breakdowns.append("Skipped: no breakdown columns were asked for (`funnel_breakdowns`).")
    if breakdowns:
        text["breakdowns"] = " ".join(breakdowns)
    reasons = {
        "costs": "no `costs` rows with acquisition spend by channel",
        "costs.channel": "no `channel` on the `costs` table",
        "opportunities.source": "no `source` values on opportunities",
    }
    lacking = [words for need, words in reasons.items() if need in missing]
    if lacking:
        text["roi"] = (
            f"Skipped: {' and '.join(lacking)}, so spend cannot be matched to the leads and "
            "deals of each source."
        )
    return text


def notes(analysis: FunnelAnalysis) -> list[str]:
    """What the analysis had to leave out or ignore, one sentence each."""
    found = [
        f"Breakdown by {column} skipped: opportunities carry no {column}."
        for column in analysis.skipped_breakdowns
        if not analysis.cohort.empty  # else the last note says why
    ]
    if analysis.costs_without_channel:
        found.append("Source ROI skipped: the costs table has no channel column.")
    for column, sections in [
        ("closed_at", "Previous-period comparison, sales cycle and conversion in the window"),
        ("amount", "Pipeline velocity"),
    ]:
        if f"opportunities.{column}" in analysis.missing and len(analysis.positions):
            found.append(f"{sections} skipped: opportunities carry no {column}.")
    unknown = analysis.unknown_stages
    if len(unknown):
        found.append(
            f"{int(unknown['rows'].sum()):,} stage-history rows name a stage outside this unit's "
            f"funnel ({', '.join(map(str, unknown['stage'].head(5)))}) and were ignored; set "
            "funnel_stages in the unit's parameters if they belong to it."
        )
    if analysis.unrecorded_stages:
        found.append(
            f"No stage-history row names {_names(analysis.unrecorded_stages, code=False)} by "
            f"the period end, so the funnel runs {' → '.join(analysis.stages)}."
        )
    if analysis.cohort.empty:
        found.append("No opportunities were created in this period.")
    return found


def bottleneck_sentence(analysis: FunnelAnalysis) -> str:
    """The headline: the step that fell most, with its numbers and whether the fall is real."""
    b = analysis.bottleneck
    if b is None:
        if "opportunities.closed_at" in analysis.missing:
            return skipped(analysis)["comparison"]
        if analysis.comparison["delta"].isna().all():
            return "No step can be compared with the previous period (no decided opportunities)."
        return "No step's conversion fell against the previous period."
    verdict = (
        "a significant fall"
        if b.significant
        else "not a significant fall: no step changed significantly"
    )
    steps = len(analysis.comparison)
    holm = f" after Holm's correction over {steps} steps" if steps > 1 else ""
    return (
        f"Bottleneck: {_step_text(b.step)} conversion fell from {pct(b.before)} to {pct(b.now)} "
        f"({(b.delta) * 100:+.1f} points, {p_text(b.p_adjusted)}{holm}) — {verdict}."
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
    found = []
    for column, table in analysis.breakdowns.items():
        flagged = table.loc[table["verdict"].isin(DIFFERS)]
        for row in flagged.itertuples():
            found.append(
                f"{column.capitalize()} {row.group}: {_step_text(row.metric)} "
                f"{pct(row.conversion)} against {pct(row.rest)} for the rest — "
                f"{row.verdict} ({p_text(row.p_adjusted)}, Holm)."
            )
    return found


def _rates(analysis: FunnelAnalysis) -> str:
    """Win rate and overall conversion against the previous period, leaving out what cannot
    be known: ``"Win rate 15.3% (previous period 13.8%), overall conversion 10.3% (previous
    9.9%)."``."""
    if not np.isfinite(analysis.overall_conversion):
        return "There is no conversion to measure."
    if np.isfinite(analysis.win_rate):
        win = f"Win rate {pct(analysis.win_rate)}"
        if np.isfinite(analysis.previous_win_rate):
            win += f" (previous period {pct(analysis.previous_win_rate)})"
    else:
        win = "No win rate yet (no deal of the period is won or lost)"
    overall = f"overall conversion {pct(analysis.overall_conversion)}"
    if np.isfinite(analysis.previous_overall_conversion):
        return f"{win}, {overall} (previous {pct(analysis.previous_overall_conversion)})."
    return f"{win}, {overall}; the previous period has no opportunities to compare with."


def key_findings(analysis: FunnelAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the funnel report, each with its number."""
    created = len(analysis.cohort)
    previous_created = int(analysis.previous["reached"].iloc[0])
    is_open = int((analysis.cohort["outcome"] == "open").sum())
    found = [] if "comparison" in skipped(analysis) else [bottleneck_sentence(analysis)]
    found.append(
        f"{created:,} opportunities were created in the period "
        f"({change(created, previous_created)}); {is_open:,} are still open. " + _rates(analysis)
    )
    if "opportunities.closed_at" not in analysis.missing:  # else a note says so
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
    found += notes(analysis)
    return found


def section_findings(analysis: FunnelAnalysis, *, currency: str = "") -> dict[str, str]:
    """One sentence with its number for each section of the funnel report: ``funnel``,
    ``window``, ``durations``, ``stuck``, ``cycle_curve`` and, with costs, ``roi``."""
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
    elif analysis.cohort.empty:
        text["funnel"] = (
            "No opportunities were created in this period; the bars show the previous "
            "period's cohort."
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
    curve = analysis.cycle_curve
    text["cycle_curve"] = (
        f"Half of this period's won-or-open deals were won by day {curve.median:.0f}."
        if np.isfinite(curve.median)
        else "Fewer than half of this period's won-or-open deals have been won so far, so the "
        "curve has no median yet."
    )
    if analysis.roi is not None:
        priced = analysis.roi.dropna(subset=["cost_per_won"])
        per_lead = analysis.roi.dropna(subset=["cost_per_lead"])
        if "opportunities.closed_at" in analysis.missing and len(per_lead):
            best = per_lead.loc[per_lead["cost_per_lead"].idxmin()]
            text["roi"] = (
                "Without `closed_at` dates on opportunities the deals won in the period cannot be "
                f"counted, so only cost per lead is shown: the cheapest leads came from "
                f"{best['source']} ({money(best['cost_per_lead'], currency)} of acquisition "
                "spend per lead)."
            )
        elif len(priced):
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


def results(analysis: FunnelAnalysis) -> dict:
    """The funnel's key results for ``<notebook>.json`` (keys as in issue #4).

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
        "median_cycle_days": analysis.cycle.median,
        "velocity_per_day": analysis.velocity.per_day,
        "bottleneck": b.step if b else None,
        "bottleneck_p_value": b.p_adjusted if b else None,
        "bottleneck_significant": b.significant if b else (False if comparable else None),
        "bottleneck_summary": (
            f"{_step_text(b.step)} {b.delta * 100:+.1f} pts, "
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
    """Both cohorts' sales-cycle curves under the labels the chart's legend shows."""
    return {
        "this period": analysis.cycle_curve,
        "previous period": analysis.previous_cycle_curve,
    }


def stuck_table(analysis: FunnelAnalysis, *, salt: str = "", top: int = 25) -> pd.DataFrame:
    """The longest-waiting open opportunities, by pseudonymous id (``O-`` and 8 hex digits,
    see :func:`crmkit.present.format.pseudonym`), for the report."""
    stuck = analysis.stuck.head(top).copy()
    stuck.insert(
        0,
        "opportunity",
        [pseudonym(i, salt=salt, prefix="O") for i in stuck.pop("opportunity_id")],
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
    ).drop(
        columns=["previous_reached", "previous_step_conversion"]
        if "comparison" in skipped(analysis)
        else []
    )


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


def breakdown_view(table: pd.DataFrame, *, by: str = "group") -> pd.DataFrame:
    """A breakdown (:func:`crmkit.metrics.funnel.breakdown`) for reading: one row per group, a
    column per metric ("55% (48%–61%)"), and the groups that differ from the rest named in
    ``verdict``."""
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
    verdict = {}
    for group, rows in table.groupby("group"):
        if (rows["verdict"] == "too few to judge").all():
            verdict[group] = "too few to judge"
            continue
        flagged = rows.loc[rows["verdict"].isin(DIFFERS)]
        verdict[group] = (
            "; ".join(f"{_step_text(r.metric)}: {r.verdict}" for r in flagged.itertuples())
            or "no clear difference"
        )
    view.insert(0, "opportunities", sizes)
    view["verdict"] = pd.Series(verdict)
    return view.rename_axis(None, axis=1).rename_axis(by).reset_index()
