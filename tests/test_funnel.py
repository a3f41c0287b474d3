"""Funnel metrics on a tiny stage history with hand-counted answers."""

import pandas as pd
import pytest

from crmkit import funnel
from crmkit.errors import ParameterError

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


def test_velocity_by_hand(opportunities, history):
    positions = funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")
    opps = opportunities.assign(amount=[1000.0, 0, 0, 0, 0, 0, 0])
    # 3 open (p4, p5, p6) × win rate 1/4 × 1000 ÷ 31 days (p1: 1 Jul → 1 Aug)
    assert funnel.velocity_per_day(positions, opps) == pytest.approx(3 * 0.25 * 1000 / 31)
