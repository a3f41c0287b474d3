"""The Kaplan–Meier estimator against a published survival table."""

import numpy as np
import pytest

from crmkit.metrics.survival import kaplan_meier

# Freireich et al. (1963) 6-MP arm; survival, Greenwood errors and log-log 95% limits as
# published by R's survival package (survfit, conf.type="log-log") and Kleinbaum & Klein
# (2012), table 2.
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def test_kaplan_meier_matches_the_published_six_mp_table():
    curve = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)
    table = curve.table
    assert table["days"].tolist() == [6, 7, 10, 13, 16, 22, 23]
    assert table["at_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]
    assert table["survival"].round(4).tolist() == [
        0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482
    ]  # fmt: skip
    assert table.loc[0, ["low", "high"]].round(3).tolist() == [0.620, 0.952]
    assert table.loc[6, ["low", "high"]].round(3).tolist() == [0.188, 0.680]
    assert curve.median == 23 and curve.n == 21 and curve.events == 9
    short = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS, min_at_risk=10)
    assert short.table["days"].tolist() == [6, 7, 10, 13, 16]
    assert np.isnan(short.median)  # the curve stops before it reaches one half
    with pytest.raises(ValueError, match="same length"):
        kaplan_meier([1, 2], [1])


def test_kaplan_meier_refuses_negative_or_missing_durations_and_handles_none():
    with pytest.raises(ValueError, match="non-negative numbers without gaps"):
        kaplan_meier([3, -1], [1, 0])
    with pytest.raises(ValueError, match="non-negative numbers without gaps"):
        kaplan_meier([3, float("nan")], [1, 0])
    empty = kaplan_meier([], [])
    assert (empty.n, empty.events) == (0, 0) and empty.table.empty and np.isnan(empty.median)


def test_a_curve_that_reaches_zero_has_a_closed_band():
    # every case has the event: survival ends at 0, and so does its interval
    curve = kaplan_meier([1, 2, 3], [1, 1, 1])
    assert curve.table["survival"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert curve.table.iloc[-1][["low", "high"]].tolist() == [0.0, 0.0]
    assert curve.median == 2
