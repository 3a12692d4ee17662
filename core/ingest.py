"""Group commit for the webhook: the requests of one process that are waiting
at the same moment share one ingest round trip to Redis.

A request never answers before its own events are in Redis: the first waiter
becomes the leader, stores everything queued so far in one script call, wakes
the others with their own results, and hands leadership to whoever queued
meanwhile. Under load this divides redis-py's per-command cost and Redis' own
per-call cost by the batch size; with one request at a time it is one call,
as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.mailbox import Mailbox
from messenger.events import Incoming

MAX_BATCH_EVENTS = 1000  # one script call stays short inside Redis


@dataclass
class _Waiter:
    events: Sequence[Incoming]
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    added: int = 0
    error: BaseException | None = None


class IngestBatcher:
    def __init__(self, mailbox: Mailbox, on_reservation: Callable[[int], None]) -> None:
        self.mailbox = mailbox
        self.on_reservation = on_reservation  # starts a drain job for a reservation
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._busy = False

    def ingest(self, events: Sequence[Incoming]) -> int:
        """Store `events` (with whatever else is waiting); returns how many were new.

        Raises what the store raised (e.g. RedisError) for every request of a
        failed batch: none of them may be acknowledged.
        """
        me = _Waiter(events)
        with self._lock:
            self._queue.append(me)
            me.lead = not self._busy
            self._busy = True
        if not me.lead:
            me.woken.wait()
        if me.lead:
            self._flush()
        if me.error is not None:
            raise me.error
        return me.added

    def _flush(self) -> None:
        batch = self._take()
        try:
            flags, reservation = self.mailbox.ingest_flags([e for w in batch for e in w.events])
            if reservation is not None:
                self.on_reservation(reservation)
        except BaseException as exc:  # every request of the batch answers the failure
            for waiter in batch:
                waiter.error = exc
        else:
            start = 0
            for waiter in batch:
                waiter.added = sum(flags[start:start + len(waiter.events)])
                start += len(waiter.events)
        self._hand_over()
        for waiter in batch:
            waiter.woken.set()

    def _take(self) -> list[_Waiter]:
        with self._lock:
            batch, size = [], 0
            while self._queue and (not batch or size + len(self._queue[0].events)
                                   <= MAX_BATCH_EVENTS):
                waiter = self._queue.pop(0)
                batch.append(waiter)
                size += len(waiter.events)
            return batch

    def _hand_over(self) -> None:
        with self._lock:
            if not self._queue:
                self._busy = False
                return
            successor = self._queue[0]
            successor.lead = True
        successor.woken.set()
