"""The `crmkit` command's options, errors and start-up cost (no notebook is executed here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_tables, write_folder

import crmkit.run.fleet
from crmkit.run.cli import build_parser, main
from crmkit.topics.registry import topic_names


def make_params(tmp_path: Path, tables: dict) -> Path:
    data = write_folder(tmp_path / "data", tables)
    params = tmp_path / "parameters"
    params.mkdir()
    (params / "alpha.yaml").write_text(
        f"business_unit: alpha\ncurrency: USD\ndata_source: {data}\n"
    )
    return params


def test_validate_prints_the_log(tmp_path: Path, capsys):
    tables = tiny_tables()
    tables["transactions"] = pd.concat([tables["transactions"]] * 2)
    params = make_params(tmp_path, tables)
    status = main(
        [
            "validate",
            "--params",
            str(params / "alpha.yaml"),
            "--period",
            "2026-Q3",
            "--as-of",
            "2026-10-15",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "✓ alpha" in out and "dropped 4" in out
    assert "transactions: exact duplicate row: dropped 4 e.g. o1, o2, o3, o4\n" in out
    assert "o5" not in out  # beta's row is not alpha's concern


def test_validate_exits_1_on_unusable_data(tmp_path: Path, capsys):
    tables = tiny_tables()
    tables["customers"] = tables["customers"].drop(columns="signup_date")
    params = make_params(tmp_path, tables)
    status = main(["validate", "--params-dir", str(params), "--period", "2026-Q3"])
    out = capsys.readouterr().out
    assert status == 1
    assert "✗ alpha" in out and "missing required column(s) ['signup_date']" in out


def test_run_rejects_unknown_unit_and_notebook(tmp_path: Path, capsys):
    params = make_params(tmp_path, tiny_tables())
    assert (
        main(["run", "--params", str(params), "--unit", "gamma", "--out", str(tmp_path / "r")]) == 2
    )
    assert "Unit(s) ['gamma'] have no parameter file" in capsys.readouterr().err
    assert (
        main(["run", "--params", str(params), "--notebook", "nps", "--out", str(tmp_path / "r")])
        == 2
    )
    assert "Unknown notebook(s) ['nps']" in capsys.readouterr().err


def test_bad_period_is_a_clear_error(tmp_path: Path, capsys):
    params = make_params(tmp_path, tiny_tables())
    assert main(["run", "--params", str(params), "--period", "Q9"]) == 2
    assert "Period 'Q9' is not understood" in capsys.readouterr().err


def test_planning_zero_runs_exits_2_with_the_reason(tmp_path: Path, capsys):
    params = make_params(tmp_path, tiny_tables())
    empty = tmp_path / "my_notebooks"
    empty.mkdir()
    out = tmp_path / "r"
    run = ["run", "--params", str(params), "--out", str(out), "--period", "2026-Q3"]
    assert main([*run, "--notebooks", str(empty)]) == 2
    assert f"No notebooks found in {empty}" in capsys.readouterr().err
    assert main([*run, "--notebooks", str(empty), "--notebook", "clv"]) == 2
    assert "Notebook(s) ['clv'] not found in" in capsys.readouterr().err
    no_units = tmp_path / "no_units"
    no_units.mkdir()
    assert main(["run", "--params", str(no_units), "--out", str(out)]) == 2
    assert "holds no unit YAML files" in capsys.readouterr().err
    assert not out.exists()  # nothing ran, no empty portfolio


def test_run_passes_as_of_to_every_job_as_validate_does(tmp_path: Path, monkeypatch):
    params = make_params(tmp_path, tiny_tables())
    (params / "beta.yaml").write_text(
        "business_unit: beta\ncurrency: USD\ndata_source: data\nas_of: '2026-10-01'\n"
    )
    planned = []

    def run_jobs(jobs, **kwargs):
        planned.extend(jobs)
        return []

    monkeypatch.setattr(crmkit.run.fleet, "run_jobs", run_jobs)
    run = ["run", "--params", str(params), "--out", str(tmp_path / "r"), "--notebook", "clv"]
    assert main([*run, "--period", "last-quarter", "--as-of", "2026-10-15", "--no-progress"]) == 0
    assert {j.params["business_unit"]: j.params["as_of"] for j in planned} == {
        "alpha": "2026-10-15",
        "beta": "2026-10-15",
    }
    assert {(j.period.label, str(j.period.end)) for j in planned} == {("2026-Q3", "2026-09-30")}
    planned.clear()
    assert main([*run, "--period", "2026-Q3", "--no-progress"]) == 0
    assert {j.params["business_unit"]: j.params["as_of"] for j in planned} == {
        "alpha": "",
        "beta": "2026-10-01",
    }


def test_notebook_help_lists_the_registered_names(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"run only this notebook (repeatable): {', '.join(topic_names())}" in help_text


def test_sample_command_writes_a_smaller_set(tmp_path: Path, capsys):
    assert main(["sample", "--out", str(tmp_path / "s"), "--customers", "150", "--seed", "3"]) == 0
    customers = pd.read_csv(tmp_path / "s" / "customers.csv")
    assert customers.groupby("business_unit").size().tolist() == [150, 150, 150, 150 + 10]


LIGHT = """
import sys
from crmkit.run.cli import main
status = main({argv!r})
heavy = sorted(m for m in ("papermill", "nbconvert", "jupyter_client") if m in sys.modules)
assert status == {status}, status
assert not heavy, heavy
"""


@pytest.mark.parametrize("command", ["sample", "validate"])
def test_sample_and_validate_start_without_papermill_or_nbconvert(tmp_path: Path, command):
    if command == "sample":
        argv, status = ["sample", "--out", str(tmp_path / "s"), "--customers", "60"], 0
    else:
        params = make_params(tmp_path, tiny_tables())
        argv, status = ["validate", "--params-dir", str(params), "--period", "2026-Q3"], 0
    script = LIGHT.format(argv=argv, status=status)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # the check can fail: the workers' preload imports them
    heavy = "import sys, crmkit.run.worker\nassert {'papermill', 'nbconvert'} <= set(sys.modules)"
    assert subprocess.run([sys.executable, "-c", heavy]).returncode == 0


def test_validate_into_a_closed_pipe_ends_quietly(tmp_path: Path, monkeypatch):
    """`crmkit validate | head -1`: the reader has gone; no BrokenPipeError traceback, and
    the status a shell gives a process ended by SIGPIPE."""
    import os

    params = make_params(tmp_path, tiny_tables())
    read_end, write_end = os.pipe()
    os.close(read_end)
    closed = open(write_end, "w", buffering=1, encoding="utf-8")  # noqa: SIM115
    monkeypatch.setattr(sys, "stdout", closed)
    status = main(["validate", "--params", str(params / "alpha.yaml"), "--period", "2026-Q3"])
    assert status == 141
