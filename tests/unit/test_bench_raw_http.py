"""The load generator's HTTP client (`bench.raw_http`, behind `bench.load.post_all`): every
POST arrives whole with its headers, over one kept-alive connection, and a server that
closes the connection after an answer is reconnected to; a customer's events are posted
one after the other, never side by side."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.load import Post, post_all
from bench.raw_http import RawConnection


class Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes, int]] = []  # (path, signature, body, client port)
    close_after = False

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["X-Hub-Signature-256"], body,
                              self.client_address[1]))
        answer = b'{"ok":true}' if body != b"refuse" else b"no"
        self.send_response(200 if body != b"refuse" else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        if self.close_after:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(params=[False, True], ids=["keep-alive", "close"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[int, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"received": [], "close_after": request.param,
                                            "protocol_version": "HTTP/1.1"})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield httpd.server_address[1], handler
    httpd.shutdown()
    httpd.server_close()


def test_posts_arrive_whole_and_answers_are_read(server) -> None:  # type: ignore[no-untyped-def]
    port, handler = server
    conn = RawConnection("127.0.0.1", port, "/webhook")
    statuses = [conn.post(f'{{"n":{n}}}'.encode(), {"X-Hub-Signature-256": f"sha256={n}"})
                for n in range(5)]
    statuses.append(conn.post(b"refuse", {"X-Hub-Signature-256": "sha256=x"}))
    conn.close()
    assert statuses == [200] * 5 + [403]
    assert [(path, sig, body) for path, sig, body, _ in handler.received] == [
        ("/webhook", f"sha256={n}", f'{{"n":{n}}}'.encode()) for n in range(5)
    ] + [("/webhook", "sha256=x", b"refuse")]
    ports = {port for *_, port in handler.received}
    assert len(ports) == (6 if handler.close_after else 1)  # one connection unless closed


def test_post_all_counts_every_answer(server) -> None:  # type: ignore[no-untyped-def]
    port, handler = server
    items = [(f'{{"n":{n}}}'.encode(), f"sha256={n}") for n in range(40)] + [(b"refuse", "s")]
    stats = post_all(f"http://127.0.0.1:{port}/webhook", items, connections=4)
    assert len(stats.latencies) == 41 and stats.failures == ["403"]
    assert sorted(body for _, _, body, _ in handler.received) == sorted(b for b, _ in items)


class Slow(BaseHTTPRequestHandler):
    """Answers after 20 ms, noting how many POSTs of each customer it holds at once."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    holding: Counter[str] = Counter()
    most: Counter[str] = Counter()
    order: list[tuple[str, int]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.holding[event["c"]] += 1
            self.most[event["c"]] = max(self.most[event["c"]], self.holding[event["c"]])
            self.order.append((event["c"], event["n"]))
        time.sleep(0.02)
        with self.lock:
            self.holding[event["c"]] -= 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_a_customers_events_go_one_after_the_other_in_order() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    customers = ["a", "b", "c"]  # fewer customers than connections: the easy way to overlap
    items = [Post(json.dumps({"c": c, "n": n}).encode(), "s", c)
             for n in range(5) for c in customers]
    stats = post_all(f"http://127.0.0.1:{httpd.server_address[1]}/webhook", items, connections=8)
    httpd.shutdown()
    httpd.server_close()
    assert stats.failures == [] and len(stats.latencies) == 15
    assert Slow.most == {c: 1 for c in customers}  # never two of a customer's at once
    for c in customers:
        assert [n for who, n in Slow.order if who == c] == list(range(5))
