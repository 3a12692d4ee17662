"""Slow clients (slowloris): connections that trickle a POST /webhook one byte
at a time, for `bench.ack --tricklers N` and tests/reliability/test_slow_clients.py.

Some trickle the request's headers; others send their headers at once and then
trickle the body. A connection the server closes is opened again at once (an
attacker keeps the pressure up); how long each one lived is recorded.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field

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


class Tricklers:
    """`headers` + `bodies` trickling connections to 127.0.0.1:`port`, one byte
    each every `tick` seconds, until `stop`."""

    def __init__(self, port: int, *, headers: int, bodies: int, tick: float = 2.0) -> None:
        self.port, self.counts, self.tick = port, {"headers": headers, "body": bodies}, tick
        self.conns: list[Conn] = []
        self.lifetimes: dict[str, list[float]] = {"headers": [], "body": []}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        for kind, count in self.counts.items():
            self.conns += [self._open(kind) for _ in range(count)]
        self.thread.start()

    def stop(self) -> list[float]:
        """Stops trickling; returns how long each connection still open has been open."""
        self.stopped.set()
        self.thread.join(timeout=10)
        now = time.monotonic()
        ages = [now - c.opened for c in self.conns if not self._closed_by_server(c)]
        for conn in self.conns:
            conn.sock.close()
        return ages

    def _open(self, kind: str) -> Conn:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        first = HEADERS[:1] if kind == "headers" else HEADERS + BODY_HEADER_END
        sock.sendall(first)
        sock.setblocking(False)
        return Conn(sock, kind, len(first) if kind == "headers" else 0)

    def _run(self) -> None:
        while not self.stopped.wait(self.tick):
            for index, conn in enumerate(self.conns):
                if self._closed_by_server(conn):
                    self.lifetimes[conn.kind].append(time.monotonic() - conn.opened)
                    conn.sock.close()
                    self.conns[index] = self._open(conn.kind)

    @staticmethod
    def _closed_by_server(conn: Conn) -> bool:
        """Whether the server closed `conn`; else sends it one more byte."""
        try:
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if readable and not conn.sock.recv(4096):
                return True
            conn.sock.send(conn.next_byte())
            return False
        except OSError:
            return True
