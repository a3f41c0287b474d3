"""Loading: every source kind, encodings, unit isolation, and every bad-input rule."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import ROOT, tiny_tables, write_folder

from crmkit.core.errors import DataError
from crmkit.load.unit import load_unit

SAMPLE = ROOT / "sample_data"

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}


def load(folder: Path, unit: str = "alpha", **kwargs):
    return load_unit(unit, data_source=str(folder), **{**Q3, **kwargs})


def log_rows(data, table: str, rule_start: str, action: str | None = None) -> int:
    return sum(
        e.rows
        for e in data.quality.entries
        if e.table == table
        and e.rule.startswith(rule_start)
        and (action is None or e.action == action)
    )


# ----------------------------------------------------------------------------- clean input


def test_clean_folder_loads_one_unit_without_log_entries(tiny_folder: Path):
    data = load(tiny_folder)
    assert sorted(data["customers"]["customer_id"]) == ["A1", "A2", "A3"]
    assert data["transactions"]["amount"].tolist() == [10.0, 20.5, 5.0, 7.25]
    assert data["transactions"]["order_date"].dtype == "datetime64[ns]"
    assert len(data.in_period("transactions")) == 3
    assert len(data.in_period("transactions", previous=True)) == 0
    assert data.quality.entries == []
    assert data.missing_tables == [
        "opportunities",
        "stage_history",
        "surveys",
        "interactions",
        "tickets",
        "churn_events",
        "costs",
    ]


def test_personal_data_is_removed_on_load(tiny_folder: Path):
    data = load(tiny_folder, pii_columns=["region"])
    assert {"name", "email", "region"}.isdisjoint(data["customers"].columns)
    assert data.pii_removed == {"customers": ["region", "name", "email"]}


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 with BOM"),
        ("gbk", "GBK/GB18030"),
        ("gb18030", "GBK/GB18030"),
    ],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, label: str):
    tables = tiny_tables()
    tables["customers"]["region"] = ["华东", "华东", "华南", "华北"]
    folder = write_folder(tmp_path / encoding, tables, encoding=encoding)
    data = load(folder)
    assert data["customers"]["region"].tolist() == ["华东", "华东", "华南"]
    assert data.sources["customers"].endswith(f"({label})")


def test_semicolon_delimited_csv(tmp_path: Path):
    folder = tmp_path / "semi"
    write_folder(folder, tiny_tables())
    frame = tiny_tables()["transactions"]
    frame.to_csv(folder / "transactions.csv", sep=";", index=False)
    assert len(load(folder)["transactions"]) == 4


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_parquet_and_excel_folders(tmp_path: Path, suffix: str):
    tables = tiny_tables()
    tables["transactions"]["amount"] = [10.0, 20.5, 5.0, 7.25, 99.0]
    tables["transactions"]["order_date"] = pd.to_datetime(tables["transactions"]["order_date"])
    folder = write_folder(tmp_path / suffix[1:], tables, suffix=suffix)
    data = load(folder)
    assert data["transactions"]["amount"].sum() == pytest.approx(42.75)
    assert data["customers"]["customer_id"].tolist() == ["A1", "A2", "A3"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_times_with_a_zone_count_on_the_day_they_were_made_there(tmp_path: Path, suffix: str):
    # 30 September 23:30 in New York is 1 October in UTC: read as the clock showed it there,
    # the order is in Q3, and a sign-up at 00:30 Beijing time is not after that day's order
    tables = tiny_tables()
    orders = tables["transactions"]
    written = ["2026-01-05 00:30", "2026-07-01 00:30", "2026-08-20 09:00", "2026-09-30 23:30"]
    zones = ["Asia/Shanghai", "Asia/Shanghai", "UTC", "America/New_York", "Asia/Shanghai"]
    stamps = [
        pd.Timestamp(text, tz=zone)
        for text, zone in zip([*written, "2026-08-01 00:30"], zones, strict=True)
    ]
    customers = tables["customers"]
    signups = [pd.Timestamp(f"{day} 00:30", tz="Asia/Shanghai") for day in customers["signup_date"]]
    if suffix == ".parquet":  # a typed column has one zone: Beijing
        stamps = [t.tz_localize(None).tz_localize("Asia/Shanghai") for t in stamps]
        orders["order_date"] = pd.Series(stamps)
        customers["signup_date"] = pd.Series(signups)
    else:  # text: each time with its own offset, as an export across offices writes them
        orders["order_date"] = [t.isoformat() for t in stamps]
        customers["signup_date"] = [t.isoformat() for t in signups]
    expected = pd.Series(pd.to_datetime(written), dtype="datetime64[ns]")
    data = load(write_folder(tmp_path / suffix[1:], tables, suffix=suffix))
    got = data["transactions"].sort_values("order_id")["order_date"].reset_index(drop=True)
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert data["customers"]["signup_date"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2026-01-05 00:30", "2026-02-10 00:30", "2026-08-01 00:30"
    ]  # fmt: skip
    assert data.quality.rows("repaired") == 0 and data.quality.rows("excluded") == 0


def test_excel_workbook_with_one_sheet_per_table(tmp_path: Path):
    path = tmp_path / "crm.xlsx"
    with pd.ExcelWriter(path) as writer:
        for name, frame in tiny_tables().items():
            frame.to_excel(writer, sheet_name=name, index=False)
    data = load(path)
    assert len(data["transactions"]) == 4


def test_sqlite_through_sqlalchemy_url(tmp_path: Path):
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as connection:
        for name, frame in tiny_tables().items():
            frame.to_sql(name, connection, index=False)
    data = load_unit("alpha", data_source=f"sqlite:///{path}", **Q3)
    assert data["transactions"]["amount"].sum() == pytest.approx(42.75)
    assert "database" in data.sources["customers"]
    # a bare SQLite file works too
    assert len(load(path)["customers"]) == 3


def test_duckdb_file(tmp_path: Path):
    path = tmp_path / "crm.duckdb"
    connection = duckdb.connect(str(path))
    for name, frame in tiny_tables().items():
        connection.register("frame", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        connection.unregister("frame")
    connection.close()
    assert len(load(path)["transactions"]) == 4
    assert len(load_unit("alpha", data_source=f"duckdb:///{path}", **Q3)["customers"]) == 3


def test_column_map_and_table_names(tmp_path: Path):
    tables = tiny_tables()
    folder = tmp_path / "mapped"
    folder.mkdir()
    tables["customers"].rename(columns={"customer_id": "Kunde", "signup_date": "Seit"}).to_csv(
        folder / "customers.csv", index=False
    )
    tables["transactions"].rename(columns={"customer_id": "Kunde", "amount": "Betrag"}).to_csv(
        folder / "orders_2026.csv", index=False
    )
    data = load(
        folder,
        column_map={
            "Kunde": "customer_id",
            "customers": {"Seit": "signup_date"},
            "transactions": {"Betrag": "amount"},
        },
        tables={"transactions": "orders_2026.csv"},
    )
    assert data["transactions"]["amount"].sum() == pytest.approx(42.75)
    assert data["customers"]["signup_date"].min() == pd.Timestamp("2026-01-05")


def test_rows_without_unit_column_follow_their_customer(tmp_path: Path):
    tables = tiny_tables()
    tables["interactions"] = pd.DataFrame(
        {
            "interaction_id": ["i1", "i2", "i3"],
            "customer_id": ["A1", "B1", "ZZ"],
            "occurred_at": ["2026-07-01", "2026-07-02", "2026-07-03"],
            "channel": ["email", "email", "phone"],
        }
    )
    data = load(write_folder(tmp_path / "d", tables))
    assert data["interactions"]["interaction_id"].tolist() == ["i1"]
    # B1's row belongs to beta: not an orphan of alpha; ZZ belongs to no unit: an orphan.
    assert log_rows(data, "interactions", "orphan") == 1
    beta = load(write_folder(tmp_path / "d", tables), unit="beta")
    assert beta["interactions"]["interaction_id"].tolist() == ["i2"]


# ----------------------------------------------------------------------------- unusable input


def test_unknown_business_unit(tiny_folder: Path):
    with pytest.raises(
        DataError,
        match=r"business_unit 'gamma' has no customers; units present: \['alpha', 'beta'\]",
    ):
        load(tiny_folder, unit="gamma")


def test_missing_required_column(tmp_path: Path):
    tables = tiny_tables()
    tables["transactions"] = tables["transactions"].drop(columns="amount")
    with pytest.raises(
        DataError,
        match=re.escape(
            "transactions.csv: the transactions table is missing required column(s) ['amount']"
        ),
    ):
        load(write_folder(tmp_path / "d", tables))


def test_unparseable_required_dates_name_the_lines(tmp_path: Path):
    tables = tiny_tables()
    tables["transactions"]["order_date"] = [
        "2026-01-05",
        "yesterday",
        "2026-08-20",
        "31.31.2026",
        "x",
    ]
    with pytest.raises(
        DataError,
        match=re.escape(
            "column 'order_date' of transactions has 2 value(s) that are not dates, "
            "on line(s) 3, 5: 'yesterday', '31.31.2026'"
        ),
    ):
        load(write_folder(tmp_path / "d", tables))


def test_a_shifted_row_quotes_no_email_or_phone_where_a_date_should_be(tmp_path: Path):
    """A bad export shifts a row one column: its email and phone land in date columns. The
    refusal is shown in every report and on the portfolio, so it quotes them masked."""
    tables = tiny_tables()
    tables["transactions"]["order_date"] = [
        "2026-01-05",
        "jo.smith@example.com",
        "2026-08-20",
        "+1 (415) 555-0134",
        "2026-08-21",
    ]
    with pytest.raises(DataError) as refused:
        load(write_folder(tmp_path / "d", tables))
    assert "on line(s) 3, 5: '[email]', '[phone]'" in str(refused.value)
    assert "example.com" not in str(refused.value) and "555" not in str(refused.value)


def test_binary_file_is_not_a_table(tmp_path: Path):
    folder = write_folder(tmp_path / "d", tiny_tables())
    (folder / "transactions.csv").write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(
        DataError, match=r"transactions\.csv: this is a binary file, not a text table"
    ):
        load(folder)


def test_corrupt_excel_file(tmp_path: Path):
    folder = write_folder(tmp_path / "d", tiny_tables())
    (folder / "transactions.csv").unlink()
    (folder / "transactions.xlsx").write_text("not really a workbook")
    with pytest.raises(DataError, match=r"transactions\.xlsx: cannot be read as a table"):
        load(folder)


def test_empty_required_table(tmp_path: Path):
    tables = tiny_tables()
    tables["transactions"] = tables["transactions"].iloc[0:0]
    with pytest.raises(DataError, match="no usable transactions rows for business unit 'alpha'"):
        load(write_folder(tmp_path / "d", tables))


def test_missing_required_table(tmp_path: Path):
    tables = tiny_tables()
    del tables["transactions"]
    with pytest.raises(DataError, match="required table 'transactions' not found"):
        load(write_folder(tmp_path / "d", tables))


def test_missing_source(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"does not exist \(looked for .*nowhere\)\.$"):
        load(tmp_path / "nowhere")
    # a notebook's default opened outside the project: say how to make it
    with pytest.raises(DataError, match=r"crmkit sample --out .*sample_data`\.$"):
        load_unit("north", data_source="sample_data", **Q3)


def test_two_files_for_one_table(tmp_path: Path):
    folder = write_folder(tmp_path / "d", tiny_tables())
    tiny_tables()["transactions"].to_parquet(folder / "transactions.parquet")
    with pytest.raises(DataError, match="more than one file for table transactions"):
        load(folder)


def test_data_error_shows_one_line_in_ipython():
    error = DataError("customers.csv: broken")
    assert error._render_traceback_() == ["DataError: customers.csv: broken"]


# ----------------------------------------------------------------------------- repairable rows


def defective_folder(tmp_path: Path) -> Path:
    tables = tiny_tables()
    tx = tables["transactions"]
    extra = pd.DataFrame(
        {
            "order_id": ["o2", "o2", "o3", "o6", "o7", "o8", "o9", "o10", "o11", "o12"],
            "customer_id": ["A1", "A1", "A2", "A1", "A2", "Z9", "A1", "A1", "A2", ""],
            "business_unit": ["alpha"] * 10,
            "order_date": [
                "2026-07-15",
                "2026-07-15",
                "2026-08-21",
                "2026-07-02",
                "2026-07-03",
                "2026-07-04",
                "2026-10-02",
                "2027-01-01",
                "2026-07-05",
                "2026-07-06",
            ],
            "amount": ["20.50", "20.50", "6", "abc", "-3", "4", "8", "9", "¥1,234.50", "1"],
        }
    )
    tables["transactions"] = pd.concat([tx, extra], ignore_index=True)
    tables["customers"]["region"] = [" east", "EAST", "East", "East"]
    tables["customers"].loc[4] = ["A4", "alpha", "2026-05-01", "East", "x", "x"]
    tables["surveys"] = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "customer_id": ["A1", "A2", "A1"],
            "business_unit": ["alpha"] * 3,
            "responded_at": ["2026-07-10", "2026-07-11", "2026-07-12"],
            "nps": ["11", "9", "7"],
            "csat": ["4", "0", "x"],
            "dim_price": ["3", "6", "5"],
        }
    )
    tables["opportunities"] = pd.DataFrame(
        {
            "opportunity_id": ["p1", "p2", "p3"],
            "business_unit": ["alpha"] * 3,
            "created_at": ["2026-07-01", "2026-07-02", "2026-07-03"],
            "outcome": ["Won ", "won", "pending"],
            "closed_at": ["2026-10-05", "2026-08-01", ""],
        }
    )
    tables["stage_history"] = pd.DataFrame(
        {
            "opportunity_id": ["p1", "p2", "p3", "p4"],
            "stage": ["lead", "lead", "lead", "lead"],
            "entered_at": ["2026-07-01", "2026-07-02", "2026-07-03", "2026-07-04"],
        }
    )
    tables["tickets"] = pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3"],
            "customer_id": ["A1", "A2", "A1"],
            "business_unit": ["alpha"] * 3,
            "opened_at": ["2026-07-01 10:00", "2026-07-02 11:30", "2026-07-03 09:15"],
            "is_complaint": ["yes", "否", "maybe"],
        }
    )
    tables["costs"] = pd.DataFrame(
        {
            "business_unit": ["alpha"] * 4,
            "month": ["2026-07-01"] * 4,
            "category": ["获客", "Retention", "客服", "rent"],
            "amount": ["100", "50", "20", "999"],
        }
    )
    return write_folder(tmp_path / "defects", tables)


@pytest.fixture
def defective(tmp_path: Path):
    return load(defective_folder(tmp_path))


def test_exact_duplicates_dropped(defective):
    assert log_rows(defective, "transactions", "exact duplicate row", "dropped") == 2


def test_conflicting_duplicate_ids_keep_first(defective):
    assert log_rows(defective, "transactions", "duplicate 'order_id'", "dropped") == 1
    tx = defective["transactions"].set_index("order_id")
    assert tx.loc["o3", "amount"] == 5.0


def test_unparseable_and_negative_amounts_dropped(defective):
    assert log_rows(defective, "transactions", "'amount' does not parse", "dropped") == 1
    assert log_rows(defective, "transactions", "negative 'amount'", "dropped") == 1
    assert {"o6", "o7"}.isdisjoint(defective["transactions"]["order_id"])


def test_money_formats_parse_silently(defective):
    tx = defective["transactions"].set_index("order_id")
    assert tx.loc["o11", "amount"] == 1234.5


def test_missing_required_value_dropped(defective):
    assert log_rows(defective, "transactions", "missing required value in 'customer_id'") == 1


def test_orphan_customer_ids_dropped(defective):
    entry = next(e for e in defective.quality.entries if e.rule.startswith("orphan customer_id"))
    assert (entry.table, entry.rows, entry.example_ids) == ("transactions", 1, ("Z9",))


def test_after_period_end_excluded_and_future_dropped(defective):
    assert log_rows(defective, "transactions", "dated after the period end", "excluded") == 1
    assert log_rows(defective, "transactions", "'order_date' after today", "dropped") == 1
    assert defective["transactions"]["order_date"].max() <= pd.Timestamp("2026-09-30")


def test_final_transactions_are_exactly_the_good_rows(defective):
    assert sorted(defective["transactions"]["order_id"]) == sorted(["o1", "o2", "o3", "o4", "o11"])


def test_category_whitespace_and_case_folded(defective):
    assert log_rows(defective, "customers", "whitespace or letter case", "repaired") == 2
    assert set(defective["customers"]["region"]) == {"East"}


def test_category_columns_load_as_categoricals_of_their_labels():
    unit = load_unit("north", data_source=SAMPLE, period="2026-Q3", as_of="2026-10-15")
    for name, column in (("transactions", "channel"), ("customers", "region")):
        loaded = unit[name][column]
        assert isinstance(loaded.dtype, pd.CategoricalDtype)
        # the same labels as the file's, trimmed: nothing but the storage changed
        read = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str)
        read = read[read["business_unit"].str.strip().str.casefold() == "north"]
        assert set(loaded.dropna()) == set(read[column].dropna().str.strip())


def test_scores_out_of_range_set_missing(defective):
    surveys = defective["surveys"].set_index("response_id")
    assert log_rows(defective, "surveys", "'nps' outside 0-10", "repaired") == 1
    assert log_rows(defective, "surveys", "'csat' outside 1-5", "repaired") == 1
    assert log_rows(defective, "surveys", "'csat' does not parse", "repaired") == 1
    assert log_rows(defective, "surveys", "'dim_price' outside 1-5", "repaired") == 1
    assert surveys["nps"].isna().tolist() == [True, False, False]
    assert surveys["csat"].isna().tolist() == [False, True, True]


def test_chinese_cost_categories_read_as_the_contracts(defective):
    costs = defective["costs"]
    assert log_rows(defective, "costs", "'category' named in other words", "repaired") == 2
    assert log_rows(defective, "costs", "'category' not one of", "dropped") == 1  # rent
    assert dict(zip(costs["category"], costs["amount"], strict=True)) == {
        "acquisition": 100.0,
        "retention": 50.0,
        "service": 20.0,
    }


def test_outcomes_normalised_unknown_dropped_and_late_close_reopened(defective):
    opportunities = defective["opportunities"].set_index("opportunity_id")
    assert log_rows(defective, "opportunities", "'outcome' not one of", "dropped") == 1
    # p1 closed after the period end: still open at the period end.
    assert opportunities.loc["p1", "outcome"] == "open"
    assert pd.isna(opportunities.loc["p1", "closed_at"])
    assert opportunities.loc["p2", "outcome"] == "won"
    # stage rows of the dropped opportunity p3 and the unknown p4 are orphans.
    assert log_rows(defective, "stage_history", "orphan opportunity_id", "dropped") == 2


def test_booleans_parsed_and_unknown_set_missing(defective):
    tickets = defective["tickets"].set_index("ticket_id")
    assert tickets["is_complaint"].tolist()[:2] == [True, False]
    assert pd.isna(tickets.loc["t3", "is_complaint"])
    assert log_rows(defective, "tickets", "'is_complaint' not true/false", "repaired") == 1


def test_totals_match_the_entries(defective):
    frame = defective.quality.to_frame()
    assert defective.quality.rows_dropped == frame.loc[frame["action"] == "dropped", "rows"].sum()
    assert defective.quality.rows_dropped == 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 1  # + rent


def test_rules_leave_their_input_tables_alone():
    from crmkit.load.links import drop_orphans
    from crmkit.load.log import QualityLog
    from crmkit.load.rules import cut_after

    tables = {
        "customers": pd.DataFrame(
            {"customer_id": ["A"], "signup_date": pd.to_datetime(["2026-01-01"])}
        ),
        "transactions": pd.DataFrame(
            {
                "order_id": ["o1", "o2", "o3"],
                "customer_id": ["A", "A", "Z"],
                "order_date": pd.to_datetime(
                    ["2026-09-30 18:00", "2026-10-01 00:00", "2026-09-01 00:00"]
                ),
                "amount": [1.0, 2.0, 3.0],
            }
        ),
    }
    before = {name: frame.copy() for name, frame in tables.items()}
    log = QualityLog()
    cut = cut_after(tables, date(2026, 9, 30), log, as_of=False)
    kept = drop_orphans(cut, log)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])
    assert kept["transactions"]["order_id"].tolist() == ["o1"]  # 18:00 on the last day stays
    assert [(e.rule, e.action, e.rows) for e in log.entries] == [
        ("dated after the period end", "excluded", 1),
        ("orphan customer_id (not among the unit's customers)", "dropped", 1),
    ]


@pytest.mark.parametrize(
    ("labels", "expected", "changed"),
    [
        (["Email", "email", "Email", None], ["Email", "Email", "Email", None], [0, 1, 0, 0]),
        (["email", "phone", None, "email"], ["email", "phone", None, "email"], [0, 0, 0, 0]),
        ([" email", "phone"], ["email", "phone"], [1, 0]),
        (["email", "", None], ["email", None, None], [0, 0, 0]),  # a blank is no label
    ],
)
def test_category_labels_fold_alike_from_any_column_type(labels, expected, changed):
    from crmkit.load.rules import fold_categories

    texts = pd.Series(labels, dtype=object, name="channel")  # a CSV's column
    arrow = texts.astype("string[pyarrow]")  # a Parquet file's or a snapshot's
    for values in (texts, arrow):
        folded, rows_changed, _ = fold_categories(values)
        assert isinstance(folded.dtype, pd.CategoricalDtype) and folded.name == "channel"
        assert folded.cat.categories.tolist() == sorted({e for e in expected if e})
        assert folded.astype("string").tolist() == [pd.NA if e is None else e for e in expected]
        assert rows_changed.tolist() == [bool(c) for c in changed]


def test_a_signup_after_the_first_order_is_set_to_that_orders_day(tmp_path: Path):
    """A2's account is dated 2026-09-10, after its order of 2026-08-20 (14:30): a customer
    since August, not one who joined in September. A3 signed up before buying: kept."""
    tables = tiny_tables()
    tables["customers"].loc[1, "signup_date"] = "2026-09-10"
    tables["transactions"].loc[2, "order_date"] = "2026-08-20 14:30"
    data = load(write_folder(tmp_path / "d", tables))
    signup = data["customers"].set_index("customer_id")["signup_date"]
    assert signup["A2"] == pd.Timestamp("2026-08-20") and signup["A3"] == pd.Timestamp("2026-08-01")
    entry = next(e for e in data.quality.entries if "first order" in e.rule)
    assert (entry.table, entry.action, entry.rows, entry.example_ids) == (
        "customers",
        "repaired",
        1,
        ("A2",),
    )


def test_a_score_between_two_points_of_its_scale_is_set_missing(tmp_path: Path):
    """NPS 9.5 is neither a promoter's 9 nor 10: no group takes it. 9.0 is 9."""
    tables = tiny_tables()
    tables["surveys"] = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "customer_id": ["A1", "A2", "A3"],
            "business_unit": ["alpha"] * 3,
            "responded_at": ["2026-07-10", "2026-07-11", "2026-07-12"],
            "nps": ["9.5", "9.0", "7"],
            "csat": ["4", "4.5", "5"],
        }
    )
    data = load(write_folder(tmp_path / "d", tables))
    surveys = data["surveys"].set_index("response_id")
    assert surveys["nps"].tolist()[1:] == [9, 7] and pd.isna(surveys.loc["r1", "nps"])
    assert pd.isna(surveys.loc["r2", "csat"]) and surveys.loc["r3", "csat"] == 5
    assert log_rows(data, "surveys", "'nps' not a whole number", "repaired") == 1
    assert log_rows(data, "surveys", "'csat' not a whole number", "repaired") == 1


@pytest.mark.parametrize("source", ["defects", "sample", "sample as Parquet"])
def test_tables_cleaned_on_several_threads_give_the_same_unit_and_log(tmp_path: Path, source):
    # crmkit run stages a unit alone with the idle workers' cores: a folder's files are read
    # (Parquet: their evidence and unit rows asked), decided and cleaned side by side; nothing
    # may differ, not even the order of the quality log's entries
    if source == "defects":
        options = {"business_unit": "alpha", "data_source": defective_folder(tmp_path)}
        options |= {"period": "2026-Q3", "as_of": "2026-12-01"}
    else:
        folder = ROOT / "sample_data"
        if source == "sample as Parquet":
            folder = tmp_path / "parquet"
            folder.mkdir()
            for table in (ROOT / "sample_data").glob("*.csv"):
                frame = pd.read_csv(table, dtype=str, keep_default_na=False)
                frame.to_parquet(folder / f"{table.stem}.parquet", index=False)
        options = {"business_unit": "north", "data_source": folder}
        options |= {"period": "2026-Q3", "as_of": "2026-10-15"}
    one, three = load_unit(**options), load_unit(**options, threads=3)
    if source == "defects":
        assert len(one.quality.entries) > 3
        assert {e.table for e in one.quality.entries} >= {"transactions", "customers"}
    assert three.quality.entries == one.quality.entries
    assert list(three.tables) == list(one.tables)
    for name, frame in one.tables.items():
        pd.testing.assert_frame_equal(three.tables[name], frame, check_exact=True)
    assert three.sources == one.sources and three.pii_removed == one.pii_removed


@pytest.mark.parametrize("broken", ["values", "files"])
def test_the_first_tables_error_is_raised_whatever_the_threads(tmp_path: Path, broken):
    tables = tiny_tables()
    if broken == "values":  # refused when the tables' readings are decided
        tables["customers"]["signup_date"] = "not a date"
        tables["transactions"]["order_date"] = "nor this"
    folder = write_folder(tmp_path / "broken", tables)
    if broken == "files":  # refused when the files are read
        for name in ("customers", "transactions"):
            (folder / f"{name}.csv").unlink()
            (folder / f"{name}.parquet").write_bytes(b"PAR1 not a Parquet file")
    messages = []
    for threads in (1, 2):
        with pytest.raises(DataError) as raised:
            load_unit("alpha", data_source=folder, period="2026-Q3", as_of="2026-12-01",
                      threads=threads)  # fmt: skip
        messages.append(str(raised.value))
    assert "customers" in messages[0] and messages[1] == messages[0]
