"""Reports on a Dask worker run as the local pool runs them: each in a process forked from a
server that has imported what the reports import, whose kernel is forked from it in turn.

A Dask worker runs a job in one of its threads. A kernel started from there is a new process
that imports IPython, pandas, scikit-learn and crmkit afresh (~1.5 s a report, a third of a
small unit's report), and a thread of a busy process must not fork one. So the first job a
Dask worker process runs starts a server for it (``python -m crmkit.run.job_server``: one
thread, the pool's preload :mod:`crmkit.run.worker` imported once). Each job is then sent to
the server over a Unix socket in a folder only this user can open, runs in a child forked for
it — a process of one run, like a worker of the local pool, which forks its kernel
(:mod:`crmkit.run.forked_kernel`) — and its result comes back over the same socket.

The server ends when the Dask worker that started it does (its standard input closes); runs
still in progress are then stopped as a stopped pool worker stops them (kernel killed, partial
files removed). Where processes cannot fork (not Linux), jobs run in the Dask worker as
before. Not for library use.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

SOCKET_NAME = "jobs"


class JobProcessDied(RuntimeError):
    """The process running a job ended without returning its result."""


# ----------------------------------------------------------------------------- the caller's side


class JobServer:
    """A running server (:func:`serve`) and the folder holding its socket."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="crmkit-jobs-"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crmkit.run.job_server", str(self.folder / SOCKET_NAME)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=server_environment(),
        )
        ready = self.process.stdout.readline()
        if ready != b"ready\n":
            self.stop()
            raise JobProcessDied(
                "The job server of this Dask worker did not start (see the worker's log)."
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(
        self,
        function: Callable[[Any], Any],
        argument: Any,
        environment: dict[str, str] | None = None,
    ) -> Any:
        """``function(argument)`` in a child forked for it, with ``environment`` added to its
        environment variables; its result, or its exception."""
        job = pickle.dumps((function, argument, environment or {}), pickle.HIGHEST_PROTOCOL)
        connection = Client(str(self.folder / SOCKET_NAME), family="AF_UNIX")
        try:
            # the child imports the job's function from where this process would
            connection.send_bytes(pickle.dumps((sys.path, job), pickle.HIGHEST_PROTOCOL))
            answer = connection.recv_bytes()
        except (EOFError, OSError):
            raise JobProcessDied(
                "The process running the job ended without a result (killed, or out of memory)."
            ) from None
        finally:
            connection.close()
        returned, value = pickle.loads(answer)
        if not returned:
            raise value
        return value

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # the server stops its runs and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def server_environment() -> dict[str, str]:
    """This process's environment for the server, without the memory setting a Dask nanny
    gives the worker processes it starts (``MALLOC_TRIM_THRESHOLD_`` at its value in
    ``distributed.nanny.pre-spawn-environ``): glibc then hands freed memory back to the
    system at every free above 64 KB, which suits a worker holding data for hours, but a
    report's kernel ends with its report and ran 3-5% slower with it (measured). A value
    other than the nanny's is the user's own and is kept."""
    environment = dict(os.environ)
    try:
        import dask

        nanny = dask.config.get("distributed.nanny.pre-spawn-environ", default=None) or {}
    except ImportError:
        nanny = {}
    name = "MALLOC_TRIM_THRESHOLD_"
    if name in nanny and environment.get(name) == str(nanny[name]):
        del environment[name]
    return environment


_server: JobServer | None = None
_server_lock = threading.Lock()


def run_forked(
    function: Callable[[Any], Any], argument: Any, environment: dict[str, str] | None = None
) -> Any:
    """``function(argument)`` in a process forked for it from this process's job server,
    started on first use, with ``environment`` added to its variables (the Dask task
    :func:`crmkit.run.fleet.run_on_cluster` submits). Where processes cannot fork, in this
    process, the variables set around the call."""
    global _server
    if not sys.platform.startswith("linux"):
        with _variables(environment or {}):
            return function(argument)
    with _server_lock:
        if _server is None or not _server.alive():
            if _server is not None:
                _server.stop()  # its folder goes with it
            _server = JobServer()
        server = _server
    return server.run(function, argument, environment)


@contextlib.contextmanager
def _variables(environment: dict[str, str]):
    before = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ----------------------------------------------------------------------------- the server


def serve(path: str) -> None:  # pragma: no cover - runs in the server process
    """Accept jobs on the Unix socket ``path`` until standard input closes; each in a child
    forked for it (:func:`_run_job`)."""
    import crmkit.run.worker  # noqa: F401  (the pool's preload: what every report imports)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    children: set[int] = set()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    with open(os.devnull, "wb") as null:  # nothing of a run reaches the caller's pipe
        os.dup2(null.fileno(), 1)
    try:
        while True:
            readable, _, _ = select.select([listener, sys.stdin], [], [], 5.0)
            _reap(children)
            if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1024):
                break
            if listener in readable:
                connection = Connection(listener.accept()[0].detach())
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    _run_job(connection)
                children.add(pid)
                connection.close()
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(OSError):
            os.unlink(path)
            os.rmdir(os.path.dirname(path))  # the folder made for it (JobServer)


def _reap(children: set[int]) -> None:  # pragma: no cover - runs in the server process
    for pid in list(children):
        try:
            ended = os.waitpid(pid, os.WNOHANG)[0]
        except ChildProcessError:  # already reaped
            ended = pid
        if ended:
            children.discard(pid)


def _run_job(connection: Connection) -> None:  # pragma: no cover - runs in a forked child
    from crmkit.run.execute import start_run_process

    try:
        start_run_process()
        path, job = pickle.loads(connection.recv_bytes())
        sys.path[:] = path
        function, argument, environment = pickle.loads(job)
        os.environ.update(environment)
        answer = (True, function(argument))
    except BaseException as exc:  # the caller raises it
        answer = (False, exc)
    try:
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        data = pickle.dumps((False, JobProcessDied(f"The job's result cannot be sent: {exc}")))
    with contextlib.suppress(OSError):
        connection.send_bytes(data)
    os._exit(0)


if __name__ == "__main__":  # pragma: no cover
    serve(sys.argv[1])
