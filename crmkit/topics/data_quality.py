"""The data-quality report's words and views: key findings, one sentence per section, the
sources table and the published results; also the one-sentence log summary every topic
report ends with (:func:`log_for_summary`).

Numbers come from :mod:`crmkit.metrics.quality` and the unit's
:class:`~crmkit.load.log.QualityLog`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from crmkit.load.unit import CRMData
from crmkit.metrics.quality import log_for, table_overview
from crmkit.present.format import change, num, pct


def key_findings(unit: CRMData, overview: pd.DataFrame | None = None) -> list[str]:
    """The sentences at the top of the data-quality report, each with its number."""
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
        tables = "Every table with rows" if empty_tables(unit) else "Every table"
        sentences.append(f"{tables} has records within a month of the period end.")
    if unit.missing_tables:
        sentences.append(
            f"Not provided: {', '.join(unit.missing_tables)}; report sections that need them "
            "are skipped."
        )
    empty = empty_tables(unit)
    if empty:
        sentences.append(
            f"Provided without any rows for this unit: {', '.join(empty)}; report sections "
            "that need them are skipped."
        )
    return sentences


def empty_tables(unit: CRMData) -> list[str]:
    """Tables provided with no rows for the unit up to the period end (a header only, or
    every row another unit's or dated later)."""
    return [name for name, table in unit.tables.items() if table.empty]


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
    parts = [
        f"{log.rows(a):,} {a}" for a in ("dropped", "repaired", "excluded", "noted") if log.rows(a)
    ]
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
        f"missing in {pct(worst['share'])} of rows."
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


def log_for_summary(unit: CRMData, tables: Iterable[str]) -> str:
    """One sentence on what loading did to the tables a report uses (those provided)."""
    tables = [t for t in tables if t in unit.tables]
    log = log_for(unit, tables)
    names = ", ".join(tables)
    if log.empty:
        return f"Nothing was repaired, dropped or excluded in {names} while loading."
    counts = log.groupby("action")["rows"].sum()
    parts = [
        f"{counts[a]:,} {a}" for a in ("dropped", "repaired", "excluded", "noted") if a in counts
    ]
    return (
        f"Rows of {names} touched while loading: {', '.join(parts)}. Each rule is listed "
        "below; the data-quality report has the whole log."
    )
