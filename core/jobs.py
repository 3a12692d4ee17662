"""Where jobs run: RQ queues on Redis in production, a thread pool in the
one-process mode (no REDIS_URL). Jobs are module-level functions taking plain
data; both dispatchers run the same functions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from redis import Redis
from rq import Queue, Retry

log = logging.getLogger(__name__)

EVENTS_QUEUE = "events"
MAIL_QUEUE = "mail"
ATTACHMENTS_QUEUE = "attachments"  # customers' files to fetch (attachments.jobs)
JOB_TIMEOUT_SECONDS = 300


class Dispatcher(Protocol):
    def enqueue(self, func: Callable[..., Any], *args: Any, queue: str = EVENTS_QUEUE,
                retries: int = 0, at_ms: int | None = None) -> None: ...

    def others_waiting(self, besides: Callable[..., Any]) -> bool:
        """Whether a job other than `besides` waits for a worker (a long job then hands over)."""
        ...


def _backoff(retries: int) -> list[int]:
    return [min(5 * 2**i, 600) for i in range(retries)]


class RQDispatcher:
    """Jobs go to RQ; delayed ones need a worker started `--with-scheduler`."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._queues: dict[str, Queue] = {}

    def queue(self, name: str) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.redis)
        return self._queues[name]

    def enqueue(self, func: Callable[..., Any], *args: Any, queue: str = EVENTS_QUEUE,
                retries: int = 0, at_ms: int | None = None) -> None:
        options: dict[str, Any] = {"job_timeout": JOB_TIMEOUT_SECONDS, "failure_ttl": 30 * 86400}
        if retries:
            options["retry"] = Retry(max=retries, interval=_backoff(retries))
        if at_ms is None:
            self.queue(queue).enqueue(func, *args, **options)
        else:
            when = datetime.fromtimestamp(at_ms / 1000, UTC)
            self.queue(queue).enqueue_at(when, func, *args, **options)

    def others_waiting(self, besides: Callable[..., Any]) -> bool:
        """Mail or a file to fetch waits, or a job other than `besides` waits on the events queue (a due
        handover check, say). Other `besides` jobs (drains reserved for consumers that
        no worker has taken yet) do not count."""
        if self.queue(MAIL_QUEUE).count or self.queue(ATTACHMENTS_QUEUE).count:
            return True
        name = f"{besides.__module__}.{besides.__qualname__}"
        return any(job.func_name != name for job in self.queue(EVENTS_QUEUE).get_jobs(0, 50))


class InProcessDispatcher:
    """Runs jobs on a thread pool of this process (laptop mode and `chat`)."""

    def __init__(self, workers: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._timers: set[threading.Timer] = set()
        self._closed = False
        self._lock = threading.Lock()

    def enqueue(self, func: Callable[..., Any], *args: Any, queue: str = EVENTS_QUEUE,
                retries: int = 0, at_ms: int | None = None) -> None:
        delay = 0.0 if at_ms is None else max(0.0, at_ms / 1000 - time.time())
        if delay:
            timer = threading.Timer(delay, self._submit, (func, args, retries))
            timer.daemon = True
            with self._lock:
                if self._closed:
                    return
                self._timers.add(timer)
            timer.start()
        else:
            self._submit(func, args, retries)

    def others_waiting(self, besides: Callable[..., Any]) -> bool:
        """Never: each job has a thread of the pool, so a long one keeps nobody waiting."""
        return False

    def _submit(self, func: Callable[..., Any], args: tuple[Any, ...], retries: int) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
            if self._closed:  # a delayed job due after shutdown: the next start recovers its work
                return
            self._pool.submit(self._run, func, args, retries)

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...], retries: int) -> None:
        try:
            func(*args)
        except Exception:
            if retries <= 0:
                log.exception("job %s failed; no retries left", func.__name__)
                raise
            delay_ms = _backoff(retries)[0] * 1000
            log.warning("job %s failed; retrying in %d ms", func.__name__, delay_ms,
                        exc_info=True)
            self.enqueue(func, *args, retries=retries - 1, at_ms=int(time.time() * 1000)
                         + delay_ms)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
