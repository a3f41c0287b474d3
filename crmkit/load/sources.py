"""Reading a unit's source: one reader per kind of source, each giving raw tables.

Sources
-------
* a folder with one file per table, named after the table: ``customers.csv``,
  ``transactions.xlsx``, ``surveys.parquet`` (``.csv``, ``.csv.gz``, ``.tsv``, ``.txt``,
  ``.xlsx``, ``.xls``, ``.parquet``); other names through the ``tables`` parameter;
* an Excel workbook with one sheet per table;
* a DuckDB file (``.duckdb``, ``.ddb`` or a ``duckdb:///path`` URL) with one table per table;
* any SQLAlchemy URL (``sqlite:///crm.db``, ``postgresql://...``) or an SQLite file.

Databases and Parquet files also give an :class:`EngineTable` per table (``engine_table``),
which :mod:`crmkit.load.pushdown` asks for the unit's rows only; ``read`` reads a table whole.

CSV encodings are detected (:mod:`crmkit.load.encodings`): UTF-8 (with or without BOM), UTF-16
with a BOM, GBK/GB18030 (Chinese Excel exports) and Windows-1252 (Latin-1). Column names are
kept exactly as written, duplicates included, so two columns that land on one contract name
are caught (:func:`crmkit.load.rules.rename_columns`).
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import gzip
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from crmkit.core.errors import DataError, ParameterError
from crmkit.core.schema import TABLE_NAMES
from crmkit.load.encodings import decode_text

if TYPE_CHECKING:
    from crmkit.load.engines import EngineTable

FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".xlsx", ".xls", ".parquet", ".pq")


@dataclass
class RawTable:
    """A table as read from its source, with where it came from.

    A table read through an engine (:mod:`crmkit.load.pushdown`) holds in ``frame`` the
    evidence of the whole table (distinct values), in ``pairs`` the distinct
    ``(id, business_unit)`` pairs, and in ``engine`` what reads the unit's rows.
    """

    frame: pd.DataFrame
    where: str
    line_offset: int = 2
    encoding: str = ""
    delimiter: str = ""
    engine: EngineTable | None = None  # crmkit.load.engines
    pairs: pd.DataFrame | None = None
    pushdown: object = None  # crmkit.load.pushdown.Pushdown


def read_csv_file(path: Path) -> RawTable:
    """Read a delimited text file as strings, detecting its encoding and delimiter.

    Raises
    ------
    DataError
        The file is binary, in an encoding that cannot be told, or not a table.
    """
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise DataError(f"{path}: not a readable gzip file ({exc}).") from None
    text, encoding = decode_text(data, where=str(path))
    sample = "\n".join(text.splitlines()[:20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix == ".tsv" else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable table ({str(exc).strip()}).") from None
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    if len(header) == len(frame.columns):
        frame.columns = header  # as written: pandas would rename a repeated 'amount' 'amount.1'
    return RawTable(frame, str(path), 2, encoding, delimiter)


def _read_sheet(path: Path, sheet: str | int) -> pd.DataFrame:
    """A sheet with its first row as the header, names kept as written (repeats included)."""
    cells = pd.read_excel(path, sheet_name=sheet, dtype=object, header=None)
    if cells.empty:
        return pd.DataFrame()
    header = [
        f"Unnamed: {i}" if pd.isna(name) else str(name) for i, name in enumerate(cells.iloc[0])
    ]
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame


def read_table_file(path: Path, *, sheet: str | int = 0) -> RawTable:
    """Read one table file (CSV family, Excel or Parquet)."""
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            return read_csv_file(path)
        if name.endswith((".xlsx", ".xls")):
            frame = _read_sheet(path, sheet)
            return RawTable(frame, f"{path}" + (f" [sheet {sheet}]" if sheet else ""), 2)
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
            # a named index written with the frame (customer_id ...) is a column of the table
            frame = frame.reset_index(drop=not any(frame.index.names))
            return RawTable(frame, str(path), 1)
    except DataError:
        raise
    except Exception as exc:  # the readers raise many types for a corrupt file
        raise DataError(
            f"{path}: cannot be read as a table ({type(exc).__name__}: {exc})."
        ) from None
    raise DataError(f"{path}: unknown file type; use one of {FILE_SUFFIXES}.")


def _named(
    table: str, tables: Mapping[str, str], names, *, kind: str, description: str
) -> str | None:
    """The name ``table`` has in a source holding ``names``: its ``tables`` entry, which must
    name something there, else its own name if present."""
    if table in tables:
        name = str(tables[table])
        if name not in names:
            raise DataError(
                f"Parameter tables.{table} names {kind} {name!r}, which is not in "
                f"{description}; {kind}s there: {sorted(map(str, names))}."
            )
        return name
    return table if table in names else None


class FolderSource:
    """A folder with one file per table."""

    concurrent_reads = True  # a file per table: tables can be read side by side

    def __init__(self, folder: Path, tables: Mapping[str, str]):
        self.folder = folder
        self.tables = dict(tables)
        self.description = f"folder {folder}"

    def find(self, table: str) -> Path | None:
        if table in self.tables:
            path = self.folder / self.tables[table]
            if not path.exists():
                raise DataError(
                    f"Parameter tables.{table} names {path}, which does not exist; files there: "
                    f"{sorted(p.name for p in self.folder.iterdir() if p.is_file())}."
                )
            return path
        found = [self.folder / f"{table}{s}" for s in FILE_SUFFIXES]
        found = [p for p in found if p.exists()]
        if len(found) > 1:
            raise DataError(
                f"{self.folder}: more than one file for table {table}: "
                f"{[p.name for p in found]}; keep one, or name it under `tables` in the parameters."
            )
        return found[0] if found else None

    def read(self, table: str) -> RawTable | None:
        path = self.find(table)
        return None if path is None else read_table_file(path)

    def engine_table(self, table: str) -> tuple[EngineTable, str] | None:
        """A Parquet file's table, read through pyarrow; other files are read whole."""
        from crmkit.load.engines import ParquetTable

        path = self.find(table)
        if (
            path is None
            or not path.is_file()
            or not path.name.lower().endswith((".parquet", ".pq"))
        ):
            return None
        return ParquetTable(path, read_table_file), str(path)


class ExcelSource:
    """An Excel workbook with one sheet per table."""

    def __init__(self, path: Path, tables: Mapping[str, str]):
        self.path = path
        self.tables = dict(tables)
        self.description = f"workbook {path}"
        try:
            self.sheets = pd.ExcelFile(path).sheet_names
        except Exception as exc:
            raise DataError(f"{path}: cannot be read as an Excel workbook ({exc}).") from None

    def read(self, table: str) -> RawTable | None:
        sheet = _named(table, self.tables, self.sheets, kind="sheet", description=self.description)
        return None if sheet is None else read_table_file(self.path, sheet=sheet)


class SQLSource:
    """Any database SQLAlchemy can reach; tables named after the contract (or ``tables``)."""

    def __init__(self, url: str, tables: Mapping[str, str]):
        import sqlalchemy

        self.url = url
        self.tables = dict(tables)
        self.description = f"database {sqlalchemy.engine.make_url(url).render_as_string()}"
        try:
            self.engine = sqlalchemy.create_engine(url)
            self.names = set(sqlalchemy.inspect(self.engine).get_table_names())
        except Exception as exc:
            raise DataError(f"Cannot open database {url!r}: {exc}") from None

    def read(self, table: str) -> RawTable | None:
        name = _named(table, self.tables, self.names, kind="table", description=self.description)
        if name is None:
            return None
        with self.engine.connect() as connection:
            frame = pd.read_sql_table(name, connection)
        return RawTable(frame, f"{self.description}, table {name}", 1)

    def engine_table(self, table: str) -> tuple[EngineTable, str] | None:
        """The table asked with SQL through SQLAlchemy."""
        import sqlalchemy

        from crmkit.load.engines import SQLTable

        name = _named(table, self.tables, self.names, kind="table", description=self.description)
        if name is None:
            return None
        types = {c["name"]: c["type"] for c in sqlalchemy.inspect(self.engine).get_columns(name)}
        return SQLTable(name, self.engine, types), f"{self.description}, table {name}"


class DuckDBSource:
    """A DuckDB database file."""

    def __init__(self, path: Path, tables: Mapping[str, str]):
        import duckdb

        self.path = path
        self.tables = dict(tables)
        self.description = f"DuckDB {path}"
        if not path.exists():
            raise DataError(f"DuckDB file {path} does not exist.")
        try:
            self.connection = duckdb.connect(str(path), read_only=True)
        except Exception as exc:
            raise DataError(f"{path}: cannot be opened as a DuckDB database ({exc}).") from None
        # TIMESTAMPTZ values come back in the session's zone; with the ICU extension that is
        # this machine's, so ask for UTC (without it they already are, and it cannot be set)
        with contextlib.suppress(duckdb.Error):
            self.connection.execute("SET TimeZone = 'UTC'")
        self.names = {row[0] for row in self.connection.execute("SHOW TABLES").fetchall()}

    def read(self, table: str) -> RawTable | None:
        name = _named(table, self.tables, self.names, kind="table", description=self.description)
        if name is None:
            return None
        frame = self.connection.execute(f'SELECT * FROM "{name}"').df()
        return RawTable(frame, f"{self.description}, table {name}", 1)

    def engine_table(self, table: str) -> tuple[EngineTable, str] | None:
        """The table asked with SQL in DuckDB."""
        from crmkit.load.engines import DuckDBTable

        name = _named(table, self.tables, self.names, kind="table", description=self.description)
        if name is None:
            return None
        return DuckDBTable(name, self.connection), f"{self.description}, table {name}"


def resolve_path(path: str | Path, *, base_dir: Path | None = None) -> Path:
    """An existing path for ``path``: as given, under ``base_dir``, or under a parent of the
    working directory (so a notebook opened in ``notebooks/`` finds ``sample_data``)."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    candidates = [base_dir / path] if base_dir else []
    cwd = Path.cwd()
    candidates += [folder / path for folder in (cwd, *cwd.parents)]
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    return (cwd / path).resolve()


def absolute_data_source(data_source: str, *, root: Path) -> str:
    """``data_source`` with a relative path made absolute against ``root`` (the project root):
    a folder or file, or the file of a ``sqlite:///`` or ``duckdb:///`` URL. Other URLs are
    returned as given. Nothing is checked or created here.

    Examples
    --------
    >>> absolute_data_source("sqlite:///crm.db", root=Path("/srv/crm"))
    'sqlite:////srv/crm/crm.db'
    """
    text = str(data_source).strip()
    for prefix in ("sqlite:///", "duckdb:///"):
        if text.startswith(prefix):
            path, _, query = text.removeprefix(prefix).partition("?")
            if path and path != ":memory:" and not Path(path).expanduser().is_absolute():
                path = str((Path(root) / path).resolve())
            return prefix + path + (f"?{query}" if query else "")
    if "://" in text or Path(text).expanduser().is_absolute():
        return text
    return str((Path(root) / text).resolve())


def _check_tables(tables: Mapping[str, str]) -> dict[str, str]:
    """The ``tables`` parameter, each key a contract table and each value a name."""
    if not isinstance(tables, Mapping):
        raise ParameterError(
            f"Parameter tables must map contract tables to file, sheet or table names "
            f"({{transactions: orders_2026.csv}}); got {tables!r}."
        )
    for key, value in tables.items():
        if key not in TABLE_NAMES:
            close = difflib.get_close_matches(str(key), TABLE_NAMES, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParameterError(
                f"Parameter tables has an entry for {key!r}, which is not a contract table."
                f"{hint} Tables are {list(TABLE_NAMES)}."
            )
        if isinstance(value, (Mapping, list, bool)) or value is None or not str(value).strip():
            raise ParameterError(
                f"Parameter tables.{key} must be a file, sheet or table name; got {value!r}."
            )
    return {key: str(value).strip() for key, value in tables.items()}


def _database_url(text: str, *, base_dir: Path | None) -> str:
    """``text`` with a relative SQLite path resolved like any other path; a missing SQLite
    file is an error (SQLite would create an empty database)."""
    import sqlalchemy

    try:
        url = sqlalchemy.engine.make_url(text)
    except Exception as exc:
        raise DataError(f"data_source {text!r} is not a database URL ({exc}).") from None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return text
    path = resolve_path(url.database, base_dir=base_dir)
    if not path.is_file():
        raise DataError(
            f"data_source {text!r}: the SQLite database {path} does not exist. A relative path "
            "is relative to the project root (the folder holding parameters/), or in a "
            "notebook to the working folder or one above it."
        )
    return url.set(database=str(path)).render_as_string(hide_password=False)


def open_source(
    data_source: str, *, tables: Mapping[str, str] | None = None, base_dir: Path | None = None
):
    """The reader for ``data_source`` (folder, workbook, database file or URL).

    Relative paths, including those in ``sqlite:///`` and ``duckdb:///`` URLs, are found
    under ``base_dir``, else the working directory or a folder above it.

    Raises
    ------
    DataError
        The source does not exist or cannot be opened.
    ParameterError
        A ``tables`` entry is not a contract table or not a name.
    """
    tables = _check_tables(tables or {})
    text = str(data_source).strip()
    if text.startswith("duckdb://"):
        return DuckDBSource(
            resolve_path(
                text.removeprefix("duckdb:///").removeprefix("duckdb://"), base_dir=base_dir
            ),
            tables,
        )
    if "://" in text:
        return SQLSource(_database_url(text, base_dir=base_dir), tables)
    path = resolve_path(text, base_dir=base_dir)
    if path.is_dir():
        return FolderSource(path, tables)
    if not path.exists():
        hint = ""
        if Path(text).name == "sample_data":  # a notebook's default, opened outside the project
            hint = f" Write the sample data there with `crmkit sample --out {path}`."
        raise DataError(f"data_source {text!r} does not exist (looked for {path}).{hint}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return ExcelSource(path, tables)
    if suffix in (".duckdb", ".ddb"):
        return DuckDBSource(path, tables)
    if suffix in (".db", ".sqlite", ".sqlite3"):
        return SQLSource(f"sqlite:///{path}", tables)
    raise DataError(
        f"data_source {path} is a single {suffix or 'extensionless'} file; give a folder of "
        "table files, an Excel workbook, a DuckDB or SQLite file, or a database URL."
    )
