"""Contact details in text crmkit did not write: the one definition of the email addresses
and phone numbers masked before such text is shown (survey comments, and the values quoted
from a bad export in a refusal or the data-quality log, where a shifted column puts an email
where a date should be)."""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+[@＠][\w-]+(?:[.．][\w-]+)+")
"""An address, its @ and dots also as typed in full-width mode (＠, ．) on a Chinese keyboard."""
PHONE = re.compile(r"(?<![\d+＋])[+＋]?\d[\d\s().\-（）．－‐‑–—]{5,}\d(?!\d)")
"""Seven or more characters of digits, spaces, dots, dashes and brackets, a + allowed first:
digits, brackets, dots and dashes also full-width (１３５－０５２８, （０２１）) and any dash."""
_SEP = r"[-/.－／．]"
DATE = re.compile(rf"\d{{4}}{_SEP}\d{{1,2}}{_SEP}\d{{1,2}}|\d{{1,2}}{_SEP}\d{{1,2}}{_SEP}\d{{2,4}}")
"""A date's shape, which :data:`PHONE` also matches: a date is not a phone number."""


def _phone(match: re.Match) -> str:
    return match.group() if DATE.fullmatch(match.group().strip()) else "[phone]"


def mask_contacts(text: str) -> str:
    """``text`` with email addresses as ``[email]`` and phone numbers as ``[phone]``.

    >>> mask_contacts("mail jo@example.com or call +1 (415) 555-0134 by 2026-07-03")
    'mail [email] or call [phone] by 2026-07-03'
    >>> mask_contacts("请打电话 135－0528－3696，或写信 chen528＠qq.com")
    '请打电话 [phone]，或写信 [email]'
    """
    return PHONE.sub(_phone, EMAIL.sub("[email]", text))


def quoted(values: Iterable, n: int = 5) -> str:
    """The first ``n`` of ``values`` quoted for a message, text with its contact details
    masked (:func:`mask_contacts`): ``'2026-13-01', '[email]'``."""
    shown = []
    for value in list(values)[:n]:
        shown.append(repr(mask_contacts(value) if isinstance(value, str) else value))
    return ", ".join(shown)
