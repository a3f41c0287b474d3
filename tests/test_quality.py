from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_tables, write_folder

from crmkit import quality
from crmkit.load.log import QualityLog
from crmkit.load.unit import load_unit


@pytest.fixture
def unit(tmp_path: Path):
    tables = tiny_tables()
    tables["customers"].loc[1, "region"] = ""
    folder = write_folder(tmp_path / "d", tables)
    return load_unit("alpha", data_source=str(folder), period="2026-Q3", as_of="2026-10-15")


def test_table_overview_by_hand(unit):
    overview = quality.table_overview(unit).set_index("table")
    tx = overview.loc["transactions"]
    assert (tx["rows_to_period_end"], tx["rows_in_period"], tx["rows_previous_period"]) == (4, 3, 0)
    assert tx["first_date"] == pd.Timestamp("2026-01-05")
    assert tx["days_stale"] == 29  # 2026-09-01 to 2026-09-30
    assert overview.loc["customers", "rows_in_period"] == 1  # A3 signed up in August
    assert overview.loc["customers", "days_stale"] == 60
    assert not overview.loc["surveys", "provided"]


def test_missing_values_by_hand(unit):
    missing = quality.missing_values(unit)
    assert missing[["table", "column", "missing"]].values.tolist() == [["customers", "region", 1]]
    assert missing.loc[0, "share"] == pytest.approx(1 / 3)
    assert "region" in quality.missing_summary(missing) and "33.3%" in quality.missing_summary(
        missing
    )


def test_monthly_volume_fills_empty_months(unit):
    volume = quality.monthly_volume(unit, months=3)
    customers = volume.loc[volume["table"] == "customers", "rows"].tolist()
    orders = volume.loc[volume["table"] == "transactions", "rows"].tolist()
    assert customers == [0, 1, 0] and orders == [1, 1, 1]
    assert volume["month"].min() == pd.Timestamp("2026-07-01")


def test_key_findings_and_results(unit):
    sentences = quality.key_findings(unit)
    assert sentences[0] == (
        "3 customers on record at the period end; 3 orders in the period, "
        "no comparable previous period."
    )
    assert sentences[1] == "No row needed to be dropped or repaired."
    assert "customers table looks stale: its latest record is 60 days" in sentences[2]
    assert sentences[3].startswith("Not provided: opportunities, stage_history")
    results = quality.results(unit)
    assert results["tables"] == {"customers": 3, "transactions": 4}
    assert results["orders_in_period"] == 3 and results["max_days_stale"] == 60
    assert results["rows_dropped"] == 0 and results["issues"] == []


def test_log_records_counts_and_rejects_unknown_actions():
    log = QualityLog()
    log.add("transactions", "rule", "dropped", 0, ["x"])
    assert log.entries == []
    log.add("transactions", "rule", "dropped", 3, ["a", "b", "a", "c", "d", "e", "f"])
    assert log.entries[0].example_ids == ("a", "b", "c", "d", "e")
    log.add("surveys", "other", "repaired", 2)
    assert (log.rows_dropped, log.rows_repaired) == (3, 2)
    assert log.issues() == [
        {"table": "transactions", "rule": "rule", "action": "dropped", "rows": 3},
        {"table": "surveys", "rule": "other", "action": "repaired", "rows": 2},
    ]
    with pytest.raises(ValueError, match="action must be one of"):
        log.add("t", "r", "deleted", 1)


def test_reading_table_formats():
    from crmkit.present.format import change, money, pct
    from crmkit.present.notebook import table

    frame = pd.DataFrame(
        {
            "share_won": [0.1234, None],
            "revenue": [1234567.8, 5.0],
            "ok": [True, False],
            "day": pd.to_datetime(["2026-09-30 10:00", None]),
        }
    )
    html = table(frame, percent=["share_won"], money_columns=["revenue"], dates=["day"]).to_html()
    for text in ("12.3%", "1,234,568", "yes", "no", "2026-09-30", "share won", "–"):
        assert text in html
    assert "10:00" not in html
    assert "text-align: left" not in html  # numbers, yes/no and dates stay right-aligned
    assert pct(0.5) == "50.0%" and money(1234.5, "CNY") == "1,234 CNY"
    assert change(110, 100) == "up 10.0% on the previous period"
    assert change(90, 100) == "down 10.0% on the previous period"
    assert change(5, 0) == "no comparable previous period"


def test_reading_table_aligns_words_left_and_numbers_right():
    import re

    from crmkit.present.notebook import table

    frame = pd.DataFrame(
        {
            "owner": ["Blake", "Casey"],
            "interval": ["44–58%", "-2.1 to +3 points"],
            "reached": [223, 103],
            "comment": ["太慢了", None],
        }
    )
    html = table(frame).to_html()
    left = set(re.findall(r"td\.col(\d+) \{\s*text-align: left", html))
    assert left == {"0", "3"}
