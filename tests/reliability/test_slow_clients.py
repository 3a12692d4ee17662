"""Slow and stalled clients never delay a webhook acknowledgement (SPEC, POST /webhook).

The Procfile's `web` line runs as production runs it, against a throwaway Redis.
100 connections trickle a request's headers one byte every two seconds and 20
send their headers and then trickle the body, while signed events are POSTed on
other connections: each is acknowledged (200, the event in its mailbox) in well
under a second, /healthz answers, and the server closes every trickling
connection within its deadline (headers: --keep-alive; body: core.web_worker),
so an attacker cannot hold file descriptors for free.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from redis import Redis

from config.settings import as_environ
from core.web_worker import BODY_GRACE_SECONDS
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.servers import free_port, wait_until

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
HEADER_TRICKLERS, BODY_TRICKLERS = 100, 20
TICK = 2.0  # seconds between two bytes of one trickling connection
HEADER_DEADLINE = 5.0  # the Procfile's --keep-alive
POSTING_SECONDS = 8.0
HEADERS = b"POST /webhook HTTP/1.1\r\nHost: desk\r\nContent-Type: application/json\r\n"
BODY_HEADER_END = b"Content-Length: 4096\r\n\r\n"


@dataclass
class Conn:
    sock: socket.socket
    kind: str  # "headers": trickles its header bytes; "body": sent them, trickles its body
    sent: int  # bytes of HEADERS sent so far
    opened: float = field(default_factory=time.monotonic)

    def next_byte(self) -> bytes:
        self.sent += 1
        return HEADERS[self.sent - 1:self.sent] if self.kind == "headers" else b" "


class Attack:
    """Trickling connections; one the server closes is opened again at once."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conns: list[Conn] = []
        self.lifetimes: dict[str, list[float]] = {"headers": [], "body": []}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self) -> None:
        self.conns = [self.open("headers") for _ in range(HEADER_TRICKLERS)]
        self.conns += [self.open("body") for _ in range(BODY_TRICKLERS)]
        self.thread.start()

    def open(self, kind: str) -> Conn:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        first = HEADERS[:1] if kind == "headers" else HEADERS + BODY_HEADER_END
        sock.sendall(first)
        sock.setblocking(False)
        return Conn(sock, kind, len(first) if kind == "headers" else 0)

    def run(self) -> None:
        while not self.stopped.wait(TICK):
            for index, conn in enumerate(self.conns):
                if self.closed_by_server(conn):
                    self.lifetimes[conn.kind].append(time.monotonic() - conn.opened)
                    conn.sock.close()
                    self.conns[index] = self.open(conn.kind)

    @staticmethod
    def closed_by_server(conn: Conn) -> bool:
        """Whether the server closed `conn`; else sends it one more byte."""
        try:
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if readable and not conn.sock.recv(4096):
                return True
            conn.sock.send(conn.next_byte())
            return False
        except OSError:
            return True

    def stop(self) -> list[float]:
        """Stops trickling; returns how long each connection still open has been open."""
        self.stopped.set()
        self.thread.join(timeout=10)
        now = time.monotonic()
        ages = [now - c.opened for c in self.conns if not self.closed_by_server(c)]
        for conn in self.conns:
            conn.sock.close()
        return ages


@pytest.fixture
def web(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    """The Procfile's `web` line through the shell, as a Procfile runner starts it."""
    line = next(text.split(":", 1)[1] for text in (ROOT / "Procfile").read_text().splitlines()
                if text.startswith("web:"))
    port = free_port()
    env = {**os.environ, **as_environ(make_settings(tmp_path, redis_url=redis_url)),
           "PORT": str(port), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with (tmp_path / "web.log").open("ab") as log:
        process = subprocess.Popen(["bash", "-c", "exec " + line.strip()], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url + "/healthz"), timeout=40, interval=0.2)
        yield url, port, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def post_events(url: str, psid: str, seconds: float) -> list[float]:
    """POSTs signed events on fresh connections for `seconds`; each one's latency
    (infinite when it failed or was not answered within 3 s)."""
    latencies, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        body, headers = p.signed(p.page(p.text(psid, f"hello {len(latencies)}")))
        start = time.monotonic()
        try:
            ok = requests.post(url + "/webhook", data=body, headers=headers,
                               timeout=(3, 3)).status_code == 200
        except requests.RequestException:
            ok = False
        latencies.append(time.monotonic() - start if ok else float("inf"))
        time.sleep(0.05)
    return latencies


def mailbox_texts(redis: Redis, psid: str) -> list[str]:
    members = redis.zrange(f"sd:mb:{p.PAGE_ID}:{psid}", 0, -1)
    return [json.loads(m.split(b"|", 1)[1])["event"]["message"]["text"] for m in members]


def timed_get(url: str) -> tuple[int | None, float]:
    start = time.monotonic()
    try:
        status: int | None = requests.get(url, timeout=3).status_code
    except requests.RequestException:
        status = None
    return status, time.monotonic() - start


def test_trickling_clients_never_delay_an_acknowledgement(
        web: tuple[str, int, subprocess.Popen[bytes]], redis: Redis) -> None:
    url, port, process = web
    attack = Attack(port)
    try:
        attack.start()
        time.sleep(TICK + 0.5)  # every trickler has been accepted and sent bytes since
        results: dict[str, list[float]] = {}
        posters = [threading.Thread(target=lambda psid=psid: results.__setitem__(
            psid, post_events(url, psid, POSTING_SECONDS))) for psid in ("9101", "9102", "9103")]
        for poster in posters:
            poster.start()
        start = time.monotonic()
        health = timed_get(url + "/healthz")
        for poster in posters:
            poster.join()

        latencies = sorted(x for values in results.values() for x in values)
        p99 = latencies[int(0.99 * (len(latencies) - 1))]
        assert latencies[-1] < 1.0 and p99 < 0.5, (
            f"{len(latencies)} acknowledgements: p50 {latencies[len(latencies) // 2]:.3f} s, "
            f"p99 {p99:.3f} s, max {latencies[-1]:.3f} s (inf: refused or not answered in 3 s)")
        for psid, values in results.items():
            assert mailbox_texts(redis, psid) == [f"hello {i}" for i in range(len(values))]
        assert health[0] == 200 and health[1] < 1.0, f"/healthz: {health}"

        # Trickling connections are closed: headers within the header deadline,
        # bodies within the body's grace (their few bytes earn no extra time).
        time.sleep(max(0.0, BODY_GRACE_SECONDS + TICK + 1.0 - (time.monotonic() - start)))
    finally:
        still_open = attack.stop()
    limit = {"headers": HEADER_DEADLINE + TICK + 1.0, "body": BODY_GRACE_SECONDS + TICK + 1.0}
    for kind, lives in attack.lifetimes.items():
        assert lives and max(lives) < limit[kind], f"{kind} tricklers lived {lives[-5:]} s"
    assert not still_open or max(still_open) < limit["body"], f"still open after {still_open}"

    # Graceful shutdown: SIGTERM ends the server cleanly.
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=15) == 0
