"""A worker process killed (SIGKILL) in the middle of a job: another worker
finishes the event once the dead one's lease runs out, and a message the Send
API had already accepted is not sent again (its outbox row says so)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from rq import Worker
from sqlmodel import Session, select

from bot.models import Outbox
from messenger.standin import Standin
from tests.e2e.conftest import StartService
from tests.support.servers import wait_until

pytestmark = pytest.mark.e2e

LEASE_MS = 2000


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def first_send_recorded(engine) -> bool:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(Outbox).where(Outbox.seq == 0, Outbox.status == "sent")
                            ).first() is not None


def texts(fake: Standin, psid: str) -> list[str]:
    return [b["message"].get("text") or b["message"]["attachment"]["payload"]["text"]
            for b in fake.sent(psid)]


def test_a_job_killed_mid_flight_is_finished_by_another_worker_without_repeats(
        start_service: StartService, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    service = start_service(workers=2, lease_ms=LEASE_MS, drain_threads=2)
    redis = service.app.extensions["runtime"].redis  # type: ignore[union-attr]
    wait_until(lambda: len(Worker.all(connection=redis)) == 2)
    fake.add_user("8100")
    fake.latency = 0.5  # every Send API call takes half a second
    fake.customer_says("8100", "billing")  # two messages: a button template, then a text
    fake.wait_for_sent("8100", 1)
    fake.fail_next(1, status=500, delay=5.0)  # the second call hangs, then would fail
    engine = service.app.extensions["runtime"].engine  # type: ignore[union-attr]
    wait_until(lambda: first_send_recorded(engine))  # Meta's answer is on the outbox row
    busy = wait_until(lambda: [w for w in Worker.all(connection=redis) if w.get_state() == "busy"])
    victim = next(proc for proc in service.workers if proc.pid == busy[0].pid)
    orphans = children(victim.pid)  # its RQ scheduler process outlives a SIGKILL
    service.kill_worker(victim)  # mid-call: the first message was sent, the second was not
    fake.latency = 0.0
    for pid in orphans:
        os.kill(pid, signal.SIGTERM)

    time.sleep(LEASE_MS / 1000 + 0.5)  # the dead worker's lease runs out
    fake.customer_says("8100", "hours")  # the next event wakes a drain on the live worker
    wait_until(lambda: len(texts(fake, "8100")) >= 3, timeout=30)
    time.sleep(1.0)  # room for a wrong repeat to show up
    sent = texts(fake, "8100")
    assert len(sent) == 3, [s[:30] for s in sent]
    assert sent[0].startswith("Happy to help with billing")  # sent once, before the kill
    assert sent[1].startswith("Looking for an invoice")  # finished by the other worker
    assert sent[2].startswith("Our team is here")  # then the next event, in order
