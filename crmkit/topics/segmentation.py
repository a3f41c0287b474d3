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


def _named(columns: list[str]) -> str:
    """``a``, ``b`` or ``c``: column names in backticks, the last joined with "or"."""
    names = [f"`{c}`" for c in columns]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _absent(analysis: SegmentationAnalysis, table: str = "customers") -> list[str]:
    """The optional columns of ``table`` absent in this analysis, by name."""
    prefix = f"{table}."
    return [m.removeprefix(prefix) for m in analysis.missing if m.startswith(prefix)]


GEOGRAPHIC_COLUMNS = ["region", "city"]
DEMOGRAPHIC_COLUMNS = ["age", "gender", "income_band", "occupation", "industry"]


def skipped_profile(analysis: SegmentationAnalysis, columns: list[str]) -> str:
    """What a profile section lacks: every one of ``columns`` (the section is skipped), some
    (no breakdown by those), or none (empty)."""
    absent = [c for c in columns if c in _absent(analysis)]
    if not absent:
        return ""
    if len(absent) == len(columns):
        return f"Skipped: no {_named(absent)} on customers."
    return f"No {_named(absent)} on customers, so there is no breakdown by {_named(absent)}."


def clusters_note(analysis: SegmentationAnalysis) -> str:
    """Why there are no behavioural clusters; empty when there are."""
    if analysis.clustering_skipped == "too_few_buyers":
        return (
            f"Skipped: {len(analysis.features):,} customers have bought, and clustering "
            f"needs at least {analysis.min_cluster_customers:,}."
        )
    if analysis.clustering_skipped == "too_alike":
        return (
            f"Skipped: the {len(analysis.features):,} buying customers behave too much alike "
            "to split into groups."
        )
    return ""


def contacts_note(analysis: SegmentationAnalysis) -> str:
    """Contacts left out of the clusters for lack of interactions; empty otherwise."""
    if analysis.clustering is None or "interactions" not in analysis.missing:
        return ""
    return "Contacts are not among the clustered features: no `interactions` table."


def psychographic_note(analysis: SegmentationAnalysis) -> str:
    """Why there is no psychographic profile; empty when there is."""
    if "customers.psy_*" in analysis.missing:
        return "Skipped: no `psy_*` attribute columns on customers."
    if analysis.clustering is None:
        return (
            "Skipped: the `psy_*` attributes are profiled per behavioural cluster, and there "
            "are no clusters."
        )
    return ""


def churn_note(analysis: SegmentationAnalysis) -> str:
    """How churn was decided when no churn events were given; empty otherwise."""
    if analysis.churn_observed:
        return ""
    days = analysis.lifecycle_rules.get("churn_days")
    return (
        f"No `churn_events` table: a customer counts as churned after {num(days)} days "
        "without an order."
    )


def _customers(n: int) -> str:
    """The count with its verb: "1 customer is", "3 customers are"."""
    return f"{n:,} customer is" if n == 1 else f"{n:,} customers are"


def _as_note(section: str, sentence: str) -> str:
    """A section's "Skipped: why." as a key-findings note: "<Section> skipped: why."."""
    return f"{section} skipped: {sentence.removeprefix('Skipped: ')}"


def notes(analysis: SegmentationAnalysis) -> list[str]:
    """One sentence per section skipped for lack of data, and on churn inferred from
    inactivity."""
    found = []
    if not analysis.geographic:
        found.append(_as_note("Geographic section", skipped_profile(analysis, GEOGRAPHIC_COLUMNS)))
    if not analysis.demographic:
        found.append(
            _as_note("Demographic section", skipped_profile(analysis, DEMOGRAPHIC_COLUMNS))
        )
    if analysis.clustering is None:
        found.append(_as_note("Clustering", clusters_note(analysis)))
    if psychographic_note(analysis):
        found.append(_as_note("Psychographic section", psychographic_note(analysis)))
    if churn_note(analysis):
        found.append(churn_note(analysis))
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
        risky = int(segments.loc[["At Risk", "Can't Lose Them"], "change"].sum())
        if risky == 0:
            found.append(
                "As many customers at risk or about to be lost (At Risk, Can't Lose Them) as "
                "at the previous period end."
            )
        else:
            word = "more" if risky > 0 else "fewer"
            people = "customer" if abs(risky) == 1 else "customers"
            found.append(
                f"{abs(risky):,} {word} {people} at risk or about to be lost "
                "(At Risk, Can't Lose Them) than at the previous period end."
            )
    if analysis.clustering is not None:
        c = analysis.clustering
        found.append(
            f"Behaviour falls into {c.k} clusters (silhouette {c.silhouette:.2f}; "
            f"stable across seeds, adjusted Rand {c.stability_ari:.2f})."
        )
    if not analysis.orders_in_period:
        found.append(
            "No orders this period, so the profiles show no revenue; segments, clusters and "
            "lifecycle stages use the history to the period end."
        )
    elif analysis.geographic:
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

    def spread(tables: dict[str, pd.DataFrame], columns: list[str]) -> str:
        note = skipped_profile(analysis, columns)
        if not tables:
            return note
        by, table = next(iter(tables.items()))
        if not analysis.orders_in_period:
            return f"No orders this period, so no revenue by {by.replace('_', ' ')}. {note}".strip()
        best = table.loc[table["revenue_per_customer"].idxmax()]
        worst = table.loc[table["revenue_per_customer"].idxmin()]
        sentence = (
            f"By {by.replace('_', ' ')}, revenue per customer this period ranges from "
            f"{num(worst['revenue_per_customer'])} ({worst[by]}) to "
            f"{num(best['revenue_per_customer'])} ({best[by]})."
        )
        if len(table) == 1:
            sentence = (
                f"Every customer has the same {by.replace('_', ' ')} ({best[by]}): "
                f"{num(best['revenue_per_customer'])} revenue per customer this period."
            )
        return f"{sentence} {note}".strip()

    segments = analysis.segments.set_index("segment")
    largest = segments["customers"].idxmax()
    rfm_text = (
        f"The largest segment is {largest} ({pct(segments.loc[largest, 'customer_share'])}"
        f" of buyers); Champions and Loyal customers together bring "
        f"{pct(segments.loc[['Champions', 'Loyal'], 'revenue_share'].sum())} of revenue."
    )
    c = analysis.clustering
    cluster_text = (
        clusters_note(analysis)
        if c is None
        else f"{c.k} clusters; the most valuable ({c.profiles.loc[0, 'customers']:,} "
        f"customers) is {describe_clusters(c.profiles, analysis.features)[0]}. "
        f"{contacts_note(analysis)}".strip()
    )
    psychographic = psychographic_note(analysis) or (
        f"{analysis.psychographic.shape[1] - 1} attribute(s) per behavioural cluster: the "
        "mean of scores, the most common answer of categories."
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
        "geographic": spread(analysis.geographic, GEOGRAPHIC_COLUMNS),
        "demographic": spread(analysis.demographic, DEMOGRAPHIC_COLUMNS),
        "rfm": rfm_text,
        "clusters": cluster_text,
        "psychographic": psychographic,
        "value": (
            f"The top 20% of buyers bring {pct(analysis.top20_share)} of revenue; the "
            f"low tier, half of all buyers ({(tiers == 'low').sum():,}), brings "
            f"{pct(low_revenue)}."
        ),
        "lifecycle": (
            f"{_customers(at_risk)} at risk at the period end; {slipped:,} of "
            f"them {'was' if slipped == 1 else 'were'} active or loyal at the previous period "
            f"end. {churn_note(analysis)}"
        ).strip(),
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
