"""The data-quality report's words, flags, views and results, on a hand-counted unit, in
both report languages."""

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, tiny_tables, tiny_unit, write_folder
from language_check import english_words

from crmkit.load.unit import load_unit
from crmkit.metrics import quality
from crmkit.present.language import language, words
from crmkit.topics import data_quality as report
from crmkit.topics.flags import flags_markdown, rank_flags
from crmkit.topics.registry import TOPICS


@pytest.fixture
def unit(tmp_path: Path):
    return tiny_unit(tmp_path / "d")


def add_defects(unit) -> None:
    """1 of alpha's 4 transactions dropped (20% of 5 read), 3 repairs, 2 orphan surveys."""
    orphan = "orphan customer_id (not among the unit's customers)"
    unit.quality.add("transactions", orphan, "dropped", 1, ["o9"])
    unit.quality.add("transactions", "'amount' does not parse as a number", "repaired", 3)
    unit.quality.add("surveys", orphan, "dropped", 2)


def test_missing_summary(unit):
    missing = quality.missing_values(unit)
    with language("en"):
        assert report.missing_summary(missing) == (
            "Columns with gaps: 1; the largest gap is in the customers table, where one column "
            "is empty in 33.3% of rows (listed below)."
        )
        assert report.missing_summary(missing.iloc[:0]) == "No column has missing values."
    with language("zh"):
        assert report.missing_summary(missing) == (
            "有 1 个字段存在缺失；缺失最严重的字段在客户表中，33.3% 的行没有取值（见下表）。"
        )


def test_key_findings_and_results(unit):
    with language("en"):
        sentences = report.key_findings(unit)
    assert sentences[0] == words("data_quality.verdict_caution")  # stale and missing tables
    assert sentences[1] == (
        "3 customers on record at the period end; 3 orders in the period, "
        "no comparable previous period."
    )
    assert sentences[2] == "No row needed to be dropped or repaired."
    assert sentences[3] == (
        "The customers table looks stale: its latest record is 60 days before the period end."
    )
    assert sentences[4].startswith("Not provided: opportunities, stage history, surveys")
    results = report.results(unit)
    assert set(results) == set(TOPICS["data_quality"].results)  # exactly the registry's keys
    assert results["tables"] == {"customers": 3, "transactions": 4}
    assert results["orders_in_period"] == 3 and results["max_days_stale"] == 60
    assert results["rows_dropped"] == 0 and results["issues"] == []
    assert report.results(unit, quality.table_overview(unit)) == results


def test_a_unit_without_problems_is_trusted(unit):
    """Trusted without flags; "only a small share" of rows dropped or repaired is said only
    when some were (a unit with none is not told that some were)."""
    assert unit.quality.to_frame().empty
    with language("zh"):
        assert report.key_findings(unit, raised=[])[0] == (
            "本期数据可以放心使用：各报告所需的数据表齐全、及时，加载时没有需要剔除或修复的行。"
        )
        unit.quality.add("transactions", "rule", "repaired", 3)
        assert report.key_findings(unit, raised=[])[0] == (
            "本期数据可以放心使用：各报告所需的数据表齐全、及时，加载时剔除或修复的行只占很小一部分。"
        )


def test_log_sentences(unit):
    with language("en"):
        assert report.log_summary(unit) == words("data_quality.log_empty")
        assert report.orphan_summary(unit) == "Every row points at a known customer or opportunity."
        assert report.log_for_summary(unit, ["customers", "transactions"]) == (
            "Nothing was repaired, dropped or excluded in customers and transactions while loading."
        )
    add_defects(unit)
    unit.quality.add("transactions", "exact duplicate row", "dropped", 1199)
    with language("en"):
        assert report.log_summary(unit) == "Rows touched while loading: 1,202 dropped, 3 repaired."
        assert report.orphan_summary(unit) == (
            "3 orphan rows were dropped, in surveys and transactions."
        )
        assert report.log_for_summary(unit, ["transactions"]) == (
            "Rows of transactions touched while loading: 1,200 dropped, 3 repaired. Each rule "
            "is listed below; the data-quality report has the whole log."
        )
        assert report.key_findings(unit)[2] == (
            "Loading dropped 1,202 unusable rows and repaired 3 (rules applied: 4); each rule "
            "is listed under “Repairs and drops”."
        )
    with language("zh"):
        assert report.log_summary(unit) == "加载时的处理：剔除 1,202 行，修复 3 行。"
        assert report.log_for_summary(unit, ["transactions", "customers"]) == (
            "加载订单和客户数据时的处理：剔除 1,200 行，修复 3 行。"
            "各条规则见下表，完整日志见数据质量报告。"
        )


def test_log_table_in_the_report_language(unit):
    add_defects(unit)
    with language("zh"):
        log = report.log_table(unit, ["transactions", "customers"])  # other reports' call
        orphans = report.orphan_table(unit)
    assert log.columns.tolist() == report.LOG_COLUMNS
    assert log.values.tolist() == [
        ["订单", "无法关联的customer_id（不在本事业部的客户表中）", "剔除", 1, "o9", "–"],
        ["订单", "“amount”不是有效数字", "修复", 3, "", "–"],
    ]
    assert orphans["rows"].tolist() == [1, 2]
    assert orphans["data_table"].tolist() == ["订单", "满意度问卷"]
    assert report.log_table(unit, []).empty


def test_tables_without_rows_and_not_provided_are_named(tmp_path: Path):
    tables = tiny_tables()
    tables["costs"] = pd.DataFrame(columns=["business_unit", "month", "category", "amount"])
    write_folder(tmp_path / "d", tables)
    unit = load_unit("alpha", data_source=str(tmp_path / "d"), period="2026-Q3", as_of="2026-10-15")
    with language("en"):
        sentences = report.key_findings(unit)
        assert sentences[-1] == (
            "Provided without any rows for this unit: costs; report sections that need them "
            "are skipped."
        )
        assert "costs" not in sentences[-2] and sentences[-2].startswith("Not provided: opportun")
        # a report's log sentence names the tables it used that were provided, not the others
        assert report.log_for_summary(unit, ["customers", "interactions", "costs"]) == (
            "Nothing was repaired, dropped or excluded in customers and costs while loading."
        )
    assert report.empty_tables(unit) == ["costs"]
    results = report.results(unit)
    assert results["tables"]["costs"] == 0 and "costs" not in results["missing_tables"]
    costs = [f for f in report.flags(unit) if f.values.get("table") == "costs"]
    assert [(f.key, f.values["state"], f.strength) for f in costs] == [
        ("table_missing", "empty", 0.5)
    ]


# ----------------------------------------------------------------------------- flags


def test_flags_of_a_hand_counted_unit(unit):
    add_defects(unit)
    raised = report.flags(unit)
    declared = set(TOPICS["data_quality"].flags)
    assert {f.key for f in raised} <= declared
    by_table = {(f.key, f.values["table"]): f for f in raised}
    # 1 dropped of 4 kept + 1 = 5 read: 20%, three times past the 5% level
    dropped = by_table["rows_dropped", "transactions"]
    assert dropped.values["share"] == pytest.approx(0.2)
    assert dropped.strength == pytest.approx((0.2 - 0.05) / 0.05)
    # 3 repairs of 5 read: 60%, past 10%
    assert by_table["rows_repaired", "transactions"].strength == pytest.approx(5.0)
    # customers' last signup 2026-08-01: 60 days before the period end, past 31
    assert by_table["table_stale", "customers"].strength == pytest.approx((60 - 31) / 31)
    # not provided: whole reports need opportunities, stage_history and surveys; sections
    # need interactions, churn_events, costs and tickets (the health review's service)
    missing = {t: f.strength for (k, t), f in by_table.items() if k == "table_missing"}
    assert missing == {
        "opportunities": 1.0,
        "stage_history": 1.0,
        "surveys": 1.0,
        "interactions": 0.5,
        "churn_events": 0.5,
        "costs": 0.5,
        "tickets": 0.5,
    }
    assert len(raised) == 3 + 7
    assert all(f.bad and f.kind == "alert" for f in raised)
    # each flag links to the section with its detail, in every language
    assert dropped.section == {"en": "Repairs and drops", "zh": "修复与剔除"}
    assert by_table["table_stale", "customers"].section["zh"] == "数据表、覆盖范围与时效"
    assert dropped.message["en"] == (
        "20.0% of the transactions rows (1) were dropped as unusable while loading."
    )
    assert dropped.action["zh"].startswith("请数据负责人")
    assert all(f.action["en"].startswith("ask the data owner") for f in raised)
    # the strongest first: 60% repaired, then 20% dropped
    top = rank_flags(raised)
    assert [f.key for f in top[:2]] == ["rows_repaired", "rows_dropped"]


def test_a_share_at_the_level_raises_nothing(unit):
    # 19 rows kept and 1 dropped: exactly 5% of the 20 read, not past the level
    unit.tables["transactions"] = pd.concat([unit["transactions"]] * 5, ignore_index=True)[:19]
    unit.quality.add("transactions", "exact duplicate row", "dropped", 1)
    assert not [f for f in report.flags(unit) if f.key == "rows_dropped"]
    unit.quality.add("transactions", "exact duplicate row", "dropped", 1)  # 2 of 21: 9.5%
    assert [f.key for f in report.flags(unit) if f.key == "rows_dropped"] == ["rows_dropped"]


def test_zh_findings_and_flags_hold_no_english(unit):
    add_defects(unit)
    with language("zh"):
        texts = [
            *report.key_findings(unit),
            report.log_summary(unit),
            report.orphan_summary(unit),
            report.missing_summary(quality.missing_values(unit)),
            report.log_for_summary(unit, ["customers", "transactions"]),
            flags_markdown(report.flags(unit)),
        ]
    visible = [re.sub(r"\]\(#[^)]*\)", "]", text) for text in texts]  # not the link targets
    assert english_words(visible) == []
    with language("en"):
        page = flags_markdown(report.flags(unit))
    assert page.count("What to do: ask the data owner") == 5  # the five strongest


# ----------------------------------------------------------------------------- views


def test_overview_and_missing_views_use_glossary_names(unit):
    from crmkit.present.language import is_term

    overview = report.overview_table(quality.table_overview(unit))
    missing = report.missing_table(quality.missing_values(unit))
    log = report.log_table(unit)
    for view in (overview, missing, log, report.sources_table(unit)):
        assert all(is_term(column) for column in view.columns), view.columns.tolist()
    with language("zh"):  # named for the reader, spelled as the data owner finds it
        missing = report.missing_table(quality.missing_values(unit))
    assert missing.values.tolist() == [["客户", "地区（region）", 1, pytest.approx(1 / 3), False]]
    with language("en"):
        assert report.missing_table(quality.missing_values(unit))["column_name"][0] == "region"
    with language("zh"):  # a contract column without a glossary name has one here
        assert report._named_column("customer_id") == "客户编号（customer_id）"


def test_sources_table_shows_no_path(unit):
    with language("en"):
        table = report.sources_table(unit).set_index("data_table")
    assert table.loc["customers", "source_kind"] == "CSV file (UTF-8)"
    assert table.loc["customers", "source_name"] == "customers.csv"
    assert table.loc["customers", "personal_data_removed"] == "name, email"
    assert table.loc["transactions", "personal_data_removed"] == "–"
    folder = str(Path(unit.sources["customers"]).parent)
    assert folder.startswith("/")  # where loading read it: an absolute path on the server
    cells = table.reset_index().astype(str).to_numpy().ravel()
    assert not any("/" in cell or folder in cell for cell in cells)


def test_sources_from_a_database_show_neither_address_nor_path(tmp_path: Path):
    import sqlite3

    path = tmp_path / "secret-folder" / "crm.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as connection:
        for name, frame in tiny_tables().items():
            frame.to_sql(name, connection, index=False)
    unit = load_unit("alpha", data_source=f"sqlite:///{path}", period="2026-Q3", as_of="2026-10-15")
    assert "secret-folder" in unit.sources["customers"]
    with language("zh"):
        table = report.sources_table(unit)
    assert table[["data_table", "source_kind", "source_name"]].values.tolist() == [
        ["客户", "SQLite 数据库", "customers"],
        ["订单", "SQLite 数据库", "transactions"],
    ]
    assert "secret-folder" not in table.to_string() and "sqlite" not in table.to_string()


@pytest.mark.parametrize(
    "where, kind, name",
    [
        ("database postgresql+psycopg://crm:***@db.internal:5432/crm, table customers",
         "PostgreSQL database", "customers"),
        ("DuckDB /srv/data/crm.duckdb, table surveys", "DuckDB database", "surveys"),
        ("/srv/data/crm.xlsx [sheet customers]", "Excel workbook", "crm.xlsx, sheet customers"),
        ("/srv/data/crm.xlsx", "Excel workbook", "crm.xlsx"),
        ("/srv/data (copy)/surveys.csv (GB18030)", "CSV file (GB18030)", "surveys.csv"),
        ("C:\\Users\\ann\\crm\\costs.parquet", "Parquet file", "costs.parquet"),
        ("ftp://ann:pw@host/costs.bin", "other source", "–"),
    ],
)  # fmt: skip
def test_source_parts(where, kind, name):
    with language("en"):
        assert report.source_parts(where) == (kind, name)


# ----------------------------------------------------------------------------- loading rules

# Each rule as crmkit.load writes it, with the column names and values it fills in.
RULES = [
    ("exact duplicate row", "完全重复的行"),
    ("'nps' not a whole number (set missing)", "“nps”不是整数（已置空）"),
    (
        "'signup_date' after the customer's first order (set to its day)",
        "“signup_date”晚于该客户的首笔订单（已改为首单当天）",
    ),
    ("missing required value in 'customer_id'", "必填字段“customer_id”为空"),
    ("'outcome' not one of ['open', 'won', 'lost']", None),
    ("duplicate 'order_id' with different content (first kept)", None),
    ("'amount' above 1,000× the unit's median order",
     "“amount”超过本事业部订单金额中位数的 1,000 倍"),
    ("'amount' above 1,000× the unit's median opportunity (set missing)", None),
    ("'closed_at' before 'created_at' (set missing)", "“closed_at”早于“created_at”（已置空）"),
    ("'customer_id' written as numbers ('1001.0' read as '1001')", None),
    ("leading zeros dropped from 'customer_id' ('001000' read as '1000')", None),
    ("whitespace or letter case normalised in 'region'", "统一了“region”中的空格或大小写"),
    ("'order_date' read with date_format '%d.%m.%Y'", "“order_date”按日期格式 '%d.%m.%Y' 读取"),
    ("'order_date' read day-first (day before month)", None),
    ("'order_date' read month-first (month before day)", None),
    ("'closed_at' not a date (set missing)", None),
    ("'is_complaint' not true/false (set missing)", None),
    ("'amount' read with a decimal comma (1.234,50 = 1234.5)", None),
    ("'amount' read with a decimal point (1,234.50 = 1234.5)", None),
    ("'amount' does not parse as a number", "“amount”不是有效数字"),
    ("'acquisition_cost' does not parse as a number (set missing)", None),
    ("negative 'amount'", "“amount”为负数"),
    ("negative 'acquisition_cost' (set missing)", None),
    ("'nps' outside 0-10 (set missing)", "“nps”超出 0–10 的范围（已置空）"),
    ("'order_date' after today (2026-10-15): impossible date",
     "“order_date”晚于数据读取日（2026年10月15日），日期不可能成立"),
    ("'closed_at' after today (2026-10-15) (set missing)", None),
    ("dated after the period end", "日期在期末之后"),
    ("'closed_at' after the period end (treated as still open at the period end)", None),
    ("orphan opportunity_id (not among the unit's opportunities)",
     "无法关联的opportunity_id（不在本事业部的商机表中）"),
    ("business_unit blank (row belongs to no unit)", "事业部字段为空（该行不属于任何事业部）"),
    ("customer_id also listed under another unit", "customer_id同时登记在其他事业部下"),
    ("customer_id listed by more than one unit (row cannot be placed)", None),
]  # fmt: skip

DETAILS = [
    ("values seen: 'pending'", "出现的取值：'pending'"),
    ("median 1,234.50; e.g. 9e+12", "中位数 1,234.50；例如 9e+12"),
    ("2 of them won: they stay won, without a close date",
     "其中 2 个为赢单：仍记为赢单，但不设成交日期"),
    ("another table writes these ids without leading zeros; every table is read the same way; "
     "e.g. '001000'", None),
    ("e.g. 'Coast  ', 'NORTH'", "例如 'Coast  ', 'NORTH'"),
    ("decided from values like '13.01.2026'", None),
    ("its values fit both readings; read like 'signup_date' in the same file", None),
    ("a column of months: the number that is the same in every value is the day (e.g. '01.02')",
     None),
    ("its values fit both readings; the file is ';'-separated, as Excel writes where the comma "
     "is the decimal mark", None),
    ("as set by the date_format parameter", "按参数 date_format 的设置"),
    ("values like '1,234' fit both readings and none in the column tells which; set "
     "`decimal: ','` if the comma is the decimal mark there", None),
    ("units: east, west", "事业部：east, west"),
    ("customers lists 'C1' under east, west; add a business_unit column to surveys to place "
     "such rows",
     "客户表把 'C1' 登记在 east, west 下；请在满意度问卷表中加上事业部字段，以确定这些行的归属"),
    ("'maybe', 'maybe'", "'maybe', 'maybe'"),  # example values: data, shown as they are
]  # fmt: skip


def _data(text: str) -> set[str]:
    """The column names and values a rule or detail quotes (allowed in any language)."""
    import re

    quoted = re.findall(r"'([^']*)'", text)
    names = re.findall(r"\b[a-z]+_[a-z_]+\b|\b(?:nps|csat|amount|region|outcome)\b", text)
    return {word for q in quoted for word in re.findall(r"[A-Za-z]+", q)} | set(names)


@pytest.mark.parametrize("rule, expected", RULES)
def test_every_loading_rule_is_said_in_chinese(rule, expected):
    with language("zh"):
        said = report.rule_words(rule)
    assert said != rule
    if expected:
        assert said == expected
    assert english_words([said], allowed=_data(rule) | {"east", "west"}) == []


@pytest.mark.parametrize("detail, expected", DETAILS)
def test_every_rule_detail_is_said_in_chinese(detail, expected):
    with language("zh"):
        said = report.detail_words(detail)
    if expected:
        assert said == expected
    else:
        assert said != detail
    assert english_words([said], allowed=_data(detail) | {"east", "west", "decimal"}) == []


def test_an_unknown_rule_is_shown_as_written():
    with language("zh"):
        assert report.rule_words("a rule added later") == "a rule added later"
        assert report.action_words("dropped") == "剔除"


@pytest.fixture(scope="module")
def west():
    return load_unit("west", data_source=ROOT / "sample_data", period="2026-Q3", as_of="2026-10-15")


@pytest.mark.slow
def test_the_sample_log_reads_in_chinese(west):
    """West's sample holds planted defects: each of its rules is known to the catalogue."""
    entries = west.quality.entries
    assert len(entries) == 16
    with language("zh"):
        log = report.log_table(west)
    for entry, said in zip(entries, log["quality_rule"], strict=True):
        assert said != entry.rule
        assert english_words([said], allowed=_data(entry.rule)) == []
    assert set(log["quality_action"]) == {"剔除", "修复"}


@pytest.mark.slow
def test_the_samples_only_data_quality_flag_is_wests_missing_churn_events(west):
    """West's planted defects stay under the levels: at most 0.9% of a table dropped
    (transactions: 91 of 9,939 read) and 2.7% repaired (customers: 55 of 2,010). West records
    no churn (the sample plants it so), which costs sections of two reports: one flag."""
    counts = quality.loading_counts(west).set_index("table")
    assert counts.loc["transactions", "rows_dropped"] == 91
    assert counts.loc["transactions", "rows_read"] == 9939
    assert counts["dropped_share"].max() == pytest.approx(91 / 9939)
    assert counts["repaired_share"].max() == pytest.approx(55 / 2010)
    (flag,) = report.flags(west)
    assert flag.key == "table_missing"
    assert {k: flag.values[k] for k in ("table", "state", "needed_by")} == {
        "table": "churn_events",
        "state": "empty",
        "needed_by": "section",
    }
    with language("en"):
        assert report.key_findings(west)[0] == words("data_quality.verdict_sections_skipped")


def test_rows_without_an_id_are_named_in_the_report_language():
    with language("zh"):
        assert report.example_ids("row 231, row 232") == "第 231 行, 第 232 行"
        assert report.example_ids("o9, NO1234") == "o9, NO1234"  # real ids as they are
    with language("en"):
        assert report.example_ids("row 7") == "row 7"
