"""One run: papermill execution, timeouts, failures, results, atomic outputs."""

from __future__ import annotations

import json
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import nbformat
import pytest
from conftest import write_notebook

from crmkit.core.periods import parse_period
from crmkit.run import execute as execute_module
from crmkit.run.execute import atomic_write, execute, extract_results, notebook_parameters
from crmkit.run.fleet import WORKER_PRELOAD
from crmkit.run.forked_kernel import ForkedKernel
from crmkit.run.plan import Job, plan_jobs


@pytest.fixture(params=["new process", "forked"])
def launch(request) -> str:
    """Each way a run starts its kernel: a new process (JupyterLab's way, a Dask worker's),
    or forked from a worker of ``crmkit run`` with the libraries loaded."""
    return request.param


@pytest.fixture
def run(launch):
    """:func:`execute` as ``launch`` starts kernels. A forked kernel is forked where
    ``crmkit run`` forks it: in a worker from its fork server, whose main thread is its only
    busy one. This test process is no such place: by now it holds the threads of Arrow's and
    DuckDB's pools from earlier tests, which a fork would copy mid-work (its kernels died
    before replying, now and then, in the whole suite)."""
    if launch != "forked":
        return execute
    context = get_context("forkserver")
    context.set_forkserver_preload([WORKER_PRELOAD])

    def in_a_worker(job: Job):
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            return pool.submit(_execute_forking, job, dict(os.environ)).result()

    return in_a_worker


def _execute_forking(job: Job, environ: dict):
    os.environ.clear()
    os.environ.update(environ)
    execute_module._FORKED_KERNELS = True
    return execute(job)


def _job(tmp_path: Path, source: str, params: dict | None = None, **kwargs) -> Job:
    path = tmp_path / "data_quality.ipynb"
    write_notebook(path, *source.split("\n---\n"))
    return Job(
        "data_quality",
        str(path),
        params or {"business_unit": "x"},
        parse_period("2026-Q3"),
        str(tmp_path / "out"),
        str(tmp_path),
        **kwargs,
    )


@pytest.mark.slow
def test_cell_timeout_is_a_failure(tmp_path: Path, launch: str, run):
    outcome = run(_job(tmp_path, "import time\ntime.sleep(30)", cell_timeout=2))
    assert outcome.status == "failed"
    assert "timed out" in outcome.reason.lower() or "timeout" in outcome.reason.lower()
    assert outcome.seconds < 25


@pytest.mark.slow
def test_run_timeout_stops_a_long_run(tmp_path: Path, launch: str, run):
    cells = "\n---\n".join(["import time\ntime.sleep(1.5)"] * 6)
    outcome = run(_job(tmp_path, cells, run_timeout=3))
    assert outcome.status == "failed"
    assert "longer than its limit of 3 s" in outcome.reason
    record = json.loads((tmp_path / "out" / "data_quality.json").read_text())
    assert record["status"] == "failed"


@pytest.mark.slow
def test_notebook_that_publishes_nothing_fails(tmp_path: Path):
    outcome = execute(_job(tmp_path, "1 + 1"))
    assert outcome.status == "failed" and "without publishing its results" in outcome.reason


@pytest.mark.slow
def test_failed_rerun_replaces_a_good_report_whole(tmp_path: Path, launch: str, run):
    params = {"business_unit": "x", "display_name": "Unit X", "currency": "CNY"}
    source = "import crmkit as ck\nck.nb.publish_results({'n': 1})"
    good = run(_job(tmp_path, source, params))
    assert good.status == "ok"
    html_path = tmp_path / "out" / "data_quality.html"
    assert "could not be produced" not in html_path.read_text()
    record = json.loads((tmp_path / "out" / "data_quality.json").read_text())
    assert record["results"] == {"n": 1}
    assert (record["display_name"], record["currency"]) == ("Unit X", "CNY")
    bad = run(_job(tmp_path, "raise ValueError('boom')", params))
    assert bad.status == "failed" and bad.reason == "ValueError: boom"
    page = html_path.read_text()
    assert "could not be produced" in page and "Unit X · Data quality" in page
    assert json.loads((tmp_path / "out" / "data_quality.json").read_text())["status"] == "failed"
    # the executed notebook keeps the error for an analyst
    executed = nbformat.read(tmp_path / "out" / "data_quality.ipynb", as_version=4)
    assert any(o.output_type == "error" for c in executed.cells for o in c.get("outputs", []))


def test_atomic_write_replaces_without_leftovers(tmp_path: Path):
    target = tmp_path / "a" / "report.html"
    atomic_write(target, "one")
    atomic_write(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_extract_results_takes_the_last_published():
    payload = "application/vnd.crmkit.results+json"
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[nbformat.v4.new_output("display_data", data={payload: {"n": k}})]
            )
            for k in (1, 2)
        ]
    )
    assert extract_results(notebook) == {"n": 2}
    assert extract_results(nbformat.v4.new_notebook()) is None


def test_notebook_receives_the_period_and_as_of(tmp_path: Path):
    params = tmp_path / "parameters"
    params.mkdir()
    (params / "north.yaml").write_text(
        "business_unit: north\ncurrency: USD\ndata_source: data\nas_of: '2026-01-01'\n"
    )
    (job,) = plan_jobs(
        parse_period("2026-Q3"),
        params_dir=params,
        out=tmp_path / "reports",
        notebooks=["data_quality"],
        as_of="2026-10-15",
    )
    passed = notebook_parameters(job)
    assert passed["as_of"] == "2026-10-15"
    assert (passed["period_start"], passed["period_end"]) == ("2026-07-01", "2026-09-30")
    assert passed["data_source"] == str((tmp_path / "data").resolve())
    assert "funnel_stages" not in passed  # only what the notebook declares


@pytest.mark.slow
def test_a_kernel_runs_in_the_job_s_folder_environment_and_threads(
    tmp_path: Path, launch: str, run
):
    source = (
        "import os, sys\n"
        "from threadpoolctl import threadpool_info\n"
        "import crmkit as ck\n"
        "ck.nb.publish_results({\n"
        "    'cwd': os.getcwd(),\n"
        "    'marker': os.environ.get('CRMKIT_TEST_MARKER'),\n"
        "    'threads': sorted({p['num_threads'] for p in threadpool_info()}),\n"
        "    'preloaded': 'sklearn.ensemble' in sys.modules,\n"
        "    'local_import': __import__('local_module').VALUE,\n"
        "})"
    )
    (tmp_path / "local_module.py").write_text("VALUE = 7\n")
    os.environ["CRMKIT_TEST_MARKER"] = "seen"
    try:
        import sklearn.ensemble  # noqa: F401 - loaded here, as the worker's fork server does

        outcome = run(_job(tmp_path, source, threads=1))
    finally:
        del os.environ["CRMKIT_TEST_MARKER"]
    assert outcome.status == "ok", outcome.reason
    results = json.loads((tmp_path / "out" / "data_quality.json").read_text())["results"]
    assert Path(results["cwd"]) == tmp_path
    assert results["marker"] == "seen"
    assert results["local_import"] == 7
    # a forked kernel starts with what this process loaded; a new one does not
    assert results["preloaded"] is (launch == "forked")
    assert results["threads"] == [1]


def test_a_forked_kernel_never_launched_exits_and_is_reaped():
    waiting = ForkedKernel.ready()
    assert waiting.poll() is None
    waiting.discard()
    assert waiting.poll() == 0
    assert not waiting.can_launch([sys.executable, "-m", "ipykernel_launcher"])


def test_only_this_python_s_kernel_is_forked():
    waiting = ForkedKernel.ready()
    try:
        assert waiting.can_launch([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
        # a kernelspec of another environment starts its own Python, as always
        assert not waiting.can_launch(["/opt/other/bin/python", "-m", "ipykernel_launcher"])
        assert not waiting.can_launch([sys.executable, "-m", "other_kernel"])
    finally:
        waiting.discard()


def test_a_forked_kernel_is_killed_like_a_process():
    waiting = ForkedKernel.ready()
    waiting.kill()
    assert waiting.wait(timeout=10) == -signal.SIGKILL
    waiting.discard()  # after its death: nothing to tell, nothing raised
    assert waiting.poll() == -signal.SIGKILL


@pytest.mark.skipif(sys.platform == "win32", reason="no resource usage on Windows")
def test_a_run_record_holds_its_kernel_s_peak_memory(tmp_path: Path):
    from crmkit.run.fleet import run_jobs

    own_peak = (
        "import resource, sys\n"
        "import crmkit as ck\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "ck.nb.publish_results({'own_peak_mb': peak / (2**20 if sys.platform == 'darwin' "
        "else 2**10)})"
    )
    big = "import numpy as np\nheld = np.ones(50_000_000)  # 400 MB, every page written"
    jobs = [
        replace(_job(tmp_path / name, source), out_dir=str(tmp_path / name / "out"))
        for name, source in (("small", own_peak), ("big", f"{big}\n---\n{own_peak}"))
    ]
    assert [o.status for o in run_jobs(jobs, workers=1, progress=False, stage=False)] == [
        "ok",
        "ok",
    ]
    records = {
        name: json.loads((tmp_path / name / "out" / "data_quality.json").read_text())
        for name in ("small", "big")
    }
    for record in records.values():  # what the worker saw is what the kernel saw of itself
        assert record["kernel_peak_mb"] == pytest.approx(record["results"]["own_peak_mb"], rel=0.05)
    assert records["big"]["kernel_peak_mb"] - records["small"]["kernel_peak_mb"] > 350
    # a report run outside crmkit run's pool does not know its kernel apart from others
    execute(_job(tmp_path / "alone", own_peak))
    alone = json.loads((tmp_path / "alone" / "out" / "data_quality.json").read_text())
    assert alone["kernel_peak_mb"] is None
