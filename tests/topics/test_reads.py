"""Each report reads only the columns it declares (``READS``, :meth:`CRMData.read`): on the
sample, whose tables have every optional column, what it computes from those columns alone
is what it computes from the whole tables. (Churn and health: in their report tests.)"""

from __future__ import annotations

import pytest
from conftest import ROOT, assert_same_result

from crmkit.load.unit import load_unit
from crmkit.metrics import clv, satisfaction, segmentation
from crmkit.run.params import load_params

CLV_SETTINGS = {"horizon_months": 12, "monthly_discount_rate": 0.01, "holdout_weeks": 26}


@pytest.fixture(scope="module")
def north():
    return load_unit("north", data_source=ROOT / "sample_data", period="2026-Q3")


def whole(unit, reads) -> dict:
    return {name: unit.tables.get(name) for name in reads}


def test_the_clv_report_computes_the_same_from_its_columns(north):
    read = north.read(clv.READS, required=clv.REQUIRED)
    assert "order_id" not in read["transactions"]
    full = whole(north, clv.READS)
    assert_same_result(
        clv.analyse(**read, period=north.period, **CLV_SETTINGS),
        clv.analyse(**full, period=north.period, **CLV_SETTINGS),
    )
    end = north.period.end
    assert_same_result(
        segmentation.rfm(read["transactions"], as_of=end),
        segmentation.rfm(full["transactions"], as_of=end),
    )


def test_segmentation_computes_the_same_from_its_columns(north):
    read = north.read(segmentation.READS, required=segmentation.REQUIRED)
    assert "order_id" not in read["transactions"] and "kind" not in read["interactions"]
    assert_same_result(
        segmentation.analyse(**read, period=north.period),
        segmentation.analyse(**whole(north, segmentation.READS), period=north.period),
    )


def test_satisfaction_computes_the_same_from_its_columns(north):
    breakdowns = load_params(ROOT / "parameters" / "north.yaml")["satisfaction_breakdowns"]
    read = north.read(satisfaction.READS, required=satisfaction.REQUIRED)
    assert "order_id" not in read["transactions"]
    assert_same_result(
        satisfaction.analyse(**read, period=north.period, breakdown_columns=breakdowns),
        satisfaction.analyse(
            **whole(north, satisfaction.READS), period=north.period, breakdown_columns=breakdowns
        ),
    )
