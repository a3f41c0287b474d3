"""The segmentation report's words, views, flags and results on small frames, in English and
in Chinese."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import segment_orders, segment_people
from language_check import chinese_words, english_words
from scipy.stats import binomtest

from crmkit.core.periods import parse_period
from crmkit.metrics import lifecycle, segment_changes
from crmkit.metrics import segmentation as sg
from crmkit.present.language import glossary, is_term, language, term, words
from crmkit.topics import segmentation as report
from crmkit.topics import segmentation_names as naming
from crmkit.topics import segmentation_tables as tables
from crmkit.topics.registry import TOPICS

Q3 = parse_period("2026-Q3")


@pytest.fixture
def orders() -> pd.DataFrame:
    return segment_orders()


@pytest.fixture
def people() -> pd.DataFrame:
    return segment_people()


@pytest.fixture(autouse=True)
def _english():
    with language("en"):
        yield


def slipping() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ten customers, counted by hand, where four go from At Risk to Hibernating in Q3.

    top (t1, t2): 5 orders in June and 5 in September: R5 F5 at both ends.
    lapsed (a1-a4): 4 orders in January 2025, none since. On 30 June their 4 orders rank
    6.5th of 10 (F4) and their recency last (R2): At Risk. On 30 September the busy four
    have 7 orders each, so the lapsed four rank last on both (F2, R2): Hibernating.
    busy (b1-b4): 1 order in May; 6 more in Q3.
    """
    rows = []
    for c in ("t1", "t2"):
        rows += [(c, f"2026-06-{d:02d}", 100.0) for d in range(1, 6)]
        rows += [(c, f"2026-09-{d:02d}", 100.0) for d in range(1, 6)]
    for c in ("a1", "a2", "a3", "a4"):
        rows += [(c, f"2025-01-{d:02d}", 50.0) for d in range(1, 5)]
    for c in ("b1", "b2", "b3", "b4"):
        rows += [(c, "2026-05-10", 20.0)] + [(c, f"2026-08-{d:02d}", 20.0) for d in range(1, 7)]
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    people = pd.DataFrame(
        {
            "customer_id": ["t1", "t2", "a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"],
            "signup_date": pd.Timestamp("2024-12-01"),
        }
    )
    return people, orders


# --------------------------------------------------------------- one meaning of "at risk"


def test_at_risk_into_hibernating_reads_as_a_worsening():
    people, orders = slipping()
    analysis = sg.analyse(people, orders, period=Q3)
    segments = analysis.segments.set_index("segment")
    # the trap of the issue: At Risk fell by four, because all four went to Hibernating
    assert segments.loc["at_risk", ["previous_customers", "customers"]].tolist() == [4, 0]
    assert segments.loc["hibernating", ["previous_customers", "customers"]].tolist() == [0, 4]
    assert analysis.movement.worse == 4 and analysis.movement.better == 0
    assert analysis.movement.scored_before == 10
    found = report.key_findings(analysis)
    assert (
        "4 customers (40.0% of those segmented at the previous period end) slipped into a "
        "worse RFM segment — At Risk, Can't Lose Them or Hibernating — and 0 customers came "
        "back out."
    ) in found
    assert "The largest move: 4 from At Risk to Hibernating." in found
    assert not any("fewer" in f for f in found)
    # and it is raised as bad news: 40% is past the 12% alert level
    (alert,) = [f for f in report.flags(analysis) if f.key == "moved_to_worse_segments"]
    assert alert.bad and alert.kind == "alert"
    assert alert.strength == pytest.approx((0.4 - 0.12) / 0.12)
    assert alert.section["en"] == words("segmentation.rfm_heading")
    with language("zh"):
        zh = report.key_findings(analysis)
    assert "4 位客户（占上期末已分群客户的 40.0%）滑入更差的 RFM 分群" in zh[2]
    assert "最大的一股流向：4 位由重要挽留客户转为沉睡客户。" in zh


def test_rfm_and_lifecycle_never_share_a_name():
    names = {code: {key: t.names[code] for key, t in glossary().items()} for code in ("en", "zh")}
    for code, by_key in names.items():
        segments = {by_key[f"rfm_{s}"] for s in sg.SEGMENT_ORDER}
        stages = {by_key[f"stage_{s}"] for s in lifecycle.LIFECYCLE_STAGES}
        tiers = {by_key[f"tier_{t}"] for t in ("high", "middle", "low")}
        assert len(segments) == 10 and len(stages) == 6 and len(tiers) == 3
        assert not segments & stages and not segments & tiers and not stages & tiers, code
        # a glossary name is never two figures' name
        assert len(set(by_key.values())) == len(by_key), code
    assert (names["en"]["rfm_at_risk"], names["en"]["stage_lapsing"]) == ("At Risk", "lapsing")
    assert (names["zh"]["rfm_at_risk"], names["zh"]["stage_lapsing"]) == (
        "重要挽留客户",
        "流失预警客户",
    )


def test_every_sentence_has_both_languages_with_the_same_placeholders():
    from crmkit.present.language import catalogues, placeholders

    catalogue = catalogues()["segmentation"]
    for key, entry in catalogue["text"].items():
        assert set(entry) == {"en", "zh"}, key
        assert entry["zh"] and entry["en"], key
        assert placeholders(entry["en"]) == placeholders(entry["zh"]), key
    for key, entry in catalogue["terms"].items():
        assert entry["en"]["name"] and entry["zh"]["name"] and entry["zh"]["definition"], key


def test_flag_actions_name_the_segments_they_mean():
    for code in ("en", "zh"):
        with language(code):
            action = words("segmentation.action_moves")
            assert segment_name("at_risk") in action and segment_name("cant_lose") in action
            assert stage_name("lapsing") in words("segmentation.action_buying_fell")
            assert segment_name("new") in words("segmentation.action_buying_rose")


def segment_name(code: str) -> str:
    return naming.segment_name(code)


def stage_name(code: str) -> str:
    return naming.stage_name(code)


# ----------------------------------------------------------------------------- this period


def test_buying_customers_and_period_revenue_by_hand():
    people, orders = slipping()
    analysis = sg.analyse(people, orders, period=Q3)
    # Q3 buyers: t1, t2, b1-b4; Q2 buyers: t1, t2 (June), b1-b4 (May)
    assert (analysis.buying_customers, analysis.previous_buying_customers) == (6, 6)
    # Q3: t 2 × 500 + b 4 × 6 × 20 = 1,480; Q2: t 2 × 500 + b 4 × 20 = 1,080
    assert analysis.period_revenue == 1480.0 and analysis.previous_period_revenue == 1080.0
    results = report.results(analysis)
    assert results["buying_customers"] == 6 and results["period_revenue"] == 1480.0
    assert results["buying_customers_change"] == {
        "delta": 0.0,
        "ci": [pytest.approx(-1.96 * 12**0.5, abs=0.01), pytest.approx(1.96 * 12**0.5, abs=0.01)],
        "p_value": pytest.approx(1.0),
    }
    # revenue: spend per customer on record (zeros included), sum of n·variance
    now = np.array([500.0, 500, 0, 0, 0, 0, 120, 120, 120, 120])
    before = np.array([500.0, 500, 0, 0, 0, 0, 20, 20, 20, 20])
    se = np.sqrt(10 * now.var(ddof=1) + 10 * before.var(ddof=1))
    change = results["period_revenue_change"]
    assert change["delta"] == pytest.approx(400.0)
    assert change["ci"] == [pytest.approx(400 - 1.959964 * se), pytest.approx(400 + 1.959964 * se)]
    from scipy.stats import norm

    assert change["p_value"] == pytest.approx(2 * norm.sf(400 / se))
    with language("en"):
        assert report.key_findings(analysis, currency="USD")[:2] == [
            "Buying customers: 6, as many as in the previous period (within normal variation, "
            "p = 1.000).",
            "Period revenue: $1,480, $400 more than in the previous period (+37.0%; within "
            "normal variation, p = 0.656).",
        ]
    assert change["p_value"] == pytest.approx(0.656, abs=5e-4)


def test_count_change_is_the_exact_poisson_test():
    change = segment_changes.count_change(30, 10)
    assert change.p_value == pytest.approx(binomtest(30, 40, 0.5).pvalue)
    # the same by hand: twice the upper tail of Binomial(40, 1/2) from 30
    from math import comb

    assert change.p_value == pytest.approx(2 * sum(comb(40, k) for k in range(30, 41)) / 2**40)
    assert (change.delta, change.low, change.high) == pytest.approx(
        (20, 20 - 1.959964 * 40**0.5, 20 + 1.959964 * 40**0.5)
    )
    assert segment_changes.count_change(0, 0).as_dict() == {
        "delta": 0.0,
        "ci": None,
        "p_value": None,
    }


def test_significant_changes_raise_flags_with_actions():
    people, orders = slipping()
    analysis = sg.analyse(people, orders, period=Q3)
    fell = replace(
        analysis,
        buying_customers=20,
        previous_buying_customers=60,
        buying_change=segment_changes.count_change(20, 60),
        revenue_change=segment_changes.Change(-5000.0, -8000.0, -2000.0, 0.002),
        period_revenue=5000.0,
        previous_period_revenue=10000.0,
    )
    raised = {f.key: f for f in report.flags(fell, currency="CNY")}
    assert set(raised) <= set(TOPICS["segmentation"].flags)
    assert set(raised) == {
        "buying_customers_change",
        "period_revenue_change",
        "moved_to_worse_segments",
    }
    buying = raised["buying_customers_change"]
    assert buying.bad and buying.p_value == pytest.approx(binomtest(20, 80, 0.5).pvalue)
    assert buying.message["en"] == "Buying customers fell from 60 to 20 (p < 0.001)."
    assert buying.message["zh"] == "购买客户数由 60 降至 20（p < 0.001）。"
    assert buying.action["en"] == "Contact the lapsing customers with a win-back offer."
    assert buying.action["zh"] == "对流失预警客户开展召回活动。"
    assert buying.section == {"en": "This period's buyers and revenue", "zh": "本期购买客户与收入"}
    revenue = raised["period_revenue_change"]
    assert revenue.message["zh"] == "本期收入由 ¥10,000 降至 ¥5,000（−50.0%，p = 0.002）。"
    assert revenue.bad
    # not significant: no flag
    calm = replace(analysis, buying_change=segment_changes.count_change(61, 60))
    assert "buying_customers_change" not in {f.key for f in report.flags(calm)}


def test_zh_findings_and_flags_are_chinese_and_en_english():
    people, orders = slipping()
    people = people.assign(region=["East", "East", "West", "West", "East"] * 2)
    analysis = sg.analyse(people, orders, period=Q3)
    analysis = replace(analysis, buying_change=segment_changes.count_change(20, 60))
    data = {"East", "West"}  # the data's own values
    with language("zh"):
        texts = report.key_findings(analysis, currency="CNY")
        texts += list(report.section_findings(analysis, currency="CNY").values())
        texts += [report.about(analysis), report.clusters_method(analysis)]
    flagged = report.flags(analysis, currency="CNY")
    assert len(flagged) == 2
    texts += [f.message["zh"] for f in flagged] + [f.action["zh"] for f in flagged]
    assert english_words(texts, data) == []
    with language("en"):
        english = report.key_findings(analysis, currency="USD")
        english += list(report.section_findings(analysis, currency="USD").values())
    english += [f.message["en"] for f in flagged] + [f.action["en"] for f in flagged]
    assert chinese_words(english) == []
    assert english_words(english, data)  # guards the check above: English is found


# ----------------------------------------------------------------------------- one name per figure


def test_every_table_header_is_a_glossary_name():
    people, orders = slipping()
    people = people.assign(region="East", age=30)
    analysis = sg.analyse(people, orders, period=Q3)
    views = [
        tables.period_table(analysis),
        *tables.profile_views(analysis.geographic).values(),
        *tables.profile_views(analysis.demographic).values(),
        tables.segments_table(analysis),
        tables.moves_table(analysis),
        tables.tiers_table(analysis),
        tables.lifecycle_counts(analysis),
        tables.actions_table(analysis.segments),
    ]
    for view in views:
        assert all(is_term(c) for c in view.columns), list(view.columns)
    # lifetime revenue in the RFM and tier tables, period revenue in the profiles
    assert "lifetime_revenue" in tables.segments_table(analysis).columns
    profile = tables.profile_table(analysis.geographic["region"], "region")
    assert {"period_revenue", "buying_customers", "customers"} <= set(profile.columns)
    assert "revenue" not in profile.columns
    assert term("lifetime_revenue") != term("period_revenue")
    assert term("customers") != term("buying_customers")


def test_key_figures_and_results_follow_the_registry():
    topic = TOPICS["segmentation"]
    assert [(k.key, k.label, k.change) for k in topic.key_figures] == [
        ("buying_customers", "buying_customers", "buying_customers_change"),
        ("period_revenue", "period_revenue", "period_revenue_change"),
    ]
    assert all(is_term(k.label) for k in topic.key_figures)
    alert = f"{report.WORSE_MOVES_ALERT:.0%}"  # the registry says the level the code uses
    assert f"more than {alert} of the customers" in topic.flags["moved_to_worse_segments"]
    people, orders = slipping()
    results = report.results(sg.analyse(people, orders, period=Q3))
    assert set(results) == set(topic.results)
    for figure in topic.key_figures:
        assert set(results[figure.change]) == {"delta", "ci", "p_value"}
    # stages and segments by their English glossary names, whatever the report's language
    assert set(results["lifecycle"]) == {
        "prospects", "new customers", "active", "repeat buyers", "lapsing", "churned"
    }  # fmt: skip
    assert "at risk" not in results["lifecycle"]
    assert set(results["rfm_segments"]) <= {
        "Champions", "Loyal", "Potential Loyalists", "First-time Buyers", "Promising",
        "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating",
    }  # fmt: skip


# --------------------------------------------------------------- sections, skipped and not


def test_analyse_small_unit_says_what_it_skipped(orders, people):
    analysis = sg.analyse(people, orders, period=Q3)
    notes = report.notes(analysis)
    assert notes == [
        "Grouping by behaviour skipped: grouping by behaviour needs at least 35 customers who "
        "have ever bought; there are 3.",
        "No `churn_events` table: a customer counts as churned after 180 days without an order.",
    ]
    sentences = report.section_findings(analysis)
    assert sentences["clusters"] == (
        "Skipped: grouping by behaviour needs at least 35 customers who have ever bought; "
        "there are 3."
    )
    assert sentences["psychographic"] == "Skipped: no `psy_*` attribute columns on customers."
    # region is there, city is not: the section runs and names what it lacks
    assert sentences["geographic"] == (
        "By region, period revenue per customer ranges from 0 (West) to 50 (East). "
        "No `city` on customers, so there is no breakdown by `city`."
    )
    counts = tables.lifecycle_counts(analysis).set_index("lifecycle_stage")["customers"]
    assert counts.to_dict() == {
        "prospects": 1,
        "new customers": 1,
        "active": 0,
        "repeat buyers": 1,
        "lapsing": 0,
        "churned": 1,  # b, silent 213 days: past the churn report's 180
    }
    results = report.results(analysis)
    assert set(results) == set(TOPICS["segmentation"].results)  # exactly the registry's keys
    assert results["n_clusters"] is None and results["n_customers"] == 4
    assert sum(results["rfm_segments"].values()) == 3
    assert report.key_findings(analysis)[-2:] == notes
    assert tables.cluster_table(analysis).empty
    with language("zh"):
        assert report.notes(analysis) == [
            "行为分组部分已跳过：按行为分组至少需要 35 位有购买记录的客户，目前仅 3 位。",
            "没有流失事件表：客户连续 180 天未下单即视为已流失。",
        ]
        assert report.section_findings(analysis)["geographic"] == (
            "按地区看，客均本期收入从 0（West）到 50（East）不等。"
            "客户资料中没有城市，因此不按城市细分。"
        )


def test_sections_without_attributes_are_named(orders, people):
    bare = people[["customer_id", "signup_date"]]
    analysis = sg.analyse(bare, orders, period=Q3, churn_inactivity_days=365)
    assert report.notes(analysis)[:2] == [
        "Geographic section skipped: no `region` or `city` on customers.",
        "Demographic section skipped: no `age`, `gender`, `income_band`, `occupation` or "
        "`industry` on customers.",
    ]
    sentences = report.section_findings(analysis)
    # b: last order 1 March, active on 30 June (121 days), lapsing on 30 September (213)
    assert sentences["geographic"] == "Skipped: no `region` or `city` on customers."
    assert sentences["demographic"] == (
        "Skipped: no `age`, `gender`, `income_band`, `occupation` or `industry` on customers."
    )
    assert sentences["lifecycle"] == (
        "Lapsing at the period end: 1 (0 at the previous period end), 1 of them active or "
        "repeat buyers at the previous period end. No `churn_events` table: a customer counts "
        "as churned after 365 days without an order."
    )
    with language("zh"):
        assert report.notes(analysis)[1] == (
            "人口属性部分已跳过：客户资料中没有年龄、性别、收入档次、职业或行业。"
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
    descriptions = naming.describe_clusters(result.profiles, features)
    assert "more orders" in descriptions[0] and "fewer orders" in descriptions[1]


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
    assert naming.describe_clusters(profiles, features) == {
        0: "more orders, mostly store",
        1: "typical",
        2: "fewer orders, longer since last order",
    }
    with language("zh"):
        assert naming.describe_clusters(profiles, features) == {
            0: "订单较多、以store为主",
            1: "无明显特征",
            2: "订单较少、较久未购买",
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
    table = tables.cluster_table(analysis)
    assert table["main_channel"].tolist() == ["store 80%", "online 70%"]
    assert table["behaviour_group"].tolist() == ["group\u00a01", "group\u00a02"]
    assert table.columns[:3].tolist() == ["behaviour_group", "customers", "group_traits"]
    assert all(is_term(c) for c in table.columns)
    assert not any(c.startswith("channel_") for c in table.columns)


def test_actions_table_defaults_and_overrides():
    segments = pd.DataFrame({"segment": ["champions", "at_risk", "hibernating"]})
    segments["customers"] = [5, 7, 2]
    overrides = {"At Risk": "Call them this week", "hibernating": "Let go"}
    table = tables.actions_table(segments, overrides)
    assert table["segment"].tolist() == ["Champions", "At Risk", "Hibernating"]
    assert table["suggested_action"].tolist() == [
        tables.default_action("champions"),
        "Call them this week",
        "Let go",
    ]
    with language("zh"):
        table = tables.actions_table(segments, {"重要挽留客户": "本周电话回访"})
        assert table["suggested_action"].tolist()[1] == "本周电话回访"
        assert (
            table["suggested_action"].tolist()[0]
            == "给予专属回馈：新品优先体验、邀请推荐、专属服务。"
        )


def test_clusters_psychographic_and_contacts_notes(orders, people):
    features = two_groups(50)
    clustering = sg.cluster_customers(features, k_range=range(2, 3))
    analysis = sg.analyse(people.assign(psy_price=[1, 2, 3, 4]), orders, period=Q3)
    # psy_* columns are there, but they are profiled per group and there are none
    assert report.psychographic_note(analysis) == (
        "Skipped: the `psy_*` attributes are profiled per behavioural group, and there are "
        "no groups."
    )
    assert report.contacts_note(analysis) == ""  # no groups to leave contacts out of
    clustered = replace(analysis, clustering=clustering, features=features)
    assert report.contacts_note(clustered) == (
        "Contacts are left out of the grouping: no `interactions` table."
    )
    assert report.section_findings(clustered)["clusters"].endswith(
        "Contacts are left out of the grouping: no `interactions` table."
    )
    assert report.clusters_method(clustered).startswith("k-means on log-transformed")
    assert "silhouette" not in " ".join(report.key_findings(clustered))
    alike = replace(analysis, clustering_skipped="too_alike")
    assert report.clusters_note(alike) == (
        "Skipped: the 3 customers who have bought behave too much alike to split into groups."
    )
    assert report.notes(alike)[0] == (
        "Grouping by behaviour skipped: the 3 customers who have bought behave too much alike "
        "to split into groups."
    )


def test_churn_inferred_from_inactivity_is_said(orders, people):
    analysis = sg.analyse(people, orders, period=Q3, churn_inactivity_days=200)
    assert report.churn_note(analysis) == (
        "No `churn_events` table: a customer counts as churned after 200 days without an order."
    )
    assert report.lifecycle_rules(analysis).endswith(
        "lapsing — last order more than 180 days ago, not yet churned; churned — no order (or, "
        "without one, since sign-up) for more than 200 days, the churn report's definition."
    )
    assert analysis.lifecycle["b"] == "churned"  # silent 213 days
    churn = pd.DataFrame({"customer_id": ["b"], "churned_at": pd.to_datetime(["2026-08-01"])})
    observed = sg.analyse(people, orders, period=Q3, churn_events=churn)
    assert report.churn_note(observed) == ""
    assert "churn_events" not in report.section_findings(observed)["lifecycle"]


def test_one_value_in_words(orders, people):
    analysis = sg.analyse(people.assign(region="East"), orders, period=Q3)
    # Q3 revenue: a 50, c 20 + 30; 100 over the 4 customers
    assert report.section_findings(analysis, currency="USD")["geographic"] == (
        "Every customer has the same region (East): $25 period revenue per customer. "
        "No `city` on customers, so there is no breakdown by `city`."
    )


def test_a_period_without_orders_is_said_so(orders, people):
    analysis = sg.analyse(people, orders, period=parse_period("2026-04"))  # no April orders
    assert analysis.orders_in_period == 0
    assert words("segmentation.kf_no_orders") in report.key_findings(analysis)
    assert report.section_findings(analysis)["geographic"] == (
        "No orders this period, so no period revenue by region. No `city` on customers, so "
        "there is no breakdown by `city`."
    )


def test_groups_age_bands_and_unknown_in_the_reports_language():
    assert [naming.group_value(v) for v in ["under 25", "25-34", "65+", "unknown", "East"]] == [
        "under 25",
        "25–34",
        "65+",
        "unknown",
        "East",
    ]
    with language("zh"):
        assert [naming.group_value(v) for v in ["under 25", "25-34", "65+", "unknown"]] == [
            "25 岁以下",
            "25–34 岁",
            "65 岁及以上",
            "未知",
        ]


def period_figures(name: str) -> sg.SegmentationAnalysis:
    """A sample unit's figures the flags read (moves, buying customers, period revenue),
    without the clustering the flags do not need."""
    from conftest import ROOT

    from crmkit.load.unit import load_unit

    unit = load_unit(name, data_source=ROOT / "sample_data", period="2026-Q3", as_of="2026-10-15")
    people, orders, period = unit["customers"], unit["transactions"], unit.period
    now = sg.rfm_scores(sg.rfm(orders, as_of=period.end))
    before = sg.rfm_scores(sg.rfm(orders, as_of=period.previous_end))
    moves = segment_changes.segment_moves(now, before)
    spend = segment_changes.period_spend(people, orders, period=period)
    spend_before = segment_changes.period_spend(people, orders, period=period.previous())
    buyers = segment_changes.buying_customers(orders, period=period)
    buyers_before = segment_changes.buying_customers(orders, period=period.previous())
    empty = pd.DataFrame()
    return sg.SegmentationAnalysis(
        n_customers=len(people),
        geographic={},
        demographic={},
        rfm=now,
        segments=sg.segment_summary(now, before),
        features=empty,
        clustering=None,
        psychographic=empty,
        monetary=now.set_index("customer_id")["monetary"],
        top20_share=sg.top_share(now["monetary"]),
        lifecycle=pd.Series(dtype=str),
        transitions=empty,
        moves=moves,
        movement=segment_changes.movement(moves, now, before),
        buying_customers=buyers,
        previous_buying_customers=buyers_before,
        buying_change=segment_changes.count_change(buyers, buyers_before),
        period_revenue=float(spend.sum()),
        previous_period_revenue=float(spend_before.sum()),
        revenue_change=segment_changes.total_change(spend, spend_before),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("unit", "expected"),
    [("north", set()), ("south", set()), ("east", {"moved_to_worse_segments"}), ("west", set())],
)
def test_sample_flags(unit, expected):
    """East's planted story (204 At Risk customers gone on to Hibernating) is raised; the
    other units' quarter moves within the ordinary drift, and no unit's buying customers or
    period revenue changed significantly (p > 0.2 in each)."""
    analysis = period_figures(unit)
    raised = report.flags(analysis, currency="CNY")
    assert {f.key for f in raised} == expected
    assert analysis.buying_change.p_value > 0.2 and analysis.revenue_change.p_value > 0.2
    if unit == "east":
        assert (analysis.movement.worse, analysis.movement.scored_before) == (359, 2033)
        worst = analysis.moves.loc[analysis.moves["direction"] == "worse"].iloc[0]
        assert (worst["previous_segment"], worst["segment"], worst["customers"]) == (
            "at_risk",
            "hibernating",
            204,
        )
    else:
        assert analysis.movement.worse_share < report.WORSE_MOVES_ALERT
