"""The health score's words say what its numbers say; results keys; flags; alerts view."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_risk import AUC
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.metrics.health_alerts import alerts
from crmkit.metrics.health_score import COMPONENTS, HealthSettings, health_bands, health_scores
from crmkit.metrics.health_score import score_change as change_of
from crmkit.metrics.health_validation import HealthScoreAnalysis, validate
from crmkit.metrics.stats import Change, two_proportion_test
from crmkit.present.format import pseudonym
from crmkit.present.language import language
from crmkit.topics import health_score as report

Q3 = parse_period("2026-Q3")


def _flat(scores, prefix="c"):
    frame = pd.DataFrame({"customer_id": [f"{prefix}{k}" for k in range(len(scores))]})
    for name in COMPONENTS:
        frame[name] = np.asarray(scores, dtype=float)
    return health_scores(frame)


def build(now, before, churned, *, clv=None, definition=None):
    """The part as health_score_analysis assembles it, from scored frames."""
    bands, previous = health_bands(now), health_bands(before)
    test = two_proportion_test(
        int(bands["customers"].iloc[0]), int(bands["customers"].sum()),
        int(previous["customers"].iloc[0]), int(previous["customers"].sum()),
    )  # fmt: skip
    return HealthScoreAnalysis(
        period=Q3,
        settings=HealthSettings(),
        scores=now,
        previous_scores=before,
        change=change_of(now, before),
        bands=bands,
        previous_bands=previous,
        red_share_change=Change(test.delta, test.low, test.high, test.p_value),
        validation=validate(before, churned),
        alerts=alerts(now, before, clv=clv),
        definition=definition,
    )


def analysis(*, predictive=True, red_now=10, definition=None):
    """40 customers scored before: 10 red (score 20), 10 amber (60), 20 green (90); 12 churn:
    predictive — 8 red, 3 amber, 1 green; not — 1 red, 3 amber, 8 green. Now: ``red_now`` of
    40 red, the rest green."""
    before = _flat([20] * 10 + [60] * 10 + [90] * 20)
    gone = [*range(8), 10, 11, 12, 20] if predictive else [0, 10, 11, 12, *range(20, 28)]
    churned = {f"c{k}" for k in gone}
    now = _flat([20] * red_now + [90] * (40 - red_now))
    clv = pd.Series({"c39": 900.0, "c0": 1.0})
    return build(now, before, churned, clv=clv, definition=definition)


def test_intro_says_higher_is_healthier_and_lists_weights():
    with language("en"):
        text = report.intro_sentence(analysis())
    assert "0 to 100; higher is healthier" in text
    assert "purchasing rhythm (20)" in text and "below 25 points is amber at best" in text
    with language("zh"):
        assert "分数越高，客户关系越健康" in report.intro_sentence(analysis())


def test_summary_and_change_carry_the_numbers():
    a = analysis(red_now=30)
    with language("en"):
        summary = report.summary_sentence(a)
        change = report.change_sentence(a)
    # now: 30 red at 20, 10 green at 90 → mean 37.5
    assert "40 active customers scored a mean of 37.5: 75.0% red, 0.0% amber and 25.0% green" in (
        summary
    )
    # 40 scored at both: mean change (30×20 + 10×90)/40 − (10×20 + 10×60 + 20×90)/40 = −27.5;
    # c10..c29 were amber or green and are red now: 20 turned red, none left red
    assert "Of the 40 customers scored at both Jun 30, 2026 and Sep 30, 2026, 20 turned red " in (
        change
    )
    assert "and 0 left red; they moved −27.5 points on average." in change
    assert "25.0% were red at Jun 30, 2026 and 75.0% at Sep 30, 2026 (a significant" in change


def _scored(rows):
    """(id, score) rows scored with every component at the score."""
    frame = pd.DataFrame({"customer_id": [r[0] for r in rows]})
    for name in COMPONENTS:
        frame[name] = [float(r[1]) for r in rows]
    return health_scores(frame)


def test_change_counts_moves_among_those_scored_at_both():
    """Different populations at the two dates: the moves are counted over the three customers
    scored at both; the red shares over all scored at each date."""
    before = _scored([("a", 30), ("b", 20), ("c", 90), ("d", 60)])  # red 2 of 4
    now = _scored([("a", 80), ("b", 40), ("c", 10), ("e", 5), ("f", 45)])  # red 4 of 5
    a = build(now, before, set())
    assert (a.turned_red, a.left_red) == (1, 1)  # c turned red, a left red; b stayed red
    with language("en"):
        text = report.change_sentence(a)
    # (80 − 30 + 40 − 20 + 10 − 90) / 3 = −10 / 3
    assert (
        "Of the 3 customers scored at both Jun 30, 2026 and Sep 30, 2026, 1 turned red and 1 "
        in (text)
    )
    assert "left red; they moved −3.3 points on average." in text
    assert "Of all customers scored at each date, 50.0% were red at Jun 30, 2026 and 80.0% at" in (
        text
    )
    with language("zh"):
        zh = report.change_sentence(a)
    assert "均有评分的 3 位客户中，1 位转为红色，1 位脱离红色；平均变化 −3.3 分。" in zh
    assert "按各时点全部评分客户计，红色客户占比" in zh


def test_verdict_says_plainly_when_the_score_does_not_predict():
    with language("en"):
        good = report.verdict_sentence(analysis())
        bad = report.verdict_sentence(analysis(predictive=False))
    assert good.startswith("The score predicts churn well: customers who scored lower at Jun 30")
    assert "of the time" not in good and "(AUC " in good
    assert "Churn falls from red to amber to green: red 80.0%, amber 30.0%, green 5.0%." in good
    assert bad.startswith("The health score does not predict churn")
    assert "Do not act on the colours" in bad
    assert (
        "Churn does not fall from red to amber to green (red 10.0%, amber 30.0%, green 40.0%)"
        in (bad)
    )
    with language("zh"):
        assert report.verdict_sentence(analysis(predictive=False)).startswith(
            "健康度评分无法预测流失"
        )


def test_verdict_says_when_churn_is_inferred_from_silence():
    note = "Churn here is inferred from days without an order"
    inactivity = ChurnDefinition("inactivity", 90, "parameter")
    with language("en"):
        assert note not in report.verdict_sentence(analysis())
        assert note in report.verdict_sentence(analysis(), inferred_churn=True)
        assert note in report.verdict_sentence(analysis(definition=inactivity))
        events = analysis(definition=ChurnDefinition("events", None, "events"))
        assert note not in report.verdict_sentence(events)
        # the argument wins over the definition
        assert note not in report.verdict_sentence(
            analysis(definition=inactivity), inferred_churn=False
        )
    with language("zh"):
        assert report.verdict_sentence(analysis(), inferred_churn=True).endswith(
            "因此购买节奏对流失的预测部分源于口径本身。"
        )


def _with_suggested(a, *, auc, basis="previous", weights=None):
    weights = weights or {"engagement": 60, "value": 0, "sentiment": 0, "service": 0,
                          "purchasing": 40}  # fmt: skip
    v = replace(
        a.validation,
        suggested_weights=weights,
        suggested_basis=basis,
        suggested_auc=AUC(auc, auc - 0.05, auc + 0.05, 0.02),
    )
    return replace(a, validation=v)


def test_suggested_weights_are_advised_only_when_they_rank_better():
    a = analysis()
    configured = a.validation.auc.value
    with language("en"):
        worse = report.suggested_sentence(_with_suggested(a, auc=0.52))
        same = report.suggested_sentence(_with_suggested(a, auc=configured))
        better = report.suggested_sentence(_with_suggested(a, auc=0.99))
        in_sample = report.suggested_sentence(_with_suggested(a, auc=0.99, basis="this_period"))
        untested = report.suggested_sentence(_with_suggested(a, auc=float("nan")))
        methods = " ".join(report.methods(_with_suggested(a, auc=0.52)))
    assert worse == (
        "Weights fitted on last period's churn would have ranked this period's leavers less "
        f"well (AUC 52.0% against {configured:.1%}): keep the configured weights."
    )
    assert "no better" in same and same.endswith("keep the configured weights.")
    assert better.endswith("consider switching to engagement (60) and purchasing rhythm (40).")
    assert "fitted on the same customers" in in_sample and "consider" not in in_sample
    assert untested.endswith("keep the configured weights.")
    for text in (worse, same, better, in_sample, untested):
        assert "L1" not in text and "out of sample" not in text and "logistic" not in text
    assert "L1-penalised logistic" in methods and "(out of sample)" in methods
    with language("zh"):
        zh = report.suggested_sentence(_with_suggested(a, auc=0.52))
    assert zh.startswith("按上期流失情况拟合的权重对本期流失客户的识别效果更差（AUC 52.0%")
    assert zh.endswith("请保留设定权重。")


def test_gaps_name_the_component_that_told_the_leavers_apart():
    """12 leavers with engagement 30 and purchasing 0, 28 stayers with engagement 80 and
    purchasing 100; value the same for both; 2 leavers and 8 stayers have no engagement."""
    frame = pd.DataFrame({"customer_id": [f"c{k}" for k in range(40)]})
    gone = np.arange(40) < 12
    frame["engagement"] = np.where(gone, 30.0, 80.0)
    frame.loc[[0, 1, *range(12, 20)], "engagement"] = np.nan
    frame["value"] = 50.0
    frame["sentiment"] = frame["service"] = np.nan
    frame["purchasing"] = np.where(gone, 0.0, 100.0)
    before = health_scores(frame)
    a = build(before, before, set(frame["customer_id"][gone]))
    gaps = a.validation.component_gaps.set_index("component")
    assert gaps.loc["engagement", "customers_with_data"] == 30
    assert gaps.loc["engagement", "left_with_data"] == 10
    assert gaps.loc["engagement", ["mean_points_left", "mean_points_stayed", "gap"]].tolist() == [
        30.0, 80.0, 50.0
    ]  # fmt: skip
    assert gaps.loc["purchasing", "gap"] == 100.0 and gaps.loc["value", "gap"] == 0.0
    assert gaps.loc["sentiment", "customers_with_data"] == 0
    with language("en"):
        plain = report.gaps_sentence(a)
        inferred = report.gaps_sentence(a, inferred_churn=True)
        view = report.gaps_view(a)
    assert plain == (
        "Those who left this period had already fallen behind their purchase rhythm: their "
        "purchasing rhythm scored 0 points on average at Jun 30, 2026, against 100 for those "
        "who stayed."
    )
    assert inferred.startswith(
        "Those who left this period had already gone quiet: their engagement scored 30 points "
        "on average at Jun 30, 2026, against 80 for those who stayed."
    )
    assert inferred.endswith("churn here is inferred from days without an order.")
    assert view.columns.tolist() == ["health_component", "health_customers_with_data",
                                     "health_points_left", "health_points_stayed"]  # fmt: skip
    row = view.set_index("health_component").loc["engagement"]
    assert row.tolist() == [30, "30.0", "80.0"]
    with language("zh"):
        zh = report.gaps_sentence(a, inferred_churn=True)
    assert zh.startswith("本期流失的客户此前已明显减少互动：2026年6月30日其互动活跃度平均 30 分")
    # a small gap is not called a warning sign; too few churns: no comparison
    frame["engagement"] = np.where(gone, 75.0, 80.0)
    frame["purchasing"] = 50.0
    small = health_scores(frame)
    with language("en"):
        text = report.gaps_sentence(build(small, small, set(frame["customer_id"][gone])))
        few = report.gaps_sentence(build(small, small, {"c0"}))
    assert text.startswith("Those who left this period looked much like those who stayed")
    assert "in engagement, was 75 points against 80" in text
    assert few.startswith("Too few customers left")


def test_results_part_keys_and_values():
    a = analysis()
    results = report.results_part(a)
    assert set(results) == {
        "health_bands",
        "mean_health",
        "health_auc",
        "health_auc_ci",
        "churn_by_band",
        "suggested_weights",
        "alerts",
    }
    assert results["health_bands"] == {"red": 0.25, "amber": 0.0, "green": 0.75}
    assert results["mean_health"] == pytest.approx((10 * 20 + 30 * 90) / 40)
    assert results["churn_by_band"] == pytest.approx({"red": 0.8, "amber": 0.3, "green": 0.05})
    # every churned one scored below or tied with the kept: P(kept > churned) with ties half
    kept = np.array([20] * 2 + [60] * 7 + [90] * 19)
    gone = np.array([20] * 8 + [60] * 3 + [90] * 1)
    expected = ((kept[:, None] > gone) + 0.5 * (kept[:, None] == gone)).mean()
    assert results["health_auc"] == pytest.approx(expected)
    assert len(results["health_auc_ci"]) == 2
    assert results["alerts"] == len(a.alerts)


def test_flags():
    keys = [f.key for f in report.score_flags(analysis(predictive=False, red_now=30))]
    assert keys == ["health_not_predictive", "red_share_rising"]
    assert report.score_flags(analysis(predictive=True, red_now=10)) == []
    assert report.score_flags(analysis(red_now=2)) == []  # red fell: good news, not this flag
    flag = report.score_flags(analysis(predictive=False))[0]
    assert flag.message["en"].startswith("The health score does not predict churn (AUC")
    assert flag.message["zh"].startswith("健康度评分无法预测流失")


def test_alerts_view_shows_pseudonyms_and_actions():
    a = analysis(red_now=30)  # c10..c29 were amber or green before, red now: turned red
    with language("en"):
        view = report.alerts_view(a, unit="east", top=None)
    assert "c10" not in view["customer_pseudonym"].tolist()
    assert pseudonym("c10", salt="east") in view["customer_pseudonym"].tolist()
    turned = view.loc[view["alert_reason"].str.startswith("turned red")]
    assert len(turned) == 20
    assert set(turned["suggested_action"]) == {"A retention call within a week"}
    assert not view["suggested_action"].str.contains("in-back").any()
    custom = report.alerts_view(a, unit="east", overrides={"turned_red": "Visit them."})
    assert set(custom["suggested_action"]) == {"Visit them"}
    with language("zh"):
        zh = report.alerts_view(a, unit="east", top=None)
    assert set(zh.loc[zh["alert_reason"] == "转为红色", "suggested_action"]) == {"一周内电话挽留"}


def test_alerts_view_lists_the_most_urgent_with_every_action():
    """a: high value and red with a complaint; b: turned red (score 10); c: turned red (30);
    d: complained (score 5); the view: high value first, then the lowest score."""
    before = _scored([("a", 40), ("b", 70), ("c", 70), ("e", 90)])  # d not scored then
    now = _scored([("a", 40), ("b", 10), ("c", 30), ("d", 5), ("e", 95)])
    now["days_since_complaint"] = [3.0, np.nan, np.nan, 10.0, np.nan]
    clv = pd.Series({"a": 1000.0, "b": 1.0, "c": 1.0, "d": 1.0, "e": 1.0})
    a = build(now, before, set(), clv=clv)
    assert a.alerts["customer_id"].tolist() == ["a", "d", "b", "c"]
    with language("en"):
        view = report.alerts_view(a, unit="east", top=3)
        listed = report.alerts_listed_sentence(a, 3)
        every = report.alerts_listed_sentence(a, None)
    assert view["customer_pseudonym"].tolist() == [pseudonym(c, salt="east") for c in "adb"]
    assert view["suggested_action"].tolist() == [
        "Personal service by the account manager; close the complaint and follow up",
        "Close the complaint and follow up",
        "A retention call within a week",
    ]
    assert listed == "The 3 most urgent of 4 are listed: high value first, then the lowest score."
    assert every == "All 4 are listed: high value first, then the lowest score."
    custom = report.alerts_view(a, unit="east", overrides={"complained_recently": "VIP desk."})
    assert custom["suggested_action"].iloc[0] == (
        "Personal service by the account manager; VIP desk"
    )
    with language("zh"):
        zh = report.alerts_view(a, unit="east", top=1)
        assert report.alerts_listed_sentence(a, 3) == (
            "下表列出 4 位中最紧急的 3 位：高价值客户优先，其余按评分由低到高。"
        )
    assert zh["suggested_action"].iloc[0] == "由客户经理提供一对一专属服务；尽快办结投诉并回访"
    assert report.alerts_listed_sentence(build(before, before, set()), 20) == ""


def test_treatments_refuse_unknown_reasons():
    with pytest.raises(ParameterError, match=r"health_treatments names unknown reason\(s\)"):
        report.treatments({"angry": "calm them"})


def test_weights_and_band_views():
    a = analysis()
    with language("en"):
        weights = report.weights_view(a)
        bands = report.churn_band_view(a)
    assert weights["configured_weight"].tolist() == ["20", "15", "20", "25", "20"]
    assert weights["health_component"].tolist()[0] == "engagement"
    assert bands["band_churn_rate"].tolist() == ["80.0%", "30.0%", "5.0%"]
    assert bands["churned_customers"].tolist() == [8, 3, 1]


def test_methods_follow_the_settings():
    a = analysis()
    with language("en"):
        text = report.methods(a)
    assert "red below 50, green from 75" in text[0] and len(text) == 4
    assert "What told the leavers apart" in text[1]
