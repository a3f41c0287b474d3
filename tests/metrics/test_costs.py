"""Costs of the health review: CAC this period, retention and service cost, by hand."""

import math

import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.costs import costs_analysis, spend_rows

Q3 = parse_period("2026-Q3")  # Jul – Sep 2026; previous Q2


def spend(rows=None):
    rows = rows or [
        ("2026-07-01", "acquisition", 300.0, "Search"),
        ("2026-08-01", "acquisition", 100.0, "store"),
        ("2026-09-01", "acquisition", 50.0, None),
        ("2026-07-01", "retention", 200.0, None),
        ("2026-09-01", "service", 90.0, None),
        ("2026-04-01", "acquisition", 120.0, "search"),
        ("2026-05-01", "retention", 150.0, None),
        ("2026-06-01", "service", 60.0, None),
        ("2026-10-01", "acquisition", 999.0, "search"),  # after the period
    ]
    frame = pd.DataFrame(rows, columns=["month", "category", "amount", "channel"])
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def people():
    """Q3: x, y by search, z in store, w without a channel; Q2: v by search, u in store."""
    return pd.DataFrame(
        {
            "customer_id": ["x", "y", "z", "w", "v", "u", "t"],
            "signup_date": pd.to_datetime(
                [
                    "2026-07-02",
                    "2026-09-30",
                    "2026-08-15",
                    "2026-07-20",
                    "2026-05-05",
                    "2026-06-06",
                    "2025-01-01",
                ]
            ),
            "acquisition_channel": ["search", "search", "Store", None, "search", "store", "store"],
            "acquisition_cost": [40.0, None, 10.0, 30.0, 20.0, 50.0, 5.0],
        }
    )


def analyse(costs="sample", customers=None, **kwargs):
    values = {
        "retained": 8,
        "previous_retained": 5,
        "tickets_opened": 3,
        "previous_tickets_opened": 2,
    }
    values.update(kwargs)
    table = spend() if isinstance(costs, str) else costs
    return costs_analysis(table, people() if customers is None else customers, period=Q3, **values)


def test_cac_is_acquisition_spend_over_customers_signed_up_in_the_period():
    c = analyse()
    assert c.cac_source == "costs"
    assert (c.acquisition_spend, c.new_customers) == (450.0, 4)
    assert c.cac == pytest.approx(450 / 4)
    assert c.previous_cac == pytest.approx(120 / 2)
    assert c.cac_change.delta == pytest.approx(112.5 - 60)
    assert math.isnan(c.cac_change.p_value) and math.isnan(c.cac_change.low)  # no test


def test_cac_by_channel_matches_cost_channels_to_acquisition_channels():
    table = analyse().cac_by_channel
    by = table.set_index(table["acquisition_channel"].fillna("?"))
    assert by.loc["search", ["spend", "new_customers", "cac"]].tolist() == [300.0, 2, 150.0]
    assert by.loc["Store", ["spend", "new_customers", "cac"]].tolist() == [100.0, 1, 100.0]
    assert by.loc["search", "previous_cac"] == pytest.approx(120.0)
    assert by.loc["Store", "previous_new_customers"] == 1  # u, spelt "store"
    assert math.isnan(by.loc["Store", "previous_cac"])  # Q2 holds no store spend
    unattributed = by.loc["?"]
    assert unattributed["spend"] == 50.0 and unattributed["new_customers"] == 1
    assert math.isnan(unattributed["cac"])  # unattributed spend is no channel's CAC


def test_without_acquisition_costs_the_customers_recorded_cost_is_used():
    no_acquisition = spend().loc[lambda s: s["category"] != "acquisition"]
    for costs in (None, no_acquisition):
        c = analyse(costs)
        assert c.cac_source == "customers"
        # Q3 new customers x 40, y missing, z 10, w 30: mean 80/3 × 4 customers ÷ 4
        assert c.cac == pytest.approx(80 / 3)
        assert c.previous_cac == pytest.approx((20 + 50) / 2)
        search = c.cac_by_channel.set_index("acquisition_channel").loc["search"]
        assert search["cac"] == pytest.approx(40.0)  # y counts at x's recorded cost
    bare = analyse(None, people().drop(columns="acquisition_cost"))
    assert bare.cac_source is None and math.isnan(bare.cac)
    assert "customers.acquisition_cost" in bare.missing and "costs" in bare.missing


def test_retention_and_service_costs_per_customer_and_per_ticket():
    c = analyse()
    assert c.retention_cost_per_customer == pytest.approx(200 / 8)
    assert c.previous_retention_cost_per_customer == pytest.approx(150 / 5)
    assert c.retention_cost_change.delta == pytest.approx(25 - 30)
    assert c.service_cost_per_ticket == pytest.approx(90 / 3)
    assert c.previous_service_cost_per_ticket == pytest.approx(60 / 2)
    no_tickets = analyse(tickets_opened=None, previous_tickets_opened=None)
    assert math.isnan(no_tickets.service_cost_per_ticket) and "tickets" in no_tickets.missing
    assert math.isnan(analyse(retained=0).retention_cost_per_customer)


def test_chinese_category_names_and_blank_spacing_are_read():
    zh = spend()
    zh["category"] = zh["category"].map(
        {"acquisition": " 获客", "retention": "维系", "service": "服务 "}
    )
    c = analyse(zh)
    assert c.cac == pytest.approx(450 / 4)
    assert c.retention_cost_per_customer == pytest.approx(25.0)
    assert c.service_cost_per_ticket == pytest.approx(30.0)
    shouting = spend().assign(category=lambda s: s["category"].str.upper())
    assert analyse(shouting).cac == pytest.approx(450 / 4)
    other = spend([("2026-07-01", "marketing", 10.0, None), ("2026-07-01", "service", 9.0, None)])
    assert spend_rows(other)["category"].tolist() == ["service"]


def test_a_month_counts_when_its_first_day_lies_in_a_custom_period():
    custom = parse_period("2026-07-15..2026-10-14")  # holds Aug, Sep and Oct
    c = costs_analysis(
        spend(),
        people(),
        period=custom,
        retained=1,
        previous_retained=1,
        tickets_opened=1,
        previous_tickets_opened=1,
    )
    assert c.acquisition_spend == pytest.approx(100 + 50 + 999)
    # previous: 15 Apr – 14 Jul 2026 holds May, Jun, Jul: acquisition 300 (July) only
    assert c.previous_acquisition_spend == pytest.approx(300)
    mid_month = spend().assign(month=lambda s: s["month"] + pd.Timedelta(days=14))
    assert analyse(mid_month).acquisition_spend == pytest.approx(450)  # read as its month


def test_monthly_spend_is_tidy_over_the_twelve_months_to_the_period_end():
    table = analyse().spend
    assert table.columns.tolist() == ["month", "category", "amount"]
    assert table["month"].max() == pd.Timestamp("2026-09-01")  # October is after the end
    july = table.loc[table["month"] == "2026-07-01"].set_index("category")["amount"]
    assert july.to_dict() == {"acquisition": 300.0, "retention": 200.0}


def test_a_category_without_rows_is_unknown_not_zero():
    only_q3 = spend().loc[lambda s: s["month"] >= "2026-07-01"]
    c = analyse(only_q3)
    assert math.isnan(c.previous_cac) and math.isnan(c.previous_retention_cost_per_customer)
    assert math.isnan(c.cac_change.delta)
    q2_only = spend().loc[lambda s: s["month"] < "2026-07-01"]
    late = analyse(q2_only)
    assert late.cac_source == "customers"  # no acquisition rows this period
    assert {"costs.acquisition", "costs.retention", "costs.service"} <= set(late.missing)
    assert math.isnan(late.retention_cost_per_customer)
    empty = analyse(spend().iloc[0:0])
    assert "costs" in empty.missing and empty.spend.empty


def test_bad_arguments_are_refused_with_the_fix():
    with pytest.raises(ParameterError, match="retained ≥ 0"):
        analyse(retained=-1)
    with pytest.raises(ParameterError, match="amount"):
        analyse(spend().drop(columns="amount"))
    with pytest.raises(ParameterError, match="Period"):
        costs_analysis(
            spend(),
            people(),
            period="2026-Q3",
            retained=1,
            previous_retained=1,
            tickets_opened=None,
            previous_tickets_opened=None,
        )
