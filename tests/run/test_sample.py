"""The sample generator: reproducible, the contract's shape, and its planted effects present."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from crmkit.core.errors import ParameterError
from crmkit.core.schema import TABLE_NAMES
from crmkit.load.unit import load_unit
from crmkit.run.params import load_params
from crmkit.run.sample import generate, write_sample
from crmkit.run.sample_files import write_sample_files

SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(SAMPLE / f"{name}.csv", dtype=str) for name in TABLE_NAMES}


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLE / "_truth" / "planted.json").read_text(encoding="utf-8"))


def test_regenerates_byte_identically(tmp_path: Path):
    written = write_sample(tmp_path / "again")
    assert len(written) == len(TABLE_NAMES) + 2
    for path in written:
        committed = SAMPLE / path.relative_to(tmp_path / "again")
        assert path.read_bytes() == committed.read_bytes(), f"{committed.name} differs"


def test_small_enough_for_git():
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 12_000_000


def test_shape(tables):
    customers = tables["customers"]
    per_unit = customers.groupby("business_unit").size()
    assert sorted(per_unit.index) == ["east", "north", "south", "west"]
    assert per_unit.min() >= 2000
    orders = pd.to_datetime(tables["transactions"]["order_date"], errors="coerce")
    months = orders[orders <= "2026-09-30"].dt.to_period("M").nunique()
    assert months >= 36 and orders[orders <= "2026-09-30"].max() == pd.Timestamp("2026-09-30")
    for name in TABLE_NAMES:
        assert len(tables[name]) > 100, name


def test_one_unit_speaks_chinese(tables):
    east = tables["customers"].query("business_unit == 'east'")
    for column in ("region", "city", "acquisition_channel"):
        assert east[column].str.contains(r"[\u4e00-\u9fff]").all(), column
    comments = tables["surveys"].query("business_unit == 'east'")["comment"].dropna()
    assert comments.str.contains(r"[\u4e00-\u9fff]").mean() > 0.95


def load_sample_unit(unit: str):
    params = {**load_params(ROOT / "parameters" / f"{unit}.yaml"), "as_of": "2026-10-15"}
    return load_unit(**params, period="2026-Q3")


def test_defective_unit_log_matches_what_was_planted(truth):
    planted = truth["units"]["west"]["defects_planted"]
    data = load_sample_unit("west")
    log = {(e.table, e.rule): e.rows for e in data.quality.entries}
    assert log[("transactions", "exact duplicate row")] == planted["transactions exact duplicates"]
    assert (
        log[("transactions", "duplicate 'order_id' with different content (first kept)")]
        == planted["transactions conflicting ids"]
    )
    assert (
        log[("transactions", "'amount' does not parse as a number")]
        == planted["transactions unparseable amounts"]
    )
    assert log[("transactions", "negative 'amount'")] == planted["transactions negative amounts"]
    assert (
        log[("transactions", "orphan customer_id (not among the unit's customers)")]
        == planted["transactions orphan customer ids"]
    )
    assert (
        log[("transactions", "'order_date' after today (2026-10-15): impossible date")]
        == planted["transactions future dates"]
    )
    assert (
        log[("customers", "whitespace or letter case normalised in 'region'")]
        == planted["customers region case/whitespace"]
    )
    assert (
        log[("surveys", "'nps' outside 0-10 (set missing)")] == planted["surveys nps out of range"]
    )
    assert (
        log[("opportunities", "'outcome' not one of ['open', 'won', 'lost']")]
        == planted["opportunities unknown outcome"]
    )
    for unit in ("north", "south", "east"):
        clean = load_sample_unit(unit)
        assert clean.quality.rows_dropped == 0 and clean.quality.rows_repaired == 0


def _nps(scores: pd.Series) -> float:
    scores = pd.to_numeric(scores, errors="coerce").dropna()
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def test_planted_nps_fall_in_south(tables, truth):
    surveys = tables["surveys"].assign(when=lambda d: pd.to_datetime(d["responded_at"]))
    q3 = surveys["when"] >= "2026-07-01"
    q2 = (surveys["when"] >= "2026-04-01") & ~q3
    change = {
        unit: _nps(surveys.loc[q3 & (surveys["business_unit"] == unit), "nps"])
        - _nps(surveys.loc[q2 & (surveys["business_unit"] == unit), "nps"])
        for unit in truth["units"]
    }
    assert truth["units"]["south"]["nps_shift_last_quarter"] < 0
    assert change["south"] < -30
    assert all(abs(change[u]) < 15 for u in ("north", "east", "west"))


def test_planted_main_nps_driver_in_east(tables):
    east = tables["surveys"].query("business_unit == 'east'")
    dims = [c for c in east.columns if c.startswith("dim_")]
    corr = east[dims].astype(float).corrwith(east["nps"].astype(float))
    assert corr.idxmax() == "dim_delivery_speed"
    assert corr["dim_delivery_speed"] > 2 * corr.drop("dim_delivery_speed").max()


def test_planted_bottleneck_in_north(tables):
    history = tables["stage_history"]
    opportunities = tables["opportunities"]
    created = pd.to_datetime(opportunities.set_index("opportunity_id")["created_at"])
    unit = opportunities.set_index("opportunity_id")["business_unit"]
    reached = history.assign(
        unit=history["opportunity_id"].map(unit), created=history["opportunity_id"].map(created)
    )

    def step_rate(unit_name: str, start: str, end: str) -> float:
        cohort = reached[
            (reached["unit"] == unit_name)
            & (reached["created"] >= start)
            & (reached["created"] <= end)
        ]
        intent = set(
            cohort.loc[cohort["stage"].isin(["intent", "negotiation", "won"]), "opportunity_id"]
        )
        negotiation = set(
            cohort.loc[cohort["stage"].isin(["negotiation", "won"]), "opportunity_id"]
        )
        return len(negotiation) / len(intent)

    north_now = step_rate("north", "2026-07-01", "2026-09-30")
    north_before = step_rate("north", "2026-04-01", "2026-06-30")
    assert north_now < 0.3 < 0.45 < north_before
    south_now = step_rate("south", "2026-07-01", "2026-09-30")
    assert south_now > 0.4


def test_churn_follows_complaints(tables):
    tickets = tables["tickets"]
    complained = set(tickets.loc[tickets["is_complaint"] == "true", "customer_id"])
    customers = tables["customers"][["customer_id"]].drop_duplicates()
    churned = set(tables["churn_events"]["customer_id"])
    has_complaint = customers["customer_id"].isin(complained)
    is_churned = customers["customer_id"].isin(churned)
    assert is_churned[has_complaint].mean() > 2 * is_churned[~has_complaint].mean()
    reasons = tables["churn_events"]["reason"].dropna()
    assert reasons.nunique() == 10  # five exit reasons, in English and in Chinese


def test_segment_labels_and_parameters_are_recorded(truth):
    labels = pd.read_csv(SAMPLE / "_truth" / "customer_segments.csv")
    shares = labels.groupby("segment").size() / len(labels)
    assert set(shares.index) == {"high_value", "regular", "occasional", "prospect"}
    assert np.isclose(shares["prospect"], 0.08, atol=0.02)
    north = truth["units"]["north"]["segments"]["regular"]
    assert north["bgnbd"] == {"r": 1.5, "alpha": 25.0, "a": 0.8, "b": 4.0}
    assert north["gamma_gamma"] == {"p": 12.0, "q": 30.0, "v": 362.5}


def test_too_few_customers_is_a_clear_error():
    with pytest.raises(ParameterError, match=r"--customers must be at least 60.*got 20"):
        generate(customers=20)


def test_units_keeps_the_first_units_as_in_the_whole_sample(tmp_path: Path):
    write_sample(tmp_path, units=1)
    customers = pd.read_csv(tmp_path / "customers.csv", dtype=str)
    committed = pd.read_csv(SAMPLE / "customers.csv", dtype=str)
    assert set(customers["business_unit"]) == {"north"}
    north = committed[committed["business_unit"] == "north"].reset_index(drop=True)
    pd.testing.assert_frame_equal(customers, north)
    truth = json.loads((tmp_path / "_truth" / "planted.json").read_text(encoding="utf-8"))
    assert list(truth["units"]) == ["north"]


def test_sample_size_and_format_errors_name_the_option():
    with pytest.raises(ParameterError, match=r"--units must be between 1 and 4.*got 0"):
        generate(units=0)
    with pytest.raises(ParameterError, match=r"--units must be between 1 and 4.*got 5"):
        write_sample_files(Path("unused"), customers=1000, units=5)
    with pytest.raises(ParameterError, match=r"--format must be one of \['csv', 'parquet'\]"):
        write_sample_files(Path("unused"), fmt="xlsx")


def test_scaled_parquet_unit_is_read_by_the_loader(tmp_path: Path):
    """Through the command line: one unit, Parquet files, read back whole and clean."""
    from crmkit.run.cli import main

    out = tmp_path / "big"
    args = ["sample", "--customers", "10000", "--units", "1", "--format", "parquet"]
    assert main([*args, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.parquet")) == sorted(
        f"{name}.parquet" for name in TABLE_NAMES
    )
    assert not list(out.glob("*.csv"))
    written = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLE_NAMES}
    assert set(written["customers"]["business_unit"]) == {"north"}
    assert len(written["customers"]) == 10000
    data = load_unit("north", data_source=str(out), period="2026-Q3", as_of="2026-12-01")
    assert data.missing_tables == []
    assert data.quality.rows_dropped == 0 and data.quality.rows_repaired == 0
    for name in ("customers", "transactions", "surveys", "tickets", "churn_events"):
        assert len(data.tables[name]) == len(written[name]), name
    truth = json.loads((out / "_truth" / "planted.json").read_text(encoding="utf-8"))
    assert list(truth["units"]) == ["north"]
    labels = pd.read_parquet(out / "_truth" / "customer_segments.parquet")
    assert labels["customer_id"].tolist() == written["customers"]["customer_id"].tolist()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """north and south at 20,000 customers each from the vectorised generator, as CSV."""
    out = tmp_path_factory.mktemp("scaled")
    write_sample_files(out, customers=20_000, units=2)
    return {name: pd.read_csv(out / f"{name}.csv", dtype=str) for name in TABLE_NAMES} | {
        "truth": json.loads((out / "_truth" / "planted.json").read_text(encoding="utf-8"))
    }


def test_scaled_sample_has_ten_orders_a_customer_in_north(scaled):
    from crmkit.run.sample_scale import ORDER_DENSITY

    per_unit = scaled["transactions"].groupby("business_unit").size()
    customers = scaled["customers"].groupby("business_unit").size()
    assert customers.to_dict() == {"north": 20_000, "south": 20_000}
    assert 9.3 < per_unit["north"] / customers["north"] < 10.7
    assert per_unit["south"] < per_unit["north"]  # south's α is 1.2 times north's
    regular = scaled["truth"]["units"]["north"]["segments"]["regular"]["bgnbd"]
    assert regular["alpha"] == pytest.approx(25.0 / ORDER_DENSITY)
    assert scaled["transactions"]["order_id"].is_unique
    assert scaled["transactions"]["customer_id"].isin(scaled["customers"]["customer_id"]).all()


def test_scaled_sample_keeps_the_planted_effects(scaled):
    surveys = scaled["surveys"].assign(when=lambda d: pd.to_datetime(d["responded_at"]))
    q3 = surveys["when"] >= "2026-07-01"
    q2 = (surveys["when"] >= "2026-04-01") & ~q3

    def change(unit: str) -> float:
        mine = surveys["business_unit"] == unit
        return _nps(surveys.loc[q3 & mine, "nps"]) - _nps(surveys.loc[q2 & mine, "nps"])

    assert change("south") < -30 and abs(change("north")) < 10
    opportunities = scaled["opportunities"].set_index("opportunity_id")
    history = scaled["stage_history"]
    created = pd.to_datetime(history["opportunity_id"].map(opportunities["created_at"]))
    north = history["opportunity_id"].map(opportunities["business_unit"]) == "north"

    def step_rate(start: str) -> float:
        cohort = history[
            north & (created >= start) & (created < pd.Timestamp(start) + pd.DateOffset(months=3))
        ]
        intent = cohort.loc[
            cohort["stage"].isin(["intent", "negotiation", "won"]), "opportunity_id"
        ]
        negotiation = cohort.loc[cohort["stage"].isin(["negotiation", "won"]), "opportunity_id"]
        return negotiation.nunique() / intent.nunique()

    assert step_rate("2026-07-01") < 0.3 < 0.45 < step_rate("2026-04-01")
    complained = scaled["tickets"].loc[scaled["tickets"]["is_complaint"] == "true", "customer_id"]
    customers = scaled["customers"]["customer_id"]
    churned = customers.isin(scaled["churn_events"]["customer_id"])
    has_complaint = customers.isin(complained)
    assert churned[has_complaint].mean() > 2 * churned[~has_complaint].mean()


def test_vectorised_purchases_match_the_process_drawn_order_by_order():
    """The order-statistics draw gives the same BG/NBD process as drawing each gap in turn
    (the committed generator's loop): mean orders, dropout share and mean days from signup to
    the last order (the times, not just the counts) within 3%."""
    from crmkit.run.sample import BASE_SEGMENTS, HORIZON_DAYS
    from crmkit.run.sample_scale import purchases

    n = 20_000
    regular = BASE_SEGMENTS[1]
    rng = np.random.default_rng(7)
    signup = np.sort(rng.uniform(0, HORIZON_DAYS, n))
    customer, day, dropout = purchases(
        (regular,),
        np.random.default_rng(8),
        seg=np.zeros(n, int),
        prospect=np.zeros(n, bool),
        signup=signup,
    )
    loop_orders, loop_dropped, loop_active_days = 0, 0, 0.0
    for start in signup:
        rate = rng.gamma(regular.r, 1.0 / regular.alpha) / 7.0
        p = rng.beta(regular.a, regular.b)
        t, last, loop_orders = start, start, loop_orders + 1
        while (t := t + rng.exponential(1.0 / rate)) < HORIZON_DAYS + 1:
            loop_orders, last = loop_orders + 1, t
            if rng.random() < p:
                loop_dropped += 1
                break
        loop_active_days += last - start
    assert len(customer) / n == pytest.approx(loop_orders / n, rel=0.03)
    assert np.isfinite(dropout).mean() == pytest.approx(loop_dropped / n, rel=0.03)
    last = np.full(n, -np.inf)
    np.maximum.at(last, customer, day)
    assert (last - signup).mean() == pytest.approx(loop_active_days / n, rel=0.03)
    assert np.all(np.diff(customer) >= 0)
