"""A bound on password checks running at once in this process.

One scrypt check takes ~100 ms of CPU and 32 MiB; without a bound, parallel
sign-in attempts (even within their budgets, from many addresses) would pile
up threads and memory on the web tier. At most `running` checks run; up to
`waiting` more wait their turn (at most `wait_seconds`); anything beyond is
refused at once, and the view answers 503 with Retry-After. The defaults hold
at most 4 of a web process's 8 threads (Procfile), so a sign-in flood leaves
the others to webhook acknowledgements.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class GateFull(Exception):
    """Too many password checks running or waiting in this process."""


class PasswordGate:
    def __init__(self, running: int = 2, waiting: int = 2, wait_seconds: float = 1.0) -> None:
        if running < 1 or waiting < 0:
            raise ValueError("running must be at least 1 and waiting at least 0")
        self.running, self.waiting, self.wait_seconds = running, waiting, wait_seconds
        self._admitted = threading.BoundedSemaphore(running + waiting)
        self._slots = threading.BoundedSemaphore(running)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the `running` slots; GateFull when the queue is full or the wait too long."""
        if not self._admitted.acquire(blocking=False):
            raise GateFull
        try:
            if not self._slots.acquire(timeout=self.wait_seconds):
                raise GateFull
            try:
                yield
            finally:
                self._slots.release()
        finally:
            self._admitted.release()

    def run(self, check: Callable[[], T]) -> T:
        with self.slot():
            return check()
