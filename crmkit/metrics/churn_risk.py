"""The churn model, how well it ranks customers, and the customers most at risk.

The model is an L1-penalised logistic regression on standardised point-in-time features
(:mod:`crmkit.metrics.churn_features`): numbers with missing values replaced by the
training median plus a "missing" indicator, categories as one indicator per value (values
held by fewer than ``min_group`` customers merged into "other"), every column scaled to mean
0 and standard deviation 1 so that the penalty treats them alike and each coefficient is the
change in the log-odds of churn for one standard deviation more (Tibshirani 1996; Gold 2020,
*Fighting Churn with Data*, ch. 9). The penalty's strength C is chosen by stratified 3-fold
cross-validation on the log-loss.

Its scores are judged by the area under the ROC curve with DeLong's interval (DeLong,
DeLong & Clarke-Pearson 1988, in the fast form of Sun & Xu 2014), the top-decile lift and a
calibration table (predicted against observed churn per decile of predicted risk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError
from crmkit.metrics.stats import wilson_interval, z_value

C_GRID: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1, 1.0)
"""Penalty strengths tried (smaller C, stronger penalty, fewer features)."""

SEARCH_ROWS = 30_000
"""Most rows the cross-validation choosing C runs on (a stratified sample)."""

SEARCH_TOLERANCE = 1e-3
"""liblinear's stopping tolerance in the cross-validation choosing C; the chosen C's model is
fitted at liblinear's own, 1e-4. On a unit of 1M customers the search took 8 s a model at
1e-4 and 3 to 4 s at 1e-3 (the weakest penalty, C = 1, most of it); each C's summed
held-out log-loss (:func:`search_losses`, near 0.8) moved by at most 3e-4, and the same C
was chosen."""

FIT_ROWS = 50_000
"""Most rows a churn model is fitted on (a stratified sample keeping the churn rate; every
customer is still scored). Fifty thousand rows put a coefficient's sampling error near 0.02
per SD at a 10% churn rate; on a unit of 1M customers (490k in training) the model fitted on
50k rows had the same AUC to four decimals as on 200k (0.8529), predicted risks 0.0065 apart
on average (correlation 0.998) and 96% of the same top decile, in a third of the time. A
fit's time grows faster than its rows (liblinear needs more passes as the penalty weakens
against more rows), so this cap, not the customers, sets the cost of the model at scale."""

NONE_VALUE = "(none)"
OTHER_VALUE = "other"
MISSING_SUFFIX = ":missing"


def term_name(feature: str, *, level: str | None = None, missing: bool = False) -> str:
    """The name of one column of the model: ``complaints_90d``, ``latest_nps:missing`` (its
    missing-value indicator) or ``region=South`` (one value of a category)."""
    if missing:
        return f"{feature}{MISSING_SUFFIX}"
    return feature if level is None else f"{feature}={level}"


def stratified_sample(churned: np.ndarray, *, size: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of at most ``size`` rows, churned and not churned in their own shares."""
    churned = np.asarray(churned, dtype=bool)
    if len(churned) <= size:
        return np.arange(len(churned))
    share = size / len(churned)
    picks = []
    for value in (True, False):
        where = np.flatnonzero(churned == value)
        picks.append(rng.choice(where, size=round(len(where) * share), replace=False))
    return np.sort(np.concatenate(picks))


def _categories(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna(NONE_VALUE).astype(object)


@dataclass(frozen=True)
class ChurnModel:
    """A fitted churn model: how to turn a features frame into its standardised columns
    (``terms``), and the coefficients on them. Fit it with :func:`fit_churn_model`.

    ``terms`` name the columns (:func:`term_name`); ``coef`` is per standard deviation of
    each; ``mean`` and ``scale`` standardise them; ``medians`` fill missing numbers; ``levels``
    are the values of each category that have their own column.
    """

    numeric: tuple[str, ...]
    medians: tuple[float, ...]
    indicators: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]
    terms: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    C: float
    rows: int  # rows it was fitted on

    def _raw(self, features: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        columns, names = [], []
        for name, median in zip(self.numeric, self.medians, strict=True):
            values = pd.to_numeric(features[name], errors="coerce").to_numpy(float)
            missing = np.isnan(values)
            columns.append(np.where(missing, median, values))
            names.append(name)
            if name in self.indicators:
                columns.append(missing.astype(float))
                names.append(term_name(name, missing=True))
        for name, levels in self.levels.items():
            # each distinct value is matched to its level once, not each row to every level
            codes, values = pd.factorize(_categories(features[name]))
            other = levels.index(OTHER_VALUE) if OTHER_VALUE in levels else -1
            column_of = np.array([levels.index(v) if v in levels else other for v in values])
            level_of = column_of[codes] if len(codes) else np.empty(0, dtype=int)
            for k, level in enumerate(levels):
                columns.append((level_of == k).astype(float))
                names.append(term_name(name, level=level))
        raw = np.column_stack(columns) if columns else np.empty((len(features), 0))
        return raw, names

    def term_parts(self) -> pd.DataFrame:
        """One row per term: ``term, feature, kind`` (``number``, ``missing`` or
        ``category``) and ``level`` (the category's value, else None)."""
        parts = []
        for name in self.numeric:
            parts.append((name, name, "number", None))
            if name in self.indicators:
                parts.append((term_name(name, missing=True), name, "missing", None))
        for name, levels in self.levels.items():
            parts += [(term_name(name, level=v), name, "category", v) for v in levels]
        table = pd.DataFrame(parts, columns=["term", "feature", "kind", "level"])
        return table.set_index("term").loc[list(self.terms)].reset_index()

    def design(self, features: pd.DataFrame) -> np.ndarray:
        """The standardised columns (one per term) of ``features``."""
        raw, names = self._raw(features)
        keep = [names.index(t) for t in self.terms]
        standard = raw[:, keep]  # a copy: standardised in place, no third array of the rows
        standard -= self.mean
        standard /= self.scale
        return standard

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Each row's predicted probability of churning in the window the model was fitted
        on (a period's length after the features' day)."""
        return 1.0 / (1.0 + np.exp(-(self.intercept + self.design(features) @ self.coef)))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each term's part of each row's log-odds against an average customer: coefficient ×
        standardised value (positive: raises this customer's risk)."""
        return pd.DataFrame(
            self.design(features) * self.coef, columns=list(self.terms), index=features.index
        )

    @property
    def average_risk(self) -> float:
        """Predicted churn of a customer at the mean of every column."""
        return float(1.0 / (1.0 + math.exp(-self.intercept)))

    def retention_impact(self) -> np.ndarray:
        """Gold's retention impact, per term: the change in predicted churn probability of a
        customer at the mean when that column rises by one standard deviation,
        σ(b₀ + βⱼ) − σ(b₀) (positive: more of it goes with more churn)."""
        base = self.intercept
        return 1.0 / (1.0 + np.exp(-(base + self.coef))) - self.average_risk


def _design_spec(
    training: pd.DataFrame, *, numeric: list[str], categorical: list[str], min_group: int
) -> tuple[tuple, tuple, tuple, dict]:
    names, medians, indicators = [], [], []
    for name in numeric:
        values = pd.to_numeric(training[name], errors="coerce")
        if values.notna().sum() == 0:
            continue
        names.append(name)
        medians.append(float(values.median()))
        if values.isna().any():
            indicators.append(name)
    levels = {}
    for name in categorical:
        counts = _categories(training[name]).value_counts()
        kept = [str(v) for v in counts.index[counts >= min_group] if v != OTHER_VALUE]
        if (counts < min_group).any() or OTHER_VALUE in counts.index:
            kept.append(OTHER_VALUE)
        if len(kept) >= 2:
            levels[name] = tuple(kept)
    return tuple(names), tuple(medians), tuple(indicators), levels


def _logistic(C: float, random_state: int, *, tol: float = 1e-4):
    from sklearn.linear_model import LogisticRegression

    # liblinear penalises the intercept too; scaling it by 100 makes that penalty negligible,
    # so the model's average risk stays the observed churn rate.
    return LogisticRegression(
        C=C,
        l1_ratio=1.0,
        solver="liblinear",
        intercept_scaling=100.0,
        max_iter=500,
        tol=tol,
        random_state=random_state,
    )


def choose_c(
    x: np.ndarray, y: np.ndarray, *, random_state: int = 0, grid: tuple[float, ...] = C_GRID
) -> float:
    """The C of :data:`C_GRID` with the lowest :func:`search_losses`; the middle of the grid
    when there are too few churns for three folds."""
    losses = search_losses(x, y, random_state=random_state, grid=grid)
    return 0.1 if losses is None else float(grid[int(np.argmin(losses))])


def search_losses(
    x: np.ndarray, y: np.ndarray, *, random_state: int = 0, grid: tuple[float, ...] = C_GRID
) -> np.ndarray | None:
    """Each C's summed log-loss over stratified 3-fold cross-validation, on a stratified
    sample of :data:`SEARCH_ROWS` rows at most, each fit to :data:`SEARCH_TOLERANCE`; None
    when there are too few churns for three folds or no feature."""
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(random_state)
    sample = stratified_sample(y, size=SEARCH_ROWS, rng=rng)
    x, y = x[sample], y[sample]
    folds = min(3, int(y.sum()), int((~y).sum()))
    if folds < 2 or x.shape[1] == 0:
        return None
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    losses = np.zeros(len(grid))
    for train, test in splitter.split(x, y):
        for k, C in enumerate(grid):
            model = _logistic(C, random_state, tol=SEARCH_TOLERANCE).fit(x[train], y[train])
            losses[k] += log_loss(y[test], model.predict_proba(x[test])[:, 1], labels=[0, 1])
    return losses


def fit_churn_model(
    training: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    C: float | None = None,
    max_rows: int = FIT_ROWS,
    min_group: int = 30,
    random_state: int = 0,
) -> ChurnModel:
    """Fit the L1 logistic churn model on ``training`` (features and a boolean ``churned``).

    More than ``max_rows`` rows are sampled, stratified by ``churned`` so the churn rate is
    kept (see :data:`FIT_ROWS` for what the sample costs in accuracy). C is chosen by
    :func:`choose_c` unless given.

    Raises
    ------
    ParameterError
        ``training`` has no ``churned`` column, or not both churned and kept customers.
    """
    if "churned" not in training.columns:
        raise ParameterError("fit_churn_model() needs a boolean 'churned' column in training.")
    y_all = training["churned"].to_numpy(dtype=bool)
    if y_all.all() or not y_all.any():
        raise ParameterError(
            "fit_churn_model() needs churned and kept customers in training; got "
            f"{int(y_all.sum())} churned of {len(y_all)}."
        )
    rng = np.random.default_rng(random_state)
    rows = training.iloc[stratified_sample(y_all, size=max_rows, rng=rng)]
    y = rows["churned"].to_numpy(dtype=bool)
    names, medians, indicators, levels = _design_spec(
        rows, numeric=numeric, categorical=categorical, min_group=min_group
    )
    draft = ChurnModel(names, medians, indicators, levels, (), np.empty(0), np.empty(0),
                       np.empty(0), 0.0, 0.0, len(rows))  # fmt: skip
    raw, terms = draft._raw(rows)
    scale = raw.std(axis=0)
    keep = np.flatnonzero(scale > 0)
    raw, mean, scale = raw[:, keep], raw[:, keep].mean(axis=0), scale[keep]
    x = (raw - mean) / scale
    C = choose_c(x, y, random_state=random_state) if C is None else C
    if x.shape[1]:
        fitted = _logistic(C, random_state).fit(x, y)
        coef, intercept = fitted.coef_[0].astype(float), float(fitted.intercept_[0])
    else:
        coef, intercept = np.empty(0), float(np.log(y.mean() / (1 - y.mean())))
    return ChurnModel(
        numeric=names,
        medians=medians,
        indicators=indicators,
        levels=levels,
        terms=tuple(terms[k] for k in keep),
        mean=mean,
        scale=scale,
        coef=coef,
        intercept=intercept,
        C=float(C),
        rows=len(rows),
    )


# ----------------------------------------------------------------------------- judging scores


@dataclass(frozen=True)
class AUC:
    """Area under the ROC curve with its DeLong interval (``se`` its standard error)."""

    value: float
    low: float
    high: float
    se: float


def auc_interval(scores, churned, *, level: float = 0.95) -> AUC:
    """The AUC of ``scores`` for ``churned`` (the chance that a churned customer scores above
    a kept one, ties counting half) with DeLong's variance: with midranks, each churned
    customer's share of kept customers scored below it V₁₀ and each kept customer's share of
    churned ones scored above it V₀₁; Var = s²(V₁₀)/n₁ + s²(V₀₁)/n₀ (DeLong et al. 1988;
    Sun & Xu 2014). The interval is AUC ± z·SE, clipped to 0..1; NaN without both kinds.

    Examples
    --------
    >>> auc = auc_interval([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    >>> auc.value, round(auc.se, 4)
    (0.75, 0.3536)
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(churned, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if not n1 or not n0:
        return AUC(*(4 * [float("nan")]))
    ranks = stats.rankdata(s)
    v10 = (ranks[y] - stats.rankdata(s[y])) / n0
    v01 = 1.0 - (ranks[~y] - stats.rankdata(s[~y])) / n1
    value = float(v10.mean())
    variance = (np.var(v10, ddof=1) if n1 > 1 else np.nan) / n1
    variance += (np.var(v01, ddof=1) if n0 > 1 else np.nan) / n0
    se = float(np.sqrt(variance))
    half = z_value(level) * se
    return AUC(value, max(0.0, value - half), min(1.0, value + half), se)


def top_decile_lift(scores, churned) -> float:
    """Churn rate among the riskiest tenth (the ⌈n/10⌉ highest scores; equal scores kept in
    their order) ÷ churn rate of all; NaN without churn."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(churned, dtype=bool)
    if not len(y) or not y.any():
        return float("nan")
    top = np.argsort(-s, kind="stable")[: math.ceil(len(y) / 10)]
    return float(y[top].mean() / y.mean())


def calibration(scores, churned, *, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed churn per decile of predicted risk (equal-sized groups in
    order of the scores; fewer groups with fewer than ``bins`` customers).

    Returns
    -------
    pandas.DataFrame
        One row per decile, least risk first: ``decile, customers, predicted, observed,
        observed_low, observed_high`` (Wilson interval of the observed rate).
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(churned, dtype=bool)
    rows = []
    groups = np.array_split(np.argsort(s, kind="stable"), min(bins, len(s))) if len(s) else []
    for k, members in enumerate(groups, start=1):
        observed = wilson_interval(int(y[members].sum()), len(members))
        rows.append([k, len(members), float(s[members].mean()), observed.value])
        rows[-1] += [observed.low, observed.high]
    columns = ["decile", "customers", "predicted", "observed", "observed_low", "observed_high"]
    return pd.DataFrame(rows, columns=columns)


# ----------------------------------------------------------------------------- at risk


@dataclass(frozen=True)
class ChurnRisk:
    """The customers active at the period end, scored.

    ``scores``: one row per active customer, riskiest first by priority: ``customer_id,
    churn_risk`` (probability of churning within a period's length), ``expected_value``,
    ``priority`` (risk × value). ``at_risk``: the top ``top`` rows with ``reasons``, the
    features raising that customer's risk most (:func:`feature_contributions`, positive
    ones, largest first, at most three) and ``reason_values``, the customer's values of
    them. ``value_basis``: ``"clv"`` (values given) or ``"trailing_revenue"`` (the last 365
    days' spend).
    ``value_at_risk``: Σ risk × value over the active customers; ``expected_churn``: Σ risk,
    the customers expected to churn within ``horizon_days`` (the period's length) after
    ``as_of``. ``state`` says why there are no scores (``"no model"``, ``"no active
    customers"``), None when there are.
    """

    as_of: date
    horizon_days: int
    scores: pd.DataFrame
    at_risk: pd.DataFrame
    value_basis: str
    value_at_risk: float
    expected_churn: float
    active: int
    without_value: int = 0
    state: str | None = None


REASONS = 3
"""Most features named as raising one customer's risk."""


def feature_contributions(model: ChurnModel, features: pd.DataFrame) -> pd.DataFrame:
    """Each feature's part of each row's log-odds against an average customer: the sum of
    its terms' contributions (a number and its missing indicator; a category's values), so
    a customer on the basic plan reads "plan", not "plan=basic" and "not plan=pro"."""
    parts = model.contributions(features)
    owner = model.term_parts().set_index("term")["feature"]
    summed = parts.T.groupby(owner.reindex(parts.columns).to_numpy(), sort=False).sum().T
    return summed.reset_index(drop=True)


RISK_COLUMNS = ["customer_id", "churn_risk", "expected_value", "priority"]


def _empty_risk(as_of: date, days: int, basis: str, state: str, active: int) -> ChurnRisk:
    scores = pd.DataFrame(columns=RISK_COLUMNS)
    listed = scores.assign(reasons=[], reason_values=[])
    nan = float("nan")
    return ChurnRisk(as_of, days, scores, listed, basis, nan, nan, active, state=state)


def risk_analysis(drivers, *, value: pd.Series | None = None, top: int = 20) -> ChurnRisk:
    """Score the customers active at the period end and list those most worth keeping.

    The model of ``drivers`` (:func:`crmkit.metrics.churn_drivers.drivers_analysis`, fitted
    on the features of the day before the period to churn during it) scores each customer
    active at the period end on their features that day: their risk of churning within the
    next period's length. The expected value is ``value`` (per ``customer_id``: e.g. the
    predicted CLV of the clv topic) where given, else the customer's spend in the last 365
    days. Priority = risk × value; the ``top`` highest are listed with the two or three
    features that raise their risk most (logistic contributions, coefficient × standardised
    value, summed over each feature's terms; positive ones, largest first). The value at
    risk is Σ risk × value over all active customers (customers without a value left out
    and counted in ``without_value``).

    Raises
    ------
    ParameterError
        ``top`` is negative, or ``value`` holds a customer twice.
    """
    if top < 0:
        raise ParameterError(f"risk_analysis() needs top >= 0 (churn_at_risk_top); got {top}.")
    if value is not None and value.index.has_duplicates:
        twice = list(value.index[value.index.duplicated()][:3])
        raise ParameterError(
            f"risk_analysis() needs one value per customer_id; {twice} appear more than once."
        )
    current = drivers.current
    basis = "trailing_revenue" if value is None else "clv"
    as_of, days = drivers.period.end, drivers.period.days
    if drivers.model is None:
        return _empty_risk(as_of, days, basis, "no model", len(current))
    if current.empty:
        return _empty_risk(as_of, days, basis, "no active customers", 0)
    model = drivers.model
    risk = model.predict(current)
    if value is None:
        worth = current["trailing_revenue"].to_numpy(float)
    else:
        worth = pd.to_numeric(value, errors="coerce").reindex(current["customer_id"]).to_numpy()
    scores = pd.DataFrame(
        {
            "customer_id": current["customer_id"].to_numpy(),
            "churn_risk": risk,
            "expected_value": worth,
            "priority": risk * worth,
        }
    )
    scores = scores.sort_values(
        ["priority", "churn_risk"], ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)
    listed = scores.head(top).copy()
    rows = current.set_index("customer_id").loc[listed["customer_id"]].reset_index()
    by_feature = feature_contributions(model, rows)
    reasons, values = [], []
    for k, row in enumerate(by_feature.to_numpy()):
        best = [j for j in np.argsort(-row, kind="stable")[:REASONS] if row[j] > 0]
        names = tuple(by_feature.columns[j] for j in best)
        reasons.append(names)
        values.append(tuple(rows[name].iloc[k] for name in names))
    listed["reasons"] = reasons
    listed["reason_values"] = values
    known = np.isfinite(worth)
    return ChurnRisk(
        as_of=as_of,
        horizon_days=days,
        scores=scores,
        at_risk=listed.reset_index(drop=True),
        value_basis=basis,
        value_at_risk=float(np.sum(risk[known] * worth[known])),
        expected_churn=float(risk.sum()),
        active=len(current),
        without_value=int((~known).sum()),
    )
