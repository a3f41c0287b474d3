"""Times written with a zone, read as the clock showed them there: the day a record counts
on is the day where it was made, whatever zone the export wrote (2026-07-01T00:30+08:00 is
1 July, 00:30)."""

from __future__ import annotations

import pandas as pd

OFFSET = r"(\d:\d\d(?::\d\d(?:[.,]\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
"""A time's zone written after it (``Z``, ``+08:00``, ``-0500``, ``UTC``)."""


def without_zone(text: pd.Series) -> pd.Series:
    """Texts with the zone written after a time removed."""
    return text.str.replace(OFFSET, r"\1", regex=True)


def local_times(parsed: pd.Series) -> pd.Series:
    """Times with a zone as the clock showed them there, the zone dropped."""
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_localize(None)
    return parsed


def iso_local_times(text: pd.Series) -> pd.Series:
    """ISO dates and times, each as written: a time with an offset at its own local time."""
    try:
        return local_times(pd.to_datetime(text, errors="coerce", format="ISO8601"))
    except ValueError:  # several offsets, or times with and without one, in the column
        return pd.to_datetime(without_zone(text), errors="coerce", format="ISO8601")
