"""Funnel comparisons against published and hand-computed values: Newcombe's interval for a
difference of proportions, the win rate's change, verdict codes, the bottleneck's interval."""

import numpy as np
import pandas as pd
import pytest
from conftest import pipeline_history, pipeline_opportunities

from crmkit.metrics import funnel, funnel_compare
from crmkit.metrics.funnel_compare import (
    compare_steps,
    newcombe_difference,
    score_difference,
    verdict_codes,
    win_rate_change,
)
from crmkit.metrics.stats import two_proportion_test


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        # Newcombe (1998), Table II, method 10 (hybrid score), examples (a), (b), (c), (h)
        ((56, 70, 48, 80), 0.0524, 0.3339),
        ((9, 10, 3, 10), 0.1705, 0.8090),
        ((6, 7, 2, 7), 0.0582, 0.8062),
        ((5, 56, 0, 29), -0.0381, 0.1926),
    ],
)
def test_newcombe_interval_matches_the_published_examples(counts, low, high):
    d = newcombe_difference(*counts)
    assert (round(d.low, 4), round(d.high, 4)) == (low, high)
    k1, n1, k2, n2 = counts
    assert d.delta == pytest.approx(k1 / n1 - k2 / n2)
    assert d.p_value == pytest.approx(two_proportion_test(*counts).p_value)


def test_newcombe_of_an_empty_group_is_unknown():
    d = newcombe_difference(3, 10, 0, 0)
    assert np.isnan([d.delta, d.low, d.high, d.p_value]).all()


def test_win_rate_change_by_hand():
    # now 1 won of 4 decided (the open one left out); before 3 of 4
    now = pd.DataFrame({"outcome": ["won", "lost", "lost", "lost", "open"]})
    before = pd.DataFrame({"outcome": ["won", "won", "won", "lost", "open", "open"]})
    change = win_rate_change(now, before)
    assert (change.won, change.decided, change.previous_won, change.previous_decided) == (
        1,
        4,
        3,
        4,
    )
    assert (change.now, change.before, change.delta) == (0.25, 0.75, -0.5)
    expected = newcombe_difference(1, 4, 3, 4)
    assert change.as_dict() == {
        "delta": -0.5,
        "ci": [expected.low, expected.high],
        "p_value": pytest.approx(expected.p_value),
    }
    # pooled z test: p = 4/8, se = sqrt(.25 × .5) = .3536, z = 1.414, p = 0.157
    assert change.p_value == pytest.approx(0.1573, abs=1e-4) and not change.significant


def test_verdict_codes_by_hand():
    codes = verdict_codes(
        [10, 50, 50, 50], [0.9, 0.6, 0.2, 0.5], [0.1, 0.4, 0.4, 0.4], [0.001, 0.01, 0.02, 0.3],
        min_group=30,
    )  # fmt: skip
    assert codes == ["too_few", "above", "below", "no_difference"]


def test_breakdown_speaks_in_codes():
    positions = funnel.furthest_stage(
        pipeline_opportunities(),
        pipeline_history(),
        stages=["lead", "intent", "negotiation", "won"],
        as_of="2026-09-30",
    )
    table = funnel.breakdown(
        positions, by="owner", stages=["lead", "intent", "negotiation", "won"], min_group=3
    )
    assert set(table["metric"]) == {
        "lead->intent", "intent->negotiation", "negotiation->won", funnel_compare.WIN_RATE
    }  # fmt: skip
    assert set(table["verdict"]) <= {"above", "below", "no_difference", "too_few"}


def test_bottleneck_carries_the_interval_of_its_fall():
    comparison = pd.DataFrame(
        {
            "step": ["a->b", "b->c"],
            "now": [0.5, 0.2],
            "before": [0.6, 0.5],
            "delta": [-0.1, -0.3],
            "low": [-0.2, -0.45],
            "high": [0.0, -0.15],
            "p_value": [0.04, 0.01],
        }
    )
    b = funnel.find_bottleneck(comparison)
    assert (b.step, b.low, b.high) == ("b->c", -0.45, -0.15)


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        # Newcombe (1998), Table II, method 5 (Mee's score interval), examples (a) and (b)
        ((56, 70, 48, 80), 0.0533, 0.3377),
        ((9, 10, 3, 10), 0.1821, 0.8370),
    ],
)
def test_score_interval_matches_the_published_examples(counts, low, high):
    d = score_difference(*counts)
    assert (round(d.low, 4), round(d.high, 4)) == (low, high)
    assert d.p_value == pytest.approx(two_proportion_test(*counts).p_value)


def test_score_interval_leaves_out_zero_exactly_when_its_test_is_significant():
    """The interval inverts the pooled z test: at any level, zero is outside it exactly when
    the test's p-value is under 1 − level (random counts, small and large, rates near 0)."""
    rng = np.random.default_rng(12)
    for _ in range(300):
        n1, n2 = rng.integers(1, 120, 2)
        k1, k2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        level = rng.choice([0.95, 1 - 0.05 / 3, 0.99])
        d = score_difference(int(k1), int(n1), int(k2), int(n2), level=level)
        assert d.low <= d.delta <= d.high
        if abs(d.p_value - (1 - level)) > 1e-9:  # not on the knife's edge
            assert (d.low > 0 or d.high < 0) == (d.p_value < 1 - level), (k1, n1, k2, n2)


def _stages_table(reached: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stage": ["a", "b", "c", "d"],
            "reached": reached,
            "open_here": [0, 0, 0, 0],
            "step_conversion": [np.nan] + [reached[k] / reached[k - 1] for k in (1, 2, 3)],
        }
    )


def test_each_step_interval_agrees_with_its_verdict():
    """The issue: an interval without zero beside "significant change: no". Three steps:
    a → b 40/100 against 60/100 (p = 0.0047), b → c 11/40 against 30/60 (p = 0.025, its
    plain 95% interval leaves out zero, yet it is not significant once three steps are
    compared), c → d 5/11 against 6/30."""
    compared = compare_steps(
        _stages_table([100, 40, 11, 5]), _stages_table([100, 60, 30, 6]), stages=list("abcd")
    )
    assert compared["level"].tolist() == pytest.approx([1 - 0.05 / 3] * 3)
    p = [two_proportion_test(*c).p_value for c in [(40, 100, 60, 100), (11, 40, 30, 60)]]
    p.append(two_proportion_test(5, 11, 6, 30).p_value)
    assert compared["p_value"].tolist() == pytest.approx(p)
    assert compared["p_adjusted"].tolist() == pytest.approx([3 * v for v in p])  # Bonferroni
    significant = (compared["p_adjusted"] < 0.05).tolist()
    assert significant == [True, False, False]
    excludes_zero = ((compared["low"] > 0) | (compared["high"] < 0)).tolist()
    assert excludes_zero == significant
    plain = score_difference(11, 40, 30, 60)  # unadjusted 95%: would have said "changed"
    assert plain.high < 0 < compared.loc[1, "high"]
    bottleneck = funnel.find_bottleneck(compared)
    assert (bottleneck.step, bottleneck.significant) == ("b->c", False)
    assert (bottleneck.low, bottleneck.high) == (compared.loc[1, "low"], compared.loc[1, "high"])


def test_steps_without_decided_opportunities_are_not_counted_in_the_adjustment():
    now = _stages_table([100, 40, 11, 5])
    empty = _stages_table([100, 60, 30, 6]).assign(open_here=[0, 0, 30, 0])  # c all open
    compared = compare_steps(now, empty, stages=list("abcd"))
    assert np.isnan(compared.loc[2, "p_value"]) and np.isnan(compared.loc[2, "low"])
    assert compared["level"].iloc[0] == pytest.approx(1 - 0.05 / 2)  # two steps compared
    assert compared.loc[0, "p_adjusted"] == pytest.approx(2 * compared.loc[0, "p_value"])
