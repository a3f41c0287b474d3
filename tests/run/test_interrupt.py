"""Stopping `crmkit run`: SIGINT, SIGTERM or a killed parent stop the workers and their kernels
within seconds and leave no partial files, kernel folders or sockets behind; kernel noise never
reaches the terminal. Real runs, killed for real, through the command a scheduler calls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, write_notebook

from crmkit.run.cli import main
from crmkit.run.execute import _process_gone, atomic_write, leftovers
from crmkit.run.fleet import Interrupted, stop_on_signals

SAMPLE = ROOT / "sample_data"
UNITS = ("north", "south")
PREVIOUS = "<html>the previous good report</html>"
RESULTS = "application/vnd.crmkit.results+json"
CRMKIT = str(Path(sys.executable).with_name("crmkit"))  # the command a scheduler runs
GROUP_SIGNALS = {"Ctrl-C": signal.SIGINT, "hang-up": signal.SIGHUP}


def project(tmp_path: Path) -> dict[str, Path]:
    """Two units of the sample; a `tmp` folder to be the runs' temporary folder."""
    params = tmp_path / "parameters"
    params.mkdir()
    for unit in UNITS:
        (params / f"{unit}.yaml").write_text(
            f"business_unit: {unit}\ncurrency: USD\ndata_source: {SAMPLE}\n"
        )
    (tmp_path / "tmp").mkdir()
    return {"params": params, "out": tmp_path / "reports", "tmp": tmp_path / "tmp"}


def start_run(paths: dict[str, Path], notebooks: Path, *options: str) -> subprocess.Popen:
    argv = [CRMKIT, "run", "--period", "2026-Q3"]
    argv += ["--params", str(paths["params"]), "--notebooks", str(notebooks)]
    argv += ["--out", str(paths["out"]), "--jobs", "2", *options]
    return subprocess.Popen(
        argv,
        env={**os.environ, "TMPDIR": str(paths["tmp"])},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job or a cron job
    )


def still_running(pids: set[int]) -> list[str]:
    running = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(f"{pid} {' '.join(process.cmdline()[:3])}")
        except psutil.NoSuchProcess:
            pass
    return running


def debris(paths: dict[str, Path]) -> list[str]:
    """Partial and temporary files under the reports, anything in the temporary folder."""
    found = [
        str(p) for p in paths["out"].rglob("*") if ".partial" in p.name or p.name.endswith(".tmp")
    ]
    return found + [str(p) for p in paths["tmp"].iterdir()]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("Ctrl-C", 128 + signal.SIGINT),  # SIGINT to every process of the terminal's job
        ("hang-up", 128 + signal.SIGHUP),  # SIGHUP to all of them: the terminal was closed
        ("SIGTERM", 128 + signal.SIGTERM),  # to crmkit run alone: a scheduler's timeout
        ("SIGKILL", -signal.SIGKILL),  # crmkit run dies without a word
    ],
)
def test_a_stopped_run_leaves_no_process_and_no_file(tmp_path: Path, how: str, status: int):
    paths = project(tmp_path)
    started = tmp_path / "started"
    started.mkdir()
    notebooks = tmp_path / "notebooks"
    write_notebook(
        notebooks / "data_quality.ipynb",
        f"open({str(started)!r} + '/' + business_unit, 'w').close()\nimport time\ntime.sleep(120)",
    )
    for unit in UNITS:  # a good report from an earlier run, which must survive
        (paths["out"] / "2026-Q3" / unit).mkdir(parents=True)
        (paths["out"] / "2026-Q3" / unit / "data_quality.html").write_text(PREVIOUS)
    run = start_run(paths, notebooks, "--no-progress")
    try:
        deadline = time.monotonic() + 120
        while len(list(started.iterdir())) < len(UNITS):  # both kernels are in their cell
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the runs did not start"
            time.sleep(0.2)
        family = {p.pid for p in psutil.Process(run.pid).children(recursive=True)}
        # a kernel leads a session of its own (a worker does not), forked or started anew
        kernels = [p for p in family if os.getsid(p) == p]
        assert len(kernels) == len(UNITS) and debris(paths), "a run should be underway"
        stopped_at = time.monotonic()
        if how in GROUP_SIGNALS:
            os.killpg(run.pid, GROUP_SIGNALS[how])
        else:
            run.send_signal(getattr(signal, how))
        run.wait(timeout=10)
        while still_running(family) or debris(paths):
            if time.monotonic() - stopped_at > 10:
                break
            time.sleep(0.05)
        seconds = time.monotonic() - stopped_at
    finally:
        if run.poll() is None:
            run.kill()
    _, err = run.communicate(timeout=10)
    assert still_running(family) == [], f"{how}: still running after {seconds:.1f} s"
    assert debris(paths) == [], f"{how}: left behind"
    assert seconds < 5, f"{how}: took {seconds:.1f} s to clean up"
    assert run.returncode == status
    for unit in UNITS:
        assert (paths["out"] / "2026-Q3" / unit / "data_quality.html").read_text() == PREVIOUS
        assert not (paths["out"] / "2026-Q3" / unit / "data_quality.json").exists()
    if how != "SIGKILL":
        name = GROUP_SIGNALS[how].name if how in GROUP_SIGNALS else how
        assert err == (
            f"crmkit: stopped by {name} after 0 of 2 runs; the runs in progress were abandoned "
            "and left no files; finished reports are kept.\n"
        )
    print(f"{how}: processes and files gone {seconds:.2f} s after the signal")


@pytest.mark.slow
def test_kernel_noise_never_reaches_the_terminal(tmp_path: Path):
    """A run that ends normally (its kernel is shut down: jupyter_client interrupts it, which
    ipykernel logged as an ERROR), a cell timeout (which made ipykernel print a ZMQError
    traceback, and papermill log "Timeout waiting for execute reply") and a run timeout (which
    left papermill's tasks to print "Task exception was never retrieved")."""
    paths = project(tmp_path)
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "data_quality.ipynb", "import time\ntime.sleep(60)")
    write_notebook(
        notebooks / "funnel.ipynb",
        f"from IPython.display import display\ndisplay({{{RESULTS!r}: {{'n': 1}}}}, raw=True)",
    )
    write_notebook(notebooks / "clv.ipynb", *["import time\ntime.sleep(0.25)"] * 60)
    options = ["--cell-timeout", "1", "--run-timeout", "8", "--unit", "north"]
    run = start_run(paths, notebooks, *options)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 1, err  # the timed-out runs failed, and only they
    assert "1 of 3 runs succeeded" in out
    for noise in ("[IPKernelApp]", "KeyboardInterrupt", "Traceback", "ZMQError", "Timeout waiting"):
        assert noise not in out + err, noise
    assert "Kernel died" not in err and "Task exception" not in err
    failures = [line for line in err.splitlines() if line.startswith("✗")]
    assert failures == [
        "✗ north/data_quality: A cell timed out after 1 s (--cell-timeout) and was stopped: "
        "import time / time.sleep(60)",
        "✗ north/clv: The run took longer than its limit of 8 s and was stopped.",
    ]
    assert debris(paths) == []


def test_leftovers_are_a_process_s_partial_and_temporary_files(tmp_path: Path):
    names = [".clv.41.partial.ipynb", ".clv.html.41.tmp", ".clv.42.partial.ipynb", "clv.html"]
    for name in names:
        (tmp_path / name).write_text("x")
    assert sorted(p.name for p in leftovers(tmp_path, 41)) == sorted(names[:2])


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path):
    target = tmp_path / "report.html"
    atomic_write(target, "good")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "half \udc80 written")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert target.read_text() == "good"


def test_a_process_is_gone_once_it_ended_even_before_it_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while not _process_gone(child.pid):  # a zombie until waited for
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.wait()
    assert _process_gone(child.pid) and not _process_gone(os.getpid())


def test_stop_signals_raise_interrupted_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as raised, stop_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert raised.value.exit_status == 143 and str(raised.value) == "stopped by SIGTERM."
    assert signal.getsignal(signal.SIGTERM) is before
    raised.value.finished, raised.value.total = 3, 20
    assert str(raised.value).startswith("stopped by SIGTERM after 3 of 20 runs;")


def test_ctrl_c_outside_a_run_is_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("crmkit.run.cli.cmd_sample", interrupted)
    assert main(["sample"]) == 130
    assert capsys.readouterr().err == "crmkit: interrupted.\n"
