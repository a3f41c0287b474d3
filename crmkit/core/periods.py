"""Reporting periods: ``2026-Q3``, ``2026-09``, ``2026``, ``last-quarter``, ``last-month``.

Every period is compared with the one just before it of equal length in calendar terms: a
quarter with the previous quarter, a month with the previous month, a year with the previous
year, an explicit date range with the range of the same number of days ending the day before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from crmkit.core.errors import ParameterError

_FORMS = "'2026-Q3', '2026-09', '2026', 'last-quarter', 'last-month' or 'last-year'"


@dataclass(frozen=True)
class Period:
    """A closed date range ``[start, end]`` with a label and the period before it."""

    label: str
    start: date
    end: date
    previous_start: date
    previous_end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period before this one, as a :class:`Period` of its own."""
        return range_period(self.previous_start, self.previous_end)

    def contains(self, dates: pd.Series) -> pd.Series:
        """Whether each date or timestamp falls within the period (any time on its last day)."""
        return (dates >= pd.Timestamp(self.start)) & (dates < day_after(self.end))

    def rows(self, frame: pd.DataFrame, column: str) -> pd.DataFrame:
        """The rows of ``frame`` whose ``column`` falls within the period."""
        return frame.loc[self.contains(frame[column])]

    def rows_to_end(self, frame: pd.DataFrame, column: str) -> pd.DataFrame:
        """The rows of ``frame`` whose ``column`` falls on or before the period's last day."""
        return rows_through(frame, column, self.end)

    def __str__(self) -> str:
        return f"{self.label} ({self.start:%Y-%m-%d} – {self.end:%Y-%m-%d})"


def day_after(day: date | str | pd.Timestamp) -> pd.Timestamp:
    """The first instant after ``day``, its time of day dropped: the exclusive end of a range
    that includes the whole of ``day``. The one place crmkit turns an inclusive last day into
    a bound, so a timestamp on the last day is always inside, whoever cuts.

    Examples
    --------
    >>> day_after("2026-09-30 17:45")
    Timestamp('2026-10-01 00:00:00')
    """
    return pd.Timestamp(day).normalize() + pd.Timedelta(days=1)


def require_period(period: object, *, caller: str) -> Period:
    """``period`` if it is a :class:`Period`, else a :class:`ParameterError` saying how to
    make one (analyses take the period whole, never loose dates)."""
    if not isinstance(period, Period):
        raise ParameterError(
            f"{caller}() needs period as a crmkit.core.periods.Period (unit.period, or "
            f"parse_period('2026-Q3')); got {type(period).__name__} {period!r}."
        )
    return period


def rows_through(frame: pd.DataFrame, column: str, day: date | str | pd.Timestamp) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` falls on or before ``day`` (any time that day).

    When that is every row (a unit's tables at its period end), a new frame over the same
    data, not a copy: a million-customer unit's orders are ~0.4 GB. Changing it does not
    change ``frame`` (pandas copies on write)."""
    keep = frame[column] < day_after(day)
    return frame.copy(deep=False) if keep.all() else frame.loc[keep]


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def month_period(year: int, month: int) -> Period:
    py, pm = _shift_month(year, month, -1)
    return Period(
        f"{year}-{month:02d}",
        date(year, month, 1),
        _month_end(year, month),
        date(py, pm, 1),
        _month_end(py, pm),
    )


def quarter_period(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    py, pm = _shift_month(year, first, -3)
    return Period(
        f"{year}-Q{quarter}",
        date(year, first, 1),
        _month_end(year, first + 2),
        date(py, pm, 1),
        _month_end(py, pm + 2),
    )


def year_period(year: int) -> Period:
    return Period(
        str(year),
        date(year, 1, 1),
        date(year, 12, 31),
        date(year - 1, 1, 1),
        date(year - 1, 12, 31),
    )


def range_period(start: date, end: date) -> Period:
    """An explicit range; the previous period has the same number of days."""
    if end < start:
        raise ParameterError(f"Period end {end} is before its start {start}.")
    days = (end - start).days + 1
    previous_end = start - timedelta(days=1)
    return Period(
        f"{start:%Y-%m-%d}..{end:%Y-%m-%d}",
        start,
        end,
        previous_end - timedelta(days=days - 1),
        previous_end,
    )


def parse_period(text: str, *, as_of: date | None = None) -> Period:
    """Turn a period name into a :class:`Period`.

    Parameters
    ----------
    text
        ``YYYY-Qn``, ``YYYY-MM``, ``YYYY``, ``YYYY-MM-DD..YYYY-MM-DD``, ``last-quarter``,
        ``last-month`` or ``last-year``.
    as_of
        The day relative periods count back from (default: today). ``last-quarter`` is the
        last quarter that has fully ended on ``as_of``.

    Raises
    ------
    ParameterError
        If ``text`` is none of the forms above.

    Examples
    --------
    >>> parse_period("2026-Q3").previous_start
    datetime.date(2026, 4, 1)
    """
    value = str(text).strip()
    today = as_of or date.today()
    lowered = value.lower()
    if lowered == "last-month":
        year, month = _shift_month(today.year, today.month, -1)
        return month_period(year, month)
    if lowered == "last-quarter":
        quarter = (today.month - 1) // 3 + 1
        year, quarter = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
        return quarter_period(year, quarter)
    if lowered == "last-year":
        return year_period(today.year - 1)
    if m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", value):
        return quarter_period(int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        if not 1 <= int(m[2]) <= 12:
            raise ParameterError(f"Period '{text}' has month {m[2]}; months run 01 to 12.")
        return month_period(int(m[1]), int(m[2]))
    if re.fullmatch(r"\d{4}", value):
        return year_period(int(value))
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", value):
        try:
            return range_period(date.fromisoformat(m[1]), date.fromisoformat(m[2]))
        except ValueError as exc:
            raise ParameterError(f"Period '{text}' holds an invalid date: {exc}.") from None
    raise ParameterError(f"Period '{text}' is not understood; use {_FORMS}.")


def period_from_dates(period_start: str | date, period_end: str | date) -> Period:
    """The :class:`Period` for notebook parameters ``period_start`` / ``period_end``.

    A range that is exactly a calendar quarter, month or year gets that name and its calendar
    predecessor; any other range is compared with the same number of days before it.
    """
    try:
        start = date.fromisoformat(str(period_start)[:10])
        end = date.fromisoformat(str(period_end)[:10])
    except ValueError:
        raise ParameterError(
            f"period_start/period_end must be ISO dates (YYYY-MM-DD); got "
            f"{period_start!r} and {period_end!r}."
        ) from None
    if start.day == 1:
        candidates = [month_period(start.year, start.month), year_period(start.year)]
        if start.month in (1, 4, 7, 10):
            candidates.append(quarter_period(start.year, (start.month - 1) // 3 + 1))
        for candidate in candidates:
            if (candidate.start, candidate.end) == (start, end):
                return candidate
    return range_period(start, end)


def _day_read(as_of: date | None, source: str) -> tuple[date, str]:
    """The day the data was read (``as_of``, else today) and its name in a message."""
    return as_of or date.today(), source or ("today" if as_of is None else "the as-of date")


def check_period_started(period: Period, *, as_of: date | None = None, source: str = "") -> None:
    """Refuse a period that starts after the day the data was read: no data can exist for it.

    ``as_of`` is that day (``--as-of``; ``None``: today); ``source`` says where it came from,
    for the message.

    Raises
    ------
    ParameterError
        "Period 2027-Q2 starts on 2027-04-01, after today (2026-12-01): no data can exist
        for it yet."
    """
    day, what = _day_read(as_of, source)
    if period.start > day:
        raise ParameterError(
            f"Period {period.label} starts on {period.start.isoformat()}, after {what} "
            f"({day.isoformat()}): no data can exist for it yet."
        )


def check_period_ended(period: Period, *, as_of: date | None = None, source: str = "") -> None:
    """Refuse a period not over on the day the data was read: its figures would cover part
    of it, and each change would compare that part with the whole previous period.

    Raises
    ------
    ParameterError
        "Period 2026-Q4 ends on 2026-12-31, after today (2026-12-04): ..."
    """
    check_period_started(period, as_of=as_of, source=source)
    day, what = _day_read(as_of, source)
    if period.end > day:
        raise ParameterError(
            f"Period {period.label} ends on {period.end.isoformat()}, after {what} "
            f"({day.isoformat()}): its reports would show part of the period and compare it "
            "with the whole previous one. Run it once it has ended (or a period that has, "
            "such as a month)."
        )


def iso_day(value: Any, *, what: str) -> date | None:
    """``value`` (an ISO date text, a date, or empty) as a date; a ParameterError naming
    ``what`` otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(f"{what} must be an ISO date (YYYY-MM-DD); got {value!r}.") from None
