"""Formatting numbers for reading: shares, money, counts, p-values, changes.

One place for how a figure is written, so a table, a sentence and a chart that show the
same figure show it the same way.
"""

from __future__ import annotations

import hashlib

import pandas as pd


def pct(value: float, digits: int = 1) -> str:
    """``0.1234`` → ``'12.3%'``; missing → ``'–'``."""
    if value is None or pd.isna(value):
        return "–"
    return f"{round(value * 100, digits) + 0.0:.{digits}f}%"  # + 0.0: no "-0.0%"


def money(value: float, currency: str = "", digits: int = 0) -> str:
    """``1234.5`` → ``'1,235 CNY'``."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:,.{digits}f}" + (f" {currency}" if currency else "")


def num(value: float, digits: int = 0) -> str:
    """``12345`` → ``'12,345'``."""
    return "–" if value is None or pd.isna(value) else f"{value:,.{digits}f}"


def p_value(value: float) -> str:
    """``0.0004`` → ``'<0.001'``; ``0.0312`` → ``'0.031'``; missing → ``'–'``."""
    if value is None or pd.isna(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def p_text(value: float) -> str:
    """A p-value for a sentence: ``0.0004`` → ``'p < 0.001'``; ``0.0312`` → ``'p = 0.031'``."""
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def change(current: float, previous: float) -> str:
    """Relative change in words: ``'up 12.0% on the previous period'``."""
    if previous is None or pd.isna(previous) or previous == 0 or pd.isna(current):
        return "no comparable previous period"
    delta = current / previous - 1
    if abs(delta) < 0.0005:
        return "unchanged on the previous period"
    return f"{'up' if delta > 0 else 'down'} {abs(delta) * 100:.1f}% on the previous period"


def pseudonym(value: object, *, salt: str = "", prefix: str = "C") -> str:
    """A stable pseudonymous id for showing a customer or deal in a report (``C-1a2b3c4d``).

    The same id and salt always give the same pseudonym; without the salt it cannot be
    turned back into the id. Reports salt with the unit id.
    """
    digest = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:8]
    return f"{prefix}-{digest}"
