"""Results shared by a run's kernels: computed once for equal inputs, again for any change."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pytest

from crmkit.core import shared
from crmkit.core.periods import Period, parse_period
from crmkit.load.unit import load_unit
from crmkit.metrics import churn, clv, health

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[tuple] = []


@shared.shared
def totals(frame: pd.DataFrame, *, by: str, period: Period | None = None) -> pd.Series:
    CALLS.append((len(frame), by))
    return frame.groupby(by)["amount"].sum()


@shared.shared
def fails(frame: pd.DataFrame) -> None:
    CALLS.append(("fails",))
    raise ValueError("no")


def orders(amounts=(10.0, 20.0, 5.0)) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": list(amounts)})


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    CALLS.clear()
    monkeypatch.setenv(shared.STORE_VARIABLE, str(tmp_path / "shared"))
    return tmp_path / "shared"


def test_without_a_store_every_call_computes(monkeypatch):
    monkeypatch.delenv(shared.STORE_VARIABLE, raising=False)
    CALLS.clear()
    totals(orders(), by="customer_id")
    totals(orders(), by="customer_id")
    assert len(CALLS) == 2


def test_equal_contents_are_computed_once(store):
    first = totals(orders(), by="customer_id", period=parse_period("2026-Q3"))
    again = totals(orders(), by="customer_id", period=parse_period("2026-Q3"))  # new objects
    assert CALLS == [(3, "customer_id")]
    pd.testing.assert_series_equal(first, again)
    assert again.to_dict() == {"a": 15.0, "b": 20.0}
    assert len(list(store.glob("totals-*.pickle"))) == 1


@pytest.mark.parametrize(
    "changed",
    [
        lambda: totals(orders((10.0, 20.0, 6.0)), by="customer_id"),  # one value
        lambda: totals(orders().astype({"amount": "float32"}), by="customer_id"),  # a dtype
        lambda: totals(orders().set_axis([5, 6, 7]), by="customer_id"),  # the index
        lambda: totals(orders().assign(region="x"), by="region"),  # an argument
        lambda: totals(orders(), by="customer_id", period=parse_period("2026-Q2")),
    ],
)
def test_any_change_is_computed_again(store, changed):
    totals(orders(), by="customer_id")
    changed()
    assert len(CALLS) == 2


def test_frames_are_read_whole_though_hashed_a_million_rows_at_a_time():
    big = pd.DataFrame({"id": [f"c{i}" for i in range(1_100_000)], "amount": 1.0})
    key = shared.fingerprint(sum, (big,), {})
    assert key == shared.fingerprint(sum, (big.copy(),), {})
    for changed in (
        big.assign(amount=[1.0] * 1_099_999 + [2.0]),  # the last row's number
        big.assign(id=[*big["id"][:-1], "other"]),  # the last row's text
        big.set_axis(range(1, 1_100_001)),  # the index
    ):
        assert shared.fingerprint(sum, (changed,), {}) != key


def test_a_call_that_raises_stores_nothing(store):
    for _ in range(2):
        with pytest.raises(ValueError):
            fails(orders())
    assert len(CALLS) == 2
    assert not list(store.glob("*.pickle"))


def test_a_store_that_cannot_be_written_just_runs(tmp_path, monkeypatch):
    CALLS.clear()
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(shared.STORE_VARIABLE, str(blocked / "shared"))
    assert totals(orders(), by="customer_id").to_dict() == {"a": 15.0, "b": 20.0}
    assert totals(orders(), by="customer_id").to_dict() == {"a": 15.0, "b": 20.0}
    assert len(CALLS) == 2


def test_arguments_the_fingerprint_cannot_read_just_run(store):
    listed = pd.DataFrame({"customer_id": ["a"], "amount": [1.0], "tags": [["x"]]})
    totals(listed, by="customer_id")
    totals(listed, by="customer_id")
    assert len(CALLS) == 2


def _call_in_child(folder: str, log: str) -> None:
    import os

    os.environ[shared.STORE_VARIABLE] = folder

    @shared.shared
    def slow(frame):
        with open(log, "a") as handle:
            handle.write("computed\n")
        time.sleep(1.0)
        return frame["amount"].sum()

    assert slow(orders()) == 35.0


@pytest.mark.skipif(shared.fcntl is None, reason="no file locks on this platform")
def test_kernels_asking_at_once_wait_for_one_computation(tmp_path):
    log = tmp_path / "log.txt"
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_call_in_child, args=(str(tmp_path / "shared"), str(log)))
        for _ in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert [child.exitcode for child in children] == [0, 0, 0]
    assert log.read_text().splitlines() == ["computed"]


def test_a_units_clv_churn_and_health_reports_fit_clv_once(store):
    unit = load_unit("north", data_source=ROOT / "sample_data", period="2026-Q3")
    tables = unit.tables
    settings = {"horizon_months": 12, "monthly_discount_rate": 0.01, "holdout_weeks": 26}
    fitted = clv.analyse(  # as the clv notebook calls it
        tables["transactions"],
        tables["customers"],
        period=unit.period,
        costs=tables["costs"],
        **settings,
    )
    assert len(list(store.glob("analyse-*.pickle"))) == 1
    values = churn.expected_value(
        tables["transactions"],
        tables["customers"],
        period=unit.period,
        costs=tables["costs"],
        **settings,
    )
    assert len(list(store.glob("analyse-*.pickle"))) == 1  # churn read the clv report's fit
    pd.testing.assert_series_equal(values, fitted.values.set_index("customer_id")["clv"])
    review = health.analyse(
        tables["customers"],
        tables["transactions"],
        period=unit.period,
        churn_events=tables["churn_events"],
        costs=tables["costs"],
        clv_horizon_months=12,
        clv_discount_rate=0.01,
        clv_holdout_weeks=26,
    )
    # the review's previous period is its own (clv.predicted_values): nothing new is shared
    assert len(list(store.glob("analyse-*.pickle"))) == 1
    card = {row.key: row for row in review.scorecard}
    assert card["predicted_clv"].value == fitted.mean_clv


def test_a_table_on_disk_is_hashed_as_the_frame_it_reads_into(tmp_path, monkeypatch):
    """A report that leaves the orders on disk and one that reads them share a result: the
    table's fingerprint is its frame's, whatever pieces the file is read in; one value
    changed, it is not."""
    from crmkit.core.on_disk import TableOnDisk

    monkeypatch.setattr(shared, "_HASHED_ROWS", 3)
    frame = pd.DataFrame(
        {
            "customer_id": pd.array(["a", "b", None, "d", "e", "f", "g"], dtype="string"),
            "order_date": pd.date_range("2026-01-01", periods=7),
            "amount": [1.0, 2.5, None, 4.0, 5.0, 6.0, 7.0],
            "channel": pd.Categorical(["web", "web", "store", None, "web", "store", "web"]),
        }
    )

    def key(table):
        return shared.fingerprint(
            test_a_table_on_disk_is_hashed_as_the_frame_it_reads_into, (table,), {}
        )

    path = tmp_path / "orders.parquet"
    frame.to_parquet(path, index=False, row_group_size=2)
    on_disk = TableOnDisk(path, tuple(frame.columns))
    assert key(on_disk) is not None and key(on_disk) == key(frame)
    assert TableOnDisk(path, ("customer_id", "amount")) != on_disk
    assert key(TableOnDisk(path, ("customer_id", "amount"))) == key(
        frame[["customer_id", "amount"]]
    )
    frame.loc[5, "amount"] = 6.5
    assert key(on_disk) != key(frame)
