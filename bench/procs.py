"""Processes for the benchmarks: a throwaway redis-server, the Procfile's own
command lines, and what the kernel says they cost (CPU seconds, RSS).

Every server binds to a free loopback port; every process started here is
stopped by the `Processes` that started it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def procfile_line(kind: str, procfile: Path = ROOT / "Procfile") -> str:
    """The command of one process type, exactly as written in the Procfile."""
    for line in procfile.read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.split(":", 1)[1].strip()
    raise KeyError(f"no {kind!r} process in {procfile}")


KEPT_ENVIRON = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
TUNING_PREFIXES = ("SUPPORT_DESK_", "SEND_RATE_PER_PAGE")  # passed on, for experiments


def bench_environ(**values: str) -> dict[str, str]:
    """A small environment like a container's (PATH with the venv first, locale, HOME, the
    service's tuning variables if set) plus `values`. Not this shell's: requests scans every
    variable for proxy settings on each call, so a large environment would be charged to
    the service."""
    env = {k: v for k, v in os.environ.items()
           if k in KEPT_ENVIRON or k.startswith(TUNING_PREFIXES)}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


class Processes:
    """Starts processes in their own process groups and stops them all on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process

    def procfile(self, name: str, kind: str, env: dict[str, str],
                 replace: tuple[str, str] | None = None, procfile: Path = ROOT / "Procfile",
                 ) -> subprocess.Popen[bytes]:
        """Run a Procfile line through the shell, as Procfile runners do."""
        line = procfile_line(kind, procfile)
        if replace is not None:
            if replace[0] not in line:
                raise ValueError(f"{replace[0]!r} is not in the {kind} line: {line}")
            line = line.replace(replace[0], replace[1])
        return self.start(name, ["bash", "-c", f"exec {line}"], env)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)
        self.started.clear()


@contextmanager
def redis_server(workdir: Path, *extra: str) -> Iterator[str]:
    """A private redis-server on a free loopback port, no persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: apt-get install redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until_up(lambda: Redis.from_url(url).ping())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for_http(url: str, expect: str, timeout: float = 30.0) -> None:
    """Until `url` answers 200 with `expect` in its body: a port freed by
    `free_port` may be taken by someone else's server meanwhile."""
    def probe() -> bool:
        response = requests.get(url, timeout=1)
        return response.status_code == 200 and expect in response.text

    wait_until_up(probe, timeout)


def wait_until_up(probe, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if probe():
                return
        except (OSError, requests.RequestException, RedisConnectionError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not up after {timeout}s")
        time.sleep(0.1)


def process_tree(pid: int) -> list[int]:
    """pid and all its live descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far."""
    return sum(sum(cpu_times(pid)) for pid in pids)


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of one process so far; zeros once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(match.group(1)) * 1024 if match else 0
    return total


def pss_bytes(pids: list[int]) -> int:
    """Proportional set size: shared pages split between the processes sharing them,
    so the sum is what the processes cost together (RSS counts shared pages in each)."""
    total = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        total += int(match.group(1)) * 1024 if match else 0
    return total


def only_python(pids: list[int]) -> list[int]:
    """Drop the `bash -c` wrappers (they exec, so normally there are none)."""
    keep = []
    for pid in pids:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm not in ("bash", "sh"):
            keep.append(pid)
    return keep
