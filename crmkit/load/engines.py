"""The tables of a database or a Parquet file, asked for parts of themselves.

:mod:`crmkit.load.pushdown` asks each table a few questions — its columns, the counts of its
``business_unit`` values, a column's distinct values, a sample, ``(id, unit)`` pairs, the rows
whose column holds some values — and these classes answer them in DuckDB, in any database
SQLAlchemy reaches (SQLite, PostgreSQL ...) and in a Parquet file through pyarrow. Each
counts the rows it handed over (``rows_fetched``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from pathlib import Path

import pandas as pd


class EngineTable:
    """One table of a database, asked with SQL: the queries :mod:`crmkit.load.pushdown`
    needs, and how many rows they fetched. Subclasses run the SQL (DuckDB, SQLAlchemy)."""

    position = ""  # a column giving the table's order (rowid), where the engine has one

    def __init__(self, name: str):
        self.name = name
        self.rows_fetched = 0

    # --- what a subclass provides
    def _run(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        raise NotImplementedError

    def _quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def _many(self, values: list, column: str) -> tuple[str, tuple]:
        """SQL naming a long list of values (a temporary table), and its parameters."""
        return ", ".join("?" for _ in values), tuple(values)

    def typed_columns(self, frame: pd.DataFrame) -> set[str]:
        """Columns the engine stores as numbers or dates (their readings need no evidence)."""
        return {c for c in frame.columns if _typed(frame[c])}

    # --- the queries
    def _fetch(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        frame = self._run(sql, params)
        self.rows_fetched += len(frame)
        return frame

    def columns(self) -> tuple[list[str], set[str]]:
        """The table's column names as written, and those stored as numbers or dates."""
        frame = self._run(f"SELECT * FROM {self._quote(self.name)} LIMIT 0")
        return list(frame.columns), self.typed_columns(frame)

    def group_counts(self, column: str) -> pd.DataFrame:
        """One row per distinct value of ``column`` (NULL too): ``value``, ``rows``."""
        q, t = self._quote(column), self._quote(self.name)
        frame = self._fetch(f"SELECT {q}, COUNT(*) FROM {t} GROUP BY {q}")
        return pd.DataFrame({"value": frame.iloc[:, 0], "rows": frame.iloc[:, 1].astype(int)})

    def distinct(self, column: str) -> pd.Series:
        """The distinct values of ``column``, in order of first appearance where the engine
        numbers its rows (else sorted)."""
        q, t = self._quote(column), self._quote(self.name)
        order = f"MIN({self.position})" if self.position else q
        return self._fetch(f"SELECT {q} FROM {t} GROUP BY {q} ORDER BY {order}").iloc[:, 0]

    def sample(self, column: str, n: int = 1000) -> pd.Series:
        q, t = self._quote(column), self._quote(self.name)
        return self._fetch(f"SELECT {q} FROM {t} LIMIT {int(n)}").iloc[:, 0]

    def pairs(self, key: str, unit: str) -> pd.DataFrame:
        t = self._quote(self.name)
        return self._fetch(f"SELECT DISTINCT {self._quote(key)}, {self._quote(unit)} FROM {t}")

    def rows(self, column: str | None = None, values: list | None = None) -> pd.DataFrame:
        """The rows whose ``column`` is one of ``values`` (missing among them: NULL too), or
        every row, in the table's order."""
        t = self._quote(self.name)
        order = f" ORDER BY {self.position}" if self.position else ""
        if column is None:
            return self._fetch(f"SELECT * FROM {t}{order}")
        q = self._quote(column)
        values = list(values or [])
        present = [v for v in values if not missing_value(v)]
        where, params = "1 = 0", ()
        if present:
            listed, params = self._many(present, column)
            where = f"{q} IN ({listed})"
        if len(present) < len(values):
            where = f"({where} OR {q} IS NULL)"
        return self._fetch(f"SELECT * FROM {t} WHERE {where}{order}", params)


class DuckDBTable(EngineTable):
    """A table of a DuckDB database; rows in insertion order (``rowid``)."""

    position = "rowid"

    def __init__(self, name: str, connection):
        super().__init__(name)
        self.connection = connection

    def _run(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        return self.connection.execute(sql, list(params)).df()

    def _many(self, values: list, column: str) -> tuple[str, tuple]:
        if len(values) <= 1000:
            return super()._many(values, column)
        self.connection.register("crmkit_keep", pd.DataFrame({"v": values}))
        return "SELECT v FROM crmkit_keep", ()


class SQLTable(EngineTable):
    """A table of a database SQLAlchemy reaches. Columns of a date type are parsed as
    :func:`pandas.read_sql_table` parses them; SQLite rows come in ``rowid`` order,
    PostgreSQL rows in ``ctid`` order (as stored, what a plain SELECT returns)."""

    def __init__(self, name: str, engine, types: Mapping[str, object]):
        import sqlalchemy

        super().__init__(name)
        self.engine = engine
        self.types = dict(types)
        self.dates = [
            c for c, t in types.items() if isinstance(t, (sqlalchemy.Date, sqlalchemy.DateTime))
        ]
        numeric = (sqlalchemy.Integer, sqlalchemy.Float, sqlalchemy.Numeric, sqlalchemy.Boolean)
        self.typed = {c for c, t in types.items() if isinstance(t, numeric)} | set(self.dates)
        # the order a plain SELECT returns rows in (PostgreSQL: as stored, by ctid)
        self.position = {"sqlite": "rowid", "postgresql": "ctid"}.get(engine.dialect.name, "")
        self._keep: tuple[str, list, str] | None = None

    def _quote(self, name: str) -> str:
        return self.engine.dialect.identifier_preparer.quote(name)

    def typed_columns(self, frame: pd.DataFrame) -> set[str]:
        return set(self.typed)

    def _run(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        import sqlalchemy

        numbers = iter(range(len(params)))
        text = re.sub(r"\?", lambda _: f":p{next(numbers)}", sql) if params else sql
        keep, self._keep = self._keep, None
        with self.engine.connect() as connection:
            if keep is not None:  # a temporary table lives as long as its connection
                create, rows, name = keep
                connection.execute(sqlalchemy.text(create))
                connection.execute(sqlalchemy.text(f"INSERT INTO {name} (v) VALUES (:v)"), rows)
            frame = pd.read_sql_query(
                sqlalchemy.text(text),
                connection,
                params={f"p{i}": v for i, v in enumerate(params)},
                parse_dates=self.dates or None,
            )
            if keep is not None:
                connection.execute(sqlalchemy.text(f"DROP TABLE {keep[2]}"))
            return frame

    def _many(self, values: list, column: str) -> tuple[str, tuple]:
        if len(values) <= 500:
            return super()._many(values, column)
        kind = self.types.get(column)
        declared = kind.compile(dialect=self.engine.dialect) if kind is not None else ""
        name = f"crmkit_keep_{uuid.uuid4().hex[:12]}"
        self._keep = (
            f"CREATE TEMPORARY TABLE {name} (v {declared})",
            [{"v": v} for v in values],
            name,
        )
        return f"SELECT v FROM {name}", ()


class ParquetTable(EngineTable):
    """A Parquet file asked through pyarrow: columns read alone for the evidence, the
    unit's rows read with a filter (``pandas.read_parquet(filters=...)``, so the frame is
    converted exactly as a full read converts it)."""

    position = "file"

    def __init__(self, path: Path, read_whole):
        super().__init__(path.name)
        self.path = path
        self.read_whole = read_whole  # the folder's reader of a whole file, for equal frames

    def _column(self, column: str):
        import pyarrow.parquet as pq

        return pq.read_table(self.path, columns=[column]).column(0)

    def columns(self) -> tuple[list[str], set[str]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(self.path)
        meta = schema.pandas_metadata or {}
        index = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
        typed = {
            f.name
            for f in schema
            if pa.types.is_integer(f.type)
            or pa.types.is_floating(f.type)
            or pa.types.is_temporal(f.type)
            or pa.types.is_boolean(f.type)
            or pa.types.is_decimal(f.type)
        }
        return [f.name for f in schema if f.name not in index], typed

    def group_counts(self, column: str) -> pd.DataFrame:
        import pyarrow.compute as pc

        counts = pc.value_counts(self._column(column)).flatten()
        self.rows_fetched += len(counts[0])
        return pd.DataFrame(
            {"value": counts[0].to_pandas(), "rows": counts[1].to_numpy().astype(int)}
        )

    def distinct(self, column: str) -> pd.Series:
        import pyarrow.compute as pc

        values = pc.unique(self._column(column)).to_pandas()
        self.rows_fetched += len(values)
        return values

    def sample(self, column: str, n: int = 1000) -> pd.Series:
        values = self._column(column).slice(0, n).to_pandas()
        self.rows_fetched += len(values)
        return values

    def pairs(self, key: str, unit: str) -> pd.DataFrame:
        import pyarrow.parquet as pq

        # pandas drops duplicate pairs faster than an Arrow group-by without aggregates
        pairs = pq.read_table(self.path, columns=[key, unit]).to_pandas().drop_duplicates()
        self.rows_fetched += len(pairs)
        return pairs

    def rows(self, column: str | None = None, values: list | None = None) -> pd.DataFrame:
        import pyarrow as pa
        import pyarrow.compute as pc

        if column is None:
            frame = self.read_whole(self.path).frame
        else:
            values = list(values or [])
            present = [v for v in values if not missing_value(v)]
            kind = pq_type(self.path, column)
            wanted = pc.field(column).isin(pa.array(present, type=kind))
            if len(present) < len(values):
                wanted = wanted | pc.field(column).is_null()
            frame = pd.read_parquet(self.path, filters=wanted)
            frame = frame.reset_index(drop=not any(frame.index.names))
        self.rows_fetched += len(frame)
        return frame


def pq_type(path: Path, column: str):
    """The Arrow type of ``column`` in a Parquet file."""
    import pyarrow.parquet as pq

    return pq.read_schema(path).field(column).type


def missing_value(value) -> bool:
    """Whether a value an engine returned is missing (NULL, or NaN)."""
    return value is None or (isinstance(value, float) and value != value)


def _typed(values: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
    ) and not pd.api.types.is_object_dtype(values)
