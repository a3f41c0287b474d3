"""Work on a unit's tables side by side: staging a unit alone uses the cores its idle
workers leave (``crmkit run``, ``crmkit stage --threads``). Arrow, DuckDB and the Parquet
reader, where loading spends its time, release the interpreter's lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def in_order(function: Callable[[Any], Any], items: list, *, threads: int) -> list:
    """``[function(item) for item in items]``, ``threads`` at a time; an error is the first
    item's in order, as one thread would raise it."""
    if threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = [pool.submit(function, item) for item in items]
        return [done.result() for done in started]
