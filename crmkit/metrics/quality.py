"""Profiles of a unit's data for the data-quality report: tables, freshness, gaps, volume.

The log of what loading did is :class:`crmkit.load.log.QualityLog`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from crmkit.core.schema import TABLE_NAMES, TABLES
from crmkit.load.unit import CRMData


def table_overview(unit: CRMData) -> pd.DataFrame:
    """One row per contract table: rows this period and before, date coverage and freshness.

    ``days_stale`` is the number of days between the latest record and the period end: a
    table that stopped being updated shows a large number here.
    """
    period = unit.period
    records = []
    for name in TABLE_NAMES:
        spec = TABLES[name]
        if not unit.has(name):
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


def key_findings(unit: CRMData, overview: pd.DataFrame | None = None) -> list[str]:
    """The sentences at the top of the data-quality report, each with its number."""
    from crmkit.present.format import change, num

    overview = table_overview(unit) if overview is None else overview
    provided = overview.loc[overview["provided"]].set_index("table")
    orders = provided.loc["transactions"]
    sentences = [
        f"{num(provided.loc['customers', 'rows_to_period_end'])} customers on record at the "
        f"period end; {num(orders['rows_in_period'])} orders in the period, "
        f"{change(orders['rows_in_period'], orders['rows_previous_period'])}."
    ]
    log = unit.quality
    if log.rows_dropped or log.rows_repaired:
        rules = len(log.issues())
        sentences.append(
            f"Loading dropped {num(log.rows_dropped)} unusable rows and repaired "
            f"{num(log.rows_repaired)} under {rules} rule(s); every one is listed below."
        )
    else:
        sentences.append("No row needed to be dropped or repaired.")
    stale = provided["days_stale"].dropna()
    if len(stale) and stale.max() > 31:
        worst = stale.astype(float).idxmax()
        sentences.append(
            f"The {worst} table looks stale: its latest record is {num(stale.max())} days "
            "before the period end."
        )
    else:
        sentences.append("Every table has records within a month of the period end.")
    if unit.missing_tables:
        sentences.append(
            f"Not provided: {', '.join(unit.missing_tables)}; report sections that need them "
            "are skipped."
        )
    return sentences


def results(unit: CRMData, overview: pd.DataFrame | None = None) -> dict:
    """The data-quality report's machine-readable results (``data_quality.json``)."""
    overview = table_overview(unit) if overview is None else overview
    provided = overview.loc[overview["provided"]].set_index("table")
    return {
        "tables": provided["rows_to_period_end"].astype(int).to_dict(),
        "rows_in_period": provided["rows_in_period"].astype(int).to_dict(),
        "rows_dropped": unit.quality.rows_dropped,
        "rows_repaired": unit.quality.rows_repaired,
        "rows_excluded": unit.quality.rows("excluded"),
        "issues": unit.quality.issues(),
        "missing_tables": unit.missing_tables,
        "max_days_stale": int(provided["days_stale"].dropna().max()),
        "customers": int(provided.loc["customers", "rows_to_period_end"]),
        "orders_in_period": int(provided.loc["transactions", "rows_in_period"]),
    }


def log_summary(unit: CRMData) -> str:
    """One sentence on the log: how many rows each action touched."""
    log = unit.quality
    if not log.entries:
        return "Nothing was repaired, dropped or excluded while loading."
    parts = [f"{log.rows(a):,} {a}" for a in ("dropped", "repaired", "excluded") if log.rows(a)]
    return f"Rows touched while loading: {', '.join(parts)}."


def orphan_summary(unit: CRMData) -> str:
    """One sentence on orphan keys."""
    orphans = [e for e in unit.quality.entries if e.rule.startswith("orphan")]
    if not orphans:
        return "Every row points at a known customer or opportunity."
    total = sum(e.rows for e in orphans)
    tables = ", ".join(sorted({e.table for e in orphans}))
    return f"{total:,} orphan rows were dropped, in {tables}."


def missing_summary(missing: pd.DataFrame) -> str:
    """One sentence on the worst gaps."""
    if missing.empty:
        return "No column has missing values."
    worst = missing.iloc[0]
    return (
        f"{len(missing)} column(s) have gaps; the largest is {worst['table']}.{worst['column']}, "
        f"missing in {worst['share']:.1%} of rows."
    )


def sources_table(unit: CRMData) -> pd.DataFrame:
    """One row per provided table: where it was read from, and personal data removed."""
    return pd.DataFrame(
        {
            "table": list(unit.sources),
            "source": list(unit.sources.values()),
            "personal data removed": [
                ", ".join(unit.pii_removed.get(t, [])) or "–" for t in unit.sources
            ],
        }
    )


def log_for(unit: CRMData, tables: Iterable[str]) -> pd.DataFrame:
    """The data-quality log entries of the given tables (what a topic report relied on)."""
    log = unit.quality.to_frame()
    return log.loc[log["table"].isin(list(tables))].reset_index(drop=True)


def log_for_summary(unit: CRMData, tables: Iterable[str]) -> str:
    """One sentence on what loading did to the tables a report uses."""
    tables = list(tables)
    log = log_for(unit, tables)
    names = ", ".join(tables)
    if log.empty:
        return f"Nothing was repaired, dropped or excluded in {names} while loading."
    counts = log.groupby("action")["rows"].sum()
    parts = [f"{counts[a]:,} {a}" for a in ("dropped", "repaired", "excluded") if a in counts]
    return (
        f"Rows of {names} touched while loading: {', '.join(parts)}. Each rule is listed "
        "below; the data-quality report has the whole log."
    )
