"""The committed notebooks: outputs cleared, a literal parameters cell, defaults that run."""

import ast

import nbformat
import pytest
from conftest import ROOT

from crmkit.run.report import NOTEBOOKS

PRESENT = [n for n in NOTEBOOKS if (ROOT / "notebooks" / f"{n}.ipynb").exists()]


@pytest.mark.parametrize("name", PRESENT)
def test_committed_clean_with_literal_parameters(name):
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
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
