"""The churn report's rates and retention cohorts in words and reading tables, in the
report's language: which definition of churn the report uses and why, the churn rate with
its change, the customer-month rate, revenue retention, the rates table, and the published
results of this part.

Numbers come from :func:`crmkit.metrics.churn_rates.churn_rates_analysis`; nothing here
computes a statistic. Words come from the catalogue ``present/words/churn_rates.yaml``;
figures are named by the glossary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.churn_rates import COHORT_MONTHS, TREND_MONTHS, ChurnRates
from crmkit.metrics.stats import Change
from crmkit.present.format import day, money, month, num, p_text, pct, signed
from crmkit.present.language import term, words


def _w(key: str, /, **values) -> str:
    return words(f"churn_rates.{key}", **values)


def _number(value: float) -> float | None:
    """A float for the results file, None where there is none (NaN)."""
    return float(value) if value is not None and np.isfinite(value) else None


# ----------------------------------------------------------------------------- sentences


def definition_sentence(rates: ChurnRates) -> str:
    """Which definition of churn the report uses, and why: the cancellations the business
    records (and, where every one of them predates the period, that its churn rate may be
    understated), or inactivity past a threshold set in the parameters, measured from the
    unit's own gaps between orders, or the standard one when there are too few repeat
    orders."""
    d = rates.definition
    if d.kind == "events":
        if d.records_stop_before(rates.period):
            stop = _w("records_stop", day=day(d.events_until))
            return _w("two_sentences", first=_w("definition_events"), second=stop)
        return _w("definition_events")
    days = num(d.inactivity_days)
    if d.basis == "gaps":
        return _w("definition_gaps", days=days, share=pct(d.gap_quantile, 0))
    if d.basis == "fallback":
        return _w("definition_fallback", days=days)
    return _w("definition_parameter", days=days)


def _points(delta: float) -> str:
    """A change of a rate in percentage points, unsigned: ``0.0123`` → "1.2 percentage
    points"."""
    return _w("points", n=num(abs(delta) * 100, 1))


def change_sentence(rates: ChurnRates) -> str:
    """The churn rate's change on the previous period: direction, size in percentage points,
    the previous rate and whether it is significant (pooled two-proportion test, p < 0.05).
    The size is the difference of the two rates as written, so the three agree; equal as
    written, the rate held."""
    change = rates.churn_change
    if not np.isfinite(change.delta):
        return _w("change_none")
    key = "significant" if change.significant else "not_significant"
    verdict = _w(key, p=p_text(change.p_value))
    before, after = (round(v * 100, 1) for v in (rates.previous.churn.value, rates.churn.value))
    if before == after:
        return _w("change_held", before=pct(rates.previous.churn.value), verdict=verdict)
    return _w(
        "change_up" if after > before else "change_down",
        size=_w("points", n=num(abs(after - before), 1)),
        before=pct(rates.previous.churn.value),
        verdict=verdict,
    )


def churn_rate_sentence(rates: ChurnRates) -> str:
    """The churn rate in words: of how many customers active at the start how many churned,
    the rate with its 95% interval and its annual equivalent, then its change on the
    previous period (:func:`change_sentence`)."""
    c = rates.churn
    if not c.trials:
        return _w("churn_none")
    first = _w(
        "churn_sentence",
        customers=num(c.trials),
        churned=num(c.successes),
        rate=pct(c.value),
        low=pct(c.low),
        high=pct(c.high),
        annual=pct(rates.current.annual.value),
    )
    return _w("two_sentences", first=first, second=change_sentence(rates))


def customer_month_sentence(rates: ChurnRates) -> str:
    """The customer-month rate in words, for units where many customers join mid-period."""
    r = rates.current.customer_month
    if not np.isfinite(r.value):
        return _w("churn_none")
    return _w(
        "customer_month_sentence",
        new=num(rates.new_customers),
        churned=num(r.churned),
        months=num(r.customer_months),
        rate=pct(r.value),
    )


def revenue_retention_sentence(rates: ChurnRates, *, currency: str = "") -> str:
    """Net and gross revenue retention of the customers active at the start, with the
    revenue they stand on; says so when they bought nothing in the previous period, or when
    there were none."""
    now = rates.current
    if not np.isfinite(now.net_revenue_retention):
        return _w("revenue_none" if rates.churn.trials else "revenue_no_customers")
    return _w(
        "revenue_sentence",
        now=money(now.revenue_now, currency),
        base=money(now.revenue_base, currency),
        nrr=pct(now.net_revenue_retention),
        grr=pct(now.gross_revenue_retention),
    )


def skipped(rates: ChurnRates) -> dict[str, str]:
    """One sentence for each part that cannot be shown, naming why: keys ``churn_rate``,
    ``revenue_retention``, ``trend``, ``cohorts``; a part that can be shown has no key."""
    text = {}
    if not rates.churn.trials:
        text["churn_rate"] = _w("churn_none")
    if not np.isfinite(rates.current.net_revenue_retention):
        text["revenue_retention"] = revenue_retention_sentence(rates)
    if not (rates.trend["active_at_start"] > 0).any():
        text["trend"] = _w("no_trend", months=num(TREND_MONTHS))
    if rates.cohorts.empty:
        text["cohorts"] = _w("no_cohorts", months=num(COHORT_MONTHS))
    return text


# ----------------------------------------------------------------------------- tables


def _change_text(now: float, before: float) -> str:
    """The change of a rate in percentage points, as the difference of the two rates as
    written (to a tenth of a percent), so the three agree."""
    if not (np.isfinite(now) and np.isfinite(before)):
        return "–"
    return _w("points", n=signed(round(now * 100, 1) - round(before * 100, 1), 1))


def rates_view(rates: ChurnRates) -> pd.DataFrame:
    """The churn and retention rates of this period beside the previous one: one row per
    figure (logo churn, churn per customer-month, its monthly and annual equivalents,
    retention, gross and net revenue retention), values written as percentages, the change
    in percentage points and, where the change is tested, its p-value."""
    now, before = rates.current, rates.previous
    nan = Change(float("nan"), float("nan"), float("nan"), float("nan"))
    rows = [
        ("churn_rate", now.churn.value, before.churn.value, rates.churn_change),
        (
            "customer_month_churn_rate",
            now.customer_month.value,
            before.customer_month.value,
            rates.customer_month_change,
        ),
        ("monthly_churn_rate", now.monthly.value, before.monthly.value, nan),
        ("annual_churn_rate", now.annual.value, before.annual.value, nan),
        ("retention_rate", now.retention.value, before.retention.value, rates.retention_change),
        (
            "gross_revenue_retention",
            now.gross_revenue_retention,
            before.gross_revenue_retention,
            nan,
        ),
        ("net_revenue_retention", now.net_revenue_retention, before.net_revenue_retention, nan),
    ]
    return pd.DataFrame(
        {
            "period_figure": [term(key) for key, *_ in rows],
            "value_this_period": [pct(a) for _, a, _, _ in rows],
            "value_previous_period": [pct(b) for _, _, b, _ in rows],
            "change_on_previous": [_change_text(a, b) for _, a, b, _ in rows],
            "p_value": [change.p_value for *_, change in rows],
        }
    )


def counts_view(rates: ChurnRates) -> pd.DataFrame:
    """The counts the churn rate stands on, this period beside the previous one: customers
    active at the start and churned customers."""
    now, before = rates.current, rates.previous
    return pd.DataFrame(
        {
            "period_figure": [term("customers_at_start"), term("churned_customers")],
            "value_this_period": [now.active_at_start, now.churned],
            "value_previous_period": [before.active_at_start, before.churned],
        }
    )


def cohort_view(rates: ChurnRates) -> pd.DataFrame:
    """The cohort table for reading (the heatmap's numbers): one row per signup month with
    its customers, then the share retained at the end of each month since signup, one
    column per month (headed 0, 1, 2 ...; blank where the month has not ended)."""
    table = rates.cohort_table
    sizes = rates.cohorts.groupby("signup_month")["customers"].first()
    view = pd.DataFrame(
        {
            "signup_month": [month(m) for m in table.index],
            "customers": sizes.reindex(table.index).to_numpy(),
        }
    )
    for k in table.columns:
        view[str(k)] = table[k].to_numpy()
    return view


# ----------------------------------------------------------------------------- results


def results_part(rates: ChurnRates) -> dict:
    """The registry's results keys this part owns: the definition, the churn rate with its
    interval, change and annual equivalent, retention and revenue retention."""
    d, c = rates.definition, rates.churn
    interval = [_number(c.low), _number(c.high)]
    change = rates.churn_change.as_dict()  # its delta NaN without customers: null
    return {
        "churn_definition": d.kind,
        "inactivity_days": None if d.kind == "events" else int(d.inactivity_days),
        "churn_rate": _number(c.value),
        "churn_rate_ci": interval if None not in interval else None,
        "previous_churn_rate": _number(rates.previous.churn.value),
        "churn_change": {**change, "delta": _number(change["delta"])},
        "annual_churn_rate": _number(rates.current.annual.value),
        "retention_rate": _number(rates.current.retention.value),
        "gross_revenue_retention": _number(rates.current.gross_revenue_retention),
        "net_revenue_retention": _number(rates.current.net_revenue_retention),
    }
