"""The repair and drop rules applied to each table as it is loaded.

One documented rule per defect (``docs/data_contract.md`` lists them); every rule that touches
a row records it in the :class:`~crmkit.load.log.QualityLog`. Defects that make a table unusable
raise :class:`~crmkit.core.errors.DataError` instead.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from crmkit.core.errors import DataError
from crmkit.core.schema import Column, TableSpec
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
