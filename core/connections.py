"""Redis connections: the real server when REDIS_URL is set, else an
in-process Redis (fakeredis, with Lua) shared by the whole process."""

from __future__ import annotations

import threading

from redis import Redis

_local_server = None
_lock = threading.Lock()


def connect_redis(url: str | None) -> Redis:
    if url:
        return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2,
                              health_check_interval=30)
    return _in_process_redis()


def _in_process_redis() -> Redis:
    import fakeredis  # only the one-process mode needs it

    global _local_server
    with _lock:
        if _local_server is None:
            _local_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_local_server)
