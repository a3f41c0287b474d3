"""Per-customer order figures computed by the engine: by hand on a few orders, and the same
to the last bit whether the orders are a frame in memory or the snapshot's file on disk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_same_result

from crmkit.core.errors import ParameterError
from crmkit.core.shared import fingerprint
from crmkit.load.snapshot import read_snapshot, write_snapshot
from crmkit.load.unit import load_unit
from crmkit.metrics import clv, customer_orders, segmentation


@pytest.fixture
def orders() -> pd.DataFrame:
    """a: two orders in January (one at 15:00 on the 31st), one in February; b: one order
    without amount or margin; c: only after the cut; d: an order without a day."""
    return pd.DataFrame(
        {
            "customer_id": pd.array(["a", "a", "a", "b", "c", "d"], dtype="string"),
            "order_date": pd.to_datetime(
                [
                    "2026-01-03 00:00",
                    "2026-01-31 15:00",
                    "2026-02-02 00:00",
                    "2026-01-10 00:00",
                    "2026-03-01 00:00",
                    None,
                ]
            ),
            "amount": [10.0, 30.0, 7.0, np.nan, 5.0, 9.0],
            "margin": [2.0, 6.0, 1.0, np.nan, 1.0, 3.0],
            "channel": pd.Categorical(["web", "store", "web", None, "web", "web"]),
        }
    )


def test_order_totals_by_hand(orders):
    totals = customer_orders.order_totals(orders, through="2026-01-31").set_index("customer_id")
    assert list(totals.index) == ["a", "b"]  # c bought later; d's order has no day
    assert totals.loc["a", ["orders", "revenue", "margin"]].tolist() == [2, 40.0, 8.0]
    assert totals.loc["b", ["orders", "revenue", "margin"]].tolist() == [1, 0.0, 0.0]
    assert totals.loc["a", "first_order"] == pd.Timestamp("2026-01-03")
    assert totals.loc["a", "last_order"] == pd.Timestamp("2026-01-31 15:00")
    assert "margin" not in customer_orders.order_totals(
        orders.drop(columns="margin"), through="2026-01-31"
    )


@pytest.mark.parametrize(
    "figure",
    [
        lambda o: customer_orders.order_totals(o, through="2026-01-31"),
        lambda o: customer_orders.channel_orders(o, through="2026-01-31"),
        lambda o: customer_orders.purchase_days(o, after="2026-01-01", through="2026-01-31"),
        lambda o: customer_orders.last_order_day(o, through="2026-01-31"),
        lambda o: clv.rfm_summary(o, observation_end="2026-01-31"),
    ],
)
def test_a_table_without_the_needed_columns_is_refused(orders, tmp_path, figure):
    """In memory or on disk, a missing column is named, not an engine's binder error."""
    path = tmp_path / "orders.parquet"
    orders.drop(columns="amount").to_parquet(path, index=False)
    on_disk = customer_orders.TableOnDisk(path, ("customer_id", "order_date"))
    for table in (orders.drop(columns="amount"), on_disk):
        with pytest.raises(ParameterError, match=r"\['amount'\] required by"):
            figure(table)


def test_figures_share_a_connection_that_keeps_nothing_of_the_last(orders, monkeypatch):
    """The engine's connection is reused (opening one takes longer than a small figure), holds
    no view of the last figure's frames, survives a failed query, is closed after a large
    figure (it keeps memory), and is not handed to a forked process."""
    customer_orders.order_totals(orders, through="2026-01-31")
    with customer_orders.engine(orders, caller="test") as first:
        pass
    with (
        pytest.raises(Exception, match="nope"),
        customer_orders.engine(orders, caller="test", extra=orders) as again,
    ):
        assert again is first
        again.execute("SELECT nope FROM orders")
    with customer_orders.engine(orders.iloc[:1], caller="test") as after:
        assert after is first
        views = after.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal")
        assert views.fetchall() == [("orders",)]  # the last figure's "extra" is gone
        assert after.execute("SELECT COUNT(*) FROM orders").fetchone() == (1,)
    monkeypatch.setattr(customer_orders, "REUSE_ROWS", 1)  # 2 orders: a large figure
    with customer_orders.engine(orders.iloc[:2], caller="test") as large:
        assert large is first
    monkeypatch.undo()
    with customer_orders.engine(orders, caller="test") as after_large:
        assert after_large is not first  # a connection that read many orders is closed
    with customer_orders.engine(orders, caller="test") as kept:
        assert kept is after_large
    monkeypatch.setattr(customer_orders.os, "getpid", lambda: -1)  # as in a forked child
    with customer_orders.engine(orders, caller="test") as child:
        assert child is not kept


def test_channel_orders_by_hand(orders):
    counts = customer_orders.channel_orders(orders, through="2026-02-28")
    assert counts.values.tolist() == [
        ["a", "store", 1],
        ["a", "web", 2],
        ["b", "unknown", 1],
    ]


def test_purchase_days_and_last_order_by_hand(orders):
    days = customer_orders.purchase_days(orders, after="2026-01-10", through="2026-02-02")
    assert days.astype({"day": str}).values.tolist() == [["a", "2026-01-31"], ["a", "2026-02-02"]]
    assert customer_orders.last_order_day(orders, through="2026-02-28") == pd.Timestamp(
        "2026-02-02"
    )
    assert pd.isna(customer_orders.last_order_day(orders, through="2025-12-31"))


def test_cohort_month_revenue_by_hand(orders):
    """a signed up in February: January's orders (before the signup month) count in month
    0, February's too; b signed up in December 2025, so January is month 1."""
    start = {"a": (2026 - 1970) * 12 + 1, "b": (2025 - 1970) * 12 + 11}
    cohort_of = pd.DataFrame(
        {"customer_id": ["a", "b"], "cohort": [0, 1], "start": [start["a"], start["b"]]}
    )
    revenue = customer_orders.cohort_month_revenue(
        orders, cohort_of, cohorts=3, through="2026-02-28"
    )
    assert revenue.tolist() == [[47.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    amounts = orders.assign(amount=orders["amount"].fillna(4.0))
    revenue = customer_orders.cohort_month_revenue(
        amounts, cohort_of, cohorts=2, through="2026-02-28"
    )
    assert revenue.tolist() == [[47.0, 0.0], [0.0, 4.0]]


@pytest.fixture(scope="module")
def north_on_disk(tmp_path_factory):
    """North loaded, and the same unit written as a snapshot and read back."""
    north = load_unit("north", data_source=ROOT / "sample_data", period="2026-Q3")
    folder = write_snapshot(north, tmp_path_factory.mktemp("north") / "snapshot", key="k")
    return north, read_snapshot(folder, key="k")


def test_the_figures_are_the_same_to_the_last_bit_from_memory_and_from_disk(north_on_disk):
    north, staged = north_on_disk
    frame = north["transactions"]
    on_disk = staged.read({"transactions": None}, on_disk=["transactions"])["transactions"]
    assert isinstance(on_disk, customer_orders.TableOnDisk) and len(on_disk) == len(frame)
    end, cut = north.period.end, pd.Timestamp(north.period.end) - pd.Timedelta(weeks=26)
    for figure in (
        lambda o: customer_orders.order_totals(o, through=end),
        lambda o: customer_orders.channel_orders(o, through=end),
        lambda o: customer_orders.purchase_days(o, after=cut, through=end),
        lambda o: clv.rfm_summary(o, observation_end=end),
    ):
        pd.testing.assert_frame_equal(figure(on_disk), figure(frame), check_exact=True)


def test_the_clv_analysis_is_the_same_from_the_orders_on_disk(north_on_disk, monkeypatch):
    """In a run the clv report leaves the orders on disk; the churn and health reports hand
    the clv analysis the orders they read. Their analysis is the same, and so is the
    fingerprint under which the run shares it, so the three reports show one fit."""
    north, staged = north_on_disk
    settings = {"horizon_months": 12, "monthly_discount_rate": 0.01, "holdout_weeks": 26}
    tables = staged.read(clv.READS, required=clv.REQUIRED, on_disk=clv.ON_DISK)
    assert isinstance(tables["transactions"], customer_orders.TableOnDisk)
    in_memory = {name: north.tables.get(name) for name in clv.READS}
    assert_same_result(
        clv.analyse(**tables, period=north.period, **settings),
        clv.analyse(**in_memory, period=north.period, **settings),
    )
    calls = []
    original = clv._analyse

    def record(*args, **kwargs):
        calls.append(fingerprint(original, args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(clv, "_analyse", record)
    clv.analyse(**tables, period=north.period, **settings)
    clv.analyse(**in_memory, period=north.period, **settings)
    assert calls[0] is not None and calls[0] == calls[1]


def test_the_segmentation_analysis_is_the_same_from_the_orders_on_disk(north_on_disk):
    north, staged = north_on_disk
    reads = segmentation.READS
    tables = staged.read(reads, required=segmentation.REQUIRED, on_disk=segmentation.ON_DISK)
    assert isinstance(tables["transactions"], customer_orders.TableOnDisk)
    in_memory = {name: north.tables.get(name) for name in reads}
    assert_same_result(
        segmentation.analyse(**tables, period=north.period),
        segmentation.analyse(**in_memory, period=north.period),
    )


def test_order_day_gaps_by_hand_and_from_disk(tmp_path):
    from crmkit.core.on_disk import TableOnDisk
    from crmkit.metrics.customer_orders import order_day_gaps

    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", None],
            "order_date": pd.to_datetime(
                [
                    "2026-01-01 09:00",
                    "2026-01-01 18:00",  # one day: no gap
                    "2026-01-11 00:00",
                    "2026-03-01 00:00",
                    "2026-02-01 00:00",
                    "2026-02-04 00:00",
                    "2026-01-01 00:00",
                ]
            ),
        }
    )
    # before 1 March: a's days 1 and 11 January (10), b's 1 and 4 February (3)
    assert sorted(order_day_gaps(orders, before="2026-03-01")) == [3.0, 10.0]
    assert sorted(order_day_gaps(orders, before="2026-03-02")) == [3.0, 10.0, 49.0]
    path = tmp_path / "orders.parquet"
    orders.to_parquet(path, index=False)
    on_disk = TableOnDisk(path, ("customer_id", "order_date"))
    assert sorted(order_day_gaps(on_disk, before="2026-03-02")) == [3.0, 10.0, 49.0]
