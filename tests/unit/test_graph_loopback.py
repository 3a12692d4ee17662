"""GraphClient over real HTTP on loopback: what its pooled requests session does
with a live connection pool (stale connections, timeouts, broken bodies, gzip,
headers), and that a proxy is still used."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from messenger.errors import GraphTimeout, RateLimited, TransientGraphError
from messenger.graph import GraphClient

TOKEN = "PAGE-TOKEN-do-not-leak-7f3a9c"
SENT = {"recipient_id": "123", "message_id": "m_1"}


@dataclass
class Answer:
    status: int = 200
    body: bytes = json.dumps(SENT).encode()
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: int = 0  # bytes of the body left unsent before the connection is closed


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # the body is not held back until the client ACKs
    server: Graph

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # a connection idle this long is closed
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:  # noqa: N802 -- http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.paths.append(self.path)
        answer = self.server.answers.pop(0) if self.server.answers else Answer()
        time.sleep(answer.delay)
        self.send_response(answer.status)
        for name, value in {"Content-Type": "application/json; charset=UTF-8",
                            "Content-Length": str(len(answer.body)), **answer.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body[:len(answer.body) - answer.cut])
        self.close_connection = answer.cut > 0

    def log_message(self, *args: Any) -> None:
        pass


class Graph(ThreadingHTTPServer):
    """A keep-alive Graph API stand-in answering each POST with the next scripted answer."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.answers: list[Answer] = []
        self.paths: list[str] = []
        self.connections = 0
        self.idle_timeout: float | None = None
        self.url = f"http://127.0.0.1:{self.server_port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: the write fails, as expected


@pytest.fixture
def graph() -> Iterator[Graph]:
    server = Graph()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clients() -> Iterator[list[GraphClient]]:
    made: list[GraphClient] = []
    yield made
    for client in made:
        client.session.close()


def client_for(url: str, clients: list[GraphClient], **kwargs: Any) -> GraphClient:
    options: dict[str, Any] = {"timeout": (1.0, 0.3), "sleep": lambda _: None, **kwargs}
    client = GraphClient(access_token=TOKEN, app_secret="app-secret", api_url=url, **options)
    clients.append(client)
    return client


def test_plain_calls_share_one_kept_alive_connection(graph, clients) -> None:
    client = client_for(graph.url, clients)
    results = [client.send_text_message("123", str(i)) for i in range(3)]
    assert results == [SENT] * 3 and graph.connections == 1
    assert graph.paths[0].startswith("/v27.0/me/messages?access_token=")


def test_a_connection_the_server_closed_while_idle_is_replaced_without_an_error(
        graph, clients) -> None:
    graph.idle_timeout = 0.1
    client = client_for(graph.url, clients, max_attempts=1)
    assert client.send_text_message("123", "first") == SENT
    time.sleep(0.5)  # the server closes the pooled connection meanwhile
    assert client.send_text_message("123", "second") == SENT
    assert graph.connections == 2


def test_a_read_timeout_is_a_graph_timeout_after_sending(graph, clients) -> None:
    graph.answers.append(Answer(delay=0.8))
    client = client_for(graph.url, clients, max_attempts=1, timeout=(1.0, 0.1))
    with pytest.raises(GraphTimeout) as caught:
        client.send_text_message("123", "hola")
    assert caught.value.request_sent


def test_a_timed_out_send_is_retried_on_a_fresh_connection(graph, clients, caplog) -> None:
    graph.answers.append(Answer(delay=0.8))
    client = client_for(graph.url, clients, max_attempts=2, timeout=(1.0, 0.1))
    assert client.send_text_message("123", "hola") == SENT
    assert "possible duplicate" in caplog.text and len(graph.paths) == 2


def test_a_refused_connection_is_transient_and_keeps_the_token_out(clients) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    client = client_for(f"http://127.0.0.1:{port}", clients, max_attempts=1)
    with pytest.raises(TransientGraphError) as caught:
        client.send_text_message("123", "hola")
    assert "ConnectionError" in str(caught.value) and TOKEN not in str(caught.value)


def test_a_body_cut_short_is_transient(graph, clients) -> None:
    graph.answers.append(Answer(cut=10))
    client = client_for(graph.url, clients, max_attempts=1)
    with pytest.raises(TransientGraphError, match="ChunkedEncodingError"):
        client.send_text_message("123", "hola")


def test_a_gzip_body_is_decoded(graph, clients) -> None:
    graph.answers.append(Answer(body=gzip.compress(json.dumps(SENT).encode()),
                                headers={"Content-Encoding": "gzip"}))
    assert client_for(graph.url, clients).send_text_message("123", "hola") == SENT


def test_usage_and_retry_after_headers_are_read(graph, clients) -> None:
    usage = {"X-App-Usage": '{"call_count": 42}'}
    graph.answers += [Answer(headers=usage), Answer(status=429, body=b"",
                                                    headers={"Retry-After": "30"})]
    client = client_for(graph.url, clients, max_attempts=2)
    assert client.send_text_message("123", "a") == SENT and client.last_usage == 42
    with pytest.raises(RateLimited) as caught:
        client.send_text_message("123", "b")
    assert caught.value.retry_after == 30 and len(graph.paths) == 2


def test_a_proxy_is_still_used(graph, clients) -> None:
    client = client_for("http://graph.invalid", clients)
    client.session.proxies["http"] = graph.url  # the stand-in plays the proxy
    assert client.send_text_message("123", "hola") == SENT
    assert graph.paths[0].startswith("http://graph.invalid/v27.0/me/messages?")
