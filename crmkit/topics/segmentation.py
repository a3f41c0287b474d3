"""The segmentation report's words and views: key findings, section sentences, notes on
skipped sections, cluster descriptions, the cluster, lifecycle and action tables, and the
published results.

Numbers come from :mod:`crmkit.metrics.segmentation`.
"""

from __future__ import annotations

import pandas as pd

from crmkit.metrics.segmentation import (
    LIFECYCLE_STAGES,
    SegmentationAnalysis,
    value_tiers,
)
from crmkit.present.format import num, pct

DEFAULT_ACTIONS = {
    "Champions": "Reward; early access and referral asks; personalised service",
    "Loyal": "Upsell higher-value lines; loyalty programme",
    "Potential Loyalists": "Membership offers; recommendations to build a habit",
    "New": "Onboarding; a useful first follow-up",
    "Promising": "Brand building; free trials",
    "Need Attention": "Limited-time offers based on past purchases",
    "About to Sleep": "Reconnect with relevant content and popular products",
    "At Risk": "Win-back: personal outreach, renewals, better offers",
    "Can't Lose Them": "Win-back now: call them, fix what went wrong",
    "Hibernating": "Low-cost reactivation; otherwise let go",
}


def notes(analysis: SegmentationAnalysis) -> list[str]:
    """One sentence per section skipped for lack of data."""
    found = []
    if not analysis.geographic:
        found.append("Geographic section skipped: customers carry no region or city.")
    if not analysis.demographic:
        found.append(
            "Demographic section skipped: customers carry no age, gender, income "
            "band, occupation or industry."
        )
    if analysis.clustering is None:
        found.append(f"Clustering skipped: {analysis.clustering_skipped}")
    if analysis.psychographic.empty:
        found.append("Psychographic section skipped: customers carry no psy_* attributes.")
    return found


def describe_clusters(profiles: pd.DataFrame, features: pd.DataFrame) -> dict[int, str]:
    """A phrase per cluster from how its medians compare with everyone's: a feature at 1.5
    times the overall median or more is named high (``frequent``), at 0.67 times or less low
    (``rare``); a channel with at least 60% of a cluster's orders is named (``mostly store``).
    ``typical`` when nothing stands out.

    Parameters
    ----------
    profiles
        ``Clustering.profiles``: median features per cluster.
    features
        The features clustered (:func:`crmkit.metrics.segmentation.behaviour_features`).
    """
    overall = features.median()
    words = {
        "frequency": ("frequent", "rare"),
        "average_order_value": ("big-basket", "small-basket"),
        "recency_days": ("lapsed", "recent"),
        "tenure_days": ("long-standing", "newer"),
        "interactions": ("high-touch", "low-touch"),
    }
    descriptions = {}
    for cluster, row in profiles.iterrows():
        parts = []
        for column, (high, low) in words.items():
            if column not in row or not overall.get(column):
                continue
            ratio = row[column] / overall[column] if overall[column] else 1
            if ratio >= 1.5:
                parts.append(high)
            elif ratio <= 0.67:
                parts.append(low)
        channels = [c for c in row.index if c.startswith("channel_")]
        if channels:
            top = max(channels, key=lambda c: row[c])
            if row[top] >= 0.6:
                parts.append(f"mostly {top.removeprefix('channel_')}")
        descriptions[int(cluster)] = ", ".join(parts) or "typical"
    return descriptions


def key_findings(analysis: SegmentationAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the segmentation report, each with its number."""
    found = [
        f"{analysis.n_customers:,} customers, {len(analysis.rfm):,} of whom have bought; "
        f"the top 20% of buyers bring {pct(analysis.top20_share)} of revenue."
    ]
    segments = analysis.segments.set_index("segment")
    champions = segments.loc["Champions"]
    found.append(
        f"Champions are {pct(champions['customer_share'])} of buyers and bring "
        f"{pct(champions['revenue_share'])} of revenue."
    )
    if "change" in segments.columns:
        risky = segments.loc[["At Risk", "Can't Lose Them"], "change"].sum()
        word = "more" if risky > 0 else "fewer"
        found.append(
            f"{abs(int(risky)):,} {word} customers at risk or about to be lost "
            "(At Risk, Can't Lose Them) than at the previous period end."
        )
    if analysis.clustering is not None:
        c = analysis.clustering
        found.append(
            f"Behaviour falls into {c.k} clusters (silhouette {c.silhouette:.2f}; "
            f"stable across seeds, adjusted Rand {c.stability_ari:.2f})."
        )
    if analysis.geographic:
        by, table = next(iter(analysis.geographic.items()))
        top = table.iloc[0]
        found.append(
            f"Largest {by} by revenue this period: {top[by]} "
            f"({pct(top['revenue_share'])} of revenue)."
        )
    return found + notes(analysis)


def results(analysis: SegmentationAnalysis) -> dict:
    """The segmentation report's machine-readable results (``segmentation.json``)."""
    c = analysis.clustering
    return {
        "n_customers": analysis.n_customers,
        "rfm_segments": dict(
            zip(
                analysis.segments["segment"],
                analysis.segments["customers"].astype(int),
                strict=True,
            )
        ),
        "n_clusters": c.k if c else None,
        "silhouette": c.silhouette if c else None,
        "cluster_stability_ari": c.stability_ari if c else None,
        "top20_revenue_share": analysis.top20_share,
        "lifecycle": {s: int((analysis.lifecycle == s).sum()) for s in LIFECYCLE_STAGES},
    }


def cluster_table(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """Cluster profiles (medians) with their description, for display."""
    c = analysis.clustering
    if c is None:
        return pd.DataFrame()
    table = c.profiles.copy()
    descriptions = describe_clusters(c.profiles, analysis.features)
    table.insert(1, "description", [descriptions[int(i)] for i in table.index])
    shares = [col for col in table.columns if col.startswith("channel_")]
    if shares:
        mix = c.labels.to_frame().join(analysis.features[shares]).groupby("cluster").mean()
        table["main channel"] = [
            f"{mix.loc[i].idxmax().removeprefix('channel_')} {pct(mix.loc[i].max(), 0)}"
            for i in table.index
        ]
        table = table.drop(columns=shares)
    return table.reset_index()


def actions_table(segments: pd.DataFrame, actions: dict[str, str] | None = None) -> pd.DataFrame:
    """Each named segment's size and its suggested treatment (editable in the parameters)."""
    plan = {**DEFAULT_ACTIONS, **(actions or {})}
    return pd.DataFrame(
        {
            "segment": segments["segment"],
            "customers": segments["customers"],
            "suggested action": [plan.get(s, "") for s in segments["segment"]],
        }
    )


def section_findings(analysis: SegmentationAnalysis) -> dict[str, str]:
    """One sentence with its numbers for each section of the segmentation report."""

    def spread(tables: dict[str, pd.DataFrame], label: str) -> str:
        if not tables:
            return f"Skipped: customers carry no {label} attributes."
        by, table = next(iter(tables.items()))
        best = table.loc[table["revenue_per_customer"].idxmax()]
        worst = table.loc[table["revenue_per_customer"].idxmin()]
        return (
            f"By {by.replace('_', ' ')}, revenue per customer this period ranges from "
            f"{num(worst['revenue_per_customer'])} ({worst[by]}) to "
            f"{num(best['revenue_per_customer'])} ({best[by]})."
        )

    segments = analysis.segments.set_index("segment")
    largest = segments["customers"].idxmax()
    rfm_text = (
        f"The largest segment is {largest} ({pct(segments.loc[largest, 'customer_share'])}"
        f" of buyers); Champions and Loyal customers together bring "
        f"{pct(segments.loc[['Champions', 'Loyal'], 'revenue_share'].sum())} of revenue."
    )
    c = analysis.clustering
    cluster_text = (
        "Skipped: too few buying customers to cluster."
        if c is None
        else f"{c.k} clusters; the most valuable ({c.profiles.loc[0, 'customers']:,} "
        f"customers) is {describe_clusters(c.profiles, analysis.features)[0]}."
    )
    tiers = value_tiers(analysis.monetary)
    low_revenue = analysis.monetary[tiers == "low"].sum() / analysis.monetary.sum()
    counts = analysis.lifecycle.value_counts()
    at_risk = int(counts.get("at risk", 0))
    moved = analysis.transitions
    slipped = (
        int(moved.loc[moved.index.isin(["active", "loyal"]), "at risk"].sum())
        if "at risk" in moved.columns
        else 0
    )
    return {
        "geographic": spread(analysis.geographic, "geographic"),
        "demographic": spread(analysis.demographic, "demographic"),
        "rfm": rfm_text,
        "clusters": cluster_text,
        "value": (
            f"The top 20% of buyers bring {pct(analysis.top20_share)} of revenue; the "
            f"low tier, half of all buyers ({(tiers == 'low').sum():,}), brings "
            f"{pct(low_revenue)}."
        ),
        "lifecycle": (
            f"{at_risk:,} customers are at risk at the period end; {slipped:,} of "
            "them were active or loyal at the previous period end."
        ),
    }


def lifecycle_counts(analysis: SegmentationAnalysis) -> pd.DataFrame:
    """Customers per lifecycle stage now and at the previous period end."""
    now = analysis.lifecycle.value_counts().reindex(LIFECYCLE_STAGES, fill_value=0)
    before = analysis.transitions.sum(axis=1).reindex(LIFECYCLE_STAGES, fill_value=0)
    return pd.DataFrame(
        {
            "stage": LIFECYCLE_STAGES,
            "customers": now.to_numpy(),
            "previous period end": before.to_numpy(),
        }
    )
