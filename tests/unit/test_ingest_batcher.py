"""Group commit on the webhook path: shared round trips, per-request answers."""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from core.ingest import IngestBatcher, IngestTimeout
from core.mailbox import Mailbox
from messenger.events import Incoming, parse_payload
from tests.support import payloads as p
from tests.support.servers import free_port


def events(psid: str, *mids: str):  # type: ignore[no-untyped-def]
    return parse_payload(p.page(*(p.text(psid, "hi", mid=m) for m in mids)))[1]


def evalsha_calls(redis: Redis) -> int:
    return int(redis.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))


def test_concurrent_requests_share_round_trips_and_each_gets_its_own_count(redis: Redis) -> None:
    reservations: list[int] = []
    batcher = IngestBatcher(Mailbox(redis), reservations.append)
    redis.config_resetstat()
    start = threading.Barrier(40)
    counts: dict[int, int] = {}

    def post(i: int) -> None:
        mids = [f"m{i}a", f"m{i}b", "m_shared"]  # m_shared: one request stores it, others see a duplicate
        start.wait()
        counts[i] = batcher.ingest(events(str(i % 7), *mids))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts.values()) == 81  # 2 per request + the shared one once
    assert sorted(counts.values()).count(3) == 1
    stored = sum(redis.zcard(f"sd:mb:{p.PAGE_ID}:{i}") for i in range(7))
    assert stored == 81
    assert evalsha_calls(redis) < 40  # fewer round trips than requests
    assert len(reservations) >= 1


def test_a_failed_round_trip_fails_every_request_in_it() -> None:
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    batcher = IngestBatcher(Mailbox(dead), lambda _r: None)
    errors: list[BaseException] = []

    def post(i: int) -> None:
        try:
            batcher.ingest(events("1", f"x{i}"))
        except RedisConnectionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 5
    with pytest.raises(RedisConnectionError):  # and the batcher is usable afterwards
        batcher.ingest(events("1", "y"))


class GatedMailbox(Mailbox):
    """Holds the first round trip until `batcher` has `waiting` requests queued behind it,
    so the next round trip is one batch of all of them."""

    def __init__(self, redis: Redis, waiting: int) -> None:
        super().__init__(redis)
        self.batcher: IngestBatcher | None = None
        self.waiting, self.calls = waiting, 0

    def ingest_flags(self, events):  # type: ignore[no-untyped-def, override]
        self.calls += 1
        if self.calls == 1:
            assert self.batcher is not None
            deadline = time.monotonic() + 5
            while len(self.batcher._queue) < self.waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        return super().ingest_flags(events)


def test_an_event_redis_cannot_take_fails_only_its_own_request(redis: Redis) -> None:
    mailbox = GatedMailbox(redis, waiting=5)
    batcher = mailbox.batcher = IngestBatcher(mailbox, lambda _r: None)
    poison = Incoming(p.PAGE_ID, "9", "message:bad", 5, '{"text":"\ud800"}')  # not UTF-8-able
    requests = {"first": events("1", "a0"), "poison": [poison],
                **{f"ok{i}": events(str(10 + i), f"b{i}") for i in range(4)}}
    results: dict[str, object] = {}

    def post(name: str) -> None:
        try:
            results[name] = batcher.ingest(requests[name])
        except Exception as exc:  # noqa: BLE001 - the test records what each request got
            results[name] = exc

    threads = [threading.Thread(target=post, args=("first",))]
    threads[0].start()
    while mailbox.calls == 0:
        time.sleep(0.001)
    threads += [threading.Thread(target=post, args=(name,)) for name in requests if name != "first"]
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(results.pop("poison"), UnicodeEncodeError)
    assert results == {"first": 1, **{f"ok{i}": 1 for i in range(4)}}
    assert all(redis.zcard(f"sd:mb:{p.PAGE_ID}:{10 + i}") == 1 for i in range(4))


def test_waiters_behind_a_stuck_leader_give_up_at_the_deadline(redis: Redis) -> None:
    release = threading.Event()

    class Stuck(Mailbox):
        def ingest_flags(self, events):  # type: ignore[no-untyped-def, override]
            release.wait(10)
            return super().ingest_flags(events)

    batcher = IngestBatcher(Stuck(redis), lambda _r: None, wait_s=0.3)
    leader = threading.Thread(target=batcher.ingest, args=(events("1", "lead"),))
    leader.start()
    time.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(IngestTimeout):  # a RedisError: the webhook answers 503
        batcher.ingest(events("2", "late"))
    assert time.monotonic() - started < 0.5
    release.set()
    leader.join()
    assert batcher.ingest(events("3", "after")) == 1  # the batcher is usable afterwards
    assert redis.zcard(f"sd:mb:{p.PAGE_ID}:2") == 0  # taken out of the queue, never stored
