"""Customer lifetime value: historical value, and BG/NBD, Pareto/NBD and Gamma-Gamma models.

The probabilistic models come from ``lifetimes`` (Fader, Hardie & Lee 2005a, BG/NBD;
Schmittlein, Morrison & Colombo 1987, Pareto/NBD; Fader, Hardie & Lee 2005b, Gamma-Gamma).
lifetimes changes pandas options and warning filters when imported and while fitting, so it
is only ever used inside :func:`_lifetimes_sandbox`, which puts them back.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns

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
    """A fitted model, or the reason there is none.

    ``params`` uses lifetimes' names (BG/NBD ``r, alpha, a, b``; Pareto/NBD
    ``r, alpha, s, beta``; Gamma-Gamma ``p, q, v``). ``note`` says in words what went wrong
    and how it was handled (a retry with a penalizer), empty for a clean fit.
    """

    model: str
    params: dict[str, float]
    penalizer: float = 0.0
    note: str = ""
    fitter: object = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.fitter is not None


def _plausible(params: dict[str, float]) -> bool:
    values = np.array(list(params.values()), dtype=float)
    sane = bool(np.all(np.isfinite(values)) and np.all(values > 1e-6) and np.all(values < 1e6))
    # Gamma-Gamma's mean order value p·v/(q-1) exists only for q > 1.
    return sane and params.get("q", 2.0) > 1


def _fit_with_retries(model: str, make_and_fit, penalizers: tuple[float, ...]) -> ModelFit:
    problems = []
    for penalizer in penalizers:
        try:
            with _lifetimes_sandbox() as lifetimes:
                fitter = make_and_fit(lifetimes, penalizer)
            params = {k: float(v) for k, v in fitter.params_.items()}
        except Exception as exc:  # lifetimes raises ConvergenceError, ValueError, overflow ...
            problems.append(f"penalizer {penalizer:g}: {type(exc).__name__}")
            continue
        if not _plausible(params):
            problems.append(f"penalizer {penalizer:g}: implausible parameters")
            continue
        note = ""
        if problems:
            note = (
                f"The unpenalised fit failed ({'; '.join(problems)}); refitted with a "
                f"penalizer of {penalizer:g}, which shrinks the parameters slightly."
            )
        return ModelFit(model, params, penalizer, note, fitter)
    return ModelFit(
        model, {}, float("nan"), f"The {model} model could not be fitted ({'; '.join(problems)})."
    )


def fit_purchase_model(
    summary: pd.DataFrame, *, model: str = "bgnbd", penalizers: tuple[float, ...] = PENALIZERS
) -> ModelFit:
    """Fit BG/NBD (Fader, Hardie & Lee 2005) or Pareto/NBD (Schmittlein et al. 1987).

    Customers with the same ``(frequency, recency, T)`` share one likelihood term, so the fit
    runs on the distinct triples with their counts as weights: a million customers fit in
    seconds. A failed or implausible fit is retried with increasing penalizers; if every try
    fails, or there are fewer than 30 customers or 10 repeat buyers, the result has no fitter
    and ``note`` says why.

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
        return ModelFit(
            model,
            {},
            float("nan"),
            f"Too few customers to fit {model}: {len(summary)} customers, "
            f"{repeaters} with repeat purchases (needs {MIN_CUSTOMERS} and "
            f"{MIN_REPEAT_BUYERS}).",
        )
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

    return _fit_with_retries(model, make_and_fit, penalizers)


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
            "gamma_gamma",
            {},
            float("nan"),
            f"Too few repeat buyers to fit Gamma-Gamma: {len(buyers)}.",
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

    return _fit_with_retries("gamma_gamma", make_and_fit, penalizers)


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
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
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
        raise ParameterError(
            f"predict_clv needs fitted purchase and spend models; {purchase.note or spend.note}"
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

    ``by_frequency``: one row per calibration frequency (7 = 7 or more): customers, mean
    actual and mean predicted holdout purchases. ``tracking``: one row per week: cumulative
    actual and expected repeat purchases of the calibration customers, from the first order
    to the end of the holdout.
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
    reason: str
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame

    @property
    def relative_error(self) -> float:
        return self.predicted / self.actual - 1 if self.actual else float("nan")


def holdout_check(
    transactions: pd.DataFrame,
    *,
    observation_end: date | str | pd.Timestamp,
    holdout_weeks: int = 26,
    calibration_end: date | str | pd.Timestamp | None = None,
) -> HoldoutCheck:
    """Fit BG/NBD and Pareto/NBD on a calibration period, predict the holdout, compare.

    The calibration period is the history up to ``observation_end`` less the last
    ``holdout_weeks`` weeks (or up to ``calibration_end`` when given). Holdout purchases are
    repeat purchase days of calibration customers. The model with the lower mean absolute
    error per customer on the holdout is selected.
    """
    end = pd.Timestamp(observation_end).normalize()
    cal_end = (
        pd.Timestamp(calibration_end).normalize()
        if calibration_end is not None
        else end - pd.Timedelta(weeks=holdout_weeks)
    )
    weeks = (end - cal_end).days / 7
    calibration = rfm_summary(transactions, observation_end=cal_end)
    later = transactions.loc[
        (transactions["order_date"] > cal_end)
        & (transactions["order_date"] < end + pd.Timedelta(days=1))
    ]
    actual = (
        later.assign(day=later["order_date"].dt.normalize()).groupby("customer_id")["day"].nunique()
    )
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
        raise ParameterError(
            "Neither purchase model could be fitted on the calibration "
            f"period: {fits['bgnbd'].note}"
        )
    selected = min(usable, key=usable.get)
    other = "pareto_nbd" if selected == "bgnbd" else "bgnbd"
    reason = (
        f"{_NAMES[selected]} has the lower holdout error per customer "
        f"({usable[selected]:.3f} against {maes[other]:.3f} for {_NAMES[other]})"
        if other in usable
        else f"only {_NAMES[selected]} could be fitted"
    )
    predicted = predictions["bgnbd"] if predictions["bgnbd"] is not None else predictions[selected]
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
        reason=reason,
        by_frequency=by_frequency,
        tracking=_tracking(transactions, fits[selected], cal_end, end),
    )


_NAMES = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}


def _tracking(
    transactions: pd.DataFrame, fit: ModelFit, cal_end: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Weekly cumulative repeat purchases: actual, and expected from each customer's birth."""
    orders = transactions.loc[transactions["order_date"] < end + pd.Timedelta(days=1)]
    days = orders.assign(day=orders["order_date"].dt.normalize()).drop_duplicates(
        ["customer_id", "day"]
    )
    birth = days.groupby("customer_id")["day"].min()
    birth = birth[birth <= cal_end]
    days = days.loc[days["customer_id"].isin(birth.index)]
    repeats = days.loc[days["day"] > days["customer_id"].map(birth), "day"]
    start = birth.min()
    weeks = pd.date_range(start + pd.Timedelta(weeks=1), end, freq="7D")
    actual = np.searchsorted(np.sort(repeats.to_numpy()), weeks.to_numpy(), side="right")
    births, counts = np.unique(birth.to_numpy(), return_counts=True)
    expected = np.zeros(len(weeks))
    with _lifetimes_sandbox():
        for when, n in zip(births, counts, strict=True):
            t = np.clip((weeks.to_numpy() - when) / np.timedelta64(7, "D"), 0, None)
            expected += n * np.asarray(fit.fitter.expected_number_of_purchases_up_to_time(t))
    return pd.DataFrame({"week_ending": weeks, "actual": actual, "expected": expected})


# ----------------------------------------------------------------------------- history


def historical_value(transactions: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Revenue (and margin where present) to date per customer; customers who never bought
    have 0. One row per customer: ``customer_id, orders, revenue, margin, first_order,
    last_order``."""
    require_columns(
        transactions, ["customer_id", "order_date", "amount"], "transactions", "historical_value"
    )
    has_margin = "margin" in transactions.columns
    grouped = transactions.groupby("customer_id").agg(
        orders=("amount", "size"),
        revenue=("amount", "sum"),
        margin=("margin" if has_margin else "amount", "sum"),
        first_order=("order_date", "min"),
        last_order=("order_date", "max"),
    )
    if not has_margin:
        grouped["margin"] = np.nan
    value = grouped.reindex(customers["customer_id"].unique())
    value[["orders", "revenue"]] = value[["orders", "revenue"]].fillna(0)
    if has_margin:
        value["margin"] = value["margin"].fillna(0)
    value.index.name = "customer_id"
    return value.reset_index()


def cohort_revenue(
    transactions: pd.DataFrame, customers: pd.DataFrame, *, cohort: str = "Q", max_months: int = 24
) -> pd.DataFrame:
    """Cumulative revenue per customer by signup cohort and months since signup.

    One row per (cohort, months_since_signup): ``customers`` in the cohort and
    ``revenue_per_customer`` earned by then (cohort size as denominator, buyers or not).
    Months a cohort has not lived through yet are absent.
    """
    signup = customers.set_index("customer_id")["signup_date"]
    orders = transactions.loc[transactions["customer_id"].isin(signup.index)]
    start = orders["customer_id"].map(signup)
    months = (
        (orders["order_date"].dt.year - start.dt.year) * 12
        + orders["order_date"].dt.month
        - start.dt.month
    ).clip(lower=0)
    label = signup.dt.to_period(cohort).astype(str)
    revenue = (
        orders.assign(cohort=orders["customer_id"].map(label), months=months)
        .groupby(["cohort", "months"])["amount"]
        .sum()
    )
    sizes = label.value_counts()
    last = transactions["order_date"].max()
    rows = []
    for name, size in sizes.sort_index().items():
        first_day = signup[label == name].min()
        lived = (last.year - first_day.year) * 12 + last.month - first_day.month
        series = revenue.get(name, pd.Series(dtype=float))
        total = 0.0
        for month in range(min(lived, max_months) + 1):
            total += float(series.get(month, 0.0))
            rows.append((name, month, int(size), total / size))
    return pd.DataFrame(
        rows, columns=["cohort", "months_since_signup", "customers", "revenue_per_customer"]
    )


def ltv_cac(
    clv: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    margin_rate: float = 1.0,
    horizon_months: int = 12,
    costs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Lifetime value against acquisition cost, per acquisition channel.

    CAC is the mean ``acquisition_cost`` of the channel's customers; where customers carry no
    cost, the ``costs`` table's acquisition spend for the channel divided by its new
    customers. LTV is the mean predicted CLV times ``margin_rate`` (1 = revenue). Payback is
    the months of expected margin it takes to earn the CAC back, at the horizon's average
    monthly rate (``inf`` when the customer base is not expected to earn it back).

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``acquisition_channel, customers, ltv, cac, ltv_cac,
        payback_months``.
    """
    require_columns(customers, ["customer_id", "acquisition_channel"], "customers", "ltv_cac")
    joined = customers[["customer_id", "acquisition_channel"]].merge(
        clv[["customer_id", "clv"]], on="customer_id", how="inner"
    )
    if "acquisition_cost" in customers.columns:
        joined = joined.merge(customers[["customer_id", "acquisition_cost"]], on="customer_id")
    else:
        joined["acquisition_cost"] = np.nan
    table = joined.groupby("acquisition_channel").agg(
        customers=("customer_id", "size"), ltv=("clv", "mean"), cac=("acquisition_cost", "mean")
    )
    if costs is not None and table["cac"].isna().any() and "channel" in costs.columns:
        spend = costs.loc[costs["category"] == "acquisition"].groupby("channel")["amount"].sum()
        new = customers.groupby("acquisition_channel").size()
        table["cac"] = table["cac"].fillna(spend / new)
    table["ltv"] = table["ltv"] * margin_rate
    table["ltv_cac"] = table["ltv"] / table["cac"]
    monthly = table["ltv"] / horizon_months
    table["payback_months"] = (table["cac"] / monthly).where(monthly > 0, np.inf)
    return table.reset_index()


# ----------------------------------------------------------------------------- one unit


def pseudonym(customer_id: str, *, salt: str = "") -> str:
    """A stable pseudonymous id for showing a customer in a report (``C-1a2b3c4d``)."""
    import hashlib

    return "C-" + hashlib.sha256(f"{salt}:{customer_id}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class CLVAnalysis:
    """Everything the CLV report shows for one unit and period (see :func:`analyse`)."""

    summary: pd.DataFrame
    history: pd.DataFrame
    cohorts: pd.DataFrame
    bgnbd: ModelFit
    pareto_nbd: ModelFit
    gamma_gamma: ModelFit
    frequency_spend_correlation: float
    holdout: HoldoutCheck | None
    values: pd.DataFrame | None
    mean_clv: float
    mean_clv_ci: tuple[float, float]
    total_clv: float
    total_clv_ci: tuple[float, float]
    ltv_cac: pd.DataFrame | None
    horizon_months: int
    notes: list[str]

    @property
    def model_selected(self) -> str:
        return self.holdout.model_selected if self.holdout else "bgnbd"


def analyse(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    period_end: date | str,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    holdout_weeks: int = 26,
    costs: pd.DataFrame | None = None,
) -> CLVAnalysis:
    """Historical and predicted CLV for one unit at ``period_end``, with its holdout check.

    Models are fitted on the whole history up to ``period_end``; the holdout check refits on
    the history less the last ``holdout_weeks`` weeks. CLV uses the purchase model the
    holdout selects. Anything that cannot be fitted is left ``None``/empty and explained in
    ``notes``.
    """
    notes: list[str] = []
    end = pd.Timestamp(period_end)
    summary = rfm_summary(transactions, observation_end=end)
    history = historical_value(transactions, customers)
    cohorts = cohort_revenue(transactions, customers)
    fits = {m: fit_purchase_model(summary, model=m) for m in PURCHASE_MODELS}
    spend = fit_spend_model(summary)
    notes += [f.note for f in (*fits.values(), spend) if f.note]
    try:
        holdout = holdout_check(transactions, observation_end=end, holdout_weeks=holdout_weeks)
    except ParameterError as exc:
        holdout = None
        notes.append(f"Holdout check skipped: {exc}")
    purchase = fits[holdout.model_selected] if holdout else fits["bgnbd"]
    values, table = None, None
    mean = total = float("nan")
    mean_ci = total_ci = (float("nan"), float("nan"))
    if purchase.ok and spend.ok:
        values = predict_clv(
            summary,
            purchase=purchase,
            spend=spend,
            horizon_months=horizon_months,
            monthly_discount_rate=monthly_discount_rate,
        )
        mean = float(values["clv"].mean())
        total = float(values["clv"].sum())
        mean_ci = mean_interval(values["clv"])
        total_ci = (mean_ci[0] * len(values), mean_ci[1] * len(values))
        if "acquisition_channel" in customers.columns:
            margin_rate = 1.0
            if "margin" in transactions.columns and transactions["amount"].sum() > 0:
                margin_rate = float(transactions["margin"].sum() / transactions["amount"].sum())
            table = ltv_cac(
                values,
                customers,
                margin_rate=margin_rate,
                horizon_months=horizon_months,
                costs=costs,
            )
    else:
        notes.append("Predicted CLV skipped: the models could not be fitted on this unit.")
    return CLVAnalysis(
        summary,
        history,
        cohorts,
        fits["bgnbd"],
        fits["pareto_nbd"],
        spend,
        frequency_spend_correlation(summary),
        holdout,
        values,
        mean,
        mean_ci,
        total,
        total_ci,
        table,
        horizon_months,
        notes,
    )


def key_findings(analysis: CLVAnalysis, *, currency: str = "") -> list[str]:
    """The sentences at the top of the CLV report, each with its number."""
    from crmkit.present.format import money, pct

    found = []
    if analysis.values is not None:
        lo, hi = analysis.mean_clv_ci
        found.append(
            f"Expected value over the next {analysis.horizon_months} months: "
            f"{money(analysis.mean_clv, currency)} per customer (95% interval {money(lo)}–"
            f"{money(hi)}), {money(analysis.total_clv, currency)} for all "
            f"{len(analysis.values):,} customers who have bought."
        )
    if analysis.holdout is not None:
        h = analysis.holdout
        verdict = (
            "fits well"
            if abs(h.relative_error) <= 0.1
            else "fits acceptably"
            if abs(h.relative_error) <= 0.2
            else "fits badly"
        )
        found.append(
            f"Tested on the last {h.weeks:.0f} weeks it did not see, the model predicted "
            f"{h.predicted:,.0f} repeat purchases against {h.actual:,} actual "
            f"({pct(h.relative_error)} off): it {verdict}. {h.reason}."
        )
    if analysis.ltv_cac is not None and analysis.ltv_cac["ltv_cac"].notna().any():
        table = analysis.ltv_cac.dropna(subset=["ltv_cac"])
        best = table.loc[table["ltv_cac"].idxmax()]
        worst = table.loc[table["ltv_cac"].idxmin()]
        found.append(
            f"Best acquisition channel: {best['acquisition_channel']} (LTV:CAC "
            f"{best['ltv_cac']:.1f}); weakest: {worst['acquisition_channel']} "
            f"({worst['ltv_cac']:.1f})."
        )
    correlation = analysis.frequency_spend_correlation
    if np.isfinite(correlation) and abs(correlation) > 0.3:
        found.append(
            f"Gamma-Gamma assumes order value does not depend on purchase frequency; here they "
            f"correlate at {correlation:.2f}, so predicted spend of frequent buyers is likely "
            f"{'understated' if correlation > 0 else 'overstated'}."
        )
    found += analysis.notes
    return found


def results(analysis: CLVAnalysis) -> dict:
    """The CLV report's machine-readable results (``clv.json``)."""
    holdout = analysis.holdout
    table = analysis.ltv_cac
    return {
        "bgnbd": analysis.bgnbd.params,
        "pareto_nbd": analysis.pareto_nbd.params,
        "gamma_gamma": analysis.gamma_gamma.params,
        "model_selected": analysis.model_selected,
        "holdout": None
        if holdout is None
        else {
            "weeks": holdout.weeks,
            "calibration_end": holdout.calibration_end.date().isoformat(),
            "actual": holdout.actual,
            "predicted": holdout.predicted,
            "mae_per_customer": holdout.mae_per_customer,
            "bgnbd": holdout.bgnbd.params,
        },
        "mean_clv": analysis.mean_clv,
        "mean_clv_ci": list(analysis.mean_clv_ci),
        "total_clv": analysis.total_clv,
        "frequency_spend_correlation": analysis.frequency_spend_correlation,
        "ltv_cac": {}
        if table is None
        else dict(zip(table["acquisition_channel"], table["ltv_cac"], strict=True)),
    }


def top_customers(analysis: CLVAnalysis, *, n: int = 10, salt: str = "") -> pd.DataFrame:
    """The ``n`` customers with the highest predicted CLV, by pseudonymous id only."""
    if analysis.values is None:
        return pd.DataFrame(columns=["customer", "p_alive", "expected_purchases", "clv"])
    top = analysis.values.nlargest(n, "clv")
    return pd.DataFrame(
        {
            "customer": [pseudonym(c, salt=salt) for c in top["customer_id"]],
            "p_alive": top["p_alive"].to_numpy(),
            "expected_purchases": top["expected_purchases"].to_numpy(),
            "clv": top["clv"].to_numpy(),
        }
    )


def value_by(analysis: CLVAnalysis, customers: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Mean historical revenue and predicted CLV per value of a customers column."""
    frame = analysis.history.merge(customers[["customer_id", by]], on="customer_id")
    if analysis.values is not None:
        frame = frame.merge(analysis.values[["customer_id", "clv"]], on="customer_id", how="left")
    else:
        frame["clv"] = np.nan
    return (
        frame.groupby(by)
        .agg(
            customers=("customer_id", "size"),
            revenue_to_date=("revenue", "mean"),
            predicted_clv=("clv", "mean"),
        )
        .sort_values("predicted_clv", ascending=False)
        .reset_index()
    )


def parameter_table(analysis: CLVAnalysis) -> pd.DataFrame:
    """One row per fitted parameter: model, parameter, value."""
    rows = [
        (_NAMES[fit.model], name, value)
        for fit in (analysis.bgnbd, analysis.pareto_nbd, analysis.gamma_gamma)
        for name, value in fit.params.items()
    ]
    return pd.DataFrame(rows, columns=["model", "parameter", "value"])


def holdout_summary(analysis: CLVAnalysis) -> str:
    """The holdout check in two sentences."""
    h = analysis.holdout
    if h is None:
        return "The holdout check was skipped: " + "; ".join(analysis.notes)
    return (
        f"Calibrated to {h.calibration_end:%Y-%m-%d}, BG/NBD predicted {h.predicted:,.0f} "
        f"repeat purchases in the following {h.weeks:.0f} weeks; customers made {h.actual:,} "
        f"(mean absolute error {h.mae_per_customer:.2f} purchases per customer; Pareto/NBD "
        f"{h.pareto_mae_per_customer:.2f}). {h.reason}, so CLV uses it."
    )
