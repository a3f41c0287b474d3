from pathlib import Path

import pytest

from crmkit.core.errors import ParameterError
from crmkit.run.params import deep_merge, load_params, portfolio_language, unit_files
from crmkit.topics.registry import TOPICS


def test_deep_merge_merges_nested_and_leaves_inputs_alone():
    base = {"a": 1, "m": {"x": 1, "y": 2}}
    override = {"m": {"y": 3}, "b": 2}
    assert deep_merge(base, override) == {"a": 1, "b": 2, "m": {"x": 1, "y": 3}}
    assert base == {"a": 1, "m": {"x": 1, "y": 2}}


def test_unit_file_over_defaults_over_builtins(tmp_path: Path):
    params = tmp_path / "parameters"
    params.mkdir()
    (params / "defaults.yaml").write_text("currency: EUR\ncolumn_map: {Kunde: customer_id}\n")
    (params / "east.yaml").write_text(
        "business_unit: east\ncolumn_map: {Datum: order_date}\ndata_source: data\n"
    )
    merged = load_params(params / "east.yaml")
    assert merged["currency"] == "EUR"
    assert merged["column_map"] == {"Kunde": "customer_id", "Datum": "order_date"}
    funnel_stages = next(p for p in TOPICS["funnel"].parameters if p.name == "funnel_stages")
    assert (
        merged["funnel_stages"] == funnel_stages.default == ["lead", "intent", "negotiation", "won"]
    )
    assert merged["data_source"] == str(tmp_path / "data")


def test_works_without_defaults_file(tmp_path: Path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "u.yaml").write_text("business_unit: 7\ncurrency: EUR\ndata_source: d\n")
    assert load_params(tmp_path / "p" / "u.yaml")["business_unit"] == "7"
    assert [f.name for f in unit_files(tmp_path / "p")] == ["u.yaml"]


def test_unit_file_must_name_its_unit(tmp_path: Path):
    (tmp_path / "u.yaml").write_text("display_name: x\ncurrency: EUR\n")
    with pytest.raises(ParameterError, match="must name its unit"):
        load_params(tmp_path / "u.yaml")


def test_yaml_that_is_not_a_mapping(tmp_path: Path):
    (tmp_path / "u.yaml").write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="must hold a mapping"):
        load_params(tmp_path / "u.yaml")


def test_folder_without_units(tmp_path: Path):
    (tmp_path / "defaults.yaml").write_text("currency: CNY\n")
    with pytest.raises(ParameterError, match="holds no unit YAML"):
        unit_files(tmp_path)


def test_unit_without_currency_is_refused(tmp_path: Path):
    (tmp_path / "u.yaml").write_text("business_unit: u\ndata_source: d\n")
    with pytest.raises(ParameterError, match=r"does not set \['currency'\]; add `currency: <ISO"):
        load_params(tmp_path / "u.yaml")


def test_unknown_key_names_the_nearest_known_one(tmp_path: Path):
    (tmp_path / "u.yaml").write_text("business_unit: u\ncurrency: EUR\ndata_sorce: d\n")
    with pytest.raises(
        ParameterError, match=r"unknown parameter 'data_sorce'\. Did you mean 'data_source'"
    ):
        load_params(tmp_path / "u.yaml")
    (tmp_path / "defaults.yaml").write_text("funnel_stage: [a, b]\n")
    (tmp_path / "v.yaml").write_text("business_unit: v\ncurrency: EUR\ndata_source: d\n")
    with pytest.raises(ParameterError, match=r"defaults\.yaml: unknown parameter 'funnel_stage'"):
        load_params(tmp_path / "v.yaml")


def test_relative_database_paths_resolve_against_the_project_root(tmp_path: Path):
    params = tmp_path / "parameters"
    params.mkdir()
    (params / "u.yaml").write_text(
        "business_unit: u\ncurrency: EUR\ndata_source: sqlite:///data/crm.db\n"
    )
    assert load_params(params / "u.yaml")["data_source"] == f"sqlite:///{tmp_path}/data/crm.db"


def test_report_language_per_unit_and_for_the_portfolio(tmp_path: Path):
    unit = "business_unit: u\ncurrency: CNY\ndata_source: d\n"
    (tmp_path / "u.yaml").write_text(unit)
    assert load_params(tmp_path / "u.yaml")["language"] == "en"  # the default
    assert portfolio_language(tmp_path) == "en"  # no defaults.yaml
    (tmp_path / "defaults.yaml").write_text("language: zh\n")
    assert load_params(tmp_path / "u.yaml")["language"] == "zh"
    assert portfolio_language(tmp_path) == "zh"
    (tmp_path / "u.yaml").write_text(unit + "language: en\n")
    assert load_params(tmp_path / "u.yaml")["language"] == "en"  # the unit's own choice
    (tmp_path / "u.yaml").write_text(unit + "language: Chinese\n")
    with pytest.raises(
        ParameterError, match=r"'language' must be one of \['en', 'zh'\].*'Chinese'"
    ):
        load_params(tmp_path / "u.yaml")
    (tmp_path / "defaults.yaml").write_text("language: fr\n")
    with pytest.raises(ParameterError, match=r"defaults.yaml: 'language' must be one of"):
        portfolio_language(tmp_path)
