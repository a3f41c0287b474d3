"""Numbers read as the user meant them: the decimal mark decided per column from the values
(or the decimal parameter), logged; never a silent ×100."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_tables, write_folder

from crmkit.core.errors import DataError, ParameterError
from crmkit.load.unit import load_unit

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}


def load(folder: Path, **kwargs):
    return load_unit("alpha", data_source=str(folder), **{**Q3, **kwargs})


def notes(data, table: str = "transactions") -> list:
    return [e for e in data.quality.entries if e.table == table and e.action == "noted"]


def with_amounts(tmp_path: Path, amounts: list[str], *, sep: str = ",") -> Path:
    tables = tiny_tables()
    tables["transactions"]["amount"] = amounts
    folder = write_folder(tmp_path / "d", tables)
    tables["transactions"].to_csv(folder / "transactions.csv", sep=sep, index=False)
    return folder


def test_decimal_comma_in_a_semicolon_file(tmp_path: Path):
    folder = with_amounts(tmp_path, ["369,97", "1 234,50", "5", "7,25", "99"], sep=";")
    data = load(folder)
    assert data["transactions"]["amount"].tolist() == [369.97, 1234.5, 5.0, 7.25]
    [note] = notes(data)
    assert note.rule == "'amount' read with a decimal comma (1.234,50 = 1234.5)"
    assert (note.action, note.rows, note.example_ids) == ("noted", 3, ("o1", "o2", "o4"))
    assert note.detail == "decided from values like '369,97', '1 234,50', '7,25'"
    assert data.quality.issues() == []


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        (["1.234,50", "2.000", "5", "7,25", "9"], [1234.5, 2000.0, 5.0, 7.25]),
        (["1,234.50", "2,000", "5", "7.25", "9"], [1234.5, 2000.0, 5.0, 7.25]),
        (["¥1,234.50", "1 000 USD", "5", "7.25", "9"], [1234.5, 1000.0, 5.0, 7.25]),
        (["€ 1.234,50", "1'000,00", "5", "7,25", "9"], [1234.5, 1000.0, 5.0, 7.25]),
    ],
)
def test_thousands_separators_follow_the_decimal_mark(tmp_path: Path, amounts, expected):
    data = load(with_amounts(tmp_path, amounts, sep=";"))
    assert data["transactions"]["amount"].tolist() == expected


def test_column_of_only_ambiguous_values_reads_a_decimal_point_and_says_so(tmp_path: Path):
    data = load(with_amounts(tmp_path, ["1,234", "2,500", "5", "7", "9"]))
    assert data["transactions"]["amount"].tolist() == [1234.0, 2500.0, 5.0, 7.0]
    [note] = notes(data)
    assert note.rule == "'amount' read with a decimal point (1,234.50 = 1234.5)"
    assert (note.rows, note.example_ids) == (2, ("o1", "o2"))
    assert note.detail == (
        "values like '1,234', '2,500' fit both readings and none in the column tells which; "
        "set `decimal: ','` if the comma is the decimal mark there"
    )


def test_ambiguous_values_in_a_semicolon_file_read_a_decimal_comma(tmp_path: Path):
    data = load(with_amounts(tmp_path, ["1,234", "2,500", "5", "7", "9"], sep=";"))
    assert data["transactions"]["amount"].tolist() == [1.234, 2.5, 5.0, 7.0]
    [note] = notes(data)
    assert note.rule == "'amount' read with a decimal comma (1.234,50 = 1234.5)"
    assert note.detail.startswith("its values fit both readings; the file is ';'-separated")


def test_ambiguous_column_follows_another_number_column_of_the_file(tmp_path: Path):
    folder = with_amounts(tmp_path, ["1.234", "2.500", "5", "7", "9"])
    frame = pd.read_csv(folder / "transactions.csv", dtype=str)
    frame["margin"] = ["1,5", "2", "3", "4", "5"]
    frame.to_csv(folder / "transactions.csv", index=False)
    data = load(folder)
    assert data["transactions"]["amount"].tolist() == [1234.0, 2500.0, 5.0, 7.0]
    amount = next(n for n in notes(data) if n.rule.startswith("'amount'"))
    assert amount.detail == "its values fit both readings; read like 'margin' in the same file"


@pytest.mark.parametrize("decimal", [",", {"transactions": ","}, {"transactions.amount": ","}])
def test_decimal_parameter_decides(tmp_path: Path, decimal):
    data = load(with_amounts(tmp_path, ["1,234", "2,500", "5", "7", "9"]), decimal=decimal)
    assert data["transactions"]["amount"].tolist() == [1.234, 2.5, 5.0, 7.0]
    [note] = notes(data)
    assert note.detail == "as set by the decimal parameter"


def test_column_mixing_both_marks_is_refused(tmp_path: Path):
    with pytest.raises(
        DataError,
        match=re.escape(
            "transactions.csv: column 'amount' of transactions mixes numbers with a decimal "
            "comma ('369,97') and with a decimal point ('20.50'); a column must use one."
        ),
    ):
        load(with_amounts(tmp_path, ["369,97", "20.50", "5", "7", "9"]))


def test_numbers_against_the_stated_mark_do_not_parse_and_are_counted(tmp_path: Path):
    # never a silent ×100: with decimal '.', '369,97' is not 36997
    data = load(with_amounts(tmp_path, ["369,97", "20.50", "5", "7", "9"]), decimal=".")
    assert data["transactions"]["amount"].tolist() == [20.5, 5.0, 7.0]
    dropped = [e for e in data.quality.entries if e.action == "dropped"]
    assert [(e.rule, e.rows, e.example_ids) for e in dropped] == [
        ("'amount' does not parse as a number", 1, ("o1",))
    ]


def test_bad_decimal_parameter(tiny_folder: Path):
    with pytest.raises(ParameterError, match=re.escape("Parameter decimal must be '.' or ','")):
        load(tiny_folder, decimal="comma")


def test_point_decimals_need_no_log(tiny_folder: Path):
    assert load(tiny_folder).quality.entries == []
