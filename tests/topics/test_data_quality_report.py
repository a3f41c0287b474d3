"""The data-quality report's words and results, on a hand-counted unit."""

from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_unit

from crmkit.metrics import quality
from crmkit.topics import data_quality as report
from crmkit.topics.registry import TOPICS


@pytest.fixture
def unit(tmp_path: Path):
    return tiny_unit(tmp_path / "d")


def test_missing_summary(unit):
    missing = quality.missing_values(unit)
    assert "region" in report.missing_summary(missing) and "33.3%" in report.missing_summary(
        missing
    )
    assert report.missing_summary(missing) == (
        "1 column(s) have gaps; the largest is customers.region, missing in 33.3% of rows."
    )
    assert report.missing_summary(missing.iloc[:0]) == "No column has missing values."


def test_key_findings_and_results(unit):
    sentences = report.key_findings(unit)
    assert sentences[0] == (
        "3 customers on record at the period end; 3 orders in the period, "
        "no comparable previous period."
    )
    assert sentences[1] == "No row needed to be dropped or repaired."
    assert "customers table looks stale: its latest record is 60 days" in sentences[2]
    assert sentences[3].startswith("Not provided: opportunities, stage_history")
    results = report.results(unit)
    assert set(results) == set(TOPICS["data_quality"].results)  # exactly the registry's keys
    assert results["tables"] == {"customers": 3, "transactions": 4}
    assert results["orders_in_period"] == 3 and results["max_days_stale"] == 60
    assert results["rows_dropped"] == 0 and results["issues"] == []
    assert report.results(unit, quality.table_overview(unit)) == results


def test_log_sentences(unit):
    assert report.log_summary(unit) == "Nothing was repaired, dropped or excluded while loading."
    assert report.orphan_summary(unit) == "Every row points at a known customer or opportunity."
    assert report.log_for_summary(unit, ["customers", "transactions"]) == (
        "Nothing was repaired, dropped or excluded in customers, transactions while loading."
    )
    unit.quality.add("transactions", "orphan customer_id", "dropped", 1200, ["o9"])
    unit.quality.add("transactions", "amount not a number", "repaired", 3)
    unit.quality.add("surveys", "orphan customer_id", "dropped", 2)
    assert report.log_summary(unit) == "Rows touched while loading: 1,202 dropped, 3 repaired."
    assert (
        report.orphan_summary(unit) == "1,202 orphan rows were dropped, in surveys, transactions."
    )
    assert report.log_for_summary(unit, ["transactions"]) == (
        "Rows of transactions touched while loading: 1,200 dropped, 3 repaired. Each rule is "
        "listed below; the data-quality report has the whole log."
    )
    assert report.key_findings(unit)[1] == (
        "Loading dropped 1,202 unusable rows and repaired 3 under 3 rule(s); every one is "
        "listed below."
    )


def test_sources_table_names_where_and_what_was_removed(unit):
    table = report.sources_table(unit).set_index("table")
    assert table.loc["customers", "source"].endswith("customers.csv (UTF-8)")
    assert table.loc["customers", "personal data removed"] == "name, email"
    assert table.loc["transactions", "personal data removed"] == "–"


def test_tables_without_rows_and_not_provided_are_named(tmp_path: Path):
    from conftest import tiny_tables, write_folder

    from crmkit.load.unit import load_unit

    tables = tiny_tables()
    tables["costs"] = pd.DataFrame(columns=["business_unit", "month", "category", "amount"])
    write_folder(tmp_path / "d", tables)
    unit = load_unit("alpha", data_source=str(tmp_path / "d"), period="2026-Q3", as_of="2026-10-15")
    sentences = report.key_findings(unit)
    assert sentences[-1] == (
        "Provided without any rows for this unit: costs; report sections that need them are "
        "skipped."
    )
    assert "costs" not in sentences[-2] and sentences[-2].startswith("Not provided: opportun")
    assert report.empty_tables(unit) == ["costs"]
    results = report.results(unit)
    assert results["tables"]["costs"] == 0 and "costs" not in results["missing_tables"]
    # a report's log sentence names the tables it used that were provided, not the others
    assert report.log_for_summary(unit, ["customers", "interactions", "costs"]) == (
        "Nothing was repaired, dropped or excluded in customers, costs while loading."
    )
