import numpy as np
import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.metrics.churn_features import (
    FEATURES,
    attribute_columns,
    encode,
    features_at,
)

CUT = "2026-06-30"
ARROW = pd.StringDtype("pyarrow")


def _ts(values):
    return pd.to_datetime(values, format="ISO8601")


def tiny(ids=ARROW):
    """Three customers around a cut on 30 June 2026; every feature counted by hand below."""
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(["a", "b", "c"], dtype=ids),
            "business_unit": "u",
            "signup_date": _ts(["2025-06-30", "2026-06-01", "2026-07-05"]),
            "region": ["East", "West", "East"],
            "plan": ["basic", "pro", "pro"],
        }
    )
    transactions = pd.DataFrame(
        {
            "order_id": [f"o{k}" for k in range(7)],
            "customer_id": pd.array(["a", "a", "a", "a", "a", "b", "zz"], dtype=ids),
            "order_date": _ts(
                [
                    "2025-06-30",  # 366 days before the end of the cut day: not in the year
                    "2025-07-01",  # the first day of the year
                    "2026-03-15",  # the 90 days before the last 90
                    "2026-06-30 18:30",  # the cut day itself, late
                    "2026-07-01",  # after the cut: never read
                    "2026-07-02",
                    "2026-06-01",  # an order of nobody in customers
                ]
            ),
            "amount": [5.0, 10.0, 20.0, 50.0, 1000.0, 70.0, 3.0],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3", "t4"],
            "customer_id": pd.array(["a", "a", "a", "b"], dtype=ids),
            "opened_at": _ts(["2026-04-01", "2026-04-02", "2026-06-10", "2026-07-01"]),
            "is_complaint": pd.array([True, True, False, True], dtype="boolean"),
        }
    )
    interactions = pd.DataFrame(
        {
            "interaction_id": ["i1", "i2", "i3", "i4"],
            "customer_id": pd.array(["a", "a", "a", "b"], dtype=ids),
            "occurred_at": _ts(["2026-01-01", "2026-01-02", "2026-06-20", "2026-06-15"]),
            "kind": ["sales", "support", "Complaint", "support"],
        }
    )
    surveys = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "customer_id": pd.array(["a", "a", "a"], dtype=ids),
            "responded_at": _ts(["2026-05-01", "2026-06-01", "2026-07-01"]),
            "nps": [9.0, 3.0, 10.0],
            "csat": [4.0, np.nan, 1.0],
        }
    )
    return {
        "customers": customers,
        "transactions": transactions,
        "tickets": tickets,
        "interactions": interactions,
        "surveys": surveys,
    }


def _features(tables, **drop):
    optional = {k: tables[k] for k in ("interactions", "tickets", "surveys")}
    optional.update(drop)
    return features_at(tables["customers"], tables["transactions"], cut=CUT, **optional)


def test_every_feature_counted_by_hand():
    found = _features(tiny()).set_index("customer_id")
    assert list(found.index) == ["a", "b"]  # c signed up after the cut
    a, b = found.loc["a"], found.loc["b"]
    assert a["orders_last_year"] == 3  # 1 Jul 2025, 15 Mar, 30 Jun; not 30 Jun 2025
    assert a["recency_days"] == 0  # ordered on the cut day
    assert a["spend_trend"] == pytest.approx((50 - 20) / (50 + 20))
    assert a["tenure_months"] == pytest.approx(365 / 30.4375)
    # 2 Jan (the 180th day back) and 20 Jun, over 180 days of being a customer
    assert a["interactions_per_month"] == pytest.approx(2 / (180 / 30.4375))
    assert a["complaints_90d"] == 1  # 2 Apr is the 90th day back, 1 Apr is not
    assert a["tickets_90d"] == 2
    assert a["latest_nps"] == 3  # 1 Jun; the 1 Jul response comes after the cut
    assert a["latest_csat"] == 4  # the 1 Jun response has no CSAT: 1 May's stands
    assert a["days_since_contact"] == 10
    assert b["orders_last_year"] == 0 and np.isnan(b["recency_days"])
    assert b["spend_trend"] == 0  # no spend in either window: no change
    assert b["tenure_months"] == pytest.approx(29 / 30.4375)
    # one interaction in 30 days at least of being observed (b joined 29 days ago)
    assert b["interactions_per_month"] == pytest.approx(1 / (30 / 30.4375))
    assert b["complaints_90d"] == 0 and b["tickets_90d"] == 0
    assert np.isnan(b["latest_nps"]) and np.isnan(b["latest_csat"])
    assert b["days_since_contact"] == 15
    assert list(found.columns) == [*FEATURES, "region", "plan"]


def test_complaints_come_from_interactions_when_tickets_do_not_flag_them():
    tables = tiny()
    tickets = tables["tickets"].drop(columns="is_complaint")
    found = _features(tables, tickets=tickets).set_index("customer_id")
    assert found.loc["a", "complaints_90d"] == 1  # the "Complaint" interaction of 20 Jun
    assert found.loc["a", "tickets_90d"] == 2
    # tickets flag complaints: the complaint interaction is not counted twice
    assert _features(tables).set_index("customer_id").loc["a", "complaints_90d"] == 1


def test_an_empty_complaint_column_is_no_source_of_complaints():
    """An export with is_complaint present but blank knows nothing of complaints: the
    interactions' complaints count; with kind blank too, the feature is left out, not 0."""
    tables = tiny()
    tickets = tables["tickets"].copy()
    tickets["is_complaint"] = pd.Series(pd.NA, index=tickets.index, dtype="boolean")
    found = _features(tables, tickets=tickets).set_index("customer_id")
    assert found.loc["a", "complaints_90d"] == 1  # the "Complaint" interaction of 20 Jun
    interactions = tables["interactions"].assign(kind=pd.NA)
    found = _features(tables, tickets=tickets, interactions=interactions)
    assert "complaints_90d" not in found.columns
    assert "tickets_90d" in found.columns and "interactions_per_month" in found.columns


def test_absent_or_empty_tables_leave_their_features_out_not_zero():
    tables = tiny()
    found = _features(tables, interactions=None, tickets=tables["tickets"].iloc[:0], surveys=None)
    assert list(found.columns) == [
        "customer_id",
        "orders_last_year",
        "recency_days",
        "spend_trend",
        "tenure_months",
        "region",
        "plan",
    ]
    no_nps = _features(tables, surveys=tables["surveys"].drop(columns="nps"))
    assert "latest_nps" not in no_nps and "latest_csat" in no_nps


def _after_cut_changed(tables, *, drop: bool, seed: int = 1):
    """The tables with every row dated after the cut deleted, or shuffled among themselves
    (customers, amounts and dates permuted) and joined by more late rows."""
    rng = np.random.default_rng(seed)
    dates = {
        "transactions": "order_date",
        "tickets": "opened_at",
        "interactions": "occurred_at",
        "surveys": "responded_at",
    }
    changed = dict(tables)
    for name, column in dates.items():
        frame = tables[name]
        late = frame[column] >= pd.Timestamp("2026-07-01")  # the day after the cut
        if drop:
            changed[name] = frame.loc[~late]
            continue
        shuffled = frame.loc[late].copy()
        for col in shuffled.columns:
            if col != column:
                shuffled[col] = rng.permutation(np.array(shuffled[col], dtype=object))
        extra = shuffled.assign(**{column: shuffled[column] + pd.Timedelta(days=3)})
        changed[name] = pd.concat([frame.loc[~late], extra, shuffled]).sample(
            frac=1, random_state=seed
        )
    return changed


@pytest.mark.parametrize("drop", [True, False])
def test_rows_after_the_cut_change_nothing(drop):
    tables = tiny()
    before = _features(tables)
    after = _features(_after_cut_changed(tables, drop=drop))
    pd.testing.assert_frame_equal(before, after)


def test_text_ids_give_the_same_features_as_arrow_ids():
    arrow = _features(tiny(ARROW))
    plain = _features(tiny(object))
    pd.testing.assert_frame_equal(
        arrow.assign(customer_id=arrow["customer_id"].astype(object)),
        plain.assign(customer_id=plain["customer_id"].astype(object)),
    )


def test_candidate_attribute_columns():
    n = 30
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{k}" for k in range(n)],
            "business_unit": "u",
            "signup_date": pd.Timestamp("2026-01-01"),
            "plan": ["basic", "pro"] * (n // 2),
            "contract": ["monthly"] * n,  # one value: nothing to compare
            "account_ref": [f"ref-{k}" for k in range(n)],  # 30 values: an identifier
            "partner_id": ["p1", "p2"] * (n // 2),
            "age": np.arange(n, dtype=float),
            "email": ["x@y.z"] * (n - 1) + ["w@y.z"],
            "last_seen": pd.Timestamp("2026-02-01"),
            "vip": [True, False] * (n // 2),
        }
    )
    assert attribute_columns(customers) == ["plan", "age", "vip"]


def test_columns_read_from_a_file_as_text_are_attributes_as_meant():
    """A CSV keeps columns beyond the contract as text, blanks as "": a score with blanks
    is a number feature (missing where blank), a plan with blanks has no nameless value."""
    n = 40
    score = [f"{k * 1.5:.1f}" for k in range(n)]
    score[::4] = [""] * 10
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{k}" for k in range(n)],
            "business_unit": "u",
            "signup_date": pd.Timestamp("2026-01-01"),
            "plan": ["basic", "pro", " ", "pro "] * (n // 4),
            "score": score,
            "会员等级": ["金卡", "银卡"] * (n // 2),
            "psy_interest": ["1", "2", "3", "4"] * (n // 4),  # a contract category
        }
    )
    orders = pd.DataFrame(
        {"customer_id": ["c0"], "order_date": pd.Timestamp("2026-02-01"), "amount": [5.0]}
    )
    assert attribute_columns(customers) == ["plan", "score", "会员等级", "psy_interest"]
    features = features_at(customers, orders, cut=CUT)
    assert not pd.api.types.is_numeric_dtype(features["psy_interest"])
    assert pd.api.types.is_float_dtype(features["score"])
    assert features["score"].isna().sum() == 10 and features["score"].max() == 58.5
    assert features["plan"].value_counts(dropna=False).to_dict() == {
        "pro": 20,
        "basic": 10,
        pd.NA: 10,
    }


def test_a_missing_column_is_named():
    tables = tiny()
    with pytest.raises(ParameterError, match=r"\['amount'\].*transactions"):
        features_at(tables["customers"], tables["transactions"].drop(columns="amount"), cut=CUT)


def test_encoded_tables_read_for_several_cuts_match_single_reads():
    tables = tiny()
    encoded = encode(
        tables["customers"],
        tables["transactions"],
        interactions=tables["interactions"],
        tickets=tables["tickets"],
    )
    from crmkit.metrics.churn_features import features_from

    for cut in ("2026-03-31", CUT, "2026-09-30"):
        once = features_at(
            tables["customers"],
            tables["transactions"],
            cut=cut,
            interactions=tables["interactions"],
            tickets=tables["tickets"],
        )
        pd.testing.assert_frame_equal(features_from(encoded, cut=cut).reset_index(drop=True), once)
