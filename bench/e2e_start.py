"""The processes of one `bench.e2e` run: the Graph API stand-in (with the run's Pages),
the Procfile's `web` line (or the naive peer) and its `worker` line with K processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.load import StandinControl
from bench.pages_setup import PageSet
from bench.procs import VENV_BIN, Processes, bench_environ, free_port, wait_for_http
from bench.signed import APP_ID, APP_SECRET

# The stand-in under gevent (`messenger.standin.green`); BENCH_STANDIN=messenger.standin
# runs it under cheroot, as the tests serve it.
STANDIN_MODULE = os.environ.get("BENCH_STANDIN", "messenger.standin.green")


class Started:
    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid


def start_standin(procs: Processes, latency: int, limit: int | None, pages: PageSet
                  ) -> tuple[StandinControl, int]:
    """The stand-in serving `pages` (each with its own token); its control and its pid."""
    port = free_port()
    argv = [sys.executable, "-m", STANDIN_MODULE, "--port", str(port),
            *pages.standin_argv(), "--app-id", APP_ID, "--app-secret", APP_SECRET,
            "--latency-ms", str(latency), "--no-echoes"]
    if limit:
        argv += ["--rate-limit", str(limit)]
    process = procs.start("standin", argv, bench_environ())
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/_standin/config", expect="latency")
    return StandinControl(base), process.pid


def start_web(procs: Processes, env: dict[str, str], design: str, procfile: Path) -> Started:
    port = free_port()
    env = {**env, "PORT": str(port)}
    if design == "desk":
        process = procs.procfile("web", "web", env, procfile=procfile)
        wait_for_http(f"http://127.0.0.1:{port}/healthz", expect='"redis"')
    else:  # the tutorial's deployment: gunicorn's default sync workers, four of them
        argv = ["gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}", "bench.peers.naive:app"]
        process = procs.start("naive", argv, env)
        wait_for_http(f"http://127.0.0.1:{port}/healthz", expect="naive")
    return Started(f"http://127.0.0.1:{port}", process.pid)


def start_workers(procs: Processes, env: dict[str, str], workers: int, procfile: Path) -> Started:
    process = procs.procfile("worker", "worker", env, procfile=procfile,
                             replace=("--num-workers 1", f"--num-workers {workers}"))
    return Started("", process.pid)


def profile(directory: Path, label: str, services: list[Started]) -> subprocess.Popen[bytes]:
    """py-spy the workers (the last service's process tree) for 20 s into DIRECTORY."""
    directory.mkdir(parents=True, exist_ok=True)
    argv = [str(VENV_BIN / "py-spy"), "record", "--pid", str(services[-1].pid), "--subprocesses",
            "--nonblocking", "--gil", "--rate", "200", "--duration", "20", "--format", "raw",
            "--output", str(directory / f"{label}.txt")]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
