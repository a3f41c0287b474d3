"""The data-quality report's words and views: its flags, key findings, one sentence per
section, the tables it shows and the published results; also the data-quality section every
topic report ends with (:func:`log_for_summary`, :func:`log_table`).

Numbers come from :mod:`crmkit.metrics.quality` and the unit's
:class:`~crmkit.load.log.QualityLog`; words from the catalogue ``data_quality.yaml``, in the
report's language.

Alert levels (the flags this report raises, declared in the registry)
--------------------------------------------------------------------
``rows_dropped``   more than :data:`DROPPED_LEVEL` (5%) of a table's rows read for the unit
                   were dropped as unusable;
``rows_repaired``  repairs reach more than :data:`REPAIRED_LEVEL` (10%) of a table's rows;
``table_stale``    a table's latest record is more than :data:`STALE_DAYS` (31) days before
                   the period end: its feed looks stopped;
``table_missing``  a table another report needs is not provided, or has no rows for the
                   unit: a whole report (strength 1) or some of its sections (strength ½)
                   cannot be produced.

A flag's strength, for the ranking (:mod:`crmkit.topics.flags`), is how far past its level
the figure is, as a fraction of the level.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pandas as pd
from babel.lists import format_list

from crmkit.load.unit import CRMData
from crmkit.metrics.quality import loading_counts, table_overview
from crmkit.present.format import MISSING, change, day, num, pct
from crmkit.present.language import column_name, locale, words
from crmkit.present.plots.quality import table_name
from crmkit.topics.flags import Flag, alert_flag

TOPIC = "data_quality"

DROPPED_LEVEL = 0.05
"""A table with more than this share of its rows dropped raises ``rows_dropped``."""
REPAIRED_LEVEL = 0.10
"""A table with repairs on more than this share of its rows raises ``rows_repaired``."""
STALE_DAYS = 31
"""A table whose latest record is more than this many days before the period end is stale."""

ACTIONS = ("dropped", "repaired", "excluded", "removed", "noted")


# ----------------------------------------------------------------------------- words


def _words(key: str, **values) -> str:
    return words(f"data_quality.{key}", **values)


def table_names(tables: Iterable[str]) -> str:
    """Contract tables named in the report's language, as a list ("customers and
    transactions" / "客户和订单")."""
    names = [table_name(t) for t in tables]
    return format_list(names, locale=locale()) if names else MISSING


def action_words(action: str) -> str:
    """What loading did (``dropped`` ...) in the report's language."""
    return _words(f"action_{action}") if action in ACTIONS else action


def _counts(counts: dict[str, int]) -> str:
    """The rows of each action, in the order of ACTIONS: "1,200 dropped, 3 repaired"."""
    parts = [_words(f"count_{a}", rows=num(counts[a])) for a in ACTIONS if counts.get(a)]
    return _words("list_separator").join(parts)


# The loading rules, as :mod:`crmkit.load.rules` and :mod:`crmkit.load.scope` write them into
# the log, and the catalogue key that says each in the report's language. A rule not listed
# here is shown as loading wrote it (tests check every rule the loaders write is listed).
_COLUMN = r"'(?P<column>[^']+)'"
RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("exact_duplicate", r"exact duplicate row"),
        ("missing_required", rf"missing required value in {_COLUMN}"),
        ("not_one_of", rf"{_COLUMN} not one of (?P<values>\[.*\])"),
        ("duplicate_key", rf"duplicate {_COLUMN} with different content \(first kept\)"),
        ("amount_above_order", rf"{_COLUMN} above (?P<limit>[\d,]+)× the unit's median order"),
        (
            "amount_above_opportunity",
            rf"{_COLUMN} above (?P<limit>[\d,]+)× the unit's median opportunity \(set missing\)",
        ),
        ("before", rf"{_COLUMN} before '(?P<earlier>[^']+)' \(set missing\)"),
        ("after_first_order", rf"{_COLUMN} after the customer's first order \(set to its day\)"),
        ("ids_as_numbers", rf"{_COLUMN} written as numbers \('1001\.0' read as '1001'\)"),
        ("leading_zeros", rf"leading zeros dropped from {_COLUMN} \('001000' read as '1000'\)"),
        ("case_normalised", rf"whitespace or letter case normalised in {_COLUMN}"),
        ("date_format", rf"{_COLUMN} read with date_format (?P<format>'.*')"),
        ("day_first", rf"{_COLUMN} read day-first \(day before month\)"),
        ("month_first", rf"{_COLUMN} read month-first \(month before day\)"),
        ("not_a_date", rf"{_COLUMN} not a date \(set missing\)"),
        ("not_bool", rf"{_COLUMN} not true/false \(set missing\)"),
        ("not_whole", rf"{_COLUMN} not a whole number \(set missing\)"),
        ("decimal_comma", rf"{_COLUMN} read with a decimal comma \(1\.234,50 = 1234\.5\)"),
        ("decimal_point", rf"{_COLUMN} read with a decimal point \(1,234\.50 = 1234\.5\)"),
        ("not_a_number", rf"{_COLUMN} does not parse as a number"),
        ("not_a_number_blanked", rf"{_COLUMN} does not parse as a number \(set missing\)"),
        ("negative", rf"negative {_COLUMN}"),
        ("negative_blanked", rf"negative {_COLUMN} \(set missing\)"),
        (
            "out_of_range",
            rf"{_COLUMN} outside (?P<low>-?[\d.]+)-(?P<high>-?[\d.]+) \(set missing\)",
        ),
        ("after_today", rf"{_COLUMN} after today \((?P<day>[\d-]+)\): impossible date"),
        ("after_today_blanked", rf"{_COLUMN} after today \((?P<day>[\d-]+)\) \(set missing\)"),
        ("after_period_end", r"dated after the period end"),
        (
            "after_period_end_open",
            rf"{_COLUMN} after the period end \(treated as still open at the period end\)",
        ),
        ("orphan", r"orphan (?P<column>\w+) \(not among the unit's (?P<parent>\w+)\)"),
        ("unit_blank", r"business_unit blank \(row belongs to no unit\)"),
        ("shared_id", r"(?P<column>\w+) also listed under another unit"),
        ("claimed_id", r"(?P<column>\w+) listed by more than one unit \(row cannot be placed\)"),
    )
)

# The details loading gives a rule, likewise; a detail not listed (the example values of
# a rule) is data, shown as it is.
DETAILS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("values_seen", r"values seen: (?P<values>.*)"),
        ("median", r"median (?P<median>[\d,.]+); e\.g\. (?P<examples>.*)"),
        ("won_kept", r"(?P<won>\d+) of them won: they stay won, without a close date"),
        (
            "leading_zeros",
            r"another table writes these ids without leading zeros; every table is read the "
            r"same way; e\.g\. (?P<examples>.*)",
        ),
        ("examples", r"e\.g\. (?P<examples>.*)"),
        ("decided_values", r"decided from values like (?P<evidence>.*)"),
        ("decided_file", r"its values fit both readings; read like (?P<like>.*) in the same file"),
        (
            "decided_month",
            r"a column of months: the number that is the same in every value is the day "
            r"\(e\.g\. (?P<evidence>.*)\)",
        ),
        (
            "decided_delimiter",
            r"its values fit both readings; the file is ';'-separated, as Excel writes where "
            r"the comma is the decimal mark",
        ),
        ("decided_parameter", r"as set by the (?P<parameter>\w+) parameter"),
        (
            "decided_default",
            r"values like (?P<evidence>.*) fit both readings and none in the column tells "
            r"which; set `(?P<setting>[^`]+)` if the comma is the decimal mark there",
        ),
        ("units", r"units: (?P<units>.*)"),
        (
            "claimed",
            r"(?P<table>\w+) lists (?P<id>'.*?') under (?P<units>.*); add a business_unit "
            r"column to (?P<other>\w+) to place such rows",
        ),
    )
)

_FORMATTED: dict[str, Callable[[str], str]] = {
    "day": day,
    "limit": lambda v: num(float(v.replace(",", ""))),
    "median": lambda v: num(float(v.replace(",", "")), 2),
    "won": lambda v: num(int(v)),
    "parent": table_name,
    "table": table_name,
    "other": table_name,
}


def _match(text: str, patterns, prefix: str) -> str | None:
    for key, pattern in patterns:
        found = pattern.fullmatch(text)
        if found:
            values = {
                name: _FORMATTED.get(name, str)(value) for name, value in found.groupdict().items()
            }
            return _words(f"{prefix}_{key}", **values)
    return None


def rule_words(rule: str) -> str:
    """A loading rule of the log in the report's language (as written when not known)."""
    return _match(rule, RULES, "rule") or rule


def detail_words(detail: str) -> str:
    """A log entry's detail in the report's language; example values stay as they are."""
    return _match(detail, DETAILS, "detail") or detail


# ----------------------------------------------------------------------------- flags


def flags(unit: CRMData, overview: pd.DataFrame | None = None) -> list[Flag]:
    """The data problems a manager should know before reading this period's reports: a table
    with too many rows dropped or repaired, a stale table, a missing table another report
    needs (levels in the module docstring). Bad news only; unranked."""
    overview = table_overview(unit) if overview is None else overview
    raised: list[Flag] = []
    for row in loading_counts(unit).itertuples():
        for key, share, rows, level in (
            ("rows_dropped", row.dropped_share, row.rows_dropped, DROPPED_LEVEL),
            ("rows_repaired", row.repaired_share, row.rows_repaired, REPAIRED_LEVEL),
        ):
            if pd.notna(share) and share > level:
                raised.append(
                    alert_flag(
                        TOPIC,
                        key,
                        excess=(share - level) / level,
                        message=f"data_quality.flag_{key}",
                        action=f"data_quality.flag_{key}_action",
                        section="data_quality.repairs_heading",
                        values={
                            "table": lambda t=row.table: table_name(t),
                            "share": lambda s=share: pct(s),
                            "rows": lambda r=rows: num(r),
                        },
                        raw={"table": row.table, "share": float(share), "level": level},
                    )
                )
    provided = overview.loc[overview["provided"]]
    for row in provided.itertuples():
        if pd.notna(row.days_stale) and row.days_stale > STALE_DAYS:
            raised.append(
                alert_flag(
                    TOPIC,
                    "table_stale",
                    excess=(row.days_stale - STALE_DAYS) / STALE_DAYS,
                    message="data_quality.flag_table_stale",
                    action="data_quality.flag_table_stale_action",
                    section="data_quality.tables_heading",
                    values={
                        "table": lambda t=row.table: table_name(t),
                        "days": lambda d=row.days_stale: num(d),
                    },
                    raw={"table": row.table, "days_stale": int(row.days_stale)},
                )
            )
    empty = set(empty_tables(unit))
    for table in [*unit.missing_tables, *sorted(empty)]:
        need = table_need(table)
        if not need:
            continue
        state = "empty" if table in empty else "missing"
        raised.append(
            alert_flag(
                TOPIC,
                "table_missing",
                excess=1.0 if need == "report" else 0.5,
                message=f"data_quality.flag_table_{state}_{need}",
                action="data_quality.flag_table_missing_action",
                section="data_quality.tables_heading",
                values={"table": lambda t=table: table_name(t)},
                raw={"table": table, "state": state, "needed_by": need},
            )
        )
    return raised


def table_need(table: str) -> str:
    """How much the other reports need ``table``: ``"report"`` when a whole report is built
    on it, ``"section"`` when only some sections need it, ``""`` when none does (from the
    registry's topics)."""
    from crmkit.topics.registry import TOPICS

    topics = [t for t in TOPICS.values() if t.name != TOPIC]
    if any(table in t.tables for t in topics):
        return "report"
    needs = (need.partition(".")[0] for t in topics for s in t.sections for need in s.needs)
    return "section" if table in set(needs) else ""


# ----------------------------------------------------------------------------- findings


def _verdict(unit: CRMData, raised: list[Flag]) -> str:
    """Which trust sentence opens the findings: caution when a flag is raised; otherwise
    trusted, saying "a small share" only when rows were in fact dropped or repaired. A table
    that only some sections need, missing, skips those sections without distorting the rest."""
    only_sections = all(
        f.key == "table_missing" and f.values.get("needed_by") == "section" for f in raised
    )
    if raised and only_sections:
        return "verdict_sections_skipped"
    if raised:
        return "verdict_caution"
    touched = unit.quality.to_frame()
    touched = touched.loc[touched["action"].isin(["dropped", "repaired"]), "rows"].sum()
    return "verdict_trusted" if touched else "verdict_trusted_clean"


def key_findings(
    unit: CRMData, overview: pd.DataFrame | None = None, raised: list[Flag] | None = None
) -> list[str]:
    """The sentences at the top of the data-quality report: first whether the data can be
    trusted (the manager's answer, from the flags), then the figures behind it."""
    overview = table_overview(unit) if overview is None else overview
    raised = flags(unit, overview) if raised is None else raised
    provided = overview.loc[overview["provided"]].set_index("table")
    orders = provided.loc["transactions"]
    sentences = [
        _words(_verdict(unit, raised)),
        _words(
            "customers_and_orders",
            customers=num(provided.loc["customers", "rows_to_period_end"]),
            orders=num(orders["rows_in_period"]),
            change=change(orders["rows_in_period"], orders["rows_previous_period"]),
        ),
    ]
    log = unit.quality
    if log.rows_dropped or log.rows_repaired:
        sentences.append(
            _words(
                "dropped_and_repaired",
                dropped=num(log.rows_dropped),
                repaired=num(log.rows_repaired),
                rules=num(len(log.issues())),
                section=_words("repairs_heading"),
            )
        )
    else:
        sentences.append(_words("nothing_dropped"))
    stale = provided["days_stale"].dropna()
    empty = empty_tables(unit)
    if len(stale) and stale.max() > STALE_DAYS:
        worst = stale.astype(float).idxmax()
        sentences.append(_words("stale", table=table_name(worst), days=num(stale.max())))
    else:
        sentences.append(_words("fresh_with_rows" if empty else "fresh"))
    if unit.missing_tables:
        sentences.append(_words("not_provided", tables=table_names(unit.missing_tables)))
    if empty:
        sentences.append(_words("provided_empty", tables=table_names(empty)))
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


# ----------------------------------------------------------------------------- sections


def log_summary(unit: CRMData) -> str:
    """One sentence on the log: how many rows each action touched."""
    log = unit.quality
    if not log.entries:
        return _words("log_empty")
    return _words("log_counts", counts=_counts({a: log.rows(a) for a in ACTIONS}))


def orphan_summary(unit: CRMData) -> str:
    """One sentence on orphan keys."""
    orphans = [e for e in unit.quality.entries if e.rule.startswith("orphan")]
    if not orphans:
        return _words("orphans_none")
    total = sum(e.rows for e in orphans)
    return _words(
        "orphans_dropped", rows=num(total), tables=table_names(sorted({e.table for e in orphans}))
    )


def missing_summary(missing: pd.DataFrame) -> str:
    """One sentence on the worst gaps."""
    if missing.empty:
        return _words("missing_none")
    worst = missing.iloc[0]
    return _words(
        "missing_some",
        columns=num(len(missing)),
        table=table_name(worst["table"]),
        share=pct(worst["share"]),
    )


def overview_table(overview: pd.DataFrame) -> pd.DataFrame:
    """The tables section's view of :func:`~crmkit.metrics.quality.table_overview`: one row
    per contract table, columns named by glossary keys, tables named in the report's
    language."""
    return overview.assign(table=overview["table"].map(table_name)).rename(
        columns={"table": "data_table", "provided": "table_provided", "columns": "column_count"}
    )


LOG_COLUMNS = ["data_table", "quality_rule", "quality_action", "rows", "example_ids", "rule_detail"]


_ROW = re.compile(r"\brow (\d+)\b")


def example_ids(text: str) -> str:
    """A log entry's example ids for reading: ids as they are; rows without one, which
    loading names ``row 231`` (their line in the source), in the report's language."""
    return _ROW.sub(lambda m: words("data_quality.row_number", n=m.group(1)), str(text))


def log_table(unit: CRMData, tables: Iterable[str] | None = None) -> pd.DataFrame:
    """The data-quality log (of ``tables``, or all) as a report shows it: one row per rule
    applied to a table, in the report's language, columns named by glossary keys."""
    log = unit.quality.to_frame()
    if tables is not None:
        log = log.loc[log["table"].isin(list(tables))]
    view = pd.DataFrame(
        {
            "data_table": [table_name(t) for t in log["table"]],
            "quality_rule": [rule_words(r) for r in log["rule"]],
            "quality_action": [action_words(a) for a in log["action"]],
            "rows": log["rows"].astype(int).to_numpy(),
            "example_ids": [example_ids(text) for text in log["example_ids"]],
            "rule_detail": [detail_words(d) if d else MISSING for d in log["detail"]],
        },
        columns=LOG_COLUMNS,
    )
    return view.reset_index(drop=True)


def orphan_table(unit: CRMData) -> pd.DataFrame:
    """The log's orphan-key rules, as :func:`log_table` shows them."""
    orphans = pd.Series([e.rule.startswith("orphan") for e in unit.quality.entries], dtype=bool)
    return log_table(unit).loc[orphans.to_numpy()].reset_index(drop=True)


def _named_column(column: str) -> str:
    """A column in the report's language with the data's spelling beside it where they
    differ ("客户编号（customer_id）"): the data owner fixes the column by that name."""
    name = column_name(column)
    return name if name == column else words("data_quality.named_column", name=name, column=column)


def missing_table(missing: pd.DataFrame) -> pd.DataFrame:
    """The missing-values section's view of :func:`~crmkit.metrics.quality.missing_values`."""
    return pd.DataFrame(
        {
            "data_table": [table_name(t) for t in missing["table"]],
            "column_name": [_named_column(c) for c in missing["column"]],
            "missing_values": missing["missing"].astype(int).to_numpy(),
            "missing_share": missing["share"].astype(float).to_numpy(),
            "required_column": missing["required"].astype(bool).to_numpy(),
        }
    )


# ----------------------------------------------------------------------------- sources

_FILE_FORMATS = {
    ".csv": "CSV",
    ".csv.gz": "CSV",
    ".tsv": "CSV",
    ".txt": "CSV",
    ".xlsx": "Excel",
    ".xls": "Excel",
    ".parquet": "Parquet",
    ".pq": "Parquet",
}
_ENGINES = {
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "mssql": "SQL Server",
    "oracle": "Oracle",
    "duckdb": "DuckDB",
}


def source_parts(where: str) -> tuple[str, str]:
    """The kind of source and the file or table name of a table's ``where`` (as loading
    records it in ``unit.sources``), without its folder, path or database address: a report
    never shows where on a server the data lives, nor a database's user or host.

    ``"/srv/crm/customers.csv (UTF-8)"`` → ``("CSV file (UTF-8)", "customers.csv")``;
    ``"database postgresql://u:***@db/crm, table customers"`` →
    ``("PostgreSQL database", "customers")``.
    """
    database = re.fullmatch(r"(?:database (?P<url>.+)|DuckDB .+), table (?P<table>[^,]+)", where)
    if database:
        scheme = (database["url"] or "duckdb:").split(":", 1)[0].split("+", 1)[0].lower()
        engine = _ENGINES.get(scheme, scheme)
        return _words("source_database", engine=engine), database["table"]
    encoding = ""
    found = re.fullmatch(r"(?P<path>.+?) \((?P<encoding>[^()]+)\)", where)
    if found:
        where, encoding = found["path"], found["encoding"]
    sheet = re.fullmatch(r"(?P<path>.+) \[sheet (?P<sheet>.+)\]", where)
    path = sheet["path"] if sheet else where
    file = re.split(r"[\\/]", path)[-1]
    suffix = next((s for s in _FILE_FORMATS if file.lower().endswith(s)), "")
    if not suffix or "://" in where or "@" in file:
        return _words("source_unknown"), MISSING
    kind = _FILE_FORMATS[suffix]
    if kind == "Excel":
        name = _words("source_sheet", file=file, sheet=sheet["sheet"]) if sheet else file
        return _words("source_workbook", format=kind), name
    if encoding:
        return _words("source_file_encoding", format=kind, encoding=encoding), file
    return _words("source_file", format=kind), file


def sources_table(unit: CRMData) -> pd.DataFrame:
    """One row per provided table: the kind of source and the file or table it was read
    from (:func:`source_parts`: never a path or address), and personal data removed."""
    parts = [source_parts(where) for where in unit.sources.values()]
    return pd.DataFrame(
        {
            "data_table": [table_name(t) for t in unit.sources],
            "source_kind": [kind for kind, _ in parts],
            "source_name": [name for _, name in parts],
            "personal_data_removed": [
                _words("items_separator").join(unit.pii_removed.get(t, [])) or MISSING
                for t in unit.sources
            ],
        }
    )


# ----------------------------------------------------------------------------- other reports


def log_for_summary(unit: CRMData, tables: Iterable[str]) -> str:
    """One sentence on what loading did to the tables a report uses (those provided), in
    the report's language: the data-quality section every report ends with."""
    tables = [t for t in tables if t in unit.tables]
    used = [e for e in unit.quality.entries if e.table in tables]
    names = table_names(tables)
    if not used:
        return _words("report_log_empty", tables=names)
    counts = {a: sum(e.rows for e in used if e.action == a) for a in ACTIONS}
    return _words("report_log_counts", tables=names, counts=_counts(counts))
