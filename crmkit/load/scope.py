"""Which columns and rows of a source table are the unit's.

Column names onto the contract (two source columns landing on one name are refused),
personal data removed, the rows of the unit: by their ``business_unit`` column, else by the
unit of their customer (or opportunity). An id that several units list is never given to one
of them: its rows are dropped and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmkit.core.errors import DataError
from crmkit.load.log import QualityLog
from crmkit.load.lookups import is_in
from crmkit.load.rules import without
from crmkit.load.values import IdReading, TableReadings, as_text, per_unique, read_ids

SEVERAL_UNITS = "\x00several units"
"""The owner of an id that more than one unit lists."""


def rename_columns(
    frame: pd.DataFrame, table: str, column_map: Mapping[str, Any], *, where: str = ""
) -> pd.DataFrame:
    """Column names onto the contract: the unit's ``column_map`` (flat entries for every
    table, ``{table: {...}}`` entries for one), else trimmed, lower case, spaces as ``_``.

    Raises
    ------
    DataError
        Two source columns land on one name (``amount`` and ``Amount ``, or two mapped onto
        one by ``column_map``).
    """
    flat = {k: v for k, v in column_map.items() if not isinstance(v, Mapping)}
    lookup = {
        str(k).strip().casefold(): v for k, v in {**flat, **(column_map.get(table) or {})}.items()
    }
    names = [
        str(lookup.get(str(c).strip().casefold(), str(c).strip().lower().replace(" ", "_")))
        for c in frame.columns
    ]
    seen: dict[str, list[str]] = {}
    for column, name in zip(frame.columns, names, strict=True):
        seen.setdefault(name, []).append(str(column))
    for name, columns in seen.items():
        if len(columns) > 1:
            raise DataError(
                f"{where}: columns {columns} of the {table} table all become '{name}' (names "
                "are trimmed and lower-cased, and `column_map` renames); keep one of them, or "
                "give the others another name in the file or with `column_map`."
            )
    return frame.set_axis(names, axis=1)


def remove_personal_data(frame: pd.DataFrame, pii: set[str]) -> tuple[pd.DataFrame, list[str]]:
    """The frame without its personal-data columns, and the names removed."""
    removed = [c for c in frame.columns if c in pii]
    return (frame.drop(columns=removed) if removed else frame), removed


def keep_unit_rows(
    frame: pd.DataFrame, table: str, unit: str, log: QualityLog, *, blank_elsewhere: int = 0
) -> pd.DataFrame:
    """In a table with a ``business_unit`` column, the rows of ``unit`` (case-insensitive);
    rows with a blank unit belong to none and are dropped. ``blank_elsewhere`` counts such
    rows a database kept back (they are counted, never read)."""
    if "business_unit" not in frame.columns:
        return frame
    units = per_unique(as_text(frame["business_unit"]), lambda u: u.str.casefold())
    blank = int(units.isna().sum()) + blank_elsewhere
    log.add(table, "business_unit blank (row belongs to no unit)", "dropped", blank)
    return without(frame, ~units.eq(unit.casefold()).fillna(False).to_numpy(dtype=bool))


@dataclass(frozen=True)
class Owners:
    """The unit of each id of ``key``, from ``table``, which lists them with a unit.

    ``unit_of`` maps an id to its unit (lower case), or to :data:`SEVERAL_UNITS` where more
    than one unit lists it; ``shared`` maps those ids to the units listing them ("a, b").
    """

    key: str
    table: str
    unit_of: pd.Series
    shared: pd.Series

    def listed_with(self, unit: str) -> pd.Series:
        """The ids that several units list, ``unit`` (lower case) among them, with the units."""
        return self.shared[self.shared.str.split(", ").map(lambda units: unit in units)]


def owner_of(
    frame: pd.DataFrame, key: str, *, table: str, reading: IdReading | None = None
) -> Owners | None:
    """Which unit each id belongs to, from a table with a ``business_unit`` column."""
    if key not in frame.columns or "business_unit" not in frame.columns:
        return None
    # distinct (id, unit) pairs by their codes: hashing a million pairs of texts cost seconds
    ids = read_ids(frame[key], reading)
    units = as_text(frame["business_unit"])
    placed = (ids.notna() & units.notna()).to_numpy(dtype=bool)
    id_codes, ids = pd.factorize(ids[placed])
    unit_codes, units = pd.factorize(units[placed])
    folded_codes, units = pd.factorize(pd.Index(units, dtype=object).str.casefold())
    pair_codes = np.sort(id_codes.astype(np.int64) * len(units) + folded_codes[unit_codes])
    first = np.ones(len(pair_codes), dtype=bool)
    first[1:] = pair_codes[1:] != pair_codes[:-1]
    id_code, unit_code = np.divmod(pair_codes[first], max(len(units), 1))
    several = np.zeros(len(id_code), dtype=bool)
    repeats = id_code[1:] == id_code[:-1]
    several[1:] |= repeats
    several[:-1] |= repeats
    ids, units = np.asarray(ids, dtype=object), np.asarray(units, dtype=object)
    pairs = pd.DataFrame({"id": ids[id_code[several]], "unit": units[unit_code[several]]})
    shared = pairs.sort_values("unit").groupby("id")["unit"].agg(", ".join)
    unit_of = pd.Series(
        units[unit_code[~several]],
        index=pd.Index(ids[id_code[~several]], name="id"),
        dtype=object,
    )
    if len(shared):
        unit_of = pd.concat([unit_of, pd.Series(SEVERAL_UNITS, index=shared.index, dtype=object)])
    return Owners(key, table, unit_of, shared)


def rows_of_unit(
    frame: pd.DataFrame,
    table: str,
    unit: str,
    owners: Mapping[str, Owners],
    log: QualityLog,
    readings: TableReadings | None = None,
) -> pd.DataFrame:
    """In a table without a unit column, a row belongs to the unit of its customer (or
    opportunity); ids of no unit stay, to be counted as orphans. A row whose id several units
    list cannot be placed: it is dropped and counted, never given to one of them. In the table
    that lists the ids, the unit's ids that another unit lists too are noted."""
    ids_reading = (readings or TableReadings()).ids
    mine = unit.casefold()
    if "business_unit" in frame.columns:
        for owner in owners.values():
            if owner.table != table or not len(owner.shared):
                continue
            ids = read_ids(frame[owner.key], ids_reading.get(owner.key))
            shared = is_in(ids, owner.shared.index.to_series())
            log.add(
                table,
                f"{owner.key} also listed under another unit",
                "noted",
                int(shared.sum()),
                ids[shared],
                f"units: {owner.shared.get(ids[shared].iloc[0], '')}" if shared.any() else "",
            )
        return frame
    for key, owner in owners.items():
        if key not in frame.columns:
            continue
        ids = read_ids(frame[key], ids_reading.get(key))
        elsewhere = owner.unit_of.index[owner.unit_of.ne(mine).to_numpy(dtype=bool)]
        ours = owner.listed_with(mine)
        claimed = is_in(ids, ours.index.to_series())
        log.add(
            table,
            f"{key} listed by more than one unit (row cannot be placed)",
            "dropped",
            int(claimed.sum()),
            ids[claimed],
            f"{owner.table} lists {ids[claimed].iloc[0]!r} under {ours.get(ids[claimed].iloc[0])}; "
            f"add a business_unit column to {table} to place such rows"
            if claimed.any()
            else "",
        )
        # ids of no unit stay (orphans, counted later), as do missing ids
        if not len(elsewhere):  # a source of one unit: no other unit's rows to drop
            return without(frame, np.zeros(len(ids), dtype=bool))
        return without(frame, is_in(ids, elsewhere.to_series()))
    return frame
