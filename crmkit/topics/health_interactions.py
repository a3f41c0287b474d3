"""The relationship health review's interactions and costs in words and reading tables, in the
report's language: interaction frequency and its change, the channel that carries most
interactions, which channels are followed by a purchase, CAC this period by channel, the
retention cost per retained customer and the service cost per ticket; the parts that cannot
be shown, the analyst notes and the published results of this part.

Numbers come from :func:`crmkit.metrics.interactions.interactions_analysis` and
:func:`crmkit.metrics.costs.costs_analysis`; nothing here computes a statistic. Words come
from the catalogue ``present/words/health_interactions.yaml``; figures are named by the
glossary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.core.periods import day_after
from crmkit.metrics.costs import CostsAnalysis
from crmkit.metrics.interactions import DAYS_PER_MONTH, FOLLOW_MONTHS, InteractionsAnalysis
from crmkit.present.format import day, money, num, p_text, pct, signed, signed_money
from crmkit.present.language import term, words

SIGNIFICANT = 0.05


def _w(key: str, /, **values) -> str:
    return words(f"health_interactions.{key}", **values)


def _number(value: float | None) -> float | None:
    """A float for the results file, None where there is none (NaN)."""
    return float(value) if value is not None and np.isfinite(value) else None


def _label(value: object) -> str:
    """A channel or kind as written in the data; "(not recorded)" for a missing one."""
    return _w("unknown_value") if value is None or pd.isna(value) else str(value)


def _verdict(p_value: float) -> str:
    return _w("significant" if p_value < SIGNIFICANT else "not_significant", p=p_text(p_value))


def _join(values: list[str]) -> str:
    return words("report.list_separator").join(values)


# ----------------------------------------------------------------------------- interactions


def frequency_sentence(interactions: InteractionsAnalysis) -> str:
    """Interaction frequency in words — interactions, active customers, months — then its
    change on the previous period (quasi-Poisson test, p < 0.05), compared as written to two
    decimals; says when there is nothing to compare with, and when the records begin within
    the previous period."""
    a = interactions
    if "interactions" in a.missing:  # not "no customer was active": the table is absent
        return _w("skipped_interactions")
    if not np.isfinite(a.frequency):
        return _w("frequency_none")
    first = _w(
        "frequency_sentence",
        frequency=num(a.frequency, 2),
        interactions=num(a.interactions),
        active=num(a.active),
        months=num(a.period.days / DAYS_PER_MONTH, 1),
    )
    if not a.previous_active:
        second = _w("frequency_no_previous_customers")
    elif not np.isfinite(a.previous_frequency):
        second = _w("frequency_no_previous")
    else:
        now, before = round(a.frequency, 2), round(a.previous_frequency, 2)
        key = (
            "frequency_held"
            if now == before
            else ("frequency_up" if now > before else "frequency_down")
        )
        second = _w(
            key, before=num(a.previous_frequency, 2), verdict=_verdict(a.frequency_change.p_value)
        )
        start = pd.Timestamp(a.period.previous_start)
        if a.records_from is not None and a.records_from > start:
            second = _w(
                "two_sentences", first=second, second=_w("records_start", day=day(a.records_from))
            )
    return _w("two_sentences", first=first, second=second)


def top_channel_sentence(interactions: InteractionsAnalysis) -> str:
    """The channel that carried most interactions, its share and the previous share with the
    verdict of its change; empty when no interaction is dated in the period."""
    a = interactions
    if not len(a.by_channel):
        return ""
    channel, share = _label(a.top_channel), pct(a.top_channel_share)
    if not np.isfinite(a.top_channel_change.p_value):
        return _w("top_channel_only", channel=channel, share=share)
    return _w(
        "top_channel_sentence",
        channel=channel,
        share=share,
        before=pct(a.top_channel_previous_share),
        verdict=_verdict(a.top_channel_change.p_value),
    )


def purchase_after_sentence(interactions: InteractionsAnalysis) -> str:
    """The share of followable interactions followed by an order, the channels above or
    below the others (Holm-adjusted p < 0.05), and that this is an association."""
    a = interactions
    overall = a.purchase_after_overall
    days = num(a.purchase_days)
    if not overall.trials:
        return _w("purchase_after_none", days=days)
    stop = day_after(a.period.end)
    first = stop - pd.DateOffset(months=FOLLOW_MONTHS)
    last = pd.Timestamp(a.period.end) - pd.Timedelta(days=a.purchase_days)
    text = _w(
        "purchase_after_sentence",
        interactions=num(overall.trials),
        first=day(first),
        last=day(last),
        days=days,
        share=pct(overall.value),
    )
    table = a.purchase_after
    clear = table.loc[table["p_holm"] < SIGNIFICANT]
    parts = []
    for key, rows in (
        ("purchase_after_above", clear.loc[clear["difference"] > 0]),
        ("purchase_after_below", clear.loc[clear["difference"] < 0]),
    ):
        if len(rows):
            parts.append(_w(key, channels=_join([_label(c) for c in rows["channel"]])))
    parts = parts or [_w("purchase_after_same")]
    for part in [*parts, _w("purchase_after_caveat")]:
        text = _w("two_sentences", first=text, second=part)
    return text


# ----------------------------------------------------------------------------- costs


def _before(now: float, before: float, currency: str) -> str:
    if not (np.isfinite(now) and np.isfinite(before)):
        return _w("cost_no_before")
    # the difference of the two amounts as written, so the sentence's three figures agree
    change = round(now) - round(before)
    return _w("cost_before", before=money(before, currency), delta=signed_money(change, currency))


def cac_sentence(costs: CostsAnalysis, *, currency: str = "") -> str:
    """CAC this period: the acquisition spend, the new customers and the ratio, where the
    spend came from, the previous value (a difference, no test), and the range by channel."""
    c = costs
    if c.cac_source is None:
        return _w("cac_none")
    if not c.new_customers:
        return _w("cac_no_new")
    text = _w(
        "cac_sentence",
        spend=money(c.acquisition_spend, currency),
        new=num(c.new_customers),
        cac=money(c.cac, currency),
    )
    if c.cac_source == "customers":
        text = _w("two_sentences", first=text, second=_w("cac_from_customers"))
    text = _w("two_sentences", first=text, second=_before(c.cac, c.previous_cac, currency))
    known = c.cac_by_channel.dropna(subset=["cac", "acquisition_channel"])
    if len(known) >= 2:
        low, high = known.loc[known["cac"].idxmin()], known.loc[known["cac"].idxmax()]
        by_channel = _w(
            "cac_by_channel_sentence",
            low=money(low["cac"], currency),
            low_channel=_label(low["acquisition_channel"]),
            high=money(high["cac"], currency),
            high_channel=_label(high["acquisition_channel"]),
        )
        text = _w("two_sentences", first=text, second=by_channel)
    return text


def retention_cost_sentence(costs: CostsAnalysis, *, currency: str = "") -> str:
    """Retention spend over the customers kept: the cost per retained customer and its
    previous value (a difference, no test)."""
    c = costs
    if not np.isfinite(c.retention_spend):
        return _w("retention_cost_none")
    if not c.retained:
        return _w("retention_cost_no_customers")
    text = _w(
        "retention_cost_sentence",
        spend=money(c.retention_spend, currency),
        retained=num(c.retained),
        value=money(c.retention_cost_per_customer, currency),
    )
    before = _before(
        c.retention_cost_per_customer, c.previous_retention_cost_per_customer, currency
    )
    return _w("two_sentences", first=text, second=before)


def service_cost_sentence(costs: CostsAnalysis, *, currency: str = "") -> str:
    """Service spend over the tickets opened: the cost per ticket and its previous value."""
    c = costs
    if not np.isfinite(c.service_spend):
        return _w("service_cost_none")
    if not c.tickets_opened:
        return _w("service_cost_no_tickets")
    text = _w(
        "service_cost_sentence",
        spend=money(c.service_spend, currency),
        tickets=num(c.tickets_opened),
        value=money(c.service_cost_per_ticket, currency),
    )
    before = _before(c.service_cost_per_ticket, c.previous_service_cost_per_ticket, currency)
    return _w("two_sentences", first=text, second=before)


def skipped(interactions: InteractionsAnalysis, costs: CostsAnalysis) -> dict[str, str]:
    """One sentence per part that cannot be shown, naming why: keys ``interactions``,
    ``by_channel``, ``by_kind``, ``purchase_after``, ``costs``, ``cac``, ``cac_by_channel``,
    ``retention_cost``, ``service_cost``; a part that can be shown has no key."""
    a, c = interactions, costs
    text: dict[str, str] = {}
    if "interactions" in a.missing or not np.isfinite(a.frequency):
        text["interactions"] = frequency_sentence(a)  # it says why there is no frequency
    if "interactions" not in a.missing:
        if "interactions_in_period" in a.missing:
            text["by_channel"] = _w("skipped_interactions_in_period")
        if "interactions.kind" in a.missing:
            text["by_kind"] = _w("skipped_kind")
        elif "interactions_in_period" in a.missing:
            text["by_kind"] = _w("skipped_interactions_in_period")
        if not a.purchase_after_overall.trials:
            text["purchase_after"] = _w("purchase_after_none", days=num(a.purchase_days))
    if "costs" in c.missing:
        text["costs"] = _w("skipped_costs")
    if c.cac_source is None:
        text["cac"] = _w("cac_none")
    elif not c.new_customers:
        text["cac"] = _w("cac_no_new")
    if c.cac_source is not None and c.cac_by_channel.empty:
        text["cac_by_channel"] = _w("skipped_cac_by_channel")
    if not np.isfinite(c.retention_cost_per_customer):
        text["retention_cost"] = retention_cost_sentence(c)
    if not np.isfinite(c.service_cost_per_ticket):
        text["service_cost"] = service_cost_sentence(c)
    return text


def methods(interactions: InteractionsAnalysis, costs: CostsAnalysis) -> list[str]:
    """The analyst notes' paragraphs: frequency and mix, followed by a purchase, costs."""
    found = []
    if "interactions" not in interactions.missing:
        found.append(_w("frequency_method", dispersion=num(interactions.dispersion, 2)))
        found.append(_w("purchase_after_method", days=num(interactions.purchase_days)))
    found.append(_w("costs_method"))
    return found


# ----------------------------------------------------------------------------- tables


def _points(values: pd.Series) -> list[str]:
    """Changes of shares in percentage points, signed; '–' where there is none."""
    return [
        "–" if not np.isfinite(v) else _w("points", n=signed(v * 100, 1))
        for v in values.to_numpy(float)
    ]


def _mix_view(table: pd.DataFrame, *, column: str, key: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            key: [_label(v) for v in table[column]],
            "interaction_count": table["interactions"].to_numpy(int),
            "interaction_share": table["share"].to_numpy(float),
            "previous_interaction_share": table["previous_share"].to_numpy(float),
            "interaction_share_change": _points(table["change"]),
            "interaction_share_p_holm": table["p_holm"].to_numpy(float),
            "interaction_frequency": table["frequency"].to_numpy(float),
        }
    )


def by_channel_view(interactions: InteractionsAnalysis) -> pd.DataFrame:
    """One row per channel, most interactions first: interactions, share now and before, the
    change in percentage points, its Holm-adjusted p-value, interactions per active customer
    per month (``ck.nb.table(percent=[shares], p_values=[p], decimals={frequency: 3})``)."""
    return _mix_view(interactions.by_channel, column="channel", key="interaction_channel")


def by_kind_view(interactions: InteractionsAnalysis) -> pd.DataFrame | None:
    """As :func:`by_channel_view`, one row per kind of interaction; None without kinds."""
    if interactions.by_kind is None:
        return None
    return _mix_view(interactions.by_kind, column="kind", key="interaction_kind")


def purchase_after_view(interactions: InteractionsAnalysis) -> pd.DataFrame:
    """One row per channel, the highest share first: interactions that could be followed,
    those followed by an order, the share with its 95% interval, the other channels' share
    and the Holm-adjusted p-value against them."""
    t = interactions.purchase_after
    return pd.DataFrame(
        {
            "interaction_channel": [_label(v) for v in t["channel"]],
            "followable_interactions": t["interactions"].to_numpy(int),
            "interactions_followed": t["followed"].to_numpy(int),
            "purchase_after_share": t["share"].to_numpy(float),
            "purchase_after_ci": [
                f"{pct(lo)}–{pct(hi)}" for lo, hi in zip(t["low"], t["high"], strict=True)
            ],
            "purchase_after_rest": t["rest_share"].to_numpy(float),
            "purchase_after_p_holm": t["p_holm"].to_numpy(float),
        }
    )


def cac_by_channel_view(costs: CostsAnalysis) -> pd.DataFrame:
    """One row per acquisition channel, most spend first: acquisition spend, customers signed
    up, CAC this period and the previous period (``ck.nb.table(money_columns=[...])``)."""
    t = costs.cac_by_channel
    return pd.DataFrame(
        {
            "acquisition_channel": [_label(v) for v in t["acquisition_channel"]],
            "period_acquisition_spend": t["spend"].to_numpy(float),
            "signed_up_customers": t["new_customers"].to_numpy(int),
            "period_cac": t["cac"].to_numpy(float),
            "previous_period_cac": t["previous_cac"].to_numpy(float),
        }
    )


def costs_view(costs: CostsAnalysis, *, currency: str = "") -> pd.DataFrame:
    """The three cost ratios, this period beside the previous one, written as money, with the
    difference and "no test" (spend is not a sample)."""
    c = costs
    rows = [
        ("period_cac", c.cac, c.previous_cac),
        (
            "retention_cost_per_customer",
            c.retention_cost_per_customer,
            c.previous_retention_cost_per_customer,
        ),
        ("service_cost_per_ticket", c.service_cost_per_ticket, c.previous_service_cost_per_ticket),
    ]

    def change(now: float, before: float) -> str:
        if not (np.isfinite(now) and np.isfinite(before)):
            return "–"
        sign = "+" if now > before else ("−" if now < before else "")
        return f"{sign}{money(abs(now - before), currency)}"

    return pd.DataFrame(
        {
            "period_figure": [term(key) for key, *_ in rows],
            "value_this_period": [money(now, currency) for _, now, _ in rows],
            "value_previous_period": [money(before, currency) for *_, before in rows],
            "change_on_previous": [change(now, before) for _, now, before in rows],
            "p_value": [_w("no_test")] * len(rows),
        }
    )


# ----------------------------------------------------------------------------- results


def results_part(interactions: InteractionsAnalysis, costs: CostsAnalysis) -> dict:
    """The registry's results keys this part owns: interaction frequency (per active customer
    per month), CAC this period and the retention cost per retained customer; None where
    there is none."""
    return {
        "interaction_frequency": _number(interactions.frequency),
        "cac": _number(costs.cac),
        "retention_cost_per_customer": _number(costs.retention_cost_per_customer),
    }
