"""Loading each unit once: staged runs, one-task-per-run scheduling, and Dask clusters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import ROOT

from crmkit.core.periods import parse_period
from crmkit.load.snapshot import loading_key
from crmkit.run.cli import main
from crmkit.run.execute import job_parameters, notebook_parameters
from crmkit.run.plan import Job, plan_jobs

pytestmark = pytest.mark.slow


def results(folder: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text("utf-8"))["results"] for p in folder.glob("*.json")}


def test_every_packaged_notebook_reads_the_snapshot_of_its_unit(tmp_path: Path):
    # The notebook's own values (its parameters cell, then what the runner injects) must give
    # the loading key the snapshot was written with, or every notebook would load again.
    jobs = plan_jobs(parse_period("2026-Q3"), params_dir=ROOT / "parameters", out=tmp_path)
    for job in jobs:
        notebook = nbformat.read(job.notebook_path, as_version=4)
        namespace: dict = {}
        exec(notebook.cells[1].source, namespace)
        namespace.update(notebook_parameters(job))
        assert "snapshot" in namespace, job.notebook
        assert loading_key(namespace) == loading_key(job_parameters(job)), job.notebook


def test_the_fleet_keeps_each_units_snapshot_beside_its_reports(sample_fleet):
    for unit in ("north", "east"):
        snapshot = sample_fleet["period_dir"] / unit / "snapshot"
        customers = pd.read_parquet(snapshot / "customers.parquet")
        data_quality = json.loads((snapshot.parent / "data_quality.json").read_text("utf-8"))
        assert len(customers) == data_quality["results"]["customers"]
        assert "email" not in customers.columns
    # a unit that cannot be loaded has no snapshot: its reports say why, as before
    assert not (sample_fleet["period_dir"] / "broken" / "snapshot").exists()


def test_a_scheduler_stages_runs_single_reports_and_writes_the_index_last(
    sample_fleet, tmp_path: Path
):
    params = sample_fleet["out"].parent / "parameters"
    out = tmp_path / "reports"
    common = ["--period", "2026-Q3", "--params", str(params), "--out", str(out)]
    assert main(["stage", *common, "--unit", "north", "--threads", "2"]) == 0
    snapshot = out / "2026-Q3" / "north" / "snapshot"
    # a snapshot that differs from the source shows the runs read it: 100 customers fewer
    customers = pd.read_parquet(snapshot / "customers.parquet")
    customers.iloc[100:].to_parquet(snapshot / "customers.parquet", index=False)
    run = ["run", *common, "--unit", "north", "--no-index", "--no-progress"]
    assert main([*run, "--notebook", "data_quality", "--snapshots", "staged"]) == 0
    assert not (out / "2026-Q3" / "index.html").exists()
    staged = results(out / "2026-Q3" / "north")["data_quality"]
    assert staged["customers"] == len(customers) - 100
    assert main(["index", *common]) == 0
    page = (out / "2026-Q3" / "index.html").read_text("utf-8")
    assert "north/data_quality.html" in page
    # --snapshots remove: staged afresh from the source, then removed
    assert main([*run, "--notebook", "data_quality", "--snapshots", "remove"]) == 0
    assert results(out / "2026-Q3" / "north")["data_quality"]["customers"] == len(customers)
    assert not snapshot.exists()


def test_index_without_reports_for_the_period_says_so(tmp_path: Path, capsys):
    assert main(["index", "--period", "2026-Q3", "--out", str(tmp_path)]) == 2
    assert "no reports for 2026-Q3" in capsys.readouterr().err


def test_a_dask_cluster_gives_the_same_reports_as_the_local_pool(sample_fleet, tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    params = sample_fleet["out"].parent / "parameters"
    out = tmp_path / "reports"
    units, notebooks = ["north", "east"], ["data_quality", "funnel"]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        argv = ["run", "--period", "2026-Q3", "--params", str(params), "--out", str(out)]
        argv += ["--cluster", cluster.scheduler_address, "--no-progress"]
        for name in (*units, *notebooks):
            argv += ["--unit" if name in units else "--notebook", name]
        assert main(argv) == 0
    for unit in units:
        remote = results(out / "2026-Q3" / unit)
        local = results(sample_fleet["period_dir"] / unit)
        assert sorted(remote) == notebooks
        for notebook in notebooks:
            assert remote[notebook] == local[notebook], f"{unit}/{notebook}"
            # run in a process of its own forked for it (crmkit.run.job_server), whose one
            # child, the kernel, is what its peak memory measures: a Dask worker thread
            # running many reports cannot tell its kernel's peak
            record = json.loads((out / "2026-Q3" / unit / f"{notebook}.json").read_text())
            assert record["kernel_peak_mb"] > 0
        assert (out / "2026-Q3" / unit / "snapshot" / "transactions.parquet").exists()
    assert (out / "2026-Q3" / "index.html").exists()


def test_on_a_dask_cluster_a_units_reports_share_one_store_of_fits(tmp_path: Path):
    """The store :mod:`crmkit.core.shared` keeps a unit's CLV fit in for its clv, churn and
    health reports: one folder of the run in the period's folder, seen by every report and
    removed at the end."""
    distributed = pytest.importorskip("distributed")
    params, notebooks = tmp_path / "parameters", tmp_path / "notebooks"
    params.mkdir()
    notebooks.mkdir()
    (params / "north.yaml").write_text(
        f"business_unit: north\ncurrency: USD\ndata_source: {ROOT / 'sample_data'}\n"
    )
    publish = (
        "import os\nfrom IPython.display import display\n"
        "store = os.environ.get('CRMKIT_SHARED_RESULTS', '')\n"
        "display({'application/vnd.crmkit.results+json':"
        " {'results': {'store': store, 'exists': os.path.isdir(store)}}}, raw=True)"
    )
    for name in ("clv", "churn"):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(publish)])
        nbformat.write(notebook, notebooks / f"{name}.ipynb")
    out = tmp_path / "reports"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        argv = ["run", "--period", "2026-Q3", "--params", str(params), "--out", str(out)]
        argv += ["--notebooks", str(notebooks), "--snapshots", "none", "--no-progress"]
        assert main([*argv, "--cluster", cluster.scheduler_address]) == 0
    seen = results(out / "2026-Q3" / "north")
    assert seen["clv"] == seen["churn"]
    assert seen["clv"]["exists"]
    store = Path(seen["clv"]["store"])
    assert store.parent == out / "2026-Q3" and store.name.startswith(".crmkit-shared-")
    assert not store.exists()


def test_an_unreachable_cluster_is_a_clear_error(tmp_path: Path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("crmkit.run.fleet.CLUSTER_TIMEOUT", 2)
    shutil.copy(ROOT / "parameters" / "north.yaml", tmp_path)
    (tmp_path / "defaults.yaml").write_text(f"data_source: {ROOT / 'sample_data'}\n")
    argv = ["run", "--period", "2026-Q3", "--params", str(tmp_path), "--out", str(tmp_path)]
    assert main([*argv, "--cluster", "tcp://127.0.0.1:9", "--no-progress"]) == 2
    assert "Cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_the_example_airflow_dag_uses_only_options_crmkit_has():
    import argparse
    import re

    from crmkit.run.cli import build_parser

    dag = (ROOT / "docs" / "airflow_dag.py").read_text(encoding="utf-8")
    commands = {m.group(1) for m in re.finditer(r"crmkit (stage|run|index) ", dag)}
    assert commands == {"stage", "run", "index"}
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    known = {
        option
        for name in commands
        for action in subparsers.choices[name]._actions
        for option in action.option_strings
    }
    used = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", dag))
    assert used and used <= known, used - known


def test_staging_a_unit_that_cannot_be_loaded_says_why(tmp_path: Path, capsys):
    (tmp_path / "north.yaml").write_text(
        f"business_unit: north\ncurrency: USD\ndata_source: {tmp_path / 'nowhere'}\n"
    )
    argv = ["stage", "--period", "2026-Q3", "--params", str(tmp_path), "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "✗ north: data_source" in capsys.readouterr().out
    assert not (tmp_path / "2026-Q3" / "north" / "snapshot").exists()


@pytest.mark.parametrize("share_flags", [True, False])
def test_a_units_flags_are_shared_once_its_runs_have_all_ended(monkeypatch, share_flags: bool):
    from concurrent.futures import ThreadPoolExecutor

    from crmkit.run import fleet
    from crmkit.run.execute import Outcome

    events: list[tuple[str, str]] = []

    def execute(job):
        events.append(("run", f"{job.out_dir}/{job.notebook}"))
        return Outcome(job.notebook, job.params["business_unit"], "ok")

    monkeypatch.setattr(fleet, "execute", execute)
    monkeypatch.setattr(fleet, "share_flags_of", lambda out_dir: events.append(("flags", out_dir)))
    jobs = [  # in the registry's order, as planned
        Job(notebook, "", {"business_unit": unit}, parse_period("2026-Q3"), f"out/{unit}", ".")
        for unit in ("a", "b")
        for notebook in ("funnel", "clv", "churn")
    ]
    with ThreadPoolExecutor(max_workers=1) as pool:  # one at a time: the order is the queue's
        outcomes = fleet._schedule(
            pool.submit,
            jobs,
            stage=False,
            on_outcome=lambda _: None,
            share_flags=share_flags,
            at_once=1,
        )
    assert len(outcomes) == 6
    runs = [  # unit by unit, each unit's longest first
        ("run", f"out/{unit}/{notebook}")
        for unit in "ab"
        for notebook in ("churn", "clv", "funnel")
    ]
    if share_flags:  # right after the unit's last run, ahead of the runs still queued
        assert events == [*runs[:3], ("flags", "out/a"), *runs[3:], ("flags", "out/b")]
    else:
        assert events == runs


def test_a_unit_staged_alone_gets_the_idle_workers_cores_and_its_notebooks_keep_theirs():
    from concurrent.futures import ThreadPoolExecutor

    from crmkit.run import fleet

    assert fleet.stage_threads(2, workers=2, units=1) == 2  # one big unit: both cores
    assert fleet.stage_threads(8, workers=4, units=2) == 4
    assert fleet.stage_threads(2, workers=2, units=40) == 1  # a fleet: one each
    assert fleet.stage_threads(1, workers=1, units=0) == 1

    staged, ran, order = [], [], []

    def stage_unit(job):
        staged.append(job.threads)
        return ""

    def execute(job):
        ran.append(job.threads)
        order.append(job.notebook)
        return fleet.Outcome(job.notebook, job.params["business_unit"], "ok")

    jobs = [
        Job(name, "", {"business_unit": "a"}, parse_period("2026-Q3"), "out/a", ".", threads=1)
        for name in ("data_quality", "clv", "health")
    ]
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(max_workers=1) as pool:
        patch.setattr(fleet, "stage_unit", stage_unit)
        patch.setattr(fleet, "execute", execute)
        fleet._schedule(pool.submit, jobs, stage=True, on_outcome=lambda _: None, stage_threads=2)
    assert staged == [2] and ran == [1, 1, 1]
    assert order == ["health", "clv", "data_quality"]  # longest first


def test_every_notebook_has_its_place_in_the_longest_first_order():
    from crmkit.run import fleet
    from crmkit.topics.registry import topic_names

    assert sorted(fleet.LONGEST_FIRST) == sorted(topic_names())
