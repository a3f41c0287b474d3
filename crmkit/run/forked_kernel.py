"""Kernels forked from a worker of ``crmkit run``, with the notebooks' libraries imported.

A kernel started as a new process spends ~1.5 s importing IPython, pandas, SciPy, matplotlib
and crmkit before its first cell computes anything, in every report: on the sample, a third
of a report's time. The worker's fork server imports them once (:mod:`crmkit.run.worker`);
a kernel forked from the worker starts with them loaded.

The fork is made before papermill runs (:meth:`ForkedKernel.ready`), from the worker's main
thread with no event loop running (its one other thread waits on a pipe); the child waits on a
pipe of its own until the kernel manager asks it to launch, then becomes ``python -m
ipykernel_launcher`` with the manager's arguments, environment and folder, in a session of its
own (so killing its process group kills what it started, as for a kernel started as a new
process). It never returns into the worker's code. A kernel command of another Python (a
kernelspec of another environment) is started as a new process, as always.

For the kernel manager the fork is a :class:`subprocess.Popen` look-alike (``pid``, ``poll``,
``wait``, ``send_signal``, ``kill``, ``terminate``). Not for library use.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

LAUNCHER = ("-m", "ipykernel_launcher")
"""The kernel command's arguments a forked kernel can stand in for."""


class ForkedKernel:
    """A child of this process that becomes a kernel when :meth:`launch` is called."""

    stdin = stdout = stderr = None  # what Popen users close after wait()

    def __init__(self, pid: int, request_fd: int):
        self.pid = pid
        self.returncode: int | None = None
        self._request_fd: int | None = request_fd

    @classmethod
    def ready(cls) -> ForkedKernel:
        """Fork the child that will be the kernel; it waits for :meth:`launch`."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            os.close(write_fd)
            _become_kernel(read_fd)
        os.close(read_fd)
        return cls(pid, write_fd)

    def can_launch(self, cmd: list[str]) -> bool:
        """Whether ``cmd`` is this Python's ``-m ipykernel_launcher`` and the child still
        waits for it."""
        return (
            self._request_fd is not None
            and len(cmd) >= 3
            and tuple(cmd[1:3]) == LAUNCHER
            and os.path.abspath(cmd[0]) == os.path.abspath(sys.executable)
        )

    def launch(self, cmd: list[str], *, env: dict, cwd: str, log_path: str) -> None:
        """Tell the child to run the kernel ``cmd`` (``python -m ipykernel_launcher ...``)."""
        request = {"argv": list(cmd[3:]), "env": dict(env), "cwd": cwd, "log": log_path}
        self._send(json.dumps(request).encode("utf-8"))

    def discard(self) -> None:
        """An unused child exits; reaped."""
        if self._request_fd is not None:
            self._send(b"")
            self.wait()

    def _send(self, data: bytes) -> None:
        fd, self._request_fd = self._request_fd, None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            pass  # the child is gone: poll() says so
        finally:
            os.close(fd)

    # the Popen interface jupyter_client's LocalProvisioner uses
    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _become_kernel(read_fd: int) -> None:  # pragma: no cover - runs in the forked child
    code = 1
    try:
        os.setsid()
        _die_with_parent()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
            signal.signal(signum, signal.SIG_DFL)
        data = b""
        while chunk := os.read(read_fd, 65536):
            data += chunk
        os.close(read_fd)
        if not data:
            os._exit(0)
        request = json.loads(data)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.closerange(3, _max_fd())
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        importlib.invalidate_caches()  # imports look in the new folder afresh
        _fresh_event_loop()
        _limit_threads()
        if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
            del sys.path[0]  # as ipykernel_launcher; the kernel puts the folder back
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=request["argv"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """On Linux, the kernel is killed if its worker dies, even by SIGKILL (a kernel started as
    a new process would outlive it)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (OSError, ValueError):
        return 1024


def _fresh_event_loop() -> None:  # pragma: no cover - runs in the forked child
    """The worker's event-loop bookkeeping does not belong to the kernel."""
    import asyncio

    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(asyncio.new_event_loop())


def _limit_threads() -> None:  # pragma: no cover - runs in the forked child
    """The thread counts the worker set (:func:`crmkit.run.execute.limit_threads`), applied
    to libraries the fork server loaded before they were set."""
    value = os.environ.get("OMP_NUM_THREADS")
    if not value or not value.isdigit():
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(value))
