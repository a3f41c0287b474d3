"""Customers as positions, times as nanoseconds: how per-customer figures are computed over
millions of rows without hashing text ids more than once.

A customer's id is looked up once per table and replaced by its position in the unit's
customers; times become int64 nanoseconds (:data:`NAT` for missing), so a customer's latest
order or count of tickets is an array operation over integers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NAT = np.iinfo(np.int64).min
"""NaT as int64 nanoseconds."""


def nanoseconds(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 nanoseconds (NaT as :data:`NAT`)."""
    return pd.to_datetime(values).astype("datetime64[ns]").to_numpy().view(np.int64)


def _arrow_chunks(values: pd.Series) -> list | None:
    """The Arrow chunks of Arrow-backed strings (as large_string), else None."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa

    arrow = pa.array(values.array)
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    return [c.cast(pa.large_string()) for c in chunks]


def _integers(values: pd.Series) -> bool:
    return isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu"


def positions(people: pd.Series, *columns: pd.Series) -> list[np.ndarray]:
    """Each id of each of ``columns``: its position in ``people`` (unique ids, none
    missing), −1 where it is not there or missing; as 32-bit integers, half the memory of
    64-bit ones over ten million orders (an index or a ``bincount`` takes either).

    All ids are hashed once: Arrow-backed strings (as :func:`crmkit.load_unit` gives them)
    by one Arrow dictionary encoding of ``people`` followed by every column, whose first
    ``len(people)`` dictionary entries are then ``people`` in order (several times faster
    than pandas on ten million ids); integer ids by one lookup of their values; other ids
    through :func:`pandas.factorize`.
    """
    n = len(people)
    chunked = [_arrow_chunks(values) for values in (people, *columns)]
    if all(c is not None for c in chunked):
        import pyarrow as pa
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(pa.chunked_array([c for cs in chunked for c in cs]))
        indices = [
            pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
            for chunk in encoded.chunks
        ]
        every = np.concatenate(indices) if indices else np.empty(0, np.int32)
        ends = np.cumsum([len(values) for values in (people, *columns)])
        found = np.split(every, ends[:-1])
        if np.array_equal(found[0], np.arange(n)):
            for f in found[1:]:
                f[f >= n] = -1
            return found[1:]
    if all(_integers(values) for values in (people, *columns)):
        if np.array_equal(people.to_numpy(), np.arange(n)):  # ids that are positions already
            return [np.where((v >= 0) & (v < n), v, -1).astype(np.int32) for v in columns]
        known = pd.Index(people.to_numpy())
        return [known.get_indexer(values.to_numpy()).astype(np.int32) for values in columns]
    known = pd.Index(people.to_numpy(dtype=object))
    result = []
    for values in columns:
        index, uniques = pd.factorize(values)
        lookup = np.append(known.get_indexer(pd.Index(uniques, dtype=object)), -1)
        result.append(lookup[index].astype(np.int32))  # index −1 (missing) reads the −1
    return result


def latest_per_customer(at: np.ndarray, times: np.ndarray, n: int) -> np.ndarray:
    """Each of ``n`` customers' latest time (int64 ns; :data:`NAT` without one) among rows
    at positions ``at`` (−1: no customer) with times ``times`` (:data:`NAT`: none)."""
    latest = np.full(n, NAT, dtype=np.int64)
    known = (at >= 0) & (times != NAT)
    np.maximum.at(latest, at[known], times[known])
    return latest
