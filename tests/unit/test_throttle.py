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


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_few_calls_after_a_quiet_spell_go_out_at_once(redis: Redis) -> None:
    throttle, waits = recording(redis, 280)
    delays = [throttle.wait(PAGE) for _ in range(5)]  # 1/50 s of burst: 5 slots at 280/s
    assert delays == [0.0] * 5 and waits == []


def test_a_burst_above_the_rate_is_smoothed_not_refused(redis: Redis) -> None:
    throttle, _ = recording(redis, 100)  # one slot every 10 ms; 20 ms of burst
    delays, slots = [], []
    for _ in range(60):
        delays.append(max(0.0, throttle.reserve(PAGE)))
        slots.append(int(redis.get(f"sd:throttle:{PAGE}")))
    assert delays[:3] == [0.0] * 3  # the burst: slots now, +10 ms, +20 ms
    assert all(delay > 0 for delay in delays[3:])  # the rest wait for theirs
    assert {b - a for a, b in zip(slots, slots[1:], strict=False)} == {10_000}  # µs, one apart
    assert delays[-1] >= 0.4  # the 60th call at 100/s goes out ~0.57 s after the first


def test_slots_reserved_together_go_out_one_interval_apart(redis: Redis) -> None:
    clock = FrozenClock()
    throttle = SendThrottle(redis, 1000, sleep=lambda _: None, clock=clock)  # 1 ms apart
    assert throttle.block == 8
    delays = [throttle.wait(PAGE) for _ in range(60)]
    after_burst = delays[30:]  # past the 20 ms of burst every call waits for its own slot
    steps = [round(b - a, 4) for a, b in zip(after_burst, after_burst[1:], strict=False)]
    # Within a block exactly one interval; between blocks the frozen local clock lags
    # Redis' by the round trip, so those steps may be a little shorter, never zero.
    assert steps.count(0.001) >= len(steps) * 7 // 8
    assert all(0.0005 <= step <= 0.001 for step in steps)


def test_a_slot_not_taken_in_time_is_dropped_not_used_late(redis: Redis) -> None:
    clock = FrozenClock()
    throttle = SendThrottle(redis, 1000, sleep=lambda _: None, clock=clock)
    reservations: list[float] = []
    reserve = throttle.reserve
    throttle.reserve = lambda page, count=1: reservations.append(count) or reserve(page, count)  # type: ignore[method-assign]
    throttle.wait(PAGE)  # reserves a block of 8, uses the first slot
    throttle.wait(PAGE)
    assert len(reservations) == 1
    clock.now += 0.5  # the block's other six slots are long past
    assert throttle.wait(PAGE) == 0.0
    assert len(reservations) == 2  # a fresh block, not a stale slot of the old one


def test_the_pace_is_shared_by_separate_clients_like_separate_workers(
        redis: Redis, redis_url: str) -> None:
    first, _ = recording(redis, 100)
    other_client = Redis.from_url(redis_url)
    second = SendThrottle(other_client, 100, sleep=lambda _: None)
    for _ in range(30):
        first.reserve(PAGE)
    assert second.reserve(PAGE) >= 0.25  # 30 slots taken elsewhere: ~0.28 s past the burst
    other_client.close()


def test_pages_have_their_own_pace(redis: Redis) -> None:
    throttle, _ = recording(redis, 100)
    for _ in range(50):
        throttle.reserve(PAGE)
    assert throttle.reserve("2000000002") <= 0.0


def test_the_slot_is_forgotten_once_its_time_has_passed(redis: Redis) -> None:
    throttle, _ = recording(redis, 100)
    throttle.reserve(PAGE)
    ttl_ms = redis.pttl(f"sd:throttle:{PAGE}")
    assert 0 < ttl_ms <= 1100  # no key outlives its pace by more than a second


def test_one_throttle_per_client_and_rate_and_a_rate_below_one_is_refused(redis: Redis) -> None:
    assert send_throttle(redis, 280) is send_throttle(redis, 280)
    assert send_throttle(redis, 280) is not send_throttle(redis, 300)
    with pytest.raises(ValueError):
        SendThrottle(redis, 0)


def test_a_slow_round_trip_still_gets_its_slot_without_reserving_again(redis: Redis) -> None:
    clock = FrozenClock()
    throttle = SendThrottle(redis, 1000, sleep=lambda _: None, clock=clock)
    reservations: list[int] = []
    reserve = throttle.reserve

    def slow_reserve(page: str, count: int = 1) -> float:
        reservations.append(count)
        if len(reservations) > 3:
            raise AssertionError("reserving again and again")
        clock.now += 0.05  # a loaded machine: the round trip outlasts the 20 ms grace
        return reserve(page, count)

    throttle.reserve = slow_reserve  # type: ignore[method-assign]
    assert throttle.wait(PAGE) == 0.0
    assert len(reservations) == 1


def test_a_thread_that_wakes_up_late_takes_a_fresh_slot_and_then_goes_anyway(
        redis: Redis) -> None:
    clock = FrozenClock()
    late_by = [0.0]

    def sleep(seconds: float) -> None:
        clock.now += seconds + late_by[0]

    throttle = SendThrottle(redis, 100, sleep=sleep, clock=clock)  # one slot per block
    reservations: list[int] = []
    reserve = throttle.reserve
    throttle.reserve = lambda page, count=1: reservations.append(count) or reserve(page, count)  # type: ignore[method-assign]
    for _ in range(5):  # past the burst: each call sleeps until its slot, on time
        throttle.wait(PAGE)
    assert len(reservations) == 5

    late_by[0] = 0.05  # the scheduler wakes the thread 50 ms after its slot
    throttle.wait(PAGE)
    assert len(reservations) == 5 + 3  # two fresh slots, then it goes: never stuck
