"""The satisfaction report in words and reading tables, in the report's language: key
findings, change and spend sentences, skipped sections, flags, theme and driver tables, and
the published results.

Numbers come from :func:`crmkit.metrics.satisfaction.analyse`; nothing here computes a
statistic. Words come from the catalogue ``present/words/satisfaction.yaml``; figures are
named by the glossary, and NPS is written signed (``+35``, ``−14``) wherever it appears, as
the portfolio writes it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from crmkit.metrics.satisfaction import Change, SatisfactionAnalysis, repeat_rate
from crmkit.metrics.themes import MIN_LIFT, MIN_MENTIONS
from crmkit.present.format import money, num, p_text, pct, shown_difference, signed
from crmkit.present.language import column_name, is_term, term, words
from crmkit.present.plots.satisfaction import dimension_name, quadrant_name
from crmkit.present.plots.theme import verdict_words
from crmkit.topics.flags import Flag, alert_flag, change_flag

TOPIC = "satisfaction"
GROUPS = ("promoter", "passive", "detractor")


def _w(key: str, /, **values) -> str:
    return words(f"satisfaction.{key}", **values)


def _join(names) -> str:
    return words("report.list_separator").join(names)


def group_value(column: str, value: object) -> str:
    """A breakdown group as a reader reads it: an RFM segment by its glossary name
    (``champions`` → "Champions" / 重要价值客户), a missing value as "(none)" / "（无）", the
    data's own values as they are."""
    text = str(value)
    if text == "(none)":
        return _w("no_value")
    if column == "segment" and is_term(f"rfm_{text}"):
        return term(f"rfm_{text}")
    return text


def named_groups(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """A breakdown table (:func:`crmkit.metrics.satisfaction.breakdown`) with its groups
    named for reading (:func:`group_value`), for its chart."""
    return table.assign(group=[group_value(column, g) for g in table["group"]])


def group_name(group: str) -> str:
    """``promoter`` → "promoters" / "推荐者"."""
    return _w(group)


def _names(columns: list[str]) -> str:
    """``["region", "segment"]`` → "`region` or `segment`" (zh: "地区或客户分群")."""
    named = [column_name(c) for c in columns]
    if len(named) > 1:
        return _join(named[:-1]) + _w("or") + named[-1]
    return named[0]


def _nps_points(value: float) -> str:
    return signed(value)


# ----------------------------------------------------------------------------- skipped


def skipped(analysis: SatisfactionAnalysis) -> dict[str, str]:
    """One sentence for each section of the satisfaction report that cannot run, naming what
    is missing: keys ``nps``, ``csat`` (and ``nps_trend``, ``csat_trend`` for their monthly
    charts), ``breakdowns``, ``drivers`` (the importance–performance chart), ``dimensions``
    (the dimension table), ``themes``, ``spend`` and ``loyalty``; a section that runs has no
    key."""
    n = analysis.n_responses
    previous = num(analysis.previous_responses)
    by = _names([*analysis.skipped_breakdowns, *analysis.one_group] or ["group"])
    tails = {
        "nps": _w("tail_nps"),
        "csat": _w("tail_csat"),
        "breakdowns": _w("tail_breakdowns", by=by),
        "drivers": _w("tail_dimensions"),
        "dimensions": _w("tail_dimensions"),
        "themes": _w("tail_themes"),
        "spend": _w("tail_loyalty"),
        "loyalty": _w("tail_loyalty"),
    }
    none = {key: _w("skip_no_responses", previous=previous, tail=t) for key, t in tails.items()}
    text: dict[str, str] = {}
    for name, score in (("nps", analysis.nps), ("csat", analysis.csat)):
        if name in analysis.missing_scores:
            text[name] = _w(f"no_{name}_column")
        elif not n:
            text[name] = none[name]
        elif not score.n:
            text[name] = _w(f"no_{name}_scores", n=num(n))
        if analysis.trend[name].isna().all():  # the chart only: the section's sentence says why
            text[f"{name}_trend"] = text.get(name, _w(f"no_trend_{name}"))
    if not n:
        return {**none, **text}
    breakdowns = []
    if len(analysis.missing_scores) == 2:
        breakdowns.append(_w("no_scores_to_break_down"))
    elif analysis.skipped_breakdowns:
        breakdowns.append(_w("no_breakdown_values", columns=_names(analysis.skipped_breakdowns)))
    for column, value in analysis.one_group.items():
        breakdowns.append(_w("one_group", column=column_name(column), value=value))
    if not breakdowns and not analysis.breakdowns:
        breakdowns.append(_w("no_breakdowns_asked"))
    if breakdowns:
        text["breakdowns"] = " ".join(breakdowns)
    if analysis.dimensions.empty:
        text["dimensions"] = text["drivers"] = _w("no_dimensions")
    elif analysis.drivers_error:
        text["drivers"] = drivers_error(analysis.drivers_error)
    elif analysis.quadrants is None:
        text["drivers"] = _w("no_nps_for_drivers")
    if analysis.comments is None:
        text["themes"] = _w("no_comment_column")
    elif not analysis.comments:
        text["themes"] = _w("no_comments", n=num(n))
    elif "nps" in analysis.missing_scores:
        text["themes"] = _w("no_nps_for_themes")
    if analysis.respondents_with_orders is None:
        text["loyalty"] = text["spend"] = _w("no_transactions")
    elif not analysis.respondents_with_orders:
        text["loyalty"] = text["spend"] = _w("no_matching_orders", n=num(n))
    elif "nps" in analysis.missing_scores:
        text["spend"] = _w("no_nps_for_spend")
    return text


_TOO_FEW = re.compile(r"at least (\d+) complete responses for (\d+) dimensions; got (\d+)")
_FLAT = re.compile(r"Column\(s\) \[(.*)\] have no variance")


def drivers_error(message: str) -> str:
    """Why key drivers could not be measured, in the report's language, from the message of
    :func:`crmkit.metrics.satisfaction.relative_weights`."""
    if found := _TOO_FEW.search(message):
        needed, dimensions, got = (num(int(g)) for g in found.groups())
        return _w("drivers_too_few", needed=needed, dimensions=dimensions, got=got)
    if found := _FLAT.search(message):
        columns = [c.strip().strip("'\"") for c in found.group(1).split(",")]
        return _w("drivers_flat", columns=_join(dimension_name(c) for c in columns))
    return _w("drivers_failed")


def notes(analysis: SatisfactionAnalysis) -> list[str]:
    """What the analysis had to leave out, one sentence each."""
    found = [_w(f"note_no_{name}") for name in analysis.missing_scores]
    found += [
        _w("note_no_breakdown", column=column_name(column))
        for column in analysis.skipped_breakdowns
        if analysis.n_responses  # else the first finding says why
    ]
    if analysis.dimensions.empty:
        found.append(_w("note_no_dimensions"))
    elif analysis.drivers_error and analysis.n_responses:
        found.append(drivers_error(analysis.drivers_error))
    return found


# ----------------------------------------------------------------------------- sentences


DIGITS = {"nps": 0, "csat": 1}
"""Decimals the report writes NPS (points) and CSAT (percent) with."""


def _figures(analysis: SatisfactionAnalysis, metric: str):
    """NPS (points) or CSAT (percent) before and after, their change, how one is written
    with given decimals, and the catalogue key of the change's unit."""
    if metric == "nps":
        values = (analysis.previous_nps.score, analysis.nps.score)
        return values, analysis.nps_change, signed, "points"
    values = (analysis.previous_csat.value * 100, analysis.csat.value * 100)
    return values, analysis.csat_change, lambda v, d: pct(v / 100, d), "percentage_points"


def _change_digits(metric: str, change: Change) -> int:
    """Decimals of a change sentence's figures: one for a change under 10 points (1.5
    points), else as the report writes the figure (69 points; CSAT always with one)."""
    return max(DIGITS[metric], 1 if abs(change.delta) < 10 else 0)


def _change_values(analysis: SatisfactionAnalysis, metric: str) -> dict[str, str]:
    """The change of NPS (points) or CSAT (percentage points) for a sentence: size, before,
    after, p. The size is the difference of before and after as written, so the three
    agree (+52.64 → +51.16 reads "1.4 points, from +52.6 to +51.2"). A size is whole only
    from 10 points up, so it never reads "1 points" ("1.0 points" is English's plural, as
    CLDR has it for a number with decimals)."""
    values, change, write, unit = _figures(analysis, metric)
    digits = _change_digits(metric, change)
    before, after = (round(float(v), digits) for v in values)
    return {
        "size": _w(unit, n=num(abs(shown_difference(values[1], values[0], digits)), digits)),
        "before": write(before, digits),
        "after": write(after, digits),
        "p": p_text(change.p_value),
    }


def _held(analysis: SatisfactionAnalysis, metric: str) -> dict[str, str] | None:
    """Before and after of a change that reads as none, the two equal as the change would
    write them: written as the report writes the figure where they are equal so too (NPS
    +51 and +51), else with the change's decimals; ``None`` for a change that reads as one."""
    values, change, write, _ = _figures(analysis, metric)
    digits = _change_digits(metric, change)
    if round(float(values[0]), digits) != round(float(values[1]), digits):
        return None
    if round(float(values[0]), DIGITS[metric]) == round(float(values[1]), DIGITS[metric]):
        digits = DIGITS[metric]
    return {"before": write(values[0], digits), "after": write(values[1], digits)}


def change_sentence(analysis: SatisfactionAnalysis, metric: str) -> str:
    """NPS's or CSAT's change on the previous period in one sentence: direction, size (NPS
    in points, CSAT in percentage points), before and after, and whether it is significant
    (p < 0.05) with its p-value. The size is the difference of before and after as written;
    when they are equal as written, the score held."""
    change = analysis.nps_change if metric == "nps" else analysis.csat_change
    name = term(metric)
    if not np.isfinite(change.delta):
        return _w("change_none", name=name)
    verdict = _w(
        "significant" if change.significant else "not_significant", p=p_text(change.p_value)
    )
    if held := _held(analysis, metric):
        return _w("change_held", name=name, verdict=verdict, **held)
    values = _change_values(analysis, metric)
    values.pop("p")
    key = "change_up" if change.delta > 0 else "change_down"
    return _w(key, name=name, verdict=verdict, **values)


def theme_keywords(found: pd.DataFrame, group: str) -> list[str]:
    """A group's theme keywords as one list: best theme first, its leading keyword first."""
    return [
        word for keywords in found.loc[found["group"] == group, "keywords"] for word in keywords
    ]


def theme_label(keywords: list[str], most: int = 3) -> str:
    """``['expensive', 'compared', 'shops', 'price']`` → ``'expensive · compared · shops'``."""
    return " · ".join(keywords[:most])


def key_findings(analysis: SatisfactionAnalysis) -> list[str]:
    """The sentences at the top of the satisfaction report, each with its number."""
    found = []
    if not analysis.n_responses:
        found.append(_w("no_responses", previous=num(analysis.previous_responses)))
    s = analysis.nps
    if s.n:
        found.append(
            _w(
                "nps_finding",
                score=_nps_points(s.score),
                low=_nps_points(s.low),
                high=_nps_points(s.high),
                n=num(s.n),
                **{kind: pct(s.share(kind)) for kind in ("promoters", "passives", "detractors")},
            )
        )
        found.append(change_sentence(analysis, "nps"))
    c = analysis.csat
    if c.n:
        found.append(
            _w(
                "csat_finding",
                value=pct(c.value),
                low=pct(c.low),
                high=pct(c.high),
                mean=num(c.mean, 2),
            )
        )
        found.append(change_sentence(analysis, "csat"))
    if analysis.nps_drivers is not None:
        top = analysis.nps_drivers.table.iloc[0]
        found.append(
            _w("top_driver", dimension=dimension_name(top["dimension"]), weight=pct(top["weight"]))
        )
    fix = fix_first(analysis)
    if len(fix):
        found.append(_w("fix_first_finding", names=_join(map(dimension_name, fix["dimension"]))))
    detractor = analysis.themes.loc[analysis.themes["group"] == "detractor", "keywords"]
    if len(detractor):
        labels = _w("theme_separator").join(theme_label(k) for k in detractor.head(3))
        found.append(_w("detractor_themes", themes=labels))
    if analysis.loyalty is not None:
        found.append(
            _w(
                "loyalty_finding",
                repeat=pct(repeat_rate(analysis.loyalty)),
                score=num(analysis.loyalty["loyalty_score"].mean()),
            )
        )
    return found + notes(analysis)


def methods(analysis: SatisfactionAnalysis) -> list[str]:
    """The analyst notes' paragraphs on method: intervals and tests, relative weights and
    how well the dimensions explain NPS, the theme strength rule, the loyalty score, and
    the test behind the spend-after-responding verdict (named here, not in the report)."""
    found = [_w("nps_method"), _w("csat_method"), _w("breakdowns_method"), _w("drivers_method")]
    if analysis.nps_drivers is not None:
        fit = analysis.nps_drivers
        found.append(_w("drivers_fit", r_squared=num(fit.r_squared, 2), n=num(fit.n)))
    found.append(_w("themes_method", min_mentions=num(MIN_MENTIONS), min_lift=num(MIN_LIFT)))
    found.append(_w("loyalty_method"))
    table = analysis.spend_after
    if table is not None and "p_value" in table.attrs and np.isfinite(table.attrs["p_value"]):
        found.append(_w("spend_test", p=p_text(table.attrs["p_value"])))
    return found


def spend_sentence(analysis: SatisfactionAnalysis, *, currency: str = "") -> str:
    """Promoters against detractors in what they actually spent afterwards, with the plain
    verdict and its p-value; the test's name is in :func:`methods`."""
    table = analysis.spend_after
    if table is None or table.empty:
        return _w("spend_no_history")
    by_group = table.set_index("nps_group")
    if not {"promoter", "detractor"} <= set(by_group.index):
        return _w("spend_missing_group")
    p_value = table.attrs["p_value"]
    return _w(
        "spend",
        promoters=money(by_group.loc["promoter", "median_spend"], currency),
        detractors=money(by_group.loc["detractor", "median_spend"], currency),
        p=p_text(p_value),
        verdict=_w("spend_differs" if p_value < 0.05 else "spend_same"),
    )


# ----------------------------------------------------------------------------- flags


def fix_first(analysis: SatisfactionAnalysis) -> pd.DataFrame:
    """The dimensions in the *fix first* quadrant (weigh above average in NPS, score below
    average), heaviest first; empty without key drivers."""
    if analysis.quadrants is None:
        return pd.DataFrame(columns=["dimension", "importance", "performance"])
    table = analysis.quadrants
    return table.loc[table["quadrant"] == "fix first"].sort_values("importance", ascending=False)


def flags(analysis: SatisfactionAnalysis) -> list[Flag]:
    """What a manager should know first (registry: ``satisfaction.flags``):

    - ``nps_change``, ``csat_change``: a significant change (p < 0.05) on the previous
      period, bad when down (ranked by z, :mod:`crmkit.topics.flags`);
    - ``nps_below_zero``: more detractors than promoters; how far past the level is the
      points below zero as a fraction of the scale's 100;
    - ``fix_first``: dimensions that weigh above average in NPS and score below average;
      how far past is the heaviest one's shortfall from the dimensions' average score, as
      a fraction of that average.
    """
    found: list[Flag | None] = []
    for metric, change in (("nps", analysis.nps_change), ("csat", analysis.csat_change)):
        direction = "up" if change.delta > 0 else "down"
        found.append(
            change_flag(
                TOPIC,
                f"{metric}_change",
                delta=change.delta,
                low=change.low,
                high=change.high,
                p_value=change.p_value,
                good_when="up",
                message=f"satisfaction.flag_{metric}_{direction}",
                action=f"satisfaction.action_{metric}_{direction}",
                section=f"satisfaction.{metric}_heading",
                values={
                    name: (lambda m=metric, n=name: _change_values(analysis, m)[n])
                    for name in ("size", "before", "after", "p")
                },
                raw={"metric": metric},
            )
        )
    s = analysis.nps
    if s.n and s.score < 0:
        found.append(
            alert_flag(
                TOPIC,
                "nps_below_zero",
                excess=-s.score / 100,
                message="satisfaction.flag_nps_below_zero",
                action="satisfaction.action_nps_below_zero",
                section="satisfaction.nps_heading",
                values={
                    "score": lambda: _nps_points(s.score),
                    "detractors": lambda: pct(s.share("detractors")),
                    "promoters": lambda: pct(s.share("promoters")),
                },
                raw={"nps": s.score},
            )
        )
    fix = fix_first(analysis)
    if len(fix):
        average = float(analysis.quadrants["performance"].mean())
        found.append(
            alert_flag(
                TOPIC,
                "fix_first",
                excess=(average - float(fix["performance"].min())) / average,
                message="satisfaction.flag_fix_first",
                action="satisfaction.action_fix_first",
                section="satisfaction.drivers_heading",
                values={
                    "names": lambda: _join(map(dimension_name, fix["dimension"])),
                    "score": lambda: _join(num(v, 2) for v in fix["performance"]),
                    "average": lambda: num(average, 2),
                },
                raw={"dimensions": list(fix["dimension"])},
            )
        )
    return [f for f in found if f is not None]


# ----------------------------------------------------------------------------- tables


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


def breakdown_view(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """One breakdown for a manager: the group (headed by ``column``), responses, NPS and the
    range it likely lies in, in words, CSAT and the verdict against the rest."""
    ranges = [
        _w("range", low=_nps_points(lo), high=_nps_points(hi)) if np.isfinite(lo) else None
        for lo, hi in zip(table["nps_low"].astype(float), table["nps_high"], strict=True)
    ]
    return pd.DataFrame(
        {
            column: [group_value(column, g) for g in table["group"]],
            "responses": table["responses"].to_numpy(),
            "nps": [_nps_points(v) if np.isfinite(v) else None for v in table["nps"].astype(float)],
            "nps_ci": ranges,
            "csat": table["csat"].to_numpy(),
            "nps_verdict": [verdict_words(v) for v in table["verdict"]],
        }
    )


def breakdown_detail(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """One breakdown for the analyst notes: intervals' bounds and Holm-adjusted p-values."""
    detail = named_groups(table, column).rename(
        columns={"group": column, "p_adjusted": "nps_p_adjusted"}
    )
    return detail.assign(nps_verdict=[verdict_words(v) for v in table["verdict"]]).drop(
        columns="verdict"
    )


def themes_view(analysis: SatisfactionAnalysis, group: str) -> pd.DataFrame:
    """One group's themes for reading: its keywords, mentions, two example comments."""
    rows = analysis.themes.loc[analysis.themes["group"] == group]
    return pd.DataFrame(
        {
            "theme": [theme_label(k, most=4) for k in rows["keywords"]],
            "mentions": rows["mentions"],
            "example_comments": [" · ".join(f"“{c}”" for c in e[:2]) for e in rows["examples"]],
        }
    ).reset_index(drop=True)


def drivers_view(analysis: SatisfactionAnalysis) -> pd.DataFrame:
    """Each dimension's score, its weight in NPS and CSAT, and its priority; columns named
    by the glossary."""
    table = analysis.dimensions.rename(
        columns={"mean": "dimension_mean", "satisfied": "dimension_satisfied"}
    )
    for name, drivers in (("nps", analysis.nps_drivers), ("csat", analysis.csat_drivers)):
        if drivers is not None:
            weights = drivers.table.set_index("dimension")["weight"]
            table[f"{name}_weight"] = table["dimension"].map(weights)
    if analysis.quadrants is not None:
        codes = table["dimension"].map(analysis.quadrants.set_index("dimension")["quadrant"])
        table["quadrant"] = codes.map(quadrant_name)
    table["dimension"] = table["dimension"].map(dimension_name)
    return table


def spend_view(analysis: SatisfactionAnalysis) -> pd.DataFrame:
    """Spend in the 90 days after responding per NPS group, for reading."""
    table = analysis.spend_after
    return pd.DataFrame(
        {
            "nps_group": table["nps_group"].map(group_name).to_numpy(),
            "responses": table["responses"].to_numpy(),
            "buying_share_90d": table["buying_share"].to_numpy(),
            "spend_90d_mean": table["mean_spend"].to_numpy(),
            "spend_90d_median": table["median_spend"].to_numpy(),
        }
    )


def loyalty_view(by_group: pd.DataFrame) -> pd.DataFrame:
    """Responding customers, repeat rate and loyalty score per NPS group (promoters first),
    from :func:`crmkit.metrics.satisfaction.loyalty_by_group`."""
    order = {g: i for i, g in enumerate(GROUPS)}
    rows = by_group.sort_values("nps_group", key=lambda s: s.map(order))
    return pd.DataFrame(
        {
            "nps_group": rows["nps_group"].map(group_name).to_numpy(),
            "respondents": rows["customers"].to_numpy(),
            "respondent_repeat_rate": rows["repeat_rate"].to_numpy(),
            "loyalty_score": rows["loyalty_score"].to_numpy(),
        }
    )
