"""Service efficiency, each figure computed by hand on a small frame: Kaplan–Meier medians
with open tickets censored at the period's end, the SLA share with open tickets, complaints
and repeat complainers, categories, the monthly trend, and degenerate inputs."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.service import per_100, service_analysis
from crmkit.metrics.survival import logrank_test

Q3 = parse_period("2026-Q3")  # 1 Jul – 30 Sep 2026; previous: Q2; censoring at 1 Oct 00:00
T = pd.Timestamp
NAT = pd.NaT


def _tickets(rows):
    columns = [
        "ticket_id",
        "customer_id",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "category",
        "is_complaint",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("opened_at", "first_response_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    frame["is_complaint"] = frame["is_complaint"].astype("boolean")
    return frame


def unit_tickets():
    """Q3 (t1–t8), Q2 (p1–p3) and one older ticket; hours in the comments."""
    return _tickets(
        [
            ("q0", "z", "2026-02-01", "2026-02-01 01:00", "2026-02-02", "billing", False),
            # Q2: resolved in 5 h; 24 h; opened 30 Jun 12:00, resolved after Q2 → censored 12 h
            ("p1", "f", "2026-04-10", "2026-04-10 01:00", "2026-04-10 05:00", "billing", False),
            ("p2", "f", "2026-05-01", "2026-05-01 02:00", "2026-05-02", "returns", True),
            ("p3", "g", "2026-06-30 12:00", NAT, "2026-07-02 12:00", "returns", False),
            # Q3
            ("t1", "a", "2026-07-01", "2026-07-01 02:00", "2026-07-01 10:00", "billing", True),
            ("t2", "a", "2026-07-02", "2026-07-02 04:00", "2026-07-03", "billing", True),
            ("t3", "b", "2026-07-03", NAT, "2026-07-06", "returns", False),  # answered = 72 h
            ("t4", "c", "2026-07-04", "2026-07-04 01:00", NAT, "returns", False),  # open 2136 h
            ("t5", "c", "2026-09-30 12:00", NAT, NAT, "billing", False),  # open 12 h: pending
            ("t6", "d", "2026-08-01", "2026-08-01 03:00", "2026-10-05", "returns", True),  # 1464 h
            ("t7", "d", "2026-08-02", "2026-08-01", "2026-08-03", "billing", False),  # bad answer
            ("t8", "e", "2026-08-05", NAT, "2026-08-04", "returns", False),  # bad: both
        ]
    )


def months(rows):
    frame = pd.DataFrame(rows, columns=["month", "month_end", "complete", "active"])
    frame["month"] = pd.to_datetime(frame["month"])
    frame["month_end"] = pd.to_datetime(frame["month_end"])
    return frame


MONTHS = months(
    [
        ("2026-01-01", "2026-01-31", True, 90),
        ("2026-06-01", "2026-06-30", True, 100),
        ("2026-07-01", "2026-07-31", True, 150),
        ("2026-08-01", "2026-08-31", True, 160),
        ("2026-09-01", "2026-09-30", True, 170),
    ]
)


@pytest.fixture(scope="module")
def service():
    return service_analysis(
        unit_tickets(), period=Q3, active=200, previous_active=100, monthly_active=MONTHS
    )


def test_tickets_and_complaints_per_100_active_customers(service):
    assert (service.tickets, service.previous_tickets) == (8, 3)
    assert service.tickets_per_100.value == pytest.approx(4.0)
    assert service.previous_tickets_per_100.value == pytest.approx(3.0)
    # exact Poisson interval of 8 counts over 200 customers, ×100
    assert service.tickets_per_100.low == pytest.approx(stats.chi2.ppf(0.025, 16) / 2 / 2)
    assert service.tickets_per_100.high == pytest.approx(stats.chi2.ppf(0.975, 18) / 2 / 2)
    # score test of two Poisson rates: 8/200 against 3/100
    pooled = 11 / 300
    z = (8 / 200 - 3 / 100) / np.sqrt(pooled * (1 / 200 + 1 / 100))
    assert service.tickets_change.delta == pytest.approx(1.0)
    assert service.tickets_change.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert service.complaint_source == "tickets"
    assert (service.complaints, service.previous_complaints) == (3, 1)  # t1, t2, t6; p2
    assert service.complaint_rate.value == pytest.approx(1.5)
    assert service.previous_complaint_rate.value == pytest.approx(1.0)


def test_resolution_median_counts_open_tickets_as_waiting(service):
    r = service.resolution
    # valid: 10e 12c 24e 24e 72e 1464c 2136c (t8 left out): S = 6/7, 18/35, 12/35 → median 72
    assert (r.n, r.events) == (7, 4)
    assert r.median == pytest.approx(72.0)
    assert np.isnan(r.p90)  # the curve never falls to a tenth
    # the resolved tickets alone (10, 24, 24, 72) would say 24: biased low
    assert r.curve.table["survival"].tolist() == pytest.approx([6 / 7, 18 / 35, 12 / 35])
    # previous: 5e 12c 24e → 2/3, 0 → median and p90 at 24
    assert (r.previous_n, r.previous_events) == (3, 2)
    assert (r.previous_median, r.previous_p90) == (24.0, 24.0)
    test = logrank_test(
        [10, 12, 24, 24, 72, 1464, 2136, 5, 12, 24],
        [1, 0, 1, 1, 1, 0, 0, 1, 0, 1],
        ["now"] * 7 + ["before"] * 3,
    )
    assert r.change.delta == pytest.approx(48.0)
    assert r.change.p_value == pytest.approx(test.p_value)
    half = 1.959964 * 48.0 / stats.norm.isf(test.p_value / 2)  # test-based interval
    assert (r.change.low, r.change.high) == pytest.approx((48 - half, 48 + half), rel=1e-5)


def test_first_response_falls_back_on_resolution_and_leaves_bad_times_out(service):
    f = service.first_response
    # t1 2, t2 4, t3 72 (its resolution), t4 1, t5 12 censored, t6 3; t7 and t8 bad
    assert (f.n, f.events) == (6, 5)
    assert f.median == pytest.approx(3.0)  # 5/6, 4/6, 3/6
    assert f.p90 == pytest.approx(72.0)  # 2/6, then 0 at 72 h
    assert service.bad_times == 2  # t7 (answer before opening), t8 (both): once each


def test_sla_share_leaves_out_tickets_open_but_not_yet_past_it(service):
    s = service.sla_share
    # met: t1, t2, t3 (72 h ≤ 72), t7; missed: t4, t6 (open past 72 h); pending: t5
    assert (s.successes, s.trials) == (4, 6)
    assert service.sla_pending == 1
    assert (service.previous_sla_share.successes, service.previous_sla_share.trials) == (2, 2)
    assert service.sla_change.delta == pytest.approx(4 / 6 - 1)


def test_repeat_complainers_and_categories(service):
    assert (service.complainers, service.repeat_complainers) == (2, 1)  # a twice, d once
    assert service.repeaters["customer_id"].tolist() == ["a"]
    assert service.repeaters["complaints"].tolist() == [2]
    table = service.by_category.set_index("category")
    assert table.loc["billing", ["tickets", "previous_tickets", "complaints"]].tolist() == [4, 1, 2]
    # billing: 10e 12c 24e 24e → 3/4 then 0 at 24; returns: 72e 1464c 2136c → never a half
    assert table.loc["billing", "median_resolution_hours"] == pytest.approx(24.0)
    assert np.isnan(table.loc["returns", "median_resolution_hours"])
    assert table.loc["billing", "previous_median_resolution_hours"] == pytest.approx(5.0)
    assert table.loc["billing", "sla_share"] == pytest.approx(1.0)  # t5 pending
    assert table.loc["returns", "sla_share"] == pytest.approx(1 / 3)  # t3 met; t4, t6 missed
    complaints = service.complaint_categories.set_index("category")
    assert complaints.loc["billing", "share"] == pytest.approx(2 / 3)
    assert complaints.loc["returns", "previous_share"] == pytest.approx(1.0)
    assert complaints.loc["billing", "previous_complaints"] == 0
    assert service.missing == ()


def test_trend_counts_each_month_as_known_at_its_end(service):
    trend = service.trend.set_index(service.trend["month"].dt.strftime("%Y-%m"))
    assert np.isnan(trend.loc["2026-01", "tickets"])  # before the first ticket: no figure
    assert np.isnan(trend.loc["2026-01", "complaints"])
    assert trend.loc["2026-06", "tickets"] == 1  # p3
    assert trend.loc["2026-07", "tickets"] == 4
    assert trend.loc["2026-07", "per_100"] == pytest.approx(400 / 150)
    assert trend["complaints"].tolist()[2:] == [2, 1, 0]
    # July: 10e 24e 72e and t4 censored at 1 Aug (672 h) → 3/4, 2/4: median 24
    assert trend.loc["2026-07", "median_resolution_hours"] == pytest.approx(24.0)
    # August: t7 24e, t6 censored at 1 Sep; t8 left out → 1/2 at 24
    assert trend.loc["2026-08", "median_resolution_hours"] == pytest.approx(24.0)
    assert np.isnan(trend.loc["2026-09", "median_resolution_hours"])


def test_no_tickets_gives_no_figures_but_complaints_may_come_from_contacts():
    contacts = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "occurred_at": pd.to_datetime(["2026-05-01", "2026-07-01", "2026-07-02"]),
            "kind": ["投诉", "投诉", "服务"],
        }
    )
    for tickets in (None, unit_tickets().iloc[:0]):
        s = service_analysis(
            tickets,
            period=Q3,
            active=50,
            previous_active=40,
            monthly_active=MONTHS,
            interactions=contacts,
        )
        assert s.missing == ("tickets",)
        assert np.isnan(s.tickets_per_100.value) and np.isnan(s.resolution.median)
        assert s.sla_share.trials == 0 and s.by_category is None
        assert s.trend["tickets"].isna().all()
        assert s.complaint_source == "interactions"
        assert s.complaint_rate.value == pytest.approx(2.0)  # 1 complaint per 50
        assert s.previous_complaint_rate.value == pytest.approx(2.5)  # 1 per 40
    bare = service_analysis(None, period=Q3, active=50, previous_active=40, monthly_active=None)
    assert bare.complaint_source is None and np.isnan(bare.complaint_rate.value)
    assert bare.trend.empty


def test_every_ticket_unresolved_and_none_before_the_period():
    # t3 was resolved after the period end: the column is recorded, as of the period end
    # t1 and t2 are still open (t1 past its SLA: missed; t2 not yet: pending)
    tickets = _tickets(
        [
            ("t1", "a", "2026-07-01", NAT, NAT, "billing", True),
            ("t2", "b", "2026-09-30", NAT, NAT, "billing", False),
            ("t3", "c", "2026-10-05", NAT, "2026-10-06", "billing", False),
        ]
    )
    s = service_analysis(tickets, period=Q3, active=3, previous_active=3, monthly_active=None)
    assert np.isnan(s.resolution.median) and s.resolution.events == 0
    assert (s.sla_share.successes, s.sla_share.trials, s.sla_pending) == (0, 1, 1)
    # the records start in this period: the previous one has no figure, not zero
    assert np.isnan(s.previous_tickets_per_100.value)
    assert np.isnan(s.tickets_change.p_value) and np.isnan(s.complaint_change.p_value)
    assert np.isnan(s.resolution.change.delta)


def test_a_resolution_column_with_no_value_is_not_recorded():
    # no ticket ever resolved is an export without the column, not an SLA of 0%
    tickets = _tickets(
        [
            ("t1", "a", "2026-07-01", NAT, NAT, "billing", True),
            ("t2", "b", "2026-08-30", NAT, NAT, "billing", False),
        ]
    )
    s = service_analysis(tickets, period=Q3, active=3, previous_active=3, monthly_active=None)
    assert s.missing == ("first_response_at", "resolved_at")
    assert s.sla_share.trials == 0 and np.isnan(s.resolution.median)


def test_missing_columns_are_named():
    tickets = unit_tickets().drop(columns=["first_response_at", "resolved_at", "category"])
    s = service_analysis(tickets, period=Q3, active=200, previous_active=100, monthly_active=None)
    assert s.missing == ("first_response_at", "resolved_at", "category")
    assert s.sla_share.trials == 0 and np.isnan(s.first_response.median)
    assert s.by_category is None and s.complaint_categories is None
    unmarked = unit_tickets().assign(is_complaint=pd.array([None] * 12, dtype="boolean"))
    s = service_analysis(unmarked, period=Q3, active=200, previous_active=100, monthly_active=None)
    assert s.missing == ("is_complaint",) and s.complaint_source is None


def test_no_active_customers_gives_no_rate():
    assert np.isnan(per_100(3, 0).value)
    s = service_analysis(
        unit_tickets(), period=Q3, active=0, previous_active=0, monthly_active=None
    )
    assert s.tickets == 8 and np.isnan(s.tickets_per_100.value)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ParameterError, match="Period"):
        service_analysis(None, period="2026-Q3", active=1, previous_active=1, monthly_active=None)
    with pytest.raises(ParameterError, match="active"):
        service_analysis(None, period=Q3, active=-1, previous_active=1, monthly_active=None)
    with pytest.raises(ParameterError, match="service_sla_hours"):
        service_analysis(
            None, period=Q3, active=1, previous_active=1, monthly_active=None, sla_hours=0
        )
    with pytest.raises(ParameterError, match="opened_at"):
        service_analysis(
            unit_tickets().drop(columns="opened_at"),
            period=Q3,
            active=1,
            previous_active=1,
            monthly_active=None,
        )


def test_complaint_categories_list_only_the_two_periods_categories():
    tickets = unit_tickets()
    tickets.loc[0, ["category", "is_complaint"]] = ["warranty", True]  # February: neither period
    tickets["category"] = tickets["category"].astype("category")  # as loading gives it
    service = service_analysis(
        tickets, period=Q3, active=200, previous_active=100, monthly_active=MONTHS
    )
    complaints = service.complaint_categories.set_index("category")
    assert sorted(complaints.index) == ["billing", "returns"]
    assert complaints.loc["billing", "complaints"] == 2
