import numpy as np
import pandas as pd

from crmkit.metrics.customer_positions import NAT, latest_per_customer, nanoseconds, positions

ARROW = pd.StringDtype("pyarrow")


def test_positions_of_ids_in_people_unknown_and_missing_are_minus_one():
    people = pd.Series(["x", "y", "z"], dtype=ARROW)
    ids = pd.Series(["z", None, "q", "x", "x"], dtype=ARROW)
    for dtype in (ARROW, object):
        (found,) = positions(people.astype(dtype), ids.astype(dtype))
        assert found.tolist() == [2, -1, -1, 0, 0]


def test_positions_of_integer_ids_and_of_ids_given_as_several_columns():
    people = pd.Series([30, 10, 20])
    first, second = positions(people, pd.Series([20, 40, 30]), pd.Series([10], dtype=np.uint16))
    assert first.tolist() == [2, -1, 0]
    assert second.tolist() == [1]
    # integers given as text are other ids, not the same numbers
    (text,) = positions(people, pd.Series(["30", "10"], dtype=object))
    assert text.tolist() == [-1, -1]


def test_latest_time_per_customer_skips_rows_of_no_customer_and_no_time():
    times = nanoseconds(
        pd.Series(pd.to_datetime(["2026-01-05", "2026-03-01", None, "2026-02-01", "2026-09-09"]))
    )
    at = np.array([0, 0, 2, 0, -1], dtype=np.int32)
    latest = latest_per_customer(at, times, 3)
    assert latest[0] == pd.Timestamp("2026-03-01").value
    assert latest[1] == NAT and latest[2] == NAT


def test_positions_with_no_people_or_no_ids():
    none = pd.Series([], dtype=ARROW)
    some = pd.Series(["x", "y"], dtype=ARROW)
    for dtype in (ARROW, object):
        (empty,) = positions(some.astype(dtype), none.astype(dtype))
        assert empty.tolist() == []
        (unknown,) = positions(none.astype(dtype), some.astype(dtype))
        assert unknown.tolist() == [-1, -1]
