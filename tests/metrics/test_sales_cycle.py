"""Conversion window, sales cycle, velocity and source ROI on the tiny hand-counted pipeline."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import pipeline_opportunities

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period, range_period
from crmkit.metrics import funnel, sales_cycle

STAGES = ["lead", "intent", "negotiation", "won"]
Q3 = parse_period("2026-Q3")


@pytest.fixture
def positions() -> pd.DataFrame:
    """The pipeline of tests/metrics/test_funnel.py, taken on 30 September 2026: p1 won after
    31 days (1,000), p4 p5 p6 open, p2 p3 p7 lost."""
    opportunities = pipeline_opportunities()
    history = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]).astype(
        {"entered_at": "datetime64[ns]"}
    )
    return funnel.furthest_stage(opportunities, history, stages=STAGES, as_of="2026-09-30")


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
    window = sales_cycle.conversion_window(positions, window_days=30, as_of="2026-04-30", months=4)
    by_month = window.set_index(window["month"].dt.strftime("%Y-%m"))
    # January: a won in 30 days, b took 100 days, c lost → 1 of 3; February: d in 19 days
    assert by_month.loc["2026-01", ["created", "won_in_window"]].tolist() == [3, 1]
    assert by_month.loc["2026-01", "conversion"] == pytest.approx(1 / 3)
    assert by_month.loc["2026-02", "conversion"] == 1.0
    # March ends on the 31st: its window closes on 30 April, so it is complete
    assert by_month["complete"].tolist() == [True, True, True]
    early = sales_cycle.conversion_window(positions, window_days=31, as_of="2026-04-30", months=4)
    assert early["complete"].tolist() == [True, True, False]
    with pytest.raises(ParameterError, match="conversion_window_days"):
        sales_cycle.conversion_window(positions, window_days=0, as_of="2026-04-30")


def test_sales_cycle_by_hand(positions):
    curve = sales_cycle.cycle_curve(positions, as_of="2026-09-30", min_at_risk=1)
    # won: p1 after 31 days; open (censored): p4 88, p5 87, p6 86 days; lost ones left out
    assert curve.n == 4 and curve.events == 1
    assert curve.table[["days", "at_risk", "survival"]].values.tolist() == [[31, 4, 0.75]]
    cycles = sales_cycle.won_cycles(positions, period=Q3)
    assert cycles.to_dict() == {"p1": 31}
    change = sales_cycle.cycle_change(
        pd.Series([50, 60, 70, 80, 90]), pd.Series([10, 20, 30, 40, 45])
    )
    # every current cycle is longer: U = 25, exact two-sided p = 2 / C(10, 5) = 0.0079
    assert change.p_value == pytest.approx(2 / 252)
    assert change.lengthened and not change.shortened and change.median == 70


def test_won_cycles_count_a_deal_won_late_on_the_last_day(positions):
    late = positions.assign(
        closed_at=positions["closed_at"].where(
            positions["opportunity_id"] != "p1", pd.Timestamp("2026-09-30 18:30")
        )
    )
    assert sales_cycle.won_cycles(late, period=Q3).to_dict() == {"p1": 91}
    august = range_period(date(2026, 8, 1), date(2026, 8, 31))
    assert sales_cycle.won_cycles(positions, period=august).to_dict() == {"p1": 31}
    assert sales_cycle.won_cycles(late, period=august).empty


def test_cycle_trend_by_hand(positions):
    trend = sales_cycle.cycle_trend(positions, as_of="2026-09-30", months=3)
    # deals won from July: p1 in August after 31 days
    assert trend[["won", "median"]].values.tolist() == [[1, 31.0]]
    assert trend["month"].tolist() == [pd.Timestamp("2026-08-01")]


def test_velocity_by_hand(positions):
    velocity = sales_cycle.velocity(positions, win_rate=0.25, period=Q3)
    # open p4 p5 p6 = 3; won in the period: p1 (1,000, 31 days)
    assert (velocity.open_opportunities, velocity.mean_won_amount) == (3, 1000.0)
    assert velocity.per_day == pytest.approx(3 * 0.25 * 1000 / 31)


def test_source_roi_by_hand(positions):
    costs = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-06-01", "2026-07-01"]),
            "category": ["acquisition", "acquisition", "acquisition", "retention"],
            "amount": [300.0, 100.0, 999.0, 50.0],
            "channel": ["Web ", "web", "web", "web"],
        }
    )
    roi = sales_cycle.source_roi(positions, costs, period=Q3).set_index("source")
    # web: 4 leads, 1 won in the period (p1, 1,000); spend 300 + 100 (June and retention out)
    assert roi.loc["web", ["leads", "won", "spend"]].tolist() == [4, 1, 400.0]
    assert roi.loc["web", "cost_per_lead"] == 100.0
    assert roi.loc["web", "cost_per_won"] == 400.0
    assert roi.loc["web", "return_on_spend"] == pytest.approx(2.5)
    assert np.isnan(roi.loc["fair", "spend"]) and roi.loc["fair", "leads"] == 3
    with pytest.raises(ParameterError, match="channel"):
        sales_cycle.source_roi(positions, costs.drop(columns="channel"), period=Q3)


def test_missing_inputs_name_what_is_absent_or_blank():
    opportunities = pipeline_opportunities()
    assert sales_cycle.missing_inputs(opportunities, None) == ["costs"]
    costs = pd.DataFrame({"month": [], "category": [], "amount": []})
    assert sales_cycle.missing_inputs(opportunities.drop(columns="amount"), costs) == [
        "opportunities.amount",
        "costs",  # no rows
    ]
    costs = pd.DataFrame({"month": ["2026-07-01"], "category": ["acquisition"], "amount": [1.0]})
    assert sales_cycle.missing_inputs(opportunities, costs) == ["costs.channel"]
    # all open: no close date is expected, so closed_at is not missing
    all_open = opportunities.assign(outcome="open", closed_at=pd.NaT, source=None)
    assert sales_cycle.missing_inputs(all_open, None) == ["opportunities.source", "costs"]
    # won and lost without a single close date: missing
    assert "opportunities.closed_at" in sales_cycle.missing_inputs(
        opportunities.assign(closed_at=pd.NaT), None
    )
    # no opportunity at all: nothing is known
    assert sales_cycle.missing_inputs(opportunities.iloc[:0], None)[:3] == [
        "opportunities.closed_at",
        "opportunities.amount",
        "opportunities.source",
    ]


def test_cycle_curve_leaves_out_won_deals_without_a_close_date(positions):
    # was: ValueError "durations must be non-negative numbers without gaps"
    undated = positions.assign(closed_at=pd.NaT)
    curve = sales_cycle.cycle_curve(undated, as_of="2026-09-30", min_at_risk=1)
    # p1 (won, no date) is left out; p4 p5 p6 open are censored: no event
    assert (curve.n, curve.events) == (3, 0) and curve.table.empty


def test_empty_conversion_window_is_typed(positions):
    # was: object columns, and matplotlib's "ufunc 'isfinite' not supported" when drawn
    window = sales_cycle.conversion_window(positions.iloc[:0], window_days=90, as_of="2026-09-30")
    assert window.empty
    assert window.dtypes.astype(str).to_dict() == {
        "month": "datetime64[ns]",
        "created": "int64",
        "won_in_window": "int64",
        "conversion": "float64",
        "low": "float64",
        "high": "float64",
        "complete": "bool",
    }


def test_source_roi_without_amounts_or_close_dates_is_blank_not_zero(positions):
    costs = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01"]),
            "category": ["acquisition"],
            "amount": [400.0],
            "channel": ["web"],
        }
    )
    no_amount = sales_cycle.source_roi(positions.drop(columns="amount"), costs, period=Q3)
    web = no_amount.set_index("source").loc["web"]
    assert (web["won"], web["cost_per_won"]) == (1, 400.0)  # p1 is still counted as won
    assert np.isnan(web["won_amount"]) and np.isnan(web["return_on_spend"])
    undated = sales_cycle.source_roi(positions.assign(closed_at=pd.NaT), costs, period=Q3)
    web = undated.set_index("source").loc["web"]
    assert web["leads"] == 4 and web["cost_per_lead"] == 100.0
    assert undated[["won", "won_amount", "cost_per_won", "return_on_spend"]].isna().all().all()


def test_shift_interval_by_hand():
    # 8 × 8 pairwise differences of 5..12 and 1..8: their median is 4; Moses' count
    # floor(32 − 1.96 × sqrt(64 × 17 / 12)) = 13, so the interval is the 13th smallest and
    # 13th largest difference: 1 and 7
    shift, low, high = sales_cycle.shift_interval(range(5, 13), range(1, 9))
    assert (shift, low, high) == (4.0, 1.0, 7.0)
    assert np.isnan(sales_cycle.shift_interval([1, 2], [])[0])
    assert np.isnan(sales_cycle.shift_interval([1, 2], [3])[1])  # too few pairs for one
    change = sales_cycle.cycle_change(pd.Series(range(5, 13)), pd.Series(range(1, 9)))
    assert (change.shift, change.low, change.high) == (4.0, 1.0, 7.0)


def _shift_from_every_pair(x, y, level=0.95):
    """shift_interval as it was first written: every pairwise difference, sorted."""
    from scipy import stats

    differences = np.sort(np.subtract.outer(np.asarray(x, float), np.asarray(y, float)).ravel())
    pairs = len(differences)
    z = float(stats.norm.ppf(0.5 + level / 2))
    count = int(np.floor(pairs / 2 - z * np.sqrt(pairs * (len(x) + len(y) + 1) / 12)))
    low, high = (differences[count - 1], differences[pairs - count]) if count >= 1 else (
        np.nan, np.nan)  # fmt: skip
    return float(np.median(differences)), float(low), float(high)


@pytest.mark.parametrize("sizes", [(1, 1), (2, 3), (7, 7), (300, 451), (1000, 998)])
def test_shift_interval_equals_the_sorted_pairs(sizes):
    rng = np.random.default_rng(sum(sizes))
    current = rng.integers(0, 200, sizes[0]).astype(float)  # whole days: ties everywhere
    previous = rng.integers(0, 150, sizes[1]).astype(float)
    found = sales_cycle.shift_interval(current, previous)
    np.testing.assert_array_equal(found, _shift_from_every_pair(current, previous))
    fractions = rng.gamma(2.0, 20.0, sizes[0]), rng.gamma(2.0, 25.0, sizes[1])
    found = sales_cycle.shift_interval(*fractions)
    np.testing.assert_array_equal(found, _shift_from_every_pair(*fractions))


def test_shift_interval_of_many_deals_without_every_pair():
    rng = np.random.default_rng(3)
    current, previous = rng.integers(0, 400, 60_000), rng.integers(5, 380, 50_000)
    shift, low, high = sales_cycle.shift_interval(current, previous)  # 3·10⁹ pairs: 24 GB
    # the median's definition, checked directly: at most half the differences on either side
    by_value = np.unique(current, return_counts=True)
    ordered = np.sort(previous)
    pairs_below = sum(
        k * np.searchsorted(ordered, v - shift, side="left") for v, k in zip(*by_value, strict=True)
    )
    pairs_above = sum(
        k * (len(previous) - np.searchsorted(ordered, v - shift, side="right"))
        for v, k in zip(*by_value, strict=True)
    )
    total = len(current) * len(previous)
    assert pairs_below <= total / 2 and pairs_above <= total / 2
    assert low <= shift <= high and 0 < high - low <= 3
