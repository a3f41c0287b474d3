"""How the segmentation report names what the metrics give as codes, in the report's
language: RFM segments, lifecycle stages, value tiers, profile groups (age bands,
"unknown"), behavioural groups and what stands out in them, counts of customers and lists.

Every word from the catalogue ``present/words/segmentation.yaml`` and the glossary.
"At risk" has one meaning: the RFM segment At Risk; the lifecycle stage of customers whose
last order is getting old is "lapsing".
"""

from __future__ import annotations

import pandas as pd

from crmkit.metrics.segment_changes import LAPSED_SEGMENTS
from crmkit.metrics.segmentation import AGE_BANDS, AGE_LABELS
from crmkit.present.format import num
from crmkit.present.language import term, words

# ----------------------------------------------------------------------------- codes


def segment_name(code: str) -> str:
    """An RFM segment's name in the report's language: ``"at_risk"`` → "At Risk" / 重要挽留客户."""
    return term(f"rfm_{code}")


def stage_name(code: str) -> str:
    """A lifecycle stage's name: ``"lapsing"`` → "lapsing" / 流失预警客户."""
    return term(f"stage_{code}")


def tier_name(code: str) -> str:
    """A value tier's name: ``"high"`` → "high value" / 高价值客户."""
    return term(f"tier_{code}")


def group_value(value: object) -> str:
    """A profile group as a reader reads it: age bands and "unknown" in the report's
    language; the data's own values as they are."""
    text = str(value)
    if text == "unknown":
        return words("segmentation.unknown")
    if text in AGE_LABELS:
        i = AGE_LABELS.index(text)
        if i == 0:
            return words("segmentation.age_under", age=AGE_BANDS[1])
        if i == len(AGE_LABELS) - 1:
            return words("segmentation.age_over", age=AGE_BANDS[-2])
        return words("segmentation.age_range", low=AGE_BANDS[i], high=AGE_BANDS[i + 1] - 1)
    return text


def customers_count(n: int) -> str:
    """A number of customers: "1 customer", "359 customers" (1 位, 359 位)."""
    if n == 1:
        return words("segmentation.customers_count_one")
    return words("segmentation.customers_count", n=num(n))


def join_words(items: list[str], how: str = "or") -> str:
    """``a, b or c`` (``a、b或c``): a list in the report's language."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    separator = words("segmentation.list_separator")
    return words(f"segmentation.{how}_list", items=separator.join(items[:-1]), last=items[-1])


def lapsed_segments(how: str = "or") -> str:
    """The lapsed RFM segments in a list: At Risk, Can't Lose Them or Hibernating
    (``how="and"``: ... and Hibernating), in the report's language."""
    return join_words([segment_name(c) for c in LAPSED_SEGMENTS], how)


# ----------------------------------------------------------------------------- groups


TRAITS = {
    "frequency": ("frequent", "infrequent"),
    "average_order_value": ("big_basket", "small_basket"),
    "recency_days": ("quiet", "recent"),
    "tenure_days": ("long_standing", "newer"),
    "interactions": ("high_touch", "low_touch"),
}
"""Behaviour feature → the catalogue's trait words for a group far above and far below
everyone's median (``segmentation.trait_<word>``)."""


def describe_clusters(profiles: pd.DataFrame, features: pd.DataFrame) -> dict[int, str]:
    """A phrase per behavioural group from how its medians compare with everyone's: a
    feature at 1.5 times the overall median or more is named high (``more orders``), at 0.67
    times or less low (``fewer orders``); a channel with at least 60% of a group's orders is
    named (``mostly store``). ``typical`` when nothing stands out. In the report's language.

    Parameters
    ----------
    profiles
        ``Clustering.profiles``: median features per group.
    features
        The features clustered (:func:`crmkit.metrics.segmentation.behaviour_features`).
    """
    overall = features.median()
    descriptions = {}
    for cluster, row in profiles.iterrows():
        parts = []
        for column, (high, low) in TRAITS.items():
            if column not in row or not overall.get(column):
                continue
            ratio = row[column] / overall[column]
            if ratio >= 1.5:
                parts.append(words(f"segmentation.trait_{high}"))
            elif ratio <= 0.67:
                parts.append(words(f"segmentation.trait_{low}"))
        channels = [c for c in row.index if c.startswith("channel_")]
        if channels:
            top = max(channels, key=lambda c: row[c])
            if row[top] >= 0.6:
                channel = top.removeprefix("channel_")
                parts.append(words("segmentation.trait_channel", channel=channel))
        separator = words("segmentation.trait_separator")
        descriptions[int(cluster)] = separator.join(parts) or words("segmentation.trait_typical")
    return descriptions


def group_label(cluster: int) -> str:
    """A behavioural group's label, numbered from 1 (the most valuable), on one line."""
    return words("segmentation.group_number", number=int(cluster) + 1).replace(" ", "\u00a0")
