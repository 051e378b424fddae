"""Both cores: a map over independent items (record folders) in a pool of forked processes.

The work per record (read, validate, fold, render its page) shares nothing with other records, so
it splits cleanly; results come back in input order, so the output is the same whatever the number
of workers. ``SOVEREIGN_WORKERS=1`` turns the pool off (the build is then byte-identical, which a
test checks); small inputs never start one, since forking costs more than it saves below a few
hundred records.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from contextlib import contextmanager, nullcontext
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
    with _few_collections(), multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(func, items, chunksize=chunk)


@contextmanager
def _few_collections():
    """Keep the garbage collector out of the way of a pooled map.

    What is alive at the fork is frozen (``gc.freeze``, as the gc module advises before a fork): the
    workers' collector never walks it, so it never writes to the pages they share with the parent. The
    results then arrive as tens of thousands of small, acyclic objects (parsed JSON); with the default
    threshold each 700 new objects start a collection that walks all the results so far, which took
    two thirds of the unpickling time at 10,000 records. Collections are rarer until the map returns.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


class Pending:
    """``func`` running in a forked child while the caller goes on (`build`: a record's own files are
    written on one core while MkDocs renders pages on the other). ``wait`` joins it and raises what it
    raised; ``cancel`` stops it."""

    def __init__(self, func: Callable[[], None]) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_report_to, args=(func, send), daemon=True)
        self._process.start()
        send.close()  # the child holds the only sending end: its exit without a word reads as EOF

    def wait(self) -> None:
        try:
            error = self._receive.recv()
        except EOFError:
            error = None
            self._process.join()
            if self._process.exitcode != 0:
                error = RuntimeError(f"a child process stopped with exit code {self._process.exitcode}")
        self._process.join()
        if error is not None:
            raise error

    def cancel(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


class Done:
    """What ``in_child`` returns when it ran ``func`` here: nothing to wait for."""

    def wait(self) -> None:
        return None

    def cancel(self) -> None:
        return None


def _report_to(func: Callable[[], None], send) -> None:
    try:
        func()
        send.send(None)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, which raises it
        try:
            send.send(exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle goes back as its text
            send.send(RuntimeError(f"{type(exc).__name__}: {exc}"))


def in_child(func: Callable[[], None]) -> Pending | Done:
    """Run ``func`` in a forked child (``Pending``), or here and now (``Done``) when there is one worker
    (``SOVEREIGN_WORKERS=1``) or no ``fork``."""
    if worker_count() <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        func()
        return Done()
    return Pending(func)


class Tasks:
    """Indices 0..count-1 handed out in chunks to whichever process asks next: a forked child starts on
    them, and its parent joins in when its own work is done, so both cores finish together."""

    def __init__(self, count: int, chunk: int = 32) -> None:
        self.count, self.chunk = count, chunk
        forking = "fork" in multiprocessing.get_all_start_methods()
        self._next = multiprocessing.get_context("fork").Value("q", 0) if forking else _Counter()

    def take(self) -> range:
        with self._next.get_lock():
            start = self._next.value
            self._next.value = min(start + self.chunk, self.count)
        return range(start, min(start + self.chunk, self.count))

    def run(self, func: Callable[[int], object]) -> None:
        """``func(i)`` for every index not taken yet, until none is left."""
        while chunk := self.take():
            for number in chunk:
                func(number)


class _Counter:
    """``Tasks``' counter where there is no ``fork`` (one process: no lock needed)."""

    def __init__(self) -> None:
        self.value = 0

    def get_lock(self):
        return nullcontext()
