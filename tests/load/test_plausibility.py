"""Implausible values flagged by documented rules and counted with example ids: amounts far
above the unit's median, dates before the date they follow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from conftest import tiny_tables, write_folder

from crmkit.load.unit import load_unit

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}


def load(tables: dict[str, pd.DataFrame], tmp_path: Path):
    return load_unit("alpha", data_source=str(write_folder(tmp_path / "d", tables)), **Q3)


def entries(data, table: str) -> list[tuple]:
    return [
        (e.rule, e.action, e.rows, e.example_ids, e.detail)
        for e in data.quality.entries
        if e.table == table
    ]


def test_amount_above_1000_times_the_median_order_is_dropped(tmp_path: Path):
    tables = tiny_tables()
    tables["transactions"]["amount"] = ["10.00", "1e12", "5", "7.25", "99"]
    data = load(tables, tmp_path)
    assert data["transactions"]["order_id"].tolist() == ["o1", "o3", "o4"]
    assert entries(data, "transactions") == [
        (
            "'amount' above 1,000× the unit's median order",
            "dropped",
            1,
            ("o2",),
            "median 8.62; e.g. 1000000000000.0",
        )
    ]


def test_amount_just_under_the_limit_stays(tmp_path: Path):
    tables = tiny_tables()
    tables["transactions"]["amount"] = ["10", "9000", "5", "10", "99"]  # median 10
    data = load(tables, tmp_path)
    assert len(data["transactions"]) == 4 and data.quality.entries == []


def opportunities(**columns) -> pd.DataFrame:
    base = {
        "opportunity_id": ["p1", "p2", "p3", "p4"],
        "business_unit": ["alpha"] * 4,
        "created_at": ["2026-07-10", "2026-07-11", "2026-07-12 09:00", "2026-07-13"],
        "outcome": ["won", "lost", "won", "open"],
        "closed_at": ["2026-07-01", "2026-07-20", "2026-07-12", ""],
        "amount": ["100", "200", "300", "400"],
    }
    return pd.DataFrame({**base, **columns})


def test_closed_before_created_is_set_missing_and_a_won_deal_stays_won(tmp_path: Path):
    tables = tiny_tables()
    tables["opportunities"] = opportunities()
    data = load(tables, tmp_path)
    frame = data["opportunities"].set_index("opportunity_id")
    assert frame.loc["p1", "outcome"] == "won" and pd.isna(frame.loc["p1", "closed_at"])
    # closed on the day of creation, later in the day than midnight: not before (by day)
    assert frame.loc["p3", "closed_at"] == pd.Timestamp("2026-07-12")
    assert entries(data, "opportunities") == [
        (
            "'closed_at' before 'created_at' (set missing)",
            "repaired",
            1,
            ("p1",),
            "1 of them won: they stay won, without a close date",
        )
    ]


def test_opportunity_amount_far_above_the_median_is_set_missing(tmp_path: Path):
    tables = tiny_tables()
    tables["opportunities"] = opportunities(
        closed_at=["2026-07-20"] * 3 + [""], amount=["100", "200", "3000000", "150"]
    )
    data = load(tables, tmp_path)
    frame = data["opportunities"].set_index("opportunity_id")
    assert pd.isna(frame.loc["p3", "amount"]) and frame.loc["p3", "outcome"] == "won"
    [entry] = entries(data, "opportunities")
    assert entry[:4] == (
        "'amount' above 1,000× the unit's median opportunity (set missing)",
        "repaired",
        1,
        ("p3",),
    )


def test_ticket_answered_or_resolved_before_opened_is_set_missing(tmp_path: Path):
    tables = tiny_tables()
    tables["tickets"] = pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3"],
            "customer_id": ["A1", "A2", "A3"],
            "business_unit": ["alpha"] * 3,
            "opened_at": ["2026-07-01 10:00", "2026-07-02 11:30", "2026-07-03 09:15"],
            "first_response_at": ["2026-07-01 09:00", "2026-07-02 12:00", "2026-07-03 10:00"],
            "resolved_at": ["2026-07-02 10:00", "2026-07-01 08:00", "2026-07-02 10:00"],
        }
    )
    data = load(tables, tmp_path)
    frame = data["tickets"].set_index("ticket_id")
    assert frame["first_response_at"].isna().tolist() == [True, False, False]
    assert frame["resolved_at"].isna().tolist() == [False, True, True]
    assert [e[:4] for e in entries(data, "tickets")] == [
        ("'first_response_at' before 'opened_at' (set missing)", "repaired", 1, ("t1",)),
        ("'resolved_at' before 'opened_at' (set missing)", "repaired", 2, ("t2", "t3")),
    ]
