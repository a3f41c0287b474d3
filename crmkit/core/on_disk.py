"""A table left on disk: a snapshot table the engine reads where it lies.

``crmkit run`` writes each unit's cleaned tables as Parquet files (:mod:`crmkit.load.snapshot`).
A report that needs only per-customer figures of a table (:mod:`crmkit.metrics.customer_orders`)
takes it as a :class:`TableOnDisk`, and DuckDB reads the file, column by column, without the
rows becoming a pandas frame in the report's kernel.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class TableOnDisk:
    """The Parquet file of a table and the names of the columns taken from it."""

    path: Path
    columns: tuple[str, ...]

    def __len__(self) -> int:
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path).metadata.num_rows

    def dtypes(self) -> list[str]:
        """The pandas dtypes of the columns, as reading them into a frame gives them."""
        import pyarrow.parquet as pq

        empty = pq.read_schema(self.path).empty_table().select(list(self.columns))
        return [str(dtype) for dtype in empty.to_pandas().dtypes]

    def column(self, name: str, *, rows: int) -> Iterator[pd.Series]:
        """Column ``name``, read as pandas would read it, at most ``rows`` rows at a time."""
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=rows, columns=[name]):
            yield batch.to_pandas()[name]
