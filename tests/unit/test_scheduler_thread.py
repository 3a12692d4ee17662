"""RQ's scheduler as a thread of the worker (`bot.scheduler_thread`): due jobs reach
their queue, one worker at a time holds the queues, and stopping hands them over."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.job import JobStatus
from rq.scheduler import RQScheduler

import worker
from bot.scheduler_thread import SchedulerThread
from worker import DeskWorker


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def lock_holder(redis: Redis, queue: str) -> bytes | None:
    return redis.get(RQScheduler.get_locking_key(queue))


@pytest.fixture
def threads() -> Iterator[list[SchedulerThread]]:
    made: list[SchedulerThread] = []
    yield made
    for thread in made:
        thread.stop()


def scheduler(redis: Redis, made: list[SchedulerThread], **kwargs: float) -> SchedulerThread:
    thread = SchedulerThread(["events"], redis, **kwargs)
    made.append(thread)
    return thread


def test_a_job_due_later_reaches_its_queue_when_due(redis: Redis, threads) -> None:
    queue = Queue("events", connection=redis)
    job = queue.enqueue_in(timedelta(seconds=0.5), len, "abc")
    scheduler(redis, threads).start()
    assert queue.count == 0
    assert wait_for(lambda: queue.count == 1)
    assert queue.job_ids == [job.id]


def test_one_scheduler_holds_the_queue_and_hands_it_over_when_stopped(
        redis: Redis, threads) -> None:
    first = scheduler(redis, threads)
    first.start()
    assert wait_for(lambda: lock_holder(redis, "events") == first.scheduler.name.encode())
    second = scheduler(redis, threads, retry_locks_seconds=0.2)
    second.start()
    time.sleep(0.5)
    assert lock_holder(redis, "events") == first.scheduler.name.encode()
    first.stop()
    assert wait_for(lambda: lock_holder(redis, "events") == second.scheduler.name.encode())
    queue = Queue("events", connection=redis)
    queue.enqueue_at(datetime.now(UTC), len, "ab")
    assert wait_for(lambda: queue.count == 1)  # the second one now moves due jobs


def test_the_worker_runs_a_scheduled_job_without_forking_a_scheduler(
        redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app's own start-up (settings, recovery) is not what this test is about.
    monkeypatch.setattr(worker, "_settings_or_exit", lambda: None)
    monkeypatch.setattr(worker, "_recover", lambda: None)
    queue = Queue("events", connection=redis)
    job = queue.enqueue_in(timedelta(seconds=1), len, "abcd")
    desk = DeskWorker([queue], connection=redis)
    assert desk.work(with_scheduler=True, max_jobs=1)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == 4
    assert multiprocessing.active_children() == []
    assert lock_holder(redis, "events") is None  # given back at the worker's end


def test_a_burst_worker_moves_what_is_due_then_gives_the_lock_back(
        redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "_settings_or_exit", lambda: None)
    monkeypatch.setattr(worker, "_recover", lambda: None)
    queue = Queue("events", connection=redis)
    job = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), len, "ab")
    assert DeskWorker([queue], connection=redis).work(burst=True, with_scheduler=True)
    job.refresh()
    assert job.return_value() == 2
    assert lock_holder(redis, "events") is None
