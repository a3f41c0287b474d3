"""The churn report's customer lifetimes and stated reasons in words and reading tables, in
the report's language: the median and mean lifetime, which breakdowns differ (log-rank), the
top stated reason and the reasons that rose, tables per group and per reason, and the
published results of this part.

Numbers come from :func:`crmkit.metrics.churn_lifetimes.lifetimes_analysis` and
:func:`crmkit.metrics.churn_reasons.reasons_analysis`; nothing here computes a statistic.
Words come from the catalogue ``present/words/churn_lifetimes.yaml``; figures are named by
the glossary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.churn_lifetimes import (
    NONE,
    OTHER,
    RFM_LOOKBACK_MONTHS,
    SEGMENT,
    ChurnLifetimes,
    LifetimeBreakdown,
)
from crmkit.metrics.churn_reasons import NOT_STATED, PREVIOUS_PERIOD, THIS_PERIOD, ChurnReasons
from crmkit.metrics.survival import SurvivalCurve
from crmkit.present.format import day, num, p_text, pct, shown_difference, signed
from crmkit.present.language import column_name, is_term, term, words

TOP_REASONS = 10
"""Most reasons published in ``top_reasons``."""
LISTED_GROUPS = 8
"""Most merged groups a note names (the rest are counted)."""


def _w(key: str, /, **values) -> str:
    return words(f"churn_lifetimes.{key}", **values)


def _number(value: float) -> float | None:
    """A float for the results file, None where there is none (NaN)."""
    return float(value) if value is not None and np.isfinite(value) else None


def _months(value: float) -> str:
    return num(value, 1)


def _join(names) -> str:
    return _w("list_separator").join(names)


def _group_list(column: str, groups: list[str]) -> str:
    """Groups named in a note: all of them, or the first :data:`LISTED_GROUPS` and how many
    more (a column of hundreds of small values would otherwise fill the page)."""
    names = [group_name(column, g) for g in groups[:LISTED_GROUPS]]
    if len(groups) <= LISTED_GROUPS:
        return _join(names)
    return _w("groups_and_more", groups=_join(names), n=num(len(groups) - LISTED_GROUPS))


# ----------------------------------------------------------------------------- names


def group_name(column: str, group: object) -> str:
    """A group as a reader reads it: the small groups merged as "other" / "其他", a missing
    value as "(none)" / "（无）", an RFM segment by its glossary name (``champions`` →
    重要价值客户), the data's own values as they are."""
    text = str(group)
    if text == OTHER:
        return _w("group_other")
    if text == NONE:
        return _w("group_none")
    if column == SEGMENT and is_term(f"rfm_{text}"):
        return term(f"rfm_{text}")
    return text


def named_curves(breakdown: LifetimeBreakdown) -> dict[str, SurvivalCurve]:
    """A breakdown's curves keyed by their groups' names, for
    :func:`crmkit.present.plots.churn_lifetimes.plot_lifetime_curves`."""
    return {group_name(breakdown.column, g): c for g, c in breakdown.curves.items()}


def overall_curves(lifetimes: ChurnLifetimes) -> dict[str, SurvivalCurve]:
    """The curve of all customers, keyed by its name, for the same chart."""
    return {_w("group_all"): lifetimes.overall}


# ----------------------------------------------------------------------------- lifetimes


def median_sentence(lifetimes: ChurnLifetimes) -> str:
    """The median lifetime in months (Kaplan–Meier), with the customers and churn behind it;
    while over half remain, that it cannot be measured yet and how long the longest
    customer has been followed."""
    if not lifetimes.customers:
        return _w("no_customers")
    counts = {"customers": num(lifetimes.customers), "churned": num(lifetimes.churned)}
    if np.isfinite(lifetimes.median_months):
        return _w("median_finding", median=_months(lifetimes.median_months), **counts)
    return _w("median_not_reached", longest=_months(lifetimes.overall.longest), **counts)


def restricted_mean_sentence(lifetimes: ChurnLifetimes) -> str:
    """The mean months a customer stays within the horizon, with its 95% interval; or why
    it cannot be measured."""
    area = lifetimes.restricted_mean
    horizon = num(lifetimes.horizon_months)
    if not lifetimes.customers:
        return _w("no_customers")
    if not np.isfinite(area.value):
        return _w("restricted_mean_unknown", horizon=horizon)
    return _w(
        "restricted_mean_finding",
        horizon=horizon,
        value=_months(area.value),
        low=_months(area.low),
        high=_months(area.high),
    )


def breakdown_sentence(breakdown: LifetimeBreakdown) -> str:
    """Whether lifetimes differ across a breakdown's groups: "differ" only when the log-rank
    p-value is under 0.05, then the groups that stay longest and shortest by their mean
    lifetime within the horizon."""
    by = column_name(breakdown.column)
    test = breakdown.logrank
    if not np.isfinite(test.p_value):
        return _w("breakdown_untested", by=by)
    if not breakdown.differs:
        return _w("breakdown_same", by=by, p=p_text(test.p_value))
    table = breakdown.table.loc[breakdown.table["rmst_months"].notna()]
    if len(table) < 2:
        return _w("breakdown_differs_plain", by=by, p=p_text(test.p_value))
    ranked = table.sort_values("rmst_months", ascending=False)
    longest, shortest = ranked.iloc[0], ranked.iloc[-1]
    return _w(
        "breakdown_differs",
        by=by,
        p=p_text(test.p_value),
        horizon=num(breakdown.horizon_months),
        longest=group_name(breakdown.column, longest["group"]),
        longest_value=_months(longest["rmst_months"]),
        shortest=group_name(breakdown.column, shortest["group"]),
        shortest_value=_months(shortest["rmst_months"]),
    )


def lifetime_sentences(lifetimes: ChurnLifetimes) -> list[str]:
    """The section's sentences: the median, the mean within the horizon, then one per
    breakdown (the differing ones first, strongest evidence first)."""
    found = [median_sentence(lifetimes)]
    if lifetimes.customers:
        found.append(restricted_mean_sentence(lifetimes))
    ordered = sorted(
        lifetimes.breakdowns.values(),
        key=lambda b: (not b.differs, np.nan_to_num(b.logrank.p_value, nan=2.0)),
    )
    return found + [breakdown_sentence(b) for b in ordered]


def notes(lifetimes: ChurnLifetimes) -> list[str]:
    """What the lifetimes leave out or count differently, one sentence each: a horizon
    shortened to the longest follow-up, the segment's scoring day, the small groups merged
    or left out, and the breakdowns not made."""
    found = []
    if lifetimes.customers and lifetimes.horizon_months < lifetimes.horizon_asked:
        found.append(
            _w(
                "horizon_note",
                asked=num(lifetimes.horizon_asked),
                horizon=num(lifetimes.horizon_months),
            )
        )
    if SEGMENT in lifetimes.breakdowns and lifetimes.segment_as_of is not None:
        found.append(_w("segment_note", day=day(lifetimes.segment_as_of)))
    minimum = num(lifetimes.min_group)
    for column, breakdown in lifetimes.breakdowns.items():
        by = column_name(column)
        names = _group_list(column, breakdown.merged)
        if breakdown.left_out:
            customers = num(breakdown.left_out_customers)
            found.append(_w("left_out_note", by=by, min=minimum, groups=names, customers=customers))
        elif breakdown.merged:
            found.append(_w("merged_note", by=by, min=minimum, groups=names))
    for column, why in lifetimes.skipped.items():
        by = column_name(column)
        if why == "one_group" and lifetimes.one_group.get(column, NONE) == NONE:
            found.append(_w("skipped_no_values", by=by))
        elif why == "one_group":
            value = group_name(column, lifetimes.one_group[column])
            found.append(_w("skipped_one_group", by=by, value=value))
        elif why == "no_history":
            found.append(_w("skipped_no_history", by=by, months=num(RFM_LOOKBACK_MONTHS)))
        else:
            found.append(_w(f"skipped_{why}", by=by, min=minimum))
    return found


def lifetime_view(breakdown: LifetimeBreakdown) -> pd.DataFrame:
    """One breakdown for a manager: per group (headed by the column), customers, churned to
    date, median lifetime and mean lifetime within the horizon (months)."""
    table = breakdown.table
    return pd.DataFrame(
        {
            breakdown.column: [group_name(breakdown.column, g) for g in table["group"]],
            "customers": table["customers"].to_numpy(),
            "lifetime_churned": table["churned"].to_numpy(),
            "median_lifetime_months": table["median_months"].to_numpy(dtype=float),
            "restricted_mean_lifetime_months": table["rmst_months"].to_numpy(dtype=float),
        }
    )


def lifetime_detail(breakdown: LifetimeBreakdown) -> pd.DataFrame:
    """One breakdown for the analyst notes: :func:`lifetime_view` with the interval of the
    mean lifetime within the horizon."""
    table = breakdown.table
    ranges = [
        _w("range", low=_months(lo), high=_months(hi)) if np.isfinite(lo) else None
        for lo, hi in zip(table["rmst_low"].astype(float), table["rmst_high"], strict=True)
    ]
    return lifetime_view(breakdown).assign(lifetime_rmst_ci=ranges)


def logrank_view(lifetimes: ChurnLifetimes) -> pd.DataFrame:
    """One row per breakdown for the analyst notes: the groups compared and the log-rank
    test across them."""
    rows = [
        {
            "lifetime_breakdown": column_name(column),
            "lifetime_groups": len(b.table),
            "logrank_chi_square": b.logrank.chi_square,
            "logrank_df": b.logrank.df,
            "logrank_p": b.logrank.p_value,
        }
        for column, b in lifetimes.breakdowns.items()
    ]
    columns = ["lifetime_breakdown", "lifetime_groups", "logrank_chi_square", "logrank_df"]
    return pd.DataFrame(rows, columns=[*columns, "logrank_p"])


# ----------------------------------------------------------------------------- reasons


def _share_change(now: float, before: float) -> str:
    """A change of share in percentage points, as the two shares are written: 0.431 and
    0.379 → "+5.2"."""
    return signed(shown_difference(now * 100, before * 100, 1), 1)


def rising_reasons(reasons: ChurnReasons) -> list[dict]:
    """The reasons whose share of stated reasons rose significantly (Holm-adjusted p <
    0.05), strongest evidence first, for the ``reason_rising`` flag: ``reason, share,
    previous_share, delta, low, high, p_value`` (``p_value`` Holm-adjusted; shares and
    delta as fractions)."""
    return [
        {
            "reason": str(row["reason"]),
            "share": float(row["share"]),
            "previous_share": float(row["previous_share"]),
            "delta": float(row["delta"]),
            "low": float(row["delta_low"]),
            "high": float(row["delta_high"]),
            "p_value": float(row["p_holm"]),
        }
        for _, row in reasons.rising().iterrows()
    ]


def reason_sentences(reasons: ChurnReasons) -> list[str]:
    """The stated reasons in words: "no reasons recorded" and why when there are none;
    else the top reason with its share and 95% interval, every reason whose share rose
    significantly (Holm-adjusted), or that none changed, and how many gave a reason."""
    if reasons.status == "no_events":
        return [_w("reasons_absent_no_events")]
    if reasons.status == "no_reason_column":
        return [_w("reasons_absent_no_column")]
    if reasons.status == "no_churns":
        return [_w("reasons_absent_no_churns")]
    if reasons.status == "none_stated":
        return [_w("reasons_absent_none_stated", churns=num(reasons.churns))]
    top = reasons.top
    found = [
        _w(
            "reasons_top",
            reason=str(top["reason"]),
            share=pct(top["share"]),
            low=pct(top["low"]),
            high=pct(top["high"]),
            n=num(top["churns"]),
            stated=num(reasons.stated),
        )
    ]
    rising = rising_reasons(reasons)
    found += [
        _w(
            "reasons_rose",
            reason=r["reason"],
            before=pct(r["previous_share"]),
            after=pct(r["share"]),
            p=p_text(r["p_value"]),
        )
        for r in rising
    ]
    if not reasons.previous_stated:
        found.append(_w("reasons_no_previous"))
    elif not rising:
        found.append(_w("reasons_none_rose"))
    if reasons.stated < reasons.churns:
        found.append(
            _w("reasons_stated", share=pct(reasons.stated_share.value), churns=num(reasons.churns))
        )
    return found


def reasons_view(reasons: ChurnReasons, *, tested: bool = True) -> pd.DataFrame:
    """The stated reasons for reading, most frequent first: churned customers giving each,
    its share with the 95% interval in words, the previous period's share, the change (in
    percentage points) and, when ``tested``, its Holm-adjusted p-value (the manager's table
    leaves the test to the analyst notes)."""
    table = reasons.table
    ranges = [
        _w("range", low=pct(lo), high=pct(hi)) if np.isfinite(lo) else None
        for lo, hi in zip(table["low"].astype(float), table["high"], strict=True)
    ]
    changes = [
        _share_change(now, before) if np.isfinite(delta) else None
        for now, before, delta in zip(
            table["share"].astype(float),
            table["previous_share"].astype(float),
            table["delta"].astype(float),
            strict=True,
        )
    ]
    view = pd.DataFrame(
        {
            "reason": table["reason"].astype(str).to_numpy(),
            "reason_churns": table["churns"].to_numpy(),
            "reason_share": table["share"].to_numpy(dtype=float),
            "reason_share_ci": ranges,
            "reason_previous_share": table["previous_share"].to_numpy(dtype=float),
            "reason_share_change": changes,
            "reason_p_holm": table["p_holm"].to_numpy(dtype=float),
        }
    )
    # The test's adjusted p-value is for the analyst notes; the manager reads the change.
    return view if tested else view.drop(columns="reason_p_holm")


def theme_group_name(group: str) -> str:
    """A theme's group for reading: the reason itself, or "(not stated)", "this period"."""
    names = {
        NOT_STATED: "group_not_stated",
        THIS_PERIOD: "group_this_period",
        PREVIOUS_PERIOD: "group_previous_period",
    }
    return _w(names[group]) if group in names else str(group)


def themes_sentence(reasons: ChurnReasons) -> str | None:
    """The line above the themes table: what the themes set apart; or why there are none;
    None where the events carry no ``reason_text`` column."""
    if reasons.texts is None:
        return None
    if not reasons.texts:
        return _w("themes_no_texts")
    if reasons.themes.empty:
        return _w("themes_none", texts=num(reasons.texts))
    return _w("themes_by_period" if reasons.themes_by == "period" else "themes_by_reason")


def themes_view(reasons: ChurnReasons) -> pd.DataFrame:
    """The themes of the free-text reasons: the reason (or period) they belong to, their
    words, the texts mentioning them and two example texts."""
    found = reasons.themes
    return pd.DataFrame(
        {
            "reason": [theme_group_name(g) for g in found["group"]],
            "reason_keywords": [" · ".join(k[:4]) for k in found["keywords"]],
            "reason_texts": found["mentions"].to_numpy(),
            "reason_examples": [" · ".join(f"“{c}”" for c in e[:2]) for e in found["examples"]],
        }
    )


# ----------------------------------------------------------------------------- analyst notes


def methods(lifetimes: ChurnLifetimes) -> list[str]:
    """The analyst notes' paragraphs on how lifetimes and reasons are measured."""
    return [
        _w(
            "lifetimes_method",
            horizon=num(lifetimes.horizon_months),
            min=num(lifetimes.min_group),
        ),
        _w("reasons_method"),
    ]


# ----------------------------------------------------------------------------- results


def results_part(lifetimes: ChurnLifetimes, reasons: ChurnReasons) -> dict:
    """This part's keys of the churn report's results: ``median_lifetime_months`` (None
    while over half the customers remain) and ``top_reasons`` ({reason: share of stated
    reasons}, most frequent first, at most :data:`TOP_REASONS`; empty without stated
    reasons)."""
    shown = reasons.table.loc[reasons.table["churns"] > 0].head(TOP_REASONS)
    return {
        "median_lifetime_months": _number(lifetimes.median_months),
        "top_reasons": {
            str(r): float(s) for r, s in zip(shown["reason"], shown["share"], strict=True)
        },
    }
