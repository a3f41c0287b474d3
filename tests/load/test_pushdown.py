"""Reading a unit's rows in the engine gives what reading everything gives, and reads less.

Real engines: DuckDB, SQLite (through SQLAlchemy), Parquet files (pyarrow), and PostgreSQL
when ``CRMKIT_TEST_POSTGRES`` holds a URL of a throwaway database (its contract tables are
replaced). Each source holds two units, spelt several ways, with a table tied to its unit
only through ``customer_id`` (no ``business_unit`` column), ids written with leading zeros
in one table only, a customer listed by both units, orphans, blank units, rows after the
period end and after the as-of day, and day-first dates that only the other unit's rows
prove day-first.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import crmkit.load.unit as unit_module
from crmkit.load.unit import load_unit

PERIOD = {"period": "2026-Q3", "as_of": "2026-11-15"}
BULK = 1100  # alpha customers with one order each: more than the engines' inline IN lists


def tricky_tables() -> dict[str, pd.DataFrame]:
    """Two units; every value of interest named, the bulk only to make lists long."""
    bulk_a = [f"K{i:04d}" for i in range(BULK)]
    bulk_b = [f"L{i:04d}" for i in range(700)]
    customers = pd.DataFrame(
        {
            "customer_id": ["0042", "A1", "A2", "B1", "S1", "S1", "C9", *bulk_a, *bulk_b],
            "business_unit": [
                "alpha",
                "Alpha ",
                "ALPHA",
                "beta",
                "alpha",
                "beta",
                "  ",
                *(["alpha"] * BULK),
                *(["beta"] * 700),
            ],
            "signup_date": ["2025-01-05"] * (7 + BULK + 700),
            "region": ["East"] * (7 + BULK + 700),
        }
    )
    orders = [
        # order_id, customer_id, order_date (day-first; only beta's 25.07 proves it), amount
        ("o1", "A1", "05.07.2026", "10.00"),
        ("o2", "42", "06.07.2026", "20.00"),  # leading zeros dropped in customers
        ("o3", "A2", "07.08.2026", "30.00"),
        ("o3", "A2", "07.08.2026", "30.00"),  # exact duplicate
        ("o4", "A2", "08.08.2026", "31.00"),
        ("o4", "A1", "09.08.2026", "32.00"),  # order id repeated, other content
        ("o5", "S1", "10.08.2026", "40.00"),  # customer listed by both units
        ("o6", "X9", "11.08.2026", "50.00"),  # orphan
        ("o7", "A1", "03.11.2026", "60.00"),  # after the period end
        ("o8", "A1", "01.12.2026", "70.00"),  # after the as-of day
        ("o9", "B1", "25.07.2026", "80.00"),  # beta: proves day-first
        ("o10", None, "04.07.2026", "5.00"),  # no customer
    ]
    orders += [(f"k{i}", c, "12.08.2026", "9.50") for i, c in enumerate(bulk_a)]
    orders += [(f"l{i}", c, "13.08.2026", "8.50") for i, c in enumerate(bulk_b)]
    transactions = pd.DataFrame(orders, columns=["order_id", "customer_id", "order_date", "amount"])
    surveys = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3", "r4", "r5"],
            "customer_id": ["A1", "0042", "B1", "A2", "A1"],
            "business_unit": ["alpha", "alpha", "beta", None, "ALPHA"],
            "responded_at": ["2026-07-01", "2026-08-01", "2026-08-02", "2026-08-03", "2026-10-20"],
            "nps": [9, 11, 7, 5, 8],
        }
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["p1", "p2", "p3"],
            "business_unit": ["alpha", "beta", "alpha"],
            "created_at": ["2026-07-01", "2026-07-02", "2026-07-03"],
            "outcome": ["won", "lost", "open"],
            "closed_at": ["2026-07-20", "2026-07-21", None],
        }
    )
    stage_history = pd.DataFrame(
        {
            "opportunity_id": ["p1", "p1", "p2", "p3", "p9"],
            "stage": ["lead", "won", "lead", "lead", "lead"],
            "entered_at": ["2026-07-01", "2026-07-20", "2026-07-02", "2026-07-03", "2026-07-04"],
        }
    )
    costs = pd.DataFrame(
        {
            "business_unit": ["alpha", "beta", "alpha"],
            "month": ["2026-07-01", "2026-07-01", "2026-08-01"],
            "category": ["acquisition", "retention", "service"],
            "amount": [100.0, 200.0, 300.0],
        }
    )
    return {
        "customers": customers,
        "transactions": transactions,
        "surveys": surveys,
        "opportunities": opportunities,
        "stage_history": stage_history,
        "costs": costs,
    }


def sqlite_source(folder: Path, tables: dict[str, pd.DataFrame]) -> str:
    path = folder / "crm.db"
    with sqlite3.connect(path) as connection:
        for name, frame in tables.items():
            frame.to_sql(name, connection, index=False)
    return f"sqlite:///{path}"


def duckdb_source(folder: Path, tables: dict[str, pd.DataFrame]) -> str:
    path = folder / "crm.duckdb"
    connection = duckdb.connect(str(path))
    for name, frame in tables.items():
        connection.register("frame", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        connection.unregister("frame")
    connection.close()
    return f"duckdb:///{path}"


def parquet_source(folder: Path, tables: dict[str, pd.DataFrame]) -> str:
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return str(folder)


SOURCES = {"duckdb": duckdb_source, "sqlite": sqlite_source, "parquet": parquet_source}


@pytest.fixture
def fetched(monkeypatch) -> dict[str, int]:
    """Rows of each table that the engine handed over for the unit."""
    counts: dict[str, int] = {}
    original = unit_module.unit_rows

    def counting(raw, table, **kwargs):
        rows, blank = original(raw, table, **kwargs)
        counts[table] = len(rows)
        return rows, blank

    monkeypatch.setattr(unit_module, "unit_rows", counting)
    return counts


def assert_same_load(source: str, unit: str = "alpha"):
    pushed = load_unit(unit, data_source=source, **PERIOD)
    whole = load_unit(unit, data_source=source, pushdown=False, **PERIOD)
    assert pushed.tables.keys() == whole.tables.keys()
    for name, frame in whole.tables.items():
        pd.testing.assert_frame_equal(pushed.tables[name], frame, obj=name)
    assert pushed.quality.entries == whole.quality.entries
    return pushed


@pytest.mark.parametrize("kind", list(SOURCES))
def test_pushed_down_load_equals_full_read_and_reads_less(tmp_path: Path, kind: str, fetched):
    tables = tricky_tables()
    source = SOURCES[kind](tmp_path, tables)
    data = assert_same_load(source)

    # the engine handed over only alpha's rows (+ blank and orphan rows, to be counted)
    beta_orders = 1 + 700  # o9 and the bulk of beta's customers
    assert fetched["transactions"] == len(tables["transactions"]) - beta_orders
    assert fetched["customers"] == 4 + BULK  # 0042, A1, A2, S1 (any spelling of alpha)
    assert fetched["surveys"] == 3  # r1, r2, r5 (the blank and beta's are counted, not read)
    assert "costs" not in fetched  # no id column: read whole
    # what loading did, counted independently of the full read
    log = data.quality.to_frame().set_index(["table", "rule"])["rows"]
    assert log[("customers", "business_unit blank (row belongs to no unit)")] == 1
    assert log[("surveys", "business_unit blank (row belongs to no unit)")] == 1
    assert log[("transactions", "exact duplicate row")] == 1
    assert (
        log[("transactions", "customer_id listed by more than one unit (row cannot be placed)")]
        == 1
    )
    assert log[("transactions", "orphan customer_id (not among the unit's customers)")] == 1
    assert log[("transactions", "dated after the period end")] == 1
    assert log[("transactions", "'order_date' after today (2026-11-15): impossible date")] == 1
    assert log[("transactions", "missing required value in 'customer_id'")] == 1
    assert "42" in set(data["transactions"]["customer_id"])  # read like customers' 0042
    assert data["transactions"]["order_date"].min() == pd.Timestamp("2026-07-05")  # day-first


@pytest.mark.parametrize("kind", list(SOURCES))
def test_other_unit_loads_the_same_both_ways(tmp_path: Path, kind: str, fetched):
    source = SOURCES[kind](tmp_path, tricky_tables())
    data = assert_same_load(source, unit="beta")
    assert fetched["customers"] == 702  # B1, S1 and the bulk
    assert sorted(data["opportunities"]["opportunity_id"]) == ["p2"]


@pytest.mark.parametrize("kind", list(SOURCES))
def test_one_unit_source_reads_linked_tables_whole(tmp_path: Path, kind: str, fetched):
    tables = tricky_tables()
    customers = tables["customers"]
    tables["customers"] = customers[customers["business_unit"].str.strip().str.lower() != "beta"]
    tables["opportunities"] = tables["opportunities"].query("business_unit == 'alpha'")
    source = SOURCES[kind](tmp_path, tables)
    assert_same_load(source)
    # one unit: every order is the unit's or an orphan to be counted, so all are read
    assert fetched["transactions"] == len(tables["transactions"])


def test_sample_data_loads_the_same_from_every_engine(tmp_path: Path):
    tables = {
        path.stem: pd.read_csv(path)
        for path in sorted((Path(__file__).parents[2] / "sample_data").glob("*.csv"))
    }
    for kind, write in SOURCES.items():
        folder = tmp_path / kind
        folder.mkdir()
        assert_same_load(write(folder, tables), unit="north")


def _start_postgres(folder: Path) -> tuple[str, list[str]] | None:
    """A throwaway PostgreSQL server on a Unix socket in ``folder`` (initdb, pg_ctl), its URL
    and the command that stops it; ``None`` without the binaries or the psycopg driver. As
    root the server runs as the ``postgres`` user (initdb refuses root)."""
    binaries = [shutil.which(b) or f"/usr/local/bin/{b}" for b in ("initdb", "pg_ctl")]
    if not all(Path(b).exists() for b in binaries) or importlib.util.find_spec("psycopg") is None:
        return None
    initdb, pg_ctl = binaries
    data = folder / "data"
    root = os.geteuid() == 0
    if root:
        if shutil.which("su") is None or subprocess.run(["id", "postgres"]).returncode:
            return None
        shutil.chown(folder, "postgres")

    def command(*words: str) -> list[str]:
        line = " ".join(shlex.quote(w) for w in words)
        return ["su", "postgres", "-c", line] if root else list(words)

    subprocess.run(
        command(initdb, "-D", str(data), "-U", "crmkit", "--auth=trust"),
        check=True,
        capture_output=True,
    )
    options = f"-k {folder} -c listen_addresses=''"
    subprocess.run(
        command(pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"),
        check=True,
        capture_output=True,
    )
    return f"postgresql+psycopg://crmkit@/postgres?host={folder}", command(
        pg_ctl, "-D", str(data), "-m", "immediate", "stop"
    )


@pytest.fixture
def postgres_url(tmp_path_factory):
    """``CRMKIT_TEST_POSTGRES``, else a throwaway server where the binaries exist."""
    url = os.environ.get("CRMKIT_TEST_POSTGRES")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="crmkit-pg-"))  # short: a socket path has a limit
    started = _start_postgres(folder)
    if started is None:
        pytest.skip(
            "no PostgreSQL: set CRMKIT_TEST_POSTGRES to the URL of a throwaway database, or "
            "install the PostgreSQL binaries (initdb, pg_ctl) and psycopg; "
            "docs/data_contract.md shows the recipe"
        )
    url, stop = started
    try:
        yield url
    finally:
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgresql_loads_the_same_both_ways(postgres_url: str, fetched):
    import sqlalchemy

    tables = tricky_tables()
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as connection:
        for name, frame in tables.items():
            frame.to_sql(name, connection, index=False, if_exists="replace")
    engine.dispose()
    data = assert_same_load(postgres_url)
    assert fetched["transactions"] == len(tables["transactions"]) - 701
    assert "42" in set(data["transactions"]["customer_id"])


def test_a_table_the_engine_cannot_filter_is_read_whole(tmp_path: Path, fetched):
    # an SQLite table WITHOUT ROWID has no row order to read the unit's rows in: read whole
    tables = tricky_tables()
    source = sqlite_source(tmp_path, {k: v for k, v in tables.items() if k != "surveys"})
    with sqlite3.connect(tmp_path / "crm.db") as connection:
        connection.execute(
            "CREATE TABLE surveys (response_id TEXT PRIMARY KEY, customer_id TEXT, "
            "business_unit TEXT, responded_at TEXT, nps INTEGER) WITHOUT ROWID"
        )
        connection.executemany(
            "INSERT INTO surveys VALUES (?, ?, ?, ?, ?)",
            tables["surveys"].astype(object).to_numpy().tolist(),
        )
    data = assert_same_load(source)
    assert "surveys" not in fetched and fetched["customers"] == 4 + BULK
    assert sorted(data["surveys"]["response_id"]) == ["r1", "r2"]  # r5 is after the period
