"""The churn drivers' and risk list's words (en and zh) say what the numbers say, name
drivers as associations, say plainly how the model was tested and when it is weak, show
customers only by pseudonym, and publish the registry's keys."""

import dataclasses
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from language_check import english_words

from crmkit.metrics.churn_risk import AUC, risk_analysis
from crmkit.present.format import pseudonym
from crmkit.present.language import language
from crmkit.topics import churn_drivers as report
from crmkit.topics.registry import TOPICS

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))
from test_churn_drivers import analyse, planted

KEYS = {
    "top_drivers",
    "model_auc",
    "model_auc_ci",
    "top_decile_lift",
    "at_risk_customers",
    "value_at_risk",
}


@pytest.fixture(scope="module")
def world():
    tables = planted(2000, seed=11)
    drivers = analyse(tables)
    return tables, drivers, risk_analysis(drivers, top=5)


def _coefficients() -> pd.DataFrame:
    rows = [
        ("complaints_90d", "complaints_90d", "number", None, 1.1, 0.14, "raises"),
        ("latest_nps", "latest_nps", "number", None, -0.3, -0.03, "lowers"),
        ("plan=pro", "plan", "category", "pro", 0.1, 0.01, "raises"),
        ("latest_nps:missing", "latest_nps", "missing", None, 0.05, 0.005, "raises"),
        ("region=(none)", "region", "category", "(none)", 0.01, 0.0004, "raises"),
        ("tickets_90d", "tickets_90d", "number", None, 0.0, 0.0, "none"),
    ]
    table = pd.DataFrame(
        rows,
        columns=["term", "feature", "kind", "level", "coefficient", "retention_impact",
                 "direction"],
    )  # fmt: skip
    return table.assign(permutation_importance=0.01, driver=table["coefficient"] != 0)


def _with(drivers, **evaluation):
    return dataclasses.replace(
        drivers,
        coefficients=_coefficients(),
        evaluation=dataclasses.replace(drivers.evaluation, **evaluation),
    )


def test_the_strongest_drivers_are_named_as_associations(world):
    _, drivers, _ = world
    fake = _with(drivers)
    assert report.drivers_sentence(fake) == (
        "Churn this period was most strongly associated with complaints in the last 90 days "
        "(higher, more churn), latest recommend score (higher, less churn) and plan: pro "
        "(more churn). These are associations, not proven causes."
    )
    with language("zh"):
        assert report.drivers_sentence(fake) == (
            "本期流失与以下因素关联最强：近90天投诉次数（越高越易流失）、最近一次推荐意愿评分"
            "（越高越不易流失）和plan：pro（流失较多）。这些是相关关系，并不证明因果。"
        )  # a column beyond the contract goes by its own name
    # a driver under a tenth of a point per SD is not named, and words name missing records
    assert report.driver_label(fake, "latest_nps:missing") == "never scored likelihood to recommend"
    assert report.driver_label(fake, "region=(none)") == "region: not recorded"


def test_the_planted_driver_leads_the_real_sentence_and_cohort(world):
    _, drivers, _ = world
    assert report.drivers_sentence(drivers).startswith(
        "Churn this period was most strongly associated with complaints in the last 90 days "
        "(higher, more churn)"
    )
    cohorts = drivers.cohorts.loc[drivers.cohorts["feature"] == "complaints_90d"]
    some, none = cohorts.iloc[1], cohorts.iloc[0]
    found = report.cohort_sentence(drivers)
    assert found.startswith("Customers whose complaints in the last 90 days was 1 or more churned")
    assert f"{100 * some['churn_rate']:.1f}%" in found
    assert found.endswith(f"against {100 * none['churn_rate']:.1f}% for those with the least.")


def test_the_model_sentence_says_how_it_was_tested_and_how_well(world):
    _, drivers, _ = world
    good = AUC(0.8234, 0.78, 0.8668, 0.02)
    backtest = _with(drivers, method="backtest", auc=good, top_decile_lift=3.14)
    assert report.model_sentence(backtest) == (
        "The churn model was trained on the previous period and tested on this one (a "
        "backtest): it tells customers who left from those who stayed well, with an AUC of "
        "0.82 (95% interval 0.78–0.87); the tenth of customers it scored riskiest churned 3.1 "
        "times as often as average."
    )
    fair = _with(drivers, method="cross-validation", auc=AUC(0.74, 0.7, 0.78, 0.02),
                 top_decile_lift=2.0)  # fmt: skip
    assert report.model_sentence(fair).startswith(
        "The history before this period holds too few churns to test the churn model on a "
        "later period, so it was cross-validated within this period"
    )
    assert "stayed fairly well, with an AUC of 0.74 (95% interval 0.70–0.78)" in (
        report.model_sentence(fair)
    )
    with language("zh"):
        assert "回测" in report.model_sentence(backtest)
        assert "交叉验证" in report.model_sentence(fair)


@pytest.mark.parametrize(
    ("auc", "weak"),
    [
        (AUC(0.58, 0.52, 0.64, 0.03), True),  # under 0.6
        (AUC(0.66, 0.48, 0.84, 0.09), True),  # its interval holds 0.5
        (AUC(0.66, 0.6, 0.72, 0.03), False),
    ],
)
def test_a_weak_model_is_said_to_be_weak(world, auc, weak):
    _, drivers, _ = world
    fake = _with(drivers, method="backtest", auc=auc, top_decile_lift=1.2)
    sentence = report.model_sentence(fake)
    assert fake.evaluation.weak is weak
    assert ("do not rely on its risk scores" in sentence) is weak
    assert sentence.startswith("The churn model was trained on the previous period")
    if weak:
        with language("zh"):
            assert "不宜作为依据" in report.model_sentence(fake)


def test_too_few_churns_said_plainly():
    drivers = analyse(planted(150, base=0.0, lift=0.05, seed=9))
    assert report.model_sentence(drivers) == (
        f"No churn model: only {drivers.churned} of the {drivers.customers} customers active "
        "at the start churned this period (at least 10 are needed)."
    )
    assert report.drivers_sentence(drivers).startswith(f"Only {drivers.churned} of the")
    risk = risk_analysis(drivers)
    assert report.value_at_risk_sentence(risk) == (
        "No customers are scored for risk: there is no churn model this period."
    )
    assert report.results_part(drivers, risk) == {
        "top_drivers": [],
        "model_auc": None,
        "model_auc_ci": None,
        "top_decile_lift": None,
        "at_risk_customers": 0,
        "value_at_risk": None,
    }


def test_no_churn_or_no_customers_is_said_without_only_0_of():
    drivers = analyse(planted(150, base=0.0, lift=0.05, seed=9))
    quiet = dataclasses.replace(drivers, churned=0)
    with language("en"):
        assert report.drivers_sentence(quiet) == (
            f"None of the {drivers.customers} customers active at the start churned this "
            "period, so no behaviour can be linked to churn."
        )
        assert report.model_sentence(quiet) == (
            f"No churn model: none of the {drivers.customers} customers active at the start "
            "churned this period."
        )
        empty = dataclasses.replace(drivers, churned=0, customers=0)
        assert report.drivers_sentence(empty).startswith("No customer was active at the start")
        assert report.model_sentence(empty) == (
            "No churn model: no customer was active at the start of the period."
        )
    with language("zh"):
        texts = [report.drivers_sentence(quiet), report.model_sentence(empty)]
    assert "本期无人流失" in texts[0] and english_words(texts, allowed=set()) == []


def test_at_risk_customers_are_pseudonyms_with_their_reasons(world):
    _, drivers, risk = world
    view = report.at_risk_view(risk, salt="u")
    assert list(view.columns) == [
        "customer_pseudonym",
        "churn_risk",
        "expected_value",
        "risk_reasons",
    ]
    raw = set(risk.at_risk["customer_id"])
    assert not raw & set(view["customer_pseudonym"])
    assert view["customer_pseudonym"].tolist() == [
        pseudonym(c, salt="u", prefix="C") for c in risk.at_risk["customer_id"]
    ]
    first = risk.at_risk.iloc[0]
    complaints = drivers.current.set_index("customer_id").loc[first["customer_id"],
                                                              "complaints_90d"]  # fmt: skip
    assert view.loc[0, "risk_reasons"].startswith(
        f"complaints in the last 90 days: {int(complaints)}"
    )
    sentence = report.value_at_risk_sentence(risk, currency="CNY")
    assert sentence.startswith(f"The {risk.active:,} customers active at the period end")
    assert "within the next 92 days" in sentence and "CN¥" in sentence
    with language("zh"):
        assert "¥" in report.value_at_risk_sentence(risk, currency="CNY")
        assert report.at_risk_view(risk)["risk_reasons"][0].startswith("近90天投诉次数：")


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "One active customer has no expected value and is left out of the value at risk."),
        (3, "3 active customers have no expected value and are left out of the value at risk."),
    ],
)
def test_customers_without_a_value_are_counted_in_good_english(world, n, expected):
    risk = dataclasses.replace(world[2], without_value=n)
    with language("en"):
        assert report.value_at_risk_sentence(risk).endswith(expected)


def test_results_hold_the_registry_keys_and_the_figures(world):
    _, drivers, risk = world
    found = report.results_part(drivers, risk)
    assert set(found) == KEYS and set(TOPICS["churn"].results) >= KEYS
    e = drivers.evaluation
    assert found["top_drivers"][0] == "complaints_90d"
    assert found["model_auc"] == pytest.approx(e.auc.value)
    assert found["model_auc_ci"] == pytest.approx([e.auc.low, e.auc.high])
    assert found["top_decile_lift"] == pytest.approx(e.top_decile_lift)
    assert found["at_risk_customers"] == 5
    assert found["value_at_risk"] == pytest.approx(risk.value_at_risk)


def test_views_name_their_columns_by_the_glossary(world):
    from crmkit.present.language import is_term

    _, drivers, risk = world
    for view in (
        report.drivers_view(drivers),
        report.categories_view(drivers, feature="region"),
        report.at_risk_view(risk),
    ):
        assert all(is_term(c) for c in view.columns), list(view.columns)
    drivers_view = report.drivers_view(drivers)
    assert drivers_view.loc[0, "churn_driver"] == "complaints in the last 90 days"
    assert drivers_view.loc[0, "driver_direction"] == "higher, more churn"
    # in percentage points, as the drivers chart draws it (the table read "%" beside it)
    strongest = drivers.coefficients.loc[drivers.coefficients["driver"], "retention_impact"]
    assert drivers_view.loc[0, "retention_impact"] == pytest.approx(strongest.iloc[0] * 100)


def test_chinese_sentences_hold_no_english_words(world):
    _, drivers, risk = world
    data = {"pro", "basic", "East", "West", "North", "plan", "AUC"}  # the data's own, and AUC
    fakes = [
        _with(drivers, method=m, auc=a, top_decile_lift=2.5)
        for m in ("backtest", "cross-validation")
        for a in (AUC(0.8, 0.75, 0.85, 0.02), AUC(0.55, 0.45, 0.65, 0.05))
    ]
    with language("zh"):
        texts = [
            report.drivers_sentence(drivers),
            report.cohort_sentence(drivers),
            report.calibration_sentence(drivers),
            report.value_at_risk_sentence(risk, currency="CNY"),
            report.at_risk_sentence(risk),
            *report.methods(drivers),
            *(report.model_sentence(f) for f in fakes),
            *(report.drivers_sentence(f) for f in fakes),
            *report.at_risk_view(risk)["risk_reasons"],
            *report.drivers_view(drivers)["churn_driver"],
        ]
    texts = [re.sub(r"C-[0-9a-f]{8}", "", t) for t in texts if t]
    assert english_words(texts, data | {"DeLong", "Gold"}) == []
    # the cohort, calibration, value-at-risk and list sentences hold no Latin letters at all
    assert not any(re.search(r"[A-Za-z]", t) for t in texts[1:5])
    assert np.isfinite(drivers.evaluation.auc.value)


# ----------------------------------------------------------------------------- charts


def _texts(figure) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in figure.findobj(Text) if t.get_text().strip()]


@pytest.mark.parametrize("code", ["en", "zh"])
def test_charts_draw_the_figures_in_the_reports_language(world, code):
    import matplotlib.pyplot as plt

    from crmkit import plots

    _, drivers, _ = world
    with language(code), plt.rc_context(plots.theme_rc()):
        fig = plots.plot_metric_cohorts(
            drivers.cohorts, features=["complaints_90d", "recency_days"],
            overall=drivers.churn_rate,
        )  # fmt: skip
        fig.canvas.draw()  # glyphs missing from the font would warn, and warnings fail
        first = fig.axes[0]
        cohorts = drivers.cohorts.loc[drivers.cohorts["feature"] == "complaints_90d"]
        drawn = first.get_lines()[0].get_ydata()
        assert list(drawn) == pytest.approx(cohorts["churn_rate"].tolist())
        impact = plots.plot_retention_impact(drivers.coefficients)
        bars = [p.get_width() for p in impact.patches]
        kept = drivers.coefficients.loc[drivers.coefficients["driver"], "retention_impact"]
        assert bars == pytest.approx((kept.head(12) * 100).tolist())
        calibration = plots.plot_calibration(drivers.evaluation.calibration)
        regions = plots.plot_category_cohorts(drivers.categories, feature="region")
        texts = [t for f in (fig, impact.figure, calibration.figure, regions.figure)
                 for t in _texts(f)]  # fmt: skip
    if code == "zh":
        assert english_words(texts, {"East", "West", "North", "plan", "basic", "pro"}) == []
        assert "近90天投诉次数" in texts
    else:
        assert "complaints in the last 90 days" in texts


def test_charts_without_data_say_so(world):
    import matplotlib.pyplot as plt

    from crmkit import plots

    _, drivers, _ = world
    none = analyse(planted(150, base=0.0, lift=0.05, seed=9))
    with plt.rc_context(plots.theme_rc()):
        impact = plots.plot_retention_impact(none.coefficients)
        calibration = plots.plot_calibration(none.evaluation.calibration)
        empty = plots.plot_metric_cohorts(drivers.cohorts, features=[])
    assert "The model kept no feature: nothing to show." in _texts(impact.figure)
    assert "No model to check." in _texts(calibration.figure)
    assert "No feature to show." in _texts(empty)
    with plt.rc_context(plots.theme_rc()):
        fig = plots.plot_metric_cohorts(
            drivers.cohorts.assign(missing=drivers.cohorts["cohort"] == 1),
            features=["complaints_90d"],
        )
    assert any(t.startswith("no record (") for t in _texts(fig))
