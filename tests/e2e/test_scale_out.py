"""Scale-out: two `web` processes (the Procfile's gunicorn line) and two workers
against one Redis and one PostgreSQL. Meta spreads a page's webhooks over
whatever answers, and redelivers; every customer must still be answered once
per message, in the order typed."""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func
from sqlmodel import Session, select

from bot.models import HandledEvent, Outbox
from config.settings import as_environ
from messenger.standin import Standin
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.procfile import run_release
from tests.support.servers import free_port, wait_until
from tests.support.service import Service

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = ["billing", "technical", "hours", "refunds", "invoices", "account"]


def start_web_process(environ: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The Procfile's `web` line, through the shell, on a free loopback port."""
    line = next(text.split(":", 1)[1] for text in (ROOT / "Procfile").read_text().splitlines()
                if text.startswith("web:"))
    port = free_port()
    env = {**os.environ, **environ, "PORT": str(port),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("ab") as out:
        process = subprocess.Popen(["bash", "-c", "exec " + line.strip()], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _healthy(url, process), timeout=40, interval=0.2)
    return process, url


def _healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"web process exited ({process.returncode}): {shlex.join(process.args)}")
    try:
        return '"redis"' in requests.get(url + "/healthz", timeout=1).text
    except requests.RequestException:
        return False


def answers(bodies: list[dict]) -> list[str]:
    """The first text of each answer: a message carrying quick replies ends one."""
    turns, first = [], None
    for body in bodies:
        message = body["message"]
        first = first or message.get("text") or message["attachment"]["payload"]["text"]
        if message.get("quick_replies"):
            turns.append(first)
            first = None
    return turns


def settled(fake: Standin, psid: str) -> bool:
    before = len(fake.sent(psid))
    time.sleep(0.3)
    return len(fake.sent(psid)) == before


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def test_two_web_processes_and_two_workers_answer_each_customer_once_in_order(
        tmp_path: Path, redis_url: str, redis: object, standin: tuple[Standin, str],
        postgres_url: str) -> None:
    fake, graph_url = standin
    settings = make_settings(tmp_path, redis_url=redis_url, graph_api_url=graph_url,
                             database_url=postgres_url, drain_threads=4, lease_ms=3000)
    service = Service(settings, tmp_path)
    run_release(as_environ(settings), tmp_path / "release.log")
    webs = [start_web_process(as_environ(settings), tmp_path / f"web-{i}.log") for i in range(2)]
    try:
        for _ in range(2):
            service.start_worker()
        fake.latency = 0.02  # a slow Send API makes interleaving likely
        customers = [str(800 + i) for i in range(10)]
        for number, psid in enumerate(customers):  # each opens its window through a different web
            fake.add_user(psid)
            fake.webhook_url = webs[number % 2][1] + "/webhook"
            fake.customer_says(psid, "hi")
        doors = itertools.cycle([url for _, url in webs])
        for turn, keyword in enumerate(KEYWORDS):  # customers' messages interleave
            for psid in customers:
                body, headers = p.signed(p.page(p.text(psid, keyword, mid=f"m_{psid}_{turn}")))
                for url in (next(doors), next(doors))[: 1 + (turn % 2)]:  # every other one redelivered
                    answer = requests.post(url + "/webhook", data=body, headers=headers, timeout=5)
                    assert answer.status_code == 200
        expected = None
        for psid in customers:
            wait_until(lambda psid=psid: len(answers(fake.sent(psid))) >= 1 + len(KEYWORDS),
                       timeout=40)
            wait_until(lambda psid=psid: settled(fake, psid), timeout=20)
            replies = answers(fake.sent(psid))
            assert len(replies) == 1 + len(KEYWORDS), psid  # the greeting, then one per keyword
            expected = expected or replies
            assert replies == expected, psid  # same order as typed, for every customer
        assert len(set(expected or [])) == len(expected or [])  # distinct answers: order is visible
        engine = service_engine(settings)
        with Session(engine) as session:
            handled = session.exec(select(func.count()).select_from(HandledEvent).where(
                HandledEvent.kind == "message")).one()  # the echoes of our sends are events too
            pending = session.exec(select(Outbox).where(Outbox.status == "pending")).all()
        engine.dispose()
        assert handled == len(customers) * (1 + len(KEYWORDS)) and pending == []
    finally:
        for process, _ in webs:
            stop(process)
        service.stop()


def service_engine(settings):  # type: ignore[no-untyped-def]
    from core.db import make_engine

    return make_engine(settings.database_url, pool_size=2)
