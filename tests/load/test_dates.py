"""Dates read as the user meant them: day-first or month-first decided per column from the
values, logged; a column that fits both is refused with the fix (the date_format parameter)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_tables, write_folder

from crmkit.core.errors import DataError, ParameterError
from crmkit.load.unit import load_unit

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}


def load(folder: Path, unit: str = "alpha", **kwargs):
    return load_unit(unit, data_source=str(folder), **{**Q3, **kwargs})


def entry(data, table: str, rule: str):
    found = [e for e in data.quality.entries if e.table == table and e.rule == rule]
    assert len(found) == 1, [(e.table, e.rule) for e in data.quality.entries]
    return found[0]


def with_order_dates(tmp_path: Path, dates: list[str]) -> Path:
    tables = tiny_tables()
    tables["transactions"]["order_date"] = dates
    return write_folder(tmp_path / "d", tables)


def test_day_first_column_read_day_first_and_logged(tmp_path: Path):
    # 30.09.2026 can only be day-first, so 01.09.2026 is 1 September, not 9 January.
    folder = with_order_dates(
        tmp_path, ["05.01.2026", "15.07.2026", "20.08.2026", "01.09.2026", "30.09.2026"]
    )
    data = load(folder)
    assert data["transactions"]["order_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-01-05",
        "2026-07-15",
        "2026-08-20",
        "2026-09-01",
    ]
    found = entry(data, "transactions", "'order_date' read day-first (day before month)")
    assert (found.action, found.rows) == ("noted", 4)
    assert found.example_ids == ("o1", "o2", "o3", "o4")
    assert found.detail == "decided from values like '15.07.2026', '20.08.2026', '30.09.2026'"
    # a note, not a defect: nothing counted as dropped or repaired
    assert data.quality.rows_dropped == data.quality.rows_repaired == 0
    assert data.quality.issues() == []


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["1/5/2026", "7/15/2026", "8/20/2026", "9/1/2026", "9/30/2026"], "2026-09-01"),
        (["01-05-2026", "07-15-2026", "08-20-2026", "09-01-2026", "09-30-2026"], "2026-09-01"),
    ],
)
def test_month_first_column_read_month_first(tmp_path: Path, dates, expected):
    data = load(with_order_dates(tmp_path, dates))
    assert data["transactions"]["order_date"].iloc[3] == pd.Timestamp(expected)
    found = entry(data, "transactions", "'order_date' read month-first (month before day)")
    assert found.rows == 4


def test_times_and_two_digit_years(tmp_path: Path):
    folder = with_order_dates(
        tmp_path, ["05/01/26 08:00", "15/07/26 9:30", "20/08/2026", "01/09/2026 17:45", "30/09/26"]
    )
    data = load(folder)
    assert data["transactions"]["order_date"].tolist() == [
        pd.Timestamp("2026-01-05 08:00"),
        pd.Timestamp("2026-07-15 09:30"),
        pd.Timestamp("2026-08-20"),
        pd.Timestamp("2026-09-01 17:45"),
    ]


def test_column_that_fits_both_orders_is_refused_with_the_fix(tmp_path: Path):
    folder = with_order_dates(
        tmp_path, ["05.01.2026", "07.07.2026", "08.08.2026", "01.09.2026", "02.09.2026"]
    )
    with pytest.raises(
        DataError,
        match=re.escape(
            "transactions.csv: the dates in column 'order_date' of transactions read both "
            "day-first and month-first, and no value tells which: '05.01.2026' is 2026-01-05 "
            "day-first or 2026-05-01 month-first (also '01.09.2026', '02.09.2026'). Set "
            "`date_format` in the unit's parameters: `date_format: dayfirst` (or monthfirst, or "
            "a format such as '%d.%m.%Y') for every table, or per column: "
            "`date_format: {transactions: {order_date: dayfirst}}`."
        ),
    ):
        load(folder)


@pytest.mark.parametrize(
    "date_format",
    [
        "dayfirst",
        "%d.%m.%Y",
        {"transactions": "dayfirst"},
        {"transactions": {"order_date": "dayfirst"}},
        {"transactions.order_date": "%d.%m.%Y"},
    ],
)
def test_date_format_parameter_decides(tmp_path: Path, date_format):
    folder = with_order_dates(
        tmp_path, ["05.01.2026", "07.07.2026", "08.08.2026", "01.09.2026", "02.09.2026"]
    )
    data = load(folder, date_format=date_format)
    assert data["transactions"]["order_date"].iloc[3] == pd.Timestamp("2026-09-01")
    notes = [e for e in data.quality.entries if e.rule.startswith("'order_date' read")]
    assert len(notes) == 1 and notes[0].rows == 4
    assert notes[0].detail == "as set by the date_format parameter"


def test_month_first_parameter(tmp_path: Path):
    folder = with_order_dates(
        tmp_path, ["01.05.2026", "07.07.2026", "08.08.2026", "09.01.2026", "09.02.2026"]
    )
    data = load(folder, date_format="monthfirst")
    assert data["transactions"]["order_date"].iloc[3] == pd.Timestamp("2026-09-01")


def test_ambiguous_column_follows_another_date_column_of_the_same_file(tmp_path: Path):
    tables = tiny_tables()
    tables["opportunities"] = pd.DataFrame(
        {
            "opportunity_id": ["p1", "p2", "p3"],
            "business_unit": ["alpha"] * 3,
            "created_at": ["13.07.2026", "01.08.2026", "02.08.2026"],
            "outcome": ["won", "lost", "open"],
            "closed_at": ["03.08.2026", "04.09.2026", ""],
        }
    )
    data = load(write_folder(tmp_path / "d", tables))
    opportunities = data["opportunities"].set_index("opportunity_id")
    assert opportunities.loc["p1", "closed_at"] == pd.Timestamp("2026-08-03")
    found = entry(data, "opportunities", "'closed_at' read day-first (day before month)")
    assert found.rows == 2
    assert found.detail == "its values fit both readings; read like 'created_at' in the same file"


def test_decided_on_every_unit_of_the_file(tmp_path: Path):
    # alpha's own dates fit both orders; beta's 25.08.2026 in the same column decides.
    tables = tiny_tables()
    tables["transactions"]["order_date"] = [
        "05.01.2026",
        "07.07.2026",
        "08.08.2026",
        "01.09.2026",
        "25.08.2026",
    ]
    data = load(write_folder(tmp_path / "d", tables))
    assert data["transactions"]["order_date"].iloc[3] == pd.Timestamp("2026-09-01")


def test_column_of_months_reads_the_constant_number_as_the_day(tmp_path: Path):
    tables = tiny_tables()
    tables["costs"] = pd.DataFrame(
        {
            "business_unit": ["alpha"] * 3,
            "month": ["01.07.2026", "01.08.2026", "01.09.2026"],
            "category": ["acquisition"] * 3,
            "amount": ["10", "20", "30"],
        }
    )
    data = load(write_folder(tmp_path / "d", tables))
    assert data["costs"]["month"].dt.month.tolist() == [7, 8, 9]
    found = entry(data, "costs", "'month' read day-first (day before month)")
    assert found.detail.startswith("a column of months: the number that is the same in every")


def test_column_mixing_both_orders_is_refused(tmp_path: Path):
    folder = with_order_dates(
        tmp_path, ["05.01.2026", "15.07.2026", "08/20/2026", "01.09.2026", "30.09.2026"]
    )
    with pytest.raises(
        DataError,
        match=re.escape(
            "column 'order_date' of transactions mixes day-first dates ('15.07.2026', "
            "'30.09.2026') and month-first dates ('08/20/2026'); a column must use one order."
        ),
    ):
        load(folder)


def test_required_dates_in_the_other_order_are_refused_naming_the_reading(tmp_path: Path):
    folder = with_order_dates(
        tmp_path, ["05.01.2026", "15.07.2026", "08/20/2026", "01.09.2026", "30.09.2026"]
    )
    with pytest.raises(
        DataError,
        match=re.escape(
            "has 1 value(s) that are not dates, on line(s) 4: '08/20/2026'. Expected dates like "
            "2026-09-30, 2026-09-30 14:05:00 or 30.09.2026; dates written with numbers are read "
            "day-first (day before month)."
        ),
    ):
        load(folder, date_format="dayfirst")


def test_iso_dates_need_no_decision_and_no_log(tiny_folder: Path):
    data = load(tiny_folder)
    assert data.quality.entries == []


@pytest.mark.parametrize(
    ("date_format", "message"),
    [
        ("daysfirst", "Parameter date_format must be dayfirst, monthfirst or a format"),
        ({"orders": "dayfirst"}, "Parameter date_format has an entry for 'orders', which is not"),
        ({"transactions": {"when": "dayfirst"}}, "names column 'when', which is not a column"),
        ({"transactions": {"order_date": 1}}, "date_format.transactions.order_date must be"),
    ],
)
def test_bad_date_format_parameter(tiny_folder: Path, date_format, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        load(tiny_folder, date_format=date_format)


def test_dates_with_year_month_and_day_labelled_are_read_as_written(tmp_path: Path):
    """Chinese spreadsheets write 2026年7月3日: every part is named, nothing to decide."""
    folder = with_order_dates(
        tmp_path,
        ["2026年1月5日", "2026年7月15日 09:30", "2026-08-20", "2026年09月01号", "2026/9/30"],
    )
    data = load(folder)
    assert data["transactions"]["order_date"].tolist() == [
        pd.Timestamp("2026-01-05"),
        pd.Timestamp("2026-07-15 09:30"),
        pd.Timestamp("2026-08-20"),
        pd.Timestamp("2026-09-01"),
    ]  # the fifth order is another unit's
