"""Which text encoding a delimited file is in, told from its bytes.

Recognised: UTF-8, UTF-8 with BOM, UTF-16 and UTF-32 with a byte-order mark (Excel's
"Unicode text"), GBK/GB18030 (what Chinese Excel writes) and Windows-1252 (Latin-1, what
Excel writes in Western Europe and the Americas). Anything else is refused with the fix.

GBK and Windows-1252 can decode much the same bytes, so they are told apart by the shape of
the bytes above 127 (a few thousand runs of them are looked at, wherever they are in the file):

* Chinese text in GBK is pairs of bytes from 0xA1-0xFE whose first byte is in a row of the
  GB2312 table (symbols 0xA1-0xA9, characters 0xB0-0xF7). Latin text read as GBK breaks that
  shape: an accented letter is one byte between ASCII letters ("Montréal" read as GBK is
  "Montr閍l", a rare character made of 0xE9 and the ASCII "a").
* Latin text in Windows-1252 is mostly single accented letters (runs of one or two bytes)
  that map to letters and common punctuation. Chinese read that way is long runs that map to
  symbols (``ÖÐÎÄ``), Russian (Windows-1251) long runs of letters.
"""

from __future__ import annotations

import re
from itertools import islice

from crmkit.core.errors import DataError

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 with BOM"),
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32 BE"),
    (b"\xff\xfe", "utf-16", "UTF-16 LE"),
    (b"\xfe\xff", "utf-16", "UTF-16 BE"),
)
GBK = "GBK/GB18030"
LATIN = "Windows-1252 (Latin-1)"
_HIGH_RUNS = re.compile(rb"[\x80-\xff]+")
_RUNS_LOOKED_AT = 20_000
_GB2312_LEADS = set(range(0xA1, 0xAA)) | set(range(0xB0, 0xF8))
# Windows-1252 bytes that a Latin text plausibly holds: letters, and punctuation people type
# (euro, quotes, dashes, ellipsis, bullet, degree, currency, guillemets, fractions ...).
_LATIN_BYTES = (
    set(range(0xC0, 0x100))
    | set(b"\x80\x82\x84\x85\x8a\x8c\x8e\x91\x92\x93\x94\x95\x96\x97\x99\x9a\x9c\x9e\x9f")
    | set(b"\xa0\xa1\xa2\xa3\xa5\xa7\xa9\xaa\xab\xae\xb0\xb1\xb2\xb3\xb5\xb7\xba\xbb")
    | set(b"\xbc\xbd\xbe\xbf")
)
SAVE_AS_UTF8 = (
    "open it in Excel and save it as 'CSV UTF-8 (comma delimited)', or save it as UTF-8 "
    "in a text editor"
)


def _decodes(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _shares(data: bytes) -> tuple[float, float, float]:
    """Of the bytes above 127 (in the first runs of them): the share shaped like GB2312
    characters, the share in runs of one or two bytes, the share that are Latin letters or
    common punctuation in Windows-1252."""
    high = gb_shaped = short = latin = 0
    for match in islice(_HIGH_RUNS.finditer(data), _RUNS_LOOKED_AT):
        run = match.group()
        size = len(run)
        high += size
        if size <= 2:
            short += size
        latin += sum(byte in _LATIN_BYTES for byte in run)
        if (
            size % 2 == 0
            and min(run) >= 0xA1
            and max(run) <= 0xFE
            and all(lead in _GB2312_LEADS for lead in run[::2])
        ):
            gb_shaped += size
    if not high:
        return 0.0, 0.0, 0.0
    return gb_shaped / high, short / high, latin / high


def decode_text(data: bytes, *, where: str) -> tuple[str, str]:
    """The text of a delimited file and the name of its encoding.

    Raises
    ------
    DataError
        The file is binary, or in an encoding that cannot be told with confidence.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            text = _decodes(data, codec)
            if text is None:
                raise DataError(
                    f"{where}: starts with a {label} byte-order mark but is not valid {label} "
                    f"text; {SAVE_AS_UTF8}."
                )
            return text.removeprefix("\ufeff"), label
    if b"\x00" in data[:8192]:
        raise DataError(
            f"{where}: this is a binary file, not a text table (CSV); if it is text in "
            f"UTF-16 without a byte-order mark, {SAVE_AS_UTF8}."
        )
    text = _decodes(data, "utf-8")
    if text is not None:
        return text, "UTF-8"
    as_gbk = _decodes(data, "gb18030")
    as_latin = _decodes(data, "cp1252")
    gb_shaped, short, latin = _shares(data)
    latin_like = as_latin is not None and short >= 0.8 and latin >= 0.95
    if as_gbk is not None and (gb_shaped >= 0.9 or (gb_shaped >= 0.5 and not latin_like)):
        return as_gbk, GBK
    if latin_like:
        return as_latin, LATIN
    raise DataError(
        f"{where}: the text encoding cannot be told with confidence (it is not UTF-8, UTF-16, "
        f"and reads neither as Chinese GBK/GB18030 nor as Western Windows-1252); "
        f"{SAVE_AS_UTF8}."
    )
