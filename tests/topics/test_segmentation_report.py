"""The segmentation report's words, views and results on small frames."""

import numpy as np
import pandas as pd
import pytest
from conftest import segment_orders, segment_people

from crmkit.core.periods import parse_period
from crmkit.metrics import segmentation as sg
from crmkit.topics import segmentation as report
from crmkit.topics.registry import TOPICS


@pytest.fixture
def orders() -> pd.DataFrame:
    return segment_orders()


@pytest.fixture
def people() -> pd.DataFrame:
    return segment_people()


def test_analyse_small_unit_says_what_it_skipped(orders, people):
    analysis = sg.analyse(people, orders, period=parse_period("2026-Q3"))
    notes = report.notes(analysis)
    assert any(n.startswith("Clustering skipped: cluster_customers needs at least") for n in notes)
    assert any(n.startswith("Psychographic section skipped") for n in notes)
    assert notes == [
        "Clustering skipped: cluster_customers needs at least 35 customers; got 3.",
        "Psychographic section skipped: customers carry no psy_* attributes.",
    ]
    sentences = report.section_findings(analysis)
    assert sentences["clusters"] == "Skipped: too few buying customers to cluster."
    assert sentences["geographic"] == (
        "By region, revenue per customer this period ranges from 0 (West) to 50 (East)."
    )
    counts = report.lifecycle_counts(analysis).set_index("stage")["customers"]
    assert counts.to_dict() == {
        "prospect": 1,
        "new": 1,
        "active": 0,
        "loyal": 1,
        "at risk": 1,
        "churned": 0,
    }
    results = report.results(analysis)
    assert set(results) == set(TOPICS["segmentation"].results)  # exactly the registry's keys
    assert results["n_clusters"] is None and results["n_customers"] == 4
    assert sum(results["rfm_segments"].values()) == 3
    assert report.key_findings(analysis)[-2:] == notes
    assert report.cluster_table(analysis).empty


def test_sections_without_attributes_are_named(orders, people):
    bare = people[["customer_id", "signup_date"]]
    analysis = sg.analyse(bare, orders, period=parse_period("2026-Q3"))
    assert report.notes(analysis)[:2] == [
        "Geographic section skipped: customers carry no region or city.",
        "Demographic section skipped: customers carry no age, gender, income band, "
        "occupation or industry.",
    ]
    sentences = report.section_findings(analysis)
    # b: last order 1 March, active on 30 June (121 days), at risk on 30 September (213)
    assert sentences["geographic"] == "Skipped: customers carry no geographic attributes."
    assert sentences["demographic"] == "Skipped: customers carry no demographic attributes."
    assert sentences["lifecycle"] == (
        "1 customers are at risk at the period end; 1 of them were active or loyal at the "
        "previous period end."
    )


def two_groups(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "recency_days": np.r_[rng.integers(1, 20, n), rng.integers(200, 400, n)],
            "frequency": np.r_[rng.integers(8, 15, n), rng.integers(1, 3, n)],
            "monetary": np.r_[rng.uniform(1000, 2000, n), rng.uniform(10, 50, n)],
        },
        index=[f"c{i}" for i in range(2 * n)],
    )


def test_clusters_are_described_in_words():
    features = two_groups()
    result = sg.cluster_customers(features, k_range=range(2, 5))
    descriptions = report.describe_clusters(result.profiles, features)
    assert "frequent" in descriptions[0] and "rare" in descriptions[1]


def test_describe_clusters_by_hand():
    features = pd.DataFrame(
        {
            "frequency": [2.0, 2.0, 2.0, 2.0],
            "recency_days": [10.0, 10.0, 10.0, 10.0],
            "channel_store": [0.5, 0.5, 0.5, 0.5],
        }
    )
    profiles = pd.DataFrame(
        {
            "customers": [1, 2, 1],
            "frequency": [3.0, 2.0, 1.0],
            "recency_days": [10.0, 10.0, 30.0],
            "channel_store": [0.9, 0.5, 0.1],
        },
        index=pd.Index([0, 1, 2], name="cluster"),
    )
    assert report.describe_clusters(profiles, features) == {
        0: "frequent, mostly store",
        1: "typical",
        2: "rare, lapsed",
    }


def test_cluster_table_names_the_main_channel():
    features = two_groups(100)
    features["channel_store"] = np.r_[np.full(100, 0.8), np.full(100, 0.3)]
    features["channel_online"] = 1 - features["channel_store"]
    result = sg.cluster_customers(features, k_range=range(2, 3))
    analysis = sg.SegmentationAnalysis(
        n_customers=200,
        geographic={},
        demographic={},
        rfm=pd.DataFrame(),
        segments=pd.DataFrame(),
        features=features,
        clustering=result,
        psychographic=pd.DataFrame(),
        monetary=features["monetary"],
        top20_share=0.5,
        lifecycle=pd.Series(dtype=str),
        transitions=pd.DataFrame(),
    )
    table = report.cluster_table(analysis)
    assert table["main channel"].tolist() == ["store 80%", "online 70%"]
    assert table.columns[:3].tolist() == ["cluster", "customers", "description"]
    assert not any(c.startswith("channel_") for c in table.columns)


def test_actions_table_defaults_and_overrides():
    segments = pd.DataFrame({"segment": ["Champions", "At Risk"], "customers": [5, 7]})
    table = report.actions_table(segments, {"At Risk": "Call them this week"})
    assert table["suggested action"].tolist() == [
        report.DEFAULT_ACTIONS["Champions"],
        "Call them this week",
    ]
    assert set(report.DEFAULT_ACTIONS) == set(sg.SEGMENT_ORDER)
