from datetime import date

import numpy as np
import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.core.periods import (
    day_after,
    parse_period,
    period_from_dates,
    require_period,
    rows_through,
)


@pytest.mark.parametrize(
    ("text", "start", "end", "prev_start", "prev_end"),
    [
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), date(2025, 10, 1), date(2025, 12, 31)),
        ("2026-09", date(2026, 9, 1), date(2026, 9, 30), date(2026, 8, 1), date(2026, 8, 31)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31), date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-01", date(2024, 1, 1), date(2024, 1, 31), date(2023, 12, 1), date(2023, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), date(2025, 1, 1), date(2025, 12, 31)),
        (
            "2026-09-01..2026-09-10",
            date(2026, 9, 1),
            date(2026, 9, 10),
            date(2026, 8, 22),
            date(2026, 8, 31),
        ),
    ],
)
def test_named_periods(text, start, end, prev_start, prev_end):
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    assert (period.previous_start, period.previous_end) == (prev_start, prev_end)


@pytest.mark.parametrize(
    ("text", "as_of", "label"),
    [
        ("last-quarter", date(2026, 11, 22), "2026-Q3"),
        ("last-quarter", date(2026, 2, 1), "2025-Q4"),
        ("last-month", date(2026, 11, 22), "2026-10"),
        ("last-month", date(2026, 1, 15), "2025-12"),
        ("last-year", date(2026, 1, 15), "2025"),
    ],
)
def test_relative_periods(text, as_of, label):
    assert parse_period(text, as_of=as_of).label == label


def test_previous_of_previous_is_consistent():
    period = parse_period("2026-Q3").previous()
    assert (period.start, period.end) == (date(2026, 4, 1), date(2026, 6, 30))


def test_notebook_dates_recover_calendar_periods():
    assert period_from_dates("2026-07-01", "2026-09-30").label == "2026-Q3"
    assert period_from_dates("2026-09-01", "2026-09-30").label == "2026-09"
    custom = period_from_dates("2026-07-10", "2026-07-19")
    assert custom.previous_end == date(2026, 7, 9) and custom.previous_start == date(2026, 6, 30)


@pytest.mark.parametrize(
    "label",
    [f"2025-Q{q}" for q in range(1, 5)] + [f"2025-{m:02d}" for m in range(1, 13)] + ["2025"],
)
def test_every_calendar_period_is_recovered_from_its_dates(label):
    # Q4 and December end on 31 December as the year does: the start tells them apart
    period = parse_period(label)
    found = period_from_dates(period.start.isoformat(), period.end.isoformat())
    assert (found.label, found.previous_start, found.previous_end) == (
        label, period.previous_start, period.previous_end
    )  # fmt: skip


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "next-quarter", "Q3", ""])
def test_bad_period_names(text):
    with pytest.raises(ParameterError, match=r"is not understood|months run 01 to 12"):
        parse_period(text)


def test_bad_notebook_dates():
    with pytest.raises(ParameterError, match="must be ISO dates"):
        period_from_dates("July", "2026-09-30")
    with pytest.raises(ParameterError, match="before its start"):
        period_from_dates("2026-09-30", "2026-07-02")


def test_a_period_holds_every_time_of_its_last_day_and_nothing_after():
    period = parse_period("2026-Q3")
    frame = pd.DataFrame(
        {
            "at": pd.to_datetime(
                [
                    "2026-06-30 23:59:59",  # previous period
                    "2026-07-01 00:00:00",
                    "2026-09-30 00:00:00",
                    "2026-09-30 23:59:59",
                    "2026-10-01 00:00:00",  # next period
                ]
            )
        }
    )
    assert period.contains(frame["at"]).tolist() == [False, True, True, True, False]
    assert period.rows(frame, "at").index.tolist() == [1, 2, 3]
    assert period.rows_to_end(frame, "at").index.tolist() == [0, 1, 2, 3]
    assert period.previous().rows(frame, "at").index.tolist() == [0]


def test_day_after_drops_the_time_of_day_once():
    assert day_after("2026-09-30 17:45") == pd.Timestamp("2026-10-01")
    assert day_after(date(2026, 12, 31)) == pd.Timestamp("2027-01-01")
    frame = pd.DataFrame({"at": pd.to_datetime(["2026-09-30 23:00", "2026-10-01 00:00"])})
    # a cut-off given with a time still keeps the whole of its day
    assert rows_through(frame, "at", pd.Timestamp("2026-09-30 08:00")).index.tolist() == [0]


def test_rows_through_a_day_after_every_row_is_every_row_and_a_frame_of_its_own():
    frame = pd.DataFrame({"at": pd.to_datetime(["2026-09-01", "2026-09-30"]), "x": [1.0, 2.0]})
    every = rows_through(frame, "at", "2026-09-30")
    pd.testing.assert_frame_equal(every, frame)
    assert every is not frame
    assert np.shares_memory(every["x"].to_numpy(), frame["x"].to_numpy())  # no copy made
    every.loc[0, "x"] = 9.0
    assert frame.loc[0, "x"] == 1.0
    with_missing = frame.assign(at=pd.to_datetime(["2026-09-01", None]))
    assert rows_through(with_missing, "at", "2026-09-30").index.tolist() == [0]


def test_analyses_take_the_period_whole():
    period = parse_period("2026-Q3")
    assert require_period(period, caller="x") is period
    with pytest.raises(ParameterError, match=r"x\(\) needs period as a crmkit.core.periods.Period"):
        require_period("2026-Q3", caller="x")
