"""Funnel metrics on a tiny stage history with hand-counted answers, published survival
tables, and the effects the sample generator planted."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import RESULT_KEYS, ROOT

import crmkit as ck
from crmkit import funnel
from crmkit.core.errors import DataError, ParameterError
from crmkit.run.params import load_params

STAGES = ["lead", "intent", "negotiation", "won"]


@pytest.fixture
def opportunities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["p1", "p2", "p3", "p4", "p5", "p6", "p7"],
            "created_at": pd.to_datetime(
                [
                    "2026-07-01",
                    "2026-07-02",
                    "2026-07-03",
                    "2026-07-04",
                    "2026-07-05",
                    "2026-07-06",
                    "2026-07-07",
                ]
            ),
            "outcome": ["won", "lost", "lost", "open", "open", "won", "lost"],
            "closed_at": pd.to_datetime(
                ["2026-08-01", "2026-07-20", "2026-07-10", None, None, "2026-10-05", "2026-07-08"]
            ),
            "source": ["web", "web", "fair", "fair", "web", "web", "fair"],
            "owner": ["Ann", "Bo", "Ann", "Bo", "Ann", "Bo", "Ann"],
            "amount": [1000.0, 10.0, 20.0, 30.0, 40.0, 500.0, 60.0],
        }
    )


@pytest.fixture
def history() -> pd.DataFrame:
    rows = [
        ("p1", "lead", "2026-07-01"),
        ("p1", "intent", "2026-07-05"),
        ("p1", "negotiation", "2026-07-15"),
        ("p1", "won", "2026-08-01"),
        ("p2", "lead", "2026-07-02"),
        ("p2", "Intent", "2026-07-06"),  # lost at intent
        ("p3", "lead", "2026-07-03"),  # lost at lead
        ("p4", "lead", "2026-07-04"),
        ("p4", "negotiation", "2026-07-20"),  # skipped intent, open
        ("p5", "lead", "2026-07-05"),  # open at lead
        ("p6", "lead", "2026-07-06"),
        ("p6", "intent", "2026-07-09"),
        ("p6", "negotiation", "2026-09-01"),
        ("p6", "won", "2026-10-05"),  # won after as_of
        ("p7", "unknown stage", "2026-07-07"),  # only an unknown stage: still a lead
    ]
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"]).assign(
        entered_at=lambda d: pd.to_datetime(d["entered_at"])
    )


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


def test_funnel_table_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    table = funnel.funnel_table(positions, stages=STAGES).set_index("stage")
    # reached: lead 7; intent p1 p2 p4 p6 = 4; negotiation p1 p4 p6 = 3; won p1 = 1
    assert table["reached"].tolist() == [7, 4, 3, 1]
    # open: p5 at lead; p4 and p6 at negotiation
    assert table["open_here"].tolist() == [1, 0, 2, 0]
    # lead->intent: 4 of (7 - 1 open) = 4/6; intent->negotiation: 3/4; negotiation->won: 1/(3-2)
    assert table["step_conversion"].tolist()[1:] == pytest.approx([4 / 6, 3 / 4, 1.0])
    assert table.loc["won", "cumulative_conversion"] == pytest.approx(4 / 6 * 3 / 4 * 1.0)
    assert table["drop_off"].tolist() == [0, 2, 1, 0]
    assert table.loc["intent", "low"] < 4 / 6 < table.loc["intent", "high"]
    assert funnel.win_rate(positions) == pytest.approx(1 / 4)  # p1 won; p2 p3 p7 lost
    assert funnel.overall_conversion(positions) == pytest.approx(1 / 7)


def test_compare_steps_and_cohorts(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    first = funnel.funnel_table(funnel.cohort(positions, "2026-07-01", "2026-07-03"), stages=STAGES)
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


def test_conversion_window_by_hand():
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c", "d", "e"],
            "created_at": pd.to_datetime(
                ["2026-01-10", "2026-01-20", "2026-01-25", "2026-02-01", "2026-03-15"]
            ),
            "outcome": ["won", "won", "lost", "won", "won"],
            "closed_at": pd.to_datetime(
                ["2026-02-09", "2026-04-30", "2026-02-01", "2026-02-20", "2026-03-20"]
            ),
        }
    )
    history = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]).astype(
        {"entered_at": "datetime64[ns]"}
    )
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-04-30")
    window = funnel.conversion_window(positions, window_days=30, as_of="2026-04-30", months=4)
    by_month = window.set_index(window["month"].dt.strftime("%Y-%m"))
    # January: a won in 30 days, b took 100 days, c lost → 1 of 3; February: d in 19 days
    assert by_month.loc["2026-01", ["created", "won_in_window"]].tolist() == [3, 1]
    assert by_month.loc["2026-01", "conversion"] == pytest.approx(1 / 3)
    assert by_month.loc["2026-02", "conversion"] == 1.0
    # March ends on the 31st: its window closes on 30 April, so it is complete
    assert by_month["complete"].tolist() == [True, True, True]
    early = funnel.conversion_window(positions, window_days=31, as_of="2026-04-30", months=4)
    assert early["complete"].tolist() == [True, True, False]
    with pytest.raises(ParameterError, match="conversion_window_days"):
        funnel.conversion_window(positions, window_days=0, as_of="2026-04-30")


# Freireich et al. (1963) 6-MP arm; survival, Greenwood errors and log-log 95% limits as
# published by R's survival package (survfit, conf.type="log-log") and Kleinbaum & Klein
# (2012), table 2.
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def test_kaplan_meier_matches_the_published_six_mp_table():
    curve = funnel.kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)
    table = curve.table
    assert table["days"].tolist() == [6, 7, 10, 13, 16, 22, 23]
    assert table["at_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]
    assert table["survival"].round(4).tolist() == [
        0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482
    ]  # fmt: skip
    assert table.loc[0, ["low", "high"]].round(3).tolist() == [0.620, 0.952]
    assert table.loc[6, ["low", "high"]].round(3).tolist() == [0.188, 0.680]
    assert curve.median == 23 and curve.n == 21 and curve.events == 9
    short = funnel.kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS, min_at_risk=10)
    assert short.table["days"].tolist() == [6, 7, 10, 13, 16]
    assert np.isnan(short.median)  # the curve stops before it reaches one half
    with pytest.raises(ValueError, match="same length"):
        funnel.kaplan_meier([1, 2], [1])


def test_sales_cycle_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    curve = funnel.cycle_curve(positions, as_of="2026-09-30", min_at_risk=1)
    # won: p1 after 31 days; open (censored): p4 88, p5 87, p6 86 days; lost ones left out
    assert curve.n == 4 and curve.events == 1
    assert curve.table[["days", "at_risk", "survival"]].values.tolist() == [[31, 4, 0.75]]
    cycles = funnel.won_cycles(positions, "2026-07-01", "2026-09-30")
    assert cycles.to_dict() == {"p1": 31}
    change = funnel.cycle_change(pd.Series([50, 60, 70, 80, 90]), pd.Series([10, 20, 30, 40, 45]))
    # every current cycle is longer: U = 25, exact two-sided p = 2 / C(10, 5) = 0.0079
    assert change.p_value == pytest.approx(2 / 252)
    assert change.lengthened and not change.shortened and change.median == 70


def test_velocity_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    velocity = funnel.velocity(positions, win_rate=0.25, start="2026-07-01", end="2026-09-30")
    # open p4 p5 p6 = 3; won in the period: p1 (1,000, 31 days)
    assert (velocity.open_opportunities, velocity.mean_won_amount) == (3, 1000.0)
    assert velocity.per_day == pytest.approx(3 * 0.25 * 1000 / 31)


def test_breakdown_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    table = funnel.breakdown(positions, by="source", stages=STAGES, min_group=4)
    web = table.loc[table["group"] == "web"].set_index("metric")
    # web: p1 won, p2 lost at intent, p5 open at lead, p6 open at negotiation
    assert web.loc["lead->intent", ["trials", "successes"]].tolist() == [3, 3]
    assert web.loc["intent->negotiation", ["trials", "successes"]].tolist() == [3, 2]
    assert web.loc["negotiation->won", ["trials", "successes"]].tolist() == [1, 1]
    assert web.loc["win rate", ["trials", "successes"]].tolist() == [2, 1]
    fair = table.loc[table["group"] == "fair"].set_index("metric")
    # fair (3 opportunities) is under min_group: shown, not tested
    assert (fair["verdict"] == "too few to judge").all() and fair["p_value"].isna().all()
    # web's lead->intent 3/3 against fair's 1/3: z test p = 0.0833, one test per metric
    expected = ck.stats.two_proportion_test(3, 3, 1, 3).p_value
    assert web.loc["lead->intent", "p_value"] == pytest.approx(expected)
    # Holm over the table's four tests (fair's are not tests)
    assert web["p_adjusted"].tolist() == pytest.approx(
        ck.stats.holm(web["p_value"]).tolist(), nan_ok=True
    )
    assert web.loc["lead->intent", "p_adjusted"] > expected
    view = funnel.breakdown_view(table, by="source")
    assert view.columns[0] == "source" and "lead → intent" in view.columns
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


def test_source_roi_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    costs = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-06-01", "2026-07-01"]),
            "category": ["acquisition", "acquisition", "acquisition", "retention"],
            "amount": [300.0, 100.0, 999.0, 50.0],
            "channel": ["Web ", "web", "web", "web"],
        }
    )
    roi = funnel.source_roi(positions, costs, start="2026-07-01", end="2026-09-30").set_index(
        "source"
    )
    # web: 4 leads, 1 won in the period (p1, 1,000); spend 300 + 100 (June and retention out)
    assert roi.loc["web", ["leads", "won", "spend"]].tolist() == [4, 1, 400.0]
    assert roi.loc["web", "cost_per_lead"] == 100.0
    assert roi.loc["web", "cost_per_won"] == 400.0
    assert roi.loc["web", "return_on_spend"] == pytest.approx(2.5)
    assert np.isnan(roi.loc["fair", "spend"]) and roi.loc["fair", "leads"] == 3


def test_results_carry_every_key_and_the_stage_names(opportunities, history):
    analysis = funnel.analyse(
        opportunities,
        history,
        stages=STAGES,
        period_start="2026-07-01",
        period_end="2026-09-30",
        previous_start="2026-04-01",
        previous_end="2026-06-30",
    )
    results = funnel.results(analysis)
    assert RESULT_KEYS["funnel"] <= set(results)
    assert results["stage_counts"] == {"lead": 7, "intent": 4, "negotiation": 3, "won": 1}
    assert list(results["stage_conversion"]) == [
        "lead->intent", "intent->negotiation", "negotiation->won"
    ]  # fmt: skip
    assert results["win_rate"] == pytest.approx(1 / 4)
    assert results["stuck_open"] == 3
    assert results["bottleneck"] is None  # the previous period had no opportunities
    assert any("unknown stage" in note for note in analysis.notes)
    json.dumps(ck.nb.to_json_ready(results))


def test_a_unit_without_opportunities_gets_a_clear_message(tiny_folder):
    unit = ck.load_unit("alpha", data_source=tiny_folder, period="2026-Q3", as_of="2026-10-01")
    with pytest.raises(DataError, match="'opportunities' was not provided for unit 'alpha'"):
        unit["opportunities"]


def _sample_analysis(name: str, period: str = "2026-Q3"):
    params = load_params(ROOT / "parameters" / f"{name}.yaml")
    unit = ck.load_unit(name, data_source=ROOT / "sample_data", period=period, as_of="2026-10-15")
    return (
        unit,
        params["funnel_stages"],
        funnel.analyse(
            unit["opportunities"],
            unit["stage_history"],
            stages=params["funnel_stages"],
            period_start=unit.period.start,
            period_end=unit.period.end,
            previous_start=unit.period.previous_start,
            previous_end=unit.period.previous_end,
            costs=unit.tables.get("costs"),
        ),
    )


@pytest.mark.slow
def test_the_planted_bottleneck_is_found_and_nothing_else():
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]
    for name, truth in planted.items():
        _, _, analysis = _sample_analysis(name)
        results = funnel.results(analysis)
        if truth["bottleneck"]:
            assert results["bottleneck"] == truth["bottleneck"]["step"]
            assert results["bottleneck_p_value"] < 0.05
            sentence = funnel.bottleneck_sentence(analysis)
            assert "intent → negotiation" in sentence and "a significant fall" in sentence
            assert results["bottleneck_summary"].endswith(", significant")
        else:
            assert not results["bottleneck_significant"], name
            assert results["bottleneck_summary"].endswith(("not significant", "no step fell"))
            assert "not a significant" in funnel.bottleneck_sentence(analysis) or (
                results["bottleneck"] is None
            )
        assert not results["cycle_lengthened"], name  # no unit has a planted cycle change


@pytest.mark.slow
def test_planted_source_effects_are_found_over_a_year():
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"]
    referral_found = 0
    for name, truth in planted.items():
        lift = truth["source_lift"]
        better = max(lift, key=lift.get)
        worse = min(lift, key=lift.get)
        _, _, analysis = _sample_analysis(name, period="2025")
        sources = analysis.breakdowns["source"]
        flagged = sources.loc[sources["verdict"].isin(["above the rest", "below the rest"])]
        # only the planted sources are ever flagged, each in its planted direction
        assert set(flagged.loc[flagged["verdict"] == "above the rest", "group"]) <= {better}
        assert set(flagged.loc[flagged["verdict"] == "below the rest", "group"]) <= {worse}
        owners = analysis.breakdowns["owner"]
        assert not owners["verdict"].isin(["above the rest", "below the rest"]).any(), name
        win = sources.loc[sources["metric"] == "win rate"].set_index("group")
        assert win.loc[better, "conversion"] > win.loc[better, "rest"]
        referral_found += better in set(flagged["group"])
    assert referral_found >= 3  # ×1.15 on every step: a 1.5× win rate, seen in most units


@pytest.mark.slow
def test_east_funnel_uses_its_chinese_stage_names():
    unit, stages, analysis = _sample_analysis("east")
    assert stages == ["潜在客户", "意向客户", "洽谈客户", "成交客户"]
    results = funnel.results(analysis)
    assert list(results["stage_counts"]) == stages
    created = unit["opportunities"]["created_at"]
    in_period = ((created >= "2026-07-01") & (created < "2026-10-01")).sum()
    assert results["stage_counts"]["潜在客户"] == in_period == results["opportunities_created"]
    assert analysis.unknown_stages.empty
    roi = analysis.roi.set_index("source")
    assert roi["spend"].notna().all() and (roi["leads"] > 0).all()
