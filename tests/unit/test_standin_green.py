"""`python -m messenger.standin.green`, the stand-in benchmarks run: the same Graph API
as the cheroot-served one (the same Flask app), its calls served concurrently, each
held for the added latency."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bench.procs import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
PAGE, TOKEN, OTHER_PAGE, OTHER_TOKEN = "1001", "token-1", "1002", "token-2"
LATENCY_MS = 200


@pytest.fixture
def green() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "messenger.standin.green", "--port", str(port),
         "--page-id", PAGE, "--access-token", TOKEN, "--other-page", f"{OTHER_PAGE}={OTHER_TOKEN}",
         "--app-id", "2002", "--app-secret", "secret", "--latency-ms", str(LATENCY_MS),
         "--no-echoes"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/_standin/config", expect="latency")
        yield base
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0  # SIGTERM stops it cleanly


def _customer(base: str, page: str, psid: str) -> None:
    requests.post(f"{base}/_standin/customer_says?page={page}",
                  json={"psid": psid, "text": "hi"}, timeout=5).raise_for_status()


def _send(base: str, token: str, psid: str) -> requests.Response:
    return requests.post(f"{base}/v19.0/me/messages", params={"access_token": token},
                         json={"recipient": {"id": psid}, "messaging_type": "RESPONSE",
                               "message": {"text": "hello"}}, timeout=10)


def test_each_page_answers_with_its_own_token_and_refuses_a_bad_one(green: str) -> None:
    _customer(green, PAGE, "ana")
    _customer(green, OTHER_PAGE, "zoe")
    assert "message_id" in _send(green, TOKEN, "ana").json()
    assert "message_id" in _send(green, OTHER_TOKEN, "zoe").json()
    wrong_page = _send(green, TOKEN, "zoe")  # zoe wrote to the other Page
    assert wrong_page.status_code == 400 and "error" in wrong_page.json()
    bad = _send(green, "not-a-token", "ana")
    assert bad.status_code in (400, 401) and bad.json()["error"]["code"] == 190


def test_calls_in_flight_wait_the_latency_side_by_side(green: str) -> None:
    _customer(green, PAGE, "ana")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: _send(green, TOKEN, "ana"), range(20)))
    took = time.monotonic() - started
    assert all(a.status_code == 200 for a in answers)
    # each call waited its 200 ms; one after the other, twenty would take 4 s
    assert LATENCY_MS / 1000 <= took < 2.0
