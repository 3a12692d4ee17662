"""The pages the process serves: the last good pages file, reloaded when it changes.

A broken edit is logged (file:line) and ignored: the last good directory keeps serving,
as the flows file does. Tokens are read from the process's environment, so a Page whose
token variable is new needs a restart (its variable is unset here: refused, logged).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from config.pages import PagesDirectory, PagesError, load_pages, pages_path
from config.settings import Settings

logger = logging.getLogger("config.pages")

_Fingerprint = tuple[int, int, int] | None


class PagesStore:
    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None, *,
                 check_interval: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 on_load: Callable[[PagesDirectory], None] | None = None) -> None:
        self._settings, self._environ = settings, environ
        self._on_load = on_load or (lambda directory: None)
        self._path = pages_path(settings)
        self._check_interval, self._clock = check_interval, clock
        self._lock = threading.Lock()
        self._fingerprint = _fingerprint(self._path)
        self._directory = load_pages(settings, environ)  # a broken file stops the process here
        self._on_load(self._directory)
        self._problems: list[str] = []
        self._checked_at = clock()

    @property
    def current(self) -> PagesDirectory:
        """The last good directory, after looking at the file at most once per interval."""
        if self._path is not None and self._clock() - self._checked_at >= self._check_interval:
            self._check()
        return self._directory

    @property
    def last_problems(self) -> list[str]:
        """Why the file on disk is not being served; empty when it is good."""
        return list(self._problems)

    def _check(self) -> None:
        if not self._lock.acquire(blocking=False):  # one thread checks, the others serve
            return
        try:
            self._checked_at = self._clock()
            fingerprint = _fingerprint(self._path)
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                self._reload()
        finally:
            self._lock.release()

    def _reload(self) -> None:
        try:
            directory = load_pages(self._settings, self._environ)
        except PagesError as error:
            self._problems = error.problems
            for problem in error.problems:
                logger.warning("pages not reloaded, still serving the last good file: %s", problem)
            return
        self._on_load(directory)
        self._directory, self._problems = directory, []
        logger.info("pages reloaded from %s (%d Pages)", self._path, len(directory.pages))


def _fingerprint(path: Path | None) -> _Fingerprint:
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)
