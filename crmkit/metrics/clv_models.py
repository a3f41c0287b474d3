"""The probabilistic CLV models: the RFM summary, BG/NBD, Pareto/NBD and Gamma-Gamma fits,
predicted CLV and the holdout check.

The models are lifetimes' (Fader, Hardie & Lee 2005a, BG/NBD; Schmittlein, Morrison &
Colombo 1987, Pareto/NBD; Fader, Hardie & Lee 2005b, Gamma-Gamma), fitted and evaluated once
per distinct purchase history by :mod:`crmkit.metrics.clv_histories`; a fit carries a
lifetimes fitter with its parameters, for lifetimes' other methods. lifetimes changes pandas
options and warning filters when imported, so it is only ever used inside
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

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.metrics.clv_histories import (
    Histories,
    expected_order_value,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    forecast,
    histories,
)
from crmkit.metrics.customer_orders import TIME_UNITS, Orders, purchase_days, rfm_summaries


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
    transactions: Orders,
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

    Runs as one aggregation in the engine (:mod:`crmkit.metrics.customer_orders`).

    Parameters
    ----------
    transactions
        One row per order: a frame, or a snapshot table on disk.
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
    orders = transactions
    if [customer_id_col, datetime_col, monetary_value_col] != [
        "customer_id",
        "order_date",
        "amount",
    ]:
        orders = transactions[[customer_id_col, datetime_col, monetary_value_col]]
        orders.columns = ["customer_id", "order_date", "amount"]
    (summary,) = rfm_summaries(orders, observation_ends=[observation_end], time_unit=time_unit)
    return summary


# ----------------------------------------------------------------------------- models

PURCHASE_MODELS = {"bgnbd": "BetaGeoFitter", "pareto_nbd": "ParetoNBDFitter"}
FITTERS = {**PURCHASE_MODELS, "gamma_gamma": "GammaGammaFitter"}
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
    model: str, fit, penalizers: tuple[float, ...], *, customers: int, repeat_buyers: int
) -> ModelFit:
    """``fit(penalizer)`` → params, with each penalizer in turn until one gives plausible
    parameters; the fitter is a lifetimes fitter carrying them, for lifetimes' methods."""
    base = {"customers": customers, "repeat_buyers": repeat_buyers}
    failures: list[tuple[float, str]] = []
    for penalizer in penalizers:
        try:
            with np.errstate(all="ignore"):
                params = {k: float(v) for k, v in fit(penalizer).items()}
        except Exception as exc:  # ConvergenceError, ValueError, overflow ...
            failures.append((penalizer, type(exc).__name__))
            continue
        if not _plausible(params):
            failures.append((penalizer, "implausible parameters"))
            continue
        with _lifetimes_sandbox() as lifetimes:
            fitter = getattr(lifetimes, FITTERS[model])(penalizer_coef=penalizer)
        fitter.params_ = pd.Series(params)
        return ModelFit(model, params, penalizer, tuple(failures), fitter=fitter, **base)
    return ModelFit(model, {}, float("nan"), tuple(failures), **base)


def fit_purchase_model(
    summary: pd.DataFrame, *, model: str = "bgnbd", penalizers: tuple[float, ...] = PENALIZERS
) -> ModelFit:
    """Fit BG/NBD (Fader, Hardie & Lee 2005) or Pareto/NBD (Schmittlein et al. 1987).

    Customers with the same ``(frequency, recency, T)`` share one likelihood term, so the fit
    runs on the distinct histories with their counts as weights
    (:mod:`crmkit.metrics.clv_histories`): the same maximum as lifetimes' fit on
    per-customer rows, and a million customers fit in seconds. A failed or implausible fit
    is retried with increasing penalizers; if every try fails, or there are fewer than 30
    customers or 10 repeat buyers, the result has no fitter and its ``failures``,
    ``customers`` and ``repeat_buyers`` say why.

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
    return _fit_purchase(summary, histories(summary), model, penalizers)


def _fit_purchase(
    summary: pd.DataFrame, grouped: Histories, model: str, penalizers: tuple[float, ...]
) -> ModelFit:
    repeaters = int((summary["frequency"] > 0).sum())
    if len(summary) < MIN_CUSTOMERS or repeaters < MIN_REPEAT_BUYERS:
        return ModelFit(model, {}, float("nan"), customers=len(summary), repeat_buyers=repeaters)
    fit = fit_pareto_nbd if model == "pareto_nbd" else fit_bgnbd
    return _fit_with_retries(
        model,
        lambda penalizer: fit(grouped, penalizer=penalizer),
        penalizers,
        customers=len(summary),
        repeat_buyers=repeaters,
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
    frequency = buyers["frequency"].to_numpy()
    spend = buyers["monetary_value"].to_numpy()
    return _fit_with_retries(
        "gamma_gamma",
        lambda penalizer: fit_gamma_gamma(frequency, spend, penalizer=penalizer),
        penalizers,
        customers=len(buyers),
        repeat_buyers=len(buyers),
    )


def frequency_spend_correlation(summary: pd.DataFrame) -> float:
    """Pearson correlation of frequency and mean spend among repeat buyers (Gamma-Gamma
    assumes it is near 0)."""
    buyers = summary.loc[summary["frequency"] > 0]
    if len(buyers) < 3:
        return float("nan")
    return float(buyers["frequency"].corr(buyers["monetary_value"]))


def _expected_purchases(fit: ModelFit, t, summary: pd.DataFrame) -> np.ndarray:
    """Expected repeat purchases per customer of ``summary`` in the next ``t`` weeks."""
    grouped = histories(summary)
    return grouped.per_customer(forecast(fit.model, fit.params, grouped).expected(t))


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
    Both purchase models forecast P(alive) times a term of (frequency, T), so the monthly
    sum is taken once per distinct (frequency, T) and each customer's P(alive) scales it.

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
    return _predict_clv(
        summary, histories(summary), purchase, spend, horizon_months, monthly_discount_rate
    )


def _predict_clv(summary, grouped, purchase, spend, horizon_months, monthly_discount_rate):
    purchases = forecast(purchase.model, purchase.params, grouped)
    frequency = summary["frequency"].to_numpy()
    order_value = expected_order_value(
        spend.params, frequency, summary["monetary_value"].where(summary["frequency"] > 0, 0)
    )
    months = [purchases.per_pair(m * WEEKS_PER_MONTH) for m in range(1, horizon_months + 1)]
    per_month = np.diff(np.vstack([np.zeros_like(months[0]), *months]), axis=0)
    discount = (1 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1)
    discounted = (per_month * discount[:, None]).sum(axis=0)[grouped.age_key]
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "p_alive": grouped.per_customer(purchases.p_alive),
            "expected_purchases": grouped.per_customer(
                purchases.p_alive * months[-1][grouped.age_key]
            ),
            "expected_order_value": order_value,
            "clv": grouped.per_customer(purchases.p_alive * discounted) * order_value,
        }
    )


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
    transactions: Orders,
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
    return checked_holdout(
        rfm_summary(transactions, observation_end=cal_end),
        purchase_days(transactions, after=cal_end, through=end),
        calibration_end=cal_end,
        observation_end=end,
    )


def checked_holdout(
    calibration: pd.DataFrame,
    later_days: pd.DataFrame,
    *,
    calibration_end: pd.Timestamp,
    observation_end: pd.Timestamp,
) -> HoldoutCheck:
    """:func:`holdout_check` from its per-customer inputs: the :func:`rfm_summary` at the
    calibration end and the :func:`~crmkit.metrics.customer_orders.purchase_days` after it
    up to the observation end."""
    cal_end, end = calibration_end, observation_end
    weeks = (end - cal_end).days / 7
    known = pd.Index(calibration["customer_id"])
    days = later_days.loc[known.get_indexer(later_days["customer_id"]) >= 0]
    actual = np.bincount(known.get_indexer(days["customer_id"]), minlength=len(known))
    grouped = histories(calibration)
    fits = {m: _fit_purchase(calibration, grouped, m, PENALIZERS) for m in PURCHASE_MODELS}
    forecasts = {m: forecast(m, f.params, grouped) for m, f in fits.items() if f.ok}
    predictions = {
        m: grouped.per_customer(forecasts[m].expected(weeks)) if m in forecasts else None
        for m in fits
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
        tracking=_tracking(days, forecasts[selected], cal_end, end),
    )


def _tracking(holdout: pd.DataFrame, purchases, cal_end: pd.Timestamp, end: pd.Timestamp):
    """Week by week over the holdout, the cumulative repeat purchases of the calibration
    customers since the calibration end: ``actual`` (``holdout`` is one row per customer and
    purchase day) and ``expected``, forecast from each customer's history (``purchases``, a
    :class:`~crmkit.metrics.clv_histories.Forecast`) as the holdout total and CLV are. The
    first row is the calibration end (0, 0); the last is the observation end, the holdout
    total."""
    days = (end - cal_end).days
    offsets = [*range(7, days, 7), days]
    bought = np.sort(holdout["day"].to_numpy())
    ends = [cal_end + pd.Timedelta(days=d) for d in offsets]
    actual = np.searchsorted(bought, np.array(ends, dtype="datetime64[ns]"), side="right")
    expected = [purchases.expected_total(d / 7) for d in offsets]
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
