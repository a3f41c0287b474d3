"""Funnel figures compared: each step against the previous period (and the step that fell
most), the win rate against the previous period, and each group of a breakdown against the
rest.

Numbers only; verdicts are codes (:data:`ABOVE`, :data:`BELOW`, :data:`NO_DIFFERENCE`,
:data:`TOO_FEW`) that the funnel topic names in the report's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.core.errors import require_columns
from crmkit.metrics.stats import holm, two_proportion_test, wilson_interval

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
class RateChange:
    """A rate this period against the previous one: ``won`` of ``decided`` now and before,
    the difference (now − before) with its 95% interval, and the two-sided p-value."""

    now: float
    before: float
    won: int
    decided: int
    previous_won: int
    previous_decided: int
    delta: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 0.05)

    def as_dict(self) -> dict:
        """``{delta, ci: [low, high], p_value}``, the shape of every published change."""
        return {"delta": self.delta, "ci": [self.low, self.high], "p_value": self.p_value}


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
        won / n if n else float("nan"),
        won_before / n_before if n_before else float("nan"),
        int(won),
        n,
        int(won_before),
        n_before,
        test.delta,
        test.low,
        test.high,
        test.p_value,
    )


def compare_steps(
    current: pd.DataFrame, previous: pd.DataFrame, *, stages: list[str]
) -> pd.DataFrame:
    """Step conversion now against the previous cohort: difference, Wald interval, p-value
    (two-proportion z test).

    One row per step: ``step, now, before, delta, low, high, p_value``.
    """
    rows = []
    for k in range(1, len(stages)):
        now, before = current.iloc[k], previous.iloc[k]
        n_now = current.iloc[k - 1]["reached"] - current.iloc[k - 1]["open_here"]
        n_before = previous.iloc[k - 1]["reached"] - previous.iloc[k - 1]["open_here"]
        test = two_proportion_test(
            int(now["reached"]), int(n_now), int(before["reached"]), int(n_before)
        )
        rows.append(
            {
                "step": step_name(stages, k),
                "now": now["step_conversion"],
                "before": before["step_conversion"],
                "delta": test.delta,
                "low": test.low,
                "high": test.high,
                "p_value": test.p_value,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Bottleneck:
    """The step whose conversion fell most against the previous period, with the interval of
    the fall (``low``–``high``, Wald).

    ``p_adjusted`` is Holm-adjusted over all steps, because the step was picked after
    looking at every step; ``significant`` uses it.
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
    """The step that fell most (:func:`compare_steps` output); None when no step fell."""
    adjusted = holm(comparison["p_value"].to_numpy())
    fell = comparison.assign(p_adjusted=adjusted).loc[comparison["delta"] < 0]
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
