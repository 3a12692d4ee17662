"""Mailboxes on a real Redis: order, one consumer per customer, no lost wake-up,
recovery after a consumer dies."""

from __future__ import annotations

import time

import fakeredis
import pytest
from redis import Redis

from core.mailbox import SEEN_TTL_SECONDS, Mailbox, Queued, Timing, now_ms
from messenger.events import parse_payload
from tests.support import payloads as p


@pytest.fixture(params=["redis", "fakeredis"])
def any_redis(request: pytest.FixtureRequest) -> Redis:
    """The session's real Redis, then fakeredis (what `make run` uses): the scripts must
    answer the same on both."""
    if request.param == "redis":
        return request.getfixturevalue("redis")
    return fakeredis.FakeRedis()


def incoming(*events: dict):  # type: ignore[no-untyped-def]
    return parse_payload(p.page(*events))[1]


def test_events_come_out_in_timestamp_order_and_ties_in_arrival_order(redis: Redis) -> None:
    box = Mailbox(redis)
    box.ingest(incoming(p.text("1", "c", timestamp=30), p.text("1", "a", timestamp=10)))
    box.ingest(incoming(p.text("1", "b", timestamp=10)))
    consumer = box.new_consumer_id()
    customer = box.claim(consumer)
    assert customer == f"{p.PAGE_ID}:1"
    seen = []
    while (item := box.peek(customer)) is not None:
        seen.append(item.event["message"]["text"])
        box.done(item)
    assert seen == ["a", "b", "c"]


def test_a_customer_is_held_by_one_consumer_at_a_time(redis: Redis) -> None:
    box = Mailbox(redis)
    box.ingest(incoming(p.text("1", "x")))
    assert box.claim(1) == f"{p.PAGE_ID}:1"
    box.ingest(incoming(p.text("1", "more"), p.text("2", "y")))  # 1 is held meanwhile
    assert box.claim(2) == f"{p.PAGE_ID}:2"
    assert box.claim(3) is None  # customer 1 is not handed to a second consumer


def test_release_requeues_a_customer_whose_mailbox_is_not_empty(redis: Redis) -> None:
    box = Mailbox(redis)
    box.ingest(incoming(p.text("7", "one")))
    customer = box.claim(1)
    assert customer is not None
    box.ingest(incoming(p.text("7", "two")))  # lands while held: no second ready entry
    assert redis.llen("sd:ready") == 0
    box.release(customer)
    assert box.claim(2) == customer


def test_ingest_reserves_a_drain_only_below_the_consumer_limit(redis: Redis) -> None:
    box = Mailbox(redis, Timing(max_consumers=2))
    reservations = [box.ingest(incoming(p.text(str(i), "hi")))[1] for i in range(4)]
    assert [r is not None for r in reservations] == [True, True, False, False]
    assert box.ingest(incoming(p.text("0", "hi", mid=None)))[0] == 1


def test_retire_hands_over_when_work_is_left(redis: Redis) -> None:
    box = Mailbox(redis, Timing(max_consumers=1))
    _, reservation = box.ingest(incoming(p.text("1", "hi")))
    assert reservation is not None
    assert box.retire(reservation) == (reservation + 1, None)  # work left: a successor
    successor = reservation + 1
    customer = box.claim(successor)
    item = box.peek(customer)  # type: ignore[arg-type]
    box.done(item)  # type: ignore[arg-type]
    box.release(customer)  # type: ignore[arg-type]
    assert box.retire(successor) == (None, None)


def test_a_dead_consumers_customer_is_recovered_after_its_lease(redis: Redis) -> None:
    box = Mailbox(redis, Timing(lease_ms=200, consumer_ttl_ms=200))
    box.ingest(incoming(p.text("9", "help")))
    assert box.claim(1) is not None  # consumer 1 dies holding the customer
    assert box.claim(2) is None
    assert box.reserve_if_idle() is None  # consumer 1 still counts as alive
    time.sleep(0.3)
    reservation = box.reserve_if_idle()
    assert reservation is not None
    assert box.claim(reservation) == f"{p.PAGE_ID}:9"


def test_a_delayed_customer_waits_then_comes_back(redis: Redis) -> None:
    box = Mailbox(redis)
    box.ingest(incoming(p.text("5", "retry me")))
    customer = box.claim(1)
    box.release(customer, delay_ms=150)  # type: ignore[arg-type]
    box.ingest(incoming(p.text("5", "newer")))  # must not jump the queue
    assert box.claim(1) is None
    time.sleep(0.2)
    assert box.claim(1) == customer


def test_dead_letters_keep_the_event_and_reason(redis: Redis) -> None:
    box = Mailbox(redis)
    box.ingest(incoming(p.text("3", "poison")))
    item = box.peek(box.claim(1))  # type: ignore[arg-type]
    box.dead_letter(item, "ValueError: boom")  # type: ignore[arg-type]
    assert box.backlog()["dead"] == 1 and box.peek(item.customer) is None  # type: ignore[union-attr]


def test_a_retiring_drain_schedules_one_check_for_a_lease_held_elsewhere(redis: Redis) -> None:
    box = Mailbox(redis, Timing(lease_ms=5000, max_consumers=1))
    box.ingest(incoming(p.text("4", "hi")))
    assert box.claim(1) is not None  # consumer 1 holds customer 4 (and may die)
    successor, check_at = box.retire(2)
    assert successor is None and check_at is not None
    assert 4000 <= check_at - now_ms() <= 5000  # when the lease would run out
    assert box.retire(3) == (None, None)  # one pending check is enough


def test_journaled_outcomes_survive_until_their_events_are_done(any_redis: Redis) -> None:
    redis = any_redis
    box = Mailbox(redis)
    box.ingest(incoming(p.text("5", "hi"), p.text("5", "again")))
    customer = box.claim(1)
    assert customer is not None
    items = box.peek_many(customer, 2)
    box.journal(customer, {"k#0": '["attempted", null, null, 1]'})
    box.journal(customer, {"k#0": '["sent", "m_1", null]', "k#1": '["attempted", null, null, 2]'})
    box.journal(customer, {"k#1": '["failed", null, "refused"]'})
    box.journal(customer, {})  # nothing to note: no round trip, nothing changes
    assert box.journaled(customer) == {"k#0": '["sent", "m_1", null]',
                                       "k#1": '["failed", null, "refused"]'}
    assert 0 < redis.pttl(f"sd:sent:{customer}") <= SEEN_TTL_SECONDS * 1000
    box.done_many(items)
    assert box.journaled(customer) == {}


def test_the_journal_is_written_after_redis_forgets_its_scripts(redis: Redis) -> None:
    box = Mailbox(redis)
    box.journal("page:6", {"k#0": "first"})
    redis.script_flush()
    box.journal("page:6", {"k#1": "second"})
    assert box.journaled("page:6") == {"k#0": "first", "k#1": "second"}


def test_done_events_leave_and_the_next_ones_come_back(any_redis: Redis) -> None:
    redis = any_redis
    box = Mailbox(redis)
    box.ingest(incoming(*(p.text("7", f"m{i}", mid=f"m7_{i}", timestamp=1000 + i) for i in range(3))))
    customer = box.claim(1)
    assert customer is not None
    first = box.peek_many(customer, 2)
    box.failed_attempt(first[0])
    box.journal(customer, {"k#0": "sent"})
    box.ingest(incoming(p.text("7", "late", mid="m7_late", timestamp=2000)))  # arrives meanwhile
    rest = box.done_many(first, then_peek=5)
    assert [item.event["message"]["text"] for item in rest] == ["m2", "late"]
    assert box.peek_many(customer, 5) == rest
    assert box.journaled(customer) == {} and box.failed_attempt(rest[0]) == 1
    assert redis.hget(f"sd:att:{customer}", first[0].member[:15]) is None
    assert box.done_many(rest) == [] and box.peek(customer) is None


def _claim_of_three(box: Mailbox, psid: str, limit: int) -> tuple[str, list[Queued]]:
    """Three events from one customer arrive; consumer 1 claims it with `limit` of them."""
    box.ingest(incoming(*(p.text(psid, f"m{i}", mid=f"m{psid}_{i}", timestamp=1000 + i)
                          for i in range(3))))
    claimed = box.claim_events(1, limit)
    assert claimed is not None
    return claimed


def test_a_claim_brings_the_customers_first_events(any_redis: Redis) -> None:
    box = Mailbox(any_redis)
    customer, first = _claim_of_three(box, "8", 2)
    assert customer == f"{p.PAGE_ID}:8" and first == box.peek_many(customer, 2)
    assert box.claim_events(2, 2) is None  # held by consumer 1


def test_a_customer_whose_last_events_are_done_is_released_in_the_same_call(any_redis: Redis) -> None:
    redis = any_redis
    box = Mailbox(redis)
    box.ingest(incoming(p.text("9", "hello", mid="m9_1", timestamp=1000)))
    claimed = box.claim_events(1, 5)
    assert claimed is not None
    customer, items = claimed
    assert box.done_and_next(customer, items, 5) == []
    assert redis.zscore("sd:inflight", customer) is None and box.claim(2) is None
    box.ingest(incoming(p.text("9", "again", mid="m9_2", timestamp=2000)))
    again = box.claim_events(2, 5)
    assert again is not None and [i.event["message"]["text"] for i in again[1]] == ["again"]


def test_done_and_next_keeps_the_customer_while_events_come_back(any_redis: Redis) -> None:
    redis = any_redis
    box = Mailbox(redis)
    customer, first = _claim_of_three(box, "6", 1)
    rest = box.done_and_next(customer, first, 1)
    assert [item.event["message"]["text"] for item in rest] == ["m1"]
    assert redis.zscore("sd:inflight", customer) is not None and box.claim(2) is None
    # out of budget (limit 0) with events left: released and scheduled again, as `release` does
    assert box.done_and_next(customer, rest, 0) == []
    assert box.claim(2) == customer
