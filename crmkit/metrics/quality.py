"""Profiles of a unit's data for the data-quality report: tables, freshness, gaps, volume.

The log of what loading did is :class:`crmkit.load.log.QualityLog`; the report's words and
results are in ``topics/data_quality.py``.
"""

from __future__ import annotations

import pandas as pd

from crmkit.core.schema import TABLE_NAMES, TABLES
from crmkit.load.unit import CRMData


def table_overview(unit: CRMData) -> pd.DataFrame:
    """One row per contract table: rows this period and before, date coverage and freshness.

    ``days_stale`` is the number of days between the latest record and the period end: a
    table that stopped being updated shows a large number here. A table provided without
    rows for the unit (a header only) is ``provided`` with 0 rows and no dates.
    """
    period = unit.period
    records = []
    for name in TABLE_NAMES:
        spec = TABLES[name]
        if name not in unit.tables:
            records.append({"table": name, "provided": False})
            continue
        table = unit[name]
        dates = table[spec.date] if spec.date else pd.Series(dtype="datetime64[ns]")
        latest = dates.max()
        records.append(
            {
                "table": name,
                "provided": True,
                "rows_to_period_end": len(table),
                "rows_in_period": len(unit.in_period(name)),
                "rows_previous_period": len(unit.in_period(name, previous=True)),
                "first_date": dates.min(),
                "last_date": latest,
                "days_stale": (pd.Timestamp(period.end) - latest.normalize()).days
                if pd.notna(latest)
                else pd.NA,
                "columns": table.shape[1],
            }
        )
    columns = [
        "table",
        "provided",
        "rows_to_period_end",
        "rows_in_period",
        "rows_previous_period",
        "first_date",
        "last_date",
        "days_stale",
        "columns",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def missing_values(unit: CRMData) -> pd.DataFrame:
    """One row per (table, column) with at least one missing value: count and share."""
    records = []
    for name, table in unit.tables.items():
        counts = table.isna().sum()
        for column, missing in counts[counts > 0].items():
            records.append(
                {
                    "table": name,
                    "column": column,
                    "missing": int(missing),
                    "share": missing / len(table),
                    "required": column in TABLES[name].required_columns,
                }
            )
    columns = ["table", "column", "missing", "share", "required"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.sort_values(["share", "table"], ascending=[False, True], ignore_index=True)


def monthly_volume(unit: CRMData, *, months: int = 24) -> pd.DataFrame:
    """Rows per table per calendar month over the last ``months`` months to the period end.

    One row per (table, month); months without rows are present with ``rows = 0`` so a gap in
    a feed shows as a drop to zero rather than a missing point.
    """
    end = pd.Timestamp(unit.period.end).to_period("M")
    month_index = pd.period_range(end - (months - 1), end, freq="M")
    frames = []
    for name, table in unit.tables.items():
        spec = TABLES[name]
        if not spec.date or table.empty:
            continue
        counts = table[spec.date].dt.to_period("M").value_counts()
        counts = counts.reindex(month_index, fill_value=0)
        frames.append(
            pd.DataFrame(
                {"table": name, "month": month_index.to_timestamp(), "rows": counts.to_numpy()}
            )
        )
    if not frames:
        return pd.DataFrame(columns=["table", "month", "rows"])
    return pd.concat(frames, ignore_index=True)


def loading_counts(unit: CRMData) -> pd.DataFrame:
    """One row per provided table: the rows loading kept, dropped, repaired and excluded, and
    the shares dropped and repaired of the rows read for the unit.

    ``rows_read`` is the rows kept to the period end plus those dropped or excluded, so
    ``dropped_share = rows_dropped / rows_read``. ``rows_repaired`` counts one row per rule
    that repaired it (a row two rules repaired counts twice), and so may exceed ``rows_read``.
    """
    counts: dict[tuple[str, str], int] = {}
    for entry in unit.quality.entries:
        counts[entry.table, entry.action] = counts.get((entry.table, entry.action), 0) + entry.rows
    records = []
    for name, table in unit.tables.items():
        dropped, repaired, excluded = (
            counts.get((name, action), 0) for action in ("dropped", "repaired", "excluded")
        )
        read = len(table) + dropped + excluded
        records.append(
            {
                "table": name,
                "rows_read": read,
                "rows_kept": len(table),
                "rows_dropped": dropped,
                "rows_repaired": repaired,
                "rows_excluded": excluded,
                "dropped_share": dropped / read if read else float("nan"),
                "repaired_share": repaired / read if read else float("nan"),
            }
        )
    columns = [
        "table",
        "rows_read",
        "rows_kept",
        "rows_dropped",
        "rows_repaired",
        "rows_excluded",
        "dropped_share",
        "repaired_share",
    ]
    return pd.DataFrame.from_records(records, columns=columns)
