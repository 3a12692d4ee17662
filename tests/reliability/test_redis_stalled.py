"""A Redis that accepts connections and never answers (a stuck server, a full
network buffer): SPEC gives every answer 2 s, so the webhook answers 503 (Meta
redelivers) and /healthz `redis: down` within it, alone or 20 at once; once
Redis answers again, the webhook acknowledges and queues."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from redis import Redis
from werkzeug.serving import make_server

from app import create_app
from core import runtime
from tests.conftest import make_settings
from tests.support import payloads as p

SPEC_ANSWER_S = 2.0


class StallableRedis:
    """A TCP proxy to a real Redis that can stall: while stalled it accepts
    connections and reads from them, and never writes a byte back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.stalled = True
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def resume(self) -> None:
        """Redis is back: connections made from now on reach it."""
        self.stalled = False
        for conn in self._open:  # the stuck ones end, as a restarted server's would
            conn.close()

    def close(self) -> None:
        self.listener.close()
        for conn in self._open:
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._open.append(client)
            if self.stalled:
                threading.Thread(target=_swallow, args=(client,), daemon=True).start()
            else:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
                self._open.append(upstream)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _swallow(conn: socket.socket) -> None:
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def stalled(redis: Redis, redis_url: str) -> Iterator[StallableRedis]:
    proxy = StallableRedis(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    yield proxy
    proxy.close()


@pytest.fixture
def web(tmp_path: Path, stalled: StallableRedis) -> Iterator[str]:
    """The app over real HTTP (a threaded server), on the stallable Redis."""
    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{stalled.port}/0")
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    runtime.install(None)
    app.extensions["runtime"].engine.dispose()


def timed_post(url: str, mid: str) -> tuple[int, float]:
    body, headers = p.signed(p.page(p.text("7100", "hello", mid=mid)))
    started = time.monotonic()
    response = requests.post(f"{url}/webhook", data=body, headers=headers, timeout=30)
    return response.status_code, time.monotonic() - started


def test_a_stalled_redis_gets_503_within_2_s_alone_and_20_at_once_then_200(
        web: str, stalled: StallableRedis, redis: Redis) -> None:
    status, took = timed_post(web, "stall_one")
    assert status == 503 and took < SPEC_ANSWER_S, (status, took)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda i: timed_post(web, f"stall_{i}"), range(20)))
    assert [s for s, _ in answers] == [503] * 20
    slowest = max(t for _, t in answers)
    assert slowest < SPEC_ANSWER_S, f"slowest of 20 concurrent POSTs took {slowest:.2f} s"

    started = time.monotonic()
    health = requests.get(f"{web}/healthz", timeout=30)
    took = time.monotonic() - started
    assert health.status_code == 503 and health.json()["redis"].startswith("down"), health.text
    assert took < SPEC_ANSWER_S, f"/healthz took {took:.2f} s"

    stalled.resume()
    assert timed_post(web, "stall_after")[0] == 200
    assert redis.zcard(f"sd:mb:{p.PAGE_ID}:7100") >= 1
    assert requests.get(f"{web}/healthz", timeout=5).status_code == 200
