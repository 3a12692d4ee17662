"""Group commit for the webhook: the requests of one process that are waiting
at the same moment share one ingest round trip to Redis.

A request never answers before its own events are in Redis: the first waiter
becomes the leader, stores everything queued so far in one script call, wakes
the others with their own results, and hands leadership to whoever queued
meanwhile. Under load this divides redis-py's per-command cost and Redis' own
per-call cost by the batch size; with one request at a time it is one call,
as before.

Two guarantees on top (docs/RELIABILITY.md):

- Isolation. Only Redis being unreachable or too slow fails a whole batch. Any
  other error (an event Redis refuses, a bug) makes the leader store each request
  of the batch on its own, so the error reaches only the request that caused it.
- A deadline. A waiter gives up after `wait_s` with `IngestTimeout` (answer 503)
  instead of queueing behind a leader stuck on a stalled Redis. Its events may
  still be stored by that leader later; that is safe, since Meta redelivers after
  a 503 and the redelivery is de-duplicated. A 200 is only ever given for a
  request whose events the leader saw stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.mailbox import Mailbox
from messenger.events import Incoming

log = logging.getLogger(__name__)

MAX_BATCH_EVENTS = 1000  # one script call stays short inside Redis
WAIT_S = 0.8  # a waiter's patience; + the leader's bounded call (core.connections) < 2 s
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)  # Redis', for the whole batch


class IngestTimeout(RedisTimeoutError):
    """Waited `wait_s` for a leader: the events may not be stored, do not acknowledge."""


@dataclass(eq=False)
class _Waiter:
    events: Sequence[Incoming]
    deadline: float
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    done: bool = False  # the result (added or error) is final
    added: int = 0
    error: BaseException | None = None


class IngestBatcher:
    def __init__(self, mailbox: Mailbox, on_reservation: Callable[[int], None], *,
                 wait_s: float = WAIT_S) -> None:
        self.mailbox = mailbox
        self.on_reservation = on_reservation  # starts a drain job for a reservation
        self.wait_s = wait_s
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._busy = False

    def ingest(self, events: Sequence[Incoming]) -> int:
        """Store `events` (with whatever else is waiting); returns how many were new.

        Raises what the store raised (e.g. RedisError) for every request of a batch
        Redis failed, only for its own request otherwise, and IngestTimeout when no
        result came within `wait_s`: none of these may be acknowledged.
        """
        me = _Waiter(events, time.monotonic() + self.wait_s)
        with self._lock:
            self._queue.append(me)
            me.lead = not self._busy
            self._busy = True
        if not me.lead:
            me.woken.wait(max(0.0, me.deadline - time.monotonic()))
            self._give_up_unless_served(me)
        if me.lead and not me.done:
            self._flush()
        if me.error is not None:
            raise me.error
        return me.added

    def _give_up_unless_served(self, me: _Waiter) -> None:
        with self._lock:
            if me.lead or me.done:
                return
            if me in self._queue:  # not taken yet: no leader will store it now
                self._queue.remove(me)
        # else a leader holds it in flight: whatever it gets, this request answers 503
        raise IngestTimeout(f"no answer from Redis within {self.wait_s} s")

    def _flush(self) -> None:
        batch = self._take()
        try:
            self._store(batch)
        except BaseException as exc:  # interrupted (e.g. a worker timeout): nobody was stored
            for waiter in batch:
                waiter.error = waiter.error or exc
            raise
        finally:
            with self._lock:
                for waiter in batch:
                    waiter.done = True
            self._hand_over()
            for waiter in batch:
                waiter.woken.set()

    def _store(self, batch: list[_Waiter]) -> None:
        """One script call for the batch; one per request if it failed for the content."""
        try:
            flags, reservation = self.mailbox.ingest_flags([e for w in batch for e in w.events])
            if reservation is not None:
                self.on_reservation(reservation)
        except _UNREACHABLE as exc:  # Redis' failure: every request of the batch answers it
            for waiter in batch:
                waiter.error = exc
        except Exception as exc:
            if len(batch) > 1:
                for waiter in batch:
                    self._store([waiter])
                return
            log.exception("could not queue one request's %d events", len(batch[0].events))
            batch[0].error = exc
        else:
            start = 0
            for waiter in batch:
                waiter.added = sum(flags[start:start + len(waiter.events)])
                start += len(waiter.events)

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
