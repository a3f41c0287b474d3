"""Satisfaction metrics by hand, relative weights on cases with a known answer, word-level
Chinese themes, and the effects the sample generator planted."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from sklearn.linear_model import LinearRegression

import crmkit as ck
from crmkit import satisfaction as sat
from crmkit.core.errors import ParameterError
from crmkit.metrics.stats import two_proportion_test, wilson_interval

Z = 1.959963984540054


def test_nps_and_its_adjusted_wald_interval_by_hand():
    # 6 promoters, 2 passives, 2 detractors: NPS = 60% - 20% = 40.
    # Rocks (2016): n' = 13, p' = 6.75/13, d' = 2.75/13, NPS' = 4/13,
    # Var = (p' + d' - NPS'^2) / n' = (9.5/13 - 16/169) / 13.
    result = sat.nps(pd.Series([10, 9, 10, 9, 10, 9, 8, 7, 3, 6]))
    assert (result.promoters, result.passives, result.detractors) == (6, 2, 2)
    assert result.score == 40.0
    half = Z * np.sqrt((9.5 / 13 - 16 / 169) / 13)
    assert result.low == pytest.approx(100 * (4 / 13 - half))
    assert result.high == pytest.approx(100 * (4 / 13 + half))
    assert round(result.low, 1) == -12.6 and round(result.high, 1) == 74.1
    assert result.share("promoters") == 0.6
    # all promoters: the interval is clipped to 100
    assert sat.nps(pd.Series([10] * 5)).high == 100.0
    assert np.isnan(sat.nps(pd.Series([], dtype=float)).score)


def test_nps_change_by_hand():
    now = sat.nps(pd.Series([10] * 6 + [8] * 2 + [3] * 2))  # 40
    before = sat.nps(pd.Series([10] * 2 + [8] * 2 + [3] * 6))  # -40
    change = sat.nps_change(now, before)
    assert change.delta == 80.0
    a, b = 4 / 13, -4 / 13  # adjusted NPS' of each (mirror images)
    variance = (9.5 / 13 - 16 / 169) / 13  # the same for both
    se = np.sqrt(2 * variance)
    assert change.low == pytest.approx(100 * (a - b - Z * se))
    assert change.p_value == pytest.approx(
        2 * (1 - __import__("scipy").stats.norm.cdf((a - b) / se))
    )
    assert change.as_dict()["ci"] == [change.low, change.high]


def test_csat_is_the_top_two_box_share_with_wilson():
    scores = pd.Series([5, 4, 3, 2, 1, 5, 4, 4, 5, 1, None])
    result = sat.csat(scores)
    assert (result.n, result.satisfied, result.value) == (10, 6, 0.6)
    assert result.mean == pytest.approx(3.4)
    expected = wilson_interval(6, 10)
    assert (result.low, result.high) == (expected.low, expected.high)
    before = sat.csat(pd.Series([5, 1, 1, 1, 4, 2, 2, 2, 3, 3]))
    change = sat.csat_change(result, before)
    assert change.delta == pytest.approx(0.6 - 0.2)
    assert change.p_value == two_proportion_test(6, 10, 2, 10).p_value


def test_relative_weights_equal_squared_correlations_for_uncorrelated_drivers():
    # Two exactly uncorrelated, centred predictors: raw weights are r^2 (Johnson 2000).
    x1 = np.array([1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1], dtype=float)
    x2 = np.array([1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1], dtype=float)
    noise = np.array([0.3, -0.2, 0.1, 0.4, -0.5, 0.2, -0.1, 0.3, -0.4, 0.1, 0.2, -0.4])
    y = 2 * x1 + x2 + noise
    frame = pd.DataFrame({"nps": y, "dim_a": x1, "dim_b": x2})
    weights = sat.relative_weights(frame, outcome="nps").table.set_index("dimension")
    for column, x in (("dim_a", x1), ("dim_b", x2)):
        assert weights.loc[column, "raw_weight"] == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2)
    assert weights.index[0] == "dim_a"


def test_relative_weights_sum_to_the_regression_r_squared():
    rng = np.random.default_rng(7)
    base = rng.normal(size=(500, 1))
    x = base + rng.normal(scale=[0.5, 0.8, 1.5], size=(500, 3))  # correlated drivers
    y = x @ np.array([0.2, 0.5, 0.1]) + rng.normal(size=500)
    frame = pd.DataFrame(x, columns=["dim_a", "dim_b", "dim_c"]).assign(nps=y)
    drivers = sat.relative_weights(frame, outcome="nps")
    r2 = LinearRegression().fit(x, y).score(x, y)
    assert drivers.r_squared == pytest.approx(r2)
    assert drivers.table["raw_weight"].sum() == pytest.approx(r2)
    assert drivers.table["weight"].sum() == pytest.approx(1.0)
    assert drivers.top == "dim_b"
    with pytest.raises(ParameterError, match="complete responses"):
        sat.relative_weights(frame.head(5), outcome="nps")
    with pytest.raises(ParameterError, match="no variance"):
        sat.relative_weights(frame.assign(dim_c=1.0), outcome="nps")


def test_importance_performance_quadrants():
    drivers = sat.DriverWeights(
        "nps",
        pd.DataFrame({"dimension": ["a", "b", "c", "d"], "weight": [0.4, 0.3, 0.2, 0.1]}),
        0.5,
        100,
    )
    scores = pd.DataFrame(
        {"dimension": ["a", "b", "c", "d"], "mean": [3.0, 4.5, 3.1, 4.4], "satisfied": 0.5}
    )
    table = sat.importance_performance(drivers, scores).set_index("dimension")
    # weights' mean 0.25, scores' mean 3.75
    assert table["quadrant"].to_dict() == {
        "a": "fix first",
        "b": "keep it up",
        "c": "low priority",
        "d": "possible overkill",
    }


def test_pii_in_comments_is_masked():
    comments = pd.Series(
        [
            "Call me on +1 (415) 555-0134 or mail jane.doe@example.co.uk please",
            "请联系我13900000115，谢谢",
            "Delivered in 2 days, paid 199.",
            None,
        ]
    )
    masked = sat.mask_pii(comments)
    assert masked[0] == "Call me on [phone] or mail [email] please"
    assert masked[1] == "请联系我[phone]，谢谢"
    assert masked[2] == "Delivered in 2 days, paid 199."
    assert pd.isna(masked[3])


def test_chinese_comments_give_word_level_themes():
    comments = pd.Series(
        [
            "物流太慢了，等了两个星期才到货。",
            "发货延迟，快递速度太慢。",
            "物流太慢，客服也不回复。",
            "快递太慢了，包装还破了。",
            "产品质量很好，用起来很放心。",
            "做工精细，质量过硬。",
            "质量很好，价格实惠。",
            "客服态度很好，质量也好。",
        ]
    )
    groups = pd.Series(["detractor"] * 4 + ["promoter"] * 4)
    found = sat.themes(comments, groups, min_mentions=2)
    detractor = sat.theme_keywords(found, "detractor")
    promoter = sat.theme_keywords(found, "promoter")
    # 物流 and 快递 are each said in 2 of the 4 comments saying 太慢 (Jaccard 0.5): one theme
    first = found.iloc[0]
    assert first["keyword"] == "太慢" and set(first["keywords"]) == {"太慢", "物流", "快递"}
    assert first["mentions"] == 4
    assert promoter[0] == "质量"
    assert all(len(word) > 1 for word in detractor + promoter)  # words, never characters
    assert not {"了", "的", "很", "也"} & set(detractor + promoter)
    assert first["examples"][0] == "物流太慢了，等了两个星期才到货。"


def test_words_said_together_make_one_theme_with_distinct_examples():
    complaint = "Too expensive compared with other shops"
    comments = pd.Series(
        [
            f"{complaint}.",
            f"{complaint}. Contact me at a@b.com",
            f"{complaint}, sadly",
            "Parcel arrived broken",
            "Parcel arrived broken again",
            "Parcel broken, expensive too",
            "Lovely staff",
            "Lovely staff, great",
            "Great service",
        ]
    )
    groups = pd.Series(["detractor"] * 6 + ["promoter"] * 3)
    found = sat.themes(comments, groups, min_mentions=2)

    def theme_with(word: str) -> pd.Series:
        return found.loc[found["keywords"].map(lambda words: word in words)].iloc[0]

    # expensive: comments 1,2,3,6; compared, shops: 1,2,3 (Jaccard 3/4); parcel: 4,5,6 (1/6)
    pricey, parcel = theme_with("shops"), theme_with("parcel")
    assert set(pricey["keywords"]) == {"expensive", "compared", "shops"}
    assert set(parcel["keywords"]) == {"parcel", "broken", "arrived"}
    assert (pricey["mentions"], parcel["mentions"]) == (4, 3)
    assert (found["group"] == "detractor").sum() == 2
    # the three versions of the same complaint give one example, not three
    assert sum(example.startswith(complaint) for example in pricey["examples"]) == 1
    # lovely, staff: comments 7, 8; great: 8, 9 (Jaccard 1/3): two themes
    assert set(theme_with("lovely")["keywords"]) == {"lovely", "staff"}
    assert theme_with("great")["keywords"] == ["great"]
    assert theme_with("lovely")["examples"] == ["Lovely staff"]  # "…, great" repeats it


def test_english_themes_drop_stop_words_and_masks():
    comments = pd.Series(
        [
            "Delivery was late again, write to me@example.com",
            "The delivery was late and the parcel was damaged",
            "Late delivery, again",
            "Great quality and it lasts",
            "Great quality, works perfectly",
        ]
    )
    groups = pd.Series(["detractor"] * 3 + ["promoter"] * 2)
    found = sat.themes(comments, groups, min_mentions=2)
    detractor = sat.theme_keywords(found, "detractor")
    assert set(detractor) == {"late", "delivery"}  # "again" is an English stop word
    assert len(found.loc[found["group"] == "detractor"]) == 1  # said together: one theme
    assert not found["examples"].explode().str.contains("@").any()
    assert set(sat.theme_keywords(found, "promoter")) == {"great", "quality"}


def _tiny_surveys() -> tuple[pd.DataFrame, pd.DataFrame]:
    responses = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3", "r4"],
            "customer_id": ["a", "b", "c", "a"],
            "responded_at": pd.to_datetime(
                ["2026-01-10", "2026-02-01", "2026-03-01", "2026-03-20"]
            ),
            "nps": [10, 3, 8, 9],
            "csat": [5, 1, 4, 5],
        }
    )
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "a"],
            "order_date": pd.to_datetime(
                ["2025-12-01", "2026-02-15", "2026-02-20", "2026-01-01", "2026-06-01", "2026-07-01"]
            ),
            "amount": [10.0, 40.0, 7.0, 5.0, 99.0, 1.0],
        }
    )
    return responses, transactions


def test_loyalty_and_repeat_rate_by_hand():
    responses, transactions = _tiny_surveys()
    table = sat.loyalty(responses, transactions, as_of="2026-03-31").set_index("customer_id")
    # a: latest response r4 (9, 5), orders before April 2 → repeat;
    # b: (3, 1), one order; c: (8, 4), one order by 31 March
    assert table["orders"].to_dict() == {"a": 2, "b": 1, "c": 1}
    assert table.loc["a", "nps_group"] == "promoter" and table.loc["b", "nps_group"] == "detractor"
    assert table.loc["a", "loyalty_score"] == pytest.approx(100 * (1 + 0.9 + 1) / 3)
    assert table.loc["b", "loyalty_score"] == pytest.approx(100 * (0 + 0.3 + 0) / 3)
    assert table.loc["c", "loyalty_score"] == pytest.approx(100 * (0.75 + 0.8 + 0) / 3)
    assert sat.repeat_rate(table) == pytest.approx(1 / 3)


def test_spend_after_responding_by_hand():
    responses, transactions = _tiny_surveys()
    table = sat.spend_after(
        responses, transactions, as_of="2026-07-31", days=90, lookback_days=365
    ).set_index("nps_group")
    # responses up to 2 May: r1 a (10) → 40 on 15 Feb; r4 a (9) → nothing by 18 June (1 July is
    # 103 days later); r2 b (3) → 7 on 20 Feb; r3 c (8) → 99 on 1 June (92 days: outside)
    assert table.loc["promoter", ["responses", "mean_spend"]].tolist() == [2, 20.0]
    assert table.loc["detractor", "mean_spend"] == 7.0
    assert table.loc["passive", ["mean_spend", "buying_share"]].tolist() == [0.0, 0.0]


def test_breakdown_marks_small_groups():
    responses = pd.DataFrame(
        {
            "nps": [10] * 40 + [0] * 40 + [9] * 5,
            "csat": [5] * 40 + [1] * 40 + [5] * 5,
            "touchpoint": ["web"] * 40 + ["store"] * 40 + ["phone"] * 5,
        }
    )
    table = sat.breakdown(responses, by="touchpoint").set_index("group")
    assert table.loc["web", "nps"] == 100 and table.loc["store", "nps"] == -100
    assert table.loc["web", "verdict"] == "NPS above the rest"
    assert table.loc["store", "verdict"] == "NPS below the rest"
    assert table.loc["phone", "verdict"] == "too few to judge"
    assert np.isnan(table.loc["phone", "p_adjusted"])


def _sample(name: str):
    unit = ck.load_unit(
        name, data_source=ROOT / "sample_data", period="2026-Q3", as_of="2026-10-15"
    )
    return sat.analyse(
        unit["surveys"],
        period_start=unit.period.start,
        period_end=unit.period.end,
        previous_start=unit.period.previous_start,
        previous_end=unit.period.previous_end,
        customers=unit["customers"],
        transactions=unit["transactions"],
    )


@pytest.mark.slow
def test_planted_driver_and_nps_fall_are_found_and_nothing_else():
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]
    for name, truth in planted.items():
        results = sat.results(_sample(name))
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
    themes = sat.results(analysis)["detractor_themes"]
    assert themes and all(len(word) > 1 for word in themes)
    assert {"太慢", "物流", "快递", "延迟"} & set(themes[:5])
    assert analysis.breakdowns["segment"]["group"].isin(ck.segmentation.SEGMENT_ORDER).all()
