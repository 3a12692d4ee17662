"""Send API calls one Page received, second by second: what a benchmark reads to check
that no Page went above its rate (`GET /_standin/send_rate?page=ID`).

Every call counts on arrival, refused ones too, as Meta counts them. No lock: the
Page's `RateLimiter` records each call under `Standin`'s lock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

WINDOW_SECONDS = 1.0


class SendSeconds:
    """Calls per whole second of the clock, and the busiest sliding one-second window."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._window: deque[float] = deque()  # arrivals less than a second before the last
        self.per_second: dict[int, int] = {}
        self.calls = self.refused = self.busiest = 0

    def record(self, admitted: bool) -> None:
        now = self._clock()
        self._window.append(now)
        while now - self._window[0] >= WINDOW_SECONDS:
            self._window.popleft()
        self.busiest = max(self.busiest, len(self._window))
        second = int(now)
        self.per_second[second] = self.per_second.get(second, 0) + 1
        self.calls += 1
        self.refused += not admitted

    def summary(self) -> dict[str, Any]:
        """calls, refused (by the rate limit), busiest_second (most calls in any one-second
        window) and per_second ({unix second: calls}, oldest first)."""
        return {"calls": self.calls, "refused": self.refused, "busiest_second": self.busiest,
                "per_second": {str(s): n for s, n in sorted(self.per_second.items())}}
