"""A per-page pace for Send API calls, shared by every thread, process and
machine through Redis.

Meta allows about 300 Send API calls per second per page. Each call first
takes the page's next slot from a GCRA (generic cell rate algorithm) kept in
one Redis key; the script answers how long to wait for that slot, and the
caller sleeps that long. A burst above the rate is smoothed, never refused:
every caller gets a slot, later ones further in the future. The clock is
Redis' own (`TIME`), so machines with skewed clocks still share one pace.

`SEND_RATE_PER_PAGE` (default 250/s) sets the rate; a burst of a tenth of a
second's worth goes out at once. A process takes its slots from Redis a few
at a time (`block`: 1/32 s of the rate, at most 8), one round trip per block
instead of per call, so no one-second window holds more than the rate plus
the burst plus one block (283 calls at the default, under Meta's 300).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

# KEYS[1]: the page's key. ARGV: interval between calls (µs), burst tolerance (µs),
# slots to reserve. Returns the µs to wait before using the last slot just reserved.
GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + count * interval
redis.call('SET', KEYS[1], string.format('%d', new_tat),
           'PX', math.floor((new_tat - now) / 1000) + 1000)
local wait = tat + (count - 1) * interval - tolerance - now
if wait < 0 then return 0 end
return wait
"""
BURST_SECONDS = 0.1  # the burst allowed at once, as a share of one second's rate
BLOCK_SECONDS = 1 / 32  # slots a process reserves at once, as a share of one second's rate
MAX_BLOCK = 8
BLOCK_TTL_SECONDS = 1.0  # unused slots of a block are dropped after this (never saved up)


@dataclass
class _Block:
    remaining: int
    ready_at: float  # monotonic time from which its slots may be used
    expires_at: float


class SendThrottle:
    """Paces calls per page at `rate_per_second`, shared by all users of this Redis."""

    def __init__(self, redis: Redis, rate_per_second: int, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate_per_second < 1:
            raise ValueError("rate_per_second must be at least 1")
        self.rate_per_second = rate_per_second
        self.interval_us = 1_000_000 // rate_per_second
        self.tolerance_us = int(BURST_SECONDS * 1_000_000)
        self.block = max(1, min(MAX_BLOCK, int(rate_per_second * BLOCK_SECONDS)))
        self._sleep = sleep
        self._reserve = redis.register_script(GCRA)
        self._lock = threading.Lock()
        self._blocks: dict[str, _Block] = {}

    def reserve(self, page_id: str, count: int = 1) -> float:
        """Take the page's next `count` slots; returns the seconds to wait before using them."""
        wait_us = self._reserve(keys=[f"sd:throttle:{page_id}"],
                                args=[self.interval_us, self.tolerance_us, count])
        return int(wait_us) / 1_000_000

    def wait(self, page_id: str) -> float:
        """Block until this call may go out; returns the seconds waited."""
        with self._lock:  # one reservation at a time: racing threads would waste slots
            delay = self._from_block(page_id)
            if delay is None:
                delay = self.reserve(page_id, self.block)
                now = time.monotonic()
                self._blocks[page_id] = _Block(self.block - 1, now + delay,
                                               now + delay + BLOCK_TTL_SECONDS)
        if delay > 0:
            self._sleep(delay)
        return delay

    def _from_block(self, page_id: str) -> float | None:
        """The wait for a slot of this process's current block; None when it has none left."""
        now = time.monotonic()
        block = self._blocks.get(page_id)
        if block is None or block.remaining < 1 or now >= block.expires_at:
            return None
        block.remaining -= 1
        return max(0.0, block.ready_at - now)


_shared: weakref.WeakKeyDictionary[Redis, dict[int, SendThrottle]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def send_throttle(redis: Redis, rate_per_second: int) -> SendThrottle:
    """The process's throttle for this Redis client and rate (the script is registered once)."""
    with _lock:
        by_rate = _shared.setdefault(redis, {})
        if rate_per_second not in by_rate:
            by_rate[rate_per_second] = SendThrottle(redis, rate_per_second)
        return by_rate[rate_per_second]
