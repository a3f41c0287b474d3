"""The funnel report's words and published results say what the numbers say, in English and
Chinese, each figure under its one glossary name."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, pipeline_history, pipeline_opportunities, sample_funnel
from language_check import english_words

import crmkit as ck
from crmkit.core.periods import parse_period
from crmkit.metrics import funnel
from crmkit.present.language import is_term, language, term, words
from crmkit.topics import funnel as report
from crmkit.topics import funnel_tables as views
from crmkit.topics.registry import TOPICS

STAGES = ["lead", "intent", "negotiation", "won"]


@pytest.fixture
def opportunities() -> pd.DataFrame:
    return pipeline_opportunities()


@pytest.fixture
def history() -> pd.DataFrame:
    return pipeline_history()


@pytest.fixture
def analysis(opportunities, history) -> funnel.FunnelAnalysis:
    return funnel.analyse(
        opportunities, history, stages=STAGES, period=parse_period("2026-Q3"), window_days=90
    )


@pytest.fixture
def full(opportunities, history) -> funnel.FunnelAnalysis:
    """The hand-counted pipeline with breakdowns and acquisition spend for source ROI."""
    costs = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01"]),
            "category": ["acquisition", "acquisition"],
            "channel": ["web", "fair"],
            "amount": [100.0, 50.0],
        }
    )
    return funnel.analyse(
        opportunities,
        history,
        stages=STAGES,
        period=parse_period("2026-Q3"),
        window_days=90,
        breakdown_columns=["source", "owner"],
        costs=costs,
        min_group=3,
    )


def test_results_carry_every_key_and_the_stage_names(analysis):
    results = report.results(analysis)
    assert set(results) == set(TOPICS["funnel"].results)  # exactly the registry's keys
    assert results["stage_counts"] == {"lead": 7, "intent": 4, "negotiation": 3, "won": 1}
    assert list(results["stage_conversion"]) == [
        "lead->intent", "intent->negotiation", "negotiation->won"
    ]  # fmt: skip
    assert results["win_rate"] == pytest.approx(1 / 4)  # p1 won; p2 p3 p7 lost
    assert results["stuck_open"] == 3
    assert results["bottleneck"] is None  # the previous period had no opportunities
    change = results["win_rate_change"]
    assert set(change) == {"delta", "ci", "p_value"} and np.isnan(change["delta"])
    assert any("unknown stage" in note for note in report.notes(analysis))
    json.dumps(ck.nb.to_json_ready(results))


def test_notes_say_what_was_skipped_or_ignored(opportunities, history):
    analysis = funnel.analyse(
        opportunities,
        history,
        stages=STAGES,
        period=parse_period("2026-Q3"),
        window_days=90,
        breakdown_columns=["source", "region"],
        costs=pd.DataFrame({"month": [pd.Timestamp("2026-07-01")], "amount": [1.0]}),
    )
    assert report.notes(analysis) == [
        "Breakdown by region skipped: opportunities carry no region.",
        "Source ROI skipped: the costs table has no channel column.",
        "1 stage-history rows name a stage outside this unit's funnel (unknown stage) and were "
        "ignored; set funnel_stages in the unit's parameters if they belong to it.",
    ]
    empty = funnel.analyse(
        opportunities, history, stages=STAGES, period=parse_period("2026-Q1"), window_days=90
    )
    assert report.notes(empty)[-1] == "No opportunities were created in this period."
    # the notes close the key findings
    assert report.key_findings(analysis)[-3:] == report.notes(analysis)
    with language("zh"):
        assert report.notes(analysis)[0] == "按地区分组略过：商机没有地区信息。"


def test_key_findings_and_sections_quote_the_numbers(analysis):
    found = report.key_findings(analysis, currency="CNY")
    assert found[0] == (
        "No step can be compared with the previous period (no decided opportunities)."
    )
    assert found[1] == (
        "7 opportunities were created in the period (no comparable previous period); 3 are "
        "still open."
    )
    assert found[2] == (
        "Win rate (won ÷ won + lost) 25.0% (1 won of 4 decided); the previous period has no "
        "decided opportunity to compare with."
    )
    assert found[3] == (
        "Overall conversion (won ÷ all created) 14.3%; the previous period has no opportunities "
        "to compare with."
    )
    assert found[4] == (
        "Median days to win: 31 days over this period's won deals (n = 1); no deal was won in "
        "the previous period to compare with."
    )
    # 3 open × 25% × 1,000 ÷ 31 days = 24.19 a day
    assert found[5].startswith("Pipeline velocity: CN¥24 a day (3 open × 25.0% win rate")
    sections = report.section_findings(analysis, currency="CNY")
    assert sections["funnel"].startswith(
        "Won so far: 1 of the 7 opportunities created in the period (cumulative conversion to "
        "the last stage: 14.3%). The weakest step is lead → intent: a step conversion of 66.7%"
    )
    assert sections["stuck"].startswith("3 open opportunities have waited in their stage")
    assert "roi" not in sections  # no costs given


def test_every_conversion_sentence_names_its_figure(analysis):
    """Each sentence showing a conversion figure says which one (item 2 of issue #12)."""
    win, overall = report.win_rate_sentence(analysis), report.overall_sentence(analysis)
    assert win.startswith(term("win_rate").capitalize()) and "won ÷ won + lost" in win
    assert overall.startswith(term("overall_conversion").capitalize())
    assert term("cumulative_conversion") in report.section_findings(analysis)["funnel"]
    assert term("step_conversion") in report.section_findings(analysis)["funnel"]
    with language("zh"):
        assert report.win_rate_sentence(analysis).startswith("赢单率")
        assert report.overall_sentence(analysis).startswith("整体转化率")
        assert "累计转化率" in report.section_findings(analysis)["funnel"]


def test_one_cohort_one_figure_per_name(full):
    """The cohort's conversions agree wherever they are shown: the cumulative conversion at the
    last stage is the overall conversion; the rates table holds the published win rate and
    overall conversion from its own counts; the change is the difference of the two rates."""
    results = report.results(full)
    funnel_table = views.funnel_view(full).set_index("funnel_stage")
    assert funnel_table.loc["won", "cumulative_conversion"] == pytest.approx(
        results["overall_conversion"]
    )
    rates = views.rates_view(full).iloc[0]
    assert rates["cohort_won"] / (rates["cohort_won"] + rates["cohort_lost"]) == pytest.approx(
        results["win_rate"]
    )
    assert rates["cohort_won"] / rates["opportunities_created"] == pytest.approx(
        results["overall_conversion"]
    )
    assert rates["win_rate"] == results["win_rate"]
    assert views.velocity_table(full)["win_rate"].iloc[0] == results["win_rate"]
    change = full.win_rate_change
    assert change.now == results["win_rate"]
    assert np.isnan(change.before) and np.isnan(full.previous_win_rate)  # nothing created in Q2


def test_every_header_of_the_funnel_views_is_a_glossary_key(full):
    frames = [
        views.funnel_view(full),
        views.comparison_view(full),
        views.comparison_tests(full),
        views.durations_view(full),
        views.stuck_table(full, salt="x"),
        views.rates_view(full),
        views.velocity_table(full),
        views.roi_view(full),
    ]
    for frame in frames:
        assert [c for c in frame.columns if not is_term(c)] == [], list(frame.columns)
    for column, table in full.breakdowns.items():
        view = views.breakdown_view(table, by=column)
        labels = views.breakdown_labels(view)
        assert set(labels) == {"lead->intent", "intent->negotiation", "negotiation->won"}
        assert all(label.startswith(term("step_conversion")) for label in labels.values())
        assert [c for c in view.columns if c not in labels and not is_term(c)] == []
    # one figure, one name: no two glossary figures of the funnel share a name
    with language("zh"):
        names = [term(c) for frame in frames for c in dict.fromkeys(frame.columns)]
        by_key = {c: term(c) for frame in frames for c in frame.columns}
        assert len(set(by_key.values())) == len(by_key), names


def test_bottleneck_and_cycle_sentences_follow_their_verdicts():
    comparison = pd.DataFrame(
        {
            "step": ["a->b", "b->c"],
            "now": [0.5, 0.2],
            "before": [0.6, 0.5],
            "delta": [-0.1, -0.3],
            "p_value": [0.04, 0.01],
        }
    )
    fake = type("Analysis", (), {})()
    fake.comparison = comparison
    fake.bottleneck = funnel.find_bottleneck(comparison)
    assert report.bottleneck_sentence(fake) == (
        "Bottleneck: step conversion b → c fell from 50.0% to 20.0% (−30.0 points, p = 0.020, "
        "allowing for the 2 steps compared) — a significant fall."
    )
    with language("zh"):
        assert report.bottleneck_sentence(fake) == (
            "瓶颈环节：b → c 的阶段转化率由 50.0% 降至 20.0%（−30.0 个百分点，p = 0.020，"
            "已考虑 2 个环节同时比较），降幅显著。"
        )
    fake.cycle = funnel.cycle_change(pd.Series([50, 60, 70, 80, 90]), pd.Series([10, 20, 30]))
    assert report.cycle_sentence(fake).endswith(
        "the cycle has lengthened significantly — an early warning for revenue."
    )


def _stages_table(reached: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stage": ["a", "b", "c", "d"],
            "reached": reached,
            "open_here": [0, 0, 0, 0],
            "step_conversion": [np.nan] + [reached[k] / reached[k - 1] for k in (1, 2, 3)],
        }
    )


def test_comparison_table_shows_intervals_that_agree_with_its_verdicts():
    """Item 1 of the review: a row's interval leaves out zero exactly when the row says
    "significant change: yes", and the caption says what the intervals are adjusted for.
    b → c (11/40 against 30/60, p = 0.025) has a plain 95% interval without zero but is not
    significant once three steps are compared: its shown interval must hold zero."""
    fake = type("Analysis", (), {})()
    fake.comparison = funnel.compare_steps(
        _stages_table([100, 40, 11, 5]), _stages_table([100, 60, 30, 6]), stages=list("abcd")
    )
    view = views.comparison_view(fake)
    assert view["step_change_significant"].tolist() == [True, False, False]
    c = fake.comparison
    excludes_zero = [(lo > 0) or (hi < 0) for lo, hi in zip(c["low"], c["high"], strict=True)]
    assert excludes_zero == view["step_change_significant"].tolist()
    # b → c: its interval at 98.3% holds zero (at 95% it would be −39.9 to −2.9 points)
    assert view["step_change_interval"].iloc[1] == "−43.4 to +1.6 points"
    assert views.comparison_caption(fake) == (
        "Step conversion, this period against the previous one; intervals adjusted for "
        "comparing 3 steps (98.3% confidence each)"
    )
    with language("zh"):
        assert views.comparison_caption(fake) == (
            "各环节阶段转化率：本期与上期对比（同时比较 3 个环节，置信区间已相应校正，"
            "各取 98.3% 置信水平）"
        )
        assert english_words([views.comparison_caption(fake)]) == []


def _cycle_case():
    """A fake analysis: 40 deals a cohort, one created each day, aged 20 to 59 days; this
    period's first 30 won (on days 20 to 49), the rest open; the previous period's alike."""
    from crmkit.metrics.sales_cycle import cycle_change
    from crmkit.metrics.survival import kaplan_meier

    fake = type("Analysis", (), {})()
    days = np.arange(40) + 20
    won = np.arange(40) < 30
    fake.cycle_curve = kaplan_meier(days, won, min_at_risk=10)
    fake.previous_cycle_curve = kaplan_meier(days, won, min_at_risk=10)
    fake.cycle = cycle_change(pd.Series(days[won]), pd.Series(days[:30] + 5))
    return fake


def test_the_two_sales_cycle_figures_have_their_own_names():
    """Item 4 of the review: the median days to win (deals won in the period) and the day
    half of the won-or-open deals are won (the curve) are different figures, so they carry
    different glossary names, and each sentence names its own figure, not the other's."""
    fake = _cycle_case()  # 30 of 40 won: the curve passes one half at day 39
    assert fake.cycle_curve.median == 39
    for code in ("en", "zh"):
        with language(code):
            median, half = term("median_cycle_days"), term("half_won_days")
            assert median.lower() != half.lower()
            cycle = report.cycle_sentence(fake)
            curve = report.cycle_curve_sentence(fake)
            assert median.lower() in cycle.lower() and half.lower() not in cycle.lower()
            assert half.lower() in curve.lower() and median.lower() not in curve.lower()
    # median days to win: days 20..49 → 34.5, shown rounded; the curve's day: 39
    assert report.cycle_sentence(fake).startswith("Median days to win: 34 days over this")
    assert report.cycle_curve_sentence(fake) == (
        "Days until half are won (open deals included): 39 days — half of this period's "
        "won-or-open deals were won by day 39."
    )
    with language("zh"):
        assert report.cycle_curve_sentence(fake) == (
            "半数赢单天数（含未结商机）：39 天，即本期赢单或未结的商机中，有一半在第 39 天前赢单。"
        )
        # the velocity table shows the median days to win under the same name
        assert term("median_cycle_days") in words(
            "funnel.velocity", per_day="1", open="1", win_rate="1", amount="1", days="1"
        )
    assert "median days to win" in words(
        "funnel.velocity", per_day="1", open="1", win_rate="1", amount="1", days="1"
    )


def test_an_undrawn_cycle_curve_is_explained_as_the_chart_note_explains_it():
    """Item 2 of the review: when this period's curve is left out (too few won deals), the
    sentence under the chart gives the chart's reason in the chart's words, and says nothing
    of the undrawn curve's median."""
    from crmkit.metrics.survival import kaplan_meier
    from crmkit.present.plots import funnel as plots

    fake = _cycle_case()
    # one deal won, on day 59, when only it is left at risk: too few for a curve
    fake.cycle_curve = kaplan_meier(np.arange(40) + 20, np.arange(40) == 39, min_at_risk=10)
    assert fake.cycle_curve.table.empty and not fake.previous_cycle_curve.table.empty
    for code in ("en", "zh"):
        with language(code):
            (note,) = plots.omitted_notes(plots.plot_cycle_curves(report.cycle_curves(fake)))
            sentence = report.cycle_curve_sentence(fake)
            assert sentence.startswith(note), (sentence, note)
            assert term("half_won_days") not in sentence
    assert report.cycle_curve_sentence(fake) == (
        "This period: too few won deals (n = 1) to draw a curve, so the chart shows the "
        "previous period only."
    )
    assert "median" not in report.cycle_curve_sentence(fake)
    with language("zh"):
        assert (
            report.cycle_curve_sentence(fake)
            == "本期赢单太少（n = 1），未绘制曲线，图中仅显示上期。"
        )
    # neither curve drawn: the section's own skip sentence
    fake.previous_cycle_curve = fake.cycle_curve
    assert report.cycle_curve_sentence(fake) == words("funnel.skip_cycle_curve")


def test_stuck_table_shows_pseudonyms_never_ids(analysis):
    table = views.stuck_table(analysis, salt="north")
    ids = analysis.stuck["opportunity_id"]
    expected = ["O-" + hashlib.sha256(f"north:{i}".encode()).hexdigest()[:8] for i in ids]
    assert table["opportunity"].tolist() == expected
    assert "opportunity_id" not in table.columns
    assert {"days_in_stage", "p90_days_in_stage"} <= set(table.columns)


def test_reading_tables(analysis):
    view = views.funnel_view(analysis)
    assert view["reached"].tolist() == [7, 4, 3, 1]
    assert view["step_conversion_interval"].iloc[0] == "–"
    # lead → intent: 4 of 6 decided, Wilson 30% to 90%
    assert view["step_conversion_interval"].iloc[1] == "30% to 90%"
    comparison = views.comparison_view(analysis)
    assert comparison["funnel_step"].tolist() == [
        "lead → intent", "intent → negotiation", "negotiation → won"
    ]  # fmt: skip
    assert (comparison["step_conversion_change"] == "–").all()  # nothing to compare with
    assert comparison["step_change_significant"].isna().all()
    velocity = views.velocity_table(analysis).iloc[0]
    assert velocity["open_opportunities"] == 3 and velocity["win_rate"] == pytest.approx(0.25)
    rates = views.rates_view(analysis)
    assert rates[["cohort_won", "cohort_lost", "cohort_open"]].iloc[0].tolist() == [1, 3, 3]
    curves = report.cycle_curves(analysis)
    assert list(curves) == ["this period", "previous period"]
    assert curves["this period"] is analysis.cycle_curve
    with language("zh"):
        assert list(report.cycle_curves(analysis)) == ["本期", "上期"]


def test_breakdown_view_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    table = funnel.breakdown(positions, by="source", stages=STAGES, min_group=4)
    view = views.breakdown_view(table, by="source")
    assert view.columns[0] == "source" and "lead->intent" in view.columns
    by_source = view.set_index("source")
    assert by_source.loc["fair", "compared_with_rest"] == "too few to judge"
    assert by_source.loc["web", "lead->intent"] == "100% (44% to 100%)"  # 3 of 3, Wilson
    assert by_source.loc["web", "win_rate"] == "50% (9% to 91%)"  # 1 of 2
    assert np.isclose(by_source.loc["web", "opportunities_created"], 4)
    with language("zh"):
        zh = views.breakdown_view(table, by="source").set_index("source")
        assert zh.loc["fair", "compared_with_rest"] == "样本太少，无法判断"
        assert zh.loc["web", "lead->intent"] == "100%（44% 至 100%）"


def test_breakdown_sentences_name_the_figure_and_the_verdict():
    table = pd.DataFrame(
        {
            "group": ["web", "fair"],
            "metric": ["win_rate", "lead->intent"],
            "conversion": [0.4, 0.1],
            "rest": [0.2, 0.3],
            "p_adjusted": [0.01, 0.002],
            "verdict": ["above", "below"],
        }
    )
    fake = type("Analysis", (), {"breakdowns": {"source": table}})()
    assert report.breakdown_sentences(fake) == [
        "By lead source, web: win rate 40.0% against 20.0% for the rest — above the rest "
        "(p = 0.010, allowing for every test of the table).",
        "By lead source, fair: step conversion lead → intent 10.0% against 30.0% for the rest "
        "— below the rest (p = 0.002, allowing for every test of the table).",
    ]
    with language("zh"):
        assert report.breakdown_sentences(fake)[0] == (
            "按线索来源看，web的赢单率为 40.0%，其余组为 20.0%，高于其余组（p = 0.010，"
            "已做多重比较校正）。"
        )


# ----------------------------------------------------------------------------- Chinese


def test_chinese_findings_and_flags_have_no_english_words(full):
    """Everything the zh report writes, but for the data's own values (stage names, sources,
    owners) and the allowed proper names."""
    data = {*STAGES, "unknown", "stage", "web", "fair", "Ann", "Bo"}
    with language("zh"):
        texts = report.key_findings(full, currency="CNY")
        texts += list(report.section_findings(full, currency="CNY").values())
        texts += [*report.skipped(full).values(), report.definitions()]
        texts += [f.message["zh"] + f.action["zh"] for f in report.flags(full)]
        for frame in [views.comparison_view(full), views.rates_view(full)]:
            texts += [v for v in frame.to_numpy().ravel() if isinstance(v, str)]
    assert english_words(texts, data) == []


@pytest.mark.slow
def test_north_in_chinese_says_it_all_in_chinese():
    _, stages, analysis = sample_funnel("north")
    positions = analysis.positions
    data = {*stages, *positions["source"].dropna(), *positions["owner"].dropna()}
    data |= {part for value in list(data) for part in str(value).split()}
    with language("zh"):
        texts = report.key_findings(analysis, currency="USD")
        texts += [f.message["zh"] + f.action["zh"] for f in report.flags(analysis)]
    assert any("赢单率由 8.6% 降至 0.6%" in t for t in texts)
    assert english_words(texts, data) == []


# ----------------------------------------------------------------------------- flags


def _declared_and_worded(flag) -> None:
    assert flag.key in TOPICS["funnel"].flags
    for code in ("en", "zh"):
        assert flag.message[code] and flag.action[code] and flag.section[code]
    # the section is a heading of the report
    with language("en"):
        headings = {words(f"funnel.{k}") for k in ("velocity_heading", "comparison_heading")}
        headings |= {words(f"funnel.{k}") for k in ("durations_heading", "cycle_heading")}
    assert flag.section["en"] in headings


def test_stalled_deals_past_the_alert_level_raise_an_alert(analysis):
    # p4 p5 p6 are open and all three have waited past their stage's p90: 100% > 20%
    assert report.stuck_share(analysis) == pytest.approx(3 / 3)
    flag = report.stuck_flag(analysis)
    _declared_and_worded(flag)
    assert flag.kind == "alert" and flag.bad
    assert flag.strength == pytest.approx(1.0 / report.STUCK_ALERT_SHARE - 1)  # 4 times past
    assert flag.message["en"] == (
        "3 open opportunities (100.0% of the open pipeline) have stalled, past the alert level "
        "of 20%."
    )
    assert flag.message["zh"] == "有 3 个未结商机已停滞，占在途商机的 100.0%，超过 20% 的预警线。"


def test_no_win_rate_flag_without_a_previous_period_or_a_significant_change(analysis):
    assert report.win_rate_flag(analysis) is None  # the previous cohort is empty
    assert report.bottleneck_flag(analysis) is None and report.cycle_flag(analysis) is None


def test_win_rate_and_cycle_flags_by_hand():
    from crmkit.metrics.funnel_compare import win_rate_change

    fake = type("Analysis", (), {})()
    now = pd.DataFrame({"outcome": ["won"] * 5 + ["lost"] * 95})
    before = pd.DataFrame({"outcome": ["won"] * 30 + ["lost"] * 70})
    fake.win_rate_change = win_rate_change(now, before)
    flag = report.win_rate_flag(fake)
    _declared_and_worded(flag)
    assert flag.bad and flag.kind == "change"
    assert flag.values["delta"] == pytest.approx(-0.25)
    assert flag.message["en"] == "Win rate fell from 30.0% to 5.0% (−25.0 points, p < 0.001)."
    assert flag.message["zh"] == "赢单率由 30.0% 降至 5.0%（−25.0 个百分点，p < 0.001）。"
    fake.cycle = funnel.cycle_change(
        pd.Series(range(50, 80)), pd.Series(range(20, 50))
    )  # 30 days longer
    flag = report.cycle_flag(fake)
    _declared_and_worded(flag)
    assert flag.bad and flag.values["delta"] == pytest.approx(30.0)
    assert flag.message["en"] == "Median days to win lengthened from 34 to 64 days (p < 0.001)."


def test_a_win_rate_change_is_the_difference_of_the_two_rates_as_written():
    """14 of 31 won before (45.16%, written 45.2%), 1 of 31 now (3.23%, written 3.2%): the
    change reads 42.0 points beside them, not the unrounded 41.94 (41.9)."""
    from crmkit.metrics.funnel_compare import win_rate_change

    fake = type("Analysis", (), {})()
    now = pd.DataFrame({"outcome": ["won"] * 1 + ["lost"] * 30})
    before = pd.DataFrame({"outcome": ["won"] * 14 + ["lost"] * 17})
    fake.win_rate_change = win_rate_change(now, before)
    with language("en"):
        sentence = report.win_rate_sentence(fake)
    assert "45.2%" in sentence and "3.2%" in sentence and "−42.0 points" in sentence
    assert "from 45.2% to 3.2% (−42.0 points" in report.win_rate_flag(fake).message["en"]


@pytest.mark.slow
def test_north_funnel_collapse_is_its_top_news():
    """The sample's story: north's win rate fell from 8.6% to 0.6% in 2026-Q3 (intent →
    negotiation planted from 55% to 20%). The win-rate fall is flagged as bad news, strongly
    (z well above 3: it outranks a merely significant change of another topic), and north's
    top funnel flag is the win rate or the bottleneck."""
    _, _, analysis = sample_funnel("north")
    flags = report.flags(analysis)
    by_key = {f.key: f for f in flags}
    win = by_key["win_rate_change"]
    assert win.bad and win.kind == "change" and win.strength > 3
    assert win.values["before"] == pytest.approx(0.0855, abs=1e-3)
    assert win.values["now"] == pytest.approx(0.0058, abs=1e-3)
    assert report.results(analysis)["win_rate_change"]["delta"] == pytest.approx(
        win.values["delta"]
    )
    from crmkit.topics.flags import rank_flags

    top = rank_flags(flags)[0]
    assert top.key in {"win_rate_change", "bottleneck_fall"} and top.bad
    assert by_key["bottleneck_fall"].values["step"] == "intent->negotiation"
    for flag in flags:
        _declared_and_worded(flag)


@pytest.mark.slow
def test_units_without_a_planted_funnel_story_raise_no_funnel_flag():
    for name in ("south", "east", "west"):
        _, _, analysis = sample_funnel(name)
        assert report.flags(analysis) == [], name


# ----------------------------------------------------------------------------- sample


@pytest.mark.slow
def test_the_planted_bottleneck_is_found_and_nothing_else():
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]
    for name, truth in planted.items():
        _, _, analysis = sample_funnel(name)
        results = report.results(analysis)
        if truth["bottleneck"]:
            assert results["bottleneck"] == truth["bottleneck"]["step"]
            assert results["bottleneck_p_value"] < 0.05
            sentence = report.bottleneck_sentence(analysis)
            assert "intent → negotiation" in sentence and "a significant fall" in sentence
            assert results["bottleneck_summary"].endswith(", significant")
        else:
            assert not results["bottleneck_significant"], name
            assert results["bottleneck_summary"].endswith(("not significant", "no step fell"))
            assert "not a significant" in report.bottleneck_sentence(analysis) or (
                results["bottleneck"] is None
            )
        assert not results["cycle_lengthened"], name  # no unit has a planted cycle change


@pytest.mark.slow
def test_east_funnel_uses_its_chinese_stage_names():
    unit, stages, analysis = sample_funnel("east")
    assert stages == ["潜在客户", "意向客户", "洽谈客户", "成交客户"]
    results = report.results(analysis)
    assert list(results["stage_counts"]) == stages
    created = unit["opportunities"]["created_at"]
    in_period = ((created >= "2026-07-01") & (created < "2026-10-01")).sum()
    assert results["stage_counts"]["潜在客户"] == in_period == results["opportunities_created"]
    assert analysis.unknown_stages.empty
    roi = analysis.roi.set_index("source")
    assert roi["spend"].notna().all() and (roi["leads"] > 0).all()
    # the three "conversion" figures of one cohort, now three names: the cumulative
    # conversion at the last stage is the overall conversion (26 won of 253 created)
    assert results["overall_conversion"] == pytest.approx(26 / 253)
    assert analysis.current["cumulative_conversion"].iloc[-1] == results["overall_conversion"]
    assert results["win_rate"] == pytest.approx(26 / (26 + 144))


# ----------------------------------------------------------------------------- the notebook


def _notebook_cells():
    import nbformat

    return nbformat.read(ROOT / "crmkit/notebooks/funnel.ipynb", as_version=4).cells


def test_the_notebook_opens_with_the_flags_and_keeps_analyst_material_for_the_appendix():
    cells = _notebook_cells()
    code = [
        c for c in cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
    ]
    # set-up, then the flags, then the key findings
    assert "ck.open_unit(globals())" in code[0].source
    assert code[1].source == "display(Markdown(flags_markdown(flags)))"
    assert "report.key_findings" in code[2].source
    assert "flags=flags" in code[-1].source and "publish_results" in code[-1].source
    analyst = [c.source for c in cells if "analyst" in c.metadata.get("tags", [])]
    for needle in (
        "about_heading",
        "methods_heading",
        "bonferroni_p_value",
        "data_quality_heading",
    ):
        assert any(needle in source for source in analyst), needle
    manager = [c.source for c in cells if "analyst" not in c.metadata.get("tags", [])]
    assert not any("bonferroni_p_value" in s or "log_for" in s for s in manager)
    # no static words: every markdown cell is the notebook's own intro, kept out of the report
    markdown = [c for c in cells if c.cell_type == "markdown"]
    assert len(markdown) == 1 and markdown[0].metadata.tags == ["remove_cell"]


@pytest.mark.slow
def test_east_notebook_reads_in_chinese_from_top_to_bottom():
    from language_check import visible_text
    from notebook_runner import run_notebook

    from crmkit.run.params import load_params

    params = load_params(ROOT / "parameters" / "east.yaml")
    with language("en"):  # the run sets the language: put it back after
        run = run_notebook(
            "funnel",
            {**params, "data_source": str(ROOT / "sample_data"), "as_of": "2026-10-15"},
        )
    texts = run.texts("markdown") + run.texts("figure")
    texts += [t for html in run.texts("html") for t in visible_text(html)]
    assert any("赢单率" in t for t in texts) and any("累计转化率" in t for t in texts)
    # method names of the analyst notes, as Chinese analysts write them
    assert english_words(texts, {"Newcombe", "Hodges", "Lehmann"}) == []
