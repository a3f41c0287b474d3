"""Membership and repetition on long columns of text, without pandas' slow paths.

pandas' ``isin`` and ``duplicated`` on Arrow-backed strings were the largest costs of loading
a unit of ten million orders (issue #15): ``isin`` turns every choice into an Arrow scalar in
Python, ``duplicated`` hashes ten million distinct ids in a hash table that no longer fits the
cache. These give the same answers in Arrow and DuckDB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def is_in(values: pd.Series, choices) -> np.ndarray:
    """Whether each value is one of ``choices`` (missing values are not), as a numpy mask.

    Hashes in Arrow: pandas' ``isin`` on Arrow-backed strings turns every choice into an
    Arrow scalar in Python first, which on a million ids took longer than the lookup.
    """
    if not is_arrow_text(values):
        return values.isin(
            list(choices) if isinstance(choices, (set, frozenset)) else choices
        ).to_numpy(dtype=bool)
    arrow = values.array._pa_array
    choices = pd.Series(list(choices) if isinstance(choices, (set, frozenset)) else choices)
    if is_arrow_text(choices):
        known = pa.array([], arrow.type)
        if len(choices):
            known = choices.array._pa_array.cast(arrow.type).combine_chunks()
    else:
        texts = choices.to_numpy(dtype=object)
        known = pa.array([v for v in texts if isinstance(v, str)], type=arrow.type)
    found = pc.is_in(arrow, value_set=known, skip_nulls=True)
    return np.asarray(found.to_numpy(), dtype=bool)


def is_arrow_text(values: pd.Series) -> bool:
    arrow = getattr(values.array, "_pa_array", None)
    return arrow is not None and (
        pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)
    )


def repeated(values: pd.Series) -> np.ndarray:
    """Which values occur more than once (``duplicated(keep=False)``; missing values count
    as equal), as a numpy mask.

    On a long column of text the values are hashed by DuckDB and the hashes sorted: hashing
    ten million distinct ids in a pandas or Arrow hash table took 5-9 s, this about 1.5 s.
    Rows whose hash repeats are then compared exactly, so a hash collision costs nothing but
    a comparison.
    """
    if len(values) < 200_000 or not is_arrow_text(values):
        return values.duplicated(keep=False).to_numpy()
    import duckdb

    with duckdb.connect() as connection:
        connection.register("column_values", pa.table({"v": values.array._pa_array}))
        hashes = connection.sql("SELECT hash(v) AS h FROM column_values").to_arrow_table()
    hashes = hashes.column("h").to_numpy()
    ranked = np.sort(hashes)
    twice = ranked[1:][ranked[1:] == ranked[:-1]]
    if len(twice) > 10_000:  # a column of few distinct values: a hash table is quick there
        return values.duplicated(keep=False).to_numpy()
    candidates = np.isin(hashes, twice) if len(twice) else np.zeros(len(values), dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    if candidates.any():
        out[candidates] = values[candidates].duplicated(keep=False).to_numpy()
    return out
