"""A unit's snapshot: what a notebook reads back is exactly what loading gave."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from conftest import ROOT, tiny_tables, write_folder

from crmkit.core.errors import CrmkitError, DataError
from crmkit.load.snapshot import loading_key, read_snapshot, stage, write_snapshot
from crmkit.load.unit import load_unit
from crmkit.present.notebook import open_unit as open_unit_and_theme

SAMPLE = ROOT / "sample_data"


def open_unit(namespace: dict):
    """``ck.open_unit`` without leaving its chart theme on for the tests that follow."""
    with matplotlib.rc_context():
        return open_unit_and_theme(namespace)


NORTH = {
    "business_unit": "north",
    "data_source": str(SAMPLE),
    "period_start": "2026-07-01",
    "period_end": "2026-09-30",
    "as_of": "2026-10-15",
}


@pytest.fixture(scope="module")
def north():
    return load_unit(**NORTH)


def test_a_snapshot_reads_back_the_loaded_unit_exactly(north, tmp_path: Path):
    folder = write_snapshot(north, tmp_path / "snapshot", key="k")
    staged = read_snapshot(folder, key="k")
    assert list(staged.tables) == list(north.tables)
    for name, frame in north.tables.items():
        pd.testing.assert_frame_equal(staged.tables[name], frame, check_exact=True)
    assert staged.quality.entries == north.quality.entries
    assert staged.period == north.period
    assert (staged.business_unit, staged.display_name, staged.currency) == (
        north.business_unit,
        north.display_name,
        north.currency,
    )
    assert staged.sources == north.sources and staged.pii_removed == north.pii_removed
    # the audit trail a person reads: the log as the reports show it
    log = pd.read_csv(folder / "quality_log.csv")
    assert log["rows"].sum() == sum(e.rows for e in north.quality.entries)


def test_a_snapshot_reads_a_table_only_when_a_report_asks_for_it(north, tmp_path: Path):
    folder = write_snapshot(north, tmp_path / "snapshot", key="k")
    staged = read_snapshot(folder, key="k")
    # the files are replaced after opening: what was not read yet is read from the new file
    (folder / "surveys.parquet").unlink()
    north["tickets"].iloc[:2].to_parquet(folder / "tickets.parquet", index=False)
    assert "surveys" in staged.tables and "tickets" in staged.tables  # no read to answer
    assert len(staged["tickets"]) == 2
    pd.testing.assert_frame_equal(staged["customers"], north["customers"], check_exact=True)
    with pytest.raises(CrmkitError, match=r"surveys\.parquet: this snapshot's surveys table "):
        staged.tables.get("surveys")
    assert staged.tables.get("no such table") is None


READS = {
    "transactions": ("amount", "customer_id", "not a column"),
    "customers": None,
    "surveys": ("nps",),
    "no_such_table": ("x",),
}


def test_a_report_reads_only_the_columns_it_computes_with(north, tmp_path: Path):
    folder = write_snapshot(north, tmp_path / "snapshot", key="k")
    staged = read_snapshot(folder, key="k")
    for unit in (north, staged):
        read = unit.read(READS, required=["customers"])
        # the table's own order, the listed columns it has, the loaded values and dtypes
        pd.testing.assert_frame_equal(
            read["transactions"], north["transactions"][["customer_id", "amount"]]
        )
        pd.testing.assert_frame_equal(read["customers"], north["customers"], check_exact=True)
        pd.testing.assert_frame_equal(read["surveys"], north["surveys"][["nps"]])
        assert read["no_such_table"] is None
    # from disk: only those columns were read, and no table read so is kept
    assert not staged.tables._read
    # a table read whole already is selected from memory, not read again
    staged["customers"]
    (folder / "customers.parquet").unlink()
    assert list(staged.read({"customers": ("region",)})["customers"].columns) == ["region"]


def test_a_required_table_that_is_not_there_says_which_and_what_to_do(north, tmp_path: Path):
    unit = replace(north, tables={k: v for k, v in north.tables.items() if k != "surveys"})
    assert unit.read({"surveys": ("nps",)})["surveys"] is None
    with pytest.raises(DataError, match="Table 'surveys' was not provided for unit 'north'"):
        unit.read({"surveys": ("nps",)}, required=["surveys"])


def test_a_snapshot_with_a_missing_or_cut_table_file_is_not_read(north, tmp_path: Path):
    folder = write_snapshot(north, tmp_path / "snapshot", key="k")
    data = (folder / "tickets.parquet").read_bytes()
    (folder / "tickets.parquet").write_bytes(data[: len(data) // 2])
    assert read_snapshot(folder, key="k") is None
    (folder / "tickets.parquet").unlink()
    assert read_snapshot(folder, key="k") is None


def test_a_snapshot_made_with_other_parameters_or_another_layout_is_not_read(north, tmp_path):
    folder = write_snapshot(north, tmp_path / "snapshot", key="k")
    assert read_snapshot(folder, key="other") is None
    assert read_snapshot(tmp_path / "nowhere") is None
    meta = folder / "snapshot.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("format: 1", "format: 99"))
    assert read_snapshot(folder) is None


def test_the_loading_key_tells_loads_apart_and_ignores_empty_defaults():
    assert loading_key(NORTH) == loading_key({**NORTH, "column_map": {}, "pii_columns": []})
    assert loading_key(NORTH) != loading_key({**NORTH, "period_end": "2026-08-31"})
    assert loading_key(NORTH) != loading_key({**NORTH, "column_map": {"kunde": "customer_id"}})
    assert loading_key(NORTH) == loading_key({**NORTH, "language": "zh", "snapshot": "x"})


def test_a_notebook_reads_the_snapshot_made_with_its_own_parameters(tmp_path: Path):
    unit = load_unit(
        "alpha",
        data_source=write_folder(tmp_path / "data", tiny_tables()),
        period="2026-Q3",
        as_of="2026-10-15",
    )
    parameters = {
        "business_unit": "alpha",
        "data_source": str(tmp_path / "data"),
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "as_of": "2026-10-15",
    }
    # a snapshot that differs from the source (one customer fewer) shows which was read
    unit.tables["customers"] = unit.tables["customers"].iloc[1:].reset_index(drop=True)
    folder = write_snapshot(unit, tmp_path / "snapshot", key=loading_key(parameters))
    assert len(open_unit({**parameters, "snapshot": str(folder)})["customers"]) == 2
    assert len(open_unit(parameters)["customers"]) == 3
    # edited by hand to another period: the notebook loads its source, not the snapshot
    moved = {**parameters, "period_end": "2026-09-29", "snapshot": str(folder)}
    assert len(open_unit(moved)["customers"]) == 3


def test_staging_a_unit_that_cannot_be_loaded_says_why_and_writes_nothing(tmp_path: Path):
    tables = tiny_tables()
    tables["customers"] = tables["customers"].drop(columns="signup_date")
    data = write_folder(tmp_path / "data", tables)
    parameters = {**NORTH, "business_unit": "alpha", "data_source": str(data)}
    reason = stage(parameters, tmp_path / "snapshot")
    assert "signup_date" in reason
    assert not (tmp_path / "snapshot").exists()
    assert list(tmp_path.iterdir()) == [data]  # no partial folder left


def test_staging_writes_the_snapshot_a_notebook_with_the_same_parameters_reads(tmp_path):
    data = write_folder(tmp_path / "data", tiny_tables())
    parameters = {**NORTH, "business_unit": "alpha", "data_source": str(data)}
    assert stage(parameters, tmp_path / "snapshot") == ""
    staged = read_snapshot(tmp_path / "snapshot", key=loading_key(parameters))
    assert sorted(staged["customers"]["customer_id"]) == ["A1", "A2", "A3"]
    assert "name" not in staged["customers"].columns  # personal data never reaches the disk


def test_a_snapshot_that_cannot_be_written_says_why_and_leaves_nothing(tmp_path, monkeypatch):
    data = write_folder(tmp_path / "data", tiny_tables())
    parameters = {**NORTH, "business_unit": "alpha", "data_source": str(data)}

    def unwritable(frame, path, **_):
        raise ValueError("a column Arrow cannot type")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", unwritable)
    reason = stage(parameters, tmp_path / "snapshot")
    assert reason == "its snapshot cannot be written (ValueError: a column Arrow cannot type)"
    assert list(tmp_path.iterdir()) == [data]


def test_a_snapshot_keeps_the_ranges_the_engine_filters_by_and_not_those_of_ids(north, tmp_path):
    import pyarrow.parquet as pq

    folder = write_snapshot(north, tmp_path / "snapshot", key="k")
    metadata = pq.ParquetFile(folder / "transactions.parquet").metadata
    group = metadata.row_group(0)
    ranged = {
        group.column(i).path_in_schema: group.column(i).is_stats_set
        for i in range(group.num_columns)
    }
    assert ranged["order_date"] and ranged["amount"]
    assert not ranged["order_id"] and not ranged["customer_id"]
    dates = group.column(list(ranged).index("order_date")).statistics
    assert (dates.min, dates.max) == (
        north["transactions"]["order_date"].min().to_pydatetime(),
        north["transactions"]["order_date"].max().to_pydatetime(),
    )
