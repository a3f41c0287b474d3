"""A business unit's data for a period: read the source, apply the rules, keep the log.

:func:`load_unit` is the one entry point; it returns a :class:`CRMData` holding the unit's
tables from the start of its history to the period end, with a data-quality log. Reading is
:mod:`crmkit.load.sources`, every repair, drop and exclusion :mod:`crmkit.load.rules`, the log
:mod:`crmkit.load.log`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from crmkit.core.errors import DataError
from crmkit.core.periods import Period, parse_period, period_from_dates
from crmkit.core.schema import PII_COLUMNS, TABLE_NAMES, TABLES
from crmkit.load.links import drop_orphans, signup_by_first_order
from crmkit.load.log import QualityLog
from crmkit.load.pushdown import plan_table, unit_rows
from crmkit.load.rules import clean_table, cut_after
from crmkit.load.scope import (
    keep_unit_rows,
    owner_of,
    remove_personal_data,
    rename_columns,
    rows_of_unit,
)
from crmkit.load.sources import RawTable, open_source
from crmkit.load.threads import in_order
from crmkit.load.values import (
    IdReading,
    TableReadings,
    as_text,
    check_setting,
    decide_table,
    leading_zero_keys,
)


@dataclass
class CRMData:
    """The tables of one business unit up to a period end, and what loading did to them.

    Tables hold the unit's whole history up to ``period.end`` (analyses need history before
    the period: CLV, previous-period comparisons); :meth:`in_period` selects the period.
    ``tables`` is a dict after loading, and reads each table when first used when the unit
    comes from a snapshot (:class:`crmkit.load.snapshot.SnapshotTables`).
    """

    business_unit: str
    display_name: str
    currency: str
    period: Period
    tables: Mapping[str, pd.DataFrame]
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

    def read(
        self,
        columns: Mapping[str, Sequence[str] | None],
        *,
        required: Iterable[str] = (),
        on_disk: Iterable[str] = (),
    ) -> dict[str, Any]:
        """The tables named in ``columns``, each with only the columns listed that it has
        (``None``: all of them), by name; a table not provided is ``None``, or the
        :class:`DataError` of ``unit[name]`` when it is ``required``.

        From a snapshot only the listed columns are read from disk, so a report holds in
        memory only what it computes with (a million-customer unit's order ids alone take
        170 MB), and the tables named in ``on_disk`` are not read at all: they come as a
        :class:`~crmkit.core.on_disk.TableOnDisk` for the engine to compute with
        (:mod:`crmkit.metrics.customer_orders`). Loaded tables are selected without a copy.
        """
        needed, left = set(required), set(on_disk)
        select = getattr(self.tables, "select", None)  # a snapshot's: reads only the columns
        found: dict[str, Any] = {}
        for name, wanted in columns.items():
            if name not in self.tables and name not in needed:
                found[name] = None
                continue
            if name in left and hasattr(self.tables, "on_disk") and name in self.tables:
                found[name] = self.tables.on_disk(name, wanted)
            elif select is not None and name in self.tables:
                found[name] = select(name, wanted)
            else:
                frame = self[name]
                found[name] = frame if wanted is None else frame[[c for c in frame if c in wanted]]
        return found

    @property
    def missing_tables(self) -> list[str]:
        """Contract tables the source did not provide (their report sections are skipped)."""
        return [name for name in TABLE_NAMES if name not in self.tables]

    def in_period(self, name: str, *, previous: bool = False) -> pd.DataFrame:
        """Rows of ``name`` dated within the period (or the previous period)."""
        period = self.period.previous() if previous else self.period
        return period.rows(self[name], TABLES[name].date)


def load_unit(
    business_unit: str,
    *,
    data_source: str | Path,
    period: Period | str | None = None,
    period_start: str | date | None = None,
    period_end: str | date | None = None,
    display_name: str = "",
    currency: str = "",
    column_map: Mapping[str, Any] | None = None,
    tables: Mapping[str, str] | None = None,
    pii_columns: Iterable[str] = (),
    as_of: str | date | None = None,
    date_format: str | Mapping[str, Any] = "",
    decimal: str | Mapping[str, Any] = "",
    base_dir: Path | None = None,
    pushdown: bool = True,
    threads: int = 1,
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
    date_format
        How dates written with numbers read where the values do not tell (``30.09.2026`` tells
        day-first, ``01.09.2026`` does not): ``"dayfirst"``, ``"monthfirst"`` or a format such
        as ``"%d.%m.%Y"``; for every column, or per table (``{"transactions": "dayfirst"}``)
        or column (``{"transactions": {"order_date": "%m/%d/%Y"}}``). Empty: decided from
        the values (see ``docs/data_contract.md``).
    decimal
        The decimal mark, ``"."`` or ``","``, where the values do not tell (``1,234``); for
        every column or per table or column, like ``date_format``. Empty: decided from the
        values.
    base_dir
        The folder relative paths in ``data_source`` start from (the project root); else the
        working directory or a folder above it.
    pushdown
        Read only the unit's rows from a DuckDB or SQL database or Parquet files (the filter
        runs in the engine; :mod:`crmkit.load.pushdown`). The result is the same as with
        ``False``, which reads every unit's rows and filters them here.
    threads
        Tables worked on at the same time — read (a folder's files; a database's tables are
        read one by one), decided, cleaned and checked for orphans (``crmkit run`` gives a
        unit staged alone the cores its idle workers would leave unused). The result and
        its quality log are the same for any number.
    **settings
        Other unit parameters (``funnel_stages`` ...), kept on the result for analyses.

    Returns
    -------
    CRMData

    Raises
    ------
    DataError
        A table cannot be used: a required table or column is missing, a required date column
        holds non-dates, dates or numbers cannot be read one way, the file is not a table, the
        unit has no customers, or the period starts after the unit's latest order.
    ParameterError
        ``date_format``, ``decimal`` or ``tables`` is not valid.
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
    check_setting(date_format, name="date_format")
    check_setting(decimal, name="decimal")
    log = QualityLog()
    source = open_source(str(data_source), tables=tables, base_dir=base_dir)
    unit = str(business_unit)
    pii = {c.strip().lower() for c in (*PII_COLUMNS, *pii_columns)}

    def raw_table(name: str) -> RawTable | None:
        raw = plan_table(source, name, unit=unit, column_map=column_map) if pushdown else None
        if raw is not None:
            return raw  # the whole table's evidence; the unit's rows come later
        raw = source.read(name)
        if raw is None:
            if TABLES[name].required_table:
                raise DataError(
                    f"{source.description}: required table '{name}' not found; expected "
                    f"a file {name}.csv (or .xlsx, .parquet), a sheet or a database table "
                    f"named {name}, or a `tables: {{{name}: ...}}` entry in the parameters."
                )
            return None
        raw.frame = rename_columns(raw.frame, name, column_map, where=raw.where)
        return raw

    # a folder's files are read side by side; a database connection is not shared
    reading_threads = threads if getattr(source, "concurrent_reads", False) else 1
    found = in_order(raw_table, list(TABLE_NAMES), threads=reading_threads)
    raw_tables = {n: raw for n, raw in zip(TABLE_NAMES, found, strict=True) if raw is not None}

    customers_raw = raw_tables["customers"]
    if "business_unit" in customers_raw.frame.columns:
        present = sorted(as_text(customers_raw.frame["business_unit"]).dropna().unique().tolist())
        if unit.casefold() not in {u.casefold() for u in present}:
            raise DataError(
                f"{customers_raw.where}: business_unit '{unit}' has no customers; units "
                f"present: {present}. Check `business_unit` in the unit's parameters."
            )
    readings = _readings(raw_tables, date_format=date_format, decimal=decimal, threads=threads)
    keys = [(k, t) for k, t in (("customer_id", "customers"), ("opportunity_id", "opportunities"))
            if t in raw_tables]  # fmt: skip
    listed = in_order(
        lambda pair: owner_of(
            _pairs_or_frame(raw_tables[pair[1]]),
            pair[0],
            table=pair[1],
            reading=readings[pair[1]].ids.get(pair[0]),
        ),
        keys,
        threads=threads,
    )
    owners = {key: owner for (key, _), owner in zip(keys, listed, strict=True) if owner is not None}

    logs = {name: QualityLog() for name in raw_tables}  # in table order, whatever the threads
    sources: dict[str, str] = {}
    pii_removed: dict[str, list[str]] = {}

    def unit_frame(name: str) -> pd.DataFrame:
        raw = raw_tables[name]
        frame, blank_units = raw.frame, 0
        if raw.pushdown is not None:
            rows, blank_units = unit_rows(
                raw, name, unit=unit, owners=owners, readings=readings[name]
            )
            frame = rename_columns(rows, name, column_map, where=raw.where)
        frame, removed = remove_personal_data(frame, pii)
        if removed:
            pii_removed[name] = removed
        frame = keep_unit_rows(frame, name, unit, logs[name], blank_elsewhere=blank_units)
        sources[name] = raw.where + (f" ({raw.encoding})" if raw.encoding else "")
        return rows_of_unit(frame, name, unit, owners, logs[name], readings[name])

    def clean(name: str, frame: pd.DataFrame) -> pd.DataFrame:
        raw = raw_tables[name]
        return clean_table(
            frame,
            TABLES[name],
            log=logs[name],
            where=raw.where,
            line_offset=raw.line_offset,
            readings=readings[name],
        )

    cleaned = _each_table(list(raw_tables), unit_frame, clean, threads=threads)
    for name in raw_tables:
        log.entries.extend(logs[name].entries)

    cleaned = cut_after(cleaned, today, log, as_of=True)
    _check_period_has_orders(cleaned["transactions"], the_period, raw_tables["transactions"].where)
    cleaned = cut_after(cleaned, the_period.end, log, as_of=False)
    cleaned = drop_orphans(cleaned, log, threads=threads)
    cleaned = signup_by_first_order(cleaned, log)

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


def _each_table(
    names: list[str],
    prepare: Callable[[str], pd.DataFrame],
    clean: Callable[[str, pd.DataFrame], pd.DataFrame],
    *,
    threads: int,
) -> dict[str, pd.DataFrame]:
    """``clean(name, prepare(name))`` of each table, in ``names``' order. ``prepare`` runs on
    this thread (it may read the source's engine); with several ``threads`` a table is
    cleaned while the next ones are prepared (Arrow and DuckDB, where cleaning spends its
    time, release the interpreter's lock). An error is the first table's in order, as one
    thread would raise it."""
    if threads <= 1:
        return {name: clean(name, prepare(name)) for name in names}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = {}
        try:
            for name in names:
                started[name] = pool.submit(clean, name, prepare(name))
        except BaseException:
            for earlier in started.values():
                earlier.result()  # an earlier table's error first
            raise
        return {name: started[name].result() for name in names}


def _readings(
    raw_tables: Mapping[str, RawTable], *, date_format: Any, decimal: Any, threads: int = 1
) -> dict[str, TableReadings]:
    """How to read each table's dates, numbers and ids, decided on the whole file (every
    unit's rows); ids of a key lose leading zeros in every table where one table needs it.
    Tables are decided ``threads`` at a time."""

    def decide(name: str) -> TableReadings:
        raw = raw_tables[name]
        return decide_table(
            raw.frame,
            TABLES[name],
            where=raw.where,
            date_format=date_format,
            decimal=decimal,
            delimiter=raw.delimiter,
        )

    names = list(raw_tables)
    readings = dict(zip(names, in_order(decide, names, threads=threads), strict=True))
    frames = {name: raw.frame for name, raw in raw_tables.items()}
    keys = leading_zero_keys(
        frames,
        readings,
        where={name: raw.where for name, raw in raw_tables.items()},
        distinct_keys={name for name, raw in raw_tables.items() if raw.pushdown is not None},
        threads=threads,
    )
    for name, frame in frames.items():
        for key in keys & set(frame.columns):
            fraction = readings[name].ids.get(key, IdReading()).fraction
            readings[name].ids[key] = IdReading(fraction=fraction, zeros=True)
    return readings


def _pairs_or_frame(raw: RawTable) -> pd.DataFrame:
    """The ``(id, business_unit)`` pairs the engine gave, else the table as read."""
    return raw.pairs if raw.pairs is not None else raw.frame


def _check_period_has_orders(transactions: pd.DataFrame, period: Period, where: str) -> None:
    """Refuse a period that starts after the unit's latest order: its report would show
    nothing as if nothing had happened."""
    latest = transactions["order_date"].max()
    if pd.notna(latest) and period.start > latest.date():
        raise DataError(
            f"period {period.label} starts {period.start}, after the unit's latest order on "
            f"{latest.date()} ({where}); choose a period with orders, or check that "
            "data_source holds the latest data."
        )


def _as_date(value: str | date | None) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
