"""The segmentation report's words, views and results on small frames."""

from dataclasses import replace

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
    assert notes == [
        "Clustering skipped: 3 customers have bought, and clustering needs at least 35.",
        "Psychographic section skipped: no `psy_*` attribute columns on customers.",
        "No `churn_events` table: a customer counts as churned after 365 days without an order.",
    ]
    sentences = report.section_findings(analysis)
    assert sentences["clusters"] == (
        "Skipped: 3 customers have bought, and clustering needs at least 35."
    )
    assert sentences["psychographic"] == "Skipped: no `psy_*` attribute columns on customers."
    # region is there, city is not: the section runs and names what it lacks
    assert sentences["geographic"] == (
        "By region, revenue per customer this period ranges from 0 (West) to 50 (East). "
        "No `city` on customers, so there is no breakdown by `city`."
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
    assert report.key_findings(analysis)[-3:] == notes
    assert report.cluster_table(analysis).empty


def test_sections_without_attributes_are_named(orders, people):
    bare = people[["customer_id", "signup_date"]]
    analysis = sg.analyse(bare, orders, period=parse_period("2026-Q3"))
    assert report.notes(analysis)[:2] == [
        "Geographic section skipped: no `region` or `city` on customers.",
        "Demographic section skipped: no `age`, `gender`, `income_band`, `occupation` or "
        "`industry` on customers.",
    ]
    sentences = report.section_findings(analysis)
    # b: last order 1 March, active on 30 June (121 days), at risk on 30 September (213)
    assert sentences["geographic"] == "Skipped: no `region` or `city` on customers."
    assert sentences["demographic"] == (
        "Skipped: no `age`, `gender`, `income_band`, `occupation` or `industry` on customers."
    )
    assert sentences["lifecycle"] == (
        "1 customer is at risk at the period end; 1 of them was active or loyal at the "
        "previous period end. No `churn_events` table: a customer counts as churned after 365 "
        "days without an order."
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


def test_clusters_psychographic_and_contacts_notes(orders, people):
    features = two_groups(50)
    clustering = sg.cluster_customers(features, k_range=range(2, 3))
    analysis = sg.analyse(
        people.assign(psy_price=[1, 2, 3, 4]), orders, period=parse_period("2026-Q3")
    )
    # psy_* columns are there, but they are profiled per cluster and there are none
    assert report.psychographic_note(analysis) == (
        "Skipped: the `psy_*` attributes are profiled per behavioural cluster, and there are "
        "no clusters."
    )
    assert report.contacts_note(analysis) == ""  # no clusters to leave contacts out of
    clustered = replace(analysis, clustering=clustering, features=features)
    assert report.contacts_note(clustered) == (
        "Contacts are not among the clustered features: no `interactions` table."
    )
    assert report.section_findings(clustered)["clusters"].endswith(
        "Contacts are not among the clustered features: no `interactions` table."
    )
    alike = replace(analysis, clustering_skipped="too_alike")
    assert report.clusters_note(alike) == (
        "Skipped: the 3 buying customers behave too much alike to split into groups."
    )
    assert report.notes(alike)[0] == (
        "Clustering skipped: the 3 buying customers behave too much alike to split into groups."
    )


def test_churn_inferred_from_inactivity_is_said(orders, people):
    rules = {"churn_days": 200}
    analysis = sg.analyse(people, orders, period=parse_period("2026-Q3"), lifecycle_rules=rules)
    assert report.churn_note(analysis) == (
        "No `churn_events` table: a customer counts as churned after 200 days without an order."
    )
    churn = pd.DataFrame({"customer_id": ["b"], "churned_at": pd.to_datetime(["2026-08-01"])})
    observed = sg.analyse(people, orders, period=parse_period("2026-Q3"), churn_events=churn)
    assert report.churn_note(observed) == ""
    assert "churn_events" not in report.section_findings(observed)["lifecycle"]


def test_one_value_and_changes_in_words(orders, people):
    analysis = sg.analyse(people.assign(region="East"), orders, period=parse_period("2026-Q3"))
    # Q3 revenue: a 50, c 20 + 30; 100 over the 4 customers
    assert report.section_findings(analysis)["geographic"] == (
        "Every customer has the same region (East): 25 revenue per customer this period. "
        "No `city` on customers, so there is no breakdown by `city`."
    )

    def risky(change: int) -> str:
        segments = analysis.segments.assign(change=0)
        segments.loc[segments["segment"] == "At Risk", "change"] = change
        found = report.key_findings(replace(analysis, segments=segments))
        return next(f for f in found if "At Risk" in f)

    assert risky(0) == (
        "As many customers at risk or about to be lost (At Risk, Can't Lose Them) as at the "
        "previous period end."
    )
    assert risky(1).startswith("1 more customer at risk")
    assert risky(-2).startswith("2 fewer customers at risk")


def test_a_period_without_orders_is_said_so(orders, people):
    analysis = sg.analyse(people, orders, period=parse_period("2026-04"))  # no April orders
    assert analysis.orders_in_period == 0
    assert (
        "No orders this period, so the profiles show no revenue; segments, clusters and "
        "lifecycle stages use the history to the period end." in report.key_findings(analysis)
    )
    assert report.section_findings(analysis)["geographic"] == (
        "No orders this period, so no revenue by region. No `city` on customers, so there is "
        "no breakdown by `city`."
    )
