"""Redis connections: the real server when REDIS_URL is set, else an
in-process Redis (fakeredis, with Lua) shared by the whole process."""

from __future__ import annotations

import threading

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

_local_server = None
_lock = threading.Lock()


# The web's answers (webhook ingest, /healthz): SPEC gives every answer 2 s. A command
# against a Redis that accepts and never answers costs at most 2 tries x (connect + read)
# timeouts; a stall (connect succeeds) ~0.65 s. No health-check PING: the one retry
# replaces a dead pooled connection, and a PING would be one more wait per try.
WEB_SOCKET_TIMEOUT_S = 0.3


def connect_redis(url: str | None, *, fail_fast: bool = False) -> Redis:
    """A client for `url` (in-process Redis when None); `fail_fast` for answers the web owes
    within 2 s. The worker keeps 5 s: its scripts may move many events in one call, a
    false timeout there only retries a job, and nobody waits on it in front of Meta."""
    if url and fail_fast:
        return Redis.from_url(url, socket_timeout=WEB_SOCKET_TIMEOUT_S,
                              socket_connect_timeout=WEB_SOCKET_TIMEOUT_S,
                              retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1))
    if url:
        # Fail fast: the webhook answers 503 within Meta's 5 s and Meta redelivers;
        # redis-py's default (3 retries, backoff up to 10 s) would hold requests.
        return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=1,
                              health_check_interval=30,
                              retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2))
    return _in_process_redis()


def _in_process_redis() -> Redis:
    import fakeredis  # only the one-process mode needs it

    global _local_server
    with _lock:
        if _local_server is None:
            _local_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_local_server)
