"""The satisfaction report in words and reading tables: key findings, change and spend
sentences, theme and driver tables, and the published results.

Numbers come from :func:`crmkit.metrics.satisfaction.analyse`; nothing here computes a
statistic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.satisfaction import (
    DIMENSION_PREFIX,
    Change,
    SatisfactionAnalysis,
    repeat_rate,
)
from crmkit.present.format import money, p_text, pct


def dimension_label(column: str) -> str:
    """``dim_delivery_speed`` → ``delivery speed``."""
    return column.removeprefix(DIMENSION_PREFIX).replace("_", " ")


def _names(names: list[str]) -> str:
    """``["region", "segment"]`` → ```region` or `segment```."""
    quoted = [f"`{n}`" for n in names]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def skipped(analysis: SatisfactionAnalysis) -> dict[str, str]:
    """One sentence for each section of the satisfaction report that cannot run, naming what
    is missing: keys ``nps``, ``csat`` (and ``nps_trend``, ``csat_trend`` for their monthly
    charts), ``breakdowns``, ``drivers`` (the importance–performance chart), ``dimensions``
    (the dimension table), ``themes``, ``spend`` and ``loyalty``; a section that runs has no
    key."""
    n = analysis.n_responses
    by = _names([*analysis.skipped_breakdowns, *analysis.one_group] or ["group"])
    none = {
        key: f"Skipped: no survey responses in this period ({analysis.previous_responses:,} in "
        f"the previous period), so {tail}."
        for key, tail in [
            ("nps", "there is no Net Promoter Score (`nps`)"),
            ("csat", "there is no CSAT (`csat`)"),
            ("breakdowns", f"there is nothing to break down by {by}"),
            ("drivers", "there are no `dim_*` scores to analyse"),
            ("dimensions", "there are no `dim_*` scores to analyse"),
            ("themes", "there are no comments to read"),
            ("spend", "there are no respondents to follow in `transactions`"),
            ("loyalty", "there are no respondents to follow in `transactions`"),
        ]
    }
    text: dict[str, str] = {}
    for name, score, label in [
        ("nps", analysis.nps, "Net Promoter Score"),
        ("csat", analysis.csat, "CSAT"),
    ]:
        if name in analysis.missing_scores:
            text[name] = f"Skipped: surveys have no `{name}` column, so there is no {label}."
        elif not n:
            text[name] = none[name]
        elif not score.n:
            text[name] = f"Skipped: none of this period's {n:,} responses has a score in `{name}`."
        if analysis.trend[name].isna().all():  # the chart only: the section's sentence says why
            text[f"{name}_trend"] = text.get(name, f"Skipped: no `{name}` scores in the trend.")
    if not n:
        return {**none, **text}
    breakdowns = []
    if len(analysis.missing_scores) == 2:
        breakdowns.append(
            "Skipped: surveys have neither `nps` nor `csat`, so there is no score to break down."
        )
    elif analysis.skipped_breakdowns:
        breakdowns.append(
            f"Skipped: no {_names(analysis.skipped_breakdowns)} for this period's respondents."
        )
    for column, value in analysis.one_group.items():
        breakdowns.append(
            f"Breakdown by {column} skipped: every response of this period has the same "
            f"{column} ({value}), so there is nothing to compare."
        )
    if not breakdowns and not analysis.breakdowns:
        breakdowns.append(
            "Skipped: no breakdown columns were asked for (`satisfaction_breakdowns`)."
        )
    if breakdowns:
        text["breakdowns"] = " ".join(breakdowns)
    if analysis.dimensions.empty:
        text["dimensions"] = text["drivers"] = (
            "Skipped: surveys have no `dim_*` columns, so dimension scores and key drivers "
            "cannot be measured."
        )
    elif analysis.drivers_error:
        text["drivers"] = f"Key drivers skipped: {analysis.drivers_error}"
    elif analysis.quadrants is None:
        text["drivers"] = (
            "Key drivers of NPS skipped: surveys have no `nps` column for the dimensions to "
            "explain."
        )
    if analysis.comments is None:
        text["themes"] = "Skipped: surveys have no `comment` column, so there is nothing to read."
    elif not analysis.comments:
        text["themes"] = f"Skipped: none of this period's {n:,} responses has a comment."
    elif "nps" in analysis.missing_scores:
        text["themes"] = (
            "Skipped: surveys have no `nps` column, so comments cannot be split into promoters' "
            "and detractors'."
        )
    if analysis.respondents_with_orders is None:
        text["loyalty"] = text["spend"] = (
            "Skipped: no `transactions`, so repeat purchasing and spend after responding "
            "cannot be measured."
        )
    elif not analysis.respondents_with_orders:
        text["loyalty"] = text["spend"] = (
            f"Skipped: none of this period's {n:,} respondents has an order in `transactions` by "
            "the period end, so repeat purchasing and spend after responding cannot be measured."
        )
    elif "nps" in analysis.missing_scores:
        text["spend"] = (
            "Spend after responding skipped: surveys have no `nps` column, so spend cannot be "
            "compared by NPS group."
        )
    return text


def notes(analysis: SatisfactionAnalysis) -> list[str]:
    """What the analysis had to leave out, one sentence each."""
    found = [
        f"{name.upper()} sections skipped: surveys carry no {name} column."
        for name in analysis.missing_scores
    ]
    found += [
        f"Breakdown by {column} skipped: no {column} for the respondents."
        for column in analysis.skipped_breakdowns
        if analysis.n_responses  # else the first finding says why
    ]
    if analysis.dimensions.empty:
        found.append("Dimension scores and key drivers skipped: surveys carry no dim_* columns.")
    elif analysis.drivers_error and analysis.n_responses:
        found.append(f"Key-driver analysis skipped: {analysis.drivers_error}")
    return found


def change_sentence(name: str, change: Change, *, points: bool) -> str:
    """``NPS fell 12.0 points (95% interval …; p = …): a significant change`` or ``no
    significant change``. ``points``: the change is already in points (NPS); otherwise it
    is a share (CSAT) and is written in percentage points."""
    if not np.isfinite(change.delta):
        return f"{name}: no previous period to compare with."
    scale = 1 if points else 100
    verdict = "a significant change" if change.significant else "no significant change"
    direction = "rose" if change.delta > 0 else "fell" if change.delta < 0 else "held"
    return (
        f"{name} {direction} {abs(change.delta) * scale:.1f} points on the previous period "
        f"(95% interval {change.low * scale:+.1f} to {change.high * scale:+.1f}; "
        f"{p_text(change.p_value)}): {verdict}."
    )


def theme_keywords(found: pd.DataFrame, group: str) -> list[str]:
    """A group's theme keywords as one list: best theme first, its leading keyword first."""
    return [word for words in found.loc[found["group"] == group, "keywords"] for word in words]


def theme_label(keywords: list[str], most: int = 3) -> str:
    """``['expensive', 'compared', 'shops', 'price']`` → ``'expensive · compared · shops'``."""
    return " · ".join(keywords[:most])


def key_findings(analysis: SatisfactionAnalysis) -> list[str]:
    """The sentences at the top of the satisfaction report, each with its number."""
    found = []
    if not analysis.n_responses:
        found.append(
            f"No survey responses in this period ({analysis.previous_responses:,} in the "
            "previous period)."
        )
    s = analysis.nps
    if s.n:
        found.append(
            f"NPS {s.score:.0f} (95% interval {s.low:.0f} to {s.high:.0f}) from {s.n:,} "
            f"responses: {pct(s.share('promoters'))} promoters, {pct(s.share('passives'))} "
            f"passives, {pct(s.share('detractors'))} detractors."
        )
        found.append(change_sentence("NPS", analysis.nps_change, points=True))
    c = analysis.csat
    if c.n:
        found.append(
            f"CSAT {pct(c.value)} scored 4 or 5 (95% interval {pct(c.low)}–{pct(c.high)}; "
            f"mean {c.mean:.2f} of 5)."
        )
        found.append(change_sentence("CSAT", analysis.csat_change, points=False))
    if analysis.nps_drivers is not None:
        top = analysis.nps_drivers.table.iloc[0]
        found.append(
            f"The strongest driver of NPS is {dimension_label(top['dimension'])}: "
            f"{pct(top['weight'])} of the explained variance (relative weights; the dimensions "
            f"explain R² = {analysis.nps_drivers.r_squared:.2f})."
        )
    if analysis.quadrants is not None:
        fix = analysis.quadrants.loc[analysis.quadrants["quadrant"] == "fix first"]
        if len(fix):
            names = ", ".join(dimension_label(d) for d in fix["dimension"])
            found.append(f"Fix first (important, scoring below the others): {names}.")
    detractor = analysis.themes.loc[analysis.themes["group"] == "detractor", "keywords"]
    if len(detractor):
        labels = "; ".join(theme_label(words) for words in detractor.head(3))
        found.append(f"What sets detractors' comments apart: {labels}.")
    if analysis.loyalty is not None:
        found.append(
            f"{pct(repeat_rate(analysis.loyalty))} of responding customers have bought more "
            f"than once; mean loyalty score {analysis.loyalty['loyalty_score'].mean():.0f} of 100."
        )
    found += notes(analysis)
    return found


def results(analysis: SatisfactionAnalysis) -> dict:
    """The satisfaction report's key results for ``<notebook>.json`` (keys of issue #5)."""
    s, c = analysis.nps, analysis.csat
    drivers = analysis.nps_drivers
    return {
        "n_responses": analysis.n_responses,
        "nps": s.score,
        "nps_ci": [s.low, s.high],
        "promoters": s.share("promoters"),
        "passives": s.share("passives"),
        "detractors": s.share("detractors"),
        "csat": c.value,
        "csat_ci": [c.low, c.high],
        "csat_mean": c.mean,
        "nps_change": analysis.nps_change.as_dict(),
        "csat_change": analysis.csat_change.as_dict(),
        "top_driver": drivers.top if drivers else None,
        "driver_weights": (
            dict(zip(drivers.table["dimension"], drivers.table["weight"], strict=True))
            if drivers
            else {}
        ),
        "driver_r_squared": drivers.r_squared if drivers else None,
        "detractor_themes": theme_keywords(analysis.themes, "detractor"),
        "promoter_themes": theme_keywords(analysis.themes, "promoter"),
        "repeat_rate": repeat_rate(analysis.loyalty) if analysis.loyalty is not None else None,
    }


def themes_view(analysis: SatisfactionAnalysis, group: str) -> pd.DataFrame:
    """One group's themes for reading: its keywords, mentions, two example comments."""
    rows = analysis.themes.loc[analysis.themes["group"] == group]
    return pd.DataFrame(
        {
            "theme": [theme_label(words, most=4) for words in rows["keywords"]],
            "mentions": rows["mentions"],
            "example_comments": [" · ".join(f"“{c}”" for c in e[:2]) for e in rows["examples"]],
        }
    ).reset_index(drop=True)


def drivers_view(analysis: SatisfactionAnalysis) -> pd.DataFrame:
    """NPS and CSAT relative weights side by side, with the dimension scores."""
    table = analysis.dimensions.copy()
    for name, drivers in (("nps", analysis.nps_drivers), ("csat", analysis.csat_drivers)):
        if drivers is not None:
            weights = drivers.table.set_index("dimension")["weight"]
            table[f"{name}_weight"] = table["dimension"].map(weights)
    if analysis.quadrants is not None:
        table["quadrant"] = table["dimension"].map(
            analysis.quadrants.set_index("dimension")["quadrant"]
        )
    table["dimension"] = table["dimension"].map(dimension_label)
    return table


def spend_sentence(analysis: SatisfactionAnalysis, *, currency: str = "") -> str:
    """Promoters against detractors in what they actually spent afterwards."""
    table = analysis.spend_after
    if table is None or table.empty:
        return "Spend after responding: not enough history before the period end."
    by_group = table.set_index("nps_group")
    if not {"promoter", "detractor"} <= set(by_group.index):
        return "Spend after responding: promoters or detractors are missing."
    p, d = by_group.loc["promoter"], by_group.loc["detractor"]
    verdict = (
        "a significant difference" if table.attrs["p_value"] < 0.05 else "no significant difference"
    )
    return (
        f"In the 90 days after responding, promoters spent a median of "
        f"{money(p['median_spend'], currency)} and detractors "
        f"{money(d['median_spend'], currency)} ({p_text(table.attrs['p_value'])}, "
        f"Mann–Whitney): {verdict}."
    )
