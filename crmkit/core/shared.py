"""A result computed once per run and shared by the kernels of that run.

Several reports show figures of one model fit: the clv report fits CLV at the period end,
and the churn and health reports use the same fit's predicted values. In ``crmkit run``
every notebook has a kernel of its own, so each would fit the models again (about 22 s a fit
at a million customers). A function decorated with :func:`shared` keeps its result in the
folder named by the environment variable :data:`STORE_VARIABLE`, keyed by a fingerprint of
its arguments' *contents*: a kernel asking with the same inputs reads the result instead of
computing it, and one arriving while another computes it waits for that result (a file
lock), rather than computing it twice.

``crmkit run`` sets the variable in its worker processes to a folder inside the run's own
temporary folder (on a Dask cluster, a folder of the run in the period's folder of reports,
which every worker reaches), removed when the run ends: results never outlive the run,
never mix runs, and are never read by anyone else. Without the variable (a notebook in
JupyterLab, the tests) the function simply runs. Arguments the fingerprint cannot read
(frames holding lists, arbitrary objects) also just run the function.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from crmkit.core.on_disk import TableOnDisk

try:
    import fcntl
except ImportError:  # Windows: no lock, so two kernels may compute the same result
    fcntl = None

STORE_VARIABLE = "CRMKIT_SHARED_RESULTS"
"""Environment variable naming the folder of shared results (unset: nothing is shared)."""

Result = TypeVar("Result")


class _Unreadable(Exception):
    """An argument the fingerprint cannot read."""


_HASHED_ROWS = 1 << 20


def _feed(digest: Any, value: Any) -> None:
    """Add ``value``'s contents to ``digest`` (type-tagged, so "1" and 1 differ)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        layout = (type(value).__name__, getattr(value, "name", None), list(frame.columns))
        columns = (frame.iloc[:, k] for k in range(frame.shape[1]))
        _feed_table(
            digest, layout, [str(t) for t in frame.dtypes], frame.shape, frame.index, columns
        )
    elif isinstance(value, TableOnDisk):
        # Hashed as the frame its columns read into would be: a report that leaves a table on
        # disk and one that reads it into memory share a result computed from it.
        rows = len(value)
        layout = ("DataFrame", None, list(value.columns))
        pieces = (p for c in value.columns for p in value.column(c, rows=_HASHED_ROWS))
        shape = (rows, len(value.columns))
        _feed_table(digest, layout, value.dtypes(), shape, pd.RangeIndex(rows), pieces)
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__}[{len(value)}]".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"dict[{len(value)}]".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif value is None or isinstance(value, str | int | float | bool | dt.date | dt.datetime):
        digest.update(f"{type(value).__name__}:{value!r}".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__qualname__.encode())
        for field in dataclasses.fields(value):
            _feed(digest, getattr(value, field.name))
    else:
        raise _Unreadable(type(value).__name__)


def _feed_table(
    digest: Any, layout: tuple, dtypes: list[str], shape: tuple, index, columns
) -> None:
    """Add a table to ``digest``: its layout, then the row hashes of its index and of each
    column in turn. A row's hash depends on its value and dtype only, so a column may come
    in pieces of any length."""
    digest.update(repr((layout, dtypes, shape)).encode())
    # A million rows at a time: hashing ten million orders at once held 0.66 GB of hashes
    # and copies.
    pieces = (index[start : start + _HASHED_ROWS] for start in range(0, len(index), _HASHED_ROWS))
    chunks = (
        part.iloc[start : start + _HASHED_ROWS]
        for part in columns
        for start in range(0, len(part), _HASHED_ROWS)
    )
    try:
        for piece in (*pieces, *chunks):
            digest.update(_row_bytes(piece))
    except TypeError as exc:  # unhashable cells (lists, dicts)
        raise _Unreadable from exc


def _row_bytes(piece: pd.Series | pd.Index) -> memoryview:
    """A piece of a column as bytes that depend on each row's value and dtype only: a NumPy
    column of numbers, dates or booleans as its own bytes (pandas' row hashes of ten million
    orders' numbers took a second), any other column as pandas' row hashes."""
    if isinstance(piece.dtype, np.dtype) and piece.dtype.kind in "biufmM":
        values = np.ascontiguousarray(piece.to_numpy())
    else:
        values = np.ascontiguousarray(pd.util.hash_pandas_object(piece, index=False).to_numpy())
    return values.view(np.uint8).data


def fingerprint(function: Callable, args: tuple, kwargs: dict) -> str | None:
    """A key equal for equal calls of ``function`` (same contents, dtypes and index of every
    frame); None when an argument cannot be read. Values of an object column count by their
    text (pandas' row hashes), so ``1`` and ``"1"`` there are one value: the loaded tables
    have typed columns."""
    digest = hashlib.sha256()  # SHA extensions: 2.5 times blake2b's speed on this machine
    digest.update(f"{function.__module__}.{function.__qualname__}".encode())
    try:
        _feed(digest, list(args))
        _feed(digest, kwargs)
    except _Unreadable:
        return None
    return digest.hexdigest()[:40]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (released by the OS if the holder dies)."""
    if fcntl is None:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> tuple[bool, Any]:
    try:
        with path.open("rb") as handle:
            return True, pickle.load(handle)
    except Exception:  # absent, or unreadable: compute it again
        return False, None


def _write(path: Path, result: Any) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        with partial.open("wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except Exception:  # a result that cannot be stored is still returned
        partial.unlink(missing_ok=True)


def shared(function: Callable[..., Result]) -> Callable[..., Result]:
    """``function``, its result shared by every kernel of a run (see the module docstring).
    A call that raises stores nothing."""

    @functools.wraps(function)
    def run_once(*args: Any, **kwargs: Any) -> Result:
        folder = os.environ.get(STORE_VARIABLE, "")
        key = fingerprint(function, args, kwargs) if folder else None
        if key is None:
            return function(*args, **kwargs)
        store = Path(folder)
        path = store / f"{function.__name__.strip('_')}-{key}.pickle"
        with contextlib.ExitStack() as held:
            try:
                store.mkdir(parents=True, exist_ok=True)
                held.enter_context(_locked(store / f"{key}.lock"))
            except OSError:  # a store that cannot be written: the function simply runs
                return function(*args, **kwargs)
            found, result = _read(path)
            if not found:
                result = function(*args, **kwargs)
                _write(path, result)
        return result

    return run_once
