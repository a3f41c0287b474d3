"""The data-quality log: what loading dropped, repaired or excluded, counted per rule."""

import pytest

from crmkit.load.log import QualityLog


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


def test_log_as_a_frame():
    log = QualityLog()
    log.add("customers", "orphan customer_id", "dropped", 2, ["x", "y"], "no such customer")
    log.add("transactions", "after period end", "excluded", 4)
    frame = log.to_frame()
    assert frame.columns.tolist() == ["table", "rule", "action", "rows", "example_ids", "detail"]
    assert frame.loc[0, "example_ids"] == "x, y" and frame.loc[1, "example_ids"] == ""
    assert log.rows("excluded") == 4 and log.issues()[0]["rule"] == "orphan customer_id"
    assert QualityLog().to_frame().empty


def test_example_ids_shaped_like_contacts_are_masked():
    # member ids that are mobile numbers or email addresses are common in retail CRMs
    log = QualityLog()
    ids = ["13999999991", "13999999992", "C-1001", "wang@example.cn", "2026-07-03"]
    log.add("surveys", "orphan customer_id", "dropped", 5, ids)
    assert log.entries[0].example_ids == ("[phone]", "C-1001", "[email]", "2026-07-03")
