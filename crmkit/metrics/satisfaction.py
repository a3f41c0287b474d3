"""Customer satisfaction: CSAT, NPS with intervals and change tests, breakdowns, key drivers,
comment themes and loyalty.

Definitions (with sources) are in each function's docstring and in ``docs/methods.md``. The
comment themes are found by :mod:`crmkit.metrics.themes`; the words that describe it all are
in the satisfaction topic (``topics/satisfaction.py``), never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, day_after, require_period, rows_through
from crmkit.metrics.respondent_spend import spend_within
from crmkit.metrics.stats import (
    Change,
    holm,
    two_proportion_test,
    verdicts,
    wilson_interval,
    z_value,
)
from crmkit.metrics.themes import THEME_COLUMNS, themes

DIMENSION_PREFIX = "dim_"


@dataclass(frozen=True)
class NPS:
    """A Net Promoter Score with its adjusted-Wald interval (both on −100..100)."""

    n: int
    promoters: int
    passives: int
    detractors: int
    score: float
    low: float
    high: float

    def share(self, kind: str) -> float:
        """Share (0–1) of ``promoters``, ``passives`` or ``detractors``."""
        return getattr(self, kind) / self.n if self.n else float("nan")


def _adjusted(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """Rocks (2016) adjusted-Wald: the adjusted NPS (fraction) and its variance."""
    n_adj = n + 3
    p = (promoters + 0.75) / n_adj
    d = (detractors + 0.75) / n_adj
    return p - d, (p + d - (p - d) ** 2) / n_adj


def nps(scores: pd.Series, *, level: float = 0.95) -> NPS:
    """Net Promoter Score (Reichheld 2003): % promoters (9–10) − % detractors (0–6).

    The interval is the adjusted-Wald interval that Rocks (2016, *The American Statistician*
    70(4)) found to have the best coverage: with n′ = n + 3, p′ = (promoters + ¾) / n′ and
    d′ = (detractors + ¾) / n′, NPS′ = p′ − d′ and Var = (p′ + d′ − NPS′²) / n′; the interval
    is NPS′ ± z·√Var, clipped to −100..100. The point estimate stays the plain NPS.

    Examples
    --------
    >>> result = nps(pd.Series([10] * 6 + [8] * 2 + [3] * 2))
    >>> result.score, round(result.low, 1), round(result.high, 1)
    (40.0, -12.6, 74.1)
    """
    valid = pd.to_numeric(scores, errors="coerce").dropna()
    n = len(valid)
    promoters = int((valid >= 9).sum())
    detractors = int((valid <= 6).sum())
    if not n:
        return NPS(0, 0, 0, 0, float("nan"), float("nan"), float("nan"))
    centre, variance = _adjusted(promoters, detractors, n)
    half = z_value(level) * np.sqrt(variance)
    return NPS(
        n,
        promoters,
        n - promoters - detractors,
        detractors,
        100 * (promoters - detractors) / n,
        float(max(-100.0, 100 * (centre - half))),
        float(min(100.0, 100 * (centre + half))),
    )


def nps_change(current: NPS, previous: NPS, *, level: float = 0.95) -> Change:
    """Difference of two independent NPS (points), adjusted-Wald as in :func:`nps`.

    The interval and z test use the adjusted estimates and the sum of their variances (Rocks
    2016, section 4); the reported delta is the difference of the plain scores.
    """
    if not current.n or not previous.n:
        return Change(float("nan"), float("nan"), float("nan"), float("nan"))
    c1, v1 = _adjusted(current.promoters, current.detractors, current.n)
    c2, v2 = _adjusted(previous.promoters, previous.detractors, previous.n)
    se = np.sqrt(v1 + v2)
    half = z_value(level) * se
    p_value = float(2 * stats.norm.sf(abs(c1 - c2) / se))
    return Change(
        current.score - previous.score, 100 * (c1 - c2 - half), 100 * (c1 - c2 + half), p_value
    )


@dataclass(frozen=True)
class CSAT:
    """Share of responses scoring 4 or 5 (of 5), its Wilson interval, and the mean score."""

    n: int
    satisfied: int
    value: float
    low: float
    high: float
    mean: float


def csat(scores: pd.Series, *, level: float = 0.95) -> CSAT:
    """CSAT = share of responses scoring 4 or 5 on the 5-point scale (top-2-box), with the
    Wilson score interval (Wilson 1927); the mean score is kept for reference."""
    valid = pd.to_numeric(scores, errors="coerce").dropna()
    satisfied = int((valid >= 4).sum())
    share = wilson_interval(satisfied, len(valid), level=level)
    mean = float(valid.mean()) if len(valid) else float("nan")
    return CSAT(len(valid), satisfied, share.value, share.low, share.high, mean)


def csat_change(current: CSAT, previous: CSAT) -> Change:
    """Difference of two CSAT shares: Wald interval, pooled two-proportion z test."""
    test = two_proportion_test(current.satisfied, current.n, previous.satisfied, previous.n)
    return Change(test.delta, test.low, test.high, test.p_value)


def distribution(scores: pd.Series, *, values: range) -> pd.DataFrame:
    """Responses per score: ``score, responses, share``."""
    valid = pd.to_numeric(scores, errors="coerce").dropna().astype(int)
    counts = valid.value_counts().reindex(list(values), fill_value=0)
    return pd.DataFrame(
        {
            "score": counts.index,
            "responses": counts.to_numpy(),
            "share": counts.to_numpy() / max(len(valid), 1),
        }
    )


def monthly(responses: pd.DataFrame, *, months: int = 18, as_of: date | str) -> pd.DataFrame:
    """NPS and CSAT per month with their intervals, for the trend charts.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month, responses, nps, nps_low, nps_high, csat, csat_low,
        csat_high``.
    """
    last = pd.Timestamp(as_of).normalize()
    first = (last.to_period("M") - (months - 1)).start_time
    recent = responses.loc[responses["responded_at"] >= first]
    rows, none = [], pd.Series(dtype=float)
    for month, group in recent.groupby(recent["responded_at"].dt.to_period("M")):
        score = nps(group.get("nps", none))  # blank without the column
        share = csat(group.get("csat", none))
        rows.append([month.start_time, len(group), score.score, score.low, score.high])
        rows[-1] += [share.value, share.low, share.high]
    types = {"month": "datetime64[ns]", "responses": int, "nps": float, "nps_low": float}
    types.update(nps_high=float, csat=float, csat_low=float, csat_high=float)
    return pd.DataFrame(rows, columns=list(types)).astype(types)  # typed even without a month


def breakdown(responses: pd.DataFrame, *, by: str, min_group: int = 30) -> pd.DataFrame:
    """NPS and CSAT per group of ``by``, each NPS tested against all other responses.

    Groups with fewer than ``min_group`` responses are shown as "too few to judge" and not
    tested; the tests' p-values are Holm-adjusted over the table. Missing values are grouped
    as "(none)".

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group, responses, nps, nps_low, nps_high, csat, csat_low,
        csat_high, p_adjusted, verdict``; largest groups first.
    """
    require_columns(responses, [by], "surveys", "breakdown")
    groups = responses[by].astype("string").fillna("(none)")
    rows = []
    for group, members in responses.groupby(groups.to_numpy()):
        rest = responses.loc[(groups != group).to_numpy()]
        score = nps(members["nps"]) if "nps" in members else nps(pd.Series(dtype=float))
        share = csat(members["csat"]) if "csat" in members else csat(pd.Series(dtype=float))
        p_value = float("nan")
        if len(members) >= min_group and score.n and "nps" in rest:
            p_value = nps_change(score, nps(rest["nps"])).p_value
        rows.append(
            {
                "group": group,
                "responses": len(members),
                "nps": score.score,
                "nps_low": score.low,
                "nps_high": score.high,
                "csat": share.value,
                "csat_low": share.low,
                "csat_high": share.high,
                "p_value": p_value,
                "rest_nps": nps(rest["nps"]).score if "nps" in rest else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adjusted"] = holm(table["p_value"].to_numpy())
    table["verdict"] = verdicts(
        table["responses"],
        table["nps"],
        table["rest_nps"],
        table["p_adjusted"],
        min_group=min_group,
        what="NPS",
    )
    return (
        table.drop(columns=["p_value", "rest_nps"])
        .sort_values("responses", ascending=False)
        .reset_index(drop=True)
    )


def dimension_columns(responses: pd.DataFrame) -> list[str]:
    """The ``dim_*`` score columns present."""
    return [c for c in responses.columns if c.startswith(DIMENSION_PREFIX)]


def dimension_scores(responses: pd.DataFrame) -> pd.DataFrame:
    """Mean score and share satisfied (4–5) per dimension: ``dimension, responses, mean,
    satisfied``."""
    rows = []
    for column in dimension_columns(responses):
        values = pd.to_numeric(responses[column], errors="coerce").dropna()
        rows.append(
            {
                "dimension": column,
                "responses": len(values),
                "mean": float(values.mean()) if len(values) else np.nan,
                "satisfied": float((values >= 4).mean()) if len(values) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["dimension", "responses", "mean", "satisfied"])


@dataclass(frozen=True)
class DriverWeights:
    """Relative weights of the dimensions for one outcome.

    ``table``: ``dimension, correlation, raw_weight, weight`` (raw weights sum to R²;
    ``weight`` is the share of R², summing to 1); largest first.
    """

    outcome: str
    table: pd.DataFrame
    r_squared: float
    n: int

    @property
    def top(self) -> str | None:
        return None if self.table.empty else str(self.table["dimension"].iloc[0])


def relative_weights(
    responses: pd.DataFrame, *, outcome: str, dimensions: list[str] | None = None
) -> DriverWeights:
    """Johnson's relative weights (Johnson 2000, *Multivariate Behavioral Research* 35(1)).

    The predictors are replaced by their closest orthogonal counterparts Z (R = VΛV′,
    Λ* = VΛ^½V′); the outcome is regressed on Z (β = Λ*⁻¹ r_xy), and each predictor's raw
    weight is Σ_k Λ*_jk² β_k². Raw weights are non-negative and sum to the model's R², so
    correlated drivers share credit instead of one taking it all, as in OLS coefficients.
    With uncorrelated predictors the raw weights are the squared correlations.

    Raises
    ------
    ParameterError
        Fewer complete responses than three per dimension, or a dimension without variance.
    """
    dimensions = dimensions or dimension_columns(responses)
    require_columns(responses, [outcome, *dimensions], "surveys", "relative_weights")
    data = responses[[outcome, *dimensions]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(data) < max(3 * len(dimensions), 10):
        raise ParameterError(
            f"relative_weights needs at least {max(3 * len(dimensions), 10)} complete "
            f"responses for {len(dimensions)} dimensions; got {len(data)}."
        )
    flat = [c for c in data.columns if data[c].std() == 0]
    if flat:
        raise ParameterError(f"Column(s) {flat} have no variance; drop them from the drivers.")
    correlations = np.corrcoef(data.to_numpy(dtype=float), rowvar=False)
    r_xx, r_xy = correlations[1:, 1:], correlations[1:, 0]
    eigenvalues, eigenvectors = np.linalg.eigh(r_xx)
    lam = eigenvectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T
    beta = np.linalg.solve(lam, r_xy)
    raw = (lam**2) @ (beta**2)
    r_squared = float((beta**2).sum())
    table = pd.DataFrame(
        {
            "dimension": dimensions,
            "correlation": r_xy,
            "raw_weight": raw,
            "weight": raw / r_squared if r_squared > 0 else np.nan,
        }
    ).sort_values("raw_weight", ascending=False, ignore_index=True)
    return DriverWeights(outcome, table, r_squared, len(data))


def importance_performance(weights: DriverWeights, scores: pd.DataFrame) -> pd.DataFrame:
    """Importance (share of R²) against performance (mean score) per dimension, with the
    quadrant each falls in, split at the means of both (Martilla & James 1977).

    Quadrants: *fix first* (important, scoring low), *keep it up* (important, scoring high),
    *low priority* (less important, low), *possible overkill* (less important, high).
    """
    table = weights.table[["dimension", "weight"]].merge(
        scores[["dimension", "mean", "satisfied"]], on="dimension"
    )
    important = table["weight"] >= table["weight"].mean()
    strong = table["mean"] >= table["mean"].mean()
    table["quadrant"] = np.select(
        [important & ~strong, important & strong, ~important & ~strong],
        ["fix first", "keep it up", "low priority"],
        "possible overkill",
    )
    return table.rename(columns={"weight": "importance", "mean": "performance"})


def nps_group(scores: pd.Series) -> pd.Series:
    """``promoter`` (9–10), ``passive`` (7–8), ``detractor`` (0–6), or missing."""
    values = pd.to_numeric(scores, errors="coerce")
    group = pd.Series(pd.NA, index=scores.index, dtype="string")
    group[values >= 9] = "promoter"
    group[(values >= 7) & (values <= 8)] = "passive"
    group[values <= 6] = "detractor"
    return group


def loyalty(
    responses: pd.DataFrame, transactions: pd.DataFrame, *, as_of: date | str | pd.Timestamp
) -> pd.DataFrame:
    """One row per responding customer (their latest response): satisfaction, willingness
    to recommend, repeat purchasing, and a loyalty score.

    ``repeat`` is True for a customer with two or more orders by ``as_of``. The **loyalty
    score** (0–100) is the mean of three parts, each scaled to 0–1: CSAT (score − 1) / 4,
    likelihood to recommend nps / 10, and repeat (1 or 0); parts a customer lacks are left
    out of the mean.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, nps_group, csat, nps, orders, repeat, loyalty_score``.
    """
    require_columns(transactions, ["customer_id", "order_date"], "transactions", "loyalty")
    latest = responses.sort_values("responded_at").drop_duplicates("customer_id", keep="last")
    orders = rows_through(transactions, "order_date", as_of)["customer_id"].value_counts()
    table = pd.DataFrame({"customer_id": latest["customer_id"].to_numpy()})
    table["nps_group"] = nps_group(latest["nps"]).to_numpy() if "nps" in latest else pd.NA
    for column in ("csat", "nps"):
        table[column] = (
            pd.to_numeric(latest[column], errors="coerce").to_numpy()
            if column in latest
            else np.nan
        )
    table["orders"] = table["customer_id"].map(orders).fillna(0).astype(int)
    table["repeat"] = table["orders"] >= 2
    parts = pd.DataFrame(
        {
            "csat": (table["csat"] - 1) / 4,
            "nps": table["nps"] / 10,
            "repeat": table["repeat"].astype(float),
        }
    )
    table["loyalty_score"] = 100 * parts.mean(axis=1, skipna=True)
    return table


def repeat_rate(loyalty_table: pd.DataFrame) -> float:
    """Share of responding customers with two or more orders."""
    return float(loyalty_table["repeat"].mean()) if len(loyalty_table) else float("nan")


def loyalty_by_group(loyalty_table: pd.DataFrame) -> pd.DataFrame:
    """Responding customers, repeat rate and mean loyalty score per NPS group, from
    :func:`loyalty`.

    Returns
    -------
    pandas.DataFrame
        One row per NPS group present (alphabetical): ``nps_group, customers, repeat_rate,
        loyalty_score``.
    """
    return loyalty_table.groupby("nps_group", as_index=False).agg(
        customers=("customer_id", "size"),
        repeat_rate=("repeat", "mean"),
        loyalty_score=("loyalty_score", "mean"),
    )


def spend_after(
    responses: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: date | str | pd.Timestamp,
    days: int = 90,
    lookback_days: int = 365,
) -> pd.DataFrame:
    """Actual spend in the ``days`` after a response, by NPS group.

    Uses the responses of the ``lookback_days`` before ``as_of − days`` (so every one has its
    full follow-up), and sums each respondent's orders dated after the response and within
    ``days``. Promoters are compared with detractors by a Mann–Whitney test.

    Returns
    -------
    pandas.DataFrame
        One row per NPS group: ``nps_group, responses, buying_share, mean_spend,
        median_spend``; ``attrs["p_value"]`` holds the promoter–detractor test.
    """
    last_response = pd.Timestamp(as_of).normalize() - pd.Timedelta(days=days)
    first_response = last_response - pd.Timedelta(days=lookback_days)
    window = responses.loc[
        (responses["responded_at"] >= first_response)
        & (responses["responded_at"] < day_after(last_response))
        & responses["nps"].notna()
    ]
    columns = ["nps_group", "responses", "buying_share", "mean_spend", "median_spend"]
    if window.empty:
        table = pd.DataFrame(columns=columns)
        table.attrs["p_value"] = float("nan")
        return table
    frame = window.assign(
        spend=spend_within(window, transactions, days=days),
        nps_group=nps_group(window["nps"]).to_numpy(),
    )
    table = (
        frame.groupby("nps_group")["spend"]
        .agg(
            responses="size",
            buying_share=lambda s: (s > 0).mean(),
            mean_spend="mean",
            median_spend="median",
        )
        .reindex(["promoter", "passive", "detractor"])
        .dropna(how="all")
        .rename_axis("nps_group")
        .reset_index()
    )
    promoters = frame.loc[frame["nps_group"] == "promoter", "spend"]
    detractors = frame.loc[frame["nps_group"] == "detractor", "spend"]
    p_value = float("nan")
    if len(promoters) and len(detractors):
        p_value = float(stats.mannwhitneyu(promoters, detractors).pvalue)
    table.attrs["p_value"] = p_value
    return table


@dataclass(frozen=True)
class SatisfactionAnalysis:
    """Everything the satisfaction report shows, for one unit and period: numbers and tables
    only (the satisfaction topic puts them into words)."""

    period: Period
    n_responses: int
    nps: NPS
    previous_nps: NPS
    nps_change: Change
    csat: CSAT
    previous_csat: CSAT
    csat_change: Change
    nps_distribution: pd.DataFrame
    csat_distribution: pd.DataFrame
    trend: pd.DataFrame
    breakdowns: dict[str, pd.DataFrame]
    dimensions: pd.DataFrame
    nps_drivers: DriverWeights | None
    csat_drivers: DriverWeights | None
    quadrants: pd.DataFrame | None
    themes: pd.DataFrame
    loyalty: pd.DataFrame | None
    spend_after: pd.DataFrame | None
    missing_scores: list[str]  # "nps" / "csat" when the surveys carry no such column
    skipped_breakdowns: list[str]  # breakdown columns found neither on responses nor customers
    drivers_error: str | None  # why key drivers could not be computed (the ParameterError)
    one_group: dict[str, str] = field(default_factory=dict)  # breakdown column: its one value
    comments: int | None = None  # responses of the period with a comment; None: no column
    previous_responses: int = 0
    respondents_with_orders: int | None = None  # None: no transactions given, or no response


@dataclass(frozen=True)
class PeriodScores:
    """The period's NPS and CSAT against the previous period's: what :func:`analyse` reports."""

    nps: NPS
    previous_nps: NPS
    nps_change: Change
    csat: CSAT
    previous_csat: CSAT
    csat_change: Change


def period_scores(surveys: pd.DataFrame, *, period: Period) -> PeriodScores:
    """NPS and CSAT of the period's responses (``responded_at`` in it) against the previous
    period's, with their tests; a score the surveys do not carry is empty (n = 0)."""
    require_period(period, caller="satisfaction.period_scores")
    now, before = (p.rows(surveys, "responded_at") for p in (period, period.previous()))
    empty = pd.Series(dtype=float)
    n1, n0 = (nps(t["nps"] if "nps" in surveys else empty) for t in (now, before))
    c1, c0 = (csat(t["csat"] if "csat" in surveys else empty) for t in (now, before))
    return PeriodScores(n1, n0, nps_change(n1, n0), c1, c0, csat_change(c1, c0))


REQUIRED = ("surveys", "customers", "transactions")
READS: dict[str, tuple[str, ...] | None] = {
    "surveys": None,
    "customers": None,
    "transactions": ("customer_id", "order_date", "amount"),
}
"""The columns :func:`analyse` reads of each table (None: all), for ``CRMData.read``."""


def analyse(
    surveys: pd.DataFrame,
    *,
    period: Period,
    customers: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    breakdown_columns: list[str] | tuple[str, ...] = (),
    min_group: int = 30,
) -> SatisfactionAnalysis:
    """The whole satisfaction report for one period against the previous one.

    Breakdown columns are looked up on the responses, then on the customers (``region``,
    ``city``, ...); ``segment`` is the RFM segment at the period end (needs transactions).
    Columns found nowhere are listed in ``skipped_breakdowns``, those with one value in
    ``one_group``. Loyalty and spend after responding are None (unknown, not 0) when no
    respondent of the period has an order by its end.

    Parameters
    ----------
    surveys
        The unit's survey responses (``response_id, customer_id, responded_at``; ``nps``,
        ``csat``, ``dim_*``, ``comment`` where collected).
    period
        The reporting period; its ``previous_start``/``previous_end`` give the comparison.
    customers, transactions
        For breakdown columns, segments, loyalty and spend after responding; None to skip.
    breakdown_columns, min_group
        Columns to break NPS and CSAT down by; the smallest group tested against the rest.

    Raises ``ParameterError`` when ``period`` is not a Period or a required column is missing.
    """
    require_period(period, caller="satisfaction.analyse")
    require_columns(surveys, ["response_id", "customer_id", "responded_at"], "surveys", "analyse")
    current = period.rows(surveys, "responded_at")
    has_nps, has_csat = "nps" in surveys, "csat" in surveys
    scores = period_scores(surveys, period=period)
    enriched = _with_customer_columns(current, customers, transactions, period.end)
    breakdowns, skipped, one_group = {}, [], {}
    for column in breakdown_columns if has_nps or has_csat else ():  # else no score to split
        values = enriched[column].dropna().unique() if column in enriched.columns else []
        if len(values) == 1:
            one_group[column] = str(values[0])
        elif len(values):
            breakdowns[column] = breakdown(enriched, by=column, min_group=min_group)
        else:
            skipped.append(column)
    dimensions = dimension_scores(current)
    nps_drivers = csat_drivers = quadrants = drivers_error = None
    if len(dimensions):
        try:
            if has_nps:
                nps_drivers = relative_weights(current, outcome="nps")
                quadrants = importance_performance(nps_drivers, dimensions)
            if has_csat:
                csat_drivers = relative_weights(current, outcome="csat")
        except ParameterError as exc:
            drivers_error = str(exc)
    found_themes = pd.DataFrame(columns=THEME_COLUMNS)
    if "comment" in current and has_nps:
        found_themes = themes(current["comment"], nps_group(current["nps"]))
    loyal = spent = buyers = None
    if transactions is not None and not current.empty:
        loyal = loyalty(current, transactions, as_of=period.end)
        buyers = int((loyal["orders"] > 0).sum())
        if has_nps and buyers:
            spent = spend_after(surveys, transactions, as_of=period.end)
        loyal = loyal if buyers else None  # nobody's orders found: unknown, not 0% repeat
    blank = pd.DataFrame()
    return SatisfactionAnalysis(
        period=period,
        n_responses=len(current),
        nps=scores.nps,
        previous_nps=scores.previous_nps,
        nps_change=scores.nps_change,
        csat=scores.csat,
        previous_csat=scores.previous_csat,
        csat_change=scores.csat_change,
        nps_distribution=distribution(current["nps"], values=range(11)) if has_nps else blank,
        csat_distribution=distribution(current["csat"], values=range(1, 6)) if has_csat else blank,
        trend=monthly(surveys, as_of=period.end),
        breakdowns=breakdowns,
        dimensions=dimensions,
        nps_drivers=nps_drivers,
        csat_drivers=csat_drivers,
        quadrants=quadrants,
        themes=found_themes,
        loyalty=loyal,
        spend_after=spent,
        missing_scores=[name for name, has in (("nps", has_nps), ("csat", has_csat)) if not has],
        skipped_breakdowns=skipped,
        drivers_error=drivers_error,
        one_group=one_group,
        comments=_comments(current),
        previous_responses=len(period.previous().rows(surveys, "responded_at")),
        respondents_with_orders=buyers,
    )


def _comments(responses: pd.DataFrame) -> int | None:
    if "comment" not in responses:
        return None
    return int(responses["comment"].astype("string").str.strip().fillna("").ne("").sum())


def _with_customer_columns(
    responses: pd.DataFrame,
    customers: pd.DataFrame | None,
    transactions: pd.DataFrame | None,
    as_of: date,
) -> pd.DataFrame:
    enriched = responses
    if customers is not None:
        extra = [c for c in customers.columns if c not in responses.columns and c != "signup_date"]
        enriched = enriched.merge(customers[["customer_id", *extra]], on="customer_id", how="left")
    if transactions is not None and "segment" not in enriched.columns and len(transactions):
        from crmkit.metrics.segmentation import rfm, rfm_scores

        scores = rfm_scores(rfm(transactions, as_of=as_of))
        segments = scores.set_index("customer_id")["segment"]
        enriched = enriched.assign(segment=enriched["customer_id"].map(segments))
    return enriched
