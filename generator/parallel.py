"""Both cores: a map over independent items (record folders) in a pool of forked processes.

The work per record (read, validate, fold, render its page) shares nothing with other records, so
it splits cleanly; results come back in input order, so the output is the same whatever the number
of workers. ``SOVEREIGN_WORKERS=1`` turns the pool off (the build is then byte-identical, which a
test checks); small inputs never start one, since forking costs more than it saves below a few
hundred records.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

WORKERS_ENV = "SOVEREIGN_WORKERS"
MIN_ITEMS = 200  # below this the pool's start-up costs more than it saves

T = TypeVar("T")
R = TypeVar("R")


def worker_count() -> int:
    """``SOVEREIGN_WORKERS`` when set (a positive integer), else the CPUs this process may run on."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            from generator.errors import InputError

            raise InputError(f"{WORKERS_ENV}={value!r}: expected a positive integer (1 turns the process pool off)")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parallel_map(func: Callable[[T], R], items: Sequence[T], *, min_items: int | None = None) -> list[R]:
    """``[func(x) for x in items]``, on every core when there are enough items.

    ``func`` must be a module-level function (or a ``functools.partial`` of one). Workers are forked
    (Linux), so they start with the parent's imports and compiled schemas; elsewhere the map runs here.
    """
    workers = min(worker_count(), len(items))
    if workers <= 1 or len(items) < (MIN_ITEMS if min_items is None else min_items) or "fork" not in multiprocessing.get_all_start_methods():
        return [func(item) for item in items]
    # Chunks of a few dozen items: few enough messages, small enough that both workers finish together.
    chunk = max(1, min(64, len(items) // (workers * 8)))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(func, items, chunksize=chunk)
