"""Group commit on the webhook path: shared round trips, per-request answers."""

from __future__ import annotations

import threading

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from core.ingest import IngestBatcher
from core.mailbox import Mailbox
from messenger.events import parse_payload
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
