"""The health score's words say what its numbers say; results keys; flags; alerts view."""

import numpy as np
import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
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


def analysis(*, predictive=True, red_now=10):
    """40 customers scored before: 10 red (score 20), 10 amber (60), 20 green (90); 12 churn:
    predictive — 8 red, 3 amber, 1 green; not — 1 red, 3 amber, 8 green. Now: ``red_now`` of
    40 red, the rest green."""
    before = _flat([20] * 10 + [60] * 10 + [90] * 20)
    gone = [*range(8), 10, 11, 12, 20] if predictive else [0, 10, 11, 12, *range(20, 28)]
    churned = {f"c{k}" for k in gone}
    now = _flat([20] * red_now + [90] * (40 - red_now))
    bands, previous = health_bands(now), health_bands(before)
    test = two_proportion_test(red_now, 40, 10, 40)
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
        alerts=alerts(now, before, clv=pd.Series({"c39": 900.0, "c0": 1.0})),
    )


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
    # 40 scored at both: mean change (30×20 + 10×90)/40 − (10×20 + 10×60 + 20×90)/40 = −27.5
    assert "moved −27.5 points" in change and "from 25.0% to 75.0%" in change
    assert "a significant change" in change


def test_verdict_says_plainly_when_the_score_does_not_predict():
    with language("en"):
        good = report.verdict_sentence(analysis())
        bad = report.verdict_sentence(analysis(predictive=False))
    assert good.startswith("The score predicts churn")
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
    assert set(turned["suggested_action"]) == {"Win-back call within a week."}
    custom = report.alerts_view(a, unit="east", overrides={"turned_red": "Visit them."})
    assert set(custom["suggested_action"]) == {"Visit them."}


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
