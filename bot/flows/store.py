"""The flows the bot serves: the last good version of the file, reloaded when it changes."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.flows.loader import FlowsError, Problem, load_flows
from bot.flows.schema import Flows

logger = logging.getLogger("bot.flows")

# What tells us the file changed: modification time, size and inode (editors replace files).
_Signature = tuple[int, int, int] | None


class FlowsStore:
    """Serves the flows file; a broken edit is logged and ignored until it is fixed."""

    def __init__(
        self,
        path: str | Path,
        *,
        check_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._signature = _signature(self.path)
        self._flows = load_flows(self.path)  # a broken file stops the process here
        self._problems: list[Problem] = []
        self._checked_at = clock()

    @property
    def current(self) -> Flows:
        """The last good flows, after looking at the file at most once per check interval."""
        if self._clock() - self._checked_at >= self._check_interval:
            self._check()
        return self._flows

    @property
    def last_problems(self) -> list[Problem]:
        """Why the file on disk is not being served; empty when it is good."""
        return list(self._problems)

    def _check(self) -> None:
        # One thread checks; the others keep serving what they have instead of waiting.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._checked_at = self._clock()
            signature = _signature(self.path)
            if signature != self._signature:
                self._signature = signature
                self._reload()
        finally:
            self._lock.release()

    def _reload(self) -> None:
        try:
            flows = load_flows(self.path)
        except FlowsError as error:
            self._problems = error.problems
            for problem in error.problems:
                logger.warning("flows not reloaded, still serving the last good file: %s", problem)
            return
        self._flows, self._problems = flows, []
        logger.info("flows reloaded from %s (%d flows)", self.path, len(flows.flows))


def _signature(path: Path) -> _Signature:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)
