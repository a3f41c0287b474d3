"""The repair and drop rules applied to each table as it is loaded.

One documented rule per defect (``docs/data_contract.md`` lists them); every rule that touches
a row records it in the :class:`~crmkit.load.log.QualityLog`. Defects that make a table unusable
raise :class:`~crmkit.core.errors.DataError` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import DataError
from crmkit.core.periods import day_after
from crmkit.core.privacy import quoted
from crmkit.core.schema import TABLES, Column, TableSpec
from crmkit.load.log import QualityLog
from crmkit.load.lookups import repeated
from crmkit.load.values import (
    IdReading,
    TableReadings,
    as_text,
    day_month_rows,
    decide_table,
    read_ids,
    separator_rows,
    to_datetimes,
    to_numbers,
)

_TRUE = {"true", "t", "yes", "y", "1", "1.0", "是", "真"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "否", "假"}
AMOUNT_LIMIT = 1000
"""An amount above this many times the median is implausible (see :func:`implausible_amounts`)."""
DURATIONS = {
    "opportunities": (("closed_at", "created_at"),),
    "tickets": (("first_response_at", "opened_at"), ("resolved_at", "opened_at")),
}
"""Dates that cannot come before another date of the same row: (later, earlier)."""


def _examples(values: pd.Series, n: int = 5) -> str:
    return quoted(values.head(n).tolist(), n)


def _lines(index: pd.Index, line_offset: int, n: int = 5) -> str:
    shown = ", ".join(str(i + line_offset) for i in index[:n])
    more = f" and {len(index) - n} more" if len(index) > n else ""
    return f"{shown}{more}"


def without(table: pd.DataFrame, drop: pd.Series | np.ndarray) -> pd.DataFrame:
    """``table`` without the rows marked in ``drop``: a new frame sharing the columns when
    nothing is dropped (copy-on-write keeps the input unchanged when columns are set later),
    so the usual case of a clean table copies no rows."""
    drop = np.asarray(drop, dtype=bool)
    return table.loc[~drop] if drop.any() else table.copy(deep=False)


def ids_of(table: pd.DataFrame, spec: TableSpec, index: pd.Index | None = None) -> pd.Series:
    """The identifying values of rows (their key, else their customer or opportunity id)."""
    for column in (spec.key, "customer_id", "opportunity_id"):
        if column and column in table.columns:
            values = table[column]
            if index is None:
                return values
            # the log keeps the first five distinct ids: those of the first thousand rows
            # unless they hold fewer (looking up a million labels costs seconds)
            first = values.loc[index[:1000]]
            return first if len(index) <= 1000 or first.nunique() >= 5 else values.loc[index]
    positions = table.index if index is None else index
    return pd.Series([f"row {i}" for i in positions])


def fold_categories(values: pd.Series) -> tuple[pd.Series, np.ndarray, pd.Series]:
    """Trim labels and fold case variants (``Email``/``EMAIL``) onto the most common spelling.

    Ties between spellings go to the alphabetically first, so the result is deterministic.
    Returns the folded labels as a pandas categorical of text categories in sorted order (a
    small integer code per row instead of a string: ten million orders' channel take 10 MB,
    not 130 MB), which rows changed (whitespace or case), and the distinct raw labels that
    changed, in order of appearance. Worked out on the distinct labels and spread to the rows
    by their codes: one pass over a ten-million-row column.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not len(uniques):
        empty = pd.Categorical.from_codes(
            np.full(len(values), -1), categories=pd.Index([], dtype="str")
        )
        return (
            pd.Series(empty, index=values.index, name=values.name),
            np.zeros(len(values), dtype=bool),
            pd.Series([], dtype="string"),
        )
    distinct = pd.Series(uniques)
    text = as_text(distinct)
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    counts = pd.Series(rows).groupby(text.to_numpy(dtype=object, na_value=None)).sum()
    ranked = pd.DataFrame({"text": counts.index.astype(str), "n": counts.to_numpy()})
    ranked["key"] = ranked["text"].str.casefold()
    ranked = ranked.sort_values(["key", "n", "text"], ascending=[True, False, True])
    canonical = ranked.drop_duplicates("key").set_index("key")["text"]
    spelling = dict(zip(ranked["text"], ranked["key"].map(canonical), strict=True))
    folded = text.map(spelling).astype("string")
    raw = distinct.astype("string")
    changed = (folded.notna() & (raw != folded).fillna(True)).to_numpy(dtype=bool)
    label_codes, categories = pd.factorize(folded, sort=True, use_na_sentinel=True)
    present, distinct_of_row = codes >= 0, np.maximum(codes, 0)
    row_codes = np.where(present, label_codes[distinct_of_row], -1)
    labels = pd.Categorical.from_codes(row_codes, categories=pd.Index(categories, dtype="str"))
    row_changed = np.where(present, changed[distinct_of_row], False)
    return pd.Series(labels, index=values.index, name=values.name), row_changed, raw[changed]


def exact_duplicates(table: pd.DataFrame, spec: TableSpec) -> pd.Series:
    """Rows equal in every column to an earlier row (pandas' ``duplicated()``, first kept).

    Two equal rows hold the same id, so only rows whose id (key, else customer or
    opportunity id) occurs more than once are compared column by column: on ten million
    orders that is a few rows instead of all of them.
    """
    column = next(
        (c for c in (spec.key, "customer_id", "opportunity_id") if c and c in table.columns),
        None,
    )
    if column is None or table.empty:
        return table.duplicated()
    candidates = repeated(table[column])
    duplicated = np.zeros(len(table), dtype=bool)
    if candidates.any():
        duplicated[candidates] = table.loc[candidates].duplicated().to_numpy()
    return pd.Series(duplicated, index=table.index)


def clean_table(
    raw: pd.DataFrame,
    spec: TableSpec,
    *,
    log: QualityLog,
    where: str,
    line_offset: int = 2,
    readings: TableReadings | None = None,
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
    readings
        How to read dates, numbers and ids, decided on the whole file
        (:func:`crmkit.load.values.decide_table`); decided on ``raw`` when not given.

    Raises
    ------
    DataError
        A required column is missing, a required date column holds values that are not
        dates, or the dates or numbers of a column cannot be read one way.
    """
    missing = [c for c in spec.required_columns if c not in raw.columns]
    if missing:
        raise DataError(
            f"{where}: the {spec.name} table is missing required column(s) {missing}. "
            f"Expected columns {spec.required_columns}; found {list(raw.columns)}. "
            "Rename them in the file or map them with `column_map` in the unit's parameters."
        )
    if readings is None:
        readings = decide_table(raw, spec, where=where)
    # Rows keep their position in the file (the readers number them from 0), so messages
    # name the lines of the file, not of the unit's rows.
    positional = raw.index.is_unique and pd.api.types.is_integer_dtype(raw.index)
    table = raw if positional else raw.reset_index(drop=True)
    name = spec.name

    duplicated = exact_duplicates(table, spec)
    log.add(
        name,
        "exact duplicate row",
        "dropped",
        duplicated.sum(),
        ids_of(table, spec, table.index[duplicated]),
    )
    table = without(table, duplicated)

    unusable = pd.Series(False, index=table.index)
    for column in table.columns:
        col = spec.column(column)
        if col is None:
            continue
        table[column], drop = _convert(
            table,
            column,
            col,
            spec,
            log=log,
            where=where,
            line_offset=line_offset,
            readings=readings,
        )
        unusable |= drop
    table = without(table, unusable)

    for column in spec.required_columns:
        blank = table[column].isna()
        log.add(
            name,
            f"missing required value in '{column}'",
            "dropped",
            blank.sum(),
            ids_of(table, spec, table.index[blank]),
        )
        table = without(table, blank)

    for column in spec.columns:
        if column.values and column.name in table.columns:
            values = table[column.name].str.lower()
            if column.synonyms:
                named = values.map(dict(column.synonyms))
                log.add(
                    name,
                    f"'{column.name}' named in other words, read as one of {list(column.values)}",
                    "repaired",
                    named.notna().sum(),
                    ids_of(table, spec, table.index[named.notna()]),
                    detail="values read: "
                    + _examples(table.loc[named.notna(), column.name].drop_duplicates()),
                )
                values = named.fillna(values)
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
            table = without(table, unknown)
            table[column.name] = values if len(values) == len(table) else values.loc[table.index]

    if spec.key:
        conflicting = pd.Series(False, index=table.index)
        again = repeated(table[spec.key])
        conflicting[again] = table.loc[again, spec.key].duplicated(keep="first").to_numpy()
        log.add(
            name,
            f"duplicate '{spec.key}' with different content (first kept)",
            "dropped",
            conflicting.sum(),
            table.loc[conflicting, spec.key],
        )
        table = without(table, conflicting)
    table = implausible_amounts(table, spec, log)
    return negative_durations(table, spec, log)


def implausible_amounts(table: pd.DataFrame, spec: TableSpec, log: QualityLog) -> pd.DataFrame:
    """Without amounts above :data:`AMOUNT_LIMIT` times the table's median (of the unit's
    rows): an order is dropped, an opportunity's amount set missing. Such a value is a typing
    or export error far more often than a sale (an id or phone number in the amount column,
    ``1e12``), and one of them would outweigh every other order in revenue, CLV and value
    tiers. The input table is not changed."""
    if spec.name not in ("transactions", "opportunities") or "amount" not in table.columns:
        return table
    amounts = table["amount"]
    median = amounts.median()
    if not (median > 0):
        return table
    high = (amounts > AMOUNT_LIMIT * median).fillna(False)
    if not high.any():
        return table
    detail = f"median {median:,.2f}; e.g. {_examples(amounts[high].drop_duplicates(), 3)}"
    ids = ids_of(table, spec, table.index[high])
    if spec.name == "transactions":
        rule = f"'amount' above {AMOUNT_LIMIT:,}× the unit's median order"
        log.add(spec.name, rule, "dropped", int(high.sum()), ids, detail)
        return table.loc[~high]
    rule = f"'amount' above {AMOUNT_LIMIT:,}× the unit's median opportunity (set missing)"
    log.add(spec.name, rule, "repaired", int(high.sum()), ids, detail)
    table = table.copy()
    table["amount"] = amounts.mask(high)
    return table


def _date_only(values: pd.Series) -> bool:
    present = values.dropna()
    return bool((present == present.dt.normalize()).all())


def negative_durations(table: pd.DataFrame, spec: TableSpec, log: QualityLog) -> pd.DataFrame:
    """Dates before the date they follow (:data:`DURATIONS`: closed before created, answered or
    resolved before opened) set missing; the row and its outcome stay (a won deal stays won,
    without a close date). Compared by day where either column holds dates without a time.
    The input table is not changed."""
    pairs = [
        (later, earlier)
        for later, earlier in DURATIONS.get(spec.name, ())
        if later in table.columns and earlier in table.columns
    ]
    if not pairs:
        return table
    table = table.copy()
    for later, earlier in pairs:
        end, start = table[later], table[earlier]
        if _date_only(end) or _date_only(start):
            end, start = end.dt.normalize(), start.dt.normalize()
        before = (end < start).fillna(False)
        detail = ""
        if "outcome" in table.columns and before.any():
            won = int((table.loc[before, "outcome"] == "won").sum())
            detail = f"{won} of them won: they stay won, without a close date" if won else ""
        log.add(
            spec.name,
            f"'{later}' before '{earlier}' (set missing)",
            "repaired",
            int(before.sum()),
            ids_of(table, spec, table.index[before]),
            detail,
        )
        table[later] = table[later].mask(before)
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
    readings: TableReadings,
) -> tuple[pd.Series, pd.Series]:
    """One column converted to its contract dtype, with its repairs logged.

    Returns the converted values and a mask of rows this column makes unusable (a required
    number that does not parse, or a negative required amount); those rows are logged here.
    """
    values = table[column]
    name = spec.name
    keep_all = pd.Series(False, index=values.index)

    def log_rows(rule: str, action: str, mask: pd.Series, detail: str = "") -> None:
        log.add(name, rule, action, mask.sum(), ids_of(table, spec, table.index[mask]), detail)

    if col.kind == "category":
        folded, changed, spellings = fold_categories(values)
        log_rows(
            f"whitespace or letter case normalised in '{column}'",
            "repaired",
            changed,
            f"e.g. {_examples(spellings, 3)}",
        )
        return folded, keep_all
    typed = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
    text = (
        values if typed and col.kind in ("date", "number", "amount", "score") else as_text(values)
    )

    if col.kind == "text":
        return text, keep_all
    if col.kind == "id":
        reading = readings.ids.get(column, IdReading())
        ids = read_ids(text, reading) if reading.fraction or reading.zeros else text
        changed = (ids != text).fillna(False)
        if reading.fraction:
            log_rows(
                f"'{column}' written as numbers ('1001.0' read as '1001')",
                "noted",
                changed & text.str.contains(".", regex=False).fillna(False),
                f"e.g. {_examples(text[changed].drop_duplicates(), 3)}",
            )
        if reading.zeros:
            log_rows(
                f"leading zeros dropped from '{column}' ('001000' read as '1000')",
                "noted",
                changed & text.str.match(r"0+\d").fillna(False),
                "another table writes these ids without leading zeros; every table is read "
                f"the same way; e.g. {_examples(text[changed].drop_duplicates(), 3)}",
            )
        return ids, keep_all
    if col.kind == "date":
        return _convert_date(
            values,
            text,
            column=column,
            col=col,
            spec=spec,
            where=where,
            line_offset=line_offset,
            reading=readings.dates.get(column),
            log_rows=log_rows,
        )
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
    reading = readings.numbers.get(column)
    parsed = to_numbers(text, reading)
    if reading is not None and not typed:
        _note_decimal(column, reading, text, log_rows)
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
        # A score is one answer on a rating scale: 6.5 is no NPS group (nor a CSAT rating).
        for rule, wrong in (
            (f"outside {col.low:g}-{col.high:g}", lambda v: (v < col.low) | (v > col.high)),
            ("not a whole number", lambda v: v % 1 != 0),
        ):
            bad_score = (parsed.notna() & wrong(parsed)).fillna(False)
            examples = _examples(parsed[bad_score].drop_duplicates(), 3)
            log_rows(f"'{column}' {rule} (set missing)", "repaired", bad_score, examples)
            parsed = parsed.mask(bad_score)
    return parsed, drop


_DECIDED_BY = {
    "values": "decided from values like {evidence}",
    "file": "its values fit both readings; read like '{like}' in the same file",
    "month": "a column of months: the number that is the same in every value is the day "
    "(e.g. {evidence})",
    "delimiter": "its values fit both readings; the file is ';'-separated, as Excel writes "
    "where the comma is the decimal mark",
    "parameter": "as set by the {parameter} parameter",
    "default": "values like {evidence} fit both readings and none in the column tells "
    "which; set `decimal: ','` if the comma is the decimal mark there",
}


def _decided_by(how: str, *, evidence, like: str, parameter: str) -> str:
    shown = quoted(evidence, len(evidence))
    return _DECIDED_BY[how].format(evidence=shown, like=like, parameter=parameter)


def _note_decimal(column: str, reading, text: pd.Series, log_rows) -> None:
    """Log the decimal mark a column was read with, where it was not the plain reading: the
    rows with a mark when it is the decimal comma, else those that fit both (``1,234``)."""
    if reading.decimal == ",":
        rule = f"'{column}' read with a decimal comma (1.234,50 = 1234.5)"
    elif reading.how in ("file", "default"):
        rule = f"'{column}' read with a decimal point (1,234.50 = 1234.5)"
    else:
        return
    detail = _decided_by(
        reading.how, evidence=reading.evidence, like=reading.like, parameter="decimal"
    )
    log_rows(rule, "noted", separator_rows(text, reading), detail)


_ORDER_WORDS = {
    "dayfirst": "day-first (day before month)",
    "monthfirst": "month-first (month before day)",
}


def _convert_date(
    values: pd.Series,
    text: pd.Series,
    *,
    column: str,
    col: Column,
    spec: TableSpec,
    where: str,
    line_offset: int,
    reading,
    log_rows,
) -> tuple[pd.Series, pd.Series]:
    """A date column parsed by its reading; the reading and the dates that fail logged."""
    parsed = to_datetimes(text, reading)
    bad = parsed.isna() & text.notna()
    read_as = ""
    if reading is not None and reading.format:
        read_as = f"read with date_format {reading.format!r}"
    elif reading is not None and reading.order:
        read_as = f"read {_ORDER_WORDS[reading.order]}"
    rule = f"'{column}' {read_as}"
    if bad.any() and col.required:
        how = f"; dates written with numbers are {read_as}" if read_as else ""
        raise DataError(
            f"{where}: column '{column}' of {spec.name} has {bad.sum()} value(s) that are not "
            f"dates, on line(s) {_lines(bad.index[bad.to_numpy()], line_offset)}: "
            f"{_examples(values[bad])}. Expected dates like 2026-09-30, 2026-09-30 14:05:00 "
            f"or 30.09.2026{how}."
        )
    if read_as and reading.how:
        if reading.format:
            iso = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
            rows = parsed.notna() & iso.isna()
        else:
            rows = day_month_rows(text) & parsed.notna()
        detail = _decided_by(
            reading.how, evidence=reading.evidence, like=reading.like, parameter="date_format"
        )
        log_rows(rule, "noted", rows, detail)
    log_rows(f"'{column}' not a date (set missing)", "repaired", bad, _examples(values[bad], 3))
    return parsed, pd.Series(False, index=values.index)


# ----------------------------------------------------------------------------- the unit's rows


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
        table = without(table, after)
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
