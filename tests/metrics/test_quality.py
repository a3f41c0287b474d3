"""Data-quality profiles of a unit: tables, gaps and volume, on a hand-counted unit."""

from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_unit

from crmkit.metrics import quality


@pytest.fixture
def unit(tmp_path: Path):
    return tiny_unit(tmp_path / "d")


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
    assert not missing.loc[0, "required"]


def test_monthly_volume_fills_empty_months(unit):
    volume = quality.monthly_volume(unit, months=3)
    customers = volume.loc[volume["table"] == "customers", "rows"].tolist()
    orders = volume.loc[volume["table"] == "transactions", "rows"].tolist()
    assert customers == [0, 1, 0] and orders == [1, 1, 1]
    assert volume["month"].min() == pd.Timestamp("2026-07-01")


def test_loading_counts_by_hand(unit):
    unit.quality.add("transactions", "a", "dropped", 2)
    unit.quality.add("transactions", "b", "dropped", 1)
    unit.quality.add("transactions", "c", "repaired", 3)
    unit.quality.add("transactions", "d", "excluded", 1)
    unit.quality.add("transactions", "e", "noted", 9)
    unit.quality.add("surveys", "f", "dropped", 5)  # not provided: no row
    counts = quality.loading_counts(unit).set_index("table")
    assert counts.index.tolist() == ["customers", "transactions"]
    tx = counts.loc["transactions"]
    # 4 kept + 3 dropped + 1 excluded = 8 read; noted rows are kept rows
    assert (tx["rows_read"], tx["rows_dropped"], tx["rows_repaired"]) == (8, 3, 3)
    assert tx["dropped_share"] == pytest.approx(3 / 8)
    assert tx["repaired_share"] == pytest.approx(3 / 8)
    assert counts.loc["customers", "rows_read"] == 3
    assert counts.loc["customers", "dropped_share"] == 0


def test_a_header_only_table_is_provided_with_no_rows(tmp_path: Path):
    from conftest import tiny_tables, write_folder

    from crmkit.load.unit import load_unit

    tables = tiny_tables()
    tables["costs"] = pd.DataFrame(columns=["business_unit", "month", "category", "amount"])
    write_folder(tmp_path / "d", tables)
    unit = load_unit("alpha", data_source=str(tmp_path / "d"), period="2026-Q3", as_of="2026-10-15")
    overview = quality.table_overview(unit).set_index("table")
    costs = overview.loc["costs"]
    assert costs["provided"] and costs["rows_to_period_end"] == 0 and costs["rows_in_period"] == 0
    assert pd.isna(costs["days_stale"]) and pd.isna(costs["last_date"])
    assert not overview.loc["surveys", "provided"]
