"""Executing one run: a notebook for one unit and period, through papermill, to its outputs.

::

    <out>/<period>/<unit>/<notebook>.ipynb    executed notebook (errors kept, for analysts)
    <out>/<period>/<unit>/<notebook>.json     the run's record and the notebook's results
    <out>/<period>/<unit>/<notebook>.html     the stakeholder report, or the failure notice

Every output file is written to a temporary name and renamed into place, so a crash never
leaves a half-written file where a good one was. papermill is imported where it is used: this
module runs in the worker processes, which preload it (:mod:`crmkit.run.worker`).

A run's kernel lives in a folder of its own under the temporary folder (``crmkit-kernel-*``:
its connection file, Unix sockets and a log of its stdout and stderr, which never reach the
terminal); the folder is removed when the run ends. A worker of ``crmkit run`` that is stopped
(SIGTERM, SIGINT, SIGHUP) or outlives the ``crmkit run`` process kills its kernel, deletes its
run's partial files and kernel folder, and exits (:func:`start_worker`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from crmkit.core import shared
from crmkit.present.notebook import RESULTS_MIMETYPE
from crmkit.run.forked_kernel import ForkedKernel
from crmkit.run.html import render_failure, render_html, report_metadata
from crmkit.run.plan import CELL_TIMEOUT, RUN_TIMEOUT, Job

__all__ = [
    "CELL_TIMEOUT",
    "RUN_TIMEOUT",
    "Outcome",
    "WorkerSetup",
    "abandon_run",
    "atomic_write",
    "execute",
    "extract_results",
    "ipc_kernel_manager",
    "leftovers",
    "notebook_parameters",
    "start_worker",
]

KERNEL_LOG = "kernel.log"
"""The kernel's stdout and stderr, in the run's kernel folder."""
_KERNEL_PREFIX = "crmkit-kernel-"
"""Kernel folders' names; short in a worker, whose temporary folder is the run's own."""


@dataclass(frozen=True)
class Outcome:
    """How one run ended."""

    notebook: str
    business_unit: str
    status: str  # "ok" or "failed"
    reason: str = ""
    seconds: float = 0.0


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:  # an error, or an interruption: no half-written file stays behind
        tmp.unlink(missing_ok=True)
        raise


def leftovers(out_dir: Path, pid: int) -> list[Path]:
    """The partial and temporary files process ``pid`` has in ``out_dir`` while it writes a
    run's outputs (``.<notebook>.<pid>.partial.ipynb``, ``.<name>.<pid>.tmp``) or a unit's
    snapshot (``.snapshot.<pid>.partial/``)."""
    out_dir = Path(out_dir)
    return [
        *out_dir.glob(f".*.{pid}.partial.ipynb"),
        *out_dir.glob(f".*.{pid}.tmp"),
        *out_dir.glob(f".*.{pid}.partial"),  # a snapshot being written
    ]


@dataclass(eq=False)
class _RunInProgress:
    """What one run has on disk and running, to remove if it is stopped."""

    out_dir: Path | None = None
    kernel_dir: Path | None = None
    kernel: Any = None  # the kernel's subprocess.Popen
    timed_out: bool = False  # over its run timeout: a kernel that starts is killed at once

    def kill_kernel(self) -> None:
        """Kill the run's kernel, and anything it started, if it is still running (the
        kernel leads a process group of its own)."""
        kernel = self.kernel
        if kernel is not None and kernel.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(kernel.pid, signal.SIGKILL)


_RUNS: set[_RunInProgress] = set()
"""This process's runs in progress: one in a process that runs one job, one per thread where
a Dask worker runs jobs itself (outside Linux, :mod:`crmkit.run.job_server`)."""
_RUNS_LOCK = threading.RLock()  # a stop signal's handler may interrupt its holder


def abandon_run() -> None:
    """Stop this process's runs in progress now: kill their kernels (and anything the kernels
    started), delete their partial files and kernel folders. For a worker about to exit."""
    with _RUNS_LOCK:
        runs = list(_RUNS)
    for run in runs:
        run.kill_kernel()
        if run.kernel_dir is not None:
            shutil.rmtree(run.kernel_dir, ignore_errors=True)
        if run.out_dir is not None:
            for path in leftovers(run.out_dir, os.getpid()):
                _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _tracked(out_dir: Path):
    run = _RunInProgress(out_dir=out_dir)
    with _RUNS_LOCK:
        _RUNS.add(run)
    try:
        yield run
    finally:
        with _RUNS_LOCK:
            _RUNS.discard(run)


KERNEL_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The thread-pool sizes a kernel's numerical libraries read when they start."""


_ONE_RUN_WORKER = False
"""Whether this process runs one job and exits (:func:`start_run_process`): the largest of its
reaped children is then this run's kernel (:func:`_kernel_peak_mb`)."""

_FORKED_KERNELS = False
"""Whether this process forks its kernels (:mod:`crmkit.run.forked_kernel`): a process that
runs one job (:func:`start_run_process`), from its main thread; never a Dask worker itself,
whose other threads a fork would leave behind mid-work."""


def _fork_kernels() -> bool:
    return _FORKED_KERNELS and threading.current_thread() is threading.main_thread()


def limit_threads(threads: int) -> None:
    """Kernels started from this process use ``threads`` threads each for OpenMP (scikit-learn)
    and BLAS: two kernels with two threads each on two cores slow each other by 12-60%
    (measured, issue #15). A size the user set in the environment is kept."""
    for name in KERNEL_THREADS:
        os.environ.setdefault(name, str(max(1, threads)))


def notebook_parameters(job: Job) -> dict[str, Any]:
    """The parameters the notebook declares, taken from the unit's parameters and the period.

    Only declared names are passed: papermill would inject unknown ones with a warning.
    """
    import papermill

    declared = papermill.inspect_notebook(job.notebook_path)
    values = {**job_parameters(job), "snapshot": job.snapshot}
    return {name: values[name] for name in declared if name in values}


def job_parameters(job: Job) -> dict[str, Any]:
    """The unit's parameters with the period's ``period_start`` and ``period_end``."""
    return {
        **job.params,
        "period_start": job.period.start.isoformat(),
        "period_end": job.period.end.isoformat(),
    }


def ipc_kernel_manager(
    folder: Path, run: _RunInProgress | None = None, forked: ForkedKernel | None = None
) -> type:
    """A kernel manager whose kernel talks over Unix sockets in ``folder``.

    The default TCP transport picks free ports per process; kernels started at the same moment
    by parallel workers can pick the same port and a client can end up talking to another
    run's kernel (seen here as hung runs). Sockets in a folder of the run's own cannot collide.

    The connection file is in the folder too, and the kernel's stdout and stderr go to
    ``kernel.log`` there: jupyter_client's shutdown interrupts the kernel, and its log lines
    ("KeyboardInterrupt caught in kernel", a ZMQError after a cell timeout) would otherwise
    be printed into the terminal and the progress bar.

    With ``forked``, the kernel is that child of this process (:mod:`crmkit.run.
    forked_kernel`) instead of a new process.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(folder / "k")  # sockets k-<n>: a Unix socket path is 107 bytes at most
            self.connection_file = str(folder / "kernel.json")

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            if forked is not None and forked.can_launch(kernel_cmd):
                # papermill changes this process's folder for the launch (its cwd=)
                cwd = str(kw.get("cwd") or os.getcwd())
                forked.launch(
                    kernel_cmd,
                    env=kw.get("env") or dict(os.environ),
                    cwd=cwd,
                    log_path=str(folder / KERNEL_LOG),
                )
                provisioner = self.provisioner
                provisioner.process = forked
                provisioner.pid = provisioner.pgid = forked.pid
                provisioner.cwd = cwd
                self._reconcile_connection_info(provisioner.connection_info)
            else:
                with open(folder / KERNEL_LOG, "ab") as log:
                    await super()._async_launch_kernel(
                        kernel_cmd, **{**kw, "stdout": log, "stderr": log}
                    )
            if run is not None:
                run.kernel = getattr(self.provisioner, "process", None)
                if run.timed_out:
                    run.kill_kernel()

    return IPCKernelManager


def extract_results(executed: nbformat.NotebookNode) -> dict | None:
    """The last ``{"results": ..., "flags": [...]}`` a notebook published
    (``ck.nb.publish_results``), or ``None``."""
    found = None
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULTS_MIMETYPE in data:
                found = data[RESULTS_MIMETYPE]
    return found


@contextlib.contextmanager
def _time_limit(seconds: int, run: _RunInProgress):
    """Kill ``run``'s kernel once it has run ``seconds``. papermill then fails the run as a
    dead kernel, through its own clean-up; raising instead would leave papermill's tasks
    half-run in its event loop, to print tracebacks when they are collected.

    A SIGALRM in a process's main thread (a process that runs one job); a timer thread where
    runs share a process in threads of their own (a Dask worker outside Linux), where
    signals cannot be set.
    """

    def over_time(*_):  # pragma: no cover - exercised through execute()
        run.timed_out = True
        run.kill_kernel()

    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGALRM, over_time)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous_handler)
        return
    timer = threading.Timer(seconds, over_time)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _run_notebook(job: Job, partial: Path, run: _RunInProgress) -> str:
    """Execute the notebook into ``partial``; the failure reason, or '' on success.

    Timeouts: ``job.cell_timeout`` goes to papermill (per cell); ``job.run_timeout`` kills the
    run's kernel (:func:`_time_limit`): papermill stops on the dead kernel.
    """
    import papermill

    sockets = Path(tempfile.mkdtemp(prefix=_KERNEL_PREFIX))
    run.kernel_dir, run.timed_out = sockets, False
    forked = ForkedKernel.ready() if _fork_kernels() else None
    try:
        with _time_limit(job.run_timeout, run):
            papermill.execute_notebook(
                job.notebook_path,
                str(partial),
                parameters=notebook_parameters(job),
                kernel_name="python3",
                cwd=job.cwd,
                execution_timeout=job.cell_timeout,
                progress_bar=False,
                log_output=False,
                kernel_manager_class=ipc_kernel_manager(sockets, run, forked),
                shutdown_kernel="immediate",
            )
    except papermill.PapermillExecutionError as exc:
        reason = f"{exc.ename}: {exc.evalue}" if exc.evalue else exc.ename
    except Exception as exc:  # a kernel that dies, a cell timeout, a bad notebook file
        reason = failure_reason(exc, job=job, kernel_log=sockets / KERNEL_LOG)
    else:
        reason = ""
    finally:
        run.kill_kernel()  # papermill shut it down; this is for the paths where it could not
        if forked is not None:
            forked.discard()  # never launched: it exits
            forked.kill()  # launched: papermill or kill_kernel stopped it already
            forked.wait()  # reaped
        run.kernel = run.kernel_dir = None
        shutil.rmtree(sockets, ignore_errors=True)
    if run.timed_out and reason:
        return f"The run took longer than its limit of {job.run_timeout} s and was stopped."
    return reason


def failure_reason(exc: Exception, *, job: Job, kernel_log: Path) -> str:
    """One paragraph saying why papermill stopped, for the record and the failure page.

    A cell timeout names the limit and the cell (nbclient's message spans a dozen lines); a
    kernel that died adds the last line it wrote, where a crash says why.
    """
    name = type(exc).__name__
    if name == "CellTimeoutError":
        preview = re.search(r"-{5,}\n(.*?)\n-{5,}", str(exc), flags=re.S)
        cell = " / ".join(
            line.strip() for line in (preview.group(1) if preview else "").splitlines()
        )
        cell = f": {cell[:80]}{'…' if len(cell) > 80 else ''}" if cell else ""
        return f"A cell timed out after {job.cell_timeout} s (--cell-timeout) and was stopped{cell}"
    reason = f"{name}: {exc}".strip()
    if "File name too long" in reason and "ipc://" in reason:
        reason += (
            " The kernel's socket path is longer than Unix allows (107 bytes): set TMPDIR to a "
            "shorter folder."
        )
    if name == "DeadKernelError":
        try:
            lines = kernel_log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        if last:
            reason += f" (the kernel's last words: {last[:200]})"
    return reason


def _kernel_peak_mb() -> int | None:
    """The kernel's peak resident memory in MB, in a process that runs one job (a worker of
    ``crmkit run``'s pool, a child of a Dask worker's job server: its kernel is the largest
    child it has reaped); None elsewhere (a process running many reports cannot tell them
    apart, and Windows does not tell)."""
    try:
        import resource
    except ImportError:
        return None
    if not _ONE_RUN_WORKER:
        return None
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10)) or None  # B or KiB


def run_record(
    job: Job,
    *,
    status: str,
    reason: str,
    seconds: float,
    results: dict,
    flags: list | None = None,
    kernel_peak_mb: int | None = None,
) -> dict:
    """The ``<notebook>.json`` record of a run (the keys of the Outputs contract and more):
    ``flags`` are the ranked "what changed" flags the report raised, ``kernel_peak_mb`` the
    kernel's peak resident memory (None where it is not known)."""
    unit = job.params["business_unit"]
    return {
        "notebook": job.notebook,
        "business_unit": unit,
        "display_name": job.params.get("display_name") or unit,
        "currency": job.params.get("currency") or "",
        "language": job.params.get("language") or "en",
        "period": job.period.label,
        "period_start": job.period.start.isoformat(),
        "period_end": job.period.end.isoformat(),
        "status": status,
        "reason": reason,
        "seconds": round(seconds, 2),
        "kernel_peak_mb": kernel_peak_mb,
        "results": results,
        "flags": flags or [],
    }


def execute(job: Job) -> Outcome:
    """Run one notebook for one unit; write its .ipynb, .json and .html. Never raises."""
    started = time.monotonic()
    limit_threads(job.threads)
    out_dir = Path(job.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _tracked(out_dir) as run:
        return _execute(job, out_dir, run, started)


def _execute(job: Job, out_dir: Path, run: _RunInProgress, started: float) -> Outcome:
    partial = out_dir / f".{job.notebook}.{os.getpid()}.partial.ipynb"
    reason = _run_notebook(job, partial, run)
    seconds = time.monotonic() - started
    kernel_peak_mb = _kernel_peak_mb()
    try:
        executed = nbformat.read(partial, as_version=4) if partial.exists() else None
        published = extract_results(executed) if executed is not None and not reason else {}
        if not reason and published is None:
            reason = "The notebook finished without publishing its results (ck.nb.publish_results)."
        status = "failed" if reason else "ok"
        if executed is not None:
            executed.metadata["crmkit"] = report_metadata(job)
        page = render_html(executed) if status == "ok" else render_failure(job, reason)
        atomic_write(out_dir / f"{job.notebook}.html", page)
        published = published or {}
        record = run_record(
            job,
            status=status,
            reason=reason,
            seconds=seconds,
            results=published.get("results", {}),
            flags=published.get("flags", []),
            kernel_peak_mb=kernel_peak_mb,
        )
        atomic_write(
            out_dir / f"{job.notebook}.json",
            json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        )
        if executed is not None:
            atomic_write(out_dir / f"{job.notebook}.ipynb", nbformat.writes(executed))
    except Exception as exc:
        status, reason = "failed", f"Writing the report failed: {type(exc).__name__}: {exc}"
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(job.notebook, job.params["business_unit"], status, reason, round(seconds, 2))


def stage_unit(job: Job) -> str:
    """Load ``job``'s unit once and write its snapshot beside its reports, for all its
    notebooks (:mod:`crmkit.load.snapshot`), ``job.threads`` tables at a time; the snapshot
    folder, or '' when the unit cannot be loaded (its notebooks then load the source and
    report why). Never raises."""
    from crmkit.load.snapshot import SNAPSHOT_DIR, stage

    folder = Path(job.out_dir) / SNAPSHOT_DIR
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _tracked(folder.parent):
        try:
            reason = stage(job_parameters(job), folder, threads=job.threads)
        except Exception:  # a snapshot that cannot be written: the notebooks load the source
            return ""
    return "" if reason else str(folder)


# ----------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class WorkerSetup:
    """What ``crmkit run`` hands each worker process (:func:`start_worker`).

    ``parent_alive`` is the read end of a pipe whose write end only ``crmkit run`` holds: it
    reaches end-of-file when that process is gone, however it died. ``parent_pid`` and
    ``parent_temp`` (multiprocessing's folder of the fork server's socket) let the last
    workers remove what a killed ``crmkit run`` cannot.
    """

    temp_dir: str
    parent_alive: Any
    parent_pid: int
    parent_temp: str = ""


def start_worker(setup: WorkerSetup) -> None:
    """Set up a worker process of ``crmkit run`` (the pool's initializer).

    - Temporary files (kernel folders, anything a notebook writes to its temporary folder) go
      to ``setup.temp_dir``, the run's own folder, which ``crmkit run`` removes at the end.
    - SIGTERM, SIGINT (Ctrl-C reaches every process of the terminal's job) and SIGHUP stop
      the worker at once: its kernel is killed and its run's partial files deleted, so
      ``crmkit run`` is never left waiting for a run it is abandoning.
    - A thread waits for ``crmkit run`` to go away (the ``parent_alive`` pipe closing). If it
      does, even by SIGKILL, the worker stops the same way and removes the run's temporary
      folder, which nobody else is left to remove. (Watching the parent process id would not
      do: a worker's parent is the fork server, which waits for its workers.)
    - The run's kernels share model fits through ``<temp_dir>/shared`` (:mod:`crmkit.core.
      shared`): a unit's clv, churn and health reports fit CLV once.
    - papermill's log lines (a cell timeout's "Timeout waiting for execute reply") are not
      printed: each run's outcome says what went wrong.
    """
    global _KERNEL_PREFIX
    start_run_process()
    tempfile.tempdir = setup.temp_dir
    os.environ["TMPDIR"] = setup.temp_dir  # the kernels' temporary folder too
    os.environ[shared.STORE_VARIABLE] = str(Path(setup.temp_dir) / "shared")
    _KERNEL_PREFIX = "k"  # <temp>/crmkit-run-*/k*/k-<n>: socket paths stay short
    threading.Thread(target=_watch_parent, args=(setup,), name="crmkit-watch", daemon=True).start()


def start_run_process() -> None:
    """Set up a process that runs one job and exits (a worker of the pool, a child of a Dask
    worker's job server, :mod:`crmkit.run.job_server`): its kernel is forked from it, its
    largest reaped child is that kernel, papermill's log lines are not printed, and SIGTERM,
    SIGINT or SIGHUP kill the kernel, delete the run's partial files and exit."""
    global _FORKED_KERNELS, _ONE_RUN_WORKER
    _ONE_RUN_WORKER = True
    # Linux only: macOS's system libraries (Accelerate, used by NumPy) are not safe to use
    # in a child forked after loading them, and Windows has no fork.
    _FORKED_KERNELS = sys.platform.startswith("linux")
    papermill_log = logging.getLogger("papermill")
    papermill_log.addHandler(logging.NullHandler())
    papermill_log.propagate = False
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _on_stop_signal)


_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


def _on_stop_signal(signum, frame):  # pragma: no cover - runs in worker processes
    # A hang-up reaches the whole group and crmkit run then sends SIGTERM: the second signal
    # must not run this handler again inside the first, where it waited on the first's lock
    # until the worker was killed (a stopped run then took its 5 s grace to clean up).
    for stop in _STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    abandon_run()
    os._exit(128 + signum)


def _watch_parent(setup: WorkerSetup) -> None:  # pragma: no cover - runs in worker processes
    from multiprocessing.connection import wait

    wait([setup.parent_alive])  # returns at end-of-file: crmkit run has gone
    abandon_run()
    shutil.rmtree(setup.temp_dir, ignore_errors=True)
    # A dying process closes its files before it is marked as ended: wait a moment for that.
    deadline = time.monotonic() + 2.0
    while not _process_gone(setup.parent_pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if setup.parent_temp and _process_gone(setup.parent_pid):
        shutil.rmtree(setup.parent_temp, ignore_errors=True)
    os._exit(1)


def _process_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie, dead but not yet reaped, counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    try:  # Linux: state "Z" in /proc/<pid>/stat
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")
