"""Customer lifetime value for one unit: value to date, cohorts, LTV:CAC, value by group, and
the analysis the CLV report shows.

**One customer base.** Every per-customer figure here (value to date and predicted CLV by
group, LTV and CAC by channel, the mean predicted CLV) is taken over the customers who have
bought: customers on record with at least one order up to the period's end. They are the
customers the models value; a customer who never bought has no purchase history to predict
from. Their count per group is one number, whichever table shows it.

The probabilistic models (BG/NBD, Pareto/NBD, Gamma-Gamma, the holdout check) live in
:mod:`crmkit.metrics.clv_models`; their public names are re-exported here, so
``clv.rfm_summary`` and ``clv.fit_purchase_model`` work as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import require_columns
from crmkit.core.on_disk import TableOnDisk
from crmkit.core.periods import Period, require_period
from crmkit.core.shared import shared
from crmkit.metrics.clv_models import (
    FIT_BOUND,
    FIT_VERDICTS,
    MIN_CUSTOMERS,
    MIN_REPEAT_BUYERS,
    PENALIZERS,
    PURCHASE_MODELS,
    TIME_UNITS,
    WEEKS_PER_MONTH,
    CalibrationError,
    FitCheck,
    HoldoutCheck,
    ModelFit,
    _fit_purchase,
    checked_holdout,
    fit_check,
    fit_purchase_model,
    fit_spend_model,
    frequency_spend_correlation,
    histories,
    holdout_check,
    min_judged,
    predict_clv,
    rfm_summary,
)
from crmkit.metrics.customer_orders import (
    Orders,
    cohort_month_revenue,
    last_order_day,
    order_totals,
    purchase_days,
    rfm_summaries,
)
from crmkit.metrics.stats import BOOTSTRAP_LIMIT, mean_interval

__all__ = [
    "BOOTSTRAP_LIMIT",
    "FIT_BOUND",
    "FIT_VERDICTS",
    "MIN_CUSTOMERS",
    "MIN_REPEAT_BUYERS",
    "OPTIONAL_INPUTS",
    "PENALIZERS",
    "PURCHASE_MODELS",
    "TIME_UNITS",
    "WEEKS_PER_MONTH",
    "CLVAnalysis",
    "CalibrationError",
    "FitCheck",
    "HoldoutCheck",
    "ModelFit",
    "PredictedValues",
    "analyse",
    "cohort_revenue",
    "fit_check",
    "fit_purchase_model",
    "fit_spend_model",
    "frequency_spend_correlation",
    "historical_value",
    "holdout_check",
    "ltv_cac",
    "mean_interval",
    "min_judged",
    "missing_inputs",
    "predict_clv",
    "predicted_values",
    "rfm_summary",
    "value_by",
]


# ----------------------------------------------------------------------------- history


def historical_value(
    transactions: Orders, customers: pd.DataFrame, *, through: date | str | pd.Timestamp
) -> pd.DataFrame:
    """Revenue (and margin where present) up to ``through`` per customer; customers who never
    bought have 0. One row per customer: ``customer_id, orders, revenue, margin, first_order,
    last_order``."""
    return _on_record(order_totals(transactions, through=through), customers)


def _on_record(totals: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """:func:`~crmkit.metrics.customer_orders.order_totals` for each customer on record."""
    value = totals.set_index("customer_id").reindex(customers["customer_id"].unique())
    value[["orders", "revenue"]] = value[["orders", "revenue"]].fillna(0)
    value["orders"] = value["orders"].astype("int64")
    value["margin"] = value["margin"].fillna(0) if "margin" in totals else np.nan
    value.index.name = "customer_id"
    return value[["orders", "revenue", "margin", "first_order", "last_order"]].reset_index()


def cohort_revenue(
    transactions: Orders,
    customers: pd.DataFrame,
    *,
    through: date | str | pd.Timestamp,
    cohort: str = "Q",
    max_months: int = 24,
) -> pd.DataFrame:
    """Cumulative revenue per customer by signup cohort and months since signup, from the
    orders up to ``through``.

    One row per (cohort, months_since_signup): ``customers`` in the cohort and
    ``revenue_per_customer`` earned by then (cohort size as denominator, buyers or not).
    Months a cohort has not lived through yet are absent.
    """
    signup = customers.set_index("customer_id")["signup_date"]
    label = signup.dt.to_period(cohort).astype(str)
    cohort_of, names = pd.factorize(label)
    start = _month_number(signup.to_numpy())
    signed = start != _NO_MONTH
    revenue = cohort_month_revenue(
        transactions,
        pd.DataFrame(
            {
                "customer_id": signup.index[signed],
                "cohort": cohort_of[signed],
                "start": start[signed],
            }
        ),
        cohorts=len(names),
        through=through,
    )
    width = revenue.shape[1]
    sizes = label.value_counts()
    first_days = signup.groupby(label).min()
    last = last_order_day(transactions, through=through)
    rows = []
    if pd.isna(last):  # no orders yet: no cohort has lived a month the data reaches
        sizes = sizes.iloc[:0]
    for name, size in sizes.sort_index().items():
        first_day = first_days[name]
        lived = (last.year - first_day.year) * 12 + last.month - first_day.month
        earned = np.cumsum(revenue[names.get_loc(name)])
        for month in range(min(lived, max_months) + 1):
            total = float(earned[min(month, width - 1)])
            rows.append((name, month, int(size), total / size))
    return pd.DataFrame(
        rows, columns=["cohort", "months_since_signup", "customers", "revenue_per_customer"]
    )


_NO_MONTH = np.iinfo(np.int64).min  # NaT as an integer count of months


def _month_number(moments: np.ndarray) -> np.ndarray:
    """Months since January 1970 of datetime64 values (NaT: the smallest int64)."""
    return moments.astype("datetime64[M]").astype(np.int64)


def ltv_cac(
    clv: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    margin_rate: float = 1.0,
    horizon_months: int,
    costs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Lifetime value against acquisition cost, per acquisition channel, over one customer
    base: the channel's customers who have bought (those in ``clv``).

    LTV is their mean predicted CLV times ``margin_rate`` (the margin LTV; 1 = revenue, when
    margins are unknown). CAC is what the channel spent to acquire its customers divided by
    its customers who have bought: the mean ``acquisition_cost`` of all its customers on
    record (those who never bought cost money too; a customer without a cost counts at the
    channel's mean) times their number, or, where none of them carries a cost, the ``costs``
    table's acquisition spend for the channel. So LTV:CAC is the channel's expected margin
    over its acquisition cost, whichever base both are divided by. Payback is the months of
    expected margin it takes to earn the CAC back, at the horizon's average monthly rate
    (``inf`` when the customer base is not expected to earn it back).

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``acquisition_channel, customers`` (who have bought), ``ltv,
        cac, ltv_cac, payback_months``.
    """
    require_columns(customers, ["customer_id", "acquisition_channel"], "customers", "ltv_cac")
    joined = customers[["customer_id", "acquisition_channel"]].merge(
        clv[["customer_id", "clv"]], on="customer_id", how="inner"
    )
    table = joined.groupby("acquisition_channel").agg(
        customers=("customer_id", "size"), ltv=("clv", "mean")
    )
    channels = customers.groupby("acquisition_channel")
    spent = pd.Series(np.nan, index=table.index)
    if "acquisition_cost" in customers.columns:
        spent = channels["acquisition_cost"].mean() * channels.size()
    table["cac"] = spent.reindex(table.index) / table["customers"]
    if costs is not None and table["cac"].isna().any() and "channel" in costs.columns:
        spend = costs.loc[costs["category"] == "acquisition"].groupby("channel")["amount"].sum()
        table["cac"] = table["cac"].fillna(spend.reindex(table.index) / table["customers"])
    table["ltv"] = table["ltv"] * margin_rate
    table["ltv_cac"] = table["ltv"] / table["cac"]
    monthly = table["ltv"] / horizon_months
    table["payback_months"] = (table["cac"] / monthly).where(monthly > 0, np.inf)
    return table.reset_index()


def overall_ltv_cac(table: pd.DataFrame) -> float | None:
    """LTV:CAC of all channels together: their margin LTV summed over their customers ÷ what
    acquiring those customers cost (Σ ltv·customers ÷ Σ cac·customers over the channels of
    :func:`ltv_cac` with both known); None without a channel that has both.

    Examples
    --------
    >>> table = pd.DataFrame({"customers": [10, 30], "ltv": [300.0, 100.0],
    ...                       "cac": [100.0, 50.0]})
    >>> overall_ltv_cac(table)  # (3000 + 3000) / (1000 + 1500)
    2.4
    """
    known = table.loc[np.isfinite(table["ltv"]) & np.isfinite(table["cac"]) & (table["cac"] > 0)]
    if known.empty:
        return None
    return float(
        (known["ltv"] * known["customers"]).sum() / (known["cac"] * known["customers"]).sum()
    )


# ----------------------------------------------------------------------------- one unit


@dataclass(frozen=True)
class CLVAnalysis:
    """Everything the CLV report shows for one unit and period (see :func:`analyse`).

    ``holdout_failure`` is the calibration BG/NBD fit when the holdout check could not run
    (``holdout`` is then ``None``); ``values`` is ``None`` when the purchase or spend model
    could not be fitted (their ``ModelFit`` says why). ``by_channel`` is :func:`value_by`
    acquisition channel (``None`` when customers carry none); ``ltv_cac`` is ``None`` without
    a channel, without predicted values, or when no channel's acquisition cost is known.
    ``missing`` names the optional inputs the analysis uses that were absent, as the registry
    spells them (:data:`OPTIONAL_INPUTS`). ``margin_rate`` is margin ÷ revenue of the orders to
    the period end, by which LTV:CAC turns predicted CLV into margin (NaN without margins:
    then LTV:CAC uses predicted CLV itself). ``fit`` judges the model on its holdout
    (:func:`fit_check`; ``None`` without a holdout check).
    """

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
    holdout_failure: ModelFit | None = None
    by_channel: pd.DataFrame | None = None
    missing: tuple[str, ...] = ()
    holdout_weeks: int = 0
    margin_rate: float = float("nan")
    fit: FitCheck | None = None

    @property
    def model_selected(self) -> str | None:
        """The purchase model CLV was predicted with: the holdout's choice, BG/NBD where
        there is no holdout; None where no CLV was predicted."""
        if self.values is None:
            return None
        return self.holdout.model_selected if self.holdout else "bgnbd"


OPTIONAL_INPUTS = (
    "customers.acquisition_channel",
    "customers.acquisition_cost",
    "costs",
    "costs.channel",
    "transactions.margin",
)
"""What the CLV analysis uses when present: channels and acquisition cost (per customer, or
acquisition spend per channel in ``costs``) for LTV:CAC, margins for LTV as profit."""


def missing_inputs(
    transactions: Orders, customers: pd.DataFrame, costs: pd.DataFrame | None
) -> tuple[str, ...]:
    """The :data:`OPTIONAL_INPUTS` absent here: a column not in its table, ``costs`` absent or
    without rows (then ``costs.channel`` is not named), a customer column without any value."""
    found = []
    for column in ("acquisition_channel", "acquisition_cost"):
        if column not in customers.columns or customers[column].isna().all():
            found.append(f"customers.{column}")
    if costs is None or costs.empty:
        found.append("costs")
    elif "channel" not in costs.columns:
        found.append("costs.channel")
    if "margin" not in transactions.columns:
        found.append("transactions.margin")
    return tuple(found)


ORDER_COLUMNS = ("customer_id", "order_date", "amount", "margin")
"""The order columns :func:`analyse` reads (its shared fit's fingerprint is of these)."""
REQUIRED = ("transactions", "customers")
READS: dict[str, tuple[str, ...] | None] = {
    "transactions": ORDER_COLUMNS,
    "customers": None,
    "costs": None,
}
"""The columns the clv report reads of each table (None: all of them), for
:meth:`crmkit.load.unit.CRMData.read`: :func:`analyse`'s, and its RFM segments'."""
ON_DISK = ("transactions",)
"""The tables the clv report leaves on disk in a run: :func:`analyse` and its RFM segments
take only per-customer figures of the orders, computed by the engine."""


def analyse(
    transactions: Orders,
    customers: pd.DataFrame,
    *,
    period: Period,
    horizon_months: int,
    monthly_discount_rate: float,
    holdout_weeks: int,
    costs: pd.DataFrame | None = None,
) -> CLVAnalysis:
    """Historical and predicted CLV for one unit at the end of ``period``, with its holdout
    check.

    Models are fitted on the whole history up to the period's last day; the holdout check
    refits on the history less the last ``holdout_weeks`` weeks. CLV uses the purchase model
    the holdout selects. Anything that cannot be fitted is left ``None``/empty; the fits and
    ``holdout_failure`` record why.

    Parameters
    ----------
    transactions, customers
        The unit's tables; orders after the period's last day are ignored. The orders may be
        a table on disk: the analysis takes per-customer figures of them from the engine
        (:mod:`crmkit.metrics.customer_orders`), never the orders themselves.
    period
        The reporting period; only its end matters (CLV is a value at a point in time).
    """
    require_period(period, caller="clv.analyse")
    return _analyse(
        *_used_columns(transactions, customers),
        period=period,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
        holdout_weeks=holdout_weeks,
        costs=costs,
    )


def predicted_values(
    transactions: Orders,
    customers: pd.DataFrame,
    *,
    period: Period,
    horizon_months: int,
    monthly_discount_rate: float,
    holdout_weeks: int,
    costs: pd.DataFrame | None = None,
) -> PredictedValues:
    """:func:`analyse`'s predicted CLV with its mean and LTV:CAC, and nothing else: the same
    fits and figures, without the report's tables and without fitting the purchase model the
    holdout does not select (the health review's previous period; 14.5 s against 24 s at a
    million customers)."""
    require_period(period, caller="clv.predicted_values")
    orders, customers = _used_columns(transactions, customers)
    missing = missing_inputs(orders, customers, costs)
    figures = order_figures(
        orders, customers, end=period.end, holdout_weeks=holdout_weeks, cohorts=False
    )
    holdout, _ = _holdout(figures)
    model = holdout.model_selected if holdout else "bgnbd"
    purchase = _fit_purchase(figures.summary, histories(figures.summary), model, PENALIZERS)
    return _prediction(
        figures, purchase, fit_spend_model(figures.summary), customers, costs, missing,
        horizon_months=horizon_months, monthly_discount_rate=monthly_discount_rate,
    )  # fmt: skip


def _used_columns(transactions: Orders, customers: pd.DataFrame) -> tuple[Orders, pd.DataFrame]:
    used = tuple(c for c in ORDER_COLUMNS if c in transactions.columns)
    if isinstance(transactions, TableOnDisk):
        orders = TableOnDisk(transactions.path, used)
    else:
        orders = transactions[list(used)]
    return orders, customers[[c for c in CUSTOMER_COLUMNS if c in customers.columns]]


CUSTOMER_COLUMNS = ("customer_id", "signup_date", "acquisition_channel", "acquisition_cost")
"""The customer columns :func:`analyse` reads."""


@dataclass(frozen=True)
class OrderFigures:
    """What the CLV analysis takes of the orders, one row per customer (or per cohort and
    month, or per customer and purchase day in the holdout), as the engine computes it."""

    summary: pd.DataFrame
    totals: pd.DataFrame
    cohorts: pd.DataFrame | None
    calibration: pd.DataFrame
    holdout_days: pd.DataFrame
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp


def order_figures(
    orders: Orders,
    customers: pd.DataFrame,
    *,
    end: pd.Timestamp,
    holdout_weeks: int,
    cohorts: bool = True,
) -> OrderFigures:
    """The :class:`OrderFigures` of ``orders`` at ``end``, the holdout's ``holdout_weeks``
    weeks before it (``cohorts`` None unless asked for)."""
    end = pd.Timestamp(end).normalize()
    calibration_end = end - pd.Timedelta(weeks=holdout_weeks)
    summary, calibration = rfm_summaries(orders, observation_ends=[end, calibration_end])
    return OrderFigures(
        summary=summary,
        totals=order_totals(orders, through=end),
        cohorts=cohort_revenue(orders, customers, through=end) if cohorts else None,
        calibration=calibration,
        holdout_days=purchase_days(orders, after=calibration_end, through=end),
        calibration_end=calibration_end,
        observation_end=end,
    )


@shared  # the clv, churn and health reports of a unit show one fit
def _analyse(
    orders: Orders,
    customers: pd.DataFrame,
    *,
    period: Period,
    horizon_months: int,
    monthly_discount_rate: float,
    holdout_weeks: int,
    costs: pd.DataFrame | None,
) -> CLVAnalysis:
    missing = missing_inputs(orders, customers, costs)
    figures = order_figures(orders, customers, end=period.end, holdout_weeks=holdout_weeks)
    summary, totals = figures.summary, figures.totals
    history = _on_record(totals, customers)
    grouped = histories(summary)  # the fits share the distinct purchase histories
    fits = {m: _fit_purchase(summary, grouped, m, PENALIZERS) for m in PURCHASE_MODELS}
    spend = fit_spend_model(summary)
    holdout, failure = _holdout(figures)
    purchase = fits[holdout.model_selected] if holdout else fits["bgnbd"]
    predicted = _prediction(
        figures, purchase, spend, customers, costs, missing,
        horizon_months=horizon_months, monthly_discount_rate=monthly_discount_rate,
    )  # fmt: skip
    by_channel = None
    if "customers.acquisition_channel" not in missing:
        by_channel = _value_by(history, predicted.values, customers, by="acquisition_channel")
    return CLVAnalysis(
        summary,
        history,
        figures.cohorts,
        fits["bgnbd"],
        fits["pareto_nbd"],
        spend,
        frequency_spend_correlation(summary),
        holdout,
        predicted.values,
        predicted.mean_clv,
        predicted.mean_clv_ci,
        predicted.total_clv,
        predicted.total_clv_ci,
        predicted.ltv_cac,
        horizon_months,
        failure,
        by_channel,
        missing,
        holdout_weeks,
        predicted.margin_rate,
        fit_check(holdout) if holdout is not None else None,
    )


def _holdout(figures: OrderFigures) -> tuple[HoldoutCheck | None, ModelFit | None]:
    """The holdout check, or None and the calibration fit that failed."""
    try:
        check = checked_holdout(
            figures.calibration,
            figures.holdout_days,
            calibration_end=figures.calibration_end,
            observation_end=figures.observation_end,
        )
    except CalibrationError as exc:
        return None, exc.fit
    return check, None


NAN_PAIR = (float("nan"), float("nan"))


@dataclass(frozen=True)
class PredictedValues:
    """Each customer's predicted CLV (``values``: None where the purchase or spend model could
    not be fitted), its mean and total with their 95% intervals, LTV:CAC per channel and the
    margin rate, as :class:`CLVAnalysis` names them (see there)."""

    values: pd.DataFrame | None
    mean_clv: float = float("nan")
    mean_clv_ci: tuple[float, float] = NAN_PAIR
    total_clv: float = float("nan")
    total_clv_ci: tuple[float, float] = NAN_PAIR
    ltv_cac: pd.DataFrame | None = None
    margin_rate: float = float("nan")


def _prediction(
    figures: OrderFigures,
    purchase: ModelFit,
    spend: ModelFit,
    customers: pd.DataFrame,
    costs: pd.DataFrame | None,
    missing: tuple[str, ...],
    *,
    horizon_months: int,
    monthly_discount_rate: float,
) -> PredictedValues:
    totals = figures.totals
    margin_rate = float("nan")
    if "margin" in totals and totals["revenue"].sum() > 0:
        margin_rate = float(totals["margin"].sum() / totals["revenue"].sum())
    if not (purchase.ok and spend.ok):
        return PredictedValues(None, margin_rate=margin_rate)
    values = predict_clv(
        figures.summary,
        purchase=purchase,
        spend=spend,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
    )
    mean_ci = mean_interval(values["clv"])
    table = None
    if "customers.acquisition_channel" not in missing:
        table = ltv_cac(
            values,
            customers,
            margin_rate=margin_rate if np.isfinite(margin_rate) else 1.0,
            horizon_months=horizon_months,
            costs=costs,
        )
        if table["cac"].isna().all():
            table = None  # no channel's acquisition cost is known
    return PredictedValues(
        values,
        float(values["clv"].mean()),
        mean_ci,
        float(values["clv"].sum()),
        (mean_ci[0] * len(values), mean_ci[1] * len(values)),
        table,
        margin_rate,
    )


def value_by(analysis: CLVAnalysis, customers: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Mean revenue to date and predicted CLV per customer who has bought, per value of
    column ``by`` of ``customers`` (any frame with ``customer_id`` and ``by``: customers, RFM
    scores ...). Customers who never bought are not counted: the same base as
    :func:`ltv_cac`, so a channel has one customer count in both.

    Returns
    -------
    pandas.DataFrame
        One row per value of ``by``, highest predicted CLV first: ``<by>, customers`` (who
        have bought), ``revenue_to_date, predicted_clv`` (NaN without predicted values).

    Raises
    ------
    ParameterError
        ``customers`` has no column ``by`` (or no ``customer_id``).
    """
    return _value_by(analysis.history, analysis.values, customers, by=by)


def _value_by(
    history: pd.DataFrame, values: pd.DataFrame | None, customers: pd.DataFrame, *, by: str
) -> pd.DataFrame:
    require_columns(customers, ["customer_id", by], "customers", "value_by")
    bought = history.loc[history["orders"] > 0]
    frame = bought.merge(customers[["customer_id", by]], on="customer_id")
    if values is not None:
        frame = frame.merge(values[["customer_id", "clv"]], on="customer_id", how="left")
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
