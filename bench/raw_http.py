"""A minimal HTTP/1.1 keep-alive client for the load generator: one POST at a time on one
socket, the request written as prepared bytes, the answer read by its Content-Length.

`http.client` parses every answer's headers with the `email` package; that was most of
the load generator's CPU per POST (~0.2 ms of 2 cores shared with the service). This
reads only the status line and the headers that frame the body.
"""

from __future__ import annotations

import socket


class RawHTTPError(OSError):
    """An answer this client cannot read (cut short, or framed in a way it does not know)."""


class RawConnection:
    """POSTs to one host and path over a kept-alive connection, reconnecting when needed."""

    def __init__(self, host: str, port: int, path: str, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Content-Type: application/json\r\n").encode()
        self._sock: socket.socket | None = None
        self._buffer = b""

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        """The answer's status (its body is read and dropped)."""
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = self._head + f"{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body
        if self._sock is None:
            self._connect()
        assert self._sock is not None
        try:
            self._sock.sendall(request)
            status, keep = self._read_answer()
        except OSError:
            self.close()
            raise
        if not keep:
            self.close()
        return status

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def _connect(self) -> None:
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_answer(self) -> tuple[int, bool]:
        """(status, whether the connection stays open)."""
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4:]
        status_line, *lines = head.split("\r\n")
        version, status = status_line.split(" ", 2)[:2]
        fields = {name.strip().lower(): value.strip()
                  for name, _, value in (line.partition(":") for line in lines)}
        if "transfer-encoding" in fields or "content-length" not in fields:
            raise RawHTTPError(f"answer without a Content-Length: {status_line}")
        length = int(fields["content-length"])
        while len(self._buffer) < length:
            self._fill()
        self._buffer = self._buffer[length:]
        connection = fields.get("connection", "").lower()
        keep = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
        return int(status), keep

    def _fill(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise RawHTTPError("connection closed before the answer ended")
        self._buffer += chunk
