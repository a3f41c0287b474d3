"""The one rule of what a complaint is: tickets marked as complaints where that mark holds
values, else contacts whose kind is a complaint; one source, never both."""

import pandas as pd
import pytest

from crmkit.metrics.churn_features import features_at
from crmkit.metrics.complaints import (
    COMPLAINT_KINDS,
    complaint_interactions,
    complaint_rows,
    complaint_source,
)


def _tickets(flags, categories=("billing", "returns", "billing")):
    return pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3"],
            "customer_id": ["a", "b", "a"],
            "opened_at": pd.to_datetime(["2026-07-01", "2026-07-05", "2026-08-01"]),
            "category": list(categories),
            "is_complaint": pd.array(flags, dtype="boolean"),
        }
    )


def _contacts(kinds=("投诉", " Complaint ", "sales", None)):
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "c"],
            "occurred_at": pd.to_datetime(["2026-07-02", "2026-07-03", "2026-07-04", "2026-07-09"]),
            "kind": pd.array(list(kinds), dtype="string"),
        }
    )


def test_tickets_with_a_mark_are_the_source_and_contacts_are_then_ignored():
    tickets = _tickets([True, False, True])
    assert complaint_source(tickets, _contacts()) == "tickets"
    rows = complaint_rows(tickets, _contacts())
    # t1 and t3 (both customer a, billing); the two complaint contacts are not added
    assert rows["customer_id"].tolist() == ["a", "a"]
    assert rows["category"].tolist() == ["billing", "billing"]
    assert rows["at"].tolist() == list(pd.to_datetime(["2026-07-01", "2026-08-01"]))


def test_an_empty_mark_is_no_source_and_contacts_count_instead():
    tickets = _tickets([None, None, None])
    assert complaint_source(tickets, _contacts()) == "interactions"
    rows = complaint_rows(tickets, _contacts())
    # kinds compared trimmed and in lower case: "投诉" and " Complaint "; no category
    assert rows["customer_id"].tolist() == ["a", "b"]
    assert rows["category"].isna().all()
    assert complaint_interactions(_contacts()).tolist() == [True, True, False, False]
    assert {"complaint", "投诉"} <= COMPLAINT_KINDS


def test_no_source_without_a_mark_or_a_kind():
    assert complaint_source(None, None) is None
    assert complaint_source(_tickets([None] * 3), _contacts((None, " ", "", None))) is None
    assert complaint_source(_tickets([None] * 3), _contacts().drop(columns="kind")) is None
    assert complaint_source(_tickets([True] * 3).iloc[:0], None) is None  # no rows
    empty = complaint_rows(None, None)
    assert list(empty.columns) == ["customer_id", "at", "category"] and empty.empty


def test_a_mark_of_only_false_is_a_source_with_no_complaints():
    tickets = _tickets([False, False, False])
    assert complaint_source(tickets, _contacts()) == "tickets"
    assert complaint_rows(tickets, _contacts()).empty


def test_rows_without_a_customer_or_date_are_left_out():
    tickets = _tickets([True, True, True])
    tickets.loc[1, "opened_at"] = pd.NaT
    tickets["customer_id"] = pd.array(["a", "b", None], dtype="string")
    assert complaint_rows(tickets, None)["customer_id"].tolist() == ["a"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [([True, False, True], {"a": 2.0, "b": 0.0}), ([None, None, None], {"a": 1.0, "b": 1.0})],
)
def test_churn_features_count_complaints_by_the_same_rule(flags, expected):
    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_date": pd.to_datetime(["2026-01-01"] * 2)}
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2026-06-01"] * 2),
            "amount": [1.0, 1.0],
        }
    )
    found = features_at(
        customers, orders, cut="2026-08-31", tickets=_tickets(flags), interactions=_contacts()
    )
    assert dict(zip(found["customer_id"], found["complaints_90d"], strict=True)) == expected
