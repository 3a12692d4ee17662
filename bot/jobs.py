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

import contextvars
import logging
import threading
import time

from bot.page_checks import check_pages_if_due
from bot.processing import EVENTS_PER_CLAIM, serve_customer
from core import log_context, runtime
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
    """Start a drain if work waits and no consumer is alive (after a crash); look at the
    Page's health when it is due (`bot.page_checks`)."""
    rt = runtime.current()
    check_pages_if_due(rt)
    reservation = rt.mailbox.reserve_if_idle()
    if reservation is not None:
        log.warning("found waiting customers with no live consumer; starting a drain")
        rt.dispatcher.enqueue(drain, reservation)


class Drainer:
    """The drain's threads, grown on demand up to `drain_threads`.

    A thread that claims a customer while no sibling is looking for the next one
    starts one that does, so a backlog has every thread busy within a few round
    trips, whatever happened before it. A thread that has found nothing for
    `IDLE_SECONDS` leaves, unless it is the last one looking while others serve;
    the drain ends when nobody serves and that last one has found nothing for as
    long. So a burst that arrives while one slow customer holds a thread finds
    threads for all its customers, however long the quiet before it lasted."""

    def __init__(self, rt: Runtime, consumer_id: int) -> None:
        self.rt = rt
        self.consumer_id = consumer_id
        self.started = time.monotonic()
        self.deadline = self.started + SLICE_SECONDS
        self.held: set[str] = set()
        self.served = 0
        self.threads = 0  # alive
        self.looking = 0  # alive and not serving a customer
        self._failure: BaseException | None = None
        self._lock = threading.Lock()
        self._all_left = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._ended = False

    def run(self) -> int:
        """Serve until the slice ends or the drain is idle; raises a thread's failure (a
        Redis outage, say: the job fails loudly) once every thread has left."""
        beat = threading.Thread(target=self._heartbeat, daemon=True, name="drain-heartbeat")
        beat.start()
        try:
            with self._lock:
                self._start_thread()
                while self.threads:
                    self._all_left.wait()
        finally:
            # Also when the wait is cut short (RQ's job timeout): the threads stop
            # after their current customer instead of serving on unwatched.
            self._ended, self.deadline = True, 0.0
            self._stop.set()
        if self._failure is not None:
            raise self._failure
        return self.served

    def _start_thread(self) -> None:
        """Called holding the lock."""
        self.threads += 1
        self.looking += 1
        # In a copy of this context: RQ's current job (log lines name it) carries over.
        threading.Thread(target=contextvars.copy_context().run, args=(self._thread,), daemon=True,
                         name=f"drain-{self.consumer_id}-{self.threads}").start()

    def _thread(self) -> None:
        try:
            self._loop()
        except BaseException as exc:
            log.exception("drain thread failed")
            with self._lock:
                self._failure = self._failure or exc
                self.looking -= 1  # failed looking, or serving (then counted looking again)
        finally:
            with self._lock:
                self.threads -= 1
                self._all_left.notify_all()

    def _loop(self) -> None:
        """Claim and serve customers until the slice ends or there is nothing to claim,
        polling less often the longer it finds nothing."""
        poll, idle_since = POLL_SECONDS, time.monotonic()
        while True:
            if self._slice_over():
                with self._lock:
                    self.looking -= 1
                return
            claimed = self.rt.mailbox.claim_events(self.consumer_id, EVENTS_PER_CLAIM)
            if claimed is None:
                if self._leaves(idle_since):
                    return
                time.sleep(poll)
                poll = min(poll * 2, MAX_POLL_SECONDS)
                continue
            with self._lock:
                self.looking -= 1
                if not self.looking and self.threads < self.rt.settings.drain_threads:
                    self._start_thread()  # to look for the next customer meanwhile
            self._serve(*claimed)
            poll, idle_since = POLL_SECONDS, time.monotonic()

    def _leaves(self, idle_since: float) -> bool:
        with self._lock:
            if time.monotonic() - idle_since <= IDLE_SECONDS:
                return False
            if self.looking == 1 and self.held:  # the last one looking while others serve
                return False
            self.looking -= 1
            return True

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
            with log_context.serving(customer):
                serve_customer(self.rt, customer, items)
        finally:
            with self._lock:
                self.held.discard(customer)
                self.served += 1
                self.looking += 1

    def _heartbeat(self) -> None:
        interval = self.rt.mailbox.timing.lease_ms / 3000
        while not self._stop.wait(interval):
            with self._lock:
                held = list(self.held)
            try:
                self.rt.mailbox.heartbeat(self.consumer_id, held)
            except Exception:  # the next beat retries; the leases outlive one miss
                log.warning("heartbeat failed; will retry", exc_info=True)
