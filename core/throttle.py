"""A per-page pace for Send API calls, shared by every thread, process and
machine through Redis.

Meta allows about 300 Send API calls per second per page. Each call first
takes the page's next slot from a GCRA (generic cell rate algorithm) kept in
one Redis key; the script answers how long to wait for that slot, and the
caller sleeps that long. A burst above the rate is smoothed, never refused:
every caller gets a slot, later ones further in the future. The clock is
Redis' own (`TIME`), so machines with skewed clocks still share one pace.

The key is the Page's id, never the account's: an Instagram account linked to a
Page shares that Page's rate (Meta counts its calls against the Page's token), and
each Page of the pages file has a rate of its own (callers pass `rt.page_id_of`).

`SEND_RATE_PER_PAGE` (default 250/s) sets the rate. After a quiet spell a
burst of 1/50 s of the rate may go out at once. A process takes its slots
from Redis a few at a time (a `block`: 1/64 s of the rate, at most 8), one
round trip per block instead of per call. Each slot keeps its own time, one
interval after the one before, so a block is not released at once; a slot
nobody used within 20 ms of its time is dropped, never used late, and a
thread that wakes up more than 20 ms after its slot takes a fresh one. So a
one-second window holds at most the rate plus the burst plus the grace
(1 + (1 + 0.02 + 0.02) x 250 = 261 calls at the default)
whatever the number of processes, give or take the moment between a thread's
last look at the clock and its request leaving. That moment is what the margin
under Meta's 300 is for: on a loaded machine, with several worker processes
of 32 threads, the busiest second seen by the Graph stand-in reached ~285 at
250/s, and at 280/s it refused calls (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

from core import metrics

# KEYS[1]: the page's key. ARGV: interval between calls (µs), burst tolerance (µs),
# slots to reserve. Returns the µs from now until the first slot just reserved may be
# used (negative after a quiet spell: slots already usable); slot k comes k intervals later.
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
return tat - tolerance - now
"""
BURST_SECONDS = 0.02  # after a quiet spell, this share of a second's rate may go out at once
BLOCK_SECONDS = 1 / 64  # slots a process reserves per round trip, as a share of a second's rate
MAX_BLOCK = 8
GRACE_SECONDS = 0.02  # a slot not taken within this of its time is dropped, never used late
MAX_LATE_WAKEUPS = 2  # fresh slots a thread that woke up late takes before it goes anyway


@dataclass
class _Block:
    """Slots reserved together: slot k may be used from `first_at + k * interval`."""

    first_at: float  # monotonic
    reserved_at: float
    count: int
    taken: int = 0


class SendThrottle:
    """Paces calls per page at `rate_per_second`, shared by all users of this Redis."""

    def __init__(self, redis: Redis, rate_per_second: int, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_second < 1:
            raise ValueError("rate_per_second must be at least 1")
        self.rate_per_second = rate_per_second
        self.interval_us = 1_000_000 // rate_per_second
        self.tolerance_us = int(BURST_SECONDS * 1_000_000)
        self.block = max(1, min(MAX_BLOCK, int(rate_per_second * BLOCK_SECONDS)))
        self._sleep = sleep
        self._clock = clock
        self._reserve = redis.register_script(GCRA)
        self._lock = threading.Lock()
        self._blocks: dict[str, _Block] = {}

    def reserve(self, page_id: str, count: int = 1) -> float:
        """Take the page's next `count` slots; returns the seconds until the first may be
        used (negative when it already could)."""
        offset_us = self._reserve(keys=[f"sd:throttle:{page_id}"],
                                  args=[self.interval_us, self.tolerance_us, count])
        return int(offset_us) / 1_000_000

    def wait(self, page_id: str) -> float:
        """Block until this call may go out; returns the seconds waited.

        A thread that wakes up more than the grace after its slot (a loaded machine:
        the GIL or the scheduler held it) takes a fresh slot rather than go out late
        and bunch up with the slots after its own; after `MAX_LATE_WAKEUPS` it goes."""
        waited = 0.0
        for _ in range(MAX_LATE_WAKEUPS + 1):
            with self._lock:  # one reservation at a time: racing threads would waste slots
                slot_at, given_at = self._take(page_id)
            delay = slot_at - given_at
            if delay > 0:
                self._sleep(delay)
                waited += delay
            if self._clock() <= max(slot_at, given_at) + GRACE_SECONDS:
                break
        metrics.throttled(waited)
        return waited

    def _take(self, page_id: str) -> tuple[float, float]:
        """This process's next slot for the page, reserving a block when it has none left
        on time: (when the slot may be used, when it was handed out)."""
        slot_at = self._next_slot(page_id)
        now = self._clock()
        if slot_at is not None:
            return slot_at, now
        offset = self.reserve(page_id, self.block)
        # Timed from after the round trip: Redis answered a little earlier, so the slots
        # are placed late rather than early. The first is handed out however long the
        # round trip took (no re-reserving under load).
        now = self._clock()
        self._blocks[page_id] = _Block(now + offset, now, self.block, taken=1)
        return now + offset, now

    def _next_slot(self, page_id: str) -> float | None:
        """Take the next slot of this process's block that is still on time: when it may
        be used; None when the block has none left."""
        block = self._blocks.get(page_id)
        if block is None:
            return None
        now = self._clock()
        interval = self.interval_us / 1_000_000
        while block.taken < block.count:
            usable_at = block.first_at + block.taken * interval
            block.taken += 1
            if now <= max(usable_at, block.reserved_at) + GRACE_SECONDS:
                return usable_at
        return None


_shared: weakref.WeakKeyDictionary[Redis, dict[int, SendThrottle]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def send_throttle(redis: Redis, rate_per_second: int) -> SendThrottle:
    """The process's throttle for this Redis client and rate (the script is registered once)."""
    with _lock:
        by_rate = _shared.setdefault(redis, {})
        if rate_per_second not in by_rate:
            by_rate[rate_per_second] = SendThrottle(redis, rate_per_second)
        return by_rate[rate_per_second]
