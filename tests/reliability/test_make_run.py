"""`python app.py` with Messenger credentials: the real service on one machine (the
Procfile's processes under honcho, a redis-server of its own, append-only with fsync
always). Every process it started is SIGKILLed right after the webhook acknowledged
events and before any reply went out; started again, it answers each event exactly
once. Ctrl+C stops every process it started. Real processes, the Graph stand-in over HTTP.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from messenger.standin import Standin
from tests.conftest import ROOT
from tests.support import payloads as p
from tests.support.servers import free_port, wait_until

pytestmark = pytest.mark.e2e

log = logging.getLogger(__name__)
CUSTOMERS = [f"93{i:02d}" for i in range(6)]
EVENTS_EACH = 2  # the second waits behind the first in the customer's mailbox
HOURS = "Our team is here Monday to Friday"
PROGRAMS = {"redis-server", "gunicorn", "rq worker-pool"}
HOLD = 2.0  # seconds the stand-in holds each Send API call around the kill


def environ(graph_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "SECRET_KEY", "DATABASE_URL", "PORT")}
    env.update(MESSENGER_PAGE_ACCESS_TOKEN=p.ACCESS_TOKEN, MESSENGER_APP_SECRET=p.APP_SECRET,
               MESSENGER_VERIFY_TOKEN=p.VERIFY_TOKEN, MESSENGER_APP_ID=p.APP_ID,
               GRAPH_API_URL=graph_url, FLOWS_PATH=str(ROOT / "config" / "flows.yaml"),
               SUPPORT_DESK_LEASE_MS="1500", PYTHONPATH=str(ROOT), **extra)
    return env


def start(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    log = open(tmp_path / "run.log", "ab")  # noqa: SIM115 - the child holds it
    with log:
        return subprocess.Popen([sys.executable, str(ROOT / "app.py"), *args], cwd=tmp_path,
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def descendants(pid: int) -> set[int]:
    """Every live process under `pid` (honcho starts each Procfile process in its own
    session, so a process group would miss them)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def programs(pids: set[int]) -> set[str]:
    """Which of PROGRAMS these processes run."""
    lines = []
    for pid in pids:
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return {name for name in PROGRAMS for line in lines if name in line}


def kill_everything(top: subprocess.Popen[bytes]) -> set[int]:
    """A crash of the whole machine's service: freeze every process, then SIGKILL them all."""
    pids = {top.pid} | descendants(top.pid)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    pids |= descendants(top.pid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    top.wait(timeout=10)
    return pids


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def up() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return requests.get(url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, timeout=40)


@pytest.fixture
def runs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        leftovers = {process.pid} | descendants(process.pid)
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=10)


def texts(fake: Standin, psid: str) -> list[str]:
    return [b["message"].get("text") or b["message"]["attachment"]["payload"]["text"]
            for b in fake.sent(psid)]


def test_events_acknowledged_before_a_crash_of_everything_are_answered_once_after_restart(
        tmp_path: Path, standin: tuple[Standin, str], runs: list[subprocess.Popen[bytes]]) -> None:
    fake, graph_url = standin
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "run.log"
    # --port wins over $PORT
    first = start(tmp_path, environ(graph_url, PORT=str(free_port())), "--port", str(port))
    runs.append(first)
    wait_healthy(url, first, log_file)
    assert requests.get(url + "/webhook", params={
        "hub.mode": "subscribe", "hub.verify_token": p.VERIFY_TOKEN, "hub.challenge": "42"},
        timeout=5).text == "42"
    for psid in CUSTOMERS:
        fake.add_user(psid)
    fake.webhook_url = url + "/webhook"
    fake.latency = HOLD  # replies are held in flight...
    fake.rate_limit_per_second = 0  # ...and, when the hold ends, refused (Meta never got them)
    for _ in range(EVENTS_EACH):
        for psid in CUSTOMERS:
            fake.customer_says(psid, "hours")  # returns once our webhook answered 200
    assert PROGRAMS <= programs(descendants(first.pid))
    killed = kill_everything(first)
    wait_until(lambda: not any(alive(pid) for pid in killed), timeout=10)
    time.sleep(HOLD + 0.5)  # the held calls end, refused
    assert all(fake.sent(psid) == [] for psid in CUSTOMERS)
    fake.latency, fake.rate_limit_per_second = 0.0, None

    restarted = time.monotonic()
    second = start(tmp_path, environ(graph_url, PORT=str(port)))  # $PORT, no --port
    runs.append(second)
    wait_healthy(url, second, log_file)
    for psid in CUSTOMERS:
        fake.wait_for_sent(psid, EVENTS_EACH, timeout=30)
    log.info("%d processes killed; %d acknowledged events answered %.1f s after the restart",
             len(killed), len(CUSTOMERS) * EVENTS_EACH, time.monotonic() - restarted)
    time.sleep(1.0)  # room for a wrong repeat to show up
    for psid in CUSTOMERS:
        sent = texts(fake, psid)
        assert len(sent) == EVENTS_EACH and all(t.startswith(HOURS) for t in sent), sent

    started = descendants(second.pid)
    assert PROGRAMS <= programs(started)
    stopping = time.monotonic()
    os.killpg(second.pid, signal.SIGINT)  # Ctrl+C in its terminal
    assert second.wait(timeout=20) == 130
    wait_until(lambda: not any(alive(pid) for pid in started), timeout=10)
    log.info("Ctrl+C stopped all %d processes in %.1f s", len(started), time.monotonic() - stopping)
