"""Ids read the same way in every table and every source type: ``1001.0`` is ``1001``, and
``001000`` matches ``1000`` by one rule (leading zeros dropped from all-digit ids of that key
in every table, when one table writes them without)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_tables, write_folder

from crmkit.core.errors import DataError
from crmkit.load.unit import load_unit

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}


def numbered_tables(customer_ids: list, order_customer_ids: list) -> dict[str, pd.DataFrame]:
    tables = tiny_tables()
    tables["customers"]["customer_id"] = customer_ids
    tables["transactions"]["customer_id"] = order_customer_ids
    return tables


def noted(data, table: str) -> list[tuple[str, int]]:
    return [(e.rule, e.rows) for e in data.quality.entries if e.table == table]


def test_ids_written_as_numbers_match(tmp_path: Path):
    tables = numbered_tables(
        ["1001", "1002", "1003", "2001"], ["1001.0", "1001.0", "1002.0", "1003.0", "2001.0"]
    )
    data = load_unit("alpha", data_source=str(write_folder(tmp_path / "d", tables)), **Q3)
    assert data["transactions"]["customer_id"].tolist() == ["1001", "1001", "1002", "1003"]
    assert noted(data, "transactions") == [
        ("'customer_id' written as numbers ('1001.0' read as '1001')", 4)
    ]
    assert data.quality.rows_dropped == 0


def test_a_column_not_all_numbers_keeps_its_text(tmp_path: Path):
    tables = numbered_tables(["1001.0", "A2", "A3", "B1"], ["1001.0", "1001.0", "A2", "A3", "B1"])
    data = load_unit("alpha", data_source=str(write_folder(tmp_path / "d", tables)), **Q3)
    assert data["customers"]["customer_id"].tolist() == ["1001.0", "A2", "A3"]
    assert data.quality.entries == []


def write_source(tmp_path: Path, kind: str, tables: dict[str, pd.DataFrame]) -> Path:
    if kind == "sqlite":
        path = tmp_path / "crm.db"
        with sqlite3.connect(path) as connection:
            for name, frame in tables.items():
                frame.to_sql(name, connection, index=False)
        return path
    return write_folder(tmp_path / kind, tables, suffix=f".{kind}")


@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet", "sqlite"])
def test_leading_zeros_match_across_tables_and_source_types(tmp_path: Path, kind: str):
    # customers write 001001 (text); orders hold the number 1001 (an integer column in
    # Excel, Parquet and SQLite, text in CSV)
    tables = numbered_tables(
        ["001001", "001002", "001003", "002001"], [1001, 1001, 1002, 1003, 2001]
    )
    data = load_unit("alpha", data_source=str(write_source(tmp_path, kind, tables)), **Q3)
    assert data["customers"]["customer_id"].tolist() == ["1001", "1002", "1003"]
    assert data["transactions"]["customer_id"].tolist() == ["1001", "1001", "1002", "1003"]
    assert noted(data, "customers") == [
        ("leading zeros dropped from 'customer_id' ('001000' read as '1000')", 3)
    ]
    assert data.quality.rows_dropped == 0


def test_leading_zeros_in_the_referring_table(tmp_path: Path):
    tables = numbered_tables(
        ["1000", "1002", "1003", "2001"], ["001000", "1000", "001002", "1003", "2001"]
    )
    data = load_unit("alpha", data_source=str(write_folder(tmp_path / "d", tables)), **Q3)
    assert data["transactions"]["customer_id"].tolist() == ["1000", "1000", "1002", "1003"]
    [entry] = [e for e in data.quality.entries if e.table == "transactions"]
    assert (entry.action, entry.rows, entry.example_ids) == ("noted", 2, ("o1", "o3"))


def test_consistent_leading_zeros_are_left_alone(tmp_path: Path):
    tables = numbered_tables(
        ["001001", "001002", "001003", "002001"],
        ["001001", "001001", "001002", "001003", "002001"],
    )
    data = load_unit("alpha", data_source=str(write_folder(tmp_path / "d", tables)), **Q3)
    assert data["customers"]["customer_id"].tolist() == ["001001", "001002", "001003"]
    assert data.quality.entries == []


def test_ids_differing_only_by_leading_zeros_are_refused(tmp_path: Path):
    tables = numbered_tables(
        ["0123", "123", "1003", "2001"], ["00123", "123", "0123", "1003", "2001"]
    )
    with pytest.raises(
        DataError,
        match=re.escape(
            "customers.csv: customer_id '0123' and '123' differ only by leading zeros, while "
            "another table writes customer_ids without them; which one it means cannot be told."
        ),
    ):
        load_unit("alpha", data_source=str(write_folder(tmp_path / "d", tables)), **Q3)


def test_float_ids_from_a_typed_source(tmp_path: Path):
    tables = numbered_tables(
        [1001.0, 1002.0, 1003.0, 2001.0], [1001.0, 1001.0, 1002.0, None, 2001.0]
    )
    data = load_unit("alpha", data_source=str(write_source(tmp_path, "parquet", tables)), **Q3)
    assert data["transactions"]["customer_id"].tolist() == ["1001", "1001", "1002"]
    assert noted(data, "transactions") == [("missing required value in 'customer_id'", 1)]
