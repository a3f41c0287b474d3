"""The repair and drop rules applied to each table as it is loaded.

One documented rule per defect (``docs/data_contract.md`` lists them); every rule that touches
a row records it in the :class:`~crmkit.load.log.QualityLog`. Defects that make a table unusable
raise :class:`~crmkit.core.errors.DataError` instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crmkit.core.errors import DataError
from crmkit.core.periods import day_after
from crmkit.core.schema import CUSTOMER_KEYED, TABLES, Column, TableSpec
from crmkit.load.log import QualityLog

NA_STRINGS = {"", "na", "n/a", "nan", "null", "none", "nat", "#n/a", "-"}
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "是", "真"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "否", "假"}
_MONEY_NOISE = re.compile(r"[\s,¥￥$€£元]|RMB|CNY|USD|EUR", re.IGNORECASE)


def _examples(values: pd.Series, n: int = 5) -> str:
    return ", ".join(repr(v) for v in values.head(n).tolist())


def _lines(index: pd.Index, line_offset: int, n: int = 5) -> str:
    shown = ", ".join(str(i + line_offset) for i in index[:n])
    more = f" and {len(index) - n} more" if len(index) > n else ""
    return f"{shown}{more}"


def ids_of(table: pd.DataFrame, spec: TableSpec, index: pd.Index | None = None) -> pd.Series:
    """The identifying values of rows (their key, else their customer or opportunity id)."""
    for column in (spec.key, "customer_id", "opportunity_id"):
        if column and column in table.columns:
            values = table[column]
            return values if index is None else values.loc[index]
    positions = table.index if index is None else index
    return pd.Series([f"row {i}" for i in positions])


def _per_unique(values: pd.Series, transform) -> pd.Series:
    """Apply a string transform to the distinct values only, then spread it back."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    done = transform(pd.Series(uniques, dtype=object)).astype("string")
    out = pd.array(done.to_numpy()[codes], dtype="string")
    out[codes < 0] = pd.NA
    return pd.Series(out, index=values.index, name=values.name)


def _strip_blank(text: pd.Series) -> pd.Series:
    text = text.astype("string").str.strip()
    return text.mask(text.str.lower().isin(NA_STRINGS))


def as_text(values: pd.Series) -> pd.Series:
    """Values as stripped strings, with blanks and NA spellings as missing."""
    if pd.api.types.is_float_dtype(values):
        # Ids read as floats (Excel, SQL): 1001.0 is the id "1001".
        present = values.dropna()
        if (present == np.floor(present)).all():
            values = values.map(lambda v: pd.NA if pd.isna(v) else str(int(v)))
    return _per_unique(values, _strip_blank)


def to_datetimes(values: pd.Series) -> pd.Series:
    """Parse dates and timestamps (ISO first, then other common spellings); tz-naive."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = as_text(values)
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        retry = parsed.isna() & text.notna()
        if retry.any():
            parsed.loc[retry] = pd.to_datetime(
                text[retry], errors="coerce", format="mixed", utc=True
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def to_numbers(values: pd.Series) -> pd.Series:
    """Parse numbers, tolerating thousands separators and currency marks (``¥1,234.50``)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = as_text(values).str.replace(_MONEY_NOISE, "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def fold_categories(values: pd.Series) -> pd.Series:
    """Trim labels and fold case variants (``Email``/``EMAIL``) onto the most common spelling.

    Ties between spellings go to the alphabetically first, so the result is deterministic.
    """
    text = as_text(values)
    counts = text.value_counts()
    if counts.empty:
        return text
    ranked = pd.DataFrame({"text": counts.index.astype(str), "n": counts.to_numpy()})
    ranked["key"] = ranked["text"].str.casefold()
    ranked = ranked.sort_values(["key", "n", "text"], ascending=[True, False, True])
    canonical = ranked.drop_duplicates("key").set_index("key")["text"]
    spelling = dict(zip(ranked["text"], ranked["key"].map(canonical), strict=True))
    return _per_unique(text, lambda u: u.map(spelling))


def clean_table(
    raw: pd.DataFrame,
    spec: TableSpec,
    *,
    log: QualityLog,
    where: str,
    line_offset: int = 2,
) -> pd.DataFrame:
    """Apply the contract's rules to one table; return it with canonical dtypes.

    Parameters
    ----------
    raw
        The table as read, columns already renamed onto the contract.
    spec
        The table's contract.
    log
        Receives one entry per rule that touched rows.
    where
        The file or source name, for messages.
    line_offset
        Added to a row's position to give the line a person sees in the file (2 for a file
        with a header line).

    Raises
    ------
    DataError
        A required column is missing, or a required date column holds values that are not
        dates.
    """
    missing = [c for c in spec.required_columns if c not in raw.columns]
    if missing:
        raise DataError(
            f"{where}: the {spec.name} table is missing required column(s) {missing}. "
            f"Expected columns {spec.required_columns}; found {list(raw.columns)}. "
            "Rename them in the file or map them with `column_map` in the unit's parameters."
        )
    table = raw.reset_index(drop=True)
    name = spec.name

    duplicated = table.duplicated()
    log.add(
        name,
        "exact duplicate row",
        "dropped",
        duplicated.sum(),
        ids_of(table, spec, table.index[duplicated]),
    )
    table = table.loc[~duplicated]

    unusable = pd.Series(False, index=table.index)
    for column in table.columns:
        col = spec.column(column)
        if col is None:
            continue
        table[column], drop = _convert(
            table, column, col, spec, log=log, where=where, line_offset=line_offset
        )
        unusable |= drop
    table = table.loc[~unusable]

    for column in spec.required_columns:
        blank = table[column].isna()
        log.add(
            name,
            f"missing required value in '{column}'",
            "dropped",
            blank.sum(),
            ids_of(table, spec, table.index[blank]),
        )
        table = table.loc[~blank]

    for column in spec.columns:
        if column.values and column.name in table.columns:
            values = table[column.name].str.lower()
            unknown = values.notna() & ~values.isin(column.values)
            log.add(
                name,
                f"'{column.name}' not one of {list(column.values)}",
                "dropped",
                unknown.sum(),
                ids_of(table, spec, table.index[unknown]),
                detail="values seen: "
                + _examples(table.loc[unknown, column.name].drop_duplicates()),
            )
            table = table.loc[~unknown]
            table[column.name] = values.loc[table.index]

    if spec.key:
        conflicting = table.duplicated(spec.key, keep="first")
        log.add(
            name,
            f"duplicate '{spec.key}' with different content (first kept)",
            "dropped",
            conflicting.sum(),
            table.loc[conflicting, spec.key],
        )
        table = table.loc[~conflicting]
    return table


def _convert(
    table: pd.DataFrame,
    column: str,
    col: Column,
    spec: TableSpec,
    *,
    log: QualityLog,
    where: str,
    line_offset: int,
) -> tuple[pd.Series, pd.Series]:
    """One column converted to its contract dtype, with its repairs logged.

    Returns the converted values and a mask of rows this column makes unusable (a required
    number that does not parse, or a negative required amount); those rows are logged here.
    """
    values = table[column]
    name = spec.name
    keep_all = pd.Series(False, index=values.index)
    typed = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
    text = (
        values if typed and col.kind in ("date", "number", "amount", "score") else as_text(values)
    )

    def log_rows(rule: str, action: str, mask: pd.Series, detail: str = "") -> None:
        log.add(name, rule, action, mask.sum(), ids_of(table, spec, table.index[mask]), detail)

    if col.kind in ("id", "text"):
        return text, keep_all
    if col.kind == "category":
        folded = fold_categories(text)
        raw_text = values.astype("string")
        changed = folded.notna() & (raw_text != folded).fillna(True)
        log_rows(
            f"whitespace or letter case normalised in '{column}'",
            "repaired",
            changed,
            f"e.g. {_examples(raw_text[changed].drop_duplicates(), 3)}",
        )
        return folded, keep_all
    if col.kind == "date":
        parsed = to_datetimes(text)
        bad = parsed.isna() & text.notna()
        if bad.any() and col.required:
            raise DataError(
                f"{where}: column '{column}' of {name} has {bad.sum()} value(s) that are not "
                f"dates, on line(s) {_lines(table.index[bad], line_offset)}: "
                f"{_examples(values[bad])}. Expected dates like 2026-09-30 or "
                "2026-09-30 14:05:00."
            )
        log_rows(f"'{column}' not a date (set missing)", "repaired", bad, _examples(values[bad], 3))
        return parsed, keep_all
    if col.kind == "bool":
        text = text.str.lower()
        parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
        parsed[text.isin(_TRUE).fillna(False)] = True
        parsed[text.isin(_FALSE).fillna(False)] = False
        bad = parsed.isna() & text.notna()
        log_rows(
            f"'{column}' not true/false (set missing)", "repaired", bad, _examples(values[bad], 3)
        )
        return parsed, keep_all

    # number, amount, score
    parsed = to_numbers(text)
    bad = parsed.isna() & text.notna()
    drop = keep_all.copy()
    if col.required:
        log_rows(
            f"'{column}' does not parse as a number", "dropped", bad, _examples(values[bad], 3)
        )
        drop |= bad
    else:
        log_rows(
            f"'{column}' does not parse as a number (set missing)",
            "repaired",
            bad,
            _examples(values[bad], 3),
        )
    if col.kind == "amount":
        negative = (parsed < 0).fillna(False)
        if col.required:
            log_rows(f"negative '{column}'", "dropped", negative)
            drop |= negative
        else:
            log_rows(f"negative '{column}' (set missing)", "repaired", negative)
            parsed = parsed.mask(negative)
    if col.kind == "score":
        out = ((parsed < col.low) | (parsed > col.high)).fillna(False)
        log_rows(
            f"'{column}' outside {col.low:g}-{col.high:g} (set missing)",
            "repaired",
            out,
            _examples(parsed[out].drop_duplicates(), 3),
        )
        parsed = parsed.mask(out)
    return parsed, drop


# ----------------------------------------------------------------------------- the unit's rows


def rename_columns(frame: pd.DataFrame, table: str, column_map: Mapping[str, Any]) -> pd.DataFrame:
    """Column names onto the contract: the unit's ``column_map`` (flat entries for every
    table, ``{table: {...}}`` entries for one), else trimmed, lower case, spaces as ``_``."""
    flat = {k: v for k, v in column_map.items() if not isinstance(v, Mapping)}
    lookup = {
        str(k).strip().casefold(): v for k, v in {**flat, **(column_map.get(table) or {})}.items()
    }
    renamed = {
        column: lookup.get(
            str(column).strip().casefold(), str(column).strip().lower().replace(" ", "_")
        )
        for column in frame.columns
    }
    return frame.rename(columns=renamed)


def remove_personal_data(frame: pd.DataFrame, pii: set[str]) -> tuple[pd.DataFrame, list[str]]:
    """The frame without its personal-data columns, and the names removed."""
    removed = [c for c in frame.columns if c in pii]
    return (frame.drop(columns=removed) if removed else frame), removed


def keep_unit_rows(frame: pd.DataFrame, table: str, unit: str, log: QualityLog) -> pd.DataFrame:
    """In a table with a ``business_unit`` column, the rows of ``unit`` (case-insensitive);
    rows with a blank unit belong to none and are dropped."""
    if "business_unit" not in frame.columns:
        return frame
    units = as_text(frame["business_unit"]).str.casefold()
    blank = units.isna()
    log.add(table, "business_unit blank (row belongs to no unit)", "dropped", int(blank.sum()))
    return frame.loc[units.eq(unit.casefold()).fillna(False)]


def owner_of(frame: pd.DataFrame, key: str) -> dict[str, str]:
    """Which unit each id belongs to, from a table with a ``business_unit`` column."""
    if key not in frame.columns or "business_unit" not in frame.columns:
        return {}
    units = as_text(frame["business_unit"]).str.casefold()
    return dict(zip(as_text(frame[key]), units, strict=True))


def rows_of_unit(frame: pd.DataFrame, unit: str, owners: dict[str, dict[str, str]]) -> pd.DataFrame:
    """In a table without a unit column, a row belongs to the unit of its customer (or
    opportunity). Ids of no unit stay, to be counted as orphans."""
    if "business_unit" in frame.columns:
        return frame
    for key, owner in owners.items():
        if key in frame.columns and owner:
            belongs = as_text(frame[key]).map(owner).fillna(unit.casefold())
            return frame.loc[belongs.eq(unit.casefold()).to_numpy()]
    return frame


def cut_after(
    tables: Mapping[str, pd.DataFrame], day: date, log: QualityLog, *, as_of: bool
) -> dict[str, pd.DataFrame]:
    """The tables without rows dated after ``day``, later secondary dates (closed_at ...)
    blanked. The input tables are not changed.

    With ``as_of`` the day is "today": later dates are impossible, so rows are *dropped* and
    secondary dates *repaired*. Otherwise the day is the period end: later rows are valid but
    not yet known, so they are *excluded*, and an opportunity closed later counts as open.
    """
    limit = day_after(day)
    action, other_action = ("dropped", "repaired") if as_of else ("excluded", "excluded")
    cut: dict[str, pd.DataFrame] = {}
    for name, table in tables.items():
        spec = TABLES[name]
        after = table[spec.date] >= limit
        rule = (
            f"'{spec.date}' after today ({day}): impossible date"
            if as_of
            else ("dated after the period end")
        )
        log.add(name, rule, action, int(after.sum()), ids_of(table, spec, table.index[after]))
        table = table.loc[~after].copy()
        for column in (c.name for c in spec.columns if c.kind == "date"):
            if column == spec.date or column not in table.columns:
                continue
            later = table[column] >= limit
            rule = (
                f"'{column}' after today ({day}) (set missing)"
                if as_of
                else f"'{column}' after the period end (treated as still open at the period end)"
            )
            log.add(
                name, rule, other_action, int(later.sum()), ids_of(table, spec, table.index[later])
            )
            table[column] = table[column].mask(later)
            if not as_of and name == "opportunities" and column == "closed_at":
                table.loc[later, "outcome"] = "open"
        cut[name] = table
    return cut


def drop_orphans(tables: Mapping[str, pd.DataFrame], log: QualityLog) -> dict[str, pd.DataFrame]:
    """The tables without rows whose customer (or opportunity) is not the unit's; the input
    tables are not changed."""
    kept = dict(tables)
    parents = [(name, "customer_id", "customers") for name in CUSTOMER_KEYED]
    parents.append(("stage_history", "opportunity_id", "opportunities"))
    for name, key, parent in parents:
        if name not in kept:
            continue
        table = kept[name]
        known = set(kept[parent][key]) if parent in kept else set()
        orphan = ~table[key].isin(known)
        log.add(
            name,
            f"orphan {key} (not among the unit's {parent})",
            "dropped",
            int(orphan.sum()),
            table.loc[orphan, key],
        )
        kept[name] = table.loc[~orphan]
    return kept
