"""The funnel report's reading tables: each column named by its glossary key (so its header
is the figure's one name in the report's language), values left as numbers for
:func:`crmkit.present.notebook.table` to format, words from ``present/words/funnel.yaml``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.funnel import FunnelAnalysis
from crmkit.metrics.funnel_compare import ABOVE, BELOW, NO_DIFFERENCE, TOO_FEW
from crmkit.present.format import num, pct, pseudonym, signed
from crmkit.present.language import words
from crmkit.topics.funnel import VERDICTS, metric_text, points_text, skipped, step_text


def _w(key: str, **values) -> str:
    return words(f"funnel.{key}", **values)


def stuck_table(analysis: FunnelAnalysis, *, salt: str = "", top: int = 25) -> pd.DataFrame:
    """The longest-waiting open opportunities, by pseudonymous id (``O-`` and 8 hex digits,
    see :func:`crmkit.present.format.pseudonym`), for the report."""
    stuck = analysis.stuck.head(top).copy()
    stuck.insert(
        0,
        "opportunity",
        [pseudonym(i, salt=salt, prefix="O") for i in stuck.pop("opportunity_id")],
    )
    return stuck.rename(
        columns={
            "stage": "funnel_stage",
            "days": "days_in_stage",
            "p90": "p90_days_in_stage",
            "amount": "deal_amount",
        }
    )


def durations_view(analysis: FunnelAnalysis) -> pd.DataFrame:
    """Days in stage before moving on, for reading."""
    return analysis.durations.rename(
        columns={
            "stage": "funnel_stage",
            "median": "median_days_in_stage",
            "p75": "p75_days_in_stage",
            "p90": "p90_days_in_stage",
        }
    )


def _interval(low: float, high: float, *, points: bool) -> str:
    if np.isnan(low):
        return "–"
    if points:
        return _w("range", low=signed(low * 100, 1), high=points_text(high))
    return _w("range", low=pct(low, 0), high=pct(high, 0))


def comparison_view(analysis: FunnelAnalysis) -> pd.DataFrame:
    """Step conversion now against the previous period, for a manager: the change in
    points, its interval and whether it is significant, both adjusted for comparing every
    step at once, so a change is significant exactly when its interval leaves out zero."""
    c = analysis.comparison
    return pd.DataFrame(
        {
            "funnel_step": c["step"].map(step_text),
            "step_conversion": c["now"],
            "previous_step_conversion": c["before"],
            "step_conversion_change": [
                points_text(d) if np.isfinite(d) else "–" for d in c["delta"]
            ],
            "step_change_interval": [
                _interval(lo, hi, points=True) for lo, hi in zip(c["low"], c["high"], strict=True)
            ],
            "step_change_significant": [
                (p < 0.05) if np.isfinite(p) else None for p in c["p_adjusted"]
            ],
        }
    ).astype({"step_change_significant": "boolean"})


def comparison_caption(analysis: FunnelAnalysis) -> str:
    """The caption of :func:`comparison_view`: how many steps its intervals are adjusted for,
    and their confidence level (none said when one step or none can be compared)."""
    steps = int(analysis.comparison["p_value"].notna().sum())
    if steps < 2:
        return _w("comparison_caption")
    level = float(analysis.comparison["level"].iloc[0])
    return _w("comparison_caption_adjusted", n=num(steps), level=pct(level))


def comparison_tests(analysis: FunnelAnalysis) -> pd.DataFrame:
    """The test statistics behind :func:`comparison_view`, for analysts."""
    c = analysis.comparison
    return pd.DataFrame({"funnel_step": c["step"].map(step_text), "p_value": c["p_value"]}).assign(
        bonferroni_p_value=c["p_adjusted"]
    )


def funnel_view(analysis: FunnelAnalysis) -> pd.DataFrame:
    """The funnel table for reading, this period beside the previous one."""
    now, before = analysis.current, analysis.previous
    return pd.DataFrame(
        {
            "funnel_stage": now["stage"],
            "reached": now["reached"],
            "open_here": now["open_here"],
            "dropped_off": now["drop_off"],
            "step_conversion": now["step_conversion"],
            "step_conversion_interval": [
                _interval(lo, hi, points=False)
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


def rates_view(analysis: FunnelAnalysis) -> pd.DataFrame:
    """Both cohorts' outcomes side by side: win rate and overall conversion, each from its
    own counts (won ÷ (won + lost), won ÷ created)."""
    w = analysis.win_rate_change
    created = [len(analysis.cohort), int(analysis.previous["reached"].iloc[0])]
    won, decided = [w.won, w.previous_won], [w.decided, w.previous_decided]
    return pd.DataFrame(
        {
            "funnel_cohort": [_w("this_period"), _w("previous_period")],
            "opportunities_created": created,
            "cohort_won": won,
            "cohort_lost": [d - k for d, k in zip(decided, won, strict=True)],
            "cohort_open": [c - d for c, d in zip(created, decided, strict=True)],
            "win_rate": [analysis.win_rate, analysis.previous_win_rate],
            "overall_conversion": [
                analysis.overall_conversion,
                analysis.previous_overall_conversion,
            ],
        }
    )


def velocity_table(analysis: FunnelAnalysis) -> pd.DataFrame:
    """The parts of pipeline velocity, one row, each column a glossary figure."""
    v = analysis.velocity
    return pd.DataFrame(
        {
            "open_opportunities": [v.open_opportunities],
            "win_rate": [v.win_rate],
            "mean_won_amount": [v.mean_won_amount],
            "median_cycle_days": [v.median_cycle_days],
            "pipeline_velocity": [v.per_day],
        }
    )


def roi_view(analysis: FunnelAnalysis) -> pd.DataFrame:
    """Source ROI for reading (:func:`crmkit.metrics.sales_cycle.source_roi`)."""
    columns = {"won": "won_in_period", "spend": "source_acquisition_spend"}
    return analysis.roi.rename(columns=columns)


def breakdown_view(table: pd.DataFrame, *, by: str = "group") -> pd.DataFrame:
    """A breakdown (:func:`crmkit.metrics.funnel_compare.breakdown`) for reading: one row per
    group, a column per metric ("55% (48%–61%)"; the step columns keep their step names,
    headed by :func:`breakdown_labels`), and how each group compares with the rest."""
    cells = table.assign(
        text=[
            "–"
            if not row.trials
            else _w(
                "rate_and_interval",
                rate=pct(row.conversion, 0),
                interval=_interval(row.low, row.high, points=False),
            )
            for row in table.itertuples()
        ]
    )
    view = cells.pivot(index="group", columns="metric", values="text")
    view = view[list(dict.fromkeys(table["metric"]))]
    sizes = table.groupby("group")["opportunities"].first()
    verdict = {}
    for group, rows in table.groupby("group"):
        if (rows["verdict"] == TOO_FEW).all():
            verdict[group] = words(VERDICTS[TOO_FEW])
            continue
        flagged = rows.loc[rows["verdict"].isin([ABOVE, BELOW])]
        verdict[group] = _w("list_sep").join(
            _w("metric_verdict", metric=metric_text(r.metric), verdict=words(VERDICTS[r.verdict]))
            for r in flagged.itertuples()
        ) or words(VERDICTS[NO_DIFFERENCE])
    view.insert(0, "opportunities_created", sizes)
    view["compared_with_rest"] = pd.Series(verdict)
    return view.rename_axis(None, axis=1).rename_axis(by).reset_index()


def breakdown_labels(view: pd.DataFrame) -> dict[str, str]:
    """Headers of a :func:`breakdown_view`'s step columns: the step conversion of each step;
    its other columns are glossary keys."""
    return {c: metric_text(c) for c in view.columns if "->" in str(c)}
