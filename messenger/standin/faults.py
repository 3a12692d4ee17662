"""What makes a Send API call fail on purpose: injected errors and the per-Page rate limit.

Neither class locks: `Standin` calls them under its own lock.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from messenger.standin.errors import GraphError, injected
from messenger.standin.page_rates import SendSeconds

WINDOW_SECONDS = 1.0
META_SEND_LIMIT = 300  # calls/s per Page (doc §6.2): the 100% mark of the usage header


@dataclass(frozen=True)
class Fault:
    error: GraphError
    delay: float


class FaultQueue:
    """The next n Send API calls answer an injected error, after an optional delay."""

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()

    def add(self, n: int, *, status: int | None, code: int | None, subcode: int | None,
            delay: float) -> None:
        if n < 0 or delay < 0:
            raise ValueError("fail_next needs n >= 0 and delay >= 0")
        error = injected(status=status, code=code, subcode=subcode)
        self._faults.extend(Fault(error, delay) for _ in range(n))

    def pop(self) -> Fault | None:
        return self._faults.popleft() if self._faults else None

    def clear(self) -> None:
        self._faults.clear()


class RateLimiter:
    """A sliding one-second window of admitted calls; only admitted calls count against
    the limit. `seconds` records every call, refused ones too."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._admitted: deque[float] = deque()
        self.seconds = SendSeconds()

    def admit(self, limit: int | None) -> bool:
        now = self._now()
        self._forget_before(now - WINDOW_SECONDS)
        admitted = limit is None or len(self._admitted) < limit
        if admitted:
            self._admitted.append(now)
        self.seconds.record(admitted)
        return admitted

    def usage_header(self, page_id: str, limit: int | None) -> str:
        """`X-Business-Use-Case-Usage`: the share of the window's allowance used (doc §6.3)."""
        self._forget_before(self._now() - WINDOW_SECONDS)
        percent = min(100, round(100 * len(self._admitted) / (limit or META_SEND_LIMIT)))
        usage = {"type": "messenger", "call_count": percent, "total_cputime": 1,
                 "total_time": 1, "estimated_time_to_regain_access": 0}
        return json.dumps({page_id: [usage]}, separators=(",", ":"))

    def clear(self) -> None:
        self._admitted.clear()

    def _forget_before(self, cutoff: float) -> None:
        while self._admitted and self._admitted[0] <= cutoff:
            self._admitted.popleft()
