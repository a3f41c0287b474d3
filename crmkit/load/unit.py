"""Loading a business unit's data: read the source, apply the contract, record what was done.

``load_unit`` is the one entry point; it returns a :class:`CRMData` holding the unit's tables
from the start of its history to the period end, with a data-quality log.

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
import io as _io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from crmkit.core.errors import DataError
from crmkit.core.periods import Period, parse_period, period_from_dates
from crmkit.core.schema import CUSTOMER_KEYED, PII_COLUMNS, TABLE_NAMES, TABLES
from crmkit.load.log import QualityLog
from crmkit.load.rules import as_text, clean_table, ids_of

FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".xlsx", ".xls", ".parquet", ".pq")
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class RawTable:
    """A table as read from its source, with where it came from."""

    frame: pd.DataFrame
    where: str
    line_offset: int = 2
    encoding: str = ""


# ----------------------------------------------------------------------------- readers


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
        frame = pd.read_csv(_io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
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


# ----------------------------------------------------------------------------- the unit


@dataclass
class CRMData:
    """The tables of one business unit up to a period end, and what loading did to them.

    Tables hold the unit's whole history up to ``period.end`` (analyses need history before
    the period: CLV, previous-period comparisons); :meth:`in_period` selects the period.
    """

    business_unit: str
    display_name: str
    currency: str
    period: Period
    tables: dict[str, pd.DataFrame]
    quality: QualityLog
    sources: dict[str, str] = field(default_factory=dict)
    pii_removed: dict[str, list[str]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        """Whether table ``name`` was provided and holds rows for this unit."""
        return name in self.tables and not self.tables[name].empty

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(f"{name!r} is not a contract table; tables are {list(TABLE_NAMES)}")
        if name not in self.tables:
            raise DataError(
                f"Table {name!r} was not provided for unit {self.business_unit!r}, and this "
                f"report needs it; add {name} to the unit's data source (see "
                "docs/data_contract.md), or leave this report out with --notebook."
            )
        return self.tables[name]

    @property
    def missing_tables(self) -> list[str]:
        """Contract tables the source did not provide (their report sections are skipped)."""
        return [name for name in TABLE_NAMES if name not in self.tables]

    def in_period(self, name: str, *, previous: bool = False) -> pd.DataFrame:
        """Rows of ``name`` dated within the period (or the previous period)."""
        table = self[name]
        start, end = (
            (self.period.previous_start, self.period.previous_end)
            if previous
            else (self.period.start, self.period.end)
        )
        dates = table[TABLES[name].date]
        return table.loc[(dates >= pd.Timestamp(start)) & (dates < _day_after(end))]


def _day_after(day: date) -> pd.Timestamp:
    return pd.Timestamp(day) + pd.Timedelta(days=1)


def _normalise_columns(frame: pd.DataFrame, column_map: Mapping[str, str]) -> pd.DataFrame:
    lookup = {str(k).strip().casefold(): v for k, v in column_map.items()}
    renamed = {}
    for column in frame.columns:
        key = str(column).strip().casefold()
        renamed[column] = lookup.get(key, str(column).strip().lower().replace(" ", "_"))
    return frame.rename(columns=renamed)


def _column_map_for(table: str, column_map: Mapping[str, Any]) -> dict[str, str]:
    """Flat entries apply to every table; ``{table: {...}}`` entries to that table only."""
    flat = {k: v for k, v in column_map.items() if not isinstance(v, Mapping)}
    return {**flat, **dict(column_map.get(table) or {})}


def _unit_filter(raw: RawTable, table: str, unit: str, log: QualityLog) -> pd.DataFrame:
    """Keep the rows of ``unit`` in a table that has a ``business_unit`` column."""
    frame = raw.frame
    if "business_unit" not in frame.columns:
        return frame
    units = as_text(frame["business_unit"]).str.casefold()
    blank = units.isna()
    log.add(table, "business_unit blank (row belongs to no unit)", "dropped", int(blank.sum()))
    return frame.loc[units.eq(unit.casefold()).fillna(False)]


def load_unit(
    business_unit: str,
    *,
    data_source: str | Path,
    period: Period | str | None = None,
    period_start: str | date | None = None,
    period_end: str | date | None = None,
    display_name: str = "",
    currency: str = "CNY",
    column_map: Mapping[str, Any] | None = None,
    tables: Mapping[str, str] | None = None,
    pii_columns: Iterable[str] = (),
    as_of: str | date | None = None,
    base_dir: Path | None = None,
    **settings: Any,
) -> CRMData:
    """Load, validate and clean one business unit's data up to the period end.

    Parameters
    ----------
    business_unit
        The unit's id as it appears in the ``business_unit`` column.
    data_source
        A folder of table files, an Excel workbook, a DuckDB/SQLite file or a database URL.
    period, period_start, period_end
        The reporting period: a :class:`Period`, a period name (``"2026-Q3"``), or ISO start
        and end dates (as notebooks receive them).
    column_map
        Renames the source's own column names onto the contract: ``{their: ours}`` for all
        tables, or ``{table: {their: ours}}`` for one.
    tables
        File, sheet or database table name per contract table, where not named after it.
    pii_columns
        Columns to remove besides ``name``, ``email`` and ``phone``.
    as_of
        The day the data is read ("today" by default); records dated after it are defects.
    **settings
        Other unit parameters (``funnel_stages`` ...), kept on the result for analyses.

    Returns
    -------
    CRMData

    Raises
    ------
    DataError
        A table cannot be used: a required table or column is missing, a required date column
        holds non-dates, the file is not a table, or the unit has no customers.
    """
    if isinstance(period, Period):
        the_period = period
    elif period is not None:
        the_period = parse_period(str(period), as_of=_as_date(as_of))
    elif period_start and period_end:
        the_period = period_from_dates(period_start, period_end)
    else:
        raise DataError("load_unit needs a period: `period` or `period_start` and `period_end`.")
    today = _as_date(as_of) or date.today()
    column_map = column_map or {}
    log = QualityLog()
    source = open_source(str(data_source), tables=tables, base_dir=base_dir)
    unit = str(business_unit)
    pii = {c.strip().lower() for c in (*PII_COLUMNS, *pii_columns)}

    raw_tables: dict[str, RawTable] = {}
    for name in TABLE_NAMES:
        raw = source.read(name)
        if raw is None:
            if TABLES[name].required_table:
                raise DataError(
                    f"{source.description}: required table '{name}' not found; expected "
                    f"a file {name}.csv (or .xlsx, .parquet), a sheet or a database table "
                    f"named {name}, or a `tables: {{{name}: ...}}` entry in the parameters."
                )
            continue
        raw.frame = _normalise_columns(raw.frame, _column_map_for(name, column_map))
        raw_tables[name] = raw

    customers_raw = raw_tables["customers"]
    if "business_unit" in customers_raw.frame.columns:
        present = sorted(as_text(customers_raw.frame["business_unit"]).dropna().unique().tolist())
        if unit.casefold() not in {u.casefold() for u in present}:
            raise DataError(
                f"{customers_raw.where}: business_unit '{unit}' has no customers; units "
                f"present: {present}. Check `business_unit` in the unit's parameters."
            )
    owners = {
        key: _owner_of(raw_tables[table].frame, key)
        for key, table in (("customer_id", "customers"), ("opportunity_id", "opportunities"))
        if table in raw_tables
    }

    cleaned: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    pii_removed: dict[str, list[str]] = {}
    for name, raw in raw_tables.items():
        spec = TABLES[name]
        frame = raw.frame
        dropped_pii = [c for c in frame.columns if c in pii]
        if dropped_pii:
            pii_removed[name] = dropped_pii
            frame = frame.drop(columns=dropped_pii)
        raw.frame = frame
        frame = _unit_filter(raw, name, unit, log)
        frame = _rows_of_unit(frame, unit, owners)
        cleaned[name] = clean_table(
            frame, spec, log=log, where=raw.where, line_offset=raw.line_offset
        )
        sources[name] = raw.where + (f" ({raw.encoding})" if raw.encoding else "")

    _cut_after(cleaned, today, log, as_of=True)
    _cut_after(cleaned, the_period.end, log, as_of=False)
    _drop_orphans(cleaned, log)

    for name in ("customers", "transactions"):
        if cleaned[name].empty:
            raise DataError(
                f"{raw_tables[name].where}: no usable {name} rows for business unit '{unit}' "
                f"up to {the_period.end}; a report needs at least one."
            )
    return CRMData(
        business_unit=unit,
        display_name=display_name or unit,
        currency=currency,
        period=the_period,
        tables={name: frame.reset_index(drop=True) for name, frame in cleaned.items()},
        quality=log,
        sources=sources,
        pii_removed=pii_removed,
        settings=dict(settings),
    )


def _as_date(value: str | date | None) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _date_columns(name: str) -> list[str]:
    return [c.name for c in TABLES[name].columns if c.kind == "date"]


def _owner_of(frame: pd.DataFrame, key: str) -> dict[str, str]:
    """Which unit each id belongs to, from a table with a ``business_unit`` column."""
    if key not in frame.columns or "business_unit" not in frame.columns:
        return {}
    units = as_text(frame["business_unit"]).str.casefold()
    return dict(zip(as_text(frame[key]), units, strict=True))


def _rows_of_unit(
    frame: pd.DataFrame, unit: str, owners: dict[str, dict[str, str]]
) -> pd.DataFrame:
    """In a table without a unit column, a row belongs to the unit of its customer (or
    opportunity). Ids of no unit stay, to be counted as orphans."""
    if "business_unit" in frame.columns:
        return frame
    for key, owner in owners.items():
        if key in frame.columns and owner:
            belongs = as_text(frame[key]).map(owner).fillna(unit.casefold())
            return frame.loc[belongs.eq(unit.casefold()).to_numpy()]
    return frame


def _cut_after(tables: dict[str, pd.DataFrame], day: date, log: QualityLog, *, as_of: bool) -> None:
    """Remove rows dated after ``day``; blank later secondary dates (closed_at ...).

    With ``as_of`` the day is "today": later dates are impossible, so rows are *dropped* and
    secondary dates *repaired*. Otherwise the day is the period end: later rows are valid but
    not yet known, so they are *excluded*, and an opportunity closed later counts as open.
    """
    limit = _day_after(day)
    action, other_action = ("dropped", "repaired") if as_of else ("excluded", "excluded")
    for name, table in tables.items():
        main = TABLES[name].date
        after = table[main] >= limit
        rule = (
            f"'{main}' after today ({day}): impossible date"
            if as_of
            else ("dated after the period end")
        )
        log.add(
            name, rule, action, int(after.sum()), ids_of(table, TABLES[name], table.index[after])
        )
        table = table.loc[~after]
        for column in _date_columns(name):
            if column == main or column not in table.columns:
                continue
            later = table[column] >= limit
            rule = (
                f"'{column}' after today ({day}) (set missing)"
                if as_of
                else f"'{column}' after the period end (treated as still open at the period end)"
            )
            log.add(
                name,
                rule,
                other_action,
                int(later.sum()),
                ids_of(table, TABLES[name], table.index[later]),
            )
            table[column] = table[column].mask(later)
            if not as_of and name == "opportunities" and column == "closed_at":
                table.loc[later, "outcome"] = "open"
        tables[name] = table


def _drop_orphans(tables: dict[str, pd.DataFrame], log: QualityLog) -> None:
    customer_ids = set(tables["customers"]["customer_id"])
    for name in CUSTOMER_KEYED:
        if name not in tables:
            continue
        table = tables[name]
        orphan = ~table["customer_id"].isin(customer_ids)
        log.add(
            name,
            "orphan customer_id (not among the unit's customers)",
            "dropped",
            int(orphan.sum()),
            table.loc[orphan, "customer_id"],
        )
        tables[name] = table.loc[~orphan]
    if "stage_history" in tables:
        history = tables["stage_history"]
        known = (
            set(tables["opportunities"]["opportunity_id"]) if "opportunities" in tables else set()
        )
        orphan = ~history["opportunity_id"].isin(known)
        log.add(
            "stage_history",
            "orphan opportunity_id (not among the unit's opportunities)",
            "dropped",
            int(orphan.sum()),
            history.loc[orphan, "opportunity_id"],
        )
        tables["stage_history"] = history.loc[~orphan]
