"""The health score, each component and grid computed by hand on a small unit."""

import numpy as np
import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.metrics.churn_status import ChurnDefinition, churn_dates
from crmkit.metrics.health_alerts import alerts
from crmkit.metrics.health_score import (
    COMPONENTS,
    HEALTH_DEFAULTS,
    HealthSettings,
    clv_tiers,
    component_points,
    health_bands,
    health_scores,
    score_change,
)

CUT = "2026-06-30"
EVENTS = ChurnDefinition("events", None, "events")


def _frame(rows, columns, dates=()):
    frame = pd.DataFrame(rows, columns=columns)
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def unit(*, later: bool = False):
    """a: long-standing, engagement half its baseline, spend up, passive, one complaint;
    b: joined 121 days ago, one order, an open ticket; c: churned (not scored); d: joins after
    the cut; e: four orders 20 days apart two years ago; f: two orders 14 days apart, a ticket
    resolved after the cut; g: no order. ``later`` adds rows after the cut (must change
    nothing)."""
    customers = _frame(
        [
            ("a", "2025-01-01"),
            ("b", "2026-03-01"),
            ("c", "2025-01-01"),
            ("d", "2026-07-10"),
            ("e", "2024-06-01"),
            ("f", "2025-06-01"),
            ("g", "2025-06-01"),
        ],
        ["customer_id", "signup_date"],
        ["signup_date"],
    )
    orders = [
        ("a", "2025-01-01", 50.0),
        ("a", "2026-01-15", 100.0),
        ("a", "2026-05-10", 300.0),
        ("b", "2026-03-01", 80.0),
        ("e", "2024-06-01", 10.0),
        ("e", "2024-06-21", 10.0),
        ("e", "2024-07-11", 10.0),
        ("e", "2024-07-31", 10.0),
        ("f", "2026-06-01", 20.0),
        ("f", "2026-06-15", 20.0),
    ]
    contacts = [("a", d) for d in ["2025-03-01", "2025-05-01", "2025-06-01", "2025-07-01"]]
    contacts += [("a", d) for d in ["2025-08-01", "2025-09-01", "2025-10-01", "2025-11-01"]]
    contacts += [("a", "2026-03-01"), ("a", "2026-05-05")]
    contacts += [("b", "2026-03-05"), ("b", "2026-03-10"), ("b", "2026-04-10")]
    answers = [("a", "2025-05-01", 10, 5), ("a", "2026-02-01", 8, 4)]
    tickets = [
        ("a", "2026-06-20 10:00", "2026-06-25 09:00", True),
        ("b", "2026-06-01 08:00", None, False),
        ("e", "2026-01-10 08:00", "2026-01-12 08:00", False),
        ("f", "2026-06-28 08:00", "2026-07-03 08:00", False),
    ]
    if later:
        orders += [("a", "2026-07-02", 999.0), ("g", "2026-07-05", 5.0)]
        contacts += [("a", "2026-07-02"), ("f", "2026-07-03")]
        answers += [("a", "2026-07-10", 0, 1)]
        tickets += [("a", "2026-07-05 08:00", None, True)]
    return {
        "customers": customers,
        "transactions": _frame(orders, ["customer_id", "order_date", "amount"], ["order_date"]),
        "interactions": _frame(contacts, ["customer_id", "occurred_at"], ["occurred_at"]),
        "surveys": _frame(
            answers, ["customer_id", "responded_at", "nps", "csat"], ["responded_at"]
        ),
        "tickets": _frame(
            tickets,
            ["customer_id", "opened_at", "resolved_at", "is_complaint"],
            ["opened_at", "resolved_at"],
        ).astype({"is_complaint": "boolean"}),
        "churn_events": _frame(
            [("c", "2026-05-01")], ["customer_id", "churned_at"], ["churned_at"]
        ),
    }


CLV = pd.Series({"a": 500.0, "b": 100.0, "e": 20.0, "f": 300.0, "g": 200.0})


# The mechanics are tested on grids and weights of their own, so a change of the defaults
# (HEALTH_DEFAULTS, chosen and documented there) does not rewrite every hand computation.
SETTINGS = HealthSettings.from_parameters(
    weights={"engagement": 20, "value": 20, "sentiment": 20, "service": 15, "purchasing": 25},
    points={
        "engagement_ratio": {"x": [0, 0.25, 0.5, 0.8], "points": [0, 25, 60, 100]},
        "spend_trend": {"x": [-1, -0.5, 0, 1], "points": [0, 40, 80, 100]},
        "clv_tier": {"top": 100, "middle": 70, "rest": 40},
        "cycle_ratio": {"x": [0, 1, 1.5, 2, 3, 4], "points": [100, 100, 70, 40, 10, 0]},
    },
)


def points_of(tables, *, clv=CLV, settings=SETTINGS, cut=CUT):
    status = churn_dates(
        tables["customers"], tables["transactions"], tables["churn_events"], EVENTS, as_of=cut
    )
    found = component_points(
        tables["customers"],
        tables["transactions"],
        cut=cut,
        status=status,
        clv=clv,
        interactions=tables["interactions"],
        tickets=tables["tickets"],
        surveys=tables["surveys"],
        settings=settings,
    )
    return found.set_index("customer_id")


E_A = 60 + (365 / 720 - 0.5) / 0.3 * 40  # ratio (1/90)/(8/365) on the grid 0.5→60, 0.8→100
F_PURCHASING = 100 - (15 / 14 - 1) / 0.5 * 30  # ratio 15/14 between 1→100 and 1.5→70


def test_scored_customers_are_those_active_at_the_cut():
    points = points_of(unit())
    assert sorted(points.index) == ["a", "b", "e", "f", "g"]  # c churned, d not yet signed up


def test_engagement_against_own_baseline():
    points = points_of(unit())
    # a: 1 interaction in the last 90 days, 8 in the 365 before (2025-03-01 is outside)
    assert points.loc["a", "engagement_ratio"] == pytest.approx(365 / 720)
    assert points.loc["a", "interactions_recent_per_month"] == pytest.approx(30.4375 / 90)
    assert points.loc["a", "engagement"] == pytest.approx(E_A)
    # b: 2 baseline interactions but 121 days of tenure (< 180); e, f, g: no baseline
    assert points.loc[["b", "e", "f", "g"], "engagement"].isna().all()


def test_engagement_missing_without_interactions():
    tables = unit()
    tables["interactions"] = None
    assert points_of(tables)["engagement"].isna().all()


def test_value_spend_trend_and_clv_tier():
    points = points_of(unit())
    assert points.loc["a", "spend_trend"] == pytest.approx(0.5)  # (300 − 100) / 400
    assert points["clv_tier"].to_dict() == {
        "a": "top",
        "b": "rest",
        "e": "rest",
        "f": "middle",
        "g": "rest",
    }
    assert points.loc["a", "value"] == pytest.approx((90 + 100) / 2)  # 0.5 → 90; top → 100
    assert points.loc["b", "value"] == pytest.approx((0 + 40) / 2)  # stopped: −1 → 0
    assert np.isnan(points.loc["e", "spend_trend"])  # no spend in either window: not 0
    assert points.loc["e", "value"] == 40  # CLV tier alone
    assert points.loc["f", "value"] == pytest.approx((100 + 70) / 2)


def test_value_without_clv_uses_the_trend_alone():
    points = points_of(unit(), clv=None)
    assert points.loc["a", "value"] == 90
    assert np.isnan(points.loc["g", "value"])  # no spend, no CLV: no value component


def test_sentiment_latest_answer_of_the_last_year():
    points = points_of(unit())
    assert points.loc["a", "nps_group"] == "passive"  # 8 on 2026-02-01; the 10 is too old
    assert points.loc["a", "sentiment"] == pytest.approx((60 + 75) / 2)  # CSAT 4 → 75
    assert points.loc[["b", "e", "f", "g"], "sentiment"].isna().all()


def test_service_complaints_and_open_tickets():
    points = points_of(unit())
    assert points.loc["a", "complaints_90d"] == 1
    assert points.loc["a", "days_since_complaint"] == 10
    assert points.loc["a", "service"] == pytest.approx((40 + 100) / 2)
    assert points.loc["b", "open_tickets"] == 1  # never resolved
    assert points.loc["b", "service"] == pytest.approx((100 + 50) / 2)
    assert points.loc["f", "open_tickets"] == 1  # resolved after the cut: open at it
    assert points.loc["e", "open_tickets"] == 0  # opened more than 90 days ago
    assert points.loc["g", "service"] == 100


def test_service_missing_without_tickets_or_complaints():
    tables = unit()
    tables["tickets"] = None
    assert points_of(tables)["service"].isna().all()


def test_open_tickets_need_resolution_times():
    tables = unit()
    tables["tickets"] = tables["tickets"].assign(resolved_at=pd.NaT)
    points = points_of(tables)
    assert points["open_tickets"].isna().all()
    assert points.loc["a", "service"] == 40  # complaints alone


def test_purchasing_recency_against_the_cycle():
    points = points_of(unit())
    assert points.loc["a", "expected_cycle_days"] == pytest.approx(494 / 2)
    assert points.loc["a", "purchasing"] == 100
    # b: one order day: the unit's median gap of 14, 20, 20, 20, 115, 379 = 20
    assert points.loc["b", "expected_cycle_days"] == 20
    assert points.loc["b", "cycle_ratio"] == pytest.approx(121 / 20)
    assert points.loc["b", "purchasing"] == 0
    assert points.loc["f", "cycle_ratio"] == pytest.approx(15 / 14)
    assert points.loc["f", "purchasing"] == pytest.approx(F_PURCHASING)
    assert np.isnan(points.loc["g", "purchasing"])  # never ordered


def test_cycle_has_a_floor_of_a_week():
    tables = unit()
    extra = _frame([("g", "2026-06-27", 5.0), ("g", "2026-06-28", 5.0)],
                   ["customer_id", "order_date", "amount"], ["order_date"])  # fmt: skip
    tables["transactions"] = pd.concat([tables["transactions"], extra], ignore_index=True)
    points = points_of(tables)
    assert points.loc["g", "expected_cycle_days"] == 7
    assert points.loc["g", "cycle_ratio"] == pytest.approx(2 / 7)


def test_scores_renormalise_over_available_components():
    scores = health_scores(points_of(unit()).reset_index(), SETTINGS).set_index("customer_id")
    a = (20 * E_A + 20 * 95 + 20 * 67.5 + 15 * 70 + 25 * 100) / 100
    b = (20 * 20 + 15 * 75 + 25 * 0) / 60
    e = (20 * 40 + 15 * 100 + 25 * 0) / 60
    f = (20 * 85 + 15 * 75 + 25 * F_PURCHASING) / 60
    g = (20 * 40 + 15 * 100) / 35
    assert scores["score"].to_dict() == pytest.approx({"a": a, "b": b, "e": e, "f": f, "g": g})
    assert scores["band"].to_dict() == {
        "a": "green",
        "b": "red",
        "e": "red",
        "f": "green",
        "g": "amber",
    }
    assert scores["components_used"].to_dict() == {"a": 5, "b": 3, "e": 3, "f": 3, "g": 2}


def test_point_in_time():
    before = points_of(unit())
    after = points_of(unit(later=True))
    pd.testing.assert_frame_equal(before, after)


def _points(rows):
    return pd.DataFrame(rows, columns=["customer_id", *COMPONENTS])


def test_bands_at_their_edges():
    nan = np.nan
    points = _points(
        [
            ("x", 50, 50, 50, 50, 50),
            ("y", 75, 75, 75, 75, 75),
            ("z", 49.99, 49.99, nan, nan, nan),
            ("w", 74.99, nan, nan, nan, nan),
            ("v", nan, nan, nan, nan, nan),
        ]
    )
    scores = health_scores(points).set_index("customer_id")
    assert scores["band"].iloc[:4].tolist() == ["amber", "green", "red", "amber"]
    assert pd.isna(scores.loc["v", "band"]) and np.isnan(scores.loc["v", "score"])
    assert scores.loc["v", "components_used"] == 0


def test_a_poor_component_caps_green_at_amber():
    points = _points([("x", 100, 100, 100, 100, 20), ("y", 100, 100, 100, 100, 25)])
    scores = health_scores(points, SETTINGS).set_index("customer_id")
    assert scores.loc["x", "score"] == pytest.approx(80)  # (4 × 100 weighted 75 + 25 × 20)
    assert scores.loc["x", "band"] == "amber" and scores.loc["x", "capped"]
    assert scores.loc["y", "band"] == "green" and not scores.loc["y", "capped"]  # 25: not poor
    uncapped = health_scores(points, HealthSettings.from_parameters(cap_at_amber=False))
    assert uncapped["band"].tolist() == ["green", "green"]
    assert not uncapped["capped"].any()


def test_bands_and_score_change():
    now = health_scores(_points([("x", 10, 10, 10, 10, 10), ("y", 90, 90, 90, 90, 90),
                                 ("z", 60, 60, 60, 60, 60)]))  # fmt: skip
    before = health_scores(_points([("x", 60, 60, 60, 60, 60), ("q", 90, 90, 90, 90, 90)]))
    shares = health_bands(now).set_index("band")
    assert shares["customers"].to_dict() == {"red": 1, "amber": 1, "green": 1}
    assert shares["share"].sum() == pytest.approx(1)
    change = score_change(now, before)
    assert change["customer_id"].tolist() == ["x"]
    assert change["change"].iloc[0] == pytest.approx(-50)
    assert change["previous_band"].iloc[0] == "amber"


def test_clv_tiers_top_fifth_then_next_three_tenths():
    ids = pd.Series(list("abcdefghij"))
    clv = pd.Series(np.arange(10, 0, -1, dtype=float), index=list("abcdefghij"))
    tiers = clv_tiers(clv, ids)
    assert tiers.tolist() == ["top"] * 2 + ["middle"] * 3 + ["rest"] * 5


def test_custom_grid_and_weights():
    settings = HealthSettings.from_parameters(
        weights={"purchasing": 100},
        points={"cycle_ratio": {"x": [0, 10], "points": [100, 0]}},
    )
    scores = health_scores(points_of(unit(), settings=settings).reset_index(), settings)
    scores = scores.set_index("customer_id")
    assert scores.loc["b", "score"] == pytest.approx(100 - 121 / 20 * 10)
    assert np.isnan(scores.loc["g", "score"])  # no purchasing: no score


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": {"engagement": 50, "value": 40}}, "must sum to 100; got 90"),
        ({"weights": {"loyalty": 100}}, r"unknown component\(s\) \['loyalty'\]"),
        ({"weights": {"value": 110, "service": -10}}, "health_weights.service must be"),
        ({"bands": {"red_below": 80}}, "red_below must be below"),
        ({"bands": {"amber_from": 60}}, "health_bands names unknown"),
        ({"bands": {"poor_below": 120}}, "health_bands.poor_below must be points"),
        ({"points": {"csat": {"x": [5, 1], "points": [0, 100]}}}, "increasing order"),
        ({"points": {"csat": {"x": [1, 5], "points": [0]}}}, "same length"),
        ({"points": {"csat": [1, 5]}}, "health_points.csat must be"),
        ({"points": {"nps_group": {"promoter": 100}}}, "nps_group must give points"),
        ({"points": {"mood": {"x": [0, 1], "points": [0, 1]}}}, "unknown input"),
        ({"cap_at_amber": "yes"}, "health_cap_at_amber must be true or false"),
    ],
)
def test_bad_settings_name_the_parameter(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        HealthSettings.from_parameters(**kwargs)


def test_defaults_are_one_constant():
    settings = HealthSettings.from_parameters()
    assert settings.weights == {k: float(v) for k, v in HEALTH_DEFAULTS["health_weights"].items()}
    assert (settings.red_below, settings.green_from, settings.poor_below) == (50, 75, 25)


# ----------------------------------------------------------------------------- alerts


def _scored(rows, extra=None):
    frame = pd.DataFrame(rows, columns=["customer_id", "score", "band"])
    for name, values in (extra or {}).items():
        frame[name] = values
    return frame


def test_alert_reasons_in_priority_order():
    now = _scored(
        [
            ("a", 30, "red"),
            ("b", 60, "amber"),
            ("c", 40, "red"),
            ("d", 90, "green"),
            ("e", 80, "green"),
            ("f", 20, "red"),
        ],
        {
            "order_days": [5, 1, 3, 3, 2, 4],
            "cycle_ratio": [2.0, 9.0, 1.5, 1.4, 3.0, 1.0],
            "days_since_complaint": [5, np.nan, 40, 29, 30, np.nan],
        },
    )
    before = _scored([("a", 70, "amber"), ("c", 45, "red"), ("d", 80, "green")])
    clv = pd.Series({"a": 10.0, "b": 1000.0, "c": 5.0, "d": 3.0, "e": 2.0, "f": 1.0})
    table = alerts(now, before, clv=clv).set_index("customer_id")
    assert table["reasons"].to_dict() == {
        "a": ["turned_red", "complained_recently", "cycle_lengthened"],
        "b": ["high_value_at_risk"],  # top tier (top 20% of 6: 1) and amber; 1 order day
        "c": ["cycle_lengthened"],  # red before too; 1.5 × its cycle exactly
        "d": ["complained_recently"],  # 29 days ago
    }
    # most urgent first: high value (b, score 60), then the lowest score: a 30, c 40, d 90
    # (c's lengthened cycle before d's complaint: the score decides, not the reason)
    assert table.index.tolist() == ["b", "a", "c", "d"]
    assert table["reason"].tolist() == ["high_value_at_risk", "turned_red", "cycle_lengthened",
                                        "complained_recently"]  # fmt: skip
    assert table.loc["a", "previous_score"] == 70 and table.loc["b", "clv"] == 1000
    # f is red but was not scored before: not "turned red"
    assert "f" not in table.index


def test_alerts_refuse_bad_window():
    with pytest.raises(ParameterError, match="recent_complaints_days must be"):
        alerts(_scored([("a", 30, "red")]), None, recent_complaints_days=0)
