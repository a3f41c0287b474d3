"""The segmentation report's reading tables: each column named by its glossary key (so its
header is the figure's one name in the report's language), values left as numbers for
:func:`crmkit.present.notebook.table` to format (``*_FORMATS``: how their columns read; the
period table, mixing counts and money, comes formatted); segments, stages, tiers and groups
by name (:mod:`crmkit.topics.segmentation_names`); and each segment's suggested action.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from crmkit.metrics.lifecycle import LIFECYCLE_STAGES
from crmkit.metrics.segmentation import SegmentationAnalysis, value_tiers
from crmkit.present.format import money, num, pct
from crmkit.present.language import attribute_name, term, words
from crmkit.topics.segmentation import previous_stages
from crmkit.topics.segmentation_names import (
    describe_clusters,
    group_label,
    group_value,
    segment_name,
    stage_name,
    tier_name,
)


def period_table(analysis: SegmentationAnalysis, *, currency: str = "") -> pd.DataFrame:
    """Buying customers and period revenue, this period and the previous one, the change
    and its p-value; one row per figure, values formatted (the rows mix counts and money)."""
    rows = []
    for key, now, before, change, show in (
        (
            "buying_customers",
            analysis.buying_customers,
            analysis.previous_buying_customers,
            analysis.buying_change,
            num,
        ),
        (
            "period_revenue",
            analysis.period_revenue,
            analysis.previous_period_revenue,
            analysis.revenue_change,
            lambda v: money(v, currency),
        ),
    ):
        delta = now - before
        sign = "+" if delta > 0 else "−" if delta < 0 else ""
        rows.append(
            {
                "period_figure": term(key),
                "value_this_period": show(now),
                "value_previous_period": show(before),
                "change_on_previous": sign + show(abs(delta)),
                "p_value": change.p_value if change is not None else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def profile_table(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """A profile (:func:`crmkit.metrics.segmentation.profile`) with glossary columns:
    ``<by>, customers, buying_customers, buying_share, period_revenue,
    period_revenue_per_customer, share_of_revenue``; groups in the report's language."""
    return pd.DataFrame(
        {
            by: [group_value(v) for v in table[by]],
            "customers": table["customers"].astype(int),
            "buying_customers": (table["active_share"] * table["customers"]).round().astype(int),
            "buying_share": table["active_share"],
            "period_revenue": table["revenue"],
            "period_revenue_per_customer": table["revenue_per_customer"],
            "share_of_revenue": table["revenue_share"],
        }
    )


def profile_views(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each profile as :func:`profile_table`, keyed by its caption ("By region" / "按地区")."""
    return {
        words("segmentation.caption_geographic", by=term(by)): profile_table(table, by)
        for by, table in tables.items()
    }


PROFILE_FORMATS = {
    "integers": ["customers", "buying_customers"],
    "money_columns": ["period_revenue", "period_revenue_per_customer"],
    "percent": ["buying_share", "share_of_revenue"],
}
"""How a profile table's columns read (``ck.nb.table`` keywords)."""


def segments_table(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """RFM segments with glossary columns: ``segment, customers, share_of_customers,
    lifetime_revenue, share_of_revenue`` and, with a previous scoring,
    ``customers_previous_end, customers_change``. Segments by name."""
    s = analysis.segments
    table = pd.DataFrame(
        {
            "segment": [segment_name(c) for c in s["segment"]],
            "customers": s["customers"].astype(int),
            "share_of_customers": s["customer_share"],
            "lifetime_revenue": s["revenue"],
            "share_of_revenue": s["revenue_share"],
        }
    )
    if "previous_customers" in s.columns:
        table["customers_previous_end"] = s["previous_customers"].astype(int)
        table["customers_change"] = s["change"].astype(int)
    return table


def moves_table(analysis: SegmentationAnalysis, *, top: int = 8) -> pd.DataFrame:
    """The largest moves into a worse RFM segment: ``previous_segment, segment,
    customers``, most customers first."""
    worse = (
        analysis.moves.loc[analysis.moves["direction"] == "worse"] if len(analysis.moves) else []
    )
    if not len(worse):
        return pd.DataFrame(columns=["previous_segment", "segment", "customers"])
    worse = worse.head(top)
    return pd.DataFrame(
        {
            "previous_segment": [segment_name(c) for c in worse["previous_segment"]],
            "segment": [segment_name(c) for c in worse["segment"]],
            "customers": worse["customers"].astype(int).to_numpy(),
        }
    )


CLUSTER_COLUMNS = {
    "customers": "customers",
    "recency_days": "days_since_last_order",
    "frequency": "orders_to_date",
    "monetary": "lifetime_revenue",
    "average_order_value": "average_order_value",
    "tenure_days": "customer_tenure_days",
    "interactions": "contacts_to_date",
}
"""Behaviour feature → the glossary name its column takes in the groups table."""


def cluster_table(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """Behavioural groups (medians) with what stands out and the main channel, glossary
    columns: ``behaviour_group, customers, group_traits, days_since_last_order ...
    main_channel``."""
    c = analysis.clustering
    if c is None:
        return pd.DataFrame()
    profiles = c.profiles
    descriptions = describe_clusters(profiles, analysis.features)
    table = pd.DataFrame({"behaviour_group": [group_label(i) for i in profiles.index]})
    table["customers"] = profiles["customers"].astype(int).to_numpy()
    table["group_traits"] = [descriptions[int(i)] for i in profiles.index]
    for feature, column in CLUSTER_COLUMNS.items():
        if feature in profiles.columns and feature != "customers":
            table[column] = profiles[feature].to_numpy()
    shares = [col for col in profiles.columns if col.startswith("channel_")]
    if shares:
        mix = c.labels.to_frame().join(analysis.features[shares]).groupby("cluster").mean()
        table["main_channel"] = [
            f"{mix.loc[i].idxmax().removeprefix('channel_')} {pct(mix.loc[i].max(), 0)}"
            for i in profiles.index
        ]
    return table


CLUSTER_FORMATS = {
    "integers": ["customers"],
    "counts": [
        "days_since_last_order",
        "orders_to_date",
        "customer_tenure_days",
        "contacts_to_date",
    ],
    "money_columns": ["lifetime_revenue", "average_order_value"],
}
"""How the groups table's columns (medians) read (``ck.nb.table`` keywords)."""


def tiers_table(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """Customers and lifetime revenue per value tier: ``value_tier, customers,
    lifetime_revenue, share_of_revenue``, high tier first."""
    tiers = value_tiers(analysis.monetary)
    grouped = analysis.monetary.groupby(tiers).agg(["size", "sum"])
    grouped = grouped.reindex(["high", "middle", "low"]).dropna()
    total = grouped["sum"].sum()
    return pd.DataFrame(
        {
            "value_tier": [tier_name(t) for t in grouped.index],
            "customers": grouped["size"].astype(int).to_numpy(),
            "lifetime_revenue": grouped["sum"].to_numpy(),
            "share_of_revenue": (grouped["sum"] / total).to_numpy() if total else float("nan"),
        }
    )


def lifecycle_counts(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """Customers per lifecycle stage now and at the previous period end: ``lifecycle_stage,
    customers, customers_previous_end, customers_change``, stages by name."""
    now = analysis.lifecycle.value_counts().reindex(LIFECYCLE_STAGES, fill_value=0)
    before = previous_stages(analysis).reindex(LIFECYCLE_STAGES, fill_value=0)
    return pd.DataFrame(
        {
            "lifecycle_stage": [stage_name(s) for s in LIFECYCLE_STAGES],
            "customers": now.astype(int).to_numpy(),
            "customers_previous_end": before.astype(int).to_numpy(),
            "customers_change": (now - before).astype(int).to_numpy(),
        }
    )


def transitions_view(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """The lifecycle transition matrix with stages by name (rows: the previous period end,
    with "not yet signed up"; columns: this period end)."""

    def name(code: str) -> str:
        if code == "not yet signed up":
            return words("segmentation.not_yet_signed_up")
        return stage_name(code)

    matrix = analysis.transitions
    return matrix.rename(index=name, columns=name)


def default_action(code: str) -> str:
    """The suggested action for RFM segment ``code``, in the report's language."""
    return words(f"segmentation.action_{code}")


def _action_for(code: str, actions: Mapping[str, str]) -> str:
    """A unit's own action for a segment: keyed by code (``at_risk``) or by the segment's
    name in any language (``At Risk``, ``重要挽留客户``), case and spaces ignored."""
    from crmkit.present.language import glossary

    def key(text: str) -> str:
        return str(text).strip().lower().replace(" ", "_").replace("'", "")

    names = {key(code), *(key(n) for n in glossary()[f"rfm_{code}"].names.values())}
    for given, action in actions.items():
        if key(given) in names:
            return str(action)
    return default_action(code)


def actions_table(segments: pd.DataFrame, actions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Each RFM segment's size and its suggested treatment (the unit's own, from the
    ``segment_actions`` parameter, over the defaults): ``segment, customers,
    suggested_action``."""
    actions = actions or {}
    return pd.DataFrame(
        {
            "segment": [segment_name(c) for c in segments["segment"]],
            "customers": segments["customers"].astype(int).to_numpy(),
            "suggested_action": [_action_for(c, actions) for c in segments["segment"]],
        }
    )


def psychographic_table(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """The psychographic profile with groups labelled as in the groups table and the
    attributes by the data's own names (:func:`~crmkit.present.language.attribute_name`)."""
    table = analysis.psychographic
    if table.empty:
        return table
    first = table.columns[0]
    attributes = {c: attribute_name(c) for c in table.columns[1:]}
    labelled = table.rename(columns={first: "behaviour_group", **attributes})
    labelled["behaviour_group"] = [group_label(i) for i in table[first]]
    return labelled
