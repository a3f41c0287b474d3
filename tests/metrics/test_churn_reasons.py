"""Stated churn reasons: which events count, shares and their change counted by hand, blank
and absent reasons, and themes of the free texts (Chinese through jieba)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from scipy import stats

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.load.unit import load_unit
from crmkit.metrics.churn_reasons import (
    NOT_STATED,
    THIS_PERIOD,
    counted_events,
    reason_table,
    reasons_analysis,
)
from crmkit.metrics.churn_status import choose_definition, churn_dates
from crmkit.metrics.stats import wilson_interval

Q3 = parse_period("2026-Q3")


def _events(reasons_q2: list, reasons_q3: list, texts_q3: list | None = None) -> pd.DataFrame:
    """One churn event per customer: the Q2 ones in May, the Q3 ones in August."""
    n2, n3 = len(reasons_q2), len(reasons_q3)
    frame = pd.DataFrame(
        {
            "customer_id": [f"p{k}" for k in range(n2)] + [f"c{k}" for k in range(n3)],
            "churned_at": pd.to_datetime(["2026-05-10"] * n2 + ["2026-08-10"] * n3),
            "reason": reasons_q2 + reasons_q3,
        }
    )
    if texts_q3 is not None:
        frame["reason_text"] = [None] * n2 + texts_q3
    return frame


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_shares_intervals_and_the_holm_adjusted_change_by_hand():
    # Q2: price 2, service 8 (10 stated); Q3: price 6, service 3, two blank (9 of 11 stated)
    events = _events(["price"] * 2 + ["service"] * 8, ["price"] * 6 + ["service"] * 3 + [" ", None])
    result = reasons_analysis(events, period=Q3)
    assert result.status == "ok"
    assert (result.churns, result.stated, result.previous_churns, result.previous_stated) == (
        11,
        9,
        10,
        10,
    )
    assert result.stated_share.value == pytest.approx(9 / 11)
    table = result.table.set_index("reason")
    assert list(table.index) == ["price", "service"]  # Pareto order
    assert table["share"].tolist() == pytest.approx([6 / 9, 3 / 9])
    assert table["cumulative_share"].tolist() == pytest.approx([6 / 9, 1.0])
    assert table.loc["price", ["low", "high"]].tolist() == pytest.approx(_wilson(6, 9))
    assert table["previous_share"].tolist() == pytest.approx([0.2, 0.8])
    # price: 6/9 against 2/10, pooled z test
    pooled = 8 / 19
    z = (6 / 9 - 2 / 10) / math.sqrt(pooled * (1 - pooled) * (1 / 9 + 1 / 10))
    p = 2 * stats.norm.sf(z)
    assert table.loc["price", "delta"] == pytest.approx(6 / 9 - 0.2)
    assert table.loc["price", "p_value"] == pytest.approx(p)
    # two reasons with the same p-value: Holm multiplies the smallest by 2, the next by 1,
    # and keeps them monotone
    assert table["p_holm"].tolist() == pytest.approx([min(1, 2 * p)] * 2)
    se = math.sqrt((6 / 9) * (3 / 9) / 9 + 0.2 * 0.8 / 10)
    assert table.loc["price", "delta_low"] == pytest.approx(6 / 9 - 0.2 - 1.959964 * se, rel=1e-6)
    assert result.top["reason"] == "price"
    # p = 0.040 alone, 0.079 Holm-adjusted: not a significant rise
    assert 0.03 < p < 0.05 and result.rising().empty


def test_a_reason_that_rose_clearly_is_rising():
    # price 5 of 50 stated reasons in Q2, 25 of 50 in Q3; service 45 → 25
    events = _events(["price"] * 5 + ["service"] * 45, ["price"] * 25 + ["service"] * 25)
    rising = reasons_analysis(events, period=Q3).rising()
    assert rising["reason"].tolist() == ["price"]
    assert rising["delta"].iloc[0] == pytest.approx(0.4)
    assert rising["p_holm"].iloc[0] < 0.001


def test_reasons_differing_only_in_case_or_spaces_are_one_reason():
    table = reason_table(
        pd.Series(["Price ", "price", "PRICE", "service", ""]),
        pd.Series(["price", "Service", "service"]),
    )
    assert table["reason"].tolist() == ["price", "service"]  # the commonest spelling
    assert table["churns"].tolist() == [3, 1]
    assert table["previous_churns"].tolist() == [1, 2]


def test_a_reason_only_in_the_previous_period_is_kept_with_no_churn_now():
    events = _events(["price"] * 5 + ["moved away"] * 5, ["price"] * 10)
    table = reasons_analysis(events, period=Q3).table.set_index("reason")
    assert table.loc["moved away", "churns"] == 0
    assert table.loc["moved away", "share"] == 0.0
    assert table.loc["moved away", "delta"] == pytest.approx(-0.5)


def test_only_events_at_a_churn_date_within_the_period_count():
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "d"],
            "churned_at": pd.to_datetime(
                ["2026-07-05", "2026-08-20", "2026-07-10", "2026-08-01", "2026-06-15"]
            ),
            "reason": ["price", "service", "price", "price", "price"],
        }
    )
    # as churn_dates gives it at the period end: a churned at its later event, b was won
    # back (active), c churned, d churned in Q2
    status = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "churned_at": pd.to_datetime(["2026-08-20", None, "2026-08-01", "2026-06-15"]),
        }
    )
    counted = counted_events(events, period=Q3, churned=status)
    assert counted.set_index("customer_id")["reason"].to_dict() == {"a": "service", "c": "price"}
    # without a status, every event of the period counts, the later per customer
    counted = counted_events(events, period=Q3)
    assert sorted(counted["customer_id"]) == ["a", "b", "c"]
    assert counted.set_index("customer_id").loc["a", "reason"] == "service"


@pytest.mark.parametrize(
    ("events", "status"),
    [
        (None, "no_events"),
        (pd.DataFrame(columns=["customer_id", "churned_at"]), "no_events"),
        (_events(["price"], ["price"]).drop(columns="reason"), "no_reason_column"),
        (_events(["price"] * 3, []), "no_churns"),
        (_events(["price"] * 3, ["", " ", None]), "none_stated"),
    ],
)
def test_absent_or_blank_reasons_say_so(events, status):
    result = reasons_analysis(events, period=Q3)
    assert result.status == status
    assert result.top is None and result.stated == 0
    assert result.rising().empty
    if status == "none_stated":
        assert result.churns == 3 and result.stated_share.value == 0.0
        assert result.table["churns"].sum() == 0  # the Q2 reason is listed, with none now
    if status == "no_events":
        assert result.table.empty and result.texts is None


def test_themes_of_chinese_reason_texts_are_found_per_reason():
    reasons = ["价格"] * 6 + ["服务"] * 5 + ["不再需要"] * 2 + [""]
    texts = ["价格太贵了，别家更便宜"] * 3 + ["价格太贵，竞争对手更便宜"] * 3
    texts += ["客服态度很差，投诉没人理"] * 5 + ["不再需要了"] * 2 + ["联系 13812345678"]
    result = reasons_analysis(_events([], reasons, texts), period=Q3)
    assert result.themes_by == "reason" and result.texts == 14
    found = result.themes.set_index("group")["keywords"]
    assert "便宜" in found["价格"] and "太贵" in found["价格"]
    assert "客服" in found["服务"]
    assert NOT_STATED not in found.index  # one unstated text: too few for a theme
    assert not any("13812345678" in e for ex in result.themes["examples"] for e in ex)


def test_without_a_reason_column_the_texts_are_set_against_the_previous_period():
    events = pd.DataFrame(
        {
            "customer_id": [f"k{i}" for i in range(16)],
            "churned_at": pd.to_datetime(["2026-05-01"] * 8 + ["2026-08-01"] * 8),
            "reason_text": ["moved to another city"] * 8 + ["delivery always late again"] * 8,
        }
    )
    result = reasons_analysis(events, period=Q3)
    assert result.status == "no_reason_column" and result.themes_by == "period"
    assert set(result.themes["group"]) == {THIS_PERIOD}
    assert (
        "delivery" in result.themes["keywords"].iloc[0]
        or "late" in (result.themes["keywords"].iloc[0])
    )


def test_misuse_is_refused_with_the_fix():
    with pytest.raises(ParameterError, match="Period"):
        reasons_analysis(_events(["a"], ["a"]), period="2026-Q3")
    with pytest.raises(ParameterError, match="churned_at"):
        reasons_analysis(pd.DataFrame({"customer_id": ["a"], "reason": ["x"]}), period=Q3)


def test_many_churn_events_are_counted_quickly():
    rng = np.random.default_rng(1)
    n = 300_000
    events = pd.DataFrame(
        {
            "customer_id": pd.array([f"c{k}" for k in range(n)], dtype="string"),
            "churned_at": pd.Timestamp("2026-04-01")
            + pd.to_timedelta(rng.integers(0, 183, n), unit="D"),
            "reason": rng.choice(["price", "service", "competitor", ""], n),
        }
    )
    result = reasons_analysis(events, period=Q3)
    in_q3 = events.loc[events["churned_at"] >= "2026-07-01"]
    assert result.churns == len(in_q3)
    assert result.stated == int((in_q3["reason"] != "").sum())


@pytest.mark.parametrize("unit", ["north", "south", "east", "west"])
def test_the_sample_reason_shares_are_recovered_within_their_intervals(unit):
    data = load_unit(unit, data_source=ROOT / "sample_data", period=Q3, as_of="2026-10-15")
    customers, orders = data["customers"], data["transactions"]
    events = data["churn_events"] if data.has("churn_events") else None
    events = events if events is not None and len(events) else None
    definition = choose_definition(orders, events, period=Q3)
    at = {
        day: churn_dates(customers, orders, events, definition, as_of=day)
        for day in (Q3.end, Q3.previous_end)
    }
    result = reasons_analysis(
        events, period=Q3, churned=at[Q3.end], previous_churned=at[Q3.previous_end]
    )
    planted = json.loads((ROOT / "sample_data/_truth/planted.json").read_text())["units"][unit]
    if unit == "west":  # no churn_events: churn by inactivity, nobody states a reason
        assert result.status == "no_events"
        return
    shares = planted["churn"]["reason_shares"]
    table = result.table.set_index("reason")
    assert set(table.index) == set(shares)
    # 15 intervals over the three units: each at the Bonferroni level, so that the test
    # fails on chance alone one time in twenty, not one in two
    for reason, share in shares.items():
        found = wilson_interval(
            int(table.loc[reason, "churns"]), result.stated, level=1 - 0.05 / 15
        )
        assert found.low <= share <= found.high, (reason, found)
    assert result.rising().empty  # the planted shares are the same every period
