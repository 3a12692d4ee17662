"""The RQ worker class the Procfile runs.

A SimpleWorker (no fork per job: the process keeps its Graph, Redis and
database connection pools) that, at start and on every maintenance tick,
restarts mailbox draining if a crashed consumer left customers waiting.
It runs RQ's scheduler (delayed retries, scheduled drains) as a thread of its
own process instead of a forked one (`bot.scheduler_thread`): the fork held
~50 MB of memory to move a few due jobs once a second. Only RQ's public
methods are overridden (`work`, `bootstrap`, `run_maintenance_tasks`,
`teardown`, `dequeue_timeout`).

It lives beside `app.py`, not in `bot`: like the app factory it composes the
process, registering every feature (`features.register_all`) before its first job.

The app's modules (flows, SQL, Graph client, features) are imported by the worker
itself, at bootstrap, not when this module is: `rq worker-pool` imports the worker class
in its parent process too, which only forks and respawns workers; importing the
app there held ~40 MB of memory that the forked child did not share for long.
"""

from __future__ import annotations

import sys
from typing import Any

from rq.worker import SimpleWorker

from bot.scheduler_thread import SchedulerThread

MAINTENANCE_SECONDS = 15


class DeskWorker(SimpleWorker):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["maintenance_interval"] = MAINTENANCE_SECONDS
        super().__init__(*args, **kwargs)
        self.desk_scheduler: SchedulerThread | None = None
        self.desk_burst = False

    @property
    def dequeue_timeout(self) -> int:
        """Wake from an idle wait at each maintenance tick (RQ waits ~7 min)."""
        return MAINTENANCE_SECONDS

    def work(self, burst: bool = False, *args: Any, with_scheduler: bool = False,
             **kwargs: Any) -> bool:
        """RQ's loop, with our scheduler thread instead of RQ's forked one."""
        self.desk_scheduler = (SchedulerThread(self.queues, self.connection,
                                               serializer=self.serializer)
                               if with_scheduler else None)
        self.desk_burst = burst
        return super().work(burst, *args, with_scheduler=False, **kwargs)

    def bootstrap(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _settings_or_exit()
        _register_features()
        super().bootstrap(*args, **kwargs)
        _recover()
        if self.desk_scheduler is None:
            return
        if self.desk_burst:  # started where RQ starts its own: after bootstrap
            self.desk_scheduler.run_once()
        else:
            self.desk_scheduler.start()

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        _recover()

    def teardown(self) -> None:
        if self.desk_scheduler is not None:
            self.desk_scheduler.stop()
        super().teardown()


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
    from config.pages import PagesError
    from config.settings import ConfigError
    from core.schema import SchemaError

    try:
        recover()  # the first call builds the runtime, which checks settings and schema
    except SchemaError as exc:
        raise SystemExit(str(exc)) from None  # one line, not a traceback
    except PagesError as exc:  # one line per problem, as the web says them
        raise SystemExit("pages file refused:\n" + "\n".join(exc.problems)) from None
    except ConfigError as exc:  # one line, not a traceback (SPEC "Configuration")
        raise SystemExit(f"configuration error: {exc}") from None
