"""The registry is the one place a topic is declared: everything that lists topics agrees."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
import yaml
from conftest import ROOT

from crmkit.core.errors import ParameterError
from crmkit.core.schema import TABLES
from crmkit.topics import registry
from crmkit.topics.registry import TOPICS

NOTEBOOKS = ROOT / "crmkit" / "notebooks"


def test_registered_topics_are_exactly_the_shipped_notebooks():
    shipped = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert sorted(TOPICS) == shipped


@pytest.mark.parametrize("name", list(TOPICS))
def test_notebook_parameters_cell_is_the_registrys(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    cell = notebook.cells[1]
    assert "parameters" in cell.metadata.get("tags", [])
    expected = registry.parameters_cell(TOPICS[name])
    assert cell.source.strip() == expected, (
        f"notebooks/{name}.ipynb's parameters cell differs from the registry; it should read:\n"
        f"{expected}"
    )
    values = {
        statement.targets[0].id: ast.literal_eval(statement.value)
        for statement in ast.parse(cell.source).body
    }
    assert values == {p.name: p.default for p in TOPICS[name].all_parameters()}


def test_parameters_cell_lines_fit_the_line_length():
    for topic in TOPICS.values():
        for line in registry.parameters_cell(topic).splitlines():
            assert len(line) <= 100, line


def test_defaults_yaml_is_generated_from_the_registry():
    text = (ROOT / "parameters" / "defaults.yaml").read_text(encoding="utf-8")
    assert text == registry.defaults_yaml()
    shared = yaml.safe_load(text)
    defaults = registry.parameter_defaults()
    assert {k: v for k, v in shared.items() if k != "data_source"} == defaults


def test_readme_results_table_is_the_registrys():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert registry.results_table() in readme


def test_key_figures_are_results_with_a_known_unit():
    for topic in TOPICS.values():
        for figure in topic.key_figures:
            assert figure.key in topic.results, (topic.name, figure.key)
            assert figure.unit in registry.FIGURE_UNITS
            for field in re.findall(r"{(\w+)}", figure.detail):
                assert field in topic.results, (topic.name, field)


def test_tables_and_sections_name_contract_tables_and_columns():
    for topic in TOPICS.values():
        assert set(topic.tables) <= set(TABLES), topic.name
        for section in topic.sections:
            for need in section.needs:
                table, _, column = need.partition(".")
                assert table in TABLES, need
                if column:
                    spec = TABLES[table]
                    assert spec.column(column.replace("*", "x")) is not None, need


def test_each_parameter_is_declared_once():
    """A name has one declaration; topics that read the same setting (the CLV settings, read
    by clv and churn) share the one object."""
    declared = list(registry.COMMON_PARAMETERS)
    declared += [p for topic in TOPICS.values() for p in topic.parameters]
    by_name = {}
    for parameter in declared:
        assert by_name.setdefault(parameter.name, parameter) is parameter, parameter.name
    assert TOPICS["churn"].parameters[-3:] == TOPICS["clv"].parameters


def test_unknown_topic_names_the_registered_ones():
    assert [t.name for t in registry.get_topics(["clv", "funnel"])] == ["clv", "funnel"]
    assert registry.get_topics(None) == list(TOPICS.values())
    with pytest.raises(ParameterError, match=r"Unknown notebook\(s\) \['funel'\].*'funnel'"):
        registry.get_topics(["funel"])


def test_unit_keys_are_checked_against_every_topic():
    registry.check_unit_keys({"funnel_stages": [], "clv_horizon_months": 6}, where="u.yaml")
    with pytest.raises(ParameterError, match=r"u\.yaml: unknown parameter 'clv_horizon'"):
        registry.check_unit_keys({"clv_horizon": 6}, where="u.yaml")
