"""Shared statistics: proportion intervals, two-proportion tests, multiple-test correction,
the bootstrap interval of a mean."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Proportion:
    """A share with its Wilson interval: ``value = successes / trials``."""

    successes: int
    trials: int
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Change:
    """This period minus the previous one: the difference, its interval (``low``, ``high``;
    NaN when none) and a two-sided p-value (NaN when it cannot be tested)."""

    delta: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 0.05)

    def as_dict(self) -> dict:
        """``{delta, ci, p_value}``, the shape of every published change (``ci`` and
        ``p_value`` None where there is none)."""
        interval = [self.low, self.high]
        finite = all(np.isfinite(v) for v in interval)
        p = self.p_value if np.isfinite(self.p_value) else None
        return {"delta": self.delta, "ci": interval if finite else None, "p_value": p}


def z_value(level: float = 0.95) -> float:
    """The two-sided standard-normal quantile for a confidence ``level`` (1.96 for 0.95)."""
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson_interval(successes: int, trials: int, *, level: float = 0.95) -> Proportion:
    """The Wilson score interval for a proportion (Wilson 1927; Newcombe 1998, method 3).

    Examples
    --------
    >>> p = wilson_interval(8, 10)
    >>> round(p.low, 4), round(p.high, 4)
    (0.4902, 0.9433)
    >>> wilson_interval(0, 10).low, wilson_interval(10, 10).high
    (0.0, 1.0)
    """
    if trials <= 0:
        return Proportion(successes, trials, float("nan"), float("nan"), float("nan"))
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and trials ({trials}); got {successes}.")
    z = z_value(level)
    p = successes / trials
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    # At 0 or all the interval's end is the share itself: exactly, not off by rounding.
    low = 0.0 if successes == 0 else float(centre - half)
    high = 1.0 if successes == trials else float(centre + half)
    return Proportion(successes, trials, p, low, high)


@dataclass(frozen=True)
class Difference:
    """``first - second`` of two proportions, its Wald interval and a two-sided p-value
    from the pooled two-proportion z test."""

    delta: float
    low: float
    high: float
    p_value: float


def two_proportion_test(k1: int, n1: int, k2: int, n2: int, *, level: float = 0.95) -> Difference:
    """Compare k1/n1 with k2/n2 (pooled z test for the p-value; unpooled interval)."""
    if n1 <= 0 or n2 <= 0:
        return Difference(float("nan"), float("nan"), float("nan"), float("nan"))
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(p1 - p2) / se0))
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z = z_value(level)
    return Difference(p1 - p2, float(p1 - p2 - z * se), float(p1 - p2 + z * se), p_value)


def holm(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979); NaN stays NaN.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(values, np.nan)
    valid = np.flatnonzero(~np.isnan(values))
    order = valid[np.argsort(values[valid], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


def verdicts(
    sizes: np.ndarray | list,
    values: np.ndarray | list,
    rest: np.ndarray | list,
    p_adjusted: np.ndarray | list,
    *,
    min_group: int,
    what: str = "",
) -> list[str]:
    """Words for a group tested against the rest: "too few to judge" under ``min_group``,
    "above the rest" / "below the rest" when the adjusted p-value is under 0.05, else
    "no clear difference"; ``what`` prefixes the direction ("NPS above the rest")."""
    prefix = f"{what} " if what else ""
    words = []
    for size, value, other, p in zip(sizes, values, rest, p_adjusted, strict=True):
        if size < min_group:
            words.append("too few to judge")
        elif p < 0.05:
            words.append(f"{prefix}{'above' if value > other else 'below'} the rest")
        else:
            words.append("no clear difference")
    return words


BOOTSTRAP_LIMIT = 20_000
"""Above this many values, :func:`mean_interval` takes the bootstrap's Cornish-Fisher
expansion instead of resampling."""


def mean_interval(
    values: np.ndarray | Sequence[float],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    random_state: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean, resampling customers.

    It reflects which customers happen to be in the base, not the uncertainty of the fitted
    parameters (lifetimes offers neither). Above :data:`BOOTSTRAP_LIMIT` values the
    percentiles come from the Cornish-Fisher expansion of the bootstrap distribution of the
    mean (Hall 1992, *The Bootstrap and Edgeworth Expansion*, ch. 2): the mean of n draws
    from the data has skewness γ/√n and excess kurtosis κ/n, so its quantiles are
    x̄ + σ/√n · (z + γ_n(z²-1)/6 + κ_n(z³-3z)/24 - γ_n²(2z³-5z)/36), with σ, γ, κ of the
    data itself. There the terms left out are smaller than the Monte-Carlo error of
    ``n_boot`` resamples, which would take ``n_boot`` passes over the values.
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if len(data) < 2:
        return (float("nan"), float("nan"))
    tail = (1 - level) / 2
    if len(data) > BOOTSTRAP_LIMIT:
        return _cornish_fisher_interval(data, tail)
    rng = np.random.default_rng(random_state)
    means = np.array([rng.choice(data, size=len(data)).mean() for _ in range(n_boot)])
    return (float(np.percentile(means, tail * 100)), float(np.percentile(means, 100 - tail * 100)))


def _cornish_fisher_interval(data: np.ndarray, tail: float) -> tuple[float, float]:
    n, mean = len(data), float(data.mean())
    centred = data - mean
    variance = float(centred @ centred) / n
    if variance == 0:
        return (mean, mean)
    skew = float(np.mean(centred**3)) / variance**1.5 / math.sqrt(n)
    kurtosis = (float(np.mean(centred**4)) / variance**2 - 3) / n
    ends = []
    for z in (stats.norm.ppf(tail), stats.norm.ppf(1 - tail)):
        w = (
            z
            + skew * (z**2 - 1) / 6
            + kurtosis * (z**3 - 3 * z) / 24
            - skew**2 * (2 * z**3 - 5 * z) / 36
        )
        ends.append(mean + math.sqrt(variance / n) * w)
    return (ends[0], ends[1])
