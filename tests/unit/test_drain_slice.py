"""A drain job's slice: it goes on while no other job waits for the worker, and hands
over as soon as one does (mail, a due handover check), or before RQ's job timeout."""

from __future__ import annotations

import time
from types import SimpleNamespace

from redis import Redis

from bot.jobs import MAX_SLICE_SECONDS, Drainer, drain
from core.jobs import ATTACHMENTS_QUEUE, EVENTS_QUEUE, MAIL_QUEUE, RQDispatcher
from handoff.jobs import agent_wait_over
from tickets.jobs import send_mail


class Queues:
    def __init__(self) -> None:
        self.waiting = False

    def others_waiting(self, besides: object) -> bool:
        assert besides is drain
        return self.waiting


def drainer(queues: Queues) -> Drainer:
    return Drainer(SimpleNamespace(dispatcher=queues), consumer_id=1)  # type: ignore[arg-type]


def test_a_slice_goes_on_while_nothing_else_waits_and_ends_once_something_does() -> None:
    queues = Queues()
    work = drainer(queues)
    assert not work._slice_over()  # within the slice

    work.deadline = time.monotonic() - 1  # the slice is up, nobody waits
    assert not work._slice_over()
    assert work.deadline > time.monotonic()  # extended

    queues.waiting = True  # mail arrives
    work.deadline = time.monotonic() - 1
    assert work._slice_over()
    queues.waiting = False
    assert work._slice_over()  # ended for every thread, not reopened


def test_a_slice_ends_before_the_job_timeout_even_if_nothing_waits() -> None:
    work = drainer(Queues())
    work.started = time.monotonic() - MAX_SLICE_SECONDS - 1
    work.deadline = time.monotonic() - 1
    assert work._slice_over()


def test_a_slice_ends_when_the_queues_cannot_be_read() -> None:
    class Broken(Queues):
        def others_waiting(self, besides: object) -> bool:
            raise ConnectionError("redis down")

    work = drainer(Broken())
    work.deadline = time.monotonic() - 1
    assert work._slice_over()


def test_rq_counts_mail_and_other_jobs_as_waiting_but_not_other_drains(redis: Redis) -> None:
    dispatcher = RQDispatcher(redis)
    dispatcher.enqueue(drain, 7)  # a drain reserved for a consumer no worker took yet
    assert not dispatcher.others_waiting(drain)

    dispatcher.enqueue(agent_wait_over, "page", "psid", 1)
    assert dispatcher.others_waiting(drain)
    dispatcher.queue(EVENTS_QUEUE).empty()

    dispatcher.enqueue(send_mail, 1, queue=MAIL_QUEUE)
    assert dispatcher.others_waiting(drain)


def test_a_customers_file_waiting_to_be_fetched_ends_a_drains_slice(redis: Redis) -> None:
    from attachments.jobs import fetch_attachment

    dispatcher = RQDispatcher(redis)
    assert not dispatcher.others_waiting(drain)
    dispatcher.enqueue(fetch_attachment, 1, queue=ATTACHMENTS_QUEUE)
    assert dispatcher.others_waiting(drain)
