"""Reading values as the user meant them: text, ids, dates and numbers.

Spellings that a machine cannot read alone are decided once per column of a file, from its
distinct values (every unit's rows: two units in one file are read alike), or set by a
parameter; :mod:`crmkit.load.rules` applies the decision and logs it.

Dates
    ISO dates (``2026-09-30``, ``2026/09/30``, with a time or a zone) need no decision.
    ``30.09.2026``, ``30/09/2026``, ``09/30/2026`` (day, month and year as numbers) are read
    day-first or month-first: a value with a first number above 12 proves day-first, a second
    number above 12 month-first. A column with neither proof takes the order another date
    column of the same file proved; a column of months (``costs.month``) reads the number
    that is the same in every value as the day; failing that it is refused, naming the fix: the
    ``date_format`` parameter (``dayfirst``, ``monthfirst`` or a format such as ``%d.%m.%Y``).
    Named months (``30 Sep 2026``) read as written.
Numbers
    The decimal mark is ``.`` or ``,``; the other mark, where used, groups thousands by
    three. A value that reads only one way shows the column's mark: ``369,97``, ``1.234,50``
    and ``1.234.567`` a comma, ``10.5``, ``1,234.50`` and ``1,234,567`` a point. ``1,234`` and
    ``1.234`` fit both; a column of only such values (and plain numbers) takes the mark another
    number column of the file shows, else the decimal comma in a ``;``-separated file (what
    Excel writes where the comma is the decimal mark), else the decimal point. The ``decimal``
    parameter sets it. A column showing both marks is refused. Spaces, apostrophes and
    currency marks (``¥``, ``$``, ``€``, ``元``, ``USD`` ...) are ignored.
Ids
    Ids are text. Numbers become whole-number text (``1001.0`` → ``"1001"``), for typed columns
    (Excel, Parquet, SQL) and for a text column whose every value is written so. Leading
    zeros: see :func:`leading_zero_keys`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmkit.core.errors import DataError, ParameterError
from crmkit.core.privacy import quoted
from crmkit.core.schema import TABLES, TableSpec
from crmkit.load.lookups import is_arrow_text, is_in
from crmkit.load.threads import in_order
from crmkit.load.zones import iso_local_times, local_times, without_zone

NA_STRINGS = {"", "na", "n/a", "nan", "null", "none", "nat", "#n/a", "-"}
ORDERS = ("dayfirst", "monthfirst")
DECIMALS = (".", ",")

_DMY = (
    r"^(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?P<rest>(?:[ T].*)?)$"
)
_NOISE = re.compile(r"[\s'’¥￥$€£元]|RMB|CNY|USD|EUR", re.IGNORECASE)
_YEAR_MONTH_DAY = re.compile(
    r"^\s*(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]\s*(?P<rest>.*)$"
)
"""A date as Chinese spreadsheets write it, each part labelled: 2026年7月3日 (14:05)."""
_VALID = {
    ".": r"[+-]?(?:\d+|[1-9]\d{0,2}(?:,\d{3})+)?(?:\.\d*)?(?:[eE][+-]?\d+)?",
    ",": r"[+-]?(?:\d+|[1-9]\d{0,2}(?:\.\d{3})+)?(?:,\d*)?(?:[eE][+-]?\d+)?",
}
_NUMBER_KINDS = ("number", "amount", "score")


# ----------------------------------------------------------------------------- text


def per_unique(values: pd.Series, transform) -> pd.Series:
    """Apply a string transform to the distinct values only, then spread it back."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not len(uniques):  # nothing but missing values
        return pd.Series(pd.NA, index=values.index, name=values.name, dtype="string")
    return spread(transform(pd.Series(uniques, dtype=object)), codes, like=values)


def spread(distinct: pd.Series, codes: np.ndarray, *, like: pd.Series) -> pd.Series:
    """Texts given once per distinct value (``distinct``, by code) spread to the rows by
    their ``codes`` (−1: missing), with ``like``'s index and name.

    Built in Arrow (``take`` of the distinct texts by each row's code): building it from a
    column of Python strings cost more than the transform on a million-row column.
    """
    texts = distinct.astype("string").to_numpy(dtype=object, na_value=None)
    taken = pc.take(pa.array(texts, type=pa.large_string()), pa.array(codes, mask=codes < 0))
    return pd.Series(
        pd.arrays.ArrowStringArray(pa.chunked_array([taken])), index=like.index, name=like.name
    )


_LONGEST_NA = max(map(len, NA_STRINGS))


def _strip_blank(text: pd.Series) -> pd.Series:
    text = text.astype("string").str.strip()
    # only short texts can be an NA spelling: lower-casing just those spares a pass over
    # every long id of a million-row column
    # bytes, not characters: an NA spelling is ASCII, and Arrow counts bytes without decoding
    if is_arrow_text(text):
        fits = pc.less_equal(pc.binary_length(text.array._pa_array), _LONGEST_NA)
        short = np.asarray(pc.fill_null(fits, False).to_numpy(), dtype=bool)
    else:
        short = (text.str.len() <= _LONGEST_NA).fillna(False).to_numpy(dtype=bool)
    blank = np.zeros(len(text), dtype=bool)
    if short.any():
        blank[short] = text[short].str.lower().isin(NA_STRINGS).to_numpy(dtype=bool)
    return text.mask(blank)


def as_text(values: pd.Series) -> pd.Series:
    """Values as stripped strings, with blanks and NA spellings as missing."""
    if pd.api.types.is_float_dtype(values):
        # Ids read as floats (Excel, SQL): 1001.0 is the id "1001".
        present = values.dropna()
        if (present == np.floor(present)).all():
            return per_unique(values, lambda u: _strip_blank(u.map(lambda v: str(int(v)))))
    if is_arrow_text(values):
        # Arrow trims and compares a whole column faster than it finds its distinct values
        # (ten million order ids: 0.7 s against 6 s); the result is the same.
        return _strip_blank(values)
    return per_unique(values, _strip_blank)


def _distinct(values: pd.Series) -> pd.Series:
    """The distinct values of a column, as a (short) column of the same kind."""
    return pd.Series(pd.unique(values), dtype=values.dtype, name=values.name)


def _uniques(values: pd.Series) -> pd.Series:
    """The distinct non-missing texts of a column (the column's distinct values are found
    first: on a million rows that is far cheaper than making every row text)."""
    return pd.Series(pd.unique(as_text(_distinct(values)).dropna()), dtype=object).astype(str)


def _shown(values, n: int = 3) -> str:
    return quoted(values, n)


# ----------------------------------------------------------------------------- parameters


def check_setting(setting: Any, *, name: str) -> None:
    """Raise :class:`ParameterError` unless ``setting`` is a valid ``date_format`` or
    ``decimal``: one value for every column, or a mapping by table, ``table.column``, or
    table then column."""
    allowed = (
        "'.' or ','" if name == "decimal" else "dayfirst, monthfirst or a format like '%d.%m.%Y'"
    )
    example = (
        "decimal: ','  or  decimal: {transactions: {amount: ','}}"
        if name == "decimal"
        else "date_format: dayfirst  or  date_format: {transactions: {order_date: '%d.%m.%Y'}}"
    )

    def check_value(value: Any, where: str) -> None:
        text = str(value).strip() if isinstance(value, str) else None
        ok = text is not None and (
            text in DECIMALS if name == "decimal" else (text in ORDERS or "%" in text)
        )
        if text == "" or not ok:
            raise ParameterError(
                f"Parameter {where} must be {allowed}; got {value!r}. Example: {example}."
            )

    if setting in (None, ""):
        return
    if not isinstance(setting, Mapping):
        check_value(setting, name)
        return
    for key, value in setting.items():
        table, _, column = str(key).partition(".")
        spec = TABLES.get(table)
        if spec is None:
            raise ParameterError(
                f"Parameter {name} has an entry for {key!r}, which is not a contract table; "
                f"tables are {list(TABLES)}. Example: {example}."
            )
        entries = {column: value} if column else value
        if not isinstance(entries, Mapping):
            check_value(entries, f"{name}.{table}")
            continue
        for column_name, column_value in entries.items():
            if spec.column(str(column_name)) is None:
                raise ParameterError(
                    f"Parameter {name}.{table} names column {column_name!r}, which is not a "
                    f"column of {table} in the contract. Example: {example}."
                )
            check_value(column_value, f"{name}.{table}.{column_name}")


def setting_for(setting: Any, *, table: str, column: str) -> str:
    """The value of a ``date_format`` or ``decimal`` setting for one column ('' if unset)."""
    if setting in (None, ""):
        return ""
    if not isinstance(setting, Mapping):
        return str(setting).strip()
    if f"{table}.{column}" in setting:
        return str(setting[f"{table}.{column}"]).strip()
    entry = setting.get(table)
    if isinstance(entry, Mapping):
        return str(entry.get(column, "") or "").strip()
    return str(entry or "").strip()


# ----------------------------------------------------------------------------- readings


@dataclass(frozen=True)
class DateReading:
    """How a column's day-month-year numbers are read: ``order`` is ``dayfirst`` or
    ``monthfirst`` ('' when no value needs one), ``how`` says what decided (``values``,
    ``month``: a column of months, ``file``: another column of the file, ``parameter``),
    ``format`` an explicit format."""

    order: str = ""
    how: str = ""
    format: str = ""
    evidence: tuple[str, ...] = ()
    like: str = ""  # the column of the same file whose order was taken


@dataclass(frozen=True)
class NumberReading:
    """A number column's decimal mark, and what decided it (``values``, ``file``,
    ``delimiter``, ``default``, ``parameter``; '' when nothing needed deciding)."""

    decimal: str = "."
    how: str = ""
    evidence: tuple[str, ...] = ()
    like: str = ""


@dataclass(frozen=True)
class IdReading:
    """Whether a column's ids lose a ``.0`` fraction and leading zeros."""

    fraction: bool = False
    zeros: bool = False


@dataclass
class TableReadings:
    """The readings of one table's columns, decided on the whole file."""

    dates: dict[str, DateReading] = field(default_factory=dict)
    numbers: dict[str, NumberReading] = field(default_factory=dict)
    ids: dict[str, IdReading] = field(default_factory=dict)


def _columns(frame: pd.DataFrame, spec: TableSpec, kinds: tuple[str, ...]) -> list[str]:
    return [
        c
        for c in frame.columns
        if (col := spec.column(c)) is not None
        and col.kind in kinds
        and not pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_datetime64_any_dtype(frame[c])
    ]


def decide_table(
    frame: pd.DataFrame,
    spec: TableSpec,
    *,
    where: str,
    date_format: Any = None,
    decimal: Any = None,
    delimiter: str = "",
) -> TableReadings:
    """How to read each date, number and id column of a table, decided on all its rows.

    Raises
    ------
    DataError
        A date column fits both day-first and month-first and nothing decides; a column mixes
        both date orders or both decimal marks.
    """
    return TableReadings(
        dates=_decide_dates(frame, spec, where=where, date_format=date_format),
        numbers=_decide_numbers(frame, spec, where=where, decimal=decimal, delimiter=delimiter),
        ids={
            c: IdReading(fraction=_written_as_numbers(frame[c]))
            for c in _columns(frame, spec, ("id",))
        },
    )


# ----------------------------------------------------------------------------- dates


def _day_month(texts: pd.Series) -> pd.DataFrame:
    """For texts written as day-month-year numbers: ``a`` and ``b`` (the first two numbers),
    ``y`` (four-digit year) and ``rest`` (a time); NaN elsewhere."""
    parts = texts.str.extract(_DMY)
    matched = parts["a"].notna()
    out = pd.DataFrame(index=texts.index)
    out["a"] = pd.to_numeric(parts["a"]).where(matched)
    out["b"] = pd.to_numeric(parts["b"]).where(matched)
    year = pd.to_numeric(parts["y"])
    # Two-digit years as Python's %y reads them: 00-68 are 20xx, 69-99 19xx.
    out["y"] = year.where(year >= 100, year + np.where(year < 69, 2000, 1900))
    out["rest"] = parts["rest"].fillna("")
    return out


def _not_iso(texts: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(texts, errors="coerce", format="ISO8601", utc=True)
    return texts[parsed.isna()]


def _evidence(texts: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Values proving day-first, proving month-first, and fitting both with day ≠ month."""
    parts = _day_month(texts)
    a, b = parts["a"], parts["b"]
    as_day_first = a.between(1, 31) & b.between(1, 12)
    as_month_first = a.between(1, 12) & b.between(1, 31)
    return (
        texts[as_day_first & ~as_month_first],
        texts[as_month_first & ~as_day_first],
        texts[as_day_first & as_month_first & (a != b)],
    )


def _order_of_months(texts: pd.Series) -> str:
    """For a column of months (``costs.month``): the order in which the number that is the
    same in every value is the day (``01.10.2023``, ``01.11.2023`` are months day-first)."""
    parts = _day_month(texts).dropna(subset=["a"])
    same_first = bool(len(parts)) and (parts["a"] == parts["a"].iloc[0]).all()
    same_second = bool(len(parts)) and (parts["b"] == parts["b"].iloc[0]).all()
    if same_first != same_second:
        return "dayfirst" if same_first else "monthfirst"
    return ""


def _decide_dates(
    frame: pd.DataFrame, spec: TableSpec, *, where: str, date_format: Any
) -> dict[str, DateReading]:
    readings: dict[str, DateReading] = {}
    undecided: dict[str, pd.Series] = {}
    for column in _columns(frame, spec, ("date",)):
        setting = setting_for(date_format, table=spec.name, column=column)
        if setting:
            order = setting if setting in ORDERS else ""
            readings[column] = DateReading(order, "parameter", "" if order else setting)
            continue
        texts = _not_iso(_uniques(frame[column]))
        day_first, month_first, both = _evidence(texts)
        if len(day_first) and len(month_first):
            raise DataError(
                f"{where}: column '{column}' of {spec.name} mixes day-first dates "
                f"({_shown(day_first)}) and month-first dates ({_shown(month_first)}); a "
                "column must use one order. Correct the file, or set the order with "
                f"`date_format: {{{spec.name}: {{{column}: dayfirst}}}}` (or monthfirst) in "
                "the unit's parameters; dates written the other way then count as not dates."
            )
        if len(day_first) or len(month_first):
            order = "dayfirst" if len(day_first) else "monthfirst"
            proof = day_first if len(day_first) else month_first
            readings[column] = DateReading(order, "values", evidence=tuple(proof.head(3)))
        elif len(both) and (order := _order_of_months(texts) if column == "month" else ""):
            readings[column] = DateReading(order, "month", evidence=tuple(both.head(3)))
        elif len(both):
            undecided[column] = both
    proven = {c: r.order for c, r in readings.items() if r.how == "values"}
    for column, both in undecided.items():
        if len(set(proven.values())) == 1:
            like, order = next(iter(proven.items()))
            readings[column] = DateReading(order, "file", like=like)
            continue
        example = both.iloc[0]
        parts = _day_month(both.head(1)).iloc[0]
        a, b, y = int(parts["a"]), int(parts["b"]), int(parts["y"])
        elsewhere = (
            f" Other date columns of this file read differently: {proven}." if proven else ""
        )
        raise DataError(
            f"{where}: the dates in column '{column}' of {spec.name} read both day-first and "
            f"month-first, and no value tells which: {example!r} is {date(y, b, a)} "
            f"day-first or {date(y, a, b)} month-first (also {_shown(both.iloc[1:])})."
            f"{elsewhere} Set `date_format` in the unit's parameters: `date_format: dayfirst`"
            " (or monthfirst, or a format such as '%d.%m.%Y') for every table, or per "
            f"column: `date_format: {{{spec.name}: {{{column}: dayfirst}}}}`."
        )
    return readings


def day_month_rows(values: pd.Series) -> pd.Series:
    """Which rows hold a date written as day-month-year numbers (``30.09.2026``)."""
    return as_text(values).str.fullmatch(_DMY).fillna(False).astype(bool)


def _parse_written(texts: pd.Series, reading: DateReading) -> pd.Series:
    """Distinct non-ISO texts parsed by ``reading`` (UTC); a date with its year, month and
    day labelled (2026年7月3日) needs no reading."""
    if reading.format:
        return pd.to_datetime(texts, format=reading.format, errors="coerce", utc=True)
    parsed = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns, UTC]")
    labelled = texts.str.extract(_YEAR_MONTH_DAY)
    named = labelled["y"].notna()
    if named.any():
        part = labelled[named]
        rest = part["rest"].where(part["rest"].eq(""), " " + part["rest"])
        iso = part["y"] + "-" + part["m"].str.zfill(2) + "-" + part["d"].str.zfill(2) + rest
        parsed[named] = pd.to_datetime(iso, errors="coerce", format="ISO8601", utc=True)
    parts = _day_month(texts)
    numeric = parts["a"].notna() & ~named
    if numeric.any():
        first, second = parts["a"][numeric], parts["b"][numeric]
        day, month = (second, first) if reading.order == "monthfirst" else (first, second)
        iso = (
            parts["y"][numeric].astype(int).astype(str).str.zfill(4)
            + "-"
            + month.astype(int).astype(str).str.zfill(2)
            + "-"
            + day.astype(int).astype(str).str.zfill(2)
            + parts["rest"][numeric]
        )
        got = pd.to_datetime(iso, errors="coerce", format="ISO8601", utc=True)
        timed = got.isna() & parts["rest"][numeric].ne("")
        if timed.any():  # 2026-09-30 2:05 PM: the date part is now year-first, unambiguous
            got[timed] = pd.to_datetime(iso[timed], errors="coerce", format="mixed", utc=True)
        parsed[numeric] = got
    other = ~numeric & ~named
    if other.any():
        parsed[other] = pd.to_datetime(texts[other], errors="coerce", format="mixed", utc=True)
    return parsed


def to_datetimes(values: pd.Series, reading: DateReading | None = None) -> pd.Series:
    """Parse dates and timestamps: ISO first, then other spellings by ``reading`` (decided
    from these values when not given); tz-naive. A time given with a zone or an offset is
    read as the clock showed it there (2026-07-01T00:30+08:00 is 1 July, 00:30): the day a
    record counts on is the day where it was made, whatever zone the export wrote."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = local_times(values)
    else:
        text = as_text(values)
        parsed = iso_local_times(text)
        retry = parsed.isna() & text.notna()
        if retry.any():
            if reading is None:
                day_first, month_first, _ = _evidence(_not_iso(_uniques(text[retry])))
                reading = DateReading("monthfirst" if len(month_first) > len(day_first) else "")
            codes, uniques = pd.factorize(text[retry])
            written = pd.Series(uniques, dtype=object).astype(str)
            done = local_times(_parse_written(without_zone(written), reading))
            parsed = parsed.astype("datetime64[ns]")
            parsed.loc[retry] = done.to_numpy()[codes]
    return parsed.astype("datetime64[ns]")


# ----------------------------------------------------------------------------- numbers


def _valid(clean: pd.Series, mark: str) -> pd.Series:
    """Whether cleaned texts are numbers written with decimal mark ``mark``."""
    return (clean.str.fullmatch(_VALID[mark]) & clean.str.contains(r"\d")).fillna(False)


def _marks(texts: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Values that read only with a decimal comma, only with a decimal point, and with
    either but to different numbers (``1,234``: 1234 or 1.234)."""
    clean = texts.str.replace(_NOISE, "", regex=True)
    with_comma, with_dot = _valid(clean, ","), _valid(clean, ".")
    marked = clean.str.contains(r"[.,]").fillna(False)
    return (
        texts[with_comma & ~with_dot],
        texts[with_dot & ~with_comma],
        texts[with_comma & with_dot & marked],
    )


def _decide_numbers(
    frame: pd.DataFrame, spec: TableSpec, *, where: str, decimal: Any, delimiter: str
) -> dict[str, NumberReading]:
    readings: dict[str, NumberReading] = {}
    undecided: dict[str, tuple[str, ...]] = {}
    for column in _columns(frame, spec, _NUMBER_KINDS):
        setting = setting_for(decimal, table=spec.name, column=column)
        if setting:
            readings[column] = NumberReading(setting, "parameter")
            continue
        comma, dot, both = _marks(_uniques(frame[column]))
        if len(comma) and len(dot):
            raise DataError(
                f"{where}: column '{column}' of {spec.name} mixes numbers with a decimal comma "
                f"({_shown(comma)}) and with a decimal point ({_shown(dot)}); a column must "
                "use one. Correct the file, or set the mark with "
                f"`decimal: {{{spec.name}: {{{column}: ','}}}}` (or '.') in the unit's "
                "parameters; numbers written the other way then count as not parsing."
            )
        if len(comma) or len(dot):
            readings[column] = NumberReading(
                "," if len(comma) else ".", "values", tuple((comma if len(comma) else dot)[:3])
            )
        elif len(both):
            undecided[column] = tuple(both[:3])
    shown = {c: r.decimal for c, r in readings.items() if r.how == "values"}
    for column, examples in undecided.items():
        if len(set(shown.values())) == 1:
            like, mark = next(iter(shown.items()))
            readings[column] = NumberReading(mark, "file", examples, like)
        elif delimiter == ";":
            readings[column] = NumberReading(",", "delimiter", examples)
        else:
            readings[column] = NumberReading(".", "default", examples)
    return readings


def separator_rows(values: pd.Series, reading: NumberReading) -> pd.Series:
    """Which rows a decimal-mark reading decided: all with a mark when it is the decimal
    comma, else those that fit both readings (``1,234``)."""
    text = as_text(values)

    def flag(uniques: pd.Series) -> pd.Series:
        if reading.decimal == ",":
            return uniques.str.contains(r"[.,]")
        fits = set(_marks(uniques.astype(str))[2])
        return uniques.isin(fits)

    codes, uniques = pd.factorize(text)
    if not len(uniques):
        return pd.Series(False, index=values.index)
    flags = flag(pd.Series(uniques, dtype=object).astype(str)).to_numpy(dtype=bool)
    return pd.Series(np.where(codes >= 0, flags[codes], False), index=values.index)


def to_numbers(values: pd.Series, reading: NumberReading | None = None) -> pd.Series:
    """Parse numbers with the decimal mark of ``reading`` (decided from these values when
    not given), ignoring thousands separators, spaces and currency marks (``¥1,234.50``,
    ``1 234,50 €``). A value whose separators do not fit the mark does not parse."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = as_text(values)
    if reading is None:
        comma, dot, _ = _marks(_uniques(text))
        reading = NumberReading("," if len(comma) > len(dot) else ".")
    mark = reading.decimal
    thousands = "." if mark == "," else ","
    codes, uniques = pd.factorize(text)
    clean = pd.Series(uniques, dtype=object).astype(str).str.replace(_NOISE, "", regex=True)
    valid = _valid(clean, mark)
    plain = clean.str.replace(thousands, "", regex=False).str.replace(mark, ".", regex=False)
    numbers = pd.to_numeric(plain.where(valid), errors="coerce").to_numpy(dtype="float64")
    out = np.where(codes >= 0, numbers[codes] if len(numbers) else np.nan, np.nan)
    return pd.Series(out, index=values.index, name=values.name, dtype="float64")


# ----------------------------------------------------------------------------- ids


WHOLE_NUMBER = r"\d+(?:\.0+)?"
"""An id written as a whole number: ``1001`` or ``1001.0``."""


def _written_as_numbers(values: pd.Series) -> bool:
    """Whether every id of a text column is a whole number and some are written ``1001.0``."""
    if not as_text(values.head(1000)).dropna().str.fullmatch(WHOLE_NUMBER).all():
        return False  # most id columns stop here, cheaply
    texts = _uniques(values)
    return bool(
        len(texts)
        and texts.str.fullmatch(WHOLE_NUMBER).all()
        and texts.str.contains(".", regex=False).any()
    )


def read_ids(values: pd.Series, reading: IdReading | None = None) -> pd.Series:
    """Ids as text, read by ``reading`` (``1001.0`` → ``1001``; ``001000`` → ``1000``)."""
    text = as_text(values)
    if reading is None or not (reading.fraction or reading.zeros):
        return text

    def read(uniques: pd.Series) -> pd.Series:
        if reading.fraction:
            uniques = uniques.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        if reading.zeros:
            uniques = uniques.str.replace(r"^0+(?=\d+$)", "", regex=True)
        return uniques

    return per_unique(text, read)


def leading_zero_keys(
    frames: Mapping[str, pd.DataFrame],
    readings: Mapping[str, TableReadings],
    *,
    where: Mapping[str, str],
    distinct_keys: Collection[str] = (),
    threads: int = 1,
) -> set[str]:
    """The keys (``customer_id``, ``opportunity_id``) whose all-digit ids lose their leading
    zeros in every table: those where an id of one table matches one of the table that owns
    the key only without them (``001000`` and ``1000``). The tables in ``distinct_keys``
    hold each key's distinct values already (an engine's answer); the others' are found,
    ``threads`` tables at a time.

    Raises
    ------
    DataError
        The owning table holds two ids that differ only by leading zeros, so a match without
        them would be a guess.
    """
    keys = set()
    for key, parent in (("customer_id", "customers"), ("opportunity_id", "opportunities")):
        if parent not in frames or key not in frames[parent].columns:
            continue

        def distinct(table: str, key: str = key) -> pd.Series:
            ids = frames[table][key]
            if table not in distinct_keys:
                ids = _distinct(ids)
            return read_ids(ids, readings[table].ids.get(key)).dropna()

        others = [t for t in frames if t != parent and key in frames[t].columns]
        owned_ids, *other_ids = in_order(distinct, [parent, *others], threads=threads)
        if not other_ids:
            continue
        # one lookup of every table's ids: each lookup hashes the owner's million ids anew
        referenced = pd.concat(other_ids, ignore_index=True)
        unmatched = pd.Index(pd.unique(referenced[~is_in(referenced, owned_ids)]), dtype=object)
        if not len(unmatched):
            continue
        owned = pd.Index(pd.unique(owned_ids), dtype=object)
        unpadded = owned.str.replace(r"^0+(?=\d+$)", "", regex=True)
        loose = unmatched.str.replace(r"^0+(?=\d+$)", "", regex=True)
        if not is_in(pd.Series(loose), pd.Series(unpadded)).any():
            continue
        clash = pd.Series(owned, index=unpadded)
        clash = clash[clash.index.duplicated(keep=False)]
        if len(clash):
            pair = clash.loc[clash.index[0]].tolist()[:2]
            raise DataError(
                f"{where[parent]}: {key} {pair[0]!r} and {pair[1]!r} differ only by leading "
                f"zeros, while another table writes {key}s without them; which one it means "
                f"cannot be told. Write each {key} the same way in every table."
            )
        keys.add(key)
    return keys
