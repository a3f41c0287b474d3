"""Why customers say they leave: the stated reasons of the period's churn, their shares with
intervals, their change on the previous period, a Pareto table, and the themes of the
free-text reasons.

The churn counted is the churn of :mod:`crmkit.metrics.churn_status`: a customer's churn
event of the period is the one at their churn date as known at the period end (a customer
won back by a later order is not counted). The words are in ``topics/churn_lifetimes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.core.errors import require_columns
from crmkit.core.periods import Period, require_period
from crmkit.metrics.stats import Proportion, holm, two_proportion_test, wilson_interval
from crmkit.metrics.themes import THEME_COLUMNS, themes

NOT_STATED = "(not stated)"
"""The theme group of churn events with a text but no stated reason."""
THIS_PERIOD, PREVIOUS_PERIOD = "(this period)", "(previous period)"
"""The theme groups when the texts cannot be grouped by reason."""

REASON_COLUMNS = [
    "reason",
    "churns",
    "share",
    "low",
    "high",
    "cumulative_share",
    "previous_churns",
    "previous_share",
    "delta",
    "delta_low",
    "delta_high",
    "p_value",
    "p_holm",
]


@dataclass(frozen=True)
class ChurnReasons:
    """The stated reasons of a period's churn, against the previous period's.

    ``status``: ``"ok"``; ``"no_events"`` (no ``churn_events`` table: churn by inactivity,
    nobody states a reason); ``"no_reason_column"`` (events without a ``reason`` column);
    ``"no_churns"`` (no churn event counted in the period); ``"none_stated"`` (churn, but
    every reason blank).

    ``churns``: churn events counted in the period; ``stated``: those with a reason, and
    ``stated_share`` their share (Wilson interval); ``previous_*`` the same a period
    earlier. ``table``: one row per reason stated in either period, Pareto order (most
    churns first): ``reason, churns, share, low, high, cumulative_share, previous_churns,
    previous_share, delta, delta_low, delta_high, p_value, p_holm`` — a share is of the
    period's stated reasons. ``themes``: the themes of ``reason_text``
    (:func:`crmkit.metrics.themes.themes`), grouped by reason (``themes_by="reason"``) or
    by period (``"period"``: this period's texts against the previous one's, when the texts
    of the period carry fewer than two reasons); ``texts``: events of the period with a
    text, None without a ``reason_text`` column.
    """

    period: Period
    status: str
    churns: int
    stated: int
    stated_share: Proportion
    previous_churns: int
    previous_stated: int
    table: pd.DataFrame
    themes: pd.DataFrame
    themes_by: str
    texts: int | None

    @property
    def top(self) -> pd.Series | None:
        """The most stated reason's row of ``table``; None without one."""
        shown = self.table.loc[self.table["churns"] > 0]
        return shown.iloc[0] if len(shown) else None

    def rising(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """The reasons whose share rose significantly (Holm-adjusted p < ``alpha``),
        strongest evidence first."""
        rows = self.table.loc[(self.table["delta"] > 0) & (self.table["p_holm"] < alpha)]
        return rows.sort_values(["p_holm", "delta"], ascending=[True, False])


def counted_events(
    churn_events: pd.DataFrame, *, period: Period, churned: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The churn events of ``period`` that count as churn, one per customer.

    With ``churned`` (:func:`crmkit.metrics.churn_status.churn_dates` at the period end, or
    any frame of ``customer_id, churned_at``), an event counts when it is the customer's
    churn date and that date falls in the period; without it, every event dated in the
    period counts. A customer with two counted events keeps the later.
    """
    rows = period.rows(churn_events, "churned_at")
    if churned is not None:
        left = churned.loc[period.contains(churned["churned_at"]), ["customer_id", "churned_at"]]
        rows = rows.merge(left.drop_duplicates(), on=["customer_id", "churned_at"])
    rows = rows.sort_values("churned_at", kind="stable")
    return rows.drop_duplicates("customer_id", keep="last").reset_index(drop=True)


def _clean(text: pd.Series) -> pd.Series:
    """Text stripped, blanks missing."""
    text = text.astype("string").str.strip()
    return text.mask(text == "")


def reason_table(current: pd.Series, previous: pd.Series, *, level: float = 0.95) -> pd.DataFrame:
    """Share of each stated reason this period and last, the change and its test.

    Reasons are compared without regard to case or surrounding spaces ("Price " is
    "price"), and written as most often spelt. A share is a reason's churns over the
    period's churns with a stated reason, with the Wilson interval (Wilson 1927); the
    change is the difference of shares with the two-proportion z test (pooled) and its Wald
    interval, p-values Holm-adjusted over the reasons (Holm 1979).

    Parameters
    ----------
    current, previous
        The stated reasons of each period's counted churn events (blanks are left out).

    Returns
    -------
    pandas.DataFrame
        One row per reason, most churns first (ties: previous churns, then name); columns
        as :data:`REASON_COLUMNS`.
    """
    current, previous = _clean(current).dropna(), _clean(previous).dropna()
    both = pd.concat([current, previous], ignore_index=True)
    if both.empty:
        return pd.DataFrame(columns=REASON_COLUMNS)
    keys = both.str.casefold()
    spelling = (
        pd.DataFrame({"key": keys, "text": both})
        .value_counts(sort=False)
        .rename("n")
        .reset_index()
        .sort_values(["key", "n", "text"], ascending=[True, False, True])
        .drop_duplicates("key")
        .set_index("key")["text"]
    )
    now = current.str.casefold().value_counts().reindex(spelling.index, fill_value=0)
    before = previous.str.casefold().value_counts().reindex(spelling.index, fill_value=0)
    n, n_before = int(now.sum()), int(before.sum())
    table = pd.DataFrame(
        {
            "reason": spelling.to_numpy(),
            "churns": now.to_numpy(dtype=int),
            "previous_churns": before.to_numpy(dtype=int),
            "key": spelling.index,
        }
    ).sort_values(["churns", "previous_churns", "key"], ascending=[False, False, True])
    shares = [wilson_interval(int(k), n, level=level) for k in table["churns"]]
    tests = [
        two_proportion_test(int(k), n, int(b), n_before, level=level)
        for k, b in zip(table["churns"], table["previous_churns"], strict=True)
    ]
    table["share"] = [s.value for s in shares]
    table["low"] = [s.low for s in shares]
    table["high"] = [s.high for s in shares]
    table["cumulative_share"] = table["share"].cumsum()
    table["previous_share"] = table["previous_churns"] / n_before if n_before else np.nan
    table["delta"] = [t.delta for t in tests]
    table["delta_low"] = [t.low for t in tests]
    table["delta_high"] = [t.high for t in tests]
    table["p_value"] = [t.p_value for t in tests]
    table["p_holm"] = holm(table["p_value"].to_numpy())
    return table[REASON_COLUMNS].reset_index(drop=True)


def reason_themes(
    current: pd.DataFrame, previous: pd.DataFrame, *, min_mentions: int | None = None
) -> tuple[pd.DataFrame, str]:
    """Themes of the free-text reasons (:func:`crmkit.metrics.themes.themes`: TF-IDF
    keywords, Chinese segmented by jieba): what sets the texts of one stated reason apart
    from the others'. Texts without a stated reason are the group :data:`NOT_STATED`. When
    the period's texts carry fewer than two reasons, this period's texts are set against
    the previous period's instead, and only this period's themes are kept.

    Returns
    -------
    (themes, by)
        The themes (:data:`crmkit.metrics.themes.THEME_COLUMNS`) and ``"reason"`` or
        ``"period"``.
    """
    options = {} if min_mentions is None else {"min_mentions": min_mentions}
    text = _clean(current["reason_text"]) if "reason_text" in current else pd.Series()
    if "reason" in current:
        reasons = _clean(current["reason"]).fillna(NOT_STATED)
        if reasons[text.notna()].nunique() >= 2:
            return themes(text, reasons.astype(object), **options), "reason"
    if "reason_text" not in current:
        return pd.DataFrame(columns=THEME_COLUMNS), "reason"
    before = _clean(previous["reason_text"]) if "reason_text" in previous else pd.Series()
    texts = pd.concat([text, before], ignore_index=True)
    groups = pd.Series([THIS_PERIOD] * len(text) + [PREVIOUS_PERIOD] * len(before), dtype=object)
    found = themes(texts, groups, **options)
    return found.loc[found["group"] == THIS_PERIOD].reset_index(drop=True), "period"


def reasons_analysis(
    churn_events: pd.DataFrame | None,
    *,
    period: Period,
    churned: pd.DataFrame | None = None,
    previous_churned: pd.DataFrame | None = None,
    level: float = 0.95,
    min_mentions: int | None = None,
) -> ChurnReasons:
    """The stated reasons of the period's churn against the previous period's.

    Parameters
    ----------
    churn_events
        The unit's ``churn_events`` (``customer_id, churned_at``; ``reason`` and
        ``reason_text`` where recorded); None or empty where churn is inferred from
        inactivity.
    period
        The reporting period; the previous period is its ``previous()``.
    churned, previous_churned
        :func:`crmkit.metrics.churn_status.churn_dates` at the period end and at the
        previous period's end: which events count (:func:`counted_events`). None: every
        event dated in the period counts.
    level
        Confidence level of the intervals.
    min_mentions
        Fewest texts of a group for a theme (default: the themes module's).

    Raises
    ------
    ParameterError
        ``period`` is not a Period, or ``churn_events`` lacks ``customer_id`` or
        ``churned_at``.
    """
    require_period(period, caller="reasons_analysis")
    nothing = wilson_interval(0, 0)
    empty_themes = pd.DataFrame(columns=THEME_COLUMNS)
    blank = pd.DataFrame(columns=REASON_COLUMNS)
    if churn_events is None or churn_events.empty:
        return ChurnReasons(period, "no_events", 0, 0, nothing, 0, 0, blank, empty_themes, "", None)
    require_columns(churn_events, ["customer_id", "churned_at"], "churn_events", "reasons")
    now = counted_events(churn_events, period=period, churned=churned)
    before = counted_events(churn_events, period=period.previous(), churned=previous_churned)
    has_reason = "reason" in churn_events
    texts = int(_clean(now["reason_text"]).notna().sum()) if "reason_text" in now else None
    found, by = empty_themes, ""
    if texts:
        found, by = reason_themes(now, before, min_mentions=min_mentions)
    if not has_reason:
        return ChurnReasons(
            period, "no_reason_column", len(now), 0, nothing, len(before), 0, blank, found, by,
            texts,
        )  # fmt: skip
    stated_now, stated_before = _clean(now["reason"]), _clean(before["reason"])
    n_stated, n_before = int(stated_now.notna().sum()), int(stated_before.notna().sum())
    status = "ok" if n_stated else ("none_stated" if len(now) else "no_churns")
    return ChurnReasons(
        period=period,
        status=status,
        churns=len(now),
        stated=n_stated,
        stated_share=wilson_interval(n_stated, len(now), level=level),
        previous_churns=len(before),
        previous_stated=n_before,
        table=reason_table(stated_now, stated_before, level=level),
        themes=found,
        themes_by=by,
        texts=texts,
    )
