"""Planning: units × registered notebooks, the packaged notebooks by default, as_of, cwd."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.run.plan import find_notebooks, packaged_notebooks, plan_jobs
from crmkit.topics.registry import topic_names

PERIOD = parse_period("2026-Q3")


@pytest.fixture
def params_dir(tmp_path: Path) -> Path:
    params = tmp_path / "project" / "parameters"
    params.mkdir(parents=True)
    for unit, as_of in (("north", ""), ("south", "2026-01-01")):
        (params / f"{unit}.yaml").write_text(
            f"business_unit: {unit}\ncurrency: USD\ndata_source: data\nas_of: '{as_of}'\n"
        )
    return params


def test_the_packaged_notebooks_are_the_default(params_dir: Path, tmp_path: Path):
    jobs = plan_jobs(PERIOD, params_dir=params_dir, out=tmp_path / "reports")
    packaged = find_notebooks()
    assert packaged and set(packaged) <= set(topic_names())
    assert [(j.params["business_unit"], j.notebook) for j in jobs] == [
        (unit, name) for unit in ("north", "south") for name in packaged
    ]
    assert all(Path(j.notebook_path).parent == packaged_notebooks().resolve() for j in jobs)
    assert jobs[0].out_dir == str((tmp_path / "reports" / "2026-Q3" / "north").resolve())


def test_notebooks_run_in_the_project_root(params_dir: Path, tmp_path: Path):
    jobs = plan_jobs(PERIOD, params_dir=params_dir, out=tmp_path / "r", notebooks=["clv"])
    assert {j.cwd for j in jobs} == {str(params_dir.parent.resolve())}


def test_as_of_overrides_each_units_own_as_validate_does(params_dir: Path, tmp_path: Path):
    def as_ofs(as_of: str) -> dict[str, str]:
        jobs = plan_jobs(
            PERIOD, params_dir=params_dir, out=tmp_path / "r", notebooks=["clv"], as_of=as_of
        )
        return {j.params["business_unit"]: j.params["as_of"] for j in jobs}

    assert as_ofs("2026-10-15") == {"north": "2026-10-15", "south": "2026-10-15"}
    assert as_ofs("") == {"north": "", "south": "2026-01-01"}


def test_units_and_notebooks_select(params_dir: Path, tmp_path: Path):
    jobs = plan_jobs(
        PERIOD,
        params_dir=params_dir,
        out=tmp_path / "r",
        units=["south"],
        notebooks=["funnel", "data_quality"],
    )
    assert [(j.params["business_unit"], j.notebook) for j in jobs] == [
        ("south", "data_quality"),
        ("south", "funnel"),
    ]


def test_unknown_names_are_refused(params_dir: Path, tmp_path: Path):
    with pytest.raises(ParameterError, match=r"Unknown notebook\(s\) \['nps'\]"):
        plan_jobs(PERIOD, params_dir=params_dir, out=tmp_path / "r", notebooks=["nps"])
    with pytest.raises(ParameterError, match=r"Unit\(s\) \['east'\] have no parameter file"):
        plan_jobs(PERIOD, params_dir=params_dir, out=tmp_path / "r", units=["east"])


def test_planning_zero_runs_is_an_error(params_dir: Path, tmp_path: Path):
    empty = tmp_path / "my_notebooks"
    empty.mkdir()
    (empty / "scratch.ipynb").write_text("{}")  # not a registered topic's notebook
    with pytest.raises(ParameterError, match=f"No notebooks found in {re.escape(str(empty))}"):
        plan_jobs(PERIOD, params_dir=params_dir, out=tmp_path / "r", notebooks_dir=empty)
    with pytest.raises(ParameterError, match=r"Notebook\(s\) \['funnel'\] not found in"):
        find_notebooks(empty, ["funnel"])
    with pytest.raises(ParameterError, match=r"Notebooks folder .* does not exist"):
        find_notebooks(tmp_path / "nowhere")
    no_units = tmp_path / "no_units"
    no_units.mkdir()
    with pytest.raises(ParameterError, match="holds no unit YAML files"):
        plan_jobs(PERIOD, params_dir=no_units, out=tmp_path / "r")


def test_a_customised_folder_may_hold_some_notebooks(params_dir: Path, tmp_path: Path):
    mine = tmp_path / "my_notebooks"
    mine.mkdir()
    (mine / "funnel.ipynb").write_bytes((packaged_notebooks() / "funnel.ipynb").read_bytes())
    jobs = plan_jobs(PERIOD, params_dir=params_dir, out=tmp_path / "r", notebooks_dir=mine)
    assert {j.notebook for j in jobs} == {"funnel"}
    assert {j.notebook_path for j in jobs} == {str((mine / "funnel.ipynb").resolve())}
