"""The redis-server the one-machine mode starts when REDIS_URL is unset.

Every write is on disk before Redis answers (`appendfsync always`), so an event
the webhook acknowledged survives a crash of any process, Redis included. A lock
file, held by the supervisor and handed down to redis-server, keeps a second
server (say, one left running by a killed supervisor) off the same data.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError

START_TIMEOUT = 60.0  # seconds; loading a large append-only file takes a while
STOP_TIMEOUT = 10.0
PIDFILE = "redis.pid"


class RedisStartError(Exception):
    """redis-server could not be started (one line for the operator)."""


class LocalRedis:
    """A running redis-server bound to loopback; `url`, then `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, data_dir: Path,
                 lock_fd: int) -> None:
        self.process = process
        self.port = port
        self.data_dir = data_dir
        self.url = f"redis://127.0.0.1:{port}/0"
        self._lock_fd = lock_fd
        self.stopping = False  # set by `stop()`: an exit after it is expected

    def stop(self) -> None:
        """SIGTERM (Redis flushes its append-only file and exits), SIGKILL if it hangs."""
        self.stopping = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self._lock_fd)


def start_redis(data_dir: Path) -> LocalRedis:
    """Start redis-server on a free loopback port with its data in `data_dir`."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisStartError("redis-server is not installed (Debian/Ubuntu: apt-get install "
                              "redis-server), or set REDIS_URL to a Redis you run")
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_fd = _lock(data_dir)
    port = _free_port()
    log = data_dir / "redis.log"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "yes",
         "--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "always",
         "--daemonize", "no", "--logfile", str(log), "--pidfile", str(data_dir / PIDFILE)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        pass_fds=(lock_fd,),  # the lock lives as long as redis-server does
        start_new_session=True,  # Ctrl+C reaches the supervisor, which stops Redis last
    )
    server = LocalRedis(process, port, data_dir, lock_fd)
    try:
        _wait_ready(server, log)
    except BaseException:
        server.stop()
        raise
    return server


def _lock(data_dir: Path) -> int:
    fd = os.open(data_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RedisStartError(f"another Support Desk (or the redis-server it started{_pid(data_dir)}) "
                              f"is still running on {data_dir}: stop it first") from None
    return fd


def _pid(data_dir: Path) -> str:
    try:
        return f", pid {int((data_dir / PIDFILE).read_text())}"
    except (OSError, ValueError):
        return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: LocalRedis, log: Path) -> None:
    client = Redis(port=server.port, socket_connect_timeout=1, socket_timeout=5)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if server.process.poll() is not None:
                raise RedisStartError(f"redis-server exited at start (code "
                                      f"{server.process.returncode}): {_last_line(log)}")
            try:
                client.ping()
                return
            except (RedisConnectionError, BusyLoadingError):
                if time.monotonic() > deadline:
                    raise RedisStartError(f"redis-server not ready after {START_TIMEOUT:.0f} s: "
                                          f"see {log}") from None
                time.sleep(0.05)
    finally:
        client.close()


def _last_line(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return f"no log at {log}"
    return lines[-1] if lines else f"nothing in {log}"
