"""The contract matrix: variant data folders cut from the sample, each meeting the contract.

Not a test file: ``tests/test_contract_matrix.py`` (and any test that wants a variant) imports
it with ``from matrix import ...`` (pytest puts ``tests/`` on ``sys.path``).

Every variant starts from a small, seeded cut of the sample's ``north`` unit (a few hundred
customers and their rows in every table), written as CSV files, and then changes one thing:

- ``full``: the cut itself, every optional table and column present (the control);
- ``required_only``: only ``customers`` and ``transactions``, only their required columns;
- ``no_<table>``: one optional table absent (every optional table of the contract);
- ``no_<table>.<column>``: one optional column absent, for every column a registry
  :class:`~crmkit.topics.registry.Section` names (``psy_*``/``dim_*`` drop the whole family);
- ``header_only_<table>``: one optional table present with its header and no rows;
- degenerate shapes (:data:`SHAPES`): no open opportunities, all open, none created in the
  period, one stage, funnel stages that match nothing, no comments, one region, five
  customers, a period without orders (history before it, orders after it), one order per
  customer;
- ``zh_<name>``: a few of the above (:data:`IN_CHINESE`) with the reports in Chinese.

The table and column lists come from :data:`crmkit.core.schema.TABLES` and the registry's
sections, so a new optional table or section gets its variants without editing this file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmkit.core.schema import TABLES
from crmkit.topics.registry import TOPICS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
UNIT = "north"
PERIOD = {"period_start": "2026-07-01", "period_end": "2026-09-30"}
"""The period every variant is run for (the notebooks' default, 2026-Q3)."""

CUSTOMERS = 250
"""Customers in the cut: enough for clustering (35) and the CLV models, small for speed."""
OPPORTUNITIES = 500
SEED = 11

OPTIONAL_TABLES: tuple[str, ...] = tuple(n for n, s in TABLES.items() if not s.required_table)
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, s in TABLES.items() if s.required_table)

Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Variant:
    """One variant: its data folder and the parameters it runs with (over the unit's).

    ``absent`` names what the variant lacks, in the registry's spelling: a table
    (``"costs"``, absent or header-only) or a column (``"customers.region"``,
    ``"surveys.dim_*"``); ``tables`` the tables written (header-only ones included).
    """

    name: str
    folder: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    tables: frozenset[str] = frozenset()

    def notebook_parameters(self) -> dict[str, Any]:
        """What a notebook receives: the unit, its data, the period and the overrides."""
        return {
            "business_unit": UNIT,
            "data_source": str(self.folder),
            "currency": "USD",
            **PERIOD,
            **self.parameters,
        }


# ----------------------------------------------------------------------------- the cut


@cache
def _sample_unit() -> Tables:
    """The sample's ``north`` unit, every table, read as text (ids and dates kept as written)."""
    tables = {
        name: pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in TABLES
    }
    customers = tables["customers"].loc[tables["customers"]["business_unit"] == UNIT]
    ids = set(customers["customer_id"])
    opportunities = tables["opportunities"].loc[tables["opportunities"]["business_unit"] == UNIT]
    out: Tables = {"customers": customers, "opportunities": opportunities}
    for name, frame in tables.items():
        if name in out:
            continue
        if name == "stage_history":
            keep = frame["opportunity_id"].isin(set(opportunities["opportunity_id"]))
        elif "customer_id" in frame.columns:
            keep = frame["customer_id"].isin(ids)
        else:
            keep = frame["business_unit"] == UNIT
        out[name] = frame.loc[keep]
    return {name: frame.reset_index(drop=True) for name, frame in out.items()}


@cache
def base_tables() -> Tables:
    """The seeded cut every variant starts from: :data:`CUSTOMERS` customers with all their
    rows, :data:`OPPORTUNITIES` opportunities with their stage history, the unit's costs."""
    unit = _sample_unit()
    rng = np.random.default_rng(SEED)
    customers = unit["customers"]
    picked = set(rng.choice(customers["customer_id"].to_numpy(), CUSTOMERS, replace=False))
    opportunities = unit["opportunities"]
    chosen = set(
        rng.choice(opportunities["opportunity_id"].to_numpy(), OPPORTUNITIES, replace=False)
    )
    out: Tables = {}
    for name, frame in unit.items():
        if name in ("opportunities", "stage_history"):
            keep = frame["opportunity_id"].isin(chosen)
        elif "customer_id" in frame.columns:
            keep = frame["customer_id"].isin(picked)
        else:
            keep = pd.Series(True, index=frame.index)
        out[name] = frame.loc[keep].reset_index(drop=True)
    return out


def _copy(tables: Tables) -> Tables:
    return {name: frame.copy() for name, frame in tables.items()}


# ----------------------------------------------------------------------------- what a section needs


def section_needs() -> tuple[str, ...]:
    """Every table or column any registry section names, in first-seen order."""
    seen: dict[str, None] = {}
    for topic in TOPICS.values():
        for section in topic.sections:
            seen.update(dict.fromkeys(section.needs))
    return tuple(seen)


def optional_columns() -> tuple[str, ...]:
    """The ``table.column`` needs of the registry's sections (``psy_*``/``dim_*`` families
    as such), each checked against the contract."""
    found = []
    for need in section_needs():
        if "." not in need:
            continue
        table, column = need.split(".", 1)
        spec = TABLES[table]
        if column.endswith("*"):
            assert column[:-1] in spec.prefixes, need
        else:
            assert spec.column(column) is not None and column not in spec.required_columns, need
        found.append(need)
    return tuple(found)


def _columns_of(frame: pd.DataFrame, column: str) -> list[str]:
    """The frame's columns a need names: one column, or a ``prefix_*`` family."""
    if column.endswith("*"):
        return [c for c in frame.columns if c.startswith(column[:-1])]
    return [column] if column in frame.columns else []


def absent_needs(tables: Tables) -> frozenset[str]:
    """What these tables lack: every contract table absent or without rows, and every column
    (family) a registry section needs that is absent from a table with rows."""
    absent = {name for name in TABLES if tables.get(name) is None or tables[name].empty}
    for need in section_needs():
        table, _, column = need.partition(".")
        frame = tables.get(table)
        if frame is None or frame.empty:
            absent.add(need)
            absent.add(table)
        elif column and not _columns_of(frame, column):
            absent.add(need)
    return frozenset(absent)


# ----------------------------------------------------------------------------- variants


def required_only(tables: Tables) -> Tables:
    return {name: tables[name][TABLES[name].required_columns].copy() for name in REQUIRED_TABLES}


def without_table(name: str) -> Callable[[Tables], Tables]:
    def cut(tables: Tables) -> Tables:
        return {t: frame for t, frame in tables.items() if t != name}

    return cut


def header_only(name: str) -> Callable[[Tables], Tables]:
    def cut(tables: Tables) -> Tables:
        return {**tables, name: tables[name].iloc[0:0]}

    return cut


def without_column(need: str) -> Callable[[Tables], Tables]:
    table, column = need.split(".", 1)

    def cut(tables: Tables) -> Tables:
        frame = tables[table]
        return {**tables, table: frame.drop(columns=_columns_of(frame, column))}

    return cut


def _default(name: str) -> Any:
    """A topic parameter's default, from the registry."""
    for topic in TOPICS.values():
        for parameter in topic.parameters:
            if parameter.name == name:
                return parameter.default
    raise KeyError(name)


def _period_bounds() -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(PERIOD["period_start"]), pd.Timestamp(PERIOD["period_end"])


def _with_opportunities(tables: Tables, opportunities: pd.DataFrame, stages=None) -> Tables:
    stages = tables["stage_history"] if stages is None else stages
    stages = stages.loc[stages["opportunity_id"].isin(set(opportunities["opportunity_id"]))]
    return {**tables, "opportunities": opportunities, "stage_history": stages}


def no_open_opportunities(tables: Tables) -> Tables:
    """Every open opportunity closed as lost, on the day after its last stage (at most the
    period end), so nothing is open at the period end."""
    opportunities = tables["opportunities"].copy()
    stages = tables["stage_history"]
    last = pd.to_datetime(stages["entered_at"]).groupby(stages["opportunity_id"]).max()
    is_open = opportunities["outcome"] == "open"
    ids = opportunities.loc[is_open, "opportunity_id"]
    closed = (ids.map(last) + pd.Timedelta(days=1)).clip(upper=_period_bounds()[1])
    opportunities.loc[is_open, "outcome"] = "lost"
    opportunities.loc[is_open, "closed_at"] = closed.dt.strftime("%Y-%m-%d")
    return {**tables, "opportunities": opportunities}


def all_open_opportunities(tables: Tables) -> Tables:
    """Every opportunity open: no outcome, no close date, and no entry into the won stage."""
    opportunities = tables["opportunities"].assign(outcome="open", closed_at="")
    stages = tables["stage_history"]
    won = stages["stage"] == _default("funnel_stages")[-1]
    return _with_opportunities(tables, opportunities, stages.loc[~won])


def no_opportunities_in_period(tables: Tables) -> Tables:
    """No opportunity created in the period (older ones, open or closed, remain)."""
    opportunities = tables["opportunities"]
    start, end = _period_bounds()
    created = pd.to_datetime(opportunities["created_at"])
    return _with_opportunities(
        tables, opportunities.loc[(created < start) | (created > end + pd.Timedelta(days=1))]
    )


def one_stage(tables: Tables) -> Tables:
    """The stage history holds one stage name: each opportunity's first stage only."""
    stages = tables["stage_history"]
    first = stages["stage"].iloc[0]
    return {**tables, "stage_history": stages.loc[stages["stage"] == first]}


def no_comments(tables: Tables) -> Tables:
    """Survey comments present as a column, every one empty."""
    return {**tables, "surveys": tables["surveys"].assign(comment="")}


def one_region(tables: Tables) -> Tables:
    """Every customer in the same region."""
    customers = tables["customers"]
    return {**tables, "customers": customers.assign(region=customers["region"].iloc[0])}


def _keep_customers(tables: Tables, ids: Iterable[str]) -> Tables:
    ids = set(ids)
    out = {}
    for name, frame in tables.items():
        if name in ("opportunities", "stage_history", "costs"):
            out[name] = frame
        else:
            out[name] = frame.loc[frame["customer_id"].isin(ids)]
    return out


def five_customers(tables: Tables) -> Tables:
    """A unit of five customers (the first five to sign up who bought before the period
    end), their rows, and a handful of opportunities."""
    customers = tables["customers"].sort_values("signup_date")
    orders = tables["transactions"]
    bought = set(orders.loc[orders["order_date"] <= PERIOD["period_end"], "customer_id"])
    ids = customers.loc[customers["customer_id"].isin(bought), "customer_id"].head(5)
    out = _keep_customers(tables, ids)
    opportunities = tables["opportunities"].sort_values("created_at").tail(8)
    return _with_opportunities(out, opportunities)


QUIET_PERIOD = {"period_start": "2026-04-01", "period_end": "2026-06-30"}
"""The period of ``period_without_rows``: the quarter before :data:`PERIOD`, so the orders
after it (in :data:`PERIOD`) show the unit is alive and only this quarter was quiet."""


def period_without_rows(tables: Tables) -> Tables:
    """No order dated in :data:`QUIET_PERIOD`; orders before and after it remain."""
    orders = tables["transactions"]
    start, end = (pd.Timestamp(QUIET_PERIOD[k]) for k in ("period_start", "period_end"))
    dates = pd.to_datetime(orders["order_date"])
    inside = (dates >= start) & (dates < end + pd.Timedelta(days=1))
    return {**tables, "transactions": orders.loc[~inside]}


def one_order_per_customer(tables: Tables) -> Tables:
    """Each customer's first order only: nobody has bought twice."""
    orders = tables["transactions"].sort_values(["order_date", "order_id"])
    return {**tables, "transactions": orders.drop_duplicates("customer_id")}


def _same(tables: Tables) -> Tables:
    return tables


SHAPES: dict[str, tuple[Callable[[Tables], Tables], dict[str, Any]]] = {
    "no_open_opportunities": (no_open_opportunities, {}),
    "all_open_opportunities": (all_open_opportunities, {}),
    "no_opportunities_in_period": (no_opportunities_in_period, {}),
    "one_stage": (one_stage, {}),
    "stages_not_in_data": (
        _same,
        {"funnel_stages": ["prospect", "qualified", "proposal", "signed"]},
    ),
    "no_comments": (no_comments, {}),
    "one_region": (one_region, {}),
    "five_customers": (five_customers, {}),
    "period_without_rows": (period_without_rows, QUIET_PERIOD),
    "one_order_per_customer": (one_order_per_customer, {}),
}
"""The degenerate shapes: each a cut of the tables and the parameters it runs with."""


IN_CHINESE = (
    "full",
    "required_only",
    "five_customers",
    "period_without_rows",
    "header_only_surveys",
)
"""Variants also run with ``language: zh`` (as ``zh_<name>``): what a Chinese report says when
data is missing or degenerate must be Chinese too."""


def variant_plans() -> dict[str, tuple[Callable[[Tables], Tables], dict[str, Any]]]:
    """Every variant's name, its cut and its parameters, in a stable order."""
    plans: dict[str, tuple[Callable[[Tables], Tables], dict[str, Any]]] = {
        "full": (_same, {}),
        "required_only": (required_only, {}),
    }
    plans.update({f"no_{name}": (without_table(name), {}) for name in OPTIONAL_TABLES})
    plans.update({f"no_{need}": (without_column(need), {}) for need in optional_columns()})
    plans.update({f"header_only_{name}": (header_only(name), {}) for name in OPTIONAL_TABLES})
    plans.update(SHAPES)
    plans.update(
        {
            f"zh_{name}": (plans[name][0], {**plans[name][1], "language": "zh"})
            for name in IN_CHINESE
        }
    )
    return plans


VARIANTS: tuple[str, ...] = tuple(variant_plans())
"""Every variant's name."""


def variant_tables(name: str) -> tuple[Tables, dict[str, Any]]:
    """A variant's tables (frames of text, as written) and its parameters."""
    cut, parameters = variant_plans()[name]
    return cut(_copy(base_tables())), dict(parameters)


def write_tables(folder: Path, tables: Tables) -> Path:
    """The tables as ``<name>.csv`` files in ``folder`` (created), UTF-8, no index."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def build_variant(name: str, root: Path) -> Variant:
    """Write variant ``name`` to ``root/<name>`` and describe it."""
    tables, parameters = variant_tables(name)
    folder = write_tables(Path(root) / name, tables)
    return Variant(name, folder, parameters, absent_needs(tables), frozenset(tables))


@cache
def variant_facts(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """What variant ``name`` lacks and which tables it has (as :class:`Variant`'s
    ``absent`` and ``tables``), without writing it."""
    tables, _ = variant_tables(name)
    return absent_needs(tables), frozenset(tables)


def build_variants(root: Path, names: Iterable[str] | None = None) -> dict[str, Variant]:
    """Every variant (or those named), each in its own folder under ``root``."""
    return {name: build_variant(name, root) for name in (names or VARIANTS)}
