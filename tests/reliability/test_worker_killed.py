"""A worker process killed (SIGKILL) in the middle of a job: another worker
finishes the event once the dead one's lease runs out, and a message the Send
API had already accepted is not sent again (its outbox row says so, or, when
the worker died before it could write Meta's answer down, Meta's echo does)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker
from sqlmodel import Session, select

from bot.models import Outbox
from config.settings import Settings, as_environ
from core import runtime
from messenger.standin import Standin
from tests.conftest import make_settings
from tests.e2e.conftest import StartService
from tests.support.servers import wait_until
from tests.support.service import ROOT, RQ, Service

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


CUSTOMERS = [str(8400 + i) for i in range(10)]
REFUSED = 3  # of the ten sends in flight, Meta answers these with a 500: no echo, not sent
ECHO_WAIT_MS = 6000


def start_worker_pool(settings: Settings, logs: Path) -> subprocess.Popen[bytes]:
    """The worker as the Procfile runs it: a pool that respawns a worker that died."""
    env = {**os.environ, **as_environ(settings), "PYTHONUNBUFFERED": "1"}
    with open(logs / "worker-pool.log", "ab") as log:
        return subprocess.Popen(
            [RQ, "worker-pool", "--num-workers", "1", "--worker-class", "worker.DeskWorker",
             "--url", str(settings.redis_url), "mail", "events"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def echo_mids(fake: Standin) -> dict[str, str]:
    """metadata -> mid of every echo the stand-in posted to our webhook."""
    return {event["message"]["metadata"]: event["message"]["mid"]
            for payload in fake.webhooks for entry in payload["entry"]
            for event in entry.get("messaging", []) + entry.get("standby", [])
            if event.get("message", {}).get("is_echo")}


def test_sends_accepted_before_the_worker_died_are_not_repeated_and_the_rest_go_once(
        tmp_path: Path, redis: Redis, redis_url: str, standin: tuple[Standin, str]) -> None:
    """Ten customers' first replies are in flight (Graph answers in 300 ms) when the worker
    is SIGKILLed: the dead worker never learns Meta's answers. Its replacement (the pool
    respawns it) records the seven Meta accepted from their echoes instead of sending them
    again, waits out the echo of the three Meta refused, then sends those once; each
    customer's later messages wait behind, in order."""
    fake, graph_url = standin
    settings = make_settings(tmp_path, redis_url=redis_url, graph_api_url=graph_url,
                             drain_threads=16, lease_ms=LEASE_MS, echo_wait_ms=ECHO_WAIT_MS)
    service = Service(settings, tmp_path)
    pool: subprocess.Popen[bytes] | None = None
    try:
        fake.webhook_url = service.start_web() + "/webhook"
        pool = start_worker_pool(settings, tmp_path)
        first = wait_until(lambda: Worker.all(connection=redis))[0]
        for psid in CUSTOMERS:
            fake.add_user(psid)
        fake.latency = 0.3
        fake.fail_next(REFUSED, status=500, delay=0.5)  # the first three to arrive
        for psid in CUSTOMERS:
            fake.customer_says(psid, "billing")  # two messages: a button template, then a text
        fake.wait_for_in_flight(len(CUSTOMERS))
        os.kill(first.pid, signal.SIGKILL)  # mid-call: Meta's answers go nowhere
        killed_at = datetime.now(UTC)
        for psid in CUSTOMERS:
            fake.customer_says(psid, "hours")  # waits behind the unknown send
        wait_until(lambda: fake.in_flight == 0)
        assert fake.drain_deliveries()
        receipts = echo_mids(fake)  # of the sends in flight: Meta accepted these
        assert len(receipts) == len(CUSTOMERS) - REFUSED

        for psid in CUSTOMERS:
            wait_until(lambda psid=psid: len(texts(fake, psid)) >= 3, timeout=40)
        time.sleep(1.5)  # room for a wrong repeat to show up
        for psid in CUSTOMERS:
            sent = texts(fake, psid)
            assert len(sent) == 3, (psid, [s[:30] for s in sent])
            assert sent[0].startswith("Happy to help with billing"), (psid, sent)
            assert sent[1].startswith("Looking for an invoice"), (psid, sent)
            assert sent[2].startswith("Our team is here"), (psid, sent)
        assert any(w.pid != first.pid for w in Worker.all(connection=redis))  # respawned

        engine = service.app.extensions["runtime"].engine  # type: ignore[union-attr]
        with Session(engine) as session:
            rows = session.exec(select(Outbox)).all()
        assert {row.status for row in rows} == {"sent"} and len(rows) == 30
        firsts = [row for row in rows if row.seq == 0 and "billing" in str(row.body)]
        by_echo = [row for row in firsts if receipts.get(f"sd:{row.event_key}#0") == row.result]
        assert len(by_echo) == len(CUSTOMERS) - REFUSED  # recorded with Meta's echo mid
        for row in firsts:
            if row not in by_echo:  # sent again only once its echo had been awaited
                assert row.done_at is not None
                waited = row.done_at.replace(tzinfo=UTC) - killed_at
                assert waited.total_seconds() >= ECHO_WAIT_MS / 1000 - 1.0, waited
    finally:
        if pool is not None:
            pool.terminate()
            pool.wait(timeout=20)
        service.stop()
        runtime.install(None)
