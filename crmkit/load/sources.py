"""Reading a unit's source: one reader per kind of source, each giving raw tables.

Sources
-------
* a folder with one file per table, named after the table: ``customers.csv``,
  ``transactions.xlsx``, ``surveys.parquet`` (``.csv``, ``.csv.gz``, ``.tsv``, ``.txt``,
  ``.xlsx``, ``.xls``, ``.parquet``); other names through the ``tables`` parameter;
* an Excel workbook with one sheet per table;
* a DuckDB file (``.duckdb``, ``.ddb`` or a ``duckdb:///path`` URL) with one table per table;
* any SQLAlchemy URL (``sqlite:///crm.db``, ``postgresql://...``) or an SQLite file.

CSV encodings UTF-8, UTF-8 with BOM and GBK/GB18030 (Chinese Excel exports) are detected.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crmkit.core.errors import DataError

FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".xlsx", ".xls", ".parquet", ".pq")
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class RawTable:
    """A table as read from its source, with where it came from."""

    frame: pd.DataFrame
    where: str
    line_offset: int = 2
    encoding: str = ""


def read_csv_file(path: Path) -> RawTable:
    """Read a delimited text file as strings, detecting its encoding and delimiter.

    Raises
    ------
    DataError
        The file is binary, in an encoding other than UTF-8 or GB18030, or not a table.
    """
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise DataError(f"{path}: not a readable gzip file ({exc}).") from None
    if b"\x00" in data[:8192]:
        raise DataError(f"{path}: this is a binary file, not a text table (CSV).")
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DataError(
            f"{path}: the text encoding is neither UTF-8 nor GBK/GB18030; "
            "save the file as UTF-8 CSV."
        )
    sample = "\n".join(text.splitlines()[:20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix == ".tsv" else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable table ({str(exc).strip()}).") from None
    if encoding == "gb18030":
        encoding_name = "GBK/GB18030"
    else:
        encoding_name = "UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"
    return RawTable(frame, str(path), 2, encoding_name)


def read_table_file(path: Path, *, sheet: str | int = 0) -> RawTable:
    """Read one table file (CSV family, Excel or Parquet)."""
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            return read_csv_file(path)
        if name.endswith((".xlsx", ".xls")):
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object)
            return RawTable(frame, f"{path}" + (f" [sheet {sheet}]" if sheet else ""), 2)
        if name.endswith((".parquet", ".pq")):
            return RawTable(pd.read_parquet(path), str(path), 1)
    except DataError:
        raise
    except Exception as exc:  # the readers raise many types for a corrupt file
        raise DataError(
            f"{path}: cannot be read as a table ({type(exc).__name__}: {exc})."
        ) from None
    raise DataError(f"{path}: unknown file type; use one of {FILE_SUFFIXES}.")


class FolderSource:
    """A folder with one file per table."""

    def __init__(self, folder: Path, tables: Mapping[str, str]):
        self.folder = folder
        self.tables = dict(tables)
        self.description = f"folder {folder}"

    def find(self, table: str) -> Path | None:
        if table in self.tables:
            path = self.folder / self.tables[table]
            if not path.exists():
                raise DataError(f"Parameter tables.{table} names {path}, which does not exist.")
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
        sheet = self.tables.get(table, table)
        if sheet not in self.sheets:
            return None
        return read_table_file(self.path, sheet=sheet)


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
        name = self.tables.get(table, table)
        if name not in self.names:
            return None
        with self.engine.connect() as connection:
            frame = pd.read_sql_table(name, connection)
        return RawTable(frame, f"{self.description}, table {name}", 1)


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
        self.names = {row[0] for row in self.connection.execute("SHOW TABLES").fetchall()}

    def read(self, table: str) -> RawTable | None:
        name = self.tables.get(table, table)
        if name not in self.names:
            return None
        frame = self.connection.execute(f'SELECT * FROM "{name}"').df()
        return RawTable(frame, f"{self.description}, table {name}", 1)


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


def open_source(
    data_source: str, *, tables: Mapping[str, str] | None = None, base_dir: Path | None = None
):
    """The reader for ``data_source`` (folder, workbook, database file or URL)."""
    tables = tables or {}
    text = str(data_source).strip()
    if text.startswith("duckdb://"):
        return DuckDBSource(
            resolve_path(
                text.removeprefix("duckdb:///").removeprefix("duckdb://"), base_dir=base_dir
            ),
            tables,
        )
    if "://" in text:
        return SQLSource(text, tables)
    path = resolve_path(text, base_dir=base_dir)
    if path.is_dir():
        return FolderSource(path, tables)
    if not path.exists():
        raise DataError(f"data_source {text!r} does not exist (looked for {path}).")
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
