"""The topic registry: one declaration per report topic, read by everything that lists topics.

A :class:`Topic` says what a report is called, what data it needs and which optional tables
and columns switch which sections on, the parameters it reads (each with its default and
meaning, written here once), the keys of its published results, and the figures the
portfolio page shows. The CLI (``--notebook`` choices), the runner, the portfolio page,
``crmkit init``, ``parameters/defaults.yaml``, the notebooks' parameters cells and the
README's results table all come from, or are tested against, this module.

This module imports nothing heavy: the command line reads it before any analysis starts.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from crmkit.core.errors import ParameterError


@dataclass(frozen=True)
class Parameter:
    """One notebook parameter.

    ``default`` is what a notebook opened in JupyterLab runs with (the sample data's north
    unit). A ``required`` parameter must be set by each unit (in its file or in
    ``defaults.yaml``); a ``from_run`` one is set by ``crmkit run`` (the period), never in
    a file.
    """

    name: str
    default: Any
    meaning: str
    required: bool = False
    from_run: bool = False


@dataclass(frozen=True)
class Section:
    """A part of a report that runs only when its optional inputs are present.

    ``needs`` names tables (``"costs"``) or columns (``"customers.acquisition_channel"``,
    ``"surveys.dim_*"``); the section is skipped, and says so, without them.
    """

    title: str
    needs: tuple[str, ...]


@dataclass(frozen=True)
class KeyFigure:
    """A figure of a topic's results shown on the portfolio page.

    ``unit`` says how to read and format it: ``money`` (the unit's currency), ``share``
    (a fraction shown as %), ``points`` (NPS, -100..100), ``count``, ``days``, ``text``,
    ``score`` (0–100, the health score), ``bands`` ({red, amber, green}: shares).
    """

    key: str
    label: str  # a glossary key: the figure's name in the page's language
    unit: str
    detail: str = ""  # a catalogue text key for words under the figure, filled from results
    change: str = ""  # results key of its change on the previous period: {delta, ci, p_value}
    good_when: str = "up"  # which way is good news: "up" (NPS, win rate) or "down" (churn)


FIGURE_UNITS = ("money", "share", "points", "count", "days", "text", "score", "bands")


@dataclass(frozen=True)
class Topic:
    """One report topic: a notebook ``notebooks/<name>.ipynb`` and what it promises."""

    name: str
    title: str
    question: str
    tables: tuple[str, ...]
    sections: tuple[Section, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    results: dict[str, str] = field(default_factory=dict)
    key_figures: tuple[KeyFigure, ...] = ()
    flags: dict[str, str] = field(default_factory=dict)  # flag key: when it is raised

    @property
    def notebook(self) -> str:
        """The notebook's file name."""
        return f"{self.name}.ipynb"

    def all_parameters(self) -> tuple[Parameter, ...]:
        """The parameters cell of the notebook: the shared ones, then the topic's own."""
        return COMMON_PARAMETERS + self.parameters


COMMON_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("business_unit", "north", "unit id, as in the business_unit column", required=True),
    Parameter("display_name", "", "name shown in the report; empty: the unit id"),
    Parameter(
        "data_source",
        "sample_data",
        "folder, workbook, DuckDB/SQLite file or database URL",
        required=True,
    ),
    Parameter("currency", "USD", "currency of amounts (ISO code)", required=True),
    Parameter("language", "en", "report language: zh or en"),
    Parameter(
        "period_start",
        "2026-07-01",
        "first day of the reporting period (ISO date)",
        from_run=True,
    ),
    Parameter(
        "period_end", "2026-09-30", "last day of the reporting period (ISO date)", from_run=True
    ),
    Parameter("column_map", {}, "source column names onto the contract: {their_name: ours}"),
    Parameter("tables", {}, "file, sheet or table name per contract table, where not its name"),
    Parameter("pii_columns", [], "columns kept out of reports besides name, email and phone"),
    Parameter("as_of", "", "day the data was read (ISO date); empty: today"),
    Parameter(
        "date_format",
        "",
        "read 01.09.2026 as: dayfirst, monthfirst or '%d.%m.%Y'; empty: from the values",
    ),
    Parameter(
        "decimal",
        "",
        "decimal mark where values like 1,234 do not tell: '.' or ','; empty: from values",
    ),
    Parameter(
        "snapshot",
        "",
        "the unit staged by crmkit run (a snapshot folder); empty: load data_source",
        from_run=True,
    ),
)

# Predicted CLV's settings: read by the clv report and by churn (the value at risk), so both
# show the same value for a customer.
CLV_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("clv_horizon_months", 12, "months of future value counted in CLV"),
    Parameter("clv_discount_rate", 0.01, "monthly discount rate for future value"),
    Parameter("clv_holdout_weeks", 26, "weeks held out to test the model"),
)

FUNNEL_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "funnel_stages",
        ["lead", "intent", "negotiation", "won"],
        "ordered stages; the last is won",
    ),
    Parameter("conversion_window_days", 90, "conversion counted within this many days"),
)

# The churn definition: read by the churn report, the health review and the segmentation's
# lifecycle stages, so all count the same customers as churned.
CHURN_DEFINITION = Parameter(
    "churn_inactivity_days",
    0,
    "days without an order counted as churn if no churn_events; 0: p90 gap",
)

_LOG = "Data quality"

TOPICS: dict[str, Topic] = {
    topic.name: topic
    for topic in (
        Topic(
            name="data_quality",
            title="Data quality",
            question=(
                "Can this unit's data be trusted for this period's reports: is every table "
                "there, up to date and complete, and what was repaired or dropped?"
            ),
            tables=("customers", "transactions"),
            sections=(
                Section("Tables, coverage and freshness", ()),
                Section("Records per month", ()),
                Section("Repairs and drops", ()),
                Section("Orphan keys", ()),
                Section("Missing values", ()),
                Section("Sources", ()),
            ),
            results={
                "tables": "{table: rows to the period end}",
                "rows_in_period": "{table: rows dated in the period}",
                "rows_dropped": "rows dropped as unusable while loading",
                "rows_repaired": "rows kept with a value repaired",
                "rows_excluded": "rows left out as dated after the period end",
                "issues": "[{table, rule, action, rows}] of every drop and repair",
                "missing_tables": "contract tables not provided",
                "max_days_stale": "days between the stalest table's last record and period end",
                "customers": "customers on record at the period end",
                "orders_in_period": "orders in the period",
            },
            # The technical counts stay in this report's results, not on the portfolio.
            key_figures=(),
            # Levels documented and set in crmkit.topics.data_quality.
            flags={
                "rows_dropped": "more than 5% of a table's rows dropped as unusable",
                "rows_repaired": "repairs on more than 10% of a table's rows",
                "table_stale": "a table's latest record more than 31 days before the period end",
                "table_missing": "a table another report needs not provided, or without rows",
            },
        ),
        Topic(
            name="segmentation",
            title="Customer segmentation",
            question=(
                "Who are this unit's customers, how do they buy, what are they worth, where "
                "are they in their lifecycle, and what should we do with each group?"
            ),
            tables=("customers", "transactions"),
            sections=(
                Section("Geographic", ("customers.region", "customers.city")),
                Section(
                    "Demographic",
                    (
                        "customers.age",
                        "customers.gender",
                        "customers.income_band",
                        "customers.occupation",
                        "customers.industry",
                    ),
                ),
                Section("RFM segments", ()),
                Section("Behavioural clusters", ("interactions",)),
                Section("Psychographic profile", ("customers.psy_*",)),
                Section("Value tiers", ()),
                Section("Lifecycle", ("churn_events",)),
                Section("Actions", ()),
            ),
            parameters=(
                Parameter(
                    "lifecycle_rules",
                    {},
                    "overrides of new_days, active_days, loyal_orders",
                ),
                CHURN_DEFINITION,
                Parameter(
                    "segment_actions", {}, "suggested action per RFM segment, over the defaults"
                ),
            ),
            results={
                "n_customers": "customers on record",
                "rfm_segments": "{segment code (champions ... at_risk, cant_lose, hibernating): "
                "customers}",
                "n_clusters": "behavioural clusters chosen by silhouette",
                "silhouette": "silhouette of the chosen clustering",
                "cluster_stability_ari": "adjusted Rand index of refits on resamples",
                "top20_revenue_share": "share of lifetime revenue from the top 20% of buyers",
                "lifecycle": "{stage code (prospect, new, active, repeat, lapsing, churned): "
                "customers}",
                "buying_customers": "customers with an order in the period",
                "buying_customers_change": "{delta, ci, p_value}: exact test of two Poisson counts",
                "period_revenue": "revenue of the orders in the period",
                "period_revenue_change": "{delta, ci, p_value}: z-test of two totals of "
                "per-customer spend",
                "segment_moves": "{worse, better, scored_before, worse_share, lapsed_now, "
                "lapsed_before}: moves into and out of worse RFM segments",
            },
            key_figures=(
                KeyFigure(
                    "buying_customers",
                    "buying_customers",
                    "count",
                    change="buying_customers_change",
                ),
                KeyFigure(
                    "period_revenue", "period_revenue", "money", change="period_revenue_change"
                ),
            ),
            flags={
                "buying_customers_change": "buying customers changed significantly (p < 0.05)",
                "period_revenue_change": "period revenue changed significantly (p < 0.05)",
                "moved_to_worse_segments": "more than 12% of the customers segmented at both "
                "period ends slipped into a worse RFM segment",
            },
        ),
        Topic(
            name="funnel",
            title="Sales funnel",
            question=(
                "Where do this unit's deals die, how long do they take, is it getting worse, "
                "and which sources and owners do better or worse than the rest?"
            ),
            tables=("opportunities", "stage_history"),
            sections=(
                Section("The funnel", ()),
                Section("Which step got worse?", ()),
                Section("Conversion within the window", ("opportunities.closed_at",)),
                Section("Time in stage", ()),
                Section("Sales cycle", ("opportunities.closed_at",)),
                Section("Win rate and pipeline velocity", ("opportunities.amount",)),
                Section("Breakdowns", ("opportunities.source", "opportunities.owner")),
                Section("Source ROI", ("costs", "opportunities.source")),
            ),
            parameters=(
                *FUNNEL_PARAMETERS,
                Parameter(
                    "funnel_breakdowns",
                    ["source", "owner"],
                    "opportunity columns to break the funnel down by",
                ),
            ),
            results={
                "stages": "the stages, in order",
                "stage_counts": "{stage: opportunities of the period's cohort that reached it}",
                "stage_conversion": '{"from->to": rate}, the unit\'s stage names',
                "previous_stage_conversion": "the same for the previous period's cohort",
                "overall_conversion": "won ÷ all created in the period",
                "win_rate": "won ÷ (won + lost) in the period's cohort",
                "win_rate_change": (
                    "{delta: win rate minus the previous cohort's, ci: Newcombe 95%, p_value}"
                ),
                "median_cycle_days": "median days from creation to won, deals won in the period",
                "velocity_per_day": "open pipeline × win rate × mean won amount ÷ median cycle",
                "bottleneck": '"from->to" step that fell most, or null',
                "bottleneck_p_value": "its p-value, Bonferroni-adjusted over the steps",
                "bottleneck_significant": "whether that fall is significant (p < 0.05)",
                "bottleneck_summary": "the step and its change in words (English)",
                "stuck_open": "open opportunities waiting past their stage's 90th percentile",
                "opportunities_created": "opportunities created in the period",
                "cycle_lengthened": "whether the sales cycle lengthened significantly",
                "cycle_p_value": "Mann–Whitney p-value of the cycle change",
            },
            key_figures=(KeyFigure("win_rate", "win_rate", "share", change="win_rate_change"),),
            flags={
                "win_rate_change": "the win rate changed significantly (p < 0.05); bad when down",
                "bottleneck_fall": (
                    "the step that fell most fell significantly (adjusted p < 0.05)"
                ),
                "stuck_open": (
                    "more than 20% of open opportunities wait past their stage's 90th "
                    "percentile of past movers"
                ),
                "cycle_lengthened": "the sales cycle lengthened significantly (Mann–Whitney)",
            },
        ),
        Topic(
            name="clv",
            title="Customer lifetime value",
            question=(
                "What are this unit's customers worth, to date and over the coming months, "
                "which acquisition channels pay back, and can the forecast be trusted?"
            ),
            tables=("customers", "transactions"),
            sections=(
                Section("Value to date", ()),
                Section("Predicted value", ()),
                Section("Can the forecast be trusted?", ()),
                Section(
                    "Acquisition economics",
                    ("customers.acquisition_channel", "customers.acquisition_cost", "costs"),
                ),
            ),
            parameters=CLV_PARAMETERS,
            results={
                "bgnbd": "{r, alpha, a, b} fitted on the history to the period end",
                "pareto_nbd": "{r, alpha, s, beta}",
                "gamma_gamma": "{p, q, v}",
                "model_selected": "the purchase model used: bgnbd or pareto_nbd; null without CLV",
                "holdout": "{weeks, calibration_end, actual, predicted, mae_per_customer, ...}",
                "horizon_months": "months of future value counted in CLV",
                "mean_clv": "mean predicted value per customer over the horizon",
                "mean_clv_ci": "[lo, hi] of the mean",
                "total_clv": "predicted value of all customers over the horizon",
                "frequency_spend_correlation": "Gamma-Gamma's independence check",
                "ltv_cac": "{channel: margin LTV ÷ acquisition cost (CAC)}",
            },
            key_figures=(KeyFigure("mean_clv", "predicted_clv", "money", "clv.over_months"),),
            flags={
                "channels_not_paying_back": (
                    "an acquisition channel's LTV:CAC (margin LTV ÷ CAC) is below 1: it does not "
                    "pay back its acquisition cost within the horizon; strength is 1 minus the "
                    "weakest channel's LTV:CAC"
                ),
            },
        ),
        Topic(
            name="satisfaction",
            title="Satisfaction and NPS",
            question=(
                "How satisfied are this unit's customers, would they recommend us, has that "
                "changed, what drives it, what do unhappy customers say, and do satisfied "
                "customers spend more?"
            ),
            tables=("surveys",),
            sections=(
                Section("Net Promoter Score", ("surveys.nps",)),
                Section("CSAT", ("surveys.csat",)),
                Section("Breakdowns", ("customers.region", "surveys.touchpoint")),
                Section("What drives satisfaction", ("surveys.dim_*",)),
                Section("What customers say", ("surveys.comment",)),
                Section("Loyalty", ("transactions",)),
            ),
            parameters=(
                Parameter(
                    "satisfaction_breakdowns",
                    ["region", "segment", "touchpoint"],
                    "columns to break scores down by",
                ),
            ),
            results={
                "n_responses": "responses in the period",
                "nps": "Net Promoter Score, -100..100",
                "nps_ci": "[lo, hi], adjusted-Wald",
                "promoters": "share of responses scoring 9–10",
                "passives": "share scoring 7–8",
                "detractors": "share scoring 0–6",
                "csat": "share scoring 4–5 on CSAT",
                "csat_ci": "[lo, hi], Wilson",
                "csat_mean": "mean CSAT score",
                "nps_change": "{delta: this period minus the previous, ci, p_value}",
                "csat_change": "the same for CSAT, in fractions",
                "top_driver": "the dim_* column that explains most of NPS",
                "driver_weights": "{dim_*: share of explained NPS variance}",
                "driver_r_squared": "variance of NPS the dimensions explain",
                "detractor_themes": "keywords of detractors' comments",
                "promoter_themes": "keywords of promoters' comments",
                "repeat_rate": "share of responding customers who bought again",
            },
            key_figures=(
                KeyFigure("nps", "nps", "points", change="nps_change"),
                KeyFigure("csat", "csat", "share", change="csat_change"),
            ),
            # Rules documented and set in crmkit.topics.satisfaction.flags.
            flags={
                "nps_change": "NPS changed significantly on the previous period (p < 0.05)",
                "csat_change": "CSAT changed significantly on the previous period (p < 0.05)",
                "nps_below_zero": "NPS below zero: more detractors than promoters",
                "fix_first": "a dimension weighs above average in NPS and scores below average",
            },
        ),
        Topic(
            name="churn",
            title="Churn and retention",
            question=(
                "How many customers did this unit lose, is it getting worse, how long do "
                "customers stay, why do they say they leave, what behaviour comes before "
                "leaving, and which customers at risk are most worth keeping?"
            ),
            tables=("customers", "transactions"),
            sections=(
                Section("Churn rate", ()),
                Section("Retention by signup cohort", ()),
                Section("Customer lifetimes", ()),
                Section("Stated reasons", ("churn_events.reason",)),
                Section("Behavioural drivers", ()),
                Section("Churn model", ()),
                Section("Customers at risk", ()),
            ),
            parameters=(
                CHURN_DEFINITION,
                Parameter(
                    "churn_breakdowns",
                    ["acquisition_channel", "region"],
                    "customer columns to compare lifetimes by",
                ),
                Parameter("churn_horizon_months", 24, "horizon of the restricted mean lifetime"),
                Parameter("churn_at_risk_top", 20, "customers listed as most at risk"),
                *CLV_PARAMETERS,
            ),
            results={
                "churn_definition": '"events" (churn_events) or "inactivity"',
                "inactivity_days": "days without an order counted as churn (null for events)",
                "churn_rate": "customers active at the start who churned in the period ÷ "
                "customers active at the start",
                "churn_rate_ci": "[lo, hi], Wilson",
                "previous_churn_rate": "the same for the previous period",
                "churn_change": "{delta, ci, p_value}: two-proportion test on the previous period",
                "annual_churn_rate": "1 − (1 − churn rate)^(365 / period days)",
                "retention_rate": "1 − churn rate",
                "gross_revenue_retention": "revenue kept from customers active at the start, "
                "without their growth, ÷ their previous-period revenue",
                "net_revenue_retention": "their revenue this period ÷ their previous-period "
                "revenue",
                "median_lifetime_months": "Kaplan–Meier median months from signup to churn, or "
                "null while over half remain",
                "top_reasons": "{reason: share of stated reasons in the period}",
                "top_drivers": "features most associated with churn, strongest first",
                "model_auc": "area under the ROC curve of the churn model, out of sample",
                "model_auc_ci": "[lo, hi]",
                "top_decile_lift": "churn rate of the riskiest tenth ÷ overall churn rate",
                "at_risk_customers": "active customers listed as most at risk",
                "value_at_risk": "risk × expected value, summed over active customers",
            },
            key_figures=(
                KeyFigure(
                    "churn_rate",
                    "churn_rate",
                    "share",
                    "churn.portfolio_inactivity",
                    change="churn_change",
                    good_when="down",
                ),
            ),
            flags={
                "churn_change": "the churn rate changed significantly (p < 0.05); bad when up",
                "reason_rising": "a stated reason's share of churn rose significantly "
                "(Holm-adjusted p < 0.05)",
            },
        ),
        Topic(
            name="health",
            title="Relationship health",
            question=(
                "How healthy are this unit's customer relationships: which KPIs need action, "
                "how often do we talk to customers, how well does service work, what do "
                "customers cost to win and keep, which customers are healthy or at risk, does "
                "the health score predict churn, and whom should we call first?"
            ),
            tables=("customers", "transactions"),
            sections=(
                Section("Scorecard", ()),
                Section("Interactions", ("interactions",)),
                Section("Service", ("tickets",)),
                Section("Costs", ("costs",)),
                Section("Customer health score", ()),
                Section("Does the score predict churn?", ()),
                Section("Alerts and actions", ()),
            ),
            parameters=(
                Parameter(
                    "service_sla_hours", 120, "hours within which a ticket should be resolved"
                ),
                Parameter(
                    "interaction_purchase_days",
                    30,
                    "days after an interaction in which an order counts as following it",
                ),
                Parameter(
                    "health_weights",
                    {},
                    "points per score component over the defaults; they must sum to 100",
                ),
                Parameter(
                    "health_bands",
                    {},
                    "red_below (50), green_from (75), poor_below (25) over the defaults",
                ),
                Parameter(
                    "health_points", {}, "points grids of the score's inputs over the defaults"
                ),
                Parameter(
                    "health_cap_at_amber",
                    True,
                    "a component under poor_below keeps a customer amber",
                ),
                Parameter(
                    "health_thresholds",
                    {},
                    "scorecard levels per KPI {good, act} over the defaults",
                ),
                Parameter("health_treatments", {}, "action per alert reason over the defaults"),
                Parameter("health_alerts_top", 10, "customers listed in the alerts table"),
                CHURN_DEFINITION,
                *FUNNEL_PARAMETERS,
                *CLV_PARAMETERS,
            ),
            results={
                "scorecard": "{kpi: {value, previous, change: {delta, ci, p_value} or null, band: "
                "good, watch, act or null}}",
                "health_bands": "{red, amber, green}: shares of the customers scored at the "
                "period end",
                "mean_health": "mean health score (0–100, higher is healthier) at the period end",
                "health_auc": "AUC of the score at the previous period end for staying (not "
                "churning) during this period",
                "health_auc_ci": "[lo, hi], DeLong",
                "churn_by_band": "{band: churn rate during this period of the customers in that "
                "band at the previous period end}",
                "suggested_weights": "{component: points} from an L1 logistic fit, or null",
                "alerts": "customers with an alert at the period end",
                "interaction_frequency": "interactions per active customer per month",
                "complaint_rate": "complaints per 100 active customers in the period",
                "median_first_response_hours": "median hours to the first response (Kaplan–Meier)",
                "median_resolution_hours": "median hours to resolution (Kaplan–Meier)",
                "sla_share": "share of the period's tickets resolved within service_sla_hours",
                "cac": "acquisition spend in the period ÷ customers who signed up in it",
                "retention_cost_per_customer": "retention spend in the period ÷ customers kept",
            },
            key_figures=(
                KeyFigure("mean_health", "health_score", "score"),
                KeyFigure("health_bands", "health_band", "bands"),
            ),
            flags={
                "kpi_act": "a scorecard KPI is at or past its 'act' level",
                "service_slower": "ticket resolution time rose significantly (log-rank p < 0.05)",
                "health_not_predictive": "the health score did not predict this period's churn",
                "red_share_rising": "the share of customers in the red band rose significantly "
                "(p < 0.05)",
            },
        ),
    )
}


def topic_names() -> list[str]:
    """The registered topics, in report order."""
    return list(TOPICS)


def get_topics(names: list[str] | None = None) -> list[Topic]:
    """The topics named (all when ``names`` is empty), with a clear error for unknown names."""
    if not names:
        return list(TOPICS.values())
    unknown = [n for n in names if n not in TOPICS]
    if unknown:
        hints = "".join(
            f" Did you mean '{close[0]}' for '{n}'?"
            for n in unknown
            if (close := difflib.get_close_matches(n, list(TOPICS), n=1))
        )
        raise ParameterError(
            f"Unknown notebook(s) {unknown}; notebooks are {topic_names()}.{hints}"
        )
    return [TOPICS[n] for n in names]


def unit_parameters() -> dict[str, Parameter]:
    """Every parameter a unit file may set: the shared ones and each topic's, by name."""
    found = {p.name: p for p in COMMON_PARAMETERS if not p.from_run}
    for topic in TOPICS.values():
        found.update({p.name: p for p in topic.parameters})
    return found


def parameter_defaults() -> dict[str, Any]:
    """Defaults a unit gets for what it does not set (required parameters have none)."""
    return {name: p.default for name, p in unit_parameters().items() if not p.required}


def _literal(value: Any) -> str:
    """A default as a literal both Python and YAML read, in the quotes ruff formats to."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def parameters_cell(topic: Topic) -> str:
    """The source of the notebook's ``parameters`` cell: each parameter, its default as a
    Python literal, and its meaning."""
    lines = [f"{p.name} = {_literal(p.default)}  # {p.meaning}" for p in topic.all_parameters()]
    return "\n".join(lines)


def defaults_yaml() -> str:
    """``parameters/defaults.yaml`` as documented: every optional parameter, its default and
    meaning, and the shared data source of the sample units."""
    lines = [
        "# Shared defaults for every unit; a unit's own file overrides any key.",
        "# Generated from crmkit.topics.registry (tests check it): change meanings there.",
        "# Required in each unit's file: business_unit, currency (and data_source unless here).",
        f"data_source: sample_data  # {unit_parameters()['data_source'].meaning}",
    ]
    for name, value in parameter_defaults().items():
        lines.append(f"{name}: {_literal(value)}  # {unit_parameters()[name].meaning}")
    return "\n".join(lines) + "\n"


def results_table() -> str:
    """The README's table of each notebook's ``results`` keys, in Markdown."""
    rows = ["| notebook | `results` keys |", "|---|---|"]
    for topic in TOPICS.values():
        keys = "; ".join(f"`{key}` {meaning}" for key, meaning in topic.results.items())
        rows.append(f"| {topic.name} | {keys} |")
    return "\n".join(rows)


def check_unit_keys(params: dict[str, Any], *, where: str) -> None:
    """Raise :class:`ParameterError` for a key no topic reads, naming the nearest known key."""
    known = {*unit_parameters(), "tables", "column_map"}
    for key in params:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), sorted(known), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ParameterError(
            f"{where}: unknown parameter '{key}'.{hint} Known parameters: {sorted(known)}."
        )
