"""RQ's scheduler (delayed retries, scheduled drains) as a thread of the worker.

RQ forks a scheduler process per worker that holds the queues' scheduler locks;
the fork held ~50 MB of memory to move a few due jobs once a second. This thread
runs the same steps as `RQScheduler.work` through RQScheduler's public methods
only (`acquire_locks`, `register_birth`, `heartbeat`, `enqueue_scheduled_jobs`,
`stop`), so an RQ upgrade changes nothing we reach into
(`tests/unit/test_library_canaries.py` checks that those methods are still there).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq.scheduler import RQScheduler

log = logging.getLogger(__name__)

# How often a scheduler holding no lock (another worker's scheduler has them) tries
# again; RQ's worker tries at each maintenance tick.
RETRY_LOCKS_SECONDS = 15.0


class SchedulerThread:
    """Moves due scheduled jobs to their queues while this worker holds the queues' locks."""

    def __init__(self, queues: Iterable[Any], connection: Redis, *, serializer: Any = None,
                 interval: int = 1, retry_locks_seconds: float = RETRY_LOCKS_SECONDS) -> None:
        self.scheduler = RQScheduler(list(queues), connection=connection,
                                     serializer=serializer, interval=interval)
        self._retry_locks_seconds = retry_locks_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        """A burst worker's scheduling: what is due now, then the locks go back."""
        scheduler = self.scheduler
        if scheduler.acquire_locks():
            scheduler.register_birth()
            scheduler.enqueue_scheduled_jobs()
            scheduler.release_locks()
            scheduler.register_death()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rq-scheduler")
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ends the loop and gives the locks back (another worker's scheduler takes over)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        born = False
        next_try = 0.0
        while not self._stopping.is_set():
            try:
                next_try = self._hold_locks(next_try)
                if self.scheduler.acquired_locks:
                    if not born:
                        self.scheduler.register_birth()
                        born = True
                    self.scheduler.heartbeat()
                    self.scheduler.enqueue_scheduled_jobs()
            except RedisError:  # the worker itself reports the outage; try again next tick
                log.warning("scheduler: Redis unavailable; retrying", exc_info=True)
            except Exception:  # a bad scheduled job must not end scheduling for every queue
                log.exception("scheduler: tick failed; retrying")
            self._stopping.wait(self.scheduler.interval)
        if born:
            self._give_back()

    def _hold_locks(self, next_try: float) -> float:
        """Takes the locks when free (again after RQ's fallback period); when off and another
        scheduler has them all, tries every `retry_locks_seconds`. The next time to try."""
        scheduler = self.scheduler
        now = time.monotonic()
        if scheduler.acquired_locks:
            if scheduler.should_reacquire_locks:
                scheduler.acquire_locks()
        elif now >= next_try:
            scheduler.acquire_locks()
            return now + self._retry_locks_seconds
        return next_try

    def _give_back(self) -> None:
        try:
            self.scheduler.stop()  # releases the locks, deletes its registration
        except RedisError:  # the locks expire on their own (interval + 60 s)
            log.warning("scheduler: could not release its locks; they expire on their own")
