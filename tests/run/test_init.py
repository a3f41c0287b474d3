"""`crmkit init`: a starter project from the registry and the data contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from crmkit.core.errors import ParameterError
from crmkit.core.schema import TABLES
from crmkit.run.cli import main
from crmkit.run.params import load_params
from crmkit.run.plan import packaged_notebooks
from crmkit.topics.registry import unit_parameters


def test_init_writes_a_unit_file_and_the_data_readme(tmp_path: Path, capsys):
    project = tmp_path / "acme"
    assert main(["init", str(project), "--unit", "north"]) == 0
    out = capsys.readouterr().out
    unit_file = project / "parameters" / "north.yaml"
    readme = project / "data" / "README.md"
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == [
        "data",
        "data/README.md",
        "parameters",
        "parameters/north.yaml",
    ]
    assert str(unit_file) in out and str(readme) in out
    assert f"crmkit validate --params {unit_file}" in out
    assert f"crmkit run --params {project / 'parameters'} --out {project / 'reports'}" in out
    # the currency is the user's to state: until then the unit is refused, saying so
    with pytest.raises(ParameterError, match=r"does not set \['currency'\]"):
        load_params(unit_file)
    unit_file.write_text(unit_file.read_text().replace('currency: ""', "currency: EUR"))
    params = load_params(unit_file)
    assert (params["business_unit"], params["currency"]) == ("north", "EUR")
    assert params["data_source"] == str((project / "data").resolve())


def test_the_unit_file_documents_every_parameter_at_its_default(tmp_path: Path):
    main(["init", str(tmp_path), "--unit", "north"])
    text = (tmp_path / "parameters" / "north.yaml").read_text(encoding="utf-8")
    uncommented = yaml.safe_load(re.sub(r"^# (\w+:)", r"\1", text, flags=re.M))
    known = unit_parameters()
    assert set(uncommented) == set(known)
    for name, parameter in known.items():
        assert f"  # {parameter.meaning}\n" in text
        if not parameter.required and name != "display_name":
            assert uncommented[name] == parameter.default, name
    # as written, only what a unit must say is set
    assert set(yaml.safe_load(text)) == {"business_unit", "display_name", "currency", "data_source"}


def test_the_data_readme_lists_each_table_and_its_required_columns(tmp_path: Path):
    main(["init", str(tmp_path)])
    readme = (tmp_path / "data" / "README.md").read_text(encoding="utf-8")
    for name, spec in TABLES.items():
        need = "required" if spec.required_table else "optional"
        assert f"| `{name}.csv` | {need} | {spec.grain} | {', '.join(spec.required_columns)} |" in (
            readme
        )


def test_init_copies_the_notebooks_on_request(tmp_path: Path):
    assert main(["init", str(tmp_path), "--notebooks"]) == 0
    copies = sorted((tmp_path / "notebooks").glob("*.ipynb"))
    assert [p.name for p in copies] == sorted(p.name for p in packaged_notebooks().glob("*.ipynb"))
    for copy in copies:
        assert copy.read_bytes() == (packaged_notebooks() / copy.name).read_bytes()
    assert (tmp_path / "parameters" / "my_unit.yaml").exists()


def test_init_never_overwrites(tmp_path: Path, capsys):
    assert main(["init", str(tmp_path)]) == 0
    unit_file = tmp_path / "parameters" / "my_unit.yaml"
    unit_file.write_text("business_unit: mine\n")
    assert main(["init", str(tmp_path), "--notebooks"]) == 2
    err = capsys.readouterr().err
    assert "init does not overwrite files" in err and str(unit_file) in err
    assert unit_file.read_text() == "business_unit: mine\n"
    assert not (tmp_path / "notebooks").exists()  # nothing written at all
    # another unit in the same project is fine, except for the data README it shares
    assert main(["init", str(tmp_path), "--unit", "south"]) == 2
    assert "data/README.md" in capsys.readouterr().err


def test_init_refuses_a_unit_that_is_not_a_file_name(tmp_path: Path, capsys):
    assert main(["init", str(tmp_path), "--unit", "../x"]) == 2
    assert "--unit must be a unit id usable as a file name" in capsys.readouterr().err
    assert main(["init", str(tmp_path), "--unit", "aux"]) == 2
    assert "'aux' is a device name on Windows" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_init_then_run(tmp_path: Path):
    acme = tmp_path / "acme"
    assert main(["init", str(acme)]) == 0
    unit_file = acme / "parameters" / "my_unit.yaml"
    text = unit_file.read_text(encoding="utf-8")
    text = re.sub(r"^business_unit: .*$", "business_unit: north", text, flags=re.M)
    text = re.sub(r"^currency: .*$", "currency: USD", text, flags=re.M)
    text = re.sub(r"^data_source: .*$", f"data_source: {ROOT / 'sample_data'}", text, flags=re.M)
    unit_file.write_text(text, encoding="utf-8")
    reports = acme / "reports"
    argv = ["run", "--period", "2026-Q3", "--params", str(acme / "parameters")]
    argv += ["--notebook", "data_quality", "--out", str(reports), "--no-progress"]
    assert main(argv) == 0
    record = json.loads((reports / "2026-Q3" / "north" / "data_quality.json").read_text())
    assert record["status"] == "ok" and record["currency"] == "USD"
    assert record["results"]["customers"] > 0
    for name in ("index.html", "2026-Q3/index.html", "2026-Q3/north/data_quality.html"):
        assert (reports / name).is_file(), name
