"""The health review's KPI scorecard: bands by hand, thresholds, rows from each topic."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.metrics import scorecard as cards
from crmkit.metrics.stats import Change

NO_TEST = math.nan


def row(key="nps", value=10.0, previous=5.0, good_when="up", change=None, unit="points"):
    return cards.kpi(
        key,
        source="test",
        unit=unit,
        good_when=good_when,
        value=value,
        previous=previous,
        change=change,
    )


def test_bands_by_the_levels_in_each_direction():
    levels = cards.merge_thresholds({})
    # NPS: good from 30, act at 0 or below (higher is better)
    assert cards.band(row(value=30.0), levels) == cards.GOOD  # exactly the good level
    assert cards.band(row(value=29.9), levels) == cards.WATCH
    assert cards.band(row(value=0.0), levels) == cards.ACT  # exactly the act level
    assert cards.band(row(value=-12.0), levels) == cards.ACT
    # churn: good at 5% or less, act from 15% (lower is better)
    churn = dict(key="churn_rate", good_when="down", unit="share")
    assert cards.band(row(value=0.05, previous=0.05, **churn), levels) == cards.GOOD
    assert cards.band(row(value=0.07, previous=0.05, **churn), levels) == cards.WATCH
    assert cards.band(row(value=0.15, previous=0.05, **churn), levels) == cards.ACT


def test_a_significant_worsening_is_never_good():
    levels = cards.merge_thresholds({})
    fell = Change(-8.0, -14.0, -2.0, 0.01)
    assert cards.band(row(value=45.0, previous=53.0, change=fell), levels) == cards.WATCH
    # not significant: the level decides
    unsure = Change(-8.0, -20.0, 4.0, 0.2)
    assert cards.band(row(value=45.0, previous=53.0, change=unsure), levels) == cards.GOOD
    # a significant improvement stays good
    rose = Change(8.0, 2.0, 14.0, 0.01)
    assert cards.band(row(value=45.0, previous=37.0, change=rose), levels) == cards.GOOD


def test_without_levels_only_a_significant_worsening_is_banded():
    levels = cards.merge_thresholds({})
    worse = Change(3.0, 1.0, 5.0, 0.001)  # hours up: worse when lower is better
    hours = dict(key="median_resolution_hours", good_when="down", unit="hours")
    assert cards.band(row(value=50.0, previous=47.0, change=worse, **hours), levels) == cards.ACT
    assert cards.band(row(value=50.0, previous=47.0, **hours), levels) is None
    better = Change(-3.0, -5.0, -1.0, 0.001)
    assert cards.band(row(value=44.0, previous=47.0, change=better, **hours), levels) is None


def test_no_data_is_no_band_and_no_change():
    empty = row(value=None, previous=5.0)
    assert empty.change is None
    assert cards.band(empty, cards.merge_thresholds({})) is None
    assert row(value=float("nan")).value is None
    # without a test the change is the difference alone
    plain = row(value=10.0, previous=4.0)
    assert plain.change.delta == 6.0 and not plain.tested


def test_a_unit_sets_its_own_levels_over_the_defaults():
    levels = cards.merge_thresholds({"nps": {"good": 50}, "median_cycle_days": {"act": 60}})
    assert levels["nps"] == {"good": 50.0, "act": 0.0}
    assert cards.band(row(value=45.0), levels) == cards.WATCH  # good under the defaults
    cycle = dict(key="median_cycle_days", good_when="down", unit="days")
    assert cards.band(row(value=61.0, previous=50.0, **cycle), levels) == cards.ACT
    assert cards.band(row(value=59.0, previous=50.0, **cycle), levels) == cards.WATCH


@pytest.mark.parametrize(
    "bad", [{"nps": 30}, {"nps": {"great": 40}}, {"nps": {"good": "high"}}, {"nps": {}}]
)
def test_bad_levels_are_refused_with_the_parameter_named(bad):
    with pytest.raises(ParameterError, match="health_thresholds"):
        cards.merge_thresholds(bad)


def test_results_shape():
    rows = cards.scorecard([row(value=45.0, previous=53.0, change=Change(-8, -14, -2, 0.01))])
    assert cards.as_results(rows) == {
        "nps": {
            "value": 45.0,
            "previous": 53.0,
            "change": {"delta": -8, "ci": [-14, -2], "p_value": 0.01},
            "band": "watch",
        }
    }


def test_funnel_rows_test_overall_conversion_on_the_cohorts():
    current = pd.DataFrame({"reached": [200, 120, 60, 30]})  # 30 won of 200 created
    previous = pd.DataFrame({"reached": [100, 70, 40, 25]})  # 25 of 100
    cycle = SimpleNamespace(median=40.0, previous_median=35.0, p_value=0.2, low=1, high=9)
    funnel = SimpleNamespace(
        current=current,
        previous=previous,
        overall_conversion=0.15,
        previous_overall_conversion=0.25,
        cycle=cycle,
    )
    conversion, days = cards.funnel_rows(funnel)
    assert (conversion.value, conversion.previous) == (0.15, 0.25)
    assert conversion.change.delta == pytest.approx(-0.10)
    pooled = 55 / 300
    z = 0.10 / math.sqrt(pooled * (1 - pooled) * (1 / 200 + 1 / 100))
    from scipy import stats

    assert conversion.change.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert days.change.delta == 5.0 and days.change.p_value == 0.2
    assert math.isnan(days.change.low)  # Mann–Whitney's interval is of the shift, not shown


def test_rows_without_their_source_say_no_data():
    for rows, missing in (
        (cards.satisfaction_rows(None), "surveys"),
        (cards.funnel_rows(None), "opportunities"),
    ):
        assert all(r.value is None and r.missing == missing for r in rows)
    clv = cards.clv_rows(None, None)
    assert [r.key for r in clv] == ["predicted_clv", "ltv_cac"]
    assert all(r.value is None for r in clv)
