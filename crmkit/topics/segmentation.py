"""The segmentation report's words: key findings, section sentences, notes on skipped
sections, changes in words, the flags it raises and the published results — every word from
the catalogue ``present/words/segmentation.yaml``, in the report's language.

Numbers come from :mod:`crmkit.metrics.segmentation` (with :mod:`crmkit.metrics.lifecycle`
and :mod:`crmkit.metrics.segment_changes`), which name segments, lifecycle stages and value
tiers by code (``at_risk``, ``lapsing``, ``high``); :mod:`crmkit.topics.segmentation_names`
names them. The report's tables are in :mod:`crmkit.topics.segmentation_tables`.
"""

from __future__ import annotations

import math

import pandas as pd

from crmkit.metrics.lifecycle import LIFECYCLE_RULES, LIFECYCLE_STAGES
from crmkit.metrics.segment_changes import Change
from crmkit.metrics.segmentation import SegmentationAnalysis, value_tiers
from crmkit.present.format import money, num, p_text, pct
from crmkit.present.language import column_name, current, glossary, term, words
from crmkit.topics.flags import Flag, alert_flag, change_flag
from crmkit.topics.segmentation_names import (
    customers_count,
    describe_clusters,
    group_value,
    join_words,
    lapsed_segments,
    segment_name,
    stage_name,
    tier_name,
)

TOPIC = "segmentation"

WORSE_MOVES_ALERT = 0.12
"""The alert level of customers moving into a worse RFM segment (:data:`LAPSE_LEVEL
<crmkit.metrics.segment_changes.LAPSE_LEVEL>`), as a share of the customers segmented at both
period ends. Quintile scores move a few customers down every period even when nothing
changes (7–8% a quarter in the sample's steady units); 12% is half as much again."""

GEOGRAPHIC_COLUMNS = ["region", "city"]
DEMOGRAPHIC_COLUMNS = ["age", "gender", "income_band", "occupation", "industry"]


# ----------------------------------------------------------------------------- sentences


def sentences(*parts: str) -> str:
    """Sentences one after another: a space between them in English, none in Chinese (its
    full stop 。 is already full width)."""
    gap = "" if current() == "zh" else " "
    return gap.join(p for p in parts if p)


def _capital(text: str) -> str:
    """The first letter upper-case, for a glossary name that starts a sentence."""
    return text[:1].upper() + text[1:]


def _column_names(columns: list[str]) -> str:
    """Missing columns named for the reader: in English as the data contract spells them
    (`` `income_band` ``), in Chinese by their glossary names (收入档次)."""
    if current() == "en":
        return join_words([f"`{c}`" for c in columns])
    return join_words([column_name(c) for c in columns])


# ----------------------------------------------------------------------------- skipped sections


def _absent(analysis: SegmentationAnalysis, table: str = "customers") -> list[str]:
    """The optional columns of ``table`` absent in this analysis, by name."""
    prefix = f"{table}."
    return [m.removeprefix(prefix) for m in analysis.missing if m.startswith(prefix)]


def skipped_profile(analysis: SegmentationAnalysis, columns: list[str]) -> str:
    """What a profile section lacks: every one of ``columns`` (the section is skipped), some
    (no breakdown by those), or none (empty)."""
    absent = [c for c in columns if c in _absent(analysis)]
    if not absent:
        return ""
    named = _column_names(absent)
    if len(absent) == len(columns):
        return words(
            "segmentation.skipped", why=words("segmentation.why_no_columns", columns=named)
        )
    return words("segmentation.some_columns_absent", columns=named)


def _clusters_why(analysis: SegmentationAnalysis) -> str:
    buyers = num(len(analysis.features))
    if analysis.clustering_skipped == "too_few_buyers":
        needed = num(analysis.min_cluster_customers)
        return words("segmentation.why_too_few_buyers", buyers=buyers, needed=needed)
    if analysis.clustering_skipped == "too_alike":
        return words("segmentation.why_too_alike", buyers=buyers)
    return ""


def clusters_note(analysis: SegmentationAnalysis) -> str:
    """Why there are no behavioural groups; empty when there are."""
    why = _clusters_why(analysis)
    return words("segmentation.skipped", why=why) if why else ""


def contacts_note(analysis: SegmentationAnalysis) -> str:
    """Contacts left out of the groups for lack of interactions; empty otherwise."""
    if analysis.clustering is None or "interactions" not in analysis.missing:
        return ""
    return words("segmentation.contacts_note")


def _psychographic_why(analysis: SegmentationAnalysis) -> str:
    if "customers.psy_*" in analysis.missing:
        return words("segmentation.why_no_psy")
    if analysis.clustering is None:
        return words("segmentation.why_psy_no_groups")
    return ""


def psychographic_note(analysis: SegmentationAnalysis) -> str:
    """Why there is no psychographic profile; empty when there is."""
    why = _psychographic_why(analysis)
    return words("segmentation.skipped", why=why) if why else ""


def churn_note(analysis: SegmentationAnalysis) -> str:
    """How churn was decided when no churn events were given; empty otherwise."""
    definition = analysis.churn_definition
    if definition is None or definition.kind == "events":
        return ""
    return words("segmentation.churn_note", days=num(definition.inactivity_days))


def _section_note(section: str, why: str) -> str:
    return words(
        "segmentation.section_skipped", section=words(f"segmentation.section_{section}"), why=why
    )


def notes(analysis: SegmentationAnalysis) -> list[str]:
    """One sentence per section of the key findings skipped for lack of data, and on churn
    inferred from inactivity. (The psychographic profile is in the analyst notes, which say
    themselves why it is missing.)"""
    found = []
    for section, tables, columns in (
        ("geographic", analysis.geographic, GEOGRAPHIC_COLUMNS),
        ("demographic", analysis.demographic, DEMOGRAPHIC_COLUMNS),
    ):
        if not tables:
            absent = [c for c in columns if c in _absent(analysis)]
            why = words("segmentation.why_no_columns", columns=_column_names(absent))
            found.append(_section_note(section, why))
    if analysis.clustering is None:
        found.append(_section_note("clusters", _clusters_why(analysis)))
    if churn_note(analysis):
        found.append(churn_note(analysis))
    return found


# ----------------------------------------------------------------------------- changes in words


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def significance(change: Change | None) -> str:
    """Whether a change is significant, with its p-value, in words: a significant change,
    p < 0.001; within normal variation, p = 0.833."""
    if change is None or not _finite(change.p_value):
        return words("segmentation.not_tested")
    key = "significant" if change.p_value < 0.05 else "not_significant"
    return words(f"segmentation.{key}", p=p_text(change.p_value))


def _signed_pct(share: float) -> str:
    sign = "+" if share > 0 else "−" if share < 0 else ""
    return sign + pct(abs(share))


def count_change_words(delta: float) -> str:
    """A change of a count in words: 9 more than in the previous period (比上期少 9 位)."""
    if delta == 0:
        return words("segmentation.count_same")
    key = "count_more" if delta > 0 else "count_fewer"
    return words(f"segmentation.{key}", size=num(abs(delta)))


def money_change_words(delta: float, currency: str) -> str:
    """A change of money in words: ¥18,622 less than in the previous period."""
    if delta == 0:
        return words("segmentation.money_same")
    key = "money_more" if delta > 0 else "money_less"
    return words(f"segmentation.{key}", size=money(abs(delta), currency))


def period_sentences(analysis: SegmentationAnalysis, *, currency: str = "") -> list[str]:
    """Buying customers and period revenue, each with its change on the previous period
    and whether that change is significant."""
    before = analysis.previous_period_revenue
    revenue_delta = analysis.period_revenue - before
    buying = words(
        "segmentation.kf_buying",
        name=_capital(term("buying_customers")),
        value=num(analysis.buying_customers),
        change=count_change_words(analysis.buying_customers - analysis.previous_buying_customers),
        significance=significance(analysis.buying_change),
    )
    revenue = words(
        "segmentation.kf_revenue",
        name=_capital(term("period_revenue")),
        value=money(analysis.period_revenue, currency),
        change=money_change_words(revenue_delta, currency),
        relative=_signed_pct(revenue_delta / before) if before else "–",
        significance=significance(analysis.revenue_change),
    )
    return [buying, revenue]


def moves_sentences(analysis: SegmentationAnalysis) -> list[str]:
    """Customers who slipped into a worse RFM segment (into At Risk, Can't Lose Them or
    Hibernating, or from the first two into Hibernating) and those who came back out, with
    the largest such move: one count for the worsening, never one segment's count (fewer
    At Risk because they went on to Hibernating is no good news). Empty without a previous
    scoring."""
    m = analysis.movement
    if m is None:
        return []
    if not m.worse and not m.better:
        return [words("segmentation.kf_no_moves", segments=lapsed_segments())]
    found = [
        words(
            "segmentation.kf_moves",
            worse=customers_count(m.worse),
            share=pct(m.worse_share),
            segments=lapsed_segments(),
            better=customers_count(m.better),
        )
    ]
    worse = analysis.moves.loc[analysis.moves["direction"] == "worse"]
    if len(worse):
        top = worse.iloc[0]
        found.append(
            words(
                "segmentation.kf_largest_move",
                customers=num(top["customers"]),
                previous=segment_name(top["previous_segment"]),
                segment=segment_name(top["segment"]),
            )
        )
    return found


def lapsing_sentence(analysis: SegmentationAnalysis) -> str:
    """Lapsing customers (the lifecycle stage) now and at the previous period end."""
    rules = analysis.lifecycle_rules or LIFECYCLE_RULES
    return words(
        "segmentation.kf_lapsing",
        name=_capital(stage_name("lapsing")),
        days=num(rules["active_days"]),
        now=num((analysis.lifecycle == "lapsing").sum()),
        before=num(previous_stages(analysis).get("lapsing", 0)),
    )


def previous_stages(analysis: SegmentationAnalysis) -> pd.Series:
    """Customers per lifecycle stage at the previous period end (codes)."""
    if analysis.transitions.empty:
        return pd.Series(dtype=int)
    return analysis.transitions.sum(axis=1)


# ----------------------------------------------------------------------------- findings


def key_findings(analysis: SegmentationAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the segmentation report, each with its number."""
    found = period_sentences(analysis, currency=currency)
    found += moves_sentences(analysis)
    found.append(lapsing_sentence(analysis))
    segments = analysis.segments.set_index("segment")
    if len(segments) and segments["customers"].sum():
        found.append(
            words(
                "segmentation.kf_value",
                share=pct(analysis.top20_share),
                champions=segment_name("champions"),
                champion_customers=pct(segments.loc["champions", "customer_share"]),
                champion_revenue=pct(segments.loc["champions", "revenue_share"]),
            )
        )
    if analysis.clustering is not None:
        found.append(_clusters_sentence(analysis))
    if not analysis.orders_in_period:
        found.append(words("segmentation.kf_no_orders"))
    elif analysis.geographic:
        by, table = next(iter(analysis.geographic.items()))
        top = table.iloc[0]
        found.append(
            words(
                "segmentation.kf_region",
                by=term(by),
                top=group_value(top[by]),
                share=pct(top["revenue_share"]),
            )
        )
    return found + notes(analysis)


def _clusters_sentence(analysis: SegmentationAnalysis) -> str:
    c = analysis.clustering
    return words(
        "segmentation.clusters_sentence",
        k=num(c.k),
        customers=num(c.profiles.loc[0, "customers"]),
        traits=describe_clusters(c.profiles, analysis.features)[0],
    )


def section_findings(analysis: SegmentationAnalysis, *, currency: str = "") -> dict[str, str]:
    """One sentence with its numbers for each section of the segmentation report."""

    def spread(tables: dict[str, pd.DataFrame], columns: list[str]) -> str:
        note = skipped_profile(analysis, columns)
        if not tables:
            return note
        by, table = next(iter(tables.items()))
        if not analysis.orders_in_period:
            return sentences(words("segmentation.spread_no_orders", by=term(by)), note)
        best = table.loc[table["revenue_per_customer"].idxmax()]
        worst = table.loc[table["revenue_per_customer"].idxmin()]
        if len(table) == 1:
            sentence = words(
                "segmentation.spread_one",
                by=term(by),
                group=group_value(best[by]),
                value=money(best["revenue_per_customer"], currency),
            )
        else:
            sentence = words(
                "segmentation.spread",
                by=term(by),
                low=money(worst["revenue_per_customer"], currency),
                low_group=group_value(worst[by]),
                high=money(best["revenue_per_customer"], currency),
                high_group=group_value(best[by]),
            )
        return sentences(sentence, note)

    segments = analysis.segments.set_index("segment")
    largest = segments["customers"].idxmax()
    rfm_text = words(
        "segmentation.rfm_sentence",
        largest=segment_name(largest),
        share=pct(segments.loc[largest, "customer_share"]),
        champions=segment_name("champions"),
        loyal=segment_name("loyal"),
        revenue_share=pct(segments.loc[["champions", "loyal"], "revenue_share"].sum()),
    )
    if analysis.movement is not None:
        lapsed = words(
            "segmentation.kf_lapsed_total",
            segments=lapsed_segments("and"),
            now=num(analysis.movement.lapsed_now),
            before=num(analysis.movement.lapsed_before),
        )
        rfm_text = sentences(rfm_text, lapsed)
    cluster_text = (
        clusters_note(analysis)
        if analysis.clustering is None
        else sentences(_clusters_sentence(analysis), contacts_note(analysis))
    )
    tiers = value_tiers(analysis.monetary)
    low_revenue = analysis.monetary[tiers == "low"].sum() / analysis.monetary.sum()
    moved = analysis.transitions
    slipped = (
        int(moved.loc[moved.index.isin(["active", "repeat"]), "lapsing"].sum())
        if "lapsing" in moved.columns
        else 0
    )
    lifecycle = words(
        "segmentation.lifecycle_sentence",
        lapsing=_capital(stage_name("lapsing")),
        now=num((analysis.lifecycle == "lapsing").sum()),
        before=num(previous_stages(analysis).get("lapsing", 0)),
        slipped=num(slipped),
        active=stage_name("active"),
        repeat=stage_name("repeat"),
    )
    return {
        "period": sentences(*period_sentences(analysis, currency=currency)),
        "geographic": spread(analysis.geographic, GEOGRAPHIC_COLUMNS),
        "demographic": spread(analysis.demographic, DEMOGRAPHIC_COLUMNS),
        "rfm": rfm_text,
        "clusters": cluster_text,
        "psychographic": psychographic_note(analysis),
        "value": words(
            "segmentation.value_sentence",
            share=pct(analysis.top20_share),
            low=tier_name("low"),
            customers=num((tiers == "low").sum()),
            low_share=pct(low_revenue),
        ),
        "lifecycle": sentences(lifecycle, churn_note(analysis)),
        "lifecycle_rules": lifecycle_rules(analysis),
    }


def lifecycle_rules(analysis: SegmentationAnalysis) -> str:
    """How each lifecycle stage is set, with the rules used, in plain words."""
    rules = analysis.lifecycle_rules
    definition = analysis.churn_definition
    events = definition is not None and definition.kind == "events"
    churn_rule = "churn_rule_events" if events else "churn_rule_inactive"
    churn_days = None if definition is None else definition.inactivity_days
    return words(
        "segmentation.lifecycle_rules",
        new=stage_name("new"),
        active=stage_name("active"),
        repeat=stage_name("repeat"),
        lapsing=stage_name("lapsing"),
        churned=stage_name("churned"),
        new_days=num(rules["new_days"]),
        active_days=num(rules["active_days"]),
        loyal_orders=num(rules["loyal_orders"]),
        churn_rule=words(f"segmentation.{churn_rule}", churn_days=num(churn_days)),
    )


def clusters_method(analysis: SegmentationAnalysis) -> str:
    """For the analyst notes: how the groups were found and how well they separate."""
    c = analysis.clustering
    if c is None:
        return clusters_note(analysis)
    return words(
        "segmentation.clusters_method",
        k=num(c.k),
        silhouette=num(c.silhouette, 2),
        ari=num(c.stability_ari, 2),
    )


def about(analysis: SegmentationAnalysis) -> str:
    """For the analyst notes: the question, the data and the tests behind the report."""
    parts = [
        words("segmentation.about_question"),
        words("segmentation.about_data"),
        words("segmentation.about_tests"),
        words("segmentation.about_moves", threshold=pct(WORSE_MOVES_ALERT, 0)),
    ]
    return "\n\n".join(parts)


# ----------------------------------------------------------------------------- flags


def flags(analysis: SegmentationAnalysis, *, currency: str = "") -> list[Flag]:
    """What changed and what to do: a significant change of buying customers or of period
    revenue (:func:`crmkit.topics.flags.change_flag`), and an alert when more than
    :data:`WORSE_MOVES_ALERT` of the customers segmented at both period ends slipped into a
    worse RFM segment. The flags are those the registry declares for this topic."""
    found: list[Flag | None] = []
    b = analysis.buying_change
    if b is not None:
        before, after = analysis.previous_buying_customers, analysis.buying_customers
        direction = "fell" if b.delta < 0 else "rose"
        found.append(
            change_flag(
                TOPIC,
                "buying_customers_change",
                delta=b.delta,
                low=b.low,
                high=b.high,
                p_value=b.p_value,
                good_when="up",
                message=f"segmentation.flag_buying_{direction}",
                action=f"segmentation.action_buying_{direction}",
                section="segmentation.period_heading",
                values={
                    "before": lambda: num(before),
                    "after": lambda: num(after),
                    "p": lambda: p_text(b.p_value),
                },
                raw={"current": after, "previous": before, "p_value": b.p_value},
            )
        )
    r = analysis.revenue_change
    if r is not None:
        before, after = analysis.previous_period_revenue, analysis.period_revenue
        direction = "fell" if r.delta < 0 else "rose"
        found.append(
            change_flag(
                TOPIC,
                "period_revenue_change",
                delta=r.delta,
                low=r.low,
                high=r.high,
                p_value=r.p_value,
                good_when="up",
                message=f"segmentation.flag_revenue_{direction}",
                action=f"segmentation.action_revenue_{direction}",
                section="segmentation.period_heading",
                values={
                    "before": lambda: money(before, currency),
                    "after": lambda: money(after, currency),
                    "relative": lambda: _signed_pct(r.delta / before) if before else "–",
                    "p": lambda: p_text(r.p_value),
                },
                raw={"current": after, "previous": before, "p_value": r.p_value},
            )
        )
    m = analysis.movement
    if m is not None and m.scored_before and m.worse_share > WORSE_MOVES_ALERT:
        found.append(
            alert_flag(
                TOPIC,
                "moved_to_worse_segments",
                excess=(m.worse_share - WORSE_MOVES_ALERT) / WORSE_MOVES_ALERT,
                message="segmentation.flag_moves",
                action="segmentation.action_moves",
                section="segmentation.rfm_heading",
                values={
                    "worse": lambda: customers_count(m.worse),
                    "share": lambda: pct(m.worse_share),
                    "threshold": lambda: pct(WORSE_MOVES_ALERT, 0),
                },
                raw={**m.as_dict(), "alert_level": WORSE_MOVES_ALERT},
            )
        )
    return [f for f in found if f is not None]


# ----------------------------------------------------------------------------- results


def results(analysis: SegmentationAnalysis) -> dict:
    """The segmentation report's machine-readable results (``segmentation.json``):
    segments and stages by their English glossary names (``"Champions"``, ``"lapsing"``),
    the same whatever the report's language."""
    c = analysis.clustering

    def change(value: Change | None) -> dict | None:
        return None if value is None else value.as_dict()

    def english(prefix: str, code: str) -> str:
        return glossary()[f"{prefix}{code}"].names["en"]

    return {
        "n_customers": analysis.n_customers,
        "rfm_segments": dict(
            zip(
                [english("rfm_", code) for code in analysis.segments["segment"]],
                analysis.segments["customers"].astype(int),
                strict=True,
            )
        ),
        "n_clusters": c.k if c else None,
        "silhouette": c.silhouette if c else None,
        "cluster_stability_ari": c.stability_ari if c else None,
        "top20_revenue_share": analysis.top20_share,
        "lifecycle": {
            english("stage_", s): int((analysis.lifecycle == s).sum()) for s in LIFECYCLE_STAGES
        },
        "buying_customers": analysis.buying_customers,
        "buying_customers_change": change(analysis.buying_change),
        "period_revenue": analysis.period_revenue,
        "period_revenue_change": change(analysis.revenue_change),
        "segment_moves": analysis.movement.as_dict() if analysis.movement else None,
    }
