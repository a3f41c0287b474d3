"""Formatting numbers for reading: shares, money, counts, p-values, dates, changes.

One place for how a figure is written, so a table, a sentence and a chart that show the
same figure show it the same way. Numbers follow the active report language's locale
(:mod:`crmkit.present.language`) through Babel, which implements the Unicode CLDR:
separators, percent and currency signs come from the locale, not from code here.
"""

from __future__ import annotations

import hashlib
from datetime import date as _date

import pandas as pd
from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

from crmkit.present.language import locale, words

MISSING = "–"


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits else "")


def pct(value: float, digits: int = 1) -> str:
    """``0.1234`` → ``'12.3%'``; missing → ``'–'``."""
    if _missing(value):
        return MISSING
    rounded = round(float(value) * 100, digits) / 100 + 0.0  # + 0.0: no "-0.0%"
    return format_percent(rounded, _pattern(digits) + "%", locale=locale())


def num(value: float, digits: int = 0) -> str:
    """``12345`` → ``'12,345'``; missing → ``'–'``."""
    if _missing(value):
        return MISSING
    return format_decimal(round(float(value), digits) + 0.0, _pattern(digits), locale=locale())


def count(value: float) -> str:
    """A count, or a median of counts: ``29.0`` → ``'29'``, ``4.5`` → ``'4.5'``."""
    if _missing(value):
        return MISSING
    return format_decimal(round(float(value), 1) + 0.0, "#,##0.#", locale=locale())


def signed(value: float, digits: int = 0) -> str:
    """A change with its sign: ``12`` → ``'+12'``, ``-3.5`` → ``'−3.5'`` (0 unsigned)."""
    if _missing(value):
        return MISSING
    rounded = round(float(value), digits) + 0.0
    text = num(abs(rounded), digits)
    return text if rounded == 0 else ("+" if rounded > 0 else "−") + text


def shown_difference(now: float, before: float, digits: int) -> float:
    """A change as a reader checks it against the two figures beside it: the difference of
    ``now`` and ``before`` each rounded to ``digits``, so that "from 84.2% to 85.2%" is a
    change of 1.0 points wherever it is written, never 0.9 (the unrounded 0.94).

    >>> shown_difference(85.24, 84.16, 1) == 85.2 - 84.2
    True
    """
    return round(float(now), digits) - round(float(before), digits)


def money(value: float, currency: str = "", digits: int = 0) -> str:
    """``1234.5, 'CNY'`` → ``'¥1,235'`` in Chinese, ``'CN¥1,235'`` in English; without a
    currency, the number alone."""
    if _missing(value):
        return MISSING
    if not currency:
        return num(value, digits)
    return format_currency(
        round(float(value), digits) + 0.0,
        currency,
        "¤" + _pattern(digits),
        locale=locale(),
        currency_digits=False,
    )


def day(value: object) -> str:
    """A date for reading in the active language: ``2026-09-30`` → ``'2026年9月30日'``
    (zh) or ``'Sep 30, 2026'`` (en)."""
    if _missing(value):
        return MISSING
    stamp = pd.Timestamp(value)
    return format_date(_date(stamp.year, stamp.month, stamp.day), "medium", locale=locale())


def month(value: object) -> str:
    """A month for a chart axis: ``'2026年9月'`` (zh) or ``'Sep 2026'`` (en)."""
    stamp = pd.Timestamp(value)
    return format_skeleton("yMMM", _date(stamp.year, stamp.month, 1), locale=locale())


def p_value(value: float) -> str:
    """``0.0004`` → ``'<0.001'``; ``0.0312`` → ``'0.031'``; missing → ``'–'``."""
    if _missing(value):
        return MISSING
    return "<0.001" if value < 0.001 else num(value, 3)


def p_text(value: float) -> str:
    """A p-value for a sentence: ``0.0004`` → ``'p < 0.001'``; ``0.0312`` → ``'p = 0.031'``."""
    return "p < 0.001" if value < 0.001 else f"p = {num(value, 3)}"


def signed_money(delta: float, currency: str = "", digits: int = 0) -> str:
    """A change of money with its sign: ``-3.4, 'USD'`` → ``'−$3'``; one that rounds to
    nothing is unsigned (``'$0'``, never ``'−$0'``)."""
    if _missing(delta):
        return MISSING
    rounded = round(float(delta), digits) + 0.0
    shown = money(abs(rounded), currency, digits)
    return shown if rounded == 0 else ("+" if rounded > 0 else "−") + shown


def change(current_value: float, previous: float) -> str:
    """Relative change in words: ``'up 12.0% on the previous period'``."""
    if _missing(previous) or previous == 0 or _missing(current_value):
        return words("common.change_none")
    delta = current_value / previous - 1
    if abs(delta) < 0.0005:
        return words("common.change_flat")
    key = "common.change_up" if delta > 0 else "common.change_down"
    return words(key, size=pct(abs(delta)))


def pseudonym(value: object, *, salt: str = "", prefix: str = "C") -> str:
    """A stable pseudonymous id for showing a customer or deal in a report (``C-1a2b3c4d``).

    The same id and salt always give the same pseudonym; without the salt it cannot be
    turned back into the id. Reports salt with the unit id.
    """
    digest = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:8]
    return f"{prefix}-{digest}"
