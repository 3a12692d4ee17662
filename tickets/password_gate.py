"""A bound on password checks running at once in this process, run where they
do not stop the others.

One scrypt check takes ~100 ms of CPU and 32 MiB; without a bound, parallel
sign-in attempts (even within their budgets, from many addresses) would pile
up on the web tier. At most `running` checks run; up to `waiting` more wait
their turn (at most `wait_seconds`); anything beyond is refused at once, and
the view answers 503 with Retry-After. One check at a time per process: with
two, a sign-in flood left the loop less CPU (`/livez` p99 360 ms against 126-186
ms, `python -m bench.signin_flood`); ten sign-ins a second per process is plenty.

Under gevent (the Procfile's web worker) every request shares one OS thread, so
a check run in place would stop every other connection, webhook
acknowledgements included, for its ~100 ms. There the check runs in gevent's
pool of OS threads (`hashlib.scrypt` releases the GIL) while the greenlet waits
cooperatively; without gevent it runs in the request's own thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class GateFull(Exception):
    """Too many password checks running or waiting in this process."""


class PasswordGate:
    def __init__(self, running: int = 1, waiting: int = 2, wait_seconds: float = 1.0) -> None:
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

    def run(self, check: Callable[..., T], *args: object) -> T:
        """`check(*args)` in a slot, off gevent's loop when there is one. `check` must
        not use the request's connections (a database session, Redis): they belong
        to the loop; use `slot()` and `off_the_loop` around a lookup and a check."""
        with self.slot():
            return off_the_loop(check, *args)


def off_the_loop(check: Callable[..., T], *args: object) -> T:
    """`check(*args)` in gevent's OS thread pool when gevent runs the process, else here."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        return gevent.get_hub().threadpool.apply(check, args)
    return check(*args)
