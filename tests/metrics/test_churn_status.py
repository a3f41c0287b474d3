import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_status import (
    ChurnDefinition,
    choose_definition,
    churn_dates,
    default_inactivity_days,
)


def _people():
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "signup_date": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-03-01", "2026-08-01"]),
        }
    )


def _orders():
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "order_date": pd.to_datetime(["2026-01-05", "2026-05-01", "2026-01-10", "2026-03-02"]),
        }
    )


def test_events_churn_at_latest_event_unless_won_back():
    events = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b"],
            "churned_at": pd.to_datetime(["2026-03-01", "2026-02-01", "2026-04-01"]),
        }
    )
    status = churn_dates(
        _people(), _orders(), events, ChurnDefinition("events", None, "events"), as_of="2026-06-30"
    ).set_index("customer_id")
    # a ordered on 1 May after churning on 1 March: won back; b churned last on 1 April.
    assert pd.isna(status.loc["a", "churned_at"])
    assert status.loc["b", "churned_at"] == pd.Timestamp("2026-04-01")
    assert pd.isna(status.loc["c", "churned_at"])
    assert "d" not in status.index  # signed up after the day


def test_events_are_read_point_in_time():
    events = pd.DataFrame({"customer_id": ["b"], "churned_at": pd.to_datetime(["2026-04-01"])})
    definition = ChurnDefinition("events", None, "events")
    before = churn_dates(_people(), _orders(), events, definition, as_of="2026-03-31")
    assert before["churned_at"].isna().all()
    on_day = churn_dates(_people(), _orders(), events, definition, as_of="2026-04-01")
    assert on_day.set_index("customer_id").loc["b", "churned_at"] == pd.Timestamp("2026-04-01")


def test_inactivity_churn_is_last_activity_plus_threshold_once_passed():
    definition = ChurnDefinition("inactivity", 60, "parameter")
    status = churn_dates(_people(), _orders(), None, definition, as_of="2026-06-30")
    status = status.set_index("customer_id")
    # a: last order 1 May + 60 = 30 June, passed by the end of 30 June.
    assert status.loc["a", "churned_at"] == pd.Timestamp("2026-06-30")
    assert status.loc["b", "churned_at"] == pd.Timestamp("2026-03-11")
    assert status.loc["c", "churned_at"] == pd.Timestamp("2026-05-01")
    early = churn_dates(_people(), _orders(), None, definition, as_of="2026-06-29")
    assert pd.isna(early.set_index("customer_id").loc["a", "churned_at"])


def test_default_threshold_is_the_90th_percentile_of_gaps():
    # 30 customers with gaps 1..30 days (one gap each) and a later order not read.
    days = pd.date_range("2026-01-01", periods=1, freq="D")[0]
    rows = []
    for k in range(1, 31):
        rows += [(f"c{k}", days), (f"c{k}", days + pd.Timedelta(days=10 * k))]
    rows.append(("c1", pd.Timestamp("2026-12-01")))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date"])
    expected = int(-(-pd.Series([10 * k for k in range(1, 31)]).quantile(0.9) // 1))
    assert default_inactivity_days(orders, before="2026-11-01") == (expected, "gaps")
    assert expected == 271


def test_choose_definition_prefers_events_then_parameter():
    period = parse_period("2026-Q3")
    events = pd.DataFrame({"customer_id": ["a"], "churned_at": pd.to_datetime(["2026-01-01"])})
    assert choose_definition(_orders(), events, period=period).kind == "events"
    chosen = choose_definition(_orders(), events.iloc[:0], period=period, inactivity_days=45)
    assert (chosen.kind, chosen.inactivity_days, chosen.basis) == ("inactivity", 45, "parameter")
    fallback = choose_definition(_orders(), None, period=period)
    assert (fallback.inactivity_days, fallback.basis) == (180, "fallback")


@pytest.mark.parametrize("days", [5, 12])
def test_threshold_never_below_a_month(days):
    orders = pd.DataFrame(
        {
            "customer_id": [f"c{k // 2}" for k in range(60)],
            "order_date": [
                pd.Timestamp("2026-01-01") + pd.Timedelta(days=days * (k % 2)) for k in range(60)
            ],
        }
    )
    assert default_inactivity_days(orders, before="2026-06-01") == (30, "gaps")


def test_an_events_definition_without_events_is_refused_clearly():
    with pytest.raises(ValueError, match="needs the churn_events table"):
        churn_dates(
            _people(),
            _orders(),
            None,
            ChurnDefinition("events", None, "events"),
            as_of="2026-06-30",
        )


def test_events_definition_knows_when_the_records_stop():
    """Cancellations exported before the period: every one predates it, so the period's
    churn rests on no record (the report says so instead of claiming churn fell to 0)."""
    q3 = parse_period("2026-Q3")
    events = pd.DataFrame(
        {"customer_id": ["a", "b"], "churned_at": pd.to_datetime(["2026-02-01", "2026-06-28"])}
    )
    chosen = choose_definition(_orders(), events, period=q3)
    assert chosen.events_until == pd.Timestamp("2026-06-28").date()
    assert chosen.records_stop_before(q3)
    assert not chosen.records_stop_before(parse_period("2026-Q2"))
    assert not choose_definition(_orders(), None, period=q3).records_stop_before(q3)


@pytest.mark.parametrize("days", [-30, "90"])
def test_an_unusable_inactivity_threshold_is_refused_not_ignored(days):
    with pytest.raises(ParameterError, match="churn_inactivity_days must be"):
        choose_definition(_orders(), None, period=parse_period("2026-Q3"), inactivity_days=days)


@pytest.mark.parametrize("unit", ["north", "west"])
def test_churn_dates_from_positions_and_last_orders_equal_those_from_every_order(unit):
    # churn.analyse and the health score hand churn_dates each customer's last order
    # (CustomerTables.churn_status, with ids as positions) instead of every order and every
    # id as text: the statuses must not change
    from conftest import ROOT

    from crmkit.load.unit import load_unit
    from crmkit.metrics.churn_features import encode

    data = load_unit(unit, data_source=ROOT / "sample_data", period="2026-Q3", as_of="2026-10-15")
    customers, transactions = data["customers"], data["transactions"]
    events = data.tables.get("churn_events")
    tables = encode(customers, transactions)
    period = data.period
    definitions = [choose_definition(transactions, None, period=period)]
    if events is not None and len(events):
        definitions.append(choose_definition(transactions, events, period=period))
    for definition in definitions:
        given = events if definition.kind == "events" else None
        for day in (period.end, period.previous_end, period.previous().previous_end):
            every = churn_dates(customers, transactions, given, definition, as_of=day)
            assert every["churned_at"].notna().sum() > 0
            coded = tables.churn_status(given, definition, as_of=day)
            pd.testing.assert_frame_equal(coded, every)


@pytest.mark.parametrize("id_type", ["arrow", "object", "integer"])
def test_churn_dates_skip_undated_and_unknown_rows_and_count_days_before_1970(id_type):
    ids = {"arrow": ["p", "q", "r"], "object": ["p", "q", "r"], "integer": [7, 3, 9]}[id_type]
    dtype = {"arrow": pd.StringDtype("pyarrow"), "object": object, "integer": "int64"}[id_type]
    people = pd.DataFrame(
        {
            "customer_id": pd.Series([ids[0], ids[1], ids[2], ids[0]], dtype=dtype),
            "signup_date": pd.to_datetime(
                ["1969-12-31 14:00", "2026-01-01", "2026-01-01", "2026-05-05"], format="ISO8601"
            ),
        }
    )
    unknown = {"integer": 5}.get(id_type, "zz")
    orders = pd.DataFrame(
        {
            "customer_id": pd.Series([ids[1], ids[1], unknown, ids[2]], dtype=dtype),
            "order_date": pd.to_datetime(
                ["2026-02-10 18:30", None, "2026-06-01", "2026-07-01"], format="ISO8601"
            ),
        }
    )
    status = churn_dates(
        people, orders, None, ChurnDefinition("inactivity", 30, "parameter"), as_of="2026-06-30"
    )
    # the second row of the first id is a duplicate (first kept); the undated order, the
    # unknown id's order and the order after as_of are not read
    assert status["customer_id"].tolist() == ids
    assert status["last_order"].tolist()[1] == pd.Timestamp("2026-02-10 18:30")
    assert status["last_order"].isna().tolist() == [True, False, True]
    # churn 30 days after the last activity's day: sign-up on 31 Dec 1969 → 30 Jan 1970
    assert status["churned_at"].tolist() == [
        pd.Timestamp("1970-01-30"),
        pd.Timestamp("2026-03-12"),
        pd.Timestamp("2026-01-31"),
    ]
