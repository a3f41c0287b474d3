"""Statistics against hand-computed and published values."""

import numpy as np
import pytest

from crmkit.metrics.stats import holm, two_proportion_test, wilson_interval


def test_wilson_matches_newcombe_examples():
    # Newcombe (1998), Table I: 81/263 → 0.2553 to 0.3662; 15/148 → 0.0624 to 0.1605
    a = wilson_interval(81, 263)
    assert (round(a.low, 4), round(a.high, 4)) == (0.2553, 0.3662)
    b = wilson_interval(15, 148)
    assert (round(b.low, 4), round(b.high, 4)) == (0.0624, 0.1605)
    edge = wilson_interval(0, 10)
    assert edge.low == pytest.approx(0.0, abs=1e-12) and round(edge.high, 4) == 0.2775


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError, match="successes must be between 0 and trials"):
        wilson_interval(11, 10)
    assert np.isnan(wilson_interval(0, 0).value)


def test_two_proportion_test_by_hand():
    # 60/100 vs 40/100: pooled p = .5, se = sqrt(.25 * .02) = .0707, z = 2.828, p = .00468
    result = two_proportion_test(60, 100, 40, 100)
    assert result.delta == pytest.approx(0.2)
    assert result.p_value == pytest.approx(0.004678, abs=1e-5)
    assert result.low == pytest.approx(0.2 - 1.959964 * np.sqrt(0.0048), abs=1e-6)
    assert two_proportion_test(5, 10, 5, 10).p_value == pytest.approx(1.0)


def test_holm_by_hand():
    # sorted .01 .03 .04 → ×3 ×2 ×1 = .03 .06 .04 → monotone .03 .06 .06
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    adjusted = holm([0.5, np.nan, 0.001])
    assert np.isnan(adjusted[1]) and adjusted.tolist()[::2] == pytest.approx([0.5, 0.002])
