"""Redis connections: the real server when REDIS_URL is set, else an
in-process Redis (fakeredis, with Lua) shared by the whole process."""

from __future__ import annotations

import threading

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

_local_server = None
_lock = threading.Lock()


def connect_redis(url: str | None) -> Redis:
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
