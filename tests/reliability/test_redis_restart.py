"""Redis crashes and comes back while customers write: the webhook answers 503
during the outage (Meta redelivers), /healthz reports it, nothing the webhook
acknowledged is lost (Redis runs with AOF, as production must), processing
resumes by itself and each event is answered exactly once, in order."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis
from rq import Worker

from config.settings import Settings, as_environ
from core import runtime
from messenger.standin import Standin
from messenger.standin.errors import WebhookDeliveryError
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.servers import free_port, wait_for_redis, wait_until
from tests.support.service import ROOT, RQ, Service

pytestmark = pytest.mark.e2e
CUSTOMERS = [str(8200 + i) for i in range(6)]
OUTAGE_SECONDS = 4.0


class DurableRedis:
    """A private redis-server with an append-only file fsynced on every write."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server not found: `make test` installs it"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_redis(self.url)

    def crash(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no goodbye, only what was fsynced survives
        self.process.wait(timeout=10)


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[DurableRedis]:
    server = DurableRedis(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=10)


def start_worker_pool(settings: Settings, logs: Path) -> subprocess.Popen[bytes]:
    """The worker as the Procfile runs it: a pool that respawns a worker that died."""
    env = {**os.environ, **as_environ(settings), "PYTHONUNBUFFERED": "1"}
    with open(logs / "worker-pool.log", "ab") as log:
        return subprocess.Popen(
            [RQ, "worker-pool", "--num-workers", "1", "--worker-class", "worker.DeskWorker",
             "--url", str(settings.redis_url), "mail", "events"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def texts(fake: Standin, psid: str) -> list[str]:
    return [b["message"].get("text") or b["message"]["attachment"]["payload"]["text"]
            for b in fake.sent(psid)]


def customer_post(fake: Standin, psid: str, words: str) -> dict[str, Any]:
    """The stand-in's POST of this customer message (echoes of earlier sends interleave)."""
    for payload in reversed(fake.webhooks):
        for entry in payload["entry"]:
            for event in entry.get("messaging", []) + entry.get("standby", []):
                message = event.get("message", {})
                if event["sender"]["id"] == psid and message.get("text") == words:
                    return payload
    raise AssertionError(f"no POST of {words!r} from {psid}")


def redeliver(url: str, payload: dict[str, Any]) -> int:
    body, headers = p.signed(payload)
    return requests.post(url, data=body, headers=headers, timeout=5).status_code


def test_redis_restart_loses_nothing_acknowledged_and_answers_each_event_once(
        tmp_path: Path, durable_redis: DurableRedis, standin: tuple[Standin, str]) -> None:
    fake, graph_url = standin
    settings = make_settings(tmp_path, redis_url=durable_redis.url, graph_api_url=graph_url,
                             drain_threads=2, lease_ms=2000)
    service = Service(settings, tmp_path)
    pool: subprocess.Popen[bytes] | None = None
    try:
        base = service.start_web()
        fake.webhook_url = base + "/webhook"
        pool = start_worker_pool(settings, tmp_path)
        watcher = Redis.from_url(durable_redis.url)
        wait_until(lambda: Worker.all(connection=watcher))  # listening before Redis goes
        for psid in CUSTOMERS:
            fake.add_user(psid)
        fake.latency = 0.5  # the worker is mid-conversation when Redis goes
        for psid in CUSTOMERS:
            fake.customer_says(psid, "billing")  # raises unless our webhook answered 200

        fake.wait_for_sent(CUSTOMERS[0], 1)  # a drain job is under way
        durable_redis.crash()
        refused = []
        for psid in CUSTOMERS:
            with pytest.raises(WebhookDeliveryError) as error:
                fake.customer_says(psid, "hours")
            assert error.value.status == 503  # so Meta redelivers
            refused.append(customer_post(fake, psid, "hours"))
        health = requests.get(base + "/healthz", timeout=5)
        assert health.status_code == 503 and health.json()["redis"].startswith("down")
        time.sleep(OUTAGE_SECONDS)  # longer than redis-py's own reconnect retries

        durable_redis.start()  # same port, same append-only file
        fake.latency = 0.0
        for payload in refused:  # Meta's redelivery
            assert wait_until(lambda payload=payload: redeliver(base + "/webhook", payload) == 200)
        for psid in CUSTOMERS:
            wait_until(lambda psid=psid: len(texts(fake, psid)) >= 3, timeout=60)
        time.sleep(1.0)  # room for a wrong repeat to show up
        for psid in CUSTOMERS:
            sent = texts(fake, psid)
            assert len(sent) == 3, (psid, sent)
            assert sent[0].startswith("Happy to help with billing"), (psid, sent)
            assert sent[1].startswith("Looking for an invoice"), (psid, sent)
            assert sent[2].startswith("Our team is here"), (psid, sent)
        assert requests.get(base + "/healthz", timeout=5).status_code == 200
    finally:
        if pool is not None:
            pool.terminate()
            pool.wait(timeout=20)
        service.stop()
        runtime.install(None)
