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
