"""The data contract: the nine CRM tables, their columns and the checks each column gets.

See ``docs/data_contract.md`` for the prose version. Column kinds:

``id``        string identifier (numbers are read as text, ``1.0`` becomes ``"1"``)
``date``      date or timestamp
``number``    real number; text that does not parse is a data-quality repair or drop
``amount``    money; like ``number`` and must not be negative
``category``  short label; whitespace trimmed and case variants folded
``score``     number in ``[low, high]``; out-of-range values are set to missing
``bool``      true/false, yes/no, 1/0, 是/否
``text``      free text, kept as is
"""

from __future__ import annotations

from dataclasses import dataclass, field

PII_COLUMNS: tuple[str, ...] = ("name", "email", "phone")
"""Columns that never reach a report: they are removed when a unit is loaded."""


@dataclass(frozen=True)
class Column:
    """One column of a table in the contract."""

    name: str
    kind: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] | None = None  # allowed values of a category, lower case
    # other names of those values (Chinese exports), read as them and logged as a repair
    synonyms: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """One table of the contract.

    ``key`` is the column that identifies a row (``None`` where rows have no id of their own),
    ``date`` the column that places a row in time (used for period filtering), and
    ``prefixes`` the families of optional columns recognised by prefix (``psy_``, ``dim_``).
    """

    name: str
    grain: str
    columns: tuple[Column, ...]
    key: str | None = None
    date: str | None = None
    required_table: bool = False
    prefixes: dict[str, Column] = field(default_factory=dict)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        """The spec of ``name``, including prefix families; ``None`` if not in the contract."""
        for column in self.columns:
            if column.name == name:
                return column
        for prefix, template in self.prefixes.items():
            if name.startswith(prefix):
                return Column(name, template.kind, False, template.low, template.high)
        return None


def _c(name: str, kind: str, required: bool = False, **kwargs) -> Column:
    return Column(name, kind, required, **kwargs)


BU = _c("business_unit", "category")

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec(
            "customers",
            "customer",
            (
                _c("customer_id", "id", True),
                _c("business_unit", "category", True),
                _c("signup_date", "date", True),
                _c("region", "category"),
                _c("city", "category"),
                _c("age", "number"),
                _c("gender", "category"),
                _c("income_band", "category"),
                _c("occupation", "category"),
                _c("industry", "category"),
                _c("acquisition_channel", "category"),
                _c("acquisition_cost", "amount"),
                _c("name", "text"),
                _c("email", "text"),
                _c("phone", "text"),
            ),
            key="customer_id",
            date="signup_date",
            required_table=True,
            prefixes={"psy_": _c("psy_", "category")},
        ),
        TableSpec(
            "transactions",
            "order",
            (
                _c("order_id", "id", True),
                _c("customer_id", "id", True),
                _c("order_date", "date", True),
                _c("amount", "amount", True),
                BU,
                _c("product_category", "category"),
                _c("channel", "category"),
                _c("margin", "number"),
            ),
            key="order_id",
            date="order_date",
            required_table=True,
        ),
        TableSpec(
            "opportunities",
            "sales opportunity or lead",
            (
                _c("opportunity_id", "id", True),
                _c("business_unit", "category", True),
                _c("created_at", "date", True),
                _c(
                    "outcome",
                    "category",
                    True,
                    values=("open", "won", "lost"),
                    synonyms=(
                        ("进行中", "open"),
                        ("跟进中", "open"),
                        ("赢单", "won"),
                        ("成交", "won"),
                        ("丢单", "lost"),
                        ("输单", "lost"),
                    ),
                ),
                _c("customer_id", "id"),
                _c("source", "category"),
                _c("owner", "category"),
                _c("amount", "amount"),
                _c("closed_at", "date"),
            ),
            key="opportunity_id",
            date="created_at",
        ),
        TableSpec(
            "stage_history",
            "stage entered by an opportunity",
            (
                _c("opportunity_id", "id", True),
                _c("stage", "category", True),
                _c("entered_at", "date", True),
                BU,
            ),
            date="entered_at",
        ),
        TableSpec(
            "surveys",
            "survey response",
            (
                _c("response_id", "id", True),
                _c("customer_id", "id", True),
                _c("responded_at", "date", True),
                BU,
                _c("nps", "score", low=0, high=10),
                _c("csat", "score", low=1, high=5),
                _c("comment", "text"),
                _c("touchpoint", "category"),
            ),
            key="response_id",
            date="responded_at",
            prefixes={"dim_": _c("dim_", "score", low=1, high=5)},
        ),
        TableSpec(
            "interactions",
            "touch between the company and a customer",
            (
                _c("interaction_id", "id", True),
                _c("customer_id", "id", True),
                _c("occurred_at", "date", True),
                _c("channel", "category", True),
                BU,
                _c("direction", "category"),
                _c("kind", "category"),
            ),
            key="interaction_id",
            date="occurred_at",
        ),
        TableSpec(
            "tickets",
            "service case",
            (
                _c("ticket_id", "id", True),
                _c("customer_id", "id", True),
                _c("opened_at", "date", True),
                BU,
                _c("first_response_at", "date"),
                _c("resolved_at", "date"),
                _c("category", "category"),
                _c("is_complaint", "bool"),
            ),
            key="ticket_id",
            date="opened_at",
        ),
        TableSpec(
            "churn_events",
            "customer lost",
            (
                _c("customer_id", "id", True),
                _c("churned_at", "date", True),
                BU,
                _c("reason", "category"),
                _c("reason_text", "text"),
            ),
            key="customer_id",
            date="churned_at",
        ),
        TableSpec(
            "costs",
            "spend line",
            (
                _c("business_unit", "category", True),
                _c("month", "date", True),
                _c(
                    "category",
                    "category",
                    True,
                    values=("acquisition", "retention", "service"),
                    synonyms=(
                        ("获客", "acquisition"),
                        ("获客成本", "acquisition"),
                        ("维系", "retention"),
                        ("客户维系", "retention"),
                        ("留存", "retention"),
                        ("服务", "service"),
                        ("客服", "service"),
                        ("客户服务", "service"),
                    ),
                ),
                _c("amount", "amount", True),
                _c("channel", "category"),
            ),
            date="month",
        ),
    ]
}

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)

CUSTOMER_KEYED: tuple[str, ...] = (
    "transactions",
    "surveys",
    "interactions",
    "tickets",
    "churn_events",
)
"""Tables whose ``customer_id`` must name a customer of the unit (else the row is an orphan)."""
