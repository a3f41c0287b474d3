"""Churn rates and retention cohorts, each figure computed by hand on small frames."""

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_rates import (
    DAYS_PER_MONTH,
    churn_rates_analysis,
    customer_month_rate,
    equivalent_churn,
    rate_change,
)
from crmkit.metrics.churn_status import ChurnDefinition, churn_dates

Q2 = parse_period("2026-Q2")  # 1 Apr – 30 Jun 2026, 91 days; previous: Q1, 90 days
EVENTS = ChurnDefinition("events", None, "events")
SILENT_30 = ChurnDefinition("inactivity", 30, "parameter")


def _frame(rows, columns, dates):
    frame = pd.DataFrame(rows, columns=columns)
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def events_unit():
    """a stays; b and c churn in Q2; d churns in Q1 and is won back in Q2 (orders after);
    e joins in May and churns in June; f joined in Q1 and stays; g churned in Dec 2025."""
    people = _frame(
        [
            ("a", "2025-10-01"),
            ("b", "2025-11-01"),
            ("c", "2025-12-01"),
            ("d", "2025-10-15"),
            ("e", "2026-05-01"),
            ("f", "2026-02-15"),
            ("g", "2025-10-01"),
        ],
        ["customer_id", "signup_date"],
        ["signup_date"],
    )
    orders = _frame(
        [
            ("a", "2026-02-10", 100.0),
            ("a", "2026-05-05", 50.0),
            ("b", "2026-01-15", 200.0),
            ("c", "2026-03-01", 80.0),
            ("c", "2026-04-10", 120.0),
            ("d", "2025-11-01", 30.0),
            ("d", "2026-04-15", 60.0),
            ("e", "2026-05-02", 40.0),
            ("f", "2026-02-16", 10.0),
            ("f", "2026-06-01", 30.0),
        ],
        ["customer_id", "order_date", "amount"],
        ["order_date"],
    )
    lost = _frame(
        [
            ("b", "2026-05-20"),
            ("c", "2026-06-01"),
            ("d", "2026-02-01"),
            ("e", "2026-06-10"),
            ("g", "2025-12-15"),
        ],
        ["customer_id", "churned_at"],
        ["churned_at"],
    )
    return people, orders, lost


def inactivity_unit():
    """30 days' silence is churn. p churns 14 Jun; q stays; r churned in Q1; s signed up on
    15 Mar without ordering and churns 14 Apr; t joins 10 May and churns 10 Jun; u is silent
    from 10 Mar (churned 9 Apr as seen in April) and orders again on 20 Jun."""
    people = _frame(
        [(c, "2026-01-01") for c in "pqru"] + [("s", "2026-03-15"), ("t", "2026-05-10")],
        ["customer_id", "signup_date"],
        ["signup_date"],
    )
    orders = _frame(
        [
            ("p", "2026-01-05", 10.0),
            ("p", "2026-02-01", 10.0),
            ("p", "2026-03-20", 10.0),
            ("p", "2026-05-15", 40.0),
            ("q", "2026-03-25", 25.0),
            ("q", "2026-04-20", 5.0),
            ("q", "2026-06-10", 5.0),
            ("r", "2026-01-10", 9.0),
            ("t", "2026-05-11", 12.0),
            ("u", "2026-01-02", 7.0),
            ("u", "2026-03-10", 3.0),
            ("u", "2026-06-20", 100.0),
        ],
        ["customer_id", "order_date", "amount"],
        ["order_date"],
    )
    return people, orders


@pytest.fixture
def by_events():
    people, orders, lost = events_unit()
    return churn_rates_analysis(people, orders, lost, period=Q2, definition=EVENTS)


@pytest.fixture
def by_silence():
    people, orders = inactivity_unit()
    return churn_rates_analysis(people, orders, None, period=Q2, definition=SILENT_30)


def test_logo_churn_counts_customers_active_at_the_start(by_events):
    # active on 31 Mar: a, b, c, f (d churned 1 Feb, g in Dec, e not yet signed up);
    # of them b (20 May) and c (1 Jun) churned; e joined in May and is left out.
    now = by_events.current
    assert (now.churn.successes, now.churn.trials) == (2, 4)
    assert now.churn.value == 0.5
    assert now.retention.value == 0.5
    assert (by_events.active_at_start, by_events.churned, by_events.new_customers) == (4, 2, 1)
    assert now.active_customers == 5  # the four active at the start and e, who joined
    z = stats.norm.ppf(0.975)
    centre = (0.5 + z**2 / 8) / (1 + z**2 / 4)
    half = z * math.sqrt(0.25 / 4 + z**2 / 64) / (1 + z**2 / 4)
    assert now.churn.low == pytest.approx(centre - half)
    assert now.churn.high == pytest.approx(centre + half)
    assert now.retention.low == pytest.approx(1 - now.churn.high)


def test_previous_period_and_change(by_events):
    # Q1: active on 31 Dec a, b, c, d (g churned 15 Dec, f joined in Feb); d churned 1 Feb.
    before = by_events.previous
    assert before.period.label == "2026-Q1"
    assert (before.churn.successes, before.churn.trials) == (1, 4)
    assert before.new_customers == 1  # f
    change = by_events.churn_change
    pooled = 3 / 8
    z = 0.25 / math.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 4))
    assert change.delta == pytest.approx(0.25)
    assert change.p_value == pytest.approx(2 * stats.norm.sf(z))
    half = stats.norm.ppf(0.975) * math.sqrt(0.5 * 0.5 / 4 + 0.25 * 0.75 / 4)
    assert (change.low, change.high) == pytest.approx((0.25 - half, 0.25 + half))
    assert by_events.retention_change.delta == pytest.approx(-0.25)
    assert by_events.retention_change.p_value == change.p_value


def test_the_period_before_a_first_quarter_is_the_fourth_quarter():
    people, orders, lost = events_unit()
    rates = churn_rates_analysis(
        people, orders, lost, period=parse_period("2026-Q1"), definition=EVENTS
    )
    before = rates.previous.period
    assert (before.label, before.start, before.end) == (
        "2025-Q4", date(2025, 10, 1), date(2025, 12, 31)
    )  # fmt: skip
    # joined in Q4 2025: a, b, c, d and g; g churned in it (15 Dec), a joiner, so not logo churn
    assert (rates.previous.new_customers, rates.previous.churned) == (5, 0)


def test_won_back_customer_is_neither_base_nor_churn(by_events):
    # d churned in Q1 and ordered on 15 Apr: not active at the start of Q2, not churned in it
    # and, signed up long before, not a joiner; only Q1 counts its churn.
    assert by_events.current.churned == 2
    assert by_events.previous.churned == 1


def test_customer_month_rate_counts_joiners_and_days_at_risk(by_events):
    # a, f: 1 Apr–30 Jun = 91 days each; b: 1 Apr–20 May = 50; c: 1 Apr–1 Jun = 62;
    # e: 1 May–10 Jun = 41. Churns: b, c, e.
    rate = by_events.current.customer_month
    days = 91 + 91 + 50 + 62 + 41
    assert rate.churned == 3
    assert rate.customer_months == pytest.approx(days / 30.4375)
    assert rate.value == pytest.approx(3 * 30.4375 / days)
    assert by_events.customer_months == pytest.approx(days / 30.4375)
    # Q1: a, b, c 90 days each, d 1 Jan–1 Feb = 32, f 15 Feb–31 Mar = 45; one churn (d)
    before = by_events.previous.customer_month
    assert (before.churned, before.customer_months * 30.4375) == (1, pytest.approx(347))


def test_equivalents_of_the_logo_rate(by_events):
    now = by_events.current
    assert now.monthly.value == pytest.approx(1 - 0.5 ** (30.4375 / 91))
    assert now.annual.value == pytest.approx(1 - 0.5 ** (365 / 91))
    assert now.annual.low == pytest.approx(1 - (1 - now.churn.low) ** (365 / 91))
    assert by_events.previous.annual.value == pytest.approx(1 - 0.75 ** (365 / 90))


def test_revenue_retention_of_customers_active_at_the_start(by_events):
    # a, b, c, f: Q1 revenue 100, 200, 80, 10 = 390; Q2 50, 0, 120, 30 = 200;
    # kept per customer min(Q2, Q1): 50, 0, 80, 10 = 140.
    now = by_events.current
    assert now.revenue_base == 390
    assert now.net_revenue_retention == pytest.approx(200 / 390)
    assert now.gross_revenue_retention == pytest.approx(140 / 390)
    # Q1's base is Q4 2025: only d's 30; a, b, c, d bought 380 in Q1; d kept nothing.
    before = by_events.previous
    assert before.revenue_base == 30
    assert before.net_revenue_retention == pytest.approx(380 / 30)
    assert before.gross_revenue_retention == 0


def test_monthly_trend_by_hand(by_events):
    trend = by_events.trend.set_index("month")
    assert list(trend.index) == list(pd.date_range("2025-07-01", "2026-06-01", freq="MS"))
    expected = {  # month: (active at its start, churned in it)
        "2025-07-01": (0, 0),
        "2025-12-01": (4, 1),  # a, b, d, g; g churned 15 Dec
        "2026-02-01": (4, 1),  # a, b, c, d; d churned 1 Feb
        "2026-04-01": (4, 0),  # a, b, c, f; d won back is no churn
        "2026-05-01": (5, 1),  # d active again on 30 Apr; b churned 20 May
        "2026-06-01": (5, 2),  # a, c, d, e, f; c and e churned
    }
    for month, (active, churned) in expected.items():
        row = trend.loc[month]
        assert (row["active_at_start"], row["churned"]) == (active, churned), month
    assert np.isnan(trend.loc["2025-07-01", "churn_rate"])
    assert trend.loc["2026-06-01", "churn_rate"] == pytest.approx(0.4)
    assert trend["complete"].all()
    # active in the month: active at its start or joined in it (e joined in May)
    assert trend.loc["2026-05-01", "active"] == 6
    assert trend.loc["2026-06-01", "active"] == 5


def test_trend_cuts_the_last_month_at_the_period_end():
    people, orders, lost = events_unit()
    period = parse_period("2026-04-01..2026-06-15")
    rates = churn_rates_analysis(people, orders, lost, period=period, definition=EVENTS)
    june = rates.trend.iloc[-1]
    assert (june["month_end"], bool(june["complete"])) == (pd.Timestamp("2026-06-15"), False)
    assert (june["active_at_start"], june["churned"]) == (5, 2)  # c 1 Jun, e 10 Jun
    assert rates.current.churn.successes == 2  # b, c


def test_cohort_retention_by_hand(by_events):
    cells = by_events.cohorts.set_index(["signup_month", "months_since_signup"])
    assert cells.index.get_level_values(0).min() == pd.Timestamp("2025-10-01")

    def share(month, k):
        return cells.loc[(pd.Timestamp(month), k), "retention"]

    # Oct 2025: a, d, g; g churned in Dec (month 2); d won back counts as kept throughout
    assert [share("2025-10-01", k) for k in range(9)] == pytest.approx([1, 1] + [2 / 3] * 7)
    assert cells.loc[(pd.Timestamp("2025-10-01"), 2), "retained"] == 2
    assert cells.loc[(pd.Timestamp("2025-10-01"), 0), "customers"] == 3
    # Nov 2025: b churned in May 2026 (month 6)
    assert [share("2025-11-01", k) for k in range(8)] == [1] * 6 + [0, 0]
    # May 2026: e churned in June (month 1)
    assert [share("2026-05-01", k) for k in range(2)] == [1, 0]
    # January 2026: nobody signed up
    assert cells.loc[(pd.Timestamp("2026-01-01"), 0), "customers"] == 0
    assert np.isnan(share("2026-01-01", 0))


def test_cohort_cells_after_the_period_are_incomplete(by_events):
    cells = by_events.cohorts.set_index(["signup_month", "months_since_signup"])
    for month, first_open in [("2025-10-01", 9), ("2026-02-01", 5), ("2026-05-01", 2)]:
        assert bool(cells.loc[(pd.Timestamp(month), first_open - 1), "complete"])
        assert not cells.loc[(pd.Timestamp(month), first_open), "complete"]
        assert np.isnan(share := cells.loc[(pd.Timestamp(month), first_open), "retention"])
        assert pd.isna(cells.loc[(pd.Timestamp(month), first_open), "retained"]), share
    table = by_events.cohort_table
    assert table.shape == (9, 24)  # Oct 2025 – Jun 2026, months 0–23
    assert table.loc[pd.Timestamp("2026-06-01")].isna().all()  # nobody signed up in June


def test_cohorts_keep_the_last_24_signup_months():
    months = pd.date_range("2023-01-01", periods=42, freq="MS")
    people = pd.DataFrame({"customer_id": [f"c{k}" for k in range(42)], "signup_date": months})
    orders = pd.DataFrame({"customer_id": ["c0"], "order_date": months[:1], "amount": [1.0]})
    none = pd.DataFrame({"customer_id": pd.Series([], dtype=str), "churned_at": pd.to_datetime([])})
    rates = churn_rates_analysis(people, orders, none, period=Q2, definition=EVENTS)
    signup = rates.cohorts["signup_month"]
    assert (signup.min(), signup.max()) == (pd.Timestamp("2024-07-01"), pd.Timestamp("2026-06-01"))
    assert rates.cohorts.loc[rates.cohorts["complete"], "retention"].eq(1).all()
    assert rates.cohorts["complete"].sum() == sum(range(1, 25))


def test_inactivity_rates_by_hand(by_silence):
    # active on 31 Mar: p (last 20 Mar), q (25 Mar), s (signed up 15 Mar), u (10 Mar);
    # r went silent on 9 Feb. As seen on 30 Jun p churned 14 Jun, s 14 Apr; u ordered again.
    now = by_silence.current
    assert (now.churn.successes, now.churn.trials) == (2, 4)
    # days at risk: p 1 Apr–14 Jun 75, q 91, s 1–14 Apr 14, u 91, t 10 May–10 Jun 32
    assert now.customer_month.churned == 3
    assert now.customer_month.customer_months * DAYS_PER_MONTH == pytest.approx(303)
    # revenue of p, q, s, u: Q1 30 + 25 + 0 + 10 = 65; Q2 40 + 10 + 0 + 100 = 150
    assert now.net_revenue_retention == pytest.approx(150 / 65)
    assert now.gross_revenue_retention == pytest.approx((30 + 10 + 0 + 10) / 65)
    assert by_silence.definition == SILENT_30


def test_inactivity_won_back_customer_counts_in_its_month_not_in_the_quarter(by_silence):
    # u's silence passed 30 days on 9 Apr and p's on 19 Apr: April's trend counts both; p
    # ordered again in May and u in June, so only p's later churn (14 Jun) is the quarter's.
    trend = by_silence.trend.set_index("month")
    april = trend.loc["2026-04-01"]
    assert (april["active_at_start"], april["churned"]) == (4, 3)  # u 9, s 14, p 19 Apr
    assert by_silence.current.churned == 2  # p and s


def test_no_previous_revenue_gives_nan(by_silence):
    before = by_silence.previous  # Q1's base would be Q4 2025: no orders at all
    assert before.revenue_base == 0
    assert np.isnan(before.net_revenue_retention)
    assert np.isnan(before.gross_revenue_retention)


def test_zero_churn():
    people, orders, _ = events_unit()
    none = pd.DataFrame({"customer_id": pd.Series([], dtype=str), "churned_at": pd.to_datetime([])})
    rates = churn_rates_analysis(people, orders, none, period=Q2, definition=EVENTS)
    assert (rates.churned, rates.active_at_start) == (0, 6)  # a b c d f g
    assert rates.churn.value == 0 and rates.churn.low == pytest.approx(0, abs=1e-12)
    assert rates.current.annual.value == 0
    assert rates.current.customer_month.value == 0
    assert rates.churn_change.delta == 0 and rates.churn_change.p_value == 1.0
    assert rates.customer_month_change.p_value == 1.0
    assert rates.cohorts.loc[rates.cohorts["complete"], "retention"].dropna().eq(1).all()


@pytest.mark.parametrize("definition", [EVENTS, SILENT_30])
def test_zero_customers(definition):
    people = pd.DataFrame({"customer_id": pd.Series([], dtype=str)})
    people["signup_date"] = pd.to_datetime([])
    orders = pd.DataFrame(
        {"customer_id": pd.Series([], dtype=str), "order_date": pd.to_datetime([]), "amount": []}
    )
    lost = pd.DataFrame({"customer_id": pd.Series([], dtype=str), "churned_at": pd.to_datetime([])})
    rates = churn_rates_analysis(people, orders, lost, period=Q2, definition=definition)
    assert rates.active_at_start == 0 and np.isnan(rates.churn.value)
    assert np.isnan(rates.current.annual.value) and np.isnan(rates.current.customer_month.value)
    assert np.isnan(rates.churn_change.delta) and np.isnan(rates.customer_month_change.delta)
    assert np.isnan(rates.current.net_revenue_retention)
    assert len(rates.trend) == 12 and rates.trend["churn_rate"].isna().all()
    assert rates.cohorts.empty and rates.cohort_table.empty


def test_agrees_with_churn_dates_on_random_units():
    """The timeline's shortcut gives what churn_dates gives on the full tables."""
    rng = np.random.default_rng(3)
    n, m = 300, 2000
    ids = np.array([f"k{i}" for i in range(n)])
    people = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 540, n), unit="D"),
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": ids[rng.integers(0, n, m)],
            "order_date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(
                rng.integers(0, 600, m) * 86400 + rng.integers(0, 86400, m), unit="s"
            ),
            "amount": rng.gamma(2, 10, m),
        }
    )
    lost = pd.DataFrame(
        {
            "customer_id": ids[rng.integers(0, n, 120)],
            "churned_at": pd.Timestamp("2025-03-01")
            + pd.to_timedelta(rng.integers(0, 500, 120), unit="D"),
        }
    )
    for definition, events in [(EVENTS, lost), (SILENT_30, None)]:
        rates = churn_rates_analysis(people, orders, events, period=Q2, definition=definition)
        start = churn_dates(people, orders, events, definition, as_of="2026-03-31")
        end = churn_dates(people, orders, events, definition, as_of="2026-06-30")
        active = start.loc[start["churned_at"].isna(), "customer_id"]
        ended = end.set_index("customer_id").loc[active, "churned_at"]
        lost_now = Q2.contains(ended).sum()
        assert (rates.churn.trials, rates.churn.successes) == (len(active), lost_now)
        month = rates.trend.set_index("month").loc["2026-05-01"]
        s = churn_dates(people, orders, events, definition, as_of="2026-04-30")
        e = churn_dates(people, orders, events, definition, as_of="2026-05-31")
        base = s.loc[s["churned_at"].isna(), "customer_id"]
        gone = e.set_index("customer_id").loc[base, "churned_at"]
        in_may = ((gone >= "2026-05-01") & (gone < "2026-06-01")).sum()
        assert (month["active_at_start"], month["churned"]) == (len(base), in_may)


def test_annualisation_formula():
    assert equivalent_churn(0.1, days=92, horizon_days=365) == pytest.approx(1 - 0.9 ** (365 / 92))
    assert equivalent_churn(0.1, days=365, horizon_days=365) == pytest.approx(0.1)
    assert equivalent_churn(1.0, days=30, horizon_days=365) == 1.0
    assert np.isnan(equivalent_churn(float("nan"), days=30, horizon_days=365))
    with pytest.raises(ValueError, match="days must be positive"):
        equivalent_churn(0.1, days=0, horizon_days=365)


def test_customer_month_interval_is_garwoods():
    # exact 95% Poisson limits for 2 events: 0.2422 and 7.2247 (Garwood 1936; as tabled in
    # Ulm 1990, Am J Epidemiol 131:373)
    rate = customer_month_rate(2, 10 * DAYS_PER_MONTH)
    assert (rate.low * 10, rate.high * 10) == pytest.approx((0.2422, 7.2247), abs=1e-4)
    assert customer_month_rate(0, 10 * DAYS_PER_MONTH).low == 0
    assert np.isnan(customer_month_rate(0, 0).value)


def test_rate_change_score_test():
    now, before = (
        customer_month_rate(30, 100 * DAYS_PER_MONTH),
        customer_month_rate(10, 100 * DAYS_PER_MONTH),
    )
    change = rate_change(now, before)
    assert change.delta == pytest.approx(0.2)
    z = 0.2 / math.sqrt(0.2 * (1 / 100 + 1 / 100))
    assert change.p_value == pytest.approx(2 * stats.norm.sf(z))
    half = 1.959964 * math.sqrt(30 / 100**2 + 10 / 100**2)
    assert (change.low, change.high) == pytest.approx((0.2 - half, 0.2 + half), abs=1e-5)


def test_misuse_is_refused():
    people, orders, lost = events_unit()
    with pytest.raises(ParameterError, match="Period"):
        churn_rates_analysis(people, orders, lost, period="2026-Q2", definition=EVENTS)
    with pytest.raises(ParameterError, match="ChurnDefinition"):
        churn_rates_analysis(people, orders, lost, period=Q2, definition="events")
    with pytest.raises(ParameterError, match=r"\['amount'\].*transactions"):
        churn_rates_analysis(
            people, orders.drop(columns="amount"), lost, period=Q2, definition=EVENTS
        )
    with pytest.raises(ParameterError, match="without churn_events"):
        churn_rates_analysis(people, orders, None, period=Q2, definition=EVENTS)


def test_inputs_are_not_changed():
    people, orders, lost = events_unit()
    copies = [frame.copy() for frame in (people, orders, lost)]
    churn_rates_analysis(people, orders, lost, period=Q2, definition=EVENTS)
    for frame, copy in zip((people, orders, lost), copies, strict=True):
        pd.testing.assert_frame_equal(frame, copy)
