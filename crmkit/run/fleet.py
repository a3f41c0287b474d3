"""Running many jobs: a pool of worker processes, a progress bar, then the index pages.

Stopping. ``crmkit run`` turns SIGINT, SIGTERM and SIGHUP into :class:`Interrupted`
(:func:`stop_on_signals`). :func:`run_jobs` then stops its workers (SIGTERM: each kills its
kernel and deletes its partial files, see :func:`crmkit.run.execute.start_worker`; SIGKILL
after a few seconds), sweeps what a killed worker left in the report folders, removes the
run's temporary folder and re-raises. Reports of finished runs stay; the previous good report
of an abandoned run stays in place. If ``crmkit run`` itself is killed, its workers notice
within a second and clean up after themselves.
"""

from __future__ import annotations

import multiprocessing.util
import os
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from crmkit.core import shared
from crmkit.core.errors import ParameterError
from crmkit.core.periods import Period
from crmkit.load.snapshot import SNAPSHOT_DIR
from crmkit.run.execute import Outcome, WorkerSetup, execute, leftovers, stage_unit, start_worker
from crmkit.run.job_server import run_forked
from crmkit.run.params import portfolio_language
from crmkit.run.plan import CELL_TIMEOUT, RUN_TIMEOUT, Job, plan_jobs
from crmkit.run.portfolio import write_period_index, write_root_index
from crmkit.run.shared_flags import share_flags_of, share_unit_flags

WORKER_PRELOAD = "crmkit.run.worker"
STOP_GRACE = 5.0
"""Seconds stopped workers get to clean up before they are killed."""
CLUSTER_TIMEOUT = 30
"""Seconds ``--cluster`` waits for its scheduler to answer."""
LONGEST_FIRST = ("health", "churn", "clv", "segmentation", "satisfaction", "funnel", "data_quality")
"""The notebooks by their run time on a large unit, longest first (at a million customers,
benchmarks/big_unit.py: about 93, 76, 47, 47, 28, 13 and 12 s). A unit's notebooks start in
this order, so the runs still going when the rest are done are short: in registry order the
two longest started last, and one worker sat idle for 20 s of a 210 s run while health
finished. Health asks for the clv report's fit early, churn late: started together, health
computes it and churn reads it. Notebooks not listed start after these."""
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """``crmkit run`` was stopped by a signal; the runs in progress were abandoned."""

    def __init__(self, signum: int, finished: int | None = None, total: int | None = None):
        super().__init__(signum)
        self.signum = signum
        self.finished = finished
        self.total = total

    @property
    def exit_status(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + self.signum

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        if self.total is None:
            return f"stopped by {name}."
        return (
            f"stopped by {name} after {self.finished} of {self.total} runs; the runs in "
            "progress were abandoned and left no files; finished reports are kept."
        )


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (in the
    main thread; elsewhere this does nothing). The previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise_interrupted) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _signals_held(signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Ignore ``signals`` while the block runs (a second Ctrl-C must not cut the clean-up
    short). The previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start_helpers() -> None:
    """Start multiprocessing's resource tracker and fork server with SIGHUP ignored, which
    they keep. A hang-up sent to the whole process group (a closed terminal) would otherwise
    kill them while ``crmkit run`` stops its workers, and the tracker, started again, prints
    tracebacks. Both end when ``crmkit run`` and its workers have ended."""
    from multiprocessing import forkserver, resource_tracker

    hangup = (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()
    with _signals_held(hangup):
        resource_tracker.ensure_running()
        forkserver.ensure_running()


def _stop_pool(pool: ProcessPoolExecutor, *, grace: float = STOP_GRACE) -> list[int]:
    """Stop every worker of ``pool`` now; the process ids it had.

    SIGTERM first (a worker kills its kernel and deletes its partial files), SIGKILL for any
    still there after ``grace`` seconds.
    """
    # The pool keeps its processes in a private attribute, the one way to reach them.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(1.0)
    pool.shutdown(wait=True)
    return [process.pid for process in processes if process.pid]


def _sweep(jobs: list[Job], pids: list[int]) -> None:
    """Delete what killed workers left in the report folders: partial and temporary files,
    and unit folders left empty."""
    for out_dir in sorted({Path(job.out_dir) for job in jobs}):
        for pid in pids:
            for path in leftovers(out_dir, pid):
                path.unlink(missing_ok=True)
        for folder in (out_dir, out_dir.parent):
            with suppress(OSError):
                folder.rmdir()  # only if empty


@dataclass
class FleetResult:
    """How a whole ``crmkit run`` ended: each run's outcome and the portfolio page."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    index: Path | None = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != "ok"]


def longest_first(jobs: list[Job]) -> list[Job]:
    """``jobs`` unit by unit as given, each unit's notebooks in :data:`LONGEST_FIRST` order."""
    units: dict[str, int] = {}
    for job in jobs:
        units.setdefault(job.out_dir, len(units))
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    return sorted(jobs, key=lambda j: (units[j.out_dir], rank.get(j.notebook, len(rank))))


def _schedule(
    submit,
    jobs: list[Job],
    *,
    stage: bool,
    on_outcome,
    share_flags: bool = False,
    at_once: int | None = None,
    stage_threads: int = 1,
) -> list[Outcome]:
    """Run ``jobs`` through ``submit`` (an executor's): with ``stage``, each unit is first
    loaded once into a snapshot (:func:`crmkit.run.execute.stage`) and its notebooks are queued
    as soon as it is ready, reading the snapshot; a unit that cannot be staged runs its
    notebooks on the source, which report why it cannot be loaded. A unit's notebooks start
    longest first (:func:`longest_first`).

    With ``share_flags``, a unit whose runs have all ended has its flags shared across its
    reports (:func:`crmkit.run.shared_flags.share_flags_of`) as a job of its own, ahead of the
    queue; the index pages' pass over every unit then finds them done. A job that fails is
    left to that pass. ``at_once`` is how many jobs the executor is given at a time (its
    workers, and one waiting): the rest wait here, where a unit's flags can go first.
    ``stage_threads`` is how many tables a unit's staging cleans and writes at a time.
    """
    jobs = longest_first(jobs)
    left: dict[str, int] = {}
    for job in jobs:
        left[job.out_dir] = left.get(job.out_dir, 0) + 1
    queued: deque = deque()
    if stage:
        by_unit: dict[str, list[Job]] = {}
        for job in jobs:
            by_unit.setdefault(job.out_dir, []).append(job)
        queued.extend(
            (stage_unit, replace(unit_jobs[0], threads=stage_threads), unit_jobs)
            for unit_jobs in by_unit.values()
        )
    else:
        queued.extend((execute, job, job) for job in jobs)
    pending: dict = {}
    outcomes: list[Outcome] = []
    while queued or pending:
        while queued and (at_once is None or len(pending) < at_once):
            function, argument, what = queued.popleft()
            pending[submit(function, argument)] = what
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            what = pending.pop(future)
            if isinstance(what, str):  # a unit's flags shared
                continue
            if isinstance(what, list):  # a unit staged
                try:
                    snapshot = future.result()
                except Exception:  # the worker died while staging: the notebooks load the source
                    snapshot = ""
                queued.extend((execute, replace(job, snapshot=snapshot), job) for job in what)
                continue
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process itself died
                outcome = Outcome(
                    what.notebook,
                    what.params["business_unit"],
                    "failed",
                    f"Worker crashed: {type(exc).__name__}: {exc}",
                )
            outcomes.append(outcome)
            on_outcome(outcome)
            left[what.out_dir] -= 1
            if share_flags and not left[what.out_dir]:
                queued.appendleft((share_flags_of, what.out_dir, what.out_dir))
    return outcomes


def run_jobs(
    jobs: list[Job],
    *,
    workers: int | None = None,
    progress: bool = True,
    stage: bool = True,
    cluster: str = "",
    share_flags: bool = False,
) -> list[Outcome]:
    """Execute jobs in a pool of worker processes, or on the Dask cluster at ``cluster``;
    a failure in one does not stop the others.

    With ``stage`` each unit is loaded once for all its notebooks, with ``share_flags`` its
    flags are shared across its reports once they are written (:func:`_schedule`).
    Each kernel gets the machine's cores shared among the workers as its OpenMP and BLAS
    threads (one each when there are as many workers as cores). Returns the outcomes in the
    order of ``jobs``.

    Raises
    ------
    KeyboardInterrupt
        :class:`Interrupted` under :func:`stop_on_signals`: the workers were stopped and their
        runs in progress left no files; the reports of finished runs are in place.
    ParameterError
        ``cluster`` cannot be reached.
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), desc="reports", unit="run", disable=not progress)

    def on_outcome(outcome: Outcome) -> None:
        bar.update(1)
        bar.set_postfix_str(f"{outcome.business_unit}/{outcome.notebook} {outcome.status}")

    try:
        if cluster:
            outcomes = run_on_cluster(
                jobs, cluster, stage=stage, on_outcome=on_outcome, share_flags=share_flags
            )
        else:
            outcomes = _run_in_pool(
                jobs, workers, stage=stage, on_outcome=on_outcome, share_flags=share_flags
            )
    finally:
        bar.close()
    order = {(j.params["business_unit"], j.notebook): k for k, j in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[(o.business_unit, o.notebook)])


def stage_threads(cores: int, *, workers: int, units: int) -> int:
    """Threads a unit's staging cleans and writes tables with: a unit's notebooks cannot start
    before it is staged, so with fewer units than workers the idle workers' cores help."""
    return max(1, cores // max(1, min(workers, units)))


def _run_in_pool(
    jobs: list[Job], workers: int | None, *, stage: bool, on_outcome, share_flags: bool = False
):
    """:func:`run_jobs` on this machine: a pool of worker processes forked from a server."""
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(jobs) or 1))
    jobs = [replace(job, threads=max(1, cores // workers)) for job in jobs]
    units = len({job.out_dir for job in jobs})
    # Workers fork from a server that has imported papermill and nbconvert once, instead of
    # each importing them afresh (spawn) or inheriting the parent's threads (fork).
    context = get_context("forkserver")
    context.set_forkserver_preload([WORKER_PRELOAD])
    _start_helpers()
    temp_dir = tempfile.mkdtemp(prefix="crmkit-run-")
    parent_alive, alive = context.Pipe(duplex=False)  # only this process holds `alive`
    pool = None
    finished = [0]  # runs that ended in their worker, well or not

    def count(outcome: Outcome) -> None:
        finished[0] += 1
        on_outcome(outcome)

    try:
        setup = WorkerSetup(
            temp_dir, parent_alive, os.getpid(), multiprocessing.util.get_temp_dir()
        )
        # A fresh worker (forked from the preloaded server: milliseconds) for every job, so
        # the memory a job took, a million-customer unit staged, goes back at once.
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=start_worker,
            initargs=(setup,),
            max_tasks_per_child=1,
        )
        outcomes = _schedule(
            pool.submit,
            jobs,
            stage=stage,
            on_outcome=count,
            share_flags=share_flags,
            at_once=workers + 1,
            stage_threads=stage_threads(cores, workers=workers, units=units),
        )
        pool.shutdown(wait=True)
    except BaseException as exc:  # Interrupted, Ctrl-C, or a bug here: stop the workers too
        if pool is not None:
            with _signals_held():
                _sweep(jobs, _stop_pool(pool))
        if isinstance(exc, Interrupted):
            exc.finished, exc.total = finished[0], len(jobs)
        raise
    finally:
        alive.close()  # the workers are gone; closing earlier would stop them
        parent_alive.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
    return outcomes


def run_on_cluster(
    jobs: list[Job], address: str, *, stage: bool, on_outcome, share_flags: bool = False
) -> list[Outcome]:
    """:func:`run_jobs` on the Dask distributed cluster whose scheduler is at ``address``
    (``tcp://host:8786``), through its standard executor (``Client.get_executor``).

    The workers need crmkit installed and the same paths as this machine for the data, the
    notebooks and ``--out`` (a shared file system): each run writes its files where a local run
    would. Each job runs in a process forked for it from a server on its Dask worker that
    has imported what the reports import (:mod:`crmkit.run.job_server`), so its kernel is
    forked too, and a unit's reports share their model fits through a folder of the run in
    the period's folder (``.crmkit-shared-*``, removed at the end), as in the local pool.
    Interrupted, the runs not started are cancelled; the cluster's workers finish or abandon
    the runs in progress as Dask does.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ParameterError(
            "--cluster needs Dask distributed: pip install 'crmkit[cluster]' (or distributed)."
        ) from None
    try:
        client = Client(address, timeout=CLUSTER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ParameterError(f"Cannot reach the Dask scheduler at {address} ({exc}).") from None
    # A unit's clv, churn and health reports share their CLV fit (crmkit.core.shared) through
    # a folder of this run beside the reports, which every worker reaches.
    store = Path(tempfile.mkdtemp(prefix=".crmkit-shared-", dir=_period_dir(jobs)))
    environment = {shared.STORE_VARIABLE: str(store)}
    with client:
        executor = client.get_executor(pure=False)

        def submit(function, argument):  # each job in a process forked for it, as in the pool
            return executor.submit(run_forked, function, argument, environment)

        try:
            return _schedule(
                submit, jobs, stage=stage, on_outcome=on_outcome, share_flags=share_flags
            )
        finally:
            executor.shutdown(wait=False)  # cancels what has not finished
            shutil.rmtree(store, ignore_errors=True)


def _period_dir(jobs: list[Job]) -> Path:
    """The folder of the period's reports (made if new): every job's unit folder is in it."""
    folder = Path(jobs[0].out_dir).parent if jobs else Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_reports(
    period: Period,
    *,
    params_dir: Path,
    out: Path,
    notebooks_dir: Path | None = None,
    units: Iterable[str] | None = None,
    notebooks: Iterable[str] | None = None,
    as_of: str = "",
    workers: int | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    run_timeout: int = RUN_TIMEOUT,
    progress: bool = True,
    cluster: str = "",
    staging: str = "stage",
    index: bool = True,
) -> FleetResult:
    """Run every notebook for every unit for ``period`` and write the index pages.

    Planning is :func:`crmkit.run.plan.plan_jobs` (same arguments); it raises
    :class:`~crmkit.core.errors.ParameterError` before anything runs when there is nothing
    to run. ``cluster`` runs the jobs on a Dask cluster (:func:`run_on_cluster`).

    ``staging`` says where the notebooks' data comes from: ``"stage"`` loads each unit once
    into a snapshot beside its reports; ``"staged"`` reads the snapshots ``crmkit stage``
    wrote (a unit without a matching one loads its source); ``"remove"`` stages, then removes
    the snapshots after the run; ``"none"`` has every notebook load its source.
    Without ``index`` the reports' shared flags and the index pages are left to
    :func:`write_indexes` (``crmkit index``), for schedulers that run one job per task.
    """
    if staging not in STAGING:
        raise ParameterError(f"staging must be one of {STAGING}; got {staging!r}.")
    started = time.monotonic()
    jobs = plan_jobs(
        period,
        params_dir=params_dir,
        notebooks_dir=notebooks_dir,
        out=out,
        units=units,
        notebooks=notebooks,
        as_of=as_of,
        cell_timeout=cell_timeout,
        run_timeout=run_timeout,
    )
    if staging == "staged":
        jobs = [replace(job, snapshot=str(Path(job.out_dir) / SNAPSHOT_DIR)) for job in jobs]
    outcomes = run_jobs(
        jobs,
        workers=workers,
        progress=progress,
        stage=staging in ("stage", "remove"),
        cluster=cluster,
        share_flags=index,
    )
    if staging == "remove":
        for out_dir in {job.out_dir for job in jobs}:
            shutil.rmtree(Path(out_dir) / SNAPSHOT_DIR, ignore_errors=True)
    page = write_indexes(Path(out), period, params_dir=Path(params_dir)) if index else None
    return FleetResult(outcomes, round(time.monotonic() - started, 2), page)


STAGING = ("stage", "staged", "remove", "none")


def write_indexes(out: Path, period: Period, *, params_dir: Path) -> Path:
    """Share each unit's flags across its reports and write the period's portfolio page and
    the list of periods, from the run records in ``out/<period>``; the portfolio page."""
    period_dir = Path(out) / period.label
    period_dir.mkdir(parents=True, exist_ok=True)
    share_unit_flags(period_dir)
    code = portfolio_language(Path(params_dir))
    page = write_period_index(period_dir, period, code=code)
    write_root_index(Path(out), code=code)
    return page
