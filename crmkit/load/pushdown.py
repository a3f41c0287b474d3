"""Reading only a unit's rows from a database: the unit filter runs in the engine.

A DuckDB file, any SQLAlchemy database (SQLite, PostgreSQL ...) and a folder of Parquet
files hand over only the rows of the unit, where reading everything and filtering in pandas
moved every unit's rows into memory first. The result is the same as reading everything:
the same :class:`~crmkit.load.unit.CRMData` tables and the same data-quality log. That
rests on three things the engine is asked besides the unit's rows:

* **the unit's spellings** — ``SELECT business_unit, COUNT(*) ... GROUP BY business_unit``:
  the few distinct spellings are matched in Python exactly as
  :func:`crmkit.load.scope.keep_unit_rows` matches them (trimmed, case-folded, blanks
  belong to no unit), the rows of the matching spellings are read with
  ``WHERE business_unit IN (...)``, and the rows with a blank unit, left in the engine, are
  counted from the same query and logged as before;
* **the evidence for reading values** — dates, numbers and ids are read one way per column,
  decided on every unit's values (:mod:`crmkit.load.values`); the engine gives each text
  column's distinct values (for ids a sample first: one id that is not a whole number
  settles it), and the distinct ``customer_id`` / ``opportunity_id`` of every table and
  ``(id, business_unit)`` pairs of the tables that list them, from which ids owned by
  several units and leading zeros are decided as before;
* **the unit's customers** — a table without a ``business_unit`` column (orders of a
  source without one, surveys ...) belongs to the unit through its ``customer_id``. Where
  the source holds one unit only, every row is kept (as the pandas rule keeps them, orphans
  included, to be counted); where it holds several, the distinct ids of the table are read,
  placed by the rule in Python, and the rows are read with a semi-join on the ids to keep.

Not pushed down
---------------
* **The period window.** Rows dated after the period end are counted in the quality log as
  *excluded*, but only after cleaning: a duplicate or defective row after the period end
  is logged as that defect, an order id repeated across the period end keeps its first
  row, and the implausible-amount rule compares with the median of the unit's whole
  history. None of that is known without reading those rows, so cutting them in the engine
  would change the log and, rarely, the tables. The rows after the period end are read.
* **Tables without an id** (``costs``) are read whole: they are small, and the log names
  their rows by position in the table.
* Row positions: messages about a table read with a filter name rows by their position
  among the rows read (the unit's), not in the whole table.
* A table the engine cannot answer for (an SQLite table ``WITHOUT ROWID`` has no row order;
  a read-only database may refuse the temporary table of ids) is read whole and filtered in
  pandas, as any file is: same result, no saving.

Why plain SQL, not ibis
-----------------------
The queries are four shapes (GROUP BY one column, DISTINCT, a sample, a filtered SELECT
with an IN list or a semi-join on a temporary table), the same text in DuckDB, SQLite and
PostgreSQL but for identifier quoting and parameter style, which SQLAlchemy's dialect and
DuckDB's ``?`` handle. ibis would compile the same four shapes for more backends, at the
cost of a dependency with a large import and its own type mapping between the engine and
pandas — a second place where an id or a date could be read differently from the full read,
which is exactly what this module must not do. Warehouses SQLAlchemy reaches (PostgreSQL,
Snowflake, BigQuery through their dialects) need nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.core.errors import DataError, ParameterError
from crmkit.core.schema import TABLES
from crmkit.load.engines import missing_value
from crmkit.load.scope import Owners
from crmkit.load.sources import RawTable
from crmkit.load.values import WHOLE_NUMBER, as_text

KEYS = {"customer_id": "customers", "opportunity_id": "opportunities"}
"""The keys that tie a row to a unit, and the table that lists each key with its unit."""


def unit_spellings(counts: pd.DataFrame, unit: str) -> tuple[list, int]:
    """The raw ``business_unit`` values that are ``unit`` (as
    :func:`~crmkit.load.scope.keep_unit_rows` reads them), and the rows with a blank unit.

    ``counts`` has one row per distinct raw value: ``value``, ``rows``.
    """
    text = as_text(counts["value"]).str.casefold()
    mine = text.eq(unit.casefold()).fillna(False).to_numpy(dtype=bool)
    blank = text.isna().to_numpy(dtype=bool)
    spellings = [v for v in counts["value"][mine].tolist() if not missing_value(v)]
    return spellings, int(counts["rows"][blank].sum())


def needs_all_distinct(sample: pd.Series, kind: str) -> bool:
    """Whether a text column's reading needs all its distinct values: dates and numbers
    always; ids only when every id of the sample is a whole number (``1001`` or ``1001.0``),
    as :func:`crmkit.load.values._written_as_numbers` stops at the first that is not."""
    if kind != "id":
        return True
    texts = as_text(sample).dropna()
    return bool(texts.str.fullmatch(WHOLE_NUMBER).all())


def keep_ids(
    distinct_ids: pd.Series,
    *,
    reading_ids: Callable[[pd.Series], pd.Series],
    owner: Owners,
    mine: str,
) -> pd.Series:
    """The raw ids whose rows :func:`crmkit.load.scope.rows_of_unit` keeps or counts: ids of
    the unit, of no unit, or listed by several units including this one."""
    read = reading_ids(distinct_ids)
    belongs = read.map(owner.unit_of)
    keep = belongs.isna() | belongs.eq(mine) | read.isin(owner.listed_with(mine).index)
    return distinct_ids[keep.fillna(True).to_numpy(dtype=bool)]


def evidence_frame(columns: Mapping[str, pd.Series], order: list[str]) -> pd.DataFrame:
    """One frame of every column's evidence, padded to one length with missing values."""
    length = max((len(v) for v in columns.values()), default=0)
    return pd.DataFrame(
        {
            name: (
                columns[name].reset_index(drop=True).reindex(range(length))
                if name in columns
                else pd.Series(np.nan, index=range(length))
            )
            for name in order
        }
    )


def decides(table: str, column: str) -> str:
    """The kind of a renamed column when its values decide a reading ('' otherwise)."""
    col = TABLES[table].column(column)
    return (
        col.kind
        if col is not None and col.kind in ("date", "number", "amount", "score", "id")
        else ""
    )


def plan_table(source, table: str, *, unit: str, column_map: Mapping) -> RawTable | None:
    """The evidence of one table read through its engine, with what reads the unit's rows
    later (:func:`unit_rows`); ``None`` where the table is read whole instead (not in an
    engine, without an id column, or an engine that cannot answer the questions)."""
    try:
        return _plan(source, table, unit=unit, column_map=column_map)
    except (DataError, ParameterError):
        raise
    except Exception:  # the engines raise their own types; the full read is always right
        return None


def _plan(source, table: str, *, unit: str, column_map: Mapping) -> RawTable | None:
    from crmkit.load.scope import rename_columns

    found = getattr(source, "engine_table", lambda _: None)(table)
    if found is None:
        return None
    engine, where = found
    raw_columns, typed = engine.columns()
    renamed = list(
        rename_columns(pd.DataFrame(columns=raw_columns), table, column_map, where=where).columns
    )
    spec = TABLES[table]
    if not any(c and c in renamed for c in (spec.key, *KEYS)):
        return None  # costs: small, and named by row position in the log
    raw_name = dict(zip(renamed, raw_columns, strict=True))
    evidence: dict[str, pd.Series] = {}
    for name, raw in raw_name.items():
        kind = decides(table, name)
        if name in KEYS:
            evidence[name] = engine.distinct(raw)
        elif kind and raw not in typed:
            sample = engine.sample(raw) if kind == "id" else None
            use_all = sample is None or needs_all_distinct(sample, kind)
            evidence[name] = engine.distinct(raw) if use_all else sample
    spellings, blank = None, 0
    if "business_unit" in raw_name:
        counts = engine.group_counts(raw_name["business_unit"])
        spellings, blank = unit_spellings(counts, unit)
        evidence["business_unit"] = counts["value"]
    pairs = None
    key = next((k for k, parent in KEYS.items() if parent == table), None)
    if key in raw_name and "business_unit" in raw_name:
        if _one_unit(evidence["business_unit"], spellings):
            # every listed id is the unit's: pairing each distinct id with the unit places
            # rows as the full table's pairs do (an id listed only with a blank unit is
            # then the unit's, not no unit's: either way its rows are kept), without
            # reading a million pairs
            ids = evidence[key].dropna()
            pairs = pd.DataFrame({key: ids, "business_unit": spellings[0]})
        else:
            pairs = engine.pairs(raw_name[key], raw_name["business_unit"])
            pairs.columns = [key, "business_unit"]
    raw = RawTable(evidence_frame(evidence, renamed), where, 1, engine=engine, pairs=pairs)
    every_row = spellings is not None and bool(
        counts["value"].isin(spellings).all() and not counts["value"].isna().any()
    )
    raw.pushdown = Pushdown(raw_name, spellings, blank, every_row)
    return raw


def _one_unit(values: pd.Series, spellings: list) -> bool:
    """Whether every non-blank ``business_unit`` value is a spelling of the unit."""
    present = values[as_text(values).notna().to_numpy(dtype=bool)]
    return bool(spellings) and all(v in spellings for v in present.tolist())


@dataclass
class Pushdown:
    """How a table's unit rows are read: its columns' names in the source, the spellings of
    the unit (tables with a ``business_unit`` column) and the rows with a blank unit."""

    raw_name: dict[str, str]
    spellings: list | None
    blank_units: int
    every_row: bool = False  # every row holds a spelling of the unit


def unit_rows(
    raw: RawTable, table: str, *, unit: str, owners: Mapping, readings
) -> tuple[pd.DataFrame, int]:
    """The unit's rows of a planned table (source column names), read in the engine, and the
    rows with a blank unit it kept back: by its unit column, else by the unit of its ids
    where the source holds several units, else every row (one unit:
    :func:`~crmkit.load.scope.rows_of_unit` keeps them all).

    An engine that cannot run the filter (a read-only database refusing a temporary table,
    a view without ``rowid``) hands over every row instead, with nothing kept back: the
    unit's rows are then picked in pandas, as for any source, to the same result.
    """
    try:
        return _filtered_rows(raw, unit=unit, owners=owners, readings=readings), (
            raw.pushdown.blank_units
        )
    except (DataError, ParameterError):
        raise
    except Exception:  # the engines raise their own types; the full read is always right
        return raw.engine.rows(), 0


def _filtered_rows(raw: RawTable, *, unit: str, owners: Mapping, readings) -> pd.DataFrame:
    from crmkit.load.values import read_ids

    plan: Pushdown = raw.pushdown
    engine = raw.engine
    if plan.spellings is not None and not plan.every_row:
        return engine.rows(plan.raw_name["business_unit"], plan.spellings)
    if plan.spellings is not None:
        return engine.rows()  # every row is the unit's: a plain read is the cheaper one
    mine = unit.casefold()
    for key, owner in owners.items():
        if key not in plan.raw_name:
            continue
        if bool(owner.unit_of.eq(mine).all()):
            break
        distinct = raw.frame[key]
        keep = keep_ids(
            distinct.dropna(),
            reading_ids=lambda ids, k=key: read_ids(ids, readings.ids.get(k)),
            owner=owner,
            mine=mine,
        )
        return engine.rows(plan.raw_name[key], [*keep.tolist(), None])
    return engine.rows()
