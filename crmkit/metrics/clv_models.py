"""The probabilistic CLV models: the RFM summary, BG/NBD, Pareto/NBD and Gamma-Gamma fits,
predicted CLV and the holdout check.

The models come from ``lifetimes`` (Fader, Hardie & Lee 2005a, BG/NBD; Schmittlein, Morrison
& Colombo 1987, Pareto/NBD; Fader, Hardie & Lee 2005b, Gamma-Gamma). lifetimes changes pandas
options and warning filters when imported and while fitting, so it is only ever used inside
:func:`_lifetimes_sandbox`, which puts them back. :mod:`crmkit.metrics.clv` re-exports the
public names.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import day_after, rows_through

TIME_UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


@contextlib.contextmanager
def _lifetimes_sandbox() -> Iterator[object]:
    """Import and use lifetimes without letting it change global state."""
    try:
        with warnings.catch_warnings():  # deprecated (and without effect) in pandas 3
            warnings.simplefilter("ignore")
            chained = pd.get_option("mode.chained_assignment")
    except (KeyError, pd.errors.OptionError):
        chained = None
    # lifetimes also prints the optimizer's state when a fit does not converge.
    with (
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        import lifetimes

        try:
            yield lifetimes
        finally:
            if chained is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pd.set_option("mode.chained_assignment", chained)


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    observation_end: date | str | pd.Timestamp,
    time_unit: str = "W",
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_date",
    monetary_value_col: str = "amount",
) -> pd.DataFrame:
    """Frequency, recency, T and monetary value per customer, as lifetimes defines them.

    Purchases are counted per day: several orders on one day are one purchase of their summed
    value. ``frequency`` is the number of repeat purchase days; ``recency`` the time from the
    first to the last purchase day and ``T`` from the first purchase day to
    ``observation_end``, both in continuous ``time_unit`` (days / 7 for weeks, as in the
    published CDNOW analyses); ``monetary_value`` is the mean value of the repeat purchase days
    (0 for customers without repeats). Orders after ``observation_end`` are ignored.

    Runs as one DuckDB aggregation: ~10 million orders take about two seconds.

    Parameters
    ----------
    transactions
        One row per order.
    observation_end
        The last day observed (inclusive).
    time_unit
        ``"D"`` (days), ``"W"`` (weeks) or ``"M"`` (months of 365.25/12 days).

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id, frequency, recency, T, monetary_value``,
        sorted by customer_id.

    Raises
    ------
    ParameterError
        A required column is missing or ``time_unit`` is unknown.

    Examples
    --------
    >>> days = pd.to_datetime(["2026-01-01", "2026-01-15", "2026-01-08"])
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_date": days,
    ...                        "amount": [10.0, 30.0, 5.0]})
    >>> rfm_summary(orders, observation_end="2026-01-29").round(2).to_dict("records")[0]
    {'customer_id': 'a', 'frequency': 1, 'recency': 2.0, 'T': 4.0, 'monetary_value': 30.0}
    """
    if time_unit not in TIME_UNITS:
        raise ParameterError(f"time_unit must be one of {list(TIME_UNITS)}; got {time_unit!r}.")
    require_columns(
        transactions,
        [customer_id_col, datetime_col, monetary_value_col],
        "transactions",
        "rfm_summary",
    )
    end = pd.Timestamp(observation_end).normalize()
    orders = transactions[[customer_id_col, datetime_col, monetary_value_col]]
    orders.columns = ["customer_id", "order_date", "amount"]
    divisor = TIME_UNITS[time_unit]
    query = f"""
        WITH daily AS (
            SELECT customer_id::VARCHAR AS customer_id, CAST(order_date AS DATE) AS day,
                   SUM(amount)::DOUBLE AS amount
            FROM orders
            WHERE CAST(order_date AS DATE) <= DATE '{end:%Y-%m-%d}'
            GROUP BY 1, 2
        ), customers AS (
            SELECT customer_id, COUNT(*) - 1 AS frequency, MIN(day) AS first_day,
                   MAX(day) AS last_day, SUM(amount) AS total, arg_min(amount, day) AS first
            FROM daily GROUP BY 1
        )
        SELECT customer_id, frequency,
               date_diff('day', first_day, last_day) / {divisor} AS recency,
               date_diff('day', first_day, DATE '{end:%Y-%m-%d}') / {divisor} AS "T",
               CASE WHEN frequency > 0 THEN (total - first) / frequency ELSE 0 END
                   AS monetary_value
        FROM customers ORDER BY customer_id
    """
    connection = duckdb.connect()
    try:
        connection.register("orders", orders)
        summary = connection.execute(query).df()
    finally:
        connection.close()
    summary["frequency"] = summary["frequency"].astype("int64")
    return summary


# ----------------------------------------------------------------------------- models

PURCHASE_MODELS = {"bgnbd": "BetaGeoFitter", "pareto_nbd": "ParetoNBDFitter"}
PENALIZERS = (0.0, 0.001, 0.01, 0.1)
WEEKS_PER_MONTH = 365.25 / 12 / 7
MIN_CUSTOMERS, MIN_REPEAT_BUYERS = 30, 10


@dataclass(frozen=True)
class ModelFit:
    """A fitted model, or the record of why there is none.

    ``params`` uses lifetimes' names (BG/NBD ``r, alpha, a, b``; Pareto/NBD
    ``r, alpha, s, beta``; Gamma-Gamma ``p, q, v``). ``failures`` holds the tries that failed,
    in order, as ``(penalizer, problem)`` with the problem an exception's class name or
    ``"implausible parameters"``: before the successful penalised refit, or all of them when
    no fit succeeded. ``customers`` and ``repeat_buyers`` count the base it was fitted on (for
    Gamma-Gamma both are the repeat buyers with spend); a model without a fit and without
    failures was not tried because the base is too small (see :data:`MIN_CUSTOMERS`,
    :data:`MIN_REPEAT_BUYERS`).
    """

    model: str
    params: dict[str, float]
    penalizer: float = 0.0
    failures: tuple[tuple[float, str], ...] = ()
    customers: int = 0
    repeat_buyers: int = 0
    fitter: object = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.fitter is not None

    @property
    def too_small(self) -> bool:
        """Not tried: too few customers or repeat buyers."""
        return not self.ok and not self.failures


def _plausible(params: dict[str, float]) -> bool:
    values = np.array(list(params.values()), dtype=float)
    sane = bool(np.all(np.isfinite(values)) and np.all(values > 1e-6) and np.all(values < 1e6))
    # Gamma-Gamma's mean order value p·v/(q-1) exists only for q > 1.
    return sane and params.get("q", 2.0) > 1


def _fit_with_retries(
    model: str, make_and_fit, penalizers: tuple[float, ...], *, customers: int, repeat_buyers: int
) -> ModelFit:
    base = {"customers": customers, "repeat_buyers": repeat_buyers}
    failures: list[tuple[float, str]] = []
    for penalizer in penalizers:
        try:
            with _lifetimes_sandbox() as lifetimes:
                fitter = make_and_fit(lifetimes, penalizer)
            params = {k: float(v) for k, v in fitter.params_.items()}
        except Exception as exc:  # lifetimes raises ConvergenceError, ValueError, overflow ...
            failures.append((penalizer, type(exc).__name__))
            continue
        if not _plausible(params):
            failures.append((penalizer, "implausible parameters"))
            continue
        return ModelFit(model, params, penalizer, tuple(failures), fitter=fitter, **base)
    return ModelFit(model, {}, float("nan"), tuple(failures), **base)


def fit_purchase_model(
    summary: pd.DataFrame, *, model: str = "bgnbd", penalizers: tuple[float, ...] = PENALIZERS
) -> ModelFit:
    """Fit BG/NBD (Fader, Hardie & Lee 2005) or Pareto/NBD (Schmittlein et al. 1987).

    Customers with the same ``(frequency, recency, T)`` share one likelihood term, so the fit
    runs on the distinct triples with their counts as weights: a million customers fit in
    seconds. A failed or implausible fit is retried with increasing penalizers; if every try
    fails, or there are fewer than 30 customers or 10 repeat buyers, the result has no fitter
    and its ``failures``, ``customers`` and ``repeat_buyers`` say why.

    Parameters
    ----------
    summary
        Output of :func:`rfm_summary`.
    model
        ``"bgnbd"`` or ``"pareto_nbd"``.
    """
    if model not in PURCHASE_MODELS:
        raise ParameterError(f"model must be one of {list(PURCHASE_MODELS)}; got {model!r}.")
    require_columns(summary, ["frequency", "recency", "T"], "summary", "fit_purchase_model")
    repeaters = int((summary["frequency"] > 0).sum())
    if len(summary) < MIN_CUSTOMERS or repeaters < MIN_REPEAT_BUYERS:
        return ModelFit(model, {}, float("nan"), customers=len(summary), repeat_buyers=repeaters)
    triples = summary.groupby(["frequency", "recency", "T"], as_index=False).size()

    # lifetimes starts Pareto/NBD from a random draw around 1 (numpy's global generator), so
    # two runs of one report could differ; start it at 1 itself. BG/NBD starts fixed already.
    start = {"initial_params": np.ones(4)} if model == "pareto_nbd" else {}

    def make_and_fit(lifetimes, penalizer):
        fitter = getattr(lifetimes, PURCHASE_MODELS[model])(penalizer_coef=penalizer)
        return fitter.fit(
            triples["frequency"],
            triples["recency"],
            triples["T"],
            weights=triples["size"],
            **start,
        )

    return _fit_with_retries(
        model, make_and_fit, penalizers, customers=len(summary), repeat_buyers=repeaters
    )


def fit_spend_model(
    summary: pd.DataFrame, *, penalizers: tuple[float, ...] = PENALIZERS
) -> ModelFit:
    """Fit the Gamma-Gamma spend model (Fader, Hardie & Lee 2005b) on repeat buyers.

    The model assumes spend per order is independent of purchase frequency; check it with
    :func:`frequency_spend_correlation`.
    """
    require_columns(summary, ["frequency", "monetary_value"], "summary", "fit_spend_model")
    buyers = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(buyers) < MIN_REPEAT_BUYERS:
        return ModelFit(
            "gamma_gamma", {}, float("nan"), customers=len(buyers), repeat_buyers=len(buyers)
        )
    pairs = buyers.groupby(["frequency", "monetary_value"], as_index=False).size()
    # Fit in units of the median spend: lifetimes starts its optimiser near 0.1, far from a
    # scale parameter in the thousands. Spend / c keeps p and q and divides v by c.
    scale = float(pairs["monetary_value"].median())

    def make_and_fit(lifetimes, penalizer):
        fitter = lifetimes.GammaGammaFitter(penalizer_coef=penalizer)
        fitter.fit(pairs["frequency"], pairs["monetary_value"] / scale, weights=pairs["size"])
        fitter.params_["v"] = fitter.params_["v"] * scale
        return fitter

    return _fit_with_retries(
        "gamma_gamma", make_and_fit, penalizers, customers=len(buyers), repeat_buyers=len(buyers)
    )


def frequency_spend_correlation(summary: pd.DataFrame) -> float:
    """Pearson correlation of frequency and mean spend among repeat buyers (Gamma-Gamma
    assumes it is near 0)."""
    buyers = summary.loc[summary["frequency"] > 0]
    if len(buyers) < 3:
        return float("nan")
    return float(buyers["frequency"].corr(buyers["monetary_value"]))


def _expected_purchases(fit: ModelFit, t, summary: pd.DataFrame) -> np.ndarray:
    with _lifetimes_sandbox():
        values = fit.fitter.conditional_expected_number_of_purchases_up_to_time(
            t,
            summary["frequency"].to_numpy(),
            summary["recency"].to_numpy(),
            summary["T"].to_numpy(),
        )
    return np.asarray(values, dtype=float)


def predict_clv(
    summary: pd.DataFrame,
    *,
    purchase: ModelFit,
    spend: ModelFit,
    horizon_months: int,
    monthly_discount_rate: float = 0.0,
) -> pd.DataFrame:
    """Expected purchases, P(alive) and discounted CLV per customer over a horizon.

    CLV = Σ_{m=1..H} E[purchases in month m] × E[order value] / (1 + d)^m, with purchases
    from the purchase model given each customer's history and order value from the
    Gamma-Gamma conditional mean (Fader, Hardie & Lee 2005b, eq. 5). Time units are weeks.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id, p_alive, expected_purchases,
        expected_order_value, clv``.
    """
    if not (purchase.ok and spend.ok):
        unfitted = [fit.model for fit in (purchase, spend) if not fit.ok]
        raise ParameterError(
            f"predict_clv needs fitted purchase and spend models; {unfitted} have no fit "
            "(see their failures, customers and repeat_buyers)."
        )
    if horizon_months < 1:
        raise ParameterError(f"horizon_months must be at least 1; got {horizon_months}.")
    with _lifetimes_sandbox():
        p_alive = purchase.fitter.conditional_probability_alive(
            summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy()
        )
        order_value = spend.fitter.conditional_expected_average_profit(
            summary["frequency"], summary["monetary_value"].where(summary["frequency"] > 0, 0)
        )
    cumulative = [np.zeros(len(summary))]
    for month in range(1, horizon_months + 1):
        cumulative.append(_expected_purchases(purchase, month * WEEKS_PER_MONTH, summary))
    per_month = np.diff(np.vstack(cumulative), axis=0)
    discount = (1 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1)
    order_value = np.asarray(order_value, dtype=float)
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "p_alive": np.asarray(p_alive, dtype=float),
            "expected_purchases": cumulative[-1],
            "expected_order_value": order_value,
            "clv": (per_month * discount[:, None]).sum(axis=0) * order_value,
        }
    )


def mean_interval(
    values: pd.Series | np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    random_state: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean, resampling customers.

    It reflects which customers happen to be in the base, not the uncertainty of the fitted
    parameters (lifetimes offers neither).
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if len(data) < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(random_state)
    means = np.array([rng.choice(data, size=len(data)).mean() for _ in range(n_boot)])
    tail = (1 - level) / 2 * 100
    return (float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail)))


# ----------------------------------------------------------------------------- holdout


@dataclass(frozen=True)
class HoldoutCheck:
    """How well the purchase models predicted a period they did not see.

    ``model_selected`` is the purchase model with the lower mean absolute error per customer
    (``mae_per_customer`` for BG/NBD, ``pareto_mae_per_customer`` for Pareto/NBD; NaN for a
    model that could not be fitted); CLV uses it, and so does everything else here, so that
    a report's sentence and its charts judge one model: ``predicted`` (its total holdout
    purchases, against ``actual``), ``by_frequency`` (one row per calibration frequency, 7 =
    7 or more: customers, mean actual and mean predicted holdout purchases) and ``tracking``
    (the same forecast week by week: one row per week of the holdout, with the cumulative
    actual and ``expected`` repeat purchases of the calibration customers since the
    calibration end; its first row is the calibration end at 0, its last the observation
    end, at ``actual`` and ``predicted``). See :func:`fit_check` for whether the model fits.
    """

    weeks: float
    calibration_end: pd.Timestamp
    actual: int
    predicted: float
    mae_per_customer: float
    bgnbd: ModelFit
    pareto_nbd: ModelFit
    pareto_mae_per_customer: float
    model_selected: str
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame

    @property
    def relative_error(self) -> float:
        return self.predicted / self.actual - 1 if self.actual else float("nan")


class CalibrationError(ParameterError):
    """Neither purchase model could be fitted on a holdout's calibration period.

    ``fit`` is the BG/NBD attempt, whose ``failures``, ``customers`` and ``repeat_buyers``
    say why.
    """

    def __init__(self, fit: ModelFit):
        self.fit = fit
        tries = f"; failed fits (penalizer, problem): {list(fit.failures)}" if fit.failures else ""
        super().__init__(
            f"Neither purchase model could be fitted on the calibration period: "
            f"{fit.customers} customers, {fit.repeat_buyers} with repeat purchases (needs "
            f"{MIN_CUSTOMERS} and {MIN_REPEAT_BUYERS}){tries}; a longer history or fewer "
            "holdout_weeks may help."
        )


def holdout_check(
    transactions: pd.DataFrame,
    *,
    observation_end: date | str | pd.Timestamp,
    holdout_weeks: int | None = None,
    calibration_end: date | str | pd.Timestamp | None = None,
) -> HoldoutCheck:
    """Fit BG/NBD and Pareto/NBD on a calibration period, predict the holdout, compare.

    The calibration period is the history up to ``observation_end`` less the last
    ``holdout_weeks`` weeks (or up to ``calibration_end`` when given). Holdout purchases are
    repeat purchase days of calibration customers, on the days after ``calibration_end`` up
    to ``observation_end`` (any time of day). The model with the lower mean absolute error per
    customer on the holdout is selected.

    Raises
    ------
    ParameterError
        Neither ``holdout_weeks`` nor ``calibration_end`` is given.
    CalibrationError
        Neither model could be fitted on the calibration period.
    """
    if holdout_weeks is None and calibration_end is None:
        raise ParameterError("holdout_check() needs holdout_weeks or calibration_end; got neither.")
    end = pd.Timestamp(observation_end).normalize()
    cal_end = (
        pd.Timestamp(calibration_end).normalize()
        if calibration_end is not None
        else end - pd.Timedelta(weeks=holdout_weeks)
    )
    weeks = (end - cal_end).days / 7
    calibration = rfm_summary(transactions, observation_end=cal_end)
    later = rows_through(transactions, "order_date", end)
    later = later.loc[later["order_date"] >= day_after(cal_end)]
    days = (
        later.assign(day=later["order_date"].dt.normalize())
        .drop_duplicates(["customer_id", "day"])
        .loc[lambda d: d["customer_id"].isin(calibration["customer_id"])]
    )
    actual = days.groupby("customer_id").size()
    actual = actual.reindex(calibration["customer_id"]).fillna(0).to_numpy()
    fits = {m: fit_purchase_model(calibration, model=m) for m in PURCHASE_MODELS}
    predictions = {
        m: _expected_purchases(f, weeks, calibration) if f.ok else None for m, f in fits.items()
    }
    maes = {
        m: float(np.mean(np.abs(p - actual))) if p is not None else float("nan")
        for m, p in predictions.items()
    }
    usable = {m: v for m, v in maes.items() if np.isfinite(v)}
    if not usable:
        raise CalibrationError(fits["bgnbd"])
    selected = min(usable, key=usable.get)
    predicted = predictions[selected]
    frequency = np.minimum(calibration["frequency"].to_numpy(), 7)
    by_frequency = (
        pd.DataFrame({"calibration_frequency": frequency, "actual": actual, "predicted": predicted})
        .groupby("calibration_frequency", as_index=False)
        .agg(
            customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
        )
    )
    return HoldoutCheck(
        weeks=weeks,
        calibration_end=cal_end,
        actual=int(actual.sum()),
        predicted=float(predicted.sum()),
        mae_per_customer=maes["bgnbd"],
        bgnbd=fits["bgnbd"],
        pareto_nbd=fits["pareto_nbd"],
        pareto_mae_per_customer=maes["pareto_nbd"],
        model_selected=selected,
        by_frequency=by_frequency,
        tracking=_tracking(days, calibration, fits[selected], cal_end, end),
    )


def _tracking(
    holdout: pd.DataFrame,
    calibration: pd.DataFrame,
    fit: ModelFit,
    cal_end: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Week by week over the holdout, the cumulative repeat purchases of the calibration
    customers since the calibration end: ``actual`` (``holdout`` is one row per customer and
    purchase day) and ``expected``, forecast from each customer's history as the holdout
    total and CLV are. The first row is the calibration end (0, 0); the last is the
    observation end, the holdout total."""
    days = (end - cal_end).days
    offsets = [*range(7, days, 7), days]
    bought = np.sort(holdout["day"].to_numpy())
    ends = [cal_end + pd.Timedelta(days=d) for d in offsets]
    actual = np.searchsorted(bought, np.array(ends, dtype="datetime64[ns]"), side="right")
    expected = [_expected_purchases(fit, d / 7, calibration).sum() for d in offsets]
    return pd.DataFrame(
        {
            "week_ending": [cal_end, *ends],
            "actual": [0, *actual.tolist()],
            "expected": [0.0, *expected],
        }
    )


# ----------------------------------------------------------------------------- fit verdict

FIT_BOUND = 0.10
"""How far off actual repeat purchases a model may be and still "fit well" (see
:func:`fit_check`)."""

FIT_VERDICTS = ("fits_well", "under_predicts", "over_predicts", "both_ways", "not_judged")


def min_judged(bound: float) -> int:
    """The fewest cumulative purchases at which a tracking week is judged against ``bound``.

    A count of n purchases varies by about √n by chance (Poisson), so a correct forecast can
    miss a small count by more than the bound: a week is judged once two such deviations,
    2√n, are within it, n ≥ (2 / bound)²: 400 purchases at ±10%.
    """
    return math.ceil((2 / bound) ** 2)


@dataclass(frozen=True)
class FitCheck:
    """Whether the purchase model CLV uses fits, judged by one stated rule (:func:`fit_check`).

    Errors are relative, ``predicted / actual - 1`` (negative: the model predicts too few).
    ``total_error`` is the holdout's total repeat purchases; ``curve_low`` and ``curve_high``
    are the smallest and largest error of the cumulative tracking curve over the ``weeks``
    weekly points of the holdout it judges, from ``judged_from`` (the first with at least
    ``min_purchases`` actual purchases) to the end. ``size`` is the largest error outside
    ``bound`` (0 when the model fits well, NaN when not judged).
    """

    bound: float
    total_error: float
    curve_low: float
    curve_high: float
    weeks: int
    verdict: str
    size: float
    judged_from: pd.Timestamp | None = None
    min_purchases: int = 0

    @property
    def fits_well(self) -> bool:
        return self.verdict == "fits_well"

    @property
    def largest(self) -> float:
        """The largest error either way, inside the bound or not (NaN when not judged)."""
        errors = [abs(e) for e in (self.total_error, self.curve_low, self.curve_high)]
        return max(errors) if self.verdict != "not_judged" else float("nan")


def fit_check(holdout: HoldoutCheck, *, bound: float = FIT_BOUND) -> FitCheck:
    """Judge the selected purchase model on its holdout, by a rule stated in advance.

    The model **fits well** when both its total repeat purchases over the holdout and its
    cumulative tracking curve (the chart of :attr:`HoldoutCheck.tracking`) at every judged
    week of the holdout are within ``bound`` (±10%) of actual. Otherwise every error outside
    the bound says which way it misses: all below actual, the model **under-predicts**; all
    above, it **over-predicts**; some of each, it misses **both ways**; ``size`` is the
    largest of them. Without repeat purchases in the holdout or a weekly point after the
    calibration end it is **not judged**.

    The curve is the total's forecast week by week (same customers, same purchases, same
    forecast from each customer's history), so its last point is the total. Weeks with fewer
    actual purchases than :func:`min_judged` are not judged, as chance alone can put a
    correct forecast outside the bound there; the last week always is.

    Raises
    ------
    ParameterError
        ``bound`` is not a fraction between 0 and 1.
    """
    if not 0 < bound < 1:
        raise ParameterError(f"bound must be a fraction between 0 and 1, e.g. 0.1; got {bound!r}.")
    tracking = holdout.tracking
    held = tracking.loc[
        (tracking["week_ending"] > holdout.calibration_end) & (tracking["actual"] > 0)
    ]
    least = min(min_judged(bound), int(held["actual"].max())) if len(held) else 0
    weeks = held.loc[held["actual"] >= least]
    curve = (weeks["expected"] / weeks["actual"] - 1).to_numpy(dtype=float)
    total = holdout.relative_error
    nan = float("nan")
    if not np.isfinite(total) or not len(curve):
        return FitCheck(bound, total, nan, nan, len(curve), "not_judged", nan)
    low, high = float(curve.min()), float(curve.max())
    outside = [e for e in (total, low, high) if abs(e) > bound + 1e-9]  # the bound is in
    if not outside:
        verdict, size = "fits_well", 0.0
    else:
        size = max(abs(e) for e in outside)
        verdict = (
            "under_predicts"
            if all(e < 0 for e in outside)
            else "over_predicts"
            if all(e > 0 for e in outside)
            else "both_ways"
        )
    first = pd.Timestamp(weeks["week_ending"].iloc[0])
    return FitCheck(bound, total, low, high, len(curve), verdict, size, first, least)
