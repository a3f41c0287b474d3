"""Funnel metrics on a tiny stage history with hand-counted answers, and the source effects
the sample generator planted."""

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, pipeline_history, pipeline_opportunities, sample_funnel

import crmkit as ck
from crmkit.core.errors import DataError, ParameterError
from crmkit.core.periods import parse_period, range_period
from crmkit.metrics import funnel

STAGES = ["lead", "intent", "negotiation", "won"]
Q3 = parse_period("2026-Q3")


@pytest.fixture
def opportunities() -> pd.DataFrame:
    return pipeline_opportunities()


@pytest.fixture
def history() -> pd.DataFrame:
    return pipeline_history()


def test_furthest_stage_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    reached = dict(zip(positions["opportunity_id"], positions["stage"], strict=True))
    assert reached == {
        "p1": "won",
        "p2": "intent",
        "p3": "lead",
        "p4": "negotiation",
        "p5": "lead",
        "p6": "negotiation",
        "p7": "lead",
    }
    outcomes = dict(zip(positions["opportunity_id"], positions["outcome"], strict=True))
    assert outcomes["p6"] == "open"  # closed after the day the funnel is taken


def test_as_of_counts_the_whole_last_day_whatever_its_time(opportunities, history):
    # p6 won at 2026-10-05 00:00; taken "as of 5 October, 09:30" it is won, as of the 4th open
    late = history.assign(
        entered_at=history["entered_at"].where(
            history["entered_at"] != "2026-10-05", pd.Timestamp("2026-10-05 17:45")
        )
    )
    closing = opportunities.assign(
        closed_at=opportunities["closed_at"].where(
            opportunities["closed_at"] != "2026-10-05", pd.Timestamp("2026-10-05 17:45")
        )
    )
    on_the_day = funnel.furthest_stage(
        closing, late, stages=STAGES, as_of="2026-10-05 09:30"
    ).set_index("opportunity_id")
    assert on_the_day.loc["p6", ["stage", "outcome"]].tolist() == ["won", "won"]
    day_before = funnel.furthest_stage(
        closing, late, stages=STAGES, as_of=date(2026, 10, 4)
    ).set_index("opportunity_id")
    assert day_before.loc["p6", ["stage", "outcome"]].tolist() == ["negotiation", "open"]


def test_funnel_table_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    table = funnel.funnel_table(positions, stages=STAGES).set_index("stage")
    # reached: lead 7; intent p1 p2 p4 p6 = 4; negotiation p1 p4 p6 = 3; won p1 = 1
    assert table["reached"].tolist() == [7, 4, 3, 1]
    # open: p5 at lead; p4 and p6 at negotiation
    assert table["open_here"].tolist() == [1, 0, 2, 0]
    # lead->intent: 4 of (7 - 1 open) = 4/6; intent->negotiation: 3/4; negotiation->won: 1/(3-2)
    assert table["step_conversion"].tolist()[1:] == pytest.approx([4 / 6, 3 / 4, 1.0])
    # cumulative conversion: reached ÷ created (7); at won it is the overall conversion, 1/7
    assert table["cumulative_conversion"].tolist() == pytest.approx([1.0, 4 / 7, 3 / 7, 1 / 7])
    assert table.loc["won", "cumulative_conversion"] == pytest.approx(
        funnel.overall_conversion(positions)
    )
    assert table["drop_off"].tolist() == [0, 2, 1, 0]
    assert table.loc["intent", "low"] < 4 / 6 < table.loc["intent", "high"]
    assert funnel.win_rate(positions) == pytest.approx(1 / 4)  # p1 won; p2 p3 p7 lost
    assert funnel.overall_conversion(positions) == pytest.approx(1 / 7)


def test_compare_steps_and_cohorts(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    first_days = range_period(date(2026, 7, 1), date(2026, 7, 3))
    first = funnel.funnel_table(funnel.cohort(positions, period=first_days), stages=STAGES)
    assert first["reached"].tolist() == [3, 2, 1, 1]
    compared = funnel.compare_steps(
        first, funnel.funnel_table(positions, stages=STAGES), stages=STAGES
    )
    assert compared["step"].tolist() == ["lead->intent", "intent->negotiation", "negotiation->won"]
    assert compared.loc[0, "delta"] == pytest.approx(2 / 3 - 4 / 6)


def test_stage_list_must_have_two_stages(opportunities, history):
    with pytest.raises(ParameterError, match="at least two stages"):
        funnel.furthest_stage(opportunities, history, stages=["lead"], as_of="2026-09-30")


def test_time_in_stage_and_stuck_by_hand(opportunities, history):
    durations = funnel.time_in_stage(history, stages=STAGES, as_of="2026-09-30")
    p1 = durations.loc[durations["opportunity_id"] == "p1"].set_index("stage")["days"]
    assert p1.to_dict() == {"lead": 4, "intent": 10, "negotiation": 17}
    p4 = durations.loc[durations["opportunity_id"] == "p4"].set_index("stage")
    assert p4.loc["lead", "days"] == 16  # skipped intent: lead until negotiation
    assert not p4.loc["negotiation", "moved_on"] and p4.loc["negotiation", "days"] == 72
    table = funnel.stage_durations(durations, stages=STAGES).set_index("stage")
    # movers out of lead: p1 4, p2 4, p4 16, p6 3 → median 4
    assert table.loc["lead", "moved_on"] == 4 and table.loc["lead", "median"] == 4
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    stuck = funnel.stuck_open(durations, positions, stages=STAGES)
    # negotiation movers: p1 17 days → p90 17; p4 (72 days) and p6 (29 days) are stuck there,
    # p5 has sat 87 days at lead against a p90 of 12.4
    assert stuck["opportunity_id"].tolist() == ["p5", "p4", "p6"]


def test_an_opportunity_without_stage_history_is_a_lead(opportunities, history):
    extra = pd.DataFrame(
        {
            "opportunity_id": ["p8"],
            "created_at": pd.to_datetime(["2026-07-08"]),
            "outcome": ["lost"],
            "closed_at": pd.to_datetime(["2026-07-09"]),
        }
    )
    positions = funnel.furthest_stage(
        pd.concat([opportunities, extra]), history, stages=STAGES, as_of="2026-09-30"
    )
    p8 = positions.set_index("opportunity_id").loc["p8"]
    assert (p8["stage"], p8["outcome"]) == ("lead", "lost")
    table = funnel.funnel_table(positions, stages=STAGES)
    assert table.loc[1, "step_conversion"] == pytest.approx(4 / 7)  # p8 lost at lead
    assert table.loc[1, "drop_off"] == 3


def test_unknown_stages_are_counted(history):
    unknown = funnel.unknown_stages(history, stages=STAGES)
    assert unknown.to_dict("records") == [{"stage": "unknown stage", "rows": 1}]


def test_breakdown_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    table = funnel.breakdown(positions, by="source", stages=STAGES, min_group=4)
    web = table.loc[table["group"] == "web"].set_index("metric")
    # web: p1 won, p2 lost at intent, p5 open at lead, p6 open at negotiation
    assert web.loc["lead->intent", ["trials", "successes"]].tolist() == [3, 3]
    assert web.loc["intent->negotiation", ["trials", "successes"]].tolist() == [3, 2]
    assert web.loc["negotiation->won", ["trials", "successes"]].tolist() == [1, 1]
    assert web.loc["win_rate", ["trials", "successes"]].tolist() == [2, 1]
    fair = table.loc[table["group"] == "fair"].set_index("metric")
    # fair (3 opportunities) is under min_group: shown, not tested
    assert (fair["verdict"] == "too_few").all() and fair["p_value"].isna().all()
    # web's lead->intent 3/3 against fair's 1/3: z test p = 0.0833, one test per metric
    expected = ck.stats.two_proportion_test(3, 3, 1, 3).p_value
    assert web.loc["lead->intent", "p_value"] == pytest.approx(expected)
    # Holm over the table's four tests (fair's are not tests)
    assert web["p_adjusted"].tolist() == pytest.approx(
        ck.stats.holm(web["p_value"]).tolist(), nan_ok=True
    )
    assert web.loc["lead->intent", "p_adjusted"] > expected
    with pytest.raises(ParameterError, match="region"):
        funnel.breakdown(positions, by="region", stages=STAGES)


def test_bottleneck_is_the_step_that_fell_most():
    comparison = pd.DataFrame(
        {
            "step": ["a->b", "b->c", "c->d"],
            "now": [0.5, 0.2, 0.6],
            "before": [0.6, 0.5, 0.5],
            "delta": [-0.1, -0.3, 0.1],
            "p_value": [0.04, 0.01, 0.5],
        }
    )
    bottleneck = funnel.find_bottleneck(comparison)
    assert bottleneck.step == "b->c"
    assert bottleneck.p_adjusted == pytest.approx(0.03)  # Holm: smallest of 3 × 3
    assert bottleneck.significant
    rose = comparison.assign(delta=[0.1, 0.2, 0.0])
    assert funnel.find_bottleneck(rose) is None


def test_analyse_takes_one_period_and_lists_what_it_skipped(opportunities, history):
    analysis = funnel.analyse(
        opportunities,
        history,
        stages=STAGES,
        period=Q3,
        window_days=90,
        breakdown_columns=["source", "region"],
        costs=pd.DataFrame({"month": [pd.Timestamp("2026-07-01")], "amount": [1.0]}),
    )
    assert analysis.period == Q3
    assert analysis.current["reached"].tolist() == [7, 4, 3, 1]
    assert analysis.previous["reached"].tolist() == [0, 0, 0, 0]  # nothing created in Q2
    assert analysis.skipped_breakdowns == ["region"] and list(analysis.breakdowns) == ["source"]
    assert analysis.costs_without_channel and analysis.roi is None
    assert analysis.unknown_stages["stage"].tolist() == ["unknown stage"]
    # both cohorts' sales-cycle curves: this one has p1 won after 31 days, the previous none
    assert (analysis.cycle_curve.n, analysis.previous_cycle_curve.n) == (4, 0)
    with pytest.raises(ParameterError, match=r"needs period as a crmkit\.core\.periods\.Period"):
        funnel.analyse(opportunities, history, stages=STAGES, period="2026-Q3", window_days=90)


def test_analyse_counts_the_last_day_of_each_period_whatever_the_time(opportunities, history):
    # created at 23:59 on 30 September: in Q3's cohort; on 1 October: not
    late = pd.DataFrame(
        {
            "opportunity_id": ["p8", "p9"],
            "created_at": pd.to_datetime(["2026-09-30 23:59", "2026-10-01 00:00"]),
            "outcome": ["open", "open"],
            "closed_at": pd.to_datetime([None, None]),
        }
    )
    analysis = funnel.analyse(
        pd.concat([opportunities, late], ignore_index=True),
        history,
        stages=STAGES,
        period=Q3,
        window_days=90,
    )
    assert set(analysis.cohort["opportunity_id"]) == {f"p{k}" for k in range(1, 9)}


def test_a_unit_without_opportunities_gets_a_clear_message(tiny_folder):
    unit = ck.load_unit("alpha", data_source=tiny_folder, period="2026-Q3", as_of="2026-10-01")
    with pytest.raises(DataError, match="'opportunities' was not provided for unit 'alpha'"):
        unit["opportunities"]


def _sample_analysis(name: str, period: str = "2026-Q3"):
    return sample_funnel(name, period)[2]


@pytest.mark.slow
def test_planted_source_effects_are_found_over_a_year():
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]
    referral_found = 0
    for name, truth in planted.items():
        lift = truth["source_lift"]
        better = max(lift, key=lift.get)
        worse = min(lift, key=lift.get)
        analysis = _sample_analysis(name, period="2025")
        sources = analysis.breakdowns["source"]
        flagged = sources.loc[sources["verdict"].isin(["above", "below"])]
        # only the planted sources are ever flagged, each in its planted direction
        assert set(flagged.loc[flagged["verdict"] == "above", "group"]) <= {better}
        assert set(flagged.loc[flagged["verdict"] == "below", "group"]) <= {worse}
        owners = analysis.breakdowns["owner"]
        assert not owners["verdict"].isin(["above", "below"]).any(), name
        win = sources.loc[sources["metric"] == "win_rate"].set_index("group")
        assert win.loc[better, "conversion"] > win.loc[better, "rest"]
        referral_found += better in set(flagged["group"])
    assert referral_found >= 3  # ×1.15 on every step: a 1.5× win rate, seen in most units


# ----------------------------------------------------------------------------- degenerate shapes


def _all_closed(opportunities: pd.DataFrame) -> pd.DataFrame:
    """The pipeline with p4 and p5 (open) lost on 1 September: nothing open on 30 September
    (p6 closes in October, so it is open then; it is dropped)."""
    closed = opportunities.loc[opportunities["opportunity_id"] != "p6"].copy()
    is_open = closed["outcome"] == "open"
    closed.loc[is_open, "outcome"] = "lost"
    closed.loc[is_open, "closed_at"] = pd.Timestamp("2026-09-01")
    return closed


def test_no_open_opportunity_means_nothing_stuck(opportunities, history):
    # was: TypeError "Invalid comparison between dtype=str and ndarray" in stuck_open
    analysis = funnel.analyse(
        _all_closed(opportunities), history, stages=STAGES, period=Q3, window_days=90
    )
    assert analysis.stuck.empty
    assert list(analysis.stuck.columns[:4]) == ["opportunity_id", "stage", "days", "p90"]
    # won p1 of decided p1 p2 p3 p4 p5 p7
    assert analysis.win_rate == pytest.approx(1 / 6)


def test_a_middle_stage_no_row_names_is_left_out_of_the_funnel(opportunities, history):
    bare = history.loc[history["stage"].str.lower().isin(["lead", "won", "unknown stage"])]
    analysis = funnel.analyse(opportunities, bare, stages=STAGES, period=Q3, window_days=90)
    assert analysis.unrecorded_stages == ["intent", "negotiation"]
    assert analysis.stages == ["lead", "won"]
    # 7 created; p1 won; p4 p5 p6 open at lead (p6 wins in October) → lead→won 1 of 7 - 3
    assert analysis.current["reached"].tolist() == [7, 1]
    assert analysis.current["step_conversion"].iloc[1] == pytest.approx(1 / 4)
    assert analysis.comparison["step"].tolist() == ["lead->won"]


def test_stages_that_match_nothing_keep_first_and_last(opportunities, history):
    analysis = funnel.analyse(
        opportunities, history, stages=["prospect", "proposal", "signed"], period=Q3, window_days=90
    )
    assert analysis.stages == ["prospect", "signed"]
    assert analysis.unrecorded_stages == ["proposal"]
    assert analysis.current["reached"].tolist() == [7, 1]  # only p1 is won by 30 September
    assert analysis.unknown_stages["rows"].sum() == len(history)
    assert analysis.durations["moved_on"].sum() == 0  # nobody entered a stage of this funnel


def test_stages_given_as_text_are_refused(opportunities, history):
    with pytest.raises(ParameterError, match="must be a list of stage names; got 'lead'"):
        funnel.analyse(opportunities, history, stages="lead", period=Q3, window_days=90)


def test_without_closed_at_the_window_cycle_and_comparison_are_empty_not_zero(
    opportunities, history
):
    # was: ValueError "durations must be non-negative numbers without gaps" (Kaplan–Meier)
    costs = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01"]),
            "category": ["acquisition"],
            "amount": [100.0],
            "channel": ["web"],
        }
    )
    analysis = funnel.analyse(
        opportunities.drop(columns="closed_at"),
        history,
        stages=STAGES,
        period=Q3,
        window_days=90,
        costs=costs,
    )
    assert analysis.missing == ["opportunities.closed_at"]
    assert analysis.window.empty
    assert analysis.cycle.n == 0 and np.isnan(analysis.cycle.median)
    assert analysis.cycle_curve.events == 0  # won deals without a date are not cycles
    assert analysis.previous["reached"].sum() == 0 and analysis.bottleneck is None
    # p6's win (October) can no longer be placed after the period: won p1 p6, lost p2 p3 p7
    assert analysis.win_rate == pytest.approx(2 / 5)
    web = analysis.roi.set_index("source").loc["web"]
    assert web["leads"] == 4 and web["cost_per_lead"] == 25.0  # 100 spent on 4 web leads
    assert np.isnan(web["won"]) and np.isnan(web["cost_per_won"])  # unknown, not 0


def test_one_value_breakdown_is_listed_not_tested(opportunities, history):
    analysis = funnel.analyse(
        opportunities.assign(owner="Ann"),
        history,
        stages=STAGES,
        period=Q3,
        window_days=90,
        breakdown_columns=["owner", "source"],
    )
    assert analysis.one_group == {"owner": "Ann"}
    assert list(analysis.breakdowns) == ["source"] and analysis.skipped_breakdowns == []


def test_header_only_tables_give_an_empty_funnel(opportunities, history):
    analysis = funnel.analyse(
        opportunities.iloc[:0], history.iloc[:0], stages=STAGES, period=Q3, window_days=90
    )
    assert analysis.cohort.empty and analysis.current["reached"].sum() == 0
    assert analysis.stages == ["lead", "won"]
    assert np.isnan(analysis.win_rate) and np.isnan(analysis.overall_conversion)
    assert analysis.window.empty and analysis.window["conversion"].dtype == float
    assert {"opportunities.closed_at", "opportunities.amount", "costs"} <= set(analysis.missing)
