"""The RQ job that drains customer mailboxes.

One `drain` job is one consumer: a pool of threads (Graph calls are I/O
bound) each claiming a whole customer at a time, so a customer's events stay
in order while many customers are served at once. The job runs for a slice,
then hands over to a successor so mail and other jobs get their turn. The
slice is extended while no other job waits: ending it stops every thread
until the slowest has finished its customer (a visible dip in replies per
second), which is worth paying only for a job that is waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.processing import EVENTS_PER_CLAIM, serve_customer
from core import runtime
from core.mailbox import Queued
from core.runtime import Runtime

log = logging.getLogger(__name__)

SLICE_SECONDS = 20.0  # then a successor job carries on, if another job waits
EXTEND_SECONDS = 5.0  # when none waits, look again after this
MAX_SLICE_SECONDS = 240.0  # under the RQ job timeout (core.jobs), whatever waits
IDLE_SECONDS = 0.5  # the drain stops when no thread has claimed anyone for this long
POLL_SECONDS = 0.02
MAX_POLL_SECONDS = 0.16


def drain(consumer_id: int | None = None) -> int:
    """Process waiting customers; returns how many customers were served."""
    rt = runtime.current()
    consumer = consumer_id or rt.mailbox.new_consumer_id()
    served = Drainer(rt, consumer).run()
    successor, due_ms = rt.mailbox.retire(consumer)
    if successor is not None:
        rt.dispatcher.enqueue(drain, successor)
    elif due_ms is not None:
        rt.dispatcher.enqueue(drain, at_ms=due_ms)
    return served


def recover() -> None:
    """Start a drain if work waits and no consumer is alive (after a crash)."""
    rt = runtime.current()
    reservation = rt.mailbox.reserve_if_idle()
    if reservation is not None:
        log.warning("found waiting customers with no live consumer; starting a drain")
        rt.dispatcher.enqueue(drain, reservation)


class Drainer:
    def __init__(self, rt: Runtime, consumer_id: int) -> None:
        self.rt = rt
        self.consumer_id = consumer_id
        self.started = time.monotonic()
        self.deadline = self.started + SLICE_SECONDS
        self.held: set[str] = set()
        self.served = 0
        self._last_claim = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ended = False

    def run(self) -> int:
        beat = threading.Thread(target=self._heartbeat, daemon=True, name="drain-heartbeat")
        beat.start()
        threads = self.rt.settings.drain_threads
        try:
            with ThreadPoolExecutor(threads, thread_name_prefix="drain") as pool:
                for future in [pool.submit(self._loop) for _ in range(threads)]:
                    future.result()  # a Redis failure surfaces: the job fails loudly
        finally:
            self._stop.set()
        return self.served

    def _loop(self) -> None:
        """Claim and serve customers until the slice ends or the whole drain is idle.

        A thread with nothing to claim stays while its siblings still find work
        (a backlog often starts with a few customers and grows as the webhook
        queues more), polling less often the longer it finds nothing."""
        poll = POLL_SECONDS
        while not self._slice_over():
            claimed = self.rt.mailbox.claim_events(self.consumer_id, EVENTS_PER_CLAIM)
            if claimed is None:
                if time.monotonic() - self._last_claim > IDLE_SECONDS:
                    return
                time.sleep(poll)
                poll = min(poll * 2, MAX_POLL_SECONDS)
                continue
            self._last_claim, poll = time.monotonic(), POLL_SECONDS
            self._serve(*claimed)
            self._last_claim = time.monotonic()

    def _slice_over(self) -> bool:
        now = time.monotonic()
        if now < self.deadline:
            return False
        with self._lock:
            if self._ended or now < self.deadline:  # another thread decided meanwhile
                return self._ended
            if now - self.started < MAX_SLICE_SECONDS and not self._others_waiting():
                self.deadline = now + EXTEND_SECONDS
                return False
            self._ended = True
            return True

    def _others_waiting(self) -> bool:
        try:
            return self.rt.dispatcher.others_waiting(drain)
        except Exception:  # cannot tell: hand over, as a slice always used to
            log.warning("could not look at the queues; ending the drain's slice", exc_info=True)
            return True

    def _serve(self, customer: str, items: list[Queued]) -> None:
        with self._lock:
            self.held.add(customer)
        try:
            # Released in there, with its last events' bookkeeping. On an unexpected error
            # the lease is kept and expires: the event is retried by a later consumer
            # instead of being dropped.
            serve_customer(self.rt, customer, items)
        finally:
            with self._lock:
                self.held.discard(customer)
                self.served += 1

    def _heartbeat(self) -> None:
        interval = self.rt.mailbox.timing.lease_ms / 3000
        while not self._stop.wait(interval):
            with self._lock:
                held = list(self.held)
            try:
                self.rt.mailbox.heartbeat(self.consumer_id, held)
            except Exception:  # the next beat retries; the leases outlive one miss
                log.warning("heartbeat failed; will retry", exc_info=True)
