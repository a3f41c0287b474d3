"""A customer (or opportunity) listed by two units: its rows in tables without a
business_unit column are never silently given to one unit; they are dropped and counted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_tables, write_folder

from crmkit.load.unit import load_unit

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}


@pytest.fixture
def shared_folder(tmp_path: Path) -> Path:
    tables = tiny_tables()
    # A2 is listed by alpha and by beta
    tables["customers"].loc[4] = ["A2", "beta", "2026-03-01", "East", "x", "x"]
    tables["interactions"] = pd.DataFrame(
        {
            "interaction_id": ["i1", "i2", "i3", "i4"],
            "customer_id": ["A1", "A2", "A2", "B1"],
            "occurred_at": ["2026-07-01", "2026-07-02", "2026-07-03", "2026-07-04"],
            "channel": ["email"] * 4,
        }
    )
    return write_folder(tmp_path / "d", tables)


@pytest.mark.parametrize(("unit", "kept"), [("alpha", ["i1"]), ("beta", ["i4"])])
def test_rows_of_a_customer_of_two_units_are_dropped_and_counted(shared_folder, unit, kept):
    data = load_unit(unit, data_source=str(shared_folder), **Q3)
    assert data["interactions"]["interaction_id"].tolist() == kept
    dropped = [e for e in data.quality.entries if e.table == "interactions"]
    assert [(e.rule, e.action, e.rows, e.example_ids, e.detail) for e in dropped] == [
        (
            "customer_id listed by more than one unit (row cannot be placed)",
            "dropped",
            2,
            ("A2",),
            "customers lists 'A2' under alpha, beta; add a business_unit column to "
            "interactions to place such rows",
        )
    ]
    noted = [e for e in data.quality.entries if e.table == "customers"]
    assert [(e.rule, e.action, e.rows, e.example_ids, e.detail) for e in noted] == [
        ("customer_id also listed under another unit", "noted", 1, ("A2",), "units: alpha, beta")
    ]


def test_rows_with_their_own_unit_column_stay_with_that_unit(shared_folder: Path):
    # transactions carry business_unit: A2's alpha orders stay alpha's
    data = load_unit("alpha", data_source=str(shared_folder), **Q3)
    assert "A2" in set(data["transactions"]["customer_id"])


def test_each_id_is_placed_with_its_unit_or_with_several_units():
    from crmkit.load.scope import SEVERAL_UNITS, owner_of

    listing = pd.DataFrame(
        {
            "customer_id": ["C1", " C2", "C2", "C3", "C3", "C4", None, "C5", "C1"],
            "business_unit": [
                "North",
                "north ",
                "NORTH",
                "east",
                "North",
                "  ",
                "east",
                None,
                "north",
            ],
        }
    )
    owners = owner_of(listing, "customer_id", table="customers")
    # spellings of one unit are one unit; an id with no unit, or a unit with no id, places nothing
    assert owners.unit_of.to_dict() == {"C1": "north", "C2": "north", "C3": SEVERAL_UNITS}
    assert owners.shared.to_dict() == {"C3": "east, north"}
    assert owners.listed_with("east").index.tolist() == ["C3"]
