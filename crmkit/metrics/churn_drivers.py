"""Behavioural drivers of churn: metric cohorts, a churn model judged out of time, and the
features most associated with leaving.

The question is Gold's (2020, *Fighting Churn with Data*): which behaviours go with churn?
Features are measured on the day before the period (:mod:`crmkit.metrics.churn_features`)
for the customers active that day, and set against whether each churned during the period
(:func:`crmkit.metrics.churn_status.churn_dates`, the one definition of churn).

* **Metric cohorts** (Gold ch. 5): each number feature cut into deciles (fewer where values
  tie), the churn rate of each with its Wilson interval; categorical cohorts per value, values
  held by fewer than 30 customers merged into "other".
* **Model**: an L1 logistic regression (:mod:`crmkit.metrics.churn_risk`) with Gold's
  retention impact per +1 SD, and a gradient-boosted model (scikit-learn's
  ``HistGradientBoostingClassifier``, which takes missing values as they are) whose
  permutation importance is measured on a held-out quarter (Breiman 2001).
* **Evaluation**: a time-split backtest — fitted on the features of the day before the
  previous period and churn during it, scoring the features of the day before this period,
  judged against churn during this period. Where the history before the period holds fewer
  than 20 churns, the model is cross-validated within the period instead (stratified k-fold),
  and with fewer than 10 churns in the period no model is fitted ("too few churns").

Drivers are features *associated* with churn; nothing here shows that they cause it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.periods import Period, day_after, require_period
from crmkit.metrics.churn_features import (
    FEATURES,
    CustomerTables,
    encode,
    feature_kinds,
    features_from,
    trailing_revenue,
)
from crmkit.metrics.churn_risk import (
    AUC,
    FIT_ROWS,
    NONE_VALUE,
    OTHER_VALUE,
    ChurnModel,
    auc_interval,
    calibration,
    fit_churn_model,
    stratified_sample,
    top_decile_lift,
)
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.metrics.customer_positions import NAT, nanoseconds, positions
from crmkit.metrics.stats import wilson_interval

MIN_MODEL_CHURNS = 10
"""Fewest churned (and fewest kept) customers in the period to fit a model at all."""

MIN_BACKTEST_CHURNS = 20
"""Fewest churned (and kept) customers in the previous period for a backtest."""

MIN_GROUP = 30
"""Fewest customers a category value needs for a cohort (and a model column) of its own."""

HELD_OUT = 0.25
"""Share of the period's customers held out to measure permutation importance."""

IMPORTANCE_ROWS = 10_000
"""Most held-out customers permutation importance is measured on (a stratified sample)."""

EVALUATIONS = ("backtest", "cross-validation", "too few churns")


def metric_cohorts(
    training: pd.DataFrame, *, features: list[str], bins: int = 10, level: float = 0.95
) -> pd.DataFrame:
    """Gold's metric cohorts: per number feature, customers cut at its deciles, and each
    cohort's churn rate with its Wilson interval. Equal values are never split: each value
    goes to the decile of its first place in order (⌊10 × customers with a lower value ÷
    customers⌋), so a feature that is 0 for 70% of customers has one cohort for the zeros
    and fewer than ten in all; cohorts are then numbered 1, 2, … from the lowest values.
    Customers without a value form a cohort of their own (``cohort`` 0, ``missing`` True).

    Parameters
    ----------
    training
        Features and a boolean ``churned``, one row per customer.

    Returns
    -------
    pandas.DataFrame
        One row per feature and cohort: ``feature, cohort`` (1 = lowest values), ``missing``,
        ``low, high, mean`` (the feature's range and mean in the cohort), ``customers,
        churned, churn_rate, churn_low, churn_high``.
    """
    churned = training["churned"].to_numpy(dtype=bool)
    rows = []
    for feature in features:
        values = pd.to_numeric(training[feature], errors="coerce").to_numpy(float)
        known = ~np.isnan(values)
        if known.any():
            # a value's decile is that of its first place in order: equal values stay together
            below = np.searchsorted(np.sort(values[known]), values[known], side="left")
            _, cohort = np.unique(below * bins // known.sum(), return_inverse=True)
            k = int(cohort.max()) + 1
            count = np.bincount(cohort, minlength=k)
            hits = np.bincount(cohort, weights=churned[known], minlength=k)
            total = np.bincount(cohort, weights=values[known], minlength=k)
            low = pd.Series(values[known]).groupby(cohort).min().reindex(range(k))
            high = pd.Series(values[known]).groupby(cohort).max().reindex(range(k))
            for c in range(k):
                if count[c]:
                    rows.append([feature, c + 1, False, low[c], high[c], total[c] / count[c]])
                    rows[-1] += [int(count[c]), int(hits[c])]
        if (~known).any():
            rows.append([feature, 0, True, np.nan, np.nan, np.nan])
            rows[-1] += [int((~known).sum()), int(churned[~known].sum())]
    columns = ["feature", "cohort", "missing", "low", "high", "mean", "customers", "churned"]
    return _with_rates(pd.DataFrame(rows, columns=columns), level)


def _with_rates(table: pd.DataFrame, level: float) -> pd.DataFrame:
    shares = [
        wilson_interval(int(k), int(n), level=level)
        for k, n in zip(table["churned"], table["customers"], strict=True)
    ]
    return table.assign(
        churn_rate=[s.value for s in shares],
        churn_low=[s.low for s in shares],
        churn_high=[s.high for s in shares],
    )


def category_cohorts(
    training: pd.DataFrame, *, columns: list[str], min_group: int = MIN_GROUP, level: float = 0.95
) -> pd.DataFrame:
    """The churn rate of each value of each category column, with its Wilson interval;
    values held by fewer than ``min_group`` customers are merged into ``"other"``, missing
    values are ``"(none)"``.

    Returns
    -------
    pandas.DataFrame
        One row per column and value, largest first and "other" last: ``feature, value,
        customers, churned, churn_rate, churn_low, churn_high``.
    """
    churned = training["churned"].to_numpy(dtype=bool)
    parts = []
    for column in columns:
        values = training[column].astype("string").fillna(NONE_VALUE)
        counts = values.value_counts()
        values = values.where(~values.isin(counts.index[counts < min_group]), OTHER_VALUE)
        table = (
            pd.DataFrame({"value": values.to_numpy(), "churned": churned})
            .groupby("value", sort=False)["churned"]
            .agg(customers="size", churned="sum")
            .reset_index()
        )
        table["last"] = table["value"] == OTHER_VALUE
        table = table.sort_values(["last", "customers"], ascending=[True, False], kind="stable")
        parts.append(table.drop(columns="last").assign(feature=column))
    columns_out = ["feature", "value", "customers", "churned"]
    table = (
        pd.concat(parts, ignore_index=True)[columns_out]
        if parts
        else pd.DataFrame(columns=columns_out)
    )
    return _with_rates(table.astype({"customers": int, "churned": int}), level)


# ----------------------------------------------------------------------------- models


def boosting_importance(
    training: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    min_group: int = MIN_GROUP,
    max_rows: int = FIT_ROWS,
    random_state: int = 0,
) -> tuple[pd.DataFrame, float]:
    """A gradient-boosted churn model's permutation importance on held-out customers.

    ``HistGradientBoostingClassifier`` is fitted on 75% of the customers (a stratified
    sample of ``max_rows`` at most), numbers as they are (missing values included), category
    values as categories (small ones merged into "other"); each feature's importance is the
    mean fall in held-out AUC when its values are shuffled (5 repeats, on a stratified sample
    of :data:`IMPORTANCE_ROWS` held-out customers at most; Breiman 2001).

    Returns
    -------
    (pandas.DataFrame, float)
        ``feature, permutation_importance, importance_sd`` (largest first), and the model's
        held-out AUC (NaN when the held-out part lacks churned or kept customers).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    y_all = training["churned"].to_numpy(dtype=bool)
    rng = np.random.default_rng(random_state)
    rows = training.iloc[stratified_sample(y_all, size=max_rows, rng=rng)]
    y = rows["churned"].to_numpy(dtype=bool)
    names = list(numeric) + list(categorical)
    x = np.column_stack(
        [pd.to_numeric(rows[c], errors="coerce").to_numpy(float) for c in numeric]
        + [_category_codes(rows[c], min_group) for c in categorical]
    )
    empty = pd.DataFrame(columns=["feature", "permutation_importance", "importance_sd"])
    if not names or min(y.sum(), (~y).sum()) < 4:
        return empty, float("nan")
    x_fit, x_test, y_fit, y_test = train_test_split(
        x, y, test_size=HELD_OUT, stratify=y, random_state=random_state
    )
    # A feature with no value among the customers fitted on cannot drive the model (and
    # scikit-learn cannot bin it): it is left out of the table.
    known = ~np.isnan(x_fit).all(axis=0)
    if not known.any():
        return empty, float("nan")
    names = [name for name, keep in zip(names, known, strict=True) if keep]
    x_fit, x_test = x_fit[:, known], x_test[:, known]
    model = HistGradientBoostingClassifier(
        max_iter=200,
        categorical_features=[name in categorical for name in names],
        random_state=random_state,
    )
    # One thread: OpenMP threads spin against other processes on a shared machine (a fit of
    # two thousand rows took 30 s on two busy cores, half a second on one).
    with threadpool_limits(limits=1):
        model.fit(x_fit, y_fit)
        auc = auc_interval(model.predict_proba(x_test)[:, 1], y_test).value
        some = stratified_sample(y_test, size=IMPORTANCE_ROWS, rng=rng)
        x_test, y_test = x_test[some], y_test[some]
        falls = auc_falls(model, x_test, y_test, repeats=5, random_state=random_state)
    table = pd.DataFrame(
        {
            "feature": names,
            "permutation_importance": falls.mean(axis=1),
            "importance_sd": falls.std(axis=1),
        }
    ).sort_values("permutation_importance", ascending=False, ignore_index=True)
    return table, auc


def auc_falls(
    model, x: np.ndarray, y: np.ndarray, *, repeats: int, random_state: int
) -> np.ndarray:
    """The fall in ``model``'s AUC on ``(x, y)`` when each column's values are shuffled,
    ``repeats`` times per column: an array of shape (columns, repeats).

    scikit-learn's ``permutation_importance(model, x, y, scoring="roc_auc",
    n_repeats=repeats, random_state=random_state)``, with the same shuffles (each of a
    column's repeats shuffling the last), but the model scores a column's repeats in one call
    and the AUC is the report's own (:func:`~crmkit.metrics.churn_risk.auc_interval`):
    scikit-learn's calls per repeat spent more time checking their input than predicting
    (3 s of a small unit's churn report). The figures agree to rounding (1e-12).
    """
    rows, columns = x.shape
    baseline = auc_interval(model.decision_function(x), y).value
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
    falls = np.empty((columns, repeats))
    for column in range(columns):
        order, shuffled = np.random.RandomState(seed), np.arange(rows)
        stacked = np.tile(x, (repeats, 1))
        values = x[:, column]
        for repeat in range(repeats):
            order.shuffle(shuffled)
            values = values[shuffled]
            stacked[repeat * rows : (repeat + 1) * rows, column] = values
        scores = model.decision_function(stacked).reshape(repeats, rows)
        falls[column] = [baseline - auc_interval(s, y).value for s in scores]
    return falls


def _category_codes(values: pd.Series, min_group: int) -> np.ndarray:
    text = values.astype("string").fillna(NONE_VALUE)
    counts = text.value_counts()
    text = text.where(~text.isin(counts.index[counts < min_group]), OTHER_VALUE)
    codes, _ = pd.factorize(text)
    return codes.astype(float)


def coefficient_table(model: ChurnModel, importance: pd.DataFrame) -> pd.DataFrame:
    """The logistic model's terms: ``term, feature, kind, level, coefficient`` (log-odds per
    SD), ``retention_impact`` (:meth:`ChurnModel.retention_impact`),
    ``permutation_importance`` (of the term's feature in the boosted model), ``direction``
    (``raises``, ``lowers`` or ``none`` for a term the penalty set to zero) and ``driver``
    (True for the non-zero ones); drivers first, strongest first (see
    :func:`order_drivers`)."""
    table = model.term_parts()
    table["coefficient"] = model.coef
    table["retention_impact"] = model.retention_impact()
    weights = importance.set_index("feature")["permutation_importance"]
    table["permutation_importance"] = table["feature"].map(weights).astype(float)
    table["direction"] = np.select(
        [table["coefficient"] > 0, table["coefficient"] < 0], ["raises", "lowers"], "none"
    )
    table["driver"] = table["coefficient"] != 0
    return order_drivers(table)


def order_drivers(table: pd.DataFrame) -> pd.DataFrame:
    """Terms ordered by strength of association: non-zero coefficients first; then by
    |retention impact| to a tenth of a percentage point; ties by the permutation importance
    of the term's feature in the boosted model (missing counts as none)."""
    key = pd.DataFrame(
        {
            "driver": ~table["driver"],
            "impact": -table["retention_impact"].abs().round(3),
            "importance": -table["permutation_importance"].fillna(0.0),
        }
    )
    order = key.sort_values(["driver", "impact", "importance"], kind="stable").index
    return table.loc[order].reset_index(drop=True)


# ----------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class ModelEvaluation:
    """How well the churn model ranked customers it was not fitted on.

    ``method``: ``"backtest"`` (fitted on the previous period, scored on this one),
    ``"cross-validation"`` (stratified k-fold within the period: the history held too few
    churns) or ``"too few churns"`` (no model). ``scores``: the out-of-sample predictions
    (``customer_id, predicted, churned``); ``customers``/``churned`` the customers scored;
    ``train_customers``/``train_churned`` those of the backtest's training window (the
    previous period) or of the period for cross-validation; ``folds`` for cross-validation.
    ``boosting_auc`` is the gradient-boosted model's AUC on the period's held-out quarter.
    """

    method: str
    auc: AUC
    top_decile_lift: float
    calibration: pd.DataFrame
    scores: pd.DataFrame
    customers: int
    churned: int
    train_customers: int
    train_churned: int
    train_cut: date | None = None
    folds: int = 0
    boosting_auc: float = float("nan")

    @property
    def weak(self) -> bool:
        """The model tells leavers from stayers little better than chance: its AUC is under
        0.6 or its interval holds 0.5 (True too without an AUC)."""
        a = self.auc
        return not np.isfinite(a.value) or a.value < 0.6 or (a.low <= 0.5 <= a.high)


def _judged(method, predicted, churned, ids, **more) -> ModelEvaluation:
    scores = pd.DataFrame({"customer_id": ids, "predicted": predicted, "churned": churned})
    return ModelEvaluation(
        method=method,
        auc=auc_interval(predicted, churned),
        top_decile_lift=top_decile_lift(predicted, churned),
        calibration=calibration(predicted, churned),
        scores=scores,
        customers=len(churned),
        churned=int(np.sum(churned)),
        **more,
    )


def _no_evaluation(customers: int, churned: int) -> ModelEvaluation:
    nan = float("nan")
    return ModelEvaluation(
        "too few churns", AUC(nan, nan, nan, nan), nan, calibration([], []),
        pd.DataFrame(columns=["customer_id", "predicted", "churned"]), customers, churned,
        customers, churned,
    )  # fmt: skip


def _cross_validated(
    training: pd.DataFrame, numeric, categorical, *, C, max_rows, min_group, random_state
) -> tuple[np.ndarray, int]:
    from sklearn.model_selection import StratifiedKFold

    y = training["churned"].to_numpy(dtype=bool)
    folds = int(min(5, y.sum(), (~y).sum()))
    predicted = np.full(len(y), np.nan)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for fit_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        model = fit_churn_model(
            training.iloc[fit_rows], numeric=numeric, categorical=categorical, C=C,
            max_rows=max_rows, min_group=min_group, random_state=random_state,
        )  # fmt: skip
        predicted[test_rows] = model.predict(training.iloc[test_rows])
    return predicted, folds


# ----------------------------------------------------------------------------- the analysis


@dataclass(frozen=True)
class ChurnDrivers:
    """The drivers section and the churn model of one unit and period.

    ``cut`` is the day before the period: ``training`` holds the features that day of the
    ``customers`` active then and whether each churned during the period (``churned`` of
    them). ``features`` are the behaviour features present, ``absent`` those without their
    table, ``attributes`` the customer columns used. ``cohorts``/``categories``: Gold's
    metric cohorts and the categorical ones. ``coefficients``: every model term
    (:func:`coefficient_table`); ``top_drivers``: the non-zero ones, strongest first.
    ``model``: the logistic model fitted on ``training`` (None with too few churns), which
    scores ``current`` — the features at the period end of the customers active then, with
    their ``trailing_revenue`` (spend in the last 365 days) — for
    :func:`crmkit.metrics.churn_risk.risk_analysis`. ``importance``: the boosted model's
    permutation importance. ``fit_rows``: rows the models were fitted on (a stratified
    sample when fewer than the customers).
    """

    period: Period
    definition: ChurnDefinition
    cut: date
    customers: int
    churned: int
    features: tuple[str, ...]
    absent: tuple[str, ...]
    attributes: tuple[str, ...]
    cohorts: pd.DataFrame
    categories: pd.DataFrame
    coefficients: pd.DataFrame
    importance: pd.DataFrame
    top_drivers: tuple[str, ...]
    evaluation: ModelEvaluation
    model: ChurnModel | None
    fit_rows: int
    training: pd.DataFrame
    current: pd.DataFrame

    @property
    def churn_rate(self) -> float:
        return self.churned / self.customers if self.customers else float("nan")


def _positions(
    status: pd.DataFrame, tables: CustomerTables, day: date
) -> tuple[np.ndarray, np.ndarray]:
    """Who is in a :func:`churn_dates` frame of ``day`` and their churn time (ns), by
    position in ``tables.ids``. The frame lists the customers signed up by ``day`` in the
    customers' order; where it does exactly, no id is hashed again."""
    n = len(tables.ids)
    listed, churned_at = np.zeros(n, dtype=bool), np.full(n, NAT, dtype=np.int64)
    where = tables.signed_up(day)
    ids = status["customer_id"].to_numpy(dtype=object)
    if len(where) != len(ids) or not np.array_equal(tables.ids.to_numpy(dtype=object)[where], ids):
        where = positions(tables.ids, status["customer_id"])[0]
    known = where >= 0
    listed[where[known]] = True
    churned_at[where[known]] = nanoseconds(status["churned_at"])[known]
    return listed, churned_at


def _labelled(features: pd.DataFrame, start, end, *, cut: date, last: date) -> pd.DataFrame:
    """The features of customers active at ``cut`` with ``churned``: their churn time as
    known at ``last`` falls after ``cut`` and on or before ``last``."""
    listed, churned_at = start
    _, churned_at_end = end
    where = features.index.to_numpy()
    active = listed[where] & (churned_at[where] == NAT)
    t = churned_at_end[where]
    churned = (t >= day_after(cut).value) & (t < day_after(last).value)
    return features.loc[active].assign(churned=churned[active])


def drivers_analysis(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    *,
    period: Period,
    definition: ChurnDefinition,
    interactions: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    random_state: int = 0,
    max_fit_rows: int = FIT_ROWS,
    min_group: int = MIN_GROUP,
    statuses: Mapping[date, pd.DataFrame] | None = None,
    tables: CustomerTables | None = None,
) -> ChurnDrivers:
    """Behavioural drivers of churn in ``period`` and the churn model (see the module text).

    Parameters
    ----------
    customers, transactions, churn_events
        The unit's tables (``churn_events`` None or empty where churn is inactivity).
    period
        The reporting period: features on the day before it, churn during it; the previous
        period is the backtest's training window.
    definition
        The unit's churn definition (:func:`crmkit.metrics.churn_status.choose_definition`).
    interactions, tickets, surveys
        Optional sources of features; absent ones leave their features out.
    random_state
        Seeds the sampling, the folds and the models.
    max_fit_rows
        Most customers a model is fitted on (a stratified sample beyond; every customer is
        still scored).
    min_group
        Fewest customers a category value needs to stand on its own.
    statuses
        :func:`crmkit.metrics.churn_status.churn_dates` frames the caller already has, by
        their ``as_of`` day (the period end, the day before the period, the day before the
        previous period): reused instead of computed again.
    tables
        The tables already encoded by :func:`crmkit.metrics.churn_features.encode` from
        these arguments (ids hashed once per report); encoded here when None.

    Returns
    -------
    ChurnDrivers

    Raises
    ------
    ParameterError
        ``period`` is not a Period, or a required column is missing.
    """
    require_period(period, caller="drivers_analysis")
    if tables is None:
        tables = encode(
            customers, transactions, interactions=interactions, tickets=tickets, surveys=surveys
        )
    cut0, cut1, end = period.previous().previous_end, period.previous_end, period.end
    given = dict(statuses or {})
    status = {}
    for day in (cut0, cut1, end):
        found = given.get(day)
        if found is None:
            found = tables.churn_status(churn_events, definition, as_of=day)
        status[day] = _positions(found, tables, day)
    training = _labelled(features_from(tables, cut=cut1), status[cut1], status[end],
                         cut=cut1, last=end)  # fmt: skip
    current = features_from(tables, cut=end)
    listed, churned_at = status[end]
    where = current.index.to_numpy()
    current = current.loc[listed[where] & (churned_at[where] == NAT)]
    revenue = trailing_revenue(tables, as_of=end)
    current = current.assign(trailing_revenue=revenue[current.index.to_numpy()])
    numeric, categorical = feature_kinds(training)
    y = training["churned"].to_numpy(dtype=bool)
    churns, kept = int(y.sum()), int((~y).sum())
    common = {
        "period": period,
        "definition": definition,
        "cut": cut1,
        "customers": len(training),
        "churned": churns,
        "features": tuple(f for f in FEATURES if f in training.columns),
        "absent": tuple(f for f in FEATURES if f not in training.columns),
        "attributes": tuple(c for c in tables.attributes.columns),
        "cohorts": metric_cohorts(training, features=numeric),
        "categories": category_cohorts(training, columns=categorical, min_group=min_group),
        "training": training.reset_index(drop=True),
        "current": current.reset_index(drop=True),
    }
    options = {"max_rows": max_fit_rows, "min_group": min_group, "random_state": random_state}
    if min(churns, kept) < MIN_MODEL_CHURNS:
        importance = pd.DataFrame(columns=["feature", "permutation_importance", "importance_sd"])
        return ChurnDrivers(
            **common, coefficients=coefficient_table_empty(), importance=importance, top_drivers=(),
            evaluation=_no_evaluation(len(training), churns), model=None, fit_rows=0,
        )  # fmt: skip
    model = fit_churn_model(training, numeric=numeric, categorical=categorical, **options)
    importance, boosting_auc = boosting_importance(
        training, numeric=numeric, categorical=categorical, **options
    )
    coefficients = coefficient_table(model, importance)
    earlier = _labelled(features_from(tables, cut=cut0), status[cut0], status[cut1],
                        cut=cut0, last=cut1)  # fmt: skip
    y0 = earlier["churned"].to_numpy(dtype=bool)
    ids = training["customer_id"].to_numpy()
    if min(y0.sum(), (~y0).sum()) >= MIN_BACKTEST_CHURNS:
        numeric0, categorical0 = feature_kinds(earlier)
        model0 = fit_churn_model(earlier, numeric=numeric0, categorical=categorical0, **options)
        evaluation = _judged(
            "backtest", model0.predict(training), y, ids, train_customers=len(earlier),
            train_churned=int(y0.sum()), train_cut=cut0, boosting_auc=boosting_auc,
        )  # fmt: skip
    else:
        predicted, folds = _cross_validated(training, numeric, categorical, C=model.C, **options)
        evaluation = _judged(
            "cross-validation", predicted, y, ids, train_customers=len(training),
            train_churned=churns, folds=folds, boosting_auc=boosting_auc,
        )  # fmt: skip
    drivers = coefficients.loc[coefficients["driver"], "term"]
    return ChurnDrivers(
        **common,
        coefficients=coefficients,
        importance=importance,
        top_drivers=tuple(drivers),
        evaluation=evaluation,
        model=model,
        fit_rows=model.rows,
    )


def coefficient_table_empty() -> pd.DataFrame:
    """The columns of :func:`coefficient_table`, without rows (no model)."""
    columns = ["term", "feature", "kind", "level", "coefficient", "retention_impact"]
    return pd.DataFrame(columns=[*columns, "permutation_importance", "direction", "driver"])
