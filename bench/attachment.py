"""What a customer's 5 MiB attachment costs the worker: the fetch job
(`attachments.jobs.fetch_attachment`: download with the size cap, type by
magic bytes, INSERT of the bytes) timed end to end, with the job's CPU time and
its peak Python memory (tracemalloc) and the process's peak RSS. The file is
served by `python -m http.server` in a process of its own on loopback (so its
CPU is not counted), into a fresh PostgreSQL database (SQLite if none) or
SQLite (`--database sqlite`).

    python -m bench.attachment [--mib 5] [--runs 5] [--database postgres|sqlite]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlmodel import Session

import features
from attachments import jobs
from attachments.models import Attachment
from bench.run_state import Database
from bot.models import Customer
from config.settings import Settings
from core import runtime
from core.db import session_scope
from core.runtime import Runtime, build_runtime
from tests.support.servers import free_port, wait_until


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        size = int(args.mib * 1024 * 1024)
        (work / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                                   "127.0.0.1", "--directory", str(work)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: _listening(port), timeout=10)
            with Database(work, "attachment") as database:
                url = database.url if args.database == "postgres" else f"sqlite:///{work / 'desk.db'}"
                _run(work, url, f"http://127.0.0.1:{port}", args.runs, size)
        finally:
            server.terminate()
            server.wait()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _run(work: Path, database_url: str, origin: str, runs: int, size: int) -> None:
    settings = Settings(database_url=database_url, attachment_hosts=origin, secret_key="bench",
                        testing=True,  # tables from the models, stamped at head
                        instance_path=str(work / "instance"))
    features.register_all()  # as the app and the worker do
    rt = build_runtime(settings)
    runtime.install(rt)
    rss_before = _max_rss_mib()
    walls, cpus, peaks = [], [], []
    try:
        for n in range(runs):
            attachment_id = _pending(rt, f"{origin}/photo.jpg", n)
            tracemalloc.start()
            wall, cpu = time.perf_counter(), time.thread_time()
            status = jobs.fetch_attachment(attachment_id)
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
            assert status == "stored", status
            with Session(rt.engine) as session:
                row = session.get(Attachment, attachment_id)
                assert row is not None and row.size == size
    finally:
        runtime.install(None)
        rt.engine.dispose()
    backend = database_url.split(":", 1)[0]
    print(f"{size / 2**20:.1f} MiB attachment, {runs} fetch jobs, {backend}")  # noqa: T201
    print(f"  wall    median {statistics.median(walls) * 1000:.0f} ms "  # noqa: T201
          f"(min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f})")
    print(f"  CPU     median {statistics.median(cpus) * 1000:.0f} ms (the job's thread)")  # noqa: T201
    print(f"  Python  peak {statistics.median(peaks):.1f} MiB allocated during a job (tracemalloc)")  # noqa: T201
    print(f"  RSS     peak {_max_rss_mib():.0f} MiB, {_max_rss_mib() - rss_before:.0f} MiB above "  # noqa: T201
          "the process before its first job")


def _pending(rt: Runtime, url: str, n: int) -> int:
    with session_scope(rt.engine) as session:
        customer = Customer(page_id="1", psid=f"bench{n}")
        session.add(customer)
        session.flush()
        row = Attachment(key=f"bench:{n}", customer_id=customer.id, kind="image",  # type: ignore[arg-type]
                         name="photo.jpg", source_url=url)
        session.add(row)
        session.flush()
        return row.id  # type: ignore[return-value]


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
