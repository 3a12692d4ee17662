"""The RQ worker class the Procfile runs.

A SimpleWorker (no fork per job: the process keeps its Graph, Redis and
database connection pools) that, at start and on every maintenance tick,
restarts mailbox draining if a crashed consumer left customers waiting.
"""

from __future__ import annotations

import logging

from rq.worker import SimpleWorker

from bot.jobs import recover

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
        super().bootstrap(*args, **kwargs)
        recover()

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        recover()
