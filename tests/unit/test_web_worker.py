"""The web worker's body deadline: a body that keeps up is read whole; one that
falls behind fails the read and its connection is shut down."""

from __future__ import annotations

import io
import logging
import socket

import gevent
import pytest

from core import web_worker
from core.web_worker import DeadlineInput

LOG = logging.getLogger("test.web_worker")


class Trickle:
    """A body stream that gives `step` bytes per read, `pause` seconds apart."""

    def __init__(self, total: int, step: int, pause: float) -> None:
        self.left, self.step, self.pause = total, step, pause

    def read(self, size: int | None = -1) -> bytes:
        gevent.sleep(self.pause)
        chunk = min(self.step, self.left)
        self.left -= chunk
        return b"x" * chunk

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size)


def test_a_body_that_keeps_up_is_read_whole() -> None:
    body = DeadlineInput(io.BytesIO(b"line one\nline two\n" + b"x" * 5000), None, LOG)
    assert body.readline() == b"line one\n"
    assert list(body)[0] == b"line two\n"
    assert body.read() == b""


def test_the_deadline_grows_with_what_arrived(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_worker, "BODY_GRACE_SECONDS", 0.2)
    monkeypatch.setattr(web_worker, "BODY_MIN_RATE", 1000)  # 100 bytes: 0.1 s more each
    body = DeadlineInput(Trickle(total=1000, step=100, pause=0.05), None, LOG)  # 2000 B/s
    assert sum(len(body.read(100)) for _ in range(10)) == 1000


def test_a_stalled_body_fails_and_its_connection_is_shut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_worker, "BODY_GRACE_SECONDS", 0.1)
    server, client = socket.socketpair()
    with server, client:
        body = DeadlineInput(Trickle(total=100, step=1, pause=5.0), server, LOG)
        with pytest.raises(TimeoutError, match="request body too slow"):
            body.read(100)
        client.settimeout(1)
        assert client.recv(10) == b""  # the server's side was shut down
        with pytest.raises(TimeoutError):  # and stays failed
            body.read(1)
