"""The satisfaction report's words (en and zh), flags and published results say what the
numbers say, and find what the sample generator planted."""

import dataclasses
import json
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from language_check import english_words

import crmkit as ck
from crmkit.core.periods import parse_period
from crmkit.metrics import satisfaction as sat
from crmkit.metrics.segmentation import SEGMENT_ORDER
from crmkit.present.format import num, p_text, signed
from crmkit.present.language import is_term, language, words
from crmkit.topics import satisfaction as report
from crmkit.topics.flags import ALERT, CHANGE, rank_flags
from crmkit.topics.registry import TOPICS

Q3 = parse_period("2026-Q3")


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
    return sat.analyse(_quarter_surveys(), period=Q3, breakdown_columns=["region"])


def _falling_surveys() -> pd.DataFrame:
    """Q2: 60 responses, NPS 40/60 − 10/60 = +50, all CSAT 5; Q3: 60 responses, NPS
    10/60 − 40/60 = −50, CSAT 5 for 30 and 2 for 30; delivery speed drives NPS and scores
    low, price scores high and does not matter."""
    rng = np.random.default_rng(7)
    nps = [10] * 40 + [8] * 10 + [3] * 10 + [10] * 10 + [8] * 10 + [3] * 40
    speed = np.clip(np.round(np.array(nps) / 3.3 + rng.normal(0, 0.4, 120)), 1, 5)
    return pd.DataFrame(
        {
            "response_id": [f"r{k}" for k in range(120)],
            "customer_id": [f"c{k}" for k in range(120)],
            "responded_at": [
                *pd.date_range("2026-04-01", periods=60, freq="1D"),
                *pd.date_range("2026-07-01", periods=60, freq="1D"),
            ],
            "nps": nps,
            "csat": [5] * 60 + [5, 2] * 30,
            "dim_delivery_speed": speed,
            "dim_price": rng.choice([4, 5], 120),
        }
    )


@pytest.fixture
def falling() -> sat.SatisfactionAnalysis:
    return sat.analyse(_falling_surveys(), period=Q3, breakdown_columns=[])


def test_results_carry_every_key(analysis):
    results = report.results(analysis)
    assert set(results) == set(TOPICS["satisfaction"].results)  # exactly the registry's keys
    assert (results["n_responses"], results["nps"]) == (10, 50.0)
    assert results["nps_change"]["delta"] == 30.0
    assert set(results["csat_change"]) == {"delta", "ci", "p_value"}
    assert results["promoter_themes"] == []  # "great": 3 comments, under the 5 to show a theme
    assert results["top_driver"] is None and results["driver_weights"] == {}
    json.dumps(ck.nb.to_json_ready(results))


def test_key_figures_and_flags_are_declared_in_the_registry(falling):
    topic = TOPICS["satisfaction"]
    figures = {f.key: (f.label, f.unit, f.change) for f in topic.key_figures}
    assert figures == {
        "nps": ("nps", "points", "nps_change"),
        "csat": ("csat", "share", "csat_change"),
    }
    assert all(is_term(label) for label, _, _ in figures.values())
    raised = {flag.key for flag in report.flags(falling)}
    assert raised == {"nps_change", "csat_change", "nps_below_zero", "fix_first"}
    assert raised <= set(topic.flags)


def test_key_findings_quote_the_numbers_and_end_with_the_notes(analysis):
    found = report.key_findings(analysis)
    low, high = signed(analysis.nps.low), signed(analysis.nps.high)
    assert found[0] == (
        f"NPS +50 (likely between {low} and {high}) from 10 responses: 60.0% promoters, "
        "30.0% passives, 10.0% detractors."
    )
    assert found[1].startswith("NPS rose 30 points against the previous period, from +20 to +50")
    assert found[2].startswith("CSAT 90.0%: share of responses scoring 4 or 5")
    assert (
        found[-2:]
        == report.notes(analysis)
        == [
            "Breakdown by region skipped: no region for the respondents.",
            "Dimension scores and key drivers skipped: surveys carry no dim_* columns.",
        ]
    )
    with language("zh"):
        first = report.key_findings(analysis)[0]
    assert first == (
        f"本期净推荐值为 +50（95% 置信区间 {low} 至 {high}），共 10 份回复：推荐者占 60.0%，"
        "被动者占 30.0%，贬损者占 10.0%。"
    )


def test_change_sentences_in_points_for_nps_and_percentage_points_for_csat(analysis):
    p_nps = p_text(analysis.nps_change.p_value)
    assert report.change_sentence(analysis, "nps") == (
        f"NPS rose 30 points against the previous period, from +20 to +50: not a significant "
        f"change ({p_nps}), within what chance alone gives."
    )
    # CSAT: 8 of 10 scored 4-5 before, 9 of 10 now: up 10.0 percentage points
    p_csat = p_text(analysis.csat_change.p_value)
    with language("zh"):
        assert report.change_sentence(analysis, "csat") == (
            f"客户满意度较上期上升 10.0 个百分点（由 80.0% 升至 90.0%），变化不显著（{p_csat}），"
            "在随机波动范围之内。"
        )
    fell = _nps_between(analysis, (7, 1, 2), (5, 2, 3))  # +50 → +20, 10 responses each
    assert report.change_sentence(fell, "nps") == (
        "NPS fell 30 points against the previous period, from +50 to +20: not a significant "
        f"change ({p_text(fell.nps_change.p_value)}), within what chance alone gives."
    )
    # 52.64 → 52.61: one decimal would write both +52.6, so the score held, written whole
    held = _nps_between(analysis, (6264, 2736, 1000), (5261, 4739, 0))
    assert report.change_sentence(held, "nps").startswith(
        "NPS held at +53 against the previous period (+53): not a significant change"
    )
    # 51.46 → 51.54: equal with one decimal, not whole (+51, +52): written with one
    held = _nps_between(analysis, (6146, 2854, 1000), (6154, 2846, 1000))
    assert report.change_sentence(held, "nps").startswith("NPS held at +51.5 against the")
    nothing = dataclasses.replace(analysis, nps_change=sat.Change(*(float("nan"),) * 4))
    assert report.change_sentence(nothing, "nps") == "NPS: no previous period to compare with."


def _nps_between(analysis, before, after) -> sat.SatisfactionAnalysis:
    """``analysis`` with NPS from ``before`` to ``after``, each (promoters, passives,
    detractors), and the change between them as :func:`sat.analyse` measures it."""

    def score(counts):
        return sat.nps(pd.Series([10] * counts[0] + [8] * counts[1] + [3] * counts[2]))

    previous, current = score(before), score(after)
    return dataclasses.replace(
        analysis, previous_nps=previous, nps=current, nps_change=sat.nps_change(current, previous)
    )


def _csat_between(analysis, before, after) -> sat.SatisfactionAnalysis:
    """``analysis`` with CSAT from ``before`` to ``after``, each (satisfied, responses)."""

    def share(counts):
        return sat.csat(pd.Series([5] * counts[0] + [2] * (counts[1] - counts[0])))

    previous, current = share(before), share(after)
    return dataclasses.replace(
        analysis,
        previous_csat=previous,
        csat=current,
        csat_change=sat.csat_change(current, previous),
    )


_CHANGE = re.compile(
    r"(?:rose|fell) (?P<size>[\d.,]+) (?:percentage )?points against the previous period, "
    r"from (?P<before>[+−]?[\d.,]+)%? to (?P<after>[+−]?[\d.,]+)%?"
)
_CHANGE_ZH = re.compile(
    r"较上期(?:上升|下降) (?P<size>[\d.,]+) (?:分|个百分点)[，（]由 (?P<before>[+−]?[\d.,]+)%? "
    r"[升降]至 (?P<after>[+−]?[\d.,]+)%?"
)


def _figures(sentence: str, pattern: re.Pattern) -> tuple[Decimal, Decimal, Decimal]:
    """The size, before and after a change sentence writes, as written (``+52.6``:
    ``Decimal('52.6')``, one decimal place)."""
    found = pattern.search(sentence)
    assert found, sentence

    def number(text):
        return Decimal(text.replace(",", "").replace("−", "-").lstrip("+"))

    return tuple(number(found[name]) for name in ("size", "before", "after"))


@pytest.mark.parametrize(
    ("metric", "before", "after", "expected"),
    [
        # east's case: +52.6 → +51.1 was written "fell 1 points, from +53 to +51"
        ("nps", (626, 274, 100), (611, 289, 100), ("fell 1.5 points", "+52.6 to +51.1")),
        # 52.64 → 51.16: rounding the change alone (1.48 → 1.5) would disagree with
        # 52.6 − 51.2 = 1.4
        ("nps", (6264, 2736, 1000), (6116, 2884, 1000), ("fell 1.4 points", "+52.6 to +51.2")),
        ("nps", (50, 40, 10), (51, 39, 10), ("rose 1.0 points", "+40.0 to +41.0")),
        ("nps", (70, 20, 10), (20, 51, 29), ("fell 69 points", "+60 to −9")),
        ("nps", (70, 20, 10), (1501, 749, 250), ("fell 10.0 points", "+60.0 to +50.0")),
        # CSAT 80.33% → 90.17% (1 decimal, as everywhere): 90.2 − 80.3 = 9.9, not 9.8
        ("csat", (241, 300), (541, 600), ("rose 9.9 percentage points", "80.3% to 90.2%")),
        ("csat", (900, 1000), (600, 1000), ("fell 30.0 percentage points", "90.0% to 60.0%")),
    ],
)
def test_a_change_is_the_difference_of_the_figures_it_shows(
    analysis, metric, before, after, expected
):
    changed = (_nps_between if metric == "nps" else _csat_between)(analysis, before, after)
    sentence = report.change_sentence(changed, metric)
    assert f"{expected[0]} against the previous period, from {expected[1]}:" in sentence
    flag = report.flags(changed)
    messages = [f.message for f in flag if f.key == f"{metric}_change"]
    with language("zh"):
        zh = report.change_sentence(changed, metric)
    texts = [(sentence, _CHANGE), (zh, _CHANGE_ZH)]
    texts += [(m["en"], _CHANGE) for m in messages] + [(m["zh"], _CHANGE_ZH) for m in messages]
    for text, pattern in texts:
        size, shown_before, shown_after = _figures(text, pattern)
        # the size equals the difference of the figures shown, to the precision shown
        assert size == abs(shown_after - shown_before), text
        assert -size.as_tuple().exponent == -shown_before.as_tuple().exponent, text
    # and it is the real change to that precision
    delta = (changed.nps_change if metric == "nps" else changed.csat_change).delta
    delta = delta if metric == "nps" else delta * 100
    assert float(size) == pytest.approx(abs(delta), abs=10.0 ** size.as_tuple().exponent)
    assert " 1 points" not in sentence and " 1 percentage points" not in sentence


def test_flags_of_a_falling_unit(falling):
    flags = {flag.key: flag for flag in report.flags(falling)}
    fall = flags["nps_change"]
    assert (fall.kind, fall.bad, fall.values["delta"]) == (CHANGE, True, -100.0)
    assert fall.message["en"] == (
        "NPS fell 100 points against the previous period, from +50 to −50 (p < 0.001)."
    )
    assert fall.message["zh"] == "净推荐值较上期下降 100 分，由 +50 降至 −50（p < 0.001）。"
    assert fall.section == {"en": "Net Promoter Score", "zh": "净推荐值"}
    assert flags["csat_change"].bad and flags["csat_change"].values["delta"] == pytest.approx(-0.5)
    below = flags["nps_below_zero"]
    assert (below.kind, below.bad, below.strength) == (ALERT, True, pytest.approx(0.5))
    assert below.message["en"] == "NPS is −50: more detractors (66.7%) than promoters (16.7%)."
    # delivery speed: the heavier weight and the lower mean; shortfall from the average
    q3 = _falling_surveys().iloc[60:]
    means = q3[["dim_delivery_speed", "dim_price"]].mean()
    fix = flags["fix_first"]
    assert fix.values["dimensions"] == ["dim_delivery_speed"]
    assert fix.strength == pytest.approx(
        (means.mean() - means["dim_delivery_speed"]) / means.mean()
    )
    assert fix.message["en"].startswith("Fix first: delivery speed, with a weight in NPS above")
    assert fix.section["zh"] == "满意度的驱动因素"
    # both changes rank before both alerts; every flag has an action in both languages
    ranked = rank_flags(flags.values())
    assert [f.kind for f in ranked] == [CHANGE, CHANGE, ALERT, ALERT]
    assert all(f.action["en"] and f.action["zh"] for f in ranked)


def _fix_first_surveys() -> pd.DataFrame:
    """The falling unit's responses with price scored lowest of all (1–2) but weighing
    little, and product quality scored high: delivery speed, which drives NPS, is still
    below the dimensions' average, though not below every other dimension."""
    rng = np.random.default_rng(11)
    return _falling_surveys().assign(
        dim_price=rng.choice([1, 1, 2], 120), dim_product_quality=rng.choice([4, 5], 120)
    )


def test_fix_first_is_below_the_average_not_below_every_other_dimension():
    analysis = sat.analyse(_fix_first_surveys(), period=Q3, breakdown_columns=[])
    table = analysis.quadrants.set_index("dimension")
    average = table["performance"].mean()
    speed, price = (
        table.loc["dim_delivery_speed", "performance"],
        table.loc["dim_price", "performance"],
    )
    # the case: price scores lower than delivery speed, which is below the average
    assert price < speed < average
    assert table.loc["dim_delivery_speed", "quadrant"] == "fix first"
    assert table.loc["dim_price", "quadrant"] == "low priority"
    (fix,) = [f for f in report.flags(analysis) if f.key == "fix_first"]
    assert fix.message["en"] == (
        "Fix first: delivery speed, with a weight in NPS above the dimensions' average yet a "
        f"score below their average ({num(speed, 2)} against an average of {num(average, 2)})."
    )
    assert fix.message["zh"] == (
        "优先改进：配送速度对净推荐值的影响高于各维度平均水平，得分却低于各维度平均分"
        f"（{num(speed, 2)} 分，各维度平均 {num(average, 2)} 分）。"
    )
    found = report.key_findings(analysis)
    assert (
        "Fix first (weight in NPS above the dimensions' average, score below their average): "
        "delivery speed." in found
    )
    with language("zh"):
        found_zh = report.key_findings(analysis)
        intro = words("satisfaction.drivers_heading_intro")
    assert (
        "优先改进（对净推荐值的影响高于各维度平均水平、得分低于各维度平均分）：配送速度。"
        in found_zh
    )
    # no sentence says it scores below the others: price scores lower
    texts = [*found, *found_zh, fix.message["en"], fix.message["zh"], intro]
    texts += [words("satisfaction.drivers_heading_intro")]
    assert not [t for t in texts if "other dimensions" in t or "其他维度" in t]
    assert all("average" in t for t in (fix.message["en"], texts[-1]))


def test_no_flag_for_a_change_within_chance(analysis):
    assert analysis.nps_change.p_value >= 0.05 and analysis.csat_change.p_value >= 0.05
    assert report.flags(analysis) == []  # NPS +50, no dimensions: nothing past a level either


def test_chinese_findings_and_flags_hold_no_english(falling):
    with language("zh"):
        texts = report.key_findings(falling) + list(report.skipped(falling).values())
        texts += [report.change_sentence(falling, m) for m in ("nps", "csat")]
        texts += report.methods(falling)
    for flag in report.flags(falling):
        texts += [flag.message["zh"], flag.action["zh"], flag.section["zh"]]
    assert len(texts) > 10
    assert english_words(texts) == []


def test_one_group_and_failed_drivers_in_both_languages():
    surveys = _quarter_surveys().assign(touchpoint="web", dim_speed=3.0)
    analysis = sat.analyse(surveys, period=Q3, breakdown_columns=["touchpoint"])
    with language("zh"):
        skipped = report.skipped(analysis)
        assert skipped["breakdowns"] == "未按触点分组：本期所有回复的触点都相同（web），无从比较。"
        assert skipped["drivers"] == (
            "未分析驱动因素：所有回复在speed上的评分都相同，无法衡量其影响。"
        )  # an unknown dim_* column shows its own name
    assert report.skipped(analysis)["breakdowns"] == (
        "Breakdown by touchpoint skipped: every response of this period has the same touchpoint "
        "(web), so there is nothing to compare."
    )
    assert report.drivers_error("something else") == (
        "Key drivers skipped: the weights cannot be computed on this period's responses."
    )


def test_tables_are_headed_by_glossary_terms(falling):
    drivers = report.drivers_view(falling)
    assert all(is_term(c) for c in drivers.columns)
    assert drivers.set_index("dimension").loc["delivery speed", "quadrant"] == "fix first"
    with language("zh"):
        assert set(report.drivers_view(falling)["dimension"]) == {"配送速度", "价格"}
    table = pd.DataFrame(
        {
            "group": ["web", "(none)"],
            "responses": [40, 5],
            "nps": [12.4, np.nan],
            "nps_low": [-3.2, np.nan],
            "nps_high": [27.9, np.nan],
            "csat": [0.8, 0.6],
            "verdict": ["no clear difference", "too few to judge"],
            "p_adjusted": [0.4, np.nan],
        }
    )
    view = report.breakdown_view(table, "touchpoint")
    assert all(is_term(c) for c in view.columns)
    assert view["nps_ci"][0] == "−3 to +28" and pd.isna(view["nps_ci"][1])
    assert view["touchpoint"].tolist() == ["web", "(none)"]
    with language("zh"):
        view = report.breakdown_view(table, "touchpoint")
    assert view["nps_verdict"].tolist() == ["无明显差异", "样本太少，无法判断"]
    assert view["touchpoint"].tolist() == ["web", "（无）"]
    detail = report.breakdown_detail(table, "touchpoint")
    assert all(is_term(c) for c in detail.columns)


def test_themes_and_loyalty_in_words(analysis):
    assert report.theme_label(["expensive", "compared", "shops", "price"]) == (
        "expensive · compared · shops"
    )
    view = report.themes_view(analysis, "promoter")
    assert list(view.columns) == ["theme", "mentions", "example_comments"]
    assert view.empty  # "great": 3 comments, under the 5 a theme needs
    assert report.theme_keywords(analysis.themes, "passive") == []
    by_group = pd.DataFrame(
        {
            "nps_group": ["detractor", "passive", "promoter"],
            "customers": [3, 4, 5],
            "repeat_rate": [0.1, 0.2, 0.3],
            "loyalty_score": [40.0, 60.0, 80.0],
        }
    )
    with language("zh"):
        loyalty = report.loyalty_view(by_group)
    assert loyalty["nps_group"].tolist() == ["推荐者", "被动者", "贬损者"]
    assert loyalty["respondents"].tolist() == [5, 4, 3]
    assert all(is_term(c) for c in loyalty.columns)


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
    # the verdict in plain words for the manager; the test's name only in the methods
    assert report.spend_sentence(fake, currency="CNY") == (
        "In the 90 days after responding, promoters spent a median of CN¥100 and detractors "
        "CN¥1,234: a significant difference (p < 0.001)."
    )
    fake.nps_drivers = None
    assert report.methods(fake)[-1] == (
        "Spend after responding, promoters against detractors: Mann–Whitney test on the "
        "90-day spend, p < 0.001."
    )
    with language("zh"):
        assert report.spend_sentence(fake, currency="CNY") == (
            "回复后 90 天内，推荐者消费额中位数为 ¥100，贬损者为 ¥1,234，差异显著（p < 0.001）。"
        )
        assert "Mann–Whitney 检验" in report.methods(fake)[-1]
        assert set(report.spend_view(fake)["nps_group"]) == {"推荐者", "被动者", "贬损者"}
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
def test_souths_nps_fall_is_its_first_satisfaction_flag():
    analysis = _sample("south")
    ranked = rank_flags(report.flags(analysis))
    first = ranked[0]
    assert (first.key, first.kind, first.bad) == ("nps_change", CHANGE, True)
    assert first.values["delta"] < -50 and first.p_value < 0.001
    assert first.message["en"].startswith("NPS fell 55 points against the previous period")
    assert "nps_below_zero" in {f.key for f in ranked}  # south's NPS is below zero too


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
    assert not {"两个", "星期"} & set(themes)  # time words make no theme
    assert analysis.breakdowns["segment"]["group"].isin(SEGMENT_ORDER).all()
