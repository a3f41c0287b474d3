"""A Dask worker's job server: each job in a process forked for it, its result or its error
returned, a process that dies said to have died, and the server gone with its caller."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from crmkit.core.errors import ParameterError
from crmkit.run import job_server
from crmkit.run.job_server import JobProcessDied, JobServer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks: Linux")


def process_facts(_argument) -> tuple[int, int, bool]:
    """The job's process id, its parent's, and whether it was set up as a one-run process
    whose kernels are forked."""
    from crmkit.run import execute

    return os.getpid(), os.getppid(), execute._fork_kernels() and execute._ONE_RUN_WORKER


def refuse(argument):
    raise ParameterError(f"bad {argument}")


def die(_argument):
    os.kill(os.getpid(), signal.SIGKILL)


def big_result(size: int) -> bytes:
    return bytes(range(256)) * (size // 256)


@pytest.fixture(scope="module")
def server():
    started = JobServer()
    yield started
    started.stop()


def test_each_job_runs_in_a_child_of_the_server_set_up_to_fork_its_kernel(server):
    first = server.run(process_facts, None)
    second = server.run(process_facts, None)
    assert first[1] == second[1] == server.process.pid  # forked from the server
    assert len({os.getpid(), server.process.pid, first[0], second[0]}) == 4
    assert first[2] and second[2]


def variable(name: str) -> str | None:
    return os.environ.get(name)


def test_a_job_gets_the_variables_it_is_sent_with_and_the_next_job_does_not(server):
    assert server.run(variable, "CRMKIT_SHARED_RESULTS", {"CRMKIT_SHARED_RESULTS": "/x"}) == "/x"
    assert server.run(variable, "CRMKIT_SHARED_RESULTS") is None


def test_a_jobs_error_is_raised_to_the_caller_as_itself(server):
    with pytest.raises(ParameterError, match="bad input"):
        server.run(refuse, "input")
    assert server.run(big_result, 3 << 20) == big_result(3 << 20)  # longer than one read


def test_a_job_whose_process_dies_says_so_and_the_server_goes_on(server):
    with pytest.raises(JobProcessDied, match="ended without a result"):
        server.run(die, None)
    assert server.alive()
    assert server.run(process_facts, None)[1] == server.process.pid


def test_the_server_ends_when_its_caller_lets_go_and_leaves_no_folder():
    started = JobServer()
    folder, process = started.folder, started.process
    assert (folder / job_server.SOCKET_NAME).exists()
    process.stdin.close()  # as when the Dask worker that started it ends
    process.wait(timeout=30)
    assert not folder.exists()  # the server removed it itself
    started.stop()


def test_run_forked_starts_one_server_and_restarts_it_if_it_died(monkeypatch):
    monkeypatch.setattr(job_server, "_server", None)
    try:
        parent = job_server.run_forked(process_facts, None)[1]
        assert job_server.run_forked(process_facts, None)[1] == parent
        first = job_server._server.folder
        job_server._server.process.kill()
        job_server._server.process.wait()
        deadline = time.monotonic() + 10
        while job_server._server.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job_server.run_forked(process_facts, None)[1] != parent
        assert not first.exists()
    finally:
        if job_server._server is not None:
            job_server._server.stop()


def test_the_server_drops_only_the_memory_setting_dask_gives_its_workers(monkeypatch):
    import dask

    pytest.importorskip("distributed")  # its settings join dask's when it is imported
    nanny = dask.config.get("distributed.nanny.pre-spawn-environ")["MALLOC_TRIM_THRESHOLD_"]
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", str(nanny))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    environment = job_server.server_environment()
    assert "MALLOC_TRIM_THRESHOLD_" not in environment
    assert environment["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", str(int(nanny) * 2))  # the user's own
    assert job_server.server_environment()["MALLOC_TRIM_THRESHOLD_"] == str(int(nanny) * 2)
