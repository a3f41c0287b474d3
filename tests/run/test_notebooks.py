"""The packaged notebooks: outputs cleared, a literal parameters cell, registered names."""

import ast

import nbformat
import pytest
from conftest import ROOT

from crmkit.run.plan import packaged_notebooks
from crmkit.topics.registry import topic_names

PRESENT = [n for n in topic_names() if (packaged_notebooks() / f"{n}.ipynb").exists()]


@pytest.mark.parametrize("name", PRESENT)
def test_committed_clean_with_literal_parameters(name):
    notebook = nbformat.read(packaged_notebooks() / f"{name}.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    parameters = notebook.cells[1]
    assert "parameters" in parameters.metadata.get("tags", [])
    for statement in ast.parse(parameters.source).body:
        assert isinstance(statement, ast.Assign)
        ast.literal_eval(statement.value)  # literals only
    for line in parameters.source.splitlines():
        assert "#" in line, f"parameter without a comment: {line}"
    assert "period_start" in parameters.source and "period_end" in parameters.source
    assert "ck.nb.publish_results" in code[-1].source


def test_data_quality_is_present():
    assert "data_quality" in PRESENT


def test_every_packaged_notebook_is_a_registered_topic():
    # the runner only runs registered notebooks: an unregistered one would be skipped unseen
    shipped = sorted(p.stem for p in packaged_notebooks().glob("*.ipynb"))
    assert shipped == sorted(PRESENT)


def test_the_repositorys_notebooks_folder_is_the_packaged_one():
    assert (ROOT / "notebooks").resolve() == packaged_notebooks().resolve()
