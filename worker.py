"""The RQ worker class the Procfile runs.

A SimpleWorker (no fork per job: the process keeps its Graph, Redis and
database connection pools) that, at start and on every maintenance tick,
restarts mailbox draining if a crashed consumer left customers waiting.
It runs RQ's scheduler (delayed retries, scheduled drains) as a thread of its
own process instead of a forked one: the fork held ~50 MB of memory to move a
few due jobs once a second.

It lives beside `app.py`, not in `bot`: like the app factory it composes the
process, registering every feature (`features.register_all`) before its first job.

The app's modules (flows, SQL, Graph client, features) are imported by the worker
itself, at bootstrap, not when this module is: `rq worker-pool` imports the worker class
in its parent process too, which only forks and respawns workers; importing the
app there held ~40 MB of memory that the forked child did not share for long.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from redis.exceptions import RedisError
from rq.scheduler import RQScheduler
from rq.worker import SimpleWorker

log = logging.getLogger(__name__)


MAINTENANCE_SECONDS = 15


class DeskWorker(SimpleWorker):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["maintenance_interval"] = MAINTENANCE_SECONDS
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        """Wake from an idle wait at each maintenance tick (RQ waits ~7 min)."""
        return MAINTENANCE_SECONDS

    def bootstrap(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _settings_or_exit()
        _register_features()
        super().bootstrap(*args, **kwargs)
        _recover()

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        _recover()

    def _start_scheduler(self, burst: bool = False, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.scheduler = ThreadScheduler(self.queues, connection=self.connection,
                                         serializer=self.serializer)
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
                self.scheduler.release_locks()
                self.scheduler.register_death()
            else:
                self.scheduler.start()

    def stop_scheduler(self) -> None:
        if isinstance(self.scheduler, ThreadScheduler):
            self.scheduler.request_stop()
        else:
            super().stop_scheduler()


def _settings_or_exit() -> None:
    """Bad configuration (e.g. REDIS_URL without SECRET_KEY) ends the worker with one line."""
    from config.settings import ConfigError, load_settings

    try:
        load_settings()
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")


def _register_features() -> None:
    from features import register_all  # here, not at the top: see the module docstring

    register_all()


def _recover() -> None:
    from bot.jobs import recover  # here, not at the top: see the module docstring
    from config.settings import ConfigError
    from core.schema import SchemaError

    try:
        recover()  # the first call builds the runtime, which checks settings and schema
    except SchemaError as exc:
        raise SystemExit(str(exc)) from None  # one line, not a traceback
    except ConfigError as exc:  # one line, not a traceback (SPEC "Configuration")
        raise SystemExit(f"configuration error: {exc}") from None


class ThreadScheduler(RQScheduler):
    """RQ's scheduler loop in a daemon thread; `_process` is the thread (RQ checks it)."""

    def start(self) -> threading.Thread:  # type: ignore[override]
        self._status = self.Status.STARTED
        thread = threading.Thread(target=self._loop, daemon=True, name="rq-scheduler")
        self._process = thread
        thread.start()
        return thread

    def request_stop(self, *_args: object) -> None:
        self._stop_requested = True

    def _loop(self) -> None:
        self.register_birth()
        while not self._stop_requested:
            try:
                if self.should_reacquire_locks:
                    self.acquire_locks()
                self.heartbeat()
                self.enqueue_scheduled_jobs()
            except RedisError:  # the worker itself reports the outage; try again next tick
                log.warning("scheduler: Redis unavailable; retrying", exc_info=True)
            time.sleep(self.interval)
        self.stop()
