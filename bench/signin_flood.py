"""A sign-in flood against the Procfile's web worker (gunicorn, gevent, 2
processes): how `/livez` answers while 40 clients post wrong passwords for
ever-new emails from ever-new addresses (X-Forwarded-For behind
`TRUSTED_PROXIES=1`, so no budget stops them: only the password gate does).

The flood runs in a child process so its threads do not slow the prober.
Real redis-server and SQLite; not run in CI; figures go to docs/RELIABILITY.md.

    .venv/bin/python -m bench.signin_flood [--seconds 10] [--clients 40]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from werkzeug.security import generate_password_hash

from config.settings import Settings
from core import runtime
from core.db import session_scope
from tests.support.servers import free_port, redis_server, wait_until
from tickets.models import Agent

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdef"


def flood(base: str, clients: int, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    statuses: list[int] = []
    stop = threading.Event()

    def client(i: int) -> None:
        session = requests.Session()
        page = session.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        n = 0
        while not stop.is_set():
            n += 1
            answer = session.post(f"{base}/login", data={"csrf_token": token, "password": "guess",
                                                         "email": f"bot{i}-{n}@example.com"},
                                  headers={"X-Forwarded-For": f"10.{i}.{n // 250}.{n % 250}"})
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    out.put(statuses)


def probe(base: str, until: threading.Event, pause: float = 0.02) -> list[float]:
    session, took = requests.Session(), []
    while not until.is_set():
        began = time.perf_counter()
        session.get(f"{base}/livez")
        took.append(time.perf_counter() - began)
        time.sleep(pause)
    return took


def show(name: str, took: list[float]) -> str:
    ordered = sorted(took)
    at = lambda q: ordered[int(q * (len(ordered) - 1))] * 1000  # noqa: E731
    return f"{name} /livez p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms, max {ordered[-1] * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as redis_url:
        database = f"sqlite:///{tmp}/desk.db"
        prepare(database, redis_url, tmp)
        port = free_port()
        env = dict(os.environ, DATABASE_URL=database, REDIS_URL=redis_url, SECRET_KEY=SECRET,
                   TRUSTED_PROXIES="1", FLOWS_PATH=str(ROOT / "config" / "flows.yaml"))
        web = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--worker-class", "core.web_worker.Worker",
                                "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:app"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            run(f"http://127.0.0.1:{port}", args.clients, args.seconds)
        finally:
            web.terminate()
            web.wait(10)


def prepare(database: str, redis_url: str, tmp: str) -> None:
    """The schema as the tests build it, and one agent."""
    from app import create_app

    app = create_app(Settings(database_url=database, instance_path=tmp, secret_key=SECRET, testing=True,
                              flows_path=str(ROOT / "config" / "flows.yaml"), redis_url=redis_url))
    with session_scope(app.extensions["runtime"].engine) as session:
        session.add(Agent(email="eva@example.com", name="Eva",
                          password_hash=generate_password_hash("correct horse battery")))
    runtime.install(None)
    app.extensions["runtime"].engine.dispose()


def run(base: str, clients: int, seconds: float) -> None:
    def up() -> bool:
        try:
            return requests.get(f"{base}/livez", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 30)
    idle = threading.Event()
    threading.Timer(2, idle.set).start()
    print(show("idle:", probe(base, idle, pause=0.01)))
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=flood, args=(base, clients, seconds, out))
    child.start()
    done, took = threading.Event(), []
    prober = threading.Thread(target=lambda: took.extend(probe(base, done)))
    prober.start()
    statuses = out.get()
    child.join()
    done.set()
    prober.join()
    print(f"flood, {clients} clients for {seconds:.0f} s: {dict(Counter(statuses))}")
    print(show("during the flood:", took))


if __name__ == "__main__":
    main()
