"""Funnel figures compared: each step against the previous period (and the step that fell
most), with intervals adjusted like the p-values; the win rate against the previous period;
and each group of a breakdown against the rest.

Numbers only; verdicts are codes (:data:`ABOVE`, :data:`BELOW`, :data:`NO_DIFFERENCE`,
:data:`TOO_FEW`) that the funnel topic names in the report's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from crmkit.core.errors import require_columns
from crmkit.metrics.stats import (
    Change,
    Difference,
    holm,
    two_proportion_test,
    wilson_interval,
    z_value,
)

ABOVE, BELOW, NO_DIFFERENCE, TOO_FEW = "above", "below", "no_difference", "too_few"
"""Verdict codes of a group tested against the rest (:func:`breakdown`)."""

WIN_RATE = "win_rate"
"""The breakdown's metric code for the win rate (the others are steps, ``"from->to"``)."""


def step_name(stages: list[str], k: int) -> str:
    """``"lead->intent"`` for the step into stage ``k``."""
    return f"{stages[k - 1]}->{stages[k]}"


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, *, level: float = 0.95):
    """``k1/n1 − k2/n2`` with Newcombe's hybrid score interval (Newcombe 1998, method 10),
    built from the two Wilson intervals; it stays sensible for rates near 0 or 1, where the
    Wald interval does not. The p-value is the pooled two-proportion z test's.

    Returns
    -------
    crmkit.metrics.stats.Difference
        ``delta, low, high, p_value`` (all NaN when either group is empty).

    Examples
    --------
    Newcombe (1998), Table II, example (a): 56/70 − 48/80.

    >>> d = newcombe_difference(56, 70, 48, 80)
    >>> round(d.low, 4), round(d.high, 4)
    (0.0524, 0.3339)
    """
    test = two_proportion_test(k1, n1, k2, n2, level=level)
    if not (n1 > 0 and n2 > 0):
        return test
    first, second = wilson_interval(k1, n1, level=level), wilson_interval(k2, n2, level=level)
    delta = first.value - second.value
    low = delta - np.hypot(first.value - first.low, second.high - second.value)
    high = delta + np.hypot(first.high - first.value, second.value - second.low)
    return type(test)(delta, float(low), float(high), test.p_value)


@dataclass(frozen=True)
class RateChange(Change):
    """A rate this period against the previous one: the :class:`Change` (now − before, its
    95% interval, the two-sided p-value), the two rates, and ``won`` of ``decided`` now and
    before."""

    now: float
    before: float
    won: int
    decided: int
    previous_won: int
    previous_decided: int


def win_rate_change(current: pd.DataFrame, previous: pd.DataFrame) -> RateChange:
    """The win rate (won ÷ (won + lost)) of one cohort against another's (positions, see
    :func:`crmkit.metrics.funnel.furthest_stage`), with Newcombe's interval for the
    difference (:func:`newcombe_difference`) and the two-proportion z test.

    Examples
    --------
    >>> now = pd.DataFrame({"outcome": ["won", "lost", "lost", "lost", "open"]})
    >>> before = pd.DataFrame({"outcome": ["won", "won", "lost", "lost"]})
    >>> change = win_rate_change(now, before)
    >>> change.now, change.before, change.delta
    (0.25, 0.5, -0.25)
    """
    won, lost = ((current["outcome"] == o).sum() for o in ("won", "lost"))
    won_before, lost_before = ((previous["outcome"] == o).sum() for o in ("won", "lost"))
    n, n_before = int(won + lost), int(won_before + lost_before)
    test = newcombe_difference(int(won), n, int(won_before), n_before)
    return RateChange(
        delta=test.delta,
        low=test.low,
        high=test.high,
        p_value=test.p_value,
        now=float(won / n) if n else float("nan"),
        before=float(won_before / n_before) if n_before else float("nan"),
        won=int(won),
        decided=n,
        previous_won=int(won_before),
        previous_decided=n_before,
    )


def _restricted_rates(p1: float, p2: float, n1: int, n2: int, delta: float):
    """The two rates' maximum-likelihood estimates under ``rate1 − rate2 = delta``, in closed
    form (Miettinen & Nurminen 1985; Farrington & Manning 1990)."""
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
    c = delta**2 + delta * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * delta * (1 + delta)
    v = b**3 / (3 * a) ** 3 - b * c / (6 * a**2) + d / (2 * a)
    u = np.sign(v) * np.sqrt(max(b**2 / (3 * a) ** 2 - c / (3 * a), 0.0))
    ratio = 0.0 if u == 0 else float(np.clip(v / u**3, -1.0, 1.0))
    first = float(np.clip(2 * u * np.cos((np.pi + np.arccos(ratio)) / 3) - b / (3 * a), 0, 1))
    return first, float(np.clip(first - delta, 0, 1))


def _score(k1: int, n1: int, k2: int, n2: int, delta: float) -> float:
    """The score statistic of ``rate1 − rate2 = delta``, its variance taken under that
    hypothesis (Mee 1984); at ``delta`` 0 it is the pooled two-proportion z statistic."""
    p1, p2 = k1 / n1, k2 / n2
    q1, q2 = _restricted_rates(p1, p2, n1, n2, delta)
    variance = q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2
    gap = p1 - p2 - delta
    if variance <= 0:
        return 0.0 if gap == 0 else float(np.sign(gap) * np.inf)
    return gap / np.sqrt(variance)


def score_difference(k1: int, n1: int, k2: int, n2: int, *, level: float = 0.95) -> Difference:
    """``k1/n1 − k2/n2`` with the score interval that inverts the pooled two-proportion z test
    (Mee 1984): every difference the test at ``1 − level`` would not reject. The interval
    therefore leaves out zero exactly when the test's p-value is under ``1 − level``, and it
    stays sensible for rates near 0 or 1, where the Wald interval does not.

    Returns
    -------
    crmkit.metrics.stats.Difference
        ``delta, low, high, p_value`` (the pooled z test's; all NaN when a group is empty).

    Examples
    --------
    Newcombe (1998), Table II, example (a), method 5 (Mee): 56/70 − 48/80.

    >>> d = score_difference(56, 70, 48, 80)
    >>> round(d.low, 4), round(d.high, 4)
    (0.0533, 0.3377)
    """
    test = two_proportion_test(k1, n1, k2, n2, level=level)
    if not (n1 > 0 and n2 > 0):
        return test
    z = z_value(level)
    delta = k1 / n1 - k2 / n2
    edge = 1e-12  # the statistic is infinite at ±1 itself

    def bound(target: float, start: float, end: float) -> float:
        return optimize.brentq(lambda d: _score(k1, n1, k2, n2, d) - target, start, end, xtol=1e-12)

    low = -1.0 if delta <= -1 else bound(z, -1 + edge, delta)
    high = 1.0 if delta >= 1 else bound(-z, delta, 1 - edge)
    return Difference(delta, float(low), float(high), test.p_value)


def bonferroni(p_values: np.ndarray | list) -> np.ndarray:
    """Each p-value times the number of tests (the non-NaN ones), at most 1; NaN stays NaN.

    Examples
    --------
    >>> bonferroni([0.01, float("nan"), 0.4]).tolist()
    [0.02, nan, 0.8]
    """
    values = np.asarray(p_values, dtype=float)
    return np.minimum(values * np.count_nonzero(~np.isnan(values)), 1.0)


def compare_steps(
    current: pd.DataFrame, previous: pd.DataFrame, *, stages: list[str], alpha: float = 0.05
) -> pd.DataFrame:
    """Step conversion now against the previous cohort, every step at once.

    Each step's difference is tested by the pooled two-proportion z test, its p-value
    Bonferroni-adjusted over the steps that can be compared (``m``: those with decided
    opportunities in both cohorts), and its interval is the score interval of the same test
    (:func:`score_difference`) at level ``1 − alpha / m``. So a step's interval leaves out
    zero exactly when its adjusted p-value is under ``alpha``: the table never shows an
    interval and a verdict that disagree. The adjustment is needed because the step that fell
    most is picked after looking at every step.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step, now, before, delta, low, high, p_value, p_adjusted,
        level`` (the intervals' confidence level).
    """
    counts = []
    for k in range(1, len(stages)):
        now, before = current.iloc[k], previous.iloc[k]
        n_now = current.iloc[k - 1]["reached"] - current.iloc[k - 1]["open_here"]
        n_before = previous.iloc[k - 1]["reached"] - previous.iloc[k - 1]["open_here"]
        counts.append((int(now["reached"]), int(n_now), int(before["reached"]), int(n_before)))
    steps = sum(1 for _, n_now, _, n_before in counts if n_now > 0 and n_before > 0)
    level = 1 - alpha / max(steps, 1)
    rows = []
    for k, (won, n_now, won_before, n_before) in enumerate(counts, start=1):
        test = score_difference(won, n_now, won_before, n_before, level=level)
        rows.append(
            {
                "step": step_name(stages, k),
                "now": current.iloc[k]["step_conversion"],
                "before": previous.iloc[k]["step_conversion"],
                "delta": test.delta,
                "low": test.low,
                "high": test.high,
                "p_value": test.p_value,
            }
        )
    table = pd.DataFrame(rows)
    table["p_adjusted"] = bonferroni(table["p_value"].to_numpy())
    table["level"] = level
    return table


@dataclass(frozen=True)
class Bottleneck:
    """The step whose conversion fell most against the previous period, with the interval of
    the fall (``low``–``high``, adjusted like its p-value, see :func:`compare_steps`).

    ``p_adjusted`` is Bonferroni-adjusted over all steps compared, because the step was
    picked after looking at every step; ``significant`` uses it.
    """

    step: str
    now: float
    before: float
    delta: float
    p_value: float
    p_adjusted: float
    low: float = float("nan")
    high: float = float("nan")

    @property
    def significant(self) -> bool:
        return bool(self.p_adjusted < 0.05)


def find_bottleneck(comparison: pd.DataFrame) -> Bottleneck | None:
    """The step that fell most (:func:`compare_steps` output); None when no step fell. Its
    adjusted p-value is the table's ``p_adjusted`` (Bonferroni over the steps when absent)."""
    if "p_adjusted" not in comparison.columns:
        comparison = comparison.assign(p_adjusted=bonferroni(comparison["p_value"].to_numpy()))
    fell = comparison.loc[comparison["delta"] < 0]
    if fell.empty:
        return None
    row = fell.loc[fell["delta"].idxmin()]
    return Bottleneck(
        row["step"],
        row["now"],
        row["before"],
        row["delta"],
        row["p_value"],
        row["p_adjusted"],
        row.get("low", float("nan")),
        row.get("high", float("nan")),
    )


def verdict_codes(
    sizes: np.ndarray | list,
    values: np.ndarray | list,
    rest: np.ndarray | list,
    p_adjusted: np.ndarray | list,
    *,
    min_group: int,
) -> list[str]:
    """Each group against the rest: :data:`TOO_FEW` under ``min_group``, :data:`ABOVE` or
    :data:`BELOW` when the adjusted p-value is under 0.05, else :data:`NO_DIFFERENCE`."""
    codes = []
    for size, value, other, p in zip(sizes, values, rest, p_adjusted, strict=True):
        if size < min_group:
            codes.append(TOO_FEW)
        elif p < 0.05:
            codes.append(ABOVE if value > other else BELOW)
        else:
            codes.append(NO_DIFFERENCE)
    return codes


def breakdown(
    positions: pd.DataFrame, *, by: str, stages: list[str], min_group: int = 30
) -> pd.DataFrame:
    """Step conversion and win rate per group of ``by``, each tested against the rest.

    Each group's conversion (Wilson 95% interval) is compared with all other opportunities
    by a two-proportion z test; p-values are Holm-adjusted over every test in the table.
    Groups with fewer than ``min_group`` opportunities are shown but not tested
    (``verdict`` :data:`TOO_FEW`). Opportunities without a value are grouped as "(none)".

    Returns
    -------
    pandas.DataFrame
        One row per (group, metric): ``group, metric`` ("lead->intent", ...,
        :data:`WIN_RATE`), ``opportunities, trials, successes, conversion, low, high, rest,
        p_value, p_adjusted, verdict`` (a code, see :func:`verdict_codes`).

    Raises
    ------
    ColumnMissing
        ``by`` is not a column of ``positions``.
    """
    require_columns(positions, [by], "opportunities", "breakdown")
    groups = positions[by].astype("string").fillna("(none)")
    k = positions["stage_index"].to_numpy()
    is_open = (positions["outcome"] == "open").to_numpy()
    outcome = positions["outcome"].to_numpy()
    metrics = {}
    for step in range(1, len(stages)):
        # decided at step-1: reached it and not still open there
        trials = (k >= step - 1) & ~((k == step - 1) & is_open)
        metrics[step_name(stages, step)] = (trials, k >= step)
    metrics[WIN_RATE] = (np.isin(outcome, ["won", "lost"]), outcome == "won")
    rows = []
    for group in sorted(groups.unique(), key=str):
        member = (groups == group).to_numpy()
        for metric, (trials, success) in metrics.items():
            n, x = int((trials & member).sum()), int((success & trials & member).sum())
            n_rest = int((trials & ~member).sum())
            x_rest = int((success & trials & ~member).sum())
            share = wilson_interval(x, n)
            test = two_proportion_test(x, n, x_rest, n_rest)
            rows.append(
                {
                    "group": group,
                    "metric": metric,
                    "opportunities": int(member.sum()),
                    "trials": n,
                    "successes": x,
                    "conversion": share.value,
                    "low": share.low,
                    "high": share.high,
                    "rest": x_rest / n_rest if n_rest else float("nan"),
                    "p_value": test.p_value if member.sum() >= min_group else float("nan"),
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adjusted"] = holm(table["p_value"].to_numpy())
    table["verdict"] = verdict_codes(
        table["opportunities"],
        table["conversion"],
        table["rest"],
        table["p_adjusted"],
        min_group=min_group,
    )
    return table
