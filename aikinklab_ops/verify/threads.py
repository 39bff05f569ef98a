"""Daemon worker threads for the verification's network probes.

``concurrent.futures`` joins its worker threads when the interpreter exits, so after Ctrl-C a run
whose workers wait on a silent server lives on until every queued request has timed out (20
latency samples at a 10 s timeout, five at a time: 40 s). These workers are daemon threads: an
interrupted verification exits at once and abandons its probes, which only ever read.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Task(Generic[T]):
    """``fn()`` on a daemon thread; ``result()`` waits for it and re-raises what it raised."""

    def __init__(self, fn: Callable[[], T], *, name: str, done: queue.SimpleQueue[Task[T]] | None = None) -> None:
        self._fn = fn
        self._done_queue = done
        self._finished = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as err:  # handed to the thread that asks for the result
            self._error = err
        finally:
            self._finished.set()
            if self._done_queue is not None:
                self._done_queue.put(self)

    def result(self) -> T:
        self._finished.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def parallel_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int, name: str) -> list[R]:
    """``[fn(x) for x in items]`` with at most ``workers`` calls at once, results in input order."""
    todo = list(enumerate(items))
    results: list[R | None] = [None] * len(todo)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not todo:
                    return
                i, item = todo.pop(0)
            results[i] = fn(item)

    tasks = [Task(work, name=f"{name}-{n}") for n in range(max(1, min(workers, len(todo))))]
    for task in tasks:
        task.result()
    return results  # type: ignore[return-value]
