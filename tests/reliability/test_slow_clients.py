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
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from redis import Redis

from bench.trickle import Tricklers
from config.settings import as_environ
from core.web_worker import BODY_GRACE_SECONDS
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.procfile import procfile_line, run_release
from tests.support.servers import free_port, wait_until

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
HEADER_TRICKLERS, BODY_TRICKLERS = 100, 20
TICK = 2.0  # seconds between two bytes of one trickling connection
HEADER_DEADLINE = 5.0  # the Procfile's --keep-alive
POSTING_SECONDS = 8.0


@contextmanager
def procfile_web(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    """The Procfile's `web` line through the shell, as a Procfile runner starts it."""
    line = procfile_line("web")
    port = free_port()
    environ = as_environ(make_settings(tmp_path, redis_url=redis_url))
    run_release(environ, tmp_path / "release.log")  # the web refuses a database not migrated
    env = {**os.environ, **environ,
           "PORT": str(port), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with (tmp_path / "web.log").open("ab") as log:
        process = subprocess.Popen(["bash", "-c", "exec " + line.strip()], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url + "/healthz"), timeout=40, interval=0.2)  # any status
        yield url, port, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def web(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    with procfile_web(tmp_path, redis_url) as started:
        yield started


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
        return True
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
    attack = Tricklers(port, headers=HEADER_TRICKLERS, bodies=BODY_TRICKLERS, tick=TICK)
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


def test_the_web_server_keeps_the_webhook_contract(
        web: tuple[str, int, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    """1 MiB bodies, chunked bodies, JSON errors and the lean access log, through
    the Procfile's server (the unit tests call the app directly)."""
    url = web[0]
    payload = p.page(p.text("9201", "", mid="m_limit"))
    payload["entry"][0]["messaging"][0]["message"]["text"] = "x" * (
        1024 * 1024 - len(p.encode(payload)))
    at_limit, headers = p.signed(payload)
    assert len(at_limit) == 1024 * 1024
    ok = requests.post(url + "/webhook", data=at_limit, headers=headers, timeout=5)
    assert ok.json() == {"queued": 1}
    over, headers = p.signed(at_limit + b" ")
    for body in (over, iter([over[:1000], over[1000:]])):  # with a length, then chunked
        answer = requests.post(url + "/webhook", data=body, headers=headers, timeout=5)
        assert (answer.status_code, answer.json()) == (
            413, {"error": "the body is over 1048576 bytes"})
    small, headers = p.signed(p.page(p.text("9202", "chunked")))
    chunked = requests.post(url + "/webhook", data=iter([small[:10], small[10:]]),
                            headers=headers, timeout=5)
    assert chunked.json() == {"queued": 1}
    unsigned = requests.post(url + "/webhook", data=small, timeout=5)
    not_json, headers = p.signed(b"{not json")
    bad = requests.post(url + "/webhook", data=not_json, headers=headers, timeout=5)
    assert (unsigned.status_code, bad.status_code) == (403, 400)
    assert "error" in unsigned.json() and "error" in bad.json()
    refused = requests.get(url + "/webhook", params={
        "hub.mode": "subscribe", "hub.verify_token": "guess-0451", "hub.challenge": "1"}, timeout=5)
    assert refused.status_code == 403
    # gunicorn writes the access line after the answer has gone out
    log_file = tmp_path / "web.log"
    wait_until(lambda: '"GET /webhook" 403' in log_file.read_text(), timeout=5)
    assert "guess-0451" not in log_file.read_text()


def test_redis_down_is_a_503_within_two_seconds(tmp_path: Path) -> None:
    """Meta redelivers what was refused."""
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with procfile_web(tmp_path, nowhere) as (url, _, _):
        body, headers = p.signed(p.page(p.text("9203", "while Redis is down")))
        start = time.monotonic()
        down = requests.post(url + "/webhook", data=body, headers=headers, timeout=5)
        assert down.status_code == 503 and "error" in down.json()
        assert time.monotonic() - start < 2.0
