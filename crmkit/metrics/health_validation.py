"""Does the health score predict churn? The score as it stood at the previous period end
against the churn that followed during this period.

* ``health_auc``: the chance that a customer who stayed scored above one who churned (ties
  half) — the AUC of the score for *not* churning, computed as the AUC of −score for churn
  (:func:`crmkit.metrics.churn_risk.auc_interval`, DeLong et al. 1988), with its interval.
  0.5 is a coin toss; the score is *predictive* when the whole interval lies above 0.5.
* ``churn_by_band``: customers, churned and churn rate per colour band with Wilson intervals
  (Wilson 1927); the rates should fall strictly from red to amber to green.
* ``suggested_weights``: weights that an L1-penalised logistic regression of churn on the
  five components' points would give (Tibshirani 1996; C chosen by cross-validation,
  :func:`crmkit.metrics.churn_risk.choose_c`): missing points imputed by the component's mean
  plus a missing indicator, columns standardised, each component's weight
  ``100 × max(0, −βₖ / sdₖ)`` (less churn per point) normalised to whole points summing to
  100. Fitted out of sample where possible — the score at the end of the period before the
  previous one against churn in the previous period (``suggested_basis = "previous"``) when
  that has 20 churns or more — else on this period in sample (``"this_period"``: the AUC of
  the suggested weights is then optimistic). Both weightings' AUC on this period are shown
  side by side (same renormalisation over available components).
* ``component_gaps``: per component, over the customers scored at the previous period end who
  have that component, the mean points of those who churned during this period and of those
  who stayed, and the gap (stayed − left): what already told the leavers apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmkit.core.errors import require_columns
from crmkit.core.periods import Period, require_period
from crmkit.load.lookups import is_in
from crmkit.metrics.churn_features import encode
from crmkit.metrics.churn_risk import AUC, auc_interval, choose_c, stratified_sample
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.metrics.health_alerts import alerts
from crmkit.metrics.health_score import (
    BANDS,
    COMPONENTS,
    HealthSettings,
    component_points,
    health_bands,
    health_scores,
    score_change,
    weighted_score,
)
from crmkit.metrics.stats import Change, two_proportion_test, wilson_interval

MIN_CHURNS = 10
"""Fewest churns for the AUC and the churn-by-band verdict to mean anything."""

MIN_TRAINING_CHURNS = 20
"""Fewest churns in the previous period to fit the suggested weights out of sample there."""

FIT_ROWS = 200_000
"""Most rows the suggested weights are fitted on (a stratified sample)."""

_NAN_AUC = AUC(*(4 * [float("nan")]))


@dataclass(frozen=True)
class HealthValidation:
    """The health score judged against the churn that followed it.

    ``state`` is ``"ok"``, ``"no_customers"`` (none scored), ``"too_few_churns"`` (fewer than
    :data:`MIN_CHURNS`) or ``"no_kept"`` (every scored customer churned): then the AUC is NaN
    and ``predictive``/``falls_red_to_green`` are None. ``verdict`` is ``"predictive"``,
    ``"weak"`` (interval above 0.5, AUC below 0.7), ``"not_predictive"`` (interval reaches
    0.5 or below) or the state. ``suggested_weights`` is None when no fit was possible or
    every weight came out 0; ``suggested_auc`` then NaN. ``component_gaps`` is
    :func:`component_gaps` of the customers judged.
    """

    customers: int
    churned: int
    state: str
    auc: AUC
    churn_by_band: pd.DataFrame
    falls_red_to_green: bool | None
    predictive: bool | None
    verdict: str
    configured_weights: dict[str, float]
    suggested_weights: dict[str, int] | None
    suggested_basis: str | None
    suggested_auc: AUC
    suggested_c: float | None = None
    component_gaps: pd.DataFrame | None = None


def _labels(scored: pd.DataFrame, churned: Iterable | pd.Series) -> np.ndarray:
    if isinstance(churned, pd.Series) and churned.dtype == bool:
        ids = churned.index[churned.to_numpy()]
    else:
        ids = pd.Index(list(churned))
    return is_in(scored["customer_id"], ids)


def churn_by_band(scored: pd.DataFrame, churned: np.ndarray) -> pd.DataFrame:
    """One row per colour band (red, amber, green): ``band, customers, churned, rate, low,
    high`` (95% Wilson interval; NaN without customers)."""
    band = scored["band"].astype("string").fillna("")
    rows = []
    for name in BANDS:
        inside = (band == name).to_numpy()
        k, n = int(churned[inside].sum()), int(inside.sum())
        p = wilson_interval(k, n)
        rows.append((name, n, k, p.value, p.low, p.high))
    return pd.DataFrame(rows, columns=["band", "customers", "churned", "rate", "low", "high"])


def component_gaps(scored: pd.DataFrame, churned: np.ndarray) -> pd.DataFrame:
    """Per component (in :data:`~crmkit.metrics.health_score.COMPONENTS` order), over the
    customers with points for it: ``component, customers_with_data, left_with_data,
    mean_points_left, mean_points_stayed, gap`` (``gap`` = stayed − left; a mean is NaN
    without customers on its side). A component absent from ``scored`` has 0 customers.

    Examples
    --------
    >>> frame = pd.DataFrame({"engagement": [10.0, 30.0, 80.0, np.nan]})
    >>> row = component_gaps(frame, np.array([True, True, False, False])).iloc[0]
    >>> int(row["customers_with_data"]), float(row["mean_points_left"]), float(row["gap"])
    (3, 20.0, 60.0)
    """
    y = np.asarray(churned, dtype=bool)
    rows = []
    for name in COMPONENTS:
        if name in scored.columns:
            points = scored[name].to_numpy(dtype=float)
        else:
            points = np.full(len(y), np.nan)
        have = ~np.isnan(points)
        left, stayed = have & y, have & ~y
        mean_left = float(points[left].mean()) if left.any() else float("nan")
        mean_stayed = float(points[stayed].mean()) if stayed.any() else float("nan")
        rows.append(
            (name, int(have.sum()), int(left.sum()), mean_left, mean_stayed,
             mean_stayed - mean_left)
        )  # fmt: skip
    columns = ["component", "customers_with_data", "left_with_data", "mean_points_left",
               "mean_points_stayed", "gap"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def falls_red_to_green(table: pd.DataFrame) -> bool | None:
    """Whether the churn rate falls strictly from red to amber to green over the bands with
    customers; None with fewer than two such bands."""
    rates = table.loc[table["customers"] > 0, "rate"].to_numpy(dtype=float)
    if len(rates) < 2:
        return None
    return bool((np.diff(rates) < 0).all())


def _design(points: pd.DataFrame, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Points with missing ones at the component's mean, plus a missing indicator per
    component with missing values (columns in ``names`` order, indicators after)."""
    p = points[names].to_numpy(dtype=float)
    missing = np.isnan(p)
    means = np.nanmean(np.where(missing.all(axis=0), 0.0, p), axis=0)
    filled = np.where(missing, means, p)
    flagged = [k for k in range(len(names)) if missing[:, k].any()]
    columns = [filled] + ([missing[:, flagged].astype(float)] if flagged else [])
    return np.hstack(columns), names + [f"{names[k]}:missing" for k in flagged]


def whole_points(raw: dict[str, float]) -> dict[str, int] | None:
    """Non-negative weights as whole points summing to 100 (largest remainders; ties to the
    component listed first); None when all are 0.

    Examples
    --------
    >>> whole_points({"a": 1.0, "b": 1.0, "c": 1.0})
    {'a': 34, 'b': 33, 'c': 33}
    """
    total = sum(raw.values())
    if total <= 0:
        return None
    exact = {k: 100 * v / total for k, v in raw.items()}
    whole = {k: int(np.floor(v)) for k, v in exact.items()}
    short = 100 - sum(whole.values())
    order = sorted(raw, key=lambda k: -(exact[k] - whole[k]))
    for k in order[:short]:
        whole[k] += 1
    return whole


def suggest_weights(
    points: pd.DataFrame, churned: np.ndarray, *, random_state: int = 0
) -> tuple[dict[str, int] | None, float | None]:
    """Weights from an L1 logistic regression of churn on the components' points (module
    text); ``(None, None)`` without both churned and kept customers or without a component
    with data."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(churned, dtype=bool)
    names = [c for c in COMPONENTS if c in points.columns and points[c].notna().any()]
    if not names or y.all() or not y.any():
        return None, None
    rng = np.random.default_rng(random_state)
    keep = stratified_sample(y, size=FIT_ROWS, rng=rng)
    x, _ = _design(points.iloc[keep], names)
    y = y[keep]
    sd = x.std(axis=0)
    usable = sd > 0
    z = (x[:, usable] - x[:, usable].mean(axis=0)) / sd[usable]
    if z.shape[1] == 0:
        return None, None
    C = choose_c(z, y, random_state=random_state)
    model = LogisticRegression(
        C=C, l1_ratio=1.0, solver="liblinear", intercept_scaling=100.0, max_iter=500,
        random_state=random_state,
    ).fit(z, y)  # fmt: skip
    beta = np.zeros(x.shape[1])
    beta[usable] = model.coef_[0]
    raw = {}
    for k, name in enumerate(names):
        raw[name] = max(0.0, -beta[k] / sd[k]) if sd[k] > 0 else 0.0
    weights = whole_points({c: raw.get(c, 0.0) for c in COMPONENTS})
    return weights, float(C)


def validate(
    scored_before: pd.DataFrame,
    churned: Iterable | pd.Series,
    *,
    settings: HealthSettings | None = None,
    training: tuple[pd.DataFrame, Iterable | pd.Series] | None = None,
    random_state: int = 0,
) -> HealthValidation:
    """Judge the health score at the previous period end against churn during this period.

    Parameters
    ----------
    scored_before
        :func:`crmkit.metrics.health_score.health_scores` at the previous period end
        (``customer_id``, ``score``, ``band`` and the components' points).
    churned
        The customers (ids, or a boolean Series indexed by id) who churned during this
        period, by :func:`crmkit.metrics.churn_status.churn_dates` at its end.
    settings
        The configured :class:`~crmkit.metrics.health_score.HealthSettings`.
    training
        ``(scored, churned)`` one period earlier — the score at the end of the period before
        the previous one and churn during the previous period — to fit the suggested weights
        out of sample; None, or fewer than :data:`MIN_TRAINING_CHURNS` churns there, fits on
        this period.

    Returns
    -------
    HealthValidation
    """
    settings = settings or HealthSettings()
    require_columns(scored_before, ["customer_id", "score", "band"], "scored_before", "validate")
    scored = scored_before.loc[scored_before["score"].notna()].reset_index(drop=True)
    y = _labels(scored, churned)
    n, k = len(scored), int(y.sum())
    table = churn_by_band(scored, y)
    state = "ok"
    if n == 0:
        state = "no_customers"
    elif k == n:
        state = "no_kept"
    elif k < MIN_CHURNS:
        state = "too_few_churns"
    auc = auc_interval(-scored["score"].to_numpy(float), y) if state == "ok" else _NAN_AUC
    falls = falls_red_to_green(table) if state == "ok" else None
    predictive = bool(auc.low > 0.5) if state == "ok" else None
    if state != "ok":
        verdict = state
    elif not predictive:
        verdict = "not_predictive"
    else:
        verdict = "predictive" if auc.value >= 0.7 else "weak"

    basis, fit_points, fit_y = None, None, None
    if training is not None:
        previous = training[0].loc[training[0]["score"].notna()].reset_index(drop=True)
        previous_y = _labels(previous, training[1])
        if previous_y.sum() >= MIN_TRAINING_CHURNS and not previous_y.all():
            basis, fit_points, fit_y = "previous", previous, previous_y
    if basis is None and state == "ok":
        basis, fit_points, fit_y = "this_period", scored, y
    suggested, C = (None, None)
    if basis is not None:
        suggested, C = suggest_weights(fit_points, fit_y, random_state=random_state)
    if suggested is None:
        basis = None
    suggested_auc = _NAN_AUC
    if suggested is not None and state == "ok":
        alternative = weighted_score(scored, suggested)
        have = ~np.isnan(alternative)
        suggested_auc = auc_interval(-alternative[have], y[have])
    return HealthValidation(
        customers=n,
        churned=k,
        state=state,
        auc=auc,
        churn_by_band=table,
        falls_red_to_green=falls,
        predictive=predictive,
        verdict=verdict,
        configured_weights=dict(settings.weights),
        suggested_weights=suggested,
        suggested_basis=basis,
        suggested_auc=suggested_auc,
        suggested_c=C,
        component_gaps=component_gaps(scored, y),
    )


# ----------------------------------------------------------------------------- the whole part


@dataclass(frozen=True)
class HealthScoreAnalysis:
    """The health-score part of the health review for one unit and period.

    ``scores`` and ``previous_scores`` are :func:`~crmkit.metrics.health_score.health_scores`
    at the period end and at the previous period end (inputs and points included);
    ``change`` is :func:`~crmkit.metrics.health_score.score_change` between them; ``bands``
    and ``previous_bands`` :func:`~crmkit.metrics.health_score.health_bands`;
    ``red_share_change`` the red share now minus then with its interval and pooled
    two-proportion p-value; ``validation`` the score at the previous period end against
    churn during this period (:func:`validate`); ``alerts``
    :func:`crmkit.metrics.health_alerts.alerts` at the period end; ``definition`` the churn
    definition used (None when not given).
    """

    period: Period
    settings: HealthSettings
    scores: pd.DataFrame
    previous_scores: pd.DataFrame
    change: pd.DataFrame
    bands: pd.DataFrame
    previous_bands: pd.DataFrame
    red_share_change: Change
    validation: HealthValidation
    alerts: pd.DataFrame
    definition: ChurnDefinition | None = None

    @property
    def inferred_churn(self) -> bool:
        """Whether churn is inferred from days without an order (an inactivity definition)."""
        return self.definition is not None and self.definition.kind == "inactivity"

    @property
    def turned_red(self) -> int:
        """Customers scored at both period ends, not red then and red now."""
        c = self.change
        return int(((c["band"] == "red") & (c["previous_band"] != "red")).sum()) if len(c) else 0

    @property
    def left_red(self) -> int:
        """Customers scored at both period ends, red then and not red now."""
        c = self.change
        return int(((c["band"] != "red") & (c["previous_band"] == "red")).sum()) if len(c) else 0

    @property
    def mean_score(self) -> float:
        values = self.scores["score"].dropna()
        return float(values.mean()) if len(values) else float("nan")

    @property
    def mean_change(self) -> float:
        """Mean change of the customers scored at both period ends (NaN when none)."""
        return float(self.change["change"].mean()) if len(self.change) else float("nan")


def _churned_during(status: pd.DataFrame, period: Period) -> set:
    gone = status["churned_at"].notna() & period.contains(status["churned_at"])
    return set(status.loc[gone, "customer_id"])


def health_score_analysis(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    period: Period,
    definition: ChurnDefinition,
    churn_events: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    clv: pd.Series | None = None,
    previous_clv: pd.Series | None = None,
    settings: HealthSettings | None = None,
    recent_complaints_days: int = 30,
    random_state: int = 0,
) -> HealthScoreAnalysis:
    """Score every active customer at the period end and at the previous period end, judge
    the previous score against this period's churn (suggested weights fitted on the period
    before where it has enough churn), and list the alerts.

    Parameters
    ----------
    customers, transactions, churn_events, interactions, tickets, surveys
        The unit's tables (optional ones None when absent).
    period
        The reporting period.
    definition
        The unit's churn definition (:func:`crmkit.metrics.churn_status.choose_definition`).
    clv, previous_clv
        Predicted CLV per customer at the period end and at the previous period end (the clv
        report's figure); None leaves the CLV tier out.
    settings
        :class:`~crmkit.metrics.health_score.HealthSettings` from the parameters.
    """
    require_period(period, caller="health_score_analysis")
    settings = settings or HealthSettings()
    events = churn_events if churn_events is not None and len(churn_events) else None
    tables = encode(
        customers, transactions, interactions=interactions, tickets=tickets, surveys=surveys
    )
    earlier = period.previous()

    def status(day) -> pd.DataFrame:
        return tables.churn_status(events, definition, as_of=day)

    def scored(day, status_then, value) -> pd.DataFrame:
        points = component_points(
            customers, transactions, cut=day, status=status_then, clv=value,
            tickets=tickets, settings=settings, tables=tables,
        )  # fmt: skip
        return health_scores(points, settings)

    at_end, at_previous = status(period.end), status(period.previous_end)
    now = scored(period.end, at_end, clv)
    before = scored(period.previous_end, at_previous, previous_clv)
    oldest = scored(earlier.previous_end, status(earlier.previous_end), None)
    validation = validate(
        before,
        _churned_during(at_end, period),
        settings=settings,
        training=(oldest, _churned_during(at_previous, earlier)),
        random_state=random_state,
    )
    bands, previous_bands = health_bands(now), health_bands(before)
    red, red_before = bands.iloc[0], previous_bands.iloc[0]
    test = two_proportion_test(
        int(red["customers"]),
        int(bands["customers"].sum()),
        int(red_before["customers"]),
        int(previous_bands["customers"].sum()),
    )
    return HealthScoreAnalysis(
        period=period,
        settings=settings,
        scores=now,
        previous_scores=before,
        change=score_change(now, before),
        bands=bands,
        previous_bands=previous_bands,
        red_share_change=Change(test.delta, test.low, test.high, test.p_value),
        validation=validation,
        alerts=alerts(
            now, before, clv=clv, settings=settings, recent_complaints_days=recent_complaints_days
        ),
        definition=definition,
    )
