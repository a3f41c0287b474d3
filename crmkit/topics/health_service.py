"""The health review's service part in words and reading tables, in the report's language:
tickets per 100 active customers, first-response and resolution times, the SLA share,
complaints, their categories and repeat complainers; the ``service_slower`` flag and the
published results of this part.

Numbers come from :func:`crmkit.metrics.service.service_analysis`; nothing here computes a
statistic. Words come from the catalogue ``present/words/health_service.yaml``; figures are
named by the glossary.

Flag (registry ``health.flags``):

``service_slower``  the median resolution time rose and this period's resolution times differ
                    significantly from the previous period's (log-rank p < 0.05); ranked by
                    z of the rise (test-based interval).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.metrics.service import Per100, ServiceAnalysis
from crmkit.metrics.stats import Change
from crmkit.present.format import num, p_text, pct, signed
from crmkit.present.language import term, words
from crmkit.topics.flags import Flag, change_flag

TOPIC = "health"
SECTION = "health_service.heading"


def _w(key: str, /, **values) -> str:
    return words(f"health_service.{key}", **values)


def _number(value: float) -> float | None:
    """A float for the results file, None where there is none (NaN)."""
    return float(value) if value is not None and np.isfinite(value) else None


def _hours(value: float) -> str:
    return num(value, 1)


def _verdict(change: Change) -> str:
    return _w("significant" if change.significant else "not_significant", p=p_text(change.p_value))


# ----------------------------------------------------------------------------- sentences


def _rate_change(now: Per100, before: Per100, change: Change) -> str:
    """The change of a rate per 100 on the previous period, by the rates as written (one
    decimal), so the sentence agrees with the numbers beside it."""
    if not np.isfinite(change.p_value):
        return _w("rate_no_previous")
    after, earlier = round(now.value, 1), round(before.value, 1)
    key = "rate_held" if after == earlier else ("rate_up" if after > earlier else "rate_down")
    return _w(key, before=num(before.value, 1), verdict=_verdict(change))


def tickets_sentence(service: ServiceAnalysis) -> str:
    """Tickets opened, per 100 active customers, and the change on the previous period."""
    if "tickets" in service.missing:
        return _w("skipped_tickets")
    if not np.isfinite(service.tickets_per_100.value):
        return _w("no_active")
    first = _w(
        "tickets_sentence",
        tickets=num(service.tickets),
        rate=num(service.tickets_per_100.value, 1),
        customers=num(service.active),
    )
    second = _rate_change(
        service.tickets_per_100, service.previous_tickets_per_100, service.tickets_change
    )
    return _w("two_sentences", first=first, second=second)


def resolution_sentence(service: ServiceAnalysis) -> str:
    """Median and 90th percentile resolution hours (Kaplan–Meier) against the previous
    period, and whether resolution slowed significantly (log-rank test)."""
    if "tickets" in service.missing:
        return _w("skipped_tickets")
    if "resolved_at" in service.missing:
        return _w("skipped_resolution")
    r = service.resolution
    if not np.isfinite(r.median):
        return _w("resolution_not_reached", n=num(r.n))
    values = {"median": _hours(r.median), "before_median": _hours(r.previous_median)}
    if np.isfinite(r.p90):
        first = _w(
            "resolution_sentence", p90=_hours(r.p90), before_p90=_hours(r.previous_p90), **values
        )
    else:
        first = _w("resolution_median_only", **values)
    change = r.change
    if not np.isfinite(change.p_value):
        return first
    size = round(r.median, 1) - round(r.previous_median, 1)
    key = "same_speed" if size == 0 else ("slower" if size > 0 else "faster")
    second = _w(key, size=_hours(abs(size)), verdict=_verdict(change))
    return _w("two_sentences", first=first, second=second)


def first_response_sentence(service: ServiceAnalysis) -> str:
    """Median first-response hours against the previous period; empty without them."""
    if {"tickets", "first_response_at"} & set(service.missing):
        return ""
    f = service.first_response
    if not np.isfinite(f.median):
        return _w("first_response_not_reached")
    return _w("first_response_sentence", median=_hours(f.median), before=_hours(f.previous_median))


def sla_sentence(service: ServiceAnalysis) -> str:
    """The SLA share with its interval, against the previous period; the tickets left out
    because they were open but not yet past the service level."""
    if {"tickets", "resolved_at"} & set(service.missing) or not service.sla_share.trials:
        return ""
    s, hours = service.sla_share, num(service.sla_hours)
    values = {"share": pct(s.value), "hours": hours, "low": pct(s.low), "high": pct(s.high)}
    if np.isfinite(service.sla_change.p_value):
        first = _w(
            "sla_sentence",
            before=pct(service.previous_sla_share.value),
            verdict=_verdict(service.sla_change),
            **values,
        )
    else:
        first = _w("sla_no_previous", **values)
    if not service.sla_pending:
        return first
    second = _w("sla_pending", n=num(service.sla_pending), hours=hours)
    return _w("two_sentences", first=first, second=second)


def complaint_sentence(service: ServiceAnalysis) -> str:
    """Complaints and the complaint rate per 100 active customers, with its change; says
    when complaints are read from contacts."""
    if service.complaint_source is None:
        return _w("skipped_complaints")
    if not np.isfinite(service.complaint_rate.value):
        return _w("no_active")
    first = _w(
        "complaint_sentence",
        complaints=num(service.complaints),
        rate=num(service.complaint_rate.value, 1),
    )
    second = _rate_change(
        service.complaint_rate, service.previous_complaint_rate, service.complaint_change
    )
    text = _w("two_sentences", first=first, second=second)
    if service.complaint_source == "interactions":
        text = _w("two_sentences", first=text, second=_w("complaints_from_contacts"))
    return text


def top_category_sentence(service: ServiceAnalysis) -> str:
    """The most common complaint category, its share and the previous period's; empty
    without categories or complaints."""
    table = service.complaint_categories
    if table is None or table.empty or not service.complaints:
        return ""
    top = table.iloc[0]
    return _w(
        "top_category",
        category=str(top["category"]),
        share=pct(top["share"]),
        before=pct(top["previous_share"]),
    )


def repeat_sentence(service: ServiceAnalysis) -> str:
    """How many of the complaining customers complained twice or more."""
    if service.complaint_source is None:
        return ""
    if not service.complainers:
        return _w("no_complaints_made")
    if not service.repeat_complainers:
        return _w("no_repeat", complainers=num(service.complainers))
    return _w(
        "repeat_sentence",
        repeat=num(service.repeat_complainers),
        complainers=num(service.complainers),
    )


def sentences(service: ServiceAnalysis) -> list[str]:
    """The part's sentences in reading order, empty ones left out."""
    found = [
        tickets_sentence(service),
        resolution_sentence(service),
        first_response_sentence(service),
        sla_sentence(service),
        complaint_sentence(service),
        top_category_sentence(service),
        repeat_sentence(service),
    ]
    return [text for text in found if text]


def skipped(service: ServiceAnalysis) -> dict[str, str]:
    """One sentence for each part that cannot be shown, naming why: keys ``tickets``,
    ``first_response``, ``resolution``, ``by_category``, ``complaints``, ``trend``; a part that
    can be shown has no key."""
    text = {}
    if "tickets" in service.missing:
        text["tickets"] = _w("skipped_tickets")
    else:
        if "first_response_at" in service.missing:
            text["first_response"] = _w("skipped_first_response")
        if "resolved_at" in service.missing:
            text["resolution"] = _w("skipped_resolution")
        if service.by_category is None:
            text["by_category"] = _w("skipped_category")
    if service.complaint_source is None:
        text["complaints"] = _w("skipped_complaints")
    trend = service.trend
    if trend.empty or not (trend["tickets"].notna().any() or trend["complaints"].notna().any()):
        text["trend"] = _w("skipped_trend")
    return text


# ----------------------------------------------------------------------------- tables


def _points(now: float, before: float) -> str:
    if not (np.isfinite(now) and np.isfinite(before)):
        return "–"
    return _w("points_change", n=signed(round(now * 100, 1) - round(before * 100, 1), 1))


def _difference(now: float, before: float, digits: int = 1) -> str:
    if not (np.isfinite(now) and np.isfinite(before)):
        return "–"
    return signed(round(now, digits) - round(before, digits), digits)


def kpi_view(service: ServiceAnalysis) -> pd.DataFrame:
    """The service figures of this period beside the previous one, written for reading:
    tickets, tickets per 100, complaint rate, median and 90th-percentile first-response and
    resolution hours, SLA share, complaining and repeat-complaining customers; the change and,
    where it is tested, its p-value."""
    s, f, r = service, service.first_response, service.resolution
    nan = Change(float("nan"), float("nan"), float("nan"), float("nan"))
    hours = [
        ("median_first_response_hours", f.median, f.previous_median, f.change),
        ("p90_first_response_hours", f.p90, f.previous_p90, nan),
        ("median_resolution_hours", r.median, r.previous_median, r.change),
        ("p90_resolution_hours", r.p90, r.previous_p90, nan),
    ]
    rows = [
        ("service_tickets", num(s.tickets), num(s.previous_tickets), "–", nan),
        (
            "tickets_per_100",
            num(s.tickets_per_100.value, 1),
            num(s.previous_tickets_per_100.value, 1),
            _difference(s.tickets_per_100.value, s.previous_tickets_per_100.value),
            s.tickets_change,
        ),
        (
            "complaint_rate",
            num(s.complaint_rate.value, 1),
            num(s.previous_complaint_rate.value, 1),
            _difference(s.complaint_rate.value, s.previous_complaint_rate.value),
            s.complaint_change,
        ),
        *((key, _hours(a), _hours(b), _difference(a, b), change) for key, a, b, change in hours),
        (
            "sla_share",
            pct(s.sla_share.value),
            pct(s.previous_sla_share.value),
            _points(s.sla_share.value, s.previous_sla_share.value),
            s.sla_change,
        ),
        ("complainers", num(s.complainers), num(s.previous_complainers), "–", nan),
        (
            "repeat_complainers",
            num(s.repeat_complainers),
            num(s.previous_repeat_complainers),
            "–",
            nan,
        ),
    ]
    if "tickets" in s.missing:  # only the complaint figures, read from the contacts
        keep = ("complaint_rate", "complainers", "repeat_complainers")
        rows = [row for row in rows if row[0] in keep and s.complaint_source]
    return pd.DataFrame(
        {
            "period_figure": [term(key) for key, *_ in rows],
            "value_this_period": [a for _, a, _, _, _ in rows],
            "value_previous_period": [b for _, _, b, _, _ in rows],
            "change_on_previous": [c for _, _, _, c, _ in rows],
            "p_value": [change.p_value for *_, change in rows],
        }
    )


def category_view(service: ServiceAnalysis) -> pd.DataFrame | None:
    """One row per ticket category (most tickets first): tickets this and last period,
    complaints, median first-response and resolution hours, last period's median resolution
    hours and the Holm-adjusted log-rank p of the change, the SLA share. None without a
    category. Show with ``ck.nb.table(view, percent=["sla_share"], p_values=[...],
    decimals={...: 1})``."""
    table = service.by_category
    if table is None:
        return None
    return pd.DataFrame(
        {
            "ticket_category": table["category"],
            "service_tickets": table["tickets"],
            "previous_service_tickets": table["previous_tickets"],
            "period_complaints": table["complaints"],
            "median_first_response_hours": table["median_first_response_hours"],
            "median_resolution_hours": table["median_resolution_hours"],
            "previous_median_resolution_hours": table["previous_median_resolution_hours"],
            "resolution_p_holm": table["resolution_p_holm"],
            "sla_share": table["sla_share"],
        }
    )


def complaint_category_view(service: ServiceAnalysis) -> pd.DataFrame | None:
    """Complaints per category (most first) with their share this and last period; None
    without categories. Show with ``ck.nb.table(view, percent=["complaint_share",
    "previous_complaint_share"])``."""
    table = service.complaint_categories
    if table is None:
        return None
    return pd.DataFrame(
        {
            "ticket_category": table["category"],
            "period_complaints": table["complaints"],
            "complaint_share": table["share"],
            "previous_complaint_share": table["previous_share"],
        }
    )


# ----------------------------------------------------------------------------- flags


def slowest_categories(service: ServiceAnalysis, most: int = 2) -> list[str]:
    """The categories whose median resolution time rose most, among those whose change is
    significant (Holm-adjusted log-rank p < 0.05)."""
    table = service.by_category
    if table is None:
        return []
    rise = table["median_resolution_hours"] - table["previous_median_resolution_hours"]
    chosen = table.assign(rise=rise).loc[(rise > 0) & (table["resolution_p_holm"] < 0.05)]
    return chosen.nlargest(most, "rise")["category"].astype(str).tolist()


def service_flags(service: ServiceAnalysis) -> list[Flag]:
    """``service_slower``: the median resolution time rose and the log-rank test says this
    period's resolution times differ from the previous period's (p < 0.05)."""
    r = service.resolution
    change = r.change
    if not (np.isfinite(change.delta) and change.delta > 0):
        return []
    categories = slowest_categories(service)
    values = {
        "before": lambda: _hours(r.previous_median),
        "after": lambda: _hours(r.median),
        "p": lambda: p_text(change.p_value),
    }
    if categories:
        values["categories"] = lambda: _w("list_separator").join(categories)
    flag = change_flag(
        TOPIC,
        "service_slower",
        delta=change.delta,
        low=change.low,
        high=change.high,
        p_value=change.p_value,
        good_when="down",
        message="health_service.flag_service_slower" + ("_categories" if categories else ""),
        action="health_service.action_service_slower",
        section=SECTION,
        values=values,
        raw={"median_resolution_hours": r.median, "categories": categories},
    )
    return [flag] if flag else []


# ----------------------------------------------------------------------------- results


def results_part(service: ServiceAnalysis) -> dict:
    """The registry's results keys this part owns: ``complaint_rate`` (complaints per 100
    active customers), ``median_first_response_hours``, ``median_resolution_hours`` and
    ``sla_share``; None where there is no figure."""
    return {
        "complaint_rate": _number(service.complaint_rate.value),
        "median_first_response_hours": _number(service.first_response.median),
        "median_resolution_hours": _number(service.resolution.median),
        "sla_share": _number(service.sla_share.value),
    }


def methods(service: ServiceAnalysis) -> list[str]:
    """The analyst notes' methods of the service part."""
    source = {"tickets": "source_tickets", "interactions": "source_interactions"}
    found = [
        _w("methods_rates", source=_w(source.get(service.complaint_source, "source_none"))),
        _w("methods_times"),
        _w("methods_bad_times", bad=num(service.bad_times)) if service.bad_times else "",
        _w("methods_sla", hours=num(service.sla_hours), pending=num(service.sla_pending)),
        _w("methods_trend"),
    ]
    return [text for text in found if text]
