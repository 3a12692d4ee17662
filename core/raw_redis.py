"""Lua scripts called without redis-py's per-command machinery, for the
hot paths (the webhook's ingest, the worker's per-event mailbox calls).

redis-py spends ~100 µs of Python on every command (a pool checkout that
probes the socket, observability hooks, retry closures, argument encoding).
The webhook runs one script call per batch of requests and the worker a few
per event, so a `RawScript` packs EVALSHA itself and sends it over one connection of its own, built with
the client's own settings: the same socket timeouts, retries (the fail-fast
policy of `core.connections`) and health checks. A script Redis no longer
knows (restarted, SCRIPT FLUSH) is loaded and the call retried once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.commands.core import Script
from redis.connection import (
    AbstractConnection,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.exceptions import DataError, NoScriptError

Arg = bytes | str | int | float


def fast_script(redis: Redis, source: str) -> Script | RawScript:
    """A script for a hot path: sent raw on the client's own network connections; any
    other client (fakeredis, in the one-process mode) keeps redis-py's `Script`."""
    if redis.connection_pool.connection_class in _NETWORK_CONNECTIONS:
        return RawScript(redis.connection_pool, source)
    return redis.register_script(source)


_NETWORK_CONNECTIONS = (Connection, SSLConnection, UnixDomainSocketConnection)


class RawScript:
    """Callable like redis-py's `Script` (`script(keys=..., args=...)`); thread-safe:
    each concurrent call takes a connection of the script's own (made on demand,
    at most one per calling thread)."""

    def __init__(self, pool: ConnectionPool, script: str | bytes) -> None:
        self.script = script.encode() if isinstance(script, str) else script
        self.sha = hashlib.sha1(self.script).hexdigest().encode()
        self._pool = pool
        self._idle: list[AbstractConnection] = []
        self._pid = os.getpid()

    def __call__(self, keys: Sequence[Arg] = (), args: Sequence[Arg] = ()) -> Any:
        command = pack(b"EVALSHA", self.sha, len(keys), *keys, *args)
        conn = self._checkout()
        try:
            try:
                return self._run(conn, command)
            except NoScriptError:
                self._run(conn, pack(b"SCRIPT", b"LOAD", self.script))
                return self._run(conn, command)
        finally:
            self._idle.append(conn)  # list.append/pop are atomic: no lock needed

    def _checkout(self) -> AbstractConnection:
        if self._pid != os.getpid():  # a forked child never uses its parent's sockets
            self._idle, self._pid = [], os.getpid()
        try:
            return self._idle.pop()
        except IndexError:
            return self._pool.connection_class(**self._pool.connection_kwargs)

    @staticmethod
    def _run(conn: AbstractConnection, command: bytes) -> Any:
        """Send and read with the connection's retry policy (reconnecting between tries)."""

        def attempt() -> Any:
            conn.send_packed_command([command])
            return conn.read_response()

        return conn.retry.call_with_retry(attempt, lambda _error: conn.disconnect())


def pack(*args: Arg) -> bytes:
    """One command in RESP, encoded as redis-py encodes arguments (UTF-8, numbers by repr)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _encode(arg)
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _encode(arg: Arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, int | float) and not isinstance(arg, bool):
        return repr(arg).encode()
    raise DataError(f"invalid input of type {type(arg).__name__!r} for a Redis command")
