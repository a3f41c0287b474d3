"""The contract matrix's runs, started when the session's tests are collected.

Not a test file. The matrix (``test_contract_matrix.py``) runs every topic on every variant
in-process (:mod:`notebook_runner`): some 50 variants of seven notebooks, the suite's largest
cost. A worker process starts on them as soon as the tests are collected, at low priority
(``nice``), so it takes the CPU the other tests leave idle (a test waiting for a kernel or a
subprocess) without slowing a test that times something; when the matrix's tests come, the
test process runs the variants no one has started, from the back, while it waits for the
one the worker is running.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import shutil
import tempfile
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matrix import SHAPES, build_variant
from notebook_runner import LoadCache, NotebookRun, run_notebook

DRAWN = frozenset({"full", "required_only", *SHAPES})
"""Variants whose figures are drawn, as a report renders them. The others (one table or
column removed) make every figure but skip drawing: drawing is most of a small run's time,
and their figures are the same shapes as the full variant's."""

WORKERS = int(os.environ.get("CRMKIT_MATRIX_JOBS", "1"))
"""Background worker processes for the matrix (0: every variant runs in the test process)."""

MODULE = "test_contract_matrix"


@dataclass(frozen=True)
class Outcome:
    """One (topic, variant) run as the test sees it: what it showed, or how it failed."""

    run: NotebookRun | None
    error: str = ""  # exception class name
    error_classes: tuple[str, ...] = ()  # its class and bases, by name
    message: str = ""
    traceback: str = ""

    def describe(self) -> str:
        return self.traceback or f"{self.error}: {self.message}"


def run_variant(name: str, root: str, topics: tuple[str, ...]) -> dict[str, Outcome]:
    """Build variant ``name`` under ``root`` and run ``topics`` on it (one load for all)."""
    from threadpoolctl import threadpool_limits

    variant = build_variant(name, Path(root))
    cache = LoadCache()
    outcomes = {}
    with warnings.catch_warnings(), threadpool_limits(1):
        # as pyproject's pytest filterwarnings, so a worker process fails as a test would
        warnings.filterwarnings("error", category=UserWarning, module="matplotlib.*")
        for topic in topics:
            try:
                run = run_notebook(
                    topic,
                    variant.notebook_parameters(),
                    draw=name in DRAWN,
                    load_cache=cache,
                )
                outcomes[topic] = Outcome(run)
            except Exception as exc:
                outcomes[topic] = Outcome(
                    None,
                    type(exc).__name__,
                    tuple(c.__name__ for c in type(exc).__mro__),
                    str(exc),
                    "".join(traceback.format_exception(exc)),
                )
    return outcomes


def _worker_start() -> None:
    os.nice(10)  # the tests in the foreground come first


def _finished(result: dict[str, Outcome]) -> concurrent.futures.Future:
    done: concurrent.futures.Future = concurrent.futures.Future()
    done.set_result(result)
    return done


class Matrix:
    """The variants the session selected, each run once: by the background worker, or by
    the test process when it needs one no one has started."""

    def __init__(self, wanted: dict[str, set[str]]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="crmkit-matrix-"))
        self.wanted = {name: tuple(sorted(topics)) for name, topics in wanted.items()}
        self.futures: dict[str, concurrent.futures.Future] = {}
        self.pool = None
        if WORKERS > 0 and len(self.wanted) > 1:
            # spawned: the process's one fork server is crmkit run's, with its own preload
            context = multiprocessing.get_context("spawn")
            self.pool = concurrent.futures.ProcessPoolExecutor(
                WORKERS, mp_context=context, initializer=_worker_start
            )
            for name, topics in self.wanted.items():
                self.futures[name] = self.pool.submit(run_variant, name, str(self.root), topics)

    def _run_here(self, name: str) -> None:
        topics = self.wanted.get(name, ())
        self.futures[name] = _finished(run_variant(name, str(self.root), topics))

    def _steal(self) -> bool:
        """Run here the last variant no worker has started; False when there is none."""
        for name, future in reversed(self.futures.items()):
            if future.cancel():
                self._run_here(name)
                return True
        return False

    def outcome(self, topic: str, variant: str) -> Outcome:
        if variant not in self.futures:  # a test selected alone, or a worker refused
            self.wanted[variant] = tuple(sorted({*self.wanted.get(variant, ()), topic}))
            self._run_here(variant)
        while not self.futures[variant].done():
            if self.futures[variant].cancel():
                self._run_here(variant)
            elif not self._steal():
                break
        return self.futures[variant].result()[topic]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)


_SESSION: dict[str, Any] = {}


def start(items) -> None:
    """Start the runs of the matrix tests among ``items`` (the session's collected tests)."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        module = getattr(item, "module", None)
        if module is not None and module.__name__ == MODULE and {"topic", "variant"} <= {*params}:
            wanted.setdefault(params["variant"], set()).add(params["topic"])
    if wanted:
        _SESSION["matrix"] = Matrix(wanted)


def session_matrix() -> Matrix:
    """The session's matrix (one made here when the tests were not collected by pytest's
    hook, as when a test asks for a variant the session did not select)."""
    if "matrix" not in _SESSION:
        _SESSION["matrix"] = Matrix({})
    return _SESSION["matrix"]


def stop() -> None:
    matrix = _SESSION.pop("matrix", None)
    if matrix is not None:
        matrix.close()
