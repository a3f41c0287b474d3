"""Source-side configuration checked: two columns landing on one name, `tables` entries that
name nothing, relative database paths, a period after the unit's latest order."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import tiny_tables, write_folder

from crmkit.core.errors import DataError, ParameterError
from crmkit.load.sources import absolute_data_source
from crmkit.load.unit import load_unit

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}


def load(source, **kwargs):
    return load_unit("alpha", data_source=str(source), **{**Q3, **kwargs})


# ----------------------------------------------------------------------------- column names


def test_two_columns_landing_on_one_name_are_refused(tmp_path: Path):
    folder = write_folder(tmp_path / "d", tiny_tables())
    frame = tiny_tables()["transactions"]
    frame["Amount "] = frame["amount"]
    frame.to_csv(folder / "transactions.csv", index=False)
    with pytest.raises(
        DataError,
        match=re.escape(
            "transactions.csv: columns ['amount', 'Amount '] of the transactions table all "
            "become 'amount' (names are trimmed and lower-cased, and `column_map` renames); "
            "keep one of them"
        ),
    ):
        load(folder)


def test_a_repeated_header_is_refused_not_renamed(tmp_path: Path):
    folder = write_folder(tmp_path / "d", tiny_tables())
    text = (folder / "transactions.csv").read_text()
    lines = text.splitlines()
    lines[0] += ",amount"
    lines[1:] = [line + ",1" for line in lines[1:]]
    (folder / "transactions.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=re.escape("columns ['amount', 'amount'] of the")):
        load(folder)


def test_column_map_mapping_two_onto_one_is_refused(tmp_path: Path):
    folder = write_folder(tmp_path / "d", tiny_tables())
    frame = tiny_tables()["transactions"].rename(columns={"amount": "Betrag"})
    frame["Summe"] = frame["Betrag"]
    frame.to_csv(folder / "transactions.csv", index=False)
    with pytest.raises(
        DataError, match=re.escape("columns ['Betrag', 'Summe'] of the transactions table all")
    ):
        load(folder, column_map={"Betrag": "amount", "transactions": {"Summe": "amount"}})


def test_repeated_header_in_excel_is_refused(tmp_path: Path):
    folder = write_folder(tmp_path / "d", tiny_tables())
    (folder / "transactions.csv").unlink()
    frame = tiny_tables()["transactions"]
    frame.insert(5, "amount_copy", frame["amount"])
    frame.columns = [*frame.columns[:5], "AMOUNT"]
    frame.to_excel(folder / "transactions.xlsx", index=False)
    with pytest.raises(DataError, match=re.escape("columns ['amount', 'AMOUNT'] of the")):
        load(folder)


# ----------------------------------------------------------------------------- tables entries


def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "crm.xlsx"
    with pd.ExcelWriter(path) as writer:
        for name, frame in tiny_tables().items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def sqlite_file(tmp_path: Path, name: str = "crm.db") -> Path:
    path = tmp_path / name
    with sqlite3.connect(path) as connection:
        for table, frame in tiny_tables().items():
            frame.to_sql(table, connection, index=False)
    return path


def duckdb_file(tmp_path: Path) -> Path:
    path = tmp_path / "crm.duckdb"
    connection = duckdb.connect(str(path))
    for name, frame in tiny_tables().items():
        connection.register("frame", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        connection.unregister("frame")
    connection.close()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (workbook, "Parameter tables.surveys names sheet 'Umfragen', which is not in workbook"),
        (sqlite_file, "Parameter tables.surveys names table 'Umfragen', which is not in database"),
        (duckdb_file, "Parameter tables.surveys names table 'Umfragen', which is not in DuckDB"),
        (lambda p: write_folder(p / "d", tiny_tables()), "Parameter tables.surveys names"),
    ],
)
def test_tables_entry_naming_nothing_is_refused_for_every_source(tmp_path: Path, make, message):
    with pytest.raises(DataError, match=re.escape(message)):
        load(make(tmp_path), tables={"surveys": "Umfragen"})


def test_tables_entry_names_an_existing_table(tmp_path: Path):
    path = sqlite_file(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE transactions RENAME TO orders")
    assert len(load(path, tables={"transactions": "orders"})["transactions"]) == 4


def test_tables_entry_for_no_contract_table_is_refused(tiny_folder: Path):
    with pytest.raises(
        ParameterError,
        match=re.escape(
            "Parameter tables has an entry for 'transaction', which is not a contract table. "
            "Did you mean 'transactions'?"
        ),
    ):
        load(tiny_folder, tables={"transaction": "orders.csv"})


# ----------------------------------------------------------------------------- database paths


def test_relative_sqlite_url_resolves_against_base_dir(tmp_path: Path, monkeypatch):
    (tmp_path / "project").mkdir()
    sqlite_file(tmp_path / "project")
    monkeypatch.chdir(tmp_path)  # not the project root
    data = load("sqlite:///crm.db", base_dir=tmp_path / "project")
    assert len(data["transactions"]) == 4
    assert not (tmp_path / "crm.db").exists()


def test_relative_duckdb_url_resolves_against_base_dir(tmp_path: Path, monkeypatch):
    (tmp_path / "project").mkdir()
    duckdb_file(tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    assert len(load("duckdb:///crm.duckdb", base_dir=tmp_path / "project")["customers"]) == 3


def test_missing_sqlite_file_is_an_error_and_no_database_is_created(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        DataError,
        match=re.escape(
            f"data_source 'sqlite:///crm.db': the SQLite database {tmp_path / 'crm.db'} does "
            "not exist. A relative path is relative to the project root"
        ),
    ):
        load("sqlite:///crm.db")
    assert not (tmp_path / "crm.db").exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///crm.db", "sqlite:////srv/crm/crm.db"),
        ("sqlite:///data/crm.db?mode=ro", "sqlite:////srv/crm/data/crm.db?mode=ro"),
        ("sqlite:////abs/crm.db", "sqlite:////abs/crm.db"),
        ("duckdb:///crm.duckdb", "duckdb:////srv/crm/crm.duckdb"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("sample_data", "/srv/crm/sample_data"),
        ("/data/crm.xlsx", "/data/crm.xlsx"),
    ],
)
def test_absolute_data_source(given: str, expected: str):
    assert absolute_data_source(given, root=Path("/srv/crm")) == expected


# ----------------------------------------------------------------------------- the period


def test_period_after_the_latest_order_is_refused(tiny_folder: Path):
    with pytest.raises(
        DataError,
        match=re.escape(
            "period 2027-Q2 starts 2027-04-01, after the unit's latest order on 2026-09-01"
        ),
    ):
        load(tiny_folder, period="2027-Q2", as_of="2027-07-15")


def test_period_with_the_latest_order_is_fine(tiny_folder: Path):
    data = load(tiny_folder, period="2026-09", as_of="2026-10-15")
    assert len(data.in_period("transactions")) == 1
