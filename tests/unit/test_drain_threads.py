"""A drain job's threads: every waiting customer gets one (up to the setting), whenever
it arrives, and the job ends once nothing is left to serve."""

from __future__ import annotations

import threading
import time
from collections import deque
from types import SimpleNamespace

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

import bot.jobs
from bot.jobs import IDLE_SECONDS, Drainer
from core.mailbox import Queued


class Mailbox:
    """Customers waiting in order; each takes `seconds[customer]` to serve."""

    timing = SimpleNamespace(lease_ms=30_000)

    def __init__(self) -> None:
        self.ready: deque[str] = deque()
        self.lock = threading.Lock()
        self.fail_next_claim: Exception | None = None

    def add(self, *customers: str) -> None:
        with self.lock:
            self.ready.extend(customers)

    def claim_events(self, consumer: int, limit: int) -> tuple[str, list[Queued]] | None:
        with self.lock:
            if self.fail_next_claim is not None:
                failure, self.fail_next_claim = self.fail_next_claim, None
                raise failure
            return (self.ready.popleft(), []) if self.ready else None

    def heartbeat(self, consumer: int, customers: list[str]) -> None:
        pass


class Serving:
    """Stands in for `serve_customer`: sleeps, and records when each customer was done."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.done_at: dict[str, float] = {}
        self.at_once = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, rt: object, customer: str, items: list[Queued]) -> int:
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        time.sleep(self.seconds.get(customer, 0.2))
        with self.lock:
            self.at_once -= 1
            self.done_at[customer] = time.monotonic()
        return 0


def drainer(mailbox: Mailbox, threads: int) -> Drainer:
    rt = SimpleNamespace(mailbox=mailbox, settings=SimpleNamespace(drain_threads=threads),
                         dispatcher=SimpleNamespace(others_waiting=lambda besides: False))
    return Drainer(rt, consumer_id=1)  # type: ignore[arg-type]


def run_in_background(work: Drainer) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work.run())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.timeout(20)
def test_a_burst_during_one_long_customer_is_served_by_many_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A customer whose Graph calls are slow keeps one thread busy; customers arriving
    meanwhile, after the other threads had found nothing for a while, are not left to
    wait for it one after another."""
    mailbox = Mailbox()
    burst = [f"c{i}" for i in range(8)]
    serving = Serving({"long": 2.5, **{c: 0.3 for c in burst}})
    monkeypatch.setattr(bot.jobs, "serve_customer", serving)
    mailbox.add("long")
    thread, outcome = run_in_background(drainer(mailbox, threads=8))

    time.sleep(IDLE_SECONDS + 0.5)  # idle threads have given up by now
    arrived = time.monotonic()
    mailbox.add(*burst)
    thread.join()

    waits = [serving.done_at[c] - arrived for c in burst]
    assert max(waits) < 1.2  # one thread after another: 8 x 0.3 s, after "long" (2.5 s)
    assert serving.done_at["long"] > max(serving.done_at[c] for c in burst)
    assert outcome == [9]


@pytest.mark.timeout(20)
def test_no_more_threads_than_the_setting_and_the_drain_ends_when_idle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox = Mailbox()
    customers = [f"c{i}" for i in range(20)]
    serving = Serving({c: 0.1 for c in customers})
    monkeypatch.setattr(bot.jobs, "serve_customer", serving)
    mailbox.add(*customers)
    started = time.monotonic()

    served = drainer(mailbox, threads=4).run()

    assert served == 20 and set(serving.done_at) == set(customers)
    assert serving.most_at_once == 4
    assert time.monotonic() - started < 0.5 + IDLE_SECONDS + 1.0  # 5 rounds, then idle


@pytest.mark.timeout(20)
def test_a_redis_failure_fails_the_drain_once_its_threads_have_left(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox = Mailbox()
    serving = Serving({"a": 0.3})
    monkeypatch.setattr(bot.jobs, "serve_customer", serving)
    mailbox.add("a")
    work = drainer(mailbox, threads=4)
    thread, outcome = run_in_background(work)
    time.sleep(0.1)  # "a" is being served; the next claim fails
    mailbox.fail_next_claim = RedisConnectionError("redis went away")
    thread.join()

    assert "a" in serving.done_at  # the customer being served was finished first
    assert len(outcome) == 1 and isinstance(outcome[0], RedisConnectionError)


@pytest.mark.timeout(20)
def test_threads_stop_after_their_customer_when_the_job_is_cut_short(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """RQ's job timeout raises in the job's own thread: the drain's threads must not
    go on claiming customers unwatched."""
    mailbox = Mailbox()
    customers = [f"c{i}" for i in range(10)]
    serving = Serving({c: 0.3 for c in customers})
    monkeypatch.setattr(bot.jobs, "serve_customer", serving)
    mailbox.add(*customers)
    work = drainer(mailbox, threads=2)
    class JobTimeout(Exception):
        pass

    real_wait = work._all_left.wait

    def wait_then_time_out(timeout: float | None = None) -> bool:
        real_wait(0.1)  # the two threads have claimed their first customers by then
        raise JobTimeout

    monkeypatch.setattr(work._all_left, "wait", wait_then_time_out)
    with pytest.raises(JobTimeout):
        work.run()
    time.sleep(1.0)

    assert len(serving.done_at) == 2  # the two customers being served, then no more
    assert len(mailbox.ready) == 8
