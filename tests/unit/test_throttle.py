"""The per-page Send API pace: shared through Redis, smoothing bursts by
waiting, never refusing. Waits are computed by Redis and recorded, not slept."""

from __future__ import annotations

import pytest
from redis import Redis

from core.throttle import SendThrottle, send_throttle

PAGE = "1000000001"


def recording(redis: Redis, rate: int) -> tuple[SendThrottle, list[float]]:
    waits: list[float] = []
    return SendThrottle(redis, rate, sleep=waits.append), waits


def test_a_burst_within_a_tenth_of_a_second_goes_out_at_once(redis: Redis) -> None:
    throttle, waits = recording(redis, 250)
    delays = [throttle.wait(PAGE) for _ in range(20)]  # 25 fit in the burst at 250/s
    assert delays == [0.0] * 20 and waits == []


def test_a_burst_above_the_rate_is_smoothed_not_refused(redis: Redis) -> None:
    throttle, _ = recording(redis, 100)  # one slot every 10 ms; 100 ms of burst
    delays, slots = [], []
    for _ in range(60):
        delays.append(throttle.reserve(PAGE))
        slots.append(int(redis.get(f"sd:throttle:{PAGE}")))
    assert delays[:11] == [0.0] * 11  # the burst: slots now, +10 ms, ... +100 ms
    assert all(delay > 0 for delay in delays[11:])  # the rest wait for theirs
    assert {b - a for a, b in zip(slots, slots[1:], strict=False)} == {10_000}  # µs, one apart
    assert delays[-1] >= 0.4  # the 60th call at 100/s goes out ~0.5 s after the first


def test_the_pace_is_shared_by_separate_clients_like_separate_workers(
        redis: Redis, redis_url: str) -> None:
    first, _ = recording(redis, 100)
    other_client = Redis.from_url(redis_url)
    second = SendThrottle(other_client, 100, sleep=lambda _: None)
    for _ in range(30):
        first.reserve(PAGE)
    assert second.reserve(PAGE) >= 0.1  # 30 slots taken elsewhere: ~0.2 s past the burst
    other_client.close()


def test_pages_have_their_own_pace(redis: Redis) -> None:
    throttle, _ = recording(redis, 100)
    for _ in range(50):
        throttle.reserve(PAGE)
    assert throttle.reserve("2000000002") == 0.0


def test_the_slot_is_forgotten_once_its_time_has_passed(redis: Redis) -> None:
    throttle, _ = recording(redis, 100)
    throttle.reserve(PAGE)
    ttl_ms = redis.pttl(f"sd:throttle:{PAGE}")
    assert 0 < ttl_ms <= 1100  # no key outlives its pace by more than a second


def test_one_throttle_per_client_and_rate_and_a_rate_below_one_is_refused(redis: Redis) -> None:
    assert send_throttle(redis, 250) is send_throttle(redis, 250)
    assert send_throttle(redis, 250) is not send_throttle(redis, 300)
    with pytest.raises(ValueError):
        SendThrottle(redis, 0)
