"""The funnel report's words and published results say what the numbers say."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, pipeline_history, pipeline_opportunities, sample_funnel

import crmkit as ck
from crmkit.core.periods import parse_period
from crmkit.metrics import funnel
from crmkit.topics import funnel as report
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


def test_results_carry_every_key_and_the_stage_names(analysis):
    results = report.results(analysis)
    assert set(results) == set(TOPICS["funnel"].results)  # exactly the registry's keys
    assert results["stage_counts"] == {"lead": 7, "intent": 4, "negotiation": 3, "won": 1}
    assert list(results["stage_conversion"]) == [
        "lead->intent", "intent->negotiation", "negotiation->won"
    ]  # fmt: skip
    assert results["win_rate"] == pytest.approx(1 / 4)
    assert results["stuck_open"] == 3
    assert results["bottleneck"] is None  # the previous period had no opportunities
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


def test_key_findings_and_sections_quote_the_numbers(analysis):
    found = report.key_findings(analysis, currency="CNY")
    assert found[0] == (
        "No step can be compared with the previous period (no decided opportunities)."
    )
    assert found[1] == (
        "7 opportunities were created in the period (no comparable previous period); 3 are "
        "still open. Win rate 25.0%, overall conversion 14.3%; the previous period has no "
        "opportunities to compare with."
    )
    assert found[2] == (
        "Deals won in this period took a median of 31 days from creation (1 deals); no deal was "
        "won in the previous period to compare with."
    )
    assert found[3].startswith("Pipeline velocity: 24 CNY a day (3 open × 25.0% win rate")
    sections = report.section_findings(analysis, currency="CNY")
    assert sections["funnel"].startswith(
        "Of the 7 opportunities created in the period, 1 has been won so far. The weakest step "
        "is lead → intent: 66.7% of the opportunities decided at lead moved on."
    )
    assert sections["stuck"].startswith("3 open opportunities have waited in their stage")
    assert "roi" not in sections  # no costs given


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
        "Bottleneck: b → c conversion fell from 50.0% to 20.0% (-30.0 points, p = 0.020 after "
        "Holm's correction over 2 steps) — a significant fall."
    )
    fake.cycle = funnel.cycle_change(pd.Series([50, 60, 70, 80, 90]), pd.Series([10, 20, 30]))
    assert report.cycle_sentence(fake).endswith(
        "the cycle has lengthened significantly — an early warning for revenue."
    )


def test_stuck_table_shows_pseudonyms_never_ids(analysis):
    table = report.stuck_table(analysis, salt="north")
    ids = analysis.stuck["opportunity_id"]
    expected = ["O-" + hashlib.sha256(f"north:{i}".encode()).hexdigest()[:8] for i in ids]
    assert table["opportunity"].tolist() == expected
    assert "opportunity_id" not in table.columns
    assert {"days_in_stage", "p90_of_movers"} <= set(table.columns)


def test_reading_tables(analysis):
    view = report.funnel_view(analysis)
    assert view["reached"].tolist() == [7, 4, 3, 1]
    assert view["interval"].iloc[0] == "–"
    comparison = report.comparison_view(analysis)
    assert comparison["step"].tolist() == [
        "lead → intent", "intent → negotiation", "negotiation → won"
    ]  # fmt: skip
    assert (comparison["change"] == "–").all()  # nothing to compare with
    velocity = report.velocity_table(analysis).set_index("part")["value"]
    assert velocity.iloc[0] == "3" and velocity.iloc[1] == "25.0%"
    curves = report.cycle_curves(analysis)
    assert list(curves) == ["this period", "previous period"]
    assert curves["this period"] is analysis.cycle_curve


def test_breakdown_view_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    table = funnel.breakdown(positions, by="source", stages=STAGES, min_group=4)
    view = report.breakdown_view(table, by="source")
    assert view.columns[0] == "source" and "lead → intent" in view.columns
    by_source = view.set_index("source")
    assert by_source.loc["fair", "verdict"] == "too few to judge"
    assert by_source.loc["web", "lead → intent"] == "100% (44%–100%)"  # 3 of 3, Wilson
    assert np.isclose(by_source.loc["web", "opportunities"], 4)


def _sample_analysis(name: str, period: str = "2026-Q3"):
    return sample_funnel(name, period)


@pytest.mark.slow
def test_the_planted_bottleneck_is_found_and_nothing_else():
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]
    for name, truth in planted.items():
        _, _, analysis = _sample_analysis(name)
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
    unit, stages, analysis = _sample_analysis("east")
    assert stages == ["潜在客户", "意向客户", "洽谈客户", "成交客户"]
    results = report.results(analysis)
    assert list(results["stage_counts"]) == stages
    created = unit["opportunities"]["created_at"]
    in_period = ((created >= "2026-07-01") & (created < "2026-10-01")).sum()
    assert results["stage_counts"]["潜在客户"] == in_period == results["opportunities_created"]
    assert analysis.unknown_stages.empty
    roi = analysis.roi.set_index("source")
    assert roi["spend"].notna().all() and (roi["leads"] > 0).all()
