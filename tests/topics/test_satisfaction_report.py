"""The satisfaction report's words and published results say what the numbers say, and find
what the sample generator planted."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

import crmkit as ck
from crmkit.core.periods import parse_period
from crmkit.metrics import satisfaction as sat
from crmkit.metrics.segmentation import SEGMENT_ORDER
from crmkit.topics import satisfaction as report
from crmkit.topics.registry import TOPICS


def _quarter_surveys() -> pd.DataFrame:
    """Q2: NPS 40 - 20 = 20 from 10 responses; Q3: NPS 60 - 10 = 50 from 10, with comments."""
    nps_q2 = [10] * 4 + [8] * 4 + [3] * 2
    nps_q3 = [10] * 6 + [7] * 3 + [2]
    comments_q3 = ["Great staff", "Great staff again", "Great service"] + [None] * 3
    comments_q3 += ["ok", "fine", "meh", "Parcel late, call +44 20 7946 0018"]
    return pd.DataFrame(
        {
            "response_id": [f"r{k}" for k in range(20)],
            "customer_id": [f"c{k % 7}" for k in range(20)],
            "responded_at": [
                *pd.date_range("2026-04-02", periods=10, freq="7D"),
                *pd.date_range("2026-07-02", periods=10, freq="9D"),
            ],
            "nps": nps_q2 + nps_q3,
            "csat": [5] * 8 + [2] * 2 + [5] * 9 + [1],
            "comment": [None] * 10 + comments_q3,
        }
    )


@pytest.fixture
def analysis() -> sat.SatisfactionAnalysis:
    return sat.analyse(
        _quarter_surveys(), period=parse_period("2026-Q3"), breakdown_columns=["region"]
    )


def test_results_carry_every_key(analysis):
    results = report.results(analysis)
    assert set(results) == set(TOPICS["satisfaction"].results)  # exactly the registry's keys
    assert (results["n_responses"], results["nps"]) == (10, 50.0)
    assert results["nps_change"]["delta"] == 30.0
    assert results["promoter_themes"] == ["great"]  # "staff": 2 comments, under min_mentions
    assert results["top_driver"] is None and results["driver_weights"] == {}
    json.dumps(ck.nb.to_json_ready(results))


def test_key_findings_quote_the_numbers_and_end_with_the_notes(analysis):
    found = report.key_findings(analysis)
    low, high = analysis.nps.low, analysis.nps.high
    assert found[0] == (
        f"NPS 50 (95% interval {low:.0f} to {high:.0f}) from 10 responses: 60.0% promoters, "
        "30.0% passives, 10.0% detractors."
    )
    assert found[1].startswith("NPS rose 30.0 points on the previous period (95% interval ")
    assert found[2].startswith("CSAT 90.0% scored 4 or 5")
    assert (
        found[-2:]
        == report.notes(analysis)
        == [
            "Breakdown by region skipped: no region for the respondents.",
            "Dimension scores and key drivers skipped: surveys carry no dim_* columns.",
        ]
    )


def test_notes_name_missing_scores_and_failed_drivers():
    surveys = _quarter_surveys().drop(columns=["csat"]).assign(dim_speed=3.0)
    analysis = sat.analyse(surveys, period=parse_period("2026-Q3"), breakdown_columns=[])
    assert report.notes(analysis) == [
        "CSAT sections skipped: surveys carry no csat column.",
        "Key-driver analysis skipped: Column(s) ['dim_speed'] have no variance; drop them "
        "from the drivers.",
    ]


def test_change_sentence_in_points_for_nps_and_percentage_points_for_csat():
    nps_change = sat.Change(delta=-12.0, low=-20.5, high=-3.5, p_value=0.004)
    assert report.change_sentence("NPS", nps_change, points=True) == (
        "NPS fell 12.0 points on the previous period (95% interval -20.5 to -3.5; p = 0.004): "
        "a significant change."
    )
    csat_change = sat.Change(delta=0.02, low=-0.01, high=0.05, p_value=0.2)
    assert report.change_sentence("CSAT", csat_change, points=False) == (
        "CSAT rose 2.0 points on the previous period (95% interval -1.0 to +5.0; p = 0.200): "
        "no significant change."
    )
    nothing = sat.Change(*(float("nan"),) * 4)
    assert report.change_sentence("NPS", nothing, points=True) == (
        "NPS: no previous period to compare with."
    )


def test_themes_in_words(analysis):
    assert report.theme_label(["expensive", "compared", "shops", "price"]) == (
        "expensive · compared · shops"
    )
    view = report.themes_view(analysis, "promoter")
    assert list(view.columns) == ["theme", "mentions", "example_comments"]
    assert view.loc[0, "theme"].startswith("great")
    assert view.loc[0, "example_comments"].startswith("“Great staff”")
    assert report.themes_view(analysis, "detractor").empty  # one comment: under min_mentions
    assert report.theme_keywords(analysis.themes, "passive") == []


def test_drivers_view_and_dimension_labels():
    assert report.dimension_label("dim_delivery_speed") == "delivery speed"
    rng = np.random.default_rng(3)
    speed, price = rng.integers(1, 6, 60), rng.integers(1, 6, 60)
    surveys = pd.DataFrame(
        {
            "response_id": [f"r{k}" for k in range(60)],
            "customer_id": [f"c{k}" for k in range(60)],
            "responded_at": pd.date_range("2026-07-01", periods=60, freq="1D"),
            "nps": np.clip(2 * speed + rng.integers(-1, 2, 60), 0, 10),
            "csat": np.clip(price + rng.integers(-1, 2, 60), 1, 5),
            "dim_delivery_speed": speed,
            "dim_price": price,
        }
    )
    analysis = sat.analyse(surveys, period=parse_period("2026-Q3"), breakdown_columns=[])
    view = report.drivers_view(analysis).set_index("dimension")
    assert set(view.index) == {"delivery speed", "price"}
    assert view["nps_weight"].sum() == pytest.approx(1)
    assert view["nps_weight"].idxmax() == "delivery speed"
    assert view["csat_weight"].idxmax() == "price"
    assert set(view["quadrant"]) <= {"fix first", "keep it up", "low priority", "possible overkill"}


def test_spend_sentence():
    table = pd.DataFrame(
        {
            "nps_group": ["promoter", "passive", "detractor"],
            "responses": [10, 5, 8],
            "buying_share": [0.5, 0.4, 0.2],
            "mean_spend": [120.0, 80.0, 30.0],
            "median_spend": [100.0, 60.0, 1234.5],
        }
    )
    table.attrs["p_value"] = 0.0004
    fake = type("Analysis", (), {"spend_after": table})()
    assert report.spend_sentence(fake, currency="CNY") == (
        "In the 90 days after responding, promoters spent a median of 100 CNY and detractors "
        "1,234 CNY (p < 0.001, Mann–Whitney): a significant difference."
    )
    fake.spend_after = table.iloc[:2]
    assert report.spend_sentence(fake) == (
        "Spend after responding: promoters or detractors are missing."
    )
    fake.spend_after = None
    assert report.spend_sentence(fake).endswith("not enough history before the period end.")


def _sample(name: str):
    unit = ck.load_unit(
        name, data_source=ROOT / "sample_data", period="2026-Q3", as_of="2026-10-15"
    )
    return sat.analyse(
        unit["surveys"],
        period=unit.period,
        customers=unit["customers"],
        transactions=unit["transactions"],
        breakdown_columns=["region", "segment", "touchpoint"],
    )


@pytest.mark.slow
def test_planted_driver_and_nps_fall_are_found_and_nothing_else():
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]
    for name, truth in planted.items():
        results = report.results(_sample(name))
        weights = truth["nps_driver_weights"]
        if max(weights.values()) > 0.5:  # east: one dominant planted driver
            assert results["top_driver"] == max(weights, key=weights.get) == "dim_delivery_speed"
        if truth["nps_shift_last_quarter"]:
            assert results["nps_change"]["delta"] < -30
            assert results["nps_change"]["p_value"] < 0.05
            assert results["nps_change"]["ci"][1] < 0
        else:
            assert results["nps_change"]["p_value"] >= 0.01, name
            assert results["csat_change"]["p_value"] >= 0.01, name
        lo, hi = results["nps_ci"]
        assert lo < results["nps"] < hi
        assert results["promoters"] + results["passives"] + results["detractors"] == pytest.approx(
            1
        )
        assert 0 < results["repeat_rate"] < 1


@pytest.mark.slow
def test_east_detractor_themes_are_chinese_words_about_delivery():
    analysis = _sample("east")
    themes = report.results(analysis)["detractor_themes"]
    assert themes and all(len(word) > 1 for word in themes)
    assert {"太慢", "物流", "快递", "延迟"} & set(themes[:5])
    assert analysis.breakdowns["segment"]["group"].isin(SEGMENT_ORDER).all()
