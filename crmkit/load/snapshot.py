"""A unit's loaded data on disk: loaded, checked and cleaned once, read by every notebook.

``crmkit run`` stages each unit once (:func:`stage`) into a folder beside its reports::

    <out>/<period>/<unit>/snapshot/<table>.parquet   the cleaned tables (personal data removed)
    <out>/<period>/<unit>/snapshot/quality_log.csv   the data-quality log, as the reports show it
    <out>/<period>/<unit>/snapshot/snapshot.yaml     unit, period, sources, the loading parameters

and passes its path to each notebook as the ``snapshot`` parameter; ``ck.open_unit`` reads it
instead of loading the source again (:func:`read_snapshot`). The snapshot is the reports' audit
trail: exactly the rows and the log they were computed from. A notebook opened alone has an
empty ``snapshot`` and loads its source directly.

A table is read from its file the first time a notebook asks for it (:class:`SnapshotTables`),
so a report holds in memory only the tables it uses: at a million customers the funnel report
no longer holds ten million orders, nor the clv report three million survey answers.

A snapshot is used only when it was made with the notebook's own loading parameters (the
``loading`` fingerprint, :func:`loading_key`): a notebook whose ``data_source``, period or
``column_map`` was changed by hand loads its source instead of reading another load's rows.

Parquet keeps the dtypes loading gives (datetimes, categories, nullable numbers) and reads a
million-customer unit back in about a second, where loading it takes tens of seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from crmkit.core.errors import CrmkitError
from crmkit.core.on_disk import TableOnDisk
from crmkit.core.periods import Period
from crmkit.load.log import LogEntry, QualityLog
from crmkit.load.threads import in_order
from crmkit.load.unit import CRMData, load_unit

FORMAT = 1
"""The layout version written in ``snapshot.yaml``; another version is not read."""
SNAPSHOT_DIR = "snapshot"
"""The snapshot's folder name inside a unit's reports folder."""
LOADING_PARAMETERS = (
    "business_unit",
    "data_source",
    "period_start",
    "period_end",
    "as_of",
    "column_map",
    "tables",
    "pii_columns",
    "date_format",
    "decimal",
)
"""The parameters that decide what loading gives: a snapshot serves only these values."""


def loading_key(parameters: Mapping[str, Any]) -> str:
    """A fingerprint of the loading parameters in ``parameters`` (a notebook's namespace or a
    unit's parameters with the period's dates): equal for equal loads."""
    values = {name: parameters.get(name) or "" for name in LOADING_PARAMETERS}  # [] = absent
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_snapshot(data: CRMData, folder: Path, *, key: str, threads: int = 1) -> Path:
    """Write ``data`` to ``folder`` (replaced whole, through a temporary folder renamed into
    place, so a reader never sees half a snapshot); ``key`` is its :func:`loading_key`;
    ``threads`` tables are written at the same time."""
    folder = Path(folder)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        _write_tables(data.tables, partial, threads=threads)
        data.quality.to_frame().to_csv(partial / "quality_log.csv", index=False)
        meta = {
            "format": FORMAT,
            "loading": key,
            "business_unit": data.business_unit,
            "display_name": data.display_name,
            "currency": data.currency,
            "period": {k: str(v) for k, v in asdict(data.period).items()},
            "tables": list(data.tables),
            "rows": {name: len(frame) for name, frame in data.tables.items()},
            "sources": data.sources,
            "pii_removed": data.pii_removed,
            "quality_log": [
                {**asdict(e), "example_ids": list(e.example_ids)} for e in data.quality.entries
            ],
        }
        (partial / "snapshot.yaml").write_text(
            yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


def _write_tables(tables: Mapping[str, pd.DataFrame], folder: Path, *, threads: int) -> None:
    def write(name: str) -> None:
        frame = tables[name]
        # min/max of ten million ids cost a second and serve no reader: the engine skips
        # row groups by dates and amounts
        ranged = [c for c in frame.columns if not pd.api.types.is_string_dtype(frame[c])]
        frame.to_parquet(folder / f"{name}.parquet", index=False, write_statistics=ranged)

    in_order(write, sorted(tables, key=lambda n: -len(tables[n])), threads=threads)


class SnapshotTables(Mapping[str, pd.DataFrame]):
    """A snapshot's tables by name, each read from its Parquet file the first time it is
    asked for and kept; asking whether a table is there reads nothing."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        self._folder = folder
        self._names = list(names)
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._read:
            self._read[name] = self._parquet(name)
        return self._read[name]

    def select(self, name: str, columns: Sequence[str] | None) -> pd.DataFrame:
        """Table ``name`` with only those of ``columns`` it has (``None``: all), in the
        table's order: read from disk with only them, unless the whole table is read already.
        Not kept: a report asks once for each table it computes with."""
        if name in self._read:
            frame = self._read[name]
            return frame if columns is None else frame[[c for c in frame if c in columns]]
        if name not in self._names:
            raise KeyError(name)
        return self._parquet(name, columns)

    def on_disk(self, name: str, columns: Sequence[str] | None) -> TableOnDisk:
        """Table ``name`` left on disk, with those of ``columns`` it has (``None``: all)."""
        if name not in self._names:
            raise KeyError(name)
        path = self._folder / f"{name}.parquet"
        names = pq.read_schema(path).names
        return TableOnDisk(path, tuple(c for c in names if columns is None or c in columns))

    def _parquet(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        path = self._folder / f"{name}.parquet"
        try:
            if columns is not None:
                columns = [c for c in pq.read_schema(path).names if c in columns]
            frame = pd.read_parquet(path, columns=columns)
        except (OSError, pa.ArrowException) as exc:
            raise CrmkitError(
                f"{path}: this snapshot's {name} table cannot be read ({exc}); run "
                "`crmkit run` again, or clear the notebook's `snapshot` parameter to "
                "load the source."
            ) from exc
        # Arrow's allocator keeps the pages of the file's decoded buffers for reuse; a
        # million-customer unit's tables left ~0.35 GB so kept in each report's kernel.
        pa.default_memory_pool().release_unused()
        return frame

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_snapshot(folder: Path, *, key: str | None = None) -> CRMData | None:
    """The unit's data from ``folder``, its tables read when first used
    (:class:`SnapshotTables`); ``None`` when there is no complete snapshot there of this
    layout, or (with ``key``) it was made with other loading parameters."""
    folder = Path(folder)
    try:
        meta = yaml.safe_load((folder / "snapshot.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    if key is not None and meta.get("loading") != key:
        return None
    period = Period(
        **{
            name: value if name == "label" else date.fromisoformat(value)
            for name, value in meta["period"].items()
        }
    )
    log = QualityLog(
        [
            LogEntry(**{**entry, "example_ids": tuple(entry["example_ids"])})
            for entry in meta["quality_log"]
        ]
    )
    try:  # each file's footer, so that a missing or cut file is found now, not mid-report
        for name in meta["tables"]:
            pq.read_metadata(folder / f"{name}.parquet")
    except (OSError, pa.ArrowException):
        return None
    return CRMData(
        business_unit=meta["business_unit"],
        display_name=meta["display_name"],
        currency=meta["currency"],
        period=period,
        tables=SnapshotTables(folder, meta["tables"]),
        quality=log,
        sources=meta["sources"],
        pii_removed=meta["pii_removed"],
    )


def stage(parameters: Mapping[str, Any], folder: Path, *, threads: int = 1) -> str:
    """Load one unit with ``parameters`` (a unit's parameters with ``period_start`` and
    ``period_end``) and write its snapshot to ``folder``, cleaning and writing ``threads``
    tables at a time; ``""`` on success, else why the unit cannot be loaded or its snapshot
    written (its notebooks then load the source themselves).
    """
    accepted = {*LOADING_PARAMETERS, "display_name", "currency", "base_dir"}
    try:
        data = load_unit(**{k: v for k, v in parameters.items() if k in accepted}, threads=threads)
    except Exception as exc:  # the notebooks meet it again, and report it, when they load
        return str(exc) if isinstance(exc, CrmkitError) else f"{type(exc).__name__}: {exc}"
    try:
        write_snapshot(data, folder, key=loading_key(parameters), threads=threads)
    except Exception as exc:  # a column Arrow cannot type: the notebooks load the source
        return f"its snapshot cannot be written ({type(exc).__name__}: {exc})"
    return ""
